/* ptop.c - per-function totals of a profile; see ptop.h. */
#include "ptop.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Working state for one profile: node ids per function or line, regex
 * verdicts per function, and the per-sample "seen" stamps for cum. */
typedef struct walker {
    const profile *p;
    const ptop_options *o;
    ptop *out;
    intern_table *keys;       /* node identity -> node id */
    int vi;                   /* sample value index */
    uint32_t *node_of;        /* per function (or line) index, 0 = unknown */
    signed char *focus_of, *ignore_of; /* per function: -1 unknown, 0, 1 */
    uint64_t *stamp;          /* per node id */
    size_t nstamp;
    uint64_t sample_no;
    buf key;
} walker;

static const char *tag_value(const walker *w, const psample *s, char *num, size_t numlen)
{
    const profile *p = w->p;
    for (uint32_t k = 0; k < s->nlabels; k++) {
        const plabel *l = &p->labels[s->first_label + k];
        if (strcmp(profile_str(p, l->key), w->o->tag) != 0) continue;
        if (l->str) return profile_str(p, l->str);
        snprintf(num, numlen, "%lld%s", (long long)l->num, l->num_unit ? profile_str(p, l->num_unit) : "");
        return num;
    }
    return NULL;
}

/* The node for one frame: line index li of location loc. */
static uint32_t node_for(walker *w, const plocation *loc, size_t li, const char *tag)
{
    const profile *p = w->p;
    ptop *out = w->out;
    size_t cache = SIZE_MAX;
    const pline *ln = loc->nlines ? &p->lines[li] : NULL;
    if (!tag && ln && ln->func != UINT32_MAX) {
        cache = w->o->by_line ? li : ln->func;
        if (w->node_of[cache]) return w->node_of[cache];
    }
    const char *name = "", *file = "";
    char unnamed[256];
    int64_t line = 0;
    if (ln && ln->func != UINT32_MAX) {
        const pfunction *f = &p->functions[ln->func];
        name = profile_str(p, f->name);
        file = profile_str(p, f->filename);
        if (w->o->by_line) line = ln->line;
    }
    /* pprof aggregates addresses away, so a frame without a name is
     * "[binary]" or "<unknown>". */
    if (!*name) name = profile_unnamed_frame(p, loc, unnamed, sizeof unnamed);
    buf *k = &w->key;
    k->len = 0;
    buf_puts(k, name);
    buf_putc(k, '\x01');
    buf_puts(k, file);
    if (w->o->by_line) buf_printf(k, "\x01%lld", (long long)line);
    if (tag) {
        buf_putc(k, '\x02');
        buf_puts(k, tag);
    }
    size_t before = w->keys->count;
    uint32_t id = intern(w->keys, k->data, k->len);
    if (w->keys->count != before) {
        out->rows = xgrow(out->rows, &out->cap, (size_t)id + 1, sizeof *out->rows);
        while (out->nrows <= id) memset(&out->rows[out->nrows++], 0, sizeof *out->rows);
        prow *r = &out->rows[id];
        r->name = intern(&out->strings, name, strlen(name));
        r->file = intern(&out->strings, file, strlen(file));
        r->line = line;
        r->tag = tag ? intern(&out->strings, tag, strlen(tag)) : 0;
    }
    /* Ids may come from an earlier walk (the other side of a diff). */
    if (w->nstamp <= id) {
        size_t n = w->nstamp;
        w->stamp = xgrow(w->stamp, &w->nstamp, (size_t)id + 1, sizeof *w->stamp);
        memset(w->stamp + n, 0, (w->nstamp - n) * sizeof *w->stamp);
    }
    if (cache != SIZE_MAX) w->node_of[cache] = id;
    return id;
}

/* Does any frame of the sample match re?  Verdicts are cached per function. */
static bool sample_matches(walker *w, const psample *s, const regex_t *re, signed char *verdict)
{
    const profile *p = w->p;
    const unsigned char *cur = pstack_begin(p, s);
    for (uint32_t i = 0; i < s->nlocs; i++) {
        const plocation *loc = &p->locations[pstack_next(&cur)];
        for (uint32_t j = 0; j < loc->nlines; j++) {
            uint32_t fi = p->lines[loc->first_line + j].func;
            if (fi == UINT32_MAX) continue;
            if (verdict[fi] < 0) {
                const pfunction *f = &p->functions[fi];
                verdict[fi] = regexec(re, profile_str(p, f->name), 0, NULL, 0) == 0 ||
                              regexec(re, profile_str(p, f->filename), 0, NULL, 0) == 0;
            }
            if (verdict[fi]) return true;
        }
    }
    return false;
}

