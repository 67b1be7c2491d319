/* metrics.c - the Prometheus text format, expvar's JSON and the MemStats
 * trailer of heap?debug=1; see metrics.h.
 *
 * All three are read with bounded memory: the two streamed formats keep at
 * most one partial line (capped), and the JSON reader walks the document in
 * place with a nesting cap.  Numbers go through strtod, which is safe here:
 * reef never calls setlocale, so the decimal point is always '.'. */
#include "metrics.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest /metrics line: label sets are short in practice, and a cap keeps
 * a body with no newline from growing the carry-over buffer without end. */
#define PROM_MAX_LINE ((size_t)1 << 20)
/* Longest MemStats trailer line: PauseEnd is 256 numbers of up to 20 digits. */
#define MS_MAX_LINE ((size_t)64 << 10)
/* Before the trailer only the start of a line matters. */
#define MS_MARKER "# runtime.MemStats"
#define MS_SKIP_KEEP (sizeof MS_MARKER + 8)
#define JSON_MAX_DEPTH 64
#define KEY_MAX 256

void gostats_init(gostats *s)
{
    *s = (gostats){
        .goroutines = NAN, .threads = NAN, .heap_alloc = NAN, .heap_inuse = NAN, .heap_idle = NAN,
        .heap_sys = NAN, .heap_released = NAN, .heap_objects = NAN, .total_alloc = NAN, .stack_inuse = NAN,
        .sys = NAN, .next_gc = NAN, .num_gc = NAN, .pause_total_ns = NAN, .pause_max_ns = NAN,
        .gc_cpu_fraction = NAN, .gomaxprocs = NAN, .gogc = NAN, .gomemlimit = NAN, .open_fds = NAN,
        .max_fds = NAN, .max_rss = NAN, .resident_bytes = NAN, .has_pause_ring = false,
    };
}

/* ---- shared helpers ----------------------------------------------------- */

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* A float as Go's strconv.ParseFloat writes it or Prometheus accepts it:
 * decimal or exponent form, NaN, [+-]Inf.  The characters are checked
 * first so strtod cannot accept more ("nan(...)", leading spaces). */
static bool parse_double(const char *s, size_t n, double *out)
{
    char tmp[128];
    if (n == 0 || n >= sizeof tmp) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]) && !is_alpha(s[i]) && s[i] != '.' && s[i] != '+' && s[i] != '-') return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    *out = strtod(tmp, &end);
    return end == tmp + n;
}

/* Sets the pause figures that follow from a PauseNs ring. */
static void pause_ring_done(gostats *s)
{
    double max = 0;
    for (size_t i = 0; i < 256; i++)
        if (s->pause_ring[i] > max) max = s->pause_ring[i];
    s->has_pause_ring = true;
    s->pause_max_ns = max;
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *vformat(const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return xstrdup(msg);
}

/* ---- line splitting ----------------------------------------------------- */

/* Splits chunks into lines, keeping at most cap bytes of a line that spans
 * chunks; a longer line is passed on cut, with overlong set. */
typedef struct lines {
    buf part;
    size_t cap;
    bool overlong;
    size_t lineno; /* of the line being passed on */
} lines;

typedef int (*line_fn)(void *ctx, const char *s, size_t n, bool overlong);

static void lines_keep(lines *l, const char *s, size_t n)
{
    size_t room = l->cap > l->part.len ? l->cap - l->part.len : 0;
    if (n > room) {
        l->overlong = true;
        n = room;
    }
    buf_append(&l->part, s, n);
}

static int lines_emit(lines *l, const char *s, size_t n, line_fn fn, void *ctx)
{
    l->lineno++;
    if (!s) s = ""; /* an empty carry-over buffer never allocated */
    if (n > 0 && s[n - 1] == '\r') n--;
    bool overlong = l->overlong;
    l->overlong = false;
    return fn(ctx, s, n, overlong);
}

static int lines_feed(lines *l, const char *data, size_t len, line_fn fn, void *ctx)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) : len;
        if (!nl) {
            lines_keep(l, data, n);
            return 0;
        }
        int rc;
        if (l->part.len == 0 && !l->overlong && n <= l->cap) {
            rc = lines_emit(l, data, n, fn, ctx); /* whole line in this chunk: no copy */
        } else {
            lines_keep(l, data, n);
            rc = lines_emit(l, l->part.data, l->part.len, fn, ctx);
            l->part.len = 0;
        }
        if (rc) return rc;
        data += n + 1;
        len -= n + 1;
    }
    return 0;
}

