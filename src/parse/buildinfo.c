/* buildinfo.c - reads the ".go.buildinfo" blob of a Go executable.
 *
 * Layout (cmd/link, debug/buildinfo): a 32-byte header, 16-byte aligned:
 *   [0,14)  "\xff Go buildinf:"
 *   14      pointer size (used only by the pre-1.18 pointer format)
 *   15      flags: bit 0 big-endian pointers, bit 1 inline strings
 * With the inline flag (Go 1.18+) two uvarint-length-prefixed strings
 * follow: the Go version and the module info.  The module info is framed
 * by two 16-byte sentinels and holds the text runtime/debug.BuildInfo's
 * String method writes, which ParseBuildInfo reads back; this file follows
 * both, so `reef buildinfo` prints what `go version -m` prints.
 *
 * Every read is bounds-checked against the mapping: executables are
 * untrusted input. */
#include "buildinfo.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BI_MAGIC "\xff Go buildinf:"
enum {
    BI_MAGIC_LEN = 14,
    BI_HEADER = 32,
    BI_ALIGN = 16,
    BI_FLAGS = 15,
    BI_FLAG_INLINE = 0x2,
    BI_SENTINEL = 16, /* cmd/go/internal/modload infoStart/infoEnd */
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return 2;
}

/* ---- UTF-8 and Go string literals (strconv) ---- */

/* Decodes one UTF-8 sequence by Go's rules (no overlongs, surrogates or
 * values past U+10FFFF): returns its length, or 0 if s does not start with
 * a valid one. */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *r)
{
    uint8_t c = s[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c < 0x80) {
        *r = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        *r = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        *r = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        *r = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *r = *r << 6 | (s[i] & 0x3F);
    }
    return len;
}

