/* scan_memory.c - the memory rules of `reef scan`: heap-growth,
 * heap-fragmentation, rss-gap and memory-limit. */
#include "scan.h"
#include "ptop.h"
#include "../util/buf.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB (1024.0 * 1024.0)

static double gomemlimit(const scan_sample *s, const char **source);

static double s_next_gc(const scan_sample *s) { return s->has_stats ? s->stats.next_gc : NAN; }
static double s_num_gc(const scan_sample *s) { return s->has_stats ? s->stats.num_gc : NAN; }
static double s_heap_alloc(const scan_sample *s) { return s->has_stats ? s->stats.heap_alloc : NAN; }
static double s_retained(const scan_sample *s)
{
    return s->has_stats ? s->stats.heap_sys - s->stats.heap_released : NAN;
}
static double s_span_waste(const scan_sample *s)
{
    return s->has_stats ? s->stats.heap_inuse - s->stats.heap_alloc : NAN;
}

static const char *no_stats(const scan_evidence *e)
{
    for (size_t i = 0; i < e->nsamples; i++)
        if (e->samples[i].has_stats) return NULL;
    if (!e->url) return "no URL: the runtime's memory figures come from the service (--url)";
    return "the service exposes no memory figures (no /metrics, /debug/vars or pprof heap profile)";
}

/* Total in-use bytes of a heap profile, or NAN. */
static double heap_inuse(const profile *p)
{
    if (!p) return NAN;
    ptop t;
    char err[256];
    ptop_options o = {.sample_index = "inuse_space"};
    double v = ptop_compute(p, &o, &t, err, sizeof err) == 0 ? (double)t.total : NAN;
    ptop_free(&t);
    return v;
}

/* The allocation sites whose in-use bytes grew most, as evidence. */
static void heap_diff_evidence(finding *f, const profile *base, const profile *cur)
{
    ptop t;
    char err[256];
    ptop_options o = {.sample_index = "inuse_space", .by_line = true};
    if (ptop_diff(base, cur, &o, &t, err, sizeof err) == 0) {
        int shown = 0;
        for (size_t i = 0; i < t.nrows && shown < 5; i++) {
            const prow *row = &t.rows[i];
            if (row->flat <= 0) continue;
            char b[32];
            finding_evidence(f, "+%s at %s (%s:%lld)", scan_fmt_bytes(b, sizeof b, (double)row->flat),
                             intern_str(&t.strings, row->name), intern_str(&t.strings, row->file),
                             (long long)row->line);
            shown++;
        }
    }
    ptop_free(&t);
}

static double s_heap_inuse(const scan_sample *s) { return s->has_stats ? s->stats.heap_inuse : NAN; }
static double s_rss(const scan_sample *s)
{
    if (s->has_proc && s->proc.vm_rss > 0) return (double)s->proc.vm_rss;
    return s->has_stats ? s->stats.resident_bytes : NAN;
}

static const char *slow_consumer_advice =
    "Goroutines blocked writing to peers that do not read, while memory grows: what is queued for those peers "
    "is buffering in memory.  Bound each consumer's queue, and drop or disconnect a consumer that falls behind "
    "(a write deadline, SetWriteDeadline, turns a stuck write into an error).  This is not a goroutine leak: "
    "the writers wake when their peers read or go.";

/* Evidence of goroutines blocked writing to the network in the last
 * sample; false when there are none. */
static const gmodel *last_goroutines(const scan_evidence *e)
{
    return e->full ? e->full : e->nsamples ? evidence_last(e)->goroutines : NULL;
}

static bool net_write_evidence(finding *f, const scan_evidence *e)
{
    const gmodel *m = last_goroutines(e);
    uint64_t n = m ? scan_wait_count(m, SCAN_WAIT_NET_WRITE) : 0;
    if (!n) return false;
    const ggroup *big = NULL;
    for (size_t i = 0; i < m->ngroups; i++)
        if (scan_wait_of(m, &m->groups[i]) == SCAN_WAIT_NET_WRITE && (!big || m->groups[i].count > big->count))
            big = &m->groups[i];
    buf b = {0};
    scan_group_site(&b, m, big);
    finding_evidence(f, "%llu goroutine%s blocked writing to the network, the most at %s", (unsigned long long)n,
                     n == 1 ? "" : "s", buf_cstr(&b));
    buf_free(&b);
    return true;
}

