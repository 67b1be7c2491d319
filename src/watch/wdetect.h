/* wdetect.h - what reef watch concludes from a target's series over time.
 *
 * Per target, a wdetect holds:
 *   - one fixed-size ring per series (the last WDETECT_POINTS polls), so
 *     the agent's memory does not grow with uptime;
 *   - a baseline per series, learnt over a learning period, then rolled on
 *     a robust statistic that does not follow a leak upwards;
 *   - the alert state of every rule: pending, open (warn or crit),
 *     clearing, with hysteresis and cooldown so that a noisy series does not
 *     flap.
 * Rules are entries of a table in wrules.c (id, kind, series, defaults,
 * reason; docs/watch.md lists them): level over the baseline for a
 * duration, sustained rate, burst between two polls, absolute caps, and
 * scan's own rules run on the last few samples.
 *
 * Not thread-safe: one wdetect belongs to one target's thread. */
#ifndef REEF_WATCH_WDETECT_H
#define REEF_WATCH_WDETECT_H

#include "watch.h"
#include "wconfig.h"
#include "../model/evidence.h"
#include "../util/buf.h"

/* Ring size: an hour at the default 15 s interval is 240 polls; at a 1 s
 * interval the ring covers the last WDETECT_POINTS seconds. */
#define WDETECT_POINTS 512

typedef enum wrule_kind {
    WRULE_LEVEL = 0,          /* value above baseline * (1 + threshold) for a duration */
    WRULE_RATE,               /* rise per minute sustained over the duration */
    WRULE_BURST,              /* rise between two consecutive polls */
    WRULE_CAP,                /* value above an absolute threshold (or a fraction of a limit) */
    WRULE_SCAN,               /* one of scan's rules on the last samples */
} wrule_kind;

/* One entry of the rule table (wrules.c). */
typedef struct wrule_def {
    const char *id;           /* "goroutines-level", ... or scan's id ("lock-pileup") */
    wrule_kind kind;
    wseries_id series;        /* WS_COUNT for WRULE_SCAN */
    double warn, crit;        /* default thresholds (NAN: that severity is not raised) */
    double warn_for, crit_for, clear_for; /* default durations, seconds */
    double min_excess;        /* level rules: the least rise over the baseline that
                               * counts, in the series' unit (0: none), so that a
                               * small service's ordinary growth is not a finding */
    const char *reason;       /* why it is a problem, one line */
} wrule_def;

/* The table, and a lookup by id (NULL if unknown). */
const wrule_def *wrules_table(size_t *n);
const wrule_def *wrule_find(const char *id);

const char *wseries_name(wseries_id id); /* "goroutines", "heap_inuse_bytes", ... */
/* "bytes", "seconds", "" (a count), "ratio" */
const char *wseries_unit(wseries_id id);

/* The numbers of a scan sample as a point (NAN where the sample lacks
 * them).  t is the sample's wall-clock time. */
void wpoint_from_sample(const scan_sample *s, double t, wpoint *p);

typedef struct wdetect wdetect;

wdetect *wdetect_new(void);
void wdetect_free(wdetect *d);
/* After a restart: the series continue (the restart shows in them), but
 * baselines are learnt again, counters (cpu) restart, and findings on the
 * old process resolve (returned through wdetect_step's out as resolved). */
void wdetect_restart(wdetect *d);

/* Adds point p, runs every enabled rule (window: the last samples of the
 * target as scan evidence, for the scan rules; may be NULL), and writes
 * what changed into out (at most max; more are kept for the next call).
 * conf/tconf give the thresholds (wconfig_rule); conf NULL: the defaults.
 * Returns how many.  The scan rules classify the window's goroutine
 * models in place (scan_analyze: classes set, groups sorted), so window
 * must be the caller's own evidence, not shared with another thread. */
size_t wdetect_step(wdetect *d, const wpoint *p, const scan_evidence *window, const wconfig *conf,
                    const wtarget_conf *tconf, wfinding *out, size_t max);

/* The findings open now (at most max). */
size_t wdetect_open(const wdetect *d, wfinding *out, size_t max);
/* The latest point, or NULL before the first. */
const wpoint *wdetect_last(const wdetect *d);
/* The baseline of a series, NAN while learning. */
double wdetect_baseline(const wdetect *d, wseries_id id);

/* The points since `since` (wall seconds) as JSON:
 * {"series":["goroutines",...],"t":[...],"goroutines":[...],...} with null
 * for NAN, plus "baseline":{"goroutines":N,...}. */
void wdetect_series_json(const wdetect *d, double since, buf *out);

#endif
