/* test_proc.c - the /proc and cgroup collectors on recorded trees
 * (tests/data/proc, tests/data/cgroup: the formats and where they are
 * documented are in tests/data/cgroup/README.md), on generated files with
 * records longer than the read buffer, and on mountinfo files written here.
 * Live processes and a real cgroup are in tests/e2e/test_proc_live.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "collect/collect_cgroup.h"
#include "collect/collect_proc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories are kept short of PATH_MAX so that paths built from them
 * always fit the buffers below. */
#define DIR_MAX 1024
#define PATH_BUF 2048
static char data_dir[DIR_MAX]; /* tests/data */
static char err[1024];

/* tests/data, found from this file's path (CMake compiles with absolute
 * paths) so the test runs from any directory; REEF_SRC overrides. */
static void find_data_dir(void)
{
    const char *src = getenv("REEF_SRC");
    if (src && *src) {
        snprintf(data_dir, sizeof data_dir, "%s/tests/data", src);
        return;
    }
    snprintf(data_dir, sizeof data_dir, "%s", __FILE__);
    char *unit = strstr(data_dir, "/unit/test_proc.c");
    if (unit) strcpy(unit, "/data");
    else snprintf(data_dir, sizeof data_dir, "tests/data");
}

/* A few paths can be in use at once (several in one snprintf). */
static char *path_slot(void)
{
    static char slots[4][PATH_BUF];
    static unsigned next;
    return slots[next++ % 4];
}

static const char *data(const char *rel)
{
    char *path = path_slot();
    snprintf(path, PATH_BUF, "%s/%s", data_dir, rel);
    return path;
}

/* ---- /proc ---- */

static void test_recorded_process(void **state)
{
    (void)state;
    static proc_snapshot s;
    assert_int_equal(proc_read(data("proc"), 4242, &s, err, sizeof err), 0);
    assert_int_equal(s.pid, 4242);
    /* The comm holds a space and parentheses: it ends at the last ')'. */
    assert_string_equal(s.comm, "api (v2) srv");
    assert_string_equal(s.exe, "/usr/local/bin/api-server");
    double tick = (double)sysconf(_SC_CLK_TCK);
    assert_true(s.starttime_ticks == 150000);
    assert_float_equal(s.utime, 1234 / tick, 1e-9);
    assert_float_equal(s.stime, 567 / tick, 1e-9);
    assert_float_equal(s.uptime_seconds, 5100.25 - 150000 / tick, 1e-6);
    assert_int_equal(s.vm_rss, 51200 * 1024);
    assert_int_equal(s.vm_hwm, 61440 * 1024);
    assert_int_equal(s.vm_size, 1572864LL * 1024);
    assert_int_equal(s.rss_anon, 40960 * 1024);
    assert_int_equal(s.rss_file, 10240 * 1024);
    assert_int_equal(s.threads, 14);
    assert_string_equal(s.cpus_allowed_list, "0-3,6");
    assert_int_equal(s.ncpus_allowed, 5);
}

static void test_recorded_fds_and_limits(void **state)
{
    (void)state;
    static proc_snapshot s;
    assert_int_equal(proc_read(data("proc"), 4242, &s, err, sizeof err), 0);
    assert_int_equal(s.open_fds, 11);
    assert_int_equal(s.socket_fds, 6); /* fd 7 is a dup of fd 3: still a descriptor */
    assert_int_equal(s.nofile_soft, 1024);
    assert_int_equal(s.nofile_hard, 524288);
    /* libc.so.6 (mapped twice, apart), libpthread.so.0, libfoo.so, the
     * deleted libjit.so, ld-linux-x86-64.so.2; not socket.sock or ca.socache. */
    assert_int_equal(s.mapped_so, 5);
    assert_int_equal(s.maps_lines, 27);
}

static void test_recorded_listeners(void **state)
{
    (void)state;
    static proc_snapshot s;
    assert_int_equal(proc_read(data("proc"), 4242, &s, err, sizeof err), 0);
    assert_true(s.net_readable);
    /* Not 0.0.0.0:22 nor [::]:80 (listening, but not this process's), not
     * the established connection 7003, and 7001 once despite its dup. */
    assert_int_equal(s.nlisten, 4);
    assert_int_equal(s.nlisten_total, 4);
    static const struct {
        const char *addr;
        unsigned port;
        bool loopback;
    } want[] = {{"::1", 6060, true}, {"::ffff:127.0.0.1", 7070, true}, {"127.0.0.1", 8080, true}, {"::", 9090, false}};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(s.listen[i].addr, want[i].addr);
        assert_int_equal(s.listen[i].port, want[i].port);
        assert_int_equal(s.listen[i].loopback, want[i].loopback);
    }
}

