/* wcapture.c - the capture directories of reef watch (see wcapture.h for
 * the layout).
 *
 * A capture is written into DIR/TARGET/.tmp-NAME/ as its files arrive:
 * bodies are streamed from the target to the file and, for the goroutine
 * dumps and heap profiles, to reef's parsers at the same time, so the agent
 * never holds a 64 MiB profile in memory.  Every file is fsync'd; MANIFEST
 * is written last, then the directory is fsync'd, renamed to DIR/TARGET/NAME
 * and DIR/TARGET fsync'd.  Whatever stops this half-way (a write error, a
 * crash, kill -9) leaves only the .tmp- directory, removed at once on an
 * error and by the next wcapture_open otherwise.
 *
 * A request that fails does not fail the capture: FILE.error holds why,
 * and the rest is still taken.  Only a failure to write fails it.
 *
 * The store keeps the list of complete captures with their sizes (read
 * from disk at open) to hold the total under captures.max_bytes, oldest
 * removed first, and the time of the last capture per target and overall
 * for the rate limits.  Both are under one lock, taken only for that
 * bookkeeping: the requests run outside it. */
#include "wcapture.h"
#include "wevents.h"
#include "../analyze/gclassify.h"
#include "../analyze/ptop.h"
#include "../parse/gdump.h"
#include "../parse/pprof.h"
#include "../report/greport.h"
#include "../report/preport.h"
#include "../report/proc_json.h"
#include "../util/buf.h"
#include "../util/json.h"
#include "../util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CAPTURE_BODY_CAP ((size_t)64 << 20)     /* per request, whatever the agent's cap */
#define CAPTURE_INFLATE_CAP ((size_t)512 << 20) /* a heap profile's decoded size */
#define SUMMARY_GROUPS 5
#define SUMMARY_DIFF_LINES 14
#define TMP_PREFIX ".tmp-"

typedef struct entry {
    char path[WATCH_PATH_MAX];
    char stamp[32];           /* the name's timestamp: they sort by time */
    uint64_t bytes;
} entry;

typedef struct last_time {
    char target[WATCH_NAME_MAX];
    double at;
} last_time;

struct wcapture_store {
    wcapture_conf conf;
    pthread_mutex_t mu;
    entry *caps;              /* complete captures, oldest first */
    size_t ncaps, capcap;
    uint64_t bytes;
    last_time *last;
    size_t nlast, lastcap;
    double last_any;          /* -INFINITY before the first */
};

/* snprintf, for paths and messages that may be cut: a cut message is
 * still worth having, and a path cut short is refused where it is used. */
static void say(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

/* ---- the disk ---------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Removes a directory and what it holds; captures are flat, but a person
 * may have put anything inside. */
static void rm_tree(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Bytes of the regular files in a capture directory. */
static uint64_t dir_bytes(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    uint64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
    }
    closedir(d);
    return total;
}

/* A name safe as one path element: [A-Za-z0-9._-], no leading dot (a
 * leading dot marks what is incomplete). */
static void safe_name(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = in; *p && k + 1 < n; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || (c == '.' && k > 0);
        out[k++] = ok ? c : '_';
    }
    if (k == 0 && n > 1) out[k++] = '_';
    out[k] = '\0';
}

/* "20261129T140305.123Z" */
static void stamp_of(double t, char *out, size_t n)
{
    long long ms = llround((isfinite(t) && t > 0 ? t : 0) * 1000.0);
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y%m%dT%H%M%S", &tm);
    snprintf(out, n, "%s.%03dZ", day, (int)(ms % 1000));
}

