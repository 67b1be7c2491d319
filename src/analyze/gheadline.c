/* gheadline.c - the dump's headline in words; see gheadline.h. */
#include "gheadline.h"
#include "gclassify_int.h"
#include "../util/xalloc.h"

#include <stdlib.h>
#include <string.h>

const char *gheadline_kind_name(gheadline_kind k)
{
    switch (k) {
    case GHEAD_DEADLOCK: return "deadlock";
    case GHEAD_TEST_TIMEOUT: return "test-timeout";
    case GHEAD_CONCURRENT_MAP: return "concurrent-map";
    case GHEAD_PANIC: return "panic";
    case GHEAD_FATAL: return "fatal";
    case GHEAD_SIGNAL: return "signal";
    default: return "none";
    }
}

static bool holds_id(const ggroup *g, uint64_t id)
{
    for (uint32_t i = 0; i < g->nids; i++)
        if (g->ids[i] == id) return true;
    return g->count == 1 && g->id_min == id;
}

const ggroup *gheadline_culprit(const gmodel *m)
{
    uint64_t id = m->headline.goroutine;
    if (!id) return NULL;
    for (size_t i = 0; i < m->ngroups; i++)
        if (holds_id(&m->groups[i], id)) return &m->groups[i];
    return NULL;
}

/* The first running test's top-level name ("TestX" of "TestX/sub (3s)"),
 * copied into out; false when there is none. */
static bool first_test(const gmodel *m, char *out, size_t cap)
{
    const char *t = m->headline.running_tests;
    if (!t) return false;
    t += strspn(t, " \t\n");
    size_t n = strcspn(t, " /\t\n(");
    if (n == 0 || n >= cap) return false;
    memcpy(out, t, n);
    out[n] = '\0';
    return true;
}

/* True when func is pkg.Test or a closure in it (pkg.Test.func1). */
static bool runs_test(const char *func, const char *test)
{
    const char *slash = strrchr(func, '/');
    const char *dot = strchr(slash ? slash : func, '.');
    if (!dot) return false;
    size_t n = strlen(test);
    return strncmp(dot + 1, test, n) == 0 && (dot[1 + n] == '\0' || dot[1 + n] == '.');
}

/* Where g runs the test: the index of its frame in test (or a closure of
 * it), or -1. */
static int test_frame(const gmodel *m, const ggroup *g, const char *test)
{
    for (uint32_t k = 0; k < g->nframes; k++)
        if (runs_test(gmodel_str(m, g->frames[k].func), test)) return (int)k;
    return -1;
}

/* A subtest runs a closure of its parent test straight under tRunner. */
static bool runs_subtest(const gmodel *m, const ggroup *g, int k)
{
    return strstr(gmodel_str(m, g->frames[k].func), ".func") != NULL && (uint32_t)k + 1 < g->nframes &&
           strcmp(gmodel_str(m, g->frames[k + 1].func), "testing.tRunner") == 0;
}

/* Before Go 1.20 a timeout lists no running tests: the test's goroutine
 * is then the one whose frame right under testing.tRunner is a Test
 * function (a subtest's closure if there is one). */
static const ggroup *tested_group(const gmodel *m)
{
    const ggroup *found = NULL;
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        for (uint32_t k = 0; k + 1 < g->nframes; k++) {
            if (strcmp(gmodel_str(m, g->frames[k + 1].func), "testing.tRunner") != 0) continue;
            const char *f = gmodel_str(m, g->frames[k].func);
            const char *slash = strrchr(f, '/');
            const char *dot = strchr(slash ? slash : f, '.');
            if (!dot || strncmp(dot + 1, "Test", 4) != 0) continue;
            if (strstr(dot, ".func")) return g;
            if (!found) found = g;
        }
    }
    return found;
}

const ggroup *gheadline_test_group(const gmodel *m)
{
    char test[256];
    if (m->headline.kind != GHEAD_TEST_TIMEOUT) return NULL;
    if (!m->headline.running_tests) return tested_group(m);
    if (!first_test(m, test, sizeof test)) return NULL;
    /* With subtests running ("TestX/sub"), the stuck one is the innermost:
     * the goroutine of a subtest is preferred to its parent's, which only
     * waits for it in t.Run. */
    bool sub = strchr(m->headline.running_tests, '/') != NULL;
    const ggroup *found = NULL;
    for (size_t i = 0; i < m->ngroups; i++) {
        const ggroup *g = &m->groups[i];
        int k = test_frame(m, g, test);
        if (k < 0) continue;
        if (!sub || runs_subtest(m, g, k)) return g;
        if (!found) found = g;
    }
    return found;
}

