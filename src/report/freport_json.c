/* freport_json.c - the scan as JSON; the schema is in docs/scan.md. */
#include "freport.h"
#include "../util/json.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

static void lower(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++) dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static void number_or_null(json_writer *w, double v)
{
    if (isfinite(v)) json_double(w, v);
    else json_null(w);
}

static void target(json_writer *w, const scan_evidence *e)
{
    json_key(w, "target");
    json_begin_object(w);
    json_key(w, "url");
    if (e->url) json_cstring(w, e->url);
    else json_null(w);
    json_key(w, "url_discovered");
    json_bool(w, e->url_discovered);
    json_key(w, "pid");
    if (e->pid) json_int(w, e->pid);
    else json_null(w);
    json_key(w, "go_version");
    if (e->go_version) json_cstring(w, e->go_version);
    else json_null(w);
    json_end_object(w);

    json_key(w, "scan");
    json_begin_object(w);
    json_key(w, "samples");
    json_uint(w, e->nsamples);
    json_key(w, "window_seconds");
    json_double(w, e->window);
    json_key(w, "seconds");
    json_double(w, e->seconds);
    json_key(w, "requests");
    json_uint(w, e->requests);
    json_key(w, "endpoints");
    json_begin_object(w);
    json_key(w, "pprof");
    json_bool(w, e->has_pprof);
    json_key(w, "metrics");
    json_bool(w, e->has_metrics);
    json_key(w, "vars");
    json_bool(w, e->has_vars);
    json_key(w, "goroutineleak");
    json_bool(w, e->has_leak_profile);
    json_end_object(w);
    json_key(w, "stats_source");
    if (e->stats_source) json_cstring(w, e->stats_source);
    else json_null(w);
    json_end_object(w);
}

static void finding_json(json_writer *w, const finding *f)
{
    json_begin_object(w);
    json_key(w, "rule");
    json_cstring(w, f->rule);
    json_key(w, "severity");
    json_cstring(w, severity_name(f->sev));
    json_key(w, "title");
    json_cstring(w, f->title);
    json_key(w, "evidence");
    json_begin_array(w);
    for (size_t i = 0; i < f->nevidence; i++) json_cstring(w, f->evidence[i]);
    json_end_array(w);
    json_key(w, "values");
    json_begin_object(w);
    for (size_t i = 0; i < f->nvalues; i++) {
        json_key(w, f->values[i].name);
        json_begin_array(w);
        for (size_t k = 0; k < f->values[i].n; k++) number_or_null(w, f->values[i].v[k]);
        json_end_array(w);
    }
    json_end_object(w);
    json_key(w, "advice");
    if (f->advice) json_cstring(w, f->advice);
    else json_null(w);
    json_end_object(w);
}

void freport_json(FILE *out, const freport *fr)
{
    const report *r = fr->report;
    json_writer w;
    json_init(&w, out, true);
    json_begin_object(&w);
    target(&w, fr->evidence);
    json_key(&w, "checks");
    json_begin_array(&w);
    for (size_t i = 0; i < r->nchecks; i++) {
        char status[8];
        lower(status, check_status_name(r->checks[i].status), sizeof status);
        json_begin_object(&w);
        json_key(&w, "rule");
        json_cstring(&w, r->checks[i].rule);
        json_key(&w, "status");
        json_cstring(&w, status);
        json_key(&w, "what");
        json_cstring(&w, r->checks[i].what);
        json_key(&w, "note");
        if (r->checks[i].note) json_cstring(&w, r->checks[i].note);
        else json_null(&w);
        json_end_object(&w);
    }
    json_end_array(&w);
    json_key(&w, "findings");
    json_begin_array(&w);
    for (size_t i = 0; i < r->nfindings; i++) finding_json(&w, &r->findings[i]);
    json_end_array(&w);
    json_key(&w, "notes");
    json_begin_array(&w);
    for (size_t i = 0; i < r->nnotes; i++) json_cstring(&w, r->notes[i]);
    json_end_array(&w);
    json_key(&w, "max_severity");
    int max = report_max_severity(r);
    if (max >= 0) json_cstring(&w, severity_name((severity)max));
    else json_null(&w);
    json_end_object(&w);
    json_finish(&w);
}
