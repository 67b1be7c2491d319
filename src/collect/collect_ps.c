/* collect_ps.c - the Go processes of this host.
 *
 * A walk of /proc that pays for a process only as far as it must:
 *
 *   1. /proc/PID/stat (one small read, readable by everyone): kernel
 *      threads (PF_KTHREAD) and zombies stop here;
 *   2. stat(2) of /proc/PID/exe: the executable's device and inode.  Many
 *      processes run the same file (shells, workers), so what step 3 found
 *      is kept by inode for the rest of the walk;
 *   3. the first four bytes of the executable (not ELF: stop), then the Go
 *      build info (buildinfo.h, which maps the file and touches only the
 *      headers and the blob);
 *   4. for a Go process only: stat and status (start time, RSS), the
 *      command line, its descriptors' socket inodes looked up among the
 *      listening TCP sockets, and on request the probe of its ports.  (A
 *      process whose executable is unreadable, listed only on request,
 *      gets stat, status and the command line: its descriptors are
 *      unreadable too.)
 *
 * The listening sockets come from the kernel's sock_diag netlink interface,
 * asked once per walk for TCP sockets in the LISTEN state only: reading
 * /proc/PID/net/tcp (what collect_proc does, for one process) costs a line
 * per socket of the namespace, and a host with 56,000 connections made
 * that 5 ms of kernel time per Go process.  A process in another network
 * namespace (whose sockets the dump does not hold), a recorded /proc tree,
 * or a failed dump fall back to collect_proc's proc_read.
 *
 * The probe asks each listening port, loopback ones first, at most
 * PROBE_MAX_PORTS of them, for /debug/pprof/goroutine?debug=1 and reads
 * only its first line, "goroutine profile: total N": one short request
 * both says that the port serves pprof and gives the goroutine count.  A
 * process in another network namespace is not probed: its 127.0.0.1 is not
 * ours, and a port number seen in its /proc/PID/net/tcp could be another
 * service here. */
#include "collect_ps.h"
#include "collect_cgroup.h"
#include "../parse/buildinfo.h"
#include "../util/xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    PROBE_MAX_PORTS = 4,
    PROBE_CONNECT_MS = 300,  /* loopback answers in microseconds; a busy host in milliseconds */
    PROBE_TIMEOUT_MS = 1500, /* a port that accepts and never answers costs this much */
    PROBE_MAX_BYTES = 64 << 10,
    MAX_LISTENERS = 1 << 16, /* of the namespace: bounds the table (2.5 MB) */
    TCP_STATE_LISTEN = 10,   /* include/net/tcp_states.h */
};

/* include/linux/sched.h: the task is a kernel thread (no executable). */
#define PF_KTHREAD_FLAG 0x00200000u

static const char *root_of(const char *proc_root) { return proc_root ? proc_root : "/proc"; }

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- step 1: stat ---- */

typedef struct pid_stat {
    char comm[64];
    char state;
    unsigned long flags;
    unsigned long long starttime; /* clock ticks after boot */
} pid_stat;

/* False when the process is gone or its stat does not read. */
static bool read_pid_stat(const char *root, int pid, pid_stat *ps)
{
    char path[PATH_MAX], buf[1024];
    snprintf(path, sizeof path, "%s/%d/stat", root, pid);
    if (proc_read_small(path, buf, sizeof buf) < 0) return false;
    /* The comm may hold spaces and parentheses: it ends at the last ')'. */
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren) return false;
    *close_paren = '\0';
    copy_str(ps->comm, sizeof ps->comm, open_paren + 1);
    /* After "pid (comm) ": state (field 3), ppid, pgrp, session, tty_nr,
     * tpgid, flags (field 9), 12 fields, starttime (field 22). */
    char *p = close_paren + 1;
    return sscanf(p, " %c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                  &ps->state, &ps->flags, &ps->starttime) == 3;
}

/* ---- steps 2 and 3: is the executable Go? ---- */

