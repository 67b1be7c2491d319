/* wagent.c - the agent's main thread; see wagent.h. */
#include "wagent.h"
#include "wtarget.h"
#include "../util/xalloc.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Configured targets plus the ones discovery starts. */
#define MAX_RUNNING (2 * WCONFIG_MAX_TARGETS)

typedef struct agent {
    const wagent_options *o;
    wshared sh;
    wtarget *targets[MAX_RUNNING];
    size_t ntargets;
    double next_discover;     /* monotonic */
} agent;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static wconfig *current(agent *a) { return &a->sh.current->conf; }

/* ---- targets ---------------------------------------------------------------- */

static void start_target(agent *a, const wtarget_conf *tc, const goproc *found)
{
    if (a->ntargets == MAX_RUNNING) {
        wevents_target(a->sh.events, WEVENT_AGENT, "", 0, "not watching %s: %d targets already",
                       tc->name[0] ? tc->name : found ? found->name : tc->url, MAX_RUNNING);
        return;
    }
    wtarget *t = wtarget_start(&a->sh, tc, found);
    if (t) a->targets[a->ntargets++] = t;
    else wevents_target(a->sh.events, WEVENT_AGENT, "", 0, "cannot start a thread for %s", tc->name);
}

static void stop_targets(agent *a, bool (*which)(agent *, wtarget *))
{
    size_t kept = 0;
    for (size_t i = 0; i < a->ntargets; i++)
        if (which(a, a->targets[i])) wtarget_signal_stop(a->targets[i]);
    for (size_t i = 0; i < a->ntargets; i++) {
        if (which(a, a->targets[i])) wtarget_stop(a->targets[i]);
        else a->targets[kept++] = a->targets[i];
    }
    a->ntargets = kept;
}

static bool finished_target(agent *a, wtarget *t)
{
    (void)a;
    return wtarget_finished(t);
}

static bool every_target(agent *a, wtarget *t)
{
    (void)a;
    (void)t;
    return true;
}

/* After a reload: configured targets the new configuration no longer
 * names, and discovered ones when discovery is now off. */
static bool target_removed(agent *a, wtarget *t)
{
    const wconfig *c = current(a);
    const char *key = wtarget_key(t);
    if (!key[0]) return !c->discover.enabled;
    char k[WATCH_PATH_MAX + 32];
    for (size_t i = 0; i < c->ntargets; i++) {
        wtarget_conf_key(&c->targets[i], k, sizeof k);
        if (strcmp(k, key) == 0) return false;
    }
    return true;
}

static bool running_conf(agent *a, const wtarget_conf *tc)
{
    char key[WATCH_PATH_MAX + 32];
    wtarget_conf_key(tc, key, sizeof key);
    for (size_t i = 0; i < a->ntargets; i++)
        if (strcmp(wtarget_key(a->targets[i]), key) == 0) return true;
    return false;
}

static void start_configured(agent *a)
{
    const wconfig *c = current(a);
    for (size_t i = 0; i < c->ntargets; i++)
        if (!running_conf(a, &c->targets[i])) start_target(a, &c->targets[i], NULL);
}

/* ---- discovery ---------------------------------------------------------------- */

/* A process is already watched when a target has its pid, or has its
 * identity and a pid that is gone (a restart the target follows itself).
 * Two live processes of one identity are two replicas: both are watched. */
static bool watched(agent *a, const goproc *p)
{
    for (size_t i = 0; i < a->ntargets; i++) {
        goproc id;
        if (!wtarget_identity(a->targets[i], &id)) continue;
        if (id.pid == p->pid) return true;
        if (goproc_same(&id, p) && goproc_start_ticks(a->o->proc_root, id.pid) != id.starttime_ticks) return true;
    }
    return false;
}

static bool wanted(const wdiscover_conf *d, const goproc *p)
{
    if (p->pid == getpid()) return false;
    if (!d->nmatch) return true;
    for (size_t i = 0; i < d->nmatch; i++)
        if (goproc_matches(p, d->match[i])) return true;
    return false;
}

static void discover(agent *a)
{
    const wconfig *c = current(a);
    double every = c->discover.every > 0 ? c->discover.every : 30;
    a->next_discover = mono_now() + every;
    goproc_list_options lo = {.proc_root = a->o->proc_root};
    goproc *list = NULL;
    size_t n = 0;
    char err[512];
    if (goproc_list(&lo, &list, &n, err, sizeof err)) {
        wevents_target(a->sh.events, WEVENT_AGENT, "", 0, "discovery: %s", err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!wanted(&c->discover, &list[i]) || watched(a, &list[i])) continue;
        wtarget_conf tc;
        memset(&tc, 0, sizeof tc);
        tc.pid = list[i].pid;
        tc.interval = NAN;
        tc.full_cap = UINT64_MAX;
        start_target(a, &tc, &list[i]);
    }
    free(list);
    /* The next look is `every` after this one ended: on a loaded host a
     * walk of /proc may take longer than `every`. */
    a->next_discover = mono_now() + every;
}

/* ---- configuration -------------------------------------------------------------- */

