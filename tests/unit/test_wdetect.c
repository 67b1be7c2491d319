/* test_wdetect.c - reef watch's detection: synthetic series driven through
 * wdetect_step at explicit times (the unit of logic is the series, so the
 * expected times are known exactly from how each series was built), and
 * one scan rule opening from a real capture of the zoo fixture (whose
 * truth file says what it holds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/evidence.h"
#include "parse/gdump.h"
#include "util/buf.h"
#include "watch/wconfig.h"
#include "watch/wdetect.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
/* ASan's allocator replaces malloc's accounting (declared here: the
 * sanitizer headers are not always installed). */
size_t __sanitizer_get_current_allocated_bytes(void);
#else
/* Every allocation counted, to check that a step makes none: glibc's own
 * allocator under the four names its manual says a replacement must
 * provide. */
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);
static size_t allocations;
void *malloc(size_t n)
{
    allocations++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    allocations++;
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    allocations++;
    return __libc_realloc(p, n);
}
void free(void *p)
{
    __libc_free(p);
}
#endif

#define STEP 15.0             /* the default poll interval */
#define MAXCH 16

static wconfig conf;          /* static: a wconfig is large */

static void conf_reset(void)
{
    wconfig_defaults(&conf);
    conf.learn = 600;
    conf.baseline_window = 3600;
}

/* A rule override in the global scope, as the YAML file would give it. */
static void conf_rule(const char *rule, double warn, double crit, double warn_for, double crit_for, double clear_for)
{
    wrule_conf *r = &conf.rules[conf.nrules++];
    memset(r, 0, sizeof *r);
    snprintf(r->rule, sizeof r->rule, "%s", rule);
    r->enabled = -1;
    r->warn = warn;
    r->crit = crit;
    r->warn_for = warn_for;
    r->crit_for = crit_for;
    r->clear_for = clear_for;
}

static void point(wpoint *p, double t)
{
    p->t = t;
    for (int s = 0; s < WS_COUNT; s++) p->v[s] = NAN;
}

typedef struct run {
    wdetect *d;
    wfinding ch[MAXCH];
    size_t n;
} run;

static size_t step_p(run *r, const wpoint *p)
{
    r->n = wdetect_step(r->d, p, NULL, &conf, NULL, r->ch, MAXCH);
    return r->n;
}

/* One poll with only the goroutine count. */
static size_t step_g(run *r, double t, double g)
{
    wpoint p;
    point(&p, t);
    p.v[WS_GOROUTINES] = g;
    return step_p(r, &p);
}

/* The change of `rule` in the last step, or NULL. */
static const wfinding *change_of(const run *r, const char *rule)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->ch[i].rule, rule) == 0) return &r->ch[i];
    return NULL;
}

static void no_changes(const run *r, double t)
{
    if (r->n) fail_msg("t=%.0f: unexpected %s %s (%s): %s", t, wchange_name(r->ch[0].change), r->ch[0].rule,
                       severity_name(r->ch[0].sev), r->ch[0].title);
}

/* Polls of goroutines g from *t (by STEP) while before `end`, none of which
 * may change anything. */
static void quiet(run *r, double *t, double end, double g)
{
    for (; *t < end; *t += STEP) {
        step_g(r, *t, g);
        no_changes(r, *t);
    }
}

/* A new detector that has learnt 200 goroutines (polls 0 to 885 s);
 * returns the time of the next poll, 900. */
static double learnt_200(run *r)
{
    conf_reset();
    r->d = wdetect_new();
    double t = 0;
    quiet(r, &t, 900, 200);
    return t;
}

/* Deterministic noise in [-1, 1] (an LCG), so that every run is the same. */
static double noise(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*state >> 11) / (double)(1ull << 53) * 2 - 1;
}

/* ---- the seeds' defaults --------------------------------------------------- */

/* 200 goroutines through the learning period; +35% from t=900 (WARN needs
 * +30% for 2 minutes: opens at 1020), +105% from t=1200 (CRIT needs +100%
 * for 5 minutes: escalates at 1500).  Steps of at most +140: no burst. */
