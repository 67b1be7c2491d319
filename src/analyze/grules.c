/* grules.c - the rule table of goroutine classes and the dump-wide facts
 * the rules use.  Each rule is a pair: match() tests the evidence, say()
 * writes what was seen and, where a fix follows from the kind of wait, the
 * fix.  docs/goroutines.md has the table in prose: evidence, why it holds,
 * what it cannot see. */
#include "gclassify_int.h"
#include "../util/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- dump-wide facts ---- */

/* Index of the frame that called Lock/RLock, or -1 if the group is not
 * waiting for a sync.Mutex or sync.RWMutex. */
static int lock_caller(const gmodel *m, const ggroup *g)
{
    bool lock_state = gstate_is(m, g, "sync.Mutex.Lock") || gstate_is(m, g, "sync.RWMutex.Lock") ||
                      gstate_is(m, g, "sync.RWMutex.RLock") || gstate_is(m, g, "semacquire") || !g->state;
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

glock_site *gfacts_lock_site(const gfacts *f, const gframe *at)
{
    for (size_t i = 0; i < f->nsites; i++)
        if (f->sites[i].file == at->file && f->sites[i].line == at->line) return &f->sites[i];
    return NULL;
}

static void add_lock_site(gfacts *f, size_t *cap, const ggroup *g, const gframe *at)
{
    glock_site *s = gfacts_lock_site(f, at);
    if (!s) {
        f->sites = xgrow(f->sites, cap, f->nsites + 1, sizeof *f->sites);
        s = &f->sites[f->nsites++];
        memset(s, 0, sizeof *s);
        s->file = at->file;
        s->line = at->line;
    }
    s->waiters += g->count;
    s->groups++;
    if (g->wait_max > s->wait_max) s->wait_max = g->wait_max;
}

static bool is_conn_reader(const gmodel *m, const ggroup *g)
{
    return ggroup_app_frame(m, g) >= 0 && gframe_find(m, g, gconn_reads, gconn_nreads) >= 0;
}

static void add_group(const ggroup ***list, size_t *n, size_t *cap, const ggroup *g)
{
    *list = xgrow(*list, cap, *n + 1, sizeof **list);
    (*list)[(*n)++] = g;
}

/* Parked groups are sorted by module, then count, so a group's module is
 * one range and a count in it a binary search away. */

/* The module a function belongs to, as far as its name shows: the host and
 * one more path element (go.etcd.io/etcd, google.golang.org/grpc), two on
 * hosts that name an owner first (github.com/nats-io/nats-server), or the
 * first element when it has no dot (main, mymodule). */
static size_t module_len(const char *func)
{
    static const char *const owner_hosts[] = {"github.com/", "gitlab.com/", "bitbucket.org/", "golang.org/"};
    size_t pl = gfunc_pkg_len(func), n = strcspn(func, "/");
    if (n >= pl || !memchr(func, '.', n)) return n < pl ? n : pl;
    int more = 1;
    for (size_t i = 0; i < sizeof owner_hosts / sizeof *owner_hosts; i++)
        if (strncmp(func, owner_hosts[i], strlen(owner_hosts[i])) == 0) more = 2;
    while (more-- > 0 && n < pl) n += 1 + strcspn(func + n + 1, "/");
    return n < pl ? n : pl;
}

static const char *app_func(const gmodel *m, const ggroup *g)
{
    return gmodel_str(m, g->frames[ggroup_app_frame(m, g)].func);
}

static int cmp_module(const char *a, const char *b)
{
    size_t la = module_len(a), lb = module_len(b);
    int c = strncmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* The outermost application frame: the loop the goroutine was started to
 * run (a stream's send loop blocked inside gRPC is still etcd's). */
static const char *entry_func(const gmodel *m, const ggroup *g)
{
    uint32_t i = g->nframes;
    while (i > 1 && gfunc_is_std(gmodel_str(m, g->frames[i - 1].func))) i--;
    return gmodel_str(m, g->frames[i - 1].func);
}

static int cmp_partner(const void *pa, const void *pb)
{
    const gpartner *a = pa, *b = pb;
    int c = cmp_module(a->key, b->key);
    return c ? c : (a->g->count > b->g->count) - (a->g->count < b->g->count);
}

/* A group is filed under the module of its innermost application frame,
 * and also under that of its entry function when that differs. */
static void add_partner(gfacts *f, size_t *cap, const gmodel *m, const ggroup *g)
{
    const char *keys[2] = {app_func(m, g), entry_func(m, g)};
    for (int k = 0; k < 2; k++) {
        if (k == 1 && cmp_module(keys[0], keys[1]) == 0) break;
        f->partners = xgrow(f->partners, cap, f->npartners + 1, sizeof *f->partners);
        f->partners[f->npartners++] = (gpartner){.g = g, .key = keys[k]};
    }
}

void gfacts_collect(gfacts *f, const gmodel *m, uint64_t leak_min)
{
    static const char *const sleep[] = {"time.Sleep"};
    memset(f, 0, sizeof *f);
    size_t site_cap = 0, reader_cap = 0, partner_cap = 0;
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        if (g->leaked || ggroup_is_running(m, g)) continue;
        if (gframe_find(m, g, gupstream_waits, gupstream_nwaits) >= 0) {
            f->http_waiters += g->count;
            f->http_waiter_groups++;
        }
        if (is_conn_reader(m, g)) add_group(&f->readers, &f->nreaders, &reader_cap, g);
        if (gframe_find(m, g, gpool_waits, gpool_nwaits) >= 0) continue;
        int lc = lock_caller(m, g);
        if (lc >= 0) add_lock_site(f, &site_cap, g, &g->frames[lc]);
        else if (g->count >= leak_min && ggroup_app_frame(m, g) >= 0 && gframe_find(m, g, sleep, 1) < 0)
            add_partner(f, &partner_cap, m, g);
    }
    if (f->npartners > 1) qsort(f->partners, f->npartners, sizeof *f->partners, cmp_partner);
}

void gfacts_free(gfacts *f)
{
    free(f->sites);
    free(f->readers);
    free(f->partners);
    memset(f, 0, sizeof *f);
}

/* ---- evidence helpers ---- */

static bool blocked_in_app(const gctx *c) { return c->app >= 0 && gstate_blocking(c->state); }

/* Goroutine ids are handed out in creation order, each P taking them in
 * batches of 16 (runtime/proc.go, _GoidCacheBatch) and keeping a partly
 * used batch while its goroutines run elsewhere.  A loop of N go statements
 * therefore draws its ids from about N/16 fresh batches, plus at most one
 * stale batch per P it ran on; goroutines created one at a time among other
 * work fall in about as many batches as there are of them.  The model keeps
 * the batches hashed into 128 bits; linear counting estimates how many. */
#define GOID_BATCH 16
#define GOID_STALE_SLACK 8 /* Ps a creating loop may have run on */

/* Linear counting over 128 bits; -1 when (nearly) every bit is set. */
static double linear_count(const uint64_t bits[2])
{
    int zeros = 128 - __builtin_popcountll(bits[0]) - __builtin_popcountll(bits[1]);
    return zeros < 8 ? -1 : -128.0 * log(zeros / 128.0);
}

static uint64_t id_batches(const ggroup *g)
{
    double n = linear_count(&g->id_batches[0]);
    if (n < 0) n = 16 * linear_count(&g->id_batches[2]); /* the 1-in-16 sample */
    if (n < 0) n = 16 * 400.0;                          /* both full: thousands */
    return (uint64_t)(n + 0.5);
}

/* Spread: twice the batches one loop would use, and the stale ones, so
 * that the estimate's error never makes a pool look spread. */
static bool ids_spread(const ggroup *g)
{
    return g->id_max && id_batches(g) > 2 * (g->count / GOID_BATCH + 1) + GOID_STALE_SLACK;
}

static bool ids_tight(const ggroup *g) { return g->id_max && !ids_spread(g); }

static bool one_creator(const ggroup *g)
{
    /* Before Go 1.21 a dump names no parents: the creator is unknown, which
     * is treated as one, since only ids can tell. */
    return g->has_created_by && g->nparents <= 1 && !g->parents_truncated;
}

static void ids_phrase(buf *b, const ggroup *g)
{
    buf_printf(b, " (ids %llu-%llu in about %llu of the runtime's 16-id batches", (unsigned long long)g->id_min,
               (unsigned long long)g->id_max, (unsigned long long)id_batches(g));
    buf_puts(b, ids_spread(g) ? ": created one at a time)" : ")");
}

/* The fix that follows from the kind of wait, for goroutines nobody will
 * come back for.  Only a send has the buffer-of-1 fix. */
static void advice_phrase(buf *b, const char *state)
{
    if (!state) return;
    if (strncmp(state, "chan send", 9) == 0)
        buf_puts(b, "; the receiver has left: give the channel a buffer of 1 (one send per channel) or "
                    "select on ctx.Done() beside the send");
    else if (strncmp(state, "chan receive", 12) == 0)
        buf_puts(b, "; nobody will send or close: close the channel when the sender is done, or select on "
                    "ctx.Done()");
    else if (strncmp(state, "select", 6) == 0)
        buf_puts(b, "; no case can become ready: add a ctx.Done() case, or close a channel the select reads");
    else if (strcmp(state, "sync.Cond.Wait") == 0)
        buf_puts(b, "; nothing will Signal or Broadcast this Cond: check the code that changes its condition");
    else if (strncmp(state, "sync.WaitGroup.Wait", 19) == 0)
        buf_puts(b, "; a Done is missing: an Add without a Done on some path");
}

/* ---- the rules: evidence and reason ---- */

static bool m_leak_profile(gctx *c) { return c->m->leak_profile; }
static void s_leak_profile(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu %s in Go's goroutine leak profile: blocked on a channel or lock no running goroutine "
                  "can reach",
               (unsigned long long)n, gplural(n));
    gsite_phrase(b, c->m, c->g, c->app);
}

