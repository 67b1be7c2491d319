/* buf.c - see buf.h. */
#include "buf.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reserve(buf *b, size_t extra)
{
    if (b->len + extra <= b->cap) return;
    size_t c = b->cap ? b->cap : 256;
    while (c < b->len + extra) c *= 2;
    b->data = xrealloc(b->data, c);
    b->cap = c;
}

void buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        buf_append(b, small, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
