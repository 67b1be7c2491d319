/* greport_text.c - the human view: a summary line, then each group with
 * its class, count, state, wait time and reason, then its stack. */
#include "greport.h"
#include "../analyze/gclassify.h"
#include "../analyze/gheadline.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_MAGENTA "\033[35m"
#define C_CYAN "\033[36m"
#define C_GREEN "\033[32m"

static const char *class_label(gclass c)
{
    switch (c) {
    case GCLASS_LEAK: return "leak suspect";
    case GCLASS_PILEUP: return "lock pile-up";
    case GCLASS_POOL_WAIT: return "pool wait";
    case GCLASS_IO_WAIT: return "I/O wait";
    case GCLASS_IDLE: return "idle";
    case GCLASS_RUNNING: return "running";
    case GCLASS_UPSTREAM_WAIT: return "upstream wait";
    case GCLASS_NET_WRITE: return "net write";
    case GCLASS_DEADLOCKED: return "deadlocked";
    default: return "other";
    }
}

static const char *class_color(gclass c)
{
    switch (c) {
    case GCLASS_LEAK: return C_RED;
    case GCLASS_PILEUP: return C_MAGENTA;
    case GCLASS_POOL_WAIT: return C_YELLOW;
    case GCLASS_RUNNING: return C_GREEN;
    case GCLASS_IO_WAIT: return C_CYAN;
    case GCLASS_NET_WRITE: return C_CYAN;
    case GCLASS_UPSTREAM_WAIT: return C_YELLOW;
    case GCLASS_DEADLOCKED: return C_RED;
    default: return "";
    }
}

static void wait_cell(char *out, size_t n, const ggroup *g)
{
    if (g->wait_max < 0) snprintf(out, n, "-");
    else if (g->wait_max == 0) snprintf(out, n, "<1m");
    else if (g->wait_min == g->wait_max) snprintf(out, n, "%" PRId64 "m", g->wait_max);
    else snprintf(out, n, "%" PRId64 "-%" PRId64 "m", g->wait_min, g->wait_max);
}

static void print_frame(FILE *out, const greport *r, const gframe *f, const char *indent)
{
    const gmodel *m = r->model;
    fprintf(out, "%s%s%s%s\n", indent, r->color ? C_BOLD : "", gmodel_str(m, f->func), r->color ? C_RESET : "");
    fprintf(out, "%s    %s%s:%u%s\n", indent, r->color ? C_DIM : "", gmodel_str(m, f->file), f->line,
            r->color ? C_RESET : "");
}

static void print_stack(FILE *out, const greport *r, const ggroup *g)
{
    const gmodel *m = r->model;
    if (g->unavailable) fprintf(out, "      (stack unavailable: running on another thread)\n");
    for (uint32_t i = 0; i < g->nframes; i++) {
        if (i == g->elided_at) {
            if (g->elided > 0) fprintf(out, "      ... %" PRId64 " frames elided ...\n", g->elided);
            else fprintf(out, "      ... frames elided ...\n");
        }
        if (r->hide_runtime && gfunc_is_std(gmodel_str(m, g->frames[i].func)) &&
            strncmp(gmodel_str(m, g->frames[i].func), "runtime.", 8) == 0)
            continue;
        print_frame(out, r, &g->frames[i], "      ");
    }
    if (g->elided_at == g->nframes && g->elided_at != UINT32_MAX)
        fprintf(out, "      ... frames elided ...\n");
    if (g->has_created_by) {
        fprintf(out, "      created by\n");
        print_frame(out, r, &g->created_by, "      ");
    }
}

static void print_labels(FILE *out, const greport *r, const ggroup *g)
{
    for (uint32_t i = 0; i < g->nlabels; i++)
        fprintf(out, "      labels %s x%" PRIu64 "\n", gmodel_str(r->model, g->labels[i]), g->label_counts[i]);
    if (g->labels_truncated) fprintf(out, "      (more label sets)\n");
}

/* The program's own words first ("fatal error: ...", "panic: ..."), then
 * what they mean for the goroutines below. */