/* The last line, when the input does not end with a newline. */
static int lines_finish(lines *l, line_fn fn, void *ctx)
{
    if (l->part.len == 0 && !l->overlong) return 0;
    int rc = lines_emit(l, l->part.data, l->part.len, fn, ctx);
    l->part.len = 0;
    return rc;
}

/* ---- Prometheus text format --------------------------------------------- */

struct promparser {
    char *input;
    prom_sample_fn fn;
    void *ctx;
    lines lines;
    char *error;
};

/* A cursor over one line. */
typedef struct cur {
    const char *s, *end;
} cur;

static void skip_blanks(cur *c)
{
    while (c->s < c->end && is_blank(*c->s)) c->s++;
}

static bool at(const cur *c, char ch) { return c->s < c->end && *c->s == ch; }

static int prom_fail(promparser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int prom_fail(promparser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    buf b = {0};
    buf_printf(&b, "%s:%zu: %s", p->input, p->lines.lineno, msg);
    free(msg);
    p->error = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return -1;
}

static bool is_name_start(char c) { return is_alpha(c) || c == '_' || c == ':'; }
static bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
static bool is_label_char(char c) { return is_alpha(c) || c == '_' || is_digit(c); }

/* A quoted label value, the cursor on its opening quote: escapes are
 * checked (\\, \" and \n are the only ones the format has), not decoded. */
static const char *label_value_problem(cur *c)
{
    for (c->s++; c->s < c->end; c->s++) {
        if (*c->s == '"') {
            c->s++;
            return NULL;
        }
        if (*c->s != '\\') continue;
        if (++c->s == c->end) break;
        if (*c->s != '\\' && *c->s != '"' && *c->s != 'n') return "invalid escape sequence in a label value";
    }
    return "unterminated label value";
}

/* "{name="value",...}", the cursor on the brace; sets *labels to the text
 * between the braces. */
static int prom_labels(promparser *p, cur *c, cur *labels)
{
    labels->s = ++c->s;
    for (;;) {
        skip_blanks(c);
        if (at(c, '}')) break;
        if (c->s == c->end || !(is_alpha(*c->s) || *c->s == '_')) return prom_fail(p, "expected a label name");
        while (c->s < c->end && is_label_char(*c->s)) c->s++;
        skip_blanks(c);
        if (!at(c, '=')) return prom_fail(p, "expected '=' after a label name");
        c->s++;
        skip_blanks(c);
        if (!at(c, '"')) return prom_fail(p, "expected a quoted label value after '='");
        const char *problem = label_value_problem(c);
        if (problem) return prom_fail(p, "%s", problem);
        skip_blanks(c);
        if (at(c, ',')) c->s++;
        else if (!at(c, '}')) return prom_fail(p, "expected ',' or '}' after a label value");
    }
    labels->end = c->s++;
    return 0;
}

static cur next_token(cur *c)
{
    skip_blanks(c);
    cur t = {c->s, c->s};
    while (c->s < c->end && !is_blank(*c->s)) c->s++;
    t.end = c->s;
    return t;
}

/* The optional timestamp: integer milliseconds, possibly negative. */
static bool is_timestamp(cur t)
{
    if (t.s < t.end && *t.s == '-') t.s++;
    if (t.s == t.end || t.end - t.s > 19) return false;
    for (; t.s < t.end; t.s++)
        if (!is_digit(*t.s)) return false;
    return true;
}

/* A token for a message: cut, with bytes a terminal should not get
 * replaced by '?'. */
static const char *printable(cur t, char *out, size_t outsize)
{
    size_t n = 0;
    for (; t.s < t.end && n + 1 < outsize; t.s++) out[n++] = *t.s >= 0x20 && *t.s < 0x7f ? *t.s : '?';
    out[n] = '\0';
    return out;
}

/* After the name (and labels): "value [timestamp]". */
static int prom_value(promparser *p, cur *c, bool has_labels, double *v)
{
    char tok[41];
    cur t = next_token(c);
    if (t.s == t.end)
        return prom_fail(p, "expected a value after the %s", has_labels ? "label set" : "metric name");
    if (!parse_double(t.s, (size_t)(t.end - t.s), v))
        return prom_fail(p, "invalid value \"%s\"", printable(t, tok, sizeof tok));
    t = next_token(c);
    if (t.s != t.end && !is_timestamp(t)) return prom_fail(p, "invalid timestamp (expected integer milliseconds)");
    skip_blanks(c);
    if (c->s != c->end) return prom_fail(p, "unexpected text after the timestamp");
    return 0;
}

static int prom_sample(promparser *p, cur *c)
{
    if (!is_name_start(*c->s)) return prom_fail(p, "expected a metric name");
    cur name = {c->s, c->s};
    while (c->s < c->end && is_name_char(*c->s)) c->s++;
    name.end = c->s;
    if (c->s < c->end && !is_blank(*c->s) && *c->s != '{')
        return prom_fail(p, "invalid character in the metric name");
    skip_blanks(c);
    static const char none[] = "";
    cur labels = {none, none};
    bool has_labels = at(c, '{');
    if (has_labels && prom_labels(p, c, &labels)) return -1;
    double v;
    if (prom_value(p, c, has_labels, &v)) return -1;
    if (p->fn) p->fn(p->ctx, name.s, (size_t)(name.end - name.s), labels.s, (size_t)(labels.end - labels.s), v);
    return 0;
}

static int prom_line(void *ctx, const char *s, size_t n, bool overlong)
{
    promparser *p = ctx;
    if (overlong) return prom_fail(p, "line longer than %zu bytes", PROM_MAX_LINE);
    cur c = {s, s + n};
    skip_blanks(&c);
    while (c.end > c.s && is_blank(c.end[-1])) c.end--;
    /* # HELP, # TYPE and comments carry nothing reef uses. */
    if (c.s == c.end || *c.s == '#') return 0;
    return prom_sample(p, &c);
}

promparser *promparser_new(const char *input_name, prom_sample_fn fn, void *ctx)
{
    promparser *p = xcalloc(1, sizeof *p);
    p->input = xstrdup(input_name ? input_name : "input");
    p->fn = fn;
    p->ctx = ctx;
    p->lines.cap = PROM_MAX_LINE;
    return p;
}

void promparser_free(promparser *p)
{
    if (!p) return;
    free(p->input);
    free(p->error);
    buf_free(&p->lines.part);
    free(p);
}

int promparser_feed(promparser *p, const char *data, size_t len)
{
    if (p->error) return -1;
    return lines_feed(&p->lines, data, len, prom_line, p) ? -1 : 0;
}

int promparser_finish(promparser *p)
{
    if (p->error) return -1;
    return lines_finish(&p->lines, prom_line, p) ? -1 : 0;
}

const char *promparser_error(const promparser *p) { return p->error; }

/* Copies one quoted value, unescaping, the cursor on the opening quote. */
static int label_unescape(cur *c, char *out, size_t outsize)
{
    size_t n = 0;
    for (c->s++; c->s < c->end && *c->s != '"'; c->s++) {
        char ch = *c->s;
        if (ch == '\\' && ++c->s < c->end) ch = *c->s == 'n' ? '\n' : *c->s;
        if (out && n + 1 < outsize) out[n] = ch;
        n++;
    }
    if (out && outsize) out[n < outsize ? n : outsize - 1] = '\0';
    if (c->s == c->end) return -1;
    c->s++;
    return n > (size_t)INT32_MAX ? -1 : (int)n;
}

int prom_label(const char *labels, size_t labels_len, const char *name, char *out, size_t outsize)
{
    cur c = {labels, labels + labels_len};
    size_t want = strlen(name);
    for (;;) {
        while (c.s < c.end && (is_blank(*c.s) || *c.s == ',')) c.s++;
        if (c.s == c.end) return -1;
        const char *k = c.s;
        while (c.s < c.end && is_label_char(*c.s)) c.s++;
        bool match = (size_t)(c.s - k) == want && memcmp(k, name, want) == 0;
        skip_blanks(&c);
        if (!at(&c, '=')) return -1;
        c.s++;
        skip_blanks(&c);
        if (!at(&c, '"')) return -1;
        int n = label_unescape(&c, match ? out : NULL, outsize);
        if (n < 0 || match) return n;
    }
}

typedef struct prom_field {
    const char *name;
    size_t off;
    double scale; /* seconds to nanoseconds for the GC pause sums */
} prom_field;

#define F(n, f, k) {n, offsetof(gostats, f), k}
static const prom_field prom_fields[] = {
    F("go_goroutines", goroutines, 1),
    F("go_threads", threads, 1),
    F("go_memstats_heap_alloc_bytes", heap_alloc, 1),
    F("go_memstats_heap_inuse_bytes", heap_inuse, 1),
    F("go_memstats_heap_idle_bytes", heap_idle, 1),
    F("go_memstats_heap_sys_bytes", heap_sys, 1),
    F("go_memstats_heap_released_bytes", heap_released, 1),
    F("go_memstats_heap_objects", heap_objects, 1),
    F("go_memstats_alloc_bytes_total", total_alloc, 1),
    F("go_memstats_stack_inuse_bytes", stack_inuse, 1),
    F("go_memstats_sys_bytes", sys, 1),
    F("go_memstats_next_gc_bytes", next_gc, 1),
    F("go_gc_duration_seconds_count", num_gc, 1),
    F("go_gc_duration_seconds_sum", pause_total_ns, 1e9),
    F("go_memstats_gc_cpu_fraction", gc_cpu_fraction, 1), /* client_golang before 1.12 */
    F("go_sched_gomaxprocs_threads", gomaxprocs, 1),
    F("go_gc_gogc_percent", gogc, 1),
    F("go_gc_gomemlimit_bytes", gomemlimit, 1),
    F("process_open_fds", open_fds, 1),
    F("process_max_fds", max_fds, 1),
    F("process_resident_memory_bytes", resident_bytes, 1),
};
#undef F

static bool name_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(name, want, len) == 0;
}

