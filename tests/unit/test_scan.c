/* test_scan.c - the pieces of reef scan that need no live service: the
 * expectations parser, the growth test the rules share, the findings model
 * and its checklist statuses, and each rule on evidence built by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyze/scan.h"
#include "model/findings.h"
#include "parse/expect.h"
#include "parse/gdump.h"
#include "parse/pprof.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *text, expectations *x, char *err)
{
    return expect_parse(text, strlen(text), "exp", x, err, 256);
}

static void expect_good(void **state)
{
    (void)state;
    expectations x;
    char err[256];
    const char *text = "# comment\n\n"
                       "goroutine mycache.(*Cache).janitor\n"
                       "goroutine worker.loop >= 8 crit   # trailing comment\r\n"
                       "metric app_requests_total > 0\n"
                       "metric http_requests_total{code=\"5}0\",method=\"GET\"} < 100 warn\n"
                       "  metric q<=1e3";
    assert_int_equal(parse(text, &x, err), 0);
    assert_int_equal(x.n, 5);
    assert_int_equal(x.items[0].kind, EXPECT_GOROUTINE);
    assert_string_equal(x.items[0].subject, "mycache.(*Cache).janitor");
    assert_true(x.items[0].bound == 1);
    assert_int_equal(x.items[0].severity, SEV_WARN);
    assert_int_equal(x.items[0].line, 3);
    assert_true(x.items[1].bound == 8);
    assert_int_equal(x.items[1].severity, SEV_CRIT);
    assert_int_equal(x.items[2].kind, EXPECT_METRIC);
    assert_string_equal(x.items[2].op, ">");
    assert_string_equal(x.items[3].labels, "code=\"5}0\",method=\"GET\"");
    assert_string_equal(x.items[3].op, "<");
    assert_true(x.items[3].bound == 100);
    assert_string_equal(x.items[4].subject, "q");
    assert_string_equal(x.items[4].op, "<=");
    assert_true(x.items[4].bound == 1000);
    assert_int_equal(x.items[4].line, 7);
    expectations_free(&x);
}

static void expect_bad(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"goroutine\n", "exp:1: expected a function name"},
        {"\nmetric\n", "exp:2: expected a metric name"},
        {"metric x 5\n", "exp:1: expected <, <=, >, >=, == or !="},
        {"metric x > five\n", "exp:1: expected a number"},
        {"metric x{a=\"1\" > 5\n", "exp:1: labels not closed"},
        {"metric x > 5 loud\n", "exp:1: expected warn, crit"},
        {"metric x > 5 warn extra\n", "exp:1: unexpected text"},
        {"goroutine f >= -1\n", "exp:1: expected a count"},
        {"thread x\n", "exp:1: expected 'goroutine', 'metric' or 'source'"},
        {"goroutine a\0b\n", "exp:1: NUL byte"},
        {"metric x > nan\n", "exp:1: expected a number"},
        {"metric x > 5 from nats\n", "exp:1: unknown source 'nats': declare it above with 'source nats URL'"},
        {"metric x > 5 from\n", "exp:1: expected a source name after 'from'"},
        {"metric x > 5 from nats\nsource nats http://h:1/varz\n", "exp:1: unknown source 'nats'"},
        {"source\n", "exp:1: expected a source name"},
        {"source a/b http://h:1/\n", "exp:1: expected a source name"},
        {"source nats\n", "exp:1: expected an http:// or https:// URL"},
        {"source nats ftp://h/varz\n", "exp:1: expected an http:// or https:// URL"},
        {"source nats http:///varz\n", "exp:1: expected an http:// or https:// URL"},
        {"source nats http://h:1/varz extra\n", "exp:1: unexpected text after the URL"},
        {"source a http://h:1/\n\nsource a http://h:2/\n", "exp:3: source 'a' already declared on line 1"},
        {"goroutine f from a\n", "exp:1: expected warn, crit"},
        {"source a http://h/\nmetric x > 5 from a loud\n", "exp:2: expected warn, crit"},
        {"source a http://h/\nsource b http://h/\nsource c http://h/\nsource d http://h/\nsource e http://h/\n"
         "source f http://h/\nsource g http://h/\nsource h http://h/\nsource i http://h/\n",
         "exp:9: more than 8 sources"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        expectations x;
        char err[256] = "";
        size_t len = strlen(cases[i].text);
        if (i == 9) len = 14; /* the NUL case */
        assert_int_equal(expect_parse(cases[i].text, len, "exp", &x, err, sizeof err), 2);
        if (!strstr(err, cases[i].message)) fail_msg("case %zu: [%s] lacks [%s]", i, err, cases[i].message);
        assert_int_equal(x.n, 0);
    }
}