static bool m_leaked(gctx *c) { return c->g->leaked > 0; }
static void s_leaked(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu %s marked leaked by the Go runtime, blocked", (unsigned long long)n, gplural(n));
    gwait_phrase(b, c->g);
    buf_printf(b, " in %s", c->state ? c->state : "?");
    gsite_phrase(b, c->m, c->g, c->app);
    gcreator_phrase(b, c->m, c->g);
}

static bool m_running(gctx *c) { return ggroup_is_running(c->m, c->g); }
static void s_running(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu %s %s", (unsigned long long)n, gplural(n),
               c->g->unavailable ? "running on another thread" : c->state);
    gsite_phrase(b, c->m, c->g, c->where);
}

/* The runtime declares a deadlock only when no goroutine can run, so
 * every goroutine of application code in the dump is blocked for good. */
static bool m_deadlock(gctx *c) { return c->m->headline.kind == GHEAD_DEADLOCK && c->app >= 0; }
static void s_deadlock(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    const gmodel *m = c->m;
    int lc = lock_caller(m, c->g);
    buf_printf(b, "%llu %s blocked for good (the runtime found every goroutine asleep)", (unsigned long long)n,
               gplural(n));
    if (lc > 0) {
        buf_printf(b, ": waiting on %s", gmodel_str(m, c->g->frames[lc - 1].func));
        gsite_phrase(b, m, c->g, lc);
        buf_puts(b, "; its holder is one of the goroutines asleep here");
    } else {
        buf_printf(b, " in %s", c->state ? c->state : "an unknown wait");
        gsite_phrase(b, m, c->g, c->app);
        if (c->state && strncmp(c->state, "chan send", 9) == 0) buf_puts(b, ": no goroutine is left to receive");
        else if (c->state && strncmp(c->state, "chan receive", 12) == 0)
            buf_puts(b, ": no goroutine is left to send or close");
    }
}

