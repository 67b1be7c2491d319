/* scan_goroutines.c - the goroutine rules of `reef scan`: goroutine-leak,
 * lock-pileup, http-pool-exhaustion and init-blocked.
 *
 * Goroutine groups come classified (gclassify) from the debug=1 profile of
 * every sample and, when the service is small enough, one debug=2 dump,
 * which alone has states, wait times and creators.  A group is matched
 * across samples by its stack (the model's group key). */
#include "scan.h"
#include "gclassify.h"
#include "../util/buf.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *no_goroutines(const scan_evidence *e)
{
    if (!e->url) return "no URL: goroutine profiles need the service's pprof endpoint (--url)";
    if (!e->has_pprof) return e->pprof_missing ? e->pprof_missing : "no pprof endpoint";
    return NULL;
}

static double sample_goroutines(const scan_sample *s)
{
    if (s->goroutines) return (double)s->goroutines->total;
    return s->has_stats ? s->stats.goroutines : NAN;
}

/* The group of m with the same stack as g (of another model), or NULL. */
static const ggroup *same_stack(const gmodel *m, const ggroup *g)
{
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *h = &m->groups[i];
        if (h->key_len == g->key_len && memcmp(h->key, g->key, g->key_len) == 0) return h;
    }
    return NULL;
}

/* Where a group is, in a few words: its innermost application frame. */
static void group_site(buf *b, const gmodel *m, const ggroup *g)
{
    int f = ggroup_app_frame(m, g);
    if (f < 0) f = 0;
    if (!g->nframes) {
        buf_puts(b, "(no stack)");
        return;
    }
    buf_printf(b, "%s (%s:%u)", gmodel_str(m, g->frames[f].func), gshort_path(gmodel_str(m, g->frames[f].file)),
               g->frames[f].line);
}

static uint64_t grown_by(const gmodel *first, const ggroup *g)
{
    const ggroup *h = first ? same_stack(first, g) : NULL;
    uint64_t before = h ? h->count : 0;
    return g->count > before ? g->count - before : 0;
}

/* Evidence lines for the groups that grew most between two samples. */
static void growth_evidence(finding *f, const gmodel *first, const gmodel *last, unsigned max)
{
    const ggroup *shown[8] = {0};
    unsigned n = 0;
    while (n < max && n < 8) {
        const ggroup *best = NULL;
        uint64_t best_growth = 0;
        for (size_t i = 0; i < last->ngroups; i++) {
            const ggroup *g = &last->groups[i];
            bool seen = false;
            for (unsigned k = 0; k < n; k++) seen |= shown[k] == g;
            uint64_t d = grown_by(first, g);
            if (!seen && d > best_growth) {
                best = g;
                best_growth = d;
            }
        }
        /* Groups that grew by one or two are noise next to a leak. */
        if (!best || !best->nframes || (n > 0 && best_growth * 10 < grown_by(first, shown[0]))) break;
        shown[n++] = best;
        buf b = {0};
        buf_printf(&b, "+%llu (now %llu) at ", (unsigned long long)best_growth, (unsigned long long)best->count);
        group_site(&b, last, best);
        finding_evidence(f, "%s", buf_cstr(&b));
        buf_free(&b);
    }
}

/* The function of a group's innermost application frame, or NULL. */
static const char *app_func(const gmodel *m, const ggroup *g)
{
    int f = ggroup_app_frame(m, g);
    return f < 0 ? NULL : gmodel_str(m, g->frames[f].func);
}

/* How much the debug=1 groups whose innermost application frame is in func
 * grew from first to last.  (debug=1 keys lack creators and states, so a
 * debug=2 group is matched by where it waits.) */
static uint64_t growth_at(const gmodel *first, const gmodel *last, const char *func)
{
    uint64_t grew = 0;
    if (!first || !last || !func) return 0;
    for (size_t k = 0; k < last->ngroups; k++) {
        const char *f = app_func(last, &last->groups[k]);
        if (f && strcmp(f, func) == 0) grew += grown_by(first, &last->groups[k]);
    }
    return grew;
}