static void utf8_append(buf *b, uint32_t r)
{
    if (r < 0x80) {
        buf_putc(b, (char)r);
    } else if (r < 0x800) {
        buf_putc(b, (char)(0xC0 | r >> 6));
        buf_putc(b, (char)(0x80 | (r & 0x3F)));
    } else if (r < 0x10000) {
        buf_putc(b, (char)(0xE0 | r >> 12));
        buf_putc(b, (char)(0x80 | (r >> 6 & 0x3F)));
        buf_putc(b, (char)(0x80 | (r & 0x3F)));
    } else {
        buf_putc(b, (char)(0xF0 | r >> 18));
        buf_putc(b, (char)(0x80 | (r >> 12 & 0x3F)));
        buf_putc(b, (char)(0x80 | (r >> 6 & 0x3F)));
        buf_putc(b, (char)(0x80 | (r & 0x3F)));
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A \x, \u or \U escape (s after the letter): returns the digits used, or
 * 0 when they are missing or, for \u and \U, not a valid code point. */
static size_t unquote_hex(const char *s, size_t n, char kind, buf *out)
{
    size_t digits = kind == 'x' ? 2 : kind == 'u' ? 4 : 8;
    if (n < digits) return 0;
    uint32_t v = 0;
    for (size_t i = 0; i < digits; i++) {
        int h = hexval(s[i]);
        if (h < 0) return 0;
        v = v << 4 | (uint32_t)h;
    }
    if (kind == 'x') {
        buf_putc(out, (char)v); /* a byte, possibly not UTF-8 */
    } else {
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
        utf8_append(out, v);
    }
    return digits;
}

/* One character of a "..." literal (Go's strconv.UnquoteChar): returns the
 * bytes used, or 0 on a syntax error. */
static size_t unquote_char(const char *s, size_t n, buf *out)
{
    uint8_t c = (uint8_t)s[0];
    if (c >= 0x80) {
        uint32_t r;
        size_t len = utf8_decode((const uint8_t *)s, n, &r);
        /* Go decodes an invalid byte as U+FFFD and keeps going. */
        if (len) buf_append(out, s, len);
        else utf8_append(out, 0xFFFD);
        return len ? len : 1;
    }
    if (c != '\\') {
        buf_putc(out, (char)c);
        return 1;
    }
    if (n < 2) return 0;
    static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"";
    for (size_t i = 0; simple[i]; i += 2) {
        if (s[1] == simple[i]) {
            buf_putc(out, simple[i + 1]);
            return 2;
        }
    }
    if (s[1] == 'x' || s[1] == 'u' || s[1] == 'U') {
        size_t used = unquote_hex(s + 2, n - 2, s[1], out);
        return used ? used + 2 : 0;
    }
    if (s[1] >= '0' && s[1] <= '7') { /* three octal digits, at most \377 */
        if (n < 4) return 0;
        unsigned v = 0;
        for (size_t i = 1; i < 4; i++) {
            if (s[i] < '0' || s[i] > '7') return 0;
            v = v << 3 | (unsigned)(s[i] - '0');
        }
        if (v > 255) return 0;
        buf_putc(out, (char)v);
        return 4;
    }
    return 0; /* including \' , which only rune literals allow */
}

/* The Go string literal ("..." or `...`) at the start of s, as
 * strconv.QuotedPrefix sees it: returns its length (0 when s does not start
 * with a valid one) and appends its value to out. */
static size_t unquote_prefix(const char *s, size_t n, buf *out)
{
    if (n < 2) return 0;
    if (s[0] == '`') {
        const char *end = memchr(s + 1, '`', n - 1);
        if (!end) return 0;
        for (const char *p = s + 1; p < end; p++)
            if (*p != '\r') buf_putc(out, *p); /* raw strings drop carriage returns */
        return (size_t)(end - s) + 1;
    }
    if (s[0] != '"') return 0;
    size_t i = 1;
    while (i < n && s[i] != '"') {
        size_t used = s[i] == '\n' ? 0 : unquote_char(s + i, n - i, out);
        if (!used) return 0;
        i += used;
    }
    return i < n ? i + 1 : 0;
}

/* Whether strconv.IsPrint holds for a rune past ASCII.  Go uses full
 * Unicode tables; this knows the controls, spaces, format characters,
 * private use areas and noncharacters, which covers what shows up in
 * practice (see docs/buildinfo.md). */
static bool go_isprint_nonascii(uint32_t r)
{
    static const uint32_t notprint[][2] = {
        {0x80, 0xA0}, {0xAD, 0xAD}, {0x600, 0x605}, {0x61C, 0x61C}, {0x6DD, 0x6DD}, {0x70F, 0x70F},
        {0x890, 0x891}, {0x8E2, 0x8E2}, {0x1680, 0x1680}, {0x180E, 0x180E}, {0x2000, 0x200F},
        {0x2028, 0x202F}, {0x205F, 0x206F}, {0x3000, 0x3000}, {0xD800, 0xF8FF}, {0xFDD0, 0xFDEF},
        {0xFEFF, 0xFEFF}, {0xFFF0, 0xFFFB}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F},
        {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0x32400, 0xE00FF}, {0xE01F0, 0x10FFFF},
    };
    if ((r & 0xFFFE) == 0xFFFE) return false; /* U+xxFFFE, U+xxFFFF */
    for (size_t i = 0; i < sizeof notprint / sizeof *notprint; i++)
        if (r >= notprint[i][0] && r <= notprint[i][1]) return false;
    return true;
}

/* Writes one ASCII byte of a quoted string as strconv.Quote does. */
static void quote_ascii(FILE *out, uint8_t c)
{
    static const char named[] = "\aa\bb\ff\nn\rr\tt\vv";
    const char *e = c ? strchr(named, c) : NULL;
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c >= 0x20 && c < 0x7F) fputc(c, out);
    else if (e) fprintf(out, "\\%c", e[1]);
    else fprintf(out, "\\x%02x", c);
}

/* Writes s as strconv.Quote does: invalid UTF-8 bytes as \xHH, runes that
 * are not printable as \uHHHH or \UHHHHHHHH. */
static void go_quote(FILE *out, const char *s)
{
    size_t n = strlen(s);
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)s[i];
        uint32_t r = 0;
        size_t len = c < 0x80 ? 1 : utf8_decode((const uint8_t *)s + i, n - i, &r);
        if (c < 0x80) quote_ascii(out, c);
        else if (len == 0) fprintf(out, "\\x%02x", c);
        else if (go_isprint_nonascii(r)) fwrite(s + i, 1, len, out);
        else fprintf(out, r < 0x10000 ? "\\u%04x" : "\\U%08x", (unsigned)r);
        i += len ? len : 1;
    }
    fputc('"', out);
}

