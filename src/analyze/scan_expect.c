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

/* Where the numbers of an expectation come from: the service's own last
 * scrape, or a second endpoint's every scrape. */
typedef struct metric_origin {
    const metric_sample *m;
    size_t n;
    const char *what;         /* "/metrics", "source nats (URL)", ... */
    unsigned samples;         /* scrapes read */
} metric_origin;

static void origin_of(const scan_evidence *e, const scan_config *cfg, const expectation *x, metric_origin *o, buf *what)
{
    if (x->source >= 0 && (size_t)x->source < e->nsources) {
        const scan_source *s = &e->sources[x->source];
        buf_printf(what, "source %s (%s)", cfg->expect.sources[x->source].name, s->url);
        *o = (metric_origin){s->metrics, s->nmetrics, buf_cstr(what), s->scraped};
        return;
    }
    buf_puts(what, e->has_metrics ? "/metrics" : e->has_vars ? "/debug/vars" : "nowhere");
    *o = (metric_origin){e->metrics, e->nmetrics, buf_cstr(what), e->nmetrics ? 1 : 0};
}

/* A source that could not be read at all: the expectation is unchecked. */
static bool source_unread(const scan_evidence *e, const expectation *x, const char *file, const char *bound,
                          report *r)
{
    if (x->source < 0 || (size_t)x->source >= e->nsources || e->sources[x->source].scraped) return false;
    const scan_source *s = &e->sources[x->source];
    finding *f = report_finding(r, "expectation", SEV_WARN, "cannot check `%s`: %s could not be read", bound, s->url);
    finding_evidence(f, "%s:%u; %s", file, x->line, s->missing ? s->missing : "the scan took no sample");
    finding_advice(f, "Check that the endpoint answers from where reef runs (curl it), or fix its URL in %s.", file);
    return true;
}

/* Advice by the side of the bound that was crossed. */
static const char *bound_advice(const char *op)
{
    if (op[0] == '<')
        return "The figure rose past the bound you set: the values per sample show whether it climbs or jumped.  "
               "Find what drives it (clients that connect and never leave, a queue nobody drains, load), or raise "
               "the bound if the load is legitimate.";
    if (op[0] == '>')
        return "The service does not do what this metric says it should; if it is a counter still at zero after "
               "traffic, the code path that updates it is not reached.";
    return "The figure is not the value this expectation pins: a setting not applied, a component not started, "
           "or the expectation is out of date.";
}

static void check_metric(const scan_evidence *e, const scan_config *cfg, const expectation *x, report *r)
{
    const char *file = cfg->expect.file;
    char bound[512];
    expect_bound_text(x, bound, sizeof bound);
    if (source_unread(e, x, file, bound, r)) return;
    buf what = {0};
    metric_origin o;
    origin_of(e, cfg, x, &o, &what);
    /* Per scan sample: the first matching value, for the series. */
    double series[SCAN_MAX_SAMPLES];
    for (size_t i = 0; i < SCAN_MAX_SAMPLES; i++) series[i] = NAN;
    size_t matched = 0, bad = 0;
    const metric_sample *first_bad = NULL;
    for (size_t i = 0; i < o.n; i++) {
        const metric_sample *m = &o.m[i];
        if (strcmp(m->name, x->subject) != 0 || !expect_labels_match(m->labels, x->labels)) continue;
        matched++;
        if (m->sample >= 1 && m->sample <= SCAN_MAX_SAMPLES && isnan(series[m->sample - 1]))
            series[m->sample - 1] = m->value;
        if (!expect_compare(x->op, m->value, x->bound)) {
            bad++;
            if (!first_bad) first_bad = m;
        }
    }
    if (matched == 0) {
        const char *lb = x->labels[0] ? "{" : "", *rb = x->labels[0] ? "}" : "";
        finding *f = report_finding(r, "expectation", (severity)x->severity, "metric %s%s%s%s is missing", x->subject,
                                    lb, x->labels, rb);
        finding_evidence(f, "%s:%u; %zu metric samples read from %s", file, x->line,
                         x->source >= 0 ? e->sources[x->source].read : e->nmetrics, o.what);
        finding_advice(f, "A metric that is never registered means the code that registers it never ran: a "
                          "package not imported, an init that failed, a registry other than the one served.");
    } else if (bad) {
        finding *f = report_finding(r, "expectation", (severity)x->severity, "`%s` violated: %g at sample %u", bound,
                                    first_bad->value, first_bad->sample);
        finding_evidence(f, "%s:%u; read from %s", file, x->line, o.what);
        finding_evidence(f, "%zu of %zu values fail, over %u scrape%s", bad, matched, o.samples, o.samples == 1 ? "" : "s");
        if (o.samples > 1) {
            char s[256];
            finding_evidence(f, "values per sample: %s", scan_fmt_series(s, sizeof s, series, e->nsamples, NULL));
            finding_value_add(f, "values", series, e->nsamples);
        }
        finding_advice(f, "%s", bound_advice(x->op));
    }
    if (x->source >= 0 && e->sources[x->source].missing && matched) {
        const scan_source *s = &e->sources[x->source];
        finding *f = report_finding(r, "expectation", SEV_INFO, "`%s` checked on %u of %zu samples: %s stopped answering",
                                    bound, s->scraped, e->nsamples, s->url);
        finding_evidence(f, "%s:%u; at sample %u: %s", file, x->line, s->missing_at, s->missing);
        finding_advice(f, "A monitoring endpoint that fails under load is worth knowing about; reef does not retry it.");
    }
    buf_free(&what);
}

static size_t metric_lines_with_source(const expectations *x)
{
    size_t n = 0;
    for (size_t i = 0; i < x->n; i++) n += x->items[i].source >= 0;
    return n;
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
        else check_metric(e, cfg, &x->items[i], r);
    }
    if (x->nsources)
        report_check_note(r, "expectation", "%zu expectation%s from %s, %zu read from %zu second endpoint%s", x->n,
                          x->n == 1 ? "" : "s", x->file, metric_lines_with_source(x), x->nsources,
                          x->nsources == 1 ? "" : "s");
    else report_check_note(r, "expectation", "%zu expectation%s from %s", x->n, x->n == 1 ? "" : "s", x->file);
}