/* Seconds to whole nanoseconds: the runtime counts pauses in ns, and the
 * product of a decimal fraction and 1e9 is a hair off. */
static double to_ns(double seconds) { return isfinite(seconds) ? round(seconds * 1e9) : seconds; }

void gostats_from_prom(gostats *s, const char *name, size_t name_len, const char *labels, size_t labels_len,
                       double value)
{
    for (size_t i = 0; i < sizeof prom_fields / sizeof prom_fields[0]; i++) {
        const prom_field *f = &prom_fields[i];
        if (!name_is(name, name_len, f->name)) continue;
        *(double *)((char *)s + f->off) = f->scale == 1 ? value : to_ns(value);
        return;
    }
    char q[32];
    double qv;
    if (!labels) labels = "", labels_len = 0;
    if (name_is(name, name_len, "go_gc_duration_seconds") && prom_label(labels, labels_len, "quantile", q, sizeof q) >= 0 &&
        parse_double(q, strlen(q), &qv) && qv == 1)
        s->pause_max_ns = to_ns(value);
    /* runtime/metrics' count of cycles, for a registry without the
     * classic summary. */
    if (name_is(name, name_len, "go_gc_cycles_total_gc_cycles_total") && isnan(s->num_gc)) s->num_gc = value;
}

/* ---- expvar JSON -------------------------------------------------------- */

