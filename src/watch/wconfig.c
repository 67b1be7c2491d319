/* wconfig.c - reef watch's configuration file; see wconfig.h and the
 * "Configuration" section of docs/watch.md.
 *
 * The file is read with libyaml's event API and walked against tables of
 * known keys (one table per mapping), so that every value is checked where
 * it stands and every message can name the line and the key path.  The
 * tables are the schema: a key that is in no table is an error, never
 * ignored, because a typo that silently does nothing is the worst outcome
 * for an alerting agent.
 *
 * Everything is parsed into a heap copy of the caller's wconfig, which is
 * copied back only when the whole file is good: a bad file (and a SIGHUP
 * reload of one) leaves the running configuration as it was.
 *
 * Memory is bounded by the input cap (WCONFIG_MAX_FILE) and the fixed
 * arrays of wconfig; aliases are refused, so nothing expands. */
#include "wconfig.h"
#include "wdetect.h"
#include "../util/xalloc.h"

#include <yaml.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define WCONFIG_MAX_FILE ((size_t)1 << 20)
#define PATH_KEY_MAX 320          /* "targets[127].rules.goroutines-level.warn" with room */
#define MAX_DURATION (366.0 * 86400) /* a year: anything longer is a unit mistake */
#define MAX_PID 4194304           /* PID_MAX_LIMIT on 64-bit Linux */
#define MAX_FIELDS 24

/* ---- values -------------------------------------------------------------- */

/* Digits with an optional fraction, then the unit: stricter than strtod
 * alone, which would also take "inf", "0x10" and leading blanks. */
static bool leading_number(const char *s, double *v, const char **unit)
{
    const char *p = s;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1]))) return false;
    while (isdigit((unsigned char)*p)) p++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) p++;
    }
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (errno || end != p || !isfinite(*v)) return false;
    *unit = p;
    return true;
}

double wconfig_duration(const char *s)
{
    double v;
    const char *unit;
    if (!leading_number(s, &v, &unit)) return -1;
    if (strcmp(unit, "") == 0 || strcmp(unit, "s") == 0) return v;
    if (strcmp(unit, "ms") == 0) return v / 1000;
    if (strcmp(unit, "m") == 0) return v * 60;
    if (strcmp(unit, "h") == 0) return v * 3600;
    return -1;
}

/* "512", "64KiB", "10MiB", "1GiB", "2TiB", and the decimal "KB"/"MB"/... */
static double size_value(const char *s)
{
    static const struct { const char *unit; double mult; } units[] = {
        {"", 1}, {"B", 1}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
        {"TiB", 1099511627776.0}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
    };
    double v;
    const char *unit;
    if (!leading_number(s, &v, &unit)) return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(unit, units[i].unit) == 0) return v * units[i].mult;
    return -1;
}

/* "30%" -> 0.3; -1 if not a percentage. */
static double percent_value(const char *s)
{
    double v;
    const char *unit;
    if (!leading_number(s, &v, &unit) || strcmp(unit, "%") != 0) return -1;
    return v / 100;
}

/* ---- the loader ---------------------------------------------------------- */

typedef struct rule_lines {
    int warn, crit;               /* where each threshold was set, 0 if not */
} rule_lines;

typedef struct loader {
    yaml_parser_t parser;
    yaml_event_t ev;              /* the current event, owned when have_ev */
    bool have_ev;
    const char *name;             /* the file, for messages */
    const char *data;
    size_t len;
    char path[PATH_KEY_MAX];      /* key path of the value being read */
    size_t pathlen;
    char *err;
    size_t errlen;
    bool failed;                  /* err holds the first problem */
    wconfig *c;                   /* the copy being filled */
    rule_lines glines[WCONFIG_MAX_RULES];
    rule_lines tlines[WCONFIG_MAX_TARGETS][WCONFIG_MAX_RULES];
} loader;

static int ev_line(const loader *y)
{
    return (int)y->ev.start_mark.line + 1;
}

