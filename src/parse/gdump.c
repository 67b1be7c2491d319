/* gdump.c - streaming goroutine-dump parser; see gdump.h.
 *
 * The parser is a line-at-a-time state machine.  For each goroutine it
 * builds the group key (see goroutines.h) in one scratch buffer and hands
 * it to the model at the end of the goroutine; nothing else is kept.
 *
 * Formats, from the Go source (runtime/traceback.go, runtime/pprof):
 *
 *   goroutine 17 [chan send, 3 minutes, locked to thread]:
 *   main.leak(0xc000012345, {0x1, 0x2})        <- function, arguments ignored
 *   \t/src/main.go:25 +0x1d                      <- file:line, pc offset
 *   created by main.start in goroutine 1
 *   \t/src/main.go:20 +0x66
 *
 *   goroutine profile: total 412                <- debug=1
 *   400 @ 0x43e2b6 0x44e5d8 0x6d3b05
 *   # labels: {"k":"v"}
 *   #\t0x6d3b04\tmain.leak+0x24\t/src/main.go:25
 */
#include "gdump.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Longest state or name part we accept; Go's are far shorter. */
#define MAX_STATE 256
#define MAX_NAME (64u * 1024u)
/* Largest plausible "N minutes": about 1900 years. */
#define MAX_MINUTES 1000000000LL

typedef enum pstate {
    P_OUTSIDE,     /* text between goroutines */
    P_FRAMES,      /* inside a traceback goroutine */
    P_ANCESTOR,    /* inside an [originating from goroutine N] section */
    P_COUNTS,      /* inside a debug=1 block */
} pstate;

typedef enum pending {
    PEND_NONE,
    PEND_FUNC,     /* a function line, waiting for its file line */
    PEND_CREATED,  /* "created by", waiting for its file line */
} pending;

struct gparser {
    gmodel *model;
    gparse_options opt;
    char *error;

    buf carry;             /* a partial line between two feeds */
    bool skipping_long;    /* discarding the rest of an over-long line */
    unsigned long long lineno, skipped;

    pstate state;
    pending pend;
    size_t pend_key_len;   /* key length before the pending function name */
    unsigned long long pend_lineno;

    /* Log prefix in front of every line of the current goroutine. */
    int prefix_fields;     /* prefix = this many space-terminated fields */
    size_t prefix_len;     /* or, when prefix_fields < 0, a fixed length */

    /* The goroutine being read. */
    ggoroutine cur;
    char cur_state[MAX_STATE];
    buf key;
    unsigned nframes;
    bool have_goroutine;
    bool in_selected_dump;

    /* Dumps: a marker line (panic:, SIGQUIT:, a profile header) means the
     * next goroutine starts a new dump. */
    bool new_dump_pending;
    bool seen_goroutine;
    gdump_format last_format;
    bool counts_header_pending;     /* "goroutine profile: total N" seen */
    bool leak_profile_pending;      /* ... and it was the goroutineleak profile */
    uint64_t pending_total, dump_declared;
    unsigned long long counts_sum;  /* goroutines in this dump's blocks */
};

/* ---- errors ---------------------------------------------------------- */

static int fail(gparser *p, unsigned long long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(gparser *p, unsigned long long line, const char *fmt, ...)
{
    if (p->error) return -1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf b = {0};
    if (line) buf_printf(&b, "%s:%llu: %s", p->opt.input_name, line, msg);
    else buf_printf(&b, "%s: %s", p->opt.input_name, msg);
    p->error = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return -1;
}

const char *gparser_error(const gparser *p) { return p->error; }
unsigned long long gparser_lines(const gparser *p) { return p->lineno; }
unsigned long long gparser_skipped(const gparser *p) { return p->skipped; }
bool gparser_new_dump_pending(const gparser *p) { return p->new_dump_pending || p->counts_header_pending; }

/* ---- small scanners ---------------------------------------------------- */

static bool starts(const char *s, size_t n, const char *lit, size_t litn)
{
    return n >= litn && memcmp(s, lit, litn) == 0;
}
#define STARTS(s, n, lit) starts((s), (n), lit, sizeof(lit) - 1)

static bool ends(const char *s, size_t n, const char *lit, size_t litn)
{
    return n >= litn && memcmp(s + n - litn, lit, litn) == 0;
}
#define ENDS(s, n, lit) ends((s), (n), lit, sizeof(lit) - 1)

/* Reads a decimal number; returns the characters used, 0 if none or if it
 * would overflow *out. */
static size_t scan_uint(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return i;
}

static size_t scan_hex(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                     (s[i] >= 'A' && s[i] <= 'F')))
        i++;
    return i;
}