/* A reader over the whole document.  Objects are walked by jr_object with
 * a function per member; nesting is capped, so the recursion is bounded. */
typedef struct jr {
    const char *s;
    size_t len, pos;
    const char *input;
    char *err;
    size_t errlen;
    bool failed;
    int depth;
} jr;

typedef int (*member_fn)(jr *r, const char *key, size_t key_len, void *ctx);

static int jr_fail(jr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int jr_fail(jr *r, const char *fmt, ...)
{
    if (r->failed) return -1;
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    if (r->errlen) snprintf(r->err, r->errlen, "%s: byte %zu: %s", r->input, r->pos, msg);
    free(msg);
    return -1;
}

static void jr_ws(jr *r)
{
    while (r->pos < r->len && (is_blank(r->s[r->pos]) || r->s[r->pos] == '\n' || r->s[r->pos] == '\r')) r->pos++;
}

/* The next significant byte, or 0 at the end. */
static char jr_peek(jr *r)
{
    jr_ws(r);
    return r->pos < r->len ? r->s[r->pos] : '\0';
}

static int jr_expect(jr *r, char ch, const char *what)
{
    if (jr_peek(r) != ch) return r->pos < r->len ? jr_fail(r, "expected %s", what) : jr_fail(r, "unexpected end of input, expected %s", what);
    r->pos++;
    return 0;
}

/* Appends code point cp as UTF-8 (lone surrogates too: keys are only
 * compared, never printed as JSON). */
static void utf8_put(char *out, size_t outsize, size_t *n, unsigned cp)
{
    unsigned char b[4];
    size_t k = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (size_t i = k - 1; i > 0; i--, cp >>= 6) b[i] = (unsigned char)(0x80 | (cp & 0x3F));
    b[0] = (unsigned char)(lead[k] | cp);
    for (size_t i = 0; i < k; i++, (*n)++)
        if (out && *n < outsize) out[*n] = (char)b[i];
}

static unsigned hex_value(char h)
{
    if (is_digit(h)) return (unsigned)(h - '0');
    if (h >= 'a' && h <= 'f') return (unsigned)(h - 'a' + 10);
    if (h >= 'A' && h <= 'F') return (unsigned)(h - 'A' + 10);
    return 16;
}

static int jr_hex4(jr *r, unsigned *cp)
{
    if (r->len - r->pos < 4) return jr_fail(r, "truncated \\u escape");
    *cp = 0;
    for (int i = 0; i < 4; i++) {
        unsigned d = hex_value(r->s[r->pos]);
        if (d == 16) return jr_fail(r, "invalid \\u escape");
        r->pos++;
        *cp = *cp << 4 | d;
    }
    return 0;
}

/* \uXXXX, after the 'u'; a surrogate pair makes one code point. */
static int jr_unicode(jr *r, unsigned *cp)
{
    if (jr_hex4(r, cp)) return -1;
    if (*cp < 0xD800 || *cp > 0xDBFF || r->len - r->pos < 6 || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
        return 0;
    size_t save = r->pos;
    unsigned lo;
    r->pos += 2;
    if (jr_hex4(r, &lo)) return -1;
    if (lo >= 0xDC00 && lo <= 0xDFFF) *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    else r->pos = save;
    return 0;
}

static int jr_escape(jr *r, char *out, size_t outsize, size_t *n)
{
    if (r->pos == r->len) return jr_fail(r, "unterminated string");
    char e = r->s[r->pos];
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = e ? strchr(from, e) : NULL;
    if (!hit && e != 'u') return jr_fail(r, "invalid escape sequence in a string");
    r->pos++;
    unsigned cp = 0;
    if (hit) cp = (unsigned char)to[hit - from];
    else if (jr_unicode(r, &cp)) return -1;
    utf8_put(out, outsize, n, cp);
    return 0;
}

/* A string, decoded into out (when given) up to outsize bytes; *len gets
 * the decoded length even when that is more. */
static int jr_string(jr *r, char *out, size_t outsize, size_t *len)
{
    if (jr_expect(r, '"', "a string")) return -1;
    size_t n = 0;
    for (;;) {
        if (r->pos == r->len) return jr_fail(r, "unterminated string");
        unsigned char ch = (unsigned char)r->s[r->pos];
        if (ch < 0x20) return jr_fail(r, "control character in a string");
        r->pos++;
        if (ch == '"') break;
        if (ch == '\\') {
            if (jr_escape(r, out, outsize, &n)) return -1;
            continue;
        }
        if (out && n < outsize) out[n] = (char)ch;
        n++;
    }
    *len = n;
    return 0;
}

static size_t digits(const char *s, size_t pos, size_t len)
{
    size_t start = pos;
    while (pos < len && is_digit(s[pos])) pos++;
    return pos - start;
}

/* A number per RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int jr_number(jr *r, double *v)
{
    jr_ws(r);
    size_t p = r->pos, n;
    if (p < r->len && r->s[p] == '-') p++;
    if ((n = digits(r->s, p, r->len)) == 0 || (n > 1 && r->s[p] == '0')) return jr_fail(r, "invalid number");
    p += n;
    if (p < r->len && r->s[p] == '.') {
        if ((n = digits(r->s, ++p, r->len)) == 0) return jr_fail(r, "invalid number");
        p += n;
    }
    if (p < r->len && (r->s[p] == 'e' || r->s[p] == 'E')) {
        if (++p < r->len && (r->s[p] == '+' || r->s[p] == '-')) p++;
        if ((n = digits(r->s, p, r->len)) == 0) return jr_fail(r, "invalid number");
        p += n;
    }
    if (!parse_double(r->s + r->pos, p - r->pos, v)) return jr_fail(r, "number longer than 127 characters");
    r->pos = p;
    return 0;
}

static bool jr_number_next(jr *r)
{
    char c = jr_peek(r);
    return c == '-' || is_digit(c);
}

static int jr_skip(jr *r);

/* The opening brace or bracket of a container, one level deeper. */
static int jr_open(jr *r, char ch)
{
    char what[] = {'\'', ch, '\'', '\0'};
    if (jr_expect(r, ch, what)) return -1;
    if (++r->depth <= JSON_MAX_DEPTH) return 0;
    r->pos--; /* the message points at the bracket */
    return jr_fail(r, "nesting deeper than %d levels", JSON_MAX_DEPTH);
}

static int skip_member(jr *r, const char *key, size_t key_len, void *ctx)
{
    (void)key, (void)key_len, (void)ctx;
    return jr_skip(r);
}

/* "{ "key": value, ... }": fn reads each value.  Keys longer than KEY_MAX
 * reach fn cut, with their full length, so fn can tell. */
static int jr_object(jr *r, member_fn fn, void *ctx)
{
    if (jr_open(r, '{')) return -1;
    char key[KEY_MAX];
    bool first = true;
    while (jr_peek(r) != '}') {
        if (!first && jr_expect(r, ',', "',' or '}' in an object")) return -1;
        first = false;
        size_t klen;
        if (jr_string(r, key, sizeof key, &klen) || jr_expect(r, ':', "':' after an object key")) return -1;
        if (fn(r, key, klen, ctx)) return -1;
    }
    r->pos++;
    r->depth--;
    return 0;
}

typedef int (*element_fn)(jr *r, size_t index, void *ctx);

static int skip_element(jr *r, size_t index, void *ctx)
{
    (void)index, (void)ctx;
    return jr_skip(r);
}

static int jr_array(jr *r, element_fn fn, void *ctx)
{
    if (jr_open(r, '[')) return -1;
    for (size_t i = 0; jr_peek(r) != ']'; i++) {
        if (i > 0 && jr_expect(r, ',', "',' or ']' in an array")) return -1;
        if (fn(r, i, ctx)) return -1;
    }
    r->pos++;
    r->depth--;
    return 0;
}

static int jr_literal(jr *r)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (r->len - r->pos >= n && memcmp(r->s + r->pos, words[i], n) == 0) {
            r->pos += n;
            return 0;
        }
    }
    return r->pos < r->len ? jr_fail(r, "expected a value") : jr_fail(r, "unexpected end of input, expected a value");
}