typedef struct exe_info {
    dev_t dev;
    ino_t ino;
    bool go;
    char go_version[32];
    char module[256];
} exe_info;

typedef struct exe_cache {
    exe_info *v;
    size_t n, cap;
} exe_cache;

static bool starts_as_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    unsigned char magic[SELFMAG];
    bool elf = read(fd, magic, sizeof magic) == (ssize_t)sizeof magic && memcmp(magic, ELFMAG, SELFMAG) == 0;
    close(fd);
    return elf;
}

static void identify(const char *path, exe_info *e)
{
    e->go = false;
    if (!starts_as_elf(path)) return;
    buildinfo bi;
    char err[256];
    if (buildinfo_read_file(path, &bi, err, sizeof err) != 0) return;
    e->go = true;
    copy_str(e->go_version, sizeof e->go_version, bi.go_version ? bi.go_version : "");
    copy_str(e->module, sizeof e->module, bi.main.path ? bi.main.path : "");
    buildinfo_free(&bi);
}

/* Fills *e for pid's executable.  Returns 0, or -1 with errno when
 * /proc/PID/exe cannot be followed (ENOENT: gone or a zombie; EACCES:
 * another user's process). */
static int exe_lookup(const char *root, int pid, exe_cache *cache, exe_info *e)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%d/exe", root, pid);
    struct stat st;
    if (stat(path, &st) < 0) return -1;
    if (cache)
        for (size_t i = 0; i < cache->n; i++)
            if (cache->v[i].dev == st.st_dev && cache->v[i].ino == st.st_ino) {
                *e = cache->v[i];
                return 0;
            }
    memset(e, 0, sizeof *e);
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    identify(path, e);
    if (cache) {
        cache->v = xgrow(cache->v, &cache->cap, cache->n + 1, sizeof *cache->v);
        cache->v[cache->n++] = *e;
    }
    return 0;
}

uint64_t goproc_start_ticks(const char *proc_root, int pid)
{
    pid_stat ps;
    if (!read_pid_stat(root_of(proc_root), pid, &ps) || ps.state == 'Z' || ps.state == 'X') return 0;
    return ps.starttime;
}

/* ---- step 4: what a Go process is ---- */

/* The identity hashes the arguments, not argv[0]: a service started as
 * "./api" once and "/srv/api" after is the same program with the same
 * arguments, and exe (resolved by the kernel) already names the file. */
static void read_cmdline(const char *root, goproc *p)
{
    char path[PATH_MAX], buf[4096];
    snprintf(path, sizeof path, "%s/%d/cmdline", root, p->pid);
    uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 offset basis */
    size_t alen = 0;
    bool in_argv0 = true;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (alen + 1 < sizeof p->args) p->args[alen++] = c == 0 ? ' ' : (isprint(c) || c >= 0x80 ? (char)c : '?');
            if (in_argv0) {
                in_argv0 = c != 0;
                continue;
            }
            h = (h ^ c) * 1099511628211ULL; /* FNV-1a 64 prime */
        }
    }
    if (fd >= 0) close(fd);
    while (alen > 0 && p->args[alen - 1] == ' ') alen--;
    p->args[alen] = '\0';
    p->args_hash = h;
}

static void strip_deleted(char *exe)
{
    static const char suffix[] = " (deleted)";
    size_t n = strlen(exe), s = sizeof suffix - 1;
    if (n > s && strcmp(exe + n - s, suffix) == 0) exe[n - s] = '\0';
}

static void add_port(goproc *p, const proc_listen *l)
{
    for (int i = 0; i < p->nports; i++)
        if (p->ports[i] == l->port) {
            p->loopback[i] = p->loopback[i] && l->loopback; /* loopback only if every address is */
            return;
        }
    if (p->nports == GOPROC_MAX_PORTS) return;
    p->ports[p->nports] = l->port;
    p->loopback[p->nports++] = l->loopback;
}

