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
#include "../util/xalloc.h"

#include <math.h>
#include <pthread.h>
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

static uint64_t grown_by(const gmodel *first, const ggroup *g)
{
    const ggroup *h = first ? same_stack(first, g) : NULL;
    uint64_t before = h ? h->count : 0;
    return g->count > before ? g->count - before : 0;
}

/* Evidence lines for the groups of the application's own waits that grew
 * most between two samples.  Groups whose lines would read the same (stacks
 * that differ only outside the frames shown) are summed into one line. */
static void growth_evidence(finding *f, const gmodel *first, const gmodel *last, unsigned max)
{
    char *lines[8];
    uint64_t grew[8], now[8];
    unsigned n = 0;
    for (size_t i = 0; i < last->ngroups; i++) {
        const ggroup *g = &last->groups[i];
        uint64_t d = grown_by(first, g);
        if (!d || !g->nframes || scan_wait_of(last, g) != SCAN_WAIT_APP) continue;
        buf b = {0};
        scan_group_site(&b, last, g);
        unsigned k = 0;
        while (k < n && strcmp(lines[k], buf_cstr(&b)) != 0) k++;
        if (k < n) {
            grew[k] += d;
            now[k] += g->count;
            buf_free(&b);
            continue;
        }
        if (n == 8) {
            buf_free(&b);
            continue;
        }
        lines[n] = xstrdup(buf_cstr(&b));
        grew[n] = d;
        now[n++] = g->count;
        buf_free(&b);
    }
    uint64_t top = 0;
    for (unsigned shown = 0; shown < max && shown < n; shown++) {
        unsigned best = 0;
        for (unsigned k = 1; k < n; k++)
            if (grew[k] > grew[best]) best = k;
        /* Groups that grew by one or two are noise next to a leak. */
        if (!grew[best] || grew[best] * 10 < top) break;
        if (!shown) top = grew[best];
        finding_evidence(f, "+%llu (now %llu) at %s", (unsigned long long)grew[best], (unsigned long long)now[best],
                         lines[best]);
        grew[best] = 0;
    }
    for (unsigned k = 0; k < n; k++) free(lines[k]);
}

/* The function of a group's innermost application frame, or NULL. */
static const char *app_func(const gmodel *m, const ggroup *g)
{
    int f = ggroup_app_frame(m, g);
    return f < 0 ? NULL : gmodel_str(m, g->frames[f].func);
}

static bool in_leak_profile(const gmodel *leaks, const char *func)
{
    for (size_t i = 0; func && i < leaks->ngroups; i++) {
        const char *f = app_func(leaks, &leaks->groups[i]);
        if (f && strcmp(f, func) == 0) return true;
    }
    return false;
}

/* Compiled once for the whole process: reef watch runs the rules from one
 * thread per target. */
static regex_t init_func_re;
static pthread_once_t init_func_once = PTHREAD_ONCE_INIT;

static void compile_init_func_re(void)
{
    /* pkg.init, pkg.init.0, pkg.init.func1, pkg.init.0.func1.2 */
    regcomp(&init_func_re, "\\.init(\\.[0-9]+)?(\\.func[0-9]+(\\.[0-9]+)*)?$", REG_EXTENDED | REG_NOSUB);
}

static bool created_by_init(const gmodel *m, const ggroup *g)
{
    if (!g->has_created_by) return false;
    pthread_once(&init_func_once, compile_init_func_re);
    return regexec(&init_func_re, gmodel_str(m, g->created_by.func), 0, NULL, 0) == 0;
}

/* ---- goroutine-leak ------------------------------------------------------ */

static void leak_profile_findings(const scan_evidence *e, report *r)
{
    const gmodel *m = e->leaks;
    for (size_t i = 0; i < m->ngroups && i < 5; i++) {
        const ggroup *g = &m->groups[i];
        buf b = {0};
        scan_group_site(&b, m, g);
        finding *f = report_finding(r, "goroutine-leak", SEV_CRIT, "%llu goroutines leaked at %s (Go's leak profile)",
                                    (unsigned long long)g->count, buf_cstr(&b));
        finding_evidence(f, "%s", g->reason ? g->reason : "");
        finding_advice(f, "The runtime proved these goroutines can never run again: they wait on a channel or "
                          "lock that no live goroutine can reach.  Fix the sender/receiver that went away (a "
                          "buffered channel of 1, or a select on ctx.Done()).");
        buf_free(&b);
    }
}

