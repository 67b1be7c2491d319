/* test_model.c - grouping, aggregates and caps of the goroutine model,
 * and the classifier's rules on hand-built groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyze/gclassify.h"
#include "model/goroutines.h"

#include <stdio.h>
#include <string.h>

static void add(gmodel *m, const char *key, const char *state, uint64_t id, uint64_t parent, int64_t minutes)
{
    ggoroutine g = {.id = id, .count = 1, .state = state, .state_len = strlen(state), .wait_minutes = minutes,
                    .parent_id = parent, .key = key, .key_len = strlen(key)};
    gmodel_add(m, &g);
}

static void test_caps_and_aggregates(void **state)
{
    (void)state;
    gmodel m;
    gmodel_init(&m);
    const char *key = "main.f\x01/a.go:1\n\x03main.g\x01/a.go:9\n";
    for (uint64_t i = 1; i <= 100; i++) add(&m, key, "chan send", 1000 + i, i, (int64_t)(i % 7));
    add(&m, key, "chan receive", 5000, 1, 0); /* another state: another group */
    assert_int_equal(m.ngroups, 2);
    assert_int_equal(m.total, 101);
    gmodel_sort(&m);
    ggroup *g = &m.groups[0];
    assert_int_equal(g->count, 100);
    assert_int_equal(g->wait_min, 0);
    assert_int_equal(g->wait_max, 6);
    assert_int_equal(g->nparents, GGROUP_MAX_PARENTS);
    assert_true(g->parents_truncated);
    assert_int_equal(g->nids, GGROUP_MAX_IDS);
    assert_int_equal(g->nframes, 1);
    assert_string_equal(gmodel_str(&m, g->created_by.func), "main.g");
    assert_int_equal(g->created_by.line, 9);
    gmodel_free(&m);
}

static void test_std_library_names(void **state)
{
    (void)state;
    assert_true(gfunc_is_std("runtime.gopark"));
    assert_true(gfunc_is_std("net/http.(*Transport).getConn"));
    assert_true(gfunc_is_std("internal/poll.runtime_pollWait"));
    assert_true(gfunc_is_std("vendor/golang.org/x/net/http2/hpack.(*Decoder).Write"));
    assert_false(gfunc_is_std("main.main"));
    assert_false(gfunc_is_std("github.com/x/y.(*Z).Run"));
    assert_false(gfunc_is_std("golang.org/x/net/http2.(*ClientConn).roundTrip"));
    assert_false(gfunc_is_std("mymodule/internal/x.F"));
    assert_string_equal(gshort_path("/src/app/leak/main.go"), "leak/main.go");
    assert_string_equal(gshort_path("main.go"), "main.go");
}

/* n goroutines of one stack; spread: waits of 0-2 minutes, else all
 * `wait` minutes. */
static gclass classify_waiting(const char *key, const char *state, uint64_t n, bool distinct_parents, bool spread,
                               int64_t wait)
{
    gmodel m;
    gmodel_init(&m);
    for (uint64_t i = 0; i < n; i++)
        add(&m, key, state, i + 10, distinct_parents ? i + 100 : 1, spread ? (int64_t)(i % 3) : wait);
    gclassify_options o = {0};
    gclassify(&m, &o);
    gclass c = m.groups[0].cls;
    gmodel_free(&m);
    return c;
}

static gclass classify_one(const char *key, const char *state, uint64_t n, bool distinct_parents, bool spread)
{
    return classify_waiting(key, state, n, distinct_parents, spread, 5);
}

static void test_classes(void **state)
{
    (void)state;
    const char *chan = "main.leak\x01/a.go:25\n\x03main.start\x01/a.go:20\n";
    assert_int_equal(classify_one(chan, "chan send", 50, true, false), GCLASS_LEAK);
    assert_int_equal(classify_one(chan, "chan send", 50, false, true), GCLASS_LEAK);
    /* A pool: one parent, one start time. */
    assert_int_equal(classify_one(chan, "chan receive", 50, false, false), GCLASS_OTHER);
    assert_int_equal(classify_one(chan, "chan send", 5, true, true), GCLASS_OTHER);
    assert_int_equal(classify_one(chan, "chan receive (nil chan)", 1, false, false), GCLASS_LEAK);
    const char *lock = "internal/sync.runtime_SemacquireMutex\x01/go/src/runtime/sema.go:95\n"
                       "sync.(*Mutex).Lock\x01/go/src/sync/mutex.go:46\n"
                       "main.get\x01/a.go:40\n";
    assert_int_equal(classify_one(lock, "sync.Mutex.Lock", 30, false, false), GCLASS_PILEUP);
    assert_int_equal(classify_one(lock, "semacquire", 30, false, false), GCLASS_PILEUP);
    /* A few waiters are contention while their waits are short; a lock
     * waited on for minutes has a stuck holder, however few wait. */
    assert_int_equal(classify_waiting(lock, "sync.Mutex.Lock", 3, false, false, 0), GCLASS_OTHER);
    assert_int_equal(classify_waiting(lock, "sync.Mutex.Lock", 3, false, false, -1), GCLASS_OTHER);
    assert_int_equal(classify_waiting(lock, "sync.Mutex.Lock", 1, false, false, 1), GCLASS_PILEUP);
    assert_int_equal(classify_one(lock, "sync.Mutex.Lock", 3, false, false), GCLASS_PILEUP);
    const char *pool = "runtime.selectgo\x01/go/src/runtime/select.go:351\n"
                       "net/http.(*Transport).getConn\x01/go/src/net/http/transport.go:1535\n"
                       "main.fetch\x01/a.go:60\n";
    assert_int_equal(classify_one(pool, "select", 3, false, false), GCLASS_POOL_WAIT);
    const char *io = "internal/poll.runtime_pollWait\x01/go/src/runtime/netpoll.go:351\n"
                     "net/http.(*conn).serve\x01/go/src/net/http/server.go:2102\n";
    assert_int_equal(classify_one(io, "IO wait", 3, false, false), GCLASS_IO_WAIT);
    const char *idle = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                       "runtime.runfinq\x01/go/src/runtime/mfinal.go:196\n";
    assert_int_equal(classify_one(idle, "finalizer wait", 1, false, false), GCLASS_IDLE);
    assert_int_equal(classify_one(chan, "running", 1, false, false), GCLASS_RUNNING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps_and_aggregates),
        cmocka_unit_test(test_std_library_names),
        cmocka_unit_test(test_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
