/* test_gdump_untidy.c - the goroutine-dump parser on dumps as people paste
 * them: the real dumps of the shared corpus (true counts in its
 * SOURCES.md), the captures of tests/captures reshaped the way editors, CI
 * systems and log collectors reshape text, cut at every byte offset, and
 * the untidy forms Go itself prints (goroutine 0, concurrent fatal errors,
 * GOTRACEBACK=crash relays, old releases).
 *
 * Expected counts never come from reef: they are the corpus's SOURCES.md
 * figures, and a count of the goroutine headers (distinct ids, goroutine 0
 * excluded) made by the scanner below, which shares no code with the
 * parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gdump_parse.h"

#include <dirent.h>

static parsed *parse_n(const char *text, size_t len) { return parse_chunks(text, len, 0, 0); }

static const char *S(parsed *r, uint32_t id) { return gmodel_str(&r->m, id); }

static ggroup *group_with(parsed *r, const char *func)
{
    for (size_t i = 0; i < r->m.ngroups; i++)
        if (r->m.groups[i].nframes && strcmp(S(r, r->m.groups[i].frames[0].func), func) == 0) return &r->m.groups[i];
    return NULL;
}

/* The repository's tests/ and the shared corpus beside the clone. */
static char *path_to(const char *rel)
{
    static char out[8192];
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    for (int up = 0; up < 2; up++) *strrchr(dir, '/') = '\0'; /* .../tests */
    snprintf(out, sizeof out, "%s/%s", dir, rel);
    return out;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) fail_msg("cannot read %s", path);
    fclose(f);
    data[n] = '\0';
    *len = (size_t)n;
    return data;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The independent count: lines holding "goroutine N ...[...]:" (N > 0)
 * whose ':' lies before `limit`, distinct ids. */
static size_t count_headers(const char *t, size_t len, size_t limit)
{
    size_t cap = 1024, n = 0;
    uint64_t *ids = malloc(cap * sizeof *ids);
    for (size_t ls = 0; ls < len;) {
        const char *nl = memchr(t + ls, '\n', len - ls);
        size_t le = nl ? (size_t)(nl - t) : len, e = le;
        if (e > ls && t[e - 1] == '\r') e--;
        const char *g = e - ls >= 12 ? memmem(t + ls, e - ls, "goroutine ", 10) : NULL;
        if (g && e >= 2 && e - 1 < limit && t[e - 2] == ']' && t[e - 1] == ':') {
            const char *d = g + 10;
            uint64_t id = 0;
            while (d < t + e && *d >= '0' && *d <= '9') id = id * 10 + (uint64_t)(*d++ - '0');
            if (d > g + 10 && *d == ' ' && memchr(d, '[', (size_t)(t + e - d)) && id) {
                if (n == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
                ids[n++] = id;
            }
        }
        ls = le + 1;
    }
    qsort(ids, n, sizeof *ids, cmp_u64);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) distinct += i == 0 || ids[i] != ids[i - 1];
    free(ids);
    return distinct;
}

/* Groups must be the same: same keys, states and counts, in order. */
static void assert_same_groups(parsed *a, parsed *b, const char *what)
{
    if (a->m.ngroups != b->m.ngroups) fail_msg("%s: %zu groups, not %zu", what, b->m.ngroups, a->m.ngroups);
    for (size_t i = 0; i < a->m.ngroups; i++) {
        ggroup *x = &a->m.groups[i], *y = &b->m.groups[i];
        if (x->count != y->count || x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
            strcmp(x->state ? S(a, x->state) : "", y->state ? S(b, y->state) : "") != 0)
            fail_msg("%s: group %zu differs (%s)", what, i, x->nframes ? S(a, x->frames[0].func) : "-");
    }
}

/* ---- the shared corpus ------------------------------------------------------ */

/* The "expected" column of ../shared/corpus/goroutine-dumps/SOURCES.md. */
static const struct {
    const char *file;
    uint64_t total;
    bool headers_are_truth; /* a traceback: the header count agrees */
} corpus[] = {
    {"01-amqpx-test-timeout.txt", 25, true},
    {"02-erigon-debug1-20k.txt", 20161, false},
    {"03-kvstore-windows-debug2.txt", 13, true},
    {"04-cdk-erigon-debug2.txt", 133, true},
    {"05-nats-debug1-7k.txt", 7046, false},
    {"06-go-compile-sigquit-regs-indented.txt", 2, true},
    {"07-concurrent-map-writes-3fatal.txt", 74, true},
    {"08-gostackparse-frameselided.txt", 2, true},
    {"09-gostackparse-ancestors.txt", 3, true},
    {"10-gostackparse-cgo.txt", 3, true},
    {"11-gostackparse-waitsince.txt", 9, true},
    {"12-panicparse-panicweb-debug2.txt", 71, true},
    {"25-glassdb-test-timeout-go122.txt", 4, true},
    {"26-k8s-25331-etcd3-watch-go110.txt", 32, true},
    {"27-etcd-5509-double-rlock.txt", 28, true},
    {"32-cdk-erigon-debug1-txgaslogger-leak.txt", 5171, false},
};

static char *corpus_file(const char *name, size_t *len)
{
    char rel[512];
    snprintf(rel, sizeof rel, "../../shared/corpus/goroutine-dumps/%s", name);
    return slurp(path_to(rel), len);
}