static bool m_pool(gctx *c) { return (c->hit = gframe_find(c->m, c->g, gpool_waits, gpool_nwaits)) >= 0; }
static void s_pool(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    const char *f = gmodel_str(c->m, c->g->frames[c->hit].func);
    buf_printf(b, "%llu %s waiting", (unsigned long long)n, gplural(n));
    gwait_phrase(b, c->g);
    buf_printf(b, " for a connection in %s", f);
    if (c->app >= 0) {
        buf_puts(b, ", called");
        gsite_phrase(b, c->m, c->g, c->app);
    }
    buf_puts(b, strstr(f, "database/sql") ?
                    "; the pool is exhausted (SetMaxOpenConns, slow queries, unclosed rows?)" :
                    "; the connection pool is exhausted (MaxConnsPerHost, slow or hung requests without a timeout?)");
}

static bool m_net_write(gctx *c) { return (c->hit = gframe_find(c->m, c->g, gnet_writes, gnet_nwrites)) >= 0; }
static void s_net_write(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    const char *f = gmodel_str(c->m, c->g->frames[c->hit].func);
    bool flow = !strstr(f, "internal/poll.");
    buf_printf(b, "%llu %s blocked writing to the network", (unsigned long long)n, gplural(n));
    gwait_phrase(b, c->g);
    gsite_phrase(b, c->m, c->g, c->app >= 0 ? c->app : c->where);
    buf_printf(b, ", in %s", f);
    buf_puts(b, flow ? ": the peer's flow-control window is empty (it reads slower than we send)" :
                       ": the peer reads slower than we write, or not at all (a slow consumer); a write deadline "
                       "bounds the wait");
}

static bool m_upstream(gctx *c)
{
    return (c->hit = gframe_find(c->m, c->g, gupstream_waits, gupstream_nwaits)) >= 0;
}
static void s_upstream(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu outbound HTTP %s", (unsigned long long)n, n == 1 ? "request" : "requests");
    if (c->app >= 0) {
        buf_puts(b, " made");
        gsite_phrase(b, c->m, c->g, c->app);
        buf_puts(b, ",");
    }
    buf_puts(b, " waiting");
    gwait_phrase(b, c->g);
    buf_printf(b, " for a response (%s)", gmodel_str(c->m, c->g->frames[c->hit].func));
    buf_puts(b, ": the upstream does not answer and the client has no timeout (http.DefaultClient has none); "
                "set http.Client.Timeout or a context deadline");
    if (c->facts->http_waiter_groups > 1)
        buf_printf(b, " (%llu such requests in all)", (unsigned long long)c->facts->http_waiters);
}