/* Advice that fits the wait: a buffer of 1 cures a send whose receiver
 * left, and nothing else. */
static const struct {
    const char *state;
    const char *advice;
} leak_advice[] = {
    {"chan send", "Each of these sends on a channel whose receiver is gone: typically a handler returned on "
                  "timeout and nobody reads the channel its worker sends on.  Give the channel a buffer of 1 "
                  "(one result, never read, costs nothing), or select on ctx.Done() in the sender."},
    {"chan receive", "Each of these waits to receive from a channel nobody will send on or close: close it "
                     "when the producer is done, or select on ctx.Done() beside the receive."},
    {"select", "None of the cases of this select can proceed any more: add a case on ctx.Done() (or a "
               "timer) so that the goroutine ends when its caller has gone."},
    {"sync.Cond.Wait", "Each of these waits on a sync.Cond nobody signals: Broadcast when the condition "
                       "changes, and on close or shutdown, so that waiters can see they must return."},
    {"sync.WaitGroup.Wait", "Each of these waits for a WaitGroup whose Done calls never come: a goroutine "
                            "that returned early without Done, or an Add for work never started."},
};

static const char *advice_for(const char *state)
{
    for (size_t i = 0; state && i < sizeof leak_advice / sizeof *leak_advice; i++)
        if (strncmp(state, leak_advice[i].state, strlen(leak_advice[i].state)) == 0) return leak_advice[i].advice;
    return "Each of these waits for a partner that is gone.  Find who should wake them (the stacks below) and "
           "make that path run on every return, or give the wait a deadline.";
}

/* Goroutines that read from a network connection: one per inbound or
 * outbound connection in most servers.  Without a pid, the count of
 * connections a process holds. */
static uint64_t net_readers(const gmodel *m)
{
    uint64_t n = 0;
    for (size_t i = 0; m && i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        bool reads = scan_wait_of(m, g) == SCAN_WAIT_INBOUND;
        for (uint32_t k = 0; !reads && k < g->nframes; k++) {
            const char *f = gmodel_str(m, g->frames[k].func);
            reads = strcmp(f, "net.(*conn).Read") == 0 || strcmp(f, "crypto/tls.(*Conn).Read") == 0;
        }
        if (reads) n += g->count;
    }
    return n;
}

/* Connections the process holds: established TCP sockets from /proc when
 * there is a pid, else the goroutines reading from the network. */
static uint64_t connections(const scan_evidence *e, const char **how)
{
    const scan_sample *ls = evidence_last(e);
    if (ls && ls->has_proc && ls->proc.tcp_established >= 0) {
        *how = "established TCP connections";
        return (uint64_t)ls->proc.tcp_established;
    }
    *how = "goroutines reading from a connection";
    /* The debug=1 sample, not the debug=2 dump: the same either way. */
    return net_readers(ls ? ls->goroutines : NULL);
}

/* Goroutines of a sample that no known cause accounts for: the count less
 * the outbound requests, their connections, network writes and per
 * connection server goroutines, which their own rules and notes cover. */
static double s_unexplained(const scan_sample *s)
{
    const gmodel *m = s->goroutines;
    if (!m) return s->has_stats ? s->stats.goroutines : NAN;
    uint64_t known = 0;
    for (size_t i = 0; i < m->ngroups; i++)
        if (scan_wait_of(m, &m->groups[i]) != SCAN_WAIT_APP) known += m->groups[i].count;
    return (double)(m->total - known);
}

/* Connections per sample: established TCP sockets from /proc, else the
 * goroutines reading from a connection. */
static double s_connections(const scan_sample *s)
{
    if (s->has_proc && s->proc.tcp_established >= 0) return (double)s->proc.tcp_established;
    return s->goroutines ? (double)net_readers(s->goroutines) : NAN;
}

/* Goroutines a server keeps per connection (a reader, a writer, a stream or
 * two): growth within this many per new connection follows the connections. */
#define GOROUTINES_PER_CONNECTION 4

