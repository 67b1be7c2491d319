/* wtarget.c - one watched service on its own thread; see wtarget.h. */
#include "wtarget.h"
#include "wdetect.h"
#include "../collect/collect_scan.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Samples kept as scan evidence for scan's rules: a minute at the default
 * interval, enough for their "across the window" checks. */
#define WATCH_WINDOW 4
/* The MemStats trailer (GC pauses, GC CPU) is read every this many polls
 * when /metrics lacks it: heap?debug=1 costs the target more than the
 * other endpoints. */
#define TRAILER_EVERY 4
/* Busy answers double the interval, up to this factor. */
#define MAX_BACKOFF 8
#define MAX_CHANGES 16

struct wtarget {
    wshared *sh;
    wtarget_conf conf;        /* name, URL and pid as started (owned copy) */
    char key[WATCH_PATH_MAX + 32]; /* wtarget_conf_key, "" when discovered */
    char name[WATCH_NAME_MAX];
    bool url_configured;

    pthread_t thread;
    pthread_mutex_t lock;     /* guards stop, polls, ident */
    pthread_cond_t wake;
    bool stop;
    uint64_t polls;
    goproc ident;
    bool have_ident;

    /* the thread's own state */
    int pid;
    int64_t oom_kills;        /* of the process's cgroup at the last poll, -1 unknown */
    scan_collector *col;
    scan_evidence *ev;
    wdetect *det;
    bool up, down_reported;
    unsigned backoff;         /* busy answers: the interval is multiplied by this */
    unsigned down_backoff;    /* likewise while the URL does not answer */
    bool pid_gone;            /* the pid exited and no successor was found yet */
    double gone_since;        /* monotonic, when pid_gone was set */
    bool discovered;          /* started by discovery, not by the configuration */
    bool finished;            /* the thread ended by itself (under lock) */
    http_options http;
    const char *headers[WCONFIG_MAX_HEADERS + 1];
    wfinding changes[MAX_CHANGES];
};

/* ---- the shared configuration ------------------------------------------- */

wconf_ref *wshared_acquire(wshared *s)
{
    pthread_mutex_lock(&s->lock);
    wconf_ref *r = s->current;
    r->refs++;
    pthread_mutex_unlock(&s->lock);
    return r;
}

void wshared_release(wshared *s, wconf_ref *r)
{
    pthread_mutex_lock(&s->lock);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) free(r);
}

/* ---- time ------------------------------------------------------------------ */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until the monotonic time `until`, or until asked to stop.
 * Returns false when asked to stop. */
static bool sleep_until(wtarget *t, double until)
{
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        double left = until - mono_now();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double end = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + left;
        ts.tv_sec = (time_t)end;
        ts.tv_nsec = (long)((end - floor(end)) * 1e9);
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
    }
    bool go_on = !t->stop;
    pthread_mutex_unlock(&t->lock);
    return go_on;
}

/* ---- events --------------------------------------------------------------- */

