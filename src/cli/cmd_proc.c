/* cmd_proc.c - "reef proc": what /proc and the cgroups say about a process.
 *
 *   reef proc [--json] [--proc-root DIR] [--sysfs-root DIR] PID
 *
 * Plumbing: prints the snapshot the pid-side detectors work from, raw, so
 * that a finding can be checked by hand.  Flow: collect_proc ->
 * collect_cgroup -> text or JSON. */
#include "cli.h"
#include "../collect/collect_cgroup.h"
#include "../collect/collect_proc.h"
#include "../report/proc_json.h"
#include "../util/json.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: reef proc [--json] [--proc-root DIR] [--sysfs-root DIR] PID\n"
    "\n"
    "Shows what Linux says about a running process: memory (VmRSS, VmHWM),\n"
    "threads, CPU time, open descriptors against the open-files limit, shared\n"
    "objects mapped, the Go runtime's environment (GOMAXPROCS, GOGC,\n"
    "GOMEMLIMIT, GODEBUG, GOTRACEBACK), its cgroups, the TCP ports it listens\n"
    "on, and the memory and CPU limits of its cgroups (the tightest along the\n"
    "path to the root), with OOM kills and CPU throttling.\n"
    "\n"
    "Options:\n"
    "  --json             one JSON object with every field (unknown: null)\n"
    "  --proc-root DIR    read DIR instead of /proc (recorded trees)\n"
    "  --sysfs-root DIR   read cgroup files under DIR instead of the mounts in\n"
    "                     /proc/self/mountinfo: v2 if DIR/cgroup.controllers\n"
    "                     exists, else v1 with DIR/memory and DIR/cpu\n"
    "\n"
    "Values are as the kernel gives them: bytes, seconds, counts; -1 or\n"
    "\"-\" when a file could not be read.  Another user's process needs root\n"
    "for its environment, descriptors and executable.\n"
    "\n"
    "Exit status: 0 done, 2 bad usage or a malformed file, 3 no such process.\n";

typedef struct options {
    bool json;
    const char *proc_root, *sysfs_root;
    int pid;
} options;

enum { OPT_JSON = 256, OPT_PROC_ROOT, OPT_SYSFS_ROOT };

static const struct option long_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"proc-root", required_argument, NULL, OPT_PROC_ROOT},
    {"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
    {NULL, 0, NULL, 0},
};

static int parse_pid(const char *arg, int *pid)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v <= 0 || v > INT32_MAX)
        return cli_error(EXIT_USAGE, "a process id is a positive number, not \"%s\"", arg);
    *pid = (int)v;
    return EXIT_OK;
}

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: o->json = true; break;
        case OPT_PROC_ROOT: o->proc_root = optarg; break;
        case OPT_SYSFS_ROOT: o->sysfs_root = optarg; break;
        case ':': return cli_error(EXIT_USAGE, "%s needs a value; see 'reef help proc'", argv[optind - 1]);
        default: return cli_error(EXIT_USAGE, "unknown option %s; see 'reef help proc'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) return cli_error(EXIT_USAGE, "proc takes one PID; see 'reef help proc'");
    return parse_pid(argv[optind], &o->pid);
}

/* ---- text ---- */

#define KEY "%-18s "

static void human_bytes(char *out, size_t size, int64_t v)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double x = (double)v;
    int u = 0;
    while (x >= 1024 && u < 6) {
        x /= 1024;
        u++;
    }
    snprintf(out, size, u ? "%.1f %s" : "%.0f %s", x, units[u]);
}

static void text_int(const char *key, int64_t v)
{
    if (v < 0) printf(KEY "-\n", key);
    else printf(KEY "%" PRId64 "\n", key, v);
}

static void text_bytes(const char *key, int64_t v, const char *none)
{
    char h[32];
    if (v < 0) {
        printf(KEY "%s\n", key, none);
        return;
    }
    human_bytes(h, sizeof h, v);
    printf(KEY "%" PRId64 " (%s)\n", key, v, h);
}

static void text_str(const char *key, const char *v) { printf(KEY "%s\n", key, *v ? v : "-"); }

static void text_seconds(const char *key, double v)
{
    if (v < 0) printf(KEY "-\n", key);
    else printf(KEY "%.2f\n", key, v);
}

