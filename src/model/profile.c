/* profile.c - see profile.h. */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void profile_init(profile *p)
{
    memset(p, 0, sizeof *p);
}

void profile_free(profile *p)
{
    free(p->sample_types);
    free(p->samples);
    free(p->sample_locs);
    free(p->values);
    free(p->labels);
    free(p->locations);
    free(p->lines);
    free(p->functions);
    free(p->strbuf);
    free(p->str_off);
    free(p->comments);
    free(p->mappings);
    idmap_free(&p->location_ids);
    idmap_free(&p->function_ids);
    memset(p, 0, sizeof *p);
}

int profile_sample_index(const profile *p, const char *name)
{
    for (size_t i = 0; i < p->nsample_types; i++)
        if (strcmp(profile_str(p, p->sample_types[i].type), name) == 0) return (int)i;
    /* pprof also takes a number. */
    char *end;
    long n = strtol(name, &end, 10);
    if (*name && !*end && n >= 0 && (size_t)n < p->nsample_types) return (int)n;
    return -1;
}

int profile_default_index(const profile *p)
{
    if (p->nsample_types == 0) return -1;
    if (p->default_sample_type) {
        const char *want = profile_str(p, p->default_sample_type);
        for (size_t i = 0; i < p->nsample_types; i++)
            if (strcmp(profile_str(p, p->sample_types[i].type), want) == 0) return (int)i;
    }
    return (int)p->nsample_types - 1;
}

const char *profile_unnamed_frame(const profile *p, const plocation *loc, char *out, size_t n)
{
    for (size_t i = 0; loc->mapping_id && i < p->nmappings; i++) {
        if (p->mappings[i].id != loc->mapping_id || !p->mappings[i].filename) continue;
        const char *file = profile_str(p, p->mappings[i].filename);
        const char *base = strrchr(file, '/');
        snprintf(out, n, "[%s]", base ? base + 1 : file);
        return out;
    }
    return "<unknown>";
}
