/* cmd_scan.c - "reef scan": one-shot diagnosis of a live Go service.
 *
 * Flow: collect_scan (URL and/or pid, several samples) -> scan_analyze
 * (one function per rule) -> freport (text checklist or JSON). */
#include "cli.h"
#include "../analyze/scan.h"
#include "../collect/collect_scan.h"
#include "../report/freport.h"
#include "../util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: reef scan [options] [PID|URL]...\n"
    "       reef scan --url http://host:port [--pid N] [options]\n"
    "\n"
    "Diagnoses a running Go service from the outside: several samples across a\n"
    "window, then a checklist of every rule with PASS, WARN, CRIT or SKIP, the\n"
    "evidence, and what to do.\n"
    "\n"
    "  --url URL          the service's base URL; reef finds /debug/pprof/,\n"
    "                     /metrics and /debug/vars itself\n"
    "  --pid N            the process: /proc, cgroups, build info, and the pprof\n"
    "                     endpoint among its listening sockets when --url is not given\n"
    "  PID, URL           shorthands for --pid and --url\n"
    "\n"
    "Options:\n"
    "  --window DUR       time between the first and last sample (default 10s;\n"
    "                     500ms, 10s, 2m or plain seconds)\n"
    "  --samples N        samples across the window (default 3, at most 60)\n"
    "  --full-cap N       take one goroutine?debug=2 dump (wait times, creators) only\n"
    "                     when the service has at most N goroutines (default 5000;\n"
    "                     0 never): debug=2 stops the world for the whole dump\n"
    "  --budget DUR       stop collecting after this long (default window + 60s)\n"
    "  --expect FILE      expectations that must hold: goroutine, metric and source\n"
    "                     lines (a second endpoint such as a broker's /varz); see\n"
    "                     docs/scan.md\n"
    "  --fail-on SEV      exit 1 when a finding is at least info, warn (default),\n"
    "                     crit, or never\n"
    "  --json             JSON: target, scan, checks, findings (docs/scan.md)\n"
    "  --color WHEN       auto (default), always, never\n"
    "  -q, --quiet        no progress lines on stderr\n"
    "  --token-file FILE  send \"Authorization: Bearer <contents of FILE>\"\n"
    "  -H, --header H     extra request header (repeatable), e.g. -H 'Cookie: x=y'\n"
    "  -k, --insecure     do not verify TLS certificates\n"
    "  --timeout SEC      per-request time limit (default 30, clipped to the budget)\n"
    "  --connect-timeout SEC, --max-bytes N   as for reef goroutines\n"
    "\n"
    "Exit status: 0 nothing at --fail-on or above, 1 findings at --fail-on or\n"
    "above, 2 bad usage, 3 neither the URL nor the pid could be reached.\n";

typedef struct options {
    scan_options scan;
    const char *expect_file, *color, *token_file;
    int fail_on;
    bool json, quiet;
    cli_http net;
    char *auth_header;
} options;

enum {
    OPT_URL = 256, OPT_PID, OPT_WINDOW, OPT_SAMPLES, OPT_FULL_CAP, OPT_BUDGET, OPT_EXPECT, OPT_FAIL_ON, OPT_JSON,
    OPT_COLOR, OPT_TOKEN_FILE, OPT_PROC_ROOT, OPT_SYSFS_ROOT, OPT_NOW
};

static const struct option long_options[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"pid", required_argument, NULL, OPT_PID},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"samples", required_argument, NULL, OPT_SAMPLES},
    {"full-cap", required_argument, NULL, OPT_FULL_CAP},
    {"budget", required_argument, NULL, OPT_BUDGET},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"json", no_argument, NULL, OPT_JSON},
    {"color", required_argument, NULL, OPT_COLOR},
    {"quiet", no_argument, NULL, 'q'},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    /* For tests: read recorded trees instead of the machine's. */
    {"proc-root", required_argument, NULL, OPT_PROC_ROOT},
    {"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
    {"now", required_argument, NULL, OPT_NOW},
    CLI_HTTP_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* "500ms", "10s", "2m", "1h" or plain seconds; -1 if unreadable. */
static double parse_duration(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isfinite(v)) return -1;
    if (strcmp(end, "") == 0 || strcmp(end, "s") == 0) return v;
    if (strcmp(end, "ms") == 0) return v / 1000;
    if (strcmp(end, "m") == 0) return v * 60;
    if (strcmp(end, "h") == 0) return v * 3600;
    return -1;
}

