/* wevents.h - reef watch's event log: JSON lines, one per finding that
 * opened, escalated or resolved, and per target event (up, down, restart,
 * back-off, capture failed, hook run).  docs/watch.md gives the fields.
 *
 * Thread-safe: every target's thread writes to the one log; each event is
 * one write(2) of one whole line, so lines never interleave, and a reader
 * tailing the file never sees half a line. */
#ifndef REEF_WATCH_WEVENTS_H
#define REEF_WATCH_WEVENTS_H

#include "watch.h"
#include "../util/buf.h"

typedef struct wevents wevents;

/* path "-" is standard output; a file is opened for appending (created
 * 0640).  NULL with err when it cannot be opened. */
wevents *wevents_open(const char *path, char *err, size_t errlen);
void wevents_close(wevents *l);
/* Reopens the file (SIGHUP, after log rotation). */
int wevents_reopen(wevents *l, char *err, size_t errlen);

/* {"time":"2026-11-29T14:03:05.123Z","event":"finding","change":"opened",
 *  "target":...,"rule":...,"severity":...,...} */
void wevents_finding(wevents *l, const wfinding *f);
/* {"time":...,"event":"down","target":...,"pid":...,"detail":...} */
void wevents_target(wevents *l, wtarget_event ev, const char *target, int pid, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* What became of one hook (whooks.c): the WEVENT_HOOK line, with the
 * finding's target, pid, rule, change and severity.
 * {"time":...,"event":"hook","target":...,"rule":...,"program":"/bin/page",
 *  "result":"exited 0","exit_status":0,"signal":null,"timed_out":false,
 *  "seconds":0.012,"output":"...","output_bytes":120} */
typedef struct wevent_hook {
    const char *program;      /* argv[0] */
    const char *result;       /* "exited 0", "killed by signal 9 at its 10 s timeout",
                                 "dropped: queue full", "could not start: ..." */
    int exit_status;          /* -1 when it did not exit by itself */
    int signal;               /* that killed it, 0 if none */
    bool timed_out;
    double seconds;           /* how long it ran (NAN when it did not run) */
    const char *output;       /* stdout and stderr together, the first bytes kept */
    size_t output_len;
    uint64_t output_total;    /* bytes it wrote in all */
} wevent_hook;

void wevents_hook(wevents *l, const wfinding *f, const wevent_hook *h);

/* The finding as one JSON object (no newline): for the log, a hook's
 * standard input and a capture's finding.json. */
void wfinding_json(const wfinding *f, buf *out);

#endif
