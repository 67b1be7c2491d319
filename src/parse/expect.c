/* expect.c - parser of expectation files; see expect.h. */
#include "expect.h"
#include "../model/findings.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECT_MAX_FILE ((size_t)1 << 20)
#define EXPECT_MAX_ITEMS 10000

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) c->p++;
}

static bool at_end(cursor *c)
{
    skip_space(c);
    return c->p >= c->end || *c->p == '#';
}

/* A word: up to a space or a comment. */
static size_t word(cursor *c)
{
    skip_space(c);
    const char *s = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t' && *c->p != '#') c->p++;
    return (size_t)(c->p - s);
}

static bool fail(char *err, size_t errlen, const char *name, unsigned line, const char *what)
{
    snprintf(err, errlen, "%s:%u: %s", name, line, what);
    return false;
}

/* {k="v",...}: quoted values may hold any byte but an unescaped quote. */
static bool labels(cursor *c, expectation *x, char *err, size_t errlen, const char *name)
{
    if (c->p >= c->end || *c->p != '{') {
        x->labels = xstrdup("");
        return true;
    }
    const char *s = ++c->p;
    bool quoted = false;
    for (; c->p < c->end; c->p++) {
        if (quoted && *c->p == '\\' && c->p + 1 < c->end) c->p++;
        else if (*c->p == '"') quoted = !quoted;
        else if (*c->p == '}' && !quoted) break;
    }
    if (c->p >= c->end) return fail(err, errlen, name, x->line, "labels not closed with '}'");
    x->labels = xstrndup(s, (size_t)(c->p - s));
    c->p++;
    return true;
}

static bool number(cursor *c, double *out)
{
    skip_space(c);
    size_t n = word(c);
    if (n == 0 || n > 63) return false;
    char tmp[64];
    memcpy(tmp, c->p - n, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    *out = strtod(tmp, &end);
    return *end == '\0' && errno == 0 && !isnan(*out);
}

static bool op(cursor *c, char out[3])
{
    static const char *const ops[] = {"<=", ">=", "==", "!=", "<", ">"};
    skip_space(c);
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        size_t n = strlen(ops[i]);
        if ((size_t)(c->end - c->p) >= n && memcmp(c->p, ops[i], n) == 0) {
            memcpy(out, ops[i], n + 1);
            c->p += n;
            return true;
        }
    }
    return false;
}

static bool severity_word(cursor *c, expectation *x, char *err, size_t errlen, const char *name)
{
    x->severity = SEV_WARN;
    if (at_end(c)) return true;
    size_t n = word(c);
    if (n == 4 && memcmp(c->p - 4, "warn", 4) == 0) x->severity = SEV_WARN;
    else if (n == 4 && memcmp(c->p - 4, "crit", 4) == 0) x->severity = SEV_CRIT;
    else return fail(err, errlen, name, x->line, "expected warn, crit or the end of the line");
    if (!at_end(c)) return fail(err, errlen, name, x->line, "unexpected text after the severity");
    return true;
}

static bool parse_goroutine(cursor *c, expectation *x, char *err, size_t errlen, const char *name)
{
    x->kind = EXPECT_GOROUTINE;
    size_t n = word(c);
    if (n == 0) return fail(err, errlen, name, x->line, "expected a function name after 'goroutine'");
    x->subject = xstrndup(c->p - n, n);
    x->labels = xstrdup("");
    strcpy(x->op, ">=");
    x->bound = 1;
    skip_space(c);
    if (c->p + 2 <= c->end && memcmp(c->p, ">=", 2) == 0) {
        c->p += 2;
        if (!number(c, &x->bound) || x->bound < 0)
            return fail(err, errlen, name, x->line, "expected a count after '>='");
    }
    return severity_word(c, x, err, errlen, name);
}

