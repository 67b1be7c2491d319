/* test_ps.c - process identity (goproc_same), pattern matching
 * (goproc_matches) and the OOM-kill counter (goproc_oom_kills) on recorded
 * trees: tests/data/ps (this machine's hybrid v1 layout, see its README)
 * and the v1 and v2 trees of tests/data/cgroup.  Listing real processes,
 * the probe and finding a restarted process's successor are in
 * tests/e2e/test_ps.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "collect/collect_ps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIR_MAX 1024
static char data_dir[DIR_MAX]; /* tests/data */

/* tests/data, from this file's path (CMake compiles with absolute paths);
 * REEF_SRC overrides. */
static void find_data_dir(void)
{
    const char *src = getenv("REEF_SRC");
    if (src) {
        snprintf(data_dir, sizeof data_dir, "%s/tests/data", src);
        return;
    }
    snprintf(data_dir, sizeof data_dir, "%s", __FILE__);
    char *unit = strstr(data_dir, "/unit/test_ps.c");
    if (unit) strcpy(unit, "/data");
    else snprintf(data_dir, sizeof data_dir, "tests/data");
}

static goproc service(const char *exe, uint64_t args_hash)
{
    goproc p;
    memset(&p, 0, sizeof p);
    p.pid = 100;
    snprintf(p.exe, sizeof p.exe, "%s", exe);
    const char *slash = strrchr(exe, '/');
    snprintf(p.name, sizeof p.name, "%s", slash ? slash + 1 : exe);
    p.args_hash = args_hash;
    p.goroutines = -1;
    return p;
}

/* ---- goproc_same ---- */

static void same_exe_and_args_is_same_after_restart(void **state)
{
    (void)state;
    goproc a = service("/srv/api/api-server", 0x1234), b = a;
    b.pid = 200;               /* restarted: another pid, */
    b.starttime_ticks = 99999; /* a later start, */
    b.ports[0] = 8081;         /* another port */
    b.nports = 1;
    assert_true(goproc_same(&a, &b));
    assert_true(goproc_same(&b, &a));
}

static void other_args_or_exe_is_another_process(void **state)
{
    (void)state;
    goproc a = service("/srv/api/api-server", 0x1234);
    goproc args = service("/srv/api/api-server", 0x1235);
    goproc exe = service("/srv/api2/api-server", 0x1234);
    assert_false(goproc_same(&a, &args));
    assert_false(goproc_same(&a, &exe));
}

static void unreadable_is_never_same(void **state)
{
    (void)state;
    /* Two processes whose executables could not be read: nothing says
     * they run the same program. */
    goproc a = service("", 0x1234), b = a;
    assert_false(goproc_same(&a, &b));
    goproc c = service("/srv/api", 0x1), d = c;
    c.go_unknown = d.go_unknown = true;
    assert_false(goproc_same(&c, &d));
}

/* ---- goproc_matches ---- */

static void matches_name_module_and_exe(void **state)
{
    (void)state;
    goproc p = service("/usr/local/bin/api-server", 1);
    snprintf(p.module, sizeof p.module, "example.com/shop/api");
    assert_true(goproc_matches(&p, "api-server"));
    assert_true(goproc_matches(&p, "api*"));
    assert_true(goproc_matches(&p, "example.com/*"));  /* the module, '/' matched by '*' */
    assert_true(goproc_matches(&p, "*/shop/*"));
    assert_true(goproc_matches(&p, "/usr/local/bin/*")); /* the executable's path */
    assert_true(goproc_matches(&p, "*-serve[rs]"));
    assert_false(goproc_matches(&p, "api"));          /* whole names, not substrings */
    assert_false(goproc_matches(&p, "nginx*"));
    assert_false(goproc_matches(&p, "API-SERVER"));   /* case matters, as in ps and pgrep */
}

static void empty_module_matches_nothing(void **state)
{
    (void)state;
    /* A program built outside a module has module "": an empty pattern
     * must not select it through that empty string. */
    goproc p = service("/opt/tool", 1);
    assert_false(goproc_matches(&p, ""));
    assert_true(goproc_matches(&p, "tool"));
}

/* ---- goproc_oom_kills ---- */

static int64_t oom(const char *proc, const char *cgroup, int pid)
{
    char proc_root[DIR_MAX + 32], sysfs_root[DIR_MAX + 64];
    snprintf(proc_root, sizeof proc_root, "%s/%s", data_dir, proc);
    snprintf(sysfs_root, sizeof sysfs_root, "%s/%s", data_dir, cgroup);
    return goproc_oom_kills(proc_root, sysfs_root, pid);
}

static void oom_kills_of_this_machines_v1_layout(void **state)
{
    (void)state;
    /* The leaf's own count (1), not its parent's (4) nor the root's (0). */
    assert_int_equal(oom("ps/proc", "ps/cgroup-v1-host", 4300), 1);
}

static void oom_kills_v1_and_v2(void **state)
{
    (void)state;
    /* v1 memory.oom_control "oom_kill 2"; v2 memory.events "oom_kill 2"
     * beside "oom 3" (OOM events that did not all end in a kill). */
    assert_int_equal(oom("proc", "cgroup/v1-limited", 4242), 2);
    assert_int_equal(oom("proc", "cgroup/v2-limited", 4242), 2);
}

static void oom_kills_unknown(void **state)
{
    (void)state;
    assert_int_equal(oom("proc", "cgroup/v2-limited", 4299), -1);       /* no such process */
    assert_int_equal(oom("proc", "cgroup/v2-limited", 4243), -1);       /* no cgroup file */
    assert_int_equal(oom("proc", "cgroup/v2-nocontrollers", 4242), -1); /* no memory controller */
}

/* ---- listing, on trees that hold no Go process ---- */

static void unreadable_proc_is_an_error(void **state)
{
    (void)state;
    goproc_list_options o = {.proc_root = "/nonexistent/proc"};
    goproc sentinel, *v = &sentinel; /* must be reset to NULL */
    size_t n = 7;
    char err[256] = "";
    assert_int_equal(goproc_list(&o, &v, &n, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/proc: cannot read: No such file or directory");
    assert_null(v);
    assert_int_equal(n, 0);
}

static void recorded_tree_without_executables(void **state)
{
    (void)state;
    /* tests/data/proc/4242/exe points at a file this machine does not
     * have: not known to be Go, so not listed, and said so when asked for
     * by pid. */
    char root[DIR_MAX + 16], err[512];
    snprintf(root, sizeof root, "%s/proc", data_dir);
    goproc_list_options o = {.proc_root = root};
    goproc *v, p;
    size_t n;
    assert_int_equal(goproc_list(&o, &v, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(goproc_read(&o, 4242, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "/4242/exe: No such file or directory"));
    assert_int_equal(goproc_read(&o, 4299, &p, err, sizeof err), -1);
    assert_string_equal(err, "no process 4299");
    goproc old = service("/usr/local/bin/api-server", 1);
    assert_int_equal(goproc_find_successor(&o, &old, &p), 0);
}

int main(void)
{
    find_data_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_exe_and_args_is_same_after_restart),
        cmocka_unit_test(other_args_or_exe_is_another_process),
        cmocka_unit_test(unreadable_is_never_same),
        cmocka_unit_test(matches_name_module_and_exe),
        cmocka_unit_test(empty_module_matches_nothing),
        cmocka_unit_test(oom_kills_of_this_machines_v1_layout),
        cmocka_unit_test(oom_kills_v1_and_v2),
        cmocka_unit_test(oom_kills_unknown),
        cmocka_unit_test(unreadable_proc_is_an_error),
        cmocka_unit_test(recorded_tree_without_executables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