/* A second endpoint: declared once, named by the metric lines that read it. */
static void expect_sources(void **state)
{
    (void)state;
    expectations x;
    char err[256];
    const char *text = "source nats http://127.0.0.1:8222/varz   # the broker's monitoring port\n"
                       "source prom-2 https://[::1]:9090/metrics\n"
                       "metric connections <= 500 from nats crit\n"
                       "metric slow_consumers == 0 from nats\n"
                       "metric up{job=\"x\"} > 0 from prom-2\n"
                       "metric app_requests_total > 0 warn\n";
    assert_int_equal(parse(text, &x, err), 0);
    assert_int_equal(x.nsources, 2);
    assert_int_equal(x.n, 4);
    assert_string_equal(x.sources[0].name, "nats");
    assert_string_equal(x.sources[0].url, "http://127.0.0.1:8222/varz");
    assert_int_equal(x.sources[1].line, 2);
    assert_string_equal(x.sources[1].url, "https://[::1]:9090/metrics");
    assert_int_equal(x.items[0].source, 0);
    assert_int_equal(x.items[0].severity, SEV_CRIT);
    assert_int_equal(x.items[1].source, 0);
    assert_int_equal(x.items[1].severity, SEV_WARN);
    assert_int_equal(x.items[2].source, 1);
    assert_int_equal(x.items[3].source, -1);
    char bound[128];
    expect_bound_text(&x.items[0], bound, sizeof bound);
    assert_string_equal(bound, "connections <= 500");
    expect_bound_text(&x.items[2], bound, sizeof bound);
    assert_string_equal(bound, "up{job=\"x\"} > 0");
    expectations_free(&x);
}

static void labels_and_ops(void **state)
{
    (void)state;
    assert_true(expect_labels_match("code=\"500\",method=\"GET\"", "method=\"GET\""));
    assert_true(expect_labels_match("code=\"500\",method=\"GET\"", ""));
    assert_false(expect_labels_match("code=\"500\"", "code=\"50\""));
    assert_false(expect_labels_match("", "code=\"500\""));
    assert_true(expect_labels_match("a=\"x,y\",b=\"\\\"q\\\"\"", "b=\"\\\"q\\\"\""));
    assert_true(expect_compare("<", 1, 2));
    assert_false(expect_compare("<", 2, 2));
    assert_true(expect_compare("<=", 2, 2));
    assert_true(expect_compare(">=", 2, 2));
    assert_true(expect_compare("==", 2, 2));
    assert_true(expect_compare("!=", 1, 2));
    assert_false(expect_compare(">", NAN, 0));
}

