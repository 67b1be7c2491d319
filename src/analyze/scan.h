/* scan.h - the detectors of `reef scan`: evidence in, a checklist out.
 *
 * Every rule has a stable id, a line saying what it looks for, and a
 * function that reads the evidence and adds findings (or says why it had to
 * skip).  The rules and their thresholds are documented in docs/scan.md. */
#ifndef REEF_ANALYZE_SCAN_H
#define REEF_ANALYZE_SCAN_H

#include "../model/evidence.h"
#include "../model/findings.h"
#include "../parse/expect.h"
#include "../util/buf.h"

#include <time.h>

typedef struct scan_config {
    expectations expect;  /* from --expect FILE */
    time_t now;           /* for the Go support window; 0 = time(NULL) */
} scan_config;

/* Classifies the goroutine groups of every model in e (gclassify), then
 * runs every rule. */
void scan_analyze(scan_evidence *e, const scan_config *cfg, report *r);

/* ---- shared by the rule files (scan_*.c) -------------------------------- */

typedef double (*sample_value)(const scan_sample *s);

/* The value of every sample, NAN where a sample lacks it; returns how many
 * samples have a value. */
size_t scan_series(const scan_evidence *e, sample_value get, double *out);
/* True when the series rises from first to last by at least min_abs and by
 * min_rel of the first value, never falls by more than a tenth of the rise
 * in between (noise, not a sawtooth), and the rise is sustained: at least
 * three values, two steps that rise, and a quarter of the rise in the second
 * half of the window (19 → 139 → 139 is one step, not growth).  NANs are
 * skipped. */
bool scan_grows(const double *v, size_t n, double min_abs, double min_rel);
/* First and last non-NAN values; false if fewer than two. */
bool scan_ends(const double *v, size_t n, double *first, double *last);
/* "12 → 40 → 95" (at most 8 values), with units ("B" for bytes). */
const char *scan_fmt_series(char *out, size_t outlen, const double *v, size_t n, const char *unit);
/* "+120 a minute" (or "+12 MiB a minute" with unit "B"): the rate between
 * the first and last values of v, by the samples' times; "" without two. */
const char *scan_fmt_rate(char *out, size_t outlen, const double *v, const scan_evidence *e, const char *unit);
/* "1.5 GiB", "512 KiB", ... */
const char *scan_fmt_bytes(char *out, size_t outlen, double bytes);

/* What a goroutine group waits for, told by the frame that says it
 * (scan_waits.c has the table). */
typedef enum scan_wait {
    SCAN_WAIT_APP = 0,       /* none of the below: the application's own wait */
    SCAN_WAIT_UPSTREAM,      /* an outbound HTTP request waiting for its response */
    SCAN_WAIT_UPSTREAM_CONN, /* the read or write loop of an outbound connection */
    SCAN_WAIT_NET_WRITE,     /* writing to a peer that does not read; flow control */
    SCAN_WAIT_INBOUND,       /* a server's goroutine per inbound connection or stream */
} scan_wait;

scan_wait scan_wait_of(const gmodel *m, const ggroup *g);
/* Goroutines of m whose wait is of that kind. */
uint64_t scan_wait_count(const gmodel *m, scan_wait kind);
/* Where a group waits, in words: "what: func (file:line), called from
 * app.func (file:line)" when a frame says what, else the innermost
 * application frame, else the function the goroutine was started in. */
void scan_group_site(buf *b, const gmodel *m, const ggroup *g);
/* How the goroutines whose innermost application frame is app_func wait
 * ("chan send", "select", "sync.Cond.Wait", "IO wait", "running", ...), in
 * the words of a debug=2 state, from the debug=2 dump or else the protobuf
 * goroutine profile's runtime frames: the same answer from either.  False
 * when neither has the site. */
bool scan_site_wait(const scan_evidence *e, const char *app_func, char *out, size_t outlen);

/* Rule functions, one per id, in checklist order. */
void rule_goroutine_leak(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_lock_pileup(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_http_pool(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_upstream_wait(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_init_blocked(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_heap_growth(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_heap_fragmentation(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_rss_gap(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_memory_limit(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_gomaxprocs_quota(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_cpu_throttling(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_fd_leak(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_so_growth(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_thread_leak(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_gc_pause(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_gc_cpu(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_build_risk(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_pprof_exposed(const scan_evidence *e, const scan_config *cfg, report *r);
void rule_expectation(const scan_evidence *e, const scan_config *cfg, report *r);

#endif