/* ---- goroutine-leak by site: one verdict, whichever dump was taken ------
 *
 * A site is the goroutines whose innermost application frame is one
 * function, summed over their stacks.  Its verdict rests only on what the
 * debug=1 samples and either the debug=2 dump or the protobuf profile both
 * have: the count at every sample, how it waits, the connections.  So a
 * group is judged the same below and above --full-cap; the debug=2 dump
 * adds creators and wait times to the evidence, never to the verdict. */

#define SITE_MIN 10          /* a site this small is not judged */
#define SITE_MANY 1000       /* held still, this many is a finding anyway */
#define MAX_SITES 256

typedef struct leak_site {
    const char *func;         /* innermost application function (last sample's model) */
    const ggroup *biggest;    /* its largest group in the last sample */
    double count[SCAN_MAX_SAMPLES];
    uint64_t now;             /* goroutines at the last sample */
    char wait[48];            /* "chan send", ...; "" when unknown */
    bool grows;               /* sustained growth, not following connections */
    uint64_t conns;           /* connections at the last sample */
} leak_site;

static bool wait_is(const leak_site *s, const char *const *kinds)
{
    for (; *kinds; kinds++)
        if (strcmp(s->wait, *kinds) == 0) return true;
    return false;
}

/* Parked on a partner that may never come.  (Locks are lock-pileup's; I/O
 * and sleeps end by themselves.) */
static const char *const partner_waits[] = {"chan send", "chan receive", "select", "sync.Cond.Wait",
                                            "sync.WaitGroup.Wait", NULL};
static const char *const other_rules_waits[] = {"sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock",
                                                "semacquire", "IO wait", NULL};

static bool v_grows(const leak_site *s) { return s->grows && !wait_is(s, other_rules_waits); }
static bool v_send(const leak_site *s)
{
    return !s->grows && strcmp(s->wait, "chan send") == 0 && s->now >= SITE_MIN && s->now > s->conns;
}
static bool v_many(const leak_site *s) { return !s->grows && wait_is(s, partner_waits) && s->now >= SITE_MANY && s->now > s->conns; }

static severity sev_crit(const leak_site *s) { (void)s; return SEV_CRIT; }
static severity sev_send(const leak_site *s) { return s->now >= SITE_MANY ? SEV_CRIT : SEV_WARN; }
/* A pool this large and a leak that stopped look the same without the
 * creators and ids only debug=2 has: worth saying, not worth paging. */
static severity sev_info(const leak_site *s) { (void)s; return SEV_INFO; }

/* The verdicts, tried in order; the first that holds is the site's. */
static const struct leak_verdict {
    const char *name;
    bool (*holds)(const leak_site *s);
    severity (*sev)(const leak_site *s);
    const char *why;
} leak_verdicts[] = {
    {"grows", v_grows, sev_crit,
     "this site grew in a sustained way through the scan, and faster than the connections: goroutines are "
     "started here and do not end"},
    {"abandoned-send", v_send, sev_send,
     "more goroutines wait to send here than the process has connections: each waits for a receiver that has "
     "left (a pool waits to receive work, not to send it); no sustained growth in the window"},
    {"many-parked", v_many, sev_info,
     "1000 or more goroutines parked on a partner at one site, more than the process has connections; no "
     "sustained growth in the window: a pool this large, or a leak that stopped (`reef goroutines --full` tells "
     "them apart by creators and goroutine ids)"},
};

static double site_count(const gmodel *m, const char *func)
{
    if (!m) return NAN;
    uint64_t n = 0;
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        const char *f = app_func(m, g);
        if (f && strcmp(f, func) == 0 && scan_wait_of(m, g) == SCAN_WAIT_APP) n += g->count;
    }
    return (double)n;
}

/* The sites of the last sample with SITE_MIN goroutines or more. */
static size_t collect_sites(const scan_evidence *e, leak_site *sites)
{
    const gmodel *m = evidence_last(e)->goroutines;
    size_t n = 0;
    for (size_t i = 0; m && i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        const char *f = app_func(m, g);
        if (!f || scan_wait_of(m, g) != SCAN_WAIT_APP) continue;
        size_t k = 0;
        while (k < n && strcmp(sites[k].func, f) != 0) k++;
        if (k == n) {
            if (n == MAX_SITES) continue;
            memset(&sites[n], 0, sizeof sites[n]);
            sites[n++].func = f;
        }
        sites[k].now += g->count;
        if (!sites[k].biggest || g->count > sites[k].biggest->count) sites[k].biggest = g;
    }
    size_t kept = 0;
    for (size_t k = 0; k < n; k++)
        if (sites[k].now >= SITE_MIN) sites[kept++] = sites[k];
    return kept;
}