static void growth(void **state)
{
    (void)state;
    double rising[] = {100, 150, 200};
    double sawtooth[] = {100, 300, 120, 310};
    double flat[] = {100, 101, 100};
    double small[] = {100, 110, 119};
    double gaps[] = {NAN, 10, NAN, 60};
    double one[] = {5};
    assert_true(scan_grows(rising, 3, 20, 0.05));
    assert_false(scan_grows(sawtooth, 4, 20, 0.05)); /* falls back between */
    assert_false(scan_grows(flat, 3, 20, 0.05));
    assert_false(scan_grows(small, 3, 20, 0.05));     /* rise of 19 < 20 */
    assert_true(scan_grows(small, 3, 10, 0.1));
    assert_false(scan_grows(small, 3, 10, 0.5));      /* 19% < 50% */
    assert_false(scan_grows(gaps, 4, 20, 0));         /* two values: one step */
    double gaps3[] = {NAN, 10, 35, NAN, 60};
    assert_true(scan_grows(gaps3, 5, 20, 0));
    assert_false(scan_grows(one, 1, 0, 0));
    /* Sustained, not one step: a pool that filled once (19 → 139 → 139)
     * is not growth; a leak that started late in the window is. */
    double step[] = {19, 139, 139};
    double step_late[] = {19, 19, 139};
    double late[] = {10, 10, 10, 50, 90};
    double early[] = {10, 50, 90, 90, 90};
    double two[] = {10, 90};
    assert_false(scan_grows(step, 3, 20, 0.05));
    assert_false(scan_grows(step_late, 3, 20, 0.05));
    assert_true(scan_grows(late, 5, 20, 0.05));
    assert_false(scan_grows(early, 5, 20, 0.05));     /* stopped by mid-window */
    assert_false(scan_grows(two, 2, 20, 0.05));
    char b[32];
    assert_string_equal(scan_fmt_bytes(b, sizeof b, 512), "512 B");
    assert_string_equal(scan_fmt_bytes(b, sizeof b, 1536), "1.5 KiB");
    assert_string_equal(scan_fmt_bytes(b, sizeof b, 256.0 * 1024 * 1024), "256 MiB");
    char s[256];
    assert_string_equal(scan_fmt_series(s, sizeof s, rising, 3, NULL), "100 → 150 → 200");
}

static void checklist(void **state)
{
    (void)state;
    report r;
    report_init(&r);
    report_check(&r, "a", "rule a");
    report_check(&r, "b", "rule b");
    report_check(&r, "c", "rule c");
    report_finding(&r, "a", SEV_INFO, "only info");
    assert_int_equal(report_find_check(&r, "a")->status, CHECK_INFO);
    finding *f = report_finding(&r, "b", SEV_WARN, "warn %d", 1);
    finding_evidence(f, "e%d", 1);
    double v[] = {1, 2};
    finding_value_add(f, "series", v, 2);
    report_finding(&r, "b", SEV_CRIT, "crit");
    report_finding(&r, "b", SEV_WARN, "warn 2");
    assert_int_equal(report_find_check(&r, "b")->status, CHECK_CRIT); /* never lowered */
    report_skip(&r, "b", "a finding outranks a skip");
    assert_int_equal(report_find_check(&r, "b")->status, CHECK_CRIT);
    report_skip(&r, "c", "no %s", "pid");
    assert_int_equal(report_find_check(&r, "c")->status, CHECK_SKIP);
    assert_string_equal(report_find_check(&r, "c")->note, "no pid");
    assert_int_equal(report_max_severity(&r), SEV_CRIT);
    report_sort(&r);
    assert_string_equal(r.findings[0].title, "crit");
    assert_string_equal(r.findings[1].title, "warn 1"); /* same severity: creation order */
    assert_string_equal(r.findings[2].title, "warn 2");
    assert_string_equal(r.findings[3].title, "only info");
    assert_int_equal(severity_parse("warn"), SEV_WARN);
    assert_int_equal(severity_parse("never"), SEV_CRIT + 1);
    assert_int_equal(severity_parse("loud"), -1);
    report_free(&r);
}

/* Rules on hand-made evidence: what a pid-only scan of a process near its
 * descriptor limit, in a throttled cgroup, reports. */
