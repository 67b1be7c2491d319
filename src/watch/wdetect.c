/* wdetect.c - series, baselines, rule evaluation and the alert state of
 * every rule, for one target.
 *
 * A step is: the point goes into the ring; every enabled rule gives a
 * verdict on the ring (clear, between, warn, crit, or unknown when the
 * figures are missing); the verdict drives the rule's state machine, whose
 * transitions are queued as wfindings; the baselines are rolled on the
 * points no rule objected to.  docs/watch.md ("## Rules") says why each
 * rule and each constant below holds.
 *
 * Memory is fixed at wdetect_new: nothing is allocated per step except by
 * scan_analyze for the scan rules (its report is freed in the same step). */
#include "wdetect.h"
#include "../analyze/scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NRULES_MAX 32        /* entries of the table (checked by wdetect_new) */
#define QUEUE_MAX 32         /* changes waiting for the caller; oldest dropped beyond */
#define BASE_EVERY 60.0      /* seconds between two rolls of a baseline */
#define BASE_RISE_HOUR 0.10  /* a baseline rises by at most 10% an hour */
#define LEARN_MIN_POINTS 3   /* a baseline needs at least this many points */
#define LEVEL_CLEAR 0.8      /* level: clear below baseline * (1 + 0.8 * warn) */
#define CAP_CLEAR 0.9        /* cap: clear below 90% of the warn threshold */
#define RATE_CLEAR 0.5       /* rate: clear below half the warn rate */
#define RATE_PARTS 8         /* a rate window is cut in eighths; their lows must rise */
#define RATE_MIN_REL 0.01    /* and rise by 1% of the first low at least */
#define BURST_NOISE 8.0      /* a burst is 8 times the series' median step at least */
#define BURST_HISTORY 64     /* steps the median is taken over */
#define BURST_MIN_STEPS 8    /* steps needed before a burst can be told from noise */
#define DEFAULT_LEARN 600.0
#define DEFAULT_BASE_WINDOW 3600.0

typedef enum cond { C_UNKNOWN = -1, C_CLEAR = 0, C_BETWEEN, C_WARN, C_CRIT } cond;

/* A rule's reading of the ring at one step. */
typedef struct verdict {
    cond c;
    double value, baseline, threshold;
    double prev;              /* burst: the value one poll before */
    const finding *scan;      /* scan rule: scan's finding, NULL if none */
} verdict;

/* Settings of one rule for this target: the table's defaults under the
 * configuration's overrides. */
typedef struct rparams {
    bool on;
    double warn, crit, warn_for, crit_for, clear_for;
} rparams;

typedef struct rstate {
    bool open;
    severity sev;
    double warn_since, crit_since, clear_since; /* NAN: not holding now */
    double cooldown_until;
    wfinding f;               /* the finding as it opened or escalated */
} rstate;

struct wdetect {
    wpoint pts[WDETECT_POINTS];
    uint16_t held[WDETECT_POINTS]; /* bit per series: kept out of the baseline */
    size_t head, n;           /* next slot to write; points held */
    double epoch;             /* t of the first point of this process, NAN before */
    double learn;             /* the learning period in force (conf->learn) */
    double first[WS_COUNT];   /* first valid point of each series in the epoch */
    double base[WS_COUNT], base_at[WS_COUNT];
    const wrule_def *rules;
    size_t nrules;
    rstate rs[NRULES_MAX];
    wfinding queue[QUEUE_MAX];
    size_t qhead, qn;
    double scratch[WDETECT_POINTS];
};

/* ---- the ring ---------------------------------------------------------- */

/* Slot of the k-th newest point (0 = newest). */
static size_t slot(const wdetect *d, size_t k)
{
    return (d->head + 2 * WDETECT_POINTS - 1 - k) % WDETECT_POINTS;
}

static const wpoint *nth(const wdetect *d, size_t k)
{
    return &d->pts[slot(d, k)];
}

static bool cumulative(wseries_id s)
{
    return s == WS_CPU_USED || s == WS_CPU_THROTTLED;
}

/* What rules see of series s at the k-th newest point: the value, or for
 * a cumulative counter its rise per minute since the point before (NAN
 * across a restart, a gap or a counter reset). */
