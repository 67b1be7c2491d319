/* gclassify.c - classification of goroutine groups; see gclassify.h.
 *
 * The verdicts are a table (rules[] below): each rule has a name, the class
 * it gives, a test of the evidence and a sentence saying what was seen.  The
 * first rule whose test holds decides.  Order matters and is deliberate: what
 * the runtime itself proved (its leak profile, "(leaked)", a deadlock) comes
 * first; then what a frame says for certain (a pool wait, a request waiting
 * for its response, a lock wait, a network write); then the inferences about
 * groups blocked in application code, each beside the healthy look-alike
 * that must not fire.  docs/goroutines.md says why each rule holds. */
#include "gclassify.h"
#include "gclassify_int.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Top-level directories of GOROOT/src (Go 1.26) that hold packages. */
static const char *const std_roots[] = {
    "archive", "arena", "bufio", "builtin", "bytes", "cmd", "cmp", "compress", "container", "context",
    "crypto", "database", "debug", "embed", "encoding", "errors", "expvar", "flag", "fmt", "go",
    "hash", "html", "image", "index", "internal", "io", "iter", "log", "maps", "math", "mime", "net",
    "os", "path", "plugin", "reflect", "regexp", "runtime", "simd", "slices", "sort", "strconv",
    "strings", "structs", "sync", "syscall", "testing", "text", "time", "unicode", "unique", "unsafe",
    "vendor", "weak",
};

