/* test_metrics.c - the Prometheus text, expvar JSON and heap?debug=1
 * MemStats parsers (src/parse/metrics.c).
 *
 * Real captures: tests/data/metrics/{metrics.txt,vars.json,heap-debug1.txt}
 * were recorded from tests/fixtures/promservice (client_golang's default
 * registry, expvar, net/http/pprof) by tests/data/metrics/regen.sh, which
 * also writes expected.txt: the figures read from the same files by Python
 * (json.load for expvar, a regular expression per sample line for /metrics
 * and per "# Name = value" line of the trailer), not by reef.  Each capture
 * is fed in chunks of 1, 7 and 4096 bytes and whole, and every gostats
 * field must match expected.txt, or stay NAN when the source lacks it.
 *
 * Hand-written edge cases (edge*.txt, vars-edge.json, heap-manygc.txt) carry
 * their expected values here; bad inputs (bad/) must fail with a message
 * naming the line (or byte), the same at every chunk size.
 *
 * With REEF_METRICS_LIVE_DIR set (tests/e2e/test_metrics_live.sh) only the
 * cross-source checks on three snapshots of a live service run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "parse/metrics.h"
#include "util/buf.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char data_dir[PATH_MAX]; /* tests/data/metrics, or the live directory */

/* tests/data/metrics, found from this file's path (CMake compiles with
 * absolute paths) so the test runs from any directory; REEF_SRC overrides. */
static void find_data_dir(void)
{
    const char *src = getenv("REEF_SRC");
    if (src && *src) {
        snprintf(data_dir, sizeof data_dir, "%s/tests/data/metrics", src);
        return;
    }
    snprintf(data_dir, sizeof data_dir, "%s", __FILE__);
    char *unit = strstr(data_dir, "/unit/test_metrics.c");
    if (unit) strcpy(unit, "/data/metrics");
    else snprintf(data_dir, sizeof data_dir, "tests/data/metrics");
}

static buf slurp(const char *rel)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", data_dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    buf b = {0};
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) buf_append(&b, tmp, n);
    fclose(f);
    buf_cstr(&b);
    return b;
}

/* ---- gostats fields by name ---- */

#define FIELD(f) {#f, offsetof(gostats, f)}
static const struct {
    const char *name;
    size_t off;
} fields[] = {
    FIELD(goroutines),  FIELD(threads),        FIELD(heap_alloc),      FIELD(heap_inuse),     FIELD(heap_idle),
    FIELD(heap_sys),    FIELD(heap_released),  FIELD(heap_objects),    FIELD(total_alloc),    FIELD(stack_inuse),
    FIELD(sys),         FIELD(next_gc),        FIELD(num_gc),          FIELD(pause_total_ns), FIELD(pause_max_ns),
    FIELD(gc_cpu_fraction), FIELD(gomaxprocs), FIELD(gogc),            FIELD(gomemlimit),     FIELD(open_fds),
    FIELD(max_fds),     FIELD(max_rss),        FIELD(resident_bytes),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static double *field(gostats *s, const char *name)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].name, name) == 0) return (double *)((char *)s + fields[i].off);
    return NULL;
}

static void assert_close(double got, double want, const char *what)
{
    if (isnan(want) ? isnan(got) : fabs(got - want) <= 1e-12 * fabs(want)) return;
    fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

/* ---- collecting samples ---- */

typedef struct sample {
    char *name, *labels;
    double value;
} sample;

typedef struct collected {
    gostats st;
    sample *v;
    size_t n;
    double sum;
} collected;

static void collect(void *ctx, const char *name, size_t name_len, const char *labels, size_t labels_len, double value)
{
    collected *c = ctx;
    gostats_from_prom(&c->st, name, name_len, labels, labels_len, value);
    c->v = realloc(c->v, (c->n + 1) * sizeof *c->v);
    c->v[c->n++] = (sample){strndup(name, name_len), strndup(labels, labels_len), value};
    c->sum += value;
}

static void collected_init(collected *c)
{
    memset(c, 0, sizeof *c);
    gostats_init(&c->st);
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].name);
        free(c->v[i].labels);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