static double seen(const wdetect *d, wseries_id s, size_t k)
{
    const wpoint *p = nth(d, k);
    if (!cumulative(s)) return p->v[s];
    if (k + 1 >= d->n) return NAN;
    const wpoint *q = nth(d, k + 1);
    double dv = p->v[s] - q->v[s], dt = p->t - q->t;
    if (q->t < d->epoch || isnan(dv) || dv < 0 || dt <= 0) return NAN;
    return dv / dt * 60;
}

/* Points of the current process from the newest back: how many have t at
 * or after `from`. */
static size_t points_since(const wdetect *d, double from)
{
    size_t k = 0;
    while (k < d->n && nth(d, k)->t >= from && nth(d, k)->t >= d->epoch) k++;
    return k;
}

/* ---- baselines --------------------------------------------------------- */

/* The k-th smallest of v[0..n) (Hoare's selection, in place): no
 * allocation, linear on average. */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                double x = v[i];
                v[i] = v[j];
                v[j] = x;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return v[k];
    }
    return v[k];
}

/* Median of the points of s since `from` that no rule held back; NAN when
 * there are fewer than LEARN_MIN_POINTS. */
static double fed_median(wdetect *d, wseries_id s, double from)
{
    size_t m = 0, k = points_since(d, from);
    for (size_t i = 0; i < k; i++) {
        double v = nth(d, i)->v[s];
        if (!isnan(v) && !(d->held[slot(d, i)] & (1u << s))) d->scratch[m++] = v;
    }
    if (m < LEARN_MIN_POINTS) return NAN;
    double hi = select_kth(d->scratch, m, m / 2);
    if (m % 2) return hi;
    double lo = d->scratch[0]; /* the largest of the lower half, left below m / 2 */
    for (size_t i = 1; i < m / 2; i++)
        if (d->scratch[i] > lo) lo = d->scratch[i];
    return (lo + hi) / 2;
}

/* Learnt once the series has been seen for the learning period; then
 * rolled every BASE_EVERY on the window's median, rising at most
 * BASE_RISE_HOUR an hour so that a leak the rules have not caught yet
 * drags it up slowly; falling freely. */
static void roll_baseline(wdetect *d, wseries_id s, double now, double learn, double window)
{
    if (cumulative(s) || isnan(d->first[s])) return;
    if (isnan(d->base[s])) {
        if (now - d->first[s] < learn) return;
        d->base[s] = fed_median(d, s, d->epoch);
        d->base_at[s] = now;
        return;
    }
    if (now - d->base_at[s] < BASE_EVERY) return;
    double med = fed_median(d, s, now - window);
    if (!isnan(med)) {
        double old = d->base[s];
        double cap = old + fabs(old) * BASE_RISE_HOUR * (now - d->base_at[s]) / 3600;
        d->base[s] = med > cap ? cap : med;
    }
    d->base_at[s] = now;
}

/* ---- verdicts ---------------------------------------------------------- */

static double lowest_threshold(const rparams *rp)
{
    return isnan(rp->warn) ? rp->crit : rp->warn;
}

/* The rise over the baseline a level threshold stands for: the fraction,
 * but never less than the rule's floor. */
static double excess(double baseline, double fraction, double least)
{
    double e = baseline * fraction;
    return e > least ? e : least;
}

/* Above baseline + excess; clear at or below LEVEL_CLEAR of the excess. */
static verdict v_level(const wdetect *d, const wrule_def *def, const rparams *rp)
{
    wseries_id s = def->series;
    verdict v = {.c = C_UNKNOWN, .value = seen(d, s, 0), .baseline = d->base[s]};
    double low = lowest_threshold(rp);
    if (isnan(v.value) || isnan(v.baseline) || isnan(low)) return v;
    double b = v.baseline, least = def->min_excess;
    v.threshold = b + excess(b, low, least);
    if (!isnan(rp->crit) && v.value > b + excess(b, rp->crit, least)) {
        v.c = C_CRIT;
        v.threshold = b + excess(b, rp->crit, least);
    } else if (!isnan(rp->warn) && v.value > v.threshold) v.c = C_WARN;
    else v.c = v.value <= b + LEVEL_CLEAR * excess(b, low, least) ? C_CLEAR : C_BETWEEN;
    return v;
}

