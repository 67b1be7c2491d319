/* test_pprof.c - the pprof decoder and the top/diff arithmetic on profiles
 * built field by field here, each exercising one rule of profile.proto
 * (google/pprof) or of pprof's report (internal/graph, internal/report).
 * Real profiles are cross-checked with go tool pprof in tests/e2e. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyze/ptop.h"
#include "parse/pprof.h"
#include "report/preport.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- a tiny protobuf writer ---- */

static void varint(buf *b, uint64_t v)
{
    while (v >= 0x80) {
        buf_putc(b, (char)(v | 0x80));
        v >>= 7;
    }
    buf_putc(b, (char)v);
}

static void fint(buf *b, uint32_t num, uint64_t v)
{
    varint(b, (uint64_t)num << 3);
    varint(b, v);
}

static void fbytes(buf *b, uint32_t num, const buf *payload)
{
    varint(b, (uint64_t)num << 3 | 2);
    varint(b, payload->len);
    buf_append(b, payload->data, payload->len);
}

static void fstr(buf *b, uint32_t num, const char *s)
{
    buf t = {0};
    buf_puts(&t, s);
    fbytes(b, num, &t);
    buf_free(&t);
}

static void value_type(buf *b, int64_t type, int64_t unit)
{
    buf m = {0};
    fint(&m, 1, (uint64_t)type);
    fint(&m, 2, (uint64_t)unit);
    fbytes(b, 1, &m);
    buf_free(&m);
}

/* sample: location ids and values, packed or one field each. */
static void sample(buf *b, const uint64_t *locs, size_t nl, const int64_t *vals, size_t nv, bool packed)
{
    buf m = {0}, p = {0};
    if (packed) {
        for (size_t i = 0; i < nl; i++) varint(&p, locs[i]);
        fbytes(&m, 1, &p);
        p.len = 0;
        for (size_t i = 0; i < nv; i++) varint(&p, (uint64_t)vals[i]);
        fbytes(&m, 2, &p);
    } else {
        for (size_t i = 0; i < nl; i++) fint(&m, 1, locs[i]);
        for (size_t i = 0; i < nv; i++) fint(&m, 2, (uint64_t)vals[i]);
    }
    fint(&m, 99, 7); /* an unknown field, to be skipped */
    fbytes(b, 2, &m);
    buf_free(&m);
    buf_free(&p);
}

/* location with lines (function id, line), innermost first. */
static void location(buf *b, uint64_t id, const uint64_t *funcs, const int64_t *lines, size_t n)
{
    buf m = {0}, l = {0};
    fint(&m, 1, id);
    fint(&m, 3, 0x1000 + id);
    for (size_t i = 0; i < n; i++) {
        l.len = 0;
        fint(&l, 1, funcs[i]);
        fint(&l, 2, (uint64_t)lines[i]);
        fbytes(&m, 4, &l);
    }
    fbytes(b, 4, &m);
    buf_free(&m);
    buf_free(&l);
}

static void function(buf *b, uint64_t id, int64_t name, int64_t file)
{
    buf m = {0};
    fint(&m, 1, id);
    fint(&m, 2, (uint64_t)name);
    fint(&m, 4, (uint64_t)file);
    fbytes(b, 5, &m);
    buf_free(&m);
}

static const char *const strings[] = {"", "alloc_space", "bytes", "inuse_space", "main.a", "main.b", "main.c",
                                      "/src/a.go", "main.rec"};
enum { S_ALLOC = 1, S_BYTES, S_INUSE, S_A, S_B, S_C, S_FILE, S_REC };

/* A profile: samples a->b->c shapes, an inlined frame, recursion.
 * Samples come before the locations and functions they use, and the
 * string table comes last, as in pprof's own writer. */
