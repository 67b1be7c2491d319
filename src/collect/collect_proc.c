/* collect_proc.c - one pass over /proc/PID for proc_snapshot.
 *
 * Every file goes through a fixed buffer (proc_lines, proc_read_small): a
 * process with 100k descriptors or a 1 MB environment costs reef no more
 * memory than an idle one.  The only allocations are the table of listening
 * sockets of the network namespace (capped) and the set of shared-object
 * names seen in maps (bounded by the kernel's vm.max_map_count). */
#include "collect_proc.h"
#include "../util/hash.h"
#include "../util/xalloc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- bounded readers ---- */

int proc_lines_open(proc_lines *l, const char *path, char sep)
{
    l->sep = sep;
    l->eof = l->cut = false;
    l->error = 0;
    l->start = l->end = 0;
    l->fd = open(path, O_RDONLY | O_CLOEXEC);
    return l->fd < 0 ? -1 : 0;
}

void proc_lines_close(proc_lines *l)
{
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
}

/* Moves the unread bytes to the front and reads more after them, leaving
 * one byte free for the NUL of a last record without separator. */
static void fill(proc_lines *l)
{
    if (l->start > 0) {
        memmove(l->buf, l->buf + l->start, l->end - l->start);
        l->end -= l->start;
        l->start = 0;
    }
    ssize_t n;
    do n = read(l->fd, l->buf + l->end, sizeof l->buf - 1 - l->end);
    while (n < 0 && errno == EINTR);
    if (n < 0) l->error = errno;
    if (n <= 0) l->eof = true;
    else l->end += (size_t)n;
}

/* After a cut record: drops input up to and including the next separator. */
static void skip_tail(proc_lines *l)
{
    while (l->cut) {
        char *sep = memchr(l->buf + l->start, l->sep, l->end - l->start);
        if (sep) {
            l->start = (size_t)(sep - l->buf) + 1;
            l->cut = false;
        } else if (l->eof) {
            l->start = l->end;
            l->cut = false;
        } else {
            l->start = l->end = 0;
            fill(l);
        }
    }
}

char *proc_lines_next(proc_lines *l, size_t *len)
{
    skip_tail(l);
    for (;;) {
        char *p = l->buf + l->start;
        size_t avail = l->end - l->start;
        char *sep = memchr(p, l->sep, avail);
        if (sep || (l->eof && avail > 0) || avail == sizeof l->buf - 1) {
            /* A whole record, the last one, or the first part of one too
             * long for the buffer (whose tail the next call skips). */
            *len = sep ? (size_t)(sep - p) : avail;
            p[*len] = '\0';
            l->start += sep ? *len + 1 : avail;
            l->cut = !sep && !l->eof;
            return p;
        }
        if (l->eof) return NULL;
        fill(l);
    }
}

long proc_read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = 0;
    long rc = 0;
    for (;;) {
        char extra;
        bool full = len == size - 1;
        ssize_t n = full ? read(fd, &extra, 1) : read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = -1;
        else if (n > 0 && full) rc = -2;
        if (n <= 0 || full) break;
        len += (size_t)n;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    buf[len] = '\0';
    return rc < 0 ? rc : (long)len;
}

/* ---- small parsers ---- */

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* The n-th (0-based) whitespace-separated field of line, and its length. */
static const char *field(const char *line, int n, size_t *len)
{
    const char *p = skip_space(line);
    for (int i = 0; i < n && *p; i++) p = skip_space(p + strcspn(p, " \t"));
    *len = strcspn(p, " \t\n");
    return *len ? p : NULL;
}

/* A decimal at the start of p; false if there is none. */
static bool leading_i64(const char *p, int64_t *out)
{
    char *end;
    p = skip_space(p);
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (end == p || errno) return false;
    *out = v;
    return true;
}

