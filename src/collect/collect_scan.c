/* collect_scan.c - the evidence of a scan; see collect_scan.h. */
#include "collect_scan.h"
#include "../parse/gdump.h"
#include "../parse/pprof.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Caps on what the small endpoints may send. */
#define INDEX_MAX_BYTES ((size_t)1 << 20)
#define METRICS_MAX_BYTES ((size_t)16 << 20)
#define DISCOVER_MAX_PORTS 16

struct scan_collector {
    scan_options opts;        /* a copy; the strings stay the caller's */
    const scan_options *o;    /* &opts */
    scan_evidence *e;
    double t0;                /* monotonic seconds at the start */
    double deadline;          /* monotonic seconds when the budget is spent */
    http_options http;        /* o->http with the timeout clipped to the budget */
    /* endpoints given up on: each is asked again only while it answers */
    bool metrics_down, vars_down, goroutine_down, heap_down;
    scan_health health;       /* since the last scan_collector_health() */
};
typedef struct scan_collector collector;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double remaining(const collector *c) { return c->deadline - now_seconds(); }

static void progress(const collector *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const collector *c, const char *fmt, ...)
{
    if (!c->o->progress) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->o->progress, "reef: [%5.1fs] ", now_seconds() - c->t0);
    vfprintf(c->o->progress, fmt, ap);
    fputc('\n', c->o->progress);
    va_end(ap);
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return xstrdup(tmp);
}

/* Every request's total timeout is clipped to what is left of the budget,
 * so that a service answering slowly cannot hold the scan past it. */
static const http_options *request_options(collector *c)
{
    c->http = c->o->http ? *c->o->http : (http_options){0};
    long left = (long)(remaining(c) * 1000);
    if (left < 500) left = 500;
    long t = c->http.timeout_ms ? c->http.timeout_ms : 30000;
    c->http.timeout_ms = t < left ? t : left;
    if (!c->http.connect_timeout_ms) c->http.connect_timeout_ms = 3000;
    if (c->http.connect_timeout_ms > c->http.timeout_ms) c->http.connect_timeout_ms = c->http.timeout_ms;
    return &c->http;
}

/* ---- small bodies into memory ----------------------------------------- */

typedef struct body {
    buf b;
    size_t cap;
} body;

static int append_body(void *ctx, const char *data, size_t len)
{
    body *bd = ctx;
    if (bd->b.len + len > bd->cap) return 1;
    buf_append(&bd->b, data, len);
    return 0;
}

/* What the service's answers say about its load, for a caller that backs
 * off (reef watch). */
static void note_health(collector *c, int rc, const collect_error *err)
{
    c->health.requests++;
    if (rc == COLLECT_OK) return;
    c->health.failed++;
    if (err->timed_out || err->http_status == 429 || err->http_status >= 500) c->health.busy++;
    snprintf(c->health.last_error, sizeof c->health.last_error, "%s", err->msg);
}

/* GETs base+path into out (at most cap bytes).  Returns a COLLECT_ code;
 * err says what went wrong. */
static int fetch(collector *c, const char *url, size_t cap, buf *out, collect_error *err)
{
    body bd = {.cap = cap};
    c->e->requests++;
    memset(err, 0, sizeof *err);
    int rc = collect_http(url, request_options(c), append_body, &bd, err);
    note_health(c, rc, err);
    if (rc == COLLECT_SINK_STOPPED) {
        snprintf(err->msg, sizeof err->msg, "%s: response larger than %zu bytes", url, cap);
        rc = COLLECT_BAD_INPUT;
    }
    if (rc == COLLECT_OK) *out = bd.b;
    else buf_free(&bd.b);
    return rc;
}

/* ---- discovery: the pprof endpoint among the pid's listening sockets --- */

static bool looks_like_pprof_index(const buf *b)
{
    return b->len && (memmem(b->data, b->len, "Types of profiles available", 27) ||
                      memmem(b->data, b->len, "goroutine?debug=1", 17));
}