static void test_corpus_counts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        size_t len;
        char *text = corpus_file(corpus[i].file, &len);
        parsed *r = parse_n(text, len);
        if (r->rc) fail_msg("%s: %s", corpus[i].file, r->error);
        if (r->m.total != corpus[i].total)
            fail_msg("%s: %llu goroutines, SOURCES.md says %llu", corpus[i].file, (unsigned long long)r->m.total,
                     (unsigned long long)corpus[i].total);
        if (corpus[i].headers_are_truth) assert_int_equal(count_headers(text, len, len), corpus[i].total);
        done(r);
        free(text);
    }
}

static void test_corpus_untidy_forms(void **state)
{
    (void)state;
    size_t len;
    /* 06: goroutine 0 is the signal thread; the block is indented. */
    char *text = corpus_file("06-go-compile-sigquit-regs-indented.txt", &len);
    parsed *r = parse_n(text, len);
    assert_int_equal(r->m.signal_threads, 1);
    ggroup *g = group_with(r, "sync.runtime_Semacquire");
    assert_non_null(g);
    assert_int_equal(g->nframes, 5);
    assert_string_equal(S(r, g->frames[4].file), "/usr/local/go/src/cmd/compile/main.go");
    assert_int_equal(g->frames[4].line, 51);
    assert_int_equal(r->m.damaged, 0);
    done(r);
    free(text);
    /* 07: ids 1139 and 1184 printed as "stack unavailable", then in full. */
    text = corpus_file("07-concurrent-map-writes-3fatal.txt", &len);
    r = parse_n(text, len);
    assert_int_equal(r->m.duplicates, 2);
    for (size_t i = 0; i < r->m.ngroups; i++) assert_false(r->m.groups[i].unavailable);
    g = group_with(r, "runtime.throw");
    assert_non_null(g);
    assert_int_equal(r->m.dumps, 1);
    done(r);
    free(text);
    /* 01: 8-space indentation, the trailer, no final newline. */
    text = corpus_file("01-amqpx-test-timeout.txt", &len);
    r = parse_n(text, len);
    g = group_with(r, "testing.(*M).startAlarm.func1");
    assert_non_null(g);
    assert_string_equal(S(r, g->frames[0].file), "/usr/local/go/src/testing/testing.go");
    assert_int_equal(g->frames[0].line, 2259);
    assert_string_equal(S(r, g->created_by.func), "time.goFunc");
    assert_int_equal(r->m.truncated_line, 0);
    assert_int_equal(r->m.damaged, 0);
    done(r);
    free(text);
}

static void test_corpus_headlines(void **state)
{
    (void)state;
    size_t len;
    char *text = corpus_file("01-amqpx-test-timeout.txt", &len);
    parsed *r = parse_n(text, len);
    assert_int_equal(r->m.headline.kind, GHEAD_TEST_TIMEOUT);
    assert_string_equal(r->m.headline.message, "test timed out after 10m0s");
    assert_string_equal(r->m.headline.running_tests, "TestBatchHandlerPauseAndResume (8m49s)");
    assert_int_equal(r->m.headline.goroutine, 316);
    assert_int_equal(r->m.headline.line, 15);
    assert_int_equal(r->m.headline.count, 1);
    done(r);
    free(text);

    text = corpus_file("07-concurrent-map-writes-3fatal.txt", &len);
    r = parse_n(text, len);
    assert_int_equal(r->m.headline.kind, GHEAD_CONCURRENT_MAP);
    assert_string_equal(r->m.headline.message, "concurrent map writes");
    assert_int_equal(r->m.headline.count, 3);
    assert_int_equal(r->m.headline.line, 4);
    assert_int_equal(r->m.headline.goroutine, 1123);
    done(r);
    free(text);

    text = corpus_file("25-glassdb-test-timeout-go122.txt", &len);
    r = parse_n(text, len);
    assert_int_equal(r->m.headline.kind, GHEAD_TEST_TIMEOUT);
    assert_string_equal(r->m.headline.message, "test timed out after 2m0s");
    assert_string_equal(r->m.headline.running_tests, "TestReadMulti (1m48s)\nTestReadMulti/gcs (1m48s)");
    assert_int_equal(r->m.headline.goroutine, 124957);
    assert_int_equal(r->m.headline.line, 1);
    done(r);
    free(text);

    text = corpus_file("06-go-compile-sigquit-regs-indented.txt", &len);
    r = parse_n(text, len);
    assert_int_equal(r->m.headline.kind, GHEAD_SIGNAL);
    assert_string_equal(r->m.headline.message, "SIGQUIT: quit");
    assert_int_equal(r->m.headline.line, 2);
    assert_int_equal(r->m.headline.goroutine, 1); /* the first after goroutine 0 */
    done(r);
    free(text);

    text = corpus_file("04-cdk-erigon-debug2.txt", &len);
    r = parse_n(text, len);
    assert_int_equal(r->m.headline.kind, GHEAD_NONE);
    assert_null(r->m.headline.message);
    done(r);
    free(text);
}

/* ---- captures, reshaped ---------------------------------------------------------- */

typedef struct out {
    char *data;
    size_t len, cap;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->data = realloc(o->data, o->cap);
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }

typedef enum shape {
    SPACES1, SPACES4, SPACES8, SPACES12, NO_TAB, TIMESTAMP, JOURNALD, QUOTED, LINE_NUMBERS, BLOCK_INDENT,
    CRLF, COLOR, BOM_NO_NEWLINE, TEST_TRAILER, TRAILING_WS, NBSP, JSON_STRING, DOCKER_JSON, SHAPES
} shape;

