/* wcapture.h - the evidence reef watch keeps when a finding opens or
 * escalates: DIR/TARGET/TIMESTAMP-RULE/ with
 *   summary.txt          what a person reads first
 *   finding.json         the finding (wfinding_json)
 *   goroutines.txt       goroutine?debug=1
 *   goroutines-full.txt  goroutine?debug=2, only at or below the full cap
 *   goroutines-analysis.txt / .json   reef's grouped analysis of the dump
 *   heap-1.pb.gz, heap-2.pb.gz, heap-diff.txt   two heap profiles some
 *                        seconds apart and their difference
 *   cpu.pb.gz, trace.out only when configured (they cost the target)
 *   proc.json            the /proc and cgroup snapshot
 *   metrics.txt          the last /metrics or /debug/vars body
 *   series.json          the series around the event (wdetect_series_json)
 *   MANIFEST             every file with its size, written last
 *
 * Written atomically: into DIR/TARGET/.tmp-TIMESTAMP-RULE/, every file
 * fsync'd, then renamed and the parent directory fsync'd.  A crash, a
 * kill -9 or a full disk leaves only a .tmp- directory, which the next
 * wcapture_open removes; a directory without its leading dot is complete.
 * The total size is capped (oldest captures removed first), and captures
 * are rate-limited per target and for all targets.
 *
 * Thread-safe: the store's accounting is under a lock; the requests to the
 * target are made outside it. */
#ifndef REEF_WATCH_WCAPTURE_H
#define REEF_WATCH_WCAPTURE_H

#include "watch.h"
#include "wconfig.h"
#include "../collect/collect.h"
#include "../model/evidence.h"

typedef struct wcapture_store wcapture_store;

/* Creates conf->dir if needed and removes what crashed captures left
 * (.tmp- directories).  NULL with err when the directory cannot be used. */
wcapture_store *wcapture_open(const wcapture_conf *conf, char *err, size_t errlen);
void wcapture_close(wcapture_store *s);

typedef struct wcapture_request {
    const wfinding *finding;
    const char *url;          /* base URL or NULL */
    int pid;                  /* 0 for none */
    const http_options *http;
    uint64_t full_cap;
    const scan_evidence *window; /* the latest samples: proc, cgroup, metrics */
    const char *series_json;  /* wdetect_series_json, or NULL */
    double now;               /* wall seconds */
} wcapture_request;

enum {
    WCAPTURE_WRITTEN = 0,
    WCAPTURE_RATE_LIMITED,    /* too soon after the last one: nothing written */
    WCAPTURE_FAILED,          /* could not be written (why says): nothing left that looks complete */
};

/* Takes the capture for req (requests to the target, then the files).
 * Returns a WCAPTURE_ code; path gets the final directory when written,
 * why the reason otherwise. */
int wcapture_take(wcapture_store *s, const wcapture_request *req, char *path, size_t pathlen, char *why,
                  size_t whylen);

/* Bytes the complete captures take now. */
uint64_t wcapture_bytes(wcapture_store *s);

#endif
