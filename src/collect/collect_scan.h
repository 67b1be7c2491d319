/* collect_scan.h - gather the evidence of a scan from a live service.
 *
 * Takes several samples across a window from a base URL (pprof, /metrics,
 * /debug/vars) and/or a pid (/proc, cgroups, build info), and the one-off
 * captures around them.  Safe for the target by construction:
 *   - goroutines are read from debug=1 profiles; at most one debug=2 dump,
 *     and only when the service has at most full_cap goroutines;
 *   - two heap profiles (first and last sample), no CPU profile;
 *   - every request has a connect and a total timeout and a size cap, and
 *     the scan as a whole a time budget;
 *   - an endpoint that fails, times out or answers 429/5xx is not asked
 *     again during the scan (no retry loops against a busy service). */
#ifndef REEF_COLLECT_SCAN_H
#define REEF_COLLECT_SCAN_H

#include "collect.h"
#include "../model/evidence.h"

#include <stdio.h>

/* A second endpoint to read at every sample (see scan_source): only the
 * numbers named in names are kept. */
typedef struct scan_source_spec {
    const char *url;
    const char *const *names;
    size_t nnames;
} scan_source_spec;

typedef struct scan_options {
    const char *url;          /* base URL, or NULL */
    int pid;                  /* 0 for none */
    double window;            /* seconds; default 10 */
    unsigned samples;         /* default 3 */
    uint64_t full_cap;        /* debug=2 only at or below this many goroutines; 0 = never */
    const http_options *http;
    double budget;            /* seconds for the whole scan; default window + 60 */
    const char *proc_root;    /* NULL: /proc */
    const char *sysfs_root;   /* NULL: the machine's cgroup mounts */
    FILE *progress;           /* a line per step, or NULL */
    const scan_source_spec *sources; /* at most SCAN_MAX_SOURCES */
    size_t nsources;
} scan_options;

#define SCAN_DEFAULT_WINDOW 10.0
#define SCAN_DEFAULT_SAMPLES 3
#define SCAN_DEFAULT_FULL_CAP 5000

/* Returns 0 with e filled (what could not be had is noted in e), or an exit
 * status with *message (malloc'd): 3 when neither the URL nor the pid can
 * be reached, 2 for bad options. */
int scan_collect(const scan_options *o, scan_evidence *e, char **message);

#endif
