/* collect_cgroup.c - memory and CPU limits of a process's cgroups, v1 or v2.
 *
 * For each controller (memory, cpu): which hierarchy holds it (a v1
 * hierarchy listing it in /proc/PID/cgroup wins, as a controller cannot be
 * in both; else the v2 one if its root's cgroup.controllers lists it), where
 * that hierarchy is mounted (mountinfo), then the files of the process's
 * directory and of every ancestor up to the mount.  File formats and where
 * they are documented: tests/data/cgroup/README.md. */
#include "collect_cgroup.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { WALK_ON = 0, WALK_STOP = 1, WALK_ERROR = 2 };

/* Where one controller's files are. */
typedef struct located {
    int version;          /* 0: not found */
    const char *cg_path;  /* the process's cgroup, from /proc/PID/cgroup */
    char mount[PATH_MAX]; /* mount point, no trailing slash */
    char dir[PATH_MAX];   /* mount + the cgroup path relative to the mount's root */
    bool fallback;        /* the cgroup is not under the mount: dir is the mount */
} located;

/* ---- small helpers ---- */

static bool in_list(const char *list, size_t len, const char *word, char sep)
{
    size_t wl = strlen(word);
    for (const char *p = list, *end = list + len; p < end;) {
        const char *q = memchr(p, sep, (size_t)(end - p));
        size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
        if (n == wl && memcmp(p, word, n) == 0) return true;
        p += n + 1;
    }
    return false;
}

static bool copy_path(char *dst, size_t size, const char *a, const char *b)
{
    int n = snprintf(dst, size, "%s%s", a, b);
    return n >= 0 && (size_t)n < size;
}

static void set_err(char *err, size_t errlen, const char *path, const char *what, const char *text)
{
    snprintf(err, errlen, "%s: %s: \"%.40s\"", path, what, text);
}

/* "123\n" -> 123; "max\n" -> -1 when max_ok.  False if anything else: the
 * kernel writes exactly one value and a newline. */
static bool parse_value(const char *text, bool max_ok, int64_t *v)
{
    const char *rest;
    if (max_ok && strncmp(text, "max", 3) == 0) {
        rest = text + 3;
        *v = -1;
    } else {
        if (!isdigit((unsigned char)text[0]) && !(text[0] == '-' && isdigit((unsigned char)text[1]))) return false;
        char *end;
        errno = 0;
        long long x = strtoll(text, &end, 10);
        if (errno) return false;
        rest = end;
        *v = x;
    }
    return strcmp(rest, "\n") == 0 || *rest == '\0';
}

/* Reads dir/name into buf.  Returns 0, 1 when the file is absent or
 * unreadable (not an error: older kernels lack some files), 2 when it is
 * too large to be what it should be. */
static int read_file(const char *dir, const char *name, char *path, char *buf, size_t size, char *err,
                     size_t errlen)
{
    snprintf(path, PATH_MAX, "%s/%s", dir, name);
    long n = proc_read_small(path, buf, size);
    if (n == -2) {
        set_err(err, errlen, path, "malformed (too long)", buf);
        return WALK_ERROR;
    }
    return n < 0 ? 1 : 0;
}

/* A file holding one number (or "max" when max_ok): 0 with *v, 1 absent, 2 malformed. */
static int read_number(const char *dir, const char *name, bool max_ok, int64_t *v, char *err, size_t errlen)
{
    char path[PATH_MAX], buf[64];
    int rc = read_file(dir, name, path, buf, sizeof buf, err, errlen);
    if (rc) return rc;
    if (parse_value(buf, max_ok, v)) return 0;
    set_err(err, errlen, path, max_ok ? "malformed, want a number or max" : "malformed, want a number", buf);
    return WALK_ERROR;
}

/* A flat-keyed file ("key value" lines): fills vals[i] for keys[i] found. */
static int read_keyed(const char *dir, const char *name, const char *const *keys, int64_t *vals, size_t n,
                      char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    proc_lines l;
    if (proc_lines_open(&l, path, '\n') < 0) return 1;
    char *line;
    size_t len;
    int rc = 0;
    while (rc == 0 && (line = proc_lines_next(&l, &len))) {
        char *space = strchr(line, ' ');
        if (!space) continue;
        *space = '\0';
        for (size_t i = 0; i < n; i++) {
            if (strcmp(line, keys[i]) != 0) continue;
            if (!parse_value(space + 1, false, &vals[i])) {
                set_err(err, errlen, path, "malformed value", space + 1);
                rc = WALK_ERROR;
            }
        }
    }
    proc_lines_close(&l);
    return rc;
}

