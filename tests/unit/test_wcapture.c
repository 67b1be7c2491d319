/* test_wcapture.c - reef watch's captures, taken from a real Go process
 * (tests/fixtures/watchable, with goroutines it leaked on request) and
 * checked by other means: the fixture's own /state says how many
 * goroutines it leaked and which requests it served; go tool pprof reads
 * the profiles; jq, awk and find read the rest.  Then the store: rate
 * limits, the size cap (oldest removed first), a full disk (a 256 KiB
 * tmpfs) and a kill -9 in the middle of a capture (against hostile's
 * /slow/, which answers a byte every 50 ms).
 *
 * Needs REEF_SRC and REEF_BUILD (tests/CMakeLists.txt sets them); the
 * fixtures are built as the e2e tests build them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch_test.h"
#include "watch/wcapture.h"
#include "watch/wevents.h"
#include "collect/collect_cgroup.h"
#include "collect/collect_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/reef-wcapture.XXXXXX";
static char fixtures[512];
static pid_t watchable_pid, hostile_pid;
static char watchable_url[128], hostile_url[128];

/* ---- fixtures ------------------------------------------------------------- */

/* Starts a fixture with its output in DIR/NAME.out and waits (30 s at
 * most) for its "listening on URL" line. */
static pid_t start_fixture(const char *name, char *const argv[], char *url, size_t n)
{
    char out[600], path[600];
    snprintf(out, sizeof out, "%s/%s.out", dir, name);
    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    pid_t pid = fork();
    if (pid == 0) {
        /* gone with the test, even when it crashes; and its output never
         * on the test's stderr, which ctest waits on */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(path, argv);
        _exit(127);
    }
    for (int i = 0; i < 300 && pid > 0; i++) {
        FILE *f = fopen(out, "r");
        char line[256], found[128];
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "listening on %127s", found) == 1) {
                snprintf(url, n, "%s", found);
                fclose(f);
                return pid;
            }
        if (f) fclose(f);
        usleep(100 * 1000);
    }
    fprintf(stderr, "%s did not say where it listens\n", name);
    return -1;
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("REEF_SRC"), *build = getenv("REEF_BUILD");
    if (!src || !build) {
        fprintf(stderr, "test_wcapture: REEF_SRC and REEF_BUILD must be set (ctest sets them)\n");
        return -1;
    }
    if (!mkdtemp(dir)) return -1;
    setenv("PATH", "/usr/local/go/bin:/usr/bin:/bin:/usr/sbin:/sbin", 1);
    snprintf(fixtures, sizeof fixtures, "%s/fixtures", build);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && flock %s/.lock %s/tests/fixtures/run.sh build %s >&2", fixtures, fixtures,
             src, fixtures);
    if (system(cmd) != 0) return -1;
    char *wargs[] = {"watchable", "-clients", "0", "-lifetime", "5m", NULL};
    watchable_pid = start_fixture("watchable", wargs, watchable_url, sizeof watchable_url);
    char *hargs[] = {"hostile", "-lifetime", "5m", NULL};
    hostile_pid = start_fixture("hostile", hargs, hostile_url, sizeof hostile_url);
    return watchable_pid > 0 && hostile_pid > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pid_t pids[] = {watchable_pid, hostile_pid};
    for (int i = 0; i < 2; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
            waitpid(pids[i], NULL, 0);
        }
    char cmd[600];
    /* REEF_TEST_KEEP=1 keeps the captures to look at */
    snprintf(cmd, sizeof cmd, "umount %s/full 2>/dev/null; %s %s", dir, getenv("REEF_TEST_KEEP") ? "echo kept" : "rm -rf",
             dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- what a capture is given ----------------------------------------------- */

static wcapture_conf conf_in(const char *sub)
{
    wcapture_conf c;
    memset(&c, 0, sizeof c);
    snprintf(c.dir, sizeof c.dir, "%s/%s", dir, sub);
    c.max_bytes = (uint64_t)1 << 30;
    c.target_every = 0;
    c.global_every = 0;
    c.heap_gap = 1;
    c.series_span = 3600;
    c.enabled = true;
    return c;
}

static wfinding finding_of(const char *target, const char *rule, int pid, const char *url)
{
    wfinding f;
    memset(&f, 0, sizeof f);
    snprintf(f.target, sizeof f.target, "%s", target);
    snprintf(f.rule, sizeof f.rule, "%s", rule);
    f.change = WCHANGE_OPENED;
    f.sev = SEV_CRIT;
    f.at = f.since = 1795961385.25;
    f.series = WS_GOROUTINES;
    f.value = 450;
    f.baseline = 200;
    f.threshold = 1.0;
    snprintf(f.title, sizeof f.title, "goroutines more than doubled over the baseline");
    snprintf(f.evidence[0], sizeof f.evidence[0], "450 goroutines, baseline 200");
    f.nevidence = 1;
    f.pid = pid;
    snprintf(f.url, sizeof f.url, "%s", url ? url : "");
    return f;
}

/* The last sample of a real window: /proc and the cgroup of pid, now. */
static scan_evidence *window_of(int pid)
{
    scan_evidence *e = calloc(1, sizeof *e);
    evidence_init(e);
    scan_sample *s = &e->samples[0];
    char err[512];
    assert_int_equal(proc_read("/proc", pid, &s->proc, err, sizeof err), 0);
    s->has_proc = true;
    s->has_cgroup = cgroup_read(&s->proc, NULL, &s->cgroup, err, sizeof err) == 0;
    e->nsamples = 1;
    e->pid = pid;
    e->has_pprof = e->has_vars = true;
    return e;
}

static void free_window(scan_evidence *e)
{
    evidence_free(e);
    free(e);
}

/* Request headers for take(), NULL for none. */
static const char *const *take_headers;

static int take(wcapture_store *s, const wfinding *f, const char *url, int pid, uint64_t full_cap,
                const scan_evidence *w, double now, char *path, char *why)
{
    http_options http = {.connect_timeout_ms = 2000, .timeout_ms = 10000, .max_bytes = (size_t)1 << 30,
                         .headers = take_headers};
    wcapture_request req = {
        .finding = f, .url = url, .pid = pid, .http = &http, .full_cap = full_cap, .window = w,
        .series_json = "{\"series\":[\"goroutines\"],\"t\":[1,2],\"goroutines\":[200,450]}", .now = now,
    };
    path[0] = why[0] = '\0';
    return wcapture_take(s, &req, path, 512, why, 512);
}

/* Complete captures (directories without the leading dot) under d/t. */
static int complete_in(const char *d)
{
    char *n = sh("find %s -mindepth 2 -maxdepth 2 -type d ! -name '.*' | wc -l", d);
    int v = atoi(n);
    free(n);
    return v;
}

static int tmp_in(const char *d)
{
    char *n = sh("find %s -mindepth 2 -maxdepth 2 -type d -name '.tmp-*' | wc -l", d);
    int v = atoi(n);
    free(n);
    return v;
}

static uint64_t bytes_on_disk(const char *d)
{
    char *n = sh("find %s -mindepth 3 -type f -printf '%%s\\n' | awk '{s += $1} END {print s + 0}'", d);
    uint64_t v = strtoull(n, NULL, 10);
    free(n);
    return v;
}

static long state_of(const char *jq_filter)
{
    char *v = sh("curl -sf %s/state | jq -r '%s'", watchable_url, jq_filter);
    long n = atol(v);
    free(v);
    return n;
}

/* ---- a capture of a real process ------------------------------------------------- */

/* Leaks goroutines on request, stops, and returns how many are blocked
 * now, by the fixture's own count. */
static long leak_some(void)
{
    free(sh("curl -sf '%s/leak?rate=200' >/dev/null && sleep 0.5 && curl -sf '%s/leak?rate=0' >/dev/null",
            watchable_url, watchable_url));
    usleep(300 * 1000);
    long a = state_of(".leak.now");
    usleep(200 * 1000);
    assert_int_equal(state_of(".leak.now"), a); /* settled */
    assert_true(a >= 20);
    return a;
}

static void check_manifest(const char *cap)
{
    /* every file but MANIFEST is listed, with its size as stat says */
    expect_sh("", "cd %s && ls | grep -vx MANIFEST | sort > /tmp/reef-ls.$$ && awk '{print $2}' MANIFEST | sort | "
                  "diff - /tmp/reef-ls.$$; rm -f /tmp/reef-ls.$$",
              cap);
    expect_sh("0", "cd %s && while read size name; do [ \"$(stat -c %%s \"$name\")\" = \"$size\" ] || echo \"$name\"; "
                   "done < MANIFEST | wc -l",
              cap);
}

static void test_capture_of_a_leak(void **state)
{
    (void)state;
    long leaked = leak_some();
    wcapture_conf conf = conf_in("live");
    conf.cpu_profile = 1;
    conf.trace = 1;
    char err[512], path[512], why[512];
    wcapture_store *s = wcapture_open(&conf, err, sizeof err);
    assert_non_null(s);
    wfinding f = finding_of("watchable:test", "goroutines-level", watchable_pid, watchable_url);
    scan_evidence *w = window_of(watchable_pid);
    int rc = take(s, &f, watchable_url, watchable_pid, 5000, w, 1795961385.25, path, why);
    if (rc != WCAPTURE_WRITTEN) fprintf(stderr, "why: %s\n", why);
    assert_int_equal(rc, WCAPTURE_WRITTEN);
    free_window(w);
    char want[600];
    snprintf(want, sizeof want, "%s/watchable_test/20261129T140945.250Z-goroutines-level", conf.dir);
    assert_string_equal(path, want);

    /* every file, none of them an .error */
    expect_sh("MANIFEST cpu.pb.gz finding.json goroutines-analysis.json goroutines-analysis.txt goroutines-full.txt "
              "goroutines.txt heap-1.pb.gz heap-2.pb.gz heap-diff.txt metrics.txt proc.json series.json summary.txt "
              "trace.out",
              "ls %s | sort | tr '\\n' ' ' | sed 's/ $//'", path);
    check_manifest(path);
    assert_int_equal(wcapture_bytes(s), bytes_on_disk(conf.dir));

    /* the goroutines: the fixture's count of its leak, in the dump, the full
     * dump (counted by awk) and reef's analysis (read by jq) */
    snprintf(want, sizeof want, "%ld", leaked);
    expect_sh(want, "awk '/^[0-9]+ @/ {n = $1} /main\\.leakWorker/ {print n; exit}' %s/goroutines.txt", path);
    expect_sh(want, "awk -v RS= '/main\\.leakWorker/ {n++} END {print n}' %s/goroutines-full.txt", path);
    expect_sh(want, "jq '[.groups[] | select(any(.frames[]; .func == \"main.leakWorker\")) | .count] | add' "
                    "%s/goroutines-analysis.json", path);
    expect_sh("true", "head -1 %s/goroutines.txt | awk '{print ($4 >= %ld)}' | sed 's/1/true/'", path, leaked);
    expect_sh("1", "grep -c '^goroutine profile: total' %s/goroutines.txt", path);

    /* the profiles are gzip'd, and Go's own tool reads them */
    for (int i = 0; i < 3; i++) {
        const char *name = i == 0 ? "heap-1.pb.gz" : i == 1 ? "heap-2.pb.gz" : "cpu.pb.gz";
        expect_sh("1f8b", "head -c 2 %s/%s | od -An -tx1 | tr -d ' \\n'", path, name);
        expect_sh(i < 2 ? "Type: inuse_space" : "Type: cpu", "go tool pprof -top %s/%s 2>/dev/null | grep '^Type:'",
                  path, name);
    }
    expect_sh("go 1.", "head -c 5 %s/trace.out", path);
    expect_sh("true", "grep -q 'heap-1.pb.gz' %s/heap-diff.txt && grep -q 'heap-2.pb.gz' %s/heap-diff.txt && echo true",
              path, path);


    /* the rest */
    snprintf(want, sizeof want, "%d true", watchable_pid);
    expect_sh(want, "jq -r '[.pid, (.threads > 0)] | map(tostring) | join(\" \")' %s/proc.json", path);
    expect_sh("true", "jq '.memstats.HeapAlloc > 0' %s/metrics.txt", path);
    expect_sh("450", "jq '.goroutines[1]' %s/series.json", path);
    snprintf(want, sizeof want, "%s goroutines-level crit", path);
    expect_sh(want, "jq -r '[.capture, .rule, .severity] | join(\" \")' %s/finding.json", path);
    expect_sh("true", "grep -q '^watchable:test: crit goroutines-level (opened)' %s/summary.txt && "
                      "grep -q '450 goroutines, baseline 200' %s/summary.txt && "
                      "grep -q 'heap-diff.txt' %s/summary.txt && grep -q 'metrics.txt .*from /debug/vars' %s/summary.txt && "
                      "grep -q '^Goroutines: ' %s/summary.txt && echo true",
              path, path, path, path, path);
    wcapture_close(s);
}

/* Above the full cap: no debug=2 request at all, the analysis from debug=1. */
static void test_above_full_cap(void **state)
{
    (void)state;
    wcapture_conf conf = conf_in("live-capped");
    conf.heap_gap = 0;
    char err[512], path[512], why[512];
    wcapture_store *s = wcapture_open(&conf, err, sizeof err);
    assert_non_null(s);
    wfinding f = finding_of("capped", "goroutines-cap", watchable_pid, watchable_url);
    assert_int_equal(take(s, &f, watchable_url, watchable_pid, 5, NULL, 1795961400, path, why), WCAPTURE_WRITTEN);
    expect_sh("", "ls %s | grep -e goroutines-full -e cpu -e trace || true", path);
    expect_sh("goroutines.txt", "jq -r .source %s/goroutines-analysis.json", path);
    expect_sh("no /proc sample of the target yet", "cat %s/proc.json.error", path);
    check_manifest(path);
    wcapture_close(s);
}

/* The requests a capture makes, as the target logged them (hostile prints
 * every request URI; /auth/ answers a one-goroutine dump to the right
 * header, and other watchers on this machine, which may discover any Go
 * process, never ask under /auth/): debug=1 once, debug=2 once at or
 * below the full cap and never above, the heap twice, /metrics once
 * (it answers 200, so /debug/vars is not asked). */
static void test_requests_made(void **state)
{
    (void)state;
    static const char *const auth[] = {"Authorization: Bearer sesame", NULL};
    wcapture_conf conf = conf_in("requests");
    conf.heap_gap = 0.2;
    char err[512], path[512], why[512], url[200];
    snprintf(url, sizeof url, "%s/auth", hostile_url);
    wcapture_store *s = wcapture_open(&conf, err, sizeof err);
    assert_non_null(s);
    take_headers = auth;
    uint64_t caps[] = {5000, 0};
    for (int i = 0; i < 2; i++) {
        free(sh("grep -c '^request /auth/' %s/hostile.out > %s/before; true", dir, dir));
        char name[16];
        snprintf(name, sizeof name, "auth%d", i);
        wfinding f = finding_of(name, "goroutines-level", 0, url);
        assert_int_equal(take(s, &f, url, 0, caps[i], NULL, 1795962000 + i, path, why), WCAPTURE_WRITTEN);
        expect_sh(i == 0 ? "goroutine?debug=1 goroutine?debug=2 heap heap metrics"
                         : "goroutine?debug=1 heap heap metrics",
                  "grep '^request /auth/' %s/hostile.out | tail -n +$(($(cat %s/before) + 1)) | "
                  "sed 's|^request /auth/||; s|^debug/pprof/||; s|^debug/||' | tr '\n' ' ' | sed 's/ $//'",
                  dir, dir);
        expect_sh(i == 0 ? "goroutines-full.txt" : "goroutines.txt", "jq -r .source %s/goroutines-analysis.json", path);
    }
    take_headers = NULL;
    wcapture_close(s);
}

/* A request that fails leaves FILE.error and the capture goes on; without
 * a URL every request is such a file. */
static void test_failed_requests(void **state)
{
    (void)state;
    wcapture_conf conf = conf_in("errors");
    char err[512], path[512], why[512];
    wcapture_store *s = wcapture_open(&conf, err, sizeof err);
    assert_non_null(s);
    char url[200];
    snprintf(url, sizeof url, "%s/busy", hostile_url);
    wfinding f = finding_of("busy", "fds-cap", 0, url);
    assert_int_equal(take(s, &f, url, 0, 5000, NULL, 1795961500, path, why), WCAPTURE_WRITTEN);
    expect_sh("MANIFEST finding.json goroutines-analysis.txt.error goroutines.txt.error heap-1.pb.gz.error "
              "heap-2.pb.gz.error heap-diff.txt.error metrics.txt.error proc.json.error series.json summary.txt",
              "ls %s | sort | tr '\\n' ' ' | sed 's/ $//'", path);
    expect_sh("1", "grep -c '503' %s/goroutines.txt.error", path);
    expect_sh("2", "grep -c -e '^/metrics: .*503' -e '^/debug/vars: .*503' %s/metrics.txt.error", path);
    check_manifest(path);
    f = finding_of("nourl", "fds-cap", 0, NULL);
    assert_int_equal(take(s, &f, NULL, 0, 5000, NULL, 1795961501, path, why), WCAPTURE_WRITTEN);
    expect_sh("the target has no URL: nothing to ask", "cat %s/heap-1.pb.gz.error", path);
    wcapture_close(s);
}

/* ---- the store ------------------------------------------------------------------- */

static void test_rate_limits(void **state)
{
    (void)state;
    wcapture_conf conf = conf_in("rate");
    conf.target_every = 600;
    conf.global_every = 60;
    char err[512], path[512], why[512];
    wcapture_store *s = wcapture_open(&conf, err, sizeof err);
    assert_non_null(s);
    wfinding a = finding_of("a", "goroutines-level", 0, NULL), b = finding_of("b", "fds-cap", 0, NULL);
    double t = 1795961385;
    assert_int_equal(take(s, &a, NULL, 0, 0, NULL, t, path, why), WCAPTURE_WRITTEN);
    assert_int_equal(take(s, &b, NULL, 0, 0, NULL, t + 30, path, why), WCAPTURE_RATE_LIMITED);
    assert_non_null(strstr(why, "global_every"));
    assert_int_equal(take(s, &b, NULL, 0, 0, NULL, t + 61, path, why), WCAPTURE_WRITTEN);
    assert_int_equal(take(s, &a, NULL, 0, 0, NULL, t + 300, path, why), WCAPTURE_RATE_LIMITED);
    assert_non_null(strstr(why, "target_every"));
    assert_string_equal(path, "");
    assert_int_equal(complete_in(conf.dir), 2);
    assert_int_equal(take(s, &a, NULL, 0, 0, NULL, t + 601, path, why), WCAPTURE_WRITTEN);
    assert_int_equal(complete_in(conf.dir), 3);
    /* another thread's finding, a second older than the last capture: too
     * soon all the same; a clock stepped back an hour: not */
    wfinding c = finding_of("c", "fds-cap", 0, NULL);
    assert_int_equal(take(s, &c, NULL, 0, 0, NULL, t + 600, path, why), WCAPTURE_RATE_LIMITED);
    assert_int_equal(take(s, &c, NULL, 0, 0, NULL, t - 3600, path, why), WCAPTURE_WRITTEN);
    assert_int_equal(complete_in(conf.dir), 4);
    wcapture_close(s);
    conf.enabled = false;
    s = wcapture_open(&conf, err, sizeof err);
    assert_int_equal(take(s, &a, NULL, 0, 0, NULL, t + 5000, path, why), WCAPTURE_RATE_LIMITED);
    assert_int_equal(complete_in(conf.dir), 4);
    wcapture_close(s);
}

static uint64_t size_of(const char *cap)
{
    char *n = sh("find %s -type f -printf '%%s\\n' | awk '{s += $1} END {print s + 0}'", cap);
    uint64_t v = strtoull(n, NULL, 10);
    free(n);
    return v;
}

static void test_size_cap(void **state)
{
    (void)state;
    wcapture_conf conf = conf_in("cap");
    char err[512], paths[4][512], why[512];
    wcapture_store *s = wcapture_open(&conf, err, sizeof err);
    assert_non_null(s);
    const char *targets[] = {"a", "b", "c", "d"};
    uint64_t size[4];
    double t = 1795961385;
    for (int i = 0; i < 3; i++) {
        wfinding f = finding_of(targets[i], "heap-level", 0, NULL);
        assert_int_equal(take(s, &f, NULL, 0, 0, NULL, t + i, paths[i], why), WCAPTURE_WRITTEN);
        size[i] = size_of(paths[i]);
    }
    wcapture_close(s);
    /* the store reads what is on disk */
    conf.max_bytes = size[1] + size[2] + size[0] * 3 / 2;
    s = wcapture_open(&conf, err, sizeof err);
    assert_int_equal(wcapture_bytes(s), size[0] + size[1] + size[2]);
    wfinding f = finding_of("d", "heap-level", 0, NULL);
    assert_int_equal(take(s, &f, NULL, 0, 0, NULL, t + 3, paths[3], why), WCAPTURE_WRITTEN);
    size[3] = size_of(paths[3]);
    /* a, the oldest, went; b, c and d stay */
    struct stat st;
    assert_int_not_equal(stat(paths[0], &st), 0);
    for (int i = 1; i < 4; i++) assert_int_equal(stat(paths[i], &st), 0);
    assert_int_equal(wcapture_bytes(s), size[1] + size[2] + size[3]);
    assert_int_equal(wcapture_bytes(s), bytes_on_disk(conf.dir));
    wcapture_close(s);
    /* a cap below one capture: everything older goes, and the new one too */
    conf.max_bytes = 100;
    s = wcapture_open(&conf, err, sizeof err);
    f = finding_of("e", "heap-level", 0, NULL);
    assert_int_equal(take(s, &f, NULL, 0, 0, NULL, t + 4, paths[0], why), WCAPTURE_FAILED);
    assert_non_null(strstr(why, "exceed captures.max_bytes"));
    assert_int_equal(complete_in(conf.dir), 0);
    assert_int_equal(wcapture_bytes(s), 0);
    wcapture_close(s);
}

/* A tmpfs with room for a few KiB: the capture of the live fixture cannot
 * be written, and nothing that looks complete is left. */
static void test_disk_full(void **state)
{
    (void)state;
    char mnt[600];
    snprintf(mnt, sizeof mnt, "%s/full", dir);
    mkdir(mnt, 0755);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
        fprintf(stderr, "test_disk_full: SKIPPED: mount -t tmpfs refused (%s): run as root to test a full disk\n",
                strerror(errno));
        skip();
    }
    free(sh("dd if=/dev/zero of=%s/filler bs=4k count=60 2>/dev/null; true", mnt));
    wcapture_conf conf = conf_in("full/captures");
    conf.heap_gap = 0;
    char err[512], path[512], why[512];
    wcapture_store *s = wcapture_open(&conf, err, sizeof err);
    assert_non_null(s);
    wfinding f = finding_of("watchable", "goroutines-level", watchable_pid, watchable_url);
    int rc = take(s, &f, watchable_url, watchable_pid, 5000, NULL, 1795961385, path, why);
    assert_int_equal(rc, WCAPTURE_FAILED);
    assert_non_null(strstr(why, "No space left on device"));
    assert_string_equal(path, "");
    assert_int_equal(complete_in(conf.dir), 0);
    assert_int_equal(tmp_in(conf.dir), 0);
    assert_int_equal(wcapture_bytes(s), 0);
    wcapture_close(s);
    /* room again: the next capture is written */
    free(sh("rm -f %s/filler", mnt));
    s = wcapture_open(&conf, err, sizeof err);
    f = finding_of("watchable", "goroutines-level", 0, NULL);
    assert_int_equal(take(s, &f, NULL, 0, 0, NULL, 1795961386, path, why), WCAPTURE_WRITTEN);
    assert_int_equal(complete_in(conf.dir), 1);
    wcapture_close(s);
    umount(mnt);
}

