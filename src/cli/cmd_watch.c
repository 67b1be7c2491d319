/* cmd_watch.c - "reef watch": the always-on agent.
 *
 * The command line only makes the configuration (defaults, then the
 * --config file, then the options here on top) and hands it to the agent
 * (src/watch/wagent.c), which makes it again the same way at every SIGHUP. */
#include "cli.h"
#include "../watch/wagent.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: reef watch [options] [URL|PID]...\n"
    "       reef watch --config FILE [options]\n"
    "       reef watch --check-config FILE\n"
    "\n"
    "Watches Go services for the failures that come slowly: polls each target\n"
    "with scan's cheap endpoints, learns its normal level, opens a finding at\n"
    "WARN or CRIT when a series leaves it or one of scan's rules fires, keeps the\n"
    "evidence (a capture directory) and runs the configured hooks.  Events are\n"
    "JSON lines.  SIGHUP reloads the configuration; SIGTERM stops.\n"
    "\n"
    "  URL, PID           a target: a base URL (http://host:port) or a pid, named\n"
    "                     after the executable and the port (a target with both, or\n"
    "                     a name of its own, is written in the --config file)\n"
    "  --config FILE      YAML configuration (docs/watch.md)\n"
    "  --check-config FILE  load and validate FILE, then exit\n"
    "  --interval DUR     time between polls (default 15s)\n"
    "  --learn DUR        baseline learning period (default 10m)\n"
    "  --events FILE      the event log, JSON lines (default -: standard output)\n"
    "  --captures DIR     where captures are written (default ./reef-captures)\n"
    "  --no-captures      write no captures\n"
    "  --discover         also watch every Go process of the host (see reef ps), and\n"
    "                     those that start later\n"
    "  --match PATTERN    with --discover: only processes whose name, module or\n"
    "                     executable matches (fnmatch; repeatable)\n"
    "  --duration DUR     stop after this long (default: until SIGTERM)\n"
    "  -H, --header H     request header for every target (repeatable)\n"
    "  --timeout SEC, --connect-timeout SEC, --max-bytes N   per request\n"
    "\n"
    "Exit status: 0 stopped by a signal or --duration, 2 bad usage or\n"
    "configuration.\n";

typedef struct options {
    const char *config, *check, *events, *captures;
    double interval, learn, duration;
    bool no_captures, discover;
    const char *match[WCONFIG_MAX_MATCH];
    size_t nmatch;
    const char *targets[WCONFIG_MAX_TARGETS];
    size_t ntargets;
    cli_http net;
    const char *proc_root, *sysfs_root;
} options;

enum {
    OPT_CONFIG = 256, OPT_CHECK, OPT_INTERVAL, OPT_LEARN, OPT_EVENTS, OPT_CAPTURES, OPT_NO_CAPTURES, OPT_DISCOVER,
    OPT_MATCH, OPT_DURATION, OPT_PROC_ROOT, OPT_SYSFS_ROOT
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"check-config", required_argument, NULL, OPT_CHECK},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"learn", required_argument, NULL, OPT_LEARN},
    {"events", required_argument, NULL, OPT_EVENTS},
    {"captures", required_argument, NULL, OPT_CAPTURES},
    {"no-captures", no_argument, NULL, OPT_NO_CAPTURES},
    {"discover", no_argument, NULL, OPT_DISCOVER},
    {"match", required_argument, NULL, OPT_MATCH},
    {"duration", required_argument, NULL, OPT_DURATION},
    /* For tests: read recorded trees instead of the machine's. */
    {"proc-root", required_argument, NULL, OPT_PROC_ROOT},
    {"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
    CLI_HTTP_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int duration_option(const char *opt, const char *value, double *out, double min)
{
    *out = wconfig_duration(value);
    if (*out < min)
        return cli_error(EXIT_USAGE, "%s wants a duration such as 15s, 500ms or 2m%s, not \"%s\"", opt,
                         min > 0 ? " (at least 100ms)" : "", value);
    return EXIT_OK;
}

static int option(options *o, int c, const char *arg, char **argv)
{
    switch (c) {
    case OPT_CONFIG: o->config = arg; return EXIT_OK;
    case OPT_CHECK: o->check = arg; return EXIT_OK;
    case OPT_INTERVAL: return duration_option("--interval", arg, &o->interval, 0.1);
    case OPT_LEARN: return duration_option("--learn", arg, &o->learn, 0);
    case OPT_DURATION: return duration_option("--duration", arg, &o->duration, 0);
    case OPT_EVENTS: o->events = arg; return EXIT_OK;
    case OPT_CAPTURES: o->captures = arg; return EXIT_OK;
    case OPT_NO_CAPTURES: o->no_captures = true; return EXIT_OK;
    case OPT_DISCOVER: o->discover = true; return EXIT_OK;
    case OPT_MATCH:
        if (o->nmatch == WCONFIG_MAX_MATCH) return cli_error(EXIT_USAGE, "at most %d --match", WCONFIG_MAX_MATCH);
        o->match[o->nmatch++] = arg;
        return EXIT_OK;
    case OPT_PROC_ROOT: o->proc_root = arg; return EXIT_OK;
    case OPT_SYSFS_ROOT: o->sysfs_root = arg; return EXIT_OK;
    case ':': return cli_error(EXIT_USAGE, "%s needs a value; see 'reef help watch'", argv[optind - 1]);
    default: return cli_error(EXIT_USAGE, "unknown option %s; see 'reef help watch'", argv[optind - 1]);
    }
}

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->interval = o->learn = o->duration = NAN;
    optind = 1;
    opterr = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":" CLI_HTTP_SHORT_OPTIONS, long_options, NULL)) != -1) {
        if (cli_http_option(&o->net, c, optarg)) continue;
        if ((rc = option(o, c, optarg, argv)) != EXIT_OK) return rc;
    }
    for (int i = optind; i < argc; i++) {
        if (o->ntargets == WCONFIG_MAX_TARGETS) return cli_error(EXIT_USAGE, "at most %d targets", WCONFIG_MAX_TARGETS);
        o->targets[o->ntargets++] = argv[i];
    }
    if (o->check) return EXIT_OK;
    if (!o->config && !o->ntargets && !o->discover)
        return cli_error(EXIT_USAGE, "nothing to watch: give URLs, pids, --config FILE or --discover; see 'reef help watch'");
    return EXIT_OK;
}

