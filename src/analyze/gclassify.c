/* gclassify.c - classification of goroutine groups; see gclassify.h.
 *
 * The order of the rules matters: a goroutine the runtime itself marked as
 * leaked is a leak whatever else it does; a goroutine waiting for a pooled
 * connection is a pool wait even though it sits in a select; and so on. */
#include "gclassify.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Top-level directories of GOROOT/src: a package whose path starts with one
 * of these (and has no dot in its first element) is the standard library. */
static const char *const std_roots[] = {
    "archive", "bufio", "bytes", "cmp", "compress", "container", "context", "crypto",
    "database", "debug", "embed", "encoding", "errors", "expvar", "flag", "fmt", "go",
    "hash", "html", "image", "index", "internal", "io", "iter", "log", "maps", "math",
    "mime", "net", "os", "path", "plugin", "reflect", "regexp", "runtime", "slices",
    "sort", "strconv", "strings", "structs", "sync", "syscall", "testing", "text", "time",
    "unicode", "unique", "unsafe", "vendor", "weak",
};

bool gfunc_is_std(const char *func)
{
    /* The first path element ends at '/' or, for a one-element path, at the
     * '.' before the function name. */
    size_t n = strcspn(func, "/.");
    if (func[n] == '\0') return strcmp(func, "panic") == 0 || strcmp(func, "non-Go function") == 0 ||
                                  strcmp(func, "?") == 0;
    for (size_t i = 0; i < sizeof std_roots / sizeof *std_roots; i++)
        if (strlen(std_roots[i]) == n && memcmp(std_roots[i], func, n) == 0) return true;
    return false;
}

int ggroup_app_frame(const gmodel *m, const ggroup *g)
{
    for (uint32_t i = 0; i < g->nframes; i++)
        if (!gfunc_is_std(gmodel_str(m, g->frames[i].func))) return (int)i;
    return -1;
}

const char *gshort_path(const char *path)
{
    const char *last = strrchr(path, '/');
    if (!last || last == path) return path;
    const char *p = last - 1;
    while (p > path && *p != '/') p--;
    return *p == '/' ? p + 1 : p;
}

static bool state_is(const gmodel *m, const ggroup *g, const char *s)
{
    return g->state && strcmp(gmodel_str(m, g->state), s) == 0;
}

static bool has_func(const gmodel *m, const ggroup *g, const char *prefix)
{
    size_t n = strlen(prefix);
    for (uint32_t i = 0; i < g->nframes; i++)
        if (strncmp(gmodel_str(m, g->frames[i].func), prefix, n) == 0) return true;
    return false;
}

/* Frames that mean "waiting for a connection from a pool". */
static const char *const pool_waits[] = {
    "net/http.(*Transport).getConn",
    "net/http.(*http2ClientConn).awaitOpenSlotForStream",
    "golang.org/x/net/http2.(*ClientConn).awaitOpenSlotForStream",
    "database/sql.(*DB).conn",
};

static int pool_frame(const gmodel *m, const ggroup *g)
{
    for (uint32_t i = 0; i < g->nframes; i++) {
        const char *f = gmodel_str(m, g->frames[i].func);
        for (size_t k = 0; k < sizeof pool_waits / sizeof *pool_waits; k++)
            if (strcmp(f, pool_waits[k]) == 0) return (int)i;
    }
    return -1;
}

/* Index of the frame that called Lock/RLock, or -1 if the group is not
 * waiting for a sync.Mutex or sync.RWMutex. */
static int lock_caller(const gmodel *m, const ggroup *g)
{
    bool lock_state = state_is(m, g, "sync.Mutex.Lock") || state_is(m, g, "sync.RWMutex.Lock") ||
                      state_is(m, g, "sync.RWMutex.RLock") || state_is(m, g, "semacquire") || !g->state;
    if (!lock_state) return -1;
    int last_sync = -1;
    for (uint32_t i = 0; i < g->nframes; i++) {
        const char *f = gmodel_str(m, g->frames[i].func);
        if (strncmp(f, "sync.(*Mutex).", 14) == 0 || strncmp(f, "sync.(*RWMutex).", 16) == 0 ||
            strncmp(f, "internal/sync.(*Mutex).", 23) == 0)
            last_sync = (int)i;
        else if (last_sync >= 0)
            break;
    }
    if (last_sync < 0 || (uint32_t)last_sync + 1 >= g->nframes) return -1;
    return last_sync + 1;
}