static const char *const shape_names[SHAPES] = {
    "tab->1 space", "tab->4 spaces", "tab->8 spaces", "tab->12 spaces", "tab dropped", "RFC 3339 prefix",
    "journald prefix", "> quoting", "CI line numbers", "4-space block", "CRLF", "ANSI colors",
    "BOM, no final newline", "go test trailer", "trailing blanks", "no-break spaces", "a JSON log's string",
    "Docker json-file lines",
};

static void put_json_escaped(out *o, const char *t, size_t len);

/* Rewrites one line (without its newline) as the shape does. */
static void reshape_line(out *o, shape sh, const char *s, size_t n, size_t lineno)
{
    char pre[128] = "";
    switch (sh) {
    case TIMESTAMP: snprintf(pre, sizeof pre, "2026-11-29T11:%02zu:%02zu.%06zuZ ", lineno / 3600 % 60, lineno / 60 % 60, lineno * 7919 % 1000000); break;
    case JOURNALD: snprintf(pre, sizeof pre, "Nov %2zu 11:45:%02zu host app[4242]: ", lineno % 28 + 1, lineno % 60); break;
    case QUOTED: snprintf(pre, sizeof pre, n ? "> " : ">"); break;
    case LINE_NUMBERS: snprintf(pre, sizeof pre, "%zu | ", lineno); break;
    case BLOCK_INDENT: snprintf(pre, sizeof pre, "    "); break;
    case COLOR: snprintf(pre, sizeof pre, "\x1b[90m%zu\x1b[0m ", 1000 + lineno); break;
    default: break;
    }
    if (sh == DOCKER_JSON) {
        puts_(o, "{\"log\":\"");
        put_json_escaped(o, s, n);
        snprintf(pre, sizeof pre, "\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-29T11:45:49.%09zuZ\"}\n", lineno);
        puts_(o, pre);
        return;
    }
    puts_(o, pre);
    size_t col = strlen(pre);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\t') {
            put(o, s + i, 1);
            col++;
            continue;
        }
        if (sh == NBSP) {
            puts_(o, "\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0");
            continue;
        }
        int spaces = sh == SPACES1 ? 1 : sh == SPACES4 ? 4 : sh == SPACES12 ? 12 : sh == NO_TAB ? 0 : -1;
        if (sh == JOURNALD || sh == SPACES8 || sh == BLOCK_INDENT) spaces = (int)(8 - col % 8); /* to the next tab stop */
        if (spaces < 0) {
            put(o, "\t", 1);
            continue;
        }
        for (int k = 0; k < spaces; k++) put(o, " ", 1);
        col += (size_t)spaces;
    }
    puts_(o, sh == CRLF ? "\r\n" : sh == TRAILING_WS ? " \t \n" : "\n");
}

static void put_json_escaped(out *o, const char *t, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        const char *e = t[i] == '\n' ? "\\n" : t[i] == '\t' ? "\\t" : t[i] == '"' ? "\\\"" : t[i] == '\\' ? "\\\\" : NULL;
        if (e) puts_(o, e);
        else put(o, t + i, 1);
    }
}

/* zap, logrus and friends: {"level":"error","stacktrace":"goroutine 1 ...\n..."} */
static out json_string(const char *t, size_t len)
{
    out o = {0};
    puts_(&o, "{\"level\":\"error\",\"stacktrace\":\"");
    put_json_escaped(&o, t, len);
    puts_(&o, "\"}\n");
    return o;
}

static out reshape(const char *t, size_t len, shape sh)
{
    if (sh == JSON_STRING) return json_string(t, len);
    out o = {0};
    if (sh == BOM_NO_NEWLINE) puts_(&o, "\xef\xbb\xbf");
    size_t lineno = 1;
    for (size_t ls = 0; ls < len; lineno++) {
        const char *nl = memchr(t + ls, '\n', len - ls);
        size_t le = nl ? (size_t)(nl - t) : len;
        reshape_line(&o, sh, t + ls, le - ls, lineno);
        ls = le + 1;
    }
    if (sh == BOM_NO_NEWLINE && o.len) o.data[--o.len] = '\0';
    if (sh == TEST_TRAILER) {
        while (o.len > 1 && o.data[o.len - 1] == '\n' && o.data[o.len - 2] == '\n') o.len--; /* no blank line */
        puts_(&o, "exit status 2\nFAIL\tgithub.com/x/y\t600.024s\nFAIL");
    }
    return o;
}

static const char *const capture_kinds[] = {"debug2.txt", "sigquit.txt", "panic.txt", "deadlock.txt"};

/* Every capture of every Go release, in every shape: the same groups as
 * the capture as printed, and the header count as the total. */