/* The lowest ceiling the heap can grow to: the cgroup limit, GOMEMLIMIT or
 * the machine's memory; its name in *what. */
static double memory_ceiling(const scan_sample *s, const char **what)
{
    double ceiling = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    *what = "the machine's memory";
    if (s->has_cgroup && s->cgroup.memory_limit > 0 && (double)s->cgroup.memory_limit < ceiling) {
        ceiling = (double)s->cgroup.memory_limit;
        *what = "the cgroup memory limit";
    }
    const char *src;
    double gml = gomemlimit(s, &src);
    if (gml > 0 && gml < ceiling) {
        ceiling = gml;
        *what = "GOMEMLIMIT";
    }
    return ceiling;
}

/* No GC ran in the window, so live heap and garbage cannot be told apart;
 * but memory that climbs by tens of MiB toward a ceiling the GC will not
 * stop it before (GOGC off, a goal above the limit), or while writers
 * block on peers that do not read, is evidence all the same. */
static void growth_without_gc(const scan_evidence *e, report *r)
{
    double heap[SCAN_MAX_SAMPLES], rss[SCAN_MAX_SAMPLES], next[SCAN_MAX_SAMPLES], h0, h1;
    scan_series(e, s_heap_inuse, heap);
    scan_series(e, s_rss, rss);
    scan_series(e, s_next_gc, next);
    char a[32], b[32], s1[256], rate[64];
    const scan_sample *last = evidence_last(e);
    const char *what;
    double ceiling = memory_ceiling(last, &what);
    bool heap_up = scan_grows(heap, e->nsamples, 32 * MiB, 0.2);
    const double *v = heap_up ? heap : rss;
    if (!heap_up && !scan_grows(rss, e->nsamples, 32 * MiB, 0.2)) {
        report_check_note(r, "heap-growth", "no GC ran during the %.0f s window; heap in use %s, flat or within "
                          "noise", e->window, scan_fmt_series(s1, sizeof s1, heap, e->nsamples, "B"));
        return;
    }
    scan_ends(v, e->nsamples, &h0, &h1);
    double goal = last->has_stats ? last->stats.next_gc : NAN;
    bool gc_off = last->has_proc && strcmp(last->proc.gogc, "off") == 0;
    bool goal_past = gc_off || isnan(goal) || goal >= 0.9 * ceiling;
    double per_s = (h1 - h0) / (e->window > 0 ? e->window : 1);
    bool writers = last_goroutines(e) && scan_wait_count(last_goroutines(e), SCAN_WAIT_NET_WRITE) > 0;
    severity sev = writers || goal_past ? SEV_WARN : SEV_INFO;
    finding *f = report_finding(r, "heap-growth", sev, "%s grew from %s to %s in %.0f s with no GC in the window",
                                heap_up ? "heap in use" : "resident memory", scan_fmt_bytes(a, sizeof a, h0),
                                scan_fmt_bytes(b, sizeof b, h1), e->window);
    finding_evidence(f, "%s per sample: %s (%s)", heap_up ? "HeapInuse" : "RSS",
                     scan_fmt_series(s1, sizeof s1, v, e->nsamples, "B"), scan_fmt_rate(rate, sizeof rate, v, e, "B"));
    if (heap_up && scan_ends(rss, e->nsamples, &h0, &h1))
        finding_evidence(f, "RSS per sample: %s", scan_fmt_series(s1, sizeof s1, rss, e->nsamples, "B"));
    if (gc_off) finding_evidence(f, "GOGC=off: the GC runs only at GOMEMLIMIT, if set");
    else if (!isnan(goal)) finding_evidence(f, "the next GC is due at %s (NextGC)", scan_fmt_bytes(a, sizeof a, goal));
    if (per_s > 0 && ceiling > h1)
        finding_evidence(f, "%s (%s) is reached in about %.0f s at this rate", what,
                         scan_fmt_bytes(a, sizeof a, ceiling), (ceiling - h1) / per_s);
    finding_value_add(f, heap_up ? "heap_inuse_bytes" : "rss_bytes", v, e->nsamples);
    if (net_write_evidence(f, e)) {
        finding_advice(f, "%s", slow_consumer_advice);
        return;
    }
    finding_advice(f, "With no GC in the window, live memory and garbage cannot be told apart: %s  Scan again "
                      "with a longer --window, and compare heap profiles (`reef pprof diff`) across a GC.",
                   goal_past ? "and the GC will not run before the ceiling above, so this growth is bounded only "
                               "by that ceiling."
                             : "a GC is due at NextGC, below the ceiling, and will tell.");
}