/* ---- listening sockets, by netlink ---- */

static bool same_net_namespace(const char *root, int pid)
{
    char path[PATH_MAX];
    struct stat mine, theirs;
    snprintf(path, sizeof path, "%s/%d/ns/net", root, pid);
    return stat("/proc/self/ns/net", &mine) == 0 && stat(path, &theirs) == 0 && mine.st_ino == theirs.st_ino &&
           mine.st_dev == theirs.st_dev;
}


typedef struct listener {
    uint64_t inode;
    proc_listen l;
} listener;

typedef struct listen_table {
    listener *v;
    size_t n, cap;
} listen_table;

static bool loopback_addr(int family, const uint32_t *a)
{
    const unsigned char *b = (const unsigned char *)a;
    static const unsigned char v4mapped[12] = {[10] = 0xff, [11] = 0xff};
    static const unsigned char v6loop[16] = {[15] = 1};
    if (family == AF_INET) return b[0] == 127;
    if (memcmp(b, v4mapped, 12) == 0) return b[12] == 127;
    return memcmp(b, v6loop, 16) == 0;
}

static void add_listener(listen_table *t, const struct inet_diag_msg *m)
{
    if (t->n == MAX_LISTENERS || m->idiag_inode == 0) return;
    t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof *t->v);
    listener *e = &t->v[t->n++];
    memset(e, 0, sizeof *e);
    e->inode = m->idiag_inode;
    e->l.port = ntohs(m->id.idiag_sport);
    e->l.loopback = loopback_addr(m->idiag_family, m->id.idiag_src);
    inet_ntop(m->idiag_family, m->id.idiag_src, e->l.addr, sizeof e->l.addr);
}

/* Appends the LISTEN sockets of family to t.  False on any failure. */
static bool dump_listeners(int family, listen_table *t)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return false;
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req = {
        .nlh = {.nlmsg_len = sizeof req, .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .r = {.sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP, .idiag_states = 1u << TCP_STATE_LISTEN},
    };
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    bool ok = sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) == (ssize_t)sizeof req;
    long buf[8192 / sizeof(long)]; /* aligned for nlmsghdr */
    for (bool done = !ok; !done;) {
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got <= 0) {
            ok = false;
            break;
        }
        /* NLMSG_OK and NLMSG_NEXT mix signed and unsigned lengths, which
         * clang refuses under -Werror: the same walk, in size_t. */
        size_t left = (size_t)got;
        const char *at = (const char *)buf;
        while (left >= sizeof(struct nlmsghdr)) {
            const struct nlmsghdr *h = (const struct nlmsghdr *)at;
            if (h->nlmsg_len < sizeof *h || h->nlmsg_len > left) break;
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                ok = h->nlmsg_type == NLMSG_DONE;
                done = true;
                break;
            }
            if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                add_listener(t, (const struct inet_diag_msg *)(at + NLMSG_LENGTH(0)));
            size_t step = NLMSG_ALIGN(h->nlmsg_len);
            if (step >= left) break;
            at += step;
            left -= step;
        }
    }
    close(fd);
    return ok;
}

static int by_inode(const void *a, const void *b)
{
    uint64_t x = ((const listener *)a)->inode, y = ((const listener *)b)->inode;
    return (x > y) - (x < y);
}

static bool read_listeners(listen_table *t)
{
    if (!dump_listeners(AF_INET, t) || !dump_listeners(AF_INET6, t)) return false;
    if (t->n) qsort(t->v, t->n, sizeof *t->v, by_inode);
    return true;
}

/* What one walk keeps from process to process. */
typedef struct walk {
    exe_cache exes;
    proc_snapshot *snapshot; /* for the fallback to proc_read, allocated at first need */
    listen_table listeners;  /* of reef's network namespace */
    int listeners_state;     /* 0 not read yet, 1 read, -1 failed */
} walk;

static void walk_free(walk *w)
{
    free(w->exes.v);
    free(w->snapshot);
    free(w->listeners.v);
}