bool gfunc_is_std(const char *func)
{
    /* The first element of the package path, compared whole: it ends at the
     * first '/' when the path has one ("go.etcd.io/etcd/..." is not "go"),
     * else at the '.' before the function name ("fmt.Println"). */
    size_t n = strchr(func, '/') ? strcspn(func, "/") : strcspn(func, ".");
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

size_t gfunc_pkg_len(const char *func)
{
    const char *slash = strrchr(func, '/');
    const char *from = slash ? slash + 1 : func;
    return (size_t)(from - func) + strcspn(from, ".");
}

bool gfunc_named(const char *func, const char *name)
{
    /* Exact, or the same function vendored: ".../vendor/" + name. */
    size_t lf = strlen(func), ln = strlen(name);
    if (lf < ln || strcmp(func + lf - ln, name) != 0) return false;
    return lf == ln || func[lf - ln - 1] == '/';
}

int gframe_find(const gmodel *m, const ggroup *g, const char *const *names, size_t nnames)
{
    for (uint32_t i = 0; i < g->nframes; i++) {
        const char *f = gmodel_str(m, g->frames[i].func);
        for (size_t k = 0; k < nnames; k++)
            if (gfunc_named(f, names[k])) return (int)i;
    }
    return -1;
}

bool gstate_is(const gmodel *m, const ggroup *g, const char *s)
{
    return g->state && strcmp(gmodel_str(m, g->state), s) == 0;
}

bool ggroup_is_running(const gmodel *m, const ggroup *g)
{
    return g->unavailable || gstate_is(m, g, "running") || gstate_is(m, g, "runnable") ||
           gstate_is(m, g, "preempted") || gstate_is(m, g, "copystack");
}

/* Waits that last for ever when the other side is gone. */
bool gstate_blocking(const char *s)
{
    static const char *const waits[] = {
        "chan send", "chan receive", "select", "chan send (nil chan)", "chan receive (nil chan)",
        "select (no cases)", "sync.Cond.Wait", "sync.WaitGroup.Wait", "semacquire",
        "chan send (durable)", "chan receive (durable)", "select (durable)",
        "sync.WaitGroup.Wait (durable)",
    };
    if (!s) return false;
    for (size_t i = 0; i < sizeof waits / sizeof *waits; i++)
        if (strcmp(s, waits[i]) == 0) return true;
    return false;
}

/* ---- frames that say what a wait is ---- */

const char *const gpool_waits[] = {
    "net/http.(*Transport).getConn",
    "net/http.(*http2ClientConn).awaitOpenSlotForStream",
    "golang.org/x/net/http2.(*ClientConn).awaitOpenSlotForStream",
    "database/sql.(*DB).conn",
};
const size_t gpool_nwaits = sizeof gpool_waits / sizeof *gpool_waits;

/* An outbound HTTP request sent, waiting for the response headers. */
const char *const gupstream_waits[] = {
    "net/http.(*persistConn).roundTrip",
    "net/http.(*http2ClientConn).roundTrip",
    "net/http.(*http2ClientConn).RoundTrip",
    "golang.org/x/net/http2.(*ClientConn).roundTrip",
    "golang.org/x/net/http2.(*ClientConn).RoundTrip",
};
const size_t gupstream_nwaits = sizeof gupstream_waits / sizeof *gupstream_waits;

/* The per-connection loops of an HTTP client connection. */
const char *const gclient_loops[] = {
    "net/http.(*persistConn).readLoop",
    "net/http.(*persistConn).writeLoop",
    "net/http.(*http2ClientConn).readLoop",
    "golang.org/x/net/http2.(*ClientConn).readLoop",
};
const size_t gclient_nloops = sizeof gclient_loops / sizeof *gclient_loops;

/* Blocked writing to a peer: the socket buffer is full, or a flow-control
 * window is empty. */
const char *const gnet_writes[] = {
    "internal/poll.(*FD).Write",
    "internal/poll.(*FD).Writev",
    "internal/poll.(*FD).WriteMsg",
    "internal/poll.(*FD).WriteTo",
    "google.golang.org/grpc/internal/transport.(*writeQuota).get",
    "net/http.(*http2clientStream).awaitFlowControl",
    "golang.org/x/net/http2.(*clientStream).awaitFlowControl",
    "net/http.(*http2serverConn).writeDataFromHandler",
    "golang.org/x/net/http2.(*serverConn).writeDataFromHandler",
};
const size_t gnet_nwrites = sizeof gnet_writes / sizeof *gnet_writes;

/* Reading from a connection: the per-connection reader of a server. */
const char *const gconn_reads[] = {
    "net.(*conn).Read",
    "crypto/tls.(*Conn).Read",
    "net.(*UnixConn).Read",
    "net.(*TCPConn).Read",
};
const size_t gconn_nreads = sizeof gconn_reads / sizeof *gconn_reads;

/* Standard-library frames that say what a goroutine does better than the
 * runtime frames under them (internal/poll.runtime_pollWait says nothing). */
typedef struct telling {
    const char *func;
    const char *what;
} telling;

static const telling tellings[] = {
    {"net/http.(*persistConn).roundTrip", "an outbound HTTP request waiting for its response"},
    {"net/http.(*persistConn).readLoop", "an HTTP client connection's read loop"},
    {"net/http.(*persistConn).writeLoop", "an HTTP client connection's write loop"},
    {"net/http.(*conn).readRequest", "reading a request's headers: an idle keep-alive client, or a slow one (ReadHeaderTimeout)"},
    {"net/http.(*conn).serve", "an HTTP server connection waiting for the client's next request (idle keep-alive, or a slow client: IdleTimeout, ReadHeaderTimeout)"},
    {"net/http.(*connReader).backgroundRead", "watching for the client to go away while a handler runs"},
    {"net/http.(*Transport).dialConnFor", "dialing an upstream"},
    {"net/http.(*http2serverConn).readFrames", "an HTTP/2 server connection's frame reader"},
    {"net/http.(*http2serverConn).serve", "an HTTP/2 server connection's loop"},
    {"net/http.(*http2ClientConn).readLoop", "an HTTP/2 client connection's read loop"},
    {"golang.org/x/net/http2.(*serverConn).readFrames", "an HTTP/2 server connection's frame reader"},
    {"golang.org/x/net/http2.(*serverConn).serve", "an HTTP/2 server connection's loop"},
    {"google.golang.org/grpc/internal/transport.(*http2Client).reader", "a gRPC client connection's reader"},
    {"google.golang.org/grpc/internal/transport.(*http2Server).HandleStreams", "a gRPC server connection's reader"},
    {"google.golang.org/grpc/internal/transport.(*controlBuffer).get", "a gRPC connection's writer, waiting for frames"},
    {"google.golang.org/grpc/internal/transport.(*recvBufferReader).read", "a gRPC stream waiting for a message"},
    {"net/http.(*Server).Serve", "accepting connections"},
    {"net.(*TCPListener).Accept", "accepting connections"},
    {"database/sql.(*DB).connectionOpener", "database/sql's connection opener"},
    {"os/signal.signal_recv", "waiting for signals"},
    {"time.Sleep", "sleeping"},
};

int gtelling_frame(const gmodel *m, const ggroup *g, const char **what)
{
    for (uint32_t i = 0; i < g->nframes; i++) {
        const char *f = gmodel_str(m, g->frames[i].func);
        for (size_t k = 0; k < sizeof tellings / sizeof *tellings; k++) {
            if (gfunc_named(f, tellings[k].func)) {
                if (what) *what = tellings[k].what;
                return (int)i;
            }
        }
    }
    return -1;
}

/* ---- phrases ---- */

const char *gplural(uint64_t n) { return n == 1 ? "goroutine" : "goroutines"; }

void gwait_phrase(buf *b, const ggroup *g)
{
    if (g->wait_max < 0) return;
    if (g->wait_max == 0) buf_puts(b, " <1 min");
    else if (g->wait_min == g->wait_max) buf_printf(b, " %lld min", (long long)g->wait_max);
    else buf_printf(b, " %lld-%lld min", (long long)g->wait_min, (long long)g->wait_max);
}

void gsite_phrase(buf *b, const gmodel *m, const ggroup *g, int frame)
{
    if (frame < 0 || (uint32_t)frame >= g->nframes) return;
    const gframe *f = &g->frames[frame];
    buf_printf(b, " at %s:%u", gshort_path(gmodel_str(m, f->file)), f->line);
    buf_printf(b, " (%s)", gmodel_str(m, f->func));
}

void gcreator_phrase(buf *b, const gmodel *m, const ggroup *g)
{
    if (!g->has_created_by) return;
    buf_printf(b, ", created by %s", gmodel_str(m, g->created_by.func));
    if (g->nparents > 1 || g->parents_truncated)
        buf_printf(b, " in %s%u goroutines", g->parents_truncated ? "over " : "", g->nparents);
    else if (g->nparents == 1)
        buf_printf(b, " in goroutine %llu", (unsigned long long)g->parents[0]);
}

/* ---- the driver ---- */

static void classify_one(gmodel *m, ggroup *g, const gclassify_options *opt, const gfacts *facts)
{
    gctx c = {.m = m, .g = g, .opt = opt, .facts = facts, .hit = -1};
    c.state = g->state ? gmodel_str(m, g->state) : NULL;
    c.app = ggroup_app_frame(m, g);
    c.where = c.app;
    if (c.where < 0) {
        /* No application frame: the frame that says what the goroutine
         * is, else the function it was started in. */
        c.where = gtelling_frame(m, g, &c.what);
        if (c.where < 0) {
            int i = (int)g->nframes - 1;
            while (i > 0 && strcmp(gmodel_str(m, g->frames[i].func), "runtime.goexit") == 0) i--;
            c.where = i > 0 ? i : 0;
        }
    }
    const grule *r = grule_first(&c);
    buf b = {0};
    r->say(&c, &b);
    g->cls = r->cls;
    g->rule = r->name;
    free(g->reason);
    g->reason = xstrdup(buf_cstr(&b));
    buf_free(&b);
}

void gclassify(gmodel *m, const gclassify_options *opt)
{
    gclassify_options o = *opt;
    if (!o.leak_min) o.leak_min = GCLASSIFY_DEFAULT_LEAK_MIN;
    if (!o.pileup_min) o.pileup_min = GCLASSIFY_DEFAULT_PILEUP_MIN;

    gfacts facts;
    gfacts_collect(&facts, m, o.leak_min);
    for (size_t i = 0; i < m->ngroups; i++) classify_one(m, &m->groups[i], &o, &facts);
    gfacts_free(&facts);
    gdistinct_reasons(m);
}