static bool in_leak_profile(const gmodel *leaks, const char *func)
{
    for (size_t i = 0; func && i < leaks->ngroups; i++) {
        const char *f = app_func(leaks, &leaks->groups[i]);
        if (f && strcmp(f, func) == 0) return true;
    }
    return false;
}

static bool created_by_init(const gmodel *m, const ggroup *g)
{
    if (!g->has_created_by) return false;
    static regex_t re;
    static bool compiled;
    if (!compiled) {
        /* pkg.init, pkg.init.0, pkg.init.func1, pkg.init.0.func1.2 */
        regcomp(&re, "\\.init(\\.[0-9]+)?(\\.func[0-9]+(\\.[0-9]+)*)?$", REG_EXTENDED | REG_NOSUB);
        compiled = true;
    }
    return regexec(&re, gmodel_str(m, g->created_by.func), 0, NULL, 0) == 0;
}

/* ---- goroutine-leak ------------------------------------------------------ */

static void leak_profile_findings(const scan_evidence *e, report *r)
{
    const gmodel *m = e->leaks;
    for (size_t i = 0; i < m->ngroups && i < 5; i++) {
        const ggroup *g = &m->groups[i];
        buf b = {0};
        group_site(&b, m, g);
        finding *f = report_finding(r, "goroutine-leak", SEV_CRIT, "%llu goroutines leaked at %s (Go's leak profile)",
                                    (unsigned long long)g->count, buf_cstr(&b));
        finding_evidence(f, "%s", g->reason ? g->reason : "");
        finding_advice(f, "The runtime proved these goroutines can never run again: they wait on a channel or "
                          "lock that no live goroutine can reach.  Fix the sender/receiver that went away (a "
                          "buffered channel of 1, or a select on ctx.Done()).");
        buf_free(&b);
    }
}

static void classified_leaks(const scan_evidence *e, report *r)
{
    const gmodel *m = e->full;
    const gmodel *first = e->samples[0].goroutines, *last = evidence_last(e)->goroutines;
    unsigned shown = 0;
    for (size_t i = 0; i < m->ngroups && shown < 5; i++) {
        const ggroup *g = &m->groups[i];
        if (g->cls != GCLASS_LEAK || created_by_init(m, g)) continue;
        if (e->leaks && in_leak_profile(e->leaks, app_func(m, g))) continue; /* reported from there */
        uint64_t grew = growth_at(first, last, app_func(m, g));
        severity sev = grew > 0 || g->count >= 1000 ? SEV_CRIT : SEV_WARN;
        buf b = {0};
        group_site(&b, m, g);
        finding *f = report_finding(r, "goroutine-leak", sev, "%llu goroutine%s blocked in %s at %s",
                                    (unsigned long long)g->count, g->count == 1 ? "" : "s", g->state ? gmodel_str(m, g->state) : "?",
                                    buf_cstr(&b));
        finding_evidence(f, "%s", g->reason);
        if (grew) finding_evidence(f, "this stack grew by %llu during the scan", (unsigned long long)grew);
        finding_advice(f, "Each of these waits for a partner that is gone: typically a handler returned on "
                          "timeout and nobody reads the channel its worker sends on.  Give the channel a buffer "
                          "of 1, or select on ctx.Done() in the worker.  `reef goroutines %s` shows the stacks.",
                       e->url ? e->url : "URL");
        buf_free(&b);
        shown++;
    }
}

void rule_goroutine_leak(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const char *why = no_goroutines(e);
    double v[SCAN_MAX_SAMPLES];
    if (scan_series(e, sample_goroutines, v) == 0 && !e->leaks) {
        report_skip(r, "goroutine-leak", "%s",
                    why ? why : e->full_missing ? e->full_missing : "no goroutine profile could be read");
        return;
    }
    if (e->leaks) leak_profile_findings(e, r);
    if (e->full) classified_leaks(e, r);
    double first, last;
    if (e->nsamples >= 3 && scan_grows(v, e->nsamples, 20, 0.05) && scan_ends(v, e->nsamples, &first, &last)) {
        char s[256];
        finding *f = report_finding(r, "goroutine-leak", SEV_WARN, "goroutines grew from %.0f to %.0f in %.0f s",
                                    first, last, e->window);
        finding_evidence(f, "goroutines per sample: %s", scan_fmt_series(s, sizeof s, v, e->nsamples, NULL));
        finding_value_add(f, "goroutines", v, e->nsamples);
        const gmodel *g0 = e->samples[0].goroutines, *g1 = evidence_last(e)->goroutines;
        if (g0 && g1) growth_evidence(f, g0, g1, 3);
        finding_advice(f, "A count that only rises under steady load is a leak: the groups above are where the "
                          "new goroutines wait.  Scan again with a longer --window to confirm the trend.");
    }
    char s[256];
    report_check_note(r, "goroutine-leak", "goroutines %s%s", scan_fmt_series(s, sizeof s, v, e->nsamples, NULL),
                      e->full ? "; debug=2 dump classified" : "");
}

