#!/usr/bin/env bash
# The verdicts of `reef goroutines`: classes and the dump's headline, on
# real dumps.  Expected values come from the programs that made the dumps
# (the zoo fixture's TRUTH lines: what it started, how many, where they
# block; Go's own panic and timeout lines, read with grep) and, for the
# shared corpus, from SOURCES.md and reading the dumps (named in comments).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/truth.sh"
CAPTURES=$REEF_SRC/tests/captures
CORPUS=$REEF_SRC/../shared/corpus/goroutine-dumps

# class_at JSON TRUTH KIND: classes of the groups holding KIND's blocking frame.
class_at() {
  jq -r --argjson t "$(truth_json "$2")" --arg k "$3" '
    ($t[] | select(.kind == $k)) as $s
    | [.groups[] | select(any(.frames[]; .func == $s.func and .file == $s.file and .line == $s.line)) | .class]
    | unique | join(",")' "$1"
}
truth_count() { truth_json "$1" | jq --arg k "$2" '[.[] | select(.kind == $k) | .count] | add // 0'; }

for dir in "$CAPTURES"/go1.*/; do
  v=$(basename "$dir")
  [[ -f $dir/healthy2.txt ]] || continue

  # Healthy look-alikes: an idle pool of 24 started in one loop, idle
  # keep-alive connections, per-connection loops, a ticker.  Nothing in the
  # traceback dump is a leak, a hung request, a network write or a deadlock.
  "$REEF" goroutines --json "$dir/healthy2.txt" >"$TMP/h2.json"
  for c in leak upstream-wait net-write deadlocked lock-pileup pool-wait; do
    check "$v healthy2: no $c" eq "$(jq ".classes[\"$c\"]" "$TMP/h2.json")" 0
  done
  check "$v healthy2: the pool is a pool" eq "$(class_at "$TMP/h2.json" "$dir/truth-healthy.txt" pool-big)" other
  check "$v healthy2: per-connection writers" eq "$(class_at "$TMP/h2.json" "$dir/truth-healthy.txt" conn-writer)" other
  check "$v healthy2: keep-alive read loops are I/O waits" \
    eq "$(class_at "$TMP/h2.json" "$dir/truth-healthy.txt" client-conn)" io-wait
  # debug=1 of the same program: no ids, creators or states, so the pool
  # of 24 is the one group it cannot clear (docs/goroutines.md).
  "$REEF" goroutines --json "$dir/healthy1.txt" >"$TMP/h1.json"
  check "$v healthy1: the only leak suspects are the pool's" \
    eq "$(jq '.classes.leak' "$TMP/h1.json")" "$(truth_count "$dir/truth-healthy.txt" pool-big)"
  check "$v healthy1: per-connection writers" eq "$(class_at "$TMP/h1.json" "$dir/truth-healthy.txt" conn-writer)" other

  # The full zoo, debug=2 and debug=1 of the same program: every kind whose
  # frame both show gets the same class (pool-big excepted, as above).
  "$REEF" goroutines --json "$dir/debug2.txt" >"$TMP/d2.json"
  "$REEF" goroutines --json "$dir/debug1.txt" >"$TMP/d1.json"
  for k in leak leak-recv leak-single mutex-pileup upstream net-write conn-writer worker-pool; do
    c2=$(class_at "$TMP/d2.json" "$dir/truth.txt" "$k")
    check "$v: $k is one class in debug=2 ($c2)" test -n "$c2" -a "$c2" = "${c2%%,*}"
    check "$v: $k same class in debug=1 and debug=2" eq "$(class_at "$TMP/d1.json" "$dir/truth.txt" "$k")" "$c2"
  done

  # One creator: the leaked workers of one long-lived loop.  From Go 1.21 the
  # dump names that one parent; their ids are spread among other goroutines.
  check "$v: single-creator leak is a leak" eq "$(class_at "$TMP/d2.json" "$dir/truth.txt" leak-single)" leak
  # ...and the ids say so: zoo started 20 short-lived goroutines between
  # two leaked workers, so each worker sits in its own 16-id batch.
  check "$v: single-creator leak told by its ids" eq "$(jq -r --argjson t "$(truth_json "$dir/truth.txt")" '
    ($t[] | select(.kind == "leak-single")) as $s
    | [.groups[] | select(any(.frames[]; .func == $s.func and .line == $s.line)) | .rule] | unique | join(",")' "$TMP/d2.json")" \
    leak-spread-ids
  parents=$(jq --argjson t "$(truth_json "$dir/truth.txt")" '($t[] | select(.kind == "leak-single")) as $s
    | [.groups[] | select(any(.frames[]; .func == $s.func and .line == $s.line)) | .parent_ids | length] | add' "$TMP/d2.json")
  case $v in
    go1.19.* | go1.20.*) check "$v: no parent ids before 1.21" eq "$parents" 0 ;;
    *) check "$v: one parent goroutine" eq "$parents" 1 ;;
  esac
  # The hung requests and their connections are one cause.
  want=$(($(truth_count "$dir/truth.txt" upstream) + 1)) # + the pool's request in flight
  check "$v: requests waiting for a response" eq \
    "$(jq '[.groups[] | select(.rule == "upstream-wait") | .count] | add' "$TMP/d2.json")" "$want"
  check "$v: read loops tied to them" contains \
    "$(jq -r '.groups[] | select(.rule == "upstream-connection") | .reason' "$TMP/d2.json")" \
    "$want carry the $want requests waiting for a response"

  # The hung server's handlers were started by its accept loop as the
  # requests arrived: requests in progress, not a pool waiting for work.
  check "$v: server handlers are requests in progress" eq "$(jq -r --argjson t "$(truth_json "$dir/truth.txt")" '
    ($t[] | select(.kind == "upstream-server")) as $s
    | [.groups[] | select(any(.frames[]; .func == $s.func and .line == $s.line)) | .rule] | unique | join(",")' "$TMP/d2.json")" \
    request-handler

  # A lock wait of a minute or more is stuck (long-wait.txt: the zoo's
  # RWMutex writer and readers, behind a reader that never unlocks); the same
  # waits under a minute (debug2.txt) are ordinary contention.
  for f in debug2 long-wait; do
    [[ -f $dir/$f.txt ]] || continue
    mins=$(grep -E '^goroutine [0-9]+ .*\[sync\.RWMutex\.Lock' "$dir/$f.txt" | grep -c 'minute' || true)
    want="other lock-wait"
    [[ $mins -gt 0 ]] && want="lock-pileup lock-stuck"
    check "$v $f: the RWMutex writer ($mins with wait minutes)" eq "$("$REEF" goroutines --json "$dir/$f.txt" 2>/dev/null |
      jq -r --argjson t "$(truth_json "$dir/truth.txt")" '($t[] | select(.kind == "rwmutex-writer")) as $s
        | [.groups[] | select(any(.frames[]; .func == $s.func and .line == $s.line)) | "\(.class) \(.rule)"] | unique | join(",")')" "$want"
  done

  # Two groups never print the same line.
  for f in debug2 debug1 sigquit panic deadlock timeout healthy2 healthy1; do
    "$REEF" goroutines --json "$dir/$f.txt" 2>/dev/null | jq -r '.groups[].reason' >"$TMP/reasons"
    check "$v $f: reasons distinct" eq "$(sort "$TMP/reasons" | uniq -d | head -3)" ""
  done

  # Headlines, from the lines Go printed.
  "$REEF" goroutines --json "$dir/deadlock.txt" >"$TMP/dl.json"
  check "$v deadlock: headline" eq "$(jq -r .headline.kind "$TMP/dl.json")" deadlock
  check "$v deadlock: every goroutine of the zoo deadlocked" eq "$(jq -r '[.groups[].class] | unique | join(",")' "$TMP/dl.json")" deadlocked
  run_reef goroutines "$dir/deadlock.txt"
  check "$v deadlock: text starts with Go's line" eq "${OUT%%$'\n'*}" "fatal error: all goroutines are asleep - deadlock! (line $(grep -n 'all goroutines are asleep' "$dir/deadlock.txt" | head -1 | cut -d: -f1))"
  check "$v deadlock: who waits on what" contains "$OUT" "$(truth_count "$dir/truth-deadlock.txt" mutex-pileup) in "

  "$REEF" goroutines --json "$dir/timeout.txt" >"$TMP/to.json"
  check "$v timeout: headline" eq "$(jq -r .headline.kind "$TMP/to.json")" test-timeout
  check "$v timeout: message" eq "$(jq -r .headline.message "$TMP/to.json")" "test timed out after 3s"
  # Go lists the running tests from 1.20 on.
  if grep -q 'running tests:' "$dir/timeout.txt"; then
    check "$v timeout: running test" eq "$(jq -r '.headline.running_tests | join(",")' "$TMP/to.json")" \
      "$(grep -A1 'running tests:' "$dir/timeout.txt" | tail -1 | tr -d '\t')"
  else
    check "$v timeout: no running tests listed" eq "$(jq -r '.headline.running_tests' "$TMP/to.json")" null
  fi
  hang=$(truth_json "$dir/truth-timeout.txt" | jq -c '.[] | select(.kind == "test-hang") | {func, file, line}')
  check "$v timeout: the test's goroutine is where the test blocks" eq \
    "$(jq -c '.headline.test_goroutine_at' "$TMP/to.json")" "$hang"
  check "$v timeout: application code first" eq \
    "$(jq '[.groups[0].frames[] | select(.func | startswith("reef.test/"))] | length > 0' "$TMP/to.json")" true

  "$REEF" goroutines --json "$dir/panic.txt" >"$TMP/p.json"
  pg=$(grep -m1 -oE '^goroutine [0-9]+ \[running\]' "$dir/panic.txt" | cut -d' ' -f2)
  check "$v panic: headline" eq "$(jq -r .headline.kind "$TMP/p.json")" panic
  check "$v panic: the panicking goroutine" eq "$(jq .headline.goroutine "$TMP/p.json")" "$pg"
  check "$v panic: where it panicked" eq "$(jq -r .headline.goroutine_at.func "$TMP/p.json")" main.panicker