static void judge_site(const scan_evidence *e, const double *conns, leak_site *s)
{
    for (size_t i = 0; i < e->nsamples; i++) s->count[i] = site_count(e->samples[i].goroutines, s->func);
    double first, last, c0, c1;
    bool grows = scan_grows(s->count, e->nsamples, SITE_MIN, 0.1) && scan_ends(s->count, e->nsamples, &first, &last);
    bool with_conns = grows && scan_ends(conns, e->nsamples, &c0, &c1) && c1 > c0 &&
                      last - first <= GOROUTINES_PER_CONNECTION * (c1 - c0);
    s->grows = grows && !with_conns;
    if (!scan_site_wait(e, s->func, s->wait, sizeof s->wait)) s->wait[0] = '\0';
}

/* What the debug=2 dump adds, or what its absence hides. */
static void site_dump_evidence(const scan_evidence *e, const leak_site *s, finding *f)
{
    const gmodel *m = e->full;
    const ggroup *best = NULL;
    for (size_t i = 0; m && i < m->ngroups; i++) {
        const char *fn = app_func(m, &m->groups[i]);
        if (fn && strcmp(fn, s->func) == 0 && (!best || m->groups[i].count > best->count)) best = &m->groups[i];
    }
    if (best && best->reason) {
        finding_evidence(f, "debug=2 dump: %s", best->reason);
        return;
    }
    finding_evidence(f, "%s; the wait is read from the protobuf goroutine profile's runtime frames; creators, "
                        "goroutine ids and wait times are in no debug=1 profile, and the verdict does not rest on them",
                     e->full_missing ? e->full_missing : "no debug=2 dump");
}

static void site_finding(const scan_evidence *e, const leak_site *s, const struct leak_verdict *v, report *r)
{
    const gmodel *m = evidence_last(e)->goroutines;
    buf b = {0};
    scan_group_site(&b, m, s->biggest);
    finding *f = report_finding(r, "goroutine-leak", v->sev(s), "%llu goroutine%s blocked in %s at %s",
                                (unsigned long long)s->now, s->now == 1 ? "" : "s", s->wait[0] ? s->wait : "an unknown wait",
                                buf_cstr(&b));
    char series[256];
    finding_evidence(f, "%s (verdict %s)", v->why, v->name);
    finding_evidence(f, "goroutines at this site per sample: %s; connections %llu",
                     scan_fmt_series(series, sizeof series, s->count, e->nsamples, NULL), (unsigned long long)s->conns);
    if (!s->wait[0]) finding_evidence(f, "neither the debug=2 dump nor the protobuf profile could say how it waits");
    site_dump_evidence(e, s, f);
    finding_value_add(f, "site_goroutines", s->count, e->nsamples);
    finding_advice(f, "%s  `reef goroutines %s` shows the stacks.", advice_for(s->wait), e->url ? e->url : "URL");
    buf_free(&b);
}

/* Judges every site; sites held still with no more goroutines than
 * connections are per-connection state (a client's write loop parked on a
 * Cond), counted in *per_conn for the note. */
static void site_leaks(const scan_evidence *e, report *r, uint64_t *per_conn)
{
    leak_site *sites = xcalloc(MAX_SITES, sizeof *sites);
    double conns[SCAN_MAX_SAMPLES];
    scan_series(e, s_connections, conns);
    const char *how;
    uint64_t c = connections(e, &how);
    size_t n = collect_sites(e, sites);
    unsigned shown = 0;
    for (size_t k = 0; k < n && shown < 5; k++) {
        leak_site *s = &sites[k];
        if (e->leaks && in_leak_profile(e->leaks, s->func)) continue; /* reported from there */
        s->conns = c;
        judge_site(e, conns, s);
        const struct leak_verdict *v = NULL;
        for (size_t i = 0; !v && i < sizeof leak_verdicts / sizeof *leak_verdicts; i++)
            if (leak_verdicts[i].holds(s)) v = &leak_verdicts[i];
        if (v) {
            site_finding(e, s, v, r);
            shown++;
        } else if (!s->grows && wait_is(s, partner_waits) && c > 0 && s->now <= c && e->nsamples >= 2) {
            *per_conn += s->now;
        }
    }
    free(sites);
}


