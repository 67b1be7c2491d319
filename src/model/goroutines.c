/* goroutines.c - grouping of goroutines; see goroutines.h. */
#include "goroutines.h"
#include "../util/hash.h"
#include "../util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const class_names[GCLASS_COUNT] = {
    [GCLASS_OTHER] = "other",
    [GCLASS_LEAK] = "leak",
    [GCLASS_PILEUP] = "lock-pileup",
    [GCLASS_POOL_WAIT] = "pool-wait",
    [GCLASS_IO_WAIT] = "io-wait",
    [GCLASS_IDLE] = "idle",
    [GCLASS_RUNNING] = "running",
    [GCLASS_UPSTREAM_WAIT] = "upstream-wait",
    [GCLASS_NET_WRITE] = "net-write",
    [GCLASS_DEADLOCKED] = "deadlocked",
};

const char *gclass_name(gclass c) { return c < GCLASS_COUNT ? class_names[c] : "other"; }

void gmodel_init(gmodel *m)
{
    memset(m, 0, sizeof *m);
    intern_init(&m->strings);
    arena_init(&m->mem);
}

static void free_groups(gmodel *m)
{
    for (size_t i = 0; i < m->ngroups; i++) free(m->groups[i].reason);
    free(m->groups);
    free(m->slots);
    m->groups = NULL;
    m->slots = NULL;
    m->ngroups = m->cap = m->nslots = 0;
}

void gmodel_free(gmodel *m)
{
    free_groups(m);
    arena_free(&m->mem);
    intern_free(&m->strings);
}

void gmodel_reset(gmodel *m)
{
    free_groups(m);
    m->total = 0;
    m->declared_total = 0;
    m->leak_profile = false;
    m->signal_threads = m->duplicates = m->damaged = 0;
    m->damaged_line = 0;
}

const char *gmodel_str(const gmodel *m, uint32_t id) { return intern_str(&m->strings, id); }

size_t gmodel_bytes(const gmodel *m)
{
    return m->mem.total + m->strings.strings.total + m->cap * sizeof(ggroup) +
           m->nslots * sizeof(uint32_t) + m->strings.cap * (sizeof(char *) + 12) +
           m->strings.nslots * sizeof(uint32_t);
}

/* Parses "file:line" (the last ':' separates them). */
static void split_file_line(gmodel *m, const char *p, const char *end, gframe *f)
{
    const char *colon = end;
    while (colon > p && colon[-1] != ':') colon--;
    if (colon == p) { /* no line number */
        f->file = intern(&m->strings, p, (size_t)(end - p));
        f->line = 0;
        return;
    }
    f->file = intern(&m->strings, p, (size_t)(colon - 1 - p));
    uint32_t line = 0;
    for (const char *q = colon; q < end && *q >= '0' && *q <= '9'; q++)
        line = line * 10 + (uint32_t)(*q - '0');
    f->line = line;
}

static void decode_frame(gmodel *m, const char *p, const char *end, gframe *f)
{
    const char *sep = memchr(p, KEY_SEP, (size_t)(end - p));
    if (!sep) sep = end;
    f->func = intern(&m->strings, p, (size_t)(sep - p));
    if (sep < end) split_file_line(m, sep + 1, end, f);
    else f->file = 0, f->line = 0;
}

/* Turns a key (see goroutines.h) into frames; runs once per new group. */
static void decode_key(gmodel *m, ggroup *g)
{
    const char *p = g->key, *end = p + g->key_len;
    size_t n = 0;
    for (const char *q = p; q < end; q++) n += *q == '\n';
    g->frames = arena_alloc(&m->mem, (n ? n : 1) * sizeof(gframe));
    g->nframes = 0;
    g->elided_at = UINT32_MAX;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        if (*p == KEY_ELIDED) {
            g->elided_at = g->nframes;
            g->elided = nl - p > 1 ? strtoll(p + 1, NULL, 10) : -1;
        } else if (*p == KEY_CREATED) {
            g->has_created_by = true;
            decode_frame(m, p + 1, nl, &g->created_by);
        } else if (*p == KEY_UNAVAILABLE) {
            g->unavailable = true;
        } else {
            decode_frame(m, p, nl, &g->frames[g->nframes++]);
        }
        p = nl + 1;
    }
}

static void table_insert(gmodel *m, size_t index)
{
    size_t mask = m->nslots - 1;
    size_t i = m->groups[index].hash & mask;
    while (m->slots[i]) i = (i + 1) & mask;
    m->slots[i] = (uint32_t)index + 1;
}

