/* profile.c - see profile.h. */
#include "profile.h"

#include "../util/buf.h"
#include "../util/xalloc.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void profile_init(profile *p)
{
    memset(p, 0, sizeof *p);
}

void profile_free(profile *p)
{
    free(p->sample_types);
    free(p->samples);
    free(p->sample_locs);
    free(p->values);
    free(p->labels);
    free(p->locations);
    free(p->lines);
    free(p->functions);
    free(p->strbuf);
    free(p->str_off);
    free(p->comments);
    free(p->mappings);
    idmap_free(&p->location_ids);
    idmap_free(&p->function_ids);
    memset(p, 0, sizeof *p);
}

int profile_sample_index(const profile *p, const char *name)
{
    for (size_t i = 0; i < p->nsample_types; i++)
        if (strcmp(profile_str(p, p->sample_types[i].type), name) == 0) return (int)i;
    /* pprof also takes a number. */
    char *end;
    long n = strtol(name, &end, 10);
    if (*name && !*end && n >= 0 && (size_t)n < p->nsample_types) return (int)n;
    return -1;
}

int profile_default_index(const profile *p)
{
    if (p->nsample_types == 0) return -1;
    if (p->default_sample_type) {
        const char *want = profile_str(p, p->default_sample_type);
        for (size_t i = 0; i < p->nsample_types; i++)
            if (strcmp(profile_str(p, p->sample_types[i].type), want) == 0) return (int)i;
    }
    return (int)p->nsample_types - 1;
}

const char *profile_unnamed_frame(const profile *p, const plocation *loc, char *out, size_t n)
{
    for (size_t i = 0; loc->mapping_id && i < p->nmappings; i++) {
        /* An empty name is no name, whatever its string index. */
        if (p->mappings[i].id != loc->mapping_id || !profile_strlen(p, p->mappings[i].filename)) continue;
        const char *file = profile_str(p, p->mappings[i].filename);
        const char *base = strrchr(file, '/');
        snprintf(out, n, "[%s]", base ? base + 1 : file);
        return out;
    }
    return "<unknown>";
}

/* ---- drop_frames / keep_frames ---------------------------------------- */

typedef struct pruner {
    profile *p;
    regex_t drop, keep;
    bool has_keep;
    signed char *verdict;    /* per function: -1 unknown, 0 keep, 1 prune */
    buf name;
} pruner;

/* pprof matches a simplified name: a leading '.' (PPC ELF v1) dropped, and
 * everything from the first '(' that does not start "(anonymous
 * namespace)" or belong to "operator()". */
static void simplify_for_match(const char *s, size_t n, buf *out)
{
    out->len = 0;
    if (n && *s == '.') s++, n--;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '(') continue;
        if (n - i >= 21 && memcmp(s + i, "(anonymous namespace)", 21) == 0) {
            i += 20;
            continue;
        }
        if (i >= 8 && memcmp(s + i - 8, "operator()", 10) == 0) {
            i += 1;
            continue;
        }
        n = i;
        break;
    }
    buf_append(out, s, n);
    buf_cstr(out);
}

static bool prune_function(pruner *pr, uint32_t fi)
{
    if (fi == UINT32_MAX) return false;
    if (pr->verdict[fi] < 0) {
        const pfunction *f = &pr->p->functions[fi];
        size_t n = profile_strlen(pr->p, f->name);
        simplify_for_match(profile_str(pr->p, f->name), n, &pr->name);
        const char *name = buf_cstr(&pr->name);
        pr->verdict[fi] = n && regexec(&pr->drop, name, 0, NULL, 0) == 0 &&
                          !(pr->has_keep && regexec(&pr->keep, name, 0, NULL, 0) == 0);
    }
    return pr->verdict[fi] == 1;
}

enum { KEEP_LOC = 0, PRUNE_BENEATH = 1, PRUNE_LOC = 2 };

/* Marks each location, and trims the lines of those cut inside. */
static void prune_locations(pruner *pr, unsigned char *mark)
{
    profile *p = pr->p;
    for (size_t li = 0; li < p->nlocations; li++) {
        plocation *loc = &p->locations[li];
        int64_t i;
        for (i = (int64_t)loc->nlines - 1; i >= 0; i--)
            if (prune_function(pr, p->lines[loc->first_line + (uint32_t)i].func)) break;
        if (i < 0) continue;
        if (i == (int64_t)loc->nlines - 1) {
            mark[li] = PRUNE_LOC;
        } else {
            mark[li] = PRUNE_BENEATH;
            loc->first_line += (uint32_t)i + 1;
            loc->nlines -= (uint32_t)i + 1;
        }
    }
}

/* Cuts a sample's leaf side: its stack is a varint list, so dropping a
 * prefix is moving first_loc past it.  scratch holds, per location of the
 * stack, its index and its byte offset (and the end offset). */