/* A child takes a capture from a target that answers a byte every 50 ms
 * and is killed with SIGKILL half-way: a .tmp- directory is all it
 * leaves, and the next wcapture_open removes it. */
static void test_kill_during_capture(void **state)
{
    (void)state;
    wcapture_conf conf = conf_in("crash");
    char err[512], url[200];
    snprintf(url, sizeof url, "%s/slow", hostile_url);
    wcapture_store *s = wcapture_open(&conf, err, sizeof err);
    assert_non_null(s);
    pid_t child = fork();
    if (child == 0) {
        char path[512], why[512];
        wfinding f = finding_of("slow", "goroutines-level", 0, url);
        take(s, &f, url, 0, 5000, NULL, 1795961385, path, why);
        _exit(0);
    }
    wcapture_close(s);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        usleep(50 * 1000);
        seen = tmp_in(conf.dir) == 1;
    }
    assert_true(seen);
    usleep(300 * 1000); /* in the middle of goroutines.txt */
    expect_sh("1", "find %s/slow -name goroutines.txt | wc -l", conf.dir);
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(tmp_in(conf.dir), 1);
    assert_int_equal(complete_in(conf.dir), 0);
    s = wcapture_open(&conf, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(tmp_in(conf.dir), 0);
    assert_int_equal(complete_in(conf.dir), 0);
    assert_int_equal(wcapture_bytes(s), 0);
    wcapture_close(s);
}