static char *listen_url(const proc_listen *l)
{
    bool v6 = strchr(l->addr, ':') != NULL;
    const char *host = l->addr;
    /* A wildcard address is reached through the loopback of its family. */
    if (strcmp(host, "0.0.0.0") == 0) host = "127.0.0.1";
    else if (strcmp(host, "::") == 0) host = "::1";
    return format(v6 && strcmp(host, "127.0.0.1") != 0 ? "http://[%s]:%u" : "http://%s:%u", host, l->port);
}

static bool probe_pprof(collector *c, const char *base)
{
    char *url = collect_endpoint(base, "");
    buf b = {0};
    collect_error err;
    int rc = fetch(c, url, INDEX_MAX_BYTES, &b, &err);
    bool ok = rc == COLLECT_OK && looks_like_pprof_index(&b);
    buf_free(&b);
    free(url);
    return ok;
}

static void discover(collector *c, const proc_snapshot *ps)
{
    /* Loopback listeners first: that is where a debug endpoint belongs. */
    for (int pass = 0; pass < 2 && !c->e->url; pass++) {
        int tried = 0;
        for (int i = 0; i < ps->nlisten && tried < DISCOVER_MAX_PORTS; i++) {
            if (ps->listen[i].loopback != (pass == 0)) continue;
            char *base = listen_url(&ps->listen[i]);
            tried++;
            progress(c, "probing %s/debug/pprof/", base);
            if (probe_pprof(c, base)) {
                c->e->url = base;
                c->e->url_discovered = true;
                return;
            }
            free(base);
        }
    }
}

/* ---- endpoints ---------------------------------------------------------- */

static void keep_metric(void *ctx, const char *name, size_t name_len, const char *labels, size_t labels_len,
                        double value)
{
    scan_evidence *e = ((void **)ctx)[0];
    gostats *s = ((void **)ctx)[1];
    gostats_from_prom(s, name, name_len, labels, labels_len, value);
    e->metrics = xrealloc(e->metrics, (e->nmetrics + 1) * sizeof *e->metrics);
    metric_sample *m = &e->metrics[e->nmetrics++];
    m->name = xstrndup(name, name_len);
    m->labels = xstrndup(labels, labels_len);
    m->value = value;
    m->sample = (unsigned)e->nsamples + 1;
}

static void clear_metrics(scan_evidence *e)
{
    for (size_t i = 0; i < e->nmetrics; i++) {
        free(e->metrics[i].name);
        free(e->metrics[i].labels);
    }
    free(e->metrics);
    e->metrics = NULL;
    e->nmetrics = 0;
}

/* Reads /metrics into s and e->metrics.  Returns a COLLECT_ code; 404 is
 * reported as COLLECT_BAD_INPUT with http_status 404. */
static int read_metrics(collector *c, gostats *s, collect_error *err)
{
    char *url = collect_service_url(c->e->url, "/metrics");
    buf b = {0};
    int rc = fetch(c, url, METRICS_MAX_BYTES, &b, err);
    if (rc == COLLECT_OK) {
        clear_metrics(c->e);
        void *ctx[2] = {c->e, s};
        promparser *p = promparser_new(url, keep_metric, ctx);
        if (promparser_feed(p, b.data ? b.data : "", b.len) || promparser_finish(p)) {
            snprintf(err->msg, sizeof err->msg, "%s", promparser_error(p));
            rc = COLLECT_BAD_INPUT;
        }
        promparser_free(p);
    }
    buf_free(&b);
    free(url);
    return rc;
}

static int read_vars(collector *c, gostats *s, collect_error *err)
{
    char *url = collect_service_url(c->e->url, "/debug/vars");
    buf b = {0};
    int rc = fetch(c, url, METRICS_MAX_BYTES, &b, err);
    if (rc == COLLECT_OK) {
        if (!c->e->has_metrics) clear_metrics(c->e);
        void *ctx[2] = {c->e, s};
        if (expvar_parse(b.data ? b.data : "", b.len, url, s, c->e->has_metrics ? NULL : keep_metric, ctx,
                         err->msg, sizeof err->msg))
            rc = COLLECT_BAD_INPUT;
    }
    buf_free(&b);
    free(url);
    return rc;
}