static void seeds_warn_then_crit(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    bool opened = false, escalated = false;
    for (double t = 0; t <= 1800; t += STEP) {
        double g = t < 900 ? 200 : t < 1200 ? 270 : 410;
        step_g(&r, t, g);
        if (t == 1020) {
            assert_int_equal(r.n, 1);
            const wfinding *f = &r.ch[0];
            assert_string_equal(f->rule, "goroutines-level");
            assert_int_equal(f->change, WCHANGE_OPENED);
            assert_int_equal(f->sev, SEV_WARN);
            assert_true(f->value == 270 && f->baseline == 200 && f->threshold == 260);
            assert_true(f->since == 1020 && f->at == 1020);
            assert_int_equal(f->series, WS_GOROUTINES);
            assert_non_null(strstr(f->title, "+35% over the baseline of 200"));
            opened = true;
        } else if (t == 1500) {
            assert_int_equal(r.n, 1);
            const wfinding *f = &r.ch[0];
            assert_string_equal(f->rule, "goroutines-level");
            assert_int_equal(f->change, WCHANGE_ESCALATED);
            assert_int_equal(f->sev, SEV_CRIT);
            assert_int_equal(f->prev_sev, SEV_WARN);
            assert_true(f->since == 1020 && f->at == 1500 && f->threshold == 400);
            escalated = true;
        } else no_changes(&r, t);
    }
    assert_true(opened && escalated);
    wfinding open[4];
    assert_int_equal(wdetect_open(r.d, open, 4), 1);
    assert_int_equal(open[0].sev, SEV_CRIT);
    assert_true(wdetect_baseline(r.d, WS_GOROUTINES) == 200);
    assert_true(wdetect_last(r.d)->t == 1800);
    wdetect_free(r.d);
}

/* A doubling inside the learning period raises nothing, and the baseline
 * is NAN until the period ends. */
static void no_fire_while_learning(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    for (double t = 0; t < 600; t += STEP) {
        double g = t < 150 ? 200 : t < 300 ? 200 + (t - 135) / STEP * 20 : 400; /* +20 a poll up to 400 */
        step_g(&r, t, g);
        no_changes(&r, t);
        assert_true(isnan(wdetect_baseline(r.d, WS_GOROUTINES)));
    }
    step_g(&r, 600, 400);
    no_changes(&r, 600);
    assert_true(wdetect_baseline(r.d, WS_GOROUTINES) == 400); /* the median of what it learnt */
    wdetect_free(r.d);
}

/* A small service: 10 goroutines that become 16 (+60%) for ten minutes is
 * not a finding (goroutines-level wants 20 goroutines over the baseline at
 * least); 35 is, opening 2 minutes later with the threshold at 30. */
static void level_floor(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    double t = 0;
    quiet(&r, &t, 900, 10);
    quiet(&r, &t, 1500, 16);
    quiet(&r, &t, 1500 + 120, 35);
    step_g(&r, t, 35);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.ch[0].rule, "goroutines-level");
    assert_true(r.ch[0].baseline == 10 && r.ch[0].threshold == 30 && r.ch[0].sev == SEV_WARN);
    /* +250% is past crit (+100%, raised to the same floor): crit after 5m */
    t += STEP;
    quiet(&r, &t, 1500 + 300, 35);
    step_g(&r, t, 35);
    assert_true(r.n == 1 && r.ch[0].change == WCHANGE_ESCALATED && r.ch[0].threshold == 30);
    wdetect_free(r.d);
}

/* ---- rate, burst, caps --------------------------------------------------- */

/* 1000 goroutines with ±2 of noise for an hour, then a leak of 3 a minute
 * for 30 minutes: +90, 9%, never the level rule's 30%; the rate rule
 * (2 a minute over 10 minutes) opens once the window is mostly leak. */
static void slow_leak_rate(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    uint64_t rng = 7;
    double opened = NAN;
    for (double t = 0; t <= 5400; t += STEP) {
        double leak = t > 3600 ? (t - 3600) / 60 * 3 : 0;
        step_g(&r, t, round(1000 + leak + 2 * noise(&rng)));
        for (size_t i = 0; i < r.n; i++) {
            if (strcmp(r.ch[i].rule, "goroutines-rate") != 0) fail_msg("t=%.0f: %s", t, r.ch[i].rule);
            if (r.ch[i].change == WCHANGE_OPENED) opened = t;
        }
    }
    assert_false(isnan(opened));
    assert_true(opened >= 3600 + 300 && opened <= 3600 + 720);
    wfinding open[4];
    assert_int_equal(wdetect_open(r.d, open, 4), 1);
    assert_string_equal(open[0].rule, "goroutines-rate");
    assert_true(open[0].value >= 2 && open[0].value <= 4.5); /* about the 3 a minute it was built with */
    wdetect_free(r.d);
}

/* A heap sawtooth from GC (lows 50 MiB, peaks twice that, a 100 s cycle
 * seen through 15 s polls) whose lows start rising by 2 MiB a minute after
 * an hour: heap-rate opens once its 30-minute window is mostly growth, on
 * the lows alone (the peaks are no higher a share than before), before
 * heap-level (which wants even the lows 50% over the median). */