/* A cap on open_fds is a fraction of the descriptor limit; other caps are
 * values of the series itself (per minute for a cumulative counter). */
static wseries_id limit_of(wseries_id s)
{
    return s == WS_FDS ? WS_FD_LIMIT : WS_COUNT;
}

static verdict v_cap(const wdetect *d, wseries_id s, const rparams *rp)
{
    verdict v = {.c = C_UNKNOWN, .value = seen(d, s, 0), .baseline = NAN};
    double scale = 1, low = lowest_threshold(rp);
    if (limit_of(s) != WS_COUNT) scale = nth(d, 0)->v[limit_of(s)];
    if (isnan(v.value) || isnan(scale) || isnan(low)) return v;
    v.baseline = limit_of(s) != WS_COUNT ? scale : NAN;
    v.threshold = low * scale;
    if (!isnan(rp->crit) && v.value >= rp->crit * scale) {
        v.c = C_CRIT;
        v.threshold = rp->crit * scale;
    } else if (!isnan(rp->warn) && v.value >= v.threshold) v.c = C_WARN;
    else v.c = v.value < CAP_CLEAR * v.threshold ? C_CLEAR : C_BETWEEN;
    return v;
}

/* The lows of the eighths of the window [now - span, now] into lows[];
 * false when an eighth has no value. */
static bool window_lows(const wdetect *d, wseries_id s, double span, size_t k, double *lows)
{
    double now = nth(d, 0)->t;
    for (size_t j = 0; j < RATE_PARTS; j++) lows[j] = NAN;
    for (size_t i = 0; i < k; i++) {
        double x = seen(d, s, i);
        if (isnan(x)) continue;
        size_t part = (size_t)((span - (now - nth(d, i)->t)) / span * RATE_PARTS);
        if (part >= RATE_PARTS) part = RATE_PARTS - 1;
        if (isnan(lows[part]) || x < lows[part]) lows[part] = x;
    }
    for (size_t j = 0; j < RATE_PARTS; j++)
        if (isnan(lows[j])) return false;
    return true;
}

/* The lows never fall, rise in half the steps at least, and the second
 * half of the window carries a quarter of the rise: a leak at work, not a
 * single step (a pool filling once) and not noise (eight lows of noise
 * are in order once in 40 320 windows). */
static bool lows_rise(const double *l, double *rise)
{
    unsigned up = 0;
    for (size_t j = 1; j < RATE_PARTS; j++) {
        if (l[j] < l[j - 1]) return false;
        up += l[j] > l[j - 1];
    }
    *rise = l[RATE_PARTS - 1] - l[0];
    return up >= RATE_PARTS / 2 && l[RATE_PARTS - 1] - l[RATE_PARTS / 2] >= *rise / 4 &&
           *rise >= RATE_MIN_REL * fabs(l[0]) && *rise > 0;
}

/* The rise per minute of the window's lows.  The window is warn_for, or
 * the whole ring when the ring is full before it spans warn_for. */
static verdict v_rate(const wdetect *d, wseries_id s, const rparams *rp)
{
    verdict v = {.c = C_UNKNOWN, .value = NAN, .baseline = NAN};
    double now = nth(d, 0)->t, span = rp->warn_for > 0 ? rp->warn_for : 600;
    if (now - d->epoch < d->learn) return v; /* a start-up ramp is not a leak */
    size_t k = points_since(d, now - span);
    bool older = k < d->n && nth(d, k)->t >= d->epoch; /* the ring reaches past the window */
    if (!older && k < WDETECT_POINTS && (k == 0 || now - nth(d, k - 1)->t < span * 0.95)) return v;
    if (!older && k == WDETECT_POINTS) span = now - nth(d, k - 1)->t;
    double lows[RATE_PARTS], rise;
    if (span <= 0 || !window_lows(d, s, span, k, lows)) return v;
    bool grows = lows_rise(lows, &rise);
    v.baseline = lows[0];
    v.value = (lows[RATE_PARTS - 1] - lows[0]) / (span * (RATE_PARTS - 1) / RATE_PARTS) * 60;
    v.threshold = lowest_threshold(rp);
    if (isnan(v.threshold)) return v;
    if (grows && !isnan(rp->crit) && v.value >= rp->crit) {
        v.c = C_CRIT;
        v.threshold = rp->crit;
    } else if (grows && !isnan(rp->warn) && v.value >= rp->warn) v.c = C_WARN;
    else v.c = v.value < RATE_CLEAR * v.threshold ? C_CLEAR : C_BETWEEN;
    return v;
}