static void test_captures_reshaped(void **state)
{
    (void)state;
    DIR *d = opendir(path_to("captures"));
    assert_non_null(d);
    struct dirent *e;
    int versions = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "go1.", 4) != 0) continue;
        versions++;
        for (size_t k = 0; k < sizeof capture_kinds / sizeof capture_kinds[0]; k++) {
            char rel[512];
            snprintf(rel, sizeof rel, "captures/%s/%s", e->d_name, capture_kinds[k]);
            size_t len;
            char *text = slurp(path_to(rel), &len);
            parsed *clean = parse_n(text, len);
            if (clean->rc) fail_msg("%s: %s", rel, clean->error);
            assert_int_equal(clean->m.total, count_headers(text, len, len));
            for (shape sh = 0; sh < SHAPES; sh++) {
                out o = reshape(text, len, sh);
                parsed *r = parse_n(o.data, o.len);
                char what[600];
                snprintf(what, sizeof what, "%s, %s", rel, shape_names[sh]);
                if (r->rc) fail_msg("%s: %s", what, r->error);
                assert_same_groups(clean, r, what);
                if (r->m.damaged || r->m.truncated_line) fail_msg("%s: damaged or cut", what);
                assert_int_equal(r->m.headline.kind, clean->m.headline.kind);
                done(r);
                free(o.data);
            }
            done(clean);
            free(text);
        }
    }
    closedir(d);
    assert_true(versions >= 6);
}

/* ---- cuts at every byte offset --------------------------------------------------------- */

/* The line a cut at `at` falls in, when the cut is inside it. */
static bool cut_inside(const char *t, size_t at, const char **line, size_t *n)
{
    if (at == 0 || t[at - 1] == '\n') return false;
    size_t ls = at;
    while (ls > 0 && t[ls - 1] != '\n') ls--;
    const char *nl = strchr(t + at, '\n');
    *line = t + ls;
    *n = (nl ? (size_t)(nl - t) : strlen(t)) - ls;
    return true;
}

/* A cut inside a header or inside a call line must be said. */
static bool cut_must_warn(const char *t, size_t at)
{
    const char *line;
    size_t n;
    if (!cut_inside(t, at, &line, &n)) return false;
    /* Ancestor sections (tracebackancestors) are not part of the stack. */
    const char *anc = memmem(t, at, "[originating from goroutine ", 28), *next;
    while (anc && (next = memmem(anc + 1, (size_t)(t + at - anc - 1), "[originating from goroutine ", 28))) anc = next;
    if (anc && !memmem(anc, (size_t)(t + at - anc), "\n\n", 2)) return false;
    const char *part = line;
    size_t pn = (size_t)(t + at - line);
    while (pn && (*part == ' ' || *part == '\t')) part++, pn--;
    if (pn > 10 && memcmp(part, "goroutine ", 10) == 0 && part[10] >= '1' && part[10] <= '9' &&
        memmem(line, n, "]:", 2))
        return true;
    return n && line[n - 1] == ')' && memchr(part, '(', pn) && (size_t)(t + at - line) < n - 1 && part[0] != 'g';
}

static void cut_everywhere(const char *name, const char *t, size_t len, size_t step)
{
    for (size_t at = 0; at <= len; at += step) {
        size_t want = count_headers(t, at, at);
        parsed *r = parse_n(t, at);
        if (want == 0) {
            if (r->rc == 0 && r->m.total != 0) fail_msg("%s cut at %zu: %llu goroutines, none there", name, at,
                                                        (unsigned long long)r->m.total);
        } else if (r->rc != 0) {
            fail_msg("%s cut at %zu: %s", name, at, r->error);
        } else if (r->m.total != want) {
            fail_msg("%s cut at %zu: %llu goroutines, %zu headers", name, at, (unsigned long long)r->m.total, want);
        } else if (cut_must_warn(t, at) && !r->m.truncated_line) {
            fail_msg("%s cut at %zu: the cut is not said", name, at);
        }
        done(r);
    }
}

/* Every offset of the small files and of the first 6 KB of the others,
 * every 29th byte of the rest (the cost is quadratic in the size). */
static void test_cuts_everywhere(void **state)
{
    (void)state;
    static const char *const files[] = {
        "01-amqpx-test-timeout.txt", "06-go-compile-sigquit-regs-indented.txt", "07-concurrent-map-writes-3fatal.txt",
        "09-gostackparse-ancestors.txt", "10-gostackparse-cgo.txt", "25-glassdb-test-timeout-go122.txt",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *text = corpus_file(files[i], &len);
        cut_everywhere(files[i], text, len < 6000 ? len : 6000, 1);
        cut_everywhere(files[i], text, len, 29);
        free(text);
    }
    size_t len;
    char *text = slurp(path_to("captures/go1.26.8/panic.txt"), &len);
    cut_everywhere("go1.26.8/panic.txt", text, len < 6000 ? len : 6000, 1);
    cut_everywhere("go1.26.8/panic.txt", text, len, 97);
    out o = reshape(text, len < 8000 ? len : 8000, JOURNALD);
    cut_everywhere("go1.26.8/panic.txt, journald", o.data, o.len, 1);
    free(o.data);
    free(text);
}

/* A debug=1 dump indented (a paste in a list) or in a log (prefixed,
 * quoted, numbered, colored, Docker's JSON lines). */