static void test_recorded_environ_and_cgroups(void **state)
{
    (void)state;
    static proc_snapshot s;
    assert_int_equal(proc_read(data("proc"), 4242, &s, err, sizeof err), 0);
    assert_true(s.environ_readable);
    assert_string_equal(s.gogc, "200"); /* not NOTGOGC's 5 nor GOGCX's 7 */
    assert_string_equal(s.gomemlimit, "1GiB");
    assert_string_equal(s.godebug, "madvdontneed=1,gctrace=0");
    assert_string_equal(s.gomaxprocs, "4");
    assert_string_equal(s.gotraceback, "");
    assert_int_equal(s.ncgroups, 4);
    assert_int_equal(s.cgroups[0].hierarchy, 12);
    assert_string_equal(s.cgroups[0].controllers, "memory");
    assert_string_equal(s.cgroups[0].path, "/docker/abc");
    assert_string_equal(s.cgroups[1].controllers, "cpu,cpuacct");
    assert_string_equal(s.cgroups[2].controllers, "name=systemd");
    assert_int_equal(s.cgroups[3].hierarchy, 0);
    assert_string_equal(s.cgroups[3].controllers, "");
    assert_string_equal(s.cgroups[3].path, "/kubepods/pod1/app");
}

/* A process directory with nothing but status: every other field unknown. */
static void test_missing_files(void **state)
{
    (void)state;
    static proc_snapshot s;
    assert_int_equal(proc_read(data("proc"), 4243, &s, err, sizeof err), 0);
    assert_string_equal(s.comm, "bare");
    assert_int_equal(s.threads, 1);
    assert_int_equal(s.vm_rss, -1);
    assert_int_equal(s.open_fds, -1);
    assert_int_equal(s.socket_fds, -1);
    assert_int_equal(s.nofile_soft, -1);
    assert_int_equal(s.mapped_so, -1);
    assert_int_equal(s.maps_lines, -1);
    assert_int_equal(s.ncpus_allowed, -1);
    assert_true(s.utime < 0 && s.uptime_seconds < 0);
    assert_false(s.environ_readable);
    assert_false(s.net_readable);
    assert_int_equal(s.nlisten, 0);
    assert_int_equal(s.ncgroups, 0);
    assert_string_equal(s.exe, "");
}

static void test_no_process(void **state)
{
    (void)state;
    static proc_snapshot s;
    assert_int_equal(proc_read(data("proc"), 999, &s, err, sizeof err), 3);
    assert_string_equal(err, "no process 999");
    assert_int_equal(proc_read(data("proc"), 0, &s, err, sizeof err), 3);
    assert_int_equal(proc_read(data("proc"), -5, &s, err, sizeof err), 3);
    assert_true(proc_online_cpus() >= 1);
}

/* ---- records longer than the read buffer ---- */

static char tmp_dir[DIR_MAX];

static const char *tmp(const char *rel)
{
    char *path = path_slot();
    snprintf(path, PATH_BUF, "%s/%s", tmp_dir, rel);
    return path;
}

static void write_file(const char *path, const char *a, size_t alen, const char *b)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (alen) fwrite(a, 1, alen, f);
    fputs(b, f);
    fclose(f);
}

static char *filled(size_t n, char c)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memset(p, c, n);
    p[n] = '\0';
    return p;
}

