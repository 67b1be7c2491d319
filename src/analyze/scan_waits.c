/* scan_waits.c - what a goroutine waits for, told by the frame that says
 * it, and the upstream-wait rule of `reef scan`.
 *
 * A stack's innermost frame (internal/poll.runtime_pollWait, selectgo) says
 * how a goroutine waits, not what for.  The frame that says it is further
 * out: persistConn.roundTrip is an outbound request waiting for its
 * response, conn.readRequest a server reading a request's headers,
 * net.(*conn).Write a peer that does not read.  The table below maps those
 * frames to kinds of wait; the goroutine rules use the kind to keep the
 * machinery of a known cause out of the leak counts, and to give advice
 * that fits the wait (a channel buffer is no cure for a hung upstream). */
#include "scan.h"
#include "gclassify.h"
#include "../util/buf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct telling {
    const char *func;
    scan_wait kind;
    const char *what;
} tellings[] = {
    {"net/http.(*persistConn).roundTrip", SCAN_WAIT_UPSTREAM, "waiting for an upstream's response"},
    {"net/http.(*http2ClientConn).RoundTrip", SCAN_WAIT_UPSTREAM, "waiting for an upstream's response (HTTP/2)"},
    {"golang.org/x/net/http2.(*ClientConn).RoundTrip", SCAN_WAIT_UPSTREAM, "waiting for an upstream's response (HTTP/2)"},
    {"net/http.(*persistConn).readLoop", SCAN_WAIT_UPSTREAM_CONN, "an outbound connection's read loop"},
    {"net/http.(*persistConn).writeLoop", SCAN_WAIT_UPSTREAM_CONN, "an outbound connection's write loop"},
    {"google.golang.org/grpc/internal/transport.(*writeQuota).get", SCAN_WAIT_NET_WRITE,
     "waiting for gRPC flow-control quota (the peer reads slowly)"},
    {"net.(*conn).Write", SCAN_WAIT_NET_WRITE, "writing to a peer that does not read"},
    {"crypto/tls.(*Conn).Write", SCAN_WAIT_NET_WRITE, "writing to a peer that does not read (TLS)"},
    {"net/http.(*conn).readRequest", SCAN_WAIT_INBOUND,
     "reading a request's headers (an idle keep-alive connection, or a slowloris)"},
    {"net/http.(*connReader).backgroundRead", SCAN_WAIT_INBOUND, "watching an inbound connection while its request runs"},
    {"net/http.(*http2serverConn).serve", SCAN_WAIT_INBOUND, "an inbound HTTP/2 connection's serve loop"},
    {"net/http.(*http2serverConn).readFrames", SCAN_WAIT_INBOUND, "an inbound HTTP/2 connection's frame reader"},
    {"golang.org/x/net/http2.(*serverConn).serve", SCAN_WAIT_INBOUND, "an inbound HTTP/2 connection's serve loop"},
    {"golang.org/x/net/http2.(*serverConn).readFrames", SCAN_WAIT_INBOUND, "an inbound HTTP/2 connection's frame reader"},
    {"google.golang.org/grpc/internal/transport.(*recvBufferReader).read", SCAN_WAIT_INBOUND,
     "a gRPC stream waiting for its peer's next message"},
    {"google.golang.org/grpc/internal/transport.(*controlBuffer).get", SCAN_WAIT_INBOUND,
     "a gRPC connection's writer waiting for work"},
};

static const struct telling *telling_at(const gmodel *m, const ggroup *g, int *frame)
{
    for (uint32_t i = 0; i < g->nframes; i++) {
        const char *f = gmodel_str(m, g->frames[i].func);
        for (size_t k = 0; k < sizeof tellings / sizeof *tellings; k++)
            if (strcmp(f, tellings[k].func) == 0) {
                if (frame) *frame = (int)i;
                return &tellings[k];
            }
    }
    return NULL;
}

scan_wait scan_wait_of(const gmodel *m, const ggroup *g)
{
    /* The table first: it tells a request from its connection's loops,
     * which the classifier's upstream-wait class puts together.  The
     * classes count where no frame of the table is on the stack (other
     * clients, other transports). */
    const struct telling *t = telling_at(m, g, NULL);
    if (t) return t->kind;
    if (g->cls == GCLASS_UPSTREAM_WAIT) return SCAN_WAIT_UPSTREAM;
    if (g->cls == GCLASS_NET_WRITE) return SCAN_WAIT_NET_WRITE;
    return SCAN_WAIT_APP;
}

uint64_t scan_wait_count(const gmodel *m, scan_wait kind)
{
    uint64_t n = 0;
    for (size_t i = 0; m && i < m->ngroups; i++)
        if (scan_wait_of(m, &m->groups[i]) == kind) n += m->groups[i].count;
    return n;
}

static void frame_at(buf *b, const gmodel *m, const gframe *f)
{
    buf_printf(b, "%s (%s:%u)", gmodel_str(m, f->func), gshort_path(gmodel_str(m, f->file)), f->line);
}

