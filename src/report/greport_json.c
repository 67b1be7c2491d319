/* greport_json.c - the machine view; the schema is in docs/goroutines.md. */
#include "greport.h"
#include "../analyze/gclassify.h"
#include "../analyze/gheadline.h"
#include "../util/json.h"
#include "../util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static void frame_object(json_writer *w, const gmodel *m, const gframe *f)
{
    json_begin_object(w);
    json_key(w, "func");
    json_cstring(w, gmodel_str(m, f->func));
    json_key(w, "file");
    json_cstring(w, gmodel_str(m, f->file));
    json_key(w, "line");
    json_uint(w, f->line);
    json_end_object(w);
}

/* Label sets are stored canonically as {"k":"v", "k2":"v2"} with Go
 * quoting; JSON wants them as an object, which needs a re-quote. */
static void labels_object(json_writer *w, const char *s)
{
    json_begin_object(w);
    const char *p = s;
    char tmp[4096];
    int which = 0;
    while (*p) {
        if (*p != '"') {
            p++;
            continue;
        }
        size_t n = 0;
        p++;
        while (*p && *p != '"' && n + 1 < sizeof tmp) {
            if (*p == '\\' && p[1]) {
                p++;
                switch (*p) {
                case 'n': tmp[n++] = '\n'; break;
                case 't': tmp[n++] = '\t'; break;
                case 'r': tmp[n++] = '\r'; break;
                default: tmp[n++] = *p; break;
                }
                p++;
            } else {
                tmp[n++] = *p++;
            }
        }
        if (*p == '"') p++;
        tmp[n] = '\0';
        if (which == 0) json_key(w, tmp);
        else json_string(w, tmp, n);
        which ^= 1;
    }
    if (which) json_null(w);
    json_end_object(w);
}

static void group_object(json_writer *w, const gmodel *m, const ggroup *g)
{
    json_begin_object(w);
    json_key(w, "count");
    json_uint(w, g->count);
    json_key(w, "state");
    if (g->state) json_cstring(w, gmodel_str(m, g->state));
    else json_null(w);
    json_key(w, "class");
    json_cstring(w, gclass_name(g->cls));
    json_key(w, "reason");
    json_cstring(w, g->reason ? g->reason : "");
    json_key(w, "rule");
    if (g->rule) json_cstring(w, g->rule);
    else json_null(w);
    json_key(w, "wait_minutes");
    if (g->wait_max >= 0) {
        json_begin_array(w);
        json_int(w, g->wait_min);
        json_int(w, g->wait_max);
        json_end_array(w);
    } else {
        json_null(w);
    }
    json_key(w, "locked_to_thread");
    json_uint(w, g->locked);
    json_key(w, "leaked");
    json_uint(w, g->leaked);
    json_key(w, "stack_unavailable");
    json_bool(w, g->unavailable);
    json_key(w, "frames");
    json_begin_array(w);
    for (uint32_t i = 0; i < g->nframes; i++) frame_object(w, m, &g->frames[i]);
    json_end_array(w);
    if (g->elided_at != UINT32_MAX) {
        json_key(w, "elided");
        json_begin_object(w);
        json_key(w, "after_frame");
        json_uint(w, g->elided_at);
        json_key(w, "frames");
        if (g->elided > 0) json_int(w, g->elided);
        else json_null(w);
        json_end_object(w);
    }
    json_key(w, "created_by");
    if (g->has_created_by) frame_object(w, m, &g->created_by);
    else json_null(w);
    json_key(w, "parent_ids");
    json_begin_array(w);
    for (uint32_t i = 0; i < g->nparents; i++) json_uint(w, g->parents[i]);
    json_end_array(w);
    json_key(w, "parent_ids_truncated");
    json_bool(w, g->parents_truncated);
    json_key(w, "sample_ids");
    json_begin_array(w);
    for (uint32_t i = 0; i < g->nids; i++) json_uint(w, g->ids[i]);
    json_end_array(w);
    json_key(w, "id_range");
    if (g->id_max) {
        json_begin_array(w);
        json_uint(w, g->id_min);
        json_uint(w, g->id_max);
        json_end_array(w);
    } else {
        json_null(w);
    }
    json_key(w, "labels");
    json_begin_array(w);
    for (uint32_t i = 0; i < g->nlabels; i++) {
        json_begin_object(w);
        json_key(w, "set");
        labels_object(w, gmodel_str(m, g->labels[i]));
        json_key(w, "count");
        json_uint(w, g->label_counts[i]);
        json_end_object(w);
    }
    json_end_array(w);
    json_end_object(w);
}