static void rules_on_evidence(void **state)
{
    (void)state;
    scan_evidence e;
    evidence_init(&e);
    e.pid = 77;
    e.nsamples = 3;
    for (size_t i = 0; i < 3; i++) {
        scan_sample *s = &e.samples[i];
        s->t = 5.0 * (double)i;
        s->has_proc = true;
        s->proc.open_fds = 900 + 40 * (int64_t)i;
        s->proc.nofile_soft = 1024;
        s->proc.threads = 12;
        s->proc.mapped_so = 3;
        s->proc.ncpus_allowed = 16;
        s->has_cgroup = true;
        s->cgroup.version = 2;
        s->cgroup.cpu_limit = s->cgroup.cpu_limit_leaf = 2;
        s->cgroup.cpu_quota_us = 200000;
        s->cgroup.cpu_period_us = 100000;
        s->cgroup.memory_limit = -1;
        s->cgroup.oom_kills = 0;
        s->cgroup.nr_periods = 1000 + 100 * (int64_t)i;
        s->cgroup.nr_throttled = 10 + 60 * (int64_t)i;
    }
    e.window = 10;
    e.go_version = strdup("go1.24.2");
    scan_config cfg = {.now = 1795000000}; /* 2026-11-19: Go 1.27 is the newest */
    report r;
    report_init(&r);
    scan_analyze(&e, &cfg, &r);
    assert_int_equal(report_find_check(&r, "fd-leak")->status, CHECK_CRIT);       /* 980/1024 > 95% */
    assert_int_equal(report_find_check(&r, "cpu-throttling")->status, CHECK_CRIT); /* 120 of 200 periods */
    assert_int_equal(report_find_check(&r, "gomaxprocs-quota")->status, CHECK_WARN); /* Go 1.24: 16 CPUs */
    assert_int_equal(report_find_check(&r, "build-risk")->status, CHECK_WARN);     /* 1.24 < 1.26 */
    assert_int_equal(report_find_check(&r, "thread-leak")->status, CHECK_PASS);
    assert_int_equal(report_find_check(&r, "so-growth")->status, CHECK_PASS);
    assert_int_equal(report_find_check(&r, "goroutine-leak")->status, CHECK_SKIP);
    assert_int_equal(report_find_check(&r, "memory-limit")->status, CHECK_PASS);
    bool named = false;
    for (size_t i = 0; i < r.nfindings; i++)
        named |= strstr(r.findings[i].title, "GOMAXPROCS 16 is above the CPU quota of 2.00") != NULL;
    assert_true(named);
    report_free(&r);
    /* Go 1.25+ follows the quota itself: no finding. */
    free(e.go_version);
    e.go_version = strdup("go1.26.8");
    report_init(&r);
    scan_analyze(&e, &cfg, &r);
    assert_int_equal(report_find_check(&r, "gomaxprocs-quota")->status, CHECK_PASS);
    assert_int_equal(report_find_check(&r, "build-risk")->status, CHECK_PASS);
    report_free(&r);
    evidence_free(&e);
}

/* Memory and GC rules on hand-made runtime figures (a URL-only scan). */
static void memory_rules(void **state)
{
    (void)state;
    scan_evidence e;
    evidence_init(&e);
    e.url = strdup("http://127.0.0.1:1");
    e.has_pprof = true;
    e.nsamples = 3;
    const double MiB = 1024.0 * 1024.0;
    for (size_t i = 0; i < 3; i++) {
        scan_sample *s = &e.samples[i];
        s->has_stats = true;
        gostats_init(&s->stats);
        s->stats.heap_alloc = 40 * MiB;               /* flat live heap */
        s->stats.heap_inuse = 48 * MiB;
        s->stats.heap_sys = (200 + 100 * (double)i) * MiB; /* held from the OS: +100 MiB a sample */
        s->stats.heap_released = 20 * MiB;
        s->stats.next_gc = 80 * MiB;
        s->stats.num_gc = 10 + 5 * (double)i;
        s->stats.gc_cpu_fraction = 0.02;
    }
    /* GCs 11..20 ran in the window; GC 17 paused 150 ms, an older one 1 s. */
    gostats *last = &e.samples[2].stats;
    last->has_pause_ring = true;
    for (int n = 1; n <= 20; n++) last->pause_ring[(n + 255) % 256] = 200e3;
    last->pause_ring[(17 + 255) % 256] = 150e6;
    last->pause_ring[(3 + 255) % 256] = 1e9;
    e.window = 10;
    scan_config cfg = {0};
    report r;
    report_init(&r);
    scan_analyze(&e, &cfg, &r);
    assert_int_equal(report_find_check(&r, "heap-fragmentation")->status, CHECK_WARN);
    assert_int_equal(report_find_check(&r, "heap-growth")->status, CHECK_PASS);
    assert_int_equal(report_find_check(&r, "gc-pause")->status, CHECK_CRIT);
    assert_int_equal(report_find_check(&r, "gc-cpu")->status, CHECK_PASS);
    assert_int_equal(report_find_check(&r, "rss-gap")->status, CHECK_SKIP); /* no pid */
    bool pause150 = false, held = false;
    for (size_t i = 0; i < r.nfindings; i++) {
        pause150 |= strstr(r.findings[i].title, "150.0 ms during the scan") != NULL; /* not the older 1 s */
        held |= strstr(r.findings[i].title, "held from the OS grew") != NULL;
    }
    assert_true(pause150);
    assert_true(held);
    report_free(&r);
    evidence_free(&e);
}

