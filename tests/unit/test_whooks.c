/* test_whooks.c - reef watch's hooks, run for real: /bin/sh scripts the
 * test writes, /bin/sleep for the timeout.  What a hook received (argv,
 * standard input, environment) is what the hook itself wrote down; what
 * became of it is read back from the event log with jq. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch/whooks.h"
#include "watch_test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/reef-whooks.XXXXXX";

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static void script(const char *name, const char *body)
{
    char p[256];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(p, 0755);
}

static whook_conf hook(const char *rule, severity min, double timeout, int argc, ...)
{
    whook_conf h;
    memset(&h, 0, sizeof h);
    snprintf(h.rule, sizeof h.rule, "%s", rule);
    h.min_sev = min;
    h.timeout = timeout;
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++) snprintf(h.argv[i], sizeof h.argv[i], "%s", va_arg(ap, const char *));
    va_end(ap);
    h.argc = (size_t)argc;
    return h;
}

static wfinding make_finding(const char *rule, severity sev, wchange change)
{
    wfinding f;
    memset(&f, 0, sizeof f);
    snprintf(f.target, sizeof f.target, "api:8080");
    snprintf(f.rule, sizeof f.rule, "%s", rule);
    f.sev = sev;
    f.change = change;
    f.at = f.since = 1795961385.0;
    f.series = WS_COUNT;
    f.value = f.baseline = f.threshold = 0;
    snprintf(f.title, sizeof f.title, "title with 'quotes' and $(rm -rf x); ok");
    f.pid = 4242;
    snprintf(f.url, sizeof f.url, "http://127.0.0.1:8080");
    snprintf(f.capture, sizeof f.capture, "/captures/api_8080/x-%s", rule);
    return f;
}

/* A log, the hook thread on it, for one test. */
typedef struct rig {
    char log[256];
    wevents *events;
    whooks *hooks;
} rig;

static void rig_start(rig *r, const char *name)
{
    char err[256];
    path_in(r->log, sizeof r->log, name);
    r->events = wevents_open(r->log, err, sizeof err);
    assert_non_null(r->events);
    r->hooks = whooks_start(r->events);
    assert_non_null(r->hooks);
}

/* Waits (at most 30 s) until the log holds n hook lines: whooks_stop drops
 * what has not started yet, so the tests let their hooks run first. */
static void rig_wait(rig *r, int n)
{
    for (int i = 0; i < 300; i++) {
        char *got = sh("grep -c '\"event\":\"hook\"' %s || true", r->log);
        int have = atoi(got);
        free(got);
        if (have >= n) return;
        usleep(100 * 1000);
    }
    fail_msg("%s: fewer than %d hook lines after 30 s", r->log, n);
}

static void rig_stop(rig *r)
{
    whooks_stop(r->hooks);
    wevents_close(r->events);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir)) return -1;
    return chdir(dir);
}

static int teardown(void **state)
{
    (void)state;
    if (chdir("/") != 0) return -1;
    char *out = sh("rm -rf %s", dir);
    free(out);
    return 0;
}

/* Rule, severity and resolve decide; the queue count says what matched. */
static void test_matching(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, "match.log");
    whook_conf hooks[] = {
        hook("*", SEV_WARN, 5, 1, "/bin/true"),
        hook("fds-cap", SEV_CRIT, 5, 1, "/bin/true"),
        hook("goroutines-level", SEV_WARN, 5, 1, "/bin/true"),
    };
    hooks[2].on_resolve = true;
    wfinding f = make_finding("goroutines-level", SEV_WARN, WCHANGE_OPENED);
    assert_int_equal(whooks_fire(r.hooks, hooks, 3, &f), 2);           /* * and its own */
    f = make_finding("fds-cap", SEV_WARN, WCHANGE_OPENED);
    assert_int_equal(whooks_fire(r.hooks, hooks, 3, &f), 1);           /* fds-cap wants crit */
    f = make_finding("fds-cap", SEV_CRIT, WCHANGE_ESCALATED);
    assert_int_equal(whooks_fire(r.hooks, hooks, 3, &f), 2);
    f = make_finding("fds-cap", SEV_INFO, WCHANGE_OPENED);
    assert_int_equal(whooks_fire(r.hooks, hooks, 3, &f), 0);
    f = make_finding("goroutines-level", SEV_CRIT, WCHANGE_RESOLVED);
    assert_int_equal(whooks_fire(r.hooks, hooks, 3, &f), 1);           /* only on_resolve */
    rig_wait(&r, 6);
    rig_stop(&r);
    expect_sh("6", "jq -r 'select(.event == \"hook\" and .result == \"exited 0\") | .rule' %s | wc -l", r.log);
    expect_sh("fds-cap opened warn 1\nfds-cap escalated crit 2",
              "jq -r 'select(.rule == \"fds-cap\") | [.rule, .change, .severity] | join(\" \")' %s | uniq -c | "
              "awk '{print $2, $3, $4, $1}'",
              r.log);
}

