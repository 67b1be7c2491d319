/* test_classify.c - the rule table of goroutine classes on hand-built
 * groups: each rule beside the healthy look-alike that must not fire, the
 * headline's effect on classes and order, and distinct reasons.  Stacks
 * are written as Go prints them (functions, files and wait states taken
 * from real dumps); the expected class is what the stack is, as a Go
 * engineer reads it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyze/gclassify.h"
#include "analyze/gheadline.h"
#include "model/goroutines.h"
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

/* Adds n goroutines: ids from id, step apart; parent 0 (none printed),
 * one parent, or a distinct parent each. */
enum parents { NO_PARENT, ONE_PARENT, MANY_PARENTS };

static void add_n(gmodel *m, const char *key, const char *state, uint64_t n, uint64_t id, uint64_t step,
                  enum parents p)
{
    for (uint64_t i = 0; i < n; i++) {
        ggoroutine g = {.id = id + i * step, .count = 1, .state = state, .state_len = state ? strlen(state) : 0,
                        .wait_minutes = state ? 0 : -1, .key = key, .key_len = strlen(key)};
        g.parent_id = p == ONE_PARENT ? 7 : p == MANY_PARENTS ? 100000 + i : 0;
        gmodel_add(m, &g);
    }
}

/* A debug=1 block: no state, no id, a count. */
static void add_block(gmodel *m, const char *key, uint64_t count)
{
    ggoroutine g = {.count = count, .wait_minutes = -1, .key = key, .key_len = strlen(key)};
    gmodel_add(m, &g);
}

static const ggroup *group_with(const gmodel *m, const char *func)
{
    for (size_t i = 0; i < m->ngroups; i++)
        for (uint32_t k = 0; k < m->groups[i].nframes; k++)
            if (strcmp(gmodel_str(m, m->groups[i].frames[k].func), func) == 0) return &m->groups[i];
    fail_msg("no group with %s", func);
    return NULL;
}

static void run(gmodel *m)
{
    gclassify_options o = {0};
    gmodel_sort(m);
    gclassify(m, &o);
}

static void test_std_names(void **state)
{
    (void)state;
    /* Module paths that begin with "go." are not the standard library. */
    assert_false(gfunc_is_std("go.etcd.io/etcd/server/v3/etcdserver.(*EtcdServer).run"));
    assert_false(gfunc_is_std("go.uber.org/zap/zapcore.(*BufferedWriteSyncer).flushLoop"));
    assert_false(gfunc_is_std("go.opentelemetry.io/otel/sdk/trace.(*batchSpanProcessor).processQueue"));
    assert_false(gfunc_is_std("gopkg.in/yaml.v3.Unmarshal"));
    assert_true(gfunc_is_std("go/ast.Walk"));
    assert_true(gfunc_is_std("fmt.Println"));
    assert_true(gfunc_is_std("runtime.gopark"));
    assert_true(gfunc_is_std("net/http.(*persistConn).roundTrip"));
    assert_false(gfunc_is_std("main.main"));
    assert_false(gfunc_is_std("reef.test/fixtures/zoo.awaitReply"));
}

/* The canonical leak of current Go releases: a long-lived loop calls a
 * function that starts a worker, gives up waiting and returns; the worker
 * blocks on its send for ever.  One creator, ids spread over time. */
static const char *const worker_send = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                                       "runtime.chansend1\x01/go/src/runtime/chan.go:161\n"
                                       "example.com/svc.fetch.func1\x01/src/svc/fetch.go:30\n"
                                       "\x03" "example.com/svc.fetch\x01/src/svc/fetch.go:28\n";
static const char *const worker_recv = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                                       "runtime.chanrecv2\x01/go/src/runtime/chan.go:506\n"
                                       "example.com/svc.worker\x01/src/svc/pool.go:12\n"
                                       "\x03" "example.com/svc.startPool\x01/src/svc/pool.go:5\n";

/* The rule that decides one group of n goroutines with ids id, id+step,
 * ... and one parent (rule names are static, so they outlive the model). */
