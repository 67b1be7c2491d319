/* evidence.c - ownership of a scan's evidence; see evidence.h. */
#include "evidence.h"

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

void evidence_free(scan_evidence *e)
{
    free(e->url);
    free(e->pprof_missing);
    free(e->mismatch);
    for (size_t i = 0; i < e->nsamples; i++) free_gmodel(e->samples[i].goroutines);
    free_gmodel(e->full);
    free(e->full_missing);
    free_gmodel(e->leaks);
    free_profile(e->heap_first);
    free_profile(e->heap_last);
    free(e->heap_missing);
    if (e->build) {
        buildinfo_free(e->build);
        free(e->build);
    }
    free(e->build_missing);
    free(e->go_version);
    for (size_t i = 0; i < e->nmetrics; i++) {
        free(e->metrics[i].name);
        free(e->metrics[i].labels);
    }
    free(e->metrics);
    memset(e, 0, sizeof *e);
}

const scan_sample *evidence_first(const scan_evidence *e) { return e->nsamples ? &e->samples[0] : NULL; }
const scan_sample *evidence_last(const scan_evidence *e) { return e->nsamples ? &e->samples[e->nsamples - 1] : NULL; }
