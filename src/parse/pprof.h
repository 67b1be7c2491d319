/* pprof.h - streaming decoder of pprof profiles (profile.proto), gzip
 * compressed as Go writes them, or not.
 *
 * Input arrives in chunks through pparser_feed(); it is inflated and each
 * top-level protobuf field is decoded as soon as it is complete, so only
 * the model and one field's bytes are held.  Every index and id is checked
 * once the whole profile is in (Go writes the string table last). */
#ifndef REEF_PARSE_PPROF_H
#define REEF_PARSE_PPROF_H

#include "../model/profile.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct pparser pparser;

typedef struct pparse_options {
    const char *input_name;
    size_t max_size;         /* cap on the decoded (inflated) size */
} pparse_options;

#define PPARSE_DEFAULT_MAX_SIZE ((size_t)1 << 30)

pparser *pparser_new(profile *p, const pparse_options *opt);
void pparser_free(pparser *pp);
int pparser_feed(pparser *pp, const char *data, size_t len);
int pparser_finish(pparser *pp);
const char *pparser_error(const pparser *pp);

/* If the first bytes of a decoded input are those of a profile format
 * older than profile.proto (gperftools CPU, heap, contention and thread
 * profiles, Go's debug=1 text, Java's), or of jemalloc's heap_v2, writes
 * into out which format it is and how to convert it, and returns true. */
bool pprof_legacy_message(const unsigned char *head, size_t n, const char *input, char *out, size_t outlen);

struct http_options;
/* Reads a whole source (file, "-", URL) into p: 0, 2 (bad input) or 3
 * (unreachable), with *message (malloc'd) on failure. */
int pprof_read(const char *source, const pparse_options *opt, const struct http_options *http, profile *p,
               char **message);

#endif
