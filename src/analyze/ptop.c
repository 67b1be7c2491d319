/* ptop.c - per-function totals of a profile; see ptop.h. */
#include "ptop.h"
#include "../util/buf.h"
#include "../util/hash.h"
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
    buf key, name;
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

/* pprof's demangler leaves a name alone unless it looks like demangled
 * C++: Java's "class.<init>" and Go's "pkg.(*T[...]).M" do not. */
static bool looks_like_cxx(const char *s, size_t n)
{
    if (memmem(s, n, ".<", 2) || memmem(s, n, "]).", 3)) return false;
    return memchr(s, '<', n) || memchr(s, '>', n) || memchr(s, '[', n) || memchr(s, ']', n) ||
           memmem(s, n, "::", 2);
}

/* Removes every outermost open...close group, as pprof's removeMatching
 * does; at a close without an open it stops and keeps the rest. */
static size_t remove_matching(char *s, size_t n, char open, char close)
{
    size_t w = 0, first = 0;
    int depth = 0;
    for (size_t r = 0; r < n; r++) {
        char c = s[r];
        if (c == close) {
            if (depth == 0) {
                memmove(s + w, s + r, n - r);
                return w + (n - r);
            }
            if (--depth == 0) {
                w = first;
                continue;
            }
        } else if (c == open && depth++ == 0) {
            first = w;
        }
        s[w++] = c;
    }
    return w;
}

void ptop_pprof_name(const char *name, size_t n, buf *out)
{
    out->len = 0;
    buf_append(out, name, n);
    if (!looks_like_cxx(name, n)) return;
    out->len = remove_matching(out->data, out->len, '(', ')');
    out->len = remove_matching(out->data, out->len, '<', '>');
}

/* A row's name: the function's, simplified as pprof would with
 * --names pprof (only names the producer did not demangle itself, whose
 * system name is the name). */
static void frame_name(walker *w, const pfunction *f, buf *out)
{
    const profile *p = w->p;
    const char *name = profile_str(p, f->name);
    size_t n = profile_strlen(p, f->name);
    bool same = f->system_name == f->name ||
                (profile_strlen(p, f->system_name) == n && memcmp(profile_str(p, f->system_name), name, n) == 0);
    if (w->o->names == PNAMES_PPROF && n && same) {
        ptop_pprof_name(name, n, out);
        return;
    }
    out->len = 0;
    buf_append(out, name, n);
}

/* The node for one frame: line index li of location loc.  Nodes are keyed
 * by name (not file), as pprof keys them; names are counted strings, NUL
 * bytes and all. */
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
    const char *file = "";
    int64_t line = 0;
    buf *name = &w->name;
    name->len = 0;
    if (ln && ln->func != UINT32_MAX) {
        const pfunction *f = &p->functions[ln->func];
        frame_name(w, f, name);
        file = profile_str(p, f->filename);
        if (w->o->by_line) line = ln->line;
    }
    /* pprof aggregates addresses away, so a frame without a name is
     * "[binary]" or "<unknown>". */
    if (!name->len) {
        char unnamed[256];
        buf_puts(name, profile_unnamed_frame(p, loc, unnamed, sizeof unnamed));
    }
    buf *k = &w->key;
    k->len = 0;
    buf_append(k, name->data, name->len);
    if (w->o->by_line) {
        buf_putc(k, '\x01');
        buf_puts(k, file);
        buf_printf(k, "\x01%lld", (long long)line);
    }
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
        r->name = intern(&out->strings, name->data, name->len);
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
    buf_free(&w->name);
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

/* Per thread: reef watch's captures diff heap profiles on several threads. */
static _Thread_local const ptop *sort_top;

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
 * sum of what is left, in absolute value.
 *
 * Identities are integers: each string of either profile gets a shared id
 * once, each location a shared id once (from its address and its lines'
 * name, file and line ids).  A sample is then a list of integers: its
 * stack's location ids and its labels' ids.  Samples go into a hash table
 * by the hash of that list; an equal hash is confirmed by comparing the two
 * lists, rebuilt from the samples.  No key is formatted or stored. */
typedef struct side {
    const profile *p;
    uint32_t *str_id;        /* per string index: shared id + 1, 0 = not yet */
    uint32_t *loc_id;        /* per location index: shared id + 1 */
} side;

/* The table holds 8-byte slots (32 bits of hash, an entry number + 1) so
 * that a probe touches little memory; entries are in insertion order. */
typedef struct mslot {
    uint32_t hash, entry;    /* entry 0 = empty slot */
} mslot;

typedef struct mentry {
    uint32_t sample, which;  /* the first sample seen with this key */
    int64_t net;
} mentry;

typedef struct merger {
    intern_table strs, locs;
    buf lk;                  /* a location's key, while it is interned */
    side sides[2];
    mslot *slots;
    size_t nslots;
    mentry *entries;
    size_t nentries, cap_entries;
    uint32_t *a, *b;         /* two samples' integer lists */
    size_t cap_a, cap_b;
} merger;