static void table_grow(gmodel *m)
{
    free(m->slots);
    m->nslots = m->nslots ? m->nslots * 2 : 1024;
    m->slots = xcalloc(m->nslots, sizeof *m->slots);
    for (size_t i = 0; i < m->ngroups; i++) table_insert(m, i);
}

static void add_parent(ggroup *g, uint64_t parent)
{
    if (!parent) return;
    for (uint32_t i = 0; i < g->nparents; i++)
        if (g->parents[i] == parent) return;
    if (g->nparents < GGROUP_MAX_PARENTS) g->parents[g->nparents++] = parent;
    else g->parents_truncated = true;
}

static void add_labels(ggroup *g, uint32_t labels, uint64_t count)
{
    if (!labels) return;
    for (uint32_t i = 0; i < g->nlabels; i++) {
        if (g->labels[i] == labels) {
            g->label_counts[i] += count;
            return;
        }
    }
    if (g->nlabels < GGROUP_MAX_LABELS) {
        g->labels[g->nlabels] = labels;
        g->label_counts[g->nlabels++] = count;
    } else {
        g->labels_truncated = true;
    }
}

static void fold(ggroup *g, const ggoroutine *r)
{
    g->count += r->count;
    if (r->wait_minutes >= 0) {
        if (g->wait_min < 0 || r->wait_minutes < g->wait_min) g->wait_min = r->wait_minutes;
        if (r->wait_minutes > g->wait_max) g->wait_max = r->wait_minutes;
    }
    if (r->locked) g->locked += r->count;
    if (r->leaked) g->leaked += r->count;
    add_parent(g, r->parent_id);
    if (r->id && g->nids < GGROUP_MAX_IDS) g->ids[g->nids++] = r->id;
    if (r->id && (!g->id_min || r->id < g->id_min)) g->id_min = r->id;
    if (r->id > g->id_max) g->id_max = r->id;
    if (r->id) {
        /* Fibonacci hashing of the batch number spreads neighbours. */
        uint64_t h = (r->id / 16) * 0x9E3779B97F4A7C15ull;
        unsigned bit = (unsigned)(h >> 57);
        g->id_batches[bit >> 6] |= 1ull << (bit & 63);
        if (((h >> 40) & 15) == 0) g->id_batches[2 + (bit >> 6)] |= 1ull << (bit & 63);
    }
    add_labels(g, r->labels, r->count);
}

ggroup *gmodel_add(gmodel *m, const ggoroutine *r)
{
    uint32_t state = r->state ? intern(&m->strings, r->state, r->state_len) : 0;
    uint64_t h = hash_bytes(r->key, r->key_len, state);
    m->total += r->count;
    if (m->nslots) {
        size_t mask = m->nslots - 1;
        for (size_t i = h & mask; m->slots[i]; i = (i + 1) & mask) {
            ggroup *g = &m->groups[m->slots[i] - 1];
            if (g->hash == h && g->state == state && g->key_len == r->key_len &&
                memcmp(g->key, r->key, r->key_len) == 0) {
                fold(g, r);
                return g;
            }
        }
    }
    if (r->key_len > UINT32_MAX) return NULL; /* parsers cap keys far below */
    m->groups = xgrow(m->groups, &m->cap, m->ngroups + 1, sizeof *m->groups);
    ggroup *g = &m->groups[m->ngroups];
    memset(g, 0, sizeof *g);
    g->hash = h;
    g->state = state;
    g->key = arena_memdup(&m->mem, r->key, r->key_len);
    g->key_len = (uint32_t)r->key_len;
    g->wait_min = g->wait_max = -1;
    decode_key(m, g);
    fold(g, r);
    m->ngroups++;
    if (m->ngroups * 2 > m->nslots) table_grow(m);
    else table_insert(m, m->ngroups - 1);
    return g;
}

/* Per thread: reef watch sorts the models of several targets at once. */
static _Thread_local const gmodel *sort_model;

static int cmp_groups(const void *a, const void *b)
{
    const ggroup *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    /* Ties: a stable, readable order by innermost function then key. */
    const char *fx = x->nframes ? gmodel_str(sort_model, x->frames[0].func) : "";
    const char *fy = y->nframes ? gmodel_str(sort_model, y->frames[0].func) : "";
    int c = strcmp(fx, fy);
    if (c) return c;
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    c = memcmp(x->key, y->key, x->key_len);
    if (c) return c;
    return x->state < y->state ? -1 : x->state > y->state;
}

