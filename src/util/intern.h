/* intern.h - a table of unique strings, each named by a small integer.
 *
 * Function names, file names and states repeat across thousands of
 * goroutines; storing each once and comparing ids keeps the model small
 * and grouping cheap.  Id 0 is always the empty string. */
#ifndef REEF_INTERN_H
#define REEF_INTERN_H

#include "arena.h"

#include <stddef.h>
#include <stdint.h>

typedef struct intern_table {
    arena strings;       /* the bytes, NUL-terminated */
    const char **str;    /* id -> string */
    uint32_t *len;       /* id -> length */
    uint64_t *hashes;    /* id -> hash */
    size_t count, cap;
    uint32_t *slots;     /* open addressing: id + 1, 0 = empty */
    size_t nslots;
} intern_table;

void intern_init(intern_table *t);
void intern_free(intern_table *t);
uint32_t intern(intern_table *t, const char *s, size_t n);
static inline const char *intern_str(const intern_table *t, uint32_t id) { return t->str[id]; }
static inline size_t intern_len(const intern_table *t, uint32_t id) { return t->len[id]; }

#endif