/* True if any byte is a control character (< 0x20).  Names with
 * them are not Go output, and the key uses bytes 1-4 as separators. */
static bool has_control(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* Sets the high bit of each byte below 0x20 (classic SWAR test). */
        if ((w - 0x2020202020202020ULL) & ~w & 0x8080808080808080ULL) break;
    }
    for (; i < n; i++)
        if ((unsigned char)s[i] < 0x20) return true;
    return false;
}

/* ---- log prefixes ------------------------------------------------------ */

/* Remembers how the header line's prefix is shaped, so the same prefix can
 * be cut from every line of the goroutine: either N fields each followed by
 * one space (timestamps, "stderr F", "app[12]:") or, failing that, a fixed
 * number of bytes. */
static void learn_prefix(gparser *p, const char *s, size_t len)
{
    p->prefix_len = len;
    p->prefix_fields = 0;
    if (len == 0) return;
    if (s[len - 1] != ' ') {
        p->prefix_fields = -1;
        return;
    }
    int fields = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ' ') fields++;
    p->prefix_fields = fields;
}

/* Cuts the learnt prefix from a line; false if the line does not have it. */
static bool cut_prefix(const gparser *p, const char **s, size_t *n)
{
    if (p->prefix_len == 0) return true;
    if (p->prefix_fields < 0) {
        if (*n < p->prefix_len) return false;
        *s += p->prefix_len;
        *n -= p->prefix_len;
        return true;
    }
    const char *q = *s, *end = *s + *n;
    for (int f = 0; f < p->prefix_fields; f++) {
        const char *sp = memchr(q, ' ', (size_t)(end - q));
        if (!sp) return false;
        q = sp + 1;
    }
    *n = (size_t)(end - q);
    *s = q;
    return true;
}

/* ---- goroutine headers --------------------------------------------------- */

typedef struct header {
    uint64_t id;
    const char *state;
    size_t state_len;
    int64_t minutes;
    bool locked, leaked;
    const char *labels;   /* inside the braces */
    size_t labels_len;
    const char *bad;      /* the offending field, when *why is set */
    size_t bad_len;
} header;

/* Parses the bracketed part: "chan send (leaked), 3 minutes, locked to
 * thread, synctest bubble 2 labels:{"k": "v"}".  Returns false when it is
 * not a goroutine header; sets *why when it is one but cannot be true. */
static bool parse_status(const char *s, size_t n, header *h, const char **why)
{
    const char *lab = NULL;
    /* Labels come last and may contain anything; find them first. */
    for (size_t i = 0; i + 9 <= n; i++) {
        if (s[i] == ' ' && memcmp(s + i, " labels:{", 9) == 0) {
            lab = s + i;
            break;
        }
    }
    if (lab) {
        if (s[n - 1] != '}') return false;
        h->labels = lab + 9;
        h->labels_len = (size_t)(s + n - 1 - h->labels);
        n = (size_t)(lab - s);
    }
    /* Fields are separated by ", "; wait reasons contain no commas. */
    const char *f = s, *end = s + n;
    bool first = true;
    while (f <= end) {
        const char *comma = f;
        while (comma + 1 < end && !(comma[0] == ',' && comma[1] == ' ')) comma++;
        if (comma + 1 >= end) comma = end;
        size_t fl = (size_t)(comma - f);
        if (first) {
            /* Flags the runtime appends to the state. */
            for (;;) {
                if (ENDS(f, fl, " (leaked)")) { h->leaked = true; fl -= 9; }
                else if (ENDS(f, fl, " (scan)")) fl -= 7;
                else break;
            }
            h->bad = f;
            h->bad_len = fl;
            if (fl == 0 || fl > MAX_STATE - 1) {
                *why = fl ? "goroutine state is implausibly long" : "goroutine header has an empty state";
                return true;
            }
            if (has_control(f, fl)) {
                *why = "goroutine state holds control characters";
                return true;
            }
            h->state = f;
            h->state_len = fl;
            first = false;
        } else if (fl > 8 && ENDS(f, fl, " minutes")) {
            uint64_t v;
            size_t d = scan_uint(f, fl - 8, &v);
            if (d != fl - 8 || d == 0 || v > (uint64_t)MAX_MINUTES) {
                h->bad = f;
                h->bad_len = fl;
                *why = "goroutine header has an implausible wait time";
                return true;
            }
            h->minutes = (int64_t)v;
        } else if (fl == 16 && memcmp(f, "locked to thread", 16) == 0) {
            h->locked = true;
        } else if (has_control(f, fl)) {
            h->bad = f;
            h->bad_len = fl;
            *why = "goroutine header holds control characters";
            return true;
        }
        /* Other fields ("synctest bubble N", fields of later Go releases)
         * do not change the grouping and are accepted as they are. */
        if (comma >= end) break;
        f = comma + 2;
    }
    return true;
}