static void copy_str(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void pid_path(char *out, size_t size, const char *root, int pid, const char *name)
{
    snprintf(out, size, "%s/%d/%s", root, pid, name);
}

/* ---- stat and uptime ---- */

/* Fields after "pid (comm) ": the kernel's fs/proc/array.c order; the
 * comm may hold spaces and parentheses, so it ends at the last ')'. */
enum { STAT_UTIME = 14, STAT_STIME = 15, STAT_STARTTIME = 22 };

static void read_stat(const char *root, proc_snapshot *s)
{
    char path[PATH_MAX], buf[4096];
    pid_path(path, sizeof path, root, s->pid, "stat");
    if (proc_read_small(path, buf, sizeof buf) < 0) return;
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren) return;
    copy_str(s->comm, sizeof s->comm, open_paren + 1, (size_t)(close_paren - open_paren - 1));
    double tick = (double)sysconf(_SC_CLK_TCK);
    size_t len;
    int64_t v;
    /* Field 3 (state) is field 0 after the parenthesis. */
    const char *f = field(close_paren + 1, STAT_UTIME - 3, &len);
    if (f && leading_i64(f, &v)) s->utime = (double)v / tick;
    f = field(close_paren + 1, STAT_STIME - 3, &len);
    if (f && leading_i64(f, &v)) s->stime = (double)v / tick;
    f = field(close_paren + 1, STAT_STARTTIME - 3, &len);
    if (f && leading_i64(f, &v)) s->starttime_ticks = (uint64_t)v;
}

/* Seconds since the process started: /proc/uptime is seconds since boot,
 * starttime is clock ticks since boot. */
static void read_uptime(const char *root, proc_snapshot *s)
{
    char path[PATH_MAX], buf[128];
    snprintf(path, sizeof path, "%s/uptime", root);
    if (s->utime < 0 || proc_read_small(path, buf, sizeof buf) < 0) return; /* no starttime */
    char *end;
    double up = strtod(buf, &end);
    if (end == buf) return;
    double age = up - (double)s->starttime_ticks / (double)sysconf(_SC_CLK_TCK);
    s->uptime_seconds = age > 0 ? age : 0;
}

/* ---- status ---- */

/* "0-3,8,10-11" -> 7; -1 if malformed. */
static int count_cpu_list(const char *p)
{
    int n = 0;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0) return -1;
        if (*end == '-') {
            const char *q = end + 1;
            b = strtol(q, &end, 10);
            if (end == q || b < a) return -1;
        }
        n += (int)(b - a + 1);
        if (*end != ',' && *end != '\0') return -1;
        p = *end ? end + 1 : end;
    }
    return n;
}

typedef struct status_key {
    const char *key;
    size_t offset;
    bool kb;
} status_key;

static const status_key status_keys[] = {
    {"VmRSS", offsetof(proc_snapshot, vm_rss), true},     {"VmHWM", offsetof(proc_snapshot, vm_hwm), true},
    {"VmSize", offsetof(proc_snapshot, vm_size), true},   {"RssAnon", offsetof(proc_snapshot, rss_anon), true},
    {"RssFile", offsetof(proc_snapshot, rss_file), true}, {"Threads", offsetof(proc_snapshot, threads), false},
};

static void status_line(proc_snapshot *s, const char *key, const char *value)
{
    for (size_t i = 0; i < sizeof status_keys / sizeof *status_keys; i++) {
        int64_t v;
        if (strcmp(key, status_keys[i].key) != 0 || !leading_i64(value, &v)) continue;
        int64_t *slot = (int64_t *)(void *)((char *)s + status_keys[i].offset);
        *slot = status_keys[i].kb ? v * 1024 : v;
        return;
    }
    if (strcmp(key, "Cpus_allowed_list") == 0) {
        value = skip_space(value);
        copy_str(s->cpus_allowed_list, sizeof s->cpus_allowed_list, value, strcspn(value, " \t"));
        s->ncpus_allowed = count_cpu_list(s->cpus_allowed_list);
    } else if (strcmp(key, "Name") == 0 && !s->comm[0]) {
        value = skip_space(value);
        copy_str(s->comm, sizeof s->comm, value, strlen(value));
    }
}

/* status is the one file proc_read insists on: unreadable means reef may
 * not look at this process at all. */
static int read_status(const char *root, proc_snapshot *s, char *err, size_t errlen)
{
    char path[PATH_MAX];
    pid_path(path, sizeof path, root, s->pid, "status");
    proc_lines l;
    if (proc_lines_open(&l, path, '\n') < 0) {
        if (errno == ENOENT) {
            snprintf(err, errlen, "no process %d", s->pid); /* exited just now */
            return 3;
        }
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return 2;
    }
    char *line;
    size_t len;
    while ((line = proc_lines_next(&l, &len))) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        status_line(s, line, colon + 1);
    }
    int rc = l.error;
    proc_lines_close(&l);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, strerror(rc));
        return 2;
    }
    return 0;
}

/* ---- TCP sockets: net/tcp and tcp6 ---- */