static void test_debug1_indented(void **state)
{
    (void)state;
    size_t len;
    char *text = slurp(path_to("captures/go1.26.8/debug1.txt"), &len);
    parsed *clean = parse_n(text, len);
    assert_int_equal(clean->rc, 0);
    assert_int_equal(clean->m.total, clean->m.declared_total);
    for (shape sh = SPACES4; sh <= SPACES8; sh++) {
        out o = {0};
        for (size_t ls = 0; ls < len;) {
            const char *nl = memchr(text + ls, '\n', len - ls);
            size_t le = nl ? (size_t)(nl - text) : len;
            puts_(&o, "    ");
            reshape_line(&o, sh, text + ls, le - ls, 1);
            ls = le + 1;
        }
        parsed *r = parse_n(o.data, o.len);
        if (r->rc) fail_msg("%s: %s", shape_names[sh], r->error);
        assert_same_groups(clean, r, shape_names[sh]);
        done(r);
        free(o.data);
    }
    static const shape logged[] = {TIMESTAMP, JOURNALD, QUOTED, LINE_NUMBERS, CRLF, COLOR, DOCKER_JSON, TRAILING_WS};
    for (size_t i = 0; i < sizeof logged / sizeof logged[0]; i++) {
        out o = reshape(text, len, logged[i]);
        parsed *r = parse_n(o.data, o.len);
        if (r->rc) fail_msg("debug=1, %s: %s", shape_names[logged[i]], r->error);
        assert_same_groups(clean, r, shape_names[logged[i]]);
        assert_int_equal(r->m.declared_total, clean->m.declared_total);
        done(r);
        free(o.data);
    }
    done(clean);
    free(text);
}

/* debug=1: a cut either breaks the declared total (an error) or keeps it. */
static void test_debug1_cuts(void **state)
{
    (void)state;
    size_t len;
    char *text = corpus_file("05-nats-debug1-7k.txt", &len);
    for (size_t at = 0; at <= len; at += at < 3000 ? 1 : 7) {
        parsed *r = parse_n(text, at);
        if (r->rc == 0) assert_int_equal(r->m.total, 7046);
        else if (!strstr(r->error, "truncated debug=1 dump") && !strstr(r->error, "no goroutine dump found") &&
                 !strstr(r->error, "empty input"))
            fail_msg("cut at %zu: %s", at, r->error);
        done(r);
    }
    free(text);
}

/* ---- untidy forms, one at a time ------------------------------------------------------------- */

