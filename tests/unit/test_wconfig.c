/* test_wconfig.c - reef watch's configuration file (src/watch/wconfig.c).
 *
 * The full example of docs/watch.md ("## Configuration") is read out of
 * the document itself and loaded, and every field is checked against the
 * value its text states (15s is 15 seconds, 64MiB is 64 << 20 bytes, ...).
 * Every class of error is checked with its exact "FILE:LINE: KEY: problem"
 * message, the line counted in the input by hand; the bad files of
 * tests/bad/watch/ are real shapes of broken files (a tab, a duplicate key,
 * an unclosed quote, a list for a map, binary junk), and a 2 MiB file is
 * made here at run time.  The positions of the syntax errors were checked
 * against PyYAML (yaml.safe_load), which reports the same line and column
 * for tabs.yaml and unclosed-quote.yaml.  A refused file must leave the
 * configuration as it was (a SIGHUP reload keeps the running one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch/wconfig.h"
#include "watch/wdetect.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char src_dir[PATH_MAX];  /* the source tree */
static char tmp_dir[PATH_MAX];  /* this run's scratch directory */

static void find_src_dir(void)
{
    const char *src = getenv("REEF_SRC");
    if (src && *src) {
        snprintf(src_dir, sizeof src_dir, "%s", src);
        return;
    }
    snprintf(src_dir, sizeof src_dir, "%s", __FILE__);
    char *unit = strstr(src_dir, "/tests/unit/test_wconfig.c");
    if (unit) *unit = '\0';
    else snprintf(src_dir, sizeof src_dir, ".");
}

static wconfig *new_config(void)
{
    wconfig *c = malloc(sizeof *c);
    assert_non_null(c);
    wconfig_defaults(c);
    return c;
}

/* Loads text as "t.yaml"; returns the status, err holds the message. */
static int load_text(wconfig *c, const char *text, char *err, size_t errlen)
{
    return wconfig_load_buffer("t.yaml", text, strlen(text), c, err, errlen);
}

/* text must be refused with exactly want, and leave c as it was. */
static void refused(const char *text, const char *want)
{
    wconfig *c = new_config();
    wconfig *before = malloc(sizeof *before);
    assert_non_null(before);
    memcpy(before, c, sizeof *c);
    char err[512] = "";
    int rc = load_text(c, text, err, sizeof err);
    if (rc == 0 || strcmp(err, want) != 0)
        fail_msg("input:\n%s\nwant: %s\ngot (%d): %s", text, want, rc, err);
    assert_memory_equal(before, c, sizeof *c);
    free(before);
    free(c);
}

static wconfig *loaded(const char *text)
{
    wconfig *c = new_config();
    char err[512] = "";
    if (load_text(c, text, err, sizeof err) != 0) fail_msg("input:\n%s\nrefused: %s", text, err);
    return c;
}

/* ---- the docs' example ------------------------------------------------------ */

/* The first ```yaml block after "## Configuration" in docs/watch.md. */
static char *docs_example(void)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/docs/watch.md", src_dir);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s", path);
    static char text[16384];
    size_t n = 0;
    char line[1024];
    int state = 0; /* 0 before the section, 1 in it, 2 in the block */
    while (fgets(line, sizeof line, f)) {
        if (state == 0 && strcmp(line, "## Configuration\n") == 0) state = 1;
        else if (state == 1 && strcmp(line, "```yaml\n") == 0) state = 2;
        else if (state == 2 && strcmp(line, "```\n") == 0) break;
        else if (state == 2 && n + strlen(line) < sizeof text) {
            memcpy(text + n, line, strlen(line));
            n += strlen(line);
        }
    }
    fclose(f);
    text[n] = '\0';
    if (n == 0) fail_msg("no yaml block in the Configuration section of %s", path);
    return text;
}

