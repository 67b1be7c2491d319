/* wrules.c - the rule table of `reef watch`, the names of the series, and
 * how a scan sample becomes a point of those series.
 *
 * Every default here is explained in docs/watch.md ("## Rules"): why the
 * condition means trouble, and what the rule cannot see.  The meaning of
 * warn/crit depends on the kind (wconfig.h): a fraction above the baseline
 * for a level rule, a rise per minute for a rate rule, a rise between two
 * polls for a burst rule, a value (or a fraction of a limit) for a cap.
 * For a rate rule warn_for is the window the rise is measured over. */
#include "wdetect.h"

#include <math.h>
#include <string.h>

#define MIN 60.0
#define MiB 1048576.0

static const wrule_def rules[] = {
    /* goroutines: the seeds' pipeline */
    {"goroutines-level", WRULE_LEVEL, WS_GOROUTINES, 0.30, 1.00, 2 * MIN, 5 * MIN, 5 * MIN, 20,
     "goroutines well above this service's learnt level for minutes: a leak or a pile-up"},
    {"goroutines-rate", WRULE_RATE, WS_GOROUTINES, 2, NAN, 10 * MIN, 10 * MIN, 10 * MIN, 0,
     "goroutines rising steadily for ten minutes: a slow leak below the level threshold"},
    {"goroutines-burst", WRULE_BURST, WS_GOROUTINES, 150, NAN, 0, 0, 5 * MIN, 0,
     "many goroutines started between two polls, far beyond the series' usual step"},
    {"goroutines-cap", WRULE_CAP, WS_GOROUTINES, 5000, NAN, 1 * MIN, 1 * MIN, 5 * MIN, 0,
     "more goroutines than a service should hold whatever its baseline"},
    /* memory */
    {"heap-level", WRULE_LEVEL, WS_HEAP_INUSE, 0.50, 1.00, 5 * MIN, 10 * MIN, 10 * MIN, 32 * MiB,
     "even the heap's lows (after GC) stay far above its learnt level"},
    {"heap-rate", WRULE_RATE, WS_HEAP_INUSE, 1 * MiB, NAN, 30 * MIN, 30 * MIN, 30 * MIN, 0,
     "the heap's lows rising steadily for half an hour: live memory is being kept"},
    {"rss-level", WRULE_LEVEL, WS_RSS, 0.50, 1.00, 5 * MIN, 10 * MIN, 10 * MIN, 64 * MiB,
     "resident memory far above its learnt level for minutes"},
    /* descriptors, threads, shared objects */
    {"fds-cap", WRULE_CAP, WS_FDS, 0.80, 0.95, 1 * MIN, 1 * MIN, 5 * MIN, 0,
     "open descriptors near RLIMIT_NOFILE: accept and dial start failing with EMFILE"},
    {"fds-rate", WRULE_RATE, WS_FDS, 2, NAN, 15 * MIN, 15 * MIN, 15 * MIN, 0,
     "open descriptors rising steadily: connections or files not closed"},
    {"threads-rate", WRULE_RATE, WS_THREADS, 1, NAN, 15 * MIN, 15 * MIN, 15 * MIN, 0,
     "OS threads rising steadily: blocking syscalls, cgo calls or locked threads that never end"},
    {"shared-objects-rate", WRULE_RATE, WS_SHARED_OBJECTS, 0.1, NAN, 30 * MIN, 30 * MIN, 30 * MIN, 0,
     "shared objects mapped rising steadily: plugins or libraries loaded again and again"},
    /* runtime and cgroup */
    {"gc-pause-cap", WRULE_CAP, WS_GC_PAUSE, 0.010, 0.100, 1 * MIN, 1 * MIN, 5 * MIN, 0,
     "stop-the-world GC pauses of 10 ms or more stall every request"},
    {"gc-cpu-cap", WRULE_CAP, WS_GC_CPU_FRACTION, 0.10, 0.25, 5 * MIN, 5 * MIN, 10 * MIN, 0,
     "the GC takes a large share of the CPU: the heap is too small for the allocation rate"},
    {"cpu-throttled-rate", WRULE_CAP, WS_CPU_THROTTLED, 6, 30, 2 * MIN, 5 * MIN, 5 * MIN, 0,
     "the cgroup throttles the service for seconds of every minute: latency spikes"},
    /* scan's rules, run on the target's last samples at every poll */
    {"lock-pileup", WRULE_SCAN, WS_COUNT, NAN, NAN, 1 * MIN, 1 * MIN, 5 * MIN, 0,
     "many goroutines queued on one Lock call"},
    {"http-pool-exhaustion", WRULE_SCAN, WS_COUNT, NAN, NAN, 1 * MIN, 1 * MIN, 5 * MIN, 0,
     "requests waiting for a pooled connection"},
    {"upstream-wait", WRULE_SCAN, WS_COUNT, NAN, NAN, 1 * MIN, 1 * MIN, 5 * MIN, 0,
     "outbound requests waiting on an upstream's response"},
    {"init-blocked", WRULE_SCAN, WS_COUNT, NAN, NAN, 0, 0, 5 * MIN, 0,
     "goroutines started by a package init, blocked since start-up"},
    {"gomaxprocs-quota", WRULE_SCAN, WS_COUNT, NAN, NAN, 0, 0, 5 * MIN, 0,
     "GOMAXPROCS above the cgroup CPU quota"},
    {"cpu-throttling", WRULE_SCAN, WS_COUNT, NAN, NAN, 1 * MIN, 1 * MIN, 5 * MIN, 0,
     "the cgroup throttles the service's CPU"},
    {"memory-limit", WRULE_SCAN, WS_COUNT, NAN, NAN, 0, 0, 5 * MIN, 0,
     "close to the cgroup memory limit or GOMEMLIMIT, or OOM kills"},
    {"fd-leak", WRULE_SCAN, WS_COUNT, NAN, NAN, 1 * MIN, 1 * MIN, 5 * MIN, 0,
     "open descriptors growing across the last samples, or near RLIMIT_NOFILE"},
};

