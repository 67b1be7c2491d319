/* buf.h - a growable byte buffer. */
#ifndef REEF_BUF_H
#define REEF_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

void buf_free(buf *b);
void buf_reserve(buf *b, size_t extra);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void buf_append(buf *b, const void *p, size_t n)
{
    if (n == 0) return;
    if (b->len + n + 1 > b->cap) buf_reserve(b, n + 1);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void buf_putc(buf *b, char c)
{
    if (b->len + 2 > b->cap) buf_reserve(b, 2);
    b->data[b->len++] = c;
}

static inline void buf_puts(buf *b, const char *s) { buf_append(b, s, strlen(s)); }

/* NUL-terminates without changing len, for use as a C string. */
static inline const char *buf_cstr(buf *b)
{
    buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return b->data;
}

#endif