static const char *rule_of(const char *key, const char *state, uint64_t n, uint64_t id, uint64_t step)
{
    gmodel m;
    gmodel_init(&m);
    add_n(&m, key, state, n, id, step, ONE_PARENT);
    run(&m);
    const char *rule = m.groups[0].rule;
    gmodel_free(&m);
    return rule;
}

static void test_single_creator(void **state)
{
    (void)state;
    gmodel m;
    /* 1000 sends from one goroutine, ids spread: a leak, and the reason
     * says why and what to do. */
    gmodel_init(&m);
    add_n(&m, worker_send, "chan send", 1000, 50, 7, ONE_PARENT);
    run(&m);
    assert_int_equal(m.groups[0].cls, GCLASS_LEAK);
    assert_string_equal(m.groups[0].rule, "leak-spread-ids");
    assert_non_null(strstr(m.groups[0].reason, "closure of example.com/svc.fetch"));
    assert_non_null(strstr(m.groups[0].reason, "buffer of 1"));
    gmodel_free(&m);

    /* The same with tight ids (a burst): still a leak, since a pool does
     * not park on a send. */
    assert_string_equal(rule_of(worker_send, "chan send", 40, 50, 1), "leak-abandoned-send");

    /* The look-alike: a pool of 40 started in one loop, parked on receive. */
    gmodel_init(&m);
    add_n(&m, worker_recv, "chan receive", 40, 50, 1, ONE_PARENT);
    run(&m);
    assert_int_equal(m.groups[0].cls, GCLASS_OTHER);
    assert_string_equal(m.groups[0].rule, "pool");
    assert_null(strstr(m.groups[0].reason, "buffer"));
    gmodel_free(&m);

    /* ...with a batch gap (another P took 16 ids): still a pool. */
    gmodel_init(&m);
    add_n(&m, worker_recv, "chan receive", 20, 50, 1, ONE_PARENT);
    add_n(&m, worker_recv, "chan receive", 20, 86, 1, ONE_PARENT);
    run(&m);
    assert_string_equal(m.groups[0].rule, "pool");
    gmodel_free(&m);

    /* Receivers created one by one over time by one goroutine: a leak. */
    assert_string_equal(rule_of(worker_recv, "chan receive", 40, 50, 9), "leak-spread-ids");
    /* Large groups: 20000 started in one loop are a pool, 20000 created
     * over time (every fifth id) a leak. */
    assert_string_equal(rule_of(worker_recv, "chan receive", 20000, 50, 1), "pool");
    assert_string_equal(rule_of(worker_recv, "chan receive", 20000, 50, 5), "leak-spread-ids");
    /* Below --leak-min a send is not called a leak (few batches: started together). */
    assert_string_equal(rule_of(worker_send, "chan send", 5, 50, 7), "pool");
}

/* Before Go 1.21: no parent ids.  A closure of its creator, parked on its
 * own channel, is one per call; a named worker in a tight run is a pool,
 * and the compiler's wrapper for `go f(x)` does not make f a closure. */
static void test_before_go121(void **state)
{
    (void)state;
    static const char closure_recv[] = "runtime.gopark\x01/go/src/runtime/proc.go:363\n"
                                       "runtime.chanrecv1\x01/go/src/runtime/chan.go:442\n"
                                       "main.handle.func1\x01/src/a.go:20\n"
                                       "\x03main.handle\x01/src/a.go:19\n";
    static const char wrapped_worker[] = "runtime.gopark\x01/go/src/runtime/proc.go:363\n"
                                         "runtime.chanrecv2\x01/go/src/runtime/chan.go:447\n"
                                         "main.worker\x01/src/a.go:40\n"
                                         "main.start.func1\x01/src/a.go:35\n"
                                         "runtime.goexit\x01/go/src/runtime/asm_amd64.s:1594\n"
                                         "\x03main.start\x01/src/a.go:35\n";
    gmodel m;
    gmodel_init(&m);
    add_n(&m, closure_recv, "chan receive", 23, 100, 2, NO_PARENT);
    add_n(&m, wrapped_worker, "chan receive", 24, 300, 1, NO_PARENT);
    run(&m);
    assert_int_equal(group_with(&m, "main.handle.func1")->cls, GCLASS_LEAK);
    assert_string_equal(group_with(&m, "main.handle.func1")->rule, "leak-closure-per-call");
    assert_int_equal(group_with(&m, "main.worker")->cls, GCLASS_OTHER);
    assert_string_equal(group_with(&m, "main.worker")->rule, "pool");
    gmodel_free(&m);
}