static void make_profile(buf *b, bool packed, int64_t scale)
{
    b->len = 0;
    value_type(b, S_ALLOC, S_BYTES);
    value_type(b, S_INUSE, S_BYTES);
    uint64_t s1[] = {1, 2};          /* leaf location 1 (a inlined into b), caller location 2 (c) */
    int64_t v1[] = {100 * scale, 10 * scale};
    sample(b, s1, 2, v1, 2, packed);
    uint64_t s2[] = {2};             /* c alone */
    int64_t v2[] = {50 * scale, 0};
    sample(b, s2, 1, v2, 2, packed);
    uint64_t s3[] = {3, 3, 2};       /* rec -> rec -> c */
    int64_t v3[] = {7 * scale, -3};  /* a negative value: a plain 10-byte varint */
    sample(b, s3, 3, v3, 2, packed);
    uint64_t f1[] = {10, 20};
    int64_t l1[] = {5, 6};
    location(b, 1, f1, l1, 2);
    uint64_t f2[] = {30};
    int64_t l2[] = {7};
    location(b, 2, f2, l2, 1);
    uint64_t f3[] = {40};
    int64_t l3[] = {9};
    location(b, 3, f3, l3, 1);
    function(b, 10, S_A, S_FILE);
    function(b, 20, S_B, S_FILE);
    function(b, 30, S_C, S_FILE);
    function(b, 40, S_REC, S_FILE);
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) fstr(b, 6, strings[i]);
}

static int decode(const buf *b, size_t chunk, profile *p, char *err, size_t errlen)
{
    profile_init(p);
    pparse_options o = {.input_name = "t"};
    pparser *pp = pparser_new(p, &o);
    int rc = 0;
    if (!chunk) chunk = b->len ? b->len : 1;
    for (size_t off = 0; off < b->len && rc == 0; off += chunk)
        rc = pparser_feed(pp, b->data + off, b->len - off < chunk ? b->len - off : chunk);
    if (rc == 0) rc = pparser_finish(pp);
    if (rc) snprintf(err, errlen, "%s", pparser_error(pp));
    pparser_free(pp);
    return rc;
}

static const prow *row(const ptop *t, const char *name)
{
    for (size_t i = 0; i < t->nrows; i++)
        if (strcmp(intern_str(&t->strings, t->rows[i].name), name) == 0) return &t->rows[i];
    return NULL;
}

static void test_top_rules(void **state)
{
    (void)state;
    buf b = {0};
    for (int packed = 0; packed < 2; packed++) {
        make_profile(&b, packed, 1);
        for (size_t chunk = 0; chunk <= 64; chunk += chunk ? 13 : 1) {
            profile p;
            char err[512];
            assert_int_equal(decode(&b, chunk, &p, err, sizeof err), 0);
            assert_int_equal(p.nsamples, 3);
            ptop t;
            ptop_options o = {0};
            /* No default_sample_type: the last type, inuse_space. */
            assert_int_equal(ptop_compute(&p, &o, &t, err, sizeof err), 0);
            assert_string_equal(t.sample_type, "inuse_space");
            assert_int_equal(t.total, 10 + 0 + 3); /* |values|, the 0 sample included */
            ptop_free(&t);
            ptop_options o2 = {.sample_index = "alloc_space"};
            assert_int_equal(ptop_compute(&p, &o2, &t, err, sizeof err), 0);
            assert_int_equal(t.total, 157);
            /* a is the leaf (inlined into b): flat 100; b and c only cum. */
            assert_int_equal(row(&t, "main.a")->flat, 100);
            assert_int_equal(row(&t, "main.b")->flat, 0);
            assert_int_equal(row(&t, "main.b")->cum, 100);
            assert_int_equal(row(&t, "main.c")->flat, 50);
            assert_int_equal(row(&t, "main.c")->cum, 157);
            /* Recursion counts once in cum. */
            assert_int_equal(row(&t, "main.rec")->flat, 7);
            assert_int_equal(row(&t, "main.rec")->cum, 7);
            /* Sorted by |flat|: a, c, rec, b. */
            assert_string_equal(intern_str(&t.strings, t.rows[0].name), "main.a");
            assert_string_equal(intern_str(&t.strings, t.rows[1].name), "main.c");
            ptop_free(&t);
            /* Lines: a at line 5, b at 6. */
            ptop_options o3 = {.sample_index = "0", .by_line = true};
            assert_int_equal(ptop_compute(&p, &o3, &t, err, sizeof err), 0);
            assert_int_equal(row(&t, "main.a")->line, 5);
            ptop_free(&t);
            profile_free(&p);
        }
    }
    buf_free(&b);
}