/* The TCP sockets of the namespace, before matching them to the process's
 * descriptors.  Caps keep memory bounded on a host with an absurd number of
 * sockets; beyond them some connections may be missed (and counted as other
 * sockets).  Listeners have a cap of their own, so that a namespace full of
 * connections cannot crowd out the few listening sockets the rules need. */
#define MAX_NAMESPACE_SOCKETS 65536
#define MAX_NAMESPACE_LISTENERS 65536
#define TCP_ESTABLISHED 0x01
#define TCP_CLOSE_WAIT 0x08
#define TCP_LISTEN 0x0A

typedef struct listener {
    uint64_t inode;
    unsigned char addr[16], raddr[16];
    bool v6, taken;
    uint8_t state;
    uint16_t port, rport;
} listener;

typedef struct listeners {
    listener *v;
    size_t n, cap;
    size_t nconn, nlisten; /* of n, kept against each cap */
} listeners;

/* "0100007F" or 32 hex digits: each 32-bit word is printed in the host's
 * byte order, so a word's bytes in memory are the address bytes. */
static bool parse_hex_addr(const char *p, size_t n, unsigned char *addr)
{
    if (n != 8 && n != 32) return false;
    for (size_t w = 0; w < n / 8; w++) {
        char word[9];
        memcpy(word, p + w * 8, 8);
        word[8] = '\0';
        char *end;
        uint32_t v = (uint32_t)strtoul(word, &end, 16);
        if (*end) return false;
        memcpy(addr + w * 4, &v, 4);
    }
    return true;
}

/* "ADDR:PORT" in hex; false unless both parse and the length is hexlen. */
static bool parse_endpoint(const char *p, size_t len, size_t hexlen, unsigned char *addr, uint16_t *port)
{
    const char *colon = p ? memchr(p, ':', len) : NULL;
    if (!colon || (size_t)(colon - p) != hexlen || !parse_hex_addr(p, hexlen, addr)) return false;
    *port = (uint16_t)strtoul(colon + 1, NULL, 16);
    return true;
}

/* One line of net/tcp: "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...". */
static bool parse_tcp_line(const char *line, listener *out)
{
    size_t len, rlen, slen, alen;
    const char *local = field(line, 1, &len);
    const char *remote = field(line, 2, &rlen);
    const char *st = field(line, 3, &slen);
    const char *inode = field(line, 9, &alen);
    const char *colon = local ? memchr(local, ':', len) : NULL;
    if (!colon || !remote || !st || slen != 2 || !inode) return false;
    size_t hexlen = (size_t)(colon - local);
    memset(out, 0, sizeof *out);
    if (!parse_endpoint(local, len, hexlen, out->addr, &out->port) ||
        !parse_endpoint(remote, rlen, hexlen, out->raddr, &out->rport))
        return false;
    char state[3] = {st[0], st[1], '\0'};
    char *end;
    out->state = (uint8_t)strtoul(state, &end, 16);
    if (*end) return false;
    out->v6 = hexlen == 32;
    out->inode = strtoull(inode, NULL, 10);
    return out->inode != 0;
}

static bool read_tcp(const char *path, listeners *ls)
{
    proc_lines l;
    if (proc_lines_open(&l, path, '\n') < 0) return false;
    char *line;
    size_t len;
    proc_lines_next(&l, &len); /* the column header */
    while ((line = proc_lines_next(&l, &len))) {
        listener one;
        if (!parse_tcp_line(line, &one)) continue;
        size_t *kept = one.state == TCP_LISTEN ? &ls->nlisten : &ls->nconn;
        size_t cap = one.state == TCP_LISTEN ? MAX_NAMESPACE_LISTENERS : MAX_NAMESPACE_SOCKETS;
        if (*kept >= cap) continue;
        (*kept)++;
        ls->v = xgrow(ls->v, &ls->cap, ls->n + 1, sizeof *ls->v);
        ls->v[ls->n++] = one;
    }
    proc_lines_close(&l);
    return true;
}

static int by_inode(const void *a, const void *b)
{
    uint64_t x = ((const listener *)a)->inode, y = ((const listener *)b)->inode;
    return x < y ? -1 : x > y;
}

static bool is_loopback(const listener *l)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char v6loop[16] = {[15] = 1};
    if (!l->v6) return l->addr[0] == 127;
    if (memcmp(l->addr, v4mapped, 12) == 0) return l->addr[12] == 127;
    return memcmp(l->addr, v6loop, 16) == 0;
}

/* Called for each socket inode among the process's descriptors; false when
 * the socket is not a TCP one of the namespace. */