/* ---- finding the directories ---- */

/* The process's cgroup path for ctrl and the version it implies. */
static int choose_hierarchy(const proc_snapshot *s, const char *ctrl, const char **path)
{
    *path = NULL;
    for (int i = 0; i < s->ncgroups; i++) {
        const proc_cgroup *g = &s->cgroups[i];
        if (g->hierarchy != 0 && in_list(g->controllers, strlen(g->controllers), ctrl, ',')) {
            *path = g->path;
            return 1;
        }
    }
    for (int i = 0; i < s->ncgroups; i++)
        if (s->cgroups[i].hierarchy == 0) {
            *path = s->cgroups[i].path;
            return 2;
        }
    return 0;
}

/* Whether a v2 mount has ctrl enabled: its root's cgroup.controllers. */
static bool v2_has(const char *mount, const char *ctrl)
{
    char path[PATH_MAX], buf[512];
    snprintf(path, sizeof path, "%s/cgroup.controllers", mount);
    if (proc_read_small(path, buf, sizeof buf) < 0) return false;
    return in_list(buf, strcspn(buf, "\n"), ctrl, ' ');
}

static bool has_path_prefix(const char *p, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strcmp(prefix, "/") == 0) return true;
    return strncmp(p, prefix, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* dir = mount + (cg_path relative to root).  A cgroup outside the mount's
 * root (another cgroup namespace; "/.." paths) cannot be reached through
 * it: the mount root stands in, the closest the mount can see. */
static void compose_dir(located *loc, const char *root)
{
    const char *rel = NULL;
    if (has_path_prefix(loc->cg_path, root)) rel = strcmp(root, "/") == 0 ? loc->cg_path : loc->cg_path + strlen(root);
    if (rel && has_path_prefix(rel, "/..")) rel = NULL;
    loc->fallback = rel == NULL;
    if (!rel || strcmp(rel, "/") == 0) rel = "";
    if (!copy_path(loc->dir, sizeof loc->dir, loc->mount, rel)) copy_path(loc->dir, sizeof loc->dir, loc->mount, "");
}

static void trim_slashes(char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
}

/* Tests: sysfs_root is the mount; v2 when it has cgroup.controllers. */
static void locate_in_root(const proc_snapshot *s, const char *sysfs_root, const char *ctrl, located *loc)
{
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s/cgroup.controllers", sysfs_root);
    struct stat st;
    bool v2 = stat(probe, &st) == 0;
    int version = choose_hierarchy(s, ctrl, &loc->cg_path);
    if (v2) {
        /* The tree decides: read the unified path even if a v1 line exists. */
        for (int i = 0; i < s->ncgroups; i++)
            if (s->cgroups[i].hierarchy == 0) loc->cg_path = s->cgroups[i].path;
        version = loc->cg_path && v2_has(sysfs_root, ctrl) ? 2 : 0;
    }
    if (!version || (version == 1) == v2) return;
    snprintf(loc->mount, sizeof loc->mount, "%s%s%s", sysfs_root, v2 ? "" : "/", v2 ? "" : ctrl);
    trim_slashes(loc->mount);
    loc->version = version;
    compose_dir(loc, "/");
}

/* Undoes mountinfo's octal escapes (\040 for a space, ...), in place. */
static void unescape(char *p)
{
    char *out = p;
    while (*p) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
            *out++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 4;
        } else {
            *out++ = *p++;
        }
    }
    *out = '\0';
}

typedef struct mount_line {
    char *root, *point, *fstype, *options;
} mount_line;

/* "36 35 98:0 /root /point opts [optional...] - fstype source superopts" */
static bool split_mountinfo(char *line, mount_line *m)
{
    char *f[6] = {0}, *save = NULL, *tok;
    int i = 0;
    for (tok = strtok_r(line, " ", &save); tok && i < 5; tok = strtok_r(NULL, " ", &save)) f[i++] = tok;
    while (tok && strcmp(tok, "-") != 0) tok = strtok_r(NULL, " ", &save);
    if (i < 5 || !tok) return false;
    m->root = f[3];
    m->point = f[4];
    m->fstype = strtok_r(NULL, " ", &save);
    if (!strtok_r(NULL, " ", &save)) return false; /* the source */
    m->options = strtok_r(NULL, " ", &save);
    if (!m->fstype || !m->options) return false;
    unescape(m->root);
    unescape(m->point);
    return true;
}