/* A debug=2 dump of a proxy whose upstream hangs, as Go prints it once a GC
 * has stamped the waits: n requests in persistConn.roundTrip for `minutes`,
 * each with its outbound connection's read loop. */
static gmodel *hung_proxy_dump(unsigned n, unsigned minutes)
{
    buf b = {0};
    for (unsigned i = 0; i < n; i++) {
        buf_printf(&b,
                   "goroutine %u [select, %u minutes]:\n"
                   "net/http.(*persistConn).roundTrip(0xc000%04x, 0xc0001)\n"
                   "\t/go/src/net/http/transport.go:2745 +0x9a5\n"
                   "net/http.(*Transport).roundTrip(0xc0002, 0xc0003)\n"
                   "\t/go/src/net/http/transport.go:703 +0x7f1\n"
                   "net/http/httputil.(*ReverseProxy).ServeHTTP(0xc0004, {0x1, 0xc0005}, 0xc0006)\n"
                   "\t/go/src/net/http/httputil/reverseproxy.go:564 +0x1365\n"
                   "net/http.(*conn).serve(0xc0007, {0x2, 0xc0008})\n"
                   "\t/go/src/net/http/server.go:2102 +0x625\n"
                   "created by net/http.(*Server).Serve in goroutine 1\n"
                   "\t/go/src/net/http/server.go:3454 +0x485\n\n"
                   "goroutine %u [IO wait, %u minutes]:\n"
                   "internal/poll.runtime_pollWait(0x7f, 0x72)\n"
                   "\t/go/src/runtime/netpoll.go:351 +0x85\n"
                   "net.(*conn).Read(0xc0009, {0xc000a, 0x1000, 0x1000})\n"
                   "\t/go/src/net/net.go:196 +0x45\n"
                   "net/http.(*persistConn).readLoop(0xc000b)\n"
                   "\t/go/src/net/http/transport.go:2205 +0x185\n"
                   "created by net/http.(*Transport).dialConn in goroutine %u\n"
                   "\t/go/src/net/http/transport.go:1874 +0x154f\n\n",
                   100 + 2 * i, minutes, i, 101 + 2 * i, minutes, 100 + 2 * i);
    }
    gmodel *m = calloc(1, sizeof *m);
    gmodel_init(m);
    gparse_options o = {.input_name = "hung-proxy"};
    gparser *p = gparser_new(m, &o);
    assert_int_equal(gparser_feed(p, b.data, b.len), 0);
    assert_int_equal(gparser_finish(p), 0);
    gparser_free(p);
    buf_free(&b);
    return m;
}

static const finding *find_finding(const report *r, const char *rule)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0) return &r->findings[i];
    return NULL;
}

/* The same 30 hung requests are named as requests waiting on an upstream
 * whatever the samples show: once Go prints their wait minutes (flat count,
 * debug=2 with 3 minutes), and without any dump of wait times (debug=2
 * without minutes, count rising). */