/* Recognises "goroutine N[ gp=.. m=.. mp=..] [status]:" at s.  Returns
 * false if the line is not a header.  A header that is malformed beyond
 * what any Go release prints sets *why. */
static bool parse_header(const char *s, size_t n, header *h, const char **why)
{
    memset(h, 0, sizeof *h);
    h->minutes = 0;
    *why = NULL;
    if (!STARTS(s, n, "goroutine ")) return false;
    size_t i = 10;
    size_t d = scan_uint(s + i, n - i, &h->id);
    if (d == 0) {
        if (i < n && s[i] >= '0' && s[i] <= '9' && ENDS(s, n, "]:")) {
            h->bad = s + i;
            size_t k = i;
            while (k < n && s[k] >= '0' && s[k] <= '9') k++;
            h->bad_len = k - i;
            *why = "goroutine id out of range";
            return true;
        }
        return false;
    }
    i += d;
    if (i < n && STARTS(s + i, n - i, " gp=0x")) {
        i += 6;
        i += scan_hex(s + i, n - i);
        if (STARTS(s + i, n - i, " m=nil")) {
            i += 6;
        } else if (STARTS(s + i, n - i, " m=")) {
            uint64_t mid;
            i += 3;
            i += scan_uint(s + i, n - i, &mid);
            if (STARTS(s + i, n - i, " mp=0x")) {
                i += 6;
                i += scan_hex(s + i, n - i);
            }
        }
    }
    if (!STARTS(s + i, n - i, " [") || !ENDS(s, n, "]:")) return false;
    i += 2;
    if (n - 2 < i) return false;
    return parse_status(s + i, n - 2 - i, h, why);
}

/* Canonical label set: whitespace outside quotes dropped, ", " between
 * pairs, so debug=1 ("k":"v") and traceback ("k": "v") forms agree. */
static uint32_t intern_labels(gmodel *m, const char *s, size_t n)
{
    while (n && (s[0] == ' ' || s[0] == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n >= 2 && s[0] == '{' && s[n - 1] == '}') s++, n -= 2;
    if (n == 0) return 0;
    char small[512];
    char *out = n * 2 + 4 <= sizeof small ? small : xmalloc(n * 2 + 4);
    size_t o = 0;
    bool inq = false;
    out[o++] = '{';
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (inq) {
            out[o++] = c;
            if (c == '\\' && i + 1 < n) out[o++] = s[++i];
            else if (c == '"') inq = false;
        } else if (c == '"') {
            out[o++] = c;
            inq = true;
        } else if (c == ',') {
            out[o++] = ',';
            out[o++] = ' ';
        } else if (c != ' ' && c != '\t') {
            out[o++] = c;
        }
    }
    out[o++] = '}';
    uint32_t id = intern(&m->strings, out, o);
    if (out != small) free(out);
    return id;
}

/* ---- the goroutine being read -------------------------------------------- */

/* A debug=1 dump declares its total; blocks that add up to less mean the
 * dump was cut short.  Checked when the dump ends, for the dump kept. */
static int check_counts(gparser *p)
{
    if (p->last_format != GDUMP_COUNTS || !p->dump_declared || !p->in_selected_dump ||
        p->counts_sum == p->dump_declared)
        return 0;
    return fail(p, p->lineno, "truncated debug=1 dump: its header says %llu goroutines, its blocks add up to %llu",
                (unsigned long long)p->dump_declared, p->counts_sum);
}

/* Counts a new dump when a marker line came before this goroutine, or the
 * format changed (a debug=1 dump followed by a debug=2 one). */