static bool mount_serves(const mount_line *m, int version, const char *ctrl)
{
    if (version == 2) return strcmp(m->fstype, "cgroup2") == 0;
    return strcmp(m->fstype, "cgroup") == 0 && in_list(m->options, strlen(m->options), ctrl, ',');
}

/* The first mount of the hierarchy whose root holds the process's cgroup,
 * else the first mount of the hierarchy at all (and fall back to its root). */
static void locate_in_mountinfo(const proc_snapshot *s, const char *mountinfo, const char *ctrl, located *loc)
{
    int version = choose_hierarchy(s, ctrl, &loc->cg_path);
    proc_lines l;
    if (!version || proc_lines_open(&l, mountinfo, '\n') < 0) return;
    char first_root[PATH_MAX] = "", root[PATH_MAX] = "";
    char *line;
    size_t len;
    while (!root[0] && (line = proc_lines_next(&l, &len))) {
        mount_line m;
        if (l.cut || !split_mountinfo(line, &m) || !mount_serves(&m, version, ctrl)) continue;
        if (version == 2 && !v2_has(m.point, ctrl)) continue;
        bool holds = has_path_prefix(loc->cg_path, m.root);
        if (!first_root[0] || holds) {
            snprintf(loc->mount, sizeof loc->mount, "%s", m.point);
            snprintf(holds ? root : first_root, PATH_MAX, "%s", m.root);
        }
    }
    proc_lines_close(&l);
    if (!root[0] && !first_root[0]) return;
    trim_slashes(loc->mount);
    loc->version = version;
    compose_dir(loc, root[0] ? root : first_root);
}

/* ---- walking up the hierarchy ---- */

typedef int (*level_fn)(const char *dir, bool leaf, cgroup_limits *out, char *err, size_t errlen);

/* Calls fn for dir and each ancestor up to and including the mount. */
static int walk_up(const located *loc, level_fn fn, cgroup_limits *out, char *err, size_t errlen)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", loc->dir);
    size_t mount_len = strlen(loc->mount);
    for (bool leaf = true;; leaf = false) {
        int rc = fn(d, leaf, out, err, errlen);
        if (rc) return rc == WALK_ERROR ? rc : 0;
        char *slash = strrchr(d, '/');
        if (strlen(d) <= mount_len || !slash) return 0;
        size_t cut = (size_t)(slash - d);
        d[cut < mount_len ? mount_len : cut] = '\0';
    }
}

/* Copies a directory into a result field, cut to fit: the fields are for
 * display, the reading itself uses the whole path. */
static void keep_path(char *dst, size_t size, const char *dir)
{
    size_t n = strnlen(dir, size - 1);
    memcpy(dst, dir, n);
    dst[n] = '\0';
}

/* A tighter byte limit at dir replaces the current one. */
static void tighter_memory(cgroup_limits *out, int64_t limit, const char *dir)
{
    if (limit < 0 || (out->memory_limit >= 0 && out->memory_limit <= limit)) return;
    out->memory_limit = limit;
    keep_path(out->memory_limit_at, sizeof out->memory_limit_at, dir);
}

/* v1 writes "no limit" as the largest page-aligned counter, 2^63 less a
 * page (9223372036854771712 with 4 KiB pages); anything from 2^62 up is
 * read as unlimited, whatever the page size. */
#define V1_UNLIMITED (INT64_C(1) << 62)