typedef struct memstats_sink {
    memstats_parser *p;
} memstats_sink;

static int feed_memstats(void *ctx, const char *data, size_t len)
{
    return memstats_parser_feed(((memstats_sink *)ctx)->p, data, len) ? 1 : 0;
}

/* The MemStats trailer of heap?debug=1: every service with net/http/pprof
 * has it, so it is the fallback when there is no /metrics or expvar. */
static int read_heap_memstats(collector *c, gostats *s, collect_error *err)
{
    char *url = collect_endpoint(c->e->url, "heap?debug=1");
    memstats_sink ms = {memstats_parser_new(url, s)};
    c->e->requests++;
    memset(err, 0, sizeof *err);
    int rc = collect_http(url, request_options(c), feed_memstats, &ms, err);
    note_health(c, rc, err);
    if (rc == COLLECT_SINK_STOPPED || (rc == COLLECT_OK && memstats_parser_finish(ms.p))) {
        snprintf(err->msg, sizeof err->msg, "%s", memstats_parser_error(ms.p));
        rc = COLLECT_BAD_INPUT;
    }
    memstats_parser_free(ms.p);
    free(url);
    return rc;
}

/* A failure that means "not there" rather than "busy or broken". */
static bool is_missing(int rc, const collect_error *err)
{
    return rc != COLLECT_OK && (err->http_status == 404 || err->http_status == 405);
}

static void probe_endpoints(collector *c)
{
    scan_evidence *e = c->e;
    char *url = collect_endpoint(e->url, "");
    buf b = {0};
    collect_error err;
    int rc = fetch(c, url, INDEX_MAX_BYTES, &b, &err);
    if (rc == COLLECT_OK && looks_like_pprof_index(&b)) {
        e->has_pprof = true;
        e->has_leak_profile = memmem(b.data, b.len, "goroutineleak", 13) != NULL;
    } else {
        e->pprof_missing = xstrdup(rc == COLLECT_OK ? "the pprof index does not look like net/http/pprof's"
                                                      : err.msg);
    }
    buf_free(&b);
    free(url);
    progress(c, "pprof: %s", e->has_pprof ? "yes" : e->pprof_missing);
}

/* ---- second endpoints ("source NAME URL" of the expectations) ----------- */

typedef struct source_ctx {
    scan_source *src;
    const scan_source_spec *spec;
    unsigned sample;
} source_ctx;

static void keep_source_metric(void *ctx, const char *name, size_t name_len, const char *labels, size_t labels_len,
                               double value)
{
    source_ctx *x = ctx;
    x->src->read++;
    bool wanted = false;
    for (size_t i = 0; !wanted && i < x->spec->nnames; i++)
        wanted = strlen(x->spec->names[i]) == name_len && memcmp(x->spec->names[i], name, name_len) == 0;
    if (!wanted) return;
    scan_source *s = x->src;
    s->metrics = xrealloc(s->metrics, (s->nmetrics + 1) * sizeof *s->metrics);
    metric_sample *m = &s->metrics[s->nmetrics++];
    m->name = xstrndup(name, name_len);
    m->labels = xstrndup(labels, labels_len);
    m->value = value;
    m->sample = x->sample;
}

/* A body is JSON (nats-server's /varz, expvar) when it starts with '{',
 * else Prometheus text.  Returns 0, or -1 with err->msg set. */
