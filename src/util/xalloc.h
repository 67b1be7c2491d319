/* xalloc.h - allocation that cannot fail silently.
 *
 * reef is a command-line tool: when memory runs out there is nothing useful
 * to recover, so these print one line and exit with status 2 instead of
 * making every caller check for NULL. */
#ifndef REEF_XALLOC_H
#define REEF_XALLOC_H

#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of *cap elements of size elem to hold at least need. */
void *xgrow(void *p, size_t *cap, size_t need, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
