/* idmap.c - see idmap.h. */
#include "idmap.h"
#include "hash.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static uint32_t idmap_find_hashed(const idmap *m, uint64_t id);

/* Largest id kept in the direct array: 16M ids, 64 MiB at most, and only
 * while the ids stay dense (the array is never more than 4x the count). */
#define DIRECT_MAX ((uint64_t)1 << 24)

static bool direct_fits(idmap *m, uint64_t id)
{
    if (id < m->ndirect) return true;
    if (id >= DIRECT_MAX || id > 4 * (uint64_t)m->count + 4096) return false;
    size_t n = m->ndirect ? m->ndirect : 1024;
    while (n <= id) n *= 2;
    m->direct = xrealloc(m->direct, n * sizeof *m->direct);
    memset(m->direct + m->ndirect, 0, (n - m->ndirect) * sizeof *m->direct);
    m->ndirect = n;
    return true;
}

void idmap_free(idmap *m)
{
    free(m->direct);
    m->direct = NULL;
    m->ndirect = 0;
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->nslots = m->count = 0;
}

static void grow(idmap *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 1024;
    uint64_t *keys = xcalloc(n, sizeof *keys);
    uint32_t *vals = xmalloc(n * sizeof *vals);
    for (size_t i = 0; i < m->nslots; i++) {
        if (!m->keys[i]) continue;
        size_t j = hash_mix(m->keys[i]) & (n - 1);
        while (keys[j]) j = (j + 1) & (n - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->nslots = n;
}

uint32_t idmap_get_or_add(idmap *m, uint64_t id, bool *added)
{
    /* An id is in the direct array or in the table, never both: the array
     * only takes ids the table has not seen, and an id the table took
     * while the array was too small stays there after the array has grown
     * past it (sparse ids used before they are defined, as mergers write
     * them): an empty array slot is checked against the table first. */
    bool in_array = id < m->ndirect && m->direct[id];
    if (in_array || (idmap_find_hashed(m, id) == UINT32_MAX && direct_fits(m, id))) {
        uint32_t *slot = &m->direct[id];
        *added = *slot == 0;
        if (*added) *slot = (uint32_t)++m->count;
        return *slot - 1;
    }
    if ((m->count + 1) * 2 > m->nslots) grow(m);
    size_t mask = m->nslots - 1;
    size_t i = hash_mix(id) & mask;
    while (m->keys[i]) {
        if (m->keys[i] == id) {
            *added = false;
            return m->vals[i];
        }
        i = (i + 1) & mask;
    }
    m->keys[i] = id;
    m->vals[i] = (uint32_t)m->count++;
    *added = true;
    return m->vals[i];
}

uint32_t idmap_find(const idmap *m, uint64_t id)
{
    if (id < m->ndirect && m->direct[id]) return m->direct[id] - 1;
    return idmap_find_hashed(m, id);
}

static uint32_t idmap_find_hashed(const idmap *m, uint64_t id)
{
    if (!m->nslots) return UINT32_MAX;
    size_t mask = m->nslots - 1;
    for (size_t i = hash_mix(id) & mask; m->keys[i]; i = (i + 1) & mask)
        if (m->keys[i] == id) return m->vals[i];
    return UINT32_MAX;
}

uint64_t idmap_key_of(const idmap *m, uint32_t index)
{
    for (size_t id = 0; id < m->ndirect; id++)
        if (m->direct[id] == index + 1) return id;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->keys[i] && m->vals[i] == index) return m->keys[i];
    return 0;
}
