/* scan_runtime.c - the process and runtime rules of `reef scan`:
 * gomaxprocs-quota, cpu-throttling, fd-leak, so-growth, thread-leak,
 * gc-pause and gc-cpu. */
#include "scan.h"
#include "../util/buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *needs_pid = "needs --pid: this comes from /proc and the process's cgroup";

static bool cgroup_ready(const scan_evidence *e, report *r, const char *rule)
{
    const scan_sample *last = evidence_last(e);
    if (!e->pid || !last || !last->has_proc) {
        report_skip(r, rule, "%s", needs_pid);
        return false;
    }
    if (!last->has_cgroup || last->cgroup.version == 0) {
        report_skip(r, rule, "no cgroup CPU controller readable for pid %d", e->pid);
        return false;
    }
    return true;
}

/* "go1.24.3" -> 24; -1 for a version reef cannot read ("devel ..."). */
static int go_minor(const char *v)
{
    if (!v || strncmp(v, "go1.", 4) != 0) return -1;
    return atoi(v + 4);
}

/* GOMAXPROCS as the service runs with it, and how reef knows. */
static int effective_gomaxprocs(const scan_evidence *e, const scan_sample *s, const char **how)
{
    if (s->has_stats && !isnan(s->stats.gomaxprocs)) {
        *how = "go_sched_gomaxprocs_threads from /metrics";
        return (int)s->stats.gomaxprocs;
    }
    if (s->proc.gomaxprocs[0] && atoi(s->proc.gomaxprocs) > 0) {
        *how = "GOMAXPROCS in the environment";
        return atoi(s->proc.gomaxprocs);
    }
    int ncpu = s->proc.ncpus_allowed > 0 ? s->proc.ncpus_allowed : proc_online_cpus();
    int minor = go_minor(e->go_version);
    bool opted_out = strstr(s->proc.godebug, "containermaxprocs=0") || strstr(s->proc.godebug, "updatemaxprocs=0");
    if (minor >= 25 && !opted_out && s->cgroup.cpu_limit_leaf > 0) {
        /* Go 1.25+: min(CPUs, max(2, ceil(limit))), from the limit of the
         * process's own cgroup only: a tighter parent goes unnoticed. */
        int q = (int)ceil(s->cgroup.cpu_limit_leaf);
        if (q < 2) q = 2;
        *how = "inferred: Go 1.25+ follows its cgroup's CPU quota, with a floor of 2";
        return q < ncpu ? q : ncpu;
    }
    *how = minor >= 25 && !opted_out ? "inferred: Go 1.25+ reads only its own cgroup's quota, and it has none"
           : minor >= 25                 ? "inferred: GODEBUG turns off Go 1.25+'s quota rule; the CPU count"
           : minor >= 0                  ? "inferred: before Go 1.25 the default is the CPU count"
                                         : "inferred: the CPU count (no build info or /metrics to tell more)";
    return ncpu;
}

void rule_gomaxprocs_quota(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    if (!cgroup_ready(e, r, "gomaxprocs-quota")) return;
    const scan_sample *last = evidence_last(e);
    double limit = last->cgroup.cpu_limit;
    if (limit <= 0) {
        report_check_note(r, "gomaxprocs-quota", "no cgroup CPU quota");
        return;
    }
    const char *how;
    int procs = effective_gomaxprocs(e, last, &how);
    int quota = (int)ceil(limit);
    report_check_note(r, "gomaxprocs-quota", "GOMAXPROCS %d (%s), CPU quota %.2f", procs, how, limit);
    if (procs <= quota || (procs <= 2 && go_minor(e->go_version) >= 25)) return;
    finding *f = report_finding(r, "gomaxprocs-quota", SEV_WARN, "GOMAXPROCS %d is above the CPU quota of %.2f CPUs",
                                procs, limit);
    finding_evidence(f, "GOMAXPROCS: %s", how);
    finding_evidence(f, "quota %lld us per %lld us period (%s)", (long long)last->cgroup.cpu_quota_us,
                     (long long)last->cgroup.cpu_period_us, last->cgroup.cpu_path);
    finding_advice(f, "With more Ps than the quota, the runtime's threads burn the quota early in each period and "
                      "the whole process is throttled until the next one: tail latency jumps by up to a period "
                      "(100 ms).  Go 1.25+ sets GOMAXPROCS from the quota itself; before that, set GOMAXPROCS=%d "
                      "or use go.uber.org/automaxprocs.",
                   quota);
}