const wrule_def *wrules_table(size_t *n)
{
    *n = sizeof rules / sizeof *rules;
    return rules;
}

const wrule_def *wrule_find(const char *id)
{
    if (!id) return NULL;
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (strcmp(rules[i].id, id) == 0) return &rules[i];
    return NULL;
}

static const struct {
    const char *name, *unit;
} series[WS_COUNT] = {
    [WS_GOROUTINES] = {"goroutines", ""},
    [WS_TOP_GROUP] = {"top_group_goroutines", ""},
    [WS_HEAP_INUSE] = {"heap_inuse_bytes", "bytes"},
    [WS_HEAP_GOAL] = {"heap_goal_bytes", "bytes"},
    [WS_RSS] = {"rss_bytes", "bytes"},
    [WS_FDS] = {"open_fds", ""},
    [WS_FD_LIMIT] = {"fd_limit", ""},
    [WS_THREADS] = {"threads", ""},
    [WS_SHARED_OBJECTS] = {"shared_objects", ""},
    [WS_GC_CPU_FRACTION] = {"gc_cpu_fraction", "ratio"},
    [WS_GC_PAUSE] = {"gc_pause_seconds", "seconds"},
    [WS_CPU_USED] = {"cpu_seconds", "seconds"},
    [WS_CPU_THROTTLED] = {"cpu_throttled_seconds", "seconds"},
};

const char *wseries_name(wseries_id id)
{
    return (unsigned)id < WS_COUNT ? series[id].name : "?";
}

const char *wseries_unit(wseries_id id)
{
    return (unsigned)id < WS_COUNT ? series[id].unit : "";
}

/* /proc's figure when it was read (its fields are -1 when unreadable),
 * else the runtime's own (NAN when absent). */
static double proc_or(const scan_sample *s, int64_t proc_value, double stats_value)
{
    if (s->has_proc && proc_value >= 0) return (double)proc_value;
    return s->has_stats ? stats_value : NAN;
}

static double stat(const scan_sample *s, double v)
{
    return s->has_stats ? v : NAN;
}

static double top_group(const gmodel *m)
{
    uint64_t top = 0;
    for (size_t i = 0; i < m->ngroups; i++)
        if (m->groups[i].count > top) top = m->groups[i].count;
    return (double)top;
}

/* RLIMIT_NOFILE: -1 in the snapshot is "unlimited", which no count can
 * approach, so it is no limit at all (NAN), not a limit of -1. */
static double fd_limit(const scan_sample *s)
{
    if (s->has_proc && s->proc.nofile_soft > 0) return (double)s->proc.nofile_soft;
    if (s->has_proc && s->proc.nofile_soft == -1 && s->proc.open_fds >= 0) return NAN;
    double v = stat(s, s->stats.max_fds);
    return v > 0 ? v : NAN;
}

static double cpu_used(const scan_sample *s)
{
    if (!s->has_proc || s->proc.utime < 0 || s->proc.stime < 0) return NAN;
    return s->proc.utime + s->proc.stime;
}

static double cpu_throttled(const scan_sample *s)
{
    if (!s->has_cgroup || s->cgroup.cpu_version == 0 || s->cgroup.throttled_seconds < 0) return NAN;
    return s->cgroup.throttled_seconds;
}

void wpoint_from_sample(const scan_sample *s, double t, wpoint *p)
{
    p->t = t;
    if (!s) { /* no sample: a point with nothing in it */
        for (int i = 0; i < WS_COUNT; i++) p->v[i] = NAN;
        return;
    }
    const gostats *st = &s->stats;
    p->v[WS_GOROUTINES] = s->goroutines ? (double)s->goroutines->total : stat(s, st->goroutines);
    p->v[WS_TOP_GROUP] = s->goroutines ? top_group(s->goroutines) : NAN;
    p->v[WS_HEAP_INUSE] = stat(s, st->heap_inuse);
    p->v[WS_HEAP_GOAL] = stat(s, st->next_gc);
    p->v[WS_RSS] = proc_or(s, s->proc.vm_rss, st->resident_bytes);
    p->v[WS_FDS] = proc_or(s, s->proc.open_fds, st->open_fds);
    p->v[WS_FD_LIMIT] = fd_limit(s);
    p->v[WS_THREADS] = proc_or(s, s->proc.threads, st->threads);
    p->v[WS_SHARED_OBJECTS] = s->has_proc && s->proc.mapped_so >= 0 ? (double)s->proc.mapped_so : NAN;
    p->v[WS_GC_CPU_FRACTION] = stat(s, st->gc_cpu_fraction);
    p->v[WS_GC_PAUSE] = stat(s, st->pause_max_ns / 1e9);
    p->v[WS_CPU_USED] = cpu_used(s);
    p->v[WS_CPU_THROTTLED] = cpu_throttled(s);
}