/* The median step (absolute) of series s over the last BURST_HISTORY
 * polls before the newest, or NAN with fewer than BURST_MIN_STEPS. */
static double median_step(wdetect *d, wseries_id s)
{
    size_t m = 0;
    for (size_t k = 1; k + 1 < d->n && k <= BURST_HISTORY; k++) {
        if (nth(d, k + 1)->t < d->epoch) break;
        double x = fabs(seen(d, s, k) - seen(d, s, k + 1));
        if (!isnan(x)) d->scratch[m++] = x;
    }
    return m < BURST_MIN_STEPS ? NAN : select_kth(d->scratch, m, m / 2);
}

/* A rise between two consecutive polls of at least warn, and at least
 * BURST_NOISE times the series' median step (so that a busy, noisy series
 * does not burst on its own noise).  The median, unlike a mean, is not
 * moved by earlier bursts; it is computed only when a rise is large enough
 * to matter. */
static verdict v_burst(wdetect *d, wseries_id s, const rparams *rp)
{
    verdict v = {.c = C_UNKNOWN, .value = seen(d, s, 0), .baseline = NAN, .prev = NAN};
    if (d->n < 2 || nth(d, 1)->t < d->epoch) return v;
    v.prev = seen(d, s, 1);
    double low = lowest_threshold(rp);
    if (isnan(v.value) || isnan(v.prev) || isnan(low)) return v;
    double rise = v.value - v.prev;
    v.baseline = v.prev;
    v.threshold = low;
    v.c = C_CLEAR;
    if (rise < low) return v;
    double noise = median_step(d, s);
    if (isnan(noise) || rise < BURST_NOISE * noise) return v;
    if (!isnan(rp->crit) && rise >= rp->crit) {
        v.c = C_CRIT;
        v.threshold = rp->crit;
    } else if (!isnan(rp->warn) && rise >= rp->warn) v.c = C_WARN;
    return v;
}

/* Scan's verdict for one of its rules: its most severe finding; unknown
 * when scan skipped the rule or there was no window. */
static verdict v_scan(report *r, const char *id)
{
    verdict v = {.c = C_UNKNOWN, .value = NAN, .baseline = NAN, .threshold = NAN};
    const check *c = r ? report_find_check(r, id) : NULL;
    if (!c || c->status == CHECK_SKIP) return v;
    v.c = C_CLEAR;
    for (size_t i = 0; i < r->nfindings; i++) {
        const finding *f = &r->findings[i];
        if (strcmp(f->rule, id) != 0 || f->sev == SEV_INFO) continue;
        cond c2 = f->sev == SEV_CRIT ? C_CRIT : C_WARN;
        if (c2 > v.c) {
            v.c = c2;
            v.scan = f;
        }
    }
    return v;
}

static verdict evaluate(wdetect *d, const wrule_def *def, const rparams *rp, report *r)
{
    switch (def->kind) {
    case WRULE_LEVEL: return v_level(d, def, rp);
    case WRULE_RATE: return v_rate(d, def->series, rp);
    case WRULE_BURST: return v_burst(d, def->series, rp);
    case WRULE_CAP: return v_cap(d, def->series, rp);
    case WRULE_SCAN: return v_scan(r, def->id);
    }
    return (verdict){.c = C_UNKNOWN};
}

/* ---- words ------------------------------------------------------------- */