static wconf_ref *load(agent *a, char *err, size_t errlen)
{
    wconf_ref *r = xcalloc(1, sizeof *r);
    r->refs = 1;
    if (a->o->load(a->o->load_ctx, &r->conf, err, errlen)) {
        free(r);
        return NULL;
    }
    return r;
}

static void reload(agent *a)
{
    char err[1024];
    wconf_ref *r = load(a, err, sizeof err);
    if (!r) {
        wevents_target(a->sh.events, WEVENT_AGENT, "", 0, "reload refused, the configuration in force stays: %s",
                       err);
        return;
    }
    pthread_mutex_lock(&a->sh.lock);
    wconf_ref *old = a->sh.current;
    a->sh.current = r;
    pthread_mutex_unlock(&a->sh.lock);
    wshared_release(&a->sh, old);
    if (wevents_reopen(a->sh.events, err, sizeof err))
        fprintf(stderr, "reef watch: reopening the event log: %s\n", err);
    stop_targets(a, target_removed);
    start_configured(a);
    if (current(a)->discover.enabled) discover(a);
    wevents_target(a->sh.events, WEVENT_AGENT, "", 0, "configuration reloaded: %zu targets", a->ntargets);
}

/* ---- the main loop ------------------------------------------------------------------ */

static int open_outputs(agent *a, char *err, size_t errlen)
{
    const wconfig *c = current(a);
    a->sh.events = wevents_open(c->events, err, errlen);
    if (!a->sh.events) return 2;
    if (c->captures.enabled) {
        a->sh.captures = wcapture_open(&c->captures, err, errlen);
        if (!a->sh.captures) return 2;
    }
    a->sh.hooks = whooks_start(a->sh.events);
    return 0;
}

static void close_outputs(agent *a)
{
    if (a->sh.hooks) whooks_stop(a->sh.hooks);
    if (a->sh.captures) wcapture_close(a->sh.captures);
    if (a->sh.events) wevents_close(a->sh.events);
}

/* Waits for a signal until the monotonic time `until`; 0 on timeout.  A
 * signal already pending is taken even when `until` has passed: a loop
 * whose work overruns its schedule must still hear SIGTERM. */
static int wait_signal(const sigset_t *set, double until)
{
    double left = until - mono_now();
    if (left < 0) left = 0;
    if (left > 3600) left = 3600;
    struct timespec ts = {(time_t)left, (long)((left - floor(left)) * 1e9)};
    int sig = sigtimedwait(set, NULL, &ts);
    return sig < 0 ? 0 : sig;
}

static void run_loop(agent *a, const sigset_t *set)
{
    double end = a->o->duration > 0 ? mono_now() + a->o->duration : INFINITY;
    for (;;) {
        double until = end;
        if (current(a)->discover.enabled && a->next_discover < until) until = a->next_discover;
        /* Wake up now and then to free the targets that ended by themselves. */
        if (until > mono_now() + 5) until = mono_now() + 5;
        int sig = wait_signal(set, until);
        if (sig == SIGHUP) reload(a);
        else if (sig == SIGTERM || sig == SIGINT) {
            wevents_target(a->sh.events, WEVENT_AGENT, "", 0, "stopping on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return;
        }
        if (mono_now() >= end) {
            wevents_target(a->sh.events, WEVENT_AGENT, "", 0, "stopping: --duration reached");
            return;
        }
        if (current(a)->discover.enabled && mono_now() >= a->next_discover) discover(a);
        stop_targets(a, finished_target);
    }
}

int wagent_run(const wagent_options *o, char *err, size_t errlen)
{
    /* glibc raises its mmap threshold each time a large block is freed,
     * after which large blocks come from the main heap and its pages stay
     * resident: an agent that parses a dump per target per poll for months
     * crept up by megabytes with its live memory flat (scripts/soak.sh).
     * A fixed threshold keeps large blocks in mappings returned on free. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    agent *a = xcalloc(1, sizeof *a);
    a->o = o;
    a->sh.proc_root = o->proc_root;
    a->sh.sysfs_root = o->sysfs_root;
    pthread_mutex_init(&a->sh.lock, NULL);
    int rc = 2;
    a->sh.current = load(a, err, errlen);
    if (!a->sh.current) goto out;
    if ((rc = open_outputs(a, err, errlen)) != 0) goto out;

    /* Every thread inherits this mask: only the main thread takes the
     * signals, through sigtimedwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A hook or an event log on a closed pipe must not kill the agent. */
    signal(SIGPIPE, SIG_IGN);

    wevents_target(a->sh.events, WEVENT_AGENT, "", 0, "started: %zu targets configured%s",
                   current(a)->ntargets, current(a)->discover.enabled ? ", discovery on" : "");
    start_configured(a);
    if (current(a)->discover.enabled) discover(a);
    run_loop(a, &set);
    size_t n = a->ntargets;
    stop_targets(a, every_target);
    /* The last line of the log: every target has ended its poll. */
    wevents_target(a->sh.events, WEVENT_AGENT, "", 0, "stopped: %zu targets", n);
    rc = 0;
out:
    close_outputs(a);
    if (a->sh.current) wshared_release(&a->sh, a->sh.current);
    pthread_mutex_destroy(&a->sh.lock);
    free(a);
    return rc;
}
