/* collect_proc.h - what /proc says about a process, read in one pass.
 *
 * Linux only.  Every figure reef needs for the pid-side detectors: memory
 * (VmRSS and friends), threads, open descriptors against RLIMIT_NOFILE,
 * shared objects mapped, the Go-relevant environment, the cgroup paths, and
 * the TCP sockets the process listens on (matched through the socket inodes
 * of /proc/PID/fd in /proc/PID/net/tcp and tcp6).
 *
 * The root of /proc is a parameter so that tests can point it at a recorded
 * tree; reef itself always reads "/proc". */
#ifndef REEF_COLLECT_PROC_H
#define REEF_COLLECT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROC_MAX_LISTEN 32
#define PROC_MAX_CGROUPS 16

typedef struct proc_listen {
    char addr[64];        /* "127.0.0.1", "::", "0.0.0.0", "::1", ... */
    uint16_t port;
    bool loopback;        /* 127.0.0.0/8 or ::1 (or ::ffff:127.x) */
} proc_listen;

#define PROC_MAX_PEERS 8

/* The far ends of a process's established TCP connections, grouped:
 * inbound ones by the client's address and the local (listening) port,
 * outbound ones by the server's address and port. */
typedef struct proc_peer {
    bool inbound;
    char addr[64];        /* the remote address */
    uint16_t port;        /* inbound: the local port; outbound: the remote port */
    int64_t count;
} proc_peer;

typedef struct proc_cgroup {
    int hierarchy;        /* 0 for the v2 unified hierarchy */
    char controllers[64]; /* "memory", "cpu,cpuacct", "" for v2 */
    char path[256];       /* as in /proc/PID/cgroup, e.g. "/kubepods/x" */
} proc_cgroup;

typedef struct proc_snapshot {
    int pid;
    char comm[64];
    char exe[512];            /* readlink of /proc/PID/exe, "" if unreadable */
    uint64_t starttime_ticks; /* field 22 of stat: to notice a pid reused */
    double uptime_seconds;    /* since the process started */

    /* /proc/PID/status, in bytes */
    int64_t vm_rss, vm_hwm, vm_size, rss_anon, rss_file;
    int64_t threads;
    char cpus_allowed_list[128];
    int ncpus_allowed;        /* CPUs in Cpus_allowed_list */

    /* /proc/PID/stat: CPU time used, in seconds */
    double utime, stime;

    /* /proc/PID/fd and limits */
    int64_t open_fds;         /* -1 when /proc/PID/fd is unreadable */
    int64_t socket_fds;       /* descriptors that are sockets ("socket:[N]"), -1 likewise */
    int64_t nofile_soft, nofile_hard; /* -1 = unlimited */

    /* /proc/PID/fd by what each descriptor is; -1 when unreadable.  TCP
     * states come from net/tcp{,6} by socket inode; listeners are not
     * counted here (see listen). */
    int64_t tcp_established, tcp_close_wait, tcp_other;
    int64_t other_sockets;    /* unix, udp, netlink...: sockets not in net/tcp{,6} */
    int64_t pipes, anon_inodes, files, other_fds;
    proc_peer peers[PROC_MAX_PEERS]; /* most connections first */
    int npeers;
    int64_t peers_other;      /* established connections to peers beyond the table */

    /* /proc/PID/maps */
    int64_t mapped_so;        /* distinct shared-object files mapped (*.so, *.so.N) */
    int64_t maps_lines;

    /* /proc/PID/environ: the Go runtime's settings, "" when unset */
    char gomaxprocs[32], gogc[32], gomemlimit[64], godebug[256], gotraceback[32];
    bool environ_readable;

    proc_cgroup cgroups[PROC_MAX_CGROUPS];
    int ncgroups;

    proc_listen listen[PROC_MAX_LISTEN];
    int nlisten;
    int nlisten_total;        /* listening sockets found; > nlisten when some did not fit */
    bool net_readable;        /* /proc/PID/net/tcp or tcp6 could be read */
} proc_snapshot;

/* Reads /proc/PID under proc_root ("/proc" unless a test says otherwise).
 * Returns 0; 3 with a message when the process does not exist; 2 when
 * /proc/PID exists but its status is unreadable (permissions). Files that
 * are unreadable leave their fields at -1 / "". */
int proc_read(const char *proc_root, int pid, proc_snapshot *s, char *err, size_t errlen);

/* Number of online CPUs of the machine (sysconf), for GOMAXPROCS defaults. */
int proc_online_cpus(void);

/* ---- bounded readers, shared with collect_cgroup.c ----
 *
 * /proc and cgroup files are read through a fixed buffer: a line (or
 * environ entry) longer than the buffer is cut to its first
 * PROC_LINE_MAX - 1 bytes and the rest skipped, so no input can make reef
 * allocate. */
#define PROC_LINE_MAX 8192

typedef struct proc_lines {
    int fd;
    char sep;             /* '\n', or '\0' for environ */
    bool eof, cut;        /* cut: the record last returned was longer than the buffer */
    int error;            /* errno of a failed read, 0 if none */
    size_t start, end;    /* unread bytes are buf[start, end) */
    char buf[PROC_LINE_MAX];
} proc_lines;

/* Opens path; returns -1 with errno set on failure. */
int proc_lines_open(proc_lines *l, const char *path, char sep);
/* The next record without its separator, NUL-terminated in place; NULL at
 * the end of the file or on a read error. */
char *proc_lines_next(proc_lines *l, size_t *len);
void proc_lines_close(proc_lines *l);

/* Reads a whole small file into buf (NUL-terminated).  Returns its length,
 * -1 with errno set when it cannot be read, -2 when it does not fit. */
long proc_read_small(const char *path, char *buf, size_t size);

#endif