static void walk(walker *w, int64_t sign)
{
    const profile *p = w->p;
    ptop *out = w->out;
    for (size_t si = 0; si < p->nsamples; si++) {
        const psample *s = &p->samples[si];
        int64_t v = psample_value(p, s, w->vi);
        if (v == 0) continue;
        if (w->o->focus && !sample_matches(w, s, w->o->focus, w->focus_of)) continue;
        if (w->o->ignore && sample_matches(w, s, w->o->ignore, w->ignore_of)) continue;
        v *= sign;
        char num[64];
        const char *tag = w->o->tag ? tag_value(w, s, num, sizeof num) : NULL;
        if (w->o->tag && !tag) tag = "(none)";
        w->sample_no++;
        bool leaf = true;
        const unsigned char *cur = pstack_begin(p, s);
        for (uint32_t i = 0; i < s->nlocs; i++) {
            const plocation *loc = &p->locations[pstack_next(&cur)];
            uint32_t n = loc->nlines ? loc->nlines : 1;
            for (uint32_t j = 0; j < n; j++) {
                uint32_t id = node_for(w, loc, loc->first_line + j, tag);
                prow *r = &out->rows[id];
                if (leaf) {
                    r->flat += v;
                    leaf = false;
                }
                if (w->stamp[id] != w->sample_no) {
                    w->stamp[id] = w->sample_no;
                    r->cum += v;
                }
            }
        }
    }
}

static int pick_index(const profile *p, const ptop_options *o, char *err, size_t errlen)
{
    int vi = o->sample_index ? profile_sample_index(p, o->sample_index) : profile_default_index(p);
    if (vi < 0) {
        buf names = {0};
        for (size_t i = 0; i < p->nsample_types; i++)
            buf_printf(&names, "%s%s", i ? ", " : "", profile_str(p, p->sample_types[i].type));
        snprintf(err, errlen, "no sample type \"%s\" in this profile (it has %s)", o->sample_index ? o->sample_index : "",
                 buf_cstr(&names));
        buf_free(&names);
    }
    return vi;
}

static void walker_init(walker *w, const profile *p, const ptop_options *o, ptop *out, intern_table *keys, int vi)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->o = o;
    w->out = out;
    w->keys = keys;
    w->vi = vi;
    size_t n = o->by_line ? p->nlines : p->nfunctions;
    w->node_of = xcalloc(n ? n : 1, sizeof *w->node_of);
    w->focus_of = xmalloc(p->nfunctions ? p->nfunctions : 1);
    w->ignore_of = xmalloc(p->nfunctions ? p->nfunctions : 1);
    memset(w->focus_of, -1, p->nfunctions);
    memset(w->ignore_of, -1, p->nfunctions);
}