void rule_heap_growth(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const char *why = no_stats(e);
    if (why && !e->heap_first) {
        report_skip(r, "heap-growth", "%s", why);
        return;
    }
    double gc[SCAN_MAX_SAMPLES], next[SCAN_MAX_SAMPLES], gc0, gc1, n0, n1;
    scan_series(e, s_num_gc, gc);
    scan_series(e, s_next_gc, next);
    double in0 = heap_inuse(e->heap_first), in1 = heap_inuse(e->heap_last);
    bool gc_ran = scan_ends(gc, e->nsamples, &gc0, &gc1) && gc1 > gc0;
    if (!gc_ran && scan_ends(gc, e->nsamples, &gc0, &gc1)) {
        growth_without_gc(e, r);
        return;
    }
    bool profile_grew = !isnan(in0) && !isnan(in1) && in1 - in0 >= 4 * MiB && in1 - in0 >= 0.1 * in0;
    bool goal_grew = scan_grows(next, e->nsamples, 8 * MiB, 0.2);
    char a[32], b[32], s[256];
    if (!isnan(in0) && !isnan(in1))
        report_check_note(r, "heap-growth", "in-use heap %s → %s", scan_fmt_bytes(a, sizeof a, in0),
                          scan_fmt_bytes(b, sizeof b, in1));
    /* The heap profile lags a GC cycle behind NextGC (which is the live
     * heap at the last GC times 1 + GOGC/100): either rising is growth. */
    if (!profile_grew && !goal_grew) return;
    finding *f;
    if (profile_grew)
        f = report_finding(r, "heap-growth", SEV_WARN, "live heap grew from %s to %s in %.0f s",
                           scan_fmt_bytes(a, sizeof a, in0), scan_fmt_bytes(b, sizeof b, in1), e->window);
    else
        f = report_finding(r, "heap-growth", SEV_WARN, "GC goal grew %s in %.0f s",
                           scan_fmt_series(s, sizeof s, next, e->nsamples, "B"), e->window);
    if (scan_ends(next, e->nsamples, &n0, &n1))
        finding_evidence(f, "GC goal (NextGC) per sample: %s", scan_fmt_series(s, sizeof s, next, e->nsamples, "B"));
    if (gc_ran) finding_evidence(f, "%.0f GC cycles ran during the window", gc1 - gc0);
    finding_value_add(f, "next_gc_bytes", next, e->nsamples);
    if (e->heap_first && e->heap_last) heap_diff_evidence(f, e->heap_first, e->heap_last);
    if (net_write_evidence(f, e)) {
        finding_advice(f, "%s", slow_consumer_advice);
        return;
    }
    finding_advice(f, "Memory kept alive after each GC keeps rising: something holds references it should "
                      "drop (a map or cache without a bound or eviction, a slice re-sliced but never copied, "
                      "goroutines that leak with their buffers).  The sites above are where the growing memory "
                      "was allocated; `reef pprof diff` of two heap profiles taken minutes apart confirms it.");
}