/* Per thread: reef watch orders the models of several targets at once. */
static _Thread_local const gmodel *order_model;

static bool app_blocked(const ggroup *g)
{
    return g->cls != GCLASS_RUNNING && ggroup_app_frame(order_model, g) >= 0;
}

static int cmp_longest(const void *pa, const void *pb)
{
    const ggroup *a = *(const ggroup *const *)pa, *b = *(const ggroup *const *)pb;
    bool xa = app_blocked(a), xb = app_blocked(b);
    if (xa != xb) return xa ? -1 : 1;
    if (xa && a->wait_max != b->wait_max) return a->wait_max > b->wait_max ? -1 : 1;
    return (a > b) - (a < b); /* the model's order (largest first) */
}

void gheadline_order(const gmodel *m, const ggroup **groups, size_t n)
{
    if (m->headline.kind != GHEAD_TEST_TIMEOUT || n < 2) return;
    order_model = m;
    qsort(groups, n, sizeof *groups, cmp_longest);
    order_model = NULL;
}

static void where_phrase(buf *b, const gmodel *m, const ggroup *g)
{
    int app = ggroup_app_frame(m, g);
    if (g->state) buf_printf(b, " %s", gmodel_str(m, g->state));
    if (g->cls != GCLASS_RUNNING) gwait_phrase(b, g);
    gsite_phrase(b, m, g, app >= 0 ? app : 0);
}

static void explain_deadlock(const gmodel *m, buf *b)
{
    uint64_t n = 0;
    unsigned shown = 0, groups = 0;
    for (size_t i = 0; i < m->ngroups; i++)
        if (m->groups[i].cls == GCLASS_DEADLOCKED) n += m->groups[i].count, groups++;
    buf_printf(b, "  %llu goroutines in %u groups are blocked for good; who waits on what:\n", (unsigned long long)n,
               groups);
    for (size_t i = 0; i < m->ngroups && shown < 8; i++) {
        const ggroup *g = &m->groups[i];
        if (g->cls != GCLASS_DEADLOCKED) continue;
        buf_printf(b, "    %llu in", (unsigned long long)g->count);
        where_phrase(b, m, g);
        buf_puts(b, "\n");
        shown++;
    }
    if (shown < groups) buf_printf(b, "    and %u more groups\n", groups - shown);
    buf_puts(b, "  (a dump never says which goroutine holds a lock, and names a lock or channel only by an "
                "address among a frame's arguments, which reef does not compare: the holder is among these, "
                "a goroutine that took the lock and then blocked on something else)\n");
}

static void explain_timeout(const gmodel *m, buf *b)
{
    const char *t = m->headline.running_tests;
    if (t) {
        buf_puts(b, "  running tests:");
        for (const char *p = t; *p;) {
            p += strspn(p, " \t\n");
            size_t n = strcspn(p, "\n");
            if (n) buf_printf(b, " %.*s", (int)n, p);
            p += n;
        }
        buf_puts(b, "\n");
    }
    const ggroup *g = gheadline_test_group(m);
    if (g) {
        buf_puts(b, strchr(t ? t : "", '/') ? "  the innermost running test's goroutine:" : "  the test's goroutine:");
        where_phrase(b, m, g);
        buf_puts(b, "\n");
    }
    buf_puts(b, "  below, goroutines in application code come first, blocked longest first\n");
}

static void explain_culprit(const gmodel *m, buf *b, const char *verb)
{
    const ggroup *g = gheadline_culprit(m);
    if (!m->headline.goroutine) return;
    buf_printf(b, "  goroutine %llu %s", (unsigned long long)m->headline.goroutine, verb);
    if (g) where_phrase(b, m, g);
    buf_puts(b, "\n");
}

void gheadline_explain(const gmodel *m, buf *b)
{
    switch (m->headline.kind) {
    case GHEAD_DEADLOCK: explain_deadlock(m, b); break;
    case GHEAD_TEST_TIMEOUT: explain_timeout(m, b); break;
    case GHEAD_CONCURRENT_MAP:
        explain_culprit(m, b, "threw it,");
        buf_puts(b, "  a map was used by two goroutines at once without a lock: guard it with a sync.Mutex "
                    "(or use sync.Map); `go test -race` shows both sides\n");
        break;
    case GHEAD_PANIC: explain_culprit(m, b, "panicked,"); break;
    case GHEAD_FATAL: explain_culprit(m, b, "threw it,"); break;
    case GHEAD_SIGNAL:
        if (m->headline.message && strncmp(m->headline.message, "SIGQUIT", 7) == 0)
            buf_puts(b, "  a SIGQUIT dump: the process was asked for its goroutines (and exits), not a crash\n");
        break;
    default: break;
    }
}