/* A client connection's loops belong to the requests waiting on it: one
 * cause, not three.  Without waiting requests they are idle keep-alive
 * connections, for the later rules. */
static bool m_upstream_loop(gctx *c)
{
    if (!c->facts->http_waiters) return false;
    return (c->hit = gframe_find(c->m, c->g, gclient_loops, gclient_nloops)) >= 0;
}
static void s_upstream_loop(const gctx *c, buf *b)
{
    uint64_t n = c->g->count, w = c->facts->http_waiters;
    const char *f = gmodel_str(c->m, c->g->frames[c->hit].func);
    bool reader = strstr(f, "readLoop") != NULL;
    buf_printf(b, "%llu HTTP client connection %s (%s)", (unsigned long long)n, reader ? "read loops" : "write loops",
               f);
    gwait_phrase(b, c->g);
    if (n > w)
        buf_printf(b, ": %llu carry the %llu requests waiting for a response, %llu are idle keep-alive",
                   (unsigned long long)w, (unsigned long long)w, (unsigned long long)(n - w));
    else
        buf_printf(b, ": the connections of the %llu requests waiting for a response", (unsigned long long)w);
    buf_puts(b, reader ? " (their read loops wait for the response that does not come)" :
                         " (their write loops have sent the request and wait for the next)");
}

static bool m_pileup(gctx *c)
{
    c->hit = lock_caller(c->m, c->g);
    if (c->hit < 0) return false;
    glock_site *s = gfacts_lock_site(c->facts, &c->g->frames[c->hit]);
    return (s ? s->waiters : c->g->count) >= c->opt->pileup_min;
}

static const char *lock_kind(const gctx *c)
{
    const char *caller = gmodel_str(c->m, c->g->frames[c->hit - 1].func);
    if (strstr(caller, "RWMutex).RLock")) return "sync.RWMutex.RLock";
    if (strstr(caller, "RWMutex).Lock")) return "sync.RWMutex.Lock";
    return c->state && strncmp(c->state, "sync.", 5) == 0 ? c->state : "sync.Mutex.Lock";
}

static void s_pileup(const gctx *c, buf *b)
{
    glock_site *s = gfacts_lock_site(c->facts, &c->g->frames[c->hit]);
    uint64_t waiters = s ? s->waiters : c->g->count;
    buf_printf(b, "%llu goroutines queued on %s", (unsigned long long)waiters, lock_kind(c));
    gsite_phrase(b, c->m, c->g, c->hit);
    if (s && s->groups > 1) buf_printf(b, " across %u stacks", s->groups);
    if (s && s->wait_max > 0) buf_printf(b, ", the longest for %lld min", (long long)s->wait_max);
    buf_puts(b, "; the holder is slow or stuck: find it among the running or blocked goroutines that hold this lock");
}

static bool m_lock_wait(gctx *c) { return (c->hit = lock_caller(c->m, c->g)) >= 0; }
static void s_lock_wait(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu %s waiting", (unsigned long long)n, gplural(n));
    gwait_phrase(b, c->g);
    buf_printf(b, " on %s", lock_kind(c));
    gsite_phrase(b, c->m, c->g, c->hit);
}

/* A few waiters are normal contention while the waits are short.  A wait
 * of a minute or more (Go prints whole minutes, so at least 60 s) is not:
 * no sound critical section lasts that long, so the holder is itself
 * blocked, on a channel, on I/O or on a second Lock of the same mutex. */
static bool m_lock_stuck(gctx *c) { return c->g->wait_max >= 1 && m_lock_wait(c); }
static void s_lock_stuck(const gctx *c, buf *b)
{
    static const char *const once[] = {"sync.(*Once).Do", "sync.(*Once).doSlow"};
    s_lock_wait(c, b);
    if (gframe_find(c->m, c->g, once, 2) >= 0) {
        buf_puts(b, "; a sync.Once whose first call has not returned: the function given to Do is blocked, "
                    "and every later caller waits for it");
        return;
    }
    buf_puts(b, "; no sound critical section lasts minutes: the holder is blocked too (a lock held across a "
                "channel wait or I/O, or taken twice): look for a goroutine blocked about as long in the code "
                "that takes this lock");
}

static bool m_io(gctx *c)
{
    static const char *const poll[] = {"internal/poll.runtime_pollWait"};
    if (c->state) return strcmp(c->state, "IO wait") == 0 || strcmp(c->state, "syscall") == 0;
    return gframe_find(c->m, c->g, poll, 1) >= 0;
}

static void what_phrase(const gctx *c, buf *b)
{
    if (c->app < 0 && c->what) buf_printf(b, ": %s", c->what);
}