void rule_cpu_throttling(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    if (!cgroup_ready(e, r, "cpu-throttling")) return;
    const scan_sample *first = evidence_first(e), *last = evidence_last(e);
    const cgroup_limits *a = &first->cgroup, *b = &last->cgroup;
    if (b->nr_periods < 0) {
        report_skip(r, "cpu-throttling", "cpu.stat has no throttling counters here");
        return;
    }
    if (b->cpu_limit <= 0) {
        report_check_note(r, "cpu-throttling", "no cgroup CPU quota");
        return;
    }
    bool window = e->nsamples >= 2 && first->has_cgroup && a->nr_periods >= 0 && b->nr_periods > a->nr_periods;
    double periods = window ? (double)(b->nr_periods - a->nr_periods) : (double)b->nr_periods;
    double throttled = window ? (double)(b->nr_throttled - a->nr_throttled) : (double)b->nr_throttled;
    double secs = window ? b->throttled_seconds - a->throttled_seconds : b->throttled_seconds;
    if (periods <= 0) return;
    double ratio = throttled / periods;
    report_check_note(r, "cpu-throttling", "throttled in %.0f of %.0f periods %s", throttled, periods,
                      window ? "during the window" : "since the cgroup was created");
    if (ratio < 0.2) return;
    severity sev = !window ? SEV_INFO : ratio >= 0.5 ? SEV_CRIT : SEV_WARN;
    finding *f = report_finding(r, "cpu-throttling", sev, "throttled in %.0f%% of CPU periods %s (%.2f s lost)",
                                100 * ratio, window ? "during the scan" : "since the cgroup was created", secs);
    finding_evidence(f, "cpu.stat: nr_periods +%.0f, nr_throttled +%.0f, quota %.2f CPUs (%s)", periods, throttled,
                     b->cpu_limit, b->cpu_path);
    finding_advice(f, "The service needs more CPU than its quota in bursts: every throttled period stalls all "
                      "its threads until the next one.  Check GOMAXPROCS against the quota, reduce GC work "
                      "(GOGC, fewer allocations) or raise the limit.");
}

static double s_fds(const scan_sample *s)
{
    if (s->has_proc && s->proc.open_fds >= 0) return (double)s->proc.open_fds;
    return s->has_stats ? s->stats.open_fds : NAN;
}
static double s_threads(const scan_sample *s)
{
    if (s->has_proc && s->proc.threads > 0) return (double)s->proc.threads;
    return s->has_stats ? s->stats.threads : NAN;
}
static double s_so(const scan_sample *s) { return s->has_proc && s->proc.mapped_so >= 0 ? (double)s->proc.mapped_so : NAN; }

static double fd_limit(const scan_sample *s)
{
    if (s->has_proc && s->proc.nofile_soft > 0) return (double)s->proc.nofile_soft;
    return s->has_stats ? s->stats.max_fds : NAN;
}

/* "31 TCP established, 2 listening, 3 files, 1 pipe, 4 anon inodes" */
static void fd_kinds(buf *b, const proc_snapshot *p)
{
    if (p->tcp_established < 0) return;
    const struct {
        int64_t n;
        const char *one, *many;
    } kinds[] = {
        {p->tcp_established, "TCP established", "TCP established"},
        {p->tcp_close_wait, "TCP CLOSE_WAIT", "TCP CLOSE_WAIT"},
        {p->tcp_other, "TCP other state", "TCP other states"},
        {p->nlisten_total, "listening", "listening"},
        {p->other_sockets, "other socket", "other sockets"},
        {p->files, "file", "files"},
        {p->pipes, "pipe", "pipes"},
        {p->anon_inodes, "anon inode", "anon inodes"},
        {p->other_fds, "other", "other"},
    };
    const char *sep = "";
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        if (kinds[i].n <= 0) continue;
        buf_printf(b, "%s%lld %s", sep, (long long)kinds[i].n, kinds[i].n == 1 ? kinds[i].one : kinds[i].many);
        sep = ", ";
    }
}

