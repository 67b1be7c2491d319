/* evidence.c - ownership of a scan's evidence; see evidence.h. */
#include "evidence.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void evidence_init(scan_evidence *e) { memset(e, 0, sizeof *e); }

static void free_gmodel(gmodel *m)
{
    if (!m) return;
    gmodel_free(m);
    free(m);
}

static void free_profile(profile *p)
{
    if (!p) return;
    profile_free(p);
    free(p);
}

static void free_metrics(metric_sample *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].name);
        free(m[i].labels);
    }
    free(m);
}

void evidence_free(scan_evidence *e)
{
    free(e->url);
    free(e->pprof_missing);
    free(e->mismatch);
    for (size_t i = 0; i < e->nsamples; i++) free_gmodel(e->samples[i].goroutines);
    free_gmodel(e->full);
    free(e->full_missing);
    free_gmodel(e->leaks);
    free_profile(e->waits);
    free_profile(e->heap_first);
    free_profile(e->heap_last);
    free(e->heap_missing);
    if (e->build) {
        buildinfo_free(e->build);
        free(e->build);
    }
    free(e->build_missing);
    free(e->go_version);
    free_metrics(e->metrics, e->nmetrics);
    for (size_t i = 0; i < e->nsources; i++) {
        free(e->sources[i].url);
        free_metrics(e->sources[i].metrics, e->sources[i].nmetrics);
        free(e->sources[i].missing);
    }
    /* Samples past nsamples are always zero: clearing only the ones used
     * keeps the pages of the others untouched (reef watch keeps a few
     * samples per target in a struct made for sixty). */
    memset(e->samples, 0, e->nsamples * sizeof e->samples[0]);
    memset(e, 0, offsetof(scan_evidence, samples));
    memset(&e->nsamples, 0, sizeof *e - offsetof(scan_evidence, nsamples));
}

const scan_sample *evidence_first(const scan_evidence *e) { return e->nsamples ? &e->samples[0] : NULL; }
const scan_sample *evidence_last(const scan_evidence *e) { return e->nsamples ? &e->samples[e->nsamples - 1] : NULL; }

void evidence_drop_first(scan_evidence *e)
{
    if (!e->nsamples) return;
    free_gmodel(e->samples[0].goroutines);
    memmove(&e->samples[0], &e->samples[1], (e->nsamples - 1) * sizeof e->samples[0]);
    e->nsamples--;
    memset(&e->samples[e->nsamples], 0, sizeof e->samples[0]);
}