void rule_heap_fragmentation(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const char *why = no_stats(e);
    if (why) {
        report_skip(r, "heap-fragmentation", "%s", why);
        return;
    }
    double waste[SCAN_MAX_SAMPLES], kept[SCAN_MAX_SAMPLES], alloc[SCAN_MAX_SAMPLES];
    scan_series(e, s_span_waste, waste);
    scan_series(e, s_retained, kept);
    scan_series(e, s_heap_alloc, alloc);
    /* The least waste over the samples: right after a GC HeapAlloc is the
     * live heap, before it garbage inflates it. */
    double min_waste = INFINITY, live = NAN;
    for (size_t i = 0; i < e->nsamples; i++)
        if (!isnan(waste[i]) && waste[i] < min_waste) {
            min_waste = waste[i];
            live = alloc[i];
        }
    char a[32], b[32], s[256];
    if (isfinite(min_waste))
        report_check_note(r, "heap-fragmentation", "spans in use without live objects at least %s (live heap %s); "
                          "held from the OS %s", scan_fmt_bytes(a, sizeof a, min_waste),
                          scan_fmt_bytes(b, sizeof b, live), scan_fmt_series(s, sizeof s, kept, e->nsamples, "B"));
    if (isfinite(min_waste) && min_waste >= 64 * MiB && min_waste >= 0.5 * live) {
        finding *f = report_finding(r, "heap-fragmentation", SEV_WARN,
                                    "%s of heap spans in use hold no live objects (live heap %s)",
                                    scan_fmt_bytes(a, sizeof a, min_waste), scan_fmt_bytes(b, sizeof b, live));
        finding_evidence(f, "HeapInuse - HeapAlloc per sample: %s",
                         scan_fmt_series(s, sizeof s, waste, e->nsamples, "B"));
        finding_value_add(f, "span_waste_bytes", waste, e->nsamples);
        finding_advice(f, "Objects that outlive their neighbours pin whole spans: a few long-lived objects kept "
                          "from a large batch of short-lived ones of the same size.  Copy the survivors out "
                          "(or allocate long-lived data separately), and watch HeapInuse - HeapAlloc.");
    }
    double k0, k1, a0, a1;
    if (scan_grows(kept, e->nsamples, 32 * MiB, 0.25) && scan_ends(alloc, e->nsamples, &a0, &a1) &&
        a1 - a0 < 0.1 * (scan_ends(kept, e->nsamples, &k0, &k1) ? k1 - k0 : 0)) {
        finding *f = report_finding(r, "heap-fragmentation", SEV_WARN,
                                    "heap memory held from the OS grew %s while the heap did not",
                                    scan_fmt_series(s, sizeof s, kept, e->nsamples, "B"));
        finding_evidence(f, "HeapSys - HeapReleased per sample: %s", s);
        finding_evidence(f, "HeapAlloc per sample: %s", scan_fmt_series(s, sizeof s, alloc, e->nsamples, "B"));
        finding_value_add(f, "retained_bytes", kept, e->nsamples);
        finding_advice(f, "The runtime keeps freed spans instead of returning them: bursts of large "
                          "allocations, or a scavenger held back.  Set GOMEMLIMIT so the runtime returns memory "
                          "under pressure; find the bursts with a heap profile (alloc_space).");
    }
}

static int64_t proc_anon(const proc_snapshot *p) { return p->rss_anon > 0 ? p->rss_anon : p->vm_rss; }

void rule_rss_gap(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const scan_sample *last = evidence_last(e);
    if (!e->pid || !last || !last->has_proc) {
        report_skip(r, "rss-gap", "needs --pid: resident memory comes from /proc");
        return;
    }
    if (!last->has_stats || isnan(last->stats.sys)) {
        report_skip(r, "rss-gap", "%s", no_stats(e) ? no_stats(e) : "the runtime's Sys figure is missing");
        return;
    }
    double rss = (double)proc_anon(&last->proc), sys = last->stats.sys, gap = rss - sys;
    char a[32], b[32], c[32];
    report_check_note(r, "rss-gap", "anonymous RSS %s, Go runtime Sys %s", scan_fmt_bytes(a, sizeof a, rss),
                      scan_fmt_bytes(b, sizeof b, sys));
    if (gap < 64 * MiB || rss < 1.5 * sys) return;
    finding *f = report_finding(r, "rss-gap", gap >= 1024 * MiB ? SEV_CRIT : SEV_WARN,
                                "%s resident outside the Go runtime (RSS %s, runtime Sys %s)",
                                scan_fmt_bytes(c, sizeof c, gap), scan_fmt_bytes(a, sizeof a, rss),
                                scan_fmt_bytes(b, sizeof b, sys));
    finding_evidence(f, "RssAnon %s, VmRSS %s, VmHWM %s (/proc/%d/status)", a,
                     scan_fmt_bytes(b, sizeof b, (double)last->proc.vm_rss),
                     scan_fmt_bytes(c, sizeof c, (double)last->proc.vm_hwm), e->pid);
    finding_advice(f, "Memory the Go runtime does not know about: cgo allocations (C malloc, a C library's "
                      "caches), syscall.Mmap or a library that maps files or anonymous memory.  Go's heap "
                      "profile cannot see it; look at /proc/%d/smaps for the large mappings, and at the C "
                      "libraries linked in.",
                  e->pid);
}