static uint32_t shared_str(merger *m, side *sd, int64_t i)
{
    uint32_t *slot = &sd->str_id[i];
    if (!*slot) *slot = intern(&m->strs, profile_str(sd->p, i), profile_strlen(sd->p, i)) + 1;
    return *slot - 1;
}

static void put32(buf *k, uint32_t v) { buf_append(k, &v, sizeof v); }

static uint32_t shared_loc(merger *m, side *sd, uint32_t li)
{
    uint32_t *slot = &sd->loc_id[li];
    if (*slot) return *slot - 1;
    const profile *p = sd->p;
    const plocation *loc = &p->locations[li];
    buf *k = &m->lk;
    k->len = 0;
    buf_append(k, &loc->address, sizeof loc->address);
    for (uint32_t j = 0; j < loc->nlines; j++) {
        const pline *ln = &p->lines[loc->first_line + j];
        if (ln->func == UINT32_MAX) continue;
        const pfunction *f = &p->functions[ln->func];
        put32(k, shared_str(m, sd, f->name));
        put32(k, shared_str(m, sd, f->filename));
        put32(k, (uint32_t)ln->line);
    }
    *slot = intern(&m->locs, k->data, k->len) + 1;
    return *slot - 1;
}

/* A sample's integer list into *out (grown as needed); returns its length.
 * The list starts with the stack's depth, so that location ids and label
 * ids never line up. */
static size_t sample_ints(merger *m, int which, uint32_t si, uint32_t **out, size_t *cap)
{
    side *sd = &m->sides[which];
    const psample *s = &sd->p->samples[si];
    size_t n = 1 + (size_t)s->nlocs + 5 * (size_t)s->nlabels;
    *out = xgrow(*out, cap, n, sizeof **out);
    uint32_t *v = *out;
    *v++ = s->nlocs;
    const unsigned char *cur = pstack_begin(sd->p, s);
    for (uint32_t i = 0; i < s->nlocs; i++) *v++ = shared_loc(m, sd, pstack_next(&cur));
    for (uint32_t i = 0; i < s->nlabels; i++) {
        const plabel *l = &sd->p->labels[s->first_label + i];
        *v++ = shared_str(m, sd, l->key);
        *v++ = shared_str(m, sd, l->str);
        *v++ = shared_str(m, sd, l->num_unit);
        *v++ = (uint32_t)l->num;
        *v++ = (uint32_t)((uint64_t)l->num >> 32);
    }
    return n;
}

static void grow_slots(merger *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 4096;
    mslot *slots = xcalloc(n, sizeof *slots);
    for (size_t i = 0; i < m->nslots; i++) {
        if (!m->slots[i].entry) continue;
        size_t j = m->slots[i].hash & (n - 1);
        while (slots[j].entry) j = (j + 1) & (n - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
}

static void merge_sample(merger *m, int which, uint32_t si, int64_t v)
{
    size_t n = sample_ints(m, which, si, &m->a, &m->cap_a);
    uint32_t h = (uint32_t)hash_bytes(m->a, n * sizeof *m->a, 0);
    if ((m->nentries + 1) * 2 > m->nslots) grow_slots(m);
    size_t mask = m->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        mslot *sl = &m->slots[i];
        if (!sl->entry) {
            m->entries = xgrow(m->entries, &m->cap_entries, m->nentries + 1, sizeof *m->entries);
            m->entries[m->nentries++] = (mentry){.sample = si, .which = (uint32_t)which, .net = v};
            *sl = (mslot){.hash = h, .entry = (uint32_t)m->nentries};
            return;
        }
        if (sl->hash != h) continue;
        mentry *e = &m->entries[sl->entry - 1];
        size_t k = sample_ints(m, (int)e->which, e->sample, &m->b, &m->cap_b);
        if (k == n && memcmp(m->a, m->b, n * sizeof *m->a) == 0) {
            e->net += v;
            return;
        }
    }
}

static void side_init(side *sd, const profile *p)
{
    sd->p = p;
    sd->str_id = xcalloc(p->nstrings ? p->nstrings : 1, sizeof *sd->str_id);
    sd->loc_id = xcalloc(p->nlocations ? p->nlocations : 1, sizeof *sd->loc_id);
}

static int64_t merged_total(const profile *base, int bvi, const profile *src, int svi)
{
    merger m;
    memset(&m, 0, sizeof m);
    intern_init(&m.strs);
    intern_init(&m.locs);
    side_init(&m.sides[0], src);
    side_init(&m.sides[1], base);
    for (uint32_t i = 0; i < src->nsamples; i++) merge_sample(&m, 0, i, psample_value(src, &src->samples[i], svi));
    for (uint32_t i = 0; i < base->nsamples; i++) merge_sample(&m, 1, i, -psample_value(base, &base->samples[i], bvi));
    int64_t total = 0;
    for (size_t i = 0; i < m.nentries; i++) total += abs64(m.entries[i].net);
    for (int i = 0; i < 2; i++) {
        free(m.sides[i].str_id);
        free(m.sides[i].loc_id);
    }
    free(m.slots);
    free(m.entries);
    free(m.a);
    free(m.b);
    buf_free(&m.lk);
    intern_free(&m.strs);
    intern_free(&m.locs);
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