static bool match_socket(listeners *ls, uint64_t inode, proc_snapshot *s)
{
    listener key = {.inode = inode};
    listener *l = ls->n ? bsearch(&key, ls->v, ls->n, sizeof *ls->v, by_inode) : NULL;
    if (!l) return false;
    if (l->taken) return true; /* a dup'd descriptor */
    l->taken = true;
    if (l->state != TCP_LISTEN) return true;
    s->nlisten_total++;
    if (s->nlisten >= PROC_MAX_LISTEN) return true;
    proc_listen *out = &s->listen[s->nlisten++];
    inet_ntop(l->v6 ? AF_INET6 : AF_INET, l->addr, out->addr, sizeof out->addr);
    out->port = l->port;
    out->loopback = is_loopback(l);
    return true;
}

static bool listens_on(const proc_snapshot *s, uint16_t port)
{
    for (int i = 0; i < s->nlisten; i++)
        if (s->listen[i].port == port) return true;
    return false;
}

static void add_peer(proc_snapshot *s, const listener *l)
{
    proc_peer key = {.inbound = listens_on(s, l->port)};
    inet_ntop(l->v6 ? AF_INET6 : AF_INET, l->raddr, key.addr, sizeof key.addr);
    key.port = key.inbound ? l->port : l->rport;
    for (int i = 0; i < s->npeers; i++) {
        proc_peer *p = &s->peers[i];
        if (p->inbound == key.inbound && p->port == key.port && strcmp(p->addr, key.addr) == 0) {
            p->count++;
            return;
        }
    }
    if (s->npeers == PROC_MAX_PEERS) {
        s->peers_other++;
        return;
    }
    key.count = 1;
    s->peers[s->npeers++] = key;
}

static int by_count(const void *a, const void *b)
{
    const proc_peer *x = a, *y = b;
    return x->count > y->count ? -1 : x->count < y->count;
}

/* The TCP sockets of the process (matched in read_fds) by state, and the
 * peers of the established ones. */
static void count_tcp(const listeners *ls, proc_snapshot *s)
{
    s->tcp_established = s->tcp_close_wait = s->tcp_other = 0;
    for (size_t i = 0; i < ls->n; i++) {
        const listener *l = &ls->v[i];
        if (!l->taken || l->state == TCP_LISTEN) continue;
        if (l->state == TCP_ESTABLISHED) {
            s->tcp_established++;
            add_peer(s, l);
        } else if (l->state == TCP_CLOSE_WAIT) {
            s->tcp_close_wait++;
        } else {
            s->tcp_other++;
        }
    }
    qsort(s->peers, (size_t)s->npeers, sizeof *s->peers, by_count);
}

static int by_port(const void *a, const void *b)
{
    const proc_listen *x = a, *y = b;
    if (x->port != y->port) return x->port < y->port ? -1 : 1;
    return strcmp(x->addr, y->addr);
}

/* ---- descriptors and limits ---- */

/* Counts /proc/PID/fd and, for each socket, looks its inode up among the
 * listeners.  readdir keeps one directory block in memory however many
 * descriptors there are. */
static void read_fds(const char *root, proc_snapshot *s, listeners *ls)
{
    char path[PATH_MAX];
    pid_path(path, sizeof path, root, s->pid, "fd");
    DIR *d = opendir(path);
    if (!d) return;
    int64_t n = 0, sockets = 0;
    s->other_sockets = s->pipes = s->anon_inodes = s->files = s->other_fds = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        n++;
        char target[64];
        ssize_t tl = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
        if (tl < 0) {
            s->other_fds++;
            continue;
        }
        target[tl] = '\0';
        unsigned long long inode;
        if (sscanf(target, "socket:[%llu]", &inode) == 1) {
            sockets++;
            if (!match_socket(ls, inode, s)) s->other_sockets++;
        } else if (strncmp(target, "pipe:", 5) == 0) {
            s->pipes++;
        } else if (strncmp(target, "anon_inode:", 11) == 0) {
            s->anon_inodes++;
        } else if (target[0] == '/') {
            s->files++;
        } else {
            s->other_fds++;
        }
    }
    closedir(d);
    s->open_fds = n;
    s->socket_fds = sockets;
    count_tcp(ls, s);
}

