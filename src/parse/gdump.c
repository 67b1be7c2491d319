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
 *
 * Pasted dumps are untidy: tabs became spaces (or vanished), every line
 * carries a log prefix or "> " quoting, the paste is cut short, a test
 * runner's trailer follows the last goroutine.  So inside a goroutine a line
 * is read by its content, not its columns: after the prefix and any
 * indentation, a source line is "file:line" with optional " +0x.." and
 * " fp= sp= pc=" fields, a function line is "name(args)", and anything else
 * ends the goroutine.  Go's own layout (a tab before each source line, no
 * prefix) takes a short path that never looks further.
 */
#include "gdump.h"
#include "gdump_untidy.h"
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

/* A goroutine kept back until the end of its dump; its state and key are
 * copied, since the parser's buffers are reused. */
struct deferred {
    ggoroutine g;
    char state[MAX_STATE];
    char *key;
};

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

    bool pend_call;        /* the pending line was "name(args)": surely a frame */
    bool pend_created_ok;  /* a "created by" came with its source line */

    /* Log prefix in front of the lines of the current goroutine, and in
     * front of a debug=1 dump's lines (learnt from its profile header). */
    lprefix prefix;
    lprefix counts_prefix;
    buf clean;             /* a line with its ANSI color codes removed */
    buf unescaped;         /* a dump held in one line as a JSON string */
    buf docker;            /* the "log" string of a Docker json-file line */
    bool in_escaped;       /* reading the lines of `unescaped` */

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

    /* Untidy dumps: the headline above the next dump, the ids read in this
     * one, goroutines printed as "stack unavailable" that may yet be printed
     * in full, "goroutine 0" blocks seen before the dump started. */
    headline_text head;
    bool head_wants_goroutine;      /* the committed headline's goroutine is the next one */
    bool crash_relay;               /* "-----": GOTRACEBACK=crash, more threads follow */
    idset ids;
    struct deferred *deferred;
    size_t ndeferred, deferred_cap;
    uint64_t pending_signal_threads;
    bool cut;                       /* the input ended inside the goroutine */
};

/* ---- errors ---------------------------------------------------------- */

/* Returned, before anything changed, by a line handler that met a control
 * character in a line that holds an ESC: process_line() removes the
 * terminal color codes and hands the line over again.  Looking for ESC
 * only then keeps it off the path of clean lines. */
#define AGAIN 1

static bool has_esc(const char *s, size_t n) { return memchr(s, '\x1b', n) != NULL; }

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

/* True if any byte is below `limit` (0x20: a control character; 0x21: a
 * control character or a space).  Names with control characters are not
 * Go output, and the key uses bytes 1-4 as separators. */
static inline bool has_below(const char *s, size_t n, unsigned char limit)
{
    uint64_t ones = 0x0101010101010101ULL * limit;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* Sets the high bit of each byte below the limit (classic SWAR test). */
        if ((w - ones) & ~w & 0x8080808080808080ULL) break;
    }
    for (; i < n; i++)
        if ((unsigned char)s[i] < limit) return true;
    return false;
}

static bool has_control(const char *s, size_t n) { return has_below(s, n, 0x20); }

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

/* A line inside a goroutine that is not Go's was left out. */
static void note_damage(gparser *p, unsigned long long line)
{
    if (!p->in_selected_dump) return;
    if (!p->model->damaged_line) p->model->damaged_line = line;
    p->model->damaged++;
}

static void add_to_model(gparser *p, const ggoroutine *g)
{
    if (p->in_selected_dump) gmodel_add(p->model, g);
}

/* Goroutines printed as "goroutine running on other thread; stack
 * unavailable" wait for the end of the dump: under concurrent fatal errors
 * each throwing thread prints its own goroutine in full after the dump. */
static size_t deferred_find(const gparser *p, uint64_t id)
{
    for (size_t i = 0; i < p->ndeferred; i++)
        if (p->deferred[i].g.id == id) return i;
    return SIZE_MAX;
}

static void deferred_drop(gparser *p, size_t i)
{
    free(p->deferred[i].key);
    p->deferred[i] = p->deferred[--p->ndeferred];
}

static void defer_unavailable(gparser *p)
{
    p->deferred = xgrow(p->deferred, &p->deferred_cap, p->ndeferred + 1, sizeof *p->deferred);
    struct deferred *d = &p->deferred[p->ndeferred++];
    d->g = p->cur;
    memcpy(d->state, p->cur.state, p->cur.state_len);
    d->key = xmalloc(p->key.len + 1);
    memcpy(d->key, p->key.data, p->key.len);
}

