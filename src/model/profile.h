/* profile.h - the in-memory model of a pprof profile (profile.proto).
 *
 * The decoder (parse/pprof.c) fills it; analyzers (analyze/ptop.c) read it.
 * Everything is stored in flat arrays indexed by dense indexes; ids from the
 * file are mapped to indexes as they are first seen.  Strings stay indexes
 * into the profile's own string table, which Go writes last, and are
 * checked once the whole profile has been read. */
#ifndef REEF_MODEL_PROFILE_H
#define REEF_MODEL_PROFILE_H

#include "../util/arena.h"
#include "../util/idmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pvaluetype {
    int64_t type, unit;      /* string indexes */
} pvaluetype;

typedef struct pline {
    uint32_t func;           /* function index */
    int32_t line;            /* clamped to 32 bits: no source file is longer */
} pline;

typedef struct plocation {
    uint64_t address, mapping_id;
    uint32_t first_line;     /* into profile.lines */
    uint32_t nlines : 31;
    uint32_t defined : 1;    /* its message was read (not just referenced) */
} plocation;

typedef struct pfunction {
    uint64_t id;
    int64_t name, system_name, filename, start_line;
    bool defined;
} pfunction;

typedef struct pmapping {
    uint64_t id;
    int64_t filename;        /* string index */
} pmapping;

/* String indexes of labels are kept in 32 bits; an index that does not
 * fit becomes PSTR_INVALID, which validation reports like any other. */
#define PSTR_INVALID UINT32_MAX
typedef struct plabel {
    uint32_t key, str, num_unit;
    int64_t num;
} plabel;

/* Samples are the bulk of a large profile: 32 bytes each, with 32-bit
 * indexes into the shared arrays (the decoder refuses more entries). */
typedef struct psample {
    uint32_t first_loc;      /* byte offset into profile.sample_locs */
    uint32_t nlocs;
    uint32_t first_value;    /* byte offset into profile.values */
    uint32_t nvalues;
    uint32_t first_label;    /* into profile.labels */
    uint32_t nlabels;
    uint64_t where;          /* decompressed offset, for messages */
} psample;

typedef struct profile {
    pvaluetype *sample_types;
    size_t nsample_types, cap_sample_types;
    psample *samples;
    size_t nsamples, cap_samples;
    /* Each sample's location indexes, leaf first, as varints: a third
     * smaller than 32-bit indexes on large profiles. */
    unsigned char *sample_locs;
    size_t nsample_locs, cap_sample_locs; /* bytes */
    /* Sample values as the varints they were in the file (int64 as
     * uint64): small counts take a byte or two instead of eight. */
    unsigned char *values;
    size_t nvalues, cap_values; /* bytes */
    plabel *labels;
    size_t nlabels, cap_labels;
    plocation *locations;
    size_t nlocations, cap_locations;
    pline *lines;
    size_t nlines, cap_lines;
    pfunction *functions;
    size_t nfunctions, cap_functions;
    pmapping *mappings;
    size_t nmappings, cap_mappings;

    /* The string table: offsets into one growing buffer. */
    char *strbuf;
    size_t strbuf_len, strbuf_cap;
    size_t *str_off;         /* nstrings + 1 offsets */
    size_t nstrings, cap_strings;

    idmap location_ids, function_ids;

    int64_t *comments;
    size_t ncomments, cap_comments;
    int64_t drop_frames, keep_frames;
    int64_t time_nanos, duration_nanos, period;
    pvaluetype period_type;
    int64_t default_sample_type;
    size_t inflated_bytes;   /* size of the decoded protobuf */
    char warning[256];       /* what was read but could not be applied */
} profile;

void profile_init(profile *p);
void profile_free(profile *p);

static inline const char *profile_str(const profile *p, int64_t i)
{
    return p->strbuf + p->str_off[i];
}
static inline size_t profile_strlen(const profile *p, int64_t i)
{
    return p->str_off[i + 1] - p->str_off[i] - 1;
}

/* Reads the next location index of a sample's stack (see sample_locs). */
static inline uint32_t pstack_next(const unsigned char **cur)
{
    uint32_t v = 0;
    unsigned shift = 0;
    unsigned char c;
    do {
        c = *(*cur)++;
        v |= (uint32_t)(c & 0x7f) << shift;
        shift += 7;
    } while (c & 0x80);
    return v;
}

/* Value vi of sample s (vi < s->nvalues). */
static inline int64_t psample_value(const profile *p, const psample *s, int vi)
{
    const unsigned char *cur = p->values + s->first_value;
    for (;;) {
        uint64_t v = 0;
        unsigned shift = 0;
        unsigned char c;
        do {
            c = *cur++;
            v |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
        } while (c & 0x80);
        if (vi-- == 0) return (int64_t)v;
    }
}

static inline const unsigned char *pstack_begin(const profile *p, const psample *s)
{
    /* A profile whose samples have no locations has no array at all. */
    return p->sample_locs ? p->sample_locs + s->first_loc : NULL;
}

/* Index of the sample type named name (or given as a number), or -1. */
int profile_sample_index(const profile *p, const char *name);
/* The sample type pprof shows by default: default_sample_type, else the last. */
int profile_default_index(const profile *p);

/* Applies the profile's drop_frames and keep_frames as pprof does (its
 * Prune): in each location, the first frame from the caller side whose
 * function matches drop_frames and not keep_frames is removed with the
 * frames inlined into it; in each sample, the stack is cut below the first
 * such location from the root, unless no other frame is above it.  A
 * pattern that is not a POSIX extended regular expression leaves the
 * profile as it is, with a warning. */
void profile_drop_frames(profile *p);

/* The name pprof prints for a frame it has no function name for:
 * "[binary]" from the location's mapping, else "<unknown>". */
const char *profile_unnamed_frame(const profile *p, const plocation *loc, char *out, size_t n);

#endif