static int start_dump_if_new(gparser *p, gdump_format format)
{
    if (p->seen_goroutine && p->last_format != format) p->new_dump_pending = true;
    if (p->new_dump_pending || !p->seen_goroutine) {
        if (p->seen_goroutine && check_counts(p) < 0) return -1;
        p->model->dumps++;
        p->new_dump_pending = false;
        p->in_selected_dump = p->opt.dump == 0 || p->opt.dump == p->model->dumps;
        if (p->opt.dump == 0 && p->model->dumps > 1) gmodel_reset(p->model);
        p->dump_declared = p->counts_header_pending ? p->pending_total : 0;
        if (p->in_selected_dump) {
            p->model->declared_total = p->dump_declared;
            p->model->leak_profile = p->leak_profile_pending;
            p->model->format = format;
            p->model->selected_dump = p->model->dumps;
        }
        p->leak_profile_pending = false;
        p->counts_header_pending = false;
        p->counts_sum = 0;
    }
    p->last_format = format;
    p->seen_goroutine = true;
    return 0;
}

static int begin_goroutine(gparser *p, const header *h)
{
    if (start_dump_if_new(p, GDUMP_TRACEBACK) < 0) return -1;
    memset(&p->cur, 0, sizeof p->cur);
    p->cur.id = h->id;
    p->cur.count = 1;
    memcpy(p->cur_state, h->state, h->state_len);
    p->cur.state = p->cur_state;
    p->cur.state_len = h->state_len;
    p->cur.wait_minutes = h->minutes;
    p->cur.locked = h->locked;
    p->cur.leaked = h->leaked;
    p->cur.labels = h->labels_len ? intern_labels(p->model, h->labels, h->labels_len) : 0;
    p->key.len = 0;
    p->nframes = 0;
    p->pend = PEND_NONE;
    p->have_goroutine = true;
    return 0;
}

static void end_goroutine(gparser *p)
{
    if (!p->have_goroutine) return;
    p->have_goroutine = false;
    if (p->in_selected_dump) {
        p->cur.key = p->key.data ? p->key.data : "";
        p->cur.key_len = p->key.len;
        gmodel_add(p->model, &p->cur);
    }
    p->state = P_OUTSIDE;
    p->pend = PEND_NONE;
    p->prefix_len = 0;
    p->prefix_fields = 0;
}

/* Appends "file:line" from a traceback source line (after the tab):
 *   /src/main.go:25 +0x1d fp=0x.. sp=0x.. pc=0x..      Go frames
 *   /src/x.c:12 pc=0x..   or   pc=0x..                  cgo frames
 * Trailing " +0x", " fp=", " sp=", " pc=" fields are dropped; paths may
 * contain spaces. */
static int add_source(gparser *p, const char *s, size_t n)
{
    for (;;) {
        const char *sp = n ? memrchr(s, ' ', n) : NULL;
        const char *tok = sp ? sp + 1 : s;
        size_t tl = (size_t)(s + n - tok);
        if (!(STARTS(tok, tl, "+0x") || STARTS(tok, tl, "fp=") || STARTS(tok, tl, "sp=") ||
              STARTS(tok, tl, "pc=")))
            break;
        n = sp ? (size_t)(sp - s) : 0;
    }
    if (n > MAX_NAME) return fail(p, p->lineno, "file name longer than %u bytes", MAX_NAME);
    if (has_control(s, n)) return fail(p, p->lineno, "control character in file name");
    buf_putc(&p->key, KEY_SEP);
    buf_append(&p->key, s, n);
    buf_putc(&p->key, '\n');
    return 0;
}

/* A function line: "pkg.(*T).M[...](args)", "panic(...)", a cgo symbol.
 * The name is everything before the argument list. */
static int add_function(gparser *p, const char *s, size_t n)
{
    size_t name_len = n;
    if (n >= 2 && s[n - 1] == ')') {
        const char *open = memrchr(s, '(', n);
        if (open && open > s) name_len = (size_t)(open - s);
    }
    if (name_len > MAX_NAME) return fail(p, p->lineno, "function name longer than %u bytes", MAX_NAME);
    if (has_control(s, name_len)) return fail(p, p->lineno, "control character in function name");
    p->pend_key_len = p->key.len;
    p->pend_lineno = p->lineno;
    p->pend = PEND_FUNC;
    buf_append(&p->key, s, name_len);
    return 0;
}

/* ---- traceback lines -------------------------------------------------------- */

static int outside_line(gparser *p, const char *s, size_t n);