void rule_goroutine_leak(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const char *why = no_goroutines(e);
    double v[SCAN_MAX_SAMPLES], u[SCAN_MAX_SAMPLES];
    if (scan_series(e, sample_goroutines, v) == 0 && !e->leaks) {
        report_skip(r, "goroutine-leak", "%s",
                    why ? why : e->full_missing ? e->full_missing : "no goroutine profile could be read");
        return;
    }
    scan_series(e, s_unexplained, u);
    uint64_t per_conn = 0;
    if (e->leaks) leak_profile_findings(e, r);
    if (e->nsamples && evidence_last(e)->goroutines) site_leaks(e, r, &per_conn);
    double first, last, c[SCAN_MAX_SAMPLES], c0, c1;
    char s[256], rate[64];
    scan_series(e, s_connections, c);
    bool grows = scan_grows(u, e->nsamples, 20, 0.05) && scan_ends(u, e->nsamples, &first, &last);
    bool with_conns = grows && scan_ends(c, e->nsamples, &c0, &c1) && c1 > c0 &&
                      last - first <= GOROUTINES_PER_CONNECTION * (c1 - c0);
    if (grows && !with_conns) {
        finding *f = report_finding(r, "goroutine-leak", SEV_WARN, "goroutines grew from %.0f to %.0f in %.0f s (%s)",
                                    first, last, e->window, scan_fmt_rate(rate, sizeof rate, u, e, NULL));
        finding_evidence(f, "goroutines per sample: %s", scan_fmt_series(s, sizeof s, v, e->nsamples, NULL));
        if (memcmp(u, v, e->nsamples * sizeof *v) != 0)
            finding_evidence(f, "of which not outbound requests, connections or network writes: %s",
                             scan_fmt_series(s, sizeof s, u, e->nsamples, NULL));
        finding_value_add(f, "goroutines", v, e->nsamples);
        const gmodel *g0 = e->samples[0].goroutines, *g1 = evidence_last(e)->goroutines;
        if (g0 && g1) growth_evidence(f, g0, g1, 3);
        finding_advice(f, "A count that keeps rising across the window, with no matching rise in connections, is "
                          "a leak: the groups above are where the new goroutines wait.  Scan again with a longer "
                          "--window to confirm the trend.");
    }
    buf note = {0};
    buf_printf(&note, "goroutines %s", scan_fmt_series(s, sizeof s, v, e->nsamples, NULL));
    if (e->nsamples >= 2) {
        scan_fmt_rate(rate, sizeof rate, v, e, NULL);
        if (*rate) buf_printf(&note, " (%s)", rate);
    }
    if (e->full) buf_puts(&note, "; debug=2 dump read");
    else if (e->waits) buf_puts(&note, "; waits from the protobuf profile (no debug=2 dump)");
    if (per_conn) buf_printf(&note, "; %llu parked per connection, held still", (unsigned long long)per_conn);
    if (with_conns)
        buf_printf(&note, "; the growth follows connections (%.0f → %.0f): per-connection goroutines, not a leak", c0, c1);
    else if (!grows && scan_grows(v, e->nsamples, 20, 0.05))
        buf_puts(&note, "; the growth is outbound requests, their connections or network writes (see upstream-wait)");
    report_check_note(r, "goroutine-leak", "%s", buf_cstr(&note));
    buf_free(&note);
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
    uint64_t queued = 0;
    for (size_t i = 0; i < m->ngroups; i++)
        if (m->groups[i].cls == GCLASS_PILEUP) queued += m->groups[i].count;
    report_check_note(r, "lock-pileup", "%llu goroutines queued on Lock calls (10 or more at a call, or any waiting a minute); queues in %u of %zu samples",
                      (unsigned long long)queued, samples_with(e, GCLASS_PILEUP), e->nsamples);
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
    char s[256];
    scan_series(e, sample_readloops, v);
    report_check_note(r, "http-pool-exhaustion", "requests waiting for a pooled connection in %u of %zu samples; "
                      "outbound read loops %s", samples_with(e, GCLASS_POOL_WAIT), e->nsamples,
                      scan_fmt_series(s, sizeof s, v, e->nsamples, NULL));
    /* Read loops that rise with requests waiting for their responses are
     * the connections of those requests: upstream-wait names the cause. */
    const gmodel *lm = evidence_last(e)->goroutines;
    bool hung = lm && scan_ends(v, e->nsamples, &first, &last) &&
                (double)scan_wait_count(lm, SCAN_WAIT_UPSTREAM) >= (last - first) / 2;
    if (!hung && scan_grows(v, e->nsamples, 20, 0.1) && scan_ends(v, e->nsamples, &first, &last)) {
        finding *f = report_finding(r, "http-pool-exhaustion", SEV_WARN,
                                    "client connections piling up: %.0f → %.0f persistConn read loops", first, last);
        finding_evidence(f, "net/http.(*persistConn).readLoop goroutines per sample: %s", s);
        finding_value_add(f, "persistconn_readloops", v, e->nsamples);
        finding_advice(f, "Each open client connection has a read loop; a count that keeps rising means "
                          "connections are opened and never reused or closed: response bodies not closed, a new "
                          "http.Transport per request, or requests with no timeout hanging on a slow upstream.");
    }
}