static void heap_rate_sawtooth(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    const double MiB = 1048576;
    double opened = NAN, level = NAN;
    for (double t = 0; t <= 3600 + 2400; t += STEP) {
        wpoint p;
        point(&p, t);
        double low = 50 * MiB + (t > 3600 ? (t - 3600) / 60 * 2 * MiB : 0);
        p.v[WS_HEAP_INUSE] = low * (1 + fmod(t, 100) / 100);
        step_p(&r, &p);
        for (size_t i = 0; i < r.n; i++) {
            if (strcmp(r.ch[i].rule, "heap-rate") == 0 && r.ch[i].change == WCHANGE_OPENED) {
                opened = t;
                /* at least the warn rate, at most the 2 MiB a minute it was
                 * built with (the window still holds flat lows) */
                assert_true(r.ch[i].value >= 1 * MiB && r.ch[i].value <= 2.05 * MiB);
            } else if (strcmp(r.ch[i].rule, "heap-level") == 0) level = t;
            else fail_msg("t=%.0f: %s %s", t, wchange_name(r.ch[i].change), r.ch[i].rule);
        }
    }
    assert_true(opened >= 3600 + 900 && opened <= 3600 + 1800);
    assert_true(isnan(level) || level > opened);
    wdetect_free(r.d);
}

/* +200 goroutines between two polls of a series that moves by ±5: the
 * burst rule opens at that poll, and resolves after 5 minutes without
 * another. */
static void burst(void **state)
{
    (void)state;
    conf_reset();
    conf_rule("goroutines-level", NAN, NAN, NAN, NAN, NAN); /* only the burst here */
    conf.rules[0].enabled = 0;
    run r = {.d = wdetect_new()};
    uint64_t rng = 3;
    double t, opened = NAN, resolved = NAN;
    for (t = 0; t <= 3000; t += STEP) {
        double g = round((t >= 1800 ? 300 : 100) + 5 * noise(&rng));
        step_g(&r, t, g);
        const wfinding *f = change_of(&r, "goroutines-burst");
        if (r.n && !f) fail_msg("t=%.0f: %s", t, r.ch[0].rule);
        if (f && f->change == WCHANGE_OPENED) {
            opened = t;
            assert_int_equal(f->sev, SEV_WARN);
            assert_true(f->value - f->baseline >= 150);
            assert_non_null(strstr(f->title, "between two polls"));
        }
        if (f && f->change == WCHANGE_RESOLVED) resolved = t;
    }
    assert_true(opened == 1800);
    assert_true(resolved == 1800 + STEP + 300); /* clear from the next poll on, for clear_for */
    wdetect_free(r.d);
}

/* goroutines over 5000 for a minute; descriptors at 83% then 96% of a
 * 1024 limit; an unlimited descriptor table never; a throttled-seconds
 * counter rising by 12 s a minute (warn at 6 for 2 minutes). */
static void caps(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    for (double t = 0; t <= 1200; t += STEP) {
        wpoint p;
        point(&p, t);
        p.v[WS_GOROUTINES] = t >= 300 ? 6000 : 100;
        p.v[WS_FDS] = t >= 900 ? 983 : t >= 600 ? 850 : 50;
        p.v[WS_FD_LIMIT] = 1024;
        p.v[WS_CPU_THROTTLED] = t >= 120 ? 100 + (t - 120) / 60 * 12 : 100;
        step_p(&r, &p);
        for (size_t i = 0; i < r.n; i++) {
            const wfinding *f = &r.ch[i];
            /* 100 -> 6000 is a burst; and the learning period left out the
             * points the cap finding was open on, so the baseline is 100 */
            if (strcmp(f->rule, "goroutines-burst") == 0 || strcmp(f->rule, "goroutines-level") == 0) continue;
            if (strcmp(f->rule, "goroutines-cap") == 0) {
                assert_true(t == 360 && f->change == WCHANGE_OPENED && f->threshold == 5000);
            } else if (strcmp(f->rule, "fds-cap") == 0 && f->change == WCHANGE_OPENED) {
                assert_true(t == 660 && f->sev == SEV_WARN);
                assert_true(fabs(f->threshold - 0.8 * 1024) < 1e-9 && f->baseline == 1024);
                assert_non_null(strstr(f->title, "850 of a limit of 1024 (83%"));
            } else if (strcmp(f->rule, "fds-cap") == 0) {
                assert_true(t == 960 && f->change == WCHANGE_ESCALATED && f->sev == SEV_CRIT);
            } else if (strcmp(f->rule, "cpu-throttled-rate") == 0) {
                /* rates exist from the second poll; 12/min holds from 135 */
                assert_true(t == 135 + 120 && f->change == WCHANGE_OPENED && f->sev == SEV_WARN);
                assert_true(fabs(f->value - 12) < 1e-9);
            } else if (strcmp(f->rule, "fds-rate") != 0) {
                fail_msg("t=%.0f: %s %s", t, wchange_name(f->change), f->rule);
            }
        }
    }
    wfinding open[8];
    size_t n = wdetect_open(r.d, open, 8);
    bool fds = false, gor = false, thr = false;
    for (size_t i = 0; i < n; i++) {
        fds |= strcmp(open[i].rule, "fds-cap") == 0;
        gor |= strcmp(open[i].rule, "goroutines-cap") == 0;
        thr |= strcmp(open[i].rule, "cpu-throttled-rate") == 0;
    }
    assert_true(fds && gor && thr);
    wdetect_free(r.d);

    /* RLIMIT_NOFILE unlimited: no limit to be near. */
    r.d = wdetect_new();
    for (double t = 0; t <= 600; t += STEP) {
        wpoint p;
        point(&p, t);
        p.v[WS_FDS] = 100000;
        p.v[WS_FD_LIMIT] = NAN;
        step_p(&r, &p);
        no_changes(&r, t);
    }
    wdetect_free(r.d);
}