static void text_process(const proc_snapshot *s)
{
    printf(KEY "%d\n", "pid", s->pid);
    text_str("comm", s->comm);
    text_str("exe", s->exe);
    text_seconds("uptime_seconds", s->uptime_seconds);
    text_seconds("utime", s->utime);
    text_seconds("stime", s->stime);
    text_bytes("vm_rss", s->vm_rss, "-");
    text_bytes("vm_hwm", s->vm_hwm, "-");
    text_bytes("vm_size", s->vm_size, "-");
    text_bytes("rss_anon", s->rss_anon, "-");
    text_bytes("rss_file", s->rss_file, "-");
    text_int("threads", s->threads);
    if (s->ncpus_allowed < 0) text_str("cpus_allowed_list", "");
    else printf(KEY "%s (%d CPUs; %d online)\n", "cpus_allowed_list", s->cpus_allowed_list, s->ncpus_allowed,
                proc_online_cpus());
    text_int("open_fds", s->open_fds);
    text_int("socket_fds", s->socket_fds);
    printf(KEY, "nofile");
    if (s->nofile_soft < 0) printf("unlimited or unknown\n");
    else printf("%" PRId64 " soft, %" PRId64 " hard\n", s->nofile_soft, s->nofile_hard);
    text_int("mapped_so", s->mapped_so);
    text_int("maps_lines", s->maps_lines);
}

static void text_env(const proc_snapshot *s)
{
    const char *names[] = {"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG", "GOTRACEBACK"};
    const char *values[] = {s->gomaxprocs, s->gogc, s->gomemlimit, s->godebug, s->gotraceback};
    for (int i = 0; i < 5; i++) text_str(names[i], s->environ_readable ? values[i] : "(environ unreadable)");
}

static void text_net(const proc_snapshot *s)
{
    for (int i = 0; i < s->ncgroups; i++)
        printf(KEY "%d:%s:%s\n", "cgroup", s->cgroups[i].hierarchy, s->cgroups[i].controllers, s->cgroups[i].path);
    if (!s->net_readable) printf(KEY "-\n", "listen");
    else if (s->nlisten_total == 0) printf(KEY "none\n", "listen");
    for (int i = 0; i < s->nlisten; i++) {
        const proc_listen *l = &s->listen[i];
        bool v6 = strchr(l->addr, ':') != NULL;
        printf(KEY "%s%s%s:%u%s\n", "listen", v6 ? "[" : "", l->addr, v6 ? "]" : "", l->port,
               l->loopback ? " loopback" : "");
    }
    if (s->nlisten_total > s->nlisten) printf(KEY "%d more\n", "listen", s->nlisten_total - s->nlisten);
}

static void text_limits(const cgroup_limits *c)
{
    text_int("cgroup_version", c->version);
    text_str("memory_path", c->memory_path);
    text_bytes("memory_limit", c->memory_limit, c->memory_version ? "unlimited" : "-");
    text_str("memory_limit_at", c->memory_limit_at);
    text_bytes("memory_high", c->memory_high, c->memory_version == 2 ? "unlimited" : "-");
    text_bytes("memory_usage", c->memory_usage, "-");
    text_int("oom_kills", c->oom_kills);
    text_int("oom_events", c->oom_events);
    text_str("cpu_path", c->cpu_path);
    if (c->cpu_limit > 0)
        printf(KEY "%.2f CPUs (quota %" PRId64 " us per %" PRId64 " us period)\n", "cpu_limit", c->cpu_limit,
               c->cpu_quota_us, c->cpu_period_us);
    else printf(KEY "%s\n", "cpu_limit", c->cpu_version ? "unlimited" : "-");
    text_str("cpu_limit_at", c->cpu_limit_at);
    if (c->cpu_limit_leaf > 0) printf(KEY "%.2f CPUs\n", "cpu_limit_leaf", c->cpu_limit_leaf);
    text_int("nr_periods", c->nr_periods);
    text_int("nr_throttled", c->nr_throttled);
    text_seconds("throttled_seconds", c->throttled_seconds);
}

/* ---- JSON ---- */

static void print_json(const proc_snapshot *s, const cgroup_limits *c)
{
    json_writer w;
    json_init(&w, stdout, true);
    json_begin_object(&w);
    proc_json_fields(&w, s, c);
    json_end_object(&w);
    json_finish(&w);
}

static int run(int argc, char **argv)
{
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != EXIT_OK) return rc;
    char err[1024];
    /* The snapshot is some 9 KB and the limits 2 KB: static, not stack. */
    static proc_snapshot s;
    static cgroup_limits c;
    rc = proc_read(o.proc_root, o.pid, &s, err, sizeof err);
    if (rc) return cli_error(rc == 3 ? EXIT_UNREACHABLE : EXIT_USAGE, "%s", err);
    rc = cgroup_read(&s, o.sysfs_root, &c, err, sizeof err);
    if (rc) return cli_error(EXIT_USAGE, "%s", err);
    if (o.json) {
        print_json(&s, &c);
    } else {
        text_process(&s);
        text_env(&s);
        text_net(&s);
        text_limits(&c);
    }
    return EXIT_OK;
}

const command cmd_proc = {
    .name = "proc",
    .run = run,
    .summary = "what /proc and the cgroups say about a process (plumbing)",
    .usage = usage_text,
};