static void fd_peers(buf *b, const proc_snapshot *p)
{
    for (int i = 0; i < p->npeers && i < 4; i++) {
        const proc_peer *q = &p->peers[i];
        if (q->inbound) buf_printf(b, "%s%lld from %s to port %u", i ? ", " : "", (long long)q->count, q->addr, q->port);
        else buf_printf(b, "%s%lld to %s:%u", i ? ", " : "", (long long)q->count, q->addr, q->port);
    }
    if (p->npeers > 4 || p->peers_other) buf_puts(b, ", ...");
}

/* What grew, by kind of descriptor, and the advice that fits it: live
 * connections are not a missing Close. */
static void fd_growth_evidence(finding *f, const scan_evidence *e, const proc_snapshot *a, const proc_snapshot *z)
{
    const struct {
        int64_t d;
        const char *what;
    } grew[] = {
        {z->tcp_established - a->tcp_established, "established TCP connections"},
        {z->tcp_close_wait - a->tcp_close_wait, "TCP sockets in CLOSE_WAIT (the peer closed, this side never did)"},
        {z->other_sockets - a->other_sockets, "other sockets (unix, udp)"},
        {z->files - a->files, "files"},
        {z->pipes - a->pipes, "pipes"},
        {z->anon_inodes - a->anon_inodes, "anon inodes (epoll, eventfd, timerfd)"},
    };
    int64_t total = z->open_fds - a->open_fds;
    for (size_t i = 0; i < sizeof grew / sizeof *grew; i++)
        if (grew[i].d > 0) finding_evidence(f, "+%lld %s", (long long)grew[i].d, grew[i].what);
    buf b = {0};
    fd_peers(&b, z);
    if (b.len) finding_evidence(f, "established connections now: %s", buf_cstr(&b));
    buf_free(&b);
    const gmodel *lm = evidence_last(e)->goroutines;
    uint64_t upstream = lm ? scan_wait_count(lm, SCAN_WAIT_UPSTREAM) : 0;
    if (grew[0].d > 0 && grew[0].d * 2 >= total) {
        finding_advice(f, "The descriptors that grew are live connections, not a missing Close.%s  Connections "
                          "that only accumulate are clients that never leave (give the server ReadHeaderTimeout, "
                          "IdleTimeout and a connection limit) or requests that never end (client timeouts).",
                       upstream ? "  They are held by the requests waiting on an upstream (see upstream-wait)." : "");
        return;
    }
    finding_advice(f, "Files, sockets or pipes are opened and never closed: a missing Close (response bodies, "
                      "os.Open in a loop, net.Dial without a deferred Close).  `ls -l /proc/%d/fd` shows what they "
                      "point to.",
                   e->pid);
}

/* True when most of the descriptors that grew are established connections
 * and the requests waiting on an upstream (with their inbound ones) can
 * hold that many. */
static bool upstream_conns(const scan_evidence *e, const scan_sample *fs, const scan_sample *ls, double grew)
{
    const gmodel *lm = ls->goroutines;
    if (!lm || !fs->has_proc || !ls->has_proc || fs->proc.tcp_established < 0 || ls->proc.tcp_established < 0)
        return false;
    (void)e;
    double conns = (double)(ls->proc.tcp_established - fs->proc.tcp_established);
    double waiting = (double)scan_wait_count(lm, SCAN_WAIT_UPSTREAM);
    return conns * 2 >= grew && waiting > 0 && conns <= 2 * waiting + 2;
}

/* Established connections that came in on the process's listening ports,
 * gained between two samples: clients arriving, not descriptors leaking. */
static double inbound_growth(const scan_sample *fs, const scan_sample *ls)
{
    if (!fs->has_proc || !ls->has_proc) return 0;
    double n = 0;
    for (int i = 0; i < ls->proc.npeers; i++) n += ls->proc.peers[i].inbound ? (double)ls->proc.peers[i].count : 0;
    for (int i = 0; i < fs->proc.npeers; i++) n -= fs->proc.peers[i].inbound ? (double)fs->proc.peers[i].count : 0;
    return n;
}

