/* cli.h - shared pieces of the command-line front end (the porcelain). */
#ifndef REEF_CLI_H
#define REEF_CLI_H

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

extern const command cmd_goroutines;

/* Prints "reef: " + message to stderr; returns status. */
int cli_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a non-negative integer option value; exits with EXIT_USAGE on error. */
uint64_t cli_uint(const char *opt, const char *value);
/* Decides on color: "auto" (a terminal and NO_COLOR unset), "always", "never". */
bool cli_color(const char *when, int fd);

#endif