static const char *const round_trip = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                                      "runtime.selectgo\x01/go/src/runtime/select.go:351\n"
                                      "net/http.(*persistConn).roundTrip\x01/go/src/net/http/transport.go:2834\n"
                                      "net/http.(*Transport).roundTrip\x01/go/src/net/http/transport.go:696\n"
                                      "net/http.(*Client).Get\x01/go/src/net/http/client.go:489\n"
                                      "example.com/svc.callUpstream\x01/src/svc/up.go:17\n"
                                      "\x03" "example.com/svc.serve\x01/src/svc/up.go:9\n";
static const char *const read_loop = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                                     "internal/poll.runtime_pollWait\x01/go/src/runtime/netpoll.go:351\n"
                                     "net.(*conn).Read\x01/go/src/net/net.go:196\n"
                                     "net/http.(*persistConn).Read\x01/go/src/net/http/transport.go:2122\n"
                                     "bufio.(*Reader).Peek\x01/go/src/bufio/bufio.go:152\n"
                                     "net/http.(*persistConn).readLoop\x01/go/src/net/http/transport.go:2330\n"
                                     "\x03net/http.(*Transport).dialConn\x01/go/src/net/http/transport.go:1944\n";
static const char *const write_loop = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                                      "runtime.selectgo\x01/go/src/runtime/select.go:351\n"
                                      "net/http.(*persistConn).writeLoop\x01/go/src/net/http/transport.go:2652\n"
                                      "\x03net/http.(*Transport).dialConn\x01/go/src/net/http/transport.go:1945\n";

/* Requests hung on an upstream, tied to their connections' loops. */
static void test_upstream_wait(void **state)
{
    (void)state;
    gmodel m;
    gmodel_init(&m);
    add_n(&m, round_trip, "select", 6, 100, 3, MANY_PARENTS);
    add_n(&m, read_loop, "IO wait", 10, 101, 3, MANY_PARENTS);
    add_n(&m, write_loop, "select", 10, 102, 3, MANY_PARENTS);
    run(&m);
    const ggroup *rt = group_with(&m, "net/http.(*persistConn).roundTrip");
    const ggroup *rl = group_with(&m, "net/http.(*persistConn).readLoop");
    const ggroup *wl = group_with(&m, "net/http.(*persistConn).writeLoop");
    assert_int_equal(rt->cls, GCLASS_UPSTREAM_WAIT);
    assert_int_equal(rl->cls, GCLASS_UPSTREAM_WAIT);
    assert_int_equal(wl->cls, GCLASS_UPSTREAM_WAIT);
    assert_non_null(strstr(rt->reason, "6 outbound HTTP requests made at svc/up.go:17"));
    assert_non_null(strstr(rt->reason, "no timeout"));
    assert_null(strstr(rt->reason, "buffer of 1"));
    assert_non_null(strstr(rl->reason, "6 carry the 6 requests waiting for a response, 4 are idle keep-alive"));
    gmodel_free(&m);

    /* The look-alike: idle keep-alive connections, no request waiting. */
    gmodel_init(&m);
    add_n(&m, read_loop, "IO wait", 4, 101, 3, MANY_PARENTS);
    add_n(&m, write_loop, "select", 4, 102, 3, MANY_PARENTS);
    run(&m);
    assert_int_equal(group_with(&m, "net/http.(*persistConn).readLoop")->cls, GCLASS_IO_WAIT);
    assert_int_equal(group_with(&m, "net/http.(*persistConn).writeLoop")->cls, GCLASS_IDLE);
    /* The evidence names the read loop, not the poller. */
    assert_non_null(strstr(group_with(&m, "net/http.(*persistConn).readLoop")->reason, "read loop"));
    assert_null(strstr(group_with(&m, "net/http.(*persistConn).readLoop")->reason, "runtime_pollWait"));
    gmodel_free(&m);
}

