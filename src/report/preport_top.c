/* preport_top.c - the top and diff tables, as text and JSON. */
#include "preport.h"
#include "../util/json.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

/* pprof's units (internal/measurement): a family of units, each with the
 * names a profile may give it and its size in the family's base unit. */
typedef struct punit {
    const char *shown;
    const char *aliases[4];
    double factor;
} punit;

static const punit memory_units[] = {
    {"B", {"b", "byte"}, 1},
    {"kB", {"kb", "kbyte", "kilobyte"}, 1024.0},
    {"MB", {"mb", "mbyte", "megabyte"}, 1048576.0},
    {"GB", {"gb", "gbyte", "gigabyte"}, 1073741824.0},
    {"TB", {"tb", "tbyte", "terabyte"}, 1099511627776.0},
    {"PB", {"pb", "pbyte", "petabyte"}, 1125899906842624.0},
    {NULL, {NULL}, 0},
};
static const punit time_units[] = {
    {"ns", {"ns", "nanosecond"}, 1},
    {"us", {"\xce\xbcs", "us", "microsecond"}, 1e3},
    {"ms", {"ms", "millisecond"}, 1e6},
    {"s", {"s", "sec", "second"}, 1e9},
    {"hrs", {"hour", "hr"}, 3600e9},
    {NULL, {NULL}, 0},
};
static const punit gcu_units[] = {
    {"n*GCU", {"nanogcu"}, 1e-9}, {"u*GCU", {"microgcu"}, 1e-6}, {"m*GCU", {"milligcu"}, 1e-3},
    {"GCU", {"gcu"}, 1},          {"k*GCU", {"kilogcu"}, 1e3},   {"M*GCU", {"megagcu"}, 1e6},
    {"G*GCU", {"gigagcu"}, 1e9},  {"T*GCU", {"teragcu"}, 1e12},  {"P*GCU", {"petagcu"}, 1e15},
    {NULL, {NULL}, 0},
};
static const punit *const unit_families[] = {memory_units, time_units, gcu_units};

/* The unit a profile's unit name stands for, as pprof's sniffUnit finds it:
 * lower case, one trailing "s" dropped from names longer than two bytes. */
static const punit *sniff_unit(const char *unit, const punit **family)
{
    char low[64];
    size_t n = strlen(unit);
    if (n >= sizeof low) return NULL;
    for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)unit[i]);
    if (n > 2 && low[n - 1] == 's') low[--n] = '\0';
    for (size_t f = 0; f < sizeof unit_families / sizeof *unit_families; f++)
        for (const punit *u = unit_families[f]; u->shown; u++)
            for (size_t a = 0; a < 4 && u->aliases[a]; a++)
                if (strcmp(low, u->aliases[a]) == 0) {
                    *family = unit_families[f];
                    return u;
                }
    return NULL;
}

/* pprof's ScaledLabel(v, unit, "auto"): a value in a known unit is shown in
 * the largest unit of its family it is at least 1 of; others are plain
 * numbers; two decimals, ".00" cut. */
void pformat_value(char *out, size_t n, int64_t v, const char *unit)
{
    const punit *family = NULL, *from = sniff_unit(unit, &family);
    double x = v < 0 ? -(double)v : (double)v;
    const char *suffix = "";
    if (from) {
        x *= from->factor;
        const punit *best = NULL;
        for (const punit *u = family; u->shown; u++)
            if (x / u->factor >= 1.0 && (!best || u->factor >= best->factor)) best = u;
        if (!best) best = family == memory_units ? &memory_units[0] : family == time_units ? &time_units[3] : &gcu_units[3];
        x /= best->factor;
        suffix = best->shown;
    }
    if (v < 0) x = -x;
    char num[64];
    snprintf(num, sizeof num, "%.2f", x);
    size_t len = strlen(num);
    if (len > 3 && strcmp(num + len - 3, ".00") == 0) num[len - 3] = '\0';
    if (strcmp(num, "0") == 0 || strcmp(num, "-0") == 0) {
        snprintf(out, n, "0");
        return;
    }
    snprintf(out, n, "%s%s", num, suffix);
}