static void test_diff(void **state)
{
    (void)state;
    buf b1 = {0}, b2 = {0};
    make_profile(&b1, true, 1);
    make_profile(&b2, false, 3);
    profile base, src;
    char err[512];
    assert_int_equal(decode(&b1, 0, &base, err, sizeof err), 0);
    assert_int_equal(decode(&b2, 0, &src, err, sizeof err), 0);
    ptop t;
    ptop_options o = {.sample_index = "alloc_space"};
    assert_int_equal(ptop_diff(&base, &src, &o, &t, err, sizeof err), 0);
    assert_int_equal(row(&t, "main.a")->flat, 200);
    assert_int_equal(row(&t, "main.c")->cum, 314);
    assert_int_equal(t.total, 314); /* same stacks: |3v - v| summed */
    ptop_free(&t);
    profile_free(&base);
    profile_free(&src);
    buf_free(&b1);
    buf_free(&b2);
}

static void test_gzip_and_errors(void **state)
{
    (void)state;
    buf b = {0};
    make_profile(&b, true, 1);
    /* gzip it, as Go does. */
    uLongf zn = compressBound(b.len) + 64;
    unsigned char *z = malloc(zn);
    z_stream s = {0};
    deflateInit2(&s, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    s.next_in = (unsigned char *)b.data;
    s.avail_in = (uInt)b.len;
    s.next_out = z;
    s.avail_out = (uInt)zn;
    deflate(&s, Z_FINISH);
    size_t zlen = zn - s.avail_out;
    deflateEnd(&s);
    buf g = {0};
    buf_append(&g, z, zlen);
    profile p;
    char err[512];
    for (size_t chunk = 1; chunk < 40; chunk += 7) {
        assert_int_equal(decode(&g, chunk, &p, err, sizeof err), 0);
        assert_int_equal(p.nsamples, 3);
        profile_free(&p);
    }
    /* Truncated gzip. */
    g.len = zlen / 2;
    assert_int_equal(decode(&g, 0, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "gzip stream ends early"));
    profile_free(&p);
    /* A field cut short. */
    buf cut = {0};
    buf_append(&cut, b.data, b.len - 2);
    assert_int_equal(decode(&cut, 0, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    profile_free(&p);
    /* A sample with one value too many. */
    buf extra = {0};
    buf_append(&extra, b.data, b.len);
    uint64_t l[] = {2};
    int64_t v[] = {1, 2, 3};
    sample(&extra, l, 1, v, 3, true);
    assert_int_equal(decode(&extra, 0, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "sample has 3 values, the profile has 2 sample types"));
    profile_free(&p);
    /* Wrong wire type for a known field. */
    buf wt = {0};
    fint(&wt, 2, 5);
    assert_int_equal(decode(&wt, 0, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "byte 0 of the decoded profile: field 2 has wire type 0"));
    profile_free(&p);
    free(z);
    buf_free(&b);
    buf_free(&g);
    buf_free(&cut);
    buf_free(&extra);
    buf_free(&wt);
}

/* Samples that name sparse location ids before any location is defined:
 * the first lands in the id map's table, and must still be found there
 * once later, dense ids have grown the map's array past it. */
static void test_sparse_ids_first(void **state)
{
    (void)state;
    buf b = {0};
    value_type(&b, S_ALLOC, S_BYTES);
    uint64_t first[] = {6000, 1};
    int64_t v[] = {5};
    sample(&b, first, 2, v, 1, true);
    for (uint64_t id = 1; id <= 300; id++) {
        uint64_t f[] = {id == 1 ? 20 : 30};
        int64_t l[] = {1};
        location(&b, id, f, l, 1);
    }
    uint64_t f5000[] = {30}, f6000[] = {10};
    int64_t l1[] = {1};
    location(&b, 5000, f5000, l1, 1);
    location(&b, 6000, f6000, l1, 1);
    function(&b, 10, S_A, S_FILE);
    function(&b, 20, S_B, S_FILE);
    function(&b, 30, S_C, S_FILE);
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) fstr(&b, 6, strings[i]);
    profile p;
    char err[512];
    assert_int_equal(decode(&b, 0, &p, err, sizeof err), 0);
    ptop t;
    ptop_options o = {0};
    assert_int_equal(ptop_compute(&p, &o, &t, err, sizeof err), 0);
    assert_int_equal(row(&t, "main.a")->flat, 5);
    assert_int_equal(row(&t, "main.b")->cum, 5);
    ptop_free(&t);
    profile_free(&p);
    buf_free(&b);
}

/* One function name defined twice (two files) is one row. */
static void test_rows_by_name(void **state)
{
    (void)state;
    buf b = {0};
    value_type(&b, S_ALLOC, S_BYTES);
    uint64_t s1[] = {1}, s2[] = {2};
    int64_t v1[] = {3}, v2[] = {4};
    sample(&b, s1, 1, v1, 1, false);
    sample(&b, s2, 1, v2, 1, false);
    uint64_t f1[] = {10}, f2[] = {20};
    int64_t l[] = {1};
    location(&b, 1, f1, l, 1);
    location(&b, 2, f2, l, 1);
    function(&b, 10, S_A, S_FILE);
    function(&b, 20, S_A, S_ALLOC); /* the same name in another file */
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) fstr(&b, 6, strings[i]);
    profile p;
    char err[512];
    assert_int_equal(decode(&b, 0, &p, err, sizeof err), 0);
    ptop t;
    ptop_options o = {0};
    assert_int_equal(ptop_compute(&p, &o, &t, err, sizeof err), 0);
    assert_int_equal(t.nrows, 1);
    assert_int_equal(row(&t, "main.a")->flat, 7);
    ptop_free(&t);
    profile_free(&p);
    buf_free(&b);
}

/* Text values in every unit pprof knows; the expected strings are those
 * go tool pprof -unit=auto printed for the same values
 * (tests/pprof-odd/units.pb.gz). */
static void test_units(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        const char *unit, *want;
    } cases[] = {
        {2490002, "microseconds", "2.49s"}, {1500, "microseconds", "1.50ms"}, {2490002, "milliseconds", "2490s"},
        {1500, "ms", "1.50s"},              {2490002, "seconds", "691.67hrs"}, {1500, "s", "1500s"},
        {2490002, "kilobytes", "2.37GB"},   {1500, "kb", "1.46MB"},           {2490002, "megabytes", "2.37TB"},
        {1500, "KB", "1.46MB"},             {1500, "MiB", "1500"},            {2491502, "hours", "2491502hrs"},
        {1500, "count", "1500"},            {0, "bytes", "0"},                {-2048, "bytes", "-2kB"},
        {1536, "bytes", "1.50kB"},          {999, "nanoseconds", "999ns"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[64];
        pformat_value(out, sizeof out, cases[i].v, cases[i].unit);
        assert_string_equal(out, cases[i].want);
    }
}

/* --names pprof: what go tool pprof printed for tests/pprof-odd/generics.pb.gz. */
static void test_pprof_names(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"std::vector<int, std::allocator<int> >::push_back(int const&)", "std::vector::push_back"},
        {"ns::Fn(int)::{lambda()#1}::operator()() const", "ns::Fn::{lambda#1}::operator const"},
        {"java.util.HashMap.get(java.lang.Object)", "java.util.HashMap.get(java.lang.Object)"},
        {"main.(*List[go.shape.int]).Push", "main.(*List[go.shape.int]).Push"},
        {"main.Map[go.shape.int,go.shape.string]", "main.Map[go.shape.int,go.shape.string]"},
        {"main.Sum[...]", "main.Sum[...]"},
    };
    buf out = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ptop_pprof_name(cases[i][0], strlen(cases[i][0]), &out);
        assert_string_equal(buf_cstr(&out), cases[i][1]);
    }
    buf_free(&out);
}