static void test_net_write(void **state)
{
    (void)state;
    static const char tcp_write[] = "internal/poll.runtime_pollWait\x01/go/src/runtime/netpoll.go:351\n"
                                    "internal/poll.(*pollDesc).waitWrite\x01/go/src/internal/poll/fd_poll_runtime.go:94\n"
                                    "internal/poll.(*FD).Write\x01/go/src/internal/poll/fd_unix.go:399\n"
                                    "net.(*conn).Write\x01/go/src/net/net.go:208\n"
                                    "example.com/broker.(*client).flush\x01/src/broker/client.go:88\n";
    static const char grpc_quota[] = "runtime.selectgo\x01/go/src/runtime/select.go:351\n"
                                     "google.golang.org/grpc/internal/transport.(*writeQuota).get\x01/m/grpc/internal/transport/flowcontrol.go:57\n"
                                     "google.golang.org/grpc/internal/transport.(*http2Client).Write\x01/m/grpc/internal/transport/http2_client.go:1100\n"
                                     "example.com/svc.(*stream).Send\x01/src/svc/stream.go:40\n";
    gmodel m;
    gmodel_init(&m);
    add_n(&m, tcp_write, "IO wait", 30, 10, 5, MANY_PARENTS);
    add_n(&m, grpc_quota, "select", 30, 11, 5, MANY_PARENTS);
    run(&m);
    const ggroup *w = group_with(&m, "internal/poll.(*FD).Write");
    const ggroup *q = group_with(&m, "google.golang.org/grpc/internal/transport.(*writeQuota).get");
    assert_int_equal(w->cls, GCLASS_NET_WRITE);
    assert_int_equal(q->cls, GCLASS_NET_WRITE);
    assert_non_null(strstr(w->reason, "slow consumer"));
    assert_non_null(strstr(q->reason, "flow-control"));
    assert_null(strstr(w->reason, "buffer of 1"));
    assert_null(strstr(q->reason, "buffer of 1"));
    gmodel_free(&m);
}

/* A broker's write loop per client, parked on a Cond, with its reader. */
static const char *const conn_reader = "internal/poll.runtime_pollWait\x01/go/src/runtime/netpoll.go:351\n"
                                       "internal/poll.(*FD).Read\x01/go/src/internal/poll/fd_unix.go:165\n"
                                       "net.(*conn).Read\x01/go/src/net/net.go:196\n"
                                       "example.com/broker.(*client).readLoop\x01/src/broker/client.go:50\n"
                                       "\x03" "example.com/broker.(*Server).accept\x01/src/broker/server.go:20\n";
static const char *const conn_writer = "sync.runtime_notifyListWait\x01/go/src/runtime/sema.go:617\n"
                                       "sync.(*Cond).Wait\x01/go/src/sync/cond.go:71\n"
                                       "example.com/broker.(*client).writeLoop\x01/src/broker/client.go:70\n"
                                       "\x03" "example.com/broker.(*Server).accept\x01/src/broker/server.go:21\n";