/* The process's listening sockets: its descriptors' socket inodes found in
 * the table.  False when /proc/PID/fd cannot be read. */
static bool match_fds(const char *root, int pid, const listen_table *t, proc_listen *out, int *n)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%d/fd", root, pid);
    DIR *d = opendir(path);
    if (!d) return false;
    struct dirent *e;
    while ((e = readdir(d)) && *n < PROC_MAX_LISTEN) {
        char target[64];
        ssize_t tl = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
        unsigned long long inode;
        if (tl <= 0) continue;
        target[tl] = '\0';
        if (sscanf(target, "socket:[%llu]", &inode) != 1) continue;
        listener key = {.inode = inode};
        const listener *l = t->n ? bsearch(&key, t->v, t->n, sizeof *t->v, by_inode) : NULL;
        if (l) out[(*n)++] = l->l;
    }
    closedir(d);
    return true;
}

static double host_uptime(const char *root)
{
    char path[PATH_MAX], buf[128];
    snprintf(path, sizeof path, "%s/uptime", root);
    return proc_read_small(path, buf, sizeof buf) < 0 ? -1 : strtod(buf, NULL);
}

static int64_t vm_rss(const char *root, int pid)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%d/status", root, pid);
    proc_lines l;
    if (proc_lines_open(&l, path, '\n') < 0) return -1;
    int64_t rss = -1;
    char *line;
    size_t len;
    while ((line = proc_lines_next(&l, &len)))
        if (strncmp(line, "VmRSS:", 6) == 0) rss = strtoll(line + 6, NULL, 10) * 1024;
    proc_lines_close(&l);
    return rss;
}

/* Start time, uptime, RSS and executable: what stat and status give to
 * anyone, the executable to those allowed. */
static void fill_basic(const char *root, int pid, const pid_stat *ps, goproc *p)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%d/exe", root, pid);
    ssize_t n = readlink(path, p->exe, sizeof p->exe - 1);
    p->exe[n > 0 ? n : 0] = '\0';
    double tick = (double)sysconf(_SC_CLK_TCK), up = host_uptime(root);
    p->starttime_ticks = ps->starttime;
    if (up >= 0) p->uptime_seconds = up - (double)ps->starttime / tick > 0 ? up - (double)ps->starttime / tick : 0;
    p->rss_bytes = vm_rss(root, pid);
}

/* The listening sockets without proc_read; false when they cannot be had
 * so (another network namespace, a recorded tree, no netlink). */
static bool listeners_quick(const char *proc_root, int pid, walk *w, proc_listen *ls, int *nls)
{
    if (proc_root && strcmp(proc_root, "/proc") != 0) return false;
    if (!same_net_namespace("/proc", pid)) return false;
    if (w->listeners_state == 0) w->listeners_state = read_listeners(&w->listeners) ? 1 : -1;
    if (w->listeners_state < 0) return false;
    *nls = 0;
    return match_fds("/proc", pid, &w->listeners, ls, nls);
}

static int by_port(const void *a, const void *b)
{
    const proc_listen *x = a, *y = b;
    if (x->port != y->port) return x->port < y->port ? -1 : 1;
    return strcmp(x->addr, y->addr);
}

/* ls in port order (descriptor order is no order). */
static void finish_fill(goproc *p, const char *comm, proc_listen *ls, int nls)
{
    qsort(ls, (size_t)nls, sizeof *ls, by_port);
    strip_deleted(p->exe);
    const char *slash = strrchr(p->exe, '/');
    copy_str(p->name, sizeof p->name, slash ? slash + 1 : *p->exe ? p->exe : comm);
    for (int i = 0; i < nls; i++) add_port(p, &ls[i]);
}

/* ---- the probe ---- */

typedef struct candidate {
    int rank; /* 0 a loopback address, 1 every address (reached through loopback), 2 another */
    uint16_t port;
    char host[72];
} candidate;