static const sample *find(const collected *c, const char *name, const char *labels)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0 && (!labels || strcmp(c->v[i].labels, labels) == 0)) return &c->v[i];
    return NULL;
}

/* ---- feeding the parsers ---- */

static const size_t chunks[] = {1, 7, 4096, 0}; /* 0: the whole input at once */

static size_t step(size_t chunk, size_t left) { return chunk && chunk < left ? chunk : left; }

/* Returns 0, or -1 with the message in err. */
static int run_prom(const buf *in, const char *name, size_t chunk, collected *c, char *err, size_t errlen)
{
    promparser *p = promparser_new(name, collect, c);
    int rc = 0;
    for (size_t off = 0; off < in->len && rc == 0; off += step(chunk, in->len - off))
        rc = promparser_feed(p, in->data + off, step(chunk, in->len - off));
    if (rc == 0) rc = promparser_finish(p);
    snprintf(err, errlen, "%s", rc ? promparser_error(p) : "");
    promparser_free(p);
    return rc;
}

static int run_heap(const buf *in, const char *name, size_t chunk, gostats *s, char *err, size_t errlen)
{
    memstats_parser *p = memstats_parser_new(name, s);
    int rc = 0;
    for (size_t off = 0; off < in->len && rc == 0; off += step(chunk, in->len - off))
        rc = memstats_parser_feed(p, in->data + off, step(chunk, in->len - off));
    if (rc == 0) rc = memstats_parser_finish(p);
    snprintf(err, errlen, "%s", rc ? memstats_parser_error(p) : "");
    memstats_parser_free(p);
    return rc;
}

static int run_vars(const buf *in, const char *name, collected *c, char *err, size_t errlen)
{
    return expvar_parse(in->data, in->len, name, &c->st, collect, c, err, errlen);
}

/* ---- real captures against expected.txt ---- */

static double pause_sum(const gostats *s)
{
    double sum = 0;
    for (size_t i = 0; i < 256; i++) sum += s->pause_ring[i];
    return sum;
}

/* Checks one source's results against its lines of expected.txt: every
 * field listed has its value, every other field is NAN; for vars, every
 * number passed on is listed and vice versa. */
static void check_against_expected(const char *src, const collected *c)
{
    buf e = slurp("expected.txt");
    bool listed[NFIELDS] = {false};
    size_t vars = 0;
    for (char *line = strtok(e.data, "\n"); line; line = strtok(NULL, "\n")) {
        char s[16], key[128], name[128];
        double want;
        if (sscanf(line, "%15s %127s", s, key) != 2 || strcmp(s, src) != 0) continue;
        if (strcmp(key, "var") == 0) {
            assert_int_equal(sscanf(line, "%*s %*s %127s %lf", name, &want), 2);
            const sample *got = find(c, name, "");
            if (!got) fail_msg("%s: var %s not passed on", src, name);
            assert_close(got->value, want, name);
            vars++;
            continue;
        }
        assert_int_equal(sscanf(line, "%*s %*s %lf", &want), 1);
        gostats st = c->st;
        if (strcmp(key, "samples") == 0) assert_close((double)c->n, want, "number of samples");
        else if (strcmp(key, "sum") == 0) assert_close(c->sum, want, "sum of all sample values");
        else if (strcmp(key, "pause_sum") == 0) assert_close(pause_sum(&st), want, "sum of PauseNs");
        else if (field(&st, key)) {
            assert_close(*field(&st, key), want, key);
            for (size_t i = 0; i < NFIELDS; i++)
                if (strcmp(fields[i].name, key) == 0) listed[i] = true;
        } else fail_msg("expected.txt: unknown key %s", key);
    }
    buf_free(&e);
    gostats st = c->st;
    for (size_t i = 0; i < NFIELDS; i++)
        if (!listed[i] && !isnan(*field(&st, fields[i].name)))
            fail_msg("%s: %s is %g, not NAN", src, fields[i].name, *field(&st, fields[i].name));
    if (strcmp(src, "vars") == 0) assert_int_equal(c->n, vars);
}