/* runtime/debug quoteKey and quoteValue. */
static bool needs_quote(const char *s, bool key)
{
    return (key && (!*s || strchr(s, '='))) || strpbrk(s, " \t\r\n\"`");
}

/* ---- the module info text ---- */

typedef struct span {
    const char *p;
    size_t n;
} span;

typedef struct parser {
    const char *name;
    size_t base;        /* input offset of the module info text, for messages */
    const char *text;   /* the module info text */
    char *err;
    size_t errlen;
    buildinfo *bi;
    long last;          /* what "=>" replaces: -2 nothing, -1 main, else a dep */
    size_t cap_deps, cap_settings;
} parser;

static char *dup_span(span s) { return xstrndup(s.p, s.n); }

static void module_free(buildinfo_module *m)
{
    free(m->path);
    free(m->version);
    free(m->sum);
    if (m->replace) module_free(m->replace);
    free(m->replace);
    memset(m, 0, sizeof *m);
}

/* Reports a bad line, quoted with its tabs and control bytes escaped (it
 * goes to a terminal) and cut at 60 bytes. */
static int line_error(parser *ps, span line, const char *problem)
{
    buf shown = {0};
    for (size_t i = 0; i < line.n && i < 60; i++) {
        uint8_t c = (uint8_t)line.p[i];
        if (c == '\t') buf_puts(&shown, "\\t");
        else if (c < 0x20 || c == 0x7F) buf_printf(&shown, "\\x%02x", c);
        else if (c == '"' || c == '\\') buf_printf(&shown, "\\%c", c);
        else buf_putc(&shown, (char)c);
    }
    int rc = fail(ps->err, ps->errlen, "%s: offset %zu: module info line \"%s%s\": %s", ps->name,
                  ps->base + (size_t)(line.p - ps->text), buf_cstr(&shown), line.n > 60 ? "..." : "", problem);
    buf_free(&shown);
    return rc;
}

/* Splits s at tabs into at most max columns; returns how many there are. */
static size_t split_tabs(span s, span *cols, size_t max)
{
    size_t n = 0;
    const char *p = s.p, *end = s.p + s.n;
    for (;;) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *stop = tab ? tab : end;
        if (n < max) cols[n] = (span){p, (size_t)(stop - p)};
        n++;
        if (!tab) return n;
        p = tab + 1;
    }
}

/* "mod" and "dep" lines: PATH VERSION [SUM]. */
static int module_line(parser *ps, span line, span rest, buildinfo_module *m)
{
    span col[3];
    size_t n = split_tabs(rest, col, 3);
    if (n != 2 && n != 3) return line_error(ps, line, "expected 2 or 3 columns");
    module_free(m); /* a second "mod" line replaces the first, as in Go */
    m->path = dup_span(col[0]);
    m->version = dup_span(col[1]);
    m->sum = n == 3 ? dup_span(col[2]) : xstrdup("");
    return 0;
}

static int replace_line(parser *ps, span line, span rest)
{
    span col[3];
    if (split_tabs(rest, col, 3) != 3) return line_error(ps, line, "expected 3 columns for a replacement");
    if (ps->last == -2) return line_error(ps, line, "replacement with no module on the line before");
    buildinfo_module *m = ps->last == -1 ? &ps->bi->main : &ps->bi->deps[ps->last];
    buildinfo_module *r = xcalloc(1, sizeof *r);
    r->path = dup_span(col[0]);
    r->version = dup_span(col[1]);
    r->sum = dup_span(col[2]);
    if (m->replace) module_free(m->replace);
    free(m->replace);
    m->replace = r;
    ps->last = -2;
    return 0;
}

/* A key or value of a "build" line: quoted with Go syntax or bare.  On
 * success *out is the value (owned by the caller). */
static const char *setting_text(span raw, bool key, char **out)
{
    buf b = {0};
    if (raw.n && (raw.p[0] == '"' || raw.p[0] == '`')) {
        if (unquote_prefix(raw.p, raw.n, &b) != raw.n) {
            buf_free(&b);
            return key ? "invalid quoted key" : "invalid quoted value";
        }
        if (memchr(b.data ? b.data : "", '\0', b.len)) {
            buf_free(&b);
            return "NUL byte, which reef does not support (Go would keep it)";
        }
    } else {
        buf_append(&b, raw.p, raw.n);
        if (needs_quote(buf_cstr(&b), key)) {
            buf_free(&b);
            return key ? "unquoted key must be quoted" : "unquoted value must be quoted";
        }
    }
    *out = xstrndup(b.data ? b.data : "", b.len);
    buf_free(&b);
    return NULL;
}