static int parse_source(const buf *b, const char *url, source_ctx *x, collect_error *err)
{
    const char *d = b->data ? b->data : "";
    size_t i = 0;
    while (i < b->len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n')) i++;
    if (i < b->len && d[i] == '{') {
        gostats scratch;
        gostats_init(&scratch);
        return expvar_parse(d, b->len, url, &scratch, keep_source_metric, x, err->msg, sizeof err->msg) ? -1 : 0;
    }
    promparser *p = promparser_new(url, keep_source_metric, x);
    int rc = promparser_feed(p, d, b->len) || promparser_finish(p) ? -1 : 0;
    if (rc) snprintf(err->msg, sizeof err->msg, "%s", promparser_error(p));
    promparser_free(p);
    return rc;
}

/* Reads every source not given up on, for sample number `sample`.  A
 * source that fails once (down, slow, 429/5xx, too large, unreadable) is
 * not asked again: what it gave so far stays. */
static void read_sources(collector *c, unsigned sample)
{
    for (size_t i = 0; i < c->e->nsources; i++) {
        scan_source *src = &c->e->sources[i];
        if (src->missing) continue;
        buf b = {0};
        collect_error err;
        source_ctx x = {src, &c->o->sources[i], sample};
        size_t kept = src->nmetrics;
        src->read = 0;
        int rc = fetch(c, src->url, METRICS_MAX_BYTES, &b, &err);
        if (rc == COLLECT_OK && parse_source(&b, src->url, &x, &err) == 0) {
            src->scraped++;
        } else {
            /* A body that failed half-way must not count as a sample. */
            for (size_t k = kept; k < src->nmetrics; k++) {
                free(src->metrics[k].name);
                free(src->metrics[k].labels);
            }
            src->nmetrics = kept;
            src->missing = xstrdup(err.msg[0] ? err.msg : "unreadable");
            src->missing_at = sample;
            progress(c, "giving up on %s: %s", src->url, src->missing);
        }
        buf_free(&b);
    }
}

/* ---- one sample --------------------------------------------------------- */

/* The readers of dumps and profiles give back a message, not the
 * collect_error: a busy answer is told by its words. */
static void note_reader_health(collector *c, int rc, const char *message)
{
    collect_error err = {.http_status = 0};
    if (rc && message) {
        snprintf(err.msg, sizeof err.msg, "%s", message);
        const char *h = strstr(message, ": HTTP ");
        if (h) err.http_status = strtol(h + 7, NULL, 10);
        err.timed_out = strstr(message, "imeout") || strstr(message, "timed out");
    }
    note_health(c, rc ? COLLECT_UNREACHABLE : COLLECT_OK, &err);
}

static gmodel *read_goroutines(collector *c, int debug, bool leak, char **why)
{
    char path[48];
    snprintf(path, sizeof path, "%s?debug=%d", leak ? "goroutineleak" : "goroutine", debug);
    char *url = collect_endpoint(c->e->url, path);
    gmodel *m = xmalloc(sizeof *m);
    gmodel_init(m);
    /* Go's debug=2 handler stops at 64 MiB, inside a goroutine. */
    gparse_options popt = {.input_name = url, .partial = true};
    char *message = NULL;
    c->e->requests++;
    int rc = gdump_read(url, &popt, request_options(c), m, &message);
    free(url);
    note_reader_health(c, rc, message);
    if (rc) {
        gmodel_free(m);
        free(m);
        if (why) *why = message;
        else free(message);
        return NULL;
    }
    free(message);
    return m;
}

static profile *read_profile(collector *c, const char *name, char **why)
{
    char *url = collect_endpoint(c->e->url, name);
    profile *p = xmalloc(sizeof *p);
    profile_init(p);
    pparse_options po = {.input_name = url, .max_size = (size_t)256 << 20};
    char *message = NULL;
    c->e->requests++;
    int rc = pprof_read(url, &po, request_options(c), p, &message);
    free(url);
    note_reader_health(c, rc, message);
    if (rc) {
        profile_free(p);
        free(p);
        free(*why);
        *why = message;
        return NULL;
    }
    free(message);
    return p;
}

/* Fills the figures dst lacks from src. */
static void stats_fill_missing(gostats *dst, const gostats *src)
{
    double *d = &dst->goroutines;
    const double *s = &src->goroutines;
    for (size_t i = 0; &d[i] <= &dst->resident_bytes; i++)
        if (isnan(d[i])) d[i] = s[i];
    if (!dst->has_pause_ring && src->has_pause_ring) {
        dst->has_pause_ring = true;
        memcpy(dst->pause_ring, src->pause_ring, sizeof dst->pause_ring);
    }
}

static void sample_stats(collector *c, scan_sample *s, bool last)
{
    scan_evidence *e = c->e;
    collect_error err;
    gostats_init(&s->stats);
    if (e->has_metrics && !c->metrics_down) {
        if (read_metrics(c, &s->stats, &err) == COLLECT_OK) {
            s->has_stats = true;
            e->stats_source = "metrics";
        } else {
            c->metrics_down = true;
            progress(c, "giving up on /metrics: %s", err.msg);
        }
    } else if (e->has_vars && !c->vars_down) {
        if (read_vars(c, &s->stats, &err) == COLLECT_OK) {
            s->has_stats = true;
            e->stats_source = "expvar";
        } else {
            c->vars_down = true;
            progress(c, "giving up on /debug/vars: %s", err.msg);
        }
    }
    /* /metrics lacks GCCPUFraction and the pause ring: the last sample also
     * reads the heap profile's MemStats trailer, once. */
    bool want_trailer = !s->has_stats || (last && !s->stats.has_pause_ring);
    if (want_trailer && e->has_pprof && !c->heap_down) {
        gostats t;
        gostats_init(&t);
        if (read_heap_memstats(c, &t, &err) == COLLECT_OK) {
            if (!s->has_stats) {
                s->stats = t;
                e->stats_source = "heap?debug=1";
            } else {
                stats_fill_missing(&s->stats, &t);
            }
            s->has_stats = true;
        } else {
            c->heap_down = true;
            progress(c, "giving up on heap?debug=1: %s", err.msg);
        }
    }
}

static void take_sample(collector *c, size_t i, unsigned flags)
{
    scan_evidence *e = c->e;
    scan_sample *s = &e->samples[i];
    bool last = flags & SCAN_SAMPLE_LAST;
    s->t = now_seconds() - c->t0;
    if (e->url && e->has_pprof && !c->goroutine_down) {
        char *why = NULL;
        s->goroutines = read_goroutines(c, 1, false, &why);
        if (!s->goroutines) {
            c->goroutine_down = true;
            progress(c, "giving up on goroutine profiles: %s", why);
            if (!e->full_missing) e->full_missing = why;
            else free(why);
        }
    }
    if (e->url) sample_stats(c, s, last);
    read_sources(c, (unsigned)i + 1);
    if ((flags & SCAN_SAMPLE_HEAP) && e->url && e->has_pprof && (i == 0 || last) && !c->heap_down) {
        profile **slot = i == 0 ? &e->heap_first : &e->heap_last;
        *slot = read_profile(c, "heap", &e->heap_missing);
        if (!*slot) c->heap_down = true;
    }
    if (e->pid) {
        char err[512];
        s->has_proc = proc_read(c->o->proc_root ? c->o->proc_root : "/proc", e->pid, &s->proc, err, sizeof err) == 0;
        if (s->has_proc)
            s->has_cgroup = cgroup_read(&s->proc, c->o->sysfs_root, &s->cgroup, err, sizeof err) == 0;
    }
    progress(c, "sample %zu/%u: %llu goroutines", i + 1, c->o->samples ? c->o->samples : 1,
             s->goroutines ? (unsigned long long)s->goroutines->total : 0ULL);
}

static void sleep_until(const collector *c, double t)
{
    double wait = t - (now_seconds() - c->t0);
    if (wait > remaining(c) - 1) wait = remaining(c) - 1;
    if (wait <= 0) return;
    struct timespec ts = {(time_t)wait, (long)((wait - floor(wait)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- after the window --------------------------------------------------- */

static void one_off_captures(collector *c)
{
    scan_evidence *e = c->e;
    const scan_sample *last = evidence_last(e);
    if (!e->url || !e->has_pprof) return;
    uint64_t n = last && last->goroutines ? last->goroutines->total : UINT64_MAX;
    if (c->o->full_cap == 0) {
        free(e->full_missing);
        e->full_missing = xstrdup("debug=2 dumps were turned off (--full-cap 0)");
    } else if (n > c->o->full_cap) {
        free(e->full_missing);
        e->full_missing = format("%llu goroutines is above --full-cap %llu: no debug=2 dump, so no wait times "
                                 "or creators",
                                 (unsigned long long)n, (unsigned long long)c->o->full_cap);
    } else if (!c->goroutine_down) {
        progress(c, "one debug=2 dump (%llu goroutines)", (unsigned long long)n);
        free(e->full_missing);
        e->full_missing = NULL;
        e->full = read_goroutines(c, 2, false, &e->full_missing);
    }
    /* Without the dump, what each stack waits on comes from the protobuf
     * goroutine profile: the same stop-the-world copy as debug=1, but with
     * the runtime frames (runtime.chansend1, sync.runtime_notifyListWait)
     * that debug=1 hides.  So the leak verdict has the same evidence either
     * way (see rule_goroutine_leak). */
    if (!e->full && !c->goroutine_down) {
        char *why = NULL;
        progress(c, "goroutine profile (protobuf) for wait kinds");
        e->waits = read_profile(c, "goroutine", &why);
        free(why);
    }
    if (e->has_leak_profile) {
        progress(c, "goroutineleak profile");
        e->leaks = read_goroutines(c, 1, true, NULL);
    }
}

static void read_build(collector *c)
{
    scan_evidence *e = c->e;
    if (!e->pid) return;
    char path[64], err[512];
    snprintf(path, sizeof path, "%s/%d/exe", c->o->proc_root ? c->o->proc_root : "/proc", e->pid);
    buildinfo *bi = xcalloc(1, sizeof *bi);
    if (buildinfo_read_file(path, bi, err, sizeof err) == 0) {
        e->build = bi;
        if (bi->go_version) e->go_version = xstrdup(bi->go_version);
    } else {
        buildinfo_free(bi);
        free(bi);
        e->build_missing = xstrdup(err);
    }
}

static void version_from_metrics(scan_evidence *e)
{
    if (e->go_version) return;
    for (size_t i = 0; i < e->nmetrics; i++) {
        if (strcmp(e->metrics[i].name, "go_info") != 0) continue;
        const char *v = strstr(e->metrics[i].labels, "version=\"");
        if (!v) continue;
        v += 9;
        e->go_version = xstrndup(v, strcspn(v, "\""));
        return;
    }
}


/* A --url of one process with a --pid of another mixes two services'
 * evidence in one verdict.  The pid's listening sockets tell: its
 * namespace's port the URL names should be among them.  (A port published
 * from a container or forwarded by a proxy differs for good reason, so this
 * is a warning, not a refusal.) */
static void check_same_process(collector *c, const proc_snapshot *ps)
{
    unsigned port = collect_url_port(c->e->url);
    if (!port || !ps->net_readable) return;
    for (int i = 0; i < ps->nlisten; i++)
        if (ps->listen[i].port == port) return;
    if (ps->nlisten_total > ps->nlisten) return; /* not all were kept: cannot tell */
    buf ports = {0};
    for (int i = 0; i < ps->nlisten; i++) buf_printf(&ports, "%s%u", i ? ", " : "", ps->listen[i].port);
    c->e->mismatch = format("pid %d does not listen on port %u of %s (it listens on %s): the URL and the pid may "
                            "be two different processes, and this scan mixes their evidence",
                            c->e->pid, port, c->e->url, ports.len ? buf_cstr(&ports) : "no TCP port");
    buf_free(&ports);
    fprintf(stderr, "reef scan: warning: %s\n", c->e->mismatch);
}

static int start(collector *c, char **message)
{
    const scan_options *o = c->o;
    scan_evidence *e = c->e;
    e->pid = o->pid;
    if (o->url) e->url = xstrdup(o->url);
    if (e->pid) {
        proc_snapshot ps;
        char err[512];
        int rc = proc_read(o->proc_root ? o->proc_root : "/proc", e->pid, &ps, err, sizeof err);
        if (rc) {
            *message = xstrdup(err);
            return rc;
        }
        if (e->url) check_same_process(c, &ps);
        if (!e->url) discover(c, &ps);
        if (!e->url) progress(c, "no pprof endpoint among the %d listening sockets of pid %d", ps.nlisten, e->pid);
    }
    if (e->url) {
        probe_endpoints(c);
        collect_error err;
        gostats s;
        gostats_init(&s);
        int rc = read_metrics(c, &s, &err);
        e->has_metrics = rc == COLLECT_OK;
        if (!e->has_metrics && !e->has_pprof && !is_missing(rc, &err) && !e->pid) {
            *message = format("%s: the service does not answer: %s", e->url, err.msg);
            return 3;
        }
        gostats_init(&s);
        e->has_vars = read_vars(c, &s, &err) == COLLECT_OK;
        progress(c, "/metrics: %s, /debug/vars: %s", e->has_metrics ? "yes" : "no", e->has_vars ? "yes" : "no");
    }
    return 0;
}

/* ---- the collector's interface ------------------------------------------ */

scan_collector *scan_collector_open(const scan_options *opt, scan_evidence *e, int *status, char **message)
{
    *message = NULL;
    *status = 0;
    collector *c = xcalloc(1, sizeof *c);
    c->opts = *opt;
    c->o = &c->opts;
    if (c->opts.window < 0) c->opts.window = 0;
    if (c->opts.samples < 1) c->opts.samples = 1;
    if (c->opts.samples > SCAN_MAX_SAMPLES) c->opts.samples = SCAN_MAX_SAMPLES;
    if (c->opts.budget <= 0) c->opts.budget = c->opts.window + 60;
    c->e = e;
    c->t0 = now_seconds();
    c->deadline = c->t0 + c->opts.budget;
    e->started = time(NULL);
    for (size_t i = 0; i < c->opts.nsources && i < SCAN_MAX_SOURCES; i++)
        e->sources[e->nsources++].url = xstrdup(c->opts.sources[i].url);
    *status = start(c, message);
    if (*status) {
        free(c);
        return NULL;
    }
    read_build(c);
    return c;
}

void scan_collector_budget(scan_collector *c, double seconds) { c->deadline = now_seconds() + seconds; }

double scan_collector_remaining(const scan_collector *c) { return remaining(c); }

void scan_collector_sample(scan_collector *c, size_t i, unsigned flags)
{
    if (i >= SCAN_MAX_SAMPLES) return;
    take_sample(c, i, flags);
    if (c->e->nsamples < i + 1) c->e->nsamples = i + 1;
}

void scan_collector_captures(scan_collector *c) { one_off_captures(c); }

void scan_collector_retry(scan_collector *c)
{
    c->metrics_down = c->vars_down = c->goroutine_down = c->heap_down = false;
    for (size_t i = 0; i < c->e->nsources; i++) {
        free(c->e->sources[i].missing);
        c->e->sources[i].missing = NULL;
    }
}

bool scan_collector_gave_up(const scan_collector *c)
{
    const scan_evidence *e = c->e;
    return (e->has_metrics && c->metrics_down) || (e->has_vars && c->vars_down) ||
           (e->has_pprof && (c->goroutine_down || c->heap_down));
}

scan_health scan_collector_health(scan_collector *c)
{
    scan_health h = c->health;
    memset(&c->health, 0, sizeof c->health);
    return h;
}

void scan_collector_close(scan_collector *c)
{
    if (!c) return;
    scan_evidence *e = c->e;
    version_from_metrics(e);
    const scan_sample *first = evidence_first(e), *last = evidence_last(e);
    e->window = first && last ? last->t - first->t : 0;
    e->seconds = now_seconds() - c->t0;
    free(c);
}

int scan_collect(const scan_options *opt, scan_evidence *e, char **message)
{
    int rc;
    collector *c = scan_collector_open(opt, e, &rc, message);
    if (!c) return rc;
    const scan_options *o = c->o;
    for (unsigned i = 0; i < o->samples; i++) {
        if (i > 0) sleep_until(c, o->samples > 1 ? o->window * i / (o->samples - 1) : 0);
        if (remaining(c) <= 0) {
            progress(c, "time budget spent after %u samples", i);
            break;
        }
        scan_collector_sample(c, i, SCAN_SAMPLE_HEAP | (i + 1 == o->samples ? SCAN_SAMPLE_LAST : 0));
    }
    one_off_captures(c);
    scan_collector_close(c);
    return 0;
}
