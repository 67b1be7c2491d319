#!/usr/bin/env bash
# The runtime-figure parsers (src/parse/metrics.c) on a live Go service,
# tests/fixtures/promservice: /metrics (Prometheus client_golang),
# /debug/vars (expvar) and the MemStats trailer of heap?debug=1, fetched one
# after the other after forced collections, are read by the unit-test binary
# in its live mode (REEF_METRICS_LIVE_DIR), which checks that the three agree
# and that the settings given to the service here come back.
source "$(dirname "$0")/lib.sh"
build_fixtures
[[ -x $FIXTURES/promservice ]] || fail "promservice was not built (tests/fixtures/run.sh needs client_golang from the module proxy or cache)"
test_bin=$REEF_BUILD/tests/test_metrics
[[ -x $test_bin ]] || fail "$test_bin not built"

# Settings the runtime reports back: go_gc_gogc_percent,
# go_gc_gomemlimit_bytes, go_sched_gomaxprocs_threads.
export GOGC=150 GOMEMLIMIT=512MiB GOMAXPROCS=3
start_fixture promservice -addr 127.0.0.1:0
unset GOGC GOMEMLIMIT GOMAXPROCS

live=$TMP/live
mkdir -p "$live"
for _ in 1 2 3; do
  curl -sf "$URL/gc" >/dev/null
done
curl -sf "$URL/metrics" >"$live/metrics.txt"
curl -sf "$URL/debug/vars" >"$live/vars.json"
curl -sf "$URL/debug/pprof/heap?debug=1" >"$live/heap-debug1.txt"
check "/metrics fetched" test -s "$live/metrics.txt"
check "/debug/vars fetched" test -s "$live/vars.json"
check "heap?debug=1 fetched" test -s "$live/heap-debug1.txt"

# app_requests counts the requests to /gc and /metrics made above.
expect="gogc=150 gomemlimit=536870912 gomaxprocs=3 var.app_requests=4"
set +e
REEF_METRICS_LIVE_DIR=$live REEF_METRICS_LIVE_EXPECT=$expect "$test_bin" >"$TMP/live.out" 2>&1
rc=$?
set -e
[[ $rc -eq 0 ]] || cat "$TMP/live.out" >&2
check "the three sources agree (test_metrics live mode)" eq "$rc" 0
check "the live checks ran" contains "$(cat "$TMP/live.out")" "[  PASSED  ] 1 test(s)."
pass