/* A group's application frame (else its innermost), for the headline. */
static void where_object(json_writer *w, const gmodel *m, const ggroup *g)
{
    if (!g || !g->nframes) {
        json_null(w);
        return;
    }
    int app = ggroup_app_frame(m, g);
    frame_object(w, m, &g->frames[app >= 0 ? app : 0]);
}

static void running_tests_array(json_writer *w, const char *t)
{
    if (!t) {
        json_null(w);
        return;
    }
    json_begin_array(w);
    for (const char *p = t; *p;) {
        p += strspn(p, " \t\n");
        size_t n = strcspn(p, "\n");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        if (n) json_string(w, p, n);
        p += strcspn(p, "\n");
    }
    json_end_array(w);
}

static void headline_object(json_writer *w, const gmodel *m)
{
    const gheadline *h = &m->headline;
    if (h->kind == GHEAD_NONE) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_key(w, "kind");
    json_cstring(w, gheadline_kind_name(h->kind));
    json_key(w, "message");
    if (h->message) json_cstring(w, h->message);
    else json_null(w);
    json_key(w, "count");
    json_uint(w, h->count);
    json_key(w, "line");
    json_uint(w, h->line);
    json_key(w, "goroutine");
    if (h->goroutine) json_uint(w, h->goroutine);
    else json_null(w);
    json_key(w, "goroutine_at");
    where_object(w, m, gheadline_culprit(m));
    json_key(w, "running_tests");
    running_tests_array(w, h->running_tests);
    json_key(w, "test_goroutine_at");
    where_object(w, m, gheadline_test_group(m));
    buf b = {0};
    gheadline_explain(m, &b);
    json_key(w, "explanation");
    json_string(w, b.data ? b.data : "", b.len);
    buf_free(&b);
    json_end_object(w);
}

void greport_json(FILE *out, const greport *r)
{
    const gmodel *m = r->model;
    json_writer w;
    json_init(&w, out, true);
    json_begin_object(&w);
    json_key(&w, "schema");
    json_cstring(&w, "reef.goroutines/1");
    json_key(&w, "source");
    json_cstring(&w, r->source ? r->source : "");
    if (r->endpoint) {
        json_key(&w, "endpoint");
        json_cstring(&w, r->endpoint);
    }
    json_key(&w, "format");
    json_cstring(&w, m->format == GDUMP_COUNTS ? "debug=1" : "traceback");
    json_key(&w, "leak_profile");
    json_bool(&w, m->leak_profile);
    json_key(&w, "dumps");
    json_uint(&w, m->dumps);
    json_key(&w, "truncated");
    json_bool(&w, m->truncated_line != 0);
    json_key(&w, "dump");
    json_uint(&w, m->selected_dump);
    json_key(&w, "total");
    json_uint(&w, m->total);
    json_key(&w, "groups_total");
    json_uint(&w, m->ngroups);
    json_key(&w, "similar");
    json_bool(&w, r->similar);
    json_key(&w, "headline");
    headline_object(&w, m);
    uint64_t by_class[GCLASS_COUNT] = {0};
    for (size_t i = 0; i < m->ngroups; i++) by_class[m->groups[i].cls] += m->groups[i].count;
    json_key(&w, "classes");
    json_begin_object(&w);
    for (int c = 0; c < GCLASS_COUNT; c++) {
        json_key(&w, gclass_name((gclass)c));
        json_uint(&w, by_class[c]);
    }
    json_end_object(&w);
    const ggroup **order = xmalloc((r->ngroups ? r->ngroups : 1) * sizeof *order);
    memcpy(order, r->groups, r->ngroups * sizeof *order);
    gheadline_order(m, order, r->ngroups);
    json_key(&w, "groups");
    json_begin_array(&w);
    for (size_t i = 0; i < r->ngroups; i++) group_object(&w, m, order[i]);
    json_end_array(&w);
    free(order);
    json_end_object(&w);
    json_finish(&w);
}