static void test_long_records(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/reef-test-proc.%d", (int)getpid());
    assert_int_equal(mkdir(tmp_dir, 0700), 0);
    assert_int_equal(mkdir(tmp("77"), 0700), 0);
    /* A 1 MB variable before GOGC: the environment is read in pieces. */
    char *big = filled(1 << 20, 'x');
    memcpy(big, "BIG=", 4);
    big[(1 << 20) - 1] = '\0';
    write_file(tmp("77/environ"), big, 1 << 20, "GOGC=50");
    /* An over-long status line before Threads, a maps path cut by the
     * buffer (not counted: its name is incomplete), then a whole one. */
    char *line = filled(20000, 'y');
    write_file(tmp("77/status"), "Junk:\t", 6, line);
    FILE *f = fopen(tmp("77/status"), "a");
    fputs("\nThreads:\t3\nVmRSS:\t  8 kB", f); /* no newline at the end */
    fclose(f);
    char *path = filled(PROC_LINE_MAX + 100, 'z');
    path[0] = '/';
    strcpy(path + PROC_LINE_MAX + 97, ".so");
    write_file(tmp("77/maps"), "7f00-7f01 r-xp 00000000 fe:00 1 ", 33, path);
    f = fopen(tmp("77/maps"), "a");
    fputs("\n7f02-7f03 r-xp 00000000 fe:00 2                          /lib/libz.so.1\n", f);
    fclose(f);
    static proc_snapshot s;
    assert_int_equal(proc_read(tmp_dir, 77, &s, err, sizeof err), 0);
    assert_string_equal(s.gogc, "50");
    assert_int_equal(s.threads, 3);
    assert_int_equal(s.vm_rss, 8192);
    assert_int_equal(s.maps_lines, 2);
    assert_int_equal(s.mapped_so, 1);
    /* A directory without status: the process exited while being read. */
    assert_int_equal(mkdir(tmp("88"), 0700), 0);
    assert_int_equal(proc_read(tmp_dir, 88, &s, err, sizeof err), 3);
    assert_string_equal(err, "no process 88");
    free(big);
    free(line);
    free(path);
}

static void test_line_reader(void **state)
{
    (void)state;
    char *line = filled(PROC_LINE_MAX * 3, 'q');
    write_file(tmp("lines"), "a\n", 2, line);
    FILE *f = fopen(tmp("lines"), "a");
    fputs("\nb\n\nlast", f);
    fclose(f);
    proc_lines l;
    assert_int_equal(proc_lines_open(&l, tmp("lines"), '\n'), 0);
    size_t len;
    char *r = proc_lines_next(&l, &len);
    assert_string_equal(r, "a");
    r = proc_lines_next(&l, &len);
    assert_int_equal(len, PROC_LINE_MAX - 1);
    assert_true(l.cut);
    assert_string_equal(proc_lines_next(&l, &len), "b");
    assert_false(l.cut);
    assert_string_equal(proc_lines_next(&l, &len), "");
    assert_string_equal(proc_lines_next(&l, &len), "last");
    assert_null(proc_lines_next(&l, &len));
    assert_null(proc_lines_next(&l, &len));
    proc_lines_close(&l);
    assert_int_equal(proc_lines_open(&l, tmp("absent"), '\n'), -1);
    char buf[16];
    assert_int_equal(proc_read_small(tmp("lines"), buf, sizeof buf), -2);
    write_file(tmp("small"), "", 0, "12345");
    assert_int_equal(proc_read_small(tmp("small"), buf, 6), 5);
    assert_string_equal(buf, "12345");
    assert_int_equal(proc_read_small(tmp("absent"), buf, sizeof buf), -1);
    free(line);
}

/* ---- cgroups ---- */

/* A snapshot whose /proc/PID/cgroup holds the given lines. */
static void snap(proc_snapshot *s, const char *const *lines, int n)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n; i++) {
        proc_cgroup *g = &s->cgroups[i];
        const char *c1 = strchr(lines[i], ':'), *c2 = strchr(c1 + 1, ':');
        g->hierarchy = atoi(lines[i]);
        snprintf(g->controllers, sizeof g->controllers, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
        snprintf(g->path, sizeof g->path, "%s", c2 + 1);
    }
    s->ncgroups = n;
}

static const char *under(const char *tree, const char *rel)
{
    char *path = path_slot();
    snprintf(path, PATH_BUF, "%s/cgroup/%s%s", data_dir, tree, rel);
    return path;
}

static int read_tree(const char *tree, const char *const *lines, int n, cgroup_limits *c)
{
    static proc_snapshot s;
    snap(&s, lines, n);
    return cgroup_read(&s, under(tree, ""), c, err, sizeof err);
}