static void flush_deferred(gparser *p)
{
    for (size_t i = 0; i < p->ndeferred; i++) {
        struct deferred *d = &p->deferred[i];
        d->g.state = d->state;
        d->g.key = d->key;
        idset_add(&p->ids, d->g.id);
        add_to_model(p, &d->g);
        free(d->key);
    }
    p->ndeferred = 0;
}

/* The text before a dump belongs to it: its headline, and the signal
 * thread's blocks that came before its first goroutine. */
static void commit_preamble(gparser *p)
{
    headline_commit(&p->head, p->model);
    p->head_wants_goroutine = p->model->headline.kind != GHEAD_NONE;
    p->model->signal_threads = p->pending_signal_threads;
}

/* Counts a new dump when a marker line came before this goroutine, or the
 * format changed (a debug=1 dump followed by a debug=2 one). */
static int start_dump_if_new(gparser *p, gdump_format format)
{
    if (p->seen_goroutine && p->last_format != format) p->new_dump_pending = true;
    if (p->new_dump_pending || !p->seen_goroutine) {
        if (p->seen_goroutine && check_counts(p) < 0) return -1;
        flush_deferred(p);
        idset_clear(&p->ids);
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
            commit_preamble(p);
        } else {
            headline_forget(&p->head);
        }
        p->pending_signal_threads = 0;
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
    if (p->head_wants_goroutine && p->in_selected_dump) {
        p->model->headline.goroutine = h->id;
        p->head_wants_goroutine = false;
    }
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
    p->pend_created_ok = false;
    p->have_goroutine = true;
    return 0;
}

/* A goroutine id is one goroutine: a second print of it is not counted,
 * and a full stack replaces an earlier "stack unavailable". */
static void count_goroutine(gparser *p)
{
    uint64_t id = p->cur.id;
    if (id == 0) { /* debug=1 blocks */
        add_to_model(p, &p->cur);
        return;
    }
    size_t earlier = deferred_find(p, id);
    bool dup = earlier != SIZE_MAX || idset_has(&p->ids, id);
    if (dup && p->in_selected_dump) p->model->duplicates++;
    if (p->cur.unavailable && p->nframes == 1) {
        if (!dup) defer_unavailable(p);
        return;
    }
    if (earlier != SIZE_MAX) deferred_drop(p, earlier);
    else if (dup) return;
    idset_add(&p->ids, id);
    add_to_model(p, &p->cur);
}

static void end_goroutine(gparser *p)
{
    if (!p->have_goroutine) return;
    p->have_goroutine = false;
    /* A header with nothing under it: Go prints at least one line. */
    if (p->state == P_FRAMES && p->nframes == 0 && !p->pend_created_ok && !p->cut) note_damage(p, p->lineno);
    p->cur.key = p->key.data ? p->key.data : "";
    p->cur.key_len = p->key.len;
    count_goroutine(p);
    p->state = P_OUTSIDE;
    p->pend = PEND_NONE;
    p->prefix.len = 0;
}

/* Trailing " +0x1d", " fp=0x..", " sp=0x..", " pc=0x.." fields of a source
 * line; returns the length without them, and whether there were any. */
static inline size_t strip_pc_fields(const char *s, size_t n, bool *had)
{
    *had = false;
    for (;;) {
        const char *sp = n ? memrchr(s, ' ', n) : NULL;
        const char *tok = sp ? sp + 1 : s;
        size_t tl = (size_t)(s + n - tok);
        if (!(STARTS(tok, tl, "+0x") || STARTS(tok, tl, "fp=") || STARTS(tok, tl, "sp=") ||
              STARTS(tok, tl, "pc=")))
            return n;
        *had = true;
        n = sp ? (size_t)(sp - s) : 0;
    }
}

/* "file:line" plus fields, with a file that looks like one ("?" when Go
 * did not know it, "<autogenerated>"), or a lone "pc=0x.." (cgo). */
static bool looks_like_source(const char *s, size_t n)
{
    bool had;
    size_t m = strip_pc_fields(s, n, &had);
    if (m == 0) return had;
    size_t d = m;
    while (d > 0 && s[d - 1] >= '0' && s[d - 1] <= '9') d--;
    if (d == m || d < 2 || s[d - 1] != ':') return false;
    const char *file = s;
    size_t fl = d - 1;
    return (fl == 1 && file[0] == '?') || (file[0] == '<' && file[fl - 1] == '>') || memchr(file, '.', fl) ||
           memchr(file, '/', fl) || memchr(file, '\\', fl);
}