/* drop_frames in RE2 that POSIX cannot take: read, not applied, a warning.
 * The RE2 forms reef rewrites are checked against pprof in
 * tests/e2e/test_pprof_producers.sh (drop-frames-re2.pb.gz). */
static void test_drop_frames_unreadable(void **state)
{
    (void)state;
    static const char *const strs[] = {"", "samples", "count", "malloc", "main.f", "f.c", "(?i)MALLOC", "malloc|(?i)x"};
    for (int64_t pattern = 6; pattern <= 7; pattern++) {
        buf b = {0};
        value_type(&b, 1, 2);
        uint64_t stack[] = {1, 2};
        int64_t v[] = {9};
        sample(&b, stack, 2, v, 1, true);
        uint64_t f1[] = {10}, f2[] = {20};
        int64_t l[] = {1};
        location(&b, 1, f1, l, 1);
        location(&b, 2, f2, l, 1);
        function(&b, 10, 3, 5);
        function(&b, 20, 4, 5);
        fint(&b, 7, (uint64_t)pattern);
        for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) fstr(&b, 6, strs[i]);
        profile p;
        char err[512];
        assert_int_equal(decode(&b, 0, &p, err, sizeof err), 0);
        assert_non_null(strstr(p.warning, "drop_frames is not a regular expression reef can read"));
        ptop t;
        ptop_options o = {0};
        assert_int_equal(ptop_compute(&p, &o, &t, err, sizeof err), 0);
        assert_int_equal(row(&t, "malloc")->flat, 9);
        ptop_free(&t);
        profile_free(&p);
        buf_free(&b);
    }
}