static void test_capture_metrics(void **state)
{
    (void)state;
    buf in = slurp("metrics.txt");
    char err[512];
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        collected c;
        collected_init(&c);
        if (run_prom(&in, "metrics.txt", chunks[i], &c, err, sizeof err)) fail_msg("chunk %zu: %s", chunks[i], err);
        check_against_expected("metrics", &c);
        /* The fixture's labelled gauge: quotes, braces, a comma, a
         * backslash and a newline in label values (main.go sets them). */
        const sample *q = find(&c, "app_queue_depth", "queue=\"say \\\"hi\\\", {now}\"");
        assert_non_null(q);
        assert_close(q->value, 7, "app_queue_depth");
        q = find(&c, "app_queue_depth", "queue=\"back\\\\slash\\nnewline\"");
        assert_non_null(q);
        char v[64];
        assert_int_equal(prom_label(q->labels, strlen(q->labels), "queue", v, sizeof v), 18);
        assert_string_equal(v, "back\\slash\nnewline");
        assert_close(q->value, -2.5, "app_queue_depth");
        assert_non_null(find(&c, "app_requests_total", "code=\"200\",path=\"/metrics\""));
        assert_non_null(find(&c, "go_gc_duration_seconds", "quantile=\"1\""));
        collected_free(&c);
    }
    buf_free(&in);
}

static void test_capture_vars(void **state)
{
    (void)state;
    buf in = slurp("vars.json");
    char err[512];
    collected c;
    collected_init(&c);
    if (run_vars(&in, "vars.json", &c, err, sizeof err)) fail_msg("%s", err);
    check_against_expected("vars", &c);
    assert_true(c.st.has_pause_ring);
    /* expvar.String and the cmdline array are not numbers. */
    assert_null(find(&c, "app_version", NULL));
    assert_null(find(&c, "cmdline", NULL));
    collected_free(&c);
    buf_free(&in);
}

static void test_capture_heap(void **state)
{
    (void)state;
    buf in = slurp("heap-debug1.txt");
    char err[512];
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        collected c;
        collected_init(&c);
        if (run_heap(&in, "heap-debug1.txt", chunks[i], &c.st, err, sizeof err))
            fail_msg("chunk %zu: %s", chunks[i], err);
        check_against_expected("heap", &c);
        assert_true(c.st.has_pause_ring);
        collected_free(&c);
    }
    buf_free(&in);
}

/* ---- hand-written edge cases ---- */

typedef struct want_sample {
    const char *name, *labels;
    double value;
} want_sample;

static void check_samples(const collected *c, const want_sample *w, size_t n)
{
    assert_int_equal(c->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(c->v[i].name, w[i].name);
        assert_string_equal(c->v[i].labels, w[i].labels);
        if (isnan(w[i].value)) assert_true(isnan(c->v[i].value));
        else if (isinf(w[i].value)) assert_true(c->v[i].value == w[i].value);
        else assert_close(c->v[i].value, w[i].value, w[i].name);
    }
}

