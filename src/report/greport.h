/* greport.h - render classified goroutine groups as text, JSON or folded
 * stacks.  Reporters only read the model; the selection of groups (after
 * filters) is passed in so every output shows the same thing. */
#ifndef REEF_REPORT_GREPORT_H
#define REEF_REPORT_GREPORT_H

#include "../model/goroutines.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct greport {
    const gmodel *model;
    const ggroup **groups;  /* the groups to show, in order */
    size_t ngroups;
    const char *source;     /* input name or URL, as given */
    const char *endpoint;   /* the URL fetched, if any */
    bool color;
    bool brief;             /* text: one line per group, no stacks */
    bool hide_runtime;      /* text: drop runtime frames inside stacks */
    bool similar;           /* --similar was used */
} greport;

void greport_text(FILE *out, const greport *r);
void greport_json(FILE *out, const greport *r);
void greport_folded(FILE *out, const greport *r);

#endif
