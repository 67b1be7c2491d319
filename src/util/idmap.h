/* idmap.h - a hash map from 64-bit ids to dense 32-bit indexes.
 *
 * Profiles name locations and functions by arbitrary non-zero ids; reef
 * stores them in arrays and refers to them by index.  An id seen for the
 * first time gets the next index, whether it arrives with its definition
 * or as a reference that comes first. */
#ifndef REEF_IDMAP_H
#define REEF_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct idmap {
    /* Writers number ids 1, 2, 3...: those go straight into an array
     * (index + 1, 0 = unseen); large or sparse ids use the hash table. */
    uint32_t *direct;
    size_t ndirect;
    uint64_t *keys;   /* 0 = empty slot (ids are never 0) */
    uint32_t *vals;
    size_t nslots, count;
} idmap;

void idmap_free(idmap *m);
/* Index of id, adding it with index m->count if new (*added says which). */
uint32_t idmap_get_or_add(idmap *m, uint64_t id, bool *added);
/* The id that was given index (a slow scan, for error messages); 0 if none. */
uint64_t idmap_key_of(const idmap *m, uint32_t index);
/* Index of id, or UINT32_MAX. */
uint32_t idmap_find(const idmap *m, uint64_t id);

#endif
