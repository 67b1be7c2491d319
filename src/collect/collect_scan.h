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

/* ---- the collector kept across samples ----------------------------------
 * `reef scan` opens one, takes its samples across the window and the
 * one-off captures, and closes it (scan_collect).  `reef watch` keeps one
 * per target for as long as the target lives, takes one sample per poll,
 * and asks again, after its back-off, the endpoints given up on. */
typedef struct scan_collector scan_collector;

/* What the service's answers said since the last call: for back-off. */
typedef struct scan_health {
    unsigned requests;        /* HTTP requests made */
    unsigned failed;          /* of which failed (any reason) */
    unsigned busy;            /* of which timed out or answered 429 or 5xx */
    char last_error[512];     /* the last failure, "" if none */
} scan_health;

enum {
    SCAN_SAMPLE_LAST = 1,     /* also the MemStats trailer when /metrics lacks the pause ring */
    SCAN_SAMPLE_HEAP = 2,     /* a heap profile at sample 0 (heap_first) and at the last (heap_last) */
};

/* Probes the target (pid, discovery, endpoints, build info) into e.
 * NULL with *status (3 unreachable, 2 bad options) and *message (malloc'd)
 * when it cannot be read at all.  o is copied; its strings must outlive
 * the collector. */
scan_collector *scan_collector_open(const scan_options *o, scan_evidence *e, int *status, char **message);
/* The time left for requests: from now on, `seconds`. */
void scan_collector_budget(scan_collector *c, double seconds);
double scan_collector_remaining(const scan_collector *c);
/* Takes one sample into e->samples[i] (i < SCAN_MAX_SAMPLES); t is in
 * seconds since the collector was opened.  flags: SCAN_SAMPLE_*. */
void scan_collector_sample(scan_collector *c, size_t i, unsigned flags);
/* The one-off captures after the samples: debug=2 under the cap, or the
 * protobuf goroutine profile; the goroutineleak profile. */
void scan_collector_captures(scan_collector *c);
/* Endpoints given up on are asked again from the next sample on. */
void scan_collector_retry(scan_collector *c);
/* True when an endpoint the service has was given up on. */
bool scan_collector_gave_up(const scan_collector *c);
scan_health scan_collector_health(scan_collector *c);
/* Finishes e (window, duration, Go version from go_info) and frees c. */
void scan_collector_close(scan_collector *c);

#endif