static void candidate_of(const proc_listen *l, candidate *c)
{
    c->port = l->port;
    if (strcmp(l->addr, "0.0.0.0") == 0 || strcmp(l->addr, "::") == 0) {
        /* Go listens on every address through one dual-stack [::] socket. */
        c->rank = 1;
        copy_str(c->host, sizeof c->host, "127.0.0.1");
    } else if (strncmp(l->addr, "::ffff:", 7) == 0 && !strchr(l->addr + 7, ':')) {
        c->rank = l->loopback ? 0 : 2;
        copy_str(c->host, sizeof c->host, l->addr + 7);
    } else if (strchr(l->addr, ':')) {
        c->rank = l->loopback ? 0 : 2;
        snprintf(c->host, sizeof c->host, "[%s]", l->addr);
    } else {
        c->rank = l->loopback ? 0 : 2;
        copy_str(c->host, sizeof c->host, l->addr);
    }
}

static int by_rank(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->rank != y->rank) return x->rank - y->rank;
    return (int)x->port - (int)y->port;
}

typedef struct first_line {
    char text[96];
    size_t n;
} first_line;

/* Keeps the body's first line and stops the transfer at its end. */
static int first_line_sink(void *ctx, const char *data, size_t len)
{
    first_line *f = ctx;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' || f->n + 1 == sizeof f->text) return 1;
        f->text[f->n++] = data[i];
        f->text[f->n] = '\0';
    }
    return 0;
}

/* The goroutine count if url serves Go's goroutine profile, else -1. */
static int64_t goroutine_total(const char *url, const http_options *http)
{
    first_line f = {.n = 0};
    collect_error err;
    int rc = collect_http(url, http, first_line_sink, &f, &err);
    if (rc != COLLECT_OK && rc != COLLECT_SINK_STOPPED) return -1;
    long long total;
    char tail;
    if (sscanf(f.text, "goroutine profile: total %lld%c", &total, &tail) != 1 || total < 0) return -1;
    return total;
}

static http_options probe_http(const http_options *given)
{
    http_options h = given ? *given : (http_options){.connect_timeout_ms = 0};
    if (!h.connect_timeout_ms || h.connect_timeout_ms > PROBE_CONNECT_MS) h.connect_timeout_ms = PROBE_CONNECT_MS;
    if (!h.timeout_ms || h.timeout_ms > PROBE_TIMEOUT_MS) h.timeout_ms = PROBE_TIMEOUT_MS;
    if (!h.max_bytes || h.max_bytes > PROBE_MAX_BYTES) h.max_bytes = PROBE_MAX_BYTES;
    return h;
}

static void probe(const goproc_list_options *o, const proc_listen *ls, int nls, goproc *p)
{
    if (nls == 0) return;
    if (!same_net_namespace(root_of(o->proc_root), p->pid)) {
        copy_str(p->note, sizeof p->note, "in another network namespace: ports not probed");
        return;
    }
    candidate c[PROC_MAX_LISTEN];
    for (int i = 0; i < nls; i++) candidate_of(&ls[i], &c[i]);
    qsort(c, (size_t)nls, sizeof *c, by_rank);
    http_options http = probe_http(o->http);
    uint16_t asked[PROBE_MAX_PORTS];
    int nasked = 0;
    for (int i = 0; i < nls && nasked < PROBE_MAX_PORTS; i++) {
        bool seen = false;
        for (int j = 0; j < nasked; j++) seen = seen || asked[j] == c[i].port;
        if (seen) continue; /* the same port on another address */
        asked[nasked++] = c[i].port;
        char base[128], url[192];
        snprintf(base, sizeof base, "http://%s:%u", c[i].host, c[i].port);
        snprintf(url, sizeof url, "%s/debug/pprof/goroutine?debug=1", base);
        int64_t n = goroutine_total(url, &http);
        if (n < 0) continue;
        p->pprof_port = c[i].port;
        copy_str(p->pprof_url, sizeof p->pprof_url, base);
        p->goroutines = n;
        return;
    }
}