static int duration_option(const char *opt, const char *value, double *out)
{
    *out = parse_duration(value);
    if (*out < 0) return cli_error(EXIT_USAGE, "%s wants a duration such as 10s, 500ms or 2m, not \"%s\"", opt, value);
    return EXIT_OK;
}

static int pid_option(const char *value, int *out)
{
    char *end;
    long v = strtol(value, &end, 10);
    if (*end || end == value || v <= 0 || v > 4194304)
        return cli_error(EXIT_USAGE, "--pid wants a process id, not \"%s\"", value);
    *out = (int)v;
    return EXIT_OK;
}

static bool all_digits(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

/* Positional arguments: a number is a pid, a URL a URL. */
static int positional(options *o, const char *arg)
{
    if (all_digits(arg)) {
        if (o->scan.pid) return cli_error(EXIT_USAGE, "one pid per scan (got %d and %s)", o->scan.pid, arg);
        return pid_option(arg, &o->scan.pid);
    }
    if (collect_is_url(arg)) {
        if (o->scan.url) return cli_error(EXIT_USAGE, "one URL per scan (got %s and %s)", o->scan.url, arg);
        o->scan.url = arg;
        return EXIT_OK;
    }
    return cli_error(EXIT_USAGE, "\"%s\" is neither a pid nor an http(s):// URL; see 'reef help scan'", arg);
}

static int option(options *o, int c, const char *arg, char **argv)
{
    switch (c) {
    case OPT_URL: o->scan.url = arg; return EXIT_OK;
    case OPT_PID: return pid_option(arg, &o->scan.pid);
    case OPT_WINDOW: return duration_option("--window", arg, &o->scan.window);
    case OPT_SAMPLES:
        o->scan.samples = (unsigned)cli_uint("--samples", arg);
        if (o->scan.samples < 1 || o->scan.samples > SCAN_MAX_SAMPLES)
            return cli_error(EXIT_USAGE, "--samples wants 1 to %d, not %s", SCAN_MAX_SAMPLES, arg);
        return EXIT_OK;
    case OPT_FULL_CAP: o->scan.full_cap = cli_uint("--full-cap", arg); return EXIT_OK;
    case OPT_BUDGET: return duration_option("--budget", arg, &o->scan.budget);
    case OPT_EXPECT: o->expect_file = arg; return EXIT_OK;
    case OPT_FAIL_ON:
        o->fail_on = severity_parse(arg);
        if (o->fail_on < 0) return cli_error(EXIT_USAGE, "--fail-on wants info, warn, crit or never, not \"%s\"", arg);
        return EXIT_OK;
    case OPT_JSON: o->json = true; return EXIT_OK;
    case OPT_COLOR: o->color = arg; return EXIT_OK;
    case 'q': o->quiet = true; return EXIT_OK;
    case OPT_TOKEN_FILE: o->token_file = arg; return EXIT_OK;
    case OPT_PROC_ROOT: o->scan.proc_root = arg; return EXIT_OK;
    case OPT_SYSFS_ROOT: o->scan.sysfs_root = arg; return EXIT_OK;
    case OPT_NOW: return EXIT_OK; /* handled by the caller */
    case ':': return cli_error(EXIT_USAGE, "%s needs a value; see 'reef help scan'", argv[optind - 1]);
    default: return cli_error(EXIT_USAGE, "unknown option %s; see 'reef help scan'", argv[optind - 1]);
    }
}

static int parse_options(int argc, char **argv, options *o, time_t *now)
{
    memset(o, 0, sizeof *o);
    o->scan.window = SCAN_DEFAULT_WINDOW;
    o->scan.samples = SCAN_DEFAULT_SAMPLES;
    o->scan.full_cap = SCAN_DEFAULT_FULL_CAP;
    o->fail_on = SEV_WARN;
    optind = 1;
    opterr = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":q" CLI_HTTP_SHORT_OPTIONS, long_options, NULL)) != -1) {
        if (cli_http_option(&o->net, c, optarg)) continue;
        if (c == OPT_NOW) *now = (time_t)cli_uint("--now", optarg);
        if ((rc = option(o, c, optarg, argv)) != EXIT_OK) return rc;
    }
    for (int i = optind; i < argc; i++)
        if ((rc = positional(o, argv[i])) != EXIT_OK) return rc;
    if (!o->scan.url && !o->scan.pid)
        return cli_error(EXIT_USAGE, "nothing to scan: give a URL, a pid, or both; see 'reef help scan'");
    if (o->scan.url && !collect_is_base_url(o->scan.url))
        return cli_error(EXIT_USAGE, "%s: give the service's base URL (http://host:port), not an endpoint", o->scan.url);
    return EXIT_OK;
}

