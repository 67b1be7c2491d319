/* ptop.h - flat and cumulative values per function (or per line) of a
 * profile, as `go tool pprof -top` computes them, and the difference of two
 * profiles, as `go tool pprof -top -base BASE` does.
 *
 * Rules taken from pprof (internal/graph, internal/report):
 *   - a node is a function name (one name in several files, or in two
 *     builds of a diff, is one node), or with by_line a function name,
 *     file and line; frames come from every location's lines, leaf first;
 *   - flat goes to the sample's leaf frame; cum to every distinct node on
 *     the sample's stack, once per sample; samples of value 0 are skipped;
 *   - total is the sum of absolute sample values over all samples (before
 *     --focus and --ignore); for a diff, over the merged samples;
 *   - rows are sorted by |flat| descending, then name, then |cum|. */
#ifndef REEF_ANALYZE_PTOP_H
#define REEF_ANALYZE_PTOP_H

#include "../model/profile.h"
#include "../util/buf.h"
#include "../util/intern.h"

#include <regex.h>
#include <stdbool.h>

/* How function names are shown (see docs/pprof.md, "Names"). */
typedef enum pnames {
    PNAMES_FILE,                /* as the profile has them (pprof -symbolize=none) */
    PNAMES_PPROF,               /* as go tool pprof shows them by default */
} pnames;

typedef struct ptop_options {
    const char *sample_index;   /* name or number; NULL for the default */
    bool by_line;
    const regex_t *focus;       /* keep samples with a frame matching */
    const regex_t *ignore;      /* drop samples with a frame matching */
    const char *tag;            /* split rows by this label's value */
    pnames names;
} ptop_options;

typedef struct prow {
    uint32_t name;              /* in ptop.strings: function name */
    uint32_t file;              /* the first file seen with that name */
    int64_t line;               /* with by_line, else 0 */
    uint32_t tag;               /* label value with --tag; 0 = none */
    int64_t flat, cum;
} prow;

typedef struct ptop {
    intern_table strings;
    prow *rows;
    size_t nrows, cap;
    int64_t total;
    char sample_type[128], unit[64];
    bool has_tag;
} ptop;

/* Fills out (initialised here; free with ptop_free).  Returns 0, or -1 with
 * a message in err when the sample index does not exist. */
int ptop_compute(const profile *p, const ptop_options *o, ptop *out, char *err, size_t errlen);
/* out = src - base.  Both must have the chosen sample type. */
int ptop_diff(const profile *base, const profile *src, const ptop_options *o, ptop *out, char *err, size_t errlen);
void ptop_free(ptop *t);

/* pprof's default simplification of a name that looks like demangled C++
 * (parameter lists and template arguments removed), into out. */
void ptop_pprof_name(const char *name, size_t n, buf *out);

#endif