static const char *fmt_value(char *out, size_t n, wseries_id s, double v)
{
    const char *unit = wseries_unit(s);
    if (isnan(v)) snprintf(out, n, "?");
    else if (strcmp(unit, "bytes") == 0) scan_fmt_bytes(out, n, v);
    else if (strcmp(unit, "seconds") == 0) snprintf(out, n, "%.3g s", v);
    else if (strcmp(unit, "ratio") == 0) snprintf(out, n, "%.1f%%", v * 100);
    else if (v == floor(v) && fabs(v) < 1e15) snprintf(out, n, "%.0f", v);
    else snprintf(out, n, "%.3g", v);
    return out;
}

static const char *fmt_dur(char *out, size_t n, double sec)
{
    if (sec >= 3600 && fmod(sec, 3600) == 0) snprintf(out, n, "%.0fh", sec / 3600);
    else if (sec >= 60 && fmod(sec, 60) == 0) snprintf(out, n, "%.0fm", sec / 60);
    else snprintf(out, n, "%.3gs", sec);
    return out;
}

/* "a → b → c": the last values rules saw of series s (at most 8). */
static void recent(const wdetect *d, wseries_id s, char *out, size_t n)
{
    size_t m = d->n < 8 ? d->n : 8, len = 0;
    out[0] = '\0';
    /* Each value in its unit: a pause of 0.369 s is not "0". */
    for (size_t i = 0; i < m && len < n; i++) {
        char one[48];
        fmt_value(one, sizeof one, s, seen(d, s, m - 1 - i));
        int w = snprintf(out + len, n - len, "%s%s", i ? " → " : "", one);
        if (w < 0) break;
        len += (size_t)w;
    }
}

static void describe_series(const wdetect *d, const wrule_def *def, const rparams *rp, const verdict *v,
                            wfinding *f)
{
    char a[48], b[48], c[48], dur[16];
    const char *name = wseries_name(def->series);
    fmt_value(a, sizeof a, def->series, v->value);
    fmt_value(b, sizeof b, def->series, v->baseline);
    switch (def->kind) {
    case WRULE_LEVEL:
        snprintf(f->title, sizeof f->title, "%s %s, %+.0f%% over the baseline of %s for %s", name, a,
                 (v->value / v->baseline - 1) * 100, b,
                 fmt_dur(dur, sizeof dur, f->sev == SEV_CRIT ? rp->crit_for : rp->warn_for));
        break;
    case WRULE_RATE:
        snprintf(f->title, sizeof f->title, "%s rising by %.3g a minute for %s (its lows from %s; %s at %.3g a minute)",
                 name, v->value, fmt_dur(dur, sizeof dur, rp->warn_for), b, severity_name(f->sev), v->threshold);
        break;
    case WRULE_BURST:
        fmt_value(c, sizeof c, def->series, v->value - v->prev);
        snprintf(f->title, sizeof f->title, "%s +%s between two polls (%s -> %s)", name, c,
                 fmt_value(b, sizeof b, def->series, v->prev), a);
        break;
    case WRULE_CAP:
        fmt_value(c, sizeof c, def->series, v->threshold);
        if (limit_of(def->series) != WS_COUNT)
            snprintf(f->title, sizeof f->title, "%s %s of a limit of %s (%.0f%%; %s at %s)", name, a, b,
                     v->value / v->baseline * 100, severity_name(f->sev), c);
        else
            snprintf(f->title, sizeof f->title, "%s %s%s (%s at %s)", name, a,
                     cumulative(def->series) ? " a minute" : "", severity_name(f->sev), c);
        break;
    case WRULE_SCAN: break;
    }
    char line[WATCH_TEXT_MAX - 16];
    snprintf(f->evidence[0], sizeof f->evidence[0], "%s", def->reason);
    recent(d, def->series, line, sizeof line);
    snprintf(f->evidence[1], sizeof f->evidence[1], "last polls: %s", line);
    f->nevidence = 2;
}

static void describe_scan(const wrule_def *def, const verdict *v, wfinding *f)
{
    const finding *s = v->scan;
    snprintf(f->title, sizeof f->title, "%s", s && s->title ? s->title : def->reason);
    f->nevidence = 0;
    for (size_t i = 0; s && i < s->nevidence && f->nevidence < WFINDING_MAX_EVIDENCE; i++)
        snprintf(f->evidence[f->nevidence++], sizeof f->evidence[0], "%s", s->evidence[i]);
}