/* ---- lock-pileup ---------------------------------------------------------- */

static bool has_class(const gmodel *m, gclass c)
{
    for (size_t i = 0; m && i < m->ngroups; i++)
        if (m->groups[i].cls == c) return true;
    return false;
}

static unsigned samples_with(const scan_evidence *e, gclass c)
{
    unsigned n = 0;
    for (size_t i = 0; i < e->nsamples; i++) n += has_class(e->samples[i].goroutines, c);
    return n;
}

/* Reports each distinct reason of class c in m (groups at one lock site
 * share a reason), at most max. */
static void class_findings(const scan_evidence *e, const gmodel *m, gclass c, const char *rule, uint64_t crit_at,
                           const char *advice, report *r)
{
    char *seen[8];
    unsigned nseen = 0;
    for (size_t i = 0; i < m->ngroups && nseen < 8; i++) {
        const ggroup *g = &m->groups[i];
        if (g->cls != c || !g->reason) continue;
        bool dup = false;
        for (unsigned k = 0; k < nseen; k++) dup |= strcmp(seen[k], g->reason) == 0;
        if (dup) continue;
        seen[nseen++] = g->reason;
        uint64_t n = strtoull(g->reason, NULL, 10);
        /* The reason's first clause is the title; the advice says the rest. */
        int len = (int)strcspn(g->reason, ";");
        finding *f = report_finding(r, rule, n >= crit_at ? SEV_CRIT : SEV_WARN, "%.*s", len, g->reason);
        finding_evidence(f, "seen in %u of %zu samples%s", samples_with(e, c), e->nsamples,
                         m == e->full ? " and in the debug=2 dump" : "");
        finding_advice(f, "%s", advice);
    }
}

void rule_lock_pileup(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const char *why = no_goroutines(e);
    if (why) {
        report_skip(r, "lock-pileup", "%s", why);
        return;
    }
    const gmodel *m = e->full ? e->full : (e->nsamples ? evidence_last(e)->goroutines : NULL);
    if (!m) {
        report_skip(r, "lock-pileup", "no goroutine profile could be read");
        return;
    }
    /* A queue seen once can be a burst; one seen in several samples, or
     * waiting for minutes, is a pile-up. */
    bool lasting = samples_with(e, GCLASS_PILEUP) >= 2 || e->nsamples == 1;
    for (size_t i = 0; e->full && i < e->full->ngroups; i++)
        if (e->full->groups[i].cls == GCLASS_PILEUP && e->full->groups[i].wait_max >= 1) lasting = true;
    if (lasting)
        class_findings(e, m, GCLASS_PILEUP, "lock-pileup", 100,
                       "The goroutine holding this lock is slow or stuck: look for it in `reef goroutines` "
                       "(running, or blocked on I/O while holding the lock).  Keep slow work (I/O, sleeps, "
                       "rebuilds) outside the critical section, or shard the lock.",
                       r);
}

/* ---- http-pool-exhaustion ------------------------------------------------ */

static double sample_readloops(const scan_sample *s)
{
    const gmodel *m = s->goroutines;
    if (!m) return NAN;
    uint64_t n = 0;
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        for (uint32_t k = 0; k < g->nframes; k++)
            if (strcmp(gmodel_str(m, g->frames[k].func), "net/http.(*persistConn).readLoop") == 0) {
                n += g->count;
                break;
            }
    }
    return (double)n;
}