static void target_event(wtarget *t, wtarget_event ev, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void target_event(wtarget *t, wtarget_event ev, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    wevents_target(t->sh->events, ev, t->name, t->pid, "%s", detail);
}

static void mark_down(wtarget *t, const char *why)
{
    if (t->up || !t->down_reported) target_event(t, WEVENT_DOWN, "%s", why);
    t->up = false;
    t->down_reported = true;
    if (t->down_backoff < MAX_BACKOFF) t->down_backoff *= 2;
}

static void mark_up(wtarget *t)
{
    if (t->up) return;
    const scan_evidence *e = t->ev;
    target_event(t, WEVENT_UP, "%s%s%s%s%s%s", e->url ? e->url : "no pprof endpoint",
                 e->go_version ? ", " : "", e->go_version ? e->go_version : "", e->has_pprof ? ", pprof" : "",
                 e->stats_source ? ", runtime figures from " : "", e->stats_source ? e->stats_source : "");
    t->up = true;
    t->down_reported = false;
    t->down_backoff = 1;
}

/* ---- the process ------------------------------------------------------------ */

static goproc_list_options ps_options(const wtarget *t)
{
    return (goproc_list_options){.proc_root = t->sh->proc_root, .probe = false, .http = &t->http};
}

static uint64_t start_ticks(const wtarget *t, int pid) { return goproc_start_ticks(t->sh->proc_root, pid); }

static void set_identity(wtarget *t, const goproc *g)
{
    pthread_mutex_lock(&t->lock);
    t->ident = *g;
    t->have_ident = true;
    pthread_mutex_unlock(&t->lock);
}

static void read_identity(wtarget *t)
{
    goproc g;
    char err[512];
    goproc_list_options o = ps_options(t);
    if (t->pid && goproc_read(&o, t->pid, &g, err, sizeof err) == 0) set_identity(t, &g);
}

static void make_name_locked(wtarget *t);

/* The name of a target the configuration did not name: the executable's
 * name and the port ("api:6060"); without a port, the pid; without a
 * process, the URL's host and port. */
static void make_name(wtarget *t)
{
    pthread_mutex_lock(&t->lock);
    make_name_locked(t);
    pthread_mutex_unlock(&t->lock);
}

static void make_name_locked(wtarget *t)
{
    if (t->conf.name[0]) {
        snprintf(t->name, sizeof t->name, "%s", t->conf.name);
        return;
    }
    const char *url = t->ev->url ? t->ev->url : t->conf.url;
    unsigned port = url[0] ? collect_url_port(url) : 0;
    if (t->have_ident && port) snprintf(t->name, sizeof t->name, "%.40s:%u", t->ident.name, port);
    else if (t->have_ident) snprintf(t->name, sizeof t->name, "%.40s:pid%d", t->ident.name, t->pid);
    else if (url[0]) {
        const char *host = strstr(url, "://");
        host = host ? host + 3 : url;
        snprintf(t->name, sizeof t->name, "%.*s", (int)strcspn(host, "/?#"), host);
    } else snprintf(t->name, sizeof t->name, "pid%d", t->pid);
}

/* ---- the collector ------------------------------------------------------------ */

static void close_collector(wtarget *t)
{
    if (t->col) scan_collector_close(t->col);
    t->col = NULL;
    evidence_free(t->ev);
}

static bool open_collector(wtarget *t, char *why, size_t whylen)
{
    scan_options so = {
        .url = t->conf.url[0] ? t->conf.url : NULL,
        .pid = t->pid,
        .window = 0,
        .samples = 1,
        .full_cap = 0, /* polls never take debug=2: captures do, under the cap */
        .http = &t->http,
        .budget = 30,
        .proc_root = t->sh->proc_root,
        .sysfs_root = t->sh->sysfs_root,
    };
    int status;
    char *message = NULL;
    evidence_free(t->ev);
    t->col = scan_collector_open(&so, t->ev, &status, &message);
    if (!t->col) snprintf(why, whylen, "%s", message ? message : "cannot be reached");
    free(message);
    return t->col != NULL;
}

static void http_from_config(wtarget *t, const wconfig *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nheaders && i < WCONFIG_MAX_HEADERS; i++) t->headers[n++] = c->headers[i];
    t->headers[n] = NULL;
    t->http = (http_options){
        .connect_timeout_ms = c->connect_timeout_ms,
        .timeout_ms = c->timeout_ms,
        .max_bytes = (size_t)c->max_bytes,
        .headers = n ? t->headers : NULL,
        .user_agent = "reef-watch",
    };
}

/* ---- restarts --------------------------------------------------------------- */

/* The pid is gone.  The process that took over (same executable and
 * arguments) continues the target; without one the target is down. */
static bool follow_restart(wtarget *t)
{
    int old = t->pid;
    goproc next;
    goproc_list_options o = ps_options(t);
    goproc ident;
    if (!wtarget_identity(t, &ident) || goproc_find_successor(&o, &ident, &next) == 0) {
        char why[128];
        snprintf(why, sizeof why, "pid %d exited", old);
        mark_down(t, why);
        if (!t->pid_gone) t->gone_since = mono_now();
        t->pid_gone = true;
        return false;
    }
    int64_t oom_before = t->oom_kills;
    int64_t oom_after = goproc_oom_kills(t->sh->proc_root, t->sh->sysfs_root, next.pid);
    close_collector(t);
    t->pid = next.pid;
    set_identity(t, &next);
    if (!t->url_configured) t->conf.url[0] = '\0'; /* rediscovered: the port may have changed */
    wdetect_restart(t->det);
    if (oom_before >= 0 && oom_after > oom_before)
        target_event(t, WEVENT_RESTART,
                     "pid %d -> %d; the kernel OOM-killed a process of its cgroup (oom_kill %lld -> %lld)", old,
                     next.pid, (long long)oom_before, (long long)oom_after);
    else
        target_event(t, WEVENT_RESTART, "pid %d -> %d", old, next.pid);
    t->oom_kills = oom_after;
    t->pid_gone = false;
    t->up = false;
    t->down_reported = false;
    return true;
}

/* ---- one poll ------------------------------------------------------------------ */

