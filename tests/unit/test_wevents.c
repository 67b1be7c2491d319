/* test_wevents.c - reef watch's event log: every line is one JSON object
 * that jq reads back (fields, escaping, RFC 3339 times checked against
 * date(1)), lines from many threads never interleave, a reopen after
 * rotation writes to the new file, and the finding's JSON is what a hook
 * and a capture get. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch/wevents.h"
#include "watch/wdetect.h"
#include "watch_test.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/reef-wevents.XXXXXX";

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

/* Output of a shell command (jq, date, wc), trailing newline removed. */

#define JQ(file, filter, expected) expect_sh(expected, "jq -r '%s' %s", filter, file)

static wfinding sample_finding(void)
{
    wfinding f;
    memset(&f, 0, sizeof f);
    snprintf(f.target, sizeof f.target, "api:8080");
    snprintf(f.rule, sizeof f.rule, "goroutines-level");
    f.change = WCHANGE_ESCALATED;
    f.sev = SEV_CRIT;
    f.prev_sev = SEV_WARN;
    f.at = 1795961385.123;    /* 2026-11-29T14:09:45.123Z */
    f.since = 1795961000.5;
    f.series = WS_GOROUTINES;
    f.value = 2480;
    f.baseline = 1200;
    f.threshold = 1.0;
    snprintf(f.title, sizeof f.title, "goroutines \"doubled\"\n$(rm -rf x); \x01 end");
    snprintf(f.evidence[0], sizeof f.evidence[0], "2480 goroutines, baseline 1200");
    snprintf(f.evidence[1], sizeof f.evidence[1], "bad utf-8 \xff here");
    f.nevidence = 2;
    f.pid = 4242;
    snprintf(f.url, sizeof f.url, "http://127.0.0.1:8080");
    return f;
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char *out = sh("rm -rf %s", dir);
    free(out);
    return 0;
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(wchange_name(WCHANGE_OPENED), "opened");
    assert_string_equal(wchange_name(WCHANGE_ESCALATED), "escalated");
    assert_string_equal(wchange_name(WCHANGE_RESOLVED), "resolved");
    const char *names[] = {"up", "down", "restart", "backoff", "recovered", "capture-failed", "hook", "agent"};
    for (int e = WEVENT_UP; e <= WEVENT_AGENT; e++) assert_string_equal(wtarget_event_name((wtarget_event)e), names[e]);
}

/* The independent check of the time: date(1) formats the same instant. */
static void test_finding_line(void **state)
{
    (void)state;
    char log[256], err[256];
    path_in(log, sizeof log, "finding.log");
    wevents *l = wevents_open(log, err, sizeof err);
    assert_non_null(l);
    wfinding f = sample_finding();
    wevents_finding(l, &f);
    f.change = WCHANGE_OPENED;
    f.value = NAN;
    f.series = WS_COUNT;      /* a scan rule: no series, no figures */
    f.pid = 0;
    wevents_finding(l, &f);
    wevents_close(l);

    char *lines = sh("wc -l < %s", log);
    assert_string_equal(lines, "2");
    free(lines);
    char *at = sh("date -u -d @1795961385 +%%Y-%%m-%%dT%%H:%%M:%%S.123Z");
    char *since = sh("date -u -d @1795961000 +%%Y-%%m-%%dT%%H:%%M:%%S.500Z");
    char *first = sh("jq -r 'select(.change == \"escalated\") | [.at, .since] | join(\" \")' %s", log);
    char want[128];
    snprintf(want, sizeof want, "%s %s", at, since);
    assert_string_equal(first, want);
    free(at);
    free(since);
    free(first);
    JQ(log, "select(.change == \"escalated\") | [.event, .target, .rule, .severity, .previous_severity, .series, "
            ".value, .baseline, .threshold, .pid, .url, (.capture == null)] | map(tostring) | join(\"|\")",
       "finding|api:8080|goroutines-level|crit|warn|goroutines|2480|1200|1|4242|http://127.0.0.1:8080|true");
    /* The title comes back exactly, control characters and all. */
    JQ(log, "select(.change == \"escalated\") | .title == \"goroutines \\\"doubled\\\"\\n$(rm -rf x); \\u0001 end\"",
       "true");
    JQ(log, "select(.change == \"escalated\") | .evidence | length", "2");
    JQ(log, "select(.change == \"escalated\") | .evidence[1]", "bad utf-8 \xef\xbf\xbd here");
    /* the time of the line is when it was written: now, in RFC 3339 UTC with ms */
    JQ(log, "[.[\"time\"] | test(\"^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9][.][0-9]{3}Z$\")] | all",
       "true\ntrue");
    JQ(log, "select(.change == \"opened\") | [.value, .series, .pid, has(\"previous_severity\")] | map(tostring) | join(\"|\")",
       "null|null|null|false");
}