/* The hook writes down what it got: argv, stdin, environment. */
static void test_argv_stdin_env(void **state)
{
    (void)state;
    script("record.sh", "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > args.txt\n"
                        "cat > stdin.json\n"
                        "env > env.txt\n"
                        "echo recorded; echo to-stderr >&2; exit 3");
    mkdir("x", 0755);        /* what `rm -rf x` would remove, were there a shell */
    setenv("REEF_TEST_AGENT_VAR", "from the agent", 1);
    setenv("REEF_RULE", "stale value of the agent's own", 1);
    rig r;
    rig_start(&r, "record.log");
    char prog[256];
    path_in(prog, sizeof prog, "record.sh");
    whook_conf h = hook("*", SEV_INFO, 5, 5, prog, "$(rm -rf x)", ";", "rm -rf x", "a b\tc");
    wfinding f = make_finding("lock-pileup", SEV_CRIT, WCHANGE_OPENED);
    assert_int_equal(whooks_fire(r.hooks, &h, 1, &f), 1);
    rig_wait(&r, 1);
    rig_stop(&r);
    unsetenv("REEF_RULE");

    struct stat st;
    assert_int_equal(stat("x", &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    expect_sh("$(rm -rf x)\n;\nrm -rf x\na b\tc", "cat args.txt");
    /* stdin: exactly the finding's JSON and a newline */
    buf want = {0};
    wfinding_json(&f, &want);
    buf_putc(&want, '\n');
    char *got = sh("cat stdin.json; echo .");
    assert_int_equal(strlen(got), want.len + 1);
    assert_memory_equal(got, want.data, want.len);
    free(got);
    buf_free(&want);
    expect_sh("lock-pileup crit", "jq -r '[.rule, .severity] | join(\" \")' stdin.json");
    expect_sh("REEF_CAPTURE=/captures/api_8080/x-lock-pileup\n"
              "REEF_CHANGE=opened\n"
              "REEF_PID=4242\n"
              "REEF_RULE=lock-pileup\n"
              "REEF_SEVERITY=crit\n"
              "REEF_TARGET=api:8080\n"
              "REEF_TEST_AGENT_VAR=from the agent\n"
              "REEF_TITLE=title with 'quotes' and $(rm -rf x); ok\n"
              "REEF_URL=http://127.0.0.1:8080",
              "grep '^REEF_' env.txt | sort");
    expect_sh("exited 3|3|null|false|recorded\nto-stderr\n|19|lock-pileup|opened|api:8080|4242",
              "jq -r '[.result, .exit_status, .signal, .timed_out, .output, .output_bytes, .rule, .change, "
              ".target, .pid] | map(tostring) | join(\"|\")' %s",
              r.log);
    expect_sh("true", "jq -r '.seconds > 0 and .seconds < 5' %s", r.log);
}

static void test_output_capped(void **state)
{
    (void)state;
    script("loud.sh", "head -c 1048576 /dev/zero | tr '\\000' a; echo done >&2");
    rig r;
    rig_start(&r, "loud.log");
    char prog[256];
    path_in(prog, sizeof prog, "loud.sh");
    whook_conf h = hook("*", SEV_INFO, 20, 1, prog);
    wfinding f = make_finding("heap-level", SEV_WARN, WCHANGE_OPENED);
    assert_int_equal(whooks_fire(r.hooks, &h, 1, &f), 1);
    rig_wait(&r, 1);
    rig_stop(&r);
    expect_sh("exited 0 4096 1048581 true",
              "jq -r '[.result, (.output | length), .output_bytes, (.output | test(\"^a+$\"))] | map(tostring) | "
              "join(\" \")' %s",
              r.log);
}

/* /bin/sleep dies of SIGTERM at the timeout; a hook that ignores SIGTERM
 * (and its child, which inherits that) gets SIGKILL 2 s later. */
static void test_timeout(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, "timeout.log");
    whook_conf sleeper = hook("*", SEV_INFO, 0.5, 2, "/bin/sleep", "30");
    whook_conf stubborn = hook("*", SEV_INFO, 0.5, 3, "/bin/sh", "-c", "trap '' TERM; sleep 30; echo survived");
    wfinding f = make_finding("goroutines-rate", SEV_WARN, WCHANGE_OPENED);
    double t0 = mono();
    assert_int_equal(whooks_fire(r.hooks, &sleeper, 1, &f), 1);
    assert_int_equal(whooks_fire(r.hooks, &stubborn, 1, &f), 1);
    assert_true(mono() - t0 < 0.5);  /* firing does not wait for the hooks */
    rig_wait(&r, 2);
    rig_stop(&r);
    expect_sh("/bin/sleep|timed out after 0.5 s: killed by signal 15|null|15|true\n"
              "/bin/sh|timed out after 0.5 s: killed by signal 9|null|9|true",
              "jq -r '[.program, .result, .exit_status, .signal, .timed_out] | map(tostring) | join(\"|\")' %s", r.log);
    expect_sh("true\ntrue", "jq -r 'if .signal == 15 then .seconds >= 0.5 and .seconds < 2 "
                            "else .seconds >= 2.5 and .seconds < 4.5 end' %s",
              r.log);
    /* the stubborn hook's sleep was in its process group: killed too */
    expect_sh("0", "pgrep -f '^(/bin/)?sleep 30$' | wc -l");
}

static void test_cannot_start(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, "missing.log");
    whook_conf h = hook("*", SEV_INFO, 5, 1, "/nonexistent/page-someone");
    wfinding f = make_finding("fds-cap", SEV_CRIT, WCHANGE_OPENED);
    assert_int_equal(whooks_fire(r.hooks, &h, 1, &f), 1);
    rig_wait(&r, 1);
    rig_stop(&r);
    expect_sh("could not start: No such file or directory|null|null",
              "jq -r '[.result, .exit_status, .seconds] | map(tostring) | join(\"|\")' %s", r.log);
}

