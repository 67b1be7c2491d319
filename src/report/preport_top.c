/* preport_top.c - the top and diff tables, as text and JSON. */
#include "preport.h"
#include "../util/json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* pprof scales bytes by 1024 (B kB MB GB TB PB), time from nanoseconds up
 * to seconds, and leaves counts alone; two decimals, trailing zeros cut. */
void pformat_value(char *out, size_t n, int64_t v, const char *unit)
{
    static const char *const bytes[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    static const char *const times[] = {"ns", "us", "ms", "s"};
    double x = (double)v;
    const char *suffix = "";
    if (v == 0) {
        snprintf(out, n, "0");
        return;
    }
    if (strcmp(unit, "bytes") == 0) {
        int i = 0;
        while (i < 5 && fabs(x) >= 1024) x /= 1024, i++;
        suffix = bytes[i];
    } else if (strcmp(unit, "nanoseconds") == 0) {
        int i = 0;
        while (i < 3 && fabs(x) >= 1000) x /= 1000, i++;
        suffix = times[i];
    } else {
        snprintf(out, n, "%" PRId64, v);
        return;
    }
    char num[64];
    snprintf(num, sizeof num, "%.2f", x);
    char *dot = strchr(num, '.');
    if (dot) {
        char *e = num + strlen(num) - 1;
        while (e > dot && *e == '0') *e-- = '\0';
        if (e == dot) *e = '\0';
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
        fputs(intern_str(&t->strings, row->name), out);
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
        json_cstring(&w, intern_str(&t->strings, row->name));
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