/* "name(args)": the name has no spaces, unless it spells a type
 * ("type:.eq.struct { a int }").  Returns the name's length, or 0;
 * *plain says the name has neither blanks nor control characters. */
static inline size_t call_name_len(const char *s, size_t n, bool *plain)
{
    *plain = false;
    if (n < 3 || s[n - 1] != ')') return 0;
    const char *open = memrchr(s, '(', n);
    if (!open || open == s) return 0;
    size_t nl = (size_t)(open - s);
    *plain = !has_below(s, nl, 0x21);
    return *plain || !memchr(s, ' ', nl) || memchr(s, '{', nl) ? nl : 0;
}

static bool looks_like_call(const char *s, size_t n)
{
    bool plain;
    return call_name_len(s, n, &plain) != 0;
}

/* A cgo symbolizer's frame is a bare name; so is a test runner's "FAIL".
 * Whether it was a frame is known from the next line. */
static bool looks_like_symbol(const char *s, size_t n)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) return false;
    return !memchr(s, ' ', n) && !memchr(s, '\t', n);
}

/* Appends "file:line" from a traceback source line (after the indent):
 *   /src/main.go:25 +0x1d fp=0x.. sp=0x.. pc=0x..      Go frames
 *   /src/x.c:12 pc=0x..   or   pc=0x..                  cgo frames
 * Trailing " +0x", " fp=", " sp=", " pc=" fields are dropped; paths may
 * contain spaces. */
static inline int add_source(gparser *p, const char *s, size_t n)
{
    bool had;
    n = strip_pc_fields(s, n, &had);
    if (n > MAX_NAME) return fail(p, p->lineno, "file name longer than %u bytes", MAX_NAME);
    if (has_control(s, n)) return has_esc(s, n) ? AGAIN : fail(p, p->lineno, "control character in file name");
    buf_putc(&p->key, KEY_SEP);
    buf_append(&p->key, s, n);
    buf_putc(&p->key, '\n');
    return 0;
}

static inline int source_line(gparser *p, const char *s, size_t n)
{
    int rc = add_source(p, s, n);
    if (rc) return rc;
    bool created = p->pend == PEND_CREATED;
    p->pend = PEND_NONE;
    if (created) p->pend_created_ok = true;
    else p->nframes++;
    return 0;
}

/* A function line: "pkg.(*T).M[...](args)", "panic(...)", a cgo symbol.
 * The name is everything before the argument list. */
static int add_function(gparser *p, const char *s, size_t n, size_t name_len, bool call, bool plain)
{
    if (name_len > MAX_NAME) return fail(p, p->lineno, "function name longer than %u bytes", MAX_NAME);
    if (!plain && has_control(s, name_len))
        return has_esc(s, n) ? AGAIN : fail(p, p->lineno, "control character in function name");
    p->pend_key_len = p->key.len;
    p->pend_lineno = p->lineno;
    p->pend = PEND_FUNC;
    p->pend_call = call;
    buf_append(&p->key, s, name_len);
    return 0;
}

/* ---- traceback lines -------------------------------------------------------- */

static int outside_line(gparser *p, const char *s, size_t n);

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

/* The pending line got no source line.  A call or "created by" was a frame
 * whose source line is missing: left out, and said.  A bare name was not a
 * frame but text after the goroutine: returns true, the goroutine is over. */
static bool drop_pending(gparser *p)
{
    if (p->pend == PEND_NONE || close_nongo_frame(p)) return false;
    bool frame = p->pend == PEND_CREATED || p->pend_call;
    p->key.len = p->pend_key_len;
    p->pend = PEND_NONE;
    if (frame) note_damage(p, p->pend_lineno);
    return !frame;
}

static int created_by_line(gparser *p, const char *s, size_t n)
{
    const char *name = s + 11;
    size_t nl = n - 11;
    /* " in goroutine N" ends the line (Go 1.21+); look from the end. */
    const char *sp = nl ? memrchr(name, ' ', nl) : NULL;
    const char *in = sp && sp - name >= 13 && memcmp(sp - 13, " in goroutine", 13) == 0 ? sp - 13 : NULL;
    if (in) {
        uint64_t parent;
        size_t d = scan_uint(in + 14, (size_t)(name + nl - in - 14), &parent);
        if (d == 0 || in + 14 + d != name + nl)
            return fail(p, p->lineno, "goroutine %llu: malformed \"created by ... in goroutine N\"",
                        (unsigned long long)p->cur.id);
        p->cur.parent_id = parent;
        nl = (size_t)(in - name);
    }
    if (nl <= MAX_NAME && has_control(name, nl) && has_esc(s, n)) return AGAIN;
    if (nl > MAX_NAME || has_control(name, nl))
        return fail(p, p->lineno, "goroutine %llu: malformed \"created by\" line", (unsigned long long)p->cur.id);
    p->pend_key_len = p->key.len;
    p->pend_lineno = p->lineno;
    p->pend = PEND_CREATED;
    buf_putc(&p->key, KEY_CREATED);
    buf_append(&p->key, name, nl);
    return 0;
}

