/* freport.h - render a scan's checklist and findings as text or JSON. */
#ifndef REEF_REPORT_FREPORT_H
#define REEF_REPORT_FREPORT_H

#include "../model/evidence.h"
#include "../model/findings.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct freport {
    const report *report;
    const scan_evidence *evidence;
    bool color;
    int fail_on;        /* severity that makes the exit status 1, for the summary */
} freport;

void freport_text(FILE *out, const freport *r);
void freport_json(FILE *out, const freport *r);

#endif
