/* gdump.h - streaming parser for Go goroutine dumps.
 *
 * Reads every text form Go prints a goroutine dump in, from Go 1.3 on:
 *   - tracebacks: /debug/pprof/goroutine?debug=2, runtime.Stack(all), and the
 *     dumps in panics, fatal errors and SIGQUIT output, with any text before,
 *     between and after goroutines, and with per-line log prefixes;
 *   - /debug/pprof/goroutine?debug=1 (one block per distinct stack).
 * The format is detected per block, so a log holding both still parses.
 *
 * It reads them as people paste them too: tabs turned into spaces or lost,
 * a log prefix, CI line number or "> " quote on every line, CRLF, color
 * codes, a test runner's trailer, no final newline, a paste cut short.  What
 * it reads past is counted in the model (truncated_line, damaged,
 * duplicates, signal_threads) for the caller to say; the headline above
 * the dump (panic, fatal error, signal, test timeout) goes to
 * model.headline.
 *
 * Input arrives in chunks of any size through gparser_feed(); only the
 * current goroutine's key and, at most, one partial line are buffered, so
 * memory does not grow with the input (beyond a few bytes per goroutine id,
 * kept to count an id printed twice once). */
#ifndef REEF_PARSE_GDUMP_H
#define REEF_PARSE_GDUMP_H

#include "../model/goroutines.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct gparser gparser;

typedef struct gparse_options {
    const char *input_name;  /* for messages: a path, a URL or "<stdin>" */
    unsigned dump;           /* which dump of several to keep: 0 = the last */
    size_t max_line;         /* longest line accepted inside a goroutine */
    bool partial;            /* no effect: a dump cut inside a goroutine is always
                                read, that goroutine counted with the frames that
                                arrived, and model.truncated_line says where */
} gparse_options;

#define GPARSE_DEFAULT_MAX_LINE (1u << 20)

gparser *gparser_new(gmodel *m, const gparse_options *opt);
void gparser_free(gparser *p);

/* Both return 0, or -1 after an error; gparser_error() says what and where
 * ("INPUT:LINE: problem").  After an error further calls return -1. */
int gparser_feed(gparser *p, const char *data, size_t len);
int gparser_finish(gparser *p);
const char *gparser_error(const gparser *p);

/* Lines read so far, and lines skipped as text that is not part of a dump. */
unsigned long long gparser_lines(const gparser *p);
unsigned long long gparser_skipped(const gparser *p);
/* True when text since the last goroutine announced a new dump. */
bool gparser_new_dump_pending(const gparser *p);
/* True when a goroutine id was read by both parsers (two parts of one
 * input read in parallel: the parts cannot be joined by adding). */
bool gparser_ids_overlap(const gparser *a, const gparser *b);

/* Reads a whole source (a file, "-" for stdin, or a URL) into m.  Returns
 * 0, 2 (unreadable or not a dump) or 3 (unreachable), with *message
 * (malloc'd) saying what went wrong. */
struct http_options;
int gdump_read(const char *source, const gparse_options *popt, const struct http_options *http, gmodel *m,
               char **message);

#endif
