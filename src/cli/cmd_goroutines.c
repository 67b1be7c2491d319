/* cmd_goroutines.c - "reef goroutines": read a goroutine dump from a file,
 * stdin or a live service, group, classify and report it.
 *
 * Flow: collector -> gparser -> gmodel -> gclassify -> filters -> reporter. */
#include "cli.h"
#include "../analyze/gclassify.h"
#include "../collect/collect.h"
#include "../parse/gdump.h"
#include "../report/greport.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Below this many goroutines a debug=2 dump is fetched automatically: at the
 * measured ~16 us of stopped world per goroutine that is under 100 ms. */
#define DEFAULT_FULL_CAP 5000

static const char usage_text[] =
    "usage: reef goroutines [options] [FILE | URL | -]\n"
    "\n"
    "Groups the goroutines of a Go goroutine dump by stack and says which groups\n"
    "are leaks, lock pile-ups, connection-pool waits, I/O waits, idle or running.\n"
    "\n"
    "Input (default: stdin):\n"
    "  FILE        a /debug/pprof/goroutine?debug=2 or debug=1 dump, or a log holding\n"
    "              a panic, fatal error or SIGQUIT dump (text around it is skipped)\n"
    "  URL         http(s)://host:port fetches /debug/pprof/goroutine: debug=1 first,\n"
    "              then debug=2 if the service has at most --full-cap goroutines;\n"
    "              a URL with a path is fetched as given\n"
    "\n"
    "Output:\n"
    "  --json             JSON (schema in docs/goroutines.md)\n"
    "  --folded           folded stacks, one line per group (flame-graph input)\n"
    "  --brief            text: one line and a reason per group, no stacks\n"
    "  --color WHEN       auto (default), always, never\n"
    "\n"
    "Grouping and filters:\n"
    "  --similar          also merge stacks that differ only in line numbers\n"
    "  --match REGEX      keep groups with a frame, state or creator matching REGEX\n"
    "  --min-count N      keep groups of at least N goroutines\n"
    "  --class CLASS      keep one class: leak, lock-pileup, pool-wait,\n"
    "                     upstream-wait, net-write, deadlocked, io-wait, idle,\n"
    "                     running, other\n"
    "  --hide-runtime     drop groups with no application frame, and runtime frames\n"
    "  --dump N           with several dumps in the input, use the Nth (default: last)\n"
    "  --partial          (no longer needed) a dump cut short is always read: the cut\n"
    "                     goroutine is counted with the frames that arrived, and\n"
    "                     stderr says where the input was cut\n"
    "\n"
    "Classification:\n"
    "  --leak-min N       blocked groups this large may be leaks (default 10)\n"
    "  --pileup-min N     waiters on one Lock call that make a pile-up (default 10)\n"
    "\n"
    "Fetching (URL input):\n"
    "  --full             fetch debug=2 whatever the goroutine count (it stops the\n"
    "                     world for the whole dump: seconds at 100k goroutines)\n"
    "  --full-cap N       fetch debug=2 automatically below N goroutines (default 5000,\n"
    "                     0 never)\n"
    "  --timeout SEC      whole request (default 60), --connect-timeout SEC (default 3)\n"
    "  --max-bytes N      largest response accepted (default 536870912)\n"
    "  -H, --header H     add a request header, e.g. \"Authorization: Bearer $TOKEN\"\n"
    "  -k, --insecure     do not verify TLS certificates\n"
    "\n"
    "Exit status: 0 done, 2 bad usage or input, 3 service unreachable.\n";

typedef struct options {
    bool json, folded, brief, similar, hide_runtime, full, partial;
    const char *color;
    const char *match;
    int cls;
    uint64_t min_count;
    unsigned dump;
    gclassify_options classify;
    uint64_t full_cap;
    cli_http net;
} options;

enum {
    OPT_JSON = 256, OPT_FOLDED, OPT_BRIEF, OPT_COLOR, OPT_SIMILAR, OPT_MATCH, OPT_MIN_COUNT, OPT_CLASS,
    OPT_HIDE_RUNTIME, OPT_DUMP, OPT_LEAK_MIN, OPT_PILEUP_MIN, OPT_FULL, OPT_FULL_CAP, OPT_PARTIAL,
};