static void read_listeners(const char *root, proc_snapshot *s)
{
    char path[PATH_MAX];
    listeners ls = {0};
    pid_path(path, sizeof path, root, s->pid, "net/tcp");
    bool v4 = read_tcp(path, &ls);
    pid_path(path, sizeof path, root, s->pid, "net/tcp6");
    bool v6 = read_tcp(path, &ls);
    s->net_readable = v4 || v6;
    if (ls.n) qsort(ls.v, ls.n, sizeof *ls.v, by_inode);
    read_fds(root, s, &ls);
    qsort(s->listen, (size_t)s->nlisten, sizeof *s->listen, by_port);
    free(ls.v);
}

/* "Max open files            1024                 524288               files" */
static void read_limits(const char *root, proc_snapshot *s)
{
    char path[PATH_MAX];
    pid_path(path, sizeof path, root, s->pid, "limits");
    proc_lines l;
    if (proc_lines_open(&l, path, '\n') < 0) return;
    static const char key[] = "Max open files";
    char *line;
    size_t len;
    while ((line = proc_lines_next(&l, &len))) {
        if (strncmp(line, key, sizeof key - 1) != 0) continue;
        int64_t *slots[2] = {&s->nofile_soft, &s->nofile_hard};
        for (int i = 0; i < 2; i++) {
            const char *f = field(line + sizeof key - 1, i, &len);
            if (f && !leading_i64(f, slots[i])) *slots[i] = -1; /* "unlimited" */
        }
        break;
    }
    proc_lines_close(&l);
}

/* ---- maps ---- */

/* Hashes of the shared-object paths seen: counting distinct hashes rather
 * than keeping the names; two paths colliding in 64 bits is not a concern
 * for a count. */
typedef struct hash_set {
    uint64_t *slot; /* 0 = empty */
    size_t n, cap;
} hash_set;

static bool set_add(hash_set *hs, uint64_t h);

static void set_grow(hash_set *hs)
{
    hash_set bigger = {.slot = xcalloc(hs->cap ? hs->cap * 2 : 64, sizeof(uint64_t)), .cap = hs->cap ? hs->cap * 2 : 64};
    for (size_t i = 0; i < hs->cap; i++)
        if (hs->slot[i]) set_add(&bigger, hs->slot[i]);
    free(hs->slot);
    *hs = bigger;
}

static bool set_add(hash_set *hs, uint64_t h)
{
    if (h == 0) h = 1;
    if ((hs->n + 1) * 2 > hs->cap) set_grow(hs);
    size_t i = (size_t)h & (hs->cap - 1);
    while (hs->slot[i]) {
        if (hs->slot[i] == h) return false;
        i = (i + 1) & (hs->cap - 1);
    }
    hs->slot[i] = h;
    hs->n++;
    return true;
}

/* libc.so.6, libfoo.so, libssl.so.3.0.2: a basename ending in ".so" or
 * holding ".so.". */
static bool is_shared_object(const char *path, size_t len)
{
    const char *base = memrchr(path, '/', len);
    base = base ? base + 1 : path;
    size_t blen = len - (size_t)(base - path);
    if (blen > 3 && memcmp(base + blen - 3, ".so", 3) == 0) return true;
    return memmem(base, blen, ".so.", 4) != NULL;
}

/* "start-end perms offset dev inode   pathname": the pathname is what
 * follows the fifth field; the kernel appends " (deleted)" to unlinked
 * files, which are still mapped. */
static void maps_line(const char *line, hash_set *so)
{
    size_t len;
    const char *inode = field(line, 4, &len);
    if (!inode) return;
    const char *name = skip_space(inode + len);
    size_t nlen = strlen(name);
    static const char deleted[] = " (deleted)";
    if (nlen > sizeof deleted - 1 && strcmp(name + nlen - (sizeof deleted - 1), deleted) == 0)
        nlen -= sizeof deleted - 1;
    if (name[0] == '/' && is_shared_object(name, nlen)) set_add(so, hash_bytes(name, nlen, 0));
}

static void read_maps(const char *root, proc_snapshot *s)
{
    char path[PATH_MAX];
    pid_path(path, sizeof path, root, s->pid, "maps");
    proc_lines l;
    if (proc_lines_open(&l, path, '\n') < 0) return;
    hash_set so = {0};
    int64_t lines = 0;
    char *line;
    size_t len;
    while ((line = proc_lines_next(&l, &len))) {
        lines++;
        if (!l.cut) maps_line(line, &so); /* a cut line has lost its name's end */
    }
    if (!l.error) {
        s->maps_lines = lines;
        s->mapped_so = (int64_t)so.n;
    }
    free(so.slot);
    proc_lines_close(&l);
}

/* ---- environ, cgroup, exe ---- */

typedef struct env_key {
    const char *prefix;
    size_t offset, size;
} env_key;