static void test_docs_example(void **state)
{
    (void)state;
    wconfig *c = loaded(docs_example());
    assert_string_equal(c->file, "t.yaml");
    assert_true(c->interval == 15);
    assert_true(c->learn == 600);
    assert_true(c->baseline_window == 3600);
    assert_true(c->full_cap == 5000);
    assert_string_equal(c->events, "/var/log/reef/events.jsonl");
    assert_int_equal(c->timeout_ms, 10000);
    assert_int_equal(c->connect_timeout_ms, 2000);
    assert_true(c->max_bytes == (uint64_t)64 * 1024 * 1024);
    assert_int_equal(c->nheaders, 1);
    assert_string_equal(c->headers[0], "Authorization: Bearer x");

    assert_string_equal(c->captures.dir, "/var/lib/reef/captures");
    assert_true(c->captures.max_bytes == (uint64_t)1024 * 1024 * 1024);
    assert_true(c->captures.target_every == 600);
    assert_true(c->captures.global_every == 60);
    assert_true(c->captures.heap_gap == 5);
    assert_true(c->captures.cpu_profile == 0);
    assert_true(c->captures.trace == 0);
    assert_true(c->captures.series_span == 3600);
    assert_true(c->captures.enabled);

    assert_false(c->discover.enabled);
    assert_int_equal(c->discover.nmatch, 2);
    assert_string_equal(c->discover.match[0], "api-*");
    assert_string_equal(c->discover.match[1], "github.com/acme/*");
    assert_true(c->discover.every == 30);

    assert_int_equal(c->nrules, 3);
    const wrule_conf *r = &c->rules[0];
    assert_string_equal(r->rule, "goroutines-level");
    assert_int_equal(r->enabled, -1);
    assert_true(fabs(r->warn - 0.30) < 1e-12);
    assert_true(r->crit == 1.0);
    assert_true(r->warn_for == 120 && r->crit_for == 300 && r->clear_for == 120);
    r = &c->rules[1];
    assert_string_equal(r->rule, "goroutines-cap");
    assert_true(r->warn == 5000 && isnan(r->crit) && isnan(r->warn_for) && isnan(r->clear_for));
    r = &c->rules[2];
    assert_string_equal(r->rule, "lock-pileup");
    assert_int_equal(r->enabled, 0);
    assert_true(isnan(r->warn) && isnan(r->crit));

    assert_int_equal(c->nhooks, 1);
    const whook_conf *h = &c->hooks[0];
    assert_string_equal(h->rule, "*");
    assert_int_equal(h->min_sev, SEV_CRIT);
    assert_int_equal(h->argc, 3);
    assert_string_equal(h->argv[0], "/usr/local/bin/page");
    assert_string_equal(h->argv[1], "--team");
    assert_string_equal(h->argv[2], "payments");
    assert_true(h->timeout == 10);
    assert_false(h->on_resolve);
    assert_true(h->line > 1);

    assert_int_equal(c->ntargets, 1);
    const wtarget_conf *t = &c->targets[0];
    assert_string_equal(t->name, "api");
    assert_string_equal(t->url, "http://127.0.0.1:6060");
    assert_int_equal(t->pid, 1234);
    assert_true(t->interval == 5);
    assert_true(t->full_cap == 2000);
    assert_int_equal(t->nrules, 1);
    assert_string_equal(t->rules[0].rule, "goroutines-cap");
    assert_true(t->rules[0].warn == 20000);
    assert_true(t->line == h->line + 2); /* "targets:" between them */
    free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    wconfig *c = new_config();
    assert_true(c->interval == 15 && c->learn == 600 && c->baseline_window == 3600);
    assert_true(c->full_cap == 5000);
    assert_string_equal(c->events, "-");
    assert_string_equal(c->captures.dir, "./reef-captures");
    assert_true(c->captures.max_bytes == (uint64_t)1 << 30);
    assert_true(c->captures.target_every == 600 && c->captures.global_every == 60);
    assert_true(c->captures.heap_gap == 5 && c->captures.cpu_profile == 0 && c->captures.trace == 0);
    assert_true(c->captures.series_span == 3600 && c->captures.enabled);
    assert_false(c->discover.enabled);
    assert_true(c->discover.every == 30);
    assert_int_equal(c->timeout_ms, 10000);
    assert_int_equal(c->connect_timeout_ms, 2000);
    assert_true(c->max_bytes == (uint64_t)64 << 20);
    assert_int_equal(c->ntargets + c->nrules + c->nhooks + c->nheaders, 0);
    /* A file of one key leaves the others at their defaults. */
    char err[256];
    assert_int_equal(load_text(c, "learn: 90\n", err, sizeof err), 0);
    assert_true(c->learn == 90 && c->interval == 15 && c->captures.heap_gap == 5);
    free(c);
}

/* ---- values ------------------------------------------------------------------ */

static void test_duration(void **state)
{
    (void)state;
    assert_true(wconfig_duration("15s") == 15);
    assert_true(wconfig_duration("15") == 15);
    assert_true(wconfig_duration("500ms") == 0.5);
    assert_true(wconfig_duration("2m") == 120);
    assert_true(wconfig_duration("1h") == 3600);
    assert_true(wconfig_duration("1.5m") == 90);
    assert_true(wconfig_duration("0") == 0);
    const char *bad[] = {"", "s", "fast", "-5s", "5 s", " 5s", "5x", "inf", "nan", "0x10", "1e400", "5sec", "+5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (wconfig_duration(bad[i]) != -1) fail_msg("\"%s\" read as a duration", bad[i]);
}