static const struct option long_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"folded", no_argument, NULL, OPT_FOLDED},
    {"brief", no_argument, NULL, OPT_BRIEF},
    {"color", required_argument, NULL, OPT_COLOR},
    {"similar", no_argument, NULL, OPT_SIMILAR},
    {"match", required_argument, NULL, OPT_MATCH},
    {"min-count", required_argument, NULL, OPT_MIN_COUNT},
    {"class", required_argument, NULL, OPT_CLASS},
    {"hide-runtime", no_argument, NULL, OPT_HIDE_RUNTIME},
    {"dump", required_argument, NULL, OPT_DUMP},
    {"leak-min", required_argument, NULL, OPT_LEAK_MIN},
    {"pileup-min", required_argument, NULL, OPT_PILEUP_MIN},
    {"full", no_argument, NULL, OPT_FULL},
    {"partial", no_argument, NULL, OPT_PARTIAL},
    {"full-cap", required_argument, NULL, OPT_FULL_CAP},
    CLI_HTTP_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int parse_class(const char *s)
{
    for (int c = 0; c < GCLASS_COUNT; c++)
        if (strcmp(s, gclass_name((gclass)c)) == 0) return c;
    return -1;
}

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->cls = -1;
    o->full_cap = DEFAULT_FULL_CAP;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":" CLI_HTTP_SHORT_OPTIONS, long_options, NULL)) != -1) {
        if (cli_http_option(&o->net, c, optarg)) continue;
        switch (c) {
        case OPT_JSON: o->json = true; break;
        case OPT_FOLDED: o->folded = true; break;
        case OPT_BRIEF: o->brief = true; break;
        case OPT_COLOR: o->color = optarg; break;
        case OPT_SIMILAR: o->similar = true; break;
        case OPT_MATCH: o->match = optarg; break;
        case OPT_MIN_COUNT: o->min_count = cli_uint("--min-count", optarg); break;
        case OPT_CLASS:
            o->cls = parse_class(optarg);
            if (o->cls < 0) return cli_error(EXIT_USAGE, "--class: unknown class \"%s\"", optarg);
            break;
        case OPT_HIDE_RUNTIME: o->hide_runtime = true; break;
        case OPT_DUMP: o->dump = (unsigned)cli_uint("--dump", optarg); break;
        case OPT_LEAK_MIN: o->classify.leak_min = cli_uint("--leak-min", optarg); break;
        case OPT_PILEUP_MIN: o->classify.pileup_min = cli_uint("--pileup-min", optarg); break;
        case OPT_FULL: o->full = true; break;
        case OPT_PARTIAL: o->partial = true; break;
        case OPT_FULL_CAP: o->full_cap = cli_uint("--full-cap", optarg); break;
        case ':': return cli_error(EXIT_USAGE, "%s needs a value; see 'reef help goroutines'", argv[optind - 1]);
        default: return cli_error(EXIT_USAGE, "unknown option %s; see 'reef help goroutines'", argv[optind - 1]);
        }
    }
    if (o->json + o->folded > 1) return cli_error(EXIT_USAGE, "--json and --folded exclude each other");
    if (o->net.http.timeout_ms == 0 && o->full) o->net.http.timeout_ms = 120000;
    return EXIT_OK;
}

/* ---- reading ---------------------------------------------------------- */

/* Reads one source into m.  Returns an exit status. */
static int read_dump(const char *source, const char *name, const options *o, gmodel *m)
{
    /* A cut dump (a paste cut short, Go's debug=2 handler stopping at 64 MiB)
     * is read; warn_untidy() says where it was cut. */
    gparse_options popt = {.input_name = name, .dump = o->dump};
    char *message;
    int rc = gdump_read(source, &popt, &o->net.http, m, &message);
    if (rc) cli_error(rc, "%s", message);
    free(message);
    return rc;
}

static char *endpoint(const char *base, int debug)
{
    char path[40];
    snprintf(path, sizeof path, "goroutine?debug=%d", debug);
    return collect_endpoint(base, path);
}

/* A base URL: debug=1 first (cheap: the world stops only briefly), then
 * debug=2 for states and wait times if the service is small enough. */
static int fetch_service(const char *base, const options *o, gmodel *m, char **used)
{
    if (o->full) {
        *used = endpoint(base, 2);
        return read_dump(*used, *used, o, m);
    }
    *used = endpoint(base, 1);
    int rc = read_dump(*used, *used, o, m);
    if (rc != EXIT_OK || o->full_cap == 0 || m->total > o->full_cap) return rc;
    gmodel full;
    gmodel_init(&full);
    char *url2 = endpoint(base, 2);
    rc = read_dump(url2, url2, o, &full);
    if (rc == EXIT_OK) {
        gmodel_free(m);
        *m = full;
        free(*used);
        *used = url2;
    } else {
        gmodel_free(&full);
        free(url2);
    }
    return rc;
}

/* Says on stderr what the parser read past, so that no figure printed is
 * silently short: a cut, lines that were not Go's, ids printed twice, the
 * signal thread. */
