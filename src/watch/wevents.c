/* wevents.c - the event log of reef watch: one JSON object per line.
 *
 * A line is built whole in memory (json.h writing into an open_memstream
 * buffer), then written with one write(2) under the log's mutex.  Files are
 * opened O_APPEND, so even two agents appending to one file (or logrotate's
 * copytruncate) never split a line: the kernel places each write at the
 * end in one piece.  Writing never stops the agent: a failed write is
 * counted and said once on stderr, and the next line is tried again. */
#include "wevents.h"
#include "wdetect.h"
#include "../util/json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct wevents {
    pthread_mutex_t mu;
    int fd;                   /* STDOUT_FILENO for "-" (never closed) */
    bool is_stdout;
    bool failing;             /* the last write failed (said once on stderr) */
    char path[WATCH_PATH_MAX];
};

const char *wchange_name(wchange c)
{
    switch (c) {
    case WCHANGE_OPENED: return "opened";
    case WCHANGE_ESCALATED: return "escalated";
    case WCHANGE_RESOLVED: return "resolved";
    }
    return "unknown";
}

const char *wtarget_event_name(wtarget_event e)
{
    switch (e) {
    case WEVENT_UP: return "up";
    case WEVENT_DOWN: return "down";
    case WEVENT_RESTART: return "restart";
    case WEVENT_BACKOFF: return "backoff";
    case WEVENT_RECOVERED: return "recovered";
    case WEVENT_CAPTURE_FAILED: return "capture-failed";
    case WEVENT_HOOK: return "hook";
    case WEVENT_AGENT: return "agent";
    }
    return "unknown";
}

/* ---- opening -------------------------------------------------------------- */

static int open_log(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) snprintf(err, errlen, "%s: cannot open the event log: %s", path, strerror(errno));
    return fd;
}