static void test_signal_thread(void **state)
{
    (void)state;
    /* pthread_create failed: SIGABRT, goroutine 0 twice, no frames but
     * "runtime: unknown pc", a stack hex dump; then the goroutines. */
    parsed *r = parse(
        "runtime/cgo: pthread_create failed: Resource temporarily unavailable\n"
        "SIGABRT: abort\n"
        "PC=0x7f2ec1a5b387 m=3 sigcode=18446744073709551610\n"
        "\n"
        "goroutine 0 [idle]:\n"
        "runtime: unknown pc 0x7f2ec1a5b387\n"
        "stack: frame={sp:0x7f2eb8ff8a18, fp:0x0} stack=[0x7f2eb87f9288,0x7f2eb8ff8e88)\n"
        "00007f2eb8ff8918:  0000000000000000  0000000000000000 \n"
        "00007f2eb8ff8a18: <00007f2ec1a5ca78  0000000000000000 \n"
        "runtime: unknown pc 0x7f2ec1a5b387\n"
        "stack: frame={sp:0x7f2eb8ff8a18, fp:0x0} stack=[0x7f2eb87f9288,0x7f2eb8ff8e88)\n"
        "goroutine 0 [idle]:\n"
        "runtime: unknown pc 0x7f2ec1a5b387\n"
        "\n"
        "goroutine 1 [chan receive]:\n"
        "main.main()\n"
        "\t/src/main.go:9 +0x25\n"
        "\n"
        "goroutine 0 gp=0xaa6820 m=0 mp=0xaa77c0 [idle]:\n"
        "runtime.futex(0x1596c28, 0x80)\n"
        "\t/usr/local/go/src/runtime/sys_linux_amd64.s:535 +0x21\n"
        "\n"
        "goroutine 7 [select]:\n"
        "main.loop()\n"
        "\t/src/loop.go:3 +0x25\n"
        "rax    0xca\n"
        "rbx    0x1596ae0\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 2);
    assert_int_equal(r->m.signal_threads, 3);
    assert_int_equal(r->m.dumps, 1);
    assert_int_equal(r->m.headline.kind, GHEAD_SIGNAL);
    assert_string_equal(r->m.headline.message, "SIGABRT: abort");
    assert_int_equal(r->m.headline.goroutine, 1);
    assert_int_equal(r->m.damaged, 0);
    done(r);
    r = parse("SIGQUIT: quit\n\ngoroutine 0 [idle]:\nruntime.futex(0x1)\n\t/a.s:5 +0x1\n");
    assert_int_equal(r->rc, -1);
    assert_non_null(strstr(r->error, "only the signal thread"));
    done(r);
}

static void test_crash_relay_and_duplicates(void **state)
{
    (void)state;
    /* GOTRACEBACK=crash: the first thread's dump, then "-----" and each
     * other thread's own "SIGQUIT: quit" block with its running goroutine. */
    parsed *r = parse(
        "panic: boom\n"
        "\n"
        "goroutine 5 [running]:\n"
        "main.crash()\n"
        "\t/src/c.go:3 +0x25\n"
        "\n"
        "goroutine 6 [running]:\n"
        "\tgoroutine running on other thread; stack unavailable\n"
        "created by main.main in goroutine 1\n"
        "\t/src/c.go:9 +0x30\n"
        "\n"
        "goroutine 1 [chan receive]:\n"
        "main.main()\n"
        "\t/src/c.go:10 +0x25\n"
        "\n"
        "-----\n"
        "\n"
        "SIGQUIT: quit\n"
        "PC=0x46f0a1 m=2 sigcode=0\n"
        "\n"
        "goroutine 0 [idle]:\n"
        "runtime.futex(0x1)\n"
        "\t/go/src/runtime/sys_linux_amd64.s:557 +0x21\n"
        "goroutine 6 [running]:\n"
        "main.spin()\n"
        "\t/src/c.go:20 +0x5\n"
        "created by main.main in goroutine 1\n"
        "\t/src/c.go:9 +0x30\n"
        "\n"
        "goroutine 6 [running]:\n"
        "main.spin()\n"
        "\t/src/c.go:20 +0x5\n"
        "\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.dumps, 1);
    assert_int_equal(r->m.total, 3);
    assert_int_equal(r->m.duplicates, 2);
    ggroup *g = group_with(r, "main.spin");
    assert_non_null(g);
    assert_int_equal(g->count, 1);
    assert_true(g->has_created_by);
    for (size_t i = 0; i < r->m.ngroups; i++) assert_false(r->m.groups[i].unavailable);
    assert_int_equal(r->m.headline.kind, GHEAD_PANIC);
    assert_int_equal(r->m.headline.goroutine, 5);
    done(r);
    /* A goroutine only ever "unavailable" is still one goroutine. */
    r = parse("goroutine 6 [running]:\n\tgoroutine running on other thread; stack unavailable\n\n"
              "goroutine 6 [running]:\n\tgoroutine running on other thread; stack unavailable\n");
    assert_int_equal(r->m.total, 1);
    assert_int_equal(r->m.duplicates, 1);
    assert_true(r->m.groups[0].unavailable);
    done(r);
}

static void test_trailers_and_ellipses(void **state)
{
    (void)state;
    static const char *const after[] = {
        "FAIL\tgithub.com/x/y\t600.024s\nFAIL", "ok  \tgithub.com/x/y\t0.1s\n", "exit status 2\n", "FAIL\n",
        "...\n", "[...]\n", "...\n\ngoroutine 9 [select]:\nmain.g()\n\t/b.go:2 +0x1\n", "--- FAIL: TestX (600.00s)\n",
        "2026/11/29 11:45:49 server stopped\n",
    };
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "goroutine 1 [running]:\nmain.f()\n\t/a.go:1 +0x1\n%s", after[i]);
        parsed *r = parse(text);
        if (r->rc) fail_msg("trailer %zu: %s", i, r->error);
        assert_int_equal(r->m.total, count_headers(text, strlen(text), strlen(text)));
        ggroup *g = group_with(r, "main.f");
        assert_non_null(g);
        assert_int_equal(g->nframes, 1);
        assert_int_equal(r->m.truncated_line, 0);
        assert_int_equal(r->m.damaged, 0);
        done(r);
    }
    /* "[...]" or "..." where the reporter cut a goroutine short: it counts. */
    parsed *r = parse("goroutine 1 [running]:\n[...]\n\ngoroutine 2 [select]:\nmain.g()\n\t/b.go:2 +0x1\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 2);
    assert_int_equal(r->m.damaged, 1);
    done(r);
}

static void test_cut_paste(void **state)
{
    (void)state;
    /* The 16-frame goroutine missing only its last line keeps 15 frames. */
    char text[4096] = "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x25\n\ngoroutine 7 [chan send, 3 minutes]:\n";
    for (int i = 0; i < 16; i++) {
        char frame[128];
        snprintf(frame, sizeof frame, "main.f%d(0xc0)\n\t/src/app/main.go:%d +0x1d\n", i, 10 + i);
        strcat(text, frame);
    }
    size_t n = strlen(text) - strlen("\t/src/app/main.go:25 +0x1d\n");
    parsed *r = parse_n(text, n);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 2);
    ggroup *g = group_with(r, "main.f0");
    assert_non_null(g);
    assert_int_equal(g->nframes, 15);
    assert_int_equal(r->m.truncated_goroutine, 7);
    assert_int_equal(r->m.truncated_line, 36);
    done(r);
    /* Cut inside a source line with no offset: the frame may be wrong. */
    r = parse_n(text, n + 20);
    assert_int_equal(r->m.total, 2);
    assert_int_equal(group_with(r, "main.f0")->nframes, 15);
    assert_int_equal(r->m.truncated_line, 37);
    done(r);
    /* Cut right after a header: counted, said. */
    r = parse("goroutine 1 [running]:\nmain.main()\n\t/a.go:9 +0x25\n\ngoroutine 2 [select]:");
    assert_int_equal(r->m.total, 2);
    assert_int_equal(r->m.truncated_line, 5);
    assert_int_equal(r->m.truncated_goroutine, 2);
    done(r);
    /* Cut inside a header: not counted, said. */
    r = parse("goroutine 1 [running]:\nmain.main()\n\t/a.go:9 +0x25\n\ngoroutine 2 [sel");
    assert_int_equal(r->m.total, 1);
    assert_int_equal(r->m.truncated_line, 5);
    assert_int_equal(r->m.truncated_goroutine, 0);
    done(r);
    /* A "created by ... in goroutine" cut in its number. */
    r = parse("goroutine 3 [select]:\nmain.g()\n\t/a.go:9 +0x25\ncreated by main.main in goroutine ");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 1);
    assert_int_equal(r->m.truncated_line, 4);
    assert_false(r->m.groups[0].has_created_by);
    done(r);
    /* A whole last line without its newline is not a cut. */
    r = parse("goroutine 3 [select]:\nmain.g()\n\t/a.go:9 +0x25");
    assert_int_equal(r->m.truncated_line, 0);
    assert_int_equal(r->m.groups[0].nframes, 1);
    done(r);
}