static bool is_running(const gmodel *m, const ggroup *g)
{
    return g->unavailable || state_is(m, g, "running") || state_is(m, g, "runnable") ||
           state_is(m, g, "preempted") || state_is(m, g, "copystack");
}

/* Waits that can last forever when the other side is gone. */
static bool is_blocking_wait(const gmodel *m, const ggroup *g)
{
    static const char *const waits[] = {
        "chan send", "chan receive", "select", "chan send (nil chan)", "chan receive (nil chan)",
        "select (no cases)", "sync.Cond.Wait", "sync.WaitGroup.Wait", "semacquire",
        "chan send (durable)", "chan receive (durable)", "select (durable)",
        "sync.WaitGroup.Wait (durable)",
    };
    if (!g->state) return false;
    const char *s = gmodel_str(m, g->state);
    for (size_t i = 0; i < sizeof waits / sizeof *waits; i++)
        if (strcmp(s, waits[i]) == 0) return true;
    return false;
}

static bool blocks_forever(const gmodel *m, const ggroup *g)
{
    return state_is(m, g, "chan send (nil chan)") || state_is(m, g, "chan receive (nil chan)") ||
           state_is(m, g, "select (no cases)");
}

/* "7-9 min", "9 min", "<1 min", or "" when the dump has no wait times. */
static void wait_phrase(buf *b, const ggroup *g)
{
    if (g->wait_max < 0) return;
    if (g->wait_max == 0) buf_puts(b, " <1 min");
    else if (g->wait_min == g->wait_max) buf_printf(b, " %lld min", (long long)g->wait_max);
    else buf_printf(b, " %lld-%lld min", (long long)g->wait_min, (long long)g->wait_max);
}

static void site_phrase(buf *b, const gmodel *m, const ggroup *g, int frame)
{
    if (frame < 0 || (uint32_t)frame >= g->nframes) return;
    const gframe *f = &g->frames[frame];
    buf_printf(b, " at %s:%u", gshort_path(gmodel_str(m, f->file)), f->line);
    buf_printf(b, " (%s)", gmodel_str(m, f->func));
}

static void creator_phrase(buf *b, const gmodel *m, const ggroup *g)
{
    if (!g->has_created_by) return;
    buf_printf(b, ", created by %s", gmodel_str(m, g->created_by.func));
    if (g->nparents > 1 || g->parents_truncated)
        buf_printf(b, " in %s%u goroutines", g->parents_truncated ? "over " : "", g->nparents);
    else if (g->nparents == 1)
        buf_printf(b, " in goroutine %llu", (unsigned long long)g->parents[0]);
}

static const char *plural(uint64_t n) { return n == 1 ? "goroutine" : "goroutines"; }

static void set_reason(ggroup *g, gclass cls, buf *b)
{
    g->cls = cls;
    free(g->reason);
    g->reason = xstrdup(buf_cstr(b));
}

/* Counts waiters per Lock call site across groups: a pile-up is often split
 * over many stacks that differ only above the Lock call. */
typedef struct lock_site {
    uint32_t file, line;
    uint64_t waiters;
    unsigned groups;
    int64_t wait_max;
} lock_site;

static lock_site *find_site(lock_site *sites, size_t n, const gframe *f)
{
    for (size_t i = 0; i < n; i++)
        if (sites[i].file == f->file && sites[i].line == f->line) return &sites[i];
    return NULL;
}

/* The frame that best says where a group is: its innermost application
 * frame, else its outermost frame, the function the goroutine was started
 * in (net/http.(*conn).serve says more than internal/poll.runtime_pollWait). */
static int telling_frame(const gmodel *m, const ggroup *g, int app)
{
    if (app >= 0) return app;
    int i = (int)g->nframes - 1;
    /* runtime.goexit closes every stack at GOTRACEBACK=system. */
    while (i > 0 && strcmp(gmodel_str(m, g->frames[i].func), "runtime.goexit") == 0) i--;
    return i > 0 ? i : 0;
}

