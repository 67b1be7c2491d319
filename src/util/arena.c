/* arena.c - see arena.h. */
#include "arena.h"
#include "xalloc.h"

#include <string.h>

#define ARENA_CHUNK (256u * 1024u)

struct arena_chunk {
    arena_chunk *next;
    size_t size;
    _Alignas(8) unsigned char data[];
};

void arena_init(arena *a) { memset(a, 0, sizeof *a); }

/* Chunks grow with the arena, from 8 KiB to ARENA_CHUNK: a small dump (reef
 * watch keeps several per target, for months) costs kilobytes, a large one
 * still gets large chunks after a few. */
static size_t chunk_size(const arena *a, size_t n)
{
    size_t size = 8u * 1024u;
    while (size < ARENA_CHUNK && (size < a->total || size < n)) size *= 2;
    return size;
}

void arena_free(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(a, 0, sizeof *a);
}

void *arena_alloc(arena *a, size_t n)
{
    n = (n + 7u) & ~(size_t)7u;
    if (!a->head || a->used + n > a->head->size) {
        /* Oversized requests get a chunk of their own so that one long
         * string does not waste the rest of a normal chunk. */
        size_t size = n > ARENA_CHUNK / 4 ? n : chunk_size(a, n);
        arena_chunk *c = xmalloc(sizeof *c + size);
        c->size = size;
        if (size == n && a->head) {
            /* Keep filling the current chunk: slot the big one behind it. */
            c->next = a->head->next;
            a->head->next = c;
            a->total += n;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    a->total += n;
    return p;
}

void *arena_memdup(arena *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n + 1);
    memcpy(q, p, n);
    ((char *)q)[n] = '\0';
    return q;
}