static bool fail(loader *y, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(loader *y, int line, const char *fmt, ...)
{
    if (y->failed) return false;
    y->failed = true;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (y->pathlen) snprintf(y->err, y->errlen, "%s:%d: %s: %s", y->name, line, y->path, msg);
    else snprintf(y->err, y->errlen, "%s:%d: %s", y->name, line, msg);
    return false;
}

/* Appends s to out as a person can read it in one line: at most max bytes,
 * control bytes as '?'. */
static void printable(char *out, size_t outlen, const char *s, size_t n, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n && i < max && k + 1 < outlen; i++)
        out[k++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (n > max && k + 4 < outlen) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

static size_t push_key(loader *y, const char *key, size_t n)
{
    size_t mark = y->pathlen;
    char shown[80];
    printable(shown, sizeof shown, key, n, 64);
    int w = snprintf(y->path + y->pathlen, sizeof y->path - y->pathlen, "%s%s", y->pathlen ? "." : "", shown);
    if (w > 0) y->pathlen = strlen(y->path);
    return mark;
}

static size_t push_index(loader *y, size_t i)
{
    size_t mark = y->pathlen;
    snprintf(y->path + y->pathlen, sizeof y->path - y->pathlen, "[%zu]", i);
    y->pathlen = strlen(y->path);
    return mark;
}

static void pop(loader *y, size_t mark)
{
    y->pathlen = mark;
    y->path[mark] = '\0';
}

/* Line and column of a byte offset, for the reader's errors (which give
 * an offset only). */
static void offset_position(const loader *y, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < y->len; i++) {
        if (y->data[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static void syntax_error(loader *y)
{
    yaml_parser_t *p = &y->parser;
    y->failed = true;
    if (p->error == YAML_READER_ERROR) {
        int line, col;
        offset_position(y, p->problem_offset, &line, &col);
        snprintf(y->err, y->errlen, "%s:%d:%d: not YAML text: %s (byte %zu)", y->name, line, col,
                 p->problem ? p->problem : "unreadable", p->problem_offset);
        return;
    }
    if (p->error == YAML_MEMORY_ERROR || !p->problem) {
        snprintf(y->err, y->errlen, "%s: the YAML parser failed", y->name);
        return;
    }
    size_t at = p->problem_mark.index;
    const char *hint = at < y->len && y->data[at] == '\t' ? "; it is a tab: YAML indents with spaces only" : "";
    char context[160] = "";
    if (p->context)
        snprintf(context, sizeof context, " (%s from line %zu, column %zu)", p->context,
                 p->context_mark.line + 1, p->context_mark.column + 1);
    snprintf(y->err, y->errlen, "%s:%zu:%zu: %s%s%s", y->name, p->problem_mark.line + 1,
             p->problem_mark.column + 1, p->problem, context, hint);
}

/* The next event into y->ev.  Aliases are refused here once for all. */
static bool next(loader *y)
{
    if (y->failed) return false;
    if (y->have_ev) yaml_event_delete(&y->ev);
    y->have_ev = false;
    if (!yaml_parser_parse(&y->parser, &y->ev)) {
        syntax_error(y);
        return false;
    }
    y->have_ev = true;
    if (y->ev.type == YAML_ALIAS_EVENT)
        return fail(y, ev_line(y), "an alias (*%.40s): aliases are not supported here; write the value out",
                    (const char *)y->ev.data.alias.anchor);
    return true;
}

static const char *event_shape(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_SEQUENCE_START_EVENT: return "a list";
    default: return "a single value";
    }
}

/* The current event as a scalar: its text (NUL-terminated by libyaml) or
 * false with a message saying what was wanted. */
static bool scalar(loader *y, const char *want, const char **out)
{
    if (y->ev.type != YAML_SCALAR_EVENT) return fail(y, ev_line(y), "wants %s, not %s", want, event_shape(&y->ev));
    const char *s = (const char *)y->ev.data.scalar.value;
    size_t n = y->ev.data.scalar.length;
    bool plain = y->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (plain && (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
                  strcmp(s, "NULL") == 0))
        return fail(y, ev_line(y), "wants %s; the value is empty", want);
    if (strlen(s) != n) return fail(y, ev_line(y), "wants %s; the value holds a NUL byte", want);
    *out = s;
    return true;
}

static bool bad_value(loader *y, const char *want, const char *s)
{
    char shown[64];
    printable(shown, sizeof shown, s, strlen(s), 40);
    return fail(y, ev_line(y), "wants %s, not \"%s\"", want, shown);
}

/* A scalar that fits a buffer of cap bytes. */
static bool short_scalar(loader *y, const char *want, size_t cap, const char **out)
{
    if (!scalar(y, want, out)) return false;
    if (strlen(*out) >= cap) return fail(y, ev_line(y), "longer than the %zu bytes it may have", cap - 1);
    return true;
}

/* A string into a fixed buffer of cap bytes: non-empty, fits. */
static bool string_into(loader *y, const char *want, char *out, size_t cap)
{
    const char *s;
    if (!short_scalar(y, want, cap, &s)) return false;
    if (!*s) return fail(y, ev_line(y), "wants %s; the value is empty", want);
    memcpy(out, s, strlen(s) + 1);
    return true;
}

/* ---- did you mean --------------------------------------------------------- */

/* Levenshtein distance of two short strings (longer ones are "far"). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63) return 99;
    size_t row[64];
    for (size_t j = 0; j <= nb; j++) row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t sub = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t best = sub < up + 1 ? sub : up + 1;
            row[j] = best < row[j - 1] + 1 ? best : row[j - 1] + 1;
            diag = up;
        }
    }
    return row[nb];
}

/* Keeps cand in *best when it is closer to word than what *best holds,
 * and close enough to be a likely typo: two edits, and fewer than a third
 * of the word. */
static void consider(const char *word, const char *cand, const char **best, size_t *bestd)
{
    size_t d = edit_distance(word, cand);
    size_t len = strlen(word);
    if (d <= 2 && d * 3 <= len + 1 && d < *bestd) {
        *best = cand;
        *bestd = d;
    }
}

static void suggestion(char *out, size_t outlen, const char *best)
{
    if (best) snprintf(out, outlen, " (did you mean \"%s\"?)", best);
    else out[0] = '\0';
}

/* ---- tables of keys -------------------------------------------------------- */

typedef enum ftype {
    F_DURATION,   /* double seconds */
    F_MILLIS,     /* long milliseconds, written as a duration */
    F_SIZE,       /* uint64_t bytes */
    F_COUNT,      /* uint64_t, digits */
    F_BOOL,       /* bool */
    F_PATH,       /* char[WATCH_PATH_MAX] */
    F_MAP,        /* a nested mapping: sub, at obj + off */
    F_FUNC,       /* fn(obj) */
} ftype;

typedef struct field field;
typedef bool (*field_fn)(loader *y, void *obj);

struct field {
    const char *key;
    ftype type;
    size_t off;
    double min;       /* durations and sizes: the least non-zero value */
    bool zero_ok;     /* 0 means "off" */
    const field *sub;
    field_fn fn;
};

static bool duration_field(loader *y, const field *f, double *out)
{
    const char *s;
    const char *want = "a duration such as 15s, 500ms, 2m or 1h";
    if (!scalar(y, want, &s)) return false;
    double v = wconfig_duration(s);
    if (v < 0) return bad_value(y, want, s);
    if (v == 0 && !f->zero_ok) return fail(y, ev_line(y), "must be more than 0");
    if (v != 0 && v < f->min)
        return fail(y, ev_line(y), "%s is too short: at least %g%s", s, f->min < 1 ? f->min * 1000 : f->min,
                    f->min < 1 ? "ms" : "s");
    if (v > MAX_DURATION) return fail(y, ev_line(y), "%s is more than a year", s);
    *out = v;
    return true;
}

static bool size_field(loader *y, const field *f, uint64_t *out)
{
    const char *s;
    const char *want = "a size such as 512, 64KiB, 10MiB or 1GiB";
    if (!scalar(y, want, &s)) return false;
    double v = floor(size_value(s));
    if (v < 0 || v > 9.0e18) return bad_value(y, want, s);
    if (v == 0 && !f->zero_ok) return fail(y, ev_line(y), "must be more than 0");
    if (v != 0 && v < f->min) return fail(y, ev_line(y), "%s is too small: at least %.0f bytes", s, f->min);
    *out = (uint64_t)v;
    return true;
}

static bool count_field(loader *y, uint64_t *out)
{
    const char *s;
    const char *want = "a whole number such as 5000";
    if (!scalar(y, want, &s)) return false;
    size_t n = strlen(s);
    if (n == 0 || n > 12 || strspn(s, "0123456789") != n) return bad_value(y, want, s);
    *out = strtoull(s, NULL, 10);
    return true;
}

static bool bool_value(loader *y, bool *out)
{
    const char *s;
    if (!scalar(y, "true or false", &s)) return false;
    if (strcasecmp(s, "true") == 0) *out = true;
    else if (strcasecmp(s, "false") == 0) *out = false;
    else return bad_value(y, "true or false", s);
    return true;
}

static bool parse_map(loader *y, const field *table, void *obj);

static bool field_value(loader *y, const field *f, void *obj)
{
    char *at = (char *)obj + f->off;
    switch (f->type) {
    case F_DURATION: return duration_field(y, f, (double *)(void *)at);
    case F_MILLIS: {
        double v;
        if (!duration_field(y, f, &v)) return false;
        *(long *)(void *)at = (long)ceil(v * 1000);
        return true;
    }
    case F_SIZE: return size_field(y, f, (uint64_t *)(void *)at);
    case F_COUNT: return count_field(y, (uint64_t *)(void *)at);
    case F_BOOL: return bool_value(y, (bool *)(void *)at);
    case F_PATH: return string_into(y, "a path", at, WATCH_PATH_MAX);
    case F_MAP: return parse_map(y, f->sub, at);
    case F_FUNC: return f->fn(y, obj);
    }
    return false;
}

static const field *find_field(const field *table, const char *key, size_t *index)
{
    for (size_t i = 0; table[i].key; i++)
        if (strcmp(table[i].key, key) == 0) {
            *index = i;
            return &table[i];
        }
    return NULL;
}

static bool unknown_key(loader *y, const field *table, const char *key)
{
    const char *best = NULL;
    size_t bestd = 99;
    for (size_t i = 0; table[i].key; i++) consider(key, table[i].key, &best, &bestd);
    char hint[96];
    suggestion(hint, sizeof hint, best);
    char keys[300] = "";
    for (size_t i = 0; table[i].key; i++) {
        size_t k = strlen(keys);
        snprintf(keys + k, sizeof keys - k, "%s%s", i ? ", " : "", table[i].key);
    }
    return fail(y, ev_line(y), "unknown key%s; the keys here are %s", hint, keys);
}

/* The key of a mapping entry: a plain single value. */
static bool key_text(loader *y, const char **key)
{
    if (y->ev.type != YAML_SCALAR_EVENT) return fail(y, ev_line(y), "a key must be a single word, not %s", event_shape(&y->ev));
    *key = (const char *)y->ev.data.scalar.value;
    if (strlen(*key) != y->ev.data.scalar.length) return fail(y, ev_line(y), "a key holds a NUL byte");
    return true;
}

static bool expect_mapping(loader *y, const char *what)
{
    if (y->ev.type == YAML_MAPPING_START_EVENT) return true;
    return fail(y, ev_line(y), "wants %s (key: value), not %s", what, event_shape(&y->ev));
}

/* A mapping whose keys are in table.  Enters with the mapping's first
 * event current, leaves with its last. */
static bool parse_map(loader *y, const field *table, void *obj)
{
    if (!expect_mapping(y, "a mapping")) return false;
    int seen[MAX_FIELDS] = {0};
    for (;;) {
        if (!next(y)) return false;
        if (y->ev.type == YAML_MAPPING_END_EVENT) return true;
        const char *key;
        if (!key_text(y, &key)) return false;
        size_t mark = push_key(y, key, strlen(key));
        size_t i;
        const field *f = find_field(table, key, &i);
        if (!f) return unknown_key(y, table, key);
        if (seen[i]) return fail(y, ev_line(y), "given twice (first on line %d)", seen[i]);
        seen[i] = ev_line(y);
        if (!next(y) || !field_value(y, f, obj)) return false;
        pop(y, mark);
    }
}

/* A list: fn is called with each item's first event current. */
static bool parse_list(loader *y, const char *what, bool (*item)(loader *y, void *obj, size_t i), void *obj)
{
    if (y->ev.type != YAML_SEQUENCE_START_EVENT)
        return fail(y, ev_line(y), "wants a list of %s, not %s", what, event_shape(&y->ev));
    for (size_t i = 0;; i++) {
        if (!next(y)) return false;
        if (y->ev.type == YAML_SEQUENCE_END_EVENT) return true;
        size_t mark = push_index(y, i);
        if (!item(y, obj, i)) return false;
        pop(y, mark);
    }
}

/* ---- rules ------------------------------------------------------------------ */

typedef struct rule_ctx {
    wrule_conf conf;
    const wrule_def *def;
    rule_lines lines;
} rule_ctx;

static const char *kind_name(wrule_kind k)
{
    switch (k) {
    case WRULE_LEVEL: return "a level rule";
    case WRULE_RATE: return "a rate rule";
    case WRULE_BURST: return "a burst rule";
    case WRULE_CAP: return "a cap rule";
    case WRULE_SCAN: return "one of scan's rules";
    }
    return "a rule";
}

/* A threshold, read as the rule's kind means it: a level rule wants a
 * percentage over its baseline (a bare 30 would be ambiguous: 30% or
 * 3000%?); rate and burst rules a number (or a size) of rise; a cap a
 * value, a size, a duration (pauses) or a percentage of a limit. */
static bool threshold(loader *y, const wrule_def *def, double *out)
{
    const char *s;
    if (!scalar(y, "a threshold", &s)) return false;
    double pct = percent_value(s), num = size_value(s), dur = wconfig_duration(s);
    double v = -1;
    const char *want = "a threshold";
    switch (def->kind) {
    case WRULE_LEVEL: v = pct; want = "a percentage above the baseline such as 30%"; break;
    case WRULE_RATE: v = num; want = "a rise per minute such as 10 or 1MiB"; break;
    case WRULE_BURST: v = num; want = "a rise between two polls such as 150"; break;
    case WRULE_CAP:
        v = pct >= 0 ? pct : dur >= 0 ? dur : num;
        want = "a value such as 5000, 1GiB, 100ms or 80% (of a limit)";
        break;
    case WRULE_SCAN:
        return fail(y, ev_line(y), "%s is %s: its thresholds are scan's (docs/scan.md); here only enabled, warn_for, crit_for and clear_for apply",
                    def->id, kind_name(def->kind));
    }
    if (v < 0) {
        char w[160];
        snprintf(w, sizeof w, "%s (%s is %s)", want, def->id, kind_name(def->kind));
        return bad_value(y, w, s);
    }
    if (v == 0) return fail(y, ev_line(y), "must be more than 0");
    *out = v;
    return true;
}

static bool rule_warn(loader *y, void *obj)
{
    rule_ctx *r = obj;
    r->lines.warn = ev_line(y);
    return threshold(y, r->def, &r->conf.warn);
}

static bool rule_crit(loader *y, void *obj)
{
    rule_ctx *r = obj;
    r->lines.crit = ev_line(y);
    return threshold(y, r->def, &r->conf.crit);
}

static bool rule_enabled(loader *y, void *obj)
{
    rule_ctx *r = obj;
    bool on;
    if (!bool_value(y, &on)) return false;
    r->conf.enabled = on;
    return true;
}

static const field rule_fields[] = {
    {"enabled", F_FUNC, 0, 0, false, NULL, rule_enabled},
    {"warn", F_FUNC, 0, 0, false, NULL, rule_warn},
    {"crit", F_FUNC, 0, 0, false, NULL, rule_crit},
    {"warn_for", F_DURATION, offsetof(rule_ctx, conf.warn_for), 0, true, NULL, NULL},
    {"crit_for", F_DURATION, offsetof(rule_ctx, conf.crit_for), 0, true, NULL, NULL},
    {"clear_for", F_DURATION, offsetof(rule_ctx, conf.clear_for), 0, true, NULL, NULL},
    {NULL, F_BOOL, 0, 0, false, NULL, NULL},
};

static void rule_unset(wrule_conf *r, const char *id)
{
    memset(r, 0, sizeof *r);
    snprintf(r->rule, sizeof r->rule, "%s", id);
    r->enabled = -1;
    r->warn = r->crit = r->warn_for = r->crit_for = r->clear_for = NAN;
}

static bool unknown_rule(loader *y, const char *id)
{
    size_t n;
    const wrule_def *tab = wrules_table(&n);
    const char *best = NULL;
    size_t bestd = 99;
    for (size_t i = 0; i < n; i++) consider(id, tab[i].id, &best, &bestd);
    char hint[96];
    suggestion(hint, sizeof hint, best);
    return fail(y, ev_line(y), "unknown rule%s; docs/watch.md lists the rules", hint);
}

/* A scope's overrides: "rule-id: {warn: ..., ...}" entries. */
static bool rules_map(loader *y, wrule_conf *rules, size_t *n, rule_lines *lines)
{
    if (!expect_mapping(y, "a mapping of rule ids to settings")) return false;
    for (;;) {
        if (!next(y)) return false;
        if (y->ev.type == YAML_MAPPING_END_EVENT) return true;
        const char *id;
        if (!key_text(y, &id)) return false;
        size_t mark = push_key(y, id, strlen(id));
        const wrule_def *def = wrule_find(id);
        if (!def) return unknown_rule(y, id);
        for (size_t i = 0; i < *n; i++)
            if (strcmp(rules[i].rule, id) == 0) return fail(y, ev_line(y), "given twice in this scope");
        if (*n >= WCONFIG_MAX_RULES)
            return fail(y, ev_line(y), "more than %d rule overrides in one scope (the limit)", WCONFIG_MAX_RULES);
        rule_ctx r;
        rule_unset(&r.conf, def->id);
        r.def = def;
        r.lines = (rule_lines){0, 0};
        if (!next(y) || !parse_map(y, rule_fields, &r)) return false;
        rules[*n] = r.conf;
        lines[(*n)++] = r.lines;
        pop(y, mark);
    }
}

static bool global_rules(loader *y, void *obj)
{
    wconfig *c = obj;
    return rules_map(y, c->rules, &c->nrules, y->glines);
}

static bool target_rules(loader *y, void *obj)
{
    wtarget_conf *t = obj;
    size_t ti = (size_t)(t - y->c->targets);
    return rules_map(y, t->rules, &t->nrules, y->tlines[ti]);
}

/* ---- request headers, discovery patterns ------------------------------------ */

static bool header_item(loader *y, void *obj, size_t i)
{
    wconfig *c = obj;
    const char *want = "a header such as \"Authorization: Bearer TOKEN\"";
    if (i >= WCONFIG_MAX_HEADERS) return fail(y, ev_line(y), "more than %d headers (the limit)", WCONFIG_MAX_HEADERS);
    if (!string_into(y, want, c->headers[i], WATCH_PATH_MAX)) return false;
    const char *h = c->headers[i];
    size_t name = strcspn(h, ":");
    if (!h[name] || name == 0 || strcspn(h, " \t") < name) return bad_value(y, want, h);
    if (strpbrk(h, "\r\n")) return fail(y, ev_line(y), "a header may not hold a line break");
    c->nheaders = i + 1;
    return true;
}

static bool request_headers(loader *y, void *obj)
{
    ((wconfig *)obj)->nheaders = 0;
    return parse_list(y, "headers", header_item, obj);
}

static bool match_item(loader *y, void *obj, size_t i)
{
    wdiscover_conf *d = obj;
    if (i >= WCONFIG_MAX_MATCH) return fail(y, ev_line(y), "more than %d patterns (the limit)", WCONFIG_MAX_MATCH);
    if (!string_into(y, "a pattern such as \"api-*\"", d->match[i], WATCH_NAME_MAX)) return false;
    d->nmatch = i + 1;
    return true;
}

static bool discover_match(loader *y, void *obj)
{
    ((wdiscover_conf *)obj)->nmatch = 0;
    return parse_list(y, "patterns", match_item, obj);
}

/* ---- hooks ------------------------------------------------------------------- */

static bool hook_rule(loader *y, void *obj)
{
    whook_conf *h = obj;
    const char *s;
    if (!scalar(y, "a rule id or \"*\"", &s)) return false;
    if (strcmp(s, "*") != 0 && !wrule_find(s)) return unknown_rule(y, s);
    snprintf(h->rule, sizeof h->rule, "%s", s);
    return true;
}

static bool hook_severity(loader *y, void *obj)
{
    whook_conf *h = obj;
    const char *s;
    if (!scalar(y, "info, warn or crit", &s)) return false;
    int sev = severity_parse(s);
    if (sev < SEV_INFO || sev > SEV_CRIT) return bad_value(y, "info, warn or crit", s);
    h->min_sev = (severity)sev;
    return true;
}

static bool argv_item(loader *y, void *obj, size_t i)
{
    whook_conf *h = obj;
    if (i >= WCONFIG_MAX_ARGV) return fail(y, ev_line(y), "more than %d arguments (the limit)", WCONFIG_MAX_ARGV);
    const char *s;
    if (!short_scalar(y, "an argument", WATCH_PATH_MAX, &s)) return false;
    if (i == 0 && !*s) return fail(y, ev_line(y), "the program is empty");
    if (i == 0 && s[0] != '/' && strchr(s, '/'))
        return fail(y, ev_line(y), "\"%.60s\" is a relative path: give an absolute one, or a program name found on PATH", s);
    snprintf(h->argv[i], sizeof h->argv[i], "%s", s);
    h->argc = i + 1;
    return true;
}

static bool hook_command(loader *y, void *obj)
{
    whook_conf *h = obj;
    int line = ev_line(y);
    h->argc = 0;
    if (!parse_list(y, "arguments (the program first; no shell runs it)", argv_item, obj)) return false;
    if (h->argc == 0) return fail(y, line, "is empty: it wants the program and its arguments");
    return true;
}

static const field hook_fields[] = {
    {"rule", F_FUNC, 0, 0, false, NULL, hook_rule},
    {"severity", F_FUNC, 0, 0, false, NULL, hook_severity},
    {"command", F_FUNC, 0, 0, false, NULL, hook_command},
    {"timeout", F_DURATION, offsetof(whook_conf, timeout), 0.001, false, NULL, NULL},
    {"on_resolve", F_BOOL, offsetof(whook_conf, on_resolve), 0, false, NULL, NULL},
    {NULL, F_BOOL, 0, 0, false, NULL, NULL},
};

static bool hook_item(loader *y, void *obj, size_t i)
{
    wconfig *c = obj;
    int line = ev_line(y);
    if (i >= WCONFIG_MAX_HOOKS) return fail(y, line, "more than %d hooks (the limit)", WCONFIG_MAX_HOOKS);
    whook_conf *h = &c->hooks[i];
    memset(h, 0, sizeof *h);
    snprintf(h->rule, sizeof h->rule, "*");
    h->min_sev = SEV_WARN;
    h->timeout = 10;
    h->line = line;
    if (!parse_map(y, hook_fields, h)) return false;
    if (h->argc == 0) return fail(y, line, "a hook wants a command");
    c->nhooks = i + 1;
    return true;
}

static bool hooks_list(loader *y, void *obj)
{
    ((wconfig *)obj)->nhooks = 0;
    return parse_list(y, "hooks", hook_item, obj);
}

/* ---- targets ------------------------------------------------------------------ */

/* A name is a directory of the captures and a label of the events: no
 * path separators, no leading dot, nothing a shell or a file system
 * would mistake. */
static bool name_ok(const char *s)
{
    if (!*s || *s == '.' || *s == '-') return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._-", *s)) return false;
    return true;
}

static bool target_name(loader *y, void *obj)
{
    wtarget_conf *t = obj;
    const char *s;
    const char *want = "a name of letters, digits, '.', '_' or '-' such as api-1";
    if (!short_scalar(y, want, WATCH_NAME_MAX, &s)) return false;
    if (!name_ok(s)) return bad_value(y, want, s);
    snprintf(t->name, sizeof t->name, "%s", s);
    return true;
}

static bool target_url(loader *y, void *obj)
{
    wtarget_conf *t = obj;
    const char *s;
    const char *want = "a base URL such as http://127.0.0.1:6060";
    if (!short_scalar(y, want, WATCH_PATH_MAX, &s)) return false;
    if (!collect_is_url(s)) return bad_value(y, want, s);
    if (!collect_is_base_url(s)) return bad_value(y, "the service's base URL (http://host:port or .../debug/pprof/), not a page", s);
    snprintf(t->url, sizeof t->url, "%s", s);
    return true;
}

static bool pid_text(const char *s, int *pid)
{
    size_t n = strlen(s);
    if (n == 0 || n > 7 || strspn(s, "0123456789") != n) return false;
    long v = strtol(s, NULL, 10);
    if (v <= 0 || v > MAX_PID) return false;
    *pid = (int)v;
    return true;
}

static bool target_pid(loader *y, void *obj)
{
    wtarget_conf *t = obj;
    const char *s;
    if (!scalar(y, "a process id", &s)) return false;
    if (!pid_text(s, &t->pid)) return bad_value(y, "a process id (1 to 4194304)", s);
    return true;
}

static const field target_fields[] = {
    {"name", F_FUNC, 0, 0, false, NULL, target_name},
    {"url", F_FUNC, 0, 0, false, NULL, target_url},
    {"pid", F_FUNC, 0, 0, false, NULL, target_pid},
    {"interval", F_DURATION, offsetof(wtarget_conf, interval), 0.1, false, NULL, NULL},
    {"full_cap", F_COUNT, offsetof(wtarget_conf, full_cap), 0, true, NULL, NULL},
    {"rules", F_FUNC, 0, 0, false, NULL, target_rules},
    {NULL, F_BOOL, 0, 0, false, NULL, NULL},
};

static void target_unset(wtarget_conf *t, int line)
{
    memset(t, 0, sizeof *t);
    t->interval = NAN;
    t->full_cap = UINT64_MAX;
    t->line = line;
}

static bool target_item(loader *y, void *obj, size_t i)
{
    (void)i;
    wconfig *c = obj;
    int line = ev_line(y);
    if (c->ntargets >= WCONFIG_MAX_TARGETS)
        return fail(y, line, "more than %d targets (the limit)", WCONFIG_MAX_TARGETS);
    wtarget_conf *t = &c->targets[c->ntargets];
    target_unset(t, line);
    memset(y->tlines[c->ntargets], 0, sizeof y->tlines[c->ntargets]);
    if (!parse_map(y, target_fields, t)) return false;
    if (!t->url[0] && !t->pid) return fail(y, line, "a target wants a url, a pid or both");
    c->ntargets++;
    return true;
}

static bool targets_list(loader *y, void *obj)
{
    return parse_list(y, "targets", target_item, obj);
}

/* ---- the top level ----------------------------------------------------------- */

static const field request_fields[] = {
    {"timeout", F_MILLIS, offsetof(wconfig, timeout_ms), 0.001, false, NULL, NULL},
    {"connect_timeout", F_MILLIS, offsetof(wconfig, connect_timeout_ms), 0.001, false, NULL, NULL},
    {"max_bytes", F_SIZE, offsetof(wconfig, max_bytes), 4096, false, NULL, NULL},
    {"headers", F_FUNC, 0, 0, false, NULL, request_headers},
    {NULL, F_BOOL, 0, 0, false, NULL, NULL},
};

static const field capture_fields[] = {
    {"dir", F_PATH, offsetof(wcapture_conf, dir), 0, false, NULL, NULL},
    {"max_bytes", F_SIZE, offsetof(wcapture_conf, max_bytes), 1 << 20, false, NULL, NULL},
    {"target_every", F_DURATION, offsetof(wcapture_conf, target_every), 0, true, NULL, NULL},
    {"global_every", F_DURATION, offsetof(wcapture_conf, global_every), 0, true, NULL, NULL},
    {"heap_gap", F_DURATION, offsetof(wcapture_conf, heap_gap), 0.1, false, NULL, NULL},
    {"cpu_profile", F_DURATION, offsetof(wcapture_conf, cpu_profile), 1, true, NULL, NULL},
    {"trace", F_DURATION, offsetof(wcapture_conf, trace), 0.1, true, NULL, NULL},
    {"series_span", F_DURATION, offsetof(wcapture_conf, series_span), 1, false, NULL, NULL},
    {"enabled", F_BOOL, offsetof(wcapture_conf, enabled), 0, false, NULL, NULL},
    {NULL, F_BOOL, 0, 0, false, NULL, NULL},
};

static const field discover_fields[] = {
    {"enabled", F_BOOL, offsetof(wdiscover_conf, enabled), 0, false, NULL, NULL},
    {"match", F_FUNC, 0, 0, false, NULL, discover_match},
    {"every", F_DURATION, offsetof(wdiscover_conf, every), 0.1, false, NULL, NULL},
    {NULL, F_BOOL, 0, 0, false, NULL, NULL},
};

static const field top_fields[] = {
    {"interval", F_DURATION, offsetof(wconfig, interval), 0.1, false, NULL, NULL},
    {"learn", F_DURATION, offsetof(wconfig, learn), 0.001, false, NULL, NULL},
    {"baseline_window", F_DURATION, offsetof(wconfig, baseline_window), 0.001, false, NULL, NULL},
    {"full_cap", F_COUNT, offsetof(wconfig, full_cap), 0, true, NULL, NULL},
    {"events", F_PATH, offsetof(wconfig, events), 0, false, NULL, NULL},
    {"request", F_MAP, 0, 0, false, request_fields, NULL},
    {"captures", F_MAP, offsetof(wconfig, captures), 0, false, capture_fields, NULL},
    {"discover", F_MAP, offsetof(wconfig, discover), 0, false, discover_fields, NULL},
    {"rules", F_FUNC, 0, 0, false, NULL, global_rules},
    {"hooks", F_FUNC, 0, 0, false, NULL, hooks_list},
    {"targets", F_FUNC, 0, 0, false, NULL, targets_list},
    {NULL, F_BOOL, 0, 0, false, NULL, NULL},
};

static bool parse_document(loader *y)
{
    if (!next(y) || y->ev.type != YAML_STREAM_START_EVENT) return false;
    if (!next(y)) return false;
    if (y->ev.type == YAML_STREAM_END_EVENT)
        return fail(y, 1, "the file is empty: it wants a mapping of keys such as \"targets:\"");
    if (!next(y)) return false;
    if (y->ev.type != YAML_MAPPING_START_EVENT)
        return fail(y, ev_line(y), "the file wants a mapping of keys such as \"targets:\" at the top, not %s",
                    event_shape(&y->ev));
    if (!parse_map(y, top_fields, y->c)) return false;
    if (!next(y) || !next(y)) return false;  /* document end, then the stream's */
    if (y->ev.type != YAML_STREAM_END_EVENT)
        return fail(y, ev_line(y), "a second document (---): one configuration per file");
    return true;
}

/* ---- checks across keys -------------------------------------------------------- */

static size_t file_index(const wconfig *c, size_t i);

static double first_set(double a, double b, double c)
{
    return !isnan(a) ? a : !isnan(b) ? b : c;
}

static const wrule_conf *find_rule(const wrule_conf *rules, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rules[i].rule, id) == 0) return &rules[i];
    return NULL;
}

static void threshold_text(char *out, size_t n, const wrule_def *def, double v)
{
    if (def->kind == WRULE_LEVEL) snprintf(out, n, "%g%%", v * 100);
    else snprintf(out, n, "%g", v);
}

/* crit below warn, with each taken from the narrowest scope that sets it:
 * the error names the line of the one set here. */
static bool check_order(loader *y, const wrule_conf *r, const rule_lines *lines, const wrule_conf *outer,
                        const char *scope)
{
    const wrule_def *def = wrule_find(r->rule);
    if (!def) return true;
    double w = first_set(r->warn, outer ? outer->warn : NAN, def->warn);
    double c = first_set(r->crit, outer ? outer->crit : NAN, def->crit);
    if (isnan(w) || isnan(c) || c >= w) return true;
    char ws[32], cs[32];
    threshold_text(ws, sizeof ws, def, w);
    threshold_text(cs, sizeof cs, def, c);
    bool crit_here = !isnan(r->crit);
    snprintf(y->path, sizeof y->path, "%s.%s.%s", scope, r->rule, crit_here ? "crit" : "warn");
    y->pathlen = strlen(y->path);
    return fail(y, crit_here ? lines->crit : lines->warn, "crit (%s) is below warn (%s)", cs, ws);
}

static bool check_rules(loader *y)
{
    const wconfig *c = y->c;
    for (size_t i = 0; i < c->nrules; i++)
        if (!check_order(y, &c->rules[i], &y->glines[i], NULL, "rules")) return false;
    for (size_t t = 0; t < c->ntargets; t++) {
        const wtarget_conf *tc = &c->targets[t];
        char scope[48];
        snprintf(scope, sizeof scope, "targets[%zu].rules", file_index(c, t));
        for (size_t i = 0; i < tc->nrules; i++) {
            const wrule_conf *outer = find_rule(c->rules, c->nrules, tc->rules[i].rule);
            if (!check_order(y, &tc->rules[i], &y->tlines[t][i], outer, scope)) return false;
        }
    }
    return true;
}

static bool same_url(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    while (na && a[na - 1] == '/') na--;
    while (nb && b[nb - 1] == '/') nb--;
    return na == nb && na && strncmp(a, b, na) == 0;
}

/* A file's target by its place in the file's list: the targets of the
 * command line have no line and are not counted. */
static size_t file_index(const wconfig *c, size_t i)
{
    size_t k = 0;
    for (size_t j = 0; j < i; j++) k += c->targets[j].line != 0;
    return k;
}

/* The other target of a clash, as a message names it. */
static void target_ref(const wconfig *c, size_t i, char *out, size_t n)
{
    const wtarget_conf *t = &c->targets[i];
    if (t->line) snprintf(out, n, "targets[%zu] (%s:%d)", file_index(c, i), c->file, t->line);
    else if (t->url[0]) snprintf(out, n, "the command line's %s", t->url);
    else snprintf(out, n, "the command line's pid %d", t->pid);
}

static const char *clash(const wtarget_conf *a, const wtarget_conf *b)
{
    if (a->name[0] && strcmp(a->name, b->name) == 0) return "name";
    if (same_url(a->url, b->url)) return "url";
    if (a->pid && a->pid == b->pid) return "pid";
    return NULL;
}

/* Two targets with one name, URL or pid would poll one process twice and
 * mix their series under one name. */
static int check_targets(const wconfig *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->ntargets; i++)
        for (size_t j = 0; j < i; j++) {
            const wtarget_conf *b = &c->targets[i];
            const char *key = clash(&c->targets[j], b);
            if (!key) continue;
            char other[WATCH_PATH_MAX * 2];
            target_ref(c, j, other, sizeof other);
            if (b->line)
                snprintf(err, errlen, "%s:%d: targets[%zu].%s: the same %s as %s", c->file, b->line, file_index(c, i),
                         key, key, other);
            else if (b->url[0])
                snprintf(err, errlen, "%s: the same %s as %s", b->url, key, other);
            else
                snprintf(err, errlen, "pid %d: the same %s as %s", b->pid, key, other);
            return -1;
        }
    return 0;
}

/* ---- the entry points ------------------------------------------------------------ */

void wconfig_defaults(wconfig *c)
{
    memset(c, 0, sizeof *c);
    c->interval = 15;
    c->learn = 600;
    c->baseline_window = 3600;
    c->full_cap = 5000;
    snprintf(c->events, sizeof c->events, "-");
    snprintf(c->captures.dir, sizeof c->captures.dir, "./reef-captures");
    c->captures.max_bytes = (uint64_t)1 << 30;
    c->captures.target_every = 600;
    c->captures.global_every = 60;
    c->captures.heap_gap = 5;
    c->captures.series_span = 3600;
    c->captures.enabled = true;
    c->discover.every = 30;
    c->timeout_ms = 10000;
    c->connect_timeout_ms = 2000;
    c->max_bytes = (uint64_t)64 << 20;
}

static bool check_request(loader *y)
{
    if (y->c->connect_timeout_ms <= y->c->timeout_ms) return true;
    snprintf(y->path, sizeof y->path, "request.connect_timeout");
    y->pathlen = strlen(y->path);
    return fail(y, 1, "%ldms is longer than the request's timeout (%ldms)", y->c->connect_timeout_ms, y->c->timeout_ms);
}

int wconfig_load_buffer(const char *name, const char *data, size_t len, wconfig *c, char *err, size_t errlen)
{
    if (len > WCONFIG_MAX_FILE) {
        snprintf(err, errlen, "%s: %zu bytes: larger than the 1 MiB a configuration may have", name, len);
        return -1;
    }
    loader *y = xcalloc(1, sizeof *y);
    y->c = xmalloc(sizeof *y->c);
    *y->c = *c;
    snprintf(y->c->file, sizeof y->c->file, "%s", name);
    y->name = name;
    y->data = data;
    y->len = len;
    y->err = err;
    y->errlen = errlen;
    bool ok = yaml_parser_initialize(&y->parser);
    if (ok) {
        yaml_parser_set_input_string(&y->parser, (const unsigned char *)data, len);
        ok = parse_document(y) && check_rules(y) && check_request(y) && check_targets(y->c, err, errlen) == 0;
        if (y->have_ev) yaml_event_delete(&y->ev);
        yaml_parser_delete(&y->parser);
    } else {
        snprintf(err, errlen, "%s: the YAML parser could not start", name);
    }
    if (ok) *c = *y->c;
    free(y->c);
    free(y);
    return ok ? 0 : -1;
}

/* Reads at most the cap and one byte more, so a huge file (or /dev/zero)
 * costs no more than the cap. */
static char *read_capped(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a configuration file", path);
        close(fd);
        return NULL;
    }
    char *data = xmalloc(WCONFIG_MAX_FILE + 1);
    size_t n = 0;
    while (n <= WCONFIG_MAX_FILE) {
        ssize_t r = read(fd, data + n, WCONFIG_MAX_FILE + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            close(fd);
            free(data);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (n > WCONFIG_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than the 1 MiB a configuration may have", path);
        free(data);
        return NULL;
    }
    *len = n;
    return data;
}

int wconfig_load(const char *path, wconfig *c, char *err, size_t errlen)
{
    size_t len;
    char *data = read_capped(path, &len, err, errlen);
    if (!data) return -1;
    int rc = wconfig_load_buffer(path, data, len, c, err, errlen);
    free(data);
    return rc;
}

/* ---- command line, merge, validation ---------------------------------------------- */

int wconfig_add_target(wconfig *c, const char *arg, char *err, size_t errlen)
{
    if (c->ntargets >= WCONFIG_MAX_TARGETS) {
        snprintf(err, errlen, "%.100s: more than %d targets (the limit)", arg, WCONFIG_MAX_TARGETS);
        return -1;
    }
    wtarget_conf *t = &c->targets[c->ntargets];
    target_unset(t, 0);
    if (collect_is_url(arg)) {
        if (!collect_is_base_url(arg) || strlen(arg) >= sizeof t->url) {
            snprintf(err, errlen, "\"%.200s\" is not a service's base URL (http://host:port or .../debug/pprof/)", arg);
            return -1;
        }
        snprintf(t->url, sizeof t->url, "%s", arg);
    } else if (strspn(arg, "0123456789") == strlen(arg) && *arg) {
        if (!pid_text(arg, &t->pid)) {
            snprintf(err, errlen, "\"%.100s\" is not a process id (1 to %d)", arg, MAX_PID);
            return -1;
        }
    } else {
        snprintf(err, errlen, "\"%.200s\" is neither a pid nor an http(s):// URL", arg);
        return -1;
    }
    c->ntargets++;
    return 0;
}

const wrule_conf *wconfig_rule(const wconfig *c, const wtarget_conf *t, const char *rule, wrule_conf *merged)
{
    rule_unset(merged, rule);
    const wrule_conf *scopes[2] = {
        find_rule(c->rules, c->nrules, rule),
        t ? find_rule(t->rules, t->nrules, rule) : NULL,
    };
    /* Global first, then the target's over it. */
    for (size_t i = 0; i < 2; i++) {
        const wrule_conf *s = scopes[i];
        if (!s) continue;
        if (s->enabled >= 0) merged->enabled = s->enabled;
        if (!isnan(s->warn)) merged->warn = s->warn;
        if (!isnan(s->crit)) merged->crit = s->crit;
        if (!isnan(s->warn_for)) merged->warn_for = s->warn_for;
        if (!isnan(s->crit_for)) merged->crit_for = s->crit_for;
        if (!isnan(s->clear_for)) merged->clear_for = s->clear_for;
    }
    return merged;
}

/* A program the hook can run: an absolute path to an executable file, or
 * a name found in one of PATH's directories (as execvp would). */
static bool runnable(const char *prog)
{
    struct stat st;
    if (prog[0] == '/') return stat(prog, &st) == 0 && S_ISREG(st.st_mode) && access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char full[WATCH_PATH_MAX * 2 + 2];
        snprintf(full, sizeof full, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", prog);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0) return true;
        path += n + (path[n] == ':');
    }
    return false;
}

int wconfig_validate(const wconfig *c, char *err, size_t errlen)
{
    if (c->ntargets == 0 && !c->discover.enabled) {
        snprintf(err, errlen, "%s%snothing to watch: give a target (URL or pid), targets: in the file, or discovery",
                 c->file, c->file[0] ? ": " : "");
        return -1;
    }
    if (check_targets(c, err, errlen) < 0) return -1;
    for (size_t i = 0; i < c->nhooks; i++) {
        const whook_conf *h = &c->hooks[i];
        if (h->argc == 0 || runnable(h->argv[0])) continue;
        snprintf(err, errlen, "%s:%d: hooks[%zu].command: \"%.200s\" is %s", c->file[0] ? c->file : "(config)", h->line,
                 i, h->argv[0], h->argv[0][0] == '/' ? "not an executable file" : "not found on PATH");
        return -1;
    }
    return 0;
}
