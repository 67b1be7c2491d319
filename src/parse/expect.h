/* expect.h - the expectations file of `reef scan --expect FILE`: what must
 * hold in a healthy service, so that a silently failed initialisation (a
 * background loop never started, a metric never registered) shows up.
 *
 * One expectation per line; '#' starts a comment:
 *
 *   goroutine FUNC [>= N] [warn|crit]
 *       at least N (default 1) goroutines have FUNC (a substring of a
 *       function name) on their stack;
 *   metric NAME[{LABEL="VALUE",...}] OP NUMBER [from SOURCE] [warn|crit]
 *       every sample of the metric with those labels satisfies OP
 *       (<, <=, >, >=, ==, !=) NUMBER, and there is at least one;
 *   source SOURCE URL
 *       a second endpoint (a broker's monitoring port: nats-server's
 *       /varz JSON, another Prometheus /metrics) that "from SOURCE" reads
 *       instead of the service's own; declared before its first use.
 *
 * The severity of a failed expectation defaults to warn. */
#ifndef REEF_PARSE_EXPECT_H
#define REEF_PARSE_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum expect_kind { EXPECT_GOROUTINE, EXPECT_METRIC } expect_kind;

typedef struct expectation {
    expect_kind kind;
    char *subject;        /* function substring, or metric name */
    char *labels;         /* required label pairs as written, "" for none */
    char op[3];           /* "<", "<=", ">", ">=", "==", "!=" */
    double bound;
    int severity;         /* SEV_WARN or SEV_CRIT (model/findings.h) */
    int source;           /* index into expectations.sources, -1 for the service's own */
    unsigned line;
} expectation;

/* At most this many "source" lines: each is one more request per sample. */
#define EXPECT_MAX_SOURCES 8

typedef struct expect_source {
    char *name;
    char *url;            /* http:// or https:// */
    unsigned line;
} expect_source;

typedef struct expectations {
    expectation *items;
    size_t n;
    expect_source sources[EXPECT_MAX_SOURCES];
    size_t nsources;
    char *file;
} expectations;

/* Parses a whole file's text.  0, or 2 with "NAME:LINE: problem" in err. */
int expect_parse(const char *text, size_t len, const char *name, expectations *out, char *err, size_t errlen);
int expect_read_file(const char *path, expectations *out, char *err, size_t errlen);
void expectations_free(expectations *x);

/* "NAME{LABELS} OP BOUND", the bound as written in the file. */
void expect_bound_text(const expectation *x, char *out, size_t outlen);

/* Does value satisfy "value OP bound"? */
bool expect_compare(const char *op, double value, double bound);

/* Does a metric's label text (as written between braces) contain every
 * pair of want (same syntax)? */
bool expect_labels_match(const char *have, const char *want);

#endif
