/* cmd_pprof.c - "reef pprof": read, compare and draw Go profiles.
 *
 *   reef pprof top    [options] SOURCE [PROFILE]
 *   reef pprof diff   [options] BASE SOURCE
 *   reef pprof folded [options] SOURCE [PROFILE]
 *   reef pprof svg    [options] SOURCE [PROFILE] -o FILE
 *
 * Flow: collector -> pparser -> profile -> ptop -> reporter. */
#include "cli.h"
#include "../analyze/ptop.h"
#include "../collect/collect.h"
#include "../parse/pprof.h"
#include "../report/preport.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: reef pprof top    [options] SOURCE [PROFILE]\n"
    "       reef pprof diff   [options] BASE SOURCE\n"
    "       reef pprof folded [options] SOURCE [PROFILE]\n"
    "       reef pprof svg    [options] SOURCE [PROFILE] -o FILE\n"
    "\n"
    "Reads pprof profiles (profile.proto, gzip-compressed or not): Go's, as\n"
    "/debug/pprof and runtime/pprof write them (cpu, heap, allocs, goroutine,\n"
    "mutex, block, threadcreate, goroutineleak), and other producers'.  Legacy\n"
    "formats are named, with the command that converts them.\n"
    "\n"
    "  top     flat and cumulative values per function, like go tool pprof -top\n"
    "  diff    what changed from BASE to SOURCE, like go tool pprof -top -base BASE\n"
    "  folded  folded stacks (flamegraph.pl, speedscope, inferno input)\n"
    "  svg     a self-contained flame graph: hover for values, click to zoom\n"
    "\n"
    "SOURCE is a file, - for stdin, or a URL.  Given a base URL\n"
    "(http://host:port), PROFILE names the profile to fetch: heap, allocs,\n"
    "goroutine, mutex, block, threadcreate, goroutineleak, or cpu (alias\n"
    "profile, for --seconds).\n"
    "\n"
    "Options:\n"
    "  --sample-index NAME  alloc_space, inuse_space, ... or a number (default: as pprof)\n"
    "  --by func|line       rows per function (default) or per source line\n"
    "  --focus REGEX        only samples with a frame whose function or file matches\n"
    "  --ignore REGEX       drop samples with a frame whose function or file matches\n"
    "  --nodecount N        show the first N rows (default all)\n"
    "  --tag KEY            split rows by the value of the sample label KEY\n"
    "  --names file|pprof   function names as the profile has them (default), or\n"
    "                       simplified as go tool pprof shows them by default\n"
    "  --json               JSON (top, diff): sample_type, unit, total, rows\n"
    "  -o, --output FILE    write to FILE (svg needs it)\n"
    "  --max-size BYTES     refuse profiles that inflate beyond this (default 1 GiB)\n"
    "  --seconds N          cpu profile length when fetching one (default 10)\n"
    "  --timeout SEC, --connect-timeout SEC, --max-bytes N, -H HEADER, -k\n"
    "                       as for reef goroutines\n"
    "\n"
    "Exit status: 0 done, 2 bad usage or input, 3 service unreachable.\n";

typedef struct options {
    const char *sample_index, *focus, *ignore, *tag, *output;
    bool by_line, json;
    pnames names;
    size_t nodecount, max_size;
    unsigned seconds;
    cli_http net;
} options;

enum { OPT_SI = 256, OPT_BY, OPT_FOCUS, OPT_IGNORE, OPT_NODECOUNT, OPT_TAG, OPT_JSON, OPT_MAX_SIZE, OPT_SECONDS, OPT_NAMES };