/* Legacy formats are named, not reported as damaged protobuf. */
static void test_legacy_names(void **state)
{
    (void)state;
    char out[512];
    const char *heap = "heap profile:   1:   2 [   3:   4] @ heap/1048576\n";
    assert_true(pprof_legacy_message((const unsigned char *)heap, strlen(heap), "h", out, sizeof out));
    assert_non_null(strstr(out, "a legacy heap profile"));
    assert_non_null(strstr(out, "go tool pprof -proto h > converted.pb.gz"));
    const char *count = "threadcreate profile: total 7\n1 @ 0x1\n";
    assert_true(pprof_legacy_message((const unsigned char *)count, strlen(count), "t", out, sizeof out));
    assert_non_null(strstr(out, "legacy Go count profile"));
    const char *goroutines = "goroutine profile: total 3\n3 @ 0x1\n";
    assert_true(pprof_legacy_message((const unsigned char *)goroutines, strlen(goroutines), "g", out, sizeof out));
    assert_non_null(strstr(out, "reef goroutines g"));
    unsigned char cpu64[40] = {0};
    cpu64[8] = 3;
    cpu64[24] = 0x10;
    assert_true(pprof_legacy_message(cpu64, sizeof cpu64, "c", out, sizeof out));
    assert_non_null(strstr(out, "legacy binary CPU profile"));
    unsigned char cpu32be[20] = {0};
    cpu32be[7] = 3;
    cpu32be[11] = 1;
    assert_true(pprof_legacy_message(cpu32be, sizeof cpu32be, "c", out, sizeof out));
    const char *jemalloc = "heap_v2/524288\n";
    assert_true(pprof_legacy_message((const unsigned char *)jemalloc, strlen(jemalloc), "j", out, sizeof out));
    assert_non_null(strstr(out, "jemalloc"));
    const char *proto = "\x0a\x04\x08\x01\x10\x02";
    assert_false(pprof_legacy_message((const unsigned char *)proto, strlen(proto), "p", out, sizeof out));
    unsigned char zeros[24] = {0};
    assert_false(pprof_legacy_message(zeros, sizeof zeros, "z", out, sizeof out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_rules),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_gzip_and_errors),
        cmocka_unit_test(test_sparse_ids_first),
        cmocka_unit_test(test_rows_by_name),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_pprof_names),
        cmocka_unit_test(test_legacy_names),
        cmocka_unit_test(test_drop_frames_unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