static void test_prom_edge(void **state)
{
    (void)state;
    static const want_sample w[] = {
        {"plain", "", 1},
        {"with_ts", "", 2},
        {"neg_ts", "", 3},
        {"exp_small", "", 1.5e-3},
        {"exp_big", "", 6.02e23},
        {"not_a_number", "", NAN},
        {"pos_inf", "", INFINITY},
        {"neg_inf", "", -INFINITY},
        {"escaped", "path=\"C:\\\\dir\\\\file\",msg=\"say \\\"hi\\\"\",nl=\"line1\\nline2\"", 4},
        {"braces", "v=\"}{,\",w=\"a,b}\"", 5},
        {"spaced", " a = \"1\" , b=\"2\", ", 6},
        {"empty_set", "", 7},
        {"colon:name_x", "", 8},
        {"tabs", "", 9},
        {"bucket", "le=\"+Inf\"", 10},
    };
    buf in = slurp("edge.txt");
    char err[512];
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        collected c;
        collected_init(&c);
        if (run_prom(&in, "edge.txt", chunks[i], &c, err, sizeof err)) fail_msg("chunk %zu: %s", chunks[i], err);
        check_samples(&c, w, sizeof w / sizeof w[0]);
        char v[64];
        const sample *e = &c.v[8];
        assert_int_equal(prom_label(e->labels, strlen(e->labels), "path", v, sizeof v), 11);
        assert_string_equal(v, "C:\\dir\\file");
        assert_int_equal(prom_label(e->labels, strlen(e->labels), "msg", v, sizeof v), 8);
        assert_string_equal(v, "say \"hi\"");
        assert_int_equal(prom_label(e->labels, strlen(e->labels), "nl", v, sizeof v), 11);
        assert_string_equal(v, "line1\nline2");
        e = &c.v[9];
        assert_int_equal(prom_label(e->labels, strlen(e->labels), "w", v, sizeof v), 4);
        assert_string_equal(v, "a,b}");
        e = &c.v[10];
        assert_int_equal(prom_label(e->labels, strlen(e->labels), "b", v, sizeof v), 1);
        assert_string_equal(v, "2");
        collected_free(&c);
    }
    buf_free(&in);
}

static void test_prom_crlf_no_final_newline(void **state)
{
    (void)state;
    static const want_sample w[] = {{"a", "", 1}, {"b", "x=\"y\"", 2}, {"c", "", 3}};
    buf in = slurp("edge-crlf.txt");
    char err[512];
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        collected c;
        collected_init(&c);
        if (run_prom(&in, "edge-crlf.txt", chunks[i], &c, err, sizeof err)) fail_msg("%s", err);
        check_samples(&c, w, 3);
        collected_free(&c);
    }
    buf_free(&in);
}

static void test_prom_label_lookup(void **state)
{
    (void)state;
    const char *l = "a=\"x\",quantile=\"0.5\",long=\"abcdefghij\"";
    char v[8];
    assert_int_equal(prom_label(l, strlen(l), "quantile", v, sizeof v), 3);
    assert_string_equal(v, "0.5");
    /* Cut to the buffer, the full length returned. */
    assert_int_equal(prom_label(l, strlen(l), "long", v, sizeof v), 10);
    assert_string_equal(v, "abcdefg");
    assert_int_equal(prom_label(l, strlen(l), "absent", v, sizeof v), -1);
    assert_int_equal(prom_label(l, strlen(l), "quant", v, sizeof v), -1);
    assert_int_equal(prom_label("", 0, "a", v, sizeof v), -1);
    assert_int_equal(prom_label("a=\"x", 4, "a", v, sizeof v), -1);
    assert_int_equal(prom_label("a=x", 3, "a", v, sizeof v), -1);
}

static void test_gostats_from_prom(void **state)
{
    (void)state;
    gostats s;
    gostats_init(&s);
    for (size_t i = 0; i < NFIELDS; i++) assert_true(isnan(*field(&s, fields[i].name)));
    assert_false(s.has_pause_ring);
#define PROM(name, labels, v) gostats_from_prom(&s, name, strlen(name), labels, strlen(labels), v)
    PROM("go_gc_duration_seconds", "quantile=\"0.5\"", 0.25);
    assert_true(isnan(s.pause_max_ns));
    PROM("go_gc_duration_seconds", "quantile=\"1.0\"", 0.000123456);
    assert_close(s.pause_max_ns, 123456, "pause_max_ns");
    PROM("go_gc_duration_seconds_sum", "", 0.000200588);
    assert_close(s.pause_total_ns, 200588, "pause_total_ns");
    /* runtime/metrics' cycle count only when the summary has none. */
    PROM("go_gc_cycles_total_gc_cycles_total", "", 5);
    assert_close(s.num_gc, 5, "num_gc");
    PROM("go_gc_duration_seconds_count", "", 6);
    PROM("go_gc_cycles_total_gc_cycles_total", "", 7);
    assert_close(s.num_gc, 6, "num_gc");
    PROM("go_memstats_gc_cpu_fraction", "", 0.01);
    assert_close(s.gc_cpu_fraction, 0.01, "gc_cpu_fraction");
    PROM("go_goroutinesx", "", 1);
    PROM("go_goroutine", "", 1);
    assert_true(isnan(s.goroutines));
    gostats_from_prom(&s, "go_threads", 10, NULL, 0, 9);
    assert_close(s.threads, 9, "threads");
#undef PROM
}