/* A function line was not followed by its source line.  If it looked like
 * a call, the dump is damaged; otherwise it was text after the goroutine. */
static bool pending_is_frame(const gparser *p)
{
    /* Go function names have no spaces and hold a '.' (pkg.Func); "exit
     * status 2" after a panic does not.  The name is still in the key. */
    const char *name = p->key.data + p->pend_key_len;
    size_t name_len = p->key.len - p->pend_key_len;
    bool looks_like_func = memchr(name, ' ', name_len) == NULL && memchr(name, '.', name_len) != NULL;
    return p->pend == PEND_CREATED || looks_like_func || p->nframes == 0;
}

static int unpaired_function(gparser *p, bool at_eof)
{
    if (pending_is_frame(p)) {
        const char *what = p->pend == PEND_CREATED ? "\"created by\" line" : "function";
        if (at_eof)
            return fail(p, p->pend_lineno, "input ends inside goroutine %llu: %s without its source line",
                        (unsigned long long)p->cur.id, what);
        return fail(p, p->lineno, "goroutine %llu: expected the source line of the %s on line %llu",
                    (unsigned long long)p->cur.id, what, p->pend_lineno);
    }
    p->key.len = p->pend_key_len;
    p->pend = PEND_NONE;
    p->skipped++;
    end_goroutine(p);
    return 0;
}

/* cgo frames without a symbolizer are one line, "non-Go function at
 * pc=0x..", with no source line; the pc is left out of the key. */
static bool close_nongo_frame(gparser *p)
{
    if (p->pend != PEND_FUNC || p->key.len - p->pend_key_len < 15 ||
        memcmp(p->key.data + p->pend_key_len, "non-Go function", 15) != 0)
        return false;
    p->key.len = p->pend_key_len;
    buf_puts(&p->key, "non-Go function\x01:0\n");
    p->pend = PEND_NONE;
    p->nframes++;
    return true;
}

static int frame_line(gparser *p, const char *s, size_t n)
{
    if (n && s[0] == '\t') {
        if (p->pend == PEND_NONE) {
            if (STARTS(s, n, "\tgoroutine running on other thread")) {
                p->cur.unavailable = true;
                buf_putc(&p->key, KEY_UNAVAILABLE);
                buf_putc(&p->key, '\n');
                p->nframes++;
                return 0;
            }
            return fail(p, p->lineno, "goroutine %llu: source line without a function line",
                        (unsigned long long)p->cur.id);
        }
        bool created = p->pend == PEND_CREATED;
        p->pend = PEND_NONE;
        if (add_source(p, s + 1, n - 1) < 0) return -1;
        if (!created) p->nframes++;
        return 0;
    }
    if (p->pend != PEND_NONE && !close_nongo_frame(p)) {
        if (unpaired_function(p, false) < 0) return -1;
        return outside_line(p, s, n);
    }
    if (n == 0) {
        if (p->nframes == 0)
            return fail(p, p->lineno, "goroutine %llu has no stack", (unsigned long long)p->cur.id);
        end_goroutine(p);
        return 0;
    }
    if (STARTS(s, n, "created by ")) {
        const char *name = s + 11;
        size_t nl = n - 11;
        const char *in = NULL;
        for (size_t i = 0; i + 14 <= nl; i++) {
            if (memcmp(name + i, " in goroutine ", 14) == 0) {
                in = name + i;
                break;
            }
        }
        if (in) {
            uint64_t parent;
            size_t d = scan_uint(in + 14, (size_t)(name + nl - in - 14), &parent);
            if (d == 0 || in + 14 + d != name + nl)
                return fail(p, p->lineno, "goroutine %llu: malformed \"created by ... in goroutine N\"",
                            (unsigned long long)p->cur.id);
            p->cur.parent_id = parent;
            nl = (size_t)(in - name);
        }
        if (nl > MAX_NAME || has_control(name, nl))
            return fail(p, p->lineno, "goroutine %llu: malformed \"created by\" line",
                        (unsigned long long)p->cur.id);
        p->pend_key_len = p->key.len;
        p->pend_lineno = p->lineno;
        p->pend = PEND_CREATED;
        buf_putc(&p->key, KEY_CREATED);
        buf_append(&p->key, name, nl);
        return 0;
    }
    if (s[0] == '.' && STARTS(s, n, "...") && ENDS(s, n, "elided...")) {
        uint64_t count = 0;
        scan_uint(s + 3, n - 3, &count);
        buf_putc(&p->key, KEY_ELIDED);
        if (count) buf_printf(&p->key, "%llu", (unsigned long long)count);
        buf_putc(&p->key, '\n');
        return 0;
    }
    if (s[0] == '[' && STARTS(s, n, "[originating from goroutine ")) {
        p->state = P_ANCESTOR;
        return 0;
    }
    if (STARTS(s, n, "goroutine ")) {
        header h;
        const char *why;
        if (parse_header(s, n, &h, &why)) {
            /* A new goroutine with no blank line in between. */
            if (p->nframes == 0)
                return fail(p, p->lineno - 1, "goroutine %llu has no stack", (unsigned long long)p->cur.id);
            end_goroutine(p);
            return outside_line(p, s, n);
        }
    }
    if (s[0] == ' ') {
        /* Not Go output: text after the goroutine. */
        if (p->nframes == 0)
            return fail(p, p->lineno, "goroutine %llu: expected a stack frame", (unsigned long long)p->cur.id);
        end_goroutine(p);
        return outside_line(p, s, n);
    }
    return add_function(p, s, n);
}

