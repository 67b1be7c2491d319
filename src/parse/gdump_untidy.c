/* gdump_untidy.c - prefixes, id sets and headlines; see gdump_untidy.h.
 *
 * Facts about Go's output that the headline code relies on (runtime/panic.go,
 * runtime/signal_unix.go, testing/testing.go):
 *   panic: MESSAGE              continuation lines follow, tab-indented from
 *       [recovered]              Go 1.23 (unindented before); a re-panic adds
 *       \tpanic: MESSAGE2        "\tpanic: ..." lines; "[signal SIGSEGV...]"
 *   fatal error: MESSAGE        runtime throws; concurrent map misuse is
 *                               "concurrent map writes", "... read and map
 *                               write", "... iteration ...", "... clone ..."
 *   SIGQUIT: quit               a fatal signal with no panic: the signal's
 *   PC=0x45e461 m=0 sigcode=0   name and description, then the PC line
 *   panic: test timed out after 10m0s
 *   running tests:              go test -timeout, Go 1.22+: one
 *   \tTestFoo (10m0s)           "\tName (duration)" line per running test */
#include "gdump_untidy.h"
#include "../util/hash.h"
#include "../util/xalloc.h"

#include <string.h>

/* ---- line prefixes ---------------------------------------------------------- */

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

/* 0 digit, 1 letter, 2 anything else: enough to tell "12:04:05" from "main.f". */
static unsigned char cclass(char c)
{
    if (c >= '0' && c <= '9') return 0;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return 2;
}

static unsigned char token_shape(const char *t, size_t n)
{
    return (unsigned char)(cclass(t[0]) * 3 + cclass(t[n - 1]));
}

void lprefix_learn(lprefix *p, const char *s, size_t n)
{
    p->len = n;
    p->tokens = 0;
    if (n == 0) return; /* the common case: Go's own output */
    if (n <= LPREFIX_MAX) memcpy(p->text, s, n);
    if (!is_ws(s[n - 1])) return;
    unsigned k = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && is_ws(s[i])) i++;
        size_t start = i;
        while (i < n && !is_ws(s[i])) i++;
        if (i == start) break;
        if (k == LPREFIX_TOKENS) return; /* too many fields: literal only */
        p->shape[k++] = token_shape(s + start, i - start);
    }
    p->tokens = k;
}

/* The same number of fields, each starting and ending like the learnt ones. */
static bool cut_tokens(const lprefix *p, const char **s, size_t *n)
{
    const char *q = *s, *end = *s + *n;
    for (unsigned k = 0; k < p->tokens; k++) {
        while (q < end && is_ws(*q)) q++;
        const char *t = q;
        while (q < end && !is_ws(*q)) q++;
        if (q == t || token_shape(t, (size_t)(q - t)) != p->shape[k]) return false;
    }
    *n = (size_t)(end - q);
    *s = q;
    return true;
}

/* A prefix with no space before the text ("12:04:05|"): the same length,
 * with digits for digits, letters for letters, punctuation as it was. */
static bool cut_fixed(const lprefix *p, const char **s, size_t *n)
{
    if (p->len > LPREFIX_MAX || *n < p->len) return false;
    for (size_t i = 0; i < p->len; i++) {
        unsigned char a = cclass(p->text[i]), b = cclass((*s)[i]);
        if (a != b || (a == 2 && p->text[i] != (*s)[i])) return false;
    }
    *s += p->len;
    *n -= p->len;
    return true;
}

void lprefix_cut(const lprefix *p, const char **s, size_t *n)
{
    if (p->len) {
        if (p->len <= LPREFIX_MAX && *n >= p->len && memcmp(*s, p->text, p->len) == 0) {
            *s += p->len;
            *n -= p->len;
        } else if (p->tokens) {
            cut_tokens(p, s, n);
        } else if (p->len <= LPREFIX_MAX && !is_ws(p->text[p->len - 1])) {
            cut_fixed(p, s, n);
        }
    }
    /* Indentation: blanks, and the no-break spaces (C2 A0) a web page
     * turns them into. */
    for (;;) {
        if (*n && is_ws(**s)) (*s)++, (*n)--;
        else if (*n >= 2 && (unsigned char)(*s)[0] == 0xc2 && (unsigned char)(*s)[1] == 0xa0) *s += 2, *n -= 2;
        else break;
    }
}

bool lprefix_plausible(const char *s, size_t n)
{
    bool all_punct = true, marked = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_ws(c)) continue;
        unsigned char k = cclass(c);
        if (k == 0 || c == '[' || c == ']') marked = true;
        if (k != 2) all_punct = false;
    }
    return marked || all_punct;
}

/* ---- sets of goroutine ids ------------------------------------------------------ */

/* The bitmap covers ids below this (8 MiB of bits), while it stays within
 * 64 bits per id seen, i.e. no bigger than the hash table would be. */
#define BITMAP_MAX_IDS ((uint64_t)1 << 26)