static void prune_sample(profile *p, psample *s, const unsigned char *mark, uint32_t **scratch, size_t *cap)
{
    if (s->nlocs == 0) return;
    *scratch = xgrow(*scratch, cap, 2 * ((size_t)s->nlocs + 1), sizeof **scratch);
    uint32_t *loc_of = *scratch, *at = *scratch + s->nlocs + 1;
    const unsigned char *start = pstack_begin(p, s), *cur = start;
    for (uint32_t i = 0; i < s->nlocs; i++) {
        at[i] = (uint32_t)(cur - start);
        loc_of[i] = pstack_next(&cur);
    }
    at[s->nlocs] = (uint32_t)(cur - start);
    bool found_user = false;
    for (uint32_t i = s->nlocs; i-- > 0;) {
        unsigned char m = mark[loc_of[i]];
        if (m == KEEP_LOC) {
            found_user = true;
            continue;
        }
        if (!found_user) continue;
        uint32_t cut = m == PRUNE_LOC ? i + 1 : i;
        s->first_loc += at[cut];
        s->nlocs -= cut;
        return;
    }
}

/* Profiles carry RE2 patterns (Go's regexp); reef has POSIX extended ones.
 * The common RE2-only forms are rewritten: (?:...) groups, the classes
 * \d \w \s and their negations (in and out of brackets), and lazy
 * quantifiers (lazy or greedy, a whole-name match is the same).  Other
 * (?...) groups and escapes POSIX lacks (\b \A \z \p \Q) are refused. */
static const struct {
    char c;
    const char *out, *in_brackets;
} re2_classes[] = {
    {'d', "[0-9]", "0-9"},         {'D', "[^0-9]", NULL},
    {'w', "[0-9A-Za-z_]", "0-9A-Za-z_"}, {'W', "[^0-9A-Za-z_]", NULL},
    {'s', "[[:space:]]", "[:space:]"}, {'S', "[^[:space:]]", NULL},
};

static const char *re2_class(char c, bool in_brackets)
{
    for (size_t i = 0; i < sizeof re2_classes / sizeof *re2_classes; i++)
        if (re2_classes[i].c == c) return in_brackets ? re2_classes[i].in_brackets : re2_classes[i].out;
    return NULL;
}

static bool re2_to_ere(const char *in, buf *out)
{
    bool brackets = false;
    for (const char *c = in; *c; c++) {
        if (brackets) {
            /* A class such as [:alpha:] is the same in both. */
            const char *end = c[0] == '[' && c[1] == ':' ? strstr(c + 2, ":]") : NULL;
            if (end) {
                buf_append(out, c, (size_t)(end + 2 - c));
                c = end + 1;
                continue;
            }
            if (*c == ']') brackets = false;
            if (*c == '\\' && c[1]) {
                const char *cls = re2_class(*++c, true);
                if (!cls && (c[0] == 'D' || c[0] == 'W' || c[0] == 'S')) return false;
                if (cls) buf_puts(out, cls);
                else buf_putc(out, *c); /* an escaped literal is itself in POSIX brackets */
                continue;
            }
            buf_putc(out, *c);
            continue;
        }
        if (*c == '[') {
            brackets = true;
            buf_putc(out, *c);
            if (c[1] == '^') buf_putc(out, *++c);
            if (c[1] == ']') buf_putc(out, *++c); /* a leading ] is literal */
        } else if (*c == '(' && c[1] == '?') {
            if (c[2] != ':') return false;
            buf_putc(out, '(');
            c += 2;
        } else if (*c == '\\' && c[1]) {
            const char *cls = re2_class(c[1], false);
            if (cls) buf_puts(out, cls);
            else if (strchr("bBAzpPQE", c[1])) return false;
            else buf_append(out, c, 2);
            c++;
        } else if (*c == '?' && c > in && strchr("*+?}", c[-1]) && !(c - 1 > in && c[-2] == '\\')) {
            continue; /* lazy quantifier */
        } else {
            buf_putc(out, *c);
        }
    }
    return !brackets;
}

/* Compiles ^(pattern)$ from an RE2 pattern of the profile. */
static bool compile_frames_re(const char *pattern, regex_t *re)
{
    buf b = {0};
    buf_puts(&b, "^(");
    bool ok = re2_to_ere(pattern, &b);
    buf_puts(&b, ")$");
    ok = ok && regcomp(re, buf_cstr(&b), REG_EXTENDED | REG_NOSUB) == 0;
    buf_free(&b);
    return ok;
}

void profile_drop_frames(profile *p)
{
    if (!p->drop_frames || !profile_strlen(p, p->drop_frames)) return;
    pruner pr;
    memset(&pr, 0, sizeof pr);
    pr.p = p;
    if (!compile_frames_re(profile_str(p, p->drop_frames), &pr.drop)) {
        snprintf(p->warning, sizeof p->warning, "drop_frames is not a regular expression reef can read; no frames dropped");
        return;
    }
    if (p->keep_frames && profile_strlen(p, p->keep_frames)) {
        if (!compile_frames_re(profile_str(p, p->keep_frames), &pr.keep)) {
            snprintf(p->warning, sizeof p->warning, "keep_frames is not a regular expression reef can read; no frames dropped");
            regfree(&pr.drop);
            return;
        }
        pr.has_keep = true;
    }
    pr.verdict = xmalloc(p->nfunctions ? p->nfunctions : 1);
    memset(pr.verdict, -1, p->nfunctions);
    unsigned char *mark = xcalloc(p->nlocations ? p->nlocations : 1, 1);
    prune_locations(&pr, mark);
    uint32_t *scratch = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < p->nsamples; i++) prune_sample(p, &p->samples[i], mark, &scratch, &cap);
    free(scratch);
    free(mark);
    free(pr.verdict);
    buf_free(&pr.name);
    regfree(&pr.drop);
    if (pr.has_keep) regfree(&pr.keep);
}