static const struct option long_options[] = {
    {"sample-index", required_argument, NULL, OPT_SI},
    {"by", required_argument, NULL, OPT_BY},
    {"focus", required_argument, NULL, OPT_FOCUS},
    {"ignore", required_argument, NULL, OPT_IGNORE},
    {"nodecount", required_argument, NULL, OPT_NODECOUNT},
    {"tag", required_argument, NULL, OPT_TAG},
    {"json", no_argument, NULL, OPT_JSON},
    {"output", required_argument, NULL, 'o'},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"names", required_argument, NULL, OPT_NAMES},
    CLI_HTTP_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->seconds = 10;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:" CLI_HTTP_SHORT_OPTIONS, long_options, NULL)) != -1) {
        if (cli_http_option(&o->net, c, optarg)) continue;
        switch (c) {
        case OPT_SI: o->sample_index = optarg; break;
        case OPT_BY:
            if (strcmp(optarg, "line") == 0) o->by_line = true;
            else if (strcmp(optarg, "func") != 0) return cli_error(EXIT_USAGE, "--by wants func or line, not \"%s\"", optarg);
            break;
        case OPT_NAMES:
            if (strcmp(optarg, "pprof") == 0) o->names = PNAMES_PPROF;
            else if (strcmp(optarg, "file") != 0) return cli_error(EXIT_USAGE, "--names wants file or pprof, not \"%s\"", optarg);
            break;
        case OPT_FOCUS: o->focus = optarg; break;
        case OPT_IGNORE: o->ignore = optarg; break;
        case OPT_NODECOUNT: o->nodecount = cli_uint("--nodecount", optarg); break;
        case OPT_TAG: o->tag = optarg; break;
        case OPT_JSON: o->json = true; break;
        case 'o': o->output = optarg; break;
        case OPT_MAX_SIZE: o->max_size = cli_uint("--max-size", optarg); break;
        case OPT_SECONDS: o->seconds = (unsigned)cli_uint("--seconds", optarg); break;
        case ':': return cli_error(EXIT_USAGE, "%s needs a value; see 'reef help pprof'", argv[optind - 1]);
        default: return cli_error(EXIT_USAGE, "unknown option %s; see 'reef help pprof'", argv[optind - 1]);
        }
    }
    return EXIT_OK;
}

static const char *const profile_names[] = {"heap", "allocs", "goroutine", "mutex", "block", "threadcreate",
                                            "goroutineleak", "cpu", "profile"};

/* The URL to fetch for SOURCE [PROFILE]; NULL (after a message) if unusable. */
static char *profile_url(const char *source, const char *name, options *o, int *status)
{
    if (!collect_is_base_url(source)) {
        if (name) {
            *status = cli_error(EXIT_USAGE, "a profile name (%s) goes with a base URL such as http://host:port", name);
            return NULL;
        }
        return xstrdup(source);
    }
    if (!name) {
        *status = cli_error(EXIT_USAGE, "%s is a service: name the profile to fetch, e.g. %s heap", source, source);
        return NULL;
    }
    bool known = false;
    for (size_t i = 0; i < sizeof profile_names / sizeof *profile_names; i++) known |= strcmp(name, profile_names[i]) == 0;
    if (!known) {
        *status = cli_error(EXIT_USAGE, "unknown profile \"%s\": heap, allocs, goroutine, mutex, block, threadcreate, "
                                        "goroutineleak or cpu", name);
        return NULL;
    }
    char path[64];
    if (strcmp(name, "cpu") == 0 || strcmp(name, "profile") == 0) {
        snprintf(path, sizeof path, "profile?seconds=%u", o->seconds);
        /* The service answers only after the profile is taken. */
        if (!o->net.http.timeout_ms) o->net.http.timeout_ms = ((long)o->seconds + 30) * 1000;
    } else {
        snprintf(path, sizeof path, "%s", name);
    }
    return collect_endpoint(source, path);
}

static int load(const char *url, const char *shown, options *o, profile *p)
{
    pparse_options popt = {.input_name = shown, .max_size = o->max_size};
    char *message;
    int rc = pprof_read(url, &popt, &o->net.http, p, &message);
    if (rc == 0 && p->warning[0]) fprintf(stderr, "reef: warning: %s: %s\n", shown, p->warning);
    if (rc) {
        cli_error(rc, "%s%s", message,
                  strstr(message, "already in use") ? " (another CPU profile is being taken; reef does not retry)" : "");
        free(message);
    }
    return rc;
}

static int compile(const char *what, const char *re_text, regex_t *re)
{
    int rc = regcomp(re, re_text, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char msg[256];
        regerror(rc, re, msg, sizeof msg);
        return cli_error(EXIT_USAGE, "%s \"%s\": %s", what, re_text, msg);
    }
    return EXIT_OK;
}

static FILE *open_output(const options *o, int *status)
{
    if (!o->output || strcmp(o->output, "-") == 0) return stdout;
    FILE *f = fopen(o->output, "w");
    if (!f) *status = cli_error(EXIT_USAGE, "%s: cannot write: %m", o->output);
    return f;
}

static int close_output(FILE *f, const options *o)
{
    if (f == stdout) return EXIT_OK;
    if (fclose(f) != 0) return cli_error(EXIT_USAGE, "%s: write failed: %m", o->output);
    return EXIT_OK;
}