/* ---- hysteresis, cooldown, resolution -------------------------------------- */

/* Around the threshold (255/265 against 260) for two hours: never two
 * minutes above, never opens. */
static void hysteresis_no_open(void **state)
{
    (void)state;
    run r;
    double t = learnt_200(&r);
    for (int k = 0; t < 900 + 7200; t += STEP, k++) {
        step_g(&r, t, k % 2 ? 255 : 265);
        no_changes(&r, t);
    }
    wdetect_free(r.d);
}

/* 300 opens it; then around the threshold (255/265) for two hours, and
 * just below it (252) for half an hour, keep it open without a flap (clear
 * is at or below +24%, 248); 200 resolves it exactly clear_for after the
 * first clear poll. */
static void hysteresis_no_flap(void **state)
{
    (void)state;
    run r;
    double t = learnt_200(&r);
    quiet(&r, &t, 900 + 120, 300);
    step_g(&r, t, 300);
    assert_non_null(change_of(&r, "goroutines-level"));
    assert_int_equal(r.ch[0].change, WCHANGE_OPENED);
    t += STEP;
    double until = t + 7200;
    for (int k = 0; t < until; t += STEP, k++) {
        step_g(&r, t, k % 2 ? 265 : 255);
        no_changes(&r, t);
    }
    assert_true(wdetect_baseline(r.d, WS_GOROUTINES) == 200); /* nothing of the open finding learnt */
    quiet(&r, &t, t + 1800, 252); /* below the threshold, not clear: half an hour, still open */
    double clear_from = t;
    quiet(&r, &t, clear_from + 300, 200);
    step_g(&r, t, 200);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.ch[0].change, WCHANGE_RESOLVED);
    assert_int_equal(r.ch[0].sev, SEV_WARN);
    assert_true(r.ch[0].at == clear_from + 300);
    assert_non_null(strstr(r.ch[0].title, "clear for 5m"));
    wfinding open[4];
    assert_int_equal(wdetect_open(r.d, open, 4), 0);
    wdetect_free(r.d);
}

/* After a resolution, the condition back for longer than warn_for within
 * the cooldown (clear_for) does not reopen it; it opens when the cooldown
 * ends.  A burst inside the cooldown of a resolved burst is not a second
 * finding. */
static void cooldown(void **state)
{
    (void)state;
    run r;
    double t = learnt_200(&r), resolved = NAN, reopened = NAN;
    for (; t < 1200; t += STEP) step_g(&r, t, 300); /* opens at 1020 */
    for (; t <= 1500; t += STEP) {                  /* clear from 1200: resolves at 1500 */
        step_g(&r, t, 200);
        if (change_of(&r, "goroutines-level")) resolved = t;
    }
    assert_true(resolved == 1500);
    for (; t < 2400; t += STEP) { /* the cooldown (clear_for, 5m) ends at 1800 */
        step_g(&r, t, t >= 1620 ? 300 : 200);
        const wfinding *f = change_of(&r, "goroutines-level");
        if (f && f->change == WCHANGE_OPENED) reopened = t;
        if (f && f->change != WCHANGE_OPENED) fail_msg("t=%.0f: %s", t, wchange_name(f->change));
    }
    /* above from 1620, held 2 minutes at 1740, inside the cooldown; opens at its end */
    assert_true(reopened == 1800);
    wdetect_free(r.d);

    /* bursts: one at 900 (resolved at 1215), one at 1300 (cooldown to 1515),
     * one at 1700 */
    conf_reset();
    conf_rule("goroutines-level", NAN, NAN, NAN, NAN, NAN);
    conf.rules[0].enabled = 0;
    r.d = wdetect_new();
    double level = 100;
    int opens = 0;
    for (t = 0; t <= 2000; t += STEP) {
        if (t == 900 || t == 1305 || t == 1710) level += 200;
        step_g(&r, t, level);
        const wfinding *f = change_of(&r, "goroutines-burst");
        if (f && f->change == WCHANGE_OPENED) {
            opens++;
            assert_true(t == 900 || t == 1710);
        }
        if (f && f->change == WCHANGE_RESOLVED) assert_true(t == 1215);
    }
    assert_int_equal(opens, 2);
    wdetect_free(r.d);
}