static void walker_free(walker *w)
{
    free(w->node_of);
    free(w->focus_of);
    free(w->ignore_of);
    free(w->stamp);
    buf_free(&w->key);
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

static const ptop *sort_top;

static int cmp_rows(const void *a, const void *b)
{
    const prow *x = a, *y = b;
    int64_t fx = abs64(x->flat), fy = abs64(y->flat);
    if (fx != fy) return fx > fy ? -1 : 1;
    int c = strcmp(intern_str(&sort_top->strings, x->name), intern_str(&sort_top->strings, y->name));
    if (c) return c;
    int64_t cx = abs64(x->cum), cy = abs64(y->cum);
    if (cx != cy) return cx > cy ? -1 : 1;
    c = strcmp(intern_str(&sort_top->strings, x->file), intern_str(&sort_top->strings, y->file));
    if (c) return c;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    return strcmp(intern_str(&sort_top->strings, x->tag), intern_str(&sort_top->strings, y->tag));
}

/* Drops the unused row 0 (intern id 0) and rows with nothing, then sorts. */
static void finish_rows(ptop *out)
{
    size_t k = 0;
    for (size_t i = 1; i < out->nrows; i++)
        if (out->rows[i].flat || out->rows[i].cum) out->rows[k++] = out->rows[i];
    out->nrows = k;
    sort_top = out;
    if (k) qsort(out->rows, k, sizeof *out->rows, cmp_rows);
    sort_top = NULL;
}

static void describe(const profile *p, int vi, ptop *out)
{
    snprintf(out->sample_type, sizeof out->sample_type, "%s", profile_str(p, p->sample_types[vi].type));
    snprintf(out->unit, sizeof out->unit, "%s", profile_str(p, p->sample_types[vi].unit));
}

static void ptop_init(ptop *out, const ptop_options *o)
{
    memset(out, 0, sizeof *out);
    intern_init(&out->strings);
    out->has_tag = o->tag != NULL;
}

int ptop_compute(const profile *p, const ptop_options *o, ptop *out, char *err, size_t errlen)
{
    ptop_init(out, o);
    int vi = pick_index(p, o, err, errlen);
    if (vi < 0) return -1;
    describe(p, vi, out);
    for (size_t i = 0; i < p->nsamples; i++) out->total += abs64(psample_value(p, &p->samples[i], vi));
    intern_table keys;
    intern_init(&keys);
    walker w;
    walker_init(&w, p, o, out, &keys, vi);
    walk(&w, 1);
    walker_free(&w);
    intern_free(&keys);
    finish_rows(out);
    return 0;
}

/* pprof -base merges the base, negated, into the profile: samples with the
 * same stack (addresses and symbols) and labels cancel.  The total is the
 * sum of what is left, in absolute value. */
static void sample_key(const profile *p, const psample *s, buf *k)
{
    k->len = 0;
    const unsigned char *cur = pstack_begin(p, s);
    for (uint32_t i = 0; i < s->nlocs; i++) {
        const plocation *loc = &p->locations[pstack_next(&cur)];
        buf_printf(k, "%llx", (unsigned long long)loc->address);
        for (uint32_t j = 0; j < loc->nlines; j++) {
            const pline *ln = &p->lines[loc->first_line + j];
            if (ln->func == UINT32_MAX) continue;
            const pfunction *f = &p->functions[ln->func];
            buf_printf(k, "\x01%s\x01%s\x01%lld", profile_str(p, f->name), profile_str(p, f->filename),
                       (long long)ln->line);
        }
        buf_putc(k, '\x02');
    }
    for (uint32_t i = 0; i < s->nlabels; i++) {
        const plabel *l = &p->labels[s->first_label + i];
        buf_printf(k, "\x03%s=%s/%lld%s", profile_str(p, l->key), profile_str(p, l->str), (long long)l->num,
                   profile_str(p, l->num_unit));
    }
}

static int64_t merged_total(const profile *base, int bvi, const profile *src, int svi)
{
    intern_table keys;
    intern_init(&keys);
    int64_t *net = NULL;
    size_t cap = 0;
    buf k = {0};
    const profile *ps[2] = {src, base};
    int vis[2] = {svi, bvi};
    for (int which = 0; which < 2; which++) {
        const profile *p = ps[which];
        for (size_t i = 0; i < p->nsamples; i++) {
            const psample *s = &p->samples[i];
            sample_key(p, s, &k);
            uint32_t id = intern(&keys, k.data, k.len);
            size_t old = cap;
            net = xgrow(net, &cap, (size_t)id + 1, sizeof *net);
            if (cap != old) memset(net + old, 0, (cap - old) * sizeof *net);
            int64_t v = psample_value(p, s, vis[which]);
            net[id] += which == 0 ? v : -v;
        }
    }
    int64_t total = 0;
    for (size_t i = 0; i < keys.count && i < cap; i++) total += abs64(net[i]);
    free(net);
    buf_free(&k);
    intern_free(&keys);
    return total;
}

int ptop_diff(const profile *base, const profile *src, const ptop_options *o, ptop *out, char *err, size_t errlen)
{
    ptop_init(out, o);
    int svi = pick_index(src, o, err, errlen);
    if (svi < 0) return -1;
    /* The base is read with the same sample type, by name. */
    const char *name = profile_str(src, src->sample_types[svi].type);
    int bvi = profile_sample_index(base, name);
    if (bvi < 0) {
        snprintf(err, errlen, "the base profile has no sample type \"%s\": are both profiles of one kind?", name);
        return -1;
    }
    describe(src, svi, out);
    out->total = merged_total(base, bvi, src, svi);
    intern_table keys;
    intern_init(&keys);
    walker w;
    walker_init(&w, src, o, out, &keys, svi);
    walk(&w, 1);
    walker_free(&w);
    walker_init(&w, base, o, out, &keys, bvi);
    walk(&w, -1);
    walker_free(&w);
    intern_free(&keys);
    finish_rows(out);
    return 0;
}

void ptop_free(ptop *t)
{
    intern_free(&t->strings);
    free(t->rows);
    memset(t, 0, sizeof *t);
}