/* ---- the store's bookkeeping (under mu) -------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->stamp, y->stamp);
    return c ? c : strcmp(x->path, y->path);
}

static void add_entry(wcapture_store *s, const char *path, const char *name, uint64_t bytes)
{
    s->caps = xgrow(s->caps, &s->capcap, s->ncaps + 1, sizeof *s->caps);
    entry *e = &s->caps[s->ncaps++];
    snprintf(e->path, sizeof e->path, "%s", path);
    size_t n = strcspn(name, "-");
    snprintf(e->stamp, sizeof e->stamp, "%.*s", (int)(n < sizeof e->stamp ? n : sizeof e->stamp - 1), name);
    e->bytes = bytes;
    s->bytes += bytes;
}

static void remove_entry(wcapture_store *s, size_t i)
{
    rm_tree(s->caps[i].path);
    s->bytes -= s->caps[i].bytes;
    memmove(s->caps + i, s->caps + i + 1, (s->ncaps - i - 1) * sizeof *s->caps);
    s->ncaps--;
}

/* Removes the oldest complete captures until the total is at most the cap.
 * keep (the capture just written, or NULL) goes last, only if it alone
 * exceeds the cap: a capture of another thread may be named older (its
 * finding came first) and finish later.  Returns whether keep is still
 * there. */
static bool prune(wcapture_store *s, const char *keep)
{
    if (s->ncaps == 0) return true;
    qsort(s->caps, s->ncaps, sizeof *s->caps, entry_cmp);
    size_t i = 0;
    while (i < s->ncaps && s->bytes > s->conf.max_bytes) {
        if (keep && strcmp(s->caps[i].path, keep) == 0) i++;
        else remove_entry(s, i);
    }
    if (s->bytes <= s->conf.max_bytes) return true;
    for (i = 0; i < s->ncaps; i++)
        if (keep && strcmp(s->caps[i].path, keep) == 0) remove_entry(s, i);
    return false;
}

static last_time *last_of(wcapture_store *s, const char *target)
{
    for (size_t i = 0; i < s->nlast; i++)
        if (strcmp(s->last[i].target, target) == 0) return &s->last[i];
    s->last = xgrow(s->last, &s->lastcap, s->nlast + 1, sizeof *s->last);
    last_time *l = &s->last[s->nlast++];
    snprintf(l->target, sizeof l->target, "%s", target);
    l->at = -INFINITY;
    return l;
}

/* Within `every` of the last capture, either side: the threads' clocks
 * are read at their findings, so the last capture may be a little "later"
 * than now; a clock stepped back further than that does not stop captures. */
static bool too_soon(double now, double last, double every)
{
    return every > 0 && isfinite(last) && fabs(now - last) < every;
}

/* Takes a slot for target at now, or says why not.  A failed capture keeps
 * its slot: a full disk is not tried again at every poll. */
static bool reserve(wcapture_store *s, const char *target, double now, char *why, size_t whylen)
{
    if (!s->conf.enabled) {
        snprintf(why, whylen, "captures are off (captures.enabled is false)");
        return false;
    }
    last_time *l = last_of(s, target);
    if (too_soon(now, l->at, s->conf.target_every)) {
        snprintf(why, whylen, "%s was captured %.0f s ago; captures.target_every is %.0f s", target,
                 fabs(now - l->at), s->conf.target_every);
        return false;
    }
    if (too_soon(now, s->last_any, s->conf.global_every)) {
        snprintf(why, whylen, "a capture was taken %.0f s ago; captures.global_every is %.0f s",
                 fabs(now - s->last_any), s->conf.global_every);
        return false;
    }
    l->at = s->last_any = now;
    return true;
}

/* Reads one target's directory: .tmp- directories are what a crash left,
 * removed; the other directories are complete captures. */
static void scan_target_dir(wcapture_store *s, const char *tdir)
{
    DIR *d = opendir(tdir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        char path[WATCH_PATH_MAX * 2];
        say(path, sizeof path, "%s/%s", tdir, de->d_name);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) rm_tree(path);
        else if (de->d_name[0] != '.' && strlen(path) < WATCH_PATH_MAX) add_entry(s, path, de->d_name, dir_bytes(path));
    }
    closedir(d);
}

