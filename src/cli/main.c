/* main.c - reef's command dispatcher: "reef COMMAND [options]". */
#include "cli.h"
#include "../version.h"
#include "../util/xalloc.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const command *const commands[] = {
    &cmd_scan,
    &cmd_watch,
    &cmd_goroutines,
    &cmd_pprof,
    &cmd_buildinfo,
    &cmd_proc,
    &cmd_ps,
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

int cli_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("reef: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

uint64_t cli_uint(const char *opt, const char *value)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || end == value || *end || value[0] == '-') {
        cli_error(EXIT_USAGE, "%s wants a non-negative whole number, not \"%s\"", opt, value);
        exit(EXIT_USAGE);
    }
    return v;
}

bool cli_color(const char *when, int fd)
{
    if (!when || strcmp(when, "auto") == 0) {
        const char *nc = getenv("NO_COLOR");
        const char *term = getenv("TERM");
        return isatty(fd) && !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
    }
    if (strcmp(when, "always") == 0) return true;
    if (strcmp(when, "never") == 0) return false;
    cli_error(EXIT_USAGE, "--color wants auto, always or never, not \"%s\"", when);
    exit(EXIT_USAGE);
}

bool cli_http_option(cli_http *h, int c, const char *arg)
{
    switch (c) {
    case CLI_OPT_TIMEOUT: h->http.timeout_ms = (long)cli_uint("--timeout", arg) * 1000; return true;
    case CLI_OPT_CONNECT_TIMEOUT: h->http.connect_timeout_ms = (long)cli_uint("--connect-timeout", arg) * 1000; return true;
    case CLI_OPT_MAX_BYTES: h->http.max_bytes = cli_uint("--max-bytes", arg); return true;
    case 'k': h->http.insecure = true; return true;
    case 'H':
        h->headers = xrealloc(h->headers, (h->nheaders + 2) * sizeof *h->headers);
        h->headers[h->nheaders++] = arg;
        h->headers[h->nheaders] = NULL;
        h->http.headers = h->headers;
        return true;
    default: return false;
    }
}

void cli_http_free(cli_http *h)
{
    free(h->headers);
    h->headers = NULL;
    h->nheaders = 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: reef COMMAND [options] [args]\n"
            "\n"
            "reef finds the silent failures of running Go services from the outside.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out,
            "  %-12s %s\n"
            "  %-12s %s\n"
            "\n"
            "Exit status: 0 success, 1 findings at or above the failure threshold,\n"
            "2 bad usage or unreadable input, 3 target unreachable.\n"
            "Run 'reef help COMMAND' for a command's options.\n",
            "help", "show help for reef or a command", "version", "print reef's version");
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

static int help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return EXIT_OK;
    }
    const command *c = find(argv[1]);
    if (!c) return cli_error(EXIT_USAGE, "no command \"%s\"; 'reef help' lists them", argv[1]);
    fputs(c->usage, stdout);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /* One malloc arena: reef's second thread (the profile decoder) would
     * otherwise get an arena of its own, a megabyte of memory for nothing. */
    mallopt(M_ARENA_MAX, 1);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("reef %s\n", REEF_VERSION);
        return EXIT_OK;
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return help(argc - 1, argv + 1);
    const command *c = find(name);
    if (!c) return cli_error(EXIT_USAGE, "no command \"%s\"; 'reef help' lists them", name);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(c->usage, stdout);
            return EXIT_OK;
        }
    }
    int rc = c->run(argc - 1, argv + 1);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        /* A closed pipe (reef ... | head) is not an error worth a message. */
        if (errno != EPIPE) return cli_error(EXIT_USAGE, "writing output: %s", strerror(errno));
    }
    return rc;
}