static void test_value_forms(void **state)
{
    (void)state;
    wconfig *c = loaded("request: {max_bytes: 10MB, timeout: 1500ms, connect_timeout: 0.25}\n"
                        "captures: {max_bytes: 2GiB, target_every: 0, cpu_profile: 30s, trace: 2s, enabled: FALSE}\n"
                        "full_cap: 0\n"
                        "rules:\n"
                        "  heap-rate: {warn: 2MiB}\n"
                        "  gc-pause-cap: {warn: 20ms, crit: 0.5}\n"
                        "  fds-cap: {warn: 70%, crit: 90%}\n"
                        "  goroutines-burst: {warn: 300, warn_for: 0}\n"
                        "  goroutines-level: {enabled: true, warn: 12.5%}\n");
    assert_true(c->max_bytes == 10000000);
    assert_int_equal(c->timeout_ms, 1500);
    assert_int_equal(c->connect_timeout_ms, 250);
    assert_true(c->captures.max_bytes == (uint64_t)2 << 30);
    assert_true(c->captures.target_every == 0 && c->captures.cpu_profile == 30 && c->captures.trace == 2);
    assert_false(c->captures.enabled);
    assert_true(c->full_cap == 0);
    assert_int_equal(c->nrules, 5);
    assert_true(c->rules[0].warn == 2097152);
    assert_true(fabs(c->rules[1].warn - 0.020) < 1e-12 && c->rules[1].crit == 0.5);
    assert_true(fabs(c->rules[2].warn - 0.70) < 1e-12 && fabs(c->rules[2].crit - 0.90) < 1e-12);
    assert_true(c->rules[3].warn == 300 && c->rules[3].warn_for == 0);
    assert_int_equal(c->rules[4].enabled, 1);
    assert_true(fabs(c->rules[4].warn - 0.125) < 1e-12);
    free(c);
}

#define KEYS_TOP "interval, learn, baseline_window, full_cap, events, request, captures, discover, rules, hooks, targets"
#define KEYS_TARGET "name, url, pid, interval, full_cap, rules"
#define KEYS_RULE "enabled, warn, crit, warn_for, crit_for, clear_for"
#define DUR "a duration such as 15s, 500ms, 2m or 1h"

static void test_bad_values(void **state)
{
    (void)state;
    refused("interval: fast\n", "t.yaml:1: interval: wants " DUR ", not \"fast\"");
    refused("learn: 5m\ninterval: 50ms\n", "t.yaml:2: interval: 50ms is too short: at least 100ms");
    refused("learn: 0\n", "t.yaml:1: learn: must be more than 0");
    refused("baseline_window: 9000h\n", "t.yaml:1: baseline_window: 9000h is more than a year");
    refused("interval:\n", "t.yaml:1: interval: wants " DUR "; the value is empty");
    refused("interval: [1, 2]\n", "t.yaml:1: interval: wants " DUR ", not a list");
    refused("full_cap: -1\n", "t.yaml:1: full_cap: wants a whole number such as 5000, not \"-1\"");
    refused("request:\n  max_bytes: 64 MiB\n",
            "t.yaml:2: request.max_bytes: wants a size such as 512, 64KiB, 10MiB or 1GiB, not \"64 MiB\"");
    refused("request: {max_bytes: 100}\n", "t.yaml:1: request.max_bytes: 100 is too small: at least 4096 bytes");
    refused("request: {timeout: 1s, connect_timeout: 2s}\n",
            "t.yaml:1: request.connect_timeout: 2000ms is longer than the request's timeout (1000ms)");
    refused("request: {headers: [\"Authorization Bearer x\"]}\n",
            "t.yaml:1: request.headers[0]: wants a header such as \"Authorization: Bearer TOKEN\", not \"Authorization Bearer x\"");
    refused("request: {headers: [\"X-A: 1\\r\\nX-B: 2\"]}\n",
            "t.yaml:1: request.headers[0]: a header may not hold a line break");
    refused("captures: {enabled: yes}\n", "t.yaml:1: captures.enabled: wants true or false, not \"yes\"");
    refused("events: \"a\\0b\"\n", "t.yaml:1: events: wants a path; the value holds a NUL byte");
    refused("events: \"\"\n", "t.yaml:1: events: wants a path; the value is empty");
    refused("captures: {cpu_profile: 500ms}\n", "t.yaml:1: captures.cpu_profile: 500ms is too short: at least 1s");
}