static bool bitmap_fits(idset *s, uint64_t id)
{
    if (id < (uint64_t)s->nwords * 64) return true;
    if (id >= BITMAP_MAX_IDS || id > 64 * ((uint64_t)s->count + 1024)) return false;
    size_t n = s->nwords ? s->nwords : 256;
    while ((uint64_t)n * 64 <= id) n *= 2;
    s->bits = xrealloc(s->bits, n * sizeof *s->bits);
    memset(s->bits + s->nwords, 0, (n - s->nwords) * sizeof *s->bits);
    s->nwords = n;
    return true;
}

static bool hash_has(const idset *s, uint64_t id)
{
    if (!s->nslots) return false;
    size_t mask = s->nslots - 1;
    for (size_t i = hash_mix(id) & mask; s->keys[i]; i = (i + 1) & mask)
        if (s->keys[i] == id) return true;
    return false;
}

static void hash_put(idset *s, uint64_t id)
{
    if ((s->nkeys + 1) * 2 > s->nslots) {
        size_t n = s->nslots ? s->nslots * 2 : 256;
        uint64_t *keys = xcalloc(n, sizeof *keys);
        for (size_t i = 0; i < s->nslots; i++) {
            if (!s->keys[i]) continue;
            size_t j = hash_mix(s->keys[i]) & (n - 1);
            while (keys[j]) j = (j + 1) & (n - 1);
            keys[j] = s->keys[i];
        }
        free(s->keys);
        s->keys = keys;
        s->nslots = n;
    }
    size_t mask = s->nslots - 1, i = hash_mix(id) & mask;
    while (s->keys[i]) i = (i + 1) & mask;
    s->keys[i] = id;
    s->nkeys++;
}

bool idset_has(const idset *s, uint64_t id)
{
    if (id < (uint64_t)s->nwords * 64 && (s->bits[id / 64] >> (id % 64) & 1)) return true;
    return hash_has(s, id);
}

bool idset_add(idset *s, uint64_t id)
{
    if (id == 0 || idset_has(s, id)) return false;
    if (bitmap_fits(s, id)) s->bits[id / 64] |= (uint64_t)1 << (id % 64);
    else hash_put(s, id);
    s->count++;
    return true;
}

void idset_clear(idset *s)
{
    if (s->bits) memset(s->bits, 0, s->nwords * sizeof *s->bits);
    if (s->keys) memset(s->keys, 0, s->nslots * sizeof *s->keys);
    s->nkeys = s->count = 0;
}

void idset_free(idset *s)
{
    free(s->bits);
    free(s->keys);
    memset(s, 0, sizeof *s);
}

bool idset_overlaps(const idset *a, const idset *b)
{
    for (size_t w = 0; w < b->nwords; w++) {
        for (uint64_t bits = b->bits[w]; bits; bits &= bits - 1) {
            uint64_t id = (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(bits);
            if (idset_has(a, id)) return true;
        }
    }
    for (size_t i = 0; i < b->nslots; i++)
        if (b->keys[i] && idset_has(a, b->keys[i])) return true;
    return false;
}

/* ---- headlines ------------------------------------------------------------------ */

/* Longest message and test list kept: the headline is for reading. */
#define MESSAGE_MAX 4096
#define TESTS_MAX 65536
#define MESSAGE_LINES 16

#define LIT(s) s, sizeof(s) - 1

static bool starts_with(const char *s, size_t n, const char *lit, size_t litn)
{
    return n >= litn && memcmp(s, lit, litn) == 0;
}

/* "SIGQUIT: quit": SIG, capitals or digits, ": ", a description. */
static bool signal_at(const char *s, size_t n)
{
    if (!starts_with(s, n, LIT("SIG"))) return false;
    size_t i = 3;
    while (i < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))) i++;
    return i > 3 && i + 2 < n && s[i] == ':' && s[i + 1] == ' ';
}

/* Finds "panic: ", "fatal error: " or a signal line at the start of a
 * field, behind a plausible prefix.  Returns the kind (GHEAD_PANIC,
 * GHEAD_FATAL, GHEAD_SIGNAL) and sets *at, or GHEAD_NONE. */
static gheadline_kind find_start(const char *s, size_t n, size_t *at)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !is_ws(s[i - 1])) continue;
        gheadline_kind k = GHEAD_NONE;
        if (s[i] == 'p' && starts_with(s + i, n - i, LIT("panic: "))) k = GHEAD_PANIC;
        else if (s[i] == 'f' && starts_with(s + i, n - i, LIT("fatal error: "))) k = GHEAD_FATAL;
        else if (s[i] == 'S' && signal_at(s + i, n - i) && !(i >= 8 && memcmp(s + i - 8, "[signal ", 8) == 0))
            k = GHEAD_SIGNAL; /* "[signal SIGSEGV: ..." belongs to a panic's message */
        if (k == GHEAD_NONE) continue;
        if (!lprefix_plausible(s, i)) return GHEAD_NONE;
        *at = i;
        return k;
    }
    return GHEAD_NONE;
}

bool headline_is_signal(const char *s, size_t n)
{
    size_t at;
    return find_start(s, n, &at) == GHEAD_SIGNAL;
}

