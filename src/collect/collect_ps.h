/* collect_ps.h - the Go processes of this host, told by the Go build info
 * of /proc/PID/exe: what `reef ps` lists and `reef watch --discover`
 * watches.
 *
 * A process's identity is its executable and its arguments, not its pid:
 * a service that restarts (new pid, maybe a new port) is the same target,
 * and goproc_same() says so.
 *
 * The root of /proc is a parameter (tests may point it at a recorded tree);
 * reef itself reads "/proc". */
#ifndef REEF_COLLECT_PS_H
#define REEF_COLLECT_PS_H

#include "collect.h"
#include "collect_proc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOPROC_MAX_PORTS 8

typedef struct goproc {
    int pid;
    char name[64];            /* the executable's base name */
    char exe[512];            /* readlink of /proc/PID/exe ("(deleted)" stripped) */
    uint64_t args_hash;       /* FNV-1a of /proc/PID/cmdline (argv[0] excluded) */
    char args[256];           /* the command line, spaces between, cut to fit */
    char go_version[32];      /* "go1.26.0" */
    char module[256];         /* the main module's path, "" for none */
    uint64_t starttime_ticks; /* to notice a pid reused */
    double uptime_seconds;
    int64_t rss_bytes;
    uint16_t ports[GOPROC_MAX_PORTS]; /* listening TCP ports */
    bool loopback[GOPROC_MAX_PORTS];
    int nports;
    int pprof_port;           /* the first port that serves /debug/pprof/, 0 if none (probed only on request) */
    char pprof_url[128];      /* "http://127.0.0.1:6060", "" if none */
    int64_t goroutines;       /* from the pprof endpoint when probed, -1 otherwise */
    bool go_unknown;          /* the executable could not be read (another user's process,
                               * listed only with goproc_list_options.unreadable) */
    char note[128];           /* what could not be read or probed, "" if nothing */
} goproc;

typedef struct goproc_list_options {
    const char *proc_root;    /* NULL: /proc */
    bool probe;               /* ask each listening port for /debug/pprof/ (bounded: loopback
                               * first, 4 ports a process, http timeouts) */
    const http_options *http;
    bool unreadable;          /* also list processes whose executable cannot be read (other
                               * users' when unprivileged): go_unknown set, note says why */
} goproc_list_options;

/* Every Go process readable by this user, by pid.  *out is malloc'd
 * (free()).  Returns 0, or -1 with err when /proc cannot be read. */
int goproc_list(const goproc_list_options *o, goproc **out, size_t *n, char *err, size_t errlen);

/* One process; -1 with err when it is gone, unreadable or not Go. */
int goproc_read(const goproc_list_options *o, int pid, goproc *out, char *err, size_t errlen);

/* The start time of pid (field 22 of /proc/PID/stat, clock ticks after
 * boot), 0 when the process is gone or a zombie (killed, not yet reaped:
 * gone for a watcher).  With the pid, it names one process for good. */
uint64_t goproc_start_ticks(const char *proc_root, int pid);

/* Same executable and arguments. */
bool goproc_same(const goproc *a, const goproc *b);

/* The process that took over from old after a restart: same identity,
 * another pid (the newest when several).  Returns its pid, 0 if none. */
int goproc_find_successor(const goproc_list_options *o, const goproc *old, goproc *out);

/* The oom_kill count of pid's memory cgroup (memory.events of cgroup v2,
 * memory.oom_control's oom_kill on v1); -1 when unknown.  Read while the
 * process lives: a rise seen after it died says the kernel OOM-killed it
 * (or another process of its cgroup, which the restart event says). */
int64_t goproc_oom_kills(const char *proc_root, const char *sysfs_root, int pid);

/* fnmatch(3) of pattern against name, module and exe path. */
bool goproc_matches(const goproc *p, const char *pattern);

#endif