void scan_group_site(buf *b, const gmodel *m, const ggroup *g)
{
    if (!g->nframes) {
        buf_puts(b, "(no stack)");
        return;
    }
    int tf = -1, app = ggroup_app_frame(m, g);
    const struct telling *t = telling_at(m, g, &tf);
    if (t) {
        buf_printf(b, "%s: ", t->what);
        frame_at(b, m, &g->frames[tf]);
        if (app > tf) {
            buf_puts(b, ", called from ");
            frame_at(b, m, &g->frames[app]);
        }
        return;
    }
    if (app < 0) {
        /* All standard library: the outermost frame is the function the
         * goroutine was started in, which says more than the poller. */
        app = (int)g->nframes - 1;
        while (app > 0 && strcmp(gmodel_str(m, g->frames[app].func), "runtime.goexit") == 0) app--;
    }
    frame_at(b, m, &g->frames[app]);
}

/* ---- upstream-wait --------------------------------------------------------- */

static double s_upstream(const scan_sample *s)
{
    return s->goroutines ? (double)scan_wait_count(s->goroutines, SCAN_WAIT_UPSTREAM) : NAN;
}

/* The frame that made the request: the first one out from the HTTP client's
 * own frames (httputil.(*ReverseProxy).ServeHTTP for a proxy). */
static int caller_frame(const gmodel *m, const ggroup *g)
{
    int tf = -1;
    if (!telling_at(m, g, &tf)) tf = 0;
    for (uint32_t i = (uint32_t)tf; i < g->nframes; i++) {
        const char *f = gmodel_str(m, g->frames[i].func);
        if (strncmp(f, "net/http.", 9) != 0 && strncmp(f, "golang.org/x/net/http2.", 23) != 0 &&
            strncmp(f, "runtime.", 8) != 0)
            return (int)i;
    }
    return tf;
}

/* The largest upstream-waiting group of m, and the longest wait (minutes)
 * of all of them. */
static const ggroup *largest_upstream(const gmodel *m, int64_t *wait_max)
{
    const ggroup *best = NULL;
    *wait_max = -1;
    for (size_t i = 0; m && i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        if (scan_wait_of(m, g) != SCAN_WAIT_UPSTREAM) continue;
        if (!best || g->count > best->count) best = g;
        if (g->wait_max > *wait_max) *wait_max = g->wait_max;
    }
    return best;
}

static bool all_equal(const double *v, size_t n)
{
    double first = NAN;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) return false;
        if (isnan(first)) first = v[i];
        else if (v[i] != first) return false;
    }
    return true;
}

static double series_min(const double *v, size_t n)
{
    double lo = INFINITY;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]) && v[i] < lo) lo = v[i];
    return lo;
}

void rule_upstream_wait(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    double v[SCAN_MAX_SAMPLES], first, last;
    if (scan_series(e, s_upstream, v) == 0 && !e->full) {
        report_skip(r, "upstream-wait", "%s",
                    !e->url ? "no URL: goroutine profiles need the service's pprof endpoint (--url)"
                    : e->pprof_missing ? e->pprof_missing : "no goroutine profile could be read");
        return;
    }
    char s[256], rate[64];
    scan_fmt_series(s, sizeof s, v, e->nsamples, NULL);
    report_check_note(r, "upstream-wait", "outbound requests waiting for a response per sample: %s", s);
    int64_t waited = -1, w1 = -1;
    const ggroup *g = largest_upstream(e->full, &waited);
    const gmodel *m = e->full;
    if (!g) {
        m = evidence_last(e)->goroutines;
        g = largest_upstream(m, &w1);
    }
    double lo = series_min(v, e->nsamples);
    if (!g || !(lo > 0 || (isinf(lo) && e->full))) return;
    first = last = NAN;
    for (size_t i = 0; i < e->nsamples; i++)
        if (!isnan(v[i])) {
            if (isnan(first)) first = v[i];
            last = v[i];
        }
    if (isnan(last)) last = first = (double)scan_wait_count(e->full, SCAN_WAIT_UPSTREAM);

    /* In flight in every sample is normal latency until something says the
     * requests are stuck: a wait of a minute or more, a count that keeps
     * rising, or the very same count at every sample (requests that come and
     * go do not hold a count still). */
    bool long_wait = waited >= 1;
    bool rising = scan_grows(v, e->nsamples, 5, 0.1);
    bool still = e->nsamples >= 3 && all_equal(v, e->nsamples) && first >= 5;
    severity sev = !(long_wait || rising || still) ? SEV_INFO : last >= 100 ? SEV_CRIT : SEV_WARN;

    buf site = {0};
    int cf = caller_frame(m, g);
    frame_at(&site, m, &g->frames[cf]);
    finding *f = report_finding(r, "upstream-wait", sev, "%.0f request%s waiting on an upstream for a response, from %s",
                                last, last == 1 ? "" : "s", buf_cstr(&site));
    buf_free(&site);
    finding_evidence(f, "requests in net/http.(*persistConn).roundTrip per sample: %s%s%s", s,
                     rising ? ", " : "", rising ? scan_fmt_rate(rate, sizeof rate, v, e, NULL) : "");
    if (long_wait) finding_evidence(f, "the longest has waited %lld min (debug=2 dump)", (long long)waited);
    else if (e->full) finding_evidence(f, "none has waited a minute yet (Go prints whole minutes, after a GC)");
    if (still) finding_evidence(f, "the same count at every sample: the same requests, not new ones");
    const gmodel *lm = e->nsamples ? evidence_last(e)->goroutines : NULL;
    if (lm) finding_evidence(f, "their connections: %llu outbound read and write loops (persistConn.readLoop, writeLoop)",
                             (unsigned long long)scan_wait_count(lm, SCAN_WAIT_UPSTREAM_CONN));
    finding_value_add(f, "upstream_waits", v, e->nsamples);
    if (sev == SEV_INFO)
        finding_advice(f, "Requests in flight to an upstream at each sample: normal latency unless they stay.  "
                          "Scan again with a longer --window; a count that holds or climbs is a hung upstream.");
    else
        finding_advice(f, "An upstream accepts requests and does not answer, and the client waits without a "
                          "deadline.  Give the http.Client a Timeout (or each request a context deadline); for "
                          "httputil.ReverseProxy, set the Transport's ResponseHeaderTimeout.  Each waiting request "
                          "holds a goroutine and a connection until the upstream answers.");
}