static void test_prom_long_lines(void **state)
{
    (void)state;
    /* A label value just under the 1 MiB line cap parses; one past it
     * fails on its line, whatever the chunking. */
    for (size_t extra = 0; extra < 2; extra++) {
        size_t vlen = ((size_t)1 << 20) - strlen("big{v=\"\"} 1") + extra;
        buf in = {0};
        buf_puts(&in, "ok 1\nbig{v=\"");
        for (size_t i = 0; i < vlen; i++) buf_putc(&in, 'x');
        buf_puts(&in, "\"} 1\nok 2\n");
        for (size_t i = 1; i < sizeof chunks / sizeof chunks[0]; i++) {
            collected c;
            collected_init(&c);
            char err[512];
            int rc = run_prom(&in, "long", chunks[i], &c, err, sizeof err);
            if (extra == 0) {
                assert_int_equal(rc, 0);
                assert_int_equal(c.n, 3);
            } else {
                assert_int_equal(rc, -1);
                assert_string_equal(err, "long:2: line longer than 1048576 bytes");
            }
            collected_free(&c);
        }
        buf_free(&in);
    }
}

static void test_prom_after_error(void **state)
{
    (void)state;
    collected c;
    collected_init(&c);
    promparser *p = promparser_new(NULL, NULL, NULL);
    assert_int_equal(promparser_feed(p, "a 1\nb\n", 6), -1);
    assert_string_equal(promparser_error(p), "input:2: expected a value after the metric name");
    assert_int_equal(promparser_feed(p, "c 1\n", 4), -1);
    assert_int_equal(promparser_finish(p), -1);
    promparser_free(p);
    /* No callback: the input is still checked. */
    p = promparser_new("x", NULL, NULL);
    assert_int_equal(promparser_feed(p, "a 1\n", 4), 0);
    assert_int_equal(promparser_finish(p), 0);
    assert_null(promparser_error(p));
    promparser_free(p);
    collected_free(&c);
}

static void test_vars_edge(void **state)
{
    (void)state;
    buf in = slurp("vars-edge.json");
    char err[512];
    collected c;
    collected_init(&c);
    if (run_vars(&in, "vars-edge.json", &c, err, sizeof err)) fail_msg("%s", err);
    static const want_sample w[] = {
        {"k\xc3\xa9y", "", 1}, {"\xf0\x9f\x98\x80", "", 2}, {"neg", "", -0.5}, {"exp", "", 0.02},
        {"nested.n", "", 1},   {"nested.z", "", 0},          {"esc/key\tx", "", 3},
    };
    check_samples(&c, w, sizeof w / sizeof w[0]);
    assert_close(c.st.heap_alloc, 1500, "HeapAlloc");
    assert_close(c.st.sys, 1e6, "Sys");
    assert_close(c.st.num_gc, 300, "NumGC");
    assert_close(c.st.pause_total_ns, 12345, "PauseTotalNs");
    assert_true(c.st.has_pause_ring);
    assert_close(c.st.pause_max_ns, 999, "pause_max_ns");
    assert_close(c.st.pause_ring[2], 999, "PauseNs[2]");
    assert_close(c.st.pause_ring[4], 0, "PauseNs[4]");
    assert_true(isnan(c.st.heap_sys));
    assert_true(isnan(c.st.goroutines));
    /* fn may be NULL: the memstats are still read. */
    gostats s;
    gostats_init(&s);
    assert_int_equal(expvar_parse(in.data, in.len, NULL, &s, NULL, NULL, err, sizeof err), 0);
    assert_close(s.heap_alloc, 1500, "HeapAlloc");
    collected_free(&c);
    buf_free(&in);
}