static int jr_skip(jr *r)
{
    char c = jr_peek(r);
    double v;
    size_t n;
    if (c == '{') return jr_object(r, skip_member, NULL);
    if (c == '[') return jr_array(r, skip_element, NULL);
    if (c == '"') return jr_string(r, NULL, 0, &n);
    if (jr_number_next(r)) return jr_number(r, &v);
    return jr_literal(r);
}

/* -- /debug/vars -- */

typedef struct expvar_ctx {
    gostats *s;
    prom_sample_fn fn;
    void *fn_ctx;
    const char *obj; /* the top-level object being read, for "obj.member" */
    size_t obj_len;
} expvar_ctx;

static const struct {
    const char *name;
    size_t off;
} memstats_fields[] = {
    {"HeapAlloc", offsetof(gostats, heap_alloc)},       {"HeapInuse", offsetof(gostats, heap_inuse)},
    {"HeapIdle", offsetof(gostats, heap_idle)},         {"HeapSys", offsetof(gostats, heap_sys)},
    {"HeapReleased", offsetof(gostats, heap_released)}, {"HeapObjects", offsetof(gostats, heap_objects)},
    {"TotalAlloc", offsetof(gostats, total_alloc)},     {"StackInuse", offsetof(gostats, stack_inuse)},
    {"Sys", offsetof(gostats, sys)},                    {"NextGC", offsetof(gostats, next_gc)},
    {"NumGC", offsetof(gostats, num_gc)},               {"PauseTotalNs", offsetof(gostats, pause_total_ns)},
    {"GCCPUFraction", offsetof(gostats, gc_cpu_fraction)},
};