/* Ancestor sections (GODEBUG=tracebackancestors) describe other, possibly
 * dead goroutines; they are checked for shape and left out of the key. */
static int ancestor_line(gparser *p, const char *s, size_t n)
{
    if (n == 0) {
        end_goroutine(p);
        return 0;
    }
    if (STARTS(s, n, "goroutine ")) {
        header h;
        const char *why;
        if (parse_header(s, n, &h, &why)) {
            end_goroutine(p);
            return outside_line(p, s, n);
        }
    }
    return 0;
}

/* ---- debug=1 blocks ------------------------------------------------------------ */

/* "400 @ 0x43e2b6 0x44e5d8" starts a block. */
static bool parse_count_header(const char *s, size_t n, uint64_t *count)
{
    size_t d = scan_uint(s, n, count);
    if (d == 0 || !STARTS(s + d, n - d, " @")) return false;
    for (size_t i = d + 2; i < n;) {
        if (!STARTS(s + i, n - i, " 0x")) return false;
        i += 3;
        size_t h = scan_hex(s + i, n - i);
        if (h == 0) return false;
        i += h;
    }
    return true;
}

static int begin_counts(gparser *p, uint64_t count)
{
    if (start_dump_if_new(p, GDUMP_COUNTS) < 0) return -1;
    memset(&p->cur, 0, sizeof p->cur);
    p->cur.count = count;
    p->cur.wait_minutes = -1;
    p->key.len = 0;
    p->nframes = 0;
    p->have_goroutine = true;
    p->state = P_COUNTS;
    p->counts_sum += count;
    return 0;
}

/* "#\t0x4dc28e\tmain.main.func2+0xe\t\t/tmp/t1/main.go:17" (the runtime
 * pads with tabs), or "#\t0x4dc28e" for a PC with no symbol. */
static int counts_line(gparser *p, const char *s, size_t n)
{
    if (n == 0) {
        end_goroutine(p);
        return 0;
    }
    if (STARTS(s, n, "# labels: ")) {
        p->cur.labels = intern_labels(p->model, s + 10, n - 10);
        return 0;
    }
    if (!STARTS(s, n, "#\t0x"))
        return fail(p, p->lineno, "expected a frame (\"#\\t0x...\") in the debug=1 block");
    size_t i = 4 + scan_hex(s + 4, n - 4);
    while (i < n && s[i] == '\t') i++;
    if (i == n) { /* unsymbolized PC */
        buf_puts(&p->key, "?\x01:0\n");
        p->nframes++;
        return 0;
    }
    const char *fn = s + i;
    const char *tab = memchr(fn, '\t', n - i);
    if (!tab) return fail(p, p->lineno, "debug=1 frame has no file:line");
    size_t fl = (size_t)(tab - fn);
    /* Drop the "+0x1f" offset after the name. */
    for (size_t k = fl; k > 1; k--) {
        if (fn[k - 1] == '+' && k + 1 < fl && fn[k] == '0' && fn[k + 1] == 'x') {
            fl = k - 1;
            break;
        }
    }
    if (fl > MAX_NAME || has_control(fn, fl)) return fail(p, p->lineno, "malformed function name in debug=1 frame");
    const char *file = tab;
    while (file < s + n && *file == '\t') file++;
    size_t filel = (size_t)(s + n - file);
    if (filel > MAX_NAME || has_control(file, filel)) return fail(p, p->lineno, "malformed file name in debug=1 frame");
    buf_append(&p->key, fn, fl);
    buf_putc(&p->key, KEY_SEP);
    buf_append(&p->key, file, filel);
    buf_putc(&p->key, '\n');
    p->nframes++;
    return 0;
}