void rule_fd_leak(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    double v[SCAN_MAX_SAMPLES], first, last;
    if (scan_series(e, s_fds, v) == 0) {
        report_skip(r, "fd-leak", "needs --pid (/proc/PID/fd) or process_open_fds in /metrics");
        return;
    }
    const scan_sample *ls = evidence_last(e), *fs = evidence_first(e);
    double limit = fd_limit(ls), now = s_fds(ls);
    char s[256], rate[64];
    buf kinds = {0};
    if (ls->has_proc) fd_kinds(&kinds, &ls->proc);
    report_check_note(r, "fd-leak", "open descriptors %s of %.0f%s%s%s", scan_fmt_series(s, sizeof s, v, e->nsamples, NULL),
                      limit, kinds.len ? " (now " : "", buf_cstr(&kinds), kinds.len ? ")" : "");
    buf_free(&kinds);
    if (scan_grows(v, e->nsamples, 20, 0.1) && scan_ends(v, e->nsamples, &first, &last)) {
        /* Connections held by requests waiting on an upstream are that
         * rule's finding: here they are noted, not a second alarm. */
        bool held = upstream_conns(e, fs, ls, last - first);
        bool clients = !held && inbound_growth(fs, ls) * 2 >= last - first;
        finding *f = report_finding(r, "fd-leak", held || clients ? SEV_INFO : SEV_WARN,
                                    "open descriptors grew from %.0f to %.0f in %.0f s (%s)%s", first, last, e->window,
                                    scan_fmt_rate(rate, sizeof rate, v, e, NULL),
                                    held      ? ": connections of requests waiting on an upstream"
                                    : clients ? ": clients connecting" : "");
        finding_evidence(f, "open descriptors per sample: %s", s);
        if (!isnan(limit) && last > first && e->window > 0)
            finding_evidence(f, "at this rate RLIMIT_NOFILE (%.0f) is reached in about %.0f s", limit,
                             (limit - last) / ((last - first) / e->window));
        finding_value_add(f, "open_fds", v, e->nsamples);
        if (fs->has_proc && ls->has_proc && fs->proc.tcp_established >= 0 && ls->proc.tcp_established >= 0)
            fd_growth_evidence(f, e, &fs->proc, &ls->proc);
        else
            finding_advice(f, "Files, sockets or pipes are opened and never closed: a missing Close (response "
                              "bodies, os.Open in a loop, net.Dial without a deferred Close), or connections "
                              "that never end.  `ls -l /proc/PID/fd` shows what they point to.");
    }
    if (!isnan(limit) && !isnan(now) && now >= 0.8 * limit) {
        finding *f = report_finding(r, "fd-leak", now >= 0.95 * limit ? SEV_CRIT : SEV_WARN,
                                    "%.0f descriptors open, %.0f%% of RLIMIT_NOFILE %.0f", now, 100 * now / limit,
                                    limit);
        finding_advice(f, "At the limit, accept() and open() fail with EMFILE.  Find the leak, or raise the limit "
                          "(LimitNOFILE in systemd, ulimit -n).");
    }
}

void rule_so_growth(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    double v[SCAN_MAX_SAMPLES], first, last;
    if (scan_series(e, s_so, v) == 0) {
        report_skip(r, "so-growth", "needs --pid: shared objects come from /proc/PID/maps");
        return;
    }
    char s[256];
    report_check_note(r, "so-growth", "shared objects mapped %s", scan_fmt_series(s, sizeof s, v, e->nsamples, NULL));
    if (!scan_grows(v, e->nsamples, 2, 0) || !scan_ends(v, e->nsamples, &first, &last)) return;
    finding *f = report_finding(r, "so-growth", SEV_WARN, "shared objects mapped grew from %.0f to %.0f in %.0f s",
                                first, last, e->window);
    finding_evidence(f, "distinct shared objects in /proc/%d/maps per sample: %s", e->pid, s);
    finding_value_add(f, "mapped_shared_objects", v, e->nsamples);
    finding_advice(f, "Libraries or plugins are loaded again and again (dlopen of a fresh copy each time, "
                      "plugin.Open of new files): each stays mapped for good.  Load once and reuse the handle.");
}

