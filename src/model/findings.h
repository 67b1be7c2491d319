/* findings.h - what an analysis concluded: a checklist of rules, each with
 * a status, and the findings behind the statuses.
 *
 * Analyzers add findings and set statuses; reporters only read.  Every
 * string is owned by the report (freed by report_free). */
#ifndef REEF_MODEL_FINDINGS_H
#define REEF_MODEL_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum severity { SEV_INFO = 0, SEV_WARN, SEV_CRIT } severity;

const char *severity_name(severity s);          /* "info", "warn", "crit" */
/* Parses "info", "warn", "crit" (and "never" as SEV_CRIT + 1); -1 if bad. */
int severity_parse(const char *s);

typedef enum check_status {
    CHECK_PASS = 0, /* looked, found nothing at warn or above */
    CHECK_INFO,     /* only informational findings */
    CHECK_WARN,
    CHECK_CRIT,
    CHECK_SKIP,     /* could not look: the reason says why */
} check_status;

const char *check_status_name(check_status s);  /* "PASS", "INFO", ... */

/* A named series of numbers, e.g. the goroutine count of each sample. */
typedef struct finding_value {
    char *name;
    double *v;
    size_t n;
} finding_value;

typedef struct finding {
    const char *rule;     /* static rule id, e.g. "goroutine-leak" */
    severity sev;
    char *title;          /* one line */
    char **evidence;      /* lines a person reads */
    size_t nevidence;
    finding_value *values;/* the numbers behind the evidence, for JSON */
    size_t nvalues;
    char *advice;
    size_t seq;           /* order of creation, for a stable sort */
} finding;

typedef struct check {
    const char *rule;
    const char *what;     /* static: what the rule looks for */
    check_status status;
    char *note;           /* skip reason, or what was looked at */
} check;

typedef struct report {
    check *checks;
    size_t nchecks;
    finding *findings;
    size_t nfindings, cap;
    char **notes;         /* facts about the scan itself (missing endpoints, ...) */
    size_t nnotes;
} report;

void report_init(report *r);
void report_free(report *r);

/* Adds the rule to the checklist (status PASS until a finding or a skip). */
check *report_check(report *r, const char *rule, const char *what);
check *report_find_check(report *r, const char *rule);
void report_skip(report *r, const char *rule, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets a check's note (what was looked at) without changing its status. */
void report_check_note(report *r, const char *rule, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void report_note(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A new finding for rule (which must have a check); raises the check's
 * status to the severity.  Fill it with the finding_* calls. */
finding *report_finding(report *r, const char *rule, severity sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void finding_evidence(finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void finding_value_add(finding *f, const char *name, const double *v, size_t n);
void finding_advice(finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Highest severity among the findings, or -1 when there are none. */
int report_max_severity(const report *r);
/* Sorts findings by severity (crit first), keeping rule order otherwise. */
void report_sort(report *r);

#endif