/* ---- one process ---- */

static void goproc_init(goproc *p, int pid)
{
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->uptime_seconds = -1;
    p->rss_bytes = -1;
    p->goroutines = -1;
}

/* The listening sockets through proc_read (the process's own net/tcp). */
static int listeners_slow(const char *proc_root, int pid, walk *w, goproc *p, proc_listen *ls, int *nls, char *err,
                          size_t errlen)
{
    if (!w->snapshot) w->snapshot = xmalloc(sizeof *w->snapshot);
    const proc_snapshot *s = w->snapshot;
    if (proc_read(proc_root, pid, w->snapshot, err, errlen) != 0) return -1;
    *nls = s->nlisten;
    memcpy(ls, s->listen, (size_t)s->nlisten * sizeof *ls);
    if (!s->net_readable && !p->go_unknown && !*p->note)
        copy_str(p->note, sizeof p->note, "listening sockets unreadable");
    return 0;
}

/* Reads pid into *p.  Returns 0; -1 with err when the process is gone, not
 * Go, or unreadable and not asked for. */
static int read_one(const goproc_list_options *o, int pid, walk *w, goproc *p, char *err, size_t errlen)
{
    const char *root = root_of(o ? o->proc_root : NULL);
    pid_stat ps;
    goproc_init(p, pid);
    if (!read_pid_stat(root, pid, &ps)) return snprintf(err, errlen, "no process %d", pid), -1;
    if (ps.flags & PF_KTHREAD_FLAG) return snprintf(err, errlen, "process %d is a kernel thread", pid), -1;
    if (ps.state == 'Z') return snprintf(err, errlen, "process %d has exited (a zombie)", pid), -1;
    exe_info e;
    if (exe_lookup(root, pid, &w->exes, &e) < 0) {
        int saved = errno;
        if (saved != EACCES || !(o && o->unreadable))
            return snprintf(err, errlen, "process %d: %s/%d/exe: %s", pid, root, pid, strerror(saved)), -1;
        p->go_unknown = true;
        copy_str(p->note, sizeof p->note, "executable unreadable (permission denied): whether it is Go is unknown");
    } else if (!e.go) {
        return snprintf(err, errlen, "process %d (%s) is not a Go program", pid, ps.comm), -1;
    } else {
        copy_str(p->go_version, sizeof p->go_version, e.go_version);
        copy_str(p->module, sizeof p->module, e.module);
    }
    fill_basic(root, pid, &ps, p);
    proc_listen ls[PROC_MAX_LISTEN];
    int nls = 0;
    /* An unreadable process's descriptors are unreadable too. */
    if (!p->go_unknown && !listeners_quick(o ? o->proc_root : NULL, pid, w, ls, &nls) &&
        listeners_slow(o ? o->proc_root : NULL, pid, w, p, ls, &nls, err, errlen) != 0)
        return -1;
    finish_fill(p, ps.comm, ls, nls);
    read_cmdline(root, p);
    if (o && o->probe && !p->go_unknown) probe(o, ls, nls, p);
    return 0;
}

int goproc_read(const goproc_list_options *o, int pid, goproc *out, char *err, size_t errlen)
{
    walk w = {.listeners_state = 0};
    int rc = read_one(o, pid, &w, out, err, errlen);
    walk_free(&w);
    return rc;
}

/* ---- every process ---- */

static int pid_of(const char *name)
{
    long v = 0;
    for (const char *c = name; *c; c++) {
        if (!isdigit((unsigned char)*c) || v > INT_MAX / 10) return 0;
        v = v * 10 + (*c - '0');
    }
    return v <= INT_MAX ? (int)v : 0;
}

