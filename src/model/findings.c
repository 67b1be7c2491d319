/* findings.c - the checklist and findings of an analysis; see findings.h. */
#include "findings.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const severity_names[] = {"info", "warn", "crit"};
static const char *const status_names[] = {"PASS", "INFO", "WARN", "CRIT", "SKIP"};

const char *severity_name(severity s) { return severity_names[s]; }
const char *check_status_name(check_status s) { return status_names[s]; }

int severity_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, severity_names[i]) == 0) return i;
    if (strcmp(s, "never") == 0) return SEV_CRIT + 1;
    return -1;
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
    buf b = {0};
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    buf_reserve(&b, (size_t)n + 1);
    vsnprintf(b.data, (size_t)n + 1, fmt, ap);
    return b.data;
}

void report_init(report *r) { memset(r, 0, sizeof *r); }

static void finding_free(finding *f)
{
    free(f->title);
    free(f->advice);
    for (size_t i = 0; i < f->nevidence; i++) free(f->evidence[i]);
    free(f->evidence);
    for (size_t i = 0; i < f->nvalues; i++) {
        free(f->values[i].name);
        free(f->values[i].v);
    }
    free(f->values);
}

void report_free(report *r)
{
    for (size_t i = 0; i < r->nchecks; i++) free(r->checks[i].note);
    free(r->checks);
    for (size_t i = 0; i < r->nfindings; i++) finding_free(&r->findings[i]);
    free(r->findings);
    for (size_t i = 0; i < r->nnotes; i++) free(r->notes[i]);
    free(r->notes);
    memset(r, 0, sizeof *r);
}

check *report_find_check(report *r, const char *rule)
{
    for (size_t i = 0; i < r->nchecks; i++)
        if (strcmp(r->checks[i].rule, rule) == 0) return &r->checks[i];
    return NULL;
}

check *report_check(report *r, const char *rule, const char *what)
{
    check *c = report_find_check(r, rule);
    if (c) return c;
    r->checks = xrealloc(r->checks, (r->nchecks + 1) * sizeof *r->checks);
    c = &r->checks[r->nchecks++];
    memset(c, 0, sizeof *c);
    c->rule = rule;
    c->what = what;
    return c;
}

void report_skip(report *r, const char *rule, const char *fmt, ...)
{
    check *c = report_find_check(r, rule);
    if (!c || c->status != CHECK_PASS) return; /* a finding outranks a skip */
    va_list ap;
    va_start(ap, fmt);
    free(c->note);
    c->note = vformat(fmt, ap);
    va_end(ap);
    c->status = CHECK_SKIP;
}

void report_check_note(report *r, const char *rule, const char *fmt, ...)
{
    check *c = report_find_check(r, rule);
    if (!c) return;
    va_list ap;
    va_start(ap, fmt);
    free(c->note);
    c->note = vformat(fmt, ap);
    va_end(ap);
}

void report_note(report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->notes = xrealloc(r->notes, (r->nnotes + 1) * sizeof *r->notes);
    r->notes[r->nnotes++] = vformat(fmt, ap);
    va_end(ap);
}

static check_status status_of(severity s)
{
    return s == SEV_CRIT ? CHECK_CRIT : s == SEV_WARN ? CHECK_WARN : CHECK_INFO;
}

finding *report_finding(report *r, const char *rule, severity sev, const char *fmt, ...)
{
    check *c = report_find_check(r, rule);
    if (c) {
        check_status want = status_of(sev);
        if (c->status == CHECK_SKIP || c->status == CHECK_PASS || want > c->status) c->status = want;
    }
    r->findings = xgrow(r->findings, &r->cap, r->nfindings + 1, sizeof *r->findings);
    finding *f = &r->findings[r->nfindings++];
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->sev = sev;
    f->seq = r->nfindings - 1;
    va_list ap;
    va_start(ap, fmt);
    f->title = vformat(fmt, ap);
    va_end(ap);
    return f;
}

void finding_evidence(finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    f->evidence = xrealloc(f->evidence, (f->nevidence + 1) * sizeof *f->evidence);
    f->evidence[f->nevidence++] = vformat(fmt, ap);
    va_end(ap);
}

void finding_value_add(finding *f, const char *name, const double *v, size_t n)
{
    f->values = xrealloc(f->values, (f->nvalues + 1) * sizeof *f->values);
    finding_value *fv = &f->values[f->nvalues++];
    fv->name = xstrdup(name);
    fv->n = n;
    fv->v = xmalloc((n ? n : 1) * sizeof *fv->v);
    if (n) memcpy(fv->v, v, n * sizeof *v);
}

void finding_advice(finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(f->advice);
    f->advice = vformat(fmt, ap);
    va_end(ap);
}

int report_max_severity(const report *r)
{
    int max = -1;
    for (size_t i = 0; i < r->nfindings; i++)
        if ((int)r->findings[i].sev > max) max = (int)r->findings[i].sev;
    return max;
}

/* Per thread: reef watch analyses several targets at once. */
static _Thread_local const report *sort_report;

static size_t rule_rank(const char *rule)
{
    for (size_t i = 0; i < sort_report->nchecks; i++)
        if (strcmp(sort_report->checks[i].rule, rule) == 0) return i;
    return sort_report->nchecks;
}

static int by_severity(const void *a, const void *b)
{
    const finding *x = a, *y = b;
    if (x->sev != y->sev) return x->sev > y->sev ? -1 : 1;
    size_t rx = rule_rank(x->rule), ry = rule_rank(y->rule);
    if (rx != ry) return rx < ry ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq; /* qsort is not stable */
}

void report_sort(report *r)
{
    sort_report = r;
    if (r->nfindings > 1) qsort(r->findings, r->nfindings, sizeof *r->findings, by_severity);
    sort_report = NULL;
}