static void print_headline(FILE *out, const greport *r)
{
    const gheadline *h = &r->model->headline;
    if (h->kind == GHEAD_NONE) return;
    const char *prefix = h->kind == GHEAD_SIGNAL ? "" :
                         (h->kind == GHEAD_PANIC || h->kind == GHEAD_TEST_TIMEOUT) ? "panic: " : "fatal error: ";
    const char *msg = h->message ? h->message : "";
    size_t first = strcspn(msg, "\n");
    fprintf(out, "%s%s%.*s%s", r->color ? C_BOLD C_RED : "", prefix, (int)first, msg, r->color ? C_RESET : "");
    if (h->count > 1) fprintf(out, " (%u times)", h->count);
    if (h->line) fprintf(out, " (line %llu)", h->line);
    fputc('\n', out);
    for (const char *p = msg + first; *p;) {
        p += strspn(p, "\n");
        size_t n = strcspn(p, "\n");
        if (n) fprintf(out, "    %.*s\n", (int)n, p);
        p += n;
    }
    buf b = {0};
    gheadline_explain(r->model, &b);
    if (b.len) fputs(buf_cstr(&b), out);
    buf_free(&b);
    fputc('\n', out);
}

void greport_text(FILE *out, const greport *r)
{
    const gmodel *m = r->model;
    print_headline(out, r);
    uint64_t shown = 0, by_class[GCLASS_COUNT] = {0};
    for (size_t i = 0; i < r->ngroups; i++) {
        shown += r->groups[i]->count;
        by_class[r->groups[i]->cls] += r->groups[i]->count;
    }
    fprintf(out, "%s%" PRIu64 " goroutine%s in %zu group%s%s", r->color ? C_BOLD : "", m->total,
            m->total == 1 ? "" : "s", m->ngroups, m->ngroups == 1 ? "" : "s", r->color ? C_RESET : "");
    fprintf(out, " (%s dump", m->format == GDUMP_COUNTS ? "debug=1" : "traceback");
    if (m->dumps > 1) fprintf(out, ", dump %u of %u", m->selected_dump, m->dumps);
    fprintf(out, ")");
    if (r->ngroups != m->ngroups)
        fprintf(out, "; showing %" PRIu64 " in %zu group%s", shown, r->ngroups, r->ngroups == 1 ? "" : "s");
    fprintf(out, "\n");
    bool first = true;
    for (int c = 1; c < GCLASS_COUNT; c++) {
        if (!by_class[c]) continue;
        fprintf(out, "%s%s%s%s %" PRIu64 "%s", first ? "  " : ", ", r->color ? class_color((gclass)c) : "",
                class_label((gclass)c), "", by_class[c], r->color ? C_RESET : "");
        first = false;
    }
    if (by_class[0]) fprintf(out, "%sother %" PRIu64, first ? "  " : ", ", by_class[0]);
    fprintf(out, "\n\n");

    /* Columns as wide as their widest cell, so states of any length align. */
    int state_w = 5, wait_w = 4;
    char wait[48];
    for (size_t i = 0; i < r->ngroups; i++) {
        const ggroup *g = r->groups[i];
        int sw = g->state ? (int)strlen(gmodel_str(m, g->state)) : 1;
        if (sw > state_w) state_w = sw;
        wait_cell(wait, sizeof wait, g);
        if ((int)strlen(wait) > wait_w) wait_w = (int)strlen(wait);
    }
    if (state_w > 40) state_w = 40;
    const ggroup **order = xmalloc((r->ngroups ? r->ngroups : 1) * sizeof *order);
    memcpy(order, r->groups, r->ngroups * sizeof *order);
    gheadline_order(m, order, r->ngroups);
    for (size_t i = 0; i < r->ngroups; i++) {
        const ggroup *g = order[i];
        if (g->cls == GCLASS_RUNNING) snprintf(wait, sizeof wait, "-");
        else wait_cell(wait, sizeof wait, g);
        const char *state = g->state ? gmodel_str(m, g->state) : "-";
        const char *col = r->color ? class_color(g->cls) : "";
        fprintf(out, "%s%-13s%s %8" PRIu64 "  %-*s  %*s", col, class_label(g->cls), r->color ? C_RESET : "", g->count,
                state_w, state, wait_w, wait);
        if (g->locked) fprintf(out, "  locked %" PRIu64, g->locked);
        fprintf(out, "\n  %s\n", g->reason ? g->reason : "");
        if (!r->brief) {
            print_labels(out, r, g);
            print_stack(out, r, g);
            fprintf(out, "\n");
        }
    }
    free(order);
}