/* ---- baselines --------------------------------------------------------------- */

/* 200 goroutines for an hour, then a leak of 2 a minute for two hours
 * (+240, to 440): the baseline stays near 200 (the points of an open or
 * pending finding are not learnt, and it rises 10% an hour at most). */
static void baseline_does_not_follow_leak(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    uint64_t rng = 11;
    for (double t = 0; t <= 3600 + 7200; t += STEP) {
        double g = 200 + (t > 3600 ? (t - 3600) / 60 * 2 : 0) + 3 * noise(&rng);
        step_g(&r, t, round(g));
    }
    double b = wdetect_baseline(r.d, WS_GOROUTINES);
    assert_true(b >= 195 && b <= 215);
    wfinding open[8];
    size_t n = wdetect_open(r.d, open, 8);
    bool level = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(open[i].rule, "goroutines-level") == 0) level = open[i].sev == SEV_CRIT;
    assert_true(level); /* 440 against ~200: +100% held long enough */
    wdetect_free(r.d);
}

/* A restart resolves what was open on the old process, and the new one is
 * learnt afresh: at a new level, nothing fires during its learning. */
static void restart(void **state)
{
    (void)state;
    run r;
    double t = learnt_200(&r);
    for (; t <= 1100; t += STEP) step_g(&r, t, 300);
    wfinding open[4];
    assert_int_equal(wdetect_open(r.d, open, 4), 1);
    wdetect_restart(r.d);
    assert_true(isnan(wdetect_baseline(r.d, WS_GOROUTINES)));
    step_g(&r, t, 900);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.ch[0].rule, "goroutines-level");
    assert_int_equal(r.ch[0].change, WCHANGE_RESOLVED);
    assert_non_null(strstr(r.ch[0].title, "restarted"));
    double start = t;
    t += STEP;
    quiet(&r, &t, start + 600, 900);
    step_g(&r, t, 900);
    assert_true(wdetect_baseline(r.d, WS_GOROUTINES) == 900);
    assert_int_equal(wdetect_open(r.d, open, 4), 0);
    wdetect_free(r.d);
}

/* A restart also restarts the cumulative counters: the fall of the CPU
 * counter is not a rate, and the throttling rate is measured on the new
 * process only. */
static void restart_counters(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    double t = 0;
    for (; t < 600; t += STEP) {
        wpoint p;
        point(&p, t);
        p.v[WS_CPU_THROTTLED] = 5000 + t / 60; /* 1 s a minute */
        step_p(&r, &p);
        no_changes(&r, t);
    }
    wdetect_restart(r.d);
    for (; t < 1200; t += STEP) {
        wpoint p;
        point(&p, t);
        p.v[WS_CPU_THROTTLED] = (t - 600) / 60;
        step_p(&r, &p);
        no_changes(&r, t);
    }
    wdetect_free(r.d);
}

/* Failed polls (NAN) neither open nor clear: a condition that began before
 * a gap opens at the first real poll after it has held for warn_for, and
 * an open finding does not resolve across a gap. */
static void nan_gaps(void **state)
{
    (void)state;
    run r;
    double t = learnt_200(&r);
    step_g(&r, 900, 300);
    t = 915;
    quiet(&r, &t, 1100, NAN);
    step_g(&r, 1110, 300);
    assert_non_null(change_of(&r, "goroutines-level"));
    assert_true(r.ch[0].change == WCHANGE_OPENED && r.ch[0].at == 1110);
    step_g(&r, 1125, 200); /* clear from 1125 */
    t = 1140;
    quiet(&r, &t, 1800, NAN);
    wfinding open[4];
    assert_int_equal(wdetect_open(r.d, open, 4), 1);
    step_g(&r, 1800, 200); /* clear since 1125, over 300 s: resolves at the first real poll */
    assert_true(r.n == 1 && r.ch[0].change == WCHANGE_RESOLVED);
    wdetect_free(r.d);
}