/* A goroutine's own lines other than source lines; s is past the prefix
 * and the indent, line/len is the line as it came (for a header). */
static int stack_line(gparser *p, const char *s, size_t n, const char *line, size_t len)
{
    /* Most lines are calls; none of the forms below ends with ')'. */
    bool plain;
    size_t name_len = call_name_len(s, n, &plain);
    if (name_len) return add_function(p, s, n, name_len, true, plain);
    if (s[0] == 'g' && STARTS(s, n, "goroutine running on other thread")) {
        p->cur.unavailable = true;
        buf_putc(&p->key, KEY_UNAVAILABLE);
        buf_putc(&p->key, '\n');
        p->nframes++;
        return 0;
    }
    if (s[0] == 'c' && STARTS(s, n, "created by ")) return created_by_line(p, s, n);
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
    if (s[0] == 'n' && STARTS(s, n, "non-Go function")) {
        /* "non-Go function at pc=0x..": a frame in one line; a bare "non-Go
         * function" (a symbolizer that found no name) has a "\tpc=" line. */
        int rc = add_function(p, s, n, n, false, false);
        if (rc) return rc;
        if (n > 15) close_nongo_frame(p);
        return 0;
    }
    if (looks_like_symbol(s, n)) return add_function(p, s, n, n, false, false);
    if (looks_like_source(s, n)) {
        /* Its function line is missing (a paste that lost a line). */
        note_damage(p, p->lineno);
        return 0;
    }
    if (has_esc(line, len)) return AGAIN;
    /* A call whose line was broken (a terminal's wrapping, an editor's):
     * the frames after it are lost, and that is said. */
    const char *open = memchr(s, '(', n);
    if (open && open > s && !memchr(s, ' ', (size_t)(open - s))) note_damage(p, p->lineno);
    /* Text after the goroutine: a header, a test runner's trailer, "...". */
    end_goroutine(p);
    return outside_line(p, line, len);
}

static inline int frame_line(gparser *p, const char *s, size_t n)
{
    /* Go's layout: a tab, then the source line of the pending function. */
    if (p->pend != PEND_NONE && n && s[0] == '\t' && !p->prefix.len) return source_line(p, s + 1, n - 1);
    const char *line = s;
    size_t len = n;
    if (p->prefix.len || (n && (s[0] == ' ' || s[0] == '\t' || s[0] == '\xc2'))) lprefix_cut(&p->prefix, &s, &n);
    if (p->pend != PEND_NONE) {
        if (n && looks_like_source(s, n)) return source_line(p, s, n);
        if (has_esc(line, len)) return AGAIN;
        if (drop_pending(p)) {
            end_goroutine(p);
            return outside_line(p, line, len);
        }
    }
    if (n == 0) {
        end_goroutine(p);
        return 0;
    }
    return stack_line(p, s, n, line, len);
}

/* Ancestor sections (GODEBUG=tracebackancestors) describe other, possibly
 * dead goroutines; they are checked for shape and left out of the key. */
