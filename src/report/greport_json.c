/* greport_json.c - the machine view; the schema is in docs/goroutines.md. */
#include "greport.h"
#include "../util/json.h"

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
    uint64_t by_class[GCLASS_COUNT] = {0};
    for (size_t i = 0; i < m->ngroups; i++) by_class[m->groups[i].cls] += m->groups[i].count;
    json_key(&w, "classes");
    json_begin_object(&w);
    for (int c = 0; c < GCLASS_COUNT; c++) {
        json_key(&w, gclass_name((gclass)c));
        json_uint(&w, by_class[c]);
    }
    json_end_object(&w);
    json_key(&w, "groups");
    json_begin_array(&w);
    for (size_t i = 0; i < r->ngroups; i++) group_object(&w, m, r->groups[i]);
    json_end_array(&w);
    json_end_object(&w);
    json_finish(&w);
}