static void test_heap_many_gcs(void **state)
{
    (void)state;
    buf in = slurp("heap-manygc.txt");
    char err[512];
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        gostats s;
        gostats_init(&s);
        if (run_heap(&in, "heap-manygc.txt", chunks[i], &s, err, sizeof err)) fail_msg("%s", err);
        assert_close(s.heap_alloc, 100, "HeapAlloc");
        assert_close(s.total_alloc, 5000, "TotalAlloc");
        assert_close(s.sys, 70000, "Sys");
        assert_close(s.heap_sys, 60000, "HeapSys");
        assert_close(s.heap_idle, 40000, "HeapIdle");
        assert_close(s.heap_inuse, 20000, "HeapInuse");
        assert_close(s.heap_released, 30000, "HeapReleased");
        assert_close(s.heap_objects, 8, "HeapObjects");
        assert_close(s.stack_inuse, 65536, "Stack");
        assert_close(s.next_gc, 4194304, "NextGC");
        assert_close(s.num_gc, 1000, "NumGC");
        assert_close(s.gc_cpu_fraction, 1.5e-5, "GCCPUFraction");
        assert_close(s.max_rss, 123456, "MaxRSS");
        assert_true(s.has_pause_ring);
        assert_close(s.pause_ring[0], 1000, "PauseNs[0]");
        assert_close(s.pause_ring[255], 1255, "PauseNs[255]");
        assert_close(s.pause_max_ns, 77777, "pause_max_ns");
        /* 1000 GCs: the ring lost pauses, so no total. */
        assert_true(isnan(s.pause_total_ns));
        assert_true(isnan(s.goroutines));
    }
    buf_free(&in);
}

static void test_heap_long_lines(void **state)
{
    (void)state;
    /* A profile record line of 2 MiB before the trailer is skipped without
     * being kept; a trailer line over 64 KiB is an error. */
    buf in = {0};
    buf_puts(&in, "heap profile: 1: 2 [3: 4] @ heap/1048576\n1: 2 [3: 4] @");
    for (size_t i = 0; i < (2u << 20) / 8; i++) buf_puts(&in, " 0x12345");
    buf_puts(&in, "\n\n# runtime.MemStats\n# HeapAlloc = 42\n# Sys = 99");
    char err[512];
    for (size_t i = 1; i < sizeof chunks / sizeof chunks[0]; i++) {
        gostats s;
        gostats_init(&s);
        if (run_heap(&in, "big", chunks[i], &s, err, sizeof err)) fail_msg("%s", err);
        assert_close(s.heap_alloc, 42, "HeapAlloc");
        assert_close(s.sys, 99, "Sys");
        assert_false(s.has_pause_ring);
        assert_true(isnan(s.pause_max_ns));
    }
    buf_puts(&in, "\n# PauseEnd = [");
    for (size_t i = 0; i < 70000; i++) buf_putc(&in, '1');
    buf_puts(&in, "]\n");
    for (size_t i = 1; i < sizeof chunks / sizeof chunks[0]; i++) {
        gostats s;
        gostats_init(&s);
        assert_int_equal(run_heap(&in, "big", chunks[i], &s, err, sizeof err), -1);
        assert_string_equal(err, "big:7: line longer than 65536 bytes in the MemStats trailer");
    }
    buf_free(&in);
}

/* ---- bad inputs ---- */

