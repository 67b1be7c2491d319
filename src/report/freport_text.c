/* freport_text.c - the scan checklist for a person: every rule top to
 * bottom with its status, then under it the findings with their evidence
 * and advice, wrapped to the terminal's usual width. */
#include "freport.h"

#include <string.h>

#define WIDTH 100

static const char *status_color(check_status s)
{
    switch (s) {
    case CHECK_CRIT: return "\033[1;31m";
    case CHECK_WARN: return "\033[33m";
    case CHECK_PASS: return "\033[32m";
    case CHECK_INFO: return "\033[36m";
    default: return "\033[2m";
    }
}

/* Writes text wrapped at WIDTH, starting at column col; continuation
 * lines are indented to indent. */
static void wrapped(FILE *out, const char *text, int indent, int col)
{
    bool first = true;
    for (const char *p = text; *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        size_t n = strcspn(p, " ");
        if (!first && col + 1 + (int)n > WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, n, out);
        col += (int)n;
        p += n;
        first = false;
    }
    fputc('\n', out);
}

static void header(FILE *out, const scan_evidence *e)
{
    fprintf(out, "reef scan of ");
    if (e->url) fprintf(out, "%s%s", e->url, e->url_discovered ? " (found through the pid)" : "");
    if (e->url && e->pid) fprintf(out, ", ");
    if (e->pid) fprintf(out, "pid %d", e->pid);
    if (e->go_version) fprintf(out, " [%s]", e->go_version);
    fprintf(out, "\n%zu sample%s over %.1f s, %u request%s to the service, %.1f s in all\n", e->nsamples,
            e->nsamples == 1 ? "" : "s", e->window, e->requests, e->requests == 1 ? "" : "s", e->seconds);
    if (e->url)
        fprintf(out, "endpoints: pprof %s, /metrics %s, /debug/vars %s%s\n", e->has_pprof ? "yes" : "no",
                e->has_metrics ? "yes" : "no", e->has_vars ? "yes" : "no",
                e->has_leak_profile ? ", goroutineleak yes" : "");
    fputc('\n', out);
}

static void finding_text(FILE *out, const finding *f, bool color)
{
    fprintf(out, "      %s%s%s ", color ? "\033[1m" : "", f->sev == SEV_CRIT ? "!!" : f->sev == SEV_WARN ? "! " : "i ",
            color ? "\033[0m" : "");
    wrapped(out, f->title, 9, 9);
    for (size_t i = 0; i < f->nevidence; i++) {
        fprintf(out, "         - ");
        wrapped(out, f->evidence[i], 11, 11);
    }
    if (f->advice) {
        fprintf(out, "         %sadvice:%s ", color ? "\033[2m" : "", color ? "\033[0m" : "");
        wrapped(out, f->advice, 17, 17);
    }
}

void freport_text(FILE *out, const freport *fr)
{
    const report *r = fr->report;
    header(out, fr->evidence);
    unsigned counts[5] = {0};
    for (size_t i = 0; i < r->nchecks; i++) {
        const check *c = &r->checks[i];
        counts[c->status]++;
        fprintf(out, "%s%-4s%s  %-21s ", fr->color ? status_color(c->status) : "", check_status_name(c->status),
                fr->color ? "\033[0m" : "", c->rule);
        const char *line = c->note ? c->note : c->what;
        wrapped(out, line, 28, 28);
        for (size_t k = 0; k < r->nfindings; k++)
            if (strcmp(r->findings[k].rule, c->rule) == 0) finding_text(out, &r->findings[k], fr->color);
    }
    fprintf(out, "\n%u crit, %u warn, %u info, %u pass, %u skipped\n", counts[CHECK_CRIT], counts[CHECK_WARN],
            counts[CHECK_INFO], counts[CHECK_PASS], counts[CHECK_SKIP]);
    for (size_t i = 0; i < r->nnotes; i++) fprintf(out, "note: %s\n", r->notes[i]);
}
