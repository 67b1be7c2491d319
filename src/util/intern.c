/* intern.c - see intern.h. */
#include "intern.h"
#include "hash.h"
#include "xalloc.h"

#include <string.h>

static void rehash(intern_table *t, size_t nslots)
{
    free(t->slots);
    t->slots = xcalloc(nslots, sizeof *t->slots);
    t->nslots = nslots;
    for (size_t id = 0; id < t->count; id++) {
        size_t i = t->hashes[id] & (nslots - 1);
        while (t->slots[i]) i = (i + 1) & (nslots - 1);
        t->slots[i] = (uint32_t)id + 1;
    }
}

void intern_init(intern_table *t)
{
    memset(t, 0, sizeof *t);
    arena_init(&t->strings);
    intern(t, "", 0);
}

void intern_free(intern_table *t)
{
    arena_free(&t->strings);
    free(t->str);
    free(t->len);
    free(t->hashes);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

uint32_t intern(intern_table *t, const char *s, size_t n)
{
    if (n == 0) s = ""; /* an empty buffer may have no storage at all */
    uint64_t h = hash_bytes(s, n, 0);
    if (t->nslots) {
        for (size_t i = h & (t->nslots - 1); t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
            uint32_t id = t->slots[i] - 1;
            if (t->hashes[id] == h && t->len[id] == n && memcmp(t->str[id], s, n) == 0)
                return id;
        }
    }
    if (t->count + 1 > t->cap) {
        size_t cap = t->cap;
        t->str = xgrow(t->str, &cap, t->count + 1, sizeof *t->str);
        cap = t->cap;
        t->len = xgrow(t->len, &cap, t->count + 1, sizeof *t->len);
        cap = t->cap;
        t->hashes = xgrow(t->hashes, &cap, t->count + 1, sizeof *t->hashes);
        t->cap = cap;
    }
    if ((t->count + 1) * 2 > t->nslots)
        rehash(t, t->nslots ? t->nslots * 2 : 64);
    uint32_t id = (uint32_t)t->count++;
    t->str[id] = arena_memdup(&t->strings, s, n);
    t->len[id] = (uint32_t)n;
    t->hashes[id] = h;
    size_t i = h & (t->nslots - 1);
    while (t->slots[i]) i = (i + 1) & (t->nslots - 1);
    t->slots[i] = id + 1;
    return id;
}