static void test_per_connection(void **state)
{
    (void)state;
    gmodel m;
    gmodel_init(&m);
    /* Reader and writer created in turn by one accept loop: the writers'
     * ids are spread, but they are one per connection. */
    add_n(&m, conn_reader, "IO wait", 30, 100, 2, ONE_PARENT);
    add_n(&m, conn_writer, "sync.Cond.Wait", 30, 101, 2 + 30, ONE_PARENT);
    run(&m);
    const ggroup *w = group_with(&m, "example.com/broker.(*client).writeLoop");
    assert_int_equal(w->cls, GCLASS_OTHER);
    assert_string_equal(w->rule, "per-connection");
    assert_null(strstr(w->reason, "buffer"));
    gmodel_free(&m);

    /* Under load some write loops are busy flushing: fewer parked than
     * readers is still one per connection, under half is not. */
    gmodel_init(&m);
    add_n(&m, conn_reader, "IO wait", 30, 100, 2, ONE_PARENT);
    add_n(&m, conn_writer, "sync.Cond.Wait", 20, 101, 2 + 30, ONE_PARENT);
    run(&m);
    assert_string_equal(group_with(&m, "example.com/broker.(*client).writeLoop")->rule, "per-connection");
    gmodel_free(&m);
    gmodel_init(&m);
    add_n(&m, conn_reader, "IO wait", 30, 100, 2, ONE_PARENT);
    add_n(&m, conn_writer, "sync.Cond.Wait", 14, 101, 2 + 30, ONE_PARENT);
    run(&m);
    assert_int_equal(group_with(&m, "example.com/broker.(*client).writeLoop")->cls, GCLASS_LEAK);
    gmodel_free(&m);

    /* A few more writers than parked readers: some readers are busy with
     * what they read at the moment of the dump (nats-server under load:
     * 101 write loops beside 99 readers).  Still one per connection. */
    gmodel_init(&m);
    add_n(&m, conn_reader, "IO wait", 30, 100, 2, ONE_PARENT);
    add_n(&m, conn_writer, "sync.Cond.Wait", 34, 101, 2 + 30, ONE_PARENT);
    run(&m);
    assert_string_equal(group_with(&m, "example.com/broker.(*client).writeLoop")->rule, "per-connection");
    gmodel_free(&m);

    /* More than a tenth and one beyond the readers: no longer explained by
     * connections. */
    gmodel_init(&m);
    add_n(&m, conn_reader, "IO wait", 30, 100, 2, ONE_PARENT);
    add_n(&m, conn_writer, "sync.Cond.Wait", 35, 101, 2 + 30, ONE_PARENT);
    run(&m);
    w = group_with(&m, "example.com/broker.(*client).writeLoop");
    assert_int_equal(w->cls, GCLASS_LEAK);
    assert_non_null(strstr(w->reason, "Signal or Broadcast"));
    assert_null(strstr(w->reason, "buffer of 1"));
    gmodel_free(&m);
}

/* etcd's watch streams: per stream a send loop and a receive loop, the
 * latter parked inside gRPC; started per stream by many goroutines of a
 * gRPC server, so without this rule they would be leaks.  And a pool of
 * workers on one sync.Cond, started together. */
static void test_per_object_streams(void **state)
{
    (void)state;
    static const char send_loop[] = "runtime.selectgo\x01/go/src/runtime/select.go:351\n"
                                    "go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc.(*serverWatchStream).sendLoop\x01/m/v3rpc/watch.go:400\n"
                                    "\x03go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc.(*watchServer).Watch\x01/m/v3rpc/watch.go:190\n";
    static const char recv_loop[] = "runtime.selectgo\x01/go/src/runtime/select.go:351\n"
                                    "google.golang.org/grpc/internal/transport.(*recvBufferReader).read\x01/m/grpc/transport.go:181\n"
                                    "google.golang.org/grpc.(*serverStream).RecvMsg\x01/m/grpc/stream.go:1700\n"
                                    "go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc.(*serverWatchStream).recvLoop\x01/m/v3rpc/watch.go:250\n"
                                    "\x03go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc.(*watchServer).Watch\x01/m/v3rpc/watch.go:210\n";
    static const char cond_pool[] = "sync.runtime_notifyListWait\x01/go/src/runtime/sema.go:617\n"
                                    "sync.(*Cond).Wait\x01/go/src/sync/cond.go:71\n"
                                    "example.com/q.(*queue).worker\x01/src/q/q.go:40\n"
                                    "\x03" "example.com/q.New\x01/src/q/q.go:20\n";
    gmodel m;
    gmodel_init(&m);
    add_n(&m, send_loop, "select", 25, 1000, 9, MANY_PARENTS);
    add_n(&m, recv_loop, "select", 25, 1001, 9, MANY_PARENTS);
    run(&m);
    assert_string_equal(group_with(&m, "go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc.(*serverWatchStream).sendLoop")->rule,
                        "per-object");
    assert_string_equal(group_with(&m, "google.golang.org/grpc/internal/transport.(*recvBufferReader).read")->rule,
                        "per-object");
    gmodel_free(&m);
    assert_string_equal(rule_of(cond_pool, "sync.Cond.Wait", 30, 50, 1), "pool");
}

