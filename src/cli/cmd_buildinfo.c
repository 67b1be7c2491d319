/* cmd_buildinfo.c - "reef buildinfo": how a Go executable or a running Go
 * process was built (Go version, modules, build settings), as
 * `go version -m` shows it, without a Go toolchain.
 *
 *   reef buildinfo [--json] FILE|PID... */
#include "cli.h"
#include "../parse/buildinfo.h"
#include "../util/json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: reef buildinfo [--json] FILE|PID...\n"
    "\n"
    "Prints the build information a Go executable carries (Go 1.18 and later):\n"
    "the Go version, the main package and module, the dependency modules with\n"
    "their replacements, and the build settings, in the format of\n"
    "`go version -m FILE`.  A number is a process id: reef reads /proc/PID/exe,\n"
    "the executable the process runs (write ./123 for a file named 123).\n"
    "\n"
    "Options:\n"
    "  --json   one JSON object per input: file, go_version, path, main, deps,\n"
    "           settings (see docs/buildinfo.md)\n"
    "\n"
    "Exit status: 0 done, 2 bad usage, or an input that is not a readable Go\n"
    "executable (the others are still printed).\n";

enum { OPT_JSON = 256 };

static const struct option long_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

static bool is_pid(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n > 0 && n < 11 && s[n] == '\0';
}

static void json_module(json_writer *w, const buildinfo_module *m)
{
    if (!m || !m->path) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_key(w, "path");
    json_cstring(w, m->path);
    json_key(w, "version");
    json_cstring(w, m->version);
    json_key(w, "sum");
    json_cstring(w, m->sum);
    json_key(w, "replace");
    json_module(w, m->replace);
    json_end_object(w);
}

static void print_json(const char *file, const char *pid, const buildinfo *bi)
{
    json_writer w;
    json_init(&w, stdout, true);
    json_begin_object(&w);
    json_key(&w, "file");
    json_cstring(&w, file);
    if (pid) {
        json_key(&w, "pid");
        json_uint(&w, strtoull(pid, NULL, 10));
    }
    json_key(&w, "go_version");
    json_cstring(&w, bi->go_version);
    json_key(&w, "path");
    if (bi->path) json_cstring(&w, bi->path);
    else json_null(&w);
    json_key(&w, "main");
    json_module(&w, &bi->main);
    json_key(&w, "deps");
    json_begin_array(&w);
    for (size_t i = 0; i < bi->ndeps; i++) json_module(&w, &bi->deps[i]);
    json_end_array(&w);
    json_key(&w, "settings");
    json_begin_object(&w);
    for (size_t i = 0; i < bi->nsettings; i++) {
        json_key(&w, bi->settings[i].key);
        json_cstring(&w, bi->settings[i].value);
    }
    json_end_object(&w);
    json_end_object(&w);
    json_finish(&w);
}

/* One FILE or PID argument. */
static int show(const char *arg, bool json)
{
    char procfile[64];
    const char *file = arg, *pid = NULL;
    if (is_pid(arg)) {
        pid = arg;
        snprintf(procfile, sizeof procfile, "/proc/%s", arg);
        if (access(procfile, F_OK) != 0) return cli_error(EXIT_USAGE, "%s: no such process", arg);
        snprintf(procfile, sizeof procfile, "/proc/%s/exe", arg);
        file = procfile;
    }
    buildinfo bi;
    char err[512];
    if (buildinfo_read_file(file, &bi, err, sizeof err) != 0) {
        if (pid) return cli_error(EXIT_USAGE, "process %s: %s", pid, err);
        return cli_error(EXIT_USAGE, "%s", err);
    }
    if (json) {
        print_json(file, pid, &bi);
    } else {
        printf("%s: %s\n", arg, bi.go_version);
        buildinfo_print(&bi, stdout);
    }
    buildinfo_free(&bi);
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (c == OPT_JSON) json = true;
        else return cli_error(EXIT_USAGE, "unknown option %s; see 'reef help buildinfo'", argv[optind - 1]);
    }
    if (optind >= argc) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    int status = EXIT_OK;
    for (int i = optind; i < argc; i++)
        if (show(argv[i], json) != EXIT_OK) status = EXIT_USAGE;
    return status;
}

const command cmd_buildinfo = {
    .name = "buildinfo",
    .run = run,
    .summary = "the Go version, modules and build settings of a Go binary or process",
    .usage = usage_text,
};