static int ancestor_line(gparser *p, const char *s, size_t n)
{
    const char *line = s;
    size_t len = n;
    lprefix_cut(&p->prefix, &s, &n);
    if (n == 0) {
        end_goroutine(p);
        return 0;
    }
    if (STARTS(s, n, "goroutine ")) {
        header h;
        const char *why;
        if (parse_header(s, n, &h, &why)) {
            end_goroutine(p);
            return outside_line(p, line, len);
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

/* Where a debug=1 frame's function name ends: at the "+0x.." offset
 * that follows it and a blank, or failing that at the first blank. */
static size_t counts_name_len(const char *s, size_t n)
{
    for (size_t k = 0; k + 3 < n; k++) {
        if (s[k] != '+' || s[k + 1] != '0' || s[k + 2] != 'x') continue;
        size_t h = 3 + scan_hex(s + k + 3, n - k - 3);
        if (k + h == n || s[k + h] == '\t' || s[k + h] == ' ') return k;
    }
    size_t k = 0;
    while (k < n && s[k] != '\t' && s[k] != ' ') k++;
    return k;
}

static size_t skip_blanks(const char *s, size_t i, size_t n)
{
    for (;;) {
        if (i < n && (s[i] == '\t' || s[i] == ' ')) i++;
        else if (i + 1 < n && s[i] == '\xc2' && s[i + 1] == '\xa0') i += 2; /* a web page's no-break space */
        else return i;
    }
}

/* "#\t0x4dc28e\tmain.main.func2+0xe\t\t/tmp/t1/main.go:17" (the runtime
 * pads with tabs, which pastes turn into spaces), or "#\t0x4dc28e" for a
 * PC with no symbol.  A "#" line that does not read so (its tabs were
 * dropped) is left out and said; a line without "#" ends the block. */
static int counts_line(gparser *p, const char *s, size_t n)
{
    const char *line = s;
    size_t len = n;
    if (p->counts_prefix.len || (n && (s[0] == ' ' || s[0] == '\t' || s[0] == '\xc2')))
        lprefix_cut(&p->counts_prefix, &s, &n);
    if (n == 0 || s[0] != '#') {
        end_goroutine(p);
        return n ? outside_line(p, line, len) : 0;
    }
    if (STARTS(s, n, "# labels: ")) {
        p->cur.labels = intern_labels(p->model, s + 10, n - 10);
        return 0;
    }
    size_t i = skip_blanks(s, 1, n);
    if (i < 2 || !STARTS(s + i, n - i, "0x")) {
        note_damage(p, p->lineno);
        return 0;
    }
    i = skip_blanks(s, i + 2 + scan_hex(s + i + 2, n - i - 2), n);
    if (i == n) { /* unsymbolized PC */
        buf_puts(&p->key, "?\x01:0\n");
        p->nframes++;
        return 0;
    }
    const char *fn = s + i;
    size_t fl = counts_name_len(fn, n - i);
    size_t f = i + fl;
    if (STARTS(s + f, n - f, "+0x")) f += 3 + scan_hex(s + f + 3, n - f - 3);
    f = skip_blanks(s, f, n);
    if (f == n || fl == 0 || fl > MAX_NAME || n - f > MAX_NAME) {
        note_damage(p, p->lineno);
        return 0;
    }
    const char *file = s + f;
    size_t filel = n - f;
    if (has_control(fn, fl) || has_control(file, filel))
        return has_esc(s, n) ? AGAIN : fail(p, p->lineno, "control character in a debug=1 frame");
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

/* Finds "goroutine N [...]:" at the start of the line or behind a prefix. */
static const char *find_header(const char *s, size_t n, header *h, const char **why)
{
    if (parse_header(s, n, h, why)) return s;
    const char *q = s;
    while (n > 10 && (q = memmem(q, (size_t)(s + n - q), "goroutine ", 10)) != NULL) {
        if (parse_header(q, (size_t)(s + n - q), h, why)) return q;
        q += 10;
    }
    return NULL;
}

/* "goroutine 0" is the thread that took the signal (its g0 stack), not a
 * goroutine: its block, and the hex dumps and "runtime: unknown pc" lines
 * that may follow, are read as text between goroutines. */
static void signal_thread(gparser *p)
{
    if (p->seen_goroutine && !p->new_dump_pending) {
        if (p->in_selected_dump) p->model->signal_threads++;
    } else {
        p->pending_signal_threads++;
    }
}

static int header_line(gparser *p, const char *s, const char *at, const header *h, const char *why)
{
    if (why) {
        int shown = h->bad_len > 80 ? 80 : (int)h->bad_len;
        for (int k = 0; k < shown; k++)
            if ((unsigned char)h->bad[k] < 0x20) shown = k; /* keep the message printable */
        return fail(p, p->lineno, "%s: \"%.*s\"", why, shown, h->bad ? h->bad : "");
    }
    if (h->id == 0) {
        signal_thread(p);
        return 0;
    }
    lprefix_learn(&p->prefix, s, (size_t)(at - s));
    if (begin_goroutine(p, h) < 0) return -1;
    p->state = P_FRAMES;
    return 0;
}

/* Headlines ("panic: ", "fatal error: ", "SIGQUIT: quit") announce a new
 * dump; under GOTRACEBACK=crash each further thread prints "-----" and its
 * own "SIGQUIT: quit" block, which continue the same dump. */
static void text_line(gparser *p, const char *s, size_t n)
{
    p->skipped++;
    if (p->crash_relay && headline_is_signal(s, n)) return;
    if (headline_line(&p->head, s, n, p->lineno) == HL_STARTED) {
        p->crash_relay = false;
        p->new_dump_pending = p->seen_goroutine;
        return;
    }
    while (n && (s[0] == ' ' || s[0] == '\t')) s++, n--;
    if (n == 5 && memcmp(s, "-----", 5) == 0) p->crash_relay = p->seen_goroutine;
}

static int process_line(gparser *p, const char *s, size_t n);

static size_t json_unescape(buf *out, const char *s, size_t n);

/* Whether the quote at s[i] ends or starts a string: an even number of
 * backslashes before it. */
static bool unescaped_quote(const char *s, size_t i)
{
    size_t bs = 0;
    while (bs < i && s[i - 1 - bs] == '\\') bs++;
    return bs % 2 == 0;
}

/* A structured logger's stack field: the whole dump in one line as a JSON
 * string, "goroutine 1 [running]:\nmain.main()\n\t/x.go:5 +0x1d\n". */
static bool escaped_dump(const char *s, size_t n)
{
    const char *g = memmem(s, n, "goroutine", 9);
    return g && (memmem(g, (size_t)(s + n - g), "]:\\n", 4) || profile_header(g, (size_t)(s + n - g)));
}

/* Undoes the string's escapes and reads its lines in turn, all under this
 * line's number; the fields around the string are the logger's. */
static int unescaped_lines(gparser *p, const char *s, size_t n)
{
    /* The string starts after the last unescaped quote before the dump. */
    size_t start = (size_t)((const char *)memmem(s, n, "goroutine", 9) - s);
    while (start > 0 && !(s[start - 1] == '"' && unescaped_quote(s, start - 1))) start--;
    buf *u = &p->unescaped;
    u->len = 0;
    json_unescape(u, s + start, n - start);
    buf_reserve(u, 1); /* data is never NULL below */
    unsigned long long line = p->lineno;
    int rc = 0;
    p->in_escaped = true;
    for (size_t at = 0; at <= u->len && rc >= 0;) {
        const char *nl = memchr(u->data + at, '\n', u->len - at);
        size_t end = nl ? (size_t)(nl - u->data) : u->len;
        p->lineno = line - 1;
        rc = process_line(p, u->data + at, end - at);
        at = end + 1;
    }
    p->in_escaped = false;
    p->lineno = line;
    return rc;
}

static int outside_line(gparser *p, const char *s, size_t n)
{
    if (n == 0) {
        headline_line(&p->head, s, 0, p->lineno);
        return 0;
    }
    header h;
    const char *why;
    const char *at = find_header(s, n, &h, &why);
    if (at) return header_line(p, s, at, &h, why);
    if (!p->in_escaped && escaped_dump(s, n)) return unescaped_lines(p, s, n);
    const char *t = s;
    size_t tn = n;
    if (p->counts_prefix.len || t[0] == ' ' || t[0] == '\t') lprefix_cut(&p->counts_prefix, &t, &tn);
    size_t hl = profile_header(t, tn);
    if (!hl) {
        /* A debug=1 dump in a log: its prefix is learnt from this line. */
        const char *g = memmem(s, n, "goroutine", 9);
        if (g && (hl = profile_header(g, (size_t)(s + n - g))) && lprefix_plausible(s, (size_t)(g - s))) {
            lprefix_learn(&p->counts_prefix, s, (size_t)(g - s));
            tn = (size_t)(s + n - g);
            t = g;
        } else {
            hl = 0;
        }
    }
    if (hl) {
        uint64_t total = 0;
        scan_uint(t + hl, tn - hl, &total);
        p->leak_profile_pending = STARTS(t, tn, "goroutineleak profile: ");
        p->new_dump_pending = p->seen_goroutine;
        p->pending_total = total;
        p->counts_header_pending = true;
        return 0;
    }
    uint64_t count;
    if (tn && t[0] >= '0' && t[0] <= '9' && parse_count_header(t, tn, &count)) return begin_counts(p, count);
    if (has_esc(s, n)) return AGAIN; /* a colored header or headline, perhaps */
    text_line(p, s, n);
    return 0;
}

/* ---- line dispatch -------------------------------------------------------------------- */

/* Terminal colors from a CI log: ESC '[' parameters final-byte, or ESC and
 * one byte.  Go prints none, so they are dropped wherever they are. */
static void strip_ansi(buf *out, const char *s, size_t n)
{
    out->len = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\x1b') {
            buf_putc(out, s[i]);
            continue;
        }
        if (i + 1 < n && s[i + 1] == '[') {
            i += 2;
            while (i < n && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e)) i++;
        } else {
            i++;
        }
    }
}

static inline int dispatch_line(gparser *p, const char *s, size_t n)
{
    switch (p->state) {
    case P_OUTSIDE: return outside_line(p, s, n);
    case P_COUNTS: return counts_line(p, s, n);
    case P_FRAMES: return frame_line(p, s, n);
    case P_ANCESTOR: return ancestor_line(p, s, n);
    }
    return 0;
}

static int dispatch_without_colors(gparser *p, const char *s, size_t n);

/* Undoes a JSON string's escapes (\n \t \r \" \\ \/ \u00XX) up to its closing
 * quote; returns the length read. */
static size_t json_unescape(buf *out, const char *s, size_t n)
{
    size_t i = 0;
    for (; i < n && s[i] != '"'; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < n) {
            char e = s[++i];
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            if (e == 'u' && i + 4 < n && s[i + 1] == '0' && s[i + 2] == '0' && scan_hex(s + i + 3, 2) == 2) {
                unsigned v = 0;
                for (int k = 3; k <= 4; k++) v = v * 16 + (unsigned)(s[i + k] <= '9' ? s[i + k] - '0' : (s[i + k] | 0x20) - 'a' + 10);
                c = (char)v;
                i += 4;
            }
        }
        buf_putc(out, c);
    }
    return i;
}

