/* cmd_ps.c - "reef ps": the Go processes of this host.
 *
 *   reef ps [--json] [--no-probe] [PATTERN...]
 *
 * Flow: collect_ps (the /proc walk and the pprof probe) -> filter by
 * pattern -> a table or a JSON array.  With patterns, processes are listed
 * without probing first and only the ones that match are probed, so a
 * pattern also spares the other services the requests. */
#include "cli.h"
#include "../collect/collect_ps.h"
#include "../util/json.h"
#include "../util/xalloc.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: reef ps [--json] [--no-probe] [PATTERN...]\n"
    "\n"
    "Lists the Go processes of this host: every process whose executable\n"
    "carries Go build info (Go 1.18 and later), with its Go version, main\n"
    "module, uptime, resident memory, the TCP ports it listens on, and, when\n"
    "one of those ports serves /debug/pprof/, its goroutine count.\n"
    "\n"
    "Each process's ports are asked for /debug/pprof/goroutine?debug=1\n"
    "(loopback first, at most 4 ports a process, 1.5 s each at most); only the\n"
    "first line of the answer is read.  In the LISTEN column the port that\n"
    "serves pprof is marked \"(pprof)\".\n"
    "\n"
    "A PATTERN (fnmatch(3), e.g. 'api*' or '*/cmd/*') keeps the processes whose\n"
    "name, main module or executable path it matches; a number matches a pid.\n"
    "\n"
    "Options:\n"
    "  --json       a JSON array, one object a process (fields: docs/watch.md,\n"
    "               \"reef ps and discovery\")\n"
    "  --no-probe   do not send any request; GOROUTINES stays \"-\"\n"
    "\n"
    "Another user's process needs root: without it, its executable cannot be\n"
    "read, so it is listed with GO \"?\" and a note on stderr.\n"
    "\n"
    "Exit status: 0 done (also when no Go process runs: \"no Go processes\" on\n"
    "stderr), 2 bad usage or /proc unreadable.\n";

typedef struct options {
    bool json, probe;
    char **patterns;
    int npatterns;
} options;

enum { OPT_JSON = 256, OPT_NO_PROBE };

static const struct option long_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"no-probe", no_argument, NULL, OPT_NO_PROBE},
    {NULL, 0, NULL, 0},
};

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->probe = true;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: o->json = true; break;
        case OPT_NO_PROBE: o->probe = false; break;
        case ':': return cli_error(EXIT_USAGE, "%s needs a value; see 'reef help ps'", argv[optind - 1]);
        default: return cli_error(EXIT_USAGE, "unknown option %s; see 'reef help ps'", argv[optind - 1]);
        }
    }
    o->patterns = argv + optind;
    o->npatterns = argc - optind;
    for (int i = 0; i < o->npatterns; i++)
        if (!*o->patterns[i]) return cli_error(EXIT_USAGE, "an empty PATTERN matches nothing; see 'reef help ps'");
    return EXIT_OK;
}

/* ---- selection ---- */

static bool is_number(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n > 0 && n < 11 && s[n] == '\0';
}

static bool selected(const options *o, const goproc *p)
{
    if (o->npatterns == 0) return true;
    for (int i = 0; i < o->npatterns; i++) {
        const char *pat = o->patterns[i];
        if (is_number(pat) ? strtol(pat, NULL, 10) == p->pid : goproc_matches(p, pat)) return true;
    }
    return false;
}

/* Keeps the selected processes, probing them now if a pattern held the
 * probe back.  A process that exited meanwhile is dropped. */
static size_t select_and_probe(const options *o, const goproc_list_options *lo, goproc *v, size_t n)
{
    size_t kept = 0;
    char err[256];
    for (size_t i = 0; i < n; i++) {
        if (!selected(o, &v[i])) continue;
        goproc p = v[i];
        if (o->probe && o->npatterns && !p.go_unknown && goproc_read(lo, p.pid, &p, err, sizeof err) != 0) continue;
        v[kept++] = p;
    }
    return kept;
}

/* ---- text ---- */

