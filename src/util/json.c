/* json.c - see json.h. */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void json_init(json_writer *w, FILE *out, bool pretty)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->pretty = pretty;
}

static void indent(json_writer *w)
{
    if (!w->pretty) return;
    fputc('\n', w->out);
    for (int i = 0; i < w->depth; i++) fputs("  ", w->out);
}

/* Called before every value: writes the comma and indentation it needs.
 * After a key the value follows on the same line, so nothing is written. */
static void before_value(json_writer *w)
{
    if (w->depth == 0) return;
    if (w->need_comma[w->depth] == 2) { /* right after a key */
        w->need_comma[w->depth] = 1;
        return;
    }
    if (w->need_comma[w->depth]) fputc(',', w->out);
    w->need_comma[w->depth] = 1;
    indent(w);
}

static void open_nested(json_writer *w, char c)
{
    before_value(w);
    fputc(c, w->out);
    if (w->depth < 63) w->depth++;
    w->need_comma[w->depth] = 0;
}

static void close_nested(json_writer *w, char c)
{
    bool had = w->need_comma[w->depth] != 0;
    if (w->depth > 0) w->depth--;
    if (had) indent(w);
    fputc(c, w->out);
}

void json_begin_object(json_writer *w) { open_nested(w, '{'); }
void json_end_object(json_writer *w) { close_nested(w, '}'); }
void json_begin_array(json_writer *w) { open_nested(w, '['); }
void json_end_array(json_writer *w) { close_nested(w, ']'); }

void json_key(json_writer *w, const char *key)
{
    before_value(w);
    fputc('"', w->out);
    fputs(key, w->out);
    fputs(w->pretty ? "\": " : "\":", w->out);
    w->need_comma[w->depth] = 2;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void json_string(json_writer *w, const char *s, size_t n)
{
    before_value(w);
    FILE *o = w->out;
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', o);
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', o);
            fputc(c, o);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", o); break;
            case '\t': fputs("\\t", o); break;
            case '\r': fputs("\\r", o); break;
            default: fprintf(o, "\\u%04x", c); break;
            }
            i++;
        } else if (c < 0x80) {
            fputc(c, o);
            i++;
        } else {
            size_t len = utf8_len(p + i, n - i);
            if (len == 0) {
                fputs("\xef\xbf\xbd", o);
                i++;
            } else {
                fwrite(p + i, 1, len, o);
                i += len;
            }
        }
    }
    fputc('"', o);
}

void json_cstring(json_writer *w, const char *s) { json_string(w, s, strlen(s)); }

void json_int(json_writer *w, int64_t v)
{
    before_value(w);
    fprintf(w->out, "%" PRId64, v);
}

void json_uint(json_writer *w, uint64_t v)
{
    before_value(w);
    fprintf(w->out, "%" PRIu64, v);
}

void json_double(json_writer *w, double v)
{
    before_value(w);
    if (isfinite(v)) fprintf(w->out, "%.17g", v);
    else fputs("null", w->out);
}

void json_bool(json_writer *w, bool v)
{
    before_value(w);
    fputs(v ? "true" : "false", w->out);
}

void json_null(json_writer *w)
{
    before_value(w);
    fputs("null", w->out);
}

void json_finish(json_writer *w) { fputc('\n', w->out); }