static void on_change(wtarget *t, const wconfig *c, wfinding *f, double now)
{
    snprintf(f->target, sizeof f->target, "%s", t->name);
    f->pid = t->pid;
    snprintf(f->url, sizeof f->url, "%s", t->ev->url ? t->ev->url : "");
    bool capture = f->change != WCHANGE_RESOLVED && t->sh->captures && c->captures.enabled;
    if (capture) {
        buf series = {0};
        wdetect_series_json(t->det, now - c->captures.series_span, &series);
        const wtarget_conf *tc = &t->conf;
        wcapture_request req = {
            .finding = f,
            .url = t->ev->url,
            .pid = t->pid,
            .http = &t->http,
            .full_cap = tc->full_cap != UINT64_MAX ? tc->full_cap : c->full_cap,
            .window = t->ev,
            .series_json = buf_cstr(&series),
            .now = now,
        };
        char why[512];
        int rc = wcapture_take(t->sh->captures, &req, f->capture, sizeof f->capture, why, sizeof why);
        if (rc != WCAPTURE_WRITTEN) f->capture[0] = '\0';
        if (rc == WCAPTURE_FAILED) target_event(t, WEVENT_CAPTURE_FAILED, "%s: %s", f->rule, why);
        buf_free(&series);
    }
    wevents_finding(t->sh->events, f);
    whooks_fire(t->sh->hooks, c->hooks, c->nhooks, f);
}

static void update_backoff(wtarget *t, const scan_health *h)
{
    if (h->busy) {
        if (t->backoff < MAX_BACKOFF) {
            t->backoff *= 2;
            target_event(t, WEVENT_BACKOFF, "polled every %u intervals: %s", t->backoff, h->last_error);
        }
    } else if (t->backoff > 1 && h->failed == 0) {
        t->backoff = 1;
        target_event(t, WEVENT_RECOVERED, "answering again: back to the configured interval");
    }
}

/* Takes one sample; false when the target did not answer at all. */
static bool sample(wtarget *t, double interval, scan_health *h)
{
    double budget = interval < 2 ? 2 : interval > 30 ? 30 : interval;
    scan_collector_retry(t->col);
    scan_collector_budget(t->col, budget);
    /* Only this sample's requests tell whether the target answers: the
     * index that opening the collector read does not (a service whose
     * profiles hang still serves its index). */
    (void)scan_collector_health(t->col);
    if (t->ev->nsamples == WATCH_WINDOW) evidence_drop_first(t->ev);
    unsigned flags = t->polls % TRAILER_EVERY == 0 ? SCAN_SAMPLE_LAST : 0;
    scan_collector_sample(t->col, t->ev->nsamples, flags);
    const scan_sample *first = evidence_first(t->ev), *last = evidence_last(t->ev);
    t->ev->window = last->t - first->t;
    *h = scan_collector_health(t->col);
    return h->requests > h->failed || last->has_proc;
}

static void poll_once(wtarget *t, const wconfig *c, const wtarget_conf *tc, double interval)
{
    if (t->pid && start_ticks(t, t->pid) != t->ident.starttime_ticks && t->have_ident) {
        if (!follow_restart(t)) return;
    }
    char why[600];
    if (!t->col && !open_collector(t, why, sizeof why)) {
        mark_down(t, why);
        return;
    }
    scan_health h;
    bool answered = sample(t, interval, &h);
    update_backoff(t, &h);
    if (!answered) {
        mark_down(t, h.last_error[0] ? h.last_error : "no answer");
        close_collector(t); /* probed again from scratch */
        return;
    }
    mark_up(t);
    double now = wall_now();
    wpoint p;
    wpoint_from_sample(evidence_last(t->ev), now, &p);
    size_t n = wdetect_step(t->det, &p, t->ev, c, tc, t->changes, MAX_CHANGES);
    for (size_t i = 0; i < n; i++) on_change(t, c, &t->changes[i], now);
    /* The sample read the cgroup already: its OOM kill count is kept for
     * the restart that may follow. */
    const scan_sample *last = evidence_last(t->ev);
    if (last->has_cgroup && start_ticks(t, t->pid) == t->ident.starttime_ticks) t->oom_kills = last->cgroup.oom_kills;
}

/* The target's entry in the configuration in force (a reload may have
 * changed its thresholds), else the one it was started with. */
static const wtarget_conf *conf_of(const wtarget *t, const wconfig *c)
{
    char key[sizeof t->key];
    if (t->key[0])
        for (size_t i = 0; i < c->ntargets; i++) {
            wtarget_conf_key(&c->targets[i], key, sizeof key);
            if (strcmp(key, t->key) == 0) return &c->targets[i];
        }
    return &t->conf;
}

/* How many intervals to the next poll.  A URL that does not answer is
 * asked less and less often (a hung endpoint costs the service a stuck
 * request each time); a pid that exited is looked for at every interval,
 * which costs the host a walk of /proc and the service nothing. */
static unsigned factor(const wtarget *t)
{
    if (t->up) return t->backoff;
    return t->pid_gone ? 1 : t->down_backoff;
}