/* Docker's json-file log driver (and `docker logs` of it as stored):
 * {"log":"\tmain.go:5 +0x1d\n","stream":"stderr","time":"..."}, one
 * line of output each.  The line read is the "log" string. */
static int docker_line(gparser *p, const char *s, size_t n)
{
    size_t at = 7;
    while (at < n && s[at] == ' ') at++;
    if (at == n || s[at] != '"') return dispatch_line(p, s, n); /* not a string */
    p->docker.len = 0;
    json_unescape(&p->docker, s + at + 1, n - at - 1);
    size_t len = p->docker.len;
    while (len && (p->docker.data[len - 1] == '\n' || p->docker.data[len - 1] == '\r')) len--;
    const char *line = p->docker.data ? p->docker.data : "";
    int rc = dispatch_line(p, line, len);
    return rc == AGAIN ? dispatch_without_colors(p, line, len) : rc;
}

/* Out of line: the colored lines are rare, the others should not pay for
 * a second copy of the dispatch. */
static __attribute__((noinline)) int dispatch_without_colors(gparser *p, const char *s, size_t n)
{
    strip_ansi(&p->clean, s, n);
    int rc = dispatch_line(p, p->clean.data ? p->clean.data : "", p->clean.len);
    return rc == AGAIN ? fail(p, p->lineno, "control character in a stack frame") : rc;
}