done

# ---- the shared corpus (expected values: SOURCES.md and the dumps) ----
if [[ -d $CORPUS ]]; then
  # 32: a real debug=1 leak, 5067 goroutines in TxGasLogger.Start.func1.
  "$REEF" goroutines --json "$CORPUS/32-cdk-erigon-debug1-txgaslogger-leak.txt" >"$TMP/c.json" 2>/dev/null
  check "32: TxGasLogger leak" eq "$(jq -r '[.groups[] | select(.frames[0].func | endswith("TxGasLogger).Start.func1")) | "\(.count) \(.class)"] | join(",")' "$TMP/c.json")" "5067 leak"
  # 05: nats-server with 1000 clients: each has a readLoop (reading its
  # socket) and a writeLoop (parked on a Cond); 1001 consumers each run a
  # flushLoop and a monitorConsumer.  Per-connection and per-object state.
  "$REEF" goroutines --json "$CORPUS/05-nats-debug1-7k.txt" >"$TMP/c.json" 2>/dev/null
  for f in '(*client).writeLoop' '(*consumerFileStore).flushLoop' '(*jetStream).monitorConsumer' '(*raft).fileWriter'; do
    check "05: nats $f is not a leak" eq \
      "$(jq -r --arg f "$f" '[.groups[] | select(.count > 100 and (.frames | map(.func) | any(endswith($f)))) | .class] | unique | join(",")' "$TMP/c.json")" other
  done
  # 02: erigon's p2p peers: per-peer run/pingLoop/ReadMsg loops.
  "$REEF" goroutines --json "$CORPUS/02-erigon-debug1-20k.txt" >"$TMP/c.json" 2>/dev/null
  check "02: erigon peer loops are not leaks" eq \
    "$(jq -r '[.groups[] | select(.frames[0].func | test("p2p\\.\\(\\*Peer\\)\\.(run|pingLoop)$")) | .class] | unique | join(",")' "$TMP/c.json")" other
  # 27: etcd #5509, clientv3 connMonitor's retryConnection blocked 9 min
  # on the client's RWMutex (the double RLock); Close waits for it.
  run_reef goroutines --brief "$CORPUS/27-etcd-5509-double-rlock.txt"
  check "27: the RWMutex writer named" contains "$OUT" "waiting 9 min on sync.RWMutex.Lock at clientv3/client.go:286"
  # The dump says [semacquire, 9 minutes] for it: a lock wait that long is a
  # stuck lock, whatever the number of waiters.
  check "27: the dump has the 9-minute lock wait" eq "$(grep -A3 'semacquire, 9 minutes' "$CORPUS/27-etcd-5509-double-rlock.txt" | grep -c 'RWMutex).Lock')" 1
  "$REEF" goroutines --json "$CORPUS/27-etcd-5509-double-rlock.txt" >"$TMP/c.json"
  check "27: the writer's 9-minute wait is a stuck lock" eq \
    "$(jq -r '[.groups[] | select(any(.frames[]; .func | endswith("retryConnection"))) | "\(.class) \(.rule)"] | join(",")' "$TMP/c.json")" \
    "lock-pileup lock-stuck"
  # 25: go test timeout with a subtest running; the subtest's goroutine
  # waits in errgroup.Wait (glassdb_test.go:505 runs TestReadMulti.func1).
  "$REEF" goroutines --json "$CORPUS/25-glassdb-test-timeout-go122.txt" >"$TMP/c.json"
  check "25: timeout headline" eq "$(jq -r '"\(.headline.kind) \(.headline.message)"' "$TMP/c.json")" "test-timeout test timed out after 2m0s"
  check "25: running tests" eq "$(jq -r '.headline.running_tests | join(",")' "$TMP/c.json")" "TestReadMulti (1m48s),TestReadMulti/gcs (1m48s)"
  check "25: the subtest's goroutine" eq "$(jq -r .headline.test_goroutine_at.func "$TMP/c.json")" "golang.org/x/sync/errgroup.(*Group).Wait"
  # 07: three concurrent "fatal error: concurrent map writes".
  "$REEF" goroutines --json "$CORPUS/07-concurrent-map-writes-3fatal.txt" >"$TMP/c.json" 2>/dev/null
  check "07: concurrent map writes, 3 times" eq "$(jq -r '"\(.headline.kind) \(.headline.count)"' "$TMP/c.json")" "concurrent-map 3"
  run_reef goroutines --brief "$CORPUS/07-concurrent-map-writes-3fatal.txt"
  check "07: text starts with Go's line" eq "${OUT%%$'\n'*}" "fatal error: concurrent map writes (3 times) (line 4)"