/* debug=1: Cond and WaitGroup waits in application code get the channel
 * waits' treatment; loops of one object in step are not leaks. */
static void test_debug1(void **state)
{
    (void)state;
    static const char cond1[] = "sync.runtime_notifyListWait\x01/go/src/runtime/sema.go:617\n"
                                "sync.(*Cond).Wait\x01/go/src/sync/cond.go:71\n"
                                "github.com/anacrolix/torrent.(*webseedPeer).requester\x01/m/torrent/webseed-peer.go:123\n";
    static const char wg1[] = "sync.runtime_SemacquireWaitGroup\x01/go/src/runtime/sema.go:114\n"
                              "sync.(*WaitGroup).Wait\x01/go/src/sync/waitgroup.go:206\n"
                              "example.com/svc.(*batch).flush\x01/src/svc/batch.go:31\n";
    static const char sleep1[] = "time.Sleep\x01/go/src/runtime/time.go:363\n"
                                 "example.com/svc.poll\x01/src/svc/poll.go:9\n";
    static const char flush1[] = "example.com/nats/server.(*consumerFileStore).flushLoop\x01/m/server/filestore.go:4721\n";
    static const char monitor1[] = "example.com/nats/server.(*jetStream).monitorConsumer\x01/m/server/jetstream_cluster.go:2861\n";
    static const char fw1[] = "example.com/nats/server.(*raft).fileWriter\x01/m/server/raft.go:3002\n";
    static const char leader1[] = "example.com/nats/server.(*raft).runAsLeader\x01/m/server/raft.go:1744\n";
    static const char follower1[] = "example.com/nats/server.(*raft).runAsFollower\x01/m/server/raft.go:1462\n";
    gmodel m;
    gmodel_init(&m);
    m.format = GDUMP_COUNTS;
    add_block(&m, cond1, 500);
    add_block(&m, wg1, 40);
    add_block(&m, sleep1, 40);
    add_block(&m, flush1, 1001);
    add_block(&m, monitor1, 1001);
    add_block(&m, fw1, 1004);
    add_block(&m, leader1, 506);
    add_block(&m, follower1, 498);
    run(&m);
    assert_int_equal(group_with(&m, "github.com/anacrolix/torrent.(*webseedPeer).requester")->cls, GCLASS_LEAK);
    assert_int_equal(group_with(&m, "example.com/svc.(*batch).flush")->cls, GCLASS_LEAK);
    assert_int_equal(group_with(&m, "example.com/svc.poll")->cls, GCLASS_OTHER);
    assert_string_equal(group_with(&m, "example.com/nats/server.(*consumerFileStore).flushLoop")->rule, "per-object");
    assert_string_equal(group_with(&m, "example.com/nats/server.(*jetStream).monitorConsumer")->rule, "per-object");
    assert_string_equal(group_with(&m, "example.com/nats/server.(*raft).fileWriter")->rule, "per-object");
    assert_string_equal(group_with(&m, "example.com/nats/server.(*raft).runAsLeader")->rule, "per-object");
    gmodel_free(&m);
}