/* ---- init-blocked --------------------------------------------------------- */

/* How far behind uptime a wait since start-up can read, in minutes.  Go
 * stamps a goroutine's wait start only when a GC scans it blocked; in a
 * quiet process the next GC is the forced one, 2 minutes after the last,
 * and sysmon, idle, checks for it only every minute; the dump then prints
 * whole minutes, truncated.  2 + 1 + 1. */
#define INIT_WAIT_SLACK_MIN 4.0

static bool blocked_for_good(const gmodel *m, const ggroup *g, double uptime_min)
{
    const char *s = g->state ? gmodel_str(m, g->state) : "";
    if (g->leaked || strstr(s, "(nil chan)") || strcmp(s, "select (no cases)") == 0) return true;
    bool waiting = strncmp(s, "chan ", 5) == 0 || strncmp(s, "select", 6) == 0 || strncmp(s, "sync.", 5) == 0 ||
                   strcmp(s, "semacquire") == 0;
    if (!waiting || g->wait_min < 1) return false;
    return isnan(uptime_min) || (double)g->wait_min >= uptime_min - INIT_WAIT_SLACK_MIN;
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
    uint64_t by_init = 0;
    for (size_t i = 0; i < m->ngroups; i++)
        if (created_by_init(m, &m->groups[i])) by_init += m->groups[i].count;
    if (isnan(uptime_min))
        report_check_note(r, "init-blocked", "%llu goroutines started by a package init in the debug=2 dump",
                          (unsigned long long)by_init);
    else
        report_check_note(r, "init-blocked", "%llu goroutines started by a package init in the debug=2 dump, "
                          "at %.1f min of uptime", (unsigned long long)by_init, uptime_min);
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        if (!created_by_init(m, g) || !blocked_for_good(m, g, uptime_min)) continue;
        buf b = {0};
        scan_group_site(&b, m, g);
        finding *f = report_finding(r, "init-blocked", SEV_WARN, "%llu goroutine%s started by %s blocked in %s at %s",
                                    (unsigned long long)g->count, g->count == 1 ? "" : "s",
                                    gmodel_str(m, g->created_by.func), g->state ? gmodel_str(m, g->state) : "?",
                                    buf_cstr(&b));
        if (g->wait_max >= 0 && isnan(uptime_min)) finding_evidence(f, "waiting %lld min", (long long)g->wait_max);
        else if (g->wait_max >= 0)
            finding_evidence(f, "waiting %lld min at %.1f min of uptime (since start-up); Go stamps a wait at "
                                "the first GC after it began, up to %.0f min late in a quiet process",
                             (long long)g->wait_max, uptime_min, INIT_WAIT_SLACK_MIN);
        else finding_evidence(f, "waiting forever: %s", g->state ? gmodel_str(m, g->state) : "");
        finding_evidence(f, "created by %s at %s:%u", gmodel_str(m, g->created_by.func),
                         gshort_path(gmodel_str(m, g->created_by.file)), g->created_by.line);
        finding_advice(f, "A goroutine a package's init started has waited since the process began: whatever "
                          "should wake it (a Start/Register call, a config channel, a channel made in a later "
                          "init and still nil here) never happened.  The feature it serves is silently off.");
        buf_free(&b);
    }
}