fi

# ---- modules named go.*: application code, not the standard library ----
# etcd's debug=1 profile (tests/realworld): the goroutines with a go.etcd.io
# frame, summed from the profile's blocks by awk, are all kept by
# --hide-runtime and none is "idle".
ETCD1=$REEF_SRC/tests/realworld/captures/etcd-ok/goroutine-debug1.txt
if [[ -f $ETCD1 ]]; then
  want=$(awk '/^[0-9]+ @/ {n = $1; hit = 0} /^#\t0x[0-9a-f]+\tgo\.etcd\.io\// {if (!hit) {s += n; hit = 1}} END {print s}' "$ETCD1")
  check "go.etcd.io goroutines found by awk" test "$want" -gt 0
  check "--hide-runtime keeps every go.etcd.io goroutine" eq \
    "$("$REEF" goroutines --json --hide-runtime "$ETCD1" | jq '[.groups[] | select(any(.frames[]; .func | startswith("go.etcd.io/"))) | .count] | add')" "$want"
  check "no go.etcd.io goroutine is idle" eq \
    "$("$REEF" goroutines --json "$ETCD1" | jq '[.groups[] | select(any(.frames[]; .func | startswith("go.etcd.io/")) and .class == "idle")] | length')" 0
fi

# ---- live: the healthy zoo over HTTP, debug=2 and debug=1 ----
build_fixtures
"$FIXTURES/zoo" -set healthy -mode serve -truth "$TMP/truth-live.txt" >"$TMP/zoo.out" 2>"$TMP/zoo.out.err" &
PID=$!
_pids+=("$PID")
await_listening "$TMP/zoo.out" zoo
"$REEF" goroutines --json "$URL" >"$TMP/l2.json"
check "live healthy (debug=2): no leak" eq "$(jq .classes.leak "$TMP/l2.json")" 0
check "live healthy (debug=2): the pool" eq "$(class_at "$TMP/l2.json" "$TMP/truth-live.txt" pool-big)" other
"$REEF" goroutines --json --full-cap 0 "$URL" >"$TMP/l1.json"
check "live healthy (debug=1): per-connection writers" eq "$(class_at "$TMP/l1.json" "$TMP/truth-live.txt" conn-writer)" other
check "live healthy (debug=1): only the pool suspected" eq "$(jq .classes.leak "$TMP/l1.json")" \
  "$(truth_count "$TMP/truth-live.txt" pool-big)"

pass