static void warn_untidy(const char *name, const gmodel *m)
{
    if (m->truncated_line && m->format == GDUMP_COUNTS)
        fprintf(stderr, "reef: %s is cut at line %llu, in a debug=1 block: that block's stack is incomplete\n", name,
                m->truncated_line);
    else if (m->truncated_line && m->truncated_goroutine)
        fprintf(stderr, "reef: %s is cut at line %llu, inside goroutine %llu: it is counted with the frames that arrived\n",
                name, m->truncated_line, (unsigned long long)m->truncated_goroutine);
    else if (m->truncated_line)
        fprintf(stderr, "reef: %s is cut at line %llu, in a goroutine header: that goroutine is not counted\n", name,
                m->truncated_line);
    if (m->damaged)
        fprintf(stderr, "reef: %s:%llu: %llu line%s inside goroutines %s not Go's stack frames and %s left out\n", name,
                m->damaged_line, (unsigned long long)m->damaged, m->damaged == 1 ? "" : "s",
                m->damaged == 1 ? "is" : "are", m->damaged == 1 ? "is" : "are");
    if (m->duplicates)
        fprintf(stderr, "reef: %s: %llu goroutine%s printed twice (concurrent fatal errors, crash output): each id is counted once\n",
                name, (unsigned long long)m->duplicates, m->duplicates == 1 ? "" : "s");
    if (m->signal_threads)
        fprintf(stderr, "reef: %s: goroutine 0 is the thread that took the signal, not a goroutine: not counted\n", name);
}

/* ---- filtering ---------------------------------------------------------- */

static bool group_matches(const gmodel *m, const ggroup *g, const regex_t *re)
{
    char line[32];
    if (g->state && regexec(re, gmodel_str(m, g->state), 0, NULL, 0) == 0) return true;
    if (g->has_created_by && regexec(re, gmodel_str(m, g->created_by.func), 0, NULL, 0) == 0) return true;
    for (uint32_t i = 0; i < g->nframes; i++) {
        const gframe *f = &g->frames[i];
        if (regexec(re, gmodel_str(m, f->func), 0, NULL, 0) == 0) return true;
        buf b = {0};
        snprintf(line, sizeof line, ":%u", f->line);
        buf_puts(&b, gmodel_str(m, f->file));
        buf_puts(&b, line);
        bool hit = regexec(re, buf_cstr(&b), 0, NULL, 0) == 0;
        buf_free(&b);
        if (hit) return true;
    }
    return false;
}

static int select_groups(const gmodel *m, const options *o, const ggroup ***out, size_t *n)
{
    regex_t re;
    if (o->match) {
        int rc = regcomp(&re, o->match, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char msg[256];
            regerror(rc, &re, msg, sizeof msg);
            return cli_error(EXIT_USAGE, "--match \"%s\": %s", o->match, msg);
        }
    }
    const ggroup **list = xmalloc((m->ngroups ? m->ngroups : 1) * sizeof *list);
    size_t k = 0;
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        if (g->count < o->min_count) continue;
        if (o->cls >= 0 && (int)g->cls != o->cls) continue;
        if (o->hide_runtime && ggroup_app_frame(m, g) < 0) continue;
        if (o->match && !group_matches(m, g, &re)) continue;
        list[k++] = g;
    }
    if (o->match) regfree(&re);
    *out = list;
    *n = k;
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != EXIT_OK) return rc;
    if (optind < argc - 1) {
        cli_http_free(&o.net);
        return cli_error(EXIT_USAGE, "one input at a time; see 'reef help goroutines'");
    }
    const char *source = optind < argc ? argv[optind] : "-";
    if (strcmp(source, "-") == 0 && isatty(STDIN_FILENO)) {
        cli_http_free(&o.net);
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *name = strcmp(source, "-") == 0 ? "<stdin>" : source;

    gmodel m;
    gmodel_init(&m);
    char *used = NULL;
    if (collect_is_base_url(source)) rc = fetch_service(source, &o, &m, &used);
    else rc = read_dump(source, name, &o, &m);
    if (rc == EXIT_OK) {
        warn_untidy(name, &m);
        if (m.dumps > 1 && o.dump == 0 && !o.json)
            fprintf(stderr, "reef: %s holds %u dumps; showing the last (--dump N picks another)\n", name, m.dumps);
        if (o.similar) gmodel_merge_similar(&m);
        else gmodel_sort(&m);
        gclassify(&m, &o.classify);
        const ggroup **list = NULL;
        size_t n = 0;
        rc = select_groups(&m, &o, &list, &n);
        if (rc == EXIT_OK) {
            greport r = {
                .model = &m, .groups = list, .ngroups = n, .source = source, .endpoint = used,
                .color = cli_color(o.color, STDOUT_FILENO), .brief = o.brief,
                .hide_runtime = o.hide_runtime, .similar = o.similar,
            };
            if (o.json) greport_json(stdout, &r);
            else if (o.folded) greport_folded(stdout, &r);
            else greport_text(stdout, &r);
            free(list);
        }
    }
    free(used);
    cli_http_free(&o.net);
    gmodel_free(&m);
    return rc;
}

const command cmd_goroutines = {
    .name = "goroutines",
    .run = run,
    .summary = "group a goroutine dump and find leaks, pile-ups and pool waits",
    .usage = usage_text,
};