static void test_v2_limited(void **state)
{
    (void)state;
    const char *lines[] = {"0::/kubepods/pod1/app"};
    cgroup_limits c;
    assert_int_equal(read_tree("v2-limited", lines, 1, &c), 0);
    assert_int_equal(c.version, 2);
    assert_int_equal(c.memory_version, 2);
    assert_int_equal(c.cpu_version, 2);
    assert_string_equal(c.memory_path, under("v2-limited", "/kubepods/pod1/app"));
    /* The parent's 256 MiB beats the leaf's 512 MiB; 0.5 CPU beats 2. */
    assert_int_equal(c.memory_limit, 268435456);
    assert_string_equal(c.memory_limit_at, under("v2-limited", "/kubepods/pod1"));
    assert_int_equal(c.memory_high, 402653184);
    assert_int_equal(c.memory_usage, 123456789);
    assert_int_equal(c.oom_events, 3);
    assert_int_equal(c.oom_kills, 2);
    assert_float_equal(c.cpu_limit, 0.5, 1e-12);
    assert_int_equal(c.cpu_quota_us, 50000);
    assert_int_equal(c.cpu_period_us, 100000);
    assert_string_equal(c.cpu_limit_at, under("v2-limited", "/kubepods/pod1"));
    assert_float_equal(c.cpu_limit_leaf, 2.0, 1e-12); /* what GOMAXPROCS follows */
    assert_int_equal(c.nr_periods, 5000);
    assert_int_equal(c.nr_throttled, 1250);
    assert_float_equal(c.throttled_seconds, 42.5, 1e-9);
    assert_false(c.memory_fallback || c.cpu_fallback);
}

static void test_v2_unlimited(void **state)
{
    (void)state;
    const char *lines[] = {"0::/system.slice/app.service"};
    cgroup_limits c;
    assert_int_equal(read_tree("v2-unlimited", lines, 1, &c), 0);
    assert_int_equal(c.version, 2);
    assert_int_equal(c.memory_limit, -1);
    assert_int_equal(c.memory_high, -1);
    assert_string_equal(c.memory_limit_at, "");
    assert_int_equal(c.memory_usage, 5242880);
    assert_int_equal(c.oom_kills, 0);
    assert_int_equal(c.cpu_quota_us, -1);
    assert_int_equal(c.cpu_period_us, 100000);
    assert_true(c.cpu_limit == 0 && c.cpu_limit_leaf == 0);
    assert_int_equal(c.nr_throttled, 0);
    assert_float_equal(c.throttled_seconds, 0, 0);
}

static void test_v2_without_controllers(void **state)
{
    (void)state;
    const char *lines[] = {"0::/"};
    cgroup_limits c;
    assert_int_equal(read_tree("v2-nocontrollers", lines, 1, &c), 0);
    assert_int_equal(c.version, 0);
    assert_string_equal(c.memory_path, "");
    assert_int_equal(c.memory_limit, -1);
    assert_int_equal(c.nr_periods, -1);
    /* No cgroup lines at all: nothing, and no error. */
    assert_int_equal(read_tree("v2-limited", lines, 0, &c), 0);
    assert_int_equal(c.version, 0);
}

static void test_v1_limited(void **state)
{
    (void)state;
    const char *lines[] = {"12:memory:/docker/abc", "11:cpu,cpuacct:/docker/abc", "1:name=systemd:/docker/abc",
                           "0::/"};
    cgroup_limits c;
    assert_int_equal(read_tree("v1-limited", lines, 4, &c), 0);
    assert_int_equal(c.version, 1);
    assert_int_equal(c.memory_version, 1);
    assert_int_equal(c.cpu_version, 1);
    assert_string_equal(c.memory_path, under("v1-limited", "/memory/docker/abc"));
    assert_string_equal(c.cpu_path, under("v1-limited", "/cpu/docker/abc"));
    /* The ancestors' 9223372036854771712 means no limit. */
    assert_int_equal(c.memory_limit, 268435456);
    assert_int_equal(c.memory_usage, 201326592);
    assert_int_equal(c.memory_high, -1);
    assert_int_equal(c.oom_kills, 2);
    assert_int_equal(c.oom_events, 17);
    assert_float_equal(c.cpu_limit, 1.5, 1e-12);
    assert_int_equal(c.cpu_quota_us, 150000);
    assert_int_equal(c.nr_periods, 800);
    assert_int_equal(c.nr_throttled, 200);
    assert_float_equal(c.throttled_seconds, 12.5, 1e-9); /* nanoseconds in v1 */
}