/* The source a "from NAME" names: declared on an earlier line. */
static bool from_source(cursor *c, const expectations *xs, expectation *x, char *err, size_t errlen, const char *name)
{
    x->source = -1;
    cursor look = *c;
    size_t n = word(&look);
    if (n != 4 || memcmp(look.p - 4, "from", 4) != 0) return true;
    *c = look;
    n = word(c);
    if (n == 0) return fail(err, errlen, name, x->line, "expected a source name after 'from'");
    for (size_t i = 0; i < xs->nsources; i++)
        if (strlen(xs->sources[i].name) == n && memcmp(xs->sources[i].name, c->p - n, n) == 0) {
            x->source = (int)i;
            return true;
        }
    char what[160];
    snprintf(what, sizeof what, "unknown source '%.*s': declare it above with 'source %.*s URL'", (int)(n > 40 ? 40 : n),
             c->p - n, (int)(n > 40 ? 40 : n), c->p - n);
    return fail(err, errlen, name, x->line, what);
}

static bool parse_metric(cursor *c, const expectations *xs, expectation *x, char *err, size_t errlen, const char *name)
{
    x->kind = EXPECT_METRIC;
    /* A Prometheus name: [a-zA-Z_:][a-zA-Z0-9_:]*, so "q<=5" splits; dots
     * for JSON members one level down ("cluster.urls"). */
    skip_space(c);
    const char *start = c->p;
    while (c->p < c->end && (isalnum((unsigned char)*c->p) || *c->p == '_' || *c->p == ':' || *c->p == '.')) c->p++;
    size_t n = (size_t)(c->p - start);
    if (n == 0) return fail(err, errlen, name, x->line, "expected a metric name after 'metric'");
    x->subject = xstrndup(c->p - n, n);
    if (!labels(c, x, err, errlen, name)) return false;
    if (!op(c, x->op)) return fail(err, errlen, name, x->line, "expected <, <=, >, >=, == or != after the metric");
    if (!number(c, &x->bound)) return fail(err, errlen, name, x->line, "expected a number after the operator");
    if (!from_source(c, xs, x, err, errlen, name)) return false;
    return severity_word(c, x, err, errlen, name);
}

static bool source_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 40) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') return false;
    return true;
}

static bool url_ok(const char *s, size_t n)
{
    size_t scheme = n > 7 && memcmp(s, "http://", 7) == 0 ? 7 : n > 8 && memcmp(s, "https://", 8) == 0 ? 8 : 0;
    return scheme && n < 1024 && s[scheme] != '/';
}

/* source NAME URL */
static bool parse_source(cursor *c, unsigned line, expectations *xs, char *err, size_t errlen, const char *name)
{
    if (xs->nsources == EXPECT_MAX_SOURCES) return fail(err, errlen, name, line, "more than 8 sources");
    size_t n = word(c);
    const char *s = c->p - n;
    if (!source_name_ok(s, n))
        return fail(err, errlen, name, line, "expected a source name (letters, digits, '_' or '-', at most 40) after 'source'");
    for (size_t i = 0; i < xs->nsources; i++)
        if (strlen(xs->sources[i].name) == n && memcmp(xs->sources[i].name, s, n) == 0) {
            char what[96];
            snprintf(what, sizeof what, "source '%.*s' already declared on line %u", (int)n, s, xs->sources[i].line);
            return fail(err, errlen, name, line, what);
        }
    size_t un = word(c);
    const char *u = c->p - un;
    if (!url_ok(u, un)) return fail(err, errlen, name, line, "expected an http:// or https:// URL after the source name");
    if (!at_end(c)) return fail(err, errlen, name, line, "unexpected text after the URL");
    expect_source *src = &xs->sources[xs->nsources++];
    src->name = xstrndup(s, n);
    src->url = xstrndup(u, un);
    src->line = line;
    return true;
}