/* "build KEY=VALUE", by runtime/debug.ParseBuildInfo's rules. */
static int build_line(parser *ps, span line, span kv)
{
    if (kv.n == 0) return line_error(ps, line, "build line missing '='");
    if (kv.p[0] == '=') return line_error(ps, line, "build line with missing key");
    span key = kv;
    if (kv.p[0] == '"' || kv.p[0] == '`') {
        buf scratch = {0};
        key.n = unquote_prefix(kv.p, kv.n, &scratch);
        buf_free(&scratch);
        if (!key.n) return line_error(ps, line, "invalid quoted key");
        if (key.n == kv.n || kv.p[key.n] != '=') return line_error(ps, line, "missing '=' after quoted key");
    } else {
        const char *eq = memchr(kv.p, '=', kv.n);
        if (!eq) return line_error(ps, line, "build line missing '=' after key");
        key.n = (size_t)(eq - kv.p);
    }
    span value = {kv.p + key.n + 1, kv.n - key.n - 1};
    char *k = NULL, *v = NULL;
    const char *problem = setting_text(key, true, &k);
    if (!problem && value.n) problem = setting_text(value, false, &v);
    if (problem) {
        free(k);
        return line_error(ps, line, problem);
    }
    buildinfo *bi = ps->bi;
    bi->settings = xgrow(bi->settings, &ps->cap_settings, bi->nsettings + 1, sizeof *bi->settings);
    bi->settings[bi->nsettings++] = (buildinfo_setting){k, v ? v : xstrdup("")};
    return 0;
}

static bool cut_prefix(span line, const char *prefix, span *rest)
{
    size_t n = strlen(prefix);
    if (line.n < n || memcmp(line.p, prefix, n) != 0) return false;
    *rest = (span){line.p + n, line.n - n};
    return true;
}

static int parse_line(parser *ps, span line)
{
    buildinfo *bi = ps->bi;
    span rest;
    static const char *const known[] = {"path\t", "mod\t", "dep\t", "=>\t", "build\t"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (cut_prefix(line, known[i], &rest) && memchr(rest.p, '\0', rest.n))
            return line_error(ps, line, "NUL byte, which reef does not support (Go would keep it)");
    if (cut_prefix(line, "path\t", &rest)) {
        free(bi->path);
        bi->path = dup_span(rest);
    } else if (cut_prefix(line, "mod\t", &rest)) {
        ps->last = -1;
        return module_line(ps, line, rest, &bi->main);
    } else if (cut_prefix(line, "dep\t", &rest)) {
        bi->deps = xgrow(bi->deps, &ps->cap_deps, bi->ndeps + 1, sizeof *bi->deps);
        memset(&bi->deps[bi->ndeps], 0, sizeof *bi->deps);
        ps->last = (long)bi->ndeps++;
        return module_line(ps, line, rest, &bi->deps[ps->last]);
    } else if (cut_prefix(line, "=>\t", &rest)) {
        return replace_line(ps, line, rest);
    } else if (cut_prefix(line, "build\t", &rest)) {
        return build_line(ps, line, rest);
    }
    return 0; /* Go skips lines it does not know */
}

/* The module info text (sentinels stripped).  Like Go, an unterminated
 * last line is ignored. */
static int parse_modinfo(parser *ps, const char *text, size_t n)
{
    ps->text = text;
    ps->last = -2;
    for (const char *p = text, *end = text + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        int rc = parse_line(ps, (span){p, (size_t)(nl - p)});
        if (rc) return rc;
        p = nl + 1;
    }
    return 0;
}

/* ---- the blob ---- */

/* Go's binary.Uvarint: returns the bytes used, 0 if the input ends first,
 * -1 if the value overflows 64 bits. */
static int uvarint(const uint8_t *p, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    unsigned shift = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 10 || (i == 9 && p[i] > 1)) return -1;
        x |= (uint64_t)(p[i] & 0x7F) << shift;
        if (p[i] < 0x80) {
            *v = x;
            return (int)i + 1;
        }
        shift += 7;
    }
    return 0;
}