/* --token-file: the token is the file's first line, read once. */
static int add_token(options *o)
{
    if (!o->token_file) return EXIT_OK;
    FILE *f = fopen(o->token_file, "r");
    if (!f) return cli_error(EXIT_USAGE, "%s: %s", o->token_file, strerror(errno));
    char token[4096];
    bool ok = fgets(token, sizeof token, f) != NULL;
    fclose(f);
    if (!ok) return cli_error(EXIT_USAGE, "%s: empty token file", o->token_file);
    token[strcspn(token, "\r\n")] = '\0';
    size_t n = strlen(token) + 32;
    o->auth_header = xmalloc(n);
    snprintf(o->auth_header, n, "Authorization: Bearer %s", token);
    cli_http_option(&o->net, 'H', o->auth_header);
    return EXIT_OK;
}

/* The second endpoints of the expectations, each with the metric names
 * read from it (pointing into the expectations). */
typedef struct source_specs {
    scan_source_spec spec[EXPECT_MAX_SOURCES];
    const char **names;       /* one block: EXPECT_MAX_SOURCES rows of x->n */
} source_specs;

static void source_specs_make(const expectations *x, source_specs *sp)
{
    memset(sp, 0, sizeof *sp);
    if (!x->nsources) return;
    sp->names = xcalloc(x->nsources * (x->n ? x->n : 1), sizeof *sp->names);
    for (size_t i = 0; i < x->nsources; i++) {
        const char **row = sp->names + i * (x->n ? x->n : 1);
        for (size_t k = 0; k < x->n; k++)
            if (x->items[k].kind == EXPECT_METRIC && x->items[k].source == (int)i) row[sp->spec[i].nnames++] = x->items[k].subject;
        sp->spec[i].url = x->sources[i].url;
        sp->spec[i].names = row;
    }
}

static int run(int argc, char **argv)
{
    options o;
    time_t now = 0;
    int rc = parse_options(argc, argv, &o, &now);
    if (rc == EXIT_OK) rc = add_token(&o);
    scan_config cfg = {.now = now};
    char err[512];
    if (rc == EXIT_OK && o.expect_file && expect_read_file(o.expect_file, &cfg.expect, err, sizeof err))
        rc = cli_error(EXIT_USAGE, "%s", err);
    if (rc != EXIT_OK) {
        cli_http_free(&o.net);
        free(o.auth_header);
        expectations_free(&cfg.expect);
        return rc;
    }
    o.scan.http = &o.net.http;
    source_specs specs;
    source_specs_make(&cfg.expect, &specs);
    o.scan.sources = specs.spec;
    o.scan.nsources = cfg.expect.nsources;
    if (!o.quiet && isatty(STDERR_FILENO)) o.scan.progress = stderr;

    scan_evidence e;
    evidence_init(&e);
    char *message = NULL;
    rc = scan_collect(&o.scan, &e, &message);
    if (rc == EXIT_OK) {
        report r;
        report_init(&r);
        scan_analyze(&e, &cfg, &r);
        freport fr = {.report = &r, .evidence = &e, .color = cli_color(o.color, STDOUT_FILENO), .fail_on = o.fail_on};
        if (o.json) freport_json(stdout, &fr);
        else freport_text(stdout, &fr);
        rc = report_max_severity(&r) >= o.fail_on ? EXIT_FINDINGS : EXIT_OK;
        report_free(&r);
    } else {
        cli_error(rc, "%s", message);
    }
    free(message);
    free(specs.names);
    evidence_free(&e);
    expectations_free(&cfg.expect);
    cli_http_free(&o.net);
    free(o.auth_header);
    return rc;
}

const command cmd_scan = {
    .name = "scan",
    .run = run,
    .summary = "diagnose a live Go service (URL and/or pid): a checklist of findings",
    .usage = usage_text,
};