static void test_v1_nested(void **state)
{
    (void)state;
    const char *lines[] = {"4:memory:/parent/child", "1:cpu:/parent/child"};
    cgroup_limits c;
    assert_int_equal(read_tree("v1-nested", lines, 2, &c), 0);
    assert_int_equal(c.memory_limit, 134217728);
    assert_string_equal(c.memory_limit_at, under("v1-nested", "/memory/parent"));
    /* The parent's 50000/200000 (0.25), not its quota alone against the
     * child's period; the child has no quota of its own. */
    assert_float_equal(c.cpu_limit, 0.25, 1e-12);
    assert_int_equal(c.cpu_quota_us, 50000);
    assert_int_equal(c.cpu_period_us, 200000);
    assert_true(c.cpu_limit_leaf == 0);
    assert_int_equal(c.oom_kills, 0);
    /* Under a parent with use_hierarchy 0 the parent's 64 MiB does not apply. */
    const char *legacy[] = {"4:memory:/legacy/svc", "1:cpu:/legacy/svc"};
    assert_int_equal(read_tree("v1-nested", legacy, 2, &c), 0);
    assert_int_equal(c.memory_limit, 536870912);
    assert_int_equal(c.cpu_quota_us, -1);
    assert_true(c.cpu_limit == 0);
    assert_int_equal(c.oom_kills, -1); /* no memory.oom_control there */
}

/* A cgroup outside what the mount shows ("/.." under a cgroup namespace):
 * the mount's root is read instead. */
static void test_outside_namespace(void **state)
{
    (void)state;
    const char *lines[] = {"0::/../../other"};
    cgroup_limits c;
    assert_int_equal(read_tree("v2-limited", lines, 1, &c), 0);
    assert_true(c.memory_fallback && c.cpu_fallback);
    assert_string_equal(c.memory_path, under("v2-limited", ""));
    assert_int_equal(c.memory_limit, -1); /* the root cgroup has no limit files */
    /* A path that simply does not exist is not substituted. */
    const char *gone[] = {"0::/kubepods/pod1/gone"};
    assert_int_equal(read_tree("v2-limited", gone, 1, &c), 0);
    assert_int_equal(c.version, 0);
    assert_string_equal(c.memory_path, "");
}

static void expect_bad(const char *tree, const char *line, const char *file, const char *what)
{
    const char *lines[] = {line};
    cgroup_limits c;
    assert_int_equal(read_tree(tree, lines, 1, &c), 2);
    assert_non_null(strstr(err, file));
    assert_non_null(strstr(err, what));
}

static void test_malformed(void **state)
{
    (void)state;
    expect_bad("v2-bad", "0::/garbage-memory", "garbage-memory/memory.max: malformed", "\"lots");
    expect_bad("v2-bad", "0::/short-cpu", "short-cpu/cpu.max: malformed", "\"50000");
    expect_bad("v2-bad", "0::/zero-period", "zero-period/cpu.max: malformed", "\"50000 0");
    expect_bad("v2-bad", "0::/bad-stat", "bad-stat/cpu.stat: malformed value", "\"many");
    expect_bad("v2-bad", "0::/bad-events", "bad-events/memory.events: malformed value", "\"1x");
    expect_bad("v1-bad", "3:memory:/huge", "huge/memory.limit_in_bytes: malformed", "18446744073709551615");
    expect_bad("v1-bad", "2:cpu:/bad-quota", "bad-quota/cpu.cfs_quota_us: malformed", "\" 50000");
}

/* ---- mountinfo ---- */

static int read_with_mountinfo(const char *mountinfo, const char *const *lines, int n, cgroup_limits *c)
{
    write_file(tmp("mountinfo"), "", 0, mountinfo);
    static proc_snapshot s;
    snap(&s, lines, n);
    return cgroup_read_mountinfo(&s, tmp("mountinfo"), c, err, sizeof err);
}

/* The hybrid layout of many machines: v1 controllers and a v2 hierarchy
 * without them.  v1 wins for a controller it holds. */
