/* gclassify.h - say what each goroutine group is and why it matters.
 *
 * Every group gets a class (see gclass in goroutines.h) and a one-line
 * reason a person can act on.  The rules are documented in
 * docs/goroutines.md; they use only the model, never the raw dump. */
#ifndef REEF_ANALYZE_GCLASSIFY_H
#define REEF_ANALYZE_GCLASSIFY_H

#include "../model/goroutines.h"

typedef struct gclassify_options {
    uint64_t leak_min;    /* a blocked group this large may be a leak */
    uint64_t pileup_min;  /* this many waiters on one Lock call is a pile-up */
} gclassify_options;

#define GCLASSIFY_DEFAULT_LEAK_MIN 10
#define GCLASSIFY_DEFAULT_PILEUP_MIN 10

/* Sets cls, reason and rule of every group.  Reasons are distinct: two
 * groups that would read the same get what tells them apart appended. */
void gclassify(gmodel *m, const gclassify_options *opt);

/* The rule table, in the order rules are tried (for docs and tests). */
size_t gclassify_rule_count(void);
const char *gclassify_rule_name(size_t i);

/* True if the function belongs to Go's standard library or runtime. */
bool gfunc_is_std(const char *func);

/* Index of the innermost frame from application code, or -1. */
int ggroup_app_frame(const gmodel *m, const ggroup *g);

/* "dir/file.go:25": the last two elements of a path, for short messages. */
const char *gshort_path(const char *path);

#endif
