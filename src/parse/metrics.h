/* metrics.h - parsers for the runtime figures a Go service exposes:
 *
 *   - the Prometheus text exposition format (/metrics, client_golang or any
 *     other exporter), streamed: one sample at a time through a callback;
 *   - expvar's /debug/vars JSON (its "memstats" object and numeric vars);
 *   - the "# runtime.MemStats" trailer of /debug/pprof/heap?debug=1, which
 *     every service with net/http/pprof has.
 *
 * All three fill a gostats: the subset of runtime.MemStats and friends that
 * reef's analyzers use.  A figure the source does not carry stays NAN. */
#ifndef REEF_PARSE_METRICS_H
#define REEF_PARSE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gostats {
    double goroutines;       /* go_goroutines */
    double threads;          /* go_threads */
    double heap_alloc;       /* HeapAlloc: bytes of live + not yet swept objects */
    double heap_inuse;       /* HeapInuse */
    double heap_idle;        /* HeapIdle */
    double heap_sys;         /* HeapSys */
    double heap_released;    /* HeapReleased */
    double heap_objects;     /* HeapObjects */
    double total_alloc;      /* TotalAlloc: bytes ever allocated (go_memstats_alloc_bytes_total) */
    double stack_inuse;      /* StackInuse */
    double sys;              /* Sys: everything the runtime got from the OS */
    double next_gc;          /* NextGC */
    double num_gc;           /* NumGC */
    double pause_total_ns;   /* PauseTotalNs */
    double pause_max_ns;     /* longest of the recent pauses the source lists */
    double gc_cpu_fraction;  /* GCCPUFraction, since the process started */
    double gomaxprocs;       /* go_sched_gomaxprocs_threads */
    double gogc;             /* go_gc_gogc_percent */
    double gomemlimit;       /* go_gc_gomemlimit_bytes */
    double open_fds;         /* process_open_fds */
    double max_fds;          /* process_max_fds */
    double max_rss;          /* MaxRSS of the heap?debug=1 trailer: peak resident bytes */
    double resident_bytes;   /* process_resident_memory_bytes */
    /* runtime.MemStats.PauseNs as the source gives it (expvar, heap trailer):
     * the pause of GC number n (1-based) is pause_ring[(n + 255) % 256]. */
    bool has_pause_ring;
    double pause_ring[256];
} gostats;

void gostats_init(gostats *s); /* every double NAN, no pause ring */

/* --- Prometheus text format --------------------------------------------- */

/* One sample: name, the label set as written between the braces (without
 * them; "" when none), and the value (NAN, +Inf and -Inf included). */
typedef void (*prom_sample_fn)(void *ctx, const char *name, size_t name_len, const char *labels,
                               size_t labels_len, double value);

typedef struct promparser promparser;

/* input_name is used in messages ("URL:LINE: problem"). */
promparser *promparser_new(const char *input_name, prom_sample_fn fn, void *ctx);
void promparser_free(promparser *p);
/* Feed chunks of any size; 0, or -1 after an error (promparser_error). */
int promparser_feed(promparser *p, const char *data, size_t len);
int promparser_finish(promparser *p);
const char *promparser_error(const promparser *p);

/* The value of label `name` in a label set as a prom_sample_fn receives it,
 * unescaped into out (NUL-terminated, cut to outsize - 1 bytes).  Returns
 * the value's full length, or -1 when the label is absent or the set is
 * malformed. */
int prom_label(const char *labels, size_t labels_len, const char *name, char *out, size_t outsize);

/* Folds one Prometheus sample into s when it is one of the go_* and
 * process_* metrics above (go_gc_duration_seconds{quantile="1"} sets
 * pause_max_ns).  Usable directly as the body of a prom_sample_fn. */
void gostats_from_prom(gostats *s, const char *name, size_t name_len, const char *labels, size_t labels_len,
                       double value);

/* --- expvar -------------------------------------------------------------- */

/* Parses a whole /debug/vars document.  Fills s from "memstats" (pause_max_ns
 * from the most recent entries of PauseNs).  Every other top-level numeric
 * var is passed to fn (name as the key, labels ""), so user metrics
 * published through expvar can be checked too; so are the numeric members of
 * other top-level objects (expvar.Map), as "var.member".  fn may be NULL.
 * 0, or 2 with a message ("INPUT: byte N: problem"). */
int expvar_parse(const char *data, size_t len, const char *input_name, gostats *s, prom_sample_fn fn, void *ctx,
                 char *err, size_t errlen);

/* --- heap?debug=1 trailer ------------------------------------------------ */

typedef struct memstats_parser memstats_parser;

/* Streams a /debug/pprof/heap?debug=1 body; only lines "# Name = value"
 * after "# runtime.MemStats" are read, the rest is skipped without being
 * kept.  PauseNs ("[a b c ...]", a 256-entry ring) gives pause_max_ns:
 * the longest entry.  The trailer has no PauseTotalNs; while NumGC <= 256
 * the ring still holds every pause, and pause_total_ns is their sum. */
memstats_parser *memstats_parser_new(const char *input_name, gostats *s);
void memstats_parser_free(memstats_parser *p);
int memstats_parser_feed(memstats_parser *p, const char *data, size_t len);
/* Returns -1 with an error when no MemStats trailer was seen. */
int memstats_parser_finish(memstats_parser *p);
const char *memstats_parser_error(const memstats_parser *p);

#endif
