/* arena.h - bump allocator for data that lives as long as the model.
 *
 * Distinct stacks, interned strings and group keys are allocated here and
 * freed together; nothing in an arena is freed on its own.  Chunks are never
 * moved, so pointers into an arena stay valid until arena_free(). */
#ifndef REEF_ARENA_H
#define REEF_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
    arena_chunk *head;   /* chunk being filled */
    size_t used;         /* bytes used in head */
    size_t total;        /* bytes handed out, for memory accounting */
} arena;

void arena_init(arena *a);
void arena_free(arena *a);
/* Returns memory aligned to 8 bytes; aborts on out-of-memory like xmalloc. */
void *arena_alloc(arena *a, size_t n);
void *arena_memdup(arena *a, const void *p, size_t n);

#endif
