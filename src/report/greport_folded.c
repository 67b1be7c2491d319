/* greport_folded.c - folded stacks for flame graphs. */
#include "greport.h"

/* One line per group: frames from the outermost in, ';'-separated, then
 * the count: the input of flamegraph.pl, speedscope and inferno. */
void greport_folded(FILE *out, const greport *r)
{
    const gmodel *m = r->model;
    for (size_t i = 0; i < r->ngroups; i++) {
        const ggroup *g = r->groups[i];
        if (g->nframes == 0) continue;
        for (uint32_t k = g->nframes; k-- > 0;) {
            const char *f = gmodel_str(m, g->frames[k].func);
            /* ';' separates frames and ' ' ends them in this format. */
            for (const char *p = f; *p; p++) fputc(*p == ';' || *p == ' ' ? '_' : *p, out);
            if (k) fputc(';', out);
        }
        fprintf(out, " %llu\n", (unsigned long long)g->count);
    }
}