/* ---- the state machine ------------------------------------------------- */

static void queue(wdetect *d, const wfinding *f)
{
    if (d->qn == QUEUE_MAX) { /* the caller is not draining: the oldest change goes */
        d->qhead = (d->qhead + 1) % QUEUE_MAX;
        d->qn--;
    }
    d->queue[(d->qhead + d->qn) % QUEUE_MAX] = *f;
    d->qn++;
}

static void fill(const wdetect *d, const wrule_def *def, const rparams *rp, const verdict *v, wfinding *f)
{
    snprintf(f->rule, sizeof f->rule, "%s", def->id);
    f->series = def->series;
    f->value = v->value;
    f->baseline = v->baseline;
    f->threshold = v->threshold;
    if (def->kind == WRULE_SCAN) describe_scan(def, v, f);
    else describe_series(d, def, rp, v, f);
}

static void open_finding(wdetect *d, size_t i, const rparams *rp, const verdict *v, severity sev, double now)
{
    rstate *r = &d->rs[i];
    memset(&r->f, 0, sizeof r->f);
    r->open = true;
    r->sev = sev;
    r->f.change = WCHANGE_OPENED;
    r->f.sev = r->f.prev_sev = sev;
    r->f.at = r->f.since = now;
    fill(d, &d->rules[i], rp, v, &r->f);
    queue(d, &r->f);
}

static void escalate(wdetect *d, size_t i, const rparams *rp, const verdict *v, double now)
{
    rstate *r = &d->rs[i];
    r->sev = SEV_CRIT;
    r->f.change = WCHANGE_ESCALATED;
    r->f.prev_sev = SEV_WARN;
    r->f.sev = SEV_CRIT;
    r->f.at = now;
    fill(d, &d->rules[i], rp, v, &r->f);
    queue(d, &r->f);
}

/* Queues the resolution of rule i with why in words, and forgets its state
 * (cooldown: it cannot open again at warn before cooldown_until). */
static void resolve(wdetect *d, size_t i, double now, double value, double cooldown, const char *why)
{
    rstate *r = &d->rs[i];
    wfinding f = r->f;
    f.change = WCHANGE_RESOLVED;
    f.prev_sev = f.sev = r->sev;
    f.at = now;
    f.value = value;
    snprintf(f.title, sizeof f.title, "resolved: %.*s", WATCH_TEXT_MAX - 11, why);
    snprintf(f.evidence[0], sizeof f.evidence[0], "was: %.*s", WATCH_TEXT_MAX - 6, r->f.title);
    f.nevidence = 1;
    queue(d, &f);
    r->open = false;
    r->warn_since = r->crit_since = r->clear_since = NAN;
    r->cooldown_until = now + cooldown;
}

static bool held_for(double since, double now, double dur)
{
    return !isnan(since) && now - since >= dur;
}

static void track(double *since, bool holds, double now)
{
    if (!holds) *since = NAN;
    else if (isnan(*since)) *since = now;
}

/* One rule's verdict through its state.  An unknown verdict (a failed
 * poll, figures the target does not give) changes nothing: timers keep
 * running across it, neither opening nor clearing. */
static void advance(wdetect *d, size_t i, const rparams *rp, const verdict *v, double now)
{
    rstate *r = &d->rs[i];
    const wrule_def *def = &d->rules[i];
    if (v->c == C_UNKNOWN) return;
    bool instant = def->kind == WRULE_RATE || def->kind == WRULE_BURST;
    double warn_for = instant ? 0 : rp->warn_for, crit_for = instant ? 0 : rp->crit_for;
    track(&r->warn_since, v->c >= C_WARN, now);
    track(&r->crit_since, v->c == C_CRIT, now);
    track(&r->clear_since, v->c == C_CLEAR, now);
    if (!r->open) {
        if (held_for(r->crit_since, now, crit_for)) open_finding(d, i, rp, v, SEV_CRIT, now);
        else if (held_for(r->warn_since, now, warn_for) && now >= r->cooldown_until)
            open_finding(d, i, rp, v, SEV_WARN, now);
        return;
    }
    if (r->sev == SEV_WARN && held_for(r->crit_since, now, crit_for)) escalate(d, i, rp, v, now);
    else if (held_for(r->clear_since, now, rp->clear_for)) {
        char why[WATCH_TEXT_MAX], val[48], dur[16];
        snprintf(why, sizeof why, "%s clear for %s%s%s", def->id, fmt_dur(dur, sizeof dur, rp->clear_for),
                 def->kind == WRULE_SCAN ? "" : ", now ",
                 def->kind == WRULE_SCAN ? "" : fmt_value(val, sizeof val, def->series, v->value));
        resolve(d, i, now, v->value, rp->clear_for, why);
    }
}