/* ---- healthy look-alikes ------------------------------------------------------ */

/* A busy, healthy service for 10 000 polls (~42 h): goroutines 3000 ±20%,
 * a heap sawtooth from GC (50-100 MiB, a cycle of 100 s seen through 15 s
 * polls), RSS ±20%, descriptors 100 ±20 of 1024, threads 20 ±2, a pool of
 * 24 filled once at 2 h, shared objects constant, short GC pauses, little
 * throttling.  Nothing may fire. */
static void healthy_noisy(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    uint64_t rng = 1;
    const double MiB = 1048576;
    double cpu = 0, thr = 0;
    for (int i = 0; i < 10000; i++) {
        double t = 1.8e9 + i * STEP; /* wall clock */
        wpoint p;
        point(&p, t);
        p.v[WS_GOROUTINES] = round(3000 * (1 + 0.2 * noise(&rng)) + (i >= 480 ? 24 : 0));
        p.v[WS_TOP_GROUP] = round(400 * (1 + 0.2 * noise(&rng)));
        double phase = fmod(i * STEP, 100) / 100;
        p.v[WS_HEAP_INUSE] = 50 * MiB * (1 + phase) * (1 + 0.05 * noise(&rng));
        p.v[WS_HEAP_GOAL] = 100 * MiB;
        p.v[WS_RSS] = 200 * MiB * (1 + 0.2 * noise(&rng));
        p.v[WS_FDS] = round(100 + 20 * noise(&rng));
        p.v[WS_FD_LIMIT] = 1024;
        p.v[WS_THREADS] = round(20 + 2 * noise(&rng));
        p.v[WS_SHARED_OBJECTS] = 5;
        p.v[WS_GC_CPU_FRACTION] = 0.02 * (1 + 0.2 * noise(&rng));
        p.v[WS_GC_PAUSE] = 0.001 * (1 + 0.5 * noise(&rng));
        cpu += STEP * (1 + 0.3 * noise(&rng));
        thr += STEP / 60 * (0.5 + 0.5 * noise(&rng));
        p.v[WS_CPU_USED] = cpu;
        p.v[WS_CPU_THROTTLED] = thr;
        if (i % 97 == 50) point(&p, t); /* a failed poll now and then */
        step_p(&r, &p);
        no_changes(&r, t);
    }
    double b = wdetect_baseline(r.d, WS_GOROUTINES);
    assert_true(b > 2900 && b < 3150);
    wdetect_free(r.d);

    /* a small, noisy service: 200 ±20% */
    r.d = wdetect_new();
    for (int i = 0; i < 10000; i++) {
        double t = i * STEP;
        step_g(&r, t, round(200 * (1 + 0.2 * noise(&rng))));
        no_changes(&r, t);
    }
    wdetect_free(r.d);
}