static void fmt_uptime(char *out, size_t size, double s)
{
    if (s < 0) {
        snprintf(out, size, "-");
        return;
    }
    uint64_t t = (uint64_t)s;
    if (t < 60) snprintf(out, size, "%" PRIu64 "s", t);
    else if (t < 3600) snprintf(out, size, "%" PRIu64 "m%02" PRIu64 "s", t / 60, t % 60);
    else if (t < 86400) snprintf(out, size, "%" PRIu64 "h%02" PRIu64 "m", t / 3600, t % 3600 / 60);
    else snprintf(out, size, "%" PRIu64 "d%02" PRIu64 "h", t / 86400, t % 86400 / 3600);
}

static void fmt_rss(char *out, size_t size, int64_t b)
{
    if (b < 0) snprintf(out, size, "-");
    else if (b < 1 << 20) snprintf(out, size, "%" PRId64 "K", b >> 10);
    else if (b < (int64_t)1 << 30) snprintf(out, size, "%.1fM", (double)b / (1 << 20));
    else snprintf(out, size, "%.1fG", (double)b / (1 << 30));
}

static void fmt_listen(char *out, size_t size, const goproc *p)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < p->nports && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%u%s", i ? "," : "", p->ports[i],
                              p->ports[i] == p->pprof_port ? "(pprof)" : "");
    if (!p->nports) snprintf(out, size, "-");
}

enum { COL_PID, COL_NAME, COL_GO, COL_MODULE, COL_UPTIME, COL_RSS, COL_GOROUTINES, COL_LISTEN, NCOLS };
static const char *const headers[NCOLS] = {"PID", "NAME", "GO", "MODULE", "UPTIME", "RSS", "GOROUTINES", "LISTEN"};

typedef struct row {
    char cell[NCOLS][272]; /* the widest field (a module path, 256) fits */
} row;

static void make_row(const goproc *p, row *r)
{
    snprintf(r->cell[COL_PID], sizeof r->cell[0], "%d", p->pid);
    snprintf(r->cell[COL_NAME], sizeof r->cell[0], "%s", p->name);
    snprintf(r->cell[COL_GO], sizeof r->cell[0], "%s", p->go_unknown ? "?" : p->go_version);
    snprintf(r->cell[COL_MODULE], sizeof r->cell[0], "%s", *p->module ? p->module : "-");
    fmt_uptime(r->cell[COL_UPTIME], sizeof r->cell[0], p->uptime_seconds);
    fmt_rss(r->cell[COL_RSS], sizeof r->cell[0], p->rss_bytes);
    if (p->goroutines < 0) snprintf(r->cell[COL_GOROUTINES], sizeof r->cell[0], "-");
    else snprintf(r->cell[COL_GOROUTINES], sizeof r->cell[0], "%" PRId64, p->goroutines);
    fmt_listen(r->cell[COL_LISTEN], sizeof r->cell[0], p);
}

static void print_row(const char *const *cells, const int *width)
{
    for (int c = 0; c < NCOLS; c++) {
        bool right = c == COL_PID || c == COL_RSS || c == COL_GOROUTINES;
        if (c == NCOLS - 1) printf("%s\n", cells[c]);
        else printf(right ? "%*s  " : "%-*s  ", width[c], cells[c]);
    }
}

static void print_table(const goproc *v, size_t n)
{
    row *rows = xmalloc((n ? n : 1) * sizeof *rows);
    int width[NCOLS];
    for (int c = 0; c < NCOLS; c++) width[c] = (int)strlen(headers[c]);
    for (size_t i = 0; i < n; i++) {
        make_row(&v[i], &rows[i]);
        for (int c = 0; c < NCOLS; c++)
            if ((int)strlen(rows[i].cell[c]) > width[c]) width[c] = (int)strlen(rows[i].cell[c]);
    }
    print_row(headers, width);
    for (size_t i = 0; i < n; i++) {
        const char *cells[NCOLS];
        for (int c = 0; c < NCOLS; c++) cells[c] = rows[i].cell[c];
        print_row(cells, width);
    }
    free(rows);
}

/* ---- JSON ---- */