/* A uvarint-length-prefixed string at *off; advances *off past it. */
static int read_string(const uint8_t *data, size_t len, size_t *off, const char *what, span *s, const char *name,
                       size_t base, char *err, size_t errlen)
{
    uint64_t n;
    int used = uvarint(data + *off, len - *off, &n);
    if (used == 0) return fail(err, errlen, "%s: offset %zu: %s length is cut off", name, base + *off, what);
    if (used < 0) return fail(err, errlen, "%s: offset %zu: %s length overflows 64 bits", name, base + *off, what);
    *off += (size_t)used;
    if (n > len - *off)
        return fail(err, errlen, "%s: offset %zu: %s claims %llu bytes, only %zu left", name, base + *off, what,
                    (unsigned long long)n, len - *off);
    *s = (span){(const char *)data + *off, (size_t)n};
    *off += (size_t)n;
    return 0;
}

/* Parses the blob at data into bi (zeroed by the caller); base is the
 * blob's offset in the named input. */
static int parse_blob(const uint8_t *data, size_t len, size_t base, const char *name, buildinfo *bi, char *err,
                      size_t errlen)
{
    if (len < BI_HEADER || memcmp(data, BI_MAGIC, BI_MAGIC_LEN) != 0)
        return fail(err, errlen, "%s: offset %zu: no Go build info header (the magic \"\\xff Go buildinf:\" and "
                                 "32 bytes)", name, base);
    if (!(data[BI_FLAGS] & BI_FLAG_INLINE))
        return fail(err, errlen, "%s: offset %zu: build info in the old pointer format: built before Go 1.18, "
                                 "which reef does not read (it reads Go 1.18 and later)", name, base);
    size_t off = BI_HEADER;
    span vers, mod;
    int rc = read_string(data, len, &off, "Go version", &vers, name, base, err, errlen);
    if (!rc) rc = read_string(data, len, &off, "module info", &mod, name, base, err, errlen);
    if (rc) return rc;
    if (vers.n == 0) return fail(err, errlen, "%s: offset %zu: empty Go version", name, base + BI_HEADER);
    if (memchr(vers.p, '\0', vers.n))
        return fail(err, errlen, "%s: offset %zu: NUL byte in the Go version", name, base + BI_HEADER);
    bi->go_version = dup_span(vers);
    /* The sentinels frame the text; anything else means no module info
     * (debug/buildinfo does the same). */
    if (mod.n < 2 * BI_SENTINEL + 1 || mod.p[mod.n - BI_SENTINEL - 1] != '\n') return 0;
    size_t text_off = (size_t)(mod.p - (const char *)data) + BI_SENTINEL;
    parser ps = {.name = name, .base = base + text_off, .err = err, .errlen = errlen, .bi = bi};
    return parse_modinfo(&ps, mod.p + BI_SENTINEL, mod.n - 2 * BI_SENTINEL);
}

int buildinfo_parse(const uint8_t *data, size_t len, const char *name, buildinfo *bi, char *err, size_t errlen)
{
    memset(bi, 0, sizeof *bi);
    int rc = parse_blob(data, len, 0, name, bi, err, errlen);
    if (rc) buildinfo_free(bi);
    return rc;
}

/* ---- finding the blob in an ELF file ---- */

typedef struct image {
    const char *name;
    const uint8_t *data;
    size_t size;
    Elf *elf;
} image;

/* The file bytes behind virtual address addr: their offset and how many
 * there are up to the end of the PT_LOAD segment (and the file).  False
 * when no segment has file bytes at addr. */
static bool vaddr_bytes(const image *im, uint64_t addr, size_t *off, size_t *avail)
{
    size_t nph;
    if (elf_getphdrnum(im->elf, &nph) != 0) return false;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(im->elf, (int)i, &ph) || ph.p_type != PT_LOAD) continue;
        if (addr < ph.p_vaddr || addr - ph.p_vaddr >= ph.p_filesz) continue;
        uint64_t skip = addr - ph.p_vaddr;
        if (ph.p_offset > im->size || skip >= im->size - ph.p_offset) return false; /* past the end of the file */
        *off = (size_t)(ph.p_offset + skip);
        *avail = im->size - *off;
        if (ph.p_filesz - skip < *avail) *avail = (size_t)(ph.p_filesz - skip);
        return true;
    }
    return false;
}