static void test_rule_thresholds(void **state)
{
    (void)state;
    refused("rules:\n  goroutines-level: {warn: 30}\n",
            "t.yaml:2: rules.goroutines-level.warn: wants a percentage above the baseline such as 30% "
            "(goroutines-level is a level rule), not \"30\"");
    refused("rules:\n  goroutines-rate: {warn: 30%}\n",
            "t.yaml:2: rules.goroutines-rate.warn: wants a rise per minute such as 10 or 1MiB "
            "(goroutines-rate is a rate rule), not \"30%\"");
    refused("rules:\n  goroutines-cap: {warn: 0}\n", "t.yaml:2: rules.goroutines-cap.warn: must be more than 0");
    refused("rules:\n  lock-pileup:\n    crit: 10\n",
            "t.yaml:3: rules.lock-pileup.crit: lock-pileup is one of scan's rules: its thresholds are scan's "
            "(docs/scan.md); here only enabled, warn_for, crit_for and clear_for apply");
    refused("rules:\n  goroutines-level: {warn: 30%, warnfor: 2m}\n",
            "t.yaml:2: rules.goroutines-level.warnfor: unknown key (did you mean \"warn_for\"?); the keys here are " KEYS_RULE);
    /* crit below warn: in one scope, against the default (crit 100%), and
     * a target's warn against the top's crit. */
    refused("rules:\n  goroutines-level:\n    warn: 50%\n    crit: 40%\n",
            "t.yaml:4: rules.goroutines-level.crit: crit (40%) is below warn (50%)");
    refused("rules:\n  goroutines-level:\n    warn: 150%\n",
            "t.yaml:3: rules.goroutines-level.warn: crit (100%) is below warn (150%)");
    refused("rules:\n  goroutines-cap: {crit: 8000}\n"
            "targets:\n  - url: http://127.0.0.1:1\n    rules:\n      goroutines-cap:\n        warn: 9000\n",
            "t.yaml:7: targets[0].rules.goroutines-cap.warn: crit (8000) is below warn (9000)");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    refused("intervall: 5s\n", "t.yaml:1: intervall: unknown key (did you mean \"interval\"?); the keys here are " KEYS_TOP);
    refused("interval: 5s\ncolour: red\n", "t.yaml:2: colour: unknown key; the keys here are " KEYS_TOP);
    refused("rules:\n  goroutnes-level: {warn: 20%}\n",
            "t.yaml:2: rules.goroutnes-level: unknown rule (did you mean \"goroutines-level\"?); docs/watch.md lists the rules");
    refused("rules:\n  nosuch: {}\n", "t.yaml:2: rules.nosuch: unknown rule; docs/watch.md lists the rules");
    refused("hooks:\n  - command: [/bin/true]\n    rule: goroutine-level\n",
            "t.yaml:3: hooks[0].rule: unknown rule (did you mean \"goroutines-level\"?); docs/watch.md lists the rules");
    refused("? [a, b]\n: 1\n", "t.yaml:1: a key must be a single word, not a list");
}

static void test_duplicates(void **state)
{
    (void)state;
    refused("interval: 5s\nlearn: 1m\ninterval: 10s\n", "t.yaml:3: interval: given twice (first on line 1)");
    refused("rules:\n  goroutines-cap: {warn: 10}\n  goroutines-cap: {warn: 20}\n",
            "t.yaml:3: rules.goroutines-cap: given twice in this scope");
    refused("targets:\n  - {name: api, url: \"http://127.0.0.1:1\"}\n  - {name: api, url: \"http://127.0.0.1:2\"}\n",
            "t.yaml:3: targets[1].name: the same name as targets[0] (t.yaml:2)");
    refused("targets:\n  - url: \"http://127.0.0.1:1/\"\n  - url: \"http://127.0.0.1:1\"\n",
            "t.yaml:3: targets[1].url: the same url as targets[0] (t.yaml:2)");
    refused("targets:\n  - pid: 42\n  - pid: 42\n    name: b\n", "t.yaml:3: targets[1].pid: the same pid as targets[0] (t.yaml:2)");
}

