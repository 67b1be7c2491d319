/* watch.h - the types every part of `reef watch` shares.
 *
 * reef watch is a layer above scan's flow, not beside it: per target, a
 * scan_collector (collect_scan.h) takes one sample per poll; the numbers of
 * the sample go into fixed-size series (wdetect.h), scan's own rules run on
 * the last few samples, and watch's rules (level over a learnt baseline,
 * rate, burst, absolute caps) run on the series.  What changes (a finding
 * opened, escalated or resolved; a target down, up or restarted) becomes a
 * wfinding or a target event, which the outputs take: the event log
 * (wevents.h), the captures (wcapture.h) and the hooks (whooks.h).
 *
 * Ownership: nothing in these structs is heap-allocated.  Fixed-size
 * strings keep an agent that runs for months from growing, and let a
 * struct be copied between threads as it is. */
#ifndef REEF_WATCH_WATCH_H
#define REEF_WATCH_WATCH_H

#include "../model/findings.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WATCH_NAME_MAX 64     /* a target's or a rule's name, with the NUL */
#define WATCH_TEXT_MAX 256    /* one line a person reads */
#define WATCH_PATH_MAX 512

/* ---- series ----------------------------------------------------------------
 * The numbers sampled at every poll, one ring each per target.  A value a
 * poll could not have is NAN.  The names are those of the series in JSON,
 * captures and (issue 11) Prometheus, without the reef_ prefix. */
typedef enum wseries_id {
    WS_GOROUTINES = 0,        /* "goroutines" */
    WS_TOP_GROUP,             /* "top_group_goroutines": the largest stack group of debug=1 */
    WS_HEAP_INUSE,            /* "heap_inuse_bytes" */
    WS_HEAP_GOAL,             /* "heap_goal_bytes" */
    WS_RSS,                   /* "rss_bytes" */
    WS_FDS,                   /* "open_fds" */
    WS_FD_LIMIT,              /* "fd_limit" (RLIMIT_NOFILE soft) */
    WS_THREADS,               /* "threads" */
    WS_SHARED_OBJECTS,        /* "shared_objects" mapped */
    WS_GC_CPU_FRACTION,       /* "gc_cpu_fraction" (0..1) */
    WS_GC_PAUSE,              /* "gc_pause_seconds": the longest of the recent pauses */
    WS_CPU_USED,              /* "cpu_seconds": user+system, cumulative */
    WS_CPU_THROTTLED,         /* "cpu_throttled_seconds": cgroup, cumulative */
    WS_COUNT
} wseries_id;

/* One poll's numbers.  t is wall-clock seconds (CLOCK_REALTIME). */
typedef struct wpoint {
    double t;
    double v[WS_COUNT];
} wpoint;

/* ---- findings ---------------------------------------------------------------- */

typedef enum wchange {
    WCHANGE_OPENED = 0,       /* a finding appeared (at warn or crit) */
    WCHANGE_ESCALATED,        /* warn -> crit */
    WCHANGE_RESOLVED,         /* clear for long enough */
} wchange;

const char *wchange_name(wchange c);   /* "opened", "escalated", "resolved" */

#define WFINDING_MAX_EVIDENCE 6

/* A finding of one target at the moment it changed.  For a watch rule on a
 * series, value/baseline/threshold are the figures that decided; for a
 * scan rule (rule id as in docs/scan.md) they are NAN and the evidence
 * lines are scan's. */
typedef struct wfinding {
    char target[WATCH_NAME_MAX];
    char rule[WATCH_NAME_MAX];
    wchange change;
    severity sev;             /* after the change (for resolved: what it was) */
    severity prev_sev;        /* before an escalation */
    double at;                /* wall-clock seconds of the change */
    double since;             /* when the finding opened */
    wseries_id series;        /* WS_COUNT for a scan rule */
    double value, baseline, threshold;
    char title[WATCH_TEXT_MAX];
    char evidence[WFINDING_MAX_EVIDENCE][WATCH_TEXT_MAX];
    size_t nevidence;
    int pid;                  /* of the target at the change, 0 if none */
    char url[WATCH_PATH_MAX]; /* base URL, "" if none */
    char capture[WATCH_PATH_MAX]; /* the capture directory written for it, "" if none */
} wfinding;

/* ---- target events ----------------------------------------------------------- */

typedef enum wtarget_event {
    WEVENT_UP = 0,            /* first answer, or answering again after down */
    WEVENT_DOWN,              /* neither the URL nor the pid answers */
    WEVENT_RESTART,           /* same executable and arguments, new pid */
    WEVENT_BACKOFF,           /* busy answers: polled less often */
    WEVENT_RECOVERED,         /* back to its interval */
    WEVENT_CAPTURE_FAILED,    /* a capture could not be written (disk full, ...) */
    WEVENT_HOOK,              /* a hook ran: its exit status and output */
    WEVENT_AGENT,             /* the agent itself: started, reloaded, reload refused, stopping
                               * (target is "" for these) */
} wtarget_event;

/* "up", "down", "restart", "backoff", "recovered", "capture-failed",
 * "hook", "agent" */
const char *wtarget_event_name(wtarget_event e);

#endif