static const struct {
    const char *file;
    const char *want; /* in the message */
} bad[] = {
    {"prom-no-value.txt", "bad/prom-no-value.txt:3: expected a value after the metric name"},
    {"prom-labels-no-value.txt", "bad/prom-labels-no-value.txt:1: expected a value after the label set"},
    {"prom-bad-escape.txt", "bad/prom-bad-escape.txt:2: invalid escape sequence in a label value"},
    {"prom-unterminated.txt", "bad/prom-unterminated.txt:1: unterminated label value"},
    {"prom-bad-value.txt", "bad/prom-bad-value.txt:3: invalid value \"1.2.3\""},
    {"prom-bad-timestamp.txt", "bad/prom-bad-timestamp.txt:1: invalid timestamp"},
    {"prom-bad-name.txt", "bad/prom-bad-name.txt:1: invalid character in the metric name"},
    {"prom-no-equals.txt", "bad/prom-no-equals.txt:1: expected '=' after a label name"},
    {"prom-trailing.txt", "bad/prom-trailing.txt:2: unexpected text after the timestamp"},
    {"vars-truncated.json", "bad/vars-truncated.json: byte 29: unexpected end of input, expected ',' or '}' in an object"},
    {"vars-trailing.json", "bad/vars-trailing.json: byte 9: unexpected text after the JSON object"},
    {"vars-bad-number.json", "bad/vars-bad-number.json: byte 6: invalid number"},
    {"vars-not-object.json", "bad/vars-not-object.json: byte 0: expected a JSON object"},
    {"vars-deep.json", "bad/vars-deep.json: byte 69: nesting deeper than 64 levels"},
    {"vars-pause-string.json", "bad/vars-pause-string.json: byte 29: PauseNs holds a value that is not a number"},
    {"vars-control.json", "bad/vars-control.json: byte 3: control character in a string"},
    {"vars-bad-escape.json", "bad/vars-bad-escape.json: byte 4: invalid escape sequence"},
    {"vars-no-comma.json", "bad/vars-no-comma.json: byte 8: expected ',' or '}' in an object"},
    {"heap-no-trailer.txt", "bad/heap-no-trailer.txt: no \"# runtime.MemStats\" trailer"},
    {"heap-bad-number.txt", "bad/heap-bad-number.txt:5: HeapAlloc: expected a number"},
    {"heap-bad-pause.txt", "bad/heap-bad-pause.txt:4: PauseNs: expected [n n ...]"},
    {"heap-bad-line.txt", "bad/heap-bad-line.txt:5: expected \"# Name = value\""},
};

static void test_bad_inputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char rel[128], err[512];
        snprintf(rel, sizeof rel, "bad/%s", bad[i].file);
        buf in = slurp(rel);
        for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
            collected c;
            collected_init(&c);
            int rc;
            if (strncmp(bad[i].file, "prom", 4) == 0) rc = run_prom(&in, rel, chunks[k], &c, err, sizeof err);
            else if (strncmp(bad[i].file, "heap", 4) == 0) rc = run_heap(&in, rel, chunks[k], &c.st, err, sizeof err);
            else rc = run_vars(&in, rel, &c, err, sizeof err) ? -1 : 0;
            if (rc != -1 || !strstr(err, bad[i].want))
                fail_msg("%s (chunk %zu): rc %d, message \"%s\", want \"%s\"", rel, chunks[k], rc, err, bad[i].want);
            collected_free(&c);
        }
        buf_free(&in);
    }
}

/* ---- live snapshots (tests/e2e/test_metrics_live.sh) ---- */

typedef struct live {
    collected prom, vars;
    gostats heap;
} live;

static void live_read(live *l)
{
    char err[512];
    buf m = slurp("metrics.txt"), v = slurp("vars.json"), h = slurp("heap-debug1.txt");
    collected_init(&l->prom);
    collected_init(&l->vars);
    gostats_init(&l->heap);
    if (run_prom(&m, "metrics.txt", 1, &l->prom, err, sizeof err)) fail_msg("%s", err);
    if (run_vars(&v, "vars.json", &l->vars, err, sizeof err)) fail_msg("%s", err);
    if (run_heap(&h, "heap-debug1.txt", 7, &l->heap, err, sizeof err)) fail_msg("%s", err);
    buf_free(&m);
    buf_free(&v);
    buf_free(&h);
}

static void within_2x(double a, double b, const char *what)
{
    if (!(a > 0 && b > 0 && a <= 2 * b && b <= 2 * a)) fail_msg("%s: %g and %g are not within 2x", what, a, b);
}

