/* gdistinct.c - no two groups print the same reason.
 *
 * Groups whose stacks differ only in deeper frames (a handler reached by two
 * routes, one wait called from two places) get the same one-line reason from
 * their innermost application frame.  Here each run of equal reasons is
 * sorted by stack, so each group's longest shared prefix is with a neighbour,
 * and each group gets the first frame where it parts from its neighbours. */
#include "gclassify_int.h"
#include "../util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static int cmp_reason(const void *a, const void *b)
{
    const ggroup *x = *(const ggroup *const *)a, *y = *(const ggroup *const *)b;
    return strcmp(x->reason ? x->reason : "", y->reason ? y->reason : "");
}

static bool same_frame(const gframe *a, const gframe *b)
{
    return a->func == b->func && a->file == b->file && a->line == b->line;
}

/* Index of the first frame where a and b differ (innermost first). */
static uint32_t first_diff(const ggroup *a, const ggroup *b)
{
    uint32_t i = 0;
    while (i < a->nframes && i < b->nframes && same_frame(&a->frames[i], &b->frames[i])) i++;
    return i;
}

static int cmp_frames(const void *pa, const void *pb)
{
    const ggroup *a = *(const ggroup *const *)pa, *b = *(const ggroup *const *)pb;
    uint32_t i = first_diff(a, b);
    if (i == a->nframes || i == b->nframes) return (a->nframes > b->nframes) - (a->nframes < b->nframes);
    const gframe *x = &a->frames[i], *y = &b->frames[i];
    if (x->func != y->func) return x->func < y->func ? -1 : 1;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static void append_reason(ggroup *g, buf *b)
{
    buf r = {0};
    buf_puts(&r, g->reason);
    buf_puts(&r, buf_cstr(b));
    free(g->reason);
    g->reason = xstrdup(buf_cstr(&r));
    buf_free(&r);
}

/* What tells g apart: its frame at index at, else where it was started. */
static void tell_apart(const gmodel *m, ggroup *g, uint32_t at, size_t ordinal, size_t n)
{
    buf b = {0};
    if (at < g->nframes)
        buf_printf(&b, "; via %s:%u (%s)", gshort_path(gmodel_str(m, g->frames[at].file)), g->frames[at].line,
                   gmodel_str(m, g->frames[at].func));
    else if (g->has_created_by)
        buf_printf(&b, "; started at %s:%u", gshort_path(gmodel_str(m, g->created_by.file)), g->created_by.line);
    else
        buf_printf(&b, "; stack %zu of %zu alike", ordinal, n);
    append_reason(g, &b);
    buf_free(&b);
}

static void distinguish_run(const gmodel *m, ggroup **run, size_t n)
{
    qsort(run, n, sizeof *run, cmp_frames);
    uint32_t *at = xmalloc(n * sizeof *at);
    for (size_t i = 0; i < n; i++) {
        uint32_t d = 0;
        if (i > 0) d = first_diff(run[i], run[i - 1]);
        if (i + 1 < n) {
            uint32_t e = first_diff(run[i], run[i + 1]);
            if (e > d) d = e;
        }
        at[i] = d;
    }
    for (size_t i = 0; i < n; i++) tell_apart(m, run[i], at[i], i + 1, n);
    free(at);
}

/* One pass: every run of equal reasons gets its telling frames.  Returns
 * whether any run was found. */
static bool distinct_pass(gmodel *m, ggroup **order, bool last)
{
    size_t n = m->ngroups;
    qsort(order, n, sizeof *order, cmp_reason);
    bool found = false;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && cmp_reason(&order[i], &order[j]) == 0) j++;
        if (j - i > 1 && order[i]->reason) {
            found = true;
            if (last) {
                buf b = {0};
                for (size_t k = i; k < j; k++) {
                    b.len = 0;
                    buf_printf(&b, " (#%zu)", k - i + 1);
                    append_reason(order[k], &b);
                }
                buf_free(&b);
            } else {
                distinguish_run(m, &order[i], j - i);
            }
        }
        i = j;
    }
    return found;
}

void gdistinct_reasons(gmodel *m)
{
    if (m->ngroups < 2) return;
    ggroup **order = xmalloc(m->ngroups * sizeof *order);
    for (size_t i = 0; i < m->ngroups; i++) order[i] = &m->groups[i];
    /* A frame that parts two groups can still match a third group's
     * reason; the last pass numbers whatever is left. */
    if (distinct_pass(m, order, false) && distinct_pass(m, order, false)) distinct_pass(m, order, true);
    free(order);
}