static void s_io(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu %s in %s", (unsigned long long)n, gplural(n), c->state ? c->state : "IO wait");
    gwait_phrase(b, c->g);
    gsite_phrase(b, c->m, c->g, c->where);
    what_phrase(c, b);
}

static bool m_idle(gctx *c) { return c->app < 0; }
static void s_idle(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu %s of the runtime or standard library, %s", (unsigned long long)n, gplural(n),
               c->state ? c->state : "state unknown");
    gsite_phrase(b, c->m, c->g, c->where);
    what_phrase(c, b);
}

/* True when a and b park at different places (their innermost application
 * frames) of one module. */
static bool same_module(const gmodel *m, const ggroup *a, const ggroup *b)
{
    const char *ia = app_func(m, a), *ib = app_func(m, b);
    return strcmp(ia, ib) != 0 && cmp_module(ia, ib) == 0;
}

/* A server keeps one reader per connection; a group parked in the same
 * module, as many or somewhat fewer, is each connection's other loop (a
 * write loop waiting on a Cond or a channel for something to send). */
static bool m_per_connection(gctx *c)
{
    const ggroup *g = c->g;
    if (g->count < 2 || (c->state && !gstate_blocking(c->state))) return false;
    /* The connections: every reader of the module.  Under load some of
     * the other loops are busy (running, flushing), so fewer than that may
     * be parked; and some readers are busy too (handling what they read:
     * not in the readers' group at that moment), so a few more may be
     * parked than readers are counted: a tenth, and one.  Under half, or
     * beyond that margin, is left to the leak rules. */
    uint64_t conns = 0;
    for (size_t i = 0; i < c->facts->nreaders; i++) {
        const ggroup *r = c->facts->readers[i];
        if (r != g && same_module(c->m, r, g)) {
            conns += r->count;
            if (!c->other || r->count > c->other->count) c->other = r;
        }
    }
    return c->other && g->count <= conns + conns / 10 + 1 && 2 * g->count >= conns;
}

static void s_per_connection(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    int ra = ggroup_app_frame(c->m, c->other);
    buf_printf(b, "%llu goroutines parked in %s", (unsigned long long)n, c->state ? c->state : "application code");
    gwait_phrase(b, c->g);
    gsite_phrase(b, c->m, c->g, c->app);
    buf_printf(b, ", one per connection: no more than the connection readers at %s:%u (%s); per-connection state of "
                  "a server, not a leak, while the connections are open",
               gshort_path(gmodel_str(c->m, c->other->frames[ra].file)), c->other->frames[ra].line,
               gmodel_str(c->m, c->other->frames[ra].func));
}

/* The same goes for any object that owns several goroutines (a consumer
 * with a flush loop and a monitor loop; a watch stream with a send loop and
 * a receive loop; a raft group with a file writer and either a leader or a
 * follower loop): loops of one module, parked in equal numbers, or
 * one as many as two others together, are one per object, created and
 * ended together.  Such objects are made by many goroutines (one per
 * stream or request), so this rule comes before the leak rules that count
 * creators; a leak whose size matches another group by chance is missed. */

/* First index of the partner list whose module is not below key's
 * (by_count: whose module is key's and count not below n). */