static size_t shown_rows(const ptop_report *r)
{
    return r->nodecount && r->nodecount < r->top->nrows ? r->nodecount : r->top->nrows;
}

static double pct(int64_t v, int64_t total) { return total ? 100.0 * (double)v / (double)total : 0; }

void preport_top_text(FILE *out, const ptop_report *r)
{
    const ptop *t = r->top;
    size_t n = shown_rows(r);
    int64_t shown = 0;
    for (size_t i = 0; i < n; i++) shown += t->rows[i].flat;
    char a[64], b[64];
    fprintf(out, "Type: %s\n", t->sample_type);
    if (r->base) fprintf(out, "Diff: %s minus %s\n", r->source, r->base);
    pformat_value(a, sizeof a, shown, t->unit);
    pformat_value(b, sizeof b, t->total, t->unit);
    fprintf(out, "Showing %zu of %zu %s, accounting for %s, %.2f%% of %s total\n", n, t->nrows,
            r->by_line ? "lines" : "functions", a, pct(shown, t->total), b);
    fprintf(out, "%10s %6s %7s %10s %6s  %s\n", "flat", "flat%", "sum%", "cum", "cum%", r->by_line ? "line" : "function");
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const prow *row = &t->rows[i];
        sum += row->flat;
        pformat_value(a, sizeof a, row->flat, t->unit);
        pformat_value(b, sizeof b, row->cum, t->unit);
        fprintf(out, "%10s %5.2f%% %6.2f%% %10s %5.2f%%  ", a, pct(row->flat, t->total), pct(sum, t->total), b,
                pct(row->cum, t->total));
        if (t->has_tag) fprintf(out, "[%s] ", intern_str(&t->strings, row->tag));
        /* Names are counted strings: a NUL inside one is printed, as pprof does. */
        fwrite(intern_str(&t->strings, row->name), 1, intern_len(&t->strings, row->name), out);
        if (r->by_line) fprintf(out, " %s:%" PRId64, intern_str(&t->strings, row->file), row->line);
        fputc('\n', out);
    }
}

void preport_top_json(FILE *out, const ptop_report *r)
{
    const ptop *t = r->top;
    json_writer w;
    json_init(&w, out, true);
    json_begin_object(&w);
    json_key(&w, "schema");
    json_cstring(&w, r->base ? "reef.pprof.diff/1" : "reef.pprof.top/1");
    json_key(&w, "source");
    json_cstring(&w, r->source);
    if (r->base) {
        json_key(&w, "base");
        json_cstring(&w, r->base);
    }
    json_key(&w, "sample_type");
    json_cstring(&w, t->sample_type);
    json_key(&w, "unit");
    json_cstring(&w, t->unit);
    json_key(&w, "total");
    json_int(&w, t->total);
    json_key(&w, "nodes");
    json_uint(&w, t->nrows);
    json_key(&w, "rows");
    json_begin_array(&w);
    size_t n = shown_rows(r);
    for (size_t i = 0; i < n; i++) {
        const prow *row = &t->rows[i];
        json_begin_object(&w);
        json_key(&w, "func");
        json_string(&w, intern_str(&t->strings, row->name), intern_len(&t->strings, row->name));
        json_key(&w, "file");
        json_cstring(&w, intern_str(&t->strings, row->file));
        if (r->by_line) {
            json_key(&w, "line");
            json_int(&w, row->line);
        }
        if (t->has_tag) {
            json_key(&w, "tag");
            json_cstring(&w, intern_str(&t->strings, row->tag));
        }
        json_key(&w, "flat");
        json_int(&w, row->flat);
        json_key(&w, "cum");
        json_int(&w, row->cum);
        json_end_object(&w);
    }
    json_end_array(&w);
    json_end_object(&w);
    json_finish(&w);
}