static void test_old_releases_and_paths(void **state)
{
    (void)state;
    parsed *r = parse(
        "goroutine 16 [semacquire]:\n"
        "sync.runtime_Semacquire(0xc2080a0f2c)\n"
        "\t/usr/local/go/src/pkg/runtime/sema.goc:199 +0x30\n"
        "sync.(*WaitGroup).Wait(0xc20801e0c0)\n"
        "\t/usr/local/go/src/pkg/sync/waitgroup.go:129 +0x14b\n"
        "runtime.goexit()\n"
        "\t/usr/local/go/src/pkg/runtime/proc.c:1445\n"
        "\n"
        "goroutine 2 [syscall]:\n"
        "created by runtime.main\n"
        "\t/usr/local/go/src/pkg/runtime/proc.c:221\n"
        "\n"
        "goroutine 5 [chan receive]:\n"
        "main.worker(0xc000)\n"
        "\tC:/Program Files/Go/src/My App/main.go:12 +0x25\n"
        "main.run(...)\n"
        "\tC:\\Users\\dev\\go\\src\\app\\run.go:7\n"
        "runtime.goexit({})\n"
        "\tC:/Program Files/Go/src/runtime/asm_amd64.s:1700 +0x1\n"
        "\n"
        "goroutine 6 [select]:\n"
        "type:.eq.struct { a int; b string }(0xc0, 0xc1)\n"
        "\t<autogenerated>:1 +0x25\n"
        "main.(*T[...]).M(...)\n"
        "\t?:0\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 4);
    assert_int_equal(r->m.damaged, 0);
    ggroup *g = group_with(r, "sync.runtime_Semacquire");
    assert_int_equal(g->nframes, 3);
    assert_string_equal(S(r, g->frames[2].file), "/usr/local/go/src/pkg/runtime/proc.c");
    assert_int_equal(g->frames[2].line, 1445);
    g = group_with(r, "main.worker");
    assert_string_equal(S(r, g->frames[0].file), "C:/Program Files/Go/src/My App/main.go");
    assert_int_equal(g->frames[0].line, 12);
    assert_string_equal(S(r, g->frames[1].file), "C:\\Users\\dev\\go\\src\\app\\run.go");
    g = group_with(r, "type:.eq.struct { a int; b string }");
    assert_non_null(g);
    assert_int_equal(g->nframes, 2);
    for (size_t i = 0; i < r->m.ngroups; i++)
        if (!r->m.groups[i].nframes) assert_string_equal(S(r, r->m.groups[i].created_by.func), "runtime.main");
    done(r);
}

/* A prefix longer than the parser keeps verbatim, with no blank before
 * "goroutine": matched by nothing, so later lines are read as they are. */
static void test_long_prefix(void **state)
{
    (void)state;
    char text[2048];
    char pre[240];
    memset(pre, 'x', sizeof pre - 1);
    pre[sizeof pre - 1] = '\0';
    snprintf(text, sizeof text, "%sgoroutine 4 [select]:\nmain.f()\n\t/a.go:1 +0x1\n%s\n\n", pre, pre);
    parsed *r = parse(text);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 1);
    assert_int_equal(group_with(r, "main.f")->nframes, 1);
    done(r);
}

