/* evidence.h - everything a scan collected about one service: samples
 * taken across the window, and the one-off captures around them.
 *
 * Collectors (collect_scan.c) fill it; the scan analyzers only read it.
 * A piece of evidence that could not be had is absent (a false has_ flag
 * or a NULL pointer) with a reason in the matching *_missing string, so an
 * analyzer can say why it skipped. */
#ifndef REEF_MODEL_EVIDENCE_H
#define REEF_MODEL_EVIDENCE_H

#include "goroutines.h"
#include "profile.h"
#include "../collect/collect_cgroup.h"
#include "../collect/collect_proc.h"
#include "../parse/buildinfo.h"
#include "../parse/metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SCAN_MAX_SAMPLES 60

typedef struct scan_sample {
    double t;                 /* seconds since the first sample */
    gmodel *goroutines;       /* debug=1 profile, or NULL */
    bool has_stats;
    gostats stats;            /* runtime figures (see stats_source) */
    bool has_proc;
    proc_snapshot proc;
    bool has_cgroup;
    cgroup_limits cgroup;
} scan_sample;

/* One sample of the service's own /metrics (or expvar), for expectations. */
typedef struct metric_sample {
    char *name;
    char *labels;             /* as written between the braces, "" if none */
    double value;
    unsigned sample;          /* the scan sample it was read at, from 1 */
} metric_sample;

/* A second endpoint the expectations read ("source NAME URL" in the
 * --expect file): a broker's monitoring port, another /metrics.  Read at
 * every sample with the same capped, never-retried requests as the rest. */
#define SCAN_MAX_SOURCES 8
typedef struct scan_source {
    char *url;
    metric_sample *metrics;   /* the numbers expectations ask for, every sample's */
    size_t nmetrics;
    size_t read;              /* numbers in the last body read, kept or not */
    unsigned scraped;         /* samples at which it was read */
    char *missing;            /* why it was given up on, or NULL */
    unsigned missing_at;      /* the sample that failed, from 1 */
} scan_source;

typedef struct scan_evidence {
    /* target */
    char *url;                /* base URL, NULL when there is none */
    bool url_discovered;      /* found through the pid's listening sockets */
    char *mismatch;           /* why the URL seems to serve another process than the pid, or NULL */
    int pid;                  /* 0 when there is none */
    time_t started;           /* wall clock at the first sample */
    double window;            /* seconds between first and last sample */

    /* what the service exposes */
    bool has_pprof, has_metrics, has_vars, has_leak_profile;
    const char *stats_source; /* "metrics", "expvar", "heap?debug=1", or NULL */
    char *pprof_missing;      /* why there is no pprof data */

    scan_sample samples[SCAN_MAX_SAMPLES];
    size_t nsamples;

    gmodel *full;             /* one debug=2 dump, or NULL */
    char *full_missing;
    profile *waits;           /* goroutine (protobuf) when there is no debug=2 dump: its
                               * runtime frames say what each stack waits on */
    gmodel *leaks;            /* goroutineleak?debug=1, or NULL */
    profile *heap_first, *heap_last; /* heap profiles at the first and last sample */
    char *heap_missing;

    buildinfo *build;         /* of /proc/PID/exe, or NULL */
    char *build_missing;
    char *go_version;         /* from the build info or go_info{version}, or NULL */

    metric_sample *metrics;   /* the last scrape of /metrics or /debug/vars */
    size_t nmetrics;
    scan_source sources[SCAN_MAX_SOURCES];
    size_t nsources;

    unsigned requests;        /* HTTP requests made to the service */
    double seconds;           /* the scan's own duration */
} scan_evidence;

void evidence_init(scan_evidence *e);
void evidence_free(scan_evidence *e);

/* Frees the first sample and moves the others down: reef watch keeps the
 * last few samples of a target as a sliding window. */
void evidence_drop_first(scan_evidence *e);

const scan_sample *evidence_first(const scan_evidence *e);
const scan_sample *evidence_last(const scan_evidence *e);

#endif