static size_t partner_lower(const gfacts *f, const char *key, bool by_count, uint64_t n)
{
    size_t lo = 0, hi = f->npartners;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const gpartner *p = &f->partners[mid];
        int cmp = cmp_module(p->key, key);
        if (cmp < 0 || (cmp == 0 && by_count && p->g->count < n)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Parked on another goroutine: not reading the network (debug=1 has no
 * states to say so). */
static bool is_parked(const gmodel *m, const ggroup *g)
{
    static const char *const poll[] = {"internal/poll.runtime_pollWait"};
    return gframe_find(m, g, poll, 1) < 0 && (!g->state || gstate_blocking(gmodel_str(m, g->state)));
}

/* A partner filed under key's module with count n that parks elsewhere
 * than c's group and is not `not` (parked only: a sum of counts is weaker
 * evidence than one equal count, and readers are too common for it). */
static const ggroup *partner_with(const gctx *c, const char *key, uint64_t n, const ggroup *not, bool parked)
{
    const gfacts *f = c->facts;
    const char *fn = app_func(c->m, c->g);
    for (size_t i = partner_lower(f, key, true, n);
         i < f->npartners && f->partners[i].g->count == n && cmp_module(f->partners[i].key, key) == 0; i++) {
        const ggroup *h = f->partners[i].g;
        if (h != c->g && h != not && strcmp(app_func(c->m, h), fn) != 0 && (!parked || is_parked(c->m, h)))
            return h;
    }
    return NULL;
}

#define PER_OBJECT_PAIRS_MAX 64 /* modules with more partners: equal counts only */

/* Under one key: a partner as large, or two that add up. */
static bool in_step(gctx *c, const char *key)
{
    const gfacts *f = c->facts;
    const ggroup *g = c->g;
    if ((c->other = partner_with(c, key, g->count, NULL, false)) != NULL) return true;
    size_t lo = partner_lower(f, key, false, 0), hi = lo;
    while (hi < f->npartners && cmp_module(f->partners[hi].key, key) == 0) hi++;
    if (hi - lo > PER_OBJECT_PAIRS_MAX || !is_parked(c->m, g)) return false;
    for (size_t i = lo; i < hi; i++) {
        const ggroup *h = f->partners[i].g;
        if (h == g || !is_parked(c->m, h) || strcmp(app_func(c->m, h), app_func(c->m, g)) == 0) continue;
        if ((h->count < g->count && partner_with(c, key, g->count - h->count, h, true)) ||
            partner_with(c, key, g->count + h->count, h, true))
            return (c->other = h) != NULL;
    }
    return false;
}

static bool m_per_object(gctx *c)
{
    const ggroup *g = c->g;
    if (g->count < c->opt->leak_min || (c->state && !gstate_blocking(c->state)) || !c->facts->npartners) return false;
    const char *inner = app_func(c->m, g), *entry = entry_func(c->m, g);
    return in_step(c, inner) || (cmp_module(inner, entry) != 0 && in_step(c, entry));
}

static void s_per_object(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    int ha = ggroup_app_frame(c->m, c->other);
    buf_printf(b, "%llu goroutines parked in %s", (unsigned long long)n, c->state ? c->state : "application code");
    gwait_phrase(b, c->g);
    gsite_phrase(b, c->m, c->g, c->app);
    buf_printf(b, ", in step with %s:%u (%s)%s: one of each per object of %.*s, not a leak unless the objects are",
               gshort_path(gmodel_str(c->m, c->other->frames[ha].file)), c->other->frames[ha].line,
               gmodel_str(c->m, c->other->frames[ha].func),
               c->other->count == n ? " (as many)" : " (their counts add up)",
               (int)module_len(app_func(c->m, c->g)), app_func(c->m, c->g));
}

static bool m_forever(gctx *c)
{
    /* The main goroutine has no creator: `select {}` at the end of main is
     * how a server waits for good. */
    return c->app >= 0 && c->g->has_created_by &&
           (gstate_is(c->m, c->g, "chan send (nil chan)") || gstate_is(c->m, c->g, "chan receive (nil chan)") ||
            gstate_is(c->m, c->g, "select (no cases)"));
}
static void s_forever(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu %s blocked forever in %s", (unsigned long long)n, gplural(n), c->state);
    gsite_phrase(b, c->m, c->g, c->app);
    gcreator_phrase(b, c->m, c->g);
}

static void blocked_phrase(const gctx *c, buf *b)
{
    buf_printf(b, "%llu goroutines blocked", (unsigned long long)c->g->count);
    gwait_phrase(b, c->g);
    buf_printf(b, " in %s", c->state);
    gsite_phrase(b, c->m, c->g, c->app);
    gcreator_phrase(b, c->m, c->g);
}

/* True when the goroutine's own function is a closure of its creator
 * (creator "pkg.f", goroutine "pkg.f.func1"): the channel it sends on is
 * most likely one the creating call made for itself. */
static bool closure_of_creator(const gctx *c)
{
    const ggroup *g = c->g;
    const char *creator = gmodel_str(c->m, g->created_by.func);
    size_t n = strlen(creator);
    int top = (int)g->nframes - 1;
    while (top > 0 && strcmp(gmodel_str(c->m, g->frames[top].func), "runtime.goexit") == 0) top--;
    /* `go f(x)` runs f through a wrapper the compiler writes, shown in
     * system tracebacks: "pkg.creator.gowrap1" (Go 1.21+), or before that
     * "pkg.creator.func1" at the line of the go statement itself. */
    const char *entry = gmodel_str(c->m, g->frames[top].func);
    bool wrapper = strstr(entry, ".gowrap") != NULL ||
                   (top > 0 && g->frames[top].line == g->created_by.line &&
                    g->frames[top].file == g->created_by.file && strncmp(entry, creator, n) == 0);
    if (wrapper) entry = gmodel_str(c->m, g->frames[top - 1].func);
    return strncmp(entry, creator, n) == 0 && strncmp(entry + n, ".func", 5) == 0;
}

/* For a send: the goroutine is a closure of its creator, so the channel is
 * most likely one that call made for its answer. */
static void closure_phrase(const gctx *c, buf *b)
{
    if (!c->g->has_created_by || strncmp(c->state, "chan send", 9) != 0 || !closure_of_creator(c)) return;
    buf_printf(b, "; each is a closure of %s left sending on the channel that call made: the call returned "
                  "(a timeout or an error) without receiving",
               gmodel_str(c->m, c->g->created_by.func));
}

/* Started by many goroutines (requests, connections) and parked: nobody
 * comes back for goroutines whose starters are gone. */
static bool m_many_creators(gctx *c)
{
    return blocked_in_app(c) && c->g->count >= c->opt->leak_min && (c->g->nparents > 1 || c->g->parents_truncated);
}
static void s_many_creators(const gctx *c, buf *b)
{
    blocked_phrase(c, b);
    advice_phrase(b, c->state);
}

/* A worker pool parks on a receive; goroutines parked on a send are each
 * waiting for one receiver, and when that many of them wait, the
 * receivers have left: the per-call channel pattern whose caller gave up. */
static bool m_abandoned_send(gctx *c)
{
    return blocked_in_app(c) && c->g->has_created_by && c->g->count >= c->opt->leak_min &&
           strncmp(c->state, "chan send", 9) == 0;
}

static void s_abandoned_send(const gctx *c, buf *b)
{
    blocked_phrase(c, b);
    if (c->g->id_max) ids_phrase(b, c->g);
    closure_phrase(c, b);
    advice_phrase(b, c->state);
}

/* One creator, parked, and created one by one over time: a long-lived
 * loop that leaves a goroutine behind on every round. */
static bool m_spread(gctx *c) { return blocked_in_app(c) && c->g->count >= c->opt->leak_min && ids_spread(c->g); }
static void s_spread(const gctx *c, buf *b)
{
    blocked_phrase(c, b);
    ids_phrase(b, c->g);
    buf_puts(b, ", not a pool started at once");
    closure_phrase(c, b);
    advice_phrase(b, c->state);
}

/* Before Go 1.21 a dump names no creating goroutine, and a closure started
 * once per call of the function that encloses it ("pkg.f.func1" created by
 * "pkg.f") looks, by ids alone, like a pool started in a loop.  A closure
 * parked on a channel or select of its own, this many times, is judged as
 * later releases judge it: one per call, left behind. */
static bool m_closure_unknown_parent(gctx *c)
{
    return blocked_in_app(c) && c->g->count >= c->opt->leak_min && c->g->has_created_by && c->g->nparents == 0 &&
           closure_of_creator(c);
}
static void s_closure_unknown_parent(const gctx *c, buf *b)
{
    blocked_phrase(c, b);
    buf_printf(b, "; each is a closure of %s, started once per call: this Go release (before 1.21) does not say "
                  "which goroutines called it, so a pool of closures started in one loop looks the same: compare "
                  "with a dump taken later",
               gmodel_str(c->m, c->g->created_by.func));
    advice_phrase(b, c->state);
}

/* An HTTP server runs each connection's requests on a goroutine that its
 * accept loop (net/http.(*Server).Serve) starts.  Handlers blocked in
 * application code are requests in progress, not a pool waiting for work,
 * whatever their ids say: they arrive when clients send them.  One dump
 * cannot tell a slow handler from a stuck one; the wait time and a later
 * dump can. */
static bool m_request_handler(gctx *c)
{
    static const char *const serve[] = {"net/http.(*conn).serve"};
    if (!blocked_in_app(c)) return false;
    if (c->g->has_created_by && gfunc_named(gmodel_str(c->m, c->g->created_by.func), "net/http.(*Server).Serve"))
        return true;
    return gframe_find(c->m, c->g, serve, 1) >= 0;
}
static void s_request_handler(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu HTTP %s in progress, %s handler%s blocked in %s", (unsigned long long)n,
               n == 1 ? "request" : "requests", n == 1 ? "its" : "their", n == 1 ? "" : "s", c->state);
    gwait_phrase(b, c->g);
    gsite_phrase(b, c->m, c->g, c->app);
    buf_puts(b, ", each holding its client's connection until the handler returns: find what the handler waits "
                "for (a context deadline or http.TimeoutHandler bounds the wait)");
}

/* The healthy look-alike: started together, parked waiting for work. */
static bool m_pool_tight(gctx *c) { return blocked_in_app(c) && c->g->count > 1 && one_creator(c->g) && ids_tight(c->g); }
static void s_pool_tight(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    buf_printf(b, "%llu goroutines in %s", (unsigned long long)n, c->state);
    gwait_phrase(b, c->g);
    gsite_phrase(b, c->m, c->g, c->app);
    buf_printf(b, ", started together by %s", gmodel_str(c->m, c->g->created_by.func));
    ids_phrase(b, c->g);
    bool receives = strncmp(c->state, "chan receive", 12) == 0 || strncmp(c->state, "select", 6) == 0;
    buf_puts(b, receives ? ": a pool waiting for work" : ": started at once, waiting together");
}

/* debug=1 hides the runtime frames: a parked goroutine's top visible frame
 * is the application call that blocks, or the sync wait it called. */
static bool m_parked1(gctx *c)
{
    static const char *const sync_waits[] = {
        "sync.runtime_notifyListWait", "sync.(*Cond).Wait", "sync.runtime_SemacquireWaitGroup",
        "sync.runtime_Semacquire", "sync.(*WaitGroup).Wait",
    };
    static const char *const sleep[] = {"time.Sleep"};
    if (c->state || c->app < 0 || c->g->count < c->opt->leak_min) return false;
    for (int i = 0; i < c->app; i++) {
        const char *f = gmodel_str(c->m, c->g->frames[i].func);
        bool known = false;
        for (size_t k = 0; k < sizeof sync_waits / sizeof *sync_waits; k++) known |= gfunc_named(f, sync_waits[k]);
        if (!known) return false;
    }
    return gframe_find(c->m, c->g, sleep, 1) < 0;
}
static void s_parked1(const gctx *c, buf *b)
{
    buf_printf(b, "%llu goroutines parked", (unsigned long long)c->g->count);
    gsite_phrase(b, c->m, c->g, c->app);
    if (c->app > 0) buf_printf(b, " in %s", gmodel_str(c->m, c->g->frames[0].func));
    buf_puts(b, "; a debug=1 dump has no states, wait times, creators or ids, so an idle pool this large looks "
                "the same: confirm with a debug=2 dump (--full)");
}

static bool m_any(gctx *c) { return c != NULL; }
static void s_other(const gctx *c, buf *b)
{
    uint64_t n = c->g->count;
    if (c->state) buf_printf(b, "%llu %s in %s", (unsigned long long)n, gplural(n), c->state);
    else buf_printf(b, "%llu %s, state unknown (debug=1),", (unsigned long long)n, gplural(n));
    gwait_phrase(b, c->g);
    gsite_phrase(b, c->m, c->g, c->app >= 0 ? c->app : c->where);
    what_phrase(c, b);
    if (blocked_in_app(c) && one_creator(c->g) && n > 1)
        buf_printf(b, ", all started by %s", gmodel_str(c->m, c->g->created_by.func));
}

static const grule rules[] = {
    {"leak-profile", GCLASS_LEAK, m_leak_profile, s_leak_profile},
    {"runtime-leaked", GCLASS_LEAK, m_leaked, s_leaked},
    {"running", GCLASS_RUNNING, m_running, s_running},
    {"deadlock", GCLASS_DEADLOCKED, m_deadlock, s_deadlock},
    {"pool-wait", GCLASS_POOL_WAIT, m_pool, s_pool},
    {"net-write", GCLASS_NET_WRITE, m_net_write, s_net_write},
    {"upstream-wait", GCLASS_UPSTREAM_WAIT, m_upstream, s_upstream},
    {"upstream-connection", GCLASS_UPSTREAM_WAIT, m_upstream_loop, s_upstream_loop},
    {"lock-pileup", GCLASS_PILEUP, m_pileup, s_pileup},
    {"lock-stuck", GCLASS_PILEUP, m_lock_stuck, s_lock_stuck},
    {"lock-wait", GCLASS_OTHER, m_lock_wait, s_lock_wait},
    {"io-wait", GCLASS_IO_WAIT, m_io, s_io},
    {"idle", GCLASS_IDLE, m_idle, s_idle},
    {"per-connection", GCLASS_OTHER, m_per_connection, s_per_connection},
    {"blocked-forever", GCLASS_LEAK, m_forever, s_forever},
    {"per-object", GCLASS_OTHER, m_per_object, s_per_object},
    {"request-handler", GCLASS_OTHER, m_request_handler, s_request_handler},
    {"leak-many-creators", GCLASS_LEAK, m_many_creators, s_many_creators},
    {"leak-spread-ids", GCLASS_LEAK, m_spread, s_spread},
    {"leak-abandoned-send", GCLASS_LEAK, m_abandoned_send, s_abandoned_send},
    {"leak-closure-per-call", GCLASS_LEAK, m_closure_unknown_parent, s_closure_unknown_parent},
    {"pool", GCLASS_OTHER, m_pool_tight, s_pool_tight},
    {"parked-debug1", GCLASS_LEAK, m_parked1, s_parked1},
    {"other", GCLASS_OTHER, m_any, s_other},
};

const grule *grule_first(gctx *c)
{
    size_t last = sizeof rules / sizeof *rules - 1;
    for (size_t i = 0; i < last; i++) {
        c->hit = -1;
        c->other = NULL;
        if (rules[i].match(c)) return &rules[i];
    }
    return &rules[last];
}

size_t gclassify_rule_count(void) { return sizeof rules / sizeof *rules; }

const char *gclassify_rule_name(size_t i) { return i < gclassify_rule_count() ? rules[i].name : NULL; }