static int process_line(gparser *p, const char *s, size_t n)
{
    p->lineno++;
    /* CR of logs copied from Windows tools (twice, after a second
     * conversion), blanks that terminals pad with and editors keep. */
    while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (p->lineno == 1 && STARTS(s, n, "\xef\xbb\xbf")) s += 3, n -= 3; /* a byte-order mark */
    if (n > p->opt.max_line) {
        if (p->state == P_OUTSIDE) {
            p->skipped++;
            return 0;
        }
        return fail(p, p->lineno, "line longer than %zu bytes inside goroutine %llu", p->opt.max_line,
                    (unsigned long long)p->cur.id);
    }
    if (n > 8 && s[0] == '{' && memcmp(s, "{\"log\":", 7) == 0) return docker_line(p, s, n);
    int rc = dispatch_line(p, s, n);
    return rc == AGAIN ? dispatch_without_colors(p, s, n) : rc;
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
    buf_free(&p->clean);
    buf_free(&p->unescaped);
    buf_free(&p->docker);
    headline_free(&p->head);
    idset_free(&p->ids);
    for (size_t i = 0; i < p->ndeferred; i++) free(p->deferred[i].key);
    free(p->deferred);
    free(p->error);
    free(p);
}

bool gparser_ids_overlap(const gparser *a, const gparser *b)
{
    if (idset_overlaps(&a->ids, &b->ids)) return true;
    for (size_t i = 0; i < b->ndeferred; i++)
        if (idset_has(&a->ids, b->deferred[i].g.id) || deferred_find(a, b->deferred[i].g.id) != SIZE_MAX) return true;
    for (size_t i = 0; i < a->ndeferred; i++)
        if (idset_has(&b->ids, a->deferred[i].g.id)) return true;
    return false;
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

/* ---- the end of the input ------------------------------------------------------------------ */

/* The input ended inside the current goroutine (a paste cut short, Go's
 * 64 MiB cap on debug=2): it is counted with the frames that arrived. */
static void mark_cut(gparser *p, unsigned long long line)
{
    p->cut = true;
    if (!p->in_selected_dump || p->model->truncated_line) return;
    p->model->truncated_line = line;
    p->model->truncated_goroutine = p->cur.id;
}

/* A pending line with no source line at the end of the input: a cut frame,
 * unless it was a bare word such as a test runner's "FAIL". */
static bool pending_was_frame(const gparser *p)
{
    const char *name = p->key.data + p->pend_key_len;
    size_t nl = p->key.len - p->pend_key_len;
    return p->pend == PEND_CREATED || p->pend_call || memchr(name, '.', nl) || memchr(name, '(', nl);
}

/* Whether the unterminated last line, inside a goroutine, may be cut short:
 * a source line is whole when its " +0x.." (or pc=) field arrived. */
static bool final_is_cut(const gparser *p, const char *s, size_t n)
{
    lprefix_cut(&p->prefix, &s, &n);
    bool had = false;
    if (p->pend != PEND_NONE) return !(looks_like_source(s, n) && (strip_pc_fields(s, n, &had), had));
    if (n == 0 || looks_like_call(s, n)) return false; /* a call waits for its source line */
    if (STARTS(s, n, "created by ") || looks_like_source(s, n)) return true;
    /* "pkg.f(0xc000082ea0, ": a call whose arguments were cut. */
    const char *open = memchr(s, '(', n);
    if (open && open > s && !memchr(s, ' ', (size_t)(open - s)) && !memchr(s, '\t', (size_t)(open - s))) return true;
    return looks_like_symbol(s, n) && memchr(s, '.', n);
}

/* A last line that is the start of a goroutine header. */
static bool partial_header(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && s[i - 1] != ' ' && s[i - 1] != '\t') continue;
        size_t rest = n - i;
        bool word = rest < 10 ? rest >= 2 && memcmp(s + i, "goroutine ", rest) == 0
                              : memcmp(s + i, "goroutine ", 10) == 0 && (rest == 10 || (s[i + 10] >= '0' && s[i + 10] <= '9'));
        if (word) return lprefix_plausible(s, i);
    }
    return false;
}