/* GOMEMLIMIT as Go parses it: a number with an optional B/KiB/MiB/GiB/TiB
 * suffix, or "off".  -1 when unset, off or unparsable. */
static double parse_gomemlimit(const char *s)
{
    if (!s || !*s || strcmp(s, "off") == 0) return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return -1;
    static const struct {
        const char *suffix;
        double mul;
    } units[] = {{"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", MiB}, {"GiB", 1024 * MiB}, {"TiB", 1024 * 1024 * MiB}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(end, units[i].suffix) == 0) return v * units[i].mul;
    return -1;
}

/* The effective GOMEMLIMIT: the runtime's own figure from /metrics, else
 * the environment.  -1 when unset (math.MaxInt64 means unset too). */
static double gomemlimit(const scan_sample *s, const char **source)
{
    if (s->has_stats && !isnan(s->stats.gomemlimit)) {
        *source = "go_gc_gomemlimit_bytes";
        return s->stats.gomemlimit >= 9.2e18 ? -1 : s->stats.gomemlimit;
    }
    *source = "GOMEMLIMIT in the environment";
    return s->has_proc ? parse_gomemlimit(s->proc.gomemlimit) : -1;
}

void rule_memory_limit(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const scan_sample *last = evidence_last(e);
    if (!e->pid || !last || !last->has_proc) {
        report_skip(r, "memory-limit", "needs --pid: limits come from the process's cgroup");
        return;
    }
    if (!last->has_cgroup || last->cgroup.version == 0) {
        report_skip(r, "memory-limit", "no cgroup memory controller readable for pid %d", e->pid);
        return;
    }
    const cgroup_limits *cg = &last->cgroup;
    char a[32], b[32];
    if (cg->oom_kills > 0) {
        finding *f = report_finding(r, "memory-limit", SEV_CRIT, "%lld OOM kill%s recorded in the cgroup",
                                    (long long)cg->oom_kills, cg->oom_kills == 1 ? "" : "s");
        finding_evidence(f, "cgroup %s", cg->memory_path);
        finding_advice(f, "Processes in this cgroup were killed for memory: this one may be a restarted copy. "
                          "Set GOMEMLIMIT below the limit and find what grows (heap-growth, rss-gap).");
    }
    if (cg->memory_limit <= 0) {
        report_check_note(r, "memory-limit", "no cgroup memory limit");
        return;
    }
    double limit = (double)cg->memory_limit, used = (double)cg->memory_usage;
    report_check_note(r, "memory-limit", "cgroup usage %s of %s", scan_fmt_bytes(a, sizeof a, used),
                      scan_fmt_bytes(b, sizeof b, limit));
    if (used >= 0.8 * limit) {
        finding *f = report_finding(r, "memory-limit", used >= 0.9 * limit ? SEV_CRIT : SEV_WARN,
                                    "cgroup memory at %.0f%% of its limit (%s of %s)", 100 * used / limit, a, b);
        finding_evidence(f, "%s (cgroup v%d)", cg->memory_path, cg->version);
        finding_advice(f, "The OOM killer acts at the limit.  Usage includes the page cache in cgroup v1; if the "
                          "process's own RSS is the bulk, raise the limit or cut the heap (GOMEMLIMIT makes the "
                          "GC work harder before the limit is hit).");
    }
    const char *source;
    double gml = gomemlimit(last, &source);
    if (gml < 0) {
        finding *f = report_finding(r, "memory-limit", SEV_WARN,
                                    "GOMEMLIMIT is not set under a cgroup memory limit of %s", b);
        finding_evidence(f, "checked %s", source);
        finding_advice(f, "Without GOMEMLIMIT the GC only follows GOGC and lets the heap double past the live "
                          "size, blind to the container's limit.  Set GOMEMLIMIT to about 90%% of the limit (%.0f "
                          "MiB here), leaving room for stacks, cgo and the page cache.",
                       0.9 * limit / MiB);
    } else if (gml > limit) {
        finding *f = report_finding(r, "memory-limit", SEV_WARN, "GOMEMLIMIT %s is above the cgroup limit %s",
                                    scan_fmt_bytes(a, sizeof a, gml), b);
        finding_evidence(f, "from %s", source);
        finding_advice(f, "The OOM killer will act before the GC does.  Set GOMEMLIMIT to about 90%% of the "
                          "limit.");
    }
}