static int by_pid(const void *a, const void *b)
{
    const goproc *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

int goproc_list(const goproc_list_options *o, goproc **out, size_t *n, char *err, size_t errlen)
{
    const char *root = root_of(o ? o->proc_root : NULL);
    *out = NULL;
    *n = 0;
    DIR *d = opendir(root);
    if (!d) {
        snprintf(err, errlen, "%s: cannot read: %s", root, strerror(errno));
        return -1;
    }
    goproc *v = NULL;
    size_t cap = 0, count = 0;
    walk w = {.listeners_state = 0};
    struct dirent *e;
    char skipped[256];
    while ((e = readdir(d))) {
        int pid = pid_of(e->d_name);
        if (pid <= 0) continue;
        v = xgrow(v, &cap, count + 1, sizeof *v);
        if (read_one(o, pid, &w, &v[count], skipped, sizeof skipped) == 0) count++;
    }
    closedir(d);
    walk_free(&w);
    if (count) qsort(v, count, sizeof *v, by_pid);
    *out = v;
    *n = count;
    return 0;
}

/* ---- identity ---- */

bool goproc_same(const goproc *a, const goproc *b)
{
    /* An unreadable executable names nothing: two such processes are not
     * known to be the same program. */
    if (a->go_unknown || b->go_unknown || !*a->exe) return false;
    return a->args_hash == b->args_hash && strcmp(a->exe, b->exe) == 0;
}

/* A target that lost its process looks for the successor at every poll,
 * so this reads only the processes whose executable is old's (a readlink
 * each), not every process's build info and sockets. */
int goproc_find_successor(const goproc_list_options *o, const goproc *old, goproc *out)
{
    goproc_list_options quick = o ? *o : (goproc_list_options){.proc_root = NULL};
    quick.probe = false;
    quick.unreadable = false;
    const char *root = root_of(quick.proc_root);
    DIR *d = opendir(root);
    if (!d) return 0;
    walk w = {.listeners_state = 0};
    goproc *best = xmalloc(sizeof *best), *p = xmalloc(sizeof *p);
    bool have = false;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid = pid_of(e->d_name);
        if (pid <= 0) continue;
        char path[PATH_MAX], exe[sizeof old->exe], err[256];
        snprintf(path, sizeof path, "%s/%d/exe", root, pid);
        ssize_t len = readlink(path, exe, sizeof exe - 1);
        if (len < 0) continue;
        exe[len] = '\0';
        strip_deleted(exe);
        if (strcmp(exe, old->exe) != 0 || read_one(&quick, pid, &w, p, err, sizeof err) != 0) continue;
        /* The same pid counts when it was reused: another start time. */
        bool other = p->pid != old->pid || p->starttime_ticks != old->starttime_ticks;
        if (other && goproc_same(p, old) && (!have || p->starttime_ticks > best->starttime_ticks)) {
            *best = *p;
            have = true;
        }
    }
    closedir(d);
    walk_free(&w);
    int pid = have ? best->pid : 0;
    if (have && out) {
        *out = *best;
        /* The probe costs requests: made for the one process returned. */
        char err[256];
        if (o && o->probe && goproc_read(o, pid, out, err, sizeof err) != 0) pid = 0;
    }
    free(best);
    free(p);
    return pid;
}

bool goproc_matches(const goproc *p, const char *pattern)
{
    return fnmatch(pattern, p->name, 0) == 0 || (*p->module && fnmatch(pattern, p->module, 0) == 0) ||
           (*p->exe && fnmatch(pattern, p->exe, 0) == 0);
}

/* ---- OOM kills ---- */

int64_t goproc_oom_kills(const char *proc_root, const char *sysfs_root, int pid)
{
    proc_snapshot *s = xmalloc(sizeof *s);
    cgroup_limits *c = xmalloc(sizeof *c);
    char err[512];
    int64_t kills = -1;
    if (proc_read(proc_root, pid, s, err, sizeof err) == 0 && cgroup_read(s, sysfs_root, c, err, sizeof err) == 0)
        kills = c->oom_kills;
    free(c);
    free(s);
    return kills;
}