static void classify_one(gmodel *m, ggroup *g, const gclassify_options *opt, lock_site *sites, size_t nsites)
{
    buf b = {0};
    const char *state = g->state ? gmodel_str(m, g->state) : NULL;
    int app = ggroup_app_frame(m, g);
    int where = telling_frame(m, g, app);
    uint64_t n = g->count;

    if (m->leak_profile) {
        /* Everything in /debug/pprof/goroutineleak is a leak the runtime
         * proved: blocked on something no runnable goroutine can reach. */
        buf_printf(&b, "%llu %s in Go's goroutine leak profile: blocked on a channel or lock no running "
                       "goroutine can reach",
                   (unsigned long long)n, plural(n));
        site_phrase(&b, m, g, app);
        set_reason(g, GCLASS_LEAK, &b);
    } else if (g->leaked) {
        buf_printf(&b, "%llu %s marked leaked by the Go runtime, blocked", (unsigned long long)n, plural(n));
        wait_phrase(&b, g);
        buf_printf(&b, " in %s", state ? state : "?");
        site_phrase(&b, m, g, app);
        creator_phrase(&b, m, g);
        set_reason(g, GCLASS_LEAK, &b);
    } else if (is_running(m, g)) {
        buf_printf(&b, "%llu %s %s", (unsigned long long)n, plural(n), g->unavailable ? "running on another thread" : state);
        site_phrase(&b, m, g, where);
        set_reason(g, GCLASS_RUNNING, &b);
    } else if (pool_frame(m, g) >= 0) {
        int pf = pool_frame(m, g);
        buf_printf(&b, "%llu %s waiting", (unsigned long long)n, plural(n));
        wait_phrase(&b, g);
        buf_printf(&b, " for a connection in %s", gmodel_str(m, g->frames[pf].func));
        if (app >= 0) {
            buf_puts(&b, ", called");
            site_phrase(&b, m, g, app);
        }
        buf_puts(&b, strstr(gmodel_str(m, g->frames[pf].func), "database/sql") ?
                         "; the pool is exhausted (SetMaxOpenConns, slow queries, unclosed rows?)" :
                         "; the connection pool is exhausted (MaxConnsPerHost, slow or hung requests without a timeout?)");
        set_reason(g, GCLASS_POOL_WAIT, &b);
    } else if (lock_caller(m, g) >= 0) {
        int lc = lock_caller(m, g);
        lock_site *site = find_site(sites, nsites, &g->frames[lc]);
        uint64_t waiters = site ? site->waiters : n;
        const char *what = state && strncmp(state, "sync.", 5) == 0 ? state : "sync.Mutex.Lock";
        if (strstr(gmodel_str(m, g->frames[lc - 1].func), "RWMutex).RLock")) what = "sync.RWMutex.RLock";
        else if (strstr(gmodel_str(m, g->frames[lc - 1].func), "RWMutex).Lock")) what = "sync.RWMutex.Lock";
        if (waiters >= opt->pileup_min) {
            buf_printf(&b, "%llu goroutines queued on %s", (unsigned long long)waiters, what);
            site_phrase(&b, m, g, lc);
            if (site && site->groups > 1) buf_printf(&b, " across %u stacks", site->groups);
            if (site && site->wait_max > 0) buf_printf(&b, ", the longest for %lld min", (long long)site->wait_max);
            buf_puts(&b, "; the holder is slow or stuck: find it among the running or blocked goroutines that hold this lock");
            set_reason(g, GCLASS_PILEUP, &b);
        } else {
            buf_printf(&b, "%llu %s waiting", (unsigned long long)n, plural(n));
            wait_phrase(&b, g);
            buf_printf(&b, " on %s", what);
            site_phrase(&b, m, g, lc);
            set_reason(g, GCLASS_OTHER, &b);
        }
    } else if ((state && (strcmp(state, "IO wait") == 0 || strcmp(state, "syscall") == 0)) ||
               (!state && has_func(m, g, "internal/poll.runtime_pollWait"))) {
        buf_printf(&b, "%llu %s in %s", (unsigned long long)n, plural(n), state ? state : "IO wait");
        wait_phrase(&b, g);
        site_phrase(&b, m, g, where);
        set_reason(g, GCLASS_IO_WAIT, &b);
    } else if (app < 0) {
        buf_printf(&b, "%llu %s of the runtime or standard library, %s", (unsigned long long)n, plural(n),
                   state ? state : "state unknown");
        site_phrase(&b, m, g, where);
        set_reason(g, GCLASS_IDLE, &b);
    } else if (blocks_forever(m, g) && g->has_created_by) {
        /* (The main goroutine has no creator: `select {}` at the end of
         * main is how a server waits for good.) */
        buf_printf(&b, "%llu %s blocked forever in %s", (unsigned long long)n, plural(n), state);
        site_phrase(&b, m, g, app);
        creator_phrase(&b, m, g);
        set_reason(g, GCLASS_LEAK, &b);
    } else if (is_blocking_wait(m, g) && n >= opt->leak_min &&
               (g->nparents > 1 || g->parents_truncated || g->wait_max > g->wait_min)) {
        /* Many goroutines parked on a channel or condition, started by
         * different goroutines or at different times: nobody is coming
         * for them.  A worker pool started in one loop by one goroutine
         * fails this test on purpose. */
        buf_printf(&b, "%llu goroutines blocked", (unsigned long long)n);
        wait_phrase(&b, g);
        buf_printf(&b, " in %s", state);
        site_phrase(&b, m, g, app);
        creator_phrase(&b, m, g);
        set_reason(g, GCLASS_LEAK, &b);
    } else if (is_blocking_wait(m, g) && n >= opt->leak_min && g->has_created_by && g->nparents == 0) {
        /* Before Go 1.21 a dump does not name the creating goroutine, and
         * without wait times there is only the count to go on. */
        buf_printf(&b, "%llu goroutines blocked", (unsigned long long)n);
        wait_phrase(&b, g);
        buf_printf(&b, " in %s", state);
        site_phrase(&b, m, g, app);
        creator_phrase(&b, m, g);
        buf_puts(&b, "; this Go release does not say which goroutines created them, so a large idle pool "
                     "looks the same: compare with a dump taken later");
        set_reason(g, GCLASS_LEAK, &b);
    } else if (!state && n >= opt->leak_min && app == 0 && !has_func(m, g, "time.Sleep")) {
        /* debug=1 hides the runtime frames, so a parked goroutine's top
         * frame is the application call that blocks. */
        buf_printf(&b, "%llu goroutines parked", (unsigned long long)n);
        site_phrase(&b, m, g, app);
        buf_puts(&b, "; a debug=1 dump has no states or wait times: confirm with a debug=2 dump (--full)");
        set_reason(g, GCLASS_LEAK, &b);
    } else {
        if (state) buf_printf(&b, "%llu %s in %s", (unsigned long long)n, plural(n), state);
        else buf_printf(&b, "%llu %s, state unknown (debug=1),", (unsigned long long)n, plural(n));
        wait_phrase(&b, g);
        site_phrase(&b, m, g, app);
        if (is_blocking_wait(m, g) && g->has_created_by && g->nparents == 1 && n > 1)
            buf_puts(&b, ", all started by one goroutine (a pool or a long-lived loop)");
        set_reason(g, GCLASS_OTHER, &b);
    }
    buf_free(&b);
}