static void test_target_events(void **state)
{
    (void)state;
    char log[256], err[256];
    path_in(log, sizeof log, "target.log");
    wevents *l = wevents_open(log, err, sizeof err);
    assert_non_null(l);
    wevents_target(l, WEVENT_DOWN, "api:8080", 4242, "neither %s nor pid %d answers", "http://127.0.0.1:8080", 4242);
    wevents_target(l, WEVENT_AGENT, "", 0, "started, %d targets", 3);
    wevents_close(l);
    JQ(log, "[.event, .target, .pid, .detail] | map(tostring) | join(\"|\")",
       "down|api:8080|4242|neither http://127.0.0.1:8080 nor pid 4242 answers\nagent|null|null|started, 3 targets");
    struct stat st;
    assert_int_equal(stat(log, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
}

static void test_finding_json(void **state)
{
    (void)state;
    wfinding f = sample_finding();
    snprintf(f.capture, sizeof f.capture, "/var/reef/api_8080/20261129T140945.123Z-goroutines-level");
    buf b = {0};
    wfinding_json(&f, &b);
    assert_true(b.len > 0);
    assert_null(memchr(b.data, '\n', b.len)); /* one object, no newline */
    char file[256];
    path_in(file, sizeof file, "finding.json");
    FILE *out = fopen(file, "w");
    fwrite(b.data, 1, b.len, out);
    fclose(out);
    buf_free(&b);
    JQ(file, "[.change, .rule, .capture] | join(\"|\")",
       "escalated|goroutines-level|/var/reef/api_8080/20261129T140945.123Z-goroutines-level");
    JQ(file, "has(\"event\") or has(\"time\")", "false");
}

typedef struct writer_arg {
    wevents *log;
    int id;
} writer_arg;

#define WRITERS 8
#define LINES_EACH 2000

/* Long details (near 1 KiB) so that lines cross any stdio buffer size. */
static void *writer(void *p)
{
    writer_arg *a = p;
    char detail[900];
    memset(detail, 'a' + a->id, sizeof detail - 1);
    detail[sizeof detail - 1] = '\0';
    for (int i = 0; i < LINES_EACH; i++) wevents_target(a->log, WEVENT_BACKOFF, "t", a->id + 1, "%d %s", i, detail);
    return NULL;
}

static void test_threads_never_interleave(void **state)
{
    (void)state;
    char log[256], err[256];
    path_in(log, sizeof log, "threads.log");
    wevents *l = wevents_open(log, err, sizeof err);
    assert_non_null(l);
    pthread_t th[WRITERS];
    writer_arg args[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (writer_arg){.log = l, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) pthread_join(th[i], NULL);
    wevents_close(l);
    char *n = sh("wc -l < %s", log);
    assert_int_equal(atoi(n), WRITERS * LINES_EACH);
    free(n);
    /* every line parses on its own, and each writer's lines are all there,
     * whole (its letter repeated 899 times) and in its order */
    char *per = sh("jq -r '[.pid, (.detail | split(\" \") | .[0]), (.detail | split(\" \") | .[1] | length)] | "
                   "map(tostring) | join(\" \")' %s | awk '$3 != 899 {bad++} "
                   "{ if ($2 != seen[$1]+0) bad++; seen[$1] = $2 + 1 } END { print bad+0, length(seen) }'",
                   log);
    char want[32];
    snprintf(want, sizeof want, "0 %d", WRITERS);
    assert_string_equal(per, want);
    free(per);
}

static void test_reopen_after_rotation(void **state)
{
    (void)state;
    char log[256], rotated[256], err[256];
    path_in(log, sizeof log, "rotate.log");
    path_in(rotated, sizeof rotated, "rotate.log.1");
    wevents *l = wevents_open(log, err, sizeof err);
    assert_non_null(l);
    wevents_target(l, WEVENT_UP, "a", 1, "before");
    assert_int_equal(rename(log, rotated), 0);
    wevents_target(l, WEVENT_UP, "a", 1, "after rename, before reopen");
    assert_int_equal(wevents_reopen(l, err, sizeof err), 0);
    wevents_target(l, WEVENT_UP, "a", 1, "after reopen");
    wevents_close(l);
    JQ(rotated, ".detail", "before\nafter rename, before reopen");
    JQ(log, ".detail", "after reopen");
}

static void test_open_refused(void **state)
{
    (void)state;
    char err[512] = "";
    wevents *l = wevents_open("/nonexistent-dir/events.log", err, sizeof err);
    assert_null(l);
    assert_non_null(strstr(err, "/nonexistent-dir/events.log"));
    assert_non_null(strstr(err, "No such file or directory"));
}

/* "-" is standard output, and closing the log leaves it open. */
static void test_stdout(void **state)
{
    (void)state;
    char file[256], err[256];
    path_in(file, sizeof file, "stdout.txt");
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *f = fopen(file, "w");
    dup2(fileno(f), STDOUT_FILENO);
    wevents *l = wevents_open("-", err, sizeof err);
    assert_non_null(l);
    wevents_target(l, WEVENT_RESTART, "a", 7, "new pid");
    assert_int_equal(wevents_reopen(l, err, sizeof err), 0);
    wevents_close(l);
    assert_int_equal(write(STDOUT_FILENO, "still open\n", 11), 11);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    fclose(f);
    char *got = sh("head -1 %s | jq -r .event; tail -1 %s", file, file);
    assert_string_equal(got, "restart\nstill open");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_finding_line),
        cmocka_unit_test(test_target_events),
        cmocka_unit_test(test_finding_json),
        cmocka_unit_test(test_threads_never_interleave),
        cmocka_unit_test(test_reopen_after_rotation),
        cmocka_unit_test(test_open_refused),
        cmocka_unit_test(test_stdout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