static void test_shapes(void **state)
{
    (void)state;
    refused("", "t.yaml:1: the file is empty: it wants a mapping of keys such as \"targets:\"");
    refused("# only a comment\n", "t.yaml:1: the file is empty: it wants a mapping of keys such as \"targets:\"");
    refused("just words\n", "t.yaml:1: the file wants a mapping of keys such as \"targets:\" at the top, not a single value");
    refused("captures: [a, b]\n", "t.yaml:1: captures: wants a mapping (key: value), not a list");
    refused("targets: api\n", "t.yaml:1: targets: wants a list of targets, not a single value");
    refused("targets:\n  - http://127.0.0.1:1\n", "t.yaml:2: targets[0]: wants a mapping (key: value), not a single value");
    refused("targets:\n  - name: api\n", "t.yaml:2: targets[0]: a target wants a url, a pid or both");
    refused("targets:\n  - {url: \"http://127.0.0.1:1/metrics\"}\n",
            "t.yaml:2: targets[0].url: wants the service's base URL (http://host:port or .../debug/pprof/), not a page, "
            "not \"http://127.0.0.1:1/metrics\"");
    refused("targets:\n  - {url: \"127.0.0.1:6060\"}\n",
            "t.yaml:2: targets[0].url: wants a base URL such as http://127.0.0.1:6060, not \"127.0.0.1:6060\"");
    refused("targets:\n  - {pid: 0}\n", "t.yaml:2: targets[0].pid: wants a process id (1 to 4194304), not \"0\"");
    refused("targets:\n  - {pid: 99999999}\n", "t.yaml:2: targets[0].pid: wants a process id (1 to 4194304), not \"99999999\"");
    refused("targets:\n  - {pid: 1, name: ../etc}\n",
            "t.yaml:2: targets[0].name: wants a name of letters, digits, '.', '_' or '-' such as api-1, not \"../etc\"");
    refused("hooks:\n  - {command: []}\n", "t.yaml:2: hooks[0].command: is empty: it wants the program and its arguments");
    refused("hooks:\n  - {rule: \"*\"}\n", "t.yaml:2: hooks[0]: a hook wants a command");
    refused("hooks:\n  - {command: [bin/page]}\n",
            "t.yaml:2: hooks[0].command[0]: \"bin/page\" is a relative path: give an absolute one, or a program name found on PATH");
    refused("hooks:\n  - {command: [/bin/true], severity: critical}\n",
            "t.yaml:2: hooks[0].severity: wants info, warn or crit, not \"critical\"");
    refused("hooks:\n  - {command: [/bin/true], severity: never}\n",
            "t.yaml:2: hooks[0].severity: wants info, warn or crit, not \"never\"");
    refused("interval: 5s\n---\ninterval: 6s\n", "t.yaml:2: a second document (---): one configuration per file");
    refused("rules:\n  goroutines-cap: &a {warn: 10}\n  heap-rate: *a\n",
            "t.yaml:3: rules.heap-rate: an alias (*a): aliases are not supported here; write the value out");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    refused("interval: 5s\nlearn: 1m: 2m\n", "t.yaml:2:10: mapping values are not allowed in this context");
    refused("events: \"abc\ninterval: 5s\n",
            "t.yaml:3:1: found unexpected end of stream (while scanning a quoted scalar from line 1, column 9)");
    refused("interval: 5s\nevents: \xff\xfe\n", "t.yaml:2:9: not YAML text: invalid leading UTF-8 octet (byte 21)");
    /* A NUL byte inside the text: libyaml's reader refuses it as a control character. */
    const char nul[] = "interval: 5s\nlearn: \0\n";
    wconfig *c = new_config();
    char err[256];
    assert_int_equal(wconfig_load_buffer("t.yaml", nul, sizeof nul - 1, c, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:2:8: not YAML text: control characters are not allowed (byte 20)");
    free(c);
}

/* ---- the files of tests/bad/watch ----------------------------------------------- */

static void bad_file(const char *name, const char *want_after_path)
{
    char path[PATH_MAX + 64], want[PATH_MAX + 512], err[512] = "";
    snprintf(path, sizeof path, "%s/tests/bad/watch/%s", src_dir, name);
    snprintf(want, sizeof want, "%s%s", path, want_after_path);
    wconfig *c = new_config();
    int rc = wconfig_load(path, c, err, sizeof err);
    if (rc == 0 || strcmp(err, want) != 0) fail_msg("%s\nwant: %s\ngot (%d): %s", name, want, rc, err);
    assert_int_equal(c->ntargets, 0);
    free(c);
}

static void test_bad_files(void **state)
{
    (void)state;
    bad_file("tabs.yaml", ":3:1: found character that cannot start any token "
                          "(while scanning for the next token from line 3, column 1); it is a tab: YAML indents with spaces only");
    bad_file("duplicate-key.yaml", ":5: captures.dir: given twice (first on line 3)");
    bad_file("unclosed-quote.yaml", ":5:1: found unexpected end of stream (while scanning a quoted scalar from line 3, column 10)");
    bad_file("list-for-map.yaml", ":6: targets[0].rules: wants a mapping of rule ids to settings (key: value), not a list");
    bad_file("not-a-mapping.yaml", ":1: the file wants a mapping of keys such as \"targets:\" at the top, not a list");
    bad_file("two-documents.yaml", ":4: a second document (---): one configuration per file");
    bad_file("alias.yaml", ":6: targets[0].rules.goroutines-level: an alias (*strict): aliases are not supported here; write the value out");
    bad_file("typo.yaml", ":5: targets[0].intervall: unknown key (did you mean \"interval\"?); the keys here are " KEYS_TARGET);
    bad_file("binary-junk.bin", ":1:1: not YAML text: control characters are not allowed (byte 0)");
}

static void test_file_limits(void **state)
{
    (void)state;
    char path[PATH_MAX + 32], err[512], want[PATH_MAX + 128];
    /* 2 MiB of valid YAML comments: refused for its size before parsing. */
    snprintf(path, sizeof path, "%s/big.yaml", tmp_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("interval: 5s\n", f);
    for (int i = 0; i < 2 * 1024 * 1024 / 64; i++) fprintf(f, "# %061d\n", i);
    fclose(f);
    wconfig *c = new_config();
    assert_int_equal(wconfig_load(path, c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: larger than the 1 MiB a configuration may have", path);
    assert_string_equal(err, want);
    unlink(path);
    /* The same cap on a buffer. */
    size_t big = (1u << 20) + 1;
    char *data = malloc(big);
    assert_non_null(data);
    memset(data, '#', big);
    assert_int_equal(wconfig_load_buffer("b.yaml", data, big, c, err, sizeof err), -1);
    assert_string_equal(err, "b.yaml: 1048577 bytes: larger than the 1 MiB a configuration may have");
    free(data);
    /* A directory, a missing file. */
    assert_int_equal(wconfig_load(tmp_dir, c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: is a directory, not a configuration file", tmp_dir);
    assert_string_equal(err, want);
    snprintf(path, sizeof path, "%s/missing.yaml", tmp_dir);
    assert_int_equal(wconfig_load(path, c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);
    free(c);
}

/* The shapes of list items the limits are tried with. */
typedef enum item_kind { ITEM_TARGET, ITEM_HOOK, ITEM_HEADER, ITEM_MATCH, ITEM_ARG } item_kind;

static int item(char *out, size_t n, item_kind kind, size_t i)
{
    switch (kind) {
    case ITEM_TARGET: return snprintf(out, n, "  - {url: \"http://127.0.0.1:%zu\", name: t%zu}\n", i, i);
    case ITEM_HOOK: return snprintf(out, n, "  - {command: [/bin/true, \"%zu\"]}\n", i);
    case ITEM_HEADER: return snprintf(out, n, "    - \"X-%zu: 1\"\n", i);
    case ITEM_MATCH: return snprintf(out, n, "    - \"p%zu-*\"\n", i);
    case ITEM_ARG: return snprintf(out, n, "    - \"%sa%zu\"\n", i == 1 ? "/" : "", i);
    }
    return 0;
}

/* head, then n items of a kind numbered from 1. */
static char *list_text(const char *head, size_t n, item_kind kind)
{
    size_t cap = 64 + n * 128;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t k = (size_t)snprintf(s, cap, "%s", head);
    for (size_t i = 0; i < n; i++) k += (size_t)item(s + k, cap - k, kind, i + 1);
    return s;
}

static void test_limits(void **state)
{
    (void)state;
    char want[256];
    /* Targets: exactly the limit loads, one more is refused on its line. */
    char *s = list_text("targets:\n", WCONFIG_MAX_TARGETS, ITEM_TARGET);
    wconfig *c = loaded(s);
    assert_int_equal(c->ntargets, WCONFIG_MAX_TARGETS);
    assert_string_equal(c->targets[WCONFIG_MAX_TARGETS - 1].name, "t128");
    free(c);
    free(s);
    s = list_text("targets:\n", WCONFIG_MAX_TARGETS + 1, ITEM_TARGET);
    snprintf(want, sizeof want, "t.yaml:%d: targets[%d]: more than %d targets (the limit)", WCONFIG_MAX_TARGETS + 2,
             WCONFIG_MAX_TARGETS, WCONFIG_MAX_TARGETS);
    refused(s, want);
    free(s);
    /* Hooks, headers, patterns, arguments. */
    s = list_text("hooks:\n", WCONFIG_MAX_HOOKS + 1, ITEM_HOOK);
    snprintf(want, sizeof want, "t.yaml:%d: hooks[%d]: more than %d hooks (the limit)", WCONFIG_MAX_HOOKS + 2,
             WCONFIG_MAX_HOOKS, WCONFIG_MAX_HOOKS);
    refused(s, want);
    free(s);
    s = list_text("request:\n  headers:\n", WCONFIG_MAX_HEADERS + 1, ITEM_HEADER);
    snprintf(want, sizeof want, "t.yaml:%d: request.headers[%d]: more than %d headers (the limit)",
             WCONFIG_MAX_HEADERS + 3, WCONFIG_MAX_HEADERS, WCONFIG_MAX_HEADERS);
    refused(s, want);
    free(s);
    s = list_text("discover:\n  match:\n", WCONFIG_MAX_MATCH + 1, ITEM_MATCH);
    snprintf(want, sizeof want, "t.yaml:%d: discover.match[%d]: more than %d patterns (the limit)",
             WCONFIG_MAX_MATCH + 3, WCONFIG_MAX_MATCH, WCONFIG_MAX_MATCH);
    refused(s, want);
    free(s);
    s = list_text("hooks:\n  - command:\n", WCONFIG_MAX_ARGV + 1, ITEM_ARG);
    snprintf(want, sizeof want, "t.yaml:%d: hooks[0].command[%d]: more than %d arguments (the limit)",
             WCONFIG_MAX_ARGV + 3, WCONFIG_MAX_ARGV, WCONFIG_MAX_ARGV);
    refused(s, want);
    free(s);
    /* Strings: a name of 64 bytes does not fit in WATCH_NAME_MAX. */
    refused("targets:\n  - {pid: 1, name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
            "t.yaml:2: targets[0].name: longer than the 63 bytes it may have");
}

/* Every rule overridden in both scopes at once fits the per-scope limit:
 * the limit is never what stops a complete file. */
static void test_every_rule(void **state)
{
    (void)state;
    size_t n;
    const wrule_def *tab = wrules_table(&n);
    assert_true(n > 0 && n <= WCONFIG_MAX_RULES);
    char *text = malloc(n * 2 * 64 + 256);
    assert_non_null(text);
    size_t k = (size_t)sprintf(text, "rules:\n");
    for (size_t i = 0; i < n; i++) k += (size_t)sprintf(text + k, "  %s: {enabled: true, clear_for: 1m}\n", tab[i].id);
    k += (size_t)sprintf(text + k, "targets:\n  - pid: 7\n    rules:\n");
    for (size_t i = 0; i < n; i++) k += (size_t)sprintf(text + k, "      %s: {enabled: false}\n", tab[i].id);
    wconfig *c = loaded(text);
    assert_int_equal(c->nrules, n);
    assert_int_equal(c->targets[0].nrules, n);
    free(c);
    free(text);
}

/* ---- merge, command line, validation -------------------------------------------- */

static void test_merge(void **state)
{
    (void)state;
    wconfig *c = loaded("rules:\n"
                        "  goroutines-level: {warn: 20%, crit: 60%, warn_for: 1m, enabled: false}\n"
                        "  heap-level: {clear_for: 30s}\n"
                        "targets:\n"
                        "  - pid: 10\n"
                        "    rules:\n"
                        "      goroutines-level: {warn: 40%, enabled: true}\n"
                        "      rss-level: {crit: 300%}\n"
                        "  - pid: 11\n");
    wrule_conf m;
    const wtarget_conf *t0 = &c->targets[0], *t1 = &c->targets[1];
    /* The target's value over the global one, the global where it says nothing. */
    assert_ptr_equal(wconfig_rule(c, t0, "goroutines-level", &m), &m);
    assert_string_equal(m.rule, "goroutines-level");
    assert_true(fabs(m.warn - 0.40) < 1e-12 && fabs(m.crit - 0.60) < 1e-12);
    assert_true(m.warn_for == 60 && isnan(m.crit_for) && isnan(m.clear_for));
    assert_int_equal(m.enabled, 1);
    /* Another target: only the global scope. */
    wconfig_rule(c, t1, "goroutines-level", &m);
    assert_true(fabs(m.warn - 0.20) < 1e-12);
    assert_int_equal(m.enabled, 0);
    /* Without a target: the global scope. */
    wconfig_rule(c, NULL, "goroutines-level", &m);
    assert_true(fabs(m.warn - 0.20) < 1e-12);
    /* Only the target's. */
    wconfig_rule(c, t0, "rss-level", &m);
    assert_true(m.crit == 3.0 && isnan(m.warn));
    wconfig_rule(c, t1, "rss-level", &m);
    assert_true(isnan(m.crit));
    /* Only the global. */
    wconfig_rule(c, t0, "heap-level", &m);
    assert_true(m.clear_for == 30 && isnan(m.warn) && m.enabled == -1);
    /* Nowhere: all unset, the rule's defaults apply. */
    wconfig_rule(c, t0, "fds-cap", &m);
    assert_string_equal(m.rule, "fds-cap");
    assert_true(isnan(m.warn) && isnan(m.crit) && isnan(m.warn_for) && isnan(m.crit_for) && isnan(m.clear_for));
    assert_int_equal(m.enabled, -1);
    free(c);
}

static void test_add_target(void **state)
{
    (void)state;
    wconfig *c = new_config();
    char err[512];
    assert_int_equal(wconfig_add_target(c, "http://127.0.0.1:6060", err, sizeof err), 0);
    assert_int_equal(wconfig_add_target(c, "https://svc.example:8443/debug/pprof/", err, sizeof err), 0);
    assert_int_equal(wconfig_add_target(c, "4242", err, sizeof err), 0);
    assert_int_equal(c->ntargets, 3);
    assert_string_equal(c->targets[0].url, "http://127.0.0.1:6060");
    assert_int_equal(c->targets[0].pid, 0);
    assert_true(isnan(c->targets[0].interval) && c->targets[0].full_cap == UINT64_MAX);
    assert_int_equal(c->targets[0].line, 0);
    assert_string_equal(c->targets[0].name, "");
    assert_string_equal(c->targets[1].url, "https://svc.example:8443/debug/pprof/");
    assert_int_equal(c->targets[2].pid, 4242);
    assert_string_equal(c->targets[2].url, "");

    assert_int_equal(wconfig_add_target(c, "api", err, sizeof err), -1);
    assert_string_equal(err, "\"api\" is neither a pid nor an http(s):// URL");
    assert_int_equal(wconfig_add_target(c, "http://127.0.0.1:6060/metrics", err, sizeof err), -1);
    assert_string_equal(err, "\"http://127.0.0.1:6060/metrics\" is not a service's base URL (http://host:port or .../debug/pprof/)");
    assert_int_equal(wconfig_add_target(c, "0", err, sizeof err), -1);
    assert_string_equal(err, "\"0\" is not a process id (1 to 4194304)");
    assert_int_equal(wconfig_add_target(c, "12a", err, sizeof err), -1);
    assert_string_equal(err, "\"12a\" is neither a pid nor an http(s):// URL");
    assert_int_equal(c->ntargets, 3);

    while (c->ntargets < WCONFIG_MAX_TARGETS) {
        char arg[16];
        snprintf(arg, sizeof arg, "%zu", c->ntargets + 100);
        assert_int_equal(wconfig_add_target(c, arg, err, sizeof err), 0);
    }
    assert_int_equal(wconfig_add_target(c, "99", err, sizeof err), -1);
    assert_string_equal(err, "99: more than 128 targets (the limit)");
    assert_int_equal(c->ntargets, WCONFIG_MAX_TARGETS);
    free(c);
}

static void test_validate(void **state)
{
    (void)state;
    char err[512], want[PATH_MAX + 256];
    wconfig *c = new_config();
    assert_int_equal(wconfig_validate(c, err, sizeof err), -1);
    assert_string_equal(err, "nothing to watch: give a target (URL or pid), targets: in the file, or discovery");
    c->discover.enabled = true;
    assert_int_equal(wconfig_validate(c, err, sizeof err), 0);
    free(c);

    /* A command-line target that a file target already names. */
    c = loaded("targets:\n  - {name: api, url: \"http://127.0.0.1:6060\"}\n");
    assert_int_equal(wconfig_validate(c, err, sizeof err), 0);
    assert_int_equal(wconfig_add_target(c, "http://127.0.0.1:6060/", err, sizeof err), 0);
    assert_int_equal(wconfig_validate(c, err, sizeof err), -1);
    assert_string_equal(err, "http://127.0.0.1:6060/: the same url as targets[0] (t.yaml:2)");
    free(c);

    /* Hooks: a name on PATH, an absolute executable; a missing program,
     * a file that is not executable. */
    c = loaded("targets: [{pid: 1}]\nhooks:\n  - {command: [sh, -c, exit]}\n  - {command: [/bin/sh]}\n");
    assert_int_equal(wconfig_validate(c, err, sizeof err), 0);
    free(c);
    c = loaded("targets: [{pid: 1}]\nhooks:\n  - {command: [sh]}\n  - {command: [reef-no-such-pager, --now]}\n");
    assert_int_equal(wconfig_validate(c, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:4: hooks[1].command: \"reef-no-such-pager\" is not found on PATH");
    free(c);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/not-exec", tmp_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\n", f);
    fclose(f);
    chmod(path, 0644);
    char text[PATH_MAX + 128];
    snprintf(text, sizeof text, "targets: [{pid: 1}]\nhooks:\n  - {command: [\"%s\"]}\n", path);
    c = loaded(text);
    assert_int_equal(wconfig_validate(c, err, sizeof err), -1);
    snprintf(want, sizeof want, "t.yaml:3: hooks[0].command: \"%s\" is not an executable file", path);
    assert_string_equal(err, want);
    chmod(path, 0755);
    assert_int_equal(wconfig_validate(c, err, sizeof err), 0);
    unlink(path);
    free(c);
}

/* A file loaded over a configuration that already has command-line
 * targets appends to them; its own indexes stay the file's. */
static void test_file_after_command_line(void **state)
{
    (void)state;
    wconfig *c = new_config();
    char err[512];
    assert_int_equal(wconfig_add_target(c, "77", err, sizeof err), 0);
    assert_int_equal(load_text(c, "targets:\n  - {pid: 78}\n  - {pid: 79, rules: {goroutines-level: {warn: 300%}}}\n", err,
                               sizeof err),
                     -1);
    assert_string_equal(err, "t.yaml:3: targets[1].rules.goroutines-level.warn: crit (100%) is below warn (300%)");
    assert_int_equal(c->ntargets, 1);
    assert_int_equal(load_text(c, "targets:\n  - {pid: 78}\n  - {pid: 77}\n", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:3: targets[1].pid: the same pid as the command line's pid 77");
    assert_int_equal(load_text(c, "targets:\n  - {pid: 78}\n", err, sizeof err), 0);
    assert_int_equal(c->ntargets, 2);
    assert_int_equal(c->targets[1].pid, 78);
    free(c);
}

int main(void)
{
    find_src_dir();
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/reef-test-wconfig-XXXXXX");
    if (!mkdtemp(tmp_dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_value_forms),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_rule_thresholds),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_file_limits),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_every_rule),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_add_target),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_file_after_command_line),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(tmp_dir);
    return rc;
}