/* A process discovery found, gone for a while with nothing taking over,
 * is no longer watched: on a host where processes come and go, the agent
 * would otherwise keep a thread per process that ever ran.  Discovery
 * finds it again if it comes back.  A configured target is kept: someone
 * asked for it. */
#define FORGET_AFTER 60.0

static bool forgotten(wtarget *t)
{
    if (!t->discovered || !t->pid_gone || mono_now() - t->gone_since < FORGET_AFTER) return false;
    target_event(t, WEVENT_DOWN, "pid %d exited %.0f s ago and nothing took over: no longer watched", t->pid,
                 mono_now() - t->gone_since);
    return true;
}

static void *target_main(void *arg)
{
    wtarget *t = arg;
    wconf_ref *r = wshared_acquire(t->sh);
    http_from_config(t, &r->conf);
    wshared_release(t->sh, r);
    read_identity(t);
    char why[600] = "";
    if (!open_collector(t, why, sizeof why)) t->col = NULL;
    make_name(t);
    if (!t->col) mark_down(t, why);
    if (t->pid) t->oom_kills = goproc_oom_kills(t->sh->proc_root, t->sh->sysfs_root, t->pid);

    double due = mono_now();
    for (;;) {
        if (forgotten(t)) break;
        r = wshared_acquire(t->sh);
        const wtarget_conf *tc = conf_of(t, &r->conf);
        double interval = !isnan(tc->interval) && tc->interval > 0 ? tc->interval : r->conf.interval;
        http_from_config(t, &r->conf);
        poll_once(t, &r->conf, tc, interval);
        wshared_release(t->sh, r);
        pthread_mutex_lock(&t->lock);
        t->polls++;
        pthread_mutex_unlock(&t->lock);
        /* A fixed cadence: a slow poll shortens the next wait, it does not
         * shift every later poll. */
        due += interval * factor(t);
        double now = mono_now();
        if (due < now) due = now;
        if (!sleep_until(t, due)) break;
    }
    close_collector(t);
    pthread_mutex_lock(&t->lock);
    t->finished = true;
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* ---- the interface -------------------------------------------------------------- */

wtarget *wtarget_start(wshared *s, const wtarget_conf *tc, const goproc *found)
{
    wtarget *t = xcalloc(1, sizeof *t);
    t->sh = s;
    t->conf = *tc;
    if (!found) wtarget_conf_key(tc, t->key, sizeof t->key);
    t->url_configured = tc->url[0] != '\0';
    t->pid = tc->pid;
    t->oom_kills = -1;
    t->backoff = 1;
    t->down_backoff = 1;
    t->ev = xcalloc(1, sizeof *t->ev);
    t->det = wdetect_new();
    if (found) {
        t->discovered = true;
        t->ident = *found;
        t->have_ident = true;
        t->pid = found->pid;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &ca);
    pthread_condattr_destroy(&ca);
    /* Small stacks: an agent with many targets should not reserve 8 MiB
     * for each.  The parsers do not recurse deeply. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)1 << 20);
    int rc = pthread_create(&t->thread, &attr, target_main, t);
    pthread_attr_destroy(&attr);
    if (rc) {
        wdetect_free(t->det);
        free(t->ev);
        free(t);
        return NULL;
    }
    return t;
}

void wtarget_signal_stop(wtarget *t)
{
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

void wtarget_stop(wtarget *t)
{
    if (!t) return;
    wtarget_signal_stop(t);
    pthread_join(t->thread, NULL);
    wdetect_free(t->det);
    free(t->ev);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

void wtarget_name(wtarget *t, char *out, size_t outlen)
{
    pthread_mutex_lock(&t->lock);
    snprintf(out, outlen, "%s", t->name);
    pthread_mutex_unlock(&t->lock);
}

void wtarget_conf_key(const wtarget_conf *tc, char *out, size_t outlen)
{
    if (tc->name[0]) snprintf(out, outlen, "%s", tc->name);
    else snprintf(out, outlen, "url=%s;pid=%d", tc->url, tc->pid);
}

const char *wtarget_key(const wtarget *t) { return t->key; }

bool wtarget_identity(wtarget *t, goproc *out)
{
    pthread_mutex_lock(&t->lock);
    bool have = t->have_ident;
    if (have) *out = t->ident;
    pthread_mutex_unlock(&t->lock);
    return have;
}

bool wtarget_finished(wtarget *t)
{
    pthread_mutex_lock(&t->lock);
    bool done = t->finished;
    pthread_mutex_unlock(&t->lock);
    return done;
}

uint64_t wtarget_polls(wtarget *t)
{
    pthread_mutex_lock(&t->lock);
    uint64_t n = t->polls;
    pthread_mutex_unlock(&t->lock);
    return n;
}