void gmodel_sort(gmodel *m)
{
    if (m->ngroups == 0) return;
    sort_model = m;
    qsort(m->groups, m->ngroups, sizeof *m->groups, cmp_groups);
    sort_model = NULL;
    if (m->nslots) {
        memset(m->slots, 0, m->nslots * sizeof *m->slots);
        for (size_t i = 0; i < m->ngroups; i++) table_insert(m, i);
    }
}

static bool similar(const ggroup *a, const ggroup *b)
{
    if (a->state != b->state || a->nframes != b->nframes || a->unavailable != b->unavailable ||
        a->has_created_by != b->has_created_by || a->elided_at != b->elided_at)
        return false;
    if (a->has_created_by && a->created_by.func != b->created_by.func) return false;
    for (uint32_t i = 0; i < a->nframes; i++)
        if (a->frames[i].func != b->frames[i].func) return false;
    return true;
}

static uint64_t similar_hash(const ggroup *g)
{
    uint64_t h = hash_mix(g->state + 1);
    for (uint32_t i = 0; i < g->nframes; i++) h = hash_mix(h ^ g->frames[i].func);
    if (g->has_created_by) h = hash_mix(h ^ ((uint64_t)g->created_by.func << 32));
    return h;
}

static void merge_into(ggroup *dst, const ggroup *src)
{
    dst->count += src->count;
    if (src->wait_min >= 0 && (dst->wait_min < 0 || src->wait_min < dst->wait_min))
        dst->wait_min = src->wait_min;
    if (src->wait_max > dst->wait_max) dst->wait_max = src->wait_max;
    dst->locked += src->locked;
    dst->leaked += src->leaked;
    for (uint32_t i = 0; i < src->nparents; i++) add_parent(dst, src->parents[i]);
    if (src->parents_truncated) dst->parents_truncated = true;
    for (uint32_t i = 0; i < src->nids && dst->nids < GGROUP_MAX_IDS; i++)
        dst->ids[dst->nids++] = src->ids[i];
    if (src->id_min && (!dst->id_min || src->id_min < dst->id_min)) dst->id_min = src->id_min;
    if (src->id_max > dst->id_max) dst->id_max = src->id_max;
    for (int i = 0; i < 4; i++) dst->id_batches[i] |= src->id_batches[i];
    for (uint32_t i = 0; i < src->nlabels; i++) add_labels(dst, src->labels[i], src->label_counts[i]);
    if (src->labels_truncated) dst->labels_truncated = true;
}

void gmodel_merge_similar(gmodel *m)
{
    gmodel_sort(m); /* largest first: each merged group keeps its largest member's lines */
    size_t n = m->ngroups, nslots = 64;
    while (nslots < n * 2) nslots *= 2;
    size_t *slots = xcalloc(nslots, sizeof *slots);
    uint64_t *hashes = xmalloc((n ? n : 1) * sizeof *hashes);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        ggroup *g = &m->groups[i];
        uint64_t h = similar_hash(g);
        size_t s = h & (nslots - 1);
        bool merged = false;
        for (; slots[s]; s = (s + 1) & (nslots - 1)) {
            size_t j = slots[s] - 1;
            if (hashes[j] == h && similar(&m->groups[j], g)) {
                merge_into(&m->groups[j], g);
                free(g->reason);
                merged = true;
                break;
            }
        }
        if (merged) continue;
        if (kept != i) m->groups[kept] = *g;
        hashes[kept] = h;
        slots[s] = kept + 1;
        kept++;
    }
    m->ngroups = kept;
    free(slots);
    free(hashes);
    gmodel_sort(m);
}

/* Folds every group of src into dst.  Strings are re-interned, since the
 * two models have their own tables. */
void gmodel_absorb(gmodel *dst, const gmodel *src)
{
    for (size_t i = 0; i < src->ngroups; i++) {
        const ggroup *s = &src->groups[i];
        const char *state = s->state ? gmodel_str(src, s->state) : NULL;
        ggoroutine r = {
            .count = 0, .state = state, .state_len = state ? strlen(state) : 0, .wait_minutes = -1,
            .key = s->key, .key_len = s->key_len,
        };
        ggroup *d = gmodel_add(dst, &r);
        ggroup copy = *s;
        copy.nlabels = 0;
        merge_into(d, &copy);
        for (uint32_t k = 0; k < s->nlabels; k++) {
            const char *l = gmodel_str(src, s->labels[k]);
            add_labels(d, intern(&dst->strings, l, strlen(l)), s->label_counts[k]);
        }
        dst->total += s->count;
    }
}
