/* gdump_parse.h - the goroutine-dump parser run over a text in memory, as
 * the unit tests of the parser use it (included by test_gdump*.c only). */
#ifndef REEF_TESTS_GDUMP_PARSE_H
#define REEF_TESTS_GDUMP_PARSE_H

#include "model/goroutines.h"
#include "parse/gdump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parsed {
    gmodel m;
    int rc;
    char error[512];
} parsed;

/* Parses text fed in chunks of `chunk` bytes (0 = all at once). */
static inline parsed *parse_chunks(const char *text, size_t len, size_t chunk, unsigned dump)
{
    parsed *r = calloc(1, sizeof *r);
    gmodel_init(&r->m);
    gparse_options o = {.input_name = "t", .dump = dump};
    gparser *p = gparser_new(&r->m, &o);
    int rc = 0;
    if (chunk == 0) chunk = len ? len : 1;
    for (size_t off = 0; off < len && rc == 0; off += chunk)
        rc = gparser_feed(p, text + off, len - off < chunk ? len - off : chunk);
    if (rc == 0) rc = gparser_finish(p);
    r->rc = rc;
    if (rc) snprintf(r->error, sizeof r->error, "%s", gparser_error(p));
    gparser_free(p);
    gmodel_sort(&r->m);
    return r;
}

static inline parsed *parse(const char *text) { return parse_chunks(text, strlen(text), 0, 0); }

static inline void done(parsed *r)
{
    gmodel_free(&r->m);
    free(r);
}

#endif