static bool parse_line(cursor *c, unsigned line, expectations *out, char *err, size_t errlen, const char *name)
{
    if (at_end(c)) return true;
    if (out->n >= EXPECT_MAX_ITEMS) return fail(err, errlen, name, line, "more than 10000 expectations");
    expectation x = {.line = line, .source = -1};
    size_t n = word(c);
    bool ok;
    if (n == 6 && memcmp(c->p - 6, "source", 6) == 0) return parse_source(c, line, out, err, errlen, name);
    if (n == 9 && memcmp(c->p - 9, "goroutine", 9) == 0) ok = parse_goroutine(c, &x, err, errlen, name);
    else if (n == 6 && memcmp(c->p - 6, "metric", 6) == 0) ok = parse_metric(c, out, &x, err, errlen, name);
    else ok = fail(err, errlen, name, line, "expected 'goroutine', 'metric' or 'source'");
    if (!ok) {
        free(x.subject);
        free(x.labels);
        return false;
    }
    out->items = xrealloc(out->items, (out->n + 1) * sizeof *out->items);
    out->items[out->n++] = x;
    return true;
}

int expect_parse(const char *text, size_t len, const char *name, expectations *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->file = xstrdup(name);
    const char *p = text, *end = text + len;
    for (unsigned line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if (memchr(p, '\0', (size_t)(eol - p))) {
            fail(err, errlen, name, line, "NUL byte: not a text file");
            expectations_free(out);
            return 2;
        }
        cursor c = {p, eol > p && eol[-1] == '\r' ? eol - 1 : eol};
        if (!parse_line(&c, line, out, err, errlen, name)) {
            expectations_free(out);
            return 2;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

int expect_read_file(const char *path, expectations *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return 2;
    }
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > EXPECT_MAX_FILE) {
            snprintf(err, errlen, "%s: larger than 1 MiB: not an expectations file", path);
            fclose(f);
            buf_free(&b);
            return 2;
        }
        buf_append(&b, chunk, n);
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        buf_free(&b);
        return 2;
    }
    int rc = expect_parse(b.data ? b.data : "", b.len, path, out, err, errlen);
    buf_free(&b);
    return rc;
}

void expectations_free(expectations *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->items[i].subject);
        free(x->items[i].labels);
    }
    free(x->items);
    for (size_t i = 0; i < x->nsources; i++) {
        free(x->sources[i].name);
        free(x->sources[i].url);
    }
    free(x->file);
    memset(x, 0, sizeof *x);
}

void expect_bound_text(const expectation *x, char *out, size_t outlen)
{
    bool braces = x->labels && x->labels[0];
    snprintf(out, outlen, "%s%s%s%s %s %g", x->subject, braces ? "{" : "", braces ? x->labels : "", braces ? "}" : "",
             x->op, x->bound);
}

bool expect_compare(const char *op, double v, double b)
{
    if (strcmp(op, "<") == 0) return v < b;
    if (strcmp(op, "<=") == 0) return v <= b;
    if (strcmp(op, ">") == 0) return v > b;
    if (strcmp(op, ">=") == 0) return v >= b;
    if (strcmp(op, "==") == 0) return v == b;
    return v != b;
}

/* Next label pair of s: name and the raw quoted value (quotes included). */
static bool next_pair(const char **s, const char **k, size_t *kn, const char **v, size_t *vn)
{
    const char *p = *s;
    while (*p == ',' || *p == ' ') p++;
    if (!*p) return false;
    *k = p;
    while (*p && *p != '=' && *p != ' ') p++;
    *kn = (size_t)(p - *k);
    while (*p == ' ') p++;
    if (*p != '=') return false;
    p++;
    while (*p == ' ') p++;
    *v = p;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && p[1]) p++;
        if (*p) p++;
    }
    *vn = (size_t)(p - *v);
    *s = p;
    return true;
}

bool expect_labels_match(const char *have, const char *want)
{
    const char *w = want, *k, *v;
    size_t kn, vn;
    while (next_pair(&w, &k, &kn, &v, &vn)) {
        const char *h = have, *hk, *hv;
        size_t hkn, hvn;
        bool found = false;
        while (!found && next_pair(&h, &hk, &hkn, &hv, &hvn))
            found = hkn == kn && hvn == vn && memcmp(hk, k, kn) == 0 && memcmp(hv, v, vn) == 0;
        if (!found) return false;
    }
    return true;
}
