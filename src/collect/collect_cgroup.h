/* collect_cgroup.h - the resource limits and pressure of a process's cgroup,
 * from cgroup v2 or v1 files.
 *
 * A limit is the tightest along the path from the process's cgroup to the
 * root of its mount (limits are hierarchical in both versions).  The Go
 * runtime (1.25 and later) finds its CPU cgroup the same way but reads only
 * the leaf's limit for its GOMAXPROCS default, so cpu_limit_leaf is kept
 * too: when a parent is tighter, GOMAXPROCS is higher than the CPU the
 * process can get.  The mount points come from /proc/self/mountinfo;
 * sysfs_root can replace "/sys/fs/cgroup" so that tests read recorded
 * trees. */
#ifndef REEF_COLLECT_CGROUP_H
#define REEF_COLLECT_CGROUP_H

#include "collect_proc.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct cgroup_limits {
    int version;              /* 1 or 2; 0 when no cgroup file was readable */
    char memory_path[512];    /* the directory read for memory, "" if none */
    char cpu_path[512];       /* the directory read for cpu, "" if none */

    /* memory, bytes; -1 = unlimited or unknown */
    int64_t memory_limit;     /* v2 memory.max, v1 memory.limit_in_bytes (tightest) */
    int64_t memory_usage;     /* v2 memory.current, v1 memory.usage_in_bytes */
    int64_t memory_high;      /* v2 memory.high; -1 otherwise */
    int64_t oom_kills;        /* v2 memory.events oom_kill, v1 memory.oom_control oom_kill; -1 unknown */
    int64_t oom_events;       /* v2 memory.events oom; v1 memory.failcnt; -1 unknown */

    /* cpu: quota/period in microseconds; quota -1 = no limit */
    int64_t cpu_quota_us, cpu_period_us;
    double cpu_limit;         /* quota / period (CPUs), 0 when none */
    int64_t nr_periods, nr_throttled; /* cpu.stat; -1 unknown */
    double throttled_seconds;         /* cpu.stat throttled_usec / throttled_time */

    int memory_version, cpu_version;  /* per controller (hybrid machines mix them); 0 none */
    char memory_limit_at[512];        /* the directory whose limit is the tightest, "" if none */
    char cpu_limit_at[512];
    double cpu_limit_leaf;            /* the leaf's own quota / period, what Go's runtime reads; 0 none */
    bool memory_fallback, cpu_fallback; /* the process's cgroup is outside the mount: its root was read */
} cgroup_limits;

/* Reads the limits for the cgroups of snapshot s (from proc_read).
 * sysfs_root is NULL for the machine's own mounts.  Returns 0 (with
 * version 0 when nothing was found), or 2 with a message on a malformed
 * file. */
int cgroup_read(const proc_snapshot *s, const char *sysfs_root, cgroup_limits *out, char *err, size_t errlen);

/* The same with the mounts taken from mountinfo (a file in the format of
 * /proc/self/mountinfo) instead of reef's own: for tests. */
int cgroup_read_mountinfo(const proc_snapshot *s, const char *mountinfo, cgroup_limits *out, char *err,
                          size_t errlen);

#endif