/* ---- text between goroutines ------------------------------------------------------ */

/* "goroutine profile: total N" (debug=1), or "goroutineleak profile:
 * total N" for Go 1.26+'s leak profile: returns the offset of N, or 0. */
static size_t profile_header(const char *s, size_t n)
{
    if (STARTS(s, n, "goroutine profile: total ")) return 25;
    if (STARTS(s, n, "goroutineleak profile: total ")) return 29;
    return 0;
}

static void note_dump_marker(gparser *p, const char *s, size_t n)
{
    if (STARTS(s, n, "panic: ") || STARTS(s, n, "fatal error: ") || STARTS(s, n, "SIGQUIT: quit") ||
        STARTS(s, n, "SIGABRT: abort") || profile_header(s, n) ||
        (STARTS(s, n, "SIG") && memmem(s, n, ": ", 2)))
        p->new_dump_pending = p->seen_goroutine;
}

static int outside_line(gparser *p, const char *s, size_t n)
{
    if (n == 0) return 0;
    header h;
    const char *why;
    const char *at = s;
    bool found = parse_header(s, n, &h, &why);
    if (!found && n > 10) {
        /* A log prefix: look for the header further along the line. */
        const char *q = s;
        while (!found && (q = memmem(q, (size_t)(s + n - q), "goroutine ", 10)) != NULL) {
            if (parse_header(q, (size_t)(s + n - q), &h, &why)) {
                found = true;
                at = q;
            } else {
                q += 10;
            }
        }
    }
    if (found) {
        if (why) {
            int shown = h.bad_len > 80 ? 80 : (int)h.bad_len;
            for (int k = 0; k < shown; k++)
                if ((unsigned char)h.bad[k] < 0x20) shown = k; /* keep the message printable */
            return fail(p, p->lineno, "%s: \"%.*s\"", why, shown, h.bad ? h.bad : "");
        }
        /* Markers of a new dump may carry the same log prefix. */
        learn_prefix(p, s, (size_t)(at - s));
        if (begin_goroutine(p, &h) < 0) return -1;
        p->state = P_FRAMES;
        return 0;
    }
    size_t hl = profile_header(s, n);
    if (hl) {
        uint64_t total = 0;
        scan_uint(s + hl, n - hl, &total);
        p->leak_profile_pending = STARTS(s, n, "goroutineleak profile: ");
        note_dump_marker(p, s, n);
        p->pending_total = total;
        p->counts_header_pending = true;
        return 0;
    }
    uint64_t count;
    if (s[0] >= '0' && s[0] <= '9' && parse_count_header(s, n, &count)) {
        return begin_counts(p, count);
    }
    note_dump_marker(p, s, n);
    p->skipped++;
    return 0;
}

/* ---- line dispatch -------------------------------------------------------------------- */

static int process_line(gparser *p, const char *s, size_t n)
{
    p->lineno++;
    if (n && s[n - 1] == '\r') n--; /* logs copied from Windows tools */
    if (n > p->opt.max_line) {
        if (p->state == P_OUTSIDE) {
            p->skipped++;
            return 0;
        }
        return fail(p, p->lineno, "line longer than %zu bytes inside goroutine %llu", p->opt.max_line,
                    (unsigned long long)p->cur.id);
    }
    switch (p->state) {
    case P_OUTSIDE:
        return outside_line(p, s, n);
    case P_COUNTS:
        return counts_line(p, s, n);
    case P_FRAMES:
    case P_ANCESTOR:
        if (!cut_prefix(p, &s, &n)) {
            if (p->pend != PEND_NONE) return unpaired_function(p, false) < 0 ? -1 : outside_line(p, s, n);
            if (p->state == P_FRAMES && p->nframes == 0)
                return fail(p, p->lineno, "goroutine %llu: expected a stack frame", (unsigned long long)p->cur.id);
            end_goroutine(p);
            return outside_line(p, s, n);
        }
        return p->state == P_FRAMES ? frame_line(p, s, n) : ancestor_line(p, s, n);
    }
    return 0;
}