static void test_deadlock_headline(void **state)
{
    (void)state;
    static const char mutex[] = "sync.runtime_SemacquireMutex\x01/go/src/runtime/sema.go:77\n"
                                "sync.(*Mutex).lockSlow\x01/go/src/sync/mutex.go:171\n"
                                "sync.(*Mutex).Lock\x01/go/src/sync/mutex.go:90\n"
                                "main.transfer\x01/src/a.go:14\n"
                                "\x03main.main\x01/src/a.go:30\n";
    static const char idle[] = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                               "runtime.forcegchelper\x01/go/src/runtime/proc.go:348\n";
    gmodel m;
    gmodel_init(&m);
    m.headline.kind = GHEAD_DEADLOCK;
    m.headline.message = "all goroutines are asleep - deadlock!";
    m.headline.count = 1;
    add_n(&m, mutex, "sync.Mutex.Lock", 2, 5, 1, ONE_PARENT);
    add_n(&m, worker_recv, "chan receive", 40, 50, 1, ONE_PARENT);
    add_n(&m, idle, "force gc (idle)", 1, 2, 1, NO_PARENT);
    run(&m);
    assert_int_equal(group_with(&m, "main.transfer")->cls, GCLASS_DEADLOCKED);
    assert_non_null(strstr(group_with(&m, "main.transfer")->reason, "waiting on sync.(*Mutex).Lock at src/a.go:14 (main.transfer)"));
    /* A pool is no pool in a deadlock: nobody can ever send. */
    assert_int_equal(group_with(&m, "example.com/svc.worker")->cls, GCLASS_DEADLOCKED);
    assert_int_equal(group_with(&m, "runtime.forcegchelper")->cls, GCLASS_IDLE);
    buf b = {0};
    gheadline_explain(&m, &b);
    assert_non_null(strstr(buf_cstr(&b), "42 goroutines in 2 groups are blocked for good"));
    assert_non_null(strstr(buf_cstr(&b), "2 in sync.Mutex.Lock"));
    buf_free(&b);
    assert_string_equal(gheadline_kind_name(m.headline.kind), "deadlock");
    gmodel_free(&m);
}

static void test_timeout_order(void **state)
{
    (void)state;
    static const char test[] = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                               "runtime.chanrecv1\x01/go/src/runtime/chan.go:442\n"
                               "example.com/db_test.TestReadMulti\x01/src/db/db_test.go:479\n"
                               "testing.tRunner\x01/go/src/testing/testing.go:1689\n"
                               "\x03testing.(*T).Run\x01/go/src/testing/testing.go:1742\n";
    static const char longest[] = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                                  "runtime.selectgo\x01/go/src/runtime/select.go:351\n"
                                  "example.com/db.(*controller).Do\x01/src/db/dedup.go:101\n"
                                  "\x03" "example.com/db.New\x01/src/db/db.go:10\n";
    static const char std[] = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                              "os/signal.signal_recv\x01/go/src/runtime/sigqueue.go:152\n";
    gmodel m;
    gmodel_init(&m);
    m.headline.kind = GHEAD_TEST_TIMEOUT;
    m.headline.message = "test timed out after 2m0s";
    m.headline.running_tests = "\tTestReadMulti (2m0s)\n";
    for (int i = 0; i < 3; i++) {
        ggoroutine g = {.id = 900 + (uint64_t)i, .count = 1, .state = "syscall", .state_len = 7, .wait_minutes = 0,
                        .key = std, .key_len = strlen(std)};
        gmodel_add(&m, &g);
    }
    ggoroutine t = {.id = 20, .count = 1, .state = "chan receive", .state_len = 12, .wait_minutes = 1,
                    .parent_id = 1, .key = test, .key_len = strlen(test)};
    gmodel_add(&m, &t);
    ggoroutine l = {.id = 30, .count = 1, .state = "select", .state_len = 6, .wait_minutes = 2, .parent_id = 20,
                    .key = longest, .key_len = strlen(longest)};
    gmodel_add(&m, &l);
    run(&m);
    const ggroup *tg = gheadline_test_group(&m);
    assert_non_null(tg);
    assert_ptr_equal(tg, group_with(&m, "example.com/db_test.TestReadMulti"));
    const ggroup *order[3] = {&m.groups[0], &m.groups[1], &m.groups[2]};
    assert_int_equal(order[0]->count, 3); /* largest first before reordering */
    gheadline_order(&m, order, 3);
    assert_ptr_equal(order[0], group_with(&m, "example.com/db.(*controller).Do"));
    assert_ptr_equal(order[1], tg);
    assert_ptr_equal(order[2], group_with(&m, "os/signal.signal_recv"));
    buf b = {0};
    gheadline_explain(&m, &b);
    assert_non_null(strstr(buf_cstr(&b), "running tests: TestReadMulti (2m0s)"));
    assert_non_null(strstr(buf_cstr(&b), "the test's goroutine: chan receive 1 min at db/db_test.go:479"));
    buf_free(&b);
    gmodel_free(&m);
}