/* The gostats field a MemStats name fills (expvar or the heap trailer). */
static double *memstats_field(gostats *s, const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof memstats_fields / sizeof memstats_fields[0]; i++)
        if (name_is(name, len, memstats_fields[i].name)) return (double *)((char *)s + memstats_fields[i].off);
    return NULL;
}

static int pause_element(jr *r, size_t index, void *ctx)
{
    gostats *s = ctx;
    double v;
    if (!jr_number_next(r)) return jr_fail(r, "PauseNs holds a value that is not a number");
    if (jr_number(r, &v)) return -1;
    if (index >= 256) return jr_fail(r, "PauseNs has more than 256 entries");
    s->pause_ring[index] = v;
    return 0;
}

static int memstats_member(jr *r, const char *key, size_t key_len, void *ctx)
{
    gostats *s = ctx;
    double *f = memstats_field(s, key, key_len);
    if (f && jr_number_next(r)) return jr_number(r, f);
    if (name_is(key, key_len, "PauseNs") && jr_peek(r) == '[') {
        memset(s->pause_ring, 0, sizeof s->pause_ring);
        if (jr_array(r, pause_element, s)) return -1;
        pause_ring_done(s);
        return 0;
    }
    return jr_skip(r);
}

static int nested_member(jr *r, const char *key, size_t key_len, void *ctx)
{
    expvar_ctx *x = ctx;
    if (!jr_number_next(r)) return jr_skip(r);
    double v;
    if (jr_number(r, &v)) return -1;
    char name[2 * KEY_MAX + 2];
    if (x->fn && key_len < KEY_MAX) {
        int n = snprintf(name, sizeof name, "%.*s.%.*s", (int)x->obj_len, x->obj, (int)key_len, key);
        x->fn(x->fn_ctx, name, (size_t)n, "", 0, v);
    }
    return 0;
}