void rule_http_pool(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const char *why = no_goroutines(e);
    if (why) {
        report_skip(r, "http-pool-exhaustion", "%s", why);
        return;
    }
    const gmodel *m = e->full ? e->full : (e->nsamples ? evidence_last(e)->goroutines : NULL);
    if (!m) {
        report_skip(r, "http-pool-exhaustion", "no goroutine profile could be read");
        return;
    }
    if (samples_with(e, GCLASS_POOL_WAIT) >= 2 || (e->nsamples == 1 && has_class(m, GCLASS_POOL_WAIT)))
        class_findings(e, m, GCLASS_POOL_WAIT, "http-pool-exhaustion", 100,
                       "Requests wait for a free connection: the pool is full of requests that never finish.  "
                       "Give the http.Client a Timeout (or each request a context deadline), always close "
                       "response bodies, and size MaxConnsPerHost/MaxIdleConnsPerHost for the load.",
                       r);
    double v[SCAN_MAX_SAMPLES], first, last;
    scan_series(e, sample_readloops, v);
    if (scan_grows(v, e->nsamples, 20, 0.1) && scan_ends(v, e->nsamples, &first, &last)) {
        char s[256];
        finding *f = report_finding(r, "http-pool-exhaustion", SEV_WARN,
                                    "client connections piling up: %.0f → %.0f persistConn read loops", first, last);
        finding_evidence(f, "net/http.(*persistConn).readLoop goroutines per sample: %s",
                         scan_fmt_series(s, sizeof s, v, e->nsamples, NULL));
        finding_value_add(f, "persistconn_readloops", v, e->nsamples);
        finding_advice(f, "Each open client connection has a read loop; a count that keeps rising means "
                          "connections are opened and never reused or closed: response bodies not closed, a new "
                          "http.Transport per request, or requests with no timeout hanging on a slow upstream.");
    }
}

/* ---- init-blocked --------------------------------------------------------- */

static bool blocked_for_good(const gmodel *m, const ggroup *g, double uptime_min)
{
    const char *s = g->state ? gmodel_str(m, g->state) : "";
    if (g->leaked || strstr(s, "(nil chan)") || strcmp(s, "select (no cases)") == 0) return true;
    bool waiting = strncmp(s, "chan ", 5) == 0 || strncmp(s, "select", 6) == 0 || strncmp(s, "sync.", 5) == 0 ||
                   strcmp(s, "semacquire") == 0;
    if (!waiting || g->wait_min < 1) return false;
    return isnan(uptime_min) || (double)g->wait_min >= uptime_min - 1.5;
}

void rule_init_blocked(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const char *why = no_goroutines(e);
    if (why || !e->full) {
        report_skip(r, "init-blocked", "%s", why ? why : e->full_missing ? e->full_missing : "no debug=2 dump");
        return;
    }
    const scan_sample *last = evidence_last(e);
    double uptime_min = last && last->has_proc ? last->proc.uptime_seconds / 60 : NAN;
    const gmodel *m = e->full;
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        if (!created_by_init(m, g) || !blocked_for_good(m, g, uptime_min)) continue;
        buf b = {0};
        group_site(&b, m, g);
        finding *f = report_finding(r, "init-blocked", SEV_WARN, "%llu goroutine%s started by %s blocked in %s at %s",
                                    (unsigned long long)g->count, g->count == 1 ? "" : "s",
                                    gmodel_str(m, g->created_by.func), g->state ? gmodel_str(m, g->state) : "?",
                                    buf_cstr(&b));
        if (g->wait_max >= 0) finding_evidence(f, "waiting %lld min%s", (long long)g->wait_max,
                                               isnan(uptime_min) ? "" : " (since start-up)");
        else finding_evidence(f, "waiting forever: %s", g->state ? gmodel_str(m, g->state) : "");
        finding_evidence(f, "created by %s at %s:%u", gmodel_str(m, g->created_by.func),
                         gshort_path(gmodel_str(m, g->created_by.file)), g->created_by.line);
        finding_advice(f, "A goroutine a package's init started has waited since the process began: whatever "
                          "should wake it (a Start/Register call, a config channel, a channel made in a later "
                          "init and still nil here) never happened.  The feature it serves is silently off.");
        buf_free(&b);
    }
}
