/* gdump_untidy.h - the parts of goroutine-dump reading that deal with text
 * as people paste it rather than as Go prints it: log prefixes and quoting
 * in front of every line, goroutine ids printed twice, and the headline
 * (panic, fatal error, signal, test timeout) above a dump.
 *
 * Internal to src/parse: gdump.c is the only user. */
#ifndef REEF_PARSE_GDUMP_UNTIDY_H
#define REEF_PARSE_GDUMP_UNTIDY_H

#include "../model/goroutines.h"
#include "../util/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- line prefixes --------------------------------------------------------
 * What stood before "goroutine N [" (or "panic: ") on its line: a log
 * timestamp, "host app[12]:", "> " quoting, a CI line number, indentation.
 * Lines that follow carry the same prefix, or one of the same shape (the
 * clock moved on, the line number grew a digit), or none at all (a logger
 * that prefixed only the first line of a multi-line message). */
#define LPREFIX_MAX 160
#define LPREFIX_TOKENS 16

typedef struct lprefix {
    size_t len;                      /* 0: no prefix */
    char text[LPREFIX_MAX];          /* the prefix as seen, when len fits */
    unsigned tokens;                 /* whitespace-separated fields, when it ends in whitespace */
    unsigned char shape[LPREFIX_TOKENS]; /* per field: classes of its first and last byte */
} lprefix;

void lprefix_learn(lprefix *p, const char *s, size_t n);
/* Cuts the prefix, or one of its shape, from the front of *s, and then any
 * whitespace.  A line without it is left as it is (minus leading
 * whitespace): the caller reads the content, not the columns. */
void lprefix_cut(const lprefix *p, const char **s, size_t *n);

/* True when s[0..n) can stand before a headline or header on a log line:
 * empty, whitespace, quoting, or fields of which one holds a digit or a
 * bracket (timestamps, "app[12]:", "[pod/x]").  "recovered panic: x" in a
 * sentence is not a headline. */
bool lprefix_plausible(const char *s, size_t n);

/* ---- sets of goroutine ids ------------------------------------------------
 * A bitmap while ids are small and dense (one bit per id), a hash table of
 * the ids otherwise, so memory stays a few bytes per goroutine at most. */
typedef struct idset {
    uint64_t *bits;
    size_t nwords;
    uint64_t *keys; /* 0 = empty: goroutine ids are never 0 */
    size_t nslots, nkeys, count;
} idset;

bool idset_add(idset *s, uint64_t id); /* false when id was there already */
bool idset_has(const idset *s, uint64_t id);
void idset_clear(idset *s);
void idset_free(idset *s);
bool idset_overlaps(const idset *a, const idset *b);

/* ---- headlines ------------------------------------------------------------ */
typedef struct headline_text {
    gheadline_kind kind;
    buf message, tests;
    unsigned long long line;
    unsigned count;
    enum { HL_IDLE, HL_MESSAGE, HL_TESTS } mode;
    unsigned extra_lines;   /* continuation lines taken so far */
    lprefix prefix;         /* of the headline line, cut from its continuations */
} headline_text;

typedef enum hl_result {
    HL_NOT_MINE,            /* not headline text */
    HL_CONTINUED,           /* a continuation line, taken */
    HL_STARTED,             /* a new headline: the next goroutine starts a dump */
} hl_result;

/* Offers one line of text outside goroutines (no line end; may be empty). */
hl_result headline_line(headline_text *h, const char *s, size_t n, unsigned long long lineno);
/* True when the line, past any plausible prefix, is "SIG...: ...". */
bool headline_is_signal(const char *s, size_t n);
/* Copies the pending headline into m->headline (strings in m's arena) and
 * forgets it; m->headline.kind is GHEAD_NONE when none was pending. */
void headline_commit(headline_text *h, gmodel *m);
/* Forgets the pending headline (its dump is not the one kept). */
void headline_forget(headline_text *h);
void headline_free(headline_text *h);

#endif