static size_t allocated(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

/* 100 000 polls (a leak that opens and resolves, and noise) allocate
 * nothing and leave the heap where it was: the ring and the states are
 * fixed at wdetect_new.  (Under ASan only the balance is checked.) */
static void memory_flat(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    uint64_t rng = 5;
    step_g(&r, 0, 100);
    size_t changes[3] = {0};
    size_t before = allocated();
#if !defined(__SANITIZE_ADDRESS__)
    size_t calls = allocations;
#endif
    for (int i = 1; i < 100000; i++) {
        double t = i * 5.0;
        wpoint p;
        point(&p, t);
        p.v[WS_GOROUTINES] = round(100 + (i % 20000 > 10000 ? (i % 20000 - 10000) / 10 : 0) + 5 * noise(&rng));
        p.v[WS_HEAP_INUSE] = 1e8 * (1 + 0.3 * noise(&rng));
        p.v[WS_FDS] = 20;
        p.v[WS_FD_LIMIT] = 1024;
        step_p(&r, &p);
        for (size_t k = 0; k < r.n; k++) changes[r.ch[k].change]++;
    }
    assert_true(allocated() == before);
    assert_true(changes[WCHANGE_OPENED] >= 5 && changes[WCHANGE_RESOLVED] >= 4); /* the last leak is still on */
#if !defined(__SANITIZE_ADDRESS__)
    assert_true(allocations == calls);
#endif
    wdetect_free(r.d);
}

/* ---- series JSON --------------------------------------------------------------- */

static void series_json(void **state)
{
    (void)state;
    conf_reset();
    run r = {.d = wdetect_new()};
    assert_null(wdetect_last(r.d));
    step_g(&r, 100, 10);
    step_g(&r, 115, NAN);
    step_g(&r, 130, 12);
    buf b = {0};
    wdetect_series_json(r.d, 110, &b);
    const char *j = buf_cstr(&b);
    const char *head = "{\"series\":[\"goroutines\",\"top_group_goroutines\",\"heap_inuse_bytes\",";
    assert_true(strncmp(j, head, strlen(head)) == 0);
    assert_non_null(strstr(j, "\"cpu_throttled_seconds\"],\"t\":[115,130],\"goroutines\":[null,12],"));
    assert_non_null(strstr(j, "\"open_fds\":[null,null]"));
    assert_non_null(strstr(j, ",\"baseline\":{\"goroutines\":null,"));
    assert_true(strcmp(j + strlen(j) - 2, "}}") == 0);
    buf_free(&b);
    wdetect_free(r.d);
}

/* ---- a scan rule on a real capture ----------------------------------------------- */

static char *path_to(const char *rel)
{
    static char out[8192];
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    for (int up = 0; up < 2; up++) *strrchr(dir, '/') = '\0'; /* .../tests */
    snprintf(out, sizeof out, "%s/%s", dir, rel);
    return out;
}

static gmodel *read_dump(const char *rel)
{
    gmodel *m = calloc(1, sizeof *m);
    gmodel_init(m);
    gparse_options o = {.input_name = rel, .max_line = GPARSE_DEFAULT_MAX_LINE};
    char *msg = NULL;
    if (gdump_read(path_to(rel), &o, NULL, m, &msg) != 0) fail_msg("%s: %s", rel, msg ? msg : "?");
    free(msg);
    return m;
}

/* The window of two samples of a debug=1 capture, as the agent keeps it. */
static void window_of(scan_evidence *e, const char *rel)
{
    evidence_init(e);
    e->url = strdup("http://127.0.0.1:1"); /* where zoo served it; never requested */
    e->has_pprof = true;
    e->nsamples = 2;
    for (size_t i = 0; i < 2; i++) {
        e->samples[i].t = STEP * (double)i;
        e->samples[i].goroutines = read_dump(rel);
    }
    e->window = STEP;
}

/* The zoo's debug=1 capture holds 13 goroutines queued on one Mutex.Lock
 * in main.lockPileup (its truth file, written by zoo at the blocking
 * statement): lock-pileup opens after warn_for (1 minute) of polls; the
 * zoo's healthy set (pools, idle connections, readers) opens nothing. */
static void scan_rule_real_capture(void **state)
{
    (void)state;
    conf_reset();
    scan_evidence e;
    window_of(&e, "captures/go1.26.8/debug1.txt");
    run r = {.d = wdetect_new()};
    double opened = NAN, pool = NAN;
    for (double t = 1000; t <= 1200; t += STEP) {
        wpoint p;
        wpoint_from_sample(evidence_last(&e), t, &p);
        r.n = wdetect_step(r.d, &p, &e, &conf, NULL, r.ch, MAXCH);
        /* and the 10 pool-wait goroutines of main.poolGet (truth.txt) */
        const wfinding *f = change_of(&r, "http-pool-exhaustion");
        if (f && strstr(f->title, "10 goroutines") && strstr(f->title, "main.poolGet")) pool = t;
        f = change_of(&r, "lock-pileup");
        if (!f) continue;
        assert_int_equal(f->change, WCHANGE_OPENED);
        assert_int_equal(f->sev, SEV_WARN);
        assert_int_equal(f->series, WS_COUNT);
        assert_true(isnan(f->value));
        assert_non_null(strstr(f->title, "13 goroutines"));
        assert_non_null(strstr(f->title, "main.lockPileup"));
        assert_true(f->nevidence >= 1);
        opened = t;
    }
    assert_true(opened == 1060 && pool == 1060);
    /* the point from the sample: debug=1's total (zoo's truth kinds add up
     * to it, counted by the parser tests) and the largest group */
    assert_true(wdetect_last(r.d)->v[WS_GOROUTINES] == (double)e.samples[1].goroutines->total);
    assert_true(isnan(wdetect_last(r.d)->v[WS_HEAP_INUSE]));
    wdetect_free(r.d);
    evidence_free(&e);

    window_of(&e, "captures/go1.26.8/healthy1.txt");
    r.d = wdetect_new();
    for (double t = 1000; t <= 1600; t += STEP) {
        wpoint p;
        wpoint_from_sample(evidence_last(&e), t, &p);
        r.n = wdetect_step(r.d, &p, &e, &conf, NULL, r.ch, MAXCH);
        no_changes(&r, t);
    }
    wdetect_free(r.d);
    evidence_free(&e);
}

/* The table: every rule id findable, scan's ids among them, series named. */
static void table(void **state)
{
    (void)state;
    size_t n;
    const wrule_def *t = wrules_table(&n);
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(wrule_find(t[i].id), &t[i]);
        assert_true((t[i].kind == WRULE_SCAN) == (t[i].series == WS_COUNT));
        assert_true(t[i].reason && *t[i].reason);
    }
    assert_null(wrule_find("goroutine-leak")); /* replaced by the baseline rules */
    assert_null(wrule_find("no-such-rule"));
    assert_non_null(wrule_find("lock-pileup"));
    assert_string_equal(wseries_name(WS_HEAP_INUSE), "heap_inuse_bytes");
    assert_string_equal(wseries_unit(WS_GC_CPU_FRACTION), "ratio");
    assert_string_equal(wseries_unit(WS_FDS), "");
}

