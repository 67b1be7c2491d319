/* cli.h - shared pieces of the command-line front end (the porcelain). */
#ifndef REEF_CLI_H
#define REEF_CLI_H

#include "../collect/collect.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses, the same for every command. */
enum {
    EXIT_OK = 0,
    EXIT_FINDINGS = 1,    /* findings at or above the failure threshold */
    EXIT_USAGE = 2,       /* bad usage or unreadable input */
    EXIT_UNREACHABLE = 3, /* the target could not be reached */
};

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *usage; /* full help text */
} command;

/* The HTTP options of every command that fetches from a service. */
enum { CLI_OPT_TIMEOUT = 1000, CLI_OPT_CONNECT_TIMEOUT, CLI_OPT_MAX_BYTES };
#define CLI_HTTP_SHORT_OPTIONS "H:k"
#define CLI_HTTP_LONG_OPTIONS                                               \
    {"timeout", required_argument, NULL, CLI_OPT_TIMEOUT},                  \
    {"connect-timeout", required_argument, NULL, CLI_OPT_CONNECT_TIMEOUT},  \
    {"max-bytes", required_argument, NULL, CLI_OPT_MAX_BYTES},              \
    {"header", required_argument, NULL, 'H'},                               \
    {"insecure", no_argument, NULL, 'k'}

typedef struct cli_http {
    http_options http;
    const char **headers;    /* NULL-terminated, for http.headers */
    size_t nheaders;
} cli_http;

/* Applies option c if it is one of CLI_HTTP_*; returns whether it was. */
bool cli_http_option(cli_http *h, int c, const char *arg);
void cli_http_free(cli_http *h);

extern const command cmd_scan;
extern const command cmd_goroutines;
extern const command cmd_pprof;
extern const command cmd_buildinfo;
extern const command cmd_proc;
extern const command cmd_watch;
extern const command cmd_ps;

/* Prints "reef: " + message to stderr; returns status. */
int cli_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a non-negative integer option value; exits with EXIT_USAGE on error. */
uint64_t cli_uint(const char *opt, const char *value);
/* Decides on color: "auto" (a terminal and NO_COLOR unset), "always", "never". */
bool cli_color(const char *when, int fd);

#endif