#define ENV_KEY(name, member) {name "=", offsetof(proc_snapshot, member), sizeof((proc_snapshot *)0)->member}
static const env_key env_keys[] = {
    ENV_KEY("GOMAXPROCS", gomaxprocs), ENV_KEY("GOGC", gogc),
    ENV_KEY("GOMEMLIMIT", gomemlimit), ENV_KEY("GODEBUG", godebug),
    ENV_KEY("GOTRACEBACK", gotraceback),
};

/* The environment the process started with (later setenv calls are not
 * visible here); the Go runtime reads these at start too. */
static void read_environ(const char *root, proc_snapshot *s)
{
    char path[PATH_MAX];
    pid_path(path, sizeof path, root, s->pid, "environ");
    proc_lines l;
    if (proc_lines_open(&l, path, '\0') < 0) return;
    char *entry;
    size_t len;
    while ((entry = proc_lines_next(&l, &len))) {
        for (size_t i = 0; i < sizeof env_keys / sizeof *env_keys; i++) {
            size_t plen = strlen(env_keys[i].prefix);
            if (len < plen || memcmp(entry, env_keys[i].prefix, plen) != 0) continue;
            copy_str((char *)s + env_keys[i].offset, env_keys[i].size, entry + plen, len - plen);
        }
    }
    s->environ_readable = l.error == 0;
    proc_lines_close(&l);
}

/* "hierarchy-ID:controller-list:cgroup-path"; the path may hold ':'. */
static void cgroup_line(proc_snapshot *s, const char *line)
{
    const char *c1 = strchr(line, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || s->ncgroups >= PROC_MAX_CGROUPS) return;
    proc_cgroup *g = &s->cgroups[s->ncgroups];
    /* A path too long to keep whole would name the wrong directory. */
    if (strlen(c2 + 1) >= sizeof g->path || (size_t)(c2 - c1 - 1) >= sizeof g->controllers) return;
    char *end;
    long h = strtol(line, &end, 10);
    if (end != c1 || h < 0) return;
    g->hierarchy = (int)h;
    copy_str(g->controllers, sizeof g->controllers, c1 + 1, (size_t)(c2 - c1 - 1));
    copy_str(g->path, sizeof g->path, c2 + 1, strlen(c2 + 1));
    s->ncgroups++;
}

static void read_cgroups(const char *root, proc_snapshot *s)
{
    char path[PATH_MAX];
    pid_path(path, sizeof path, root, s->pid, "cgroup");
    proc_lines l;
    if (proc_lines_open(&l, path, '\n') < 0) return;
    char *line;
    size_t len;
    while ((line = proc_lines_next(&l, &len)))
        if (!l.cut) cgroup_line(s, line);
    proc_lines_close(&l);
}

static void read_exe(const char *root, proc_snapshot *s)
{
    char path[PATH_MAX];
    pid_path(path, sizeof path, root, s->pid, "exe");
    ssize_t n = readlink(path, s->exe, sizeof s->exe - 1);
    s->exe[n > 0 ? n : 0] = '\0';
}

/* ---- the snapshot ---- */

static void snapshot_init(proc_snapshot *s, int pid)
{
    memset(s, 0, sizeof *s);
    s->pid = pid;
    s->uptime_seconds = s->utime = s->stime = -1;
    s->vm_rss = s->vm_hwm = s->vm_size = s->rss_anon = s->rss_file = s->threads = -1;
    s->ncpus_allowed = -1;
    s->open_fds = s->socket_fds = s->nofile_soft = s->nofile_hard = -1;
    s->tcp_established = s->tcp_close_wait = s->tcp_other = -1;
    s->other_sockets = s->pipes = s->anon_inodes = s->files = s->other_fds = -1;
    s->mapped_so = s->maps_lines = -1;
}

int proc_read(const char *proc_root, int pid, proc_snapshot *s, char *err, size_t errlen)
{
    const char *root = proc_root ? proc_root : "/proc";
    snapshot_init(s, pid);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%d", root, pid);
    struct stat st;
    if (pid <= 0 || stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "no process %d", pid);
        return 3;
    }
    int rc = read_status(root, s, err, errlen);
    if (rc) return rc;
    read_stat(root, s);
    read_uptime(root, s);
    read_limits(root, s);
    read_listeners(root, s); /* also counts the descriptors */
    read_maps(root, s);
    read_environ(root, s);
    read_cgroups(root, s);
    read_exe(root, s);
    return 0;
}

int proc_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