/* A point from a sample of this very process read through /proc, checked
 * against the kernel's answers by other calls (getrlimit, the fds this
 * test opens, its one thread); the runtime's figures stand in where /proc
 * has none. */
static void point_from_sample(void **state)
{
    (void)state;
    scan_sample s;
    memset(&s, 0, sizeof s);
    char err[256];
    assert_int_equal(proc_read("/proc", (int)getpid(), &s.proc, err, sizeof err), 0);
    s.has_proc = true;
    gostats_init(&s.stats);
    s.has_stats = true;
    s.stats.open_fds = 1e6; /* /proc's count wins */
    s.stats.heap_inuse = 4096;
    s.stats.pause_max_ns = 2e6;
    s.has_cgroup = true;
    s.cgroup.cpu_version = 2;
    s.cgroup.throttled_seconds = -1; /* unknown */
    wpoint p;
    wpoint_from_sample(&s, 42, &p);
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur == RLIM_INFINITY) assert_true(isnan(p.v[WS_FD_LIMIT]));
    else assert_true(p.v[WS_FD_LIMIT] == (double)rl.rlim_cur);
    assert_true(p.t == 42);
    assert_true(p.v[WS_THREADS] == 1);
    assert_true(p.v[WS_FDS] >= 3 && p.v[WS_FDS] < 1e6);
    assert_true(p.v[WS_RSS] > 0 && p.v[WS_RSS] == (double)s.proc.vm_rss);
    assert_true(p.v[WS_HEAP_INUSE] == 4096 && p.v[WS_GC_PAUSE] == 0.002);
    assert_true(isnan(p.v[WS_CPU_THROTTLED]) && isnan(p.v[WS_GOROUTINES]) && isnan(p.v[WS_GC_CPU_FRACTION]));
    assert_true(p.v[WS_CPU_USED] >= 0);
    /* without /proc: the service's own process_open_fds and go_threads */
    s.has_proc = false;
    s.stats.threads = 9;
    wpoint_from_sample(&s, 43, &p);
    assert_true(p.v[WS_FDS] == 1e6 && p.v[WS_THREADS] == 9 && isnan(p.v[WS_RSS]) && isnan(p.v[WS_SHARED_OBJECTS]));
    wpoint_from_sample(NULL, 44, &p);
    for (int i = 0; i < WS_COUNT; i++) assert_true(isnan(p.v[i]));
}

/* A rule turned off resolves what it had open. */
static void rule_turned_off(void **state)
{
    (void)state;
    run r;
    double t = learnt_200(&r);
    for (; t <= 1100; t += STEP) step_g(&r, t, 300);
    conf_rule("goroutines-level", NAN, NAN, NAN, NAN, NAN);
    conf.rules[conf.nrules - 1].enabled = 0;
    step_g(&r, t, 300);
    assert_true(r.n == 1 && r.ch[0].change == WCHANGE_RESOLVED);
    assert_non_null(strstr(r.ch[0].title, "turned off"));
    wdetect_free(r.d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(seeds_warn_then_crit),
        cmocka_unit_test(no_fire_while_learning),
        cmocka_unit_test(level_floor),
        cmocka_unit_test(slow_leak_rate),
        cmocka_unit_test(heap_rate_sawtooth),
        cmocka_unit_test(burst),
        cmocka_unit_test(caps),
        cmocka_unit_test(hysteresis_no_open),
        cmocka_unit_test(hysteresis_no_flap),
        cmocka_unit_test(cooldown),
        cmocka_unit_test(baseline_does_not_follow_leak),
        cmocka_unit_test(restart),
        cmocka_unit_test(restart_counters),
        cmocka_unit_test(nan_gaps),
        cmocka_unit_test(healthy_noisy),
        cmocka_unit_test(memory_flat),
        cmocka_unit_test(series_json),
        cmocka_unit_test(scan_rule_real_capture),
        cmocka_unit_test(rule_turned_off),
        cmocka_unit_test(point_from_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