static int top_member(jr *r, const char *key, size_t key_len, void *ctx)
{
    expvar_ctx *x = ctx;
    char c = jr_peek(r);
    if (name_is(key, key_len, "memstats") && c == '{') return jr_object(r, memstats_member, x->s);
    if (key_len >= KEY_MAX) return jr_skip(r); /* cut: not a name to pass on */
    if (c == '{') {
        x->obj = key;
        x->obj_len = key_len;
        return jr_object(r, nested_member, x);
    }
    if (!jr_number_next(r)) return jr_skip(r);
    double v;
    if (jr_number(r, &v)) return -1;
    if (x->fn) x->fn(x->fn_ctx, key, key_len, "", 0, v);
    return 0;
}

int expvar_parse(const char *data, size_t len, const char *input_name, gostats *s, prom_sample_fn fn, void *ctx,
                 char *err, size_t errlen)
{
    jr r = {.s = data, .len = len, .input = input_name ? input_name : "input", .err = err, .errlen = errlen};
    expvar_ctx x = {.s = s, .fn = fn, .fn_ctx = ctx};
    if (errlen) err[0] = '\0';
    if (jr_peek(&r) != '{') {
        jr_fail(&r, "expected a JSON object (expvar's /debug/vars)");
        return 2;
    }
    if (jr_object(&r, top_member, &x)) return 2;
    if (jr_peek(&r) != '\0') {
        jr_fail(&r, "unexpected text after the JSON object");
        return 2;
    }
    return 0;
}

/* ---- heap?debug=1 MemStats trailer -------------------------------------- */

struct memstats_parser {
    char *input;
    gostats *s;
    lines lines;
    bool in_trailer;
    char *error;
};