void rule_thread_leak(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    double v[SCAN_MAX_SAMPLES], first, last;
    if (scan_series(e, s_threads, v) == 0) {
        report_skip(r, "thread-leak", "needs --pid (/proc/PID/status) or go_threads in /metrics");
        return;
    }
    char s[256];
    report_check_note(r, "thread-leak", "OS threads %s", scan_fmt_series(s, sizeof s, v, e->nsamples, NULL));
    if (scan_grows(v, e->nsamples, 10, 0.2) && scan_ends(v, e->nsamples, &first, &last)) {
        finding *f = report_finding(r, "thread-leak", last >= 5000 ? SEV_CRIT : SEV_WARN,
                                    "OS threads grew from %.0f to %.0f in %.0f s", first, last, e->window);
        finding_evidence(f, "threads per sample: %s", s);
        finding_value_add(f, "threads", v, e->nsamples);
        finding_advice(f, "Each goroutine blocked in a system call or in cgo holds an OS thread, and so does one "
                          "that called runtime.LockOSThread.  Blocking reads on files, pipes or devices that the "
                          "netpoller cannot watch are the usual cause.  Go exits with \"program exceeds "
                          "10000-thread limit\" at debug.SetMaxThreads.");
    }
}

/* The longest pause of the GCs that ran during the window, from the
 * runtime's ring of the last 256 pauses; else the longest in the ring. */
static double window_pause_max(const scan_evidence *e, bool *in_window)
{
    const scan_sample *first = evidence_first(e), *last = evidence_last(e);
    *in_window = false;
    if (!last || !last->has_stats) return NAN;
    const gostats *s = &last->stats;
    if (!s->has_pause_ring) return s->pause_max_ns;
    double n1 = s->num_gc, n0 = first->has_stats ? first->stats.num_gc : NAN;
    double max = 0;
    if (!isnan(n0) && !isnan(n1) && n1 > n0 && n1 - n0 <= 256) {
        *in_window = true;
        for (double n = n0 + 1; n <= n1; n++) {
            double p = s->pause_ring[((unsigned long long)n + 255) % 256];
            if (p > max) max = p;
        }
        return max;
    }
    for (int i = 0; i < 256; i++)
        if (s->pause_ring[i] > max) max = s->pause_ring[i];
    return max;
}

void rule_gc_pause(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    bool in_window;
    double max = window_pause_max(e, &in_window);
    if (isnan(max)) {
        report_skip(r, "gc-pause", "no GC pause figures (needs /metrics, /debug/vars or the pprof heap endpoint)");
        return;
    }
    const char *when = in_window ? "during the scan" : "among the last 256 GCs";
    report_check_note(r, "gc-pause", "longest stop-the-world pause %.2f ms %s", max / 1e6, when);
    if (max < 10e6) return;
    finding *f = report_finding(r, "gc-pause", max >= 100e6 ? SEV_CRIT : SEV_WARN,
                                "a stop-the-world GC pause of %.1f ms %s", max / 1e6, when);
    finding_evidence(f, "runtime.MemStats.PauseNs (source: %s)", e->stats_source ? e->stats_source : "?");
    finding_advice(f, "Go's pauses are normally well under a millisecond.  Long ones come from goroutines that "
                      "cannot be preempted (tight loops with GODEBUG=asyncpreemptoff=1, long cgo or assembly "
                      "calls), an overloaded machine (CPU throttling) or huge numbers of goroutines whose stacks "
                      "must be scanned.  `go tool trace` shows what the STW waited for.");
}

void rule_gc_cpu(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    const scan_sample *last = evidence_last(e);
    double frac = last && last->has_stats ? last->stats.gc_cpu_fraction : NAN;
    if (isnan(frac)) {
        report_skip(r, "gc-cpu", "no GCCPUFraction (needs /debug/vars or the pprof heap endpoint)");
        return;
    }
    report_check_note(r, "gc-cpu", "GC used %.1f%% of the CPU available since start-up", 100 * frac);
    if (frac < 0.1) return;
    finding *f = report_finding(r, "gc-cpu", frac >= 0.25 ? SEV_CRIT : SEV_WARN,
                                "GC used %.0f%% of the available CPU since the process started", 100 * frac);
    finding_evidence(f, "runtime.MemStats.GCCPUFraction %.3f (source: %s)", frac,
                     e->stats_source ? e->stats_source : "?");
    if (last->has_stats && !isnan(last->stats.gogc)) finding_evidence(f, "GOGC %.0f", last->stats.gogc);
    finding_advice(f, "The collector runs too often for the allocation rate: allocate less (reuse buffers, "
                      "sync.Pool, avoid per-request maps), raise GOGC, or set GOMEMLIMIT with a higher GOGC so the "
                      "heap may grow where memory allows.  A heap profile with -sample_index=alloc_space shows who "
                      "allocates.");
}