/* ---- how a site waits, the same from either dump -------------------------- */

/* The runtime frames that park a goroutine, as the protobuf goroutine
 * profile shows them (debug=1 hides them), with the state a debug=2 dump
 * prints for the same wait.  The innermost one on a stack wins. */
static const struct {
    const char *func;
    const char *state;
} parks[] = {
    {"runtime.chansend", "chan send"},
    {"runtime.chanrecv", "chan receive"},
    {"runtime.selectgo", "select"},
    {"runtime.block", "select"},
    {"sync.runtime_notifyListWait", "sync.Cond.Wait"},
    {"sync.runtime_SemacquireWaitGroup", "sync.WaitGroup.Wait"},
    {"sync.runtime_SemacquireMutex", "sync.Mutex.Lock"},
    {"sync.runtime_SemacquireRWMutexR", "sync.RWMutex.RLock"},
    {"sync.runtime_SemacquireRWMutex", "sync.RWMutex.Lock"},
    {"sync.runtime_Semacquire", "semacquire"},
    {"internal/poll.runtime_pollWait", "IO wait"},
    {"time.Sleep", "sleep"},
};

/* A debug=2 state without what only that dump says: "chan send (nil
 * chan)" and "select (no cases)" wait the same way as their plain forms
 * in the protobuf profile. */
static void plain_state(const char *state, char *out, size_t outlen)
{
    snprintf(out, outlen, "%.*s", (int)strcspn(state, "(,"), state);
    size_t n = strlen(out);
    while (n && out[n - 1] == ' ') out[--n] = '\0';
}

static bool kind_from_dump(const gmodel *m, const char *app_func, char *out, size_t outlen)
{
    const ggroup *best = NULL;
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        int a = ggroup_app_frame(m, g);
        if (a < 0 || !g->state || strcmp(gmodel_str(m, g->frames[a].func), app_func) != 0) continue;
        if (!best || g->count > best->count) best = g;
    }
    if (!best) return false;
    plain_state(gmodel_str(m, best->state), out, outlen);
    return true;
}

/* The innermost application function of a profile sample, and the state
 * its park frame stands for ("running" when no park frame is on it). */
static const char *sample_site(const profile *p, const psample *s, const char **state)
{
    const char *app = NULL;
    *state = NULL;
    const unsigned char *cur = pstack_begin(p, s);
    for (uint32_t i = 0; i < s->nlocs && !app; i++) {
        const plocation *loc = &p->locations[pstack_next(&cur)];
        for (uint32_t j = 0; j < loc->nlines && !app; j++) {
            uint32_t fi = p->lines[loc->first_line + j].func;
            if (fi == UINT32_MAX) continue;
            const char *f = profile_str(p, p->functions[fi].name);
            for (size_t k = 0; !*state && k < sizeof parks / sizeof *parks; k++)
                if (strcmp(f, parks[k].func) == 0) *state = parks[k].state;
            if (!gfunc_is_std(f)) app = f;
        }
    }
    if (!*state) *state = "running";
    return app;
}

static bool kind_from_profile(const profile *p, const char *app_func, char *out, size_t outlen)
{
    const char *best = NULL;
    int64_t most = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const psample *s = &p->samples[i];
        const char *state, *app = sample_site(p, s, &state);
        int64_t n = s->nvalues ? psample_value(p, s, 0) : 0;
        if (app && strcmp(app, app_func) == 0 && n > most) {
            most = n;
            best = state;
        }
    }
    if (!best) return false;
    snprintf(out, outlen, "%s", best);
    return true;
}

bool scan_site_wait(const scan_evidence *e, const char *app_func, char *out, size_t outlen)
{
    if (e->full) return kind_from_dump(e->full, app_func, out, outlen);
    if (e->waits) return kind_from_profile(e->waits, app_func, out, outlen);
    return false;
}