static void upstream_after_minutes(void **state)
{
    (void)state;
    for (int c = 0; c < 2; c++) {
        scan_evidence e;
        evidence_init(&e);
        e.url = strdup("http://127.0.0.1:1");
        e.has_pprof = true;
        e.nsamples = 3;
        for (size_t i = 0; i < 3; i++) {
            e.samples[i].t = 5.0 * (double)i;
            e.samples[i].goroutines = hung_proxy_dump(c == 0 ? 30 : 10 + 10 * (unsigned)i, c == 0 ? 3 : 0);
        }
        e.full = hung_proxy_dump(30, c == 0 ? 3 : 0);
        e.window = 10;
        scan_config cfg = {.now = 1795000000};
        report r;
        report_init(&r);
        scan_analyze(&e, &cfg, &r);
        const finding *f = find_finding(&r, "upstream-wait");
        assert_non_null(f);
        assert_int_equal(f->sev, SEV_WARN);
        assert_non_null(strstr(f->title, "30 requests waiting on an upstream for a response"));
        assert_non_null(strstr(f->title, "httputil.(*ReverseProxy).ServeHTTP"));
        bool minutes = false;
        for (size_t k = 0; k < f->nevidence; k++) minutes |= strstr(f->evidence[k], "waited 3 min") != NULL;
        assert_true(minutes == (c == 0));
        /* Never a leak, never a pool, whatever the wait times say. */
        assert_null(find_finding(&r, "goroutine-leak"));
        assert_null(find_finding(&r, "http-pool-exhaustion"));
        report_free(&r);
        evidence_free(&e);
    }
}

/* ---- how a site waits, and the leak verdicts by site -------------------- */

static gmodel *dump_of(const char *text)
{
    gmodel *m = calloc(1, sizeof *m);
    gmodel_init(m);
    gparse_options o = {.input_name = "hand-made"};
    gparser *p = gparser_new(m, &o);
    assert_int_equal(gparser_feed(p, text, strlen(text)), 0);
    assert_int_equal(gparser_finish(p), 0);
    gparser_free(p);
    return m;
}

/* The shared corpus, beside the clone (tests read it, never copy it). */
static const char *corpus_path(const char *rel)
{
    static char out[8192];
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    for (int up = 0; up < 3; up++) *strrchr(dir, '/') = '\0'; /* the clone */
    snprintf(out, sizeof out, "%s/../shared/corpus/%s", dir, rel);
    return out;
}

/* The waits of a real protobuf goroutine profile (felixge/go-profiler-
 * notes, from the corpus), as `go tool pprof -traces` shows its stacks:
 * main.chanReceiveForever parks in runtime.chanrecv, main.shortSleepLoop
 * in time.Sleep, main.main.func1 (ListenAndServe) in runtime_pollWait,
 * main.writeHttpProfile (http.Get) in runtime.selectgo.  And a debug=2
 * state, which wins, in the same words. */
static void site_waits(void **state)
{
    (void)state;
    profile *p = calloc(1, sizeof *p);
    profile_init(p);
    pparse_options po = {.input_name = "corpus", .max_size = PPARSE_DEFAULT_MAX_SIZE};
    char *msg = NULL;
    const char *path = corpus_path("profiles/misc/gpn_examples_goroutine_2.net.http.pprof.goroutine.debug0.pb.gz");
    if (pprof_read(path, &po, NULL, p, &msg)) fail_msg("%s: %s", path, msg);
    free(msg);
    scan_evidence e;
    evidence_init(&e);
    e.waits = p;
    static const struct {
        const char *func, *wait;
    } want[] = {
        {"main.chanReceiveForever", "chan receive"},
        {"main.shortSleepLoop", "sleep"},
        {"main.main.func1", "IO wait"},
        {"main.writeHttpProfile", "select"},
    };
    char w[48];
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        if (!scan_site_wait(&e, want[i].func, w, sizeof w)) fail_msg("no wait for %s", want[i].func);
        assert_string_equal(w, want[i].wait);
    }
    assert_false(scan_site_wait(&e, "main.notThere", w, sizeof w));
    e.full = dump_of("goroutine 7 [chan send (nil chan), 3 minutes]:\n"
                     "main.chanReceiveForever()\n\t/x/main.go:30 +0x1d\n"
                     "created by main.main in goroutine 1\n\t/x/main.go:12 +0x25\n\n");
    assert_true(scan_site_wait(&e, "main.chanReceiveForever", w, sizeof w));
    assert_string_equal(w, "chan send");
    evidence_free(&e);
}