wevents *wevents_open(const char *path, char *err, size_t errlen)
{
    if (strlen(path) >= WATCH_PATH_MAX) {
        snprintf(err, errlen, "%.64s...: event log path too long", path);
        return NULL;
    }
    bool is_stdout = strcmp(path, "-") == 0;
    int fd = is_stdout ? STDOUT_FILENO : open_log(path, err, errlen);
    if (fd < 0) return NULL;
    wevents *l = calloc(1, sizeof *l);
    if (!l) {
        if (!is_stdout) close(fd);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    pthread_mutex_init(&l->mu, NULL);
    l->fd = fd;
    l->is_stdout = is_stdout;
    snprintf(l->path, sizeof l->path, "%s", path);
    return l;
}

void wevents_close(wevents *l)
{
    if (!l) return;
    if (!l->is_stdout) close(l->fd);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* The new file is opened before the old one is closed, so a reopen that
 * fails leaves the log writing where it did. */
int wevents_reopen(wevents *l, char *err, size_t errlen)
{
    if (l->is_stdout) return 0;
    int fd = open_log(l->path, err, errlen);
    if (fd < 0) return -1;
    pthread_mutex_lock(&l->mu);
    int old = l->fd;
    l->fd = fd;
    l->failing = false;
    pthread_mutex_unlock(&l->mu);
    close(old);
    return 0;
}

/* ---- writing ------------------------------------------------------------- */

/* One whole line.  A short write (a pipe reader gone, a full disk) is not
 * retried in pieces: the rest of a half line appended later would be read
 * as garbage, which is worse than a lost line. */
static void emit(wevents *l, const char *line, size_t len)
{
    pthread_mutex_lock(&l->mu);
    ssize_t n;
    do n = write(l->fd, line, len);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len && !l->failing) {
        fprintf(stderr, "reef watch: %s: event log write failed: %s\n", l->path,
                n < 0 ? strerror(errno) : "short write");
        l->failing = true;
    } else if (n == (ssize_t)len) {
        l->failing = false;
    }
    pthread_mutex_unlock(&l->mu);
}

/* "2026-11-29T14:03:05.123Z" */
static void rfc3339(double t, char *out, size_t n)
{
    if (!isfinite(t) || t < 0) t = 0;
    /* rounded to the millisecond first: 14:09:45.123 is 45.12299... */
    long long total_ms = llround(t * 1000.0);
    time_t sec = (time_t)(total_ms / 1000);
    int ms = (int)(total_ms % 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03dZ", day, ms);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void j_time(json_writer *w, const char *key, double t)
{
    char s[48];
    rfc3339(t, s, sizeof s);
    json_key(w, key);
    json_cstring(w, s);
}

static void j_str(json_writer *w, const char *key, const char *v)
{
    json_key(w, key);
    json_cstring(w, v);
}

/* A number that may be NAN (null in JSON). */
static void j_num(json_writer *w, const char *key, double v)
{
    json_key(w, key);
    json_double(w, v);
}

/* The finding's fields, inside an object the caller opened. */
static void finding_fields(json_writer *w, const wfinding *f)
{
    j_str(w, "change", wchange_name(f->change));
    j_str(w, "target", f->target);
    j_str(w, "rule", f->rule);
    j_str(w, "severity", severity_name(f->sev));
    if (f->change == WCHANGE_ESCALATED) j_str(w, "previous_severity", severity_name(f->prev_sev));
    j_time(w, "at", f->at);
    j_time(w, "since", f->since);
    json_key(w, "series");
    if (f->series < WS_COUNT) json_cstring(w, wseries_name(f->series));
    else json_null(w);
    j_num(w, "value", f->value);
    j_num(w, "baseline", f->baseline);
    j_num(w, "threshold", f->threshold);
    j_str(w, "title", f->title);
    json_key(w, "evidence");
    json_begin_array(w);
    for (size_t i = 0; i < f->nevidence && i < WFINDING_MAX_EVIDENCE; i++) json_cstring(w, f->evidence[i]);
    json_end_array(w);
    json_key(w, "pid");
    if (f->pid > 0) json_int(w, f->pid);
    else json_null(w);
    json_key(w, "url");
    if (f->url[0]) json_cstring(w, f->url);
    else json_null(w);
    json_key(w, "capture");
    if (f->capture[0]) json_cstring(w, f->capture);
    else json_null(w);
}

/* A memory stream for one line; NULL only when out of memory. */
typedef struct line {
    FILE *f;
    char *data;
    size_t len;
    json_writer w;
} line;

static bool line_begin(line *ln, const char *event, double t)
{
    ln->data = NULL;
    ln->len = 0;
    ln->f = open_memstream(&ln->data, &ln->len);
    if (!ln->f) return false;
    json_init(&ln->w, ln->f, false);
    json_begin_object(&ln->w);
    j_time(&ln->w, "time", t);
    j_str(&ln->w, "event", event);
    return true;
}

static void line_end(wevents *l, line *ln)
{
    json_end_object(&ln->w);
    json_finish(&ln->w);
    if (fclose(ln->f) == 0) emit(l, ln->data, ln->len);
    free(ln->data);
}

void wevents_finding(wevents *l, const wfinding *f)
{
    line ln;
    if (!l || !line_begin(&ln, "finding", wall_now())) return;
    finding_fields(&ln.w, f);
    line_end(l, &ln);
}

void wevents_target(wevents *l, wtarget_event ev, const char *target, int pid, const char *fmt, ...)
{
    line ln;
    if (!l || !line_begin(&ln, wtarget_event_name(ev), wall_now())) return;
    json_key(&ln.w, "target");
    if (target && *target) json_cstring(&ln.w, target);
    else json_null(&ln.w);   /* the agent's own events */
    json_key(&ln.w, "pid");
    if (pid > 0) json_int(&ln.w, pid);
    else json_null(&ln.w);
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    j_str(&ln.w, "detail", detail);
    line_end(l, &ln);
}

void wevents_hook(wevents *l, const wfinding *f, const wevent_hook *h)
{
    line ln;
    if (!l || !line_begin(&ln, wtarget_event_name(WEVENT_HOOK), wall_now())) return;
    j_str(&ln.w, "target", f->target);
    json_key(&ln.w, "pid");
    if (f->pid > 0) json_int(&ln.w, f->pid);
    else json_null(&ln.w);
    j_str(&ln.w, "rule", f->rule);
    j_str(&ln.w, "change", wchange_name(f->change));
    j_str(&ln.w, "severity", severity_name(f->sev));
    j_str(&ln.w, "program", h->program);
    j_str(&ln.w, "result", h->result);
    json_key(&ln.w, "exit_status");
    if (h->exit_status >= 0) json_int(&ln.w, h->exit_status);
    else json_null(&ln.w);
    json_key(&ln.w, "signal");
    if (h->signal > 0) json_int(&ln.w, h->signal);
    else json_null(&ln.w);
    json_key(&ln.w, "timed_out");
    json_bool(&ln.w, h->timed_out);
    j_num(&ln.w, "seconds", h->seconds);
    json_key(&ln.w, "output");
    json_string(&ln.w, h->output ? h->output : "", h->output ? h->output_len : 0);
    json_key(&ln.w, "output_bytes");
    json_uint(&ln.w, h->output_total);
    line_end(l, &ln);
}

void wfinding_json(const wfinding *f, buf *out)
{
    char *data = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&data, &len);
    if (!m) return;
    json_writer w;
    json_init(&w, m, false);
    json_begin_object(&w);
    finding_fields(&w, f);
    json_end_object(&w);
    if (fclose(m) == 0) buf_append(out, data, len);
    free(data);
}