static void scan_store(wcapture_store *s)
{
    DIR *d = opendir(s->conf.dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char path[WATCH_PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", s->conf.dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) scan_target_dir(s, path);
    }
    closedir(d);
}

static int mkdir_p(const char *path)
{
    char tmp[WATCH_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
    struct stat st;
    if (stat(tmp, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

wcapture_store *wcapture_open(const wcapture_conf *conf, char *err, size_t errlen)
{
    if (!conf->dir[0] || strlen(conf->dir) > WATCH_PATH_MAX - 200) {
        snprintf(err, errlen, "captures.dir: %s", conf->dir[0] ? "path too long" : "empty");
        return NULL;
    }
    if (mkdir_p(conf->dir) != 0 || access(conf->dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "%s: cannot use as the captures directory: %s", conf->dir, strerror(errno));
        return NULL;
    }
    wcapture_store *s = xcalloc(1, sizeof *s);
    s->conf = *conf;
    s->last_any = -INFINITY;
    pthread_mutex_init(&s->mu, NULL);
    scan_store(s);
    return s;
}

void wcapture_close(wcapture_store *s)
{
    if (!s) return;
    pthread_mutex_destroy(&s->mu);
    free(s->caps);
    free(s->last);
    free(s);
}

uint64_t wcapture_bytes(wcapture_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t b = s->bytes;
    pthread_mutex_unlock(&s->mu);
    return b;
}

/* ---- one capture --------------------------------------------------------------- */

#define CAPTURE_MAX_FILES 24

typedef struct capture {
    const wcapture_store *s;
    const wcapture_request *req;
    char dir[WATCH_PATH_MAX]; /* the .tmp- directory */
    int dirfd;
    http_options http;        /* the request's, capped */
    char failed[512];         /* why it cannot be written; "" while fine */
    struct {
        char name[64];
        uint64_t size;
    } files[CAPTURE_MAX_FILES];
    size_t nfiles;
    uint64_t bytes;
    buf summary_groups;       /* the top goroutine groups, for summary.txt */
    buf summary_heap;         /* the first lines of the heap diff */
    char source_goroutines[64], source_metrics[32];
} capture;

static void set_failed(capture *c, const char *name, int err)
{
    if (c->failed[0]) return;
    say(c->failed, sizeof c->failed, "%s/%s: %s", c->dir, name, strerror(err));
}

static void note_file(capture *c, const char *name, uint64_t size)
{
    if (c->nfiles < CAPTURE_MAX_FILES) {
        snprintf(c->files[c->nfiles].name, sizeof c->files[c->nfiles].name, "%s", name);
        c->files[c->nfiles++].size = size;
    }
    c->bytes += size;
}

static int create(capture *c, const char *name)
{
    int fd = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) set_failed(c, name, errno);
    return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* fsync and account for a file written through fd. */
static void sync_file(capture *c, const char *name, int fd)
{
    struct stat st;
    if (fsync(fd) != 0 || fstat(fd, &st) != 0) set_failed(c, name, errno);
    else note_file(c, name, (uint64_t)st.st_size);
}

static void finish_file(capture *c, const char *name, int fd)
{
    sync_file(c, name, fd);
    if (close(fd) != 0) set_failed(c, name, errno);
}

static void write_file(capture *c, const char *name, const char *data, size_t len)
{
    if (c->failed[0]) return;
    int fd = create(c, name);
    if (fd < 0) return;
    if (!write_all(fd, data, len)) set_failed(c, name, errno);
    finish_file(c, name, fd);
}

/* NAME.error: why NAME is not in the capture. */
static void write_error(capture *c, const char *name, const char *why)
{
    char ename[80];
    snprintf(ename, sizeof ename, "%s.error", name);
    buf b = {0};
    buf_printf(&b, "%s\n", why);
    write_file(c, ename, b.data, b.len);
    buf_free(&b);
}

/* A file rendered through stdio (reef's reporters write to a FILE *). */
static FILE *open_stream(capture *c, const char *name)
{
    if (c->failed[0]) return NULL;
    int fd = create(c, name);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        set_failed(c, name, errno);
        close(fd);
    }
    return f;
}

static void close_stream(capture *c, const char *name, FILE *f)
{
    if (!f) return;
    errno = 0;
    if (fflush(f) != 0 || ferror(f)) set_failed(c, name, errno ? errno : EIO);
    else sync_file(c, name, fileno(f));
    if (fclose(f) != 0) set_failed(c, name, errno);
}

/* ---- requests ------------------------------------------------------------------- */

/* A body streams to the file and, when given, to a parser. */
typedef struct fetch {
    capture *c;
    const char *name;
    int fd;
    int write_errno;
    int (*parse)(void *parser, const char *data, size_t len);
    void *parser;
    bool parse_failed;
    bool quiet;               /* a failure only fills error */
    char error[512];
} fetch;

static int fetch_sink(void *ctx, const char *data, size_t len)
{
    fetch *f = ctx;
    if (!write_all(f->fd, data, len)) {
        f->write_errno = errno;
        return 1;
    }
    if (f->parse && !f->parse_failed && f->parse(f->parser, data, len) != 0) f->parse_failed = true;
    return 0;
}

static int gfeed(void *p, const char *data, size_t len) { return gparser_feed(p, data, len); }
static int pfeed(void *p, const char *data, size_t len) { return pparser_feed(p, data, len); }

/* Fetches path (under /debug/pprof/, or from the service's root when it
 * starts with '/') into name.  Returns whether the body is all there; a
 * failed request leaves NAME.error instead, or with quiet only the reason
 * in f->error (for a caller with another endpoint to try). */
static bool fetch_file(capture *c, const char *name, const char *path, const http_options *http, fetch *f)
{
    if (c->failed[0]) return false;
    if (!c->req->url || !c->req->url[0]) {
        if (f->quiet) snprintf(f->error, sizeof f->error, "the target has no URL: nothing to ask");
        else write_error(c, name, "the target has no URL: nothing to ask");
        return false;
    }
    char *url = path[0] == '/' ? collect_service_url(c->req->url, path) : collect_endpoint(c->req->url, path);
    f->c = c;
    f->name = name;
    f->fd = create(c, name);
    if (f->fd < 0) {
        free(url);
        return false;
    }
    collect_error err;
    memset(&err, 0, sizeof err);
    int rc = collect_http(url, http ? http : &c->http, fetch_sink, f, &err);
    free(url);
    if (f->write_errno) {
        close(f->fd);
        set_failed(c, name, f->write_errno);
        return false;
    }
    if (rc != COLLECT_OK) {
        /* half a body is worse than none: only the reason is kept */
        close(f->fd);
        unlinkat(c->dirfd, name, 0);
        snprintf(f->error, sizeof f->error, "%s", err.msg[0] ? err.msg : "the request failed");
        if (!f->quiet) write_error(c, name, f->error);
        return false;
    }
    finish_file(c, name, f->fd);
    return !c->failed[0];
}

/* ---- goroutines ------------------------------------------------------------------ */

/* Why a file that came could not be read, for the analysis that needed it. */
static void note_unread(buf *notes, const char *name, const char *error)
{
    buf_printf(notes, "%s is kept as it came, but reef could not read it: %s\n", name, error);
}

static bool fetch_dump(capture *c, const char *name, const char *path, gmodel *m, buf *notes)
{
    gparse_options po = {.input_name = name};
    gparser *p = gparser_new(m, &po);
    fetch f = {.parse = gfeed, .parser = p};
    bool ok = fetch_file(c, name, path, NULL, &f);
    if (ok && (f.parse_failed || gparser_finish(p) != 0)) {
        note_unread(notes, name, gparser_error(p));
        ok = false;
    }
    gparser_free(p);
    return ok;
}

static void summarize_groups(capture *c, const gmodel *m)
{
    buf *b = &c->summary_groups;
    buf_printf(b, "Goroutines: %llu in %zu groups (%s)\n", (unsigned long long)m->total, m->ngroups,
               c->source_goroutines);
    for (size_t i = 0; i < m->ngroups && i < SUMMARY_GROUPS; i++) {
        const ggroup *g = &m->groups[i];
        buf_printf(b, "  %6llu  %-14s %s\n", (unsigned long long)g->count, gclass_name(g->cls),
                   g->reason ? g->reason : "");
    }
    if (m->ngroups > SUMMARY_GROUPS) buf_printf(b, "  (%zu more groups in goroutines-analysis.txt)\n", m->ngroups - SUMMARY_GROUPS);
}

/* The grouped analysis, as `reef goroutines` and `reef goroutines --json`
 * print it. */
static void analyse(capture *c, gmodel *m, const char *source)
{
    gmodel_sort(m);
    gclassify_options co = {0}; /* zeros: the defaults, as `reef goroutines` */
    gclassify(m, &co);
    const ggroup **list = xmalloc((m->ngroups ? m->ngroups : 1) * sizeof *list);
    for (size_t i = 0; i < m->ngroups; i++) list[i] = &m->groups[i];
    greport r = {.model = m, .groups = list, .ngroups = m->ngroups, .source = source};
    FILE *f = open_stream(c, "goroutines-analysis.txt");
    if (f) greport_text(f, &r);
    close_stream(c, "goroutines-analysis.txt", f);
    f = open_stream(c, "goroutines-analysis.json");
    if (f) greport_json(f, &r);
    close_stream(c, "goroutines-analysis.json", f);
    free(list);
    summarize_groups(c, m);
}

/* debug=1 always; debug=2 only when debug=1 counted at most full_cap (it
 * stops the world for the whole dump).  The analysis reads debug=2 when
 * there is one: it has each goroutine's state and wait time. */
static void take_goroutines(capture *c)
{
    gmodel m1, m2;
    gmodel_init(&m1);
    gmodel_init(&m2);
    buf notes = {0};
    bool have1 = fetch_dump(c, "goroutines.txt", "goroutine?debug=1", &m1, &notes);
    bool have2 = false;
    if (have1 && m1.total <= c->req->full_cap)
        have2 = fetch_dump(c, "goroutines-full.txt", "goroutine?debug=2", &m2, &notes);
    snprintf(c->source_goroutines, sizeof c->source_goroutines, "%s",
             have2 ? "goroutines-full.txt" : "goroutines.txt");
    if (have1 || have2) analyse(c, have2 ? &m2 : &m1, c->source_goroutines);
    else write_error(c, "goroutines-analysis.txt", notes.len ? buf_cstr(&notes) : "no goroutine dump to analyse");
    /* debug=2 unreadable, debug=1 analysed: said in the summary */
    if (notes.len && (have1 || have2)) buf_append(&c->summary_groups, notes.data, notes.len);
    buf_free(&notes);
    gmodel_free(&m1);
    gmodel_free(&m2);
}

/* ---- heap ----------------------------------------------------------------------------- */

static bool fetch_profile(capture *c, const char *name, profile *p, buf *notes)
{
    pparse_options po = {.input_name = name, .max_size = CAPTURE_INFLATE_CAP};
    pparser *pp = pparser_new(p, &po);
    fetch f = {.parse = pfeed, .parser = pp};
    bool ok = fetch_file(c, name, "heap", NULL, &f);
    if (ok && (f.parse_failed || pparser_finish(pp) != 0)) {
        note_unread(notes, name, pparser_error(pp));
        ok = false;
    }
    pparser_free(pp);
    return ok;
}

static void sleep_seconds(double s)
{
    if (!(s > 0)) return;
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* The first lines of the diff table for the summary. */
static void summarize_diff(capture *c, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    for (int i = 0; i < SUMMARY_DIFF_LINES && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl + 1 : end;
        buf_puts(&c->summary_heap, "  ");
        buf_append(&c->summary_heap, p, (size_t)(stop - p));
        p = stop;
    }
}

/* heap-2 minus heap-1, as `reef pprof diff heap-1.pb.gz heap-2.pb.gz`. */
static void write_diff(capture *c, const profile *h1, const profile *h2)
{
    ptop_options to = {.names = PNAMES_FILE};
    ptop t;
    char err[512];
    if (ptop_diff(h1, h2, &to, &t, err, sizeof err) != 0) {
        write_error(c, "heap-diff.txt", err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m) {
        ptop_report r = {.top = &t, .source = "heap-2.pb.gz", .base = "heap-1.pb.gz"};
        preport_top_text(m, &r);
        fclose(m);
        write_file(c, "heap-diff.txt", text, len);
        summarize_diff(c, text, len);
    }
    free(text);
    ptop_free(&t);
}

static void take_heap(capture *c)
{
    profile h1, h2;
    profile_init(&h1);
    profile_init(&h2);
    buf notes = {0};
    bool have1 = fetch_profile(c, "heap-1.pb.gz", &h1, &notes);
    if (have1) sleep_seconds(c->s->conf.heap_gap);
    bool have2 = fetch_profile(c, "heap-2.pb.gz", &h2, &notes);
    if (have1 && have2) write_diff(c, &h1, &h2);
    else write_error(c, "heap-diff.txt", notes.len ? buf_cstr(&notes) : "two heap profiles are needed for the difference");
    buf_free(&notes);
    profile_free(&h1);
    profile_free(&h2);
}

/* ---- what costs the target: only when configured ------------------------------------- */

static void take_timed(capture *c, const char *name, const char *endpoint, double seconds)
{
    if (!(seconds > 0)) return;
    char path[64];
    snprintf(path, sizeof path, "%s?seconds=%.0f", endpoint, ceil(seconds));
    /* the target answers only when the time is up */
    http_options h = c->http;
    h.timeout_ms += (long)(ceil(seconds) * 1000.0);
    fetch f = {0};
    fetch_file(c, name, path, &h, &f);
}

/* ---- what reef already has ---------------------------------------------------------- */

static void take_proc(capture *c)
{
    const scan_sample *last = c->req->window ? evidence_last(c->req->window) : NULL;
    if (!last || !last->has_proc) {
        write_error(c, "proc.json", c->req->pid > 0 ? "no /proc sample of the target yet" : "the target has no pid");
        return;
    }
    FILE *f = open_stream(c, "proc.json");
    if (!f) return;
    json_writer w;
    json_init(&w, f, true);
    json_begin_object(&w);
    proc_json_fields(&w, &last->proc, last->has_cgroup ? &last->cgroup : NULL);
    json_end_object(&w);
    json_finish(&w);
    close_stream(c, "proc.json", f);
}

/* The service's own numbers: /metrics when the target has it, else
 * /debug/vars, asked again now (the window keeps only what scan's rules
 * read). */
static void take_metrics(capture *c)
{
    const scan_evidence *w = c->req->window;
    bool metrics_first = !w || w->has_metrics || !w->has_vars;
    const char *paths[2] = {metrics_first ? "/metrics" : "/debug/vars", metrics_first ? "/debug/vars" : "/metrics"};
    buf why = {0};
    for (int i = 0; i < 2 && !c->failed[0]; i++) {
        fetch f = {.quiet = true};
        if (fetch_file(c, "metrics.txt", paths[i], NULL, &f)) {
            snprintf(c->source_metrics, sizeof c->source_metrics, "%s", paths[i]);
            buf_free(&why);
            return;
        }
        buf_printf(&why, "%s%s: %s", i ? "\n" : "", paths[i], f.error);
    }
    if (why.len) write_error(c, "metrics.txt", buf_cstr(&why));
    buf_free(&why);
}

static void take_finding(capture *c, const char *final_path)
{
    wfinding f = *c->req->finding;
    snprintf(f.capture, sizeof f.capture, "%s", final_path);
    buf b = {0};
    wfinding_json(&f, &b);
    buf_putc(&b, '\n');
    write_file(c, "finding.json", b.data, b.len);
    buf_free(&b);
}

static void take_series(capture *c)
{
    if (c->req->series_json) write_file(c, "series.json", c->req->series_json, strlen(c->req->series_json));
    else write_error(c, "series.json", "no series were given");
}

/* "2026-11-29 14:09:45 UTC" */
static void when(double t, char *out, size_t n)
{
    time_t sec = (time_t)(isfinite(t) && t > 0 ? t : 0);
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* What a person reads first. */
static void take_summary(capture *c, const char *final_path)
{
    const wfinding *f = c->req->finding;
    buf b = {0};
    char at[40];
    when(f->at, at, sizeof at);
    buf_printf(&b, "%s: %s %s (%s)\n", f->target, severity_name(f->sev), f->rule, wchange_name(f->change));
    buf_printf(&b, "%s\n\n", f->title);
    buf_printf(&b, "Target:   %s%s%s", f->target, f->url[0] ? "  " : "", f->url);
    if (f->pid > 0) buf_printf(&b, "  pid %d", f->pid);
    buf_printf(&b, "\nWhen:     %s (open since ", at);
    when(f->since, at, sizeof at);
    buf_printf(&b, "%s)\nCapture:  %s\n", at, final_path);
    if (f->nevidence) buf_puts(&b, "\nEvidence:\n");
    for (size_t i = 0; i < f->nevidence && i < WFINDING_MAX_EVIDENCE; i++) buf_printf(&b, "  %s\n", f->evidence[i]);
    if (c->summary_groups.len) {
        buf_puts(&b, "\n");
        buf_append(&b, c->summary_groups.data, c->summary_groups.len);
    }
    if (c->summary_heap.len) {
        buf_printf(&b, "\nHeap, what changed in %.0f s (heap-diff.txt):\n", c->s->conf.heap_gap);
        buf_append(&b, c->summary_heap.data, c->summary_heap.len);
    }
    buf_puts(&b, "\nFiles:\n");
    for (size_t i = 0; i < c->nfiles; i++) {
        const char *n = c->files[i].name;
        buf_printf(&b, "  %-26s %10llu bytes%s%s\n", n, (unsigned long long)c->files[i].size,
                   strcmp(n, "metrics.txt") == 0 && c->source_metrics[0] ? "  from " : "",
                   strcmp(n, "metrics.txt") == 0 ? c->source_metrics : "");
    }
    buf_puts(&b, "  MANIFEST (every file and its size)\n");
    write_file(c, "summary.txt", b.data, b.len);
    buf_free(&b);
}

static void take_manifest(capture *c)
{
    buf b = {0};
    for (size_t i = 0; i < c->nfiles; i++)
        buf_printf(&b, "%llu %s\n", (unsigned long long)c->files[i].size, c->files[i].name);
    write_file(c, "MANIFEST", b.data, b.len);
    buf_free(&b);
}

/* ---- putting it together --------------------------------------------------------------- */

/* DIR/TARGET/NAME that does not exist yet (NAME-2, -3... when two findings
 * of one rule open within the same millisecond). */
static bool final_name(const char *tdir, const char *name, char *out, size_t n)
{
    for (int i = 1; i < 100; i++) {
        if (i == 1) say(out, n, "%s/%s", tdir, name);
        else say(out, n, "%s/%s-%d", tdir, name, i);
        if (access(out, F_OK) != 0) return true;
    }
    return false;
}

static void cap_http(capture *c)
{
    if (c->req->http) c->http = *c->req->http;
    else memset(&c->http, 0, sizeof c->http);
    if (c->http.max_bytes == 0 || c->http.max_bytes > CAPTURE_BODY_CAP) c->http.max_bytes = CAPTURE_BODY_CAP;
    if (c->http.timeout_ms <= 0) c->http.timeout_ms = 10000;
    if (c->http.connect_timeout_ms <= 0) c->http.connect_timeout_ms = 2000;
}

static void take_all(capture *c, const char *final_path)
{
    take_finding(c, final_path);
    take_goroutines(c);
    take_heap(c);
    take_timed(c, "cpu.pb.gz", "profile", c->s->conf.cpu_profile);
    take_timed(c, "trace.out", "trace", c->s->conf.trace);
    take_proc(c);
    if (!c->failed[0]) take_metrics(c);
    take_series(c);
    take_summary(c, final_path);
    take_manifest(c);
}

/* Makes DIR/TARGET and the .tmp- directory; fills c->dir and final. */
static bool make_dirs(capture *c, char *tdir, size_t tlen, char *final, size_t flen)
{
    const wfinding *f = c->req->finding;
    char target[WATCH_NAME_MAX], rule[WATCH_NAME_MAX], stamp[32], name[WATCH_NAME_MAX + 40];
    safe_name(f->target, target, sizeof target);
    safe_name(f->rule, rule, sizeof rule);
    stamp_of(c->req->now, stamp, sizeof stamp);
    snprintf(name, sizeof name, "%s-%s", stamp, rule);
    say(tdir, tlen, "%s/%s", c->s->conf.dir, target);
    if (mkdir(tdir, 0750) != 0 && errno != EEXIST) {
        say(c->failed, sizeof c->failed, "%s: %s", tdir, strerror(errno));
        return false;
    }
    if (!final_name(tdir, name, final, flen)) {
        say(c->failed, sizeof c->failed, "%s: too many captures of this name", final);
        return false;
    }
    say(c->dir, sizeof c->dir, "%s/" TMP_PREFIX "%s", tdir, strrchr(final, '/') + 1);
    if (mkdir(c->dir, 0750) != 0 || (c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        say(c->failed, sizeof c->failed, "%s: %s", c->dir, strerror(errno));
        rmdir(c->dir);
        return false;
    }
    return true;
}

/* Everything fsync'd, then the rename that makes it complete. */
static bool commit(capture *c, const char *tdir, const char *final)
{
    if (c->failed[0]) return false;
    if (fsync(c->dirfd) != 0 || rename(c->dir, final) != 0 || fsync_dir(tdir) != 0 || fsync_dir(c->s->conf.dir) != 0) {
        say(c->failed, sizeof c->failed, "%s: %s", final, strerror(errno));
        return false;
    }
    return true;
}

int wcapture_take(wcapture_store *s, const wcapture_request *req, char *path, size_t pathlen, char *why,
                  size_t whylen)
{
    pthread_mutex_lock(&s->mu);
    bool go = reserve(s, req->finding->target, req->now, why, whylen);
    if (go) prune(s, NULL);
    pthread_mutex_unlock(&s->mu);
    if (!go) return WCAPTURE_RATE_LIMITED;

    capture *c = xcalloc(1, sizeof *c);
    c->s = s;
    c->req = req;
    c->dirfd = -1;
    cap_http(c);
    char tdir[WATCH_PATH_MAX], final[WATCH_PATH_MAX];
    bool ok = make_dirs(c, tdir, sizeof tdir, final, sizeof final);
    if (ok) {
        take_all(c, final);
        ok = commit(c, tdir, final);
        if (!ok) rm_tree(c->dir);
    }
    if (c->dirfd >= 0) close(c->dirfd);
    int rc = WCAPTURE_WRITTEN;
    if (ok) {
        pthread_mutex_lock(&s->mu);
        add_entry(s, final, strrchr(final, '/') + 1, c->bytes);
        if (!prune(s, final)) {
            snprintf(why, whylen, "%s: %llu bytes alone exceed captures.max_bytes (%llu): removed", final,
                     (unsigned long long)c->bytes, (unsigned long long)s->conf.max_bytes);
            rc = WCAPTURE_FAILED;
        }
        pthread_mutex_unlock(&s->mu);
        if (rc == WCAPTURE_WRITTEN) snprintf(path, pathlen, "%s", final);
    } else {
        snprintf(why, whylen, "%s", c->failed);
        rc = WCAPTURE_FAILED;
    }
    buf_free(&c->summary_groups);
    buf_free(&c->summary_heap);
    free(c);
    return rc;
}