static int memory_v2_level(const char *dir, bool leaf, cgroup_limits *out, char *err, size_t errlen)
{
    int64_t max, high;
    int rc = read_number(dir, "memory.max", true, &max, err, errlen);
    if (rc == WALK_ERROR) return rc;
    if (rc == 0) tighter_memory(out, max, dir);
    rc = read_number(dir, "memory.high", true, &high, err, errlen);
    if (rc == WALK_ERROR) return rc;
    if (rc == 0 && high >= 0 && (out->memory_high < 0 || high < out->memory_high)) out->memory_high = high;
    if (!leaf) return WALK_ON;
    rc = read_number(dir, "memory.current", false, &out->memory_usage, err, errlen);
    if (rc == WALK_ERROR) return rc;
    /* memory.events counts the whole subtree, so the leaf's is the process's. */
    static const char *const keys[] = {"oom", "oom_kill"};
    int64_t vals[2] = {-1, -1};
    if ((rc = read_keyed(dir, "memory.events", keys, vals, 2, err, errlen)) == WALK_ERROR) return rc;
    out->oom_events = vals[0];
    out->oom_kills = vals[1];
    return WALK_ON;
}

static int memory_v1_level(const char *dir, bool leaf, cgroup_limits *out, char *err, size_t errlen)
{
    int64_t v;
    /* With use_hierarchy 0 (possible before Linux 5.11, which made it
     * always 1) a cgroup does not charge its children: its limit, and
     * those above, do not apply. */
    if (!leaf && read_number(dir, "memory.use_hierarchy", false, &v, err, errlen) == 0 && v == 0) return WALK_STOP;
    int rc = read_number(dir, "memory.limit_in_bytes", false, &v, err, errlen);
    if (rc == WALK_ERROR) return rc;
    if (rc == 0 && v < V1_UNLIMITED) tighter_memory(out, v, dir);
    if (!leaf) return WALK_ON;
    if ((rc = read_number(dir, "memory.usage_in_bytes", false, &out->memory_usage, err, errlen)) == WALK_ERROR)
        return rc;
    if ((rc = read_number(dir, "memory.failcnt", false, &out->oom_events, err, errlen)) == WALK_ERROR) return rc;
    /* oom_control mixes two flags with the oom_kill counter, which older
     * kernels lack (then oom_kills stays unknown). */
    static const char *const keys[] = {"oom_kill"};
    return read_keyed(dir, "memory.oom_control", keys, &out->oom_kills, 1, err, errlen) == WALK_ERROR ? WALK_ERROR
                                                                                                     : WALK_ON;
}

/* A quota/period pair at dir: the leaf's is what Go sees, the smallest
 * ratio is what the scheduler enforces. */
static void tighter_cpu(cgroup_limits *out, int64_t quota, int64_t period, bool leaf, const char *dir)
{
    if (quota < 0 || period <= 0) return;
    double limit = (double)quota / (double)period;
    if (leaf) out->cpu_limit_leaf = limit;
    if (out->cpu_limit > 0 && out->cpu_limit <= limit) return;
    out->cpu_limit = limit;
    out->cpu_quota_us = quota;
    out->cpu_period_us = period;
    keep_path(out->cpu_limit_at, sizeof out->cpu_limit_at, dir);
}

/* cpu.max: "max 100000" or "50000 100000". */
static bool parse_cpu_max(char *buf, int64_t *quota, int64_t *period)
{
    char *space = strchr(buf, ' ');
    if (!space) return false;
    *space = '\0';
    bool ok = parse_value(buf, true, quota) && parse_value(space + 1, false, period) && *period > 0;
    *space = ' ';
    return ok;
}

static int cpu_v2_max(const char *dir, bool leaf, cgroup_limits *out, char *err, size_t errlen)
{
    char path[PATH_MAX], buf[64];
    int rc = read_file(dir, "cpu.max", path, buf, sizeof buf, err, errlen);
    if (rc) return rc == WALK_ERROR ? rc : 0;
    int64_t quota, period;
    if (!parse_cpu_max(buf, &quota, &period)) {
        set_err(err, errlen, path, "malformed, want \"max PERIOD\" or \"QUOTA PERIOD\"", buf);
        return WALK_ERROR;
    }
    if (leaf && out->cpu_period_us < 0) out->cpu_period_us = period;
    tighter_cpu(out, quota, period, leaf, dir);
    return 0;
}

static int cpu_v2_level(const char *dir, bool leaf, cgroup_limits *out, char *err, size_t errlen)
{
    if (cpu_v2_max(dir, leaf, out, err, errlen) == WALK_ERROR) return WALK_ERROR;
    if (!leaf) return WALK_ON;
    static const char *const keys[] = {"nr_periods", "nr_throttled", "throttled_usec"};
    int64_t vals[3] = {-1, -1, -1};
    if (read_keyed(dir, "cpu.stat", keys, vals, 3, err, errlen) == WALK_ERROR) return WALK_ERROR;
    out->nr_periods = vals[0];
    out->nr_throttled = vals[1];
    if (vals[2] >= 0) out->throttled_seconds = (double)vals[2] / 1e6;
    return WALK_ON;
}