/* Where to look, as debug/buildinfo does: the .go.buildinfo section if
 * there is one, else the first writable, non-executable PT_LOAD segment
 * (stripped section tables; the linker puts the blob at its start). */
static bool search_range(const image *im, uint64_t *addr, uint64_t *size, bool *in_section)
{
    size_t shstrndx;
    *in_section = false;
    if (elf_getshdrstrndx(im->elf, &shstrndx) == 0) {
        for (Elf_Scn *scn = elf_nextscn(im->elf, NULL); scn; scn = elf_nextscn(im->elf, scn)) {
            GElf_Shdr sh;
            const char *sname = gelf_getshdr(scn, &sh) ? elf_strptr(im->elf, shstrndx, sh.sh_name) : NULL;
            if (sname && strcmp(sname, ".go.buildinfo") == 0) {
                *addr = sh.sh_addr;
                *size = sh.sh_size;
                *in_section = true;
                return true;
            }
        }
    }
    size_t nph;
    if (elf_getphdrnum(im->elf, &nph) != 0) return false;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(im->elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & (PF_X | PF_W)) == PF_W) {
            *addr = ph.p_vaddr;
            *size = ph.p_memsz;
            return true;
        }
    }
    return false;
}

/* Finds the 16-byte aligned magic in [addr, addr+size); sets *off to its
 * file offset and *avail to the bytes from there to the segment's end. */
static bool find_magic(const image *im, uint64_t addr, uint64_t size, size_t *off, size_t *avail)
{
    uint64_t start = (addr + BI_ALIGN - 1) & ~(uint64_t)(BI_ALIGN - 1);
    if (start < addr || start - addr >= size) return false;
    uint64_t range = size - (start - addr); /* bytes from start to the end of the range */
    size_t base, n;
    if (!vaddr_bytes(im, start, &base, &n)) return false;
    for (uint64_t i = 0; i + BI_MAGIC_LEN <= n && i < range; i += BI_ALIGN) {
        if (memcmp(im->data + base + i, BI_MAGIC, BI_MAGIC_LEN) != 0) continue;
        if (range - i < BI_HEADER) return false; /* as Go: the header must fit in the range */
        *off = base + (size_t)i;
        *avail = n - (size_t)i;
        return true;
    }
    return false;
}

/* libelf reads headers lazily, so a cut-off file would look like a file
 * without build info: say what is missing instead. */
static int check_complete(const image *im, char *err, size_t errlen)
{
    GElf_Ehdr eh;
    if (!gelf_getehdr(im->elf, &eh)) return fail(err, errlen, "%s: not a valid ELF file: %s", im->name, elf_errmsg(-1));
    uint64_t shend = eh.e_shoff + (uint64_t)(eh.e_shnum ? eh.e_shnum : 1) * eh.e_shentsize;
    if (eh.e_shoff && (shend < eh.e_shoff || shend > im->size))
        return fail(err, errlen, "%s: not a valid ELF file (truncated or corrupt): the section table ends at offset "
                                 "%llu, past the end of the file (%zu bytes)", im->name, (unsigned long long)shend,
                    im->size);
    size_t nph;
    if (elf_getphdrnum(im->elf, &nph) != 0)
        return fail(err, errlen, "%s: not a valid ELF file (truncated or corrupt): %s", im->name, elf_errmsg(-1));
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(im->elf, (int)i, &ph))
            return fail(err, errlen, "%s: not a valid ELF file (truncated or corrupt): %s", im->name, elf_errmsg(-1));
        uint64_t end = ph.p_offset + ph.p_filesz;
        if (ph.p_type == PT_LOAD && (end < ph.p_offset || end > im->size))
            return fail(err, errlen, "%s: not a valid ELF file (truncated or corrupt): a segment ends at offset %llu, "
                                     "past the end of the file (%zu bytes)", im->name, (unsigned long long)end,
                        im->size);
    }
    return 0;
}

/* Finds the blob in the open ELF image and parses it. */
static int read_blob(const image *im, buildinfo *bi, char *err, size_t errlen)
{
    int rc = check_complete(im, err, errlen);
    if (rc) return rc;
    uint64_t addr, size;
    size_t off, avail;
    bool in_section = false;
    if (!search_range(im, &addr, &size, &in_section) || !find_magic(im, addr, size, &off, &avail))
        return fail(err, errlen, "%s: not a Go executable (no Go build info%s)", im->name,
                    in_section ? " in its .go.buildinfo section" : "");
    return parse_blob(im->data + off, avail, off, im->name, bi, err, errlen);
}