static rparams params(const wrule_def *def, const wconfig *conf, const wtarget_conf *tconf)
{
    rparams p = {true, def->warn, def->crit, def->warn_for, def->crit_for, def->clear_for};
    if (!conf) return p;
    wrule_conf m;
    const wrule_conf *o = wconfig_rule(conf, tconf, def->id, &m);
    if (!o) return p;
    if (o->enabled == 0) p.on = false;
    if (!isnan(o->warn)) p.warn = o->warn;
    if (!isnan(o->crit)) p.crit = o->crit;
    if (!isnan(o->warn_for)) p.warn_for = o->warn_for;
    if (!isnan(o->crit_for)) p.crit_for = o->crit_for;
    if (!isnan(o->clear_for)) p.clear_for = o->clear_for;
    return p;
}

static void reset_rule(rstate *r)
{
    memset(r, 0, sizeof *r);
    r->warn_since = r->crit_since = r->clear_since = NAN;
    r->cooldown_until = -INFINITY;
}

/* ---- the interface ----------------------------------------------------- */

static void reset_series(wdetect *d)
{
    d->epoch = NAN;
    for (int s = 0; s < WS_COUNT; s++) {
        d->first[s] = d->base[s] = d->base_at[s] = NAN;
    }
}

wdetect *wdetect_new(void)
{
    wdetect *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->rules = wrules_table(&d->nrules);
    if (d->nrules > NRULES_MAX) d->nrules = NRULES_MAX; /* a table grown past the state array */
    for (size_t i = 0; i < NRULES_MAX; i++) reset_rule(&d->rs[i]);
    reset_series(d);
    return d;
}

void wdetect_free(wdetect *d)
{
    free(d);
}

void wdetect_restart(wdetect *d)
{
    double now = d->n ? nth(d, 0)->t : 0;
    for (size_t i = 0; i < d->nrules; i++)
        if (d->rs[i].open) resolve(d, i, now, NAN, 0, "the process restarted; the new one is learnt afresh");
    for (size_t i = 0; i < d->nrules; i++) reset_rule(&d->rs[i]);
    reset_series(d);
}

static void add_point(wdetect *d, const wpoint *p)
{
    size_t at = d->head;
    d->pts[at] = *p;
    d->held[at] = 0;
    d->head = (d->head + 1) % WDETECT_POINTS;
    if (d->n < WDETECT_POINTS) d->n++;
    if (isnan(d->epoch)) d->epoch = p->t;
    for (int s = 0; s < WS_COUNT; s++)
        if (isnan(d->first[s]) && !isnan(p->v[s])) d->first[s] = p->t;
}

/* Series a watch rule is pending or open on: their newest point stays out
 * of the baseline, so that the baseline does not follow what is being
 * reported. */
static void hold_back(wdetect *d)
{
    uint16_t bits = 0;
    for (size_t i = 0; i < d->nrules; i++) {
        const rstate *r = &d->rs[i];
        if (d->rules[i].kind == WRULE_SCAN) continue;
        if (r->open || !isnan(r->warn_since) || !isnan(r->crit_since)) bits |= (uint16_t)(1u << d->rules[i].series);
    }
    d->held[slot(d, 0)] = bits;
}

static bool wants_scan(const wdetect *d, const rparams *rp)
{
    for (size_t i = 0; i < d->nrules; i++)
        if (d->rules[i].kind == WRULE_SCAN && rp[i].on) return true;
    return false;
}