/* ---- public entry points ------------------------------------------------------------------ */

gparser *gparser_new(gmodel *m, const gparse_options *opt)
{
    gparser *p = xcalloc(1, sizeof *p);
    p->model = m;
    p->opt = *opt;
    if (!p->opt.input_name) p->opt.input_name = "<input>";
    if (!p->opt.max_line) p->opt.max_line = GPARSE_DEFAULT_MAX_LINE;
    buf_reserve(&p->key, 4096);
    return p;
}

void gparser_free(gparser *p)
{
    if (!p) return;
    buf_free(&p->carry);
    buf_free(&p->key);
    free(p->error);
    free(p);
}

int gparser_feed(gparser *p, const char *data, size_t len)
{
    if (p->error) return -1;
    const char *s = data, *end = data + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (p->skipping_long) {
            if (!nl) return 0;
            p->skipping_long = false;
            s = nl + 1;
            continue;
        }
        if (!nl) {
            /* Keep the partial line, but never more than a line may hold. */
            size_t have = p->carry.len + (size_t)(end - s);
            if (have > p->opt.max_line + 1) {
                if (p->state != P_OUTSIDE) {
                    p->lineno++;
                    return fail(p, p->lineno, "line longer than %zu bytes inside goroutine %llu",
                                p->opt.max_line, (unsigned long long)p->cur.id);
                }
                p->lineno++;
                p->skipped++;
                p->carry.len = 0;
                p->skipping_long = true;
                return 0;
            }
            buf_append(&p->carry, s, (size_t)(end - s));
            return 0;
        }
        int rc;
        if (p->carry.len) {
            buf_append(&p->carry, s, (size_t)(nl - s));
            rc = process_line(p, p->carry.data, p->carry.len);
            p->carry.len = 0;
        } else {
            rc = process_line(p, s, (size_t)(nl - s));
        }
        if (rc < 0) return -1;
        s = nl + 1;
    }
    return 0;
}

/* With opt.partial, a dump that ends inside a goroutine keeps what came
 * before it: Go's debug=2 endpoint stops writing at 64 MiB, mid-line. */
static bool drop_truncated(gparser *p)
{
    if (!p->opt.partial || !p->have_goroutine || p->model->total + p->cur.count == 0) return false;
    p->model->truncated_line = p->lineno;
    p->model->truncated_goroutine = p->cur.id;
    p->have_goroutine = false;
    p->pend = PEND_NONE;
    p->state = P_OUTSIDE;
    return true;
}

int gparser_finish(gparser *p)
{
    if (p->error) return -1;
    if (p->carry.len) {
        /* Go ends every line it prints; a dump cut inside a goroutine's
         * last line would otherwise yield a wrong line number or name. */
        if (p->state != P_OUTSIDE) {
            p->lineno++;
            if (!drop_truncated(p))
                return fail(p, p->lineno, "input ends in the middle of a line inside goroutine %llu (truncated?)",
                            (unsigned long long)p->cur.id);
        } else if (process_line(p, p->carry.data, p->carry.len) < 0) {
            return -1;
        }
        p->carry.len = 0;
    }
    /* Cut after a function line, or right after the header. */
    if (p->have_goroutine && p->pend != PEND_NONE && !close_nongo_frame(p) && pending_is_frame(p))
        drop_truncated(p);
    if (p->have_goroutine && p->state == P_FRAMES && p->nframes == 0) drop_truncated(p);
    if (p->have_goroutine) {
        if (p->pend != PEND_NONE && !close_nongo_frame(p) && unpaired_function(p, true) < 0) return -1;
        if (p->have_goroutine && p->state == P_FRAMES && p->nframes == 0)
            return fail(p, p->lineno, "input ends inside goroutine %llu, before its stack",
                        (unsigned long long)p->cur.id);
        end_goroutine(p);
    }
    if (!p->seen_goroutine) {
        if (p->lineno == 0) return fail(p, 0, "empty input: no goroutine dump");
        return fail(p, 0, "no goroutine dump found in %llu lines", p->lineno);
    }
    if (p->opt.dump > p->model->dumps)
        return fail(p, 0, "--dump %u asked for, but the input holds %u dump%s", p->opt.dump, p->model->dumps,
                    p->model->dumps == 1 ? "" : "s");
    return check_counts(p);
}