/* top and diff share everything but the second profile. */
static int run_table(options *o, const char *base_src, const char *src, const char *name)
{
    int status = EXIT_OK;
    char *base_url = NULL, *url = profile_url(src, name, o, &status);
    if (!url) return status;
    if (base_src && !(base_url = profile_url(base_src, name, o, &status))) {
        free(url);
        return status;
    }
    regex_t focus, ignore;
    bool have_focus = false, have_ignore = false;
    if (o->focus && (status = compile("--focus", o->focus, &focus)) == EXIT_OK) have_focus = true;
    if (status == EXIT_OK && o->ignore && (status = compile("--ignore", o->ignore, &ignore)) == EXIT_OK)
        have_ignore = true;
    profile base, p;
    profile_init(&base);
    profile_init(&p);
    if (status == EXIT_OK && base_url) status = load(base_url, base_src, o, &base);
    if (status == EXIT_OK) status = load(url, src, o, &p);
    if (status == EXIT_OK) {
        ptop_options to = {.sample_index = o->sample_index, .by_line = o->by_line,
                           .focus = have_focus ? &focus : NULL, .ignore = have_ignore ? &ignore : NULL, .tag = o->tag,
                           .names = o->names};
        ptop t;
        char err[512];
        int rc = base_url ? ptop_diff(&base, &p, &to, &t, err, sizeof err) : ptop_compute(&p, &to, &t, err, sizeof err);
        if (rc < 0) {
            status = cli_error(EXIT_USAGE, "%s: %s", src, err);
        } else {
            FILE *out = open_output(o, &status);
            if (out) {
                ptop_report r = {.top = &t, .source = src, .base = base_src, .nodecount = o->nodecount,
                                 .by_line = o->by_line};
                if (o->json) preport_top_json(out, &r);
                else preport_top_text(out, &r);
                status = close_output(out, o);
            }
        }
        ptop_free(&t);
    }
    if (have_focus) regfree(&focus);
    if (have_ignore) regfree(&ignore);
    profile_free(&base);
    profile_free(&p);
    free(url);
    free(base_url);
    return status;
}

static int run_draw(options *o, bool svg, const char *src, const char *name)
{
    int status = EXIT_OK;
    if (svg && !o->output) return cli_error(EXIT_USAGE, "svg writes a file: give it with -o FILE");
    char *url = profile_url(src, name, o, &status);
    if (!url) return status;
    profile p;
    profile_init(&p);
    status = load(url, src, o, &p);
    if (status == EXIT_OK) {
        int vi = o->sample_index ? profile_sample_index(&p, o->sample_index) : profile_default_index(&p);
        if (vi < 0) {
            status = cli_error(EXIT_USAGE, "%s: no sample type \"%s\"", src, o->sample_index);
        } else {
            FILE *out = open_output(o, &status);
            if (out) {
                if (svg) preport_svg(out, &p, vi, src);
                else preport_folded(out, &p, vi);
                status = close_output(out, o);
            }
        }
    }
    profile_free(&p);
    free(url);
    return status;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    options o;
    int rc = parse_options(argc - 1, argv + 1, &o);
    if (rc != EXIT_OK) {
        cli_http_free(&o.net);
        return rc;
    }
    char **args = argv + 1 + optind;
    int nargs = argc - 1 - optind;
    if (strcmp(sub, "top") == 0 || strcmp(sub, "folded") == 0 || strcmp(sub, "svg") == 0) {
        if (nargs < 1 || nargs > 2) rc = cli_error(EXIT_USAGE, "pprof %s takes SOURCE [PROFILE]; see 'reef help pprof'", sub);
        else if (strcmp(sub, "top") == 0) rc = run_table(&o, NULL, args[0], nargs > 1 ? args[1] : NULL);
        else rc = run_draw(&o, strcmp(sub, "svg") == 0, args[0], nargs > 1 ? args[1] : NULL);
    } else if (strcmp(sub, "diff") == 0) {
        if (nargs < 2 || nargs > 3) rc = cli_error(EXIT_USAGE, "pprof diff takes BASE SOURCE [PROFILE]; see 'reef help pprof'");
        else rc = run_table(&o, args[0], args[1], nargs > 2 ? args[2] : NULL);
    } else {
        rc = cli_error(EXIT_USAGE, "no pprof subcommand \"%s\": top, diff, folded or svg", sub);
    }
    cli_http_free(&o.net);
    return rc;
}

const command cmd_pprof = {
    .name = "pprof",
    .run = run,
    .summary = "read, compare and draw Go profiles (top, diff, folded, svg)",
    .usage = usage_text,
};
