/* preport.h - render profile views: top/diff tables (text, JSON), folded
 * stacks, and a self-contained SVG flame graph. */
#ifndef REEF_REPORT_PREPORT_H
#define REEF_REPORT_PREPORT_H

#include "../analyze/ptop.h"
#include "../model/profile.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct ptop_report {
    const ptop *top;
    const char *source, *base;  /* base: only for a diff */
    size_t nodecount;           /* 0 = all rows */
    bool by_line;
} ptop_report;

void preport_top_text(FILE *out, const ptop_report *r);
void preport_top_json(FILE *out, const ptop_report *r);

/* Formats v in unit the way pprof does (1024-based bytes, ns..s, counts). */
void pformat_value(char *out, size_t n, int64_t v, const char *unit);

/* Folded stacks of sample index vi, root first, one line per stack. */
int preport_folded(FILE *out, const profile *p, int vi);
/* A flame graph of sample index vi as one SVG file with its own script. */
int preport_svg(FILE *out, const profile *p, int vi, const char *title);

#endif