static void j_str_or_null(json_writer *w, const char *key, const char *v)
{
    json_key(w, key);
    if (*v) json_cstring(w, v);
    else json_null(w);
}

static void j_int_or_null(json_writer *w, const char *key, int64_t v)
{
    json_key(w, key);
    if (v < 0) json_null(w);
    else json_int(w, v);
}

static void json_listen(json_writer *w, const goproc *p)
{
    json_key(w, "listen");
    json_begin_array(w);
    for (int i = 0; i < p->nports; i++) {
        json_begin_object(w);
        json_key(w, "port");
        json_int(w, p->ports[i]);
        json_key(w, "loopback");
        json_bool(w, p->loopback[i]);
        json_key(w, "pprof");
        json_bool(w, p->ports[i] == p->pprof_port);
        json_end_object(w);
    }
    json_end_array(w);
}

static void json_process(json_writer *w, const goproc *p)
{
    char hash[17];
    snprintf(hash, sizeof hash, "%016" PRIx64, p->args_hash);
    json_begin_object(w);
    json_key(w, "pid");
    json_int(w, p->pid);
    json_key(w, "name");
    json_cstring(w, p->name);
    j_str_or_null(w, "exe", p->exe);
    json_key(w, "args");
    json_cstring(w, p->args);
    json_key(w, "args_hash"); /* a string: jq and JavaScript lose 64-bit integers */
    json_cstring(w, hash);
    j_str_or_null(w, "go_version", p->go_version);
    j_str_or_null(w, "module", p->module);
    json_key(w, "starttime_ticks");
    json_uint(w, p->starttime_ticks);
    json_key(w, "uptime_seconds");
    if (p->uptime_seconds < 0) json_null(w);
    else json_double(w, p->uptime_seconds);
    j_int_or_null(w, "rss_bytes", p->rss_bytes);
    json_listen(w, p);
    j_str_or_null(w, "pprof_url", p->pprof_url);
    j_int_or_null(w, "goroutines", p->goroutines);
    j_int_or_null(w, "oom_kills", p->go_unknown ? -1 : goproc_oom_kills(NULL, NULL, p->pid));
    j_str_or_null(w, "note", p->note);
    json_end_object(w);
}

static void print_json(const goproc *v, size_t n)
{
    json_writer w;
    json_init(&w, stdout, true);
    json_begin_array(&w);
    for (size_t i = 0; i < n; i++) json_process(&w, &v[i]);
    json_end_array(&w);
    json_finish(&w);
}

/* Unprivileged, every process of another user is unreadable: one line
 * says so for all of them, the others get a line each. */
static void print_notes(const goproc *v, size_t n)
{
    size_t unknown = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].go_unknown) unknown++;
        else if (*v[i].note) fprintf(stderr, "reef: pid %d (%s): %s\n", v[i].pid, v[i].name, v[i].note);
    }
    if (unknown)
        fprintf(stderr,
                "reef: %zu process%s listed with GO \"?\": %s cannot be read (permission denied: another "
                "user's or a more privileged process), so whether %s Go is unknown\n",
                unknown, unknown == 1 ? "" : "es", unknown == 1 ? "its executable" : "their executables",
                unknown == 1 ? "it is" : "they are");
}

static int run(int argc, char **argv)
{
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != EXIT_OK) return rc;
    goproc_list_options lo = {.probe = o.probe && o.npatterns == 0, .unreadable = true};
    goproc *v;
    size_t n;
    char err[512];
    if (goproc_list(&lo, &v, &n, err, sizeof err) != 0) return cli_error(EXIT_USAGE, "%s", err);
    lo.probe = o.probe;
    n = select_and_probe(&o, &lo, v, n);
    if (o.json) print_json(v, n);
    else if (n) print_table(v, n);
    print_notes(v, n);
    if (n == 0) fprintf(stderr, o.npatterns ? "reef: no Go process matches\n" : "reef: no Go processes\n");
    free(v);
    return EXIT_OK;
}

const command cmd_ps = {
    .name = "ps",
    .run = run,
    .summary = "the Go processes of this host, their versions, ports and goroutines",
    .usage = usage_text,
};