typedef struct taker {
    wcapture_store *s;
    int id;
    int written;
} taker;

static void *take_five(void *arg)
{
    taker *t = arg;
    char name[16], path[512], why[512];
    snprintf(name, sizeof name, "t%d", t->id);
    for (int i = 0; i < 5; i++) {
        wfinding f = finding_of(name, "threads-rate", 0, NULL);
        if (take(t->s, &f, NULL, 0, 0, NULL, 1795961385 + i * 10 + t->id * 0.001, path, why) == WCAPTURE_WRITTEN)
            t->written++;
    }
    return NULL;
}

/* Eight targets' threads capturing at once under a cap of about ten
 * captures: the store's count stays what is on disk, under the cap. */
static void test_threads(void **state)
{
    (void)state;
    wcapture_conf conf = conf_in("threads");
    char err[512], path[512], why[512];
    wcapture_store *s = wcapture_open(&conf, err, sizeof err);
    wfinding f = finding_of("probe", "threads-rate", 0, NULL);
    assert_int_equal(take(s, &f, NULL, 0, 0, NULL, 1795961000, path, why), WCAPTURE_WRITTEN);
    uint64_t one = size_of(path);
    wcapture_close(s);
    conf.max_bytes = one * 10;
    s = wcapture_open(&conf, err, sizeof err);
    pthread_t th[8];
    taker t[8];
    for (int i = 0; i < 8; i++) {
        t[i] = (taker){.s = s, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, take_five, &t[i]), 0);
    }
    int written = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        written += t[i].written;
    }
    assert_int_equal(written, 40);
    assert_int_equal(wcapture_bytes(s), bytes_on_disk(conf.dir));
    assert_true(wcapture_bytes(s) <= conf.max_bytes);
    assert_true(complete_in(conf.dir) >= 8);
    assert_int_equal(tmp_in(conf.dir), 0);
    wcapture_close(s);
}

static void test_open_refused(void **state)
{
    (void)state;
    wcapture_conf conf = conf_in("a-file");
    free(sh("touch %s", conf.dir));
    char err[512] = "";
    assert_null(wcapture_open(&conf, err, sizeof err));
    assert_non_null(strstr(err, conf.dir));
    assert_non_null(strstr(err, "Not a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_of_a_leak),
        cmocka_unit_test(test_above_full_cap),
        cmocka_unit_test(test_requests_made),
        cmocka_unit_test(test_failed_requests),
        cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_kill_during_capture),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_open_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