/* The last line came without a line end: a clipboard copy, or a cut. */
static int final_line(gparser *p, const char *s, size_t n)
{
    if (n && s[n - 1] == '\r') n--;
    if ((p->state == P_COUNTS && n) || (p->state == P_FRAMES && final_is_cut(p, s, n))) {
        p->lineno++;
        mark_cut(p, p->lineno);
        return 0;
    }
    bool outside = p->state == P_OUTSIDE;
    if (process_line(p, s, n) < 0) return -1;
    if (outside && p->state == P_COUNTS) {
        mark_cut(p, p->lineno); /* "N @ 0x.." and then nothing */
    } else if (p->state == P_OUTSIDE && partial_header(s, n) && p->in_selected_dump && !p->model->truncated_line) {
        p->model->truncated_line = p->lineno;
        p->model->truncated_goroutine = 0;
    }
    return 0;
}

/* Ends the goroutine the input ended in. */
static void finish_goroutine(gparser *p)
{
    if (p->state == P_FRAMES && p->pend != PEND_NONE && !close_nongo_frame(p)) {
        if (pending_was_frame(p)) {
            if (p->pend == PEND_CREATED) p->cur.parent_id = 0;
            mark_cut(p, p->pend_lineno);
        }
        p->key.len = p->pend_key_len;
        p->pend = PEND_NONE;
    }
    if (p->state == P_FRAMES && p->nframes == 0 && !p->pend_created_ok) mark_cut(p, p->lineno);
    end_goroutine(p);
}

int gparser_finish(gparser *p)
{
    if (p->error) return -1;
    if (p->carry.len) {
        if (final_line(p, p->carry.data, p->carry.len) < 0) return -1;
        p->carry.len = 0;
    }
    if (p->have_goroutine) finish_goroutine(p);
    flush_deferred(p);
    if (!p->seen_goroutine) {
        if (p->lineno == 0) return fail(p, 0, "empty input: no goroutine dump");
        if (p->pending_signal_threads)
            return fail(p, 0, "only the signal thread's stack (goroutine 0) in %llu lines: no goroutines", p->lineno);
        return fail(p, 0, "no goroutine dump found in %llu lines", p->lineno);
    }
    if (p->opt.dump > p->model->dumps)
        return fail(p, 0, "--dump %u asked for, but the input holds %u dump%s", p->opt.dump, p->model->dumps,
                    p->model->dumps == 1 ? "" : "s");
    return check_counts(p);
}