/* debug=1 samples: n1 goroutines parked at main.sender, n2 at main.worker. */
static gmodel *two_sites(unsigned n1, unsigned n2)
{
    char text[512];
    snprintf(text, sizeof text,
             "goroutine profile: total %u\n"
             "%u @ 0x43e1ae 0x40826d 0x407e58 0x4a1b65 0x46fc21\n"
             "#\t0x4a1b64\tmain.sender+0x24\t/x/main.go:10\n\n"
             "%u @ 0x43e1ae 0x4085bd 0x4a1c05 0x46fc21\n"
             "#\t0x4a1c04\tmain.worker+0x24\t/x/main.go:20\n\n",
             n1 + n2, n1, n2);
    return dump_of(text);
}

/* Held still, 50 senders whose receiver left are a leak (abandoned-send);
 * 50 workers waiting to receive are the pool look-alike and are not.
 * Growing, the workers' site is a leak whatever it waits on; 1200 of them
 * held still are said (info), as a pool that large or a leak that stopped. */
static void site_verdicts(void **state)
{
    (void)state;
    static const struct {
        unsigned workers[3];
        int sev;              /* of the workers' finding, -1 for none */
        const char *title;
    } cases[] = {
        {{50, 50, 50}, -1, NULL},
        {{50, 90, 130}, SEV_CRIT, "130 goroutines blocked in chan receive at main.worker"},
        {{1200, 1200, 1200}, SEV_INFO, "1200 goroutines blocked in chan receive at main.worker"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        scan_evidence e;
        evidence_init(&e);
        e.url = strdup("http://127.0.0.1:1");
        e.has_pprof = true;
        e.nsamples = 3;
        for (unsigned i = 0; i < 3; i++) {
            e.samples[i].t = 5.0 * i;
            e.samples[i].goroutines = two_sites(50, cases[c].workers[i]);
        }
        e.window = 10;
        buf b = {0};
        for (unsigned i = 0; i < cases[c].workers[2]; i++)
            buf_printf(&b, "goroutine %u [chan receive]:\nmain.worker()\n\t/x/main.go:20 +0x24\n"
                           "created by main.main in goroutine 1\n\t/x/main.go:15 +0x1\n\n", 10000 + i);
        for (unsigned i = 0; i < 50; i++)
            buf_printf(&b, "goroutine %u [chan send]:\nmain.sender()\n\t/x/main.go:10 +0x24\n"
                           "created by main.serve in goroutine 1\n\t/x/main.go:5 +0x1\n\n", 100 + i);
        e.full = dump_of(buf_cstr(&b));
        buf_free(&b);
        scan_config cfg = {.now = 1795000000};
        report r;
        report_init(&r);
        scan_analyze(&e, &cfg, &r);
        unsigned sender = 0, worker = 0;
        for (size_t k = 0; k < r.nfindings; k++) {
            const finding *f = &r.findings[k];
            if (strcmp(f->rule, "goroutine-leak") != 0 || !strstr(f->title, " blocked in ")) continue;
            if (strstr(f->title, "main.sender")) {
                sender++;
                assert_int_equal(f->sev, SEV_WARN);
                assert_non_null(strstr(f->title, "50 goroutines blocked in chan send at main.sender"));
            }
            if (strstr(f->title, "main.worker")) {
                worker++;
                assert_int_equal(f->sev, cases[c].sev);
                if (!strstr(f->title, cases[c].title)) fail_msg("case %zu: [%s] lacks [%s]", c, f->title, cases[c].title);
            }
        }
        assert_int_equal(sender, 1);
        assert_int_equal(worker, cases[c].sev < 0 ? 0 : 1);
        report_free(&r);
        evidence_free(&e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expect_good),  cmocka_unit_test(expect_bad), cmocka_unit_test(expect_sources),
        cmocka_unit_test(labels_and_ops),
        cmocka_unit_test(growth),       cmocka_unit_test(checklist),  cmocka_unit_test(rules_on_evidence),
        cmocka_unit_test(memory_rules), cmocka_unit_test(upstream_after_minutes),
        cmocka_unit_test(site_waits), cmocka_unit_test(site_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
