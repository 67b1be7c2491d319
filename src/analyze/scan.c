/* scan.c - the rule table of `reef scan` and the helpers its rules share. */
#include "scan.h"
#include "gclassify.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef void (*rule_fn)(const scan_evidence *e, const scan_config *cfg, report *r);

static const struct {
    const char *id;
    const char *what;
    rule_fn fn;
} rules[] = {
    {"goroutine-leak", "goroutines growing, or long blocked in application code", rule_goroutine_leak},
    {"lock-pileup", "many goroutines queued on one Lock call", rule_lock_pileup},
    {"http-pool-exhaustion", "requests waiting for a pooled connection; connections piling up", rule_http_pool},
    {"upstream-wait", "outbound requests waiting on an upstream's response", rule_upstream_wait},
    {"init-blocked", "goroutines started by a package init, blocked since start-up", rule_init_blocked},
    {"heap-growth", "live heap growing across samples while GC runs", rule_heap_growth},
    {"heap-fragmentation", "heap memory held from the OS but not in use", rule_heap_fragmentation},
    {"rss-gap", "resident memory far above what the Go runtime accounts for", rule_rss_gap},
    {"memory-limit", "close to the cgroup memory limit, GOMEMLIMIT, OOM kills", rule_memory_limit},
    {"gomaxprocs-quota", "GOMAXPROCS above the cgroup CPU quota", rule_gomaxprocs_quota},
    {"cpu-throttling", "the cgroup throttles the service's CPU", rule_cpu_throttling},
    {"fd-leak", "open descriptors growing, or near RLIMIT_NOFILE", rule_fd_leak},
    {"so-growth", "shared objects mapped growing", rule_so_growth},
    {"thread-leak", "OS threads growing", rule_thread_leak},
    {"gc-pause", "long stop-the-world GC pauses", rule_gc_pause},
    {"gc-cpu", "GC taking a large share of CPU", rule_gc_cpu},
    {"build-risk", "race detector, unsupported Go release, debug build", rule_build_risk},
    {"pprof-exposed", "the pprof endpoint reachable beyond loopback", rule_pprof_exposed},
    {"expectation", "user-declared expectations (--expect FILE)", rule_expectation},
};

static void classify(gmodel *m)
{
    if (!m) return;
    gclassify_options o = {0};
    gclassify(m, &o);
    gmodel_sort(m);
}

void scan_analyze(scan_evidence *e, const scan_config *cfg, report *r)
{
    for (size_t i = 0; i < e->nsamples; i++) classify(e->samples[i].goroutines);
    classify(e->full);
    classify(e->leaks);
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) report_check(r, rules[i].id, rules[i].what);
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) rules[i].fn(e, cfg, r);
    if (e->mismatch) report_note(r, "%s", e->mismatch);
    report_sort(r);
}

size_t scan_series(const scan_evidence *e, sample_value get, double *out)
{
    size_t have = 0;
    for (size_t i = 0; i < e->nsamples; i++) {
        out[i] = get(&e->samples[i]);
        if (!isnan(out[i])) have++;
    }
    return have;
}

bool scan_ends(const double *v, size_t n, double *first, double *last)
{
    size_t a = 0, b = n;
    while (a < n && isnan(v[a])) a++;
    while (b > a && isnan(v[b - 1])) b--;
    if (b - a < 2) return false;
    *first = v[a];
    *last = v[b - 1];
    return true;
}

/* Growth is sustained when it is not one step: at least two steps rise by a
 * tenth of the whole rise each, and the second half of the window (from the
 * middle sample on) still carries a quarter of it.  19 → 139 → 139 is one
 * step, a burst or a restart of a pool; 25 → 54 → 84 and 10 → 10 → 50 → 90
 * are leaks at work. */
static bool sustained(const double *v, size_t n, double rise)
{
    size_t idx[SCAN_MAX_SAMPLES], m = 0;
    for (size_t i = 0; i < n && m < SCAN_MAX_SAMPLES; i++)
        if (!isnan(v[i])) idx[m++] = i;
    if (m < 3) return false;
    unsigned steps = 0;
    for (size_t k = 1; k < m; k++) steps += v[idx[k]] - v[idx[k - 1]] >= rise / 10;
    double late = v[idx[m - 1]] - v[idx[(m - 1) / 2]];
    return steps >= 2 && late >= rise / 4;
}

bool scan_grows(const double *v, size_t n, double min_abs, double min_rel)
{
    double first, last;
    if (!scan_ends(v, n, &first, &last)) return false;
    double rise = last - first;
    if (rise < min_abs || rise < min_rel * fabs(first)) return false;
    double high = first;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        if (v[i] < high - rise / 10) return false;
        if (v[i] > high) high = v[i];
    }
    return sustained(v, n, rise);
}

const char *scan_fmt_rate(char *out, size_t outlen, const double *v, const scan_evidence *e, const char *unit)
{
    double first = NAN, last = NAN, t0 = 0, t1 = 0;
    for (size_t i = 0; i < e->nsamples; i++) {
        if (isnan(v[i])) continue;
        if (isnan(first)) {
            first = v[i];
            t0 = e->samples[i].t;
        }
        last = v[i];
        t1 = e->samples[i].t;
    }
    out[0] = '\0';
    if (isnan(first) || t1 <= t0) return out;
    double per_min = (last - first) / (t1 - t0) * 60;
    char num[32];
    if (unit && strcmp(unit, "B") == 0) scan_fmt_bytes(num, sizeof num, per_min);
    else snprintf(num, sizeof num, "%.0f", per_min);
    snprintf(out, outlen, "%s%s a minute", per_min >= 0 ? "+" : "", num);
    return out;
}

const char *scan_fmt_bytes(char *out, size_t outlen, double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = bytes;
    while (fabs(v) >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0) snprintf(out, outlen, "%.0f B", v);
    else snprintf(out, outlen, "%.*f %s", fabs(v) < 10 ? 1 : 0, v, units[u]);
    return out;
}

const char *scan_fmt_series(char *out, size_t outlen, const double *v, size_t n, const char *unit)
{
    size_t len = 0, shown = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len + 32 < outlen; i++) {
        if (isnan(v[i])) continue;
        /* Long series: the first three, an ellipsis, the last four. */
        if (n > 8 && i == 3) {
            len += (size_t)snprintf(out + len, outlen - len, " → …");
            i = n - 5;
            continue;
        }
        char num[32];
        if (unit && strcmp(unit, "B") == 0) scan_fmt_bytes(num, sizeof num, v[i]);
        else snprintf(num, sizeof num, "%.0f", v[i]);
        len += (size_t)snprintf(out + len, outlen - len, "%s%s", shown++ ? " → " : "", num);
    }
    return out;
}