static gheadline_kind refine(gheadline_kind k, const char *msg, size_t n)
{
    if (k == GHEAD_PANIC && starts_with(msg, n, LIT("test timed out after "))) return GHEAD_TEST_TIMEOUT;
    if (k == GHEAD_FATAL && starts_with(msg, n, LIT("all goroutines are asleep - deadlock!")))
        return GHEAD_DEADLOCK;
    if (k == GHEAD_FATAL && starts_with(msg, n, LIT("concurrent map "))) return GHEAD_CONCURRENT_MAP;
    return k;
}

static size_t trim_end(const char *s, size_t n)
{
    while (n && is_ws(s[n - 1])) n--;
    return n;
}

static bool same_message(const headline_text *h, const char *msg, size_t n)
{
    return h->message.len >= n && memcmp(h->message.data, msg, n) == 0 &&
           (h->message.len == n || h->message.data[n] == '\n');
}

/* A headline line: panic and fatal error take precedence over a signal
 * line; the first of them is kept and identical repeats counted. */
static hl_result start_headline(headline_text *h, gheadline_kind k, const char *s, size_t n, size_t at,
                                unsigned long long lineno)
{
    size_t skip = k == GHEAD_SIGNAL ? 0 : k == GHEAD_PANIC ? 7 : 13; /* "panic: ", "fatal error: " */
    const char *msg = s + at + skip;
    size_t ml = trim_end(msg, n - at - skip);
    k = refine(k, msg, ml);
    h->mode = HL_IDLE;
    if (h->kind != GHEAD_NONE && (k == GHEAD_SIGNAL || h->kind != GHEAD_SIGNAL)) {
        if (h->kind == k && same_message(h, msg, ml)) h->count++;
        return HL_STARTED;
    }
    h->kind = k;
    h->count = 1;
    h->line = lineno;
    h->message.len = 0;
    h->tests.len = 0;
    buf_append(&h->message, msg, ml < MESSAGE_MAX ? ml : MESSAGE_MAX);
    lprefix_learn(&h->prefix, s, at);
    h->extra_lines = 0;
    if (k != GHEAD_SIGNAL) h->mode = HL_MESSAGE;
    return HL_STARTED;
}

static hl_result continue_headline(headline_text *h, const char *s, size_t n)
{
    lprefix_cut(&h->prefix, &s, &n);
    n = trim_end(s, n);
    if (n == 0) {
        h->mode = HL_IDLE;
        return HL_NOT_MINE;
    }
    if (h->mode == HL_MESSAGE && h->kind == GHEAD_TEST_TIMEOUT && n == 14 && memcmp(s, "running tests:", 14) == 0) {
        h->mode = HL_TESTS;
        return HL_CONTINUED;
    }
    buf *b = h->mode == HL_TESTS ? &h->tests : &h->message;
    size_t cap = h->mode == HL_TESTS ? TESTS_MAX : MESSAGE_MAX;
    if (h->mode == HL_MESSAGE && ++h->extra_lines > MESSAGE_LINES) {
        h->mode = HL_IDLE;
        return HL_NOT_MINE;
    }
    if (b->len + n + 1 <= cap) {
        if (b->len) buf_putc(b, '\n');
        buf_append(b, s, n);
    }
    return HL_CONTINUED;
}

hl_result headline_line(headline_text *h, const char *s, size_t n, unsigned long long lineno)
{
    size_t at = 0;
    gheadline_kind k = n ? find_start(s, n, &at) : GHEAD_NONE;
    /* Nested panics and Go 1.23+ message lines are indented: a tab, or the
     * spaces it became. */
    bool indented = at > 0 && (s[at - 1] == '\t' || (at > 1 && is_ws(s[at - 1]) && is_ws(s[at - 2])));
    if (k != GHEAD_NONE && !(h->mode != HL_IDLE && indented && k != GHEAD_SIGNAL))
        return start_headline(h, k, s, n, at, lineno);
    if (h->mode != HL_IDLE) return continue_headline(h, s, n);
    return HL_NOT_MINE;
}

static const char *arena_cstr(gmodel *m, const buf *b)
{
    char *s = arena_alloc(&m->mem, b->len + 1);
    if (b->len) memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

void headline_commit(headline_text *h, gmodel *m)
{
    memset(&m->headline, 0, sizeof m->headline);
    if (h->kind != GHEAD_NONE) {
        m->headline.kind = h->kind;
        m->headline.message = arena_cstr(m, &h->message);
        m->headline.running_tests = h->tests.len ? arena_cstr(m, &h->tests) : NULL;
        m->headline.line = h->line;
        m->headline.count = h->count;
    }
    headline_forget(h);
}

void headline_forget(headline_text *h)
{
    h->kind = GHEAD_NONE;
    h->mode = HL_IDLE;
    h->message.len = h->tests.len = 0;
    h->count = 0;
    h->line = 0;
}

void headline_free(headline_text *h)
{
    buf_free(&h->message);
    buf_free(&h->tests);
}