static void test_mountinfo_hybrid(void **state)
{
    (void)state;
    char mi[8192];
    snprintf(mi, sizeof mi,
             "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
             "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
             "41 31 0:38 / %s rw,relatime - cgroup2 cgroup2 rw\n"
             "35 31 0:32 / %s rw,relatime - cgroup cgroup rw,memory\n"
             "32 31 0:29 / %s rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n",
             under("v2-nocontrollers", ""), under("v1-limited", "/memory"), under("v1-limited", "/cpu"));
    const char *lines[] = {"12:memory:/docker/abc", "11:cpu,cpuacct:/docker/abc", "0::/"};
    cgroup_limits c;
    assert_int_equal(read_with_mountinfo(mi, lines, 3, &c), 0);
    assert_int_equal(c.memory_version, 1);
    assert_int_equal(c.memory_limit, 268435456);
    assert_float_equal(c.cpu_limit, 1.5, 1e-12);
    /* Only the v2 line: the v2 hierarchy lacks both controllers. */
    assert_int_equal(read_with_mountinfo(mi, lines + 2, 1, &c), 0);
    assert_int_equal(c.version, 0);
}

static void test_mountinfo_v2(void **state)
{
    (void)state;
    char mi[8192];
    snprintf(mi, sizeof mi, "29 23 0:26 / %s rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
             under("v2-limited", "/"));
    const char *lines[] = {"0::/kubepods/pod1/app"};
    cgroup_limits c;
    assert_int_equal(read_with_mountinfo(mi, lines, 1, &c), 0);
    assert_int_equal(c.version, 2);
    assert_string_equal(c.memory_path, under("v2-limited", "/kubepods/pod1/app")); /* trailing '/' dropped */
    assert_int_equal(c.memory_limit, 268435456);
    assert_float_equal(c.cpu_limit, 0.5, 1e-12);
}

/* A mount of a subtree (root field not "/"), as in a container: the mount
 * point is the cgroup; the walk stops at the mount point.  The mount point
 * holds a space, escaped as \040 by the kernel. */
static void test_mountinfo_subtree(void **state)
{
    (void)state;
    char link[PATH_BUF], mi[8192];
    snprintf(link, sizeof link, "%s/pod one", tmp_dir);
    unlink(link);
    assert_int_equal(symlink(under("v2-limited", "/kubepods/pod1"), link), 0);
    snprintf(mi, sizeof mi, "29 23 0:26 /kubepods/pod1 %s/pod\\040one rw - cgroup2 cgroup2 rw\n", tmp_dir);
    const char *lines[] = {"0::/kubepods/pod1/app"};
    cgroup_limits c;
    assert_int_equal(read_with_mountinfo(mi, lines, 1, &c), 0);
    assert_int_equal(c.memory_limit, 268435456);
    assert_string_equal(c.memory_limit_at, link);
    assert_float_equal(c.cpu_limit, 0.5, 1e-12);
    assert_false(c.memory_fallback);
    /* A cgroup elsewhere than the mounted subtree: the mount point itself. */
    const char *other[] = {"0::/kubepods/pod2/app"};
    assert_int_equal(read_with_mountinfo(mi, other, 1, &c), 0);
    assert_true(c.memory_fallback);
    assert_string_equal(c.memory_path, link);
    assert_int_equal(c.memory_limit, 268435456);
    /* Two mounts of the hierarchy: the one holding the cgroup is used. */
    snprintf(mi, sizeof mi,
             "29 23 0:26 /kubepods/pod1 %s/pod\\040one rw - cgroup2 cgroup2 rw\n"
             "30 23 0:26 / %s rw - cgroup2 cgroup2 rw\n", tmp_dir, under("v2-limited", ""));
    assert_int_equal(read_with_mountinfo(mi, other, 1, &c), 0);
    assert_false(c.memory_fallback);
    assert_int_equal(c.version, 0); /* pod2 does not exist in the tree */
    unlink(link);
}

static int cleanup(void **state)
{
    (void)state;
    if (!tmp_dir[0]) return 0;
    char cmd[DIR_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    find_data_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_process),
        cmocka_unit_test(test_recorded_fds_and_limits),
        cmocka_unit_test(test_recorded_listeners),
        cmocka_unit_test(test_recorded_environ_and_cgroups),
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_no_process),
        cmocka_unit_test(test_long_records),
        cmocka_unit_test(test_line_reader),
        cmocka_unit_test(test_v2_limited),
        cmocka_unit_test(test_v2_unlimited),
        cmocka_unit_test(test_v2_without_controllers),
        cmocka_unit_test(test_v1_limited),
        cmocka_unit_test(test_v1_nested),
        cmocka_unit_test(test_outside_namespace),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_mountinfo_hybrid),
        cmocka_unit_test(test_mountinfo_v2),
        cmocka_unit_test(test_mountinfo_subtree),
    };
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