static void run_rules(wdetect *d, scan_evidence *window, const rparams *rp, double now)
{
    report r;
    report_init(&r);
    bool scanned = window && window->nsamples && wants_scan(d, rp);
    if (scanned) {
        /* scan_analyze classifies the window's models in place (groups
         * sorted, classes set): the window is the target thread's own, and
         * an analysis of it is what any later reader wants anyway. */
        scan_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.now = (time_t)now;
        scan_analyze(window, &cfg, &r);
    }
    for (size_t i = 0; i < d->nrules; i++) {
        if (!rp[i].on) {
            if (d->rs[i].open) resolve(d, i, now, NAN, 0, "the rule was turned off");
            reset_rule(&d->rs[i]);
            continue;
        }
        verdict v = evaluate(d, &d->rules[i], &rp[i], scanned ? &r : NULL);
        advance(d, i, &rp[i], &v, now);
    }
    report_free(&r);
}

static size_t drain(wdetect *d, wfinding *out, size_t max)
{
    size_t k = 0;
    while (d->qn && k < max) {
        out[k++] = d->queue[d->qhead];
        d->qhead = (d->qhead + 1) % QUEUE_MAX;
        d->qn--;
    }
    return k;
}

size_t wdetect_step(wdetect *d, const wpoint *p, const scan_evidence *window, const wconfig *conf,
                    const wtarget_conf *tconf, wfinding *out, size_t max)
{
    /* A point not after the last one (the wall clock stepped back) would
     * break every duration: it is left out. */
    if (p && !isnan(p->t) && (d->n == 0 || p->t > nth(d, 0)->t)) {
        rparams rp[NRULES_MAX];
        for (size_t i = 0; i < d->nrules; i++) rp[i] = params(&d->rules[i], conf, tconf);
        d->learn = conf ? conf->learn : DEFAULT_LEARN;
        add_point(d, p);
        /* The caller's window is its own, not const data: scan_analyze
         * needs to classify it. */
        run_rules(d, (scan_evidence *)(uintptr_t)window, rp, p->t);
        hold_back(d);
        double span = conf ? conf->baseline_window : DEFAULT_BASE_WINDOW;
        for (int s = 0; s < WS_COUNT; s++) roll_baseline(d, (wseries_id)s, p->t, d->learn, span);
    }
    return drain(d, out, max);
}

size_t wdetect_open(const wdetect *d, wfinding *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < d->nrules && k < max; i++)
        if (d->rs[i].open) out[k++] = d->rs[i].f;
    return k;
}

const wpoint *wdetect_last(const wdetect *d)
{
    return d->n ? nth(d, 0) : NULL;
}

double wdetect_baseline(const wdetect *d, wseries_id id)
{
    return (unsigned)id < WS_COUNT ? d->base[id] : NAN;
}

static void json_num(buf *out, double v)
{
    if (isfinite(v)) buf_printf(out, "%.15g", v);
    else buf_puts(out, "null");
}

/* One array: the times (s == WS_COUNT) or the values of series s. */
static void json_array(const wdetect *d, size_t k, int s, buf *out)
{
    buf_putc(out, '[');
    for (size_t i = k; i-- > 0;) {
        const wpoint *p = nth(d, i);
        json_num(out, s == WS_COUNT ? p->t : p->v[s]);
        if (i) buf_putc(out, ',');
    }
    buf_putc(out, ']');
}

void wdetect_series_json(const wdetect *d, double since, buf *out)
{
    size_t k = 0;
    while (k < d->n && nth(d, k)->t >= since) k++;
    buf_puts(out, "{\"series\":[");
    for (int s = 0; s < WS_COUNT; s++) buf_printf(out, "%s\"%s\"", s ? "," : "", wseries_name((wseries_id)s));
    buf_puts(out, "],\"t\":");
    json_array(d, k, WS_COUNT, out);
    for (int s = 0; s < WS_COUNT; s++) {
        buf_printf(out, ",\"%s\":", wseries_name((wseries_id)s));
        json_array(d, k, s, out);
    }
    buf_puts(out, ",\"baseline\":{");
    for (int s = 0; s < WS_COUNT; s++) {
        buf_printf(out, "%s\"%s\":", s ? "," : "", wseries_name((wseries_id)s));
        json_num(out, d->base[s]);
    }
    buf_puts(out, "}}");
}
