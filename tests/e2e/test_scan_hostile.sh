#!/usr/bin/env bash
# reef scan against hostile targets (tests/fixtures/hostile): an endpoint
# that hangs, answers byte by byte, sends without end, sends garbage or
# errors, or hangs after a good start.  Scan reports it, asks each failing
# endpoint once, and finishes within its time budget.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures
start_fixture hostile -lifetime 200s
log=$(ls "$TMP"/hostile.*.out)

timed_scan() { # timed_scan MAX_SECONDS reef-scan-args...
  local max=$1
  shift
  local t0=$SECONDS
  run_reef scan "$@"
  check "scan $* finished within ${max}s" test $((SECONDS - t0)) -le "$max"
}
requests() { grep -c "^request /$1" "$log" || true; }

timed_scan 10 --url "$URL/hang/debug/pprof" --timeout 2 --window 1s
check "hang: exit 3" eq "$RC" 3
check "hang: the timeout is named" contains "$ERR" "imeout"

timed_scan 10 --url "$URL/slow/debug/pprof" --timeout 1 --window 1s
check "byte by byte: exit 3" eq "$RC" 3

timed_scan 30 --url "$URL/huge/debug/pprof" --timeout 10 --window 1s
check "endless body: exit 3" eq "$RC" 3
check "endless body: the size cap is named" contains "$ERR" "larger than"

timed_scan 10 --url "$URL/garbage/debug/pprof" --window 1s
check "garbage: exit 3" eq "$RC" 3
check "garbage: the URL is named" contains "$ERR" "$URL/garbage"

timed_scan 10 --url "$URL/error/debug/pprof" --window 1s
check "500: exit 3" eq "$RC" 3
check "500: the status is named" contains "$ERR" "HTTP 500"

timed_scan 10 --url "$URL/busy/debug/pprof" --window 2s --samples 5
check "503: exit 3" eq "$RC" 3
check "503: each endpoint asked once (index, /metrics, /debug/vars)" test "$(requests busy)" -le 3

# A good start, then every request hangs: the scan goes on with what it has,
# gives up on each endpoint after one timeout, and keeps to --budget.
timed_scan 20 --url "$URL/halfhang/debug/pprof" --timeout 2 --window 2s --samples 4 --budget 15s --json
check "halfhang: a report, not an error" test "$RC" -le 1
check "halfhang: schema" schema_ok
check "halfhang: the goroutine profile was asked once" eq "$(grep -c '^request /halfhang/debug/pprof/goroutine' "$log")" 1
check "halfhang: the heap trailer was asked once" eq "$(grep -c '^request /halfhang/debug/pprof/heap' "$log")" 1
check "halfhang: goroutine rules skip, saying why" eq "$(status goroutine-leak)" skip

# A closed port: unreachable, quickly.
timed_scan 8 --url "http://127.0.0.1:$(closed_port)" --connect-timeout 2 --window 1s
check "closed port: exit 3" eq "$RC" 3

# Bad usage.
run_reef scan
check "no target: exit 2" eq "$RC" 2
run_reef scan --url "$URL/debug/pprof/heap"
check "an endpoint instead of a base URL: exit 2" eq "$RC" 2
run_reef scan --window forever "$URL"
check "bad --window: exit 2" eq "$RC" 2
check "bad --window: named" contains "$ERR" "--window wants a duration"
run_reef scan --fail-on sometimes "$URL"
check "bad --fail-on: exit 2" eq "$RC" 2
run_reef scan 999999999
check "a pid that cannot exist: exit 2" eq "$RC" 2
run_reef scan 4194303
check "no such process: exit 3" eq "$RC" 3
pass