static int cpu_v1_level(const char *dir, bool leaf, cgroup_limits *out, char *err, size_t errlen)
{
    int64_t quota, period;
    int rq = read_number(dir, "cpu.cfs_quota_us", false, &quota, err, errlen);
    if (rq == WALK_ERROR) return rq;
    int rp = read_number(dir, "cpu.cfs_period_us", false, &period, err, errlen);
    if (rp == WALK_ERROR) return rp;
    if (rq == 0 && rp == 0) {
        if (leaf && out->cpu_period_us < 0) out->cpu_period_us = period;
        tighter_cpu(out, quota, period, leaf, dir);
    }
    if (!leaf) return WALK_ON;
    static const char *const keys[] = {"nr_periods", "nr_throttled", "throttled_time"};
    int64_t vals[3] = {-1, -1, -1};
    if (read_keyed(dir, "cpu.stat", keys, vals, 3, err, errlen) == WALK_ERROR) return WALK_ERROR;
    out->nr_periods = vals[0];
    out->nr_throttled = vals[1];
    if (vals[2] >= 0) out->throttled_seconds = (double)vals[2] / 1e9; /* nanoseconds in v1 */
    return WALK_ON;
}

/* ---- the whole read ---- */

static void limits_init(cgroup_limits *out)
{
    memset(out, 0, sizeof *out);
    out->memory_limit = out->memory_usage = out->memory_high = out->oom_kills = out->oom_events = -1;
    out->cpu_quota_us = out->cpu_period_us = -1;
    out->nr_periods = out->nr_throttled = -1;
    out->throttled_seconds = -1;
}

static bool dir_exists(const char *dir)
{
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static int read_controllers(located *mem, located *cpu, cgroup_limits *out, char *err, size_t errlen)
{
    if (mem->version && dir_exists(mem->dir)) {
        out->memory_version = mem->version;
        out->memory_fallback = mem->fallback;
        keep_path(out->memory_path, sizeof out->memory_path, mem->dir);
        int rc = walk_up(mem, mem->version == 2 ? memory_v2_level : memory_v1_level, out, err, errlen);
        if (rc) return rc;
    }
    if (cpu->version && dir_exists(cpu->dir)) {
        out->cpu_version = cpu->version;
        out->cpu_fallback = cpu->fallback;
        keep_path(out->cpu_path, sizeof out->cpu_path, cpu->dir);
        int rc = walk_up(cpu, cpu->version == 2 ? cpu_v2_level : cpu_v1_level, out, err, errlen);
        if (rc) return rc;
    }
    out->version = out->memory_version ? out->memory_version : out->cpu_version;
    if (out->cpu_quota_us < 0) out->cpu_limit = 0;
    return 0;
}

static int read_located(const proc_snapshot *s, const char *sysfs_root, const char *mountinfo, cgroup_limits *out,
                        char *err, size_t errlen)
{
    limits_init(out);
    /* Two paths of PATH_MAX each: heap, not stack. */
    located *loc = calloc(2, sizeof *loc);
    if (!loc) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    static const char *const ctrls[2] = {"memory", "cpu"};
    for (int i = 0; i < 2; i++) {
        if (sysfs_root) locate_in_root(s, sysfs_root, ctrls[i], &loc[i]);
        else locate_in_mountinfo(s, mountinfo, ctrls[i], &loc[i]);
    }
    int rc = read_controllers(&loc[0], &loc[1], out, err, errlen);
    free(loc);
    return rc;
}

int cgroup_read(const proc_snapshot *s, const char *sysfs_root, cgroup_limits *out, char *err, size_t errlen)
{
    return read_located(s, sysfs_root, "/proc/self/mountinfo", out, err, errlen);
}

int cgroup_read_mountinfo(const proc_snapshot *s, const char *mountinfo, cgroup_limits *out, char *err,
                          size_t errlen)
{
    return read_located(s, NULL, mountinfo, out, err, errlen);
}