int buildinfo_read_image(const uint8_t *data, size_t size, const char *name, buildinfo *bi, char *err, size_t errlen)
{
    memset(bi, 0, sizeof *bi);
    if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
        return fail(err, errlen, "%s: not an ELF executable%s", name, size ? "" : " (empty file)");
    elf_version(EV_CURRENT);
    /* libelf only reads the image (headers of another byte order or class
     * are converted into copies), so a read-only mapping is safe. */
    image im = {.name = name, .data = data, .size = size, .elf = elf_memory((char *)(uintptr_t)data, size)};
    int rc;
    if (!im.elf || elf_kind(im.elf) != ELF_K_ELF)
        rc = fail(err, errlen, "%s: not a valid ELF file (truncated or corrupt): %s", name, elf_errmsg(-1));
    else
        rc = read_blob(&im, bi, err, errlen);
    if (im.elf) elf_end(im.elf);
    if (rc) buildinfo_free(bi);
    return rc;
}

int buildinfo_read_file(const char *path, buildinfo *bi, char *err, size_t errlen)
{
    memset(bi, 0, sizeof *bi);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) st.st_mode = 0;
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, "%s: %s", path, S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
    }
    /* Mapped, not read: executables run to hundreds of megabytes and only
     * the headers and a few kilobytes of data are looked at. */
    size_t size = (size_t)st.st_size;
    void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    int map_errno = errno;
    close(fd);
    if (map == MAP_FAILED) return fail(err, errlen, "%s: cannot map: %s", path, strerror(map_errno));
    int rc = buildinfo_read_image(map ? map : "", size, path, bi, err, errlen);
    if (map) munmap(map, size);
    return rc;
}

/* ---- output ---- */

const char *buildinfo_setting_value(const buildinfo *bi, const char *key)
{
    /* The last one wins, as with duplicate keys in the JSON output. */
    for (size_t i = bi->nsettings; i-- > 0;)
        if (strcmp(bi->settings[i].key, key) == 0) return bi->settings[i].value;
    return NULL;
}

/* A module line as BuildInfo.String writes it: the sum only when the
 * module is not replaced, the replacement on a line of its own.  String
 * ends a replaced module with a second newline, so `go version -m` shows
 * an empty (tab-only) line after each "=>" line; so does reef. */
static void print_module(FILE *out, const char *word, const buildinfo_module *m)
{
    fprintf(out, "\t%s\t%s\t%s", word, m->path, m->version);
    if (m->replace) {
        fputc('\n', out);
        print_module(out, "=>", m->replace);
        fputs("\t\n", out);
    } else {
        fprintf(out, "\t%s\n", m->sum);
    }
}

void buildinfo_print(const buildinfo *bi, FILE *out)
{
    if (bi->path && *bi->path) fprintf(out, "\tpath\t%s\n", bi->path);
    const buildinfo_module *m = &bi->main;
    /* Go prints the main module unless it is the zero Module. */
    if (m->path && (*m->path || *m->version || *m->sum || m->replace)) print_module(out, "mod", m);
    for (size_t i = 0; i < bi->ndeps; i++) print_module(out, "dep", &bi->deps[i]);
    for (size_t i = 0; i < bi->nsettings; i++) {
        const buildinfo_setting *s = &bi->settings[i];
        fputs("\tbuild\t", out);
        if (needs_quote(s->key, true)) go_quote(out, s->key);
        else fputs(s->key, out);
        fputc('=', out);
        if (needs_quote(s->value, false)) go_quote(out, s->value);
        else fputs(s->value, out);
        fputc('\n', out);
    }
}

void buildinfo_free(buildinfo *bi)
{
    free(bi->go_version);
    free(bi->path);
    module_free(&bi->main);
    for (size_t i = 0; i < bi->ndeps; i++) module_free(&bi->deps[i]);
    free(bi->deps);
    for (size_t i = 0; i < bi->nsettings; i++) {
        free(bi->settings[i].key);
        free(bi->settings[i].value);
    }
    free(bi->settings);
    memset(bi, 0, sizeof *bi);
}