/* REEF_METRICS_LIVE_EXPECT: "field=value ..." for the figures the e2e test
 * set (GOGC, GOMEMLIMIT, GOMAXPROCS) and "var.NAME=value" for expvar vars. */
static void live_expect(const live *l)
{
    const char *spec = getenv("REEF_METRICS_LIVE_EXPECT");
    char key[128];
    double want;
    int used;
    for (; spec && sscanf(spec, " %127[^=]=%lf%n", key, &want, &used) == 2; spec += used) {
        if (strncmp(key, "var.", 4) == 0) {
            const sample *s = find(&l->vars, key + 4, "");
            if (!s) fail_msg("var %s missing", key + 4);
            assert_close(s->value, want, key);
            continue;
        }
        gostats st = l->prom.st;
        if (!field(&st, key)) fail_msg("REEF_METRICS_LIVE_EXPECT: unknown field %s", key);
        assert_close(*field(&st, key), want, key);
    }
}

/* The three were fetched in the order /metrics, /debug/vars, heap?debug=1,
 * within a second, after /gc had forced collections. */
static void test_live(void **state)
{
    (void)state;
    live l;
    live_read(&l);
    const gostats *p = &l.prom.st, *v = &l.vars.st, *h = &l.heap;
    assert_true(p->num_gc >= 1);
    assert_true(p->num_gc <= v->num_gc && v->num_gc <= h->num_gc);
    within_2x(p->sys, v->sys, "Sys (metrics, vars)");
    within_2x(v->sys, h->sys, "Sys (vars, heap)");
    within_2x(p->heap_sys, h->heap_sys, "HeapSys (metrics, heap)");
    within_2x(p->next_gc, v->next_gc, "NextGC (metrics, vars)");
    assert_true(p->pause_max_ns > 0 && v->pause_max_ns > 0 && h->pause_max_ns > 0);
    assert_true(v->has_pause_ring && h->has_pause_ring);
    /* The same GC history gives the same pauses in all three. */
    if (p->num_gc == v->num_gc) {
        assert_close(p->pause_total_ns, v->pause_total_ns, "PauseTotalNs (metrics, vars)");
        assert_close(p->pause_max_ns, v->pause_max_ns, "longest pause (metrics, vars)");
    }
    if (v->num_gc == h->num_gc) {
        assert_memory_equal(v->pause_ring, h->pause_ring, sizeof v->pause_ring);
        if (h->num_gc <= 256) assert_close(h->pause_total_ns, v->pause_total_ns, "PauseTotalNs (heap, vars)");
    }
    assert_true(p->goroutines >= 1 && p->threads >= 1 && p->open_fds >= 1 && p->max_fds >= p->open_fds);
    /* MaxRSS is the peak, read after the resident size. */
    assert_true(h->max_rss >= 0.5 * p->resident_bytes);
    live_expect(&l);
    collected_free(&l.prom);
    collected_free(&l.vars);
}

int main(void)
{
    const char *live_dir = getenv("REEF_METRICS_LIVE_DIR");
    if (live_dir && *live_dir) {
        snprintf(data_dir, sizeof data_dir, "%s", live_dir);
        const struct CMUnitTest live_tests[] = {cmocka_unit_test(test_live)};
        return cmocka_run_group_tests(live_tests, NULL, NULL);
    }
    find_data_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_metrics),
        cmocka_unit_test(test_capture_vars),
        cmocka_unit_test(test_capture_heap),
        cmocka_unit_test(test_prom_edge),
        cmocka_unit_test(test_prom_crlf_no_final_newline),
        cmocka_unit_test(test_prom_label_lookup),
        cmocka_unit_test(test_gostats_from_prom),
        cmocka_unit_test(test_prom_long_lines),
        cmocka_unit_test(test_prom_after_error),
        cmocka_unit_test(test_vars_edge),
        cmocka_unit_test(test_heap_many_gcs),
        cmocka_unit_test(test_heap_long_lines),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