/* 70 fired behind a slow hook: one runs, 64 wait, the rest are dropped and
 * logged; whooks_stop waits for the one running and drops the waiting. */
static void test_queue_full(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, "queue.log");
    whook_conf h = hook("*", SEV_INFO, 5, 2, "/bin/sleep", "1");
    wfinding f = make_finding("threads-rate", SEV_WARN, WCHANGE_OPENED);
    size_t queued = 0;
    double t0 = mono();
    for (int i = 0; i < 70; i++) queued += whooks_fire(r.hooks, &h, 1, &f);
    assert_true(mono() - t0 < 0.5);
    assert_true(queued >= 64 && queued <= 65);
    usleep(200 * 1000);
    rig_stop(&r);
    char want[64];
    snprintf(want, sizeof want, "%zu", 70 - queued);
    expect_sh(want, "jq -r 'select(.result | startswith(\"dropped: the hook queue is full\")) | .rule' %s | wc -l",
              r.log);
    expect_sh("1", "jq -r 'select(.result == \"exited 0\") | .rule' %s | wc -l", r.log);
    snprintf(want, sizeof want, "%zu", queued - 1);
    expect_sh(want, "jq -r 'select(.result | startswith(\"dropped: the agent stopped\")) | .rule' %s | wc -l", r.log);
}

/* An agent embedded where SIGCHLD is ignored: the kernel reaps the hook,
 * and the hook thread must still see it end, not wait forever. */
static void test_sigchld_ignored(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, "sigchld.log");
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGCHLD, &ign, &old);
    whook_conf h = hook("*", SEV_INFO, 5, 2, "/bin/sleep", "0.2");
    wfinding f = make_finding("fds-cap", SEV_CRIT, WCHANGE_OPENED);
    assert_int_equal(whooks_fire(r.hooks, &h, 1, &f), 1);
    /* popen cannot wait for its shell while SIGCHLD is ignored: the log is
     * read here until the hook's line is in */
    bool done = false;
    for (int i = 0; i < 100 && !done; i++) {
        usleep(100 * 1000);
        char text[4096] = "";
        FILE *in = fopen(r.log, "r");
        if (in) {
            text[fread(text, 1, sizeof text - 1, in)] = '\0';
            fclose(in);
        }
        done = strstr(text, "\"event\":\"hook\"") != NULL;
    }
    sigaction(SIGCHLD, &old, NULL);
    assert_true(done);
    rig_stop(&r);
    expect_sh("ended, exit status unknown (reaped elsewhere)|null|false",
              "jq -r '[.result, .exit_status, .timed_out] | map(tostring) | join(\"|\")' %s", r.log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_argv_stdin_env),
        cmocka_unit_test(test_output_capped),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_cannot_start),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_sigchld_ignored),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