void gclassify(gmodel *m, const gclassify_options *opt)
{
    gclassify_options o = *opt;
    if (!o.leak_min) o.leak_min = GCLASSIFY_DEFAULT_LEAK_MIN;
    if (!o.pileup_min) o.pileup_min = GCLASSIFY_DEFAULT_PILEUP_MIN;

    lock_site *sites = NULL;
    size_t nsites = 0, cap = 0;
    for (size_t i = 0; i < m->ngroups; i++) {
        ggroup *g = &m->groups[i];
        if (g->leaked || is_running(m, g) || pool_frame(m, g) >= 0) continue;
        int lc = lock_caller(m, g);
        if (lc < 0) continue;
        lock_site *s = find_site(sites, nsites, &g->frames[lc]);
        if (!s) {
            sites = xgrow(sites, &cap, nsites + 1, sizeof *sites);
            s = &sites[nsites++];
            memset(s, 0, sizeof *s);
            s->file = g->frames[lc].file;
            s->line = g->frames[lc].line;
        }
        s->waiters += g->count;
        s->groups++;
        if (g->wait_max > s->wait_max) s->wait_max = g->wait_max;
    }
    for (size_t i = 0; i < m->ngroups; i++) classify_one(m, &m->groups[i], &o, sites, nsites);
    free(sites);
}