static void test_damaged_stacks(void **state)
{
    (void)state;
    /* A lost function line, a header with nothing under it: read, said. */
    parsed *r = parse("goroutine 1 [running]:\n\t/src/main.go:9 +0x25\nmain.main()\n\t/src/main.go:10 +0x1\n\n"
                      "goroutine 2 [running]:\n\ngoroutine 3 [running]:\nmain.f(0x1)\nmain.g()\n\t/a.go:1 +0x1\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 3);
    assert_int_equal(r->m.damaged, 3);
    assert_int_equal(r->m.damaged_line, 2);
    assert_int_equal(group_with(r, "main.main")->nframes, 1);
    assert_int_equal(group_with(r, "main.g")->nframes, 1);
    done(r);
    /* A call line broken in two by a terminal: the count holds, the loss is said. */
    r = parse("goroutine 1 [running]:\nmain.f(0x1,\n 0x2)\n\t/a.go:1 +0x1\nmain.main()\n\t/a.go:2 +0x1\n\n"
              "goroutine 2 [select]:\nmain.g()\n\t/b.go:2 +0x1\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 2);
    assert_true(r->m.damaged_line == 2 || r->m.damaged_line == 3);
    done(r);
}

static void test_headlines(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        gheadline_kind kind;
        const char *message;
        unsigned count;
    } cases[] = {
        {"fatal error: all goroutines are asleep - deadlock!\n\n", GHEAD_DEADLOCK, "all goroutines are asleep - deadlock!", 1},
        {"fatal error: concurrent map read and map write\n\n", GHEAD_CONCURRENT_MAP, "concurrent map read and map write", 1},
        {"fatal error: concurrent map iteration and map write\n", GHEAD_CONCURRENT_MAP, "concurrent map iteration and map write", 1},
        {"fatal error: unexpected signal during runtime execution\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]\n\n",
         GHEAD_FATAL, "unexpected signal during runtime execution\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]", 1},
        {"panic: boom [recovered]\n\tpanic: boom again\n\n", GHEAD_PANIC, "boom [recovered]\npanic: boom again", 1},
        {"panic: line one\nline two\n\n", GHEAD_PANIC, "line one\nline two", 1},
        {"SIGSEGV: segmentation violation\nPC=0x0 m=0 sigcode=1\nsignal arrived during cgo execution\n\n", GHEAD_SIGNAL,
         "SIGSEGV: segmentation violation", 1},
        {"runtime/cgo: pthread_create failed\nSIGABRT: abort\nPC=0x1 m=3\n\n", GHEAD_SIGNAL, "SIGABRT: abort", 1},
        {"SIGQUIT: quit\npanic: late\n\n", GHEAD_PANIC, "late", 1},
        {"2026-11-29T11:45:49Z panic: logged\n2026-11-29T11:45:49Z \tmore\n", GHEAD_PANIC, "logged\nmore", 1},
        {"> panic: quoted\n>\n", GHEAD_PANIC, "quoted", 1},
        {"level=error msg=\"recovered panic: nothing\"\nerror: panic: no\n", GHEAD_NONE, NULL, 0},
        {"fatal error: concurrent map writes\nfatal error: concurrent map writes\n\n", GHEAD_CONCURRENT_MAP,
         "concurrent map writes", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "log line\n%sgoroutine 8 [running]:\nmain.f()\n\t/a.go:1 +0x1\n", cases[i].text);
        parsed *r = parse(text);
        assert_int_equal(r->rc, 0);
        if (r->m.headline.kind != cases[i].kind) fail_msg("case %zu: kind %d", i, r->m.headline.kind);
        if (cases[i].message) {
            assert_string_equal(r->m.headline.message, cases[i].message);
            /* The line its message starts on. */
            char first[128];
            snprintf(first, sizeof first, "%.*s", (int)strcspn(cases[i].message, "\n"), cases[i].message);
            unsigned long long line = 1;
            for (const char *c = text; c < strstr(text, first); c++) line += *c == '\n';
            assert_int_equal(r->m.headline.line, line);
            assert_int_equal(r->m.headline.goroutine, 8);
            assert_int_equal(r->m.headline.count, cases[i].count);
        }
        done(r);
    }
    /* The headline is the selected dump's. */
    const char *two = "panic: first\n\ngoroutine 1 [running]:\nmain.f()\n\t/a.go:1 +0x1\n\n"
                      "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive]:\nmain.f()\n\t/a.go:2 +0x1\n";
    parsed *r = parse(two);
    assert_int_equal(r->m.dumps, 2);
    assert_int_equal(r->m.headline.kind, GHEAD_DEADLOCK);
    assert_int_equal(r->m.headline.line, 7);
    done(r);
}

/* Headlines of the captures, against what the capturing program did. */
static void test_capture_headlines(void **state)
{
    (void)state;
    DIR *d = opendir(path_to("captures"));
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "go1.", 4) != 0) continue;
        static const struct {
            const char *file;
            gheadline_kind kind;
            const char *prefix;
        } kinds[] = {
            {"panic.txt", GHEAD_PANIC, "zoo: deliberate panic from a non-main goroutine\nsecond line of the message\nthird line"},
            {"deadlock.txt", GHEAD_DEADLOCK, "all goroutines are asleep - deadlock!"},
            {"sigquit.txt", GHEAD_SIGNAL, "SIGQUIT: quit"},
            {"debug2.txt", GHEAD_NONE, NULL},
        };
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            char rel[512];
            snprintf(rel, sizeof rel, "captures/%s/%s", e->d_name, kinds[k].file);
            size_t len;
            char *text = slurp(path_to(rel), &len);
            parsed *r = parse_n(text, len);
            if (r->m.headline.kind != kinds[k].kind) fail_msg("%s: headline kind %d", rel, r->m.headline.kind);
            if (kinds[k].prefix) {
                assert_string_equal(r->m.headline.message, kinds[k].prefix);
                /* The goroutine is the first one printed (after goroutine 0). */
                const char *g = strstr(text, "\ngoroutine ");
                while (g && strncmp(g, "\ngoroutine 0 ", 13) == 0) g = strstr(g + 1, "\ngoroutine ");
                assert_non_null(g);
                assert_int_equal(r->m.headline.goroutine, strtoull(g + 11, NULL, 10));
            }
            done(r);
            free(text);
        }
    }
    closedir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_counts),
        cmocka_unit_test(test_corpus_untidy_forms),
        cmocka_unit_test(test_corpus_headlines),
        cmocka_unit_test(test_captures_reshaped),
        cmocka_unit_test(test_cuts_everywhere),
        cmocka_unit_test(test_debug1_cuts),
        cmocka_unit_test(test_debug1_indented),
        cmocka_unit_test(test_signal_thread),
        cmocka_unit_test(test_crash_relay_and_duplicates),
        cmocka_unit_test(test_trailers_and_ellipses),
        cmocka_unit_test(test_cut_paste),
        cmocka_unit_test(test_old_releases_and_paths),
        cmocka_unit_test(test_long_prefix),
        cmocka_unit_test(test_damaged_stacks),
        cmocka_unit_test(test_headlines),
        cmocka_unit_test(test_capture_headlines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
