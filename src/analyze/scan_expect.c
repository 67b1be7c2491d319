/* scan_expect.c - the expectation rule: user-declared facts of a healthy
 * service (expect.h), checked against the last sample. */
#include "scan.h"
#include "../util/buf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Goroutines with a frame whose function contains sub, in m. */
static uint64_t goroutines_with(const gmodel *m, const char *sub)
{
    uint64_t n = 0;
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        for (uint32_t k = 0; k < g->nframes; k++)
            if (strstr(gmodel_str(m, g->frames[k].func), sub)) {
                n += g->count;
                break;
            }
    }
    return n;
}

static void check_goroutine(const scan_evidence *e, const expectation *x, const char *file, report *r)
{
    const gmodel *m = e->full ? e->full : e->nsamples ? evidence_last(e)->goroutines : NULL;
    if (!m) {
        finding *f = report_finding(r, "expectation", SEV_WARN, "cannot check goroutine %s: no goroutine profile",
                                    x->subject);
        finding_evidence(f, "%s:%u", file, x->line);
        finding_advice(f, "Give reef the service's pprof endpoint (--url).");
        return;
    }
    uint64_t n = goroutines_with(m, x->subject);
    if ((double)n >= x->bound) return;
    finding *f = report_finding(r, "expectation", (severity)x->severity, "expected %s%.0f goroutine%s running %s, found %llu",
                                x->bound > 1 ? "at least " : "", x->bound, x->bound == 1 ? "" : "s", x->subject,
                                (unsigned long long)n);
    finding_evidence(f, "%s:%u; %llu goroutines checked", file, x->line, (unsigned long long)m->total);
    finding_advice(f, "The goroutine that should run %s is not there: the init or Start call that launches it did "
                      "not run, or it exited early (check the logs for an error swallowed at start-up).",
                   x->subject);
}

static void check_metric(const scan_evidence *e, const expectation *x, const char *file, report *r)
{
    size_t matched = 0, bad = 0;
    double bad_value = NAN;
    for (size_t i = 0; i < e->nmetrics; i++) {
        const metric_sample *m = &e->metrics[i];
        if (strcmp(m->name, x->subject) != 0 || !expect_labels_match(m->labels, x->labels)) continue;
        matched++;
        if (!expect_compare(x->op, m->value, x->bound)) {
            bad++;
            bad_value = m->value;
        }
    }
    const char *lb = x->labels[0] ? "{" : "", *rb = x->labels[0] ? "}" : "";
    if (matched == 0) {
        finding *f = report_finding(r, "expectation", (severity)x->severity, "metric %s%s%s%s is missing", x->subject, lb,
                                    x->labels, rb);
        finding_evidence(f, "%s:%u; %zu metric samples read from %s", file, x->line, e->nmetrics,
                         e->has_metrics ? "/metrics" : e->has_vars ? "/debug/vars" : "nowhere");
        finding_advice(f, "A metric that is never registered means the code that registers it never ran: a "
                          "package not imported, an init that failed, a registry other than the one served.");
        return;
    }
    if (bad == 0) return;
    finding *f = report_finding(r, "expectation", (severity)x->severity, "metric %s%s%s%s = %g, expected %s %g",
                                x->subject, lb, x->labels, rb, bad_value, x->op, x->bound);
    finding_evidence(f, "%s:%u; %zu of %zu samples fail", file, x->line, bad, matched);
    finding_advice(f, "The service does not do what this metric says it should; if it is a counter still at zero "
                      "after traffic, the code path that updates it is not reached.");
}

void rule_expectation(const scan_evidence *e, const scan_config *cfg, report *r)
{
    const expectations *x = &cfg->expect;
    if (x->n == 0) {
        report_skip(r, "expectation", "no expectations given (--expect FILE)");
        return;
    }
    for (size_t i = 0; i < x->n; i++) {
        if (x->items[i].kind == EXPECT_GOROUTINE) check_goroutine(e, &x->items[i], x->file, r);
        else check_metric(e, &x->items[i], x->file, r);
    }
    report_check_note(r, "expectation", "%zu expectation%s from %s", x->n, x->n == 1 ? "" : "s", x->file);
}