static int add_targets(const options *o, wconfig *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < o->ntargets; i++)
        if (wconfig_add_target(c, o->targets[i], err, errlen)) return -1;
    return 0;
}

static void apply_options(const options *o, wconfig *c)
{
    if (!isnan(o->interval)) c->interval = o->interval;
    if (!isnan(o->learn)) c->learn = o->learn;
    if (o->events) snprintf(c->events, sizeof c->events, "%s", o->events);
    if (o->captures) snprintf(c->captures.dir, sizeof c->captures.dir, "%s", o->captures);
    if (o->no_captures) c->captures.enabled = false;
    if (o->discover) c->discover.enabled = true;
    for (size_t i = 0; i < o->nmatch && c->discover.nmatch < WCONFIG_MAX_MATCH; i++)
        snprintf(c->discover.match[c->discover.nmatch++], WATCH_NAME_MAX, "%s", o->match[i]);
    const http_options *h = &o->net.http;
    if (h->timeout_ms) c->timeout_ms = h->timeout_ms;
    if (h->connect_timeout_ms) c->connect_timeout_ms = h->connect_timeout_ms;
    if (h->max_bytes) c->max_bytes = h->max_bytes;
    for (size_t i = 0; i < o->net.nheaders && c->nheaders < WCONFIG_MAX_HEADERS; i++)
        snprintf(c->headers[c->nheaders++], WATCH_PATH_MAX, "%s", o->net.headers[i]);
}

/* The agent's loader: the same every time (start and SIGHUP). */
static int load_config(void *ctx, wconfig *c, char *err, size_t errlen)
{
    const options *o = ctx;
    wconfig_defaults(c);
    if (o->config && wconfig_load(o->config, c, err, errlen)) return -1;
    apply_options(o, c);
    if (add_targets(o, c, err, errlen)) return -1;
    return wconfig_validate(c, err, errlen);
}

static int check_config(const options *o)
{
    wconfig *c = malloc(sizeof *c);
    if (!c) return cli_error(EXIT_USAGE, "out of memory");
    char err[1024];
    wconfig_defaults(c);
    int rc = wconfig_load(o->check, c, err, sizeof err);
    if (rc == 0) {
        apply_options(o, c);
        rc = wconfig_validate(c, err, sizeof err);
    }
    if (rc) rc = cli_error(EXIT_USAGE, "%s", err);
    else printf("%s: ok: %zu targets, %zu hooks, discovery %s\n", o->check, c->ntargets, c->nhooks,
                c->discover.enabled ? "on" : "off");
    free(c);
    return rc ? EXIT_USAGE : EXIT_OK;
}

static int run(int argc, char **argv)
{
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc == EXIT_OK && o.check) rc = check_config(&o);
    else if (rc == EXIT_OK) {
        wagent_options ao = {.load = load_config, .load_ctx = &o, .duration = isnan(o.duration) ? 0 : o.duration,
                             .proc_root = o.proc_root, .sysfs_root = o.sysfs_root};
        char err[1024];
        if (wagent_run(&ao, err, sizeof err)) rc = cli_error(EXIT_USAGE, "%s", err);
    }
    cli_http_free(&o.net);
    return rc;
}

const command cmd_watch = {
    .name = "watch",
    .run = run,
    .summary = "watch Go services over time: baselines, WARN/CRIT, captures, hooks",
    .usage = usage_text,
};