static void test_panic_culprit(void **state)
{
    (void)state;
    static const char panicking[] = "main.panicker\x01/src/main.go:374\n"
                                    "\x03main.main\x01/src/main.go:350\n";
    gmodel m;
    gmodel_init(&m);
    m.headline.kind = GHEAD_PANIC;
    m.headline.message = "boom";
    m.headline.goroutine = 489;
    add_n(&m, panicking, "running", 1, 489, 1, ONE_PARENT);
    add_n(&m, worker_recv, "chan receive", 4, 50, 1, ONE_PARENT);
    run(&m);
    assert_ptr_equal(gheadline_culprit(&m), group_with(&m, "main.panicker"));
    buf b = {0};
    gheadline_explain(&m, &b);
    assert_string_equal(buf_cstr(&b), "  goroutine 489 panicked, running at src/main.go:374 (main.panicker)\n");
    buf_free(&b);
    gmodel_free(&m);
}

/* Stacks that differ only in a deeper frame never print the same line. */
static void test_distinct_reasons(void **state)
{
    (void)state;
    static const char via_a[] = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                                "example.com/svc.wait\x01/src/svc/w.go:5\n"
                                "example.com/svc.handleA\x01/src/svc/a.go:11\n";
    static const char via_b[] = "runtime.gopark\x01/go/src/runtime/proc.go:435\n"
                                "example.com/svc.wait\x01/src/svc/w.go:5\n"
                                "example.com/svc.handleB\x01/src/svc/b.go:22\n";
    gmodel m;
    gmodel_init(&m);
    add_n(&m, via_a, "select", 3, 10, 1, ONE_PARENT);
    add_n(&m, via_b, "select", 3, 20, 1, ONE_PARENT);
    run(&m);
    const ggroup *a = group_with(&m, "example.com/svc.handleA");
    const ggroup *b = group_with(&m, "example.com/svc.handleB");
    assert_string_not_equal(a->reason, b->reason);
    assert_non_null(strstr(a->reason, "via svc/a.go:11 (example.com/svc.handleA)"));
    assert_non_null(strstr(b->reason, "via svc/b.go:22 (example.com/svc.handleB)"));
    gmodel_free(&m);
}

static void test_rule_table(void **state)
{
    (void)state;
    size_t n = gclassify_rule_count();
    assert_true(n > 10);
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++) assert_string_not_equal(gclassify_rule_name(i), gclassify_rule_name(k));
    assert_string_equal(gclassify_rule_name(n - 1), "other");
    assert_null(gclassify_rule_name(n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_std_names),
        cmocka_unit_test(test_single_creator),
        cmocka_unit_test(test_before_go121),
        cmocka_unit_test(test_upstream_wait),
        cmocka_unit_test(test_net_write),
        cmocka_unit_test(test_per_connection),
        cmocka_unit_test(test_per_object_streams),
        cmocka_unit_test(test_debug1),
        cmocka_unit_test(test_deadlock_headline),
        cmocka_unit_test(test_timeout_order),
        cmocka_unit_test(test_panic_culprit),
        cmocka_unit_test(test_distinct_reasons),
        cmocka_unit_test(test_rule_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