static int ms_fail(memstats_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int ms_fail(memstats_parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    buf b = {0};
    buf_printf(&b, "%s:%zu: %s", p->input, p->lines.lineno, msg);
    free(msg);
    p->error = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return -1;
}

/* "[a b c ...]" */
static int ms_pause_ring(memstats_parser *p, cur c)
{
    if (c.s == c.end || *c.s != '[' || c.end[-1] != ']') return ms_fail(p, "PauseNs: expected [n n ...]");
    c.s++, c.end--;
    gostats *s = p->s;
    memset(s->pause_ring, 0, sizeof s->pause_ring);
    for (size_t i = 0;; i++) {
        cur t = next_token(&c);
        if (t.s == t.end) break;
        if (i >= 256) return ms_fail(p, "PauseNs has more than 256 entries");
        if (!parse_double(t.s, (size_t)(t.end - t.s), &s->pause_ring[i])) return ms_fail(p, "PauseNs: invalid number");
    }
    pause_ring_done(s);
    return 0;
}

/* One "Name = value" of the trailer; names reef does not use are skipped. */
static int ms_field(memstats_parser *p, cur name, cur value)
{
    size_t nlen = (size_t)(name.end - name.s), vlen = (size_t)(value.end - value.s);
    double *f = memstats_field(p->s, name.s, nlen);
    if (name_is(name.s, nlen, "MaxRSS")) f = &p->s->max_rss;
    if (name_is(name.s, nlen, "PauseNs")) return ms_pause_ring(p, value);
    if (name_is(name.s, nlen, "Stack")) { /* "INUSE / SYS" */
        f = &p->s->stack_inuse;
        const char *slash = memchr(value.s, '/', vlen);
        if (slash) value.end = slash;
        while (value.end > value.s && is_blank(value.end[-1])) value.end--;
        vlen = (size_t)(value.end - value.s);
    }
    if (f && !parse_double(value.s, vlen, f)) return ms_fail(p, "%.*s: expected a number", (int)nlen, name.s);
    return 0;
}

static int ms_line(void *ctx, const char *s, size_t n, bool overlong)
{
    memstats_parser *p = ctx;
    if (!p->in_trailer) {
        /* The profile records before the trailer are not kept. */
        if (!overlong && name_is(s, n, MS_MARKER)) {
            p->in_trailer = true;
            p->lines.cap = MS_MAX_LINE;
        }
        return 0;
    }
    if (overlong) return ms_fail(p, "line longer than %zu bytes in the MemStats trailer", MS_MAX_LINE);
    if (n == 0) return 0;
    const char *eq = n > 2 ? memchr(s, '=', n) : NULL;
    if (!eq || s[0] != '#' || s[1] != ' ') return ms_fail(p, "expected \"# Name = value\" in the MemStats trailer");
    cur name = {s + 2, eq}, value = {eq + 1, s + n};
    while (name.end > name.s && is_blank(name.end[-1])) name.end--;
    skip_blanks(&value);
    while (value.end > value.s && is_blank(value.end[-1])) value.end--;
    return ms_field(p, name, value);
}

memstats_parser *memstats_parser_new(const char *input_name, gostats *s)
{
    memstats_parser *p = xcalloc(1, sizeof *p);
    p->input = xstrdup(input_name ? input_name : "input");
    p->s = s;
    p->lines.cap = MS_SKIP_KEEP;
    return p;
}

void memstats_parser_free(memstats_parser *p)
{
    if (!p) return;
    free(p->input);
    free(p->error);
    buf_free(&p->lines.part);
    free(p);
}

int memstats_parser_feed(memstats_parser *p, const char *data, size_t len)
{
    if (p->error) return -1;
    return lines_feed(&p->lines, data, len, ms_line, p) ? -1 : 0;
}

int memstats_parser_finish(memstats_parser *p)
{
    if (p->error) return -1;
    if (lines_finish(&p->lines, ms_line, p)) return -1;
    if (!p->in_trailer) {
        buf b = {0};
        buf_printf(&b, "%s: no \"%s\" trailer (not a heap profile fetched with debug=1?)", p->input, MS_MARKER);
        p->error = xstrdup(buf_cstr(&b));
        buf_free(&b);
        return -1;
    }
    gostats *s = p->s;
    /* While NumGC <= 256 the ring still holds every pause: their sum is
     * PauseTotalNs exactly (mgc.go adds the same value to both). */
    if (s->has_pause_ring && isnan(s->pause_total_ns) && s->num_gc >= 0 && s->num_gc <= 256) {
        double sum = 0;
        for (size_t i = 0; i < 256; i++) sum += s->pause_ring[i];
        s->pause_total_ns = sum;
    }
    return 0;
}

const char *memstats_parser_error(const memstats_parser *p) { return p->error; }
