#!/usr/bin/env bash
# goroutine-leak gives the same verdict for the same group whether or not
# the debug=2 dump was taken (--full-cap): with the dump (default), with
# dumps turned off (--full-cap 0) and with the service above the cap
# (--full-cap 10).  The verdict rests on what every path has: the debug=1
# samples' counts per site, the wait (from the debug=2 state, else the
# protobuf goroutine profile's runtime frames) and the connections; the
# dump only adds creators and wait times to the evidence.  Live services:
# tests/fixtures/ailing -fault leak, and the healthy look-alikes
# (scan-live's broker with its per-connection loops, tests/fixtures/healthy).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures

# verdicts: the goroutine-leak findings of $OUT by site, counts left out
# (the service keeps leaking between two scans), one per line.
verdicts() {
  jq -r '.findings[] | select(.rule == "goroutine-leak" and (.title | test(" blocked in "))) |
    "\(.severity) \(.title | sub("^[0-9]+ "; ""))"' <<<"$OUT" | sort
}

start_fixture ailing -fault leak
sleep 1 # a second of requests: 20 leaked goroutines to look at
# What the leaking goroutines wait on, from Go's own tools: the protobuf
# profile's trace through main.handleQuote.func1 parks in runtime.chansend1.
curl -fsS "$URL/debug/pprof/goroutine" -o "$TMP/goroutine.pb.gz"
check "go tool pprof: the leaking site parks in runtime.chansend1" \
  bash -c "go tool pprof -traces '$TMP/goroutine.pb.gz' 2>/dev/null |
    awk '/^-+\\+/{if (t ~ /main.handleQuote.func1/ && t ~ /runtime.chansend1/) ok=1; t=\"\"; next} {t = t \$0} END{exit !ok}'"

declare -A V
for cap in 5000 0 10; do
  run_reef scan --url "$URL" --pid "$PID" --window 4s --samples 3 --full-cap "$cap" --json
  check "cap $cap: schema" schema_ok
  V[$cap]=$(verdicts)
  check "cap $cap: the leak is crit" eq "$(status goroutine-leak)" crit
  check "cap $cap: the leaking site is named, blocked in chan send" \
    contains "${V[$cap]}" "crit goroutines blocked in chan send at main.handleQuote.func1 (ailing/main.go:100)"
  # The fixture leaks one goroutine per request, a request every 50 ms:
  # 20 a second, 80 over the 4 s window; wide bounds for a loaded machine.
  grew=$(jq '[.findings[] | select(.rule == "goroutine-leak") | .values.site_goroutines // empty |
    (.[-1] - .[0])] | max' <<<"$OUT")
  check "cap $cap: the site grew by the fixture's rate over the window ($grew)" test "$grew" -ge 20 -a "$grew" -le 120
  check "cap $cap: the verdict is growth" contains "$(evidence goroutine-leak)" "(verdict grows)"
  case $cap in
    5000)
      check "with the dump: the creator is in the evidence" contains "$(evidence goroutine-leak)" "created by main.handleQuote"
      check "with the dump: the note says it was read" contains "$(note goroutine-leak)" "debug=2 dump read" ;;
    0)
      check "--full-cap 0: says why there is no dump" contains "$(evidence goroutine-leak)" "debug=2 dumps were turned off (--full-cap 0)"
      check "--full-cap 0: says what debug=1 cannot show" contains "$(evidence goroutine-leak)" "creators, goroutine ids and wait times are in no debug=1 profile"
      check "--full-cap 0: the wait comes from the protobuf profile" contains "$(note goroutine-leak)" "waits from the protobuf profile" ;;
    10)
      check "above the cap: says the count crossed it" contains "$(evidence goroutine-leak)" "is above --full-cap 10"
      check "above the cap: no creator claimed" lacks "$(evidence goroutine-leak)" "created by" ;;
  esac
done
check "the same verdicts with the dump and with --full-cap 0" eq "${V[0]}" "${V[5000]}"
check "the same verdicts with the dump and above --full-cap" eq "${V[10]}" "${V[5000]}"
kill "$PID"

# Healthy look-alikes, both ways: a broker's per-connection reader and
# write loop (parked on a sync.Cond) follow the 40 connections its clients
# opened and hold still; the busy healthy service's pools and keep-alives.
live_server -mode broker -lifetime 5m
live_client subscribed -mode subscribe -target "$(live_line broker)" -n 40 -hold 5m
check "the client opened 40 connections" eq "$CLIENT_N" 40
for cap in 5000 0; do
  run_reef scan --url "$URL" --pid "$PID" --window 2s --samples 3 --full-cap "$cap" --json
  check "broker, cap $cap: no goroutine-leak finding" eq "$(findings goroutine-leak)" 0
  check "broker, cap $cap: the write loops are per connection" contains "$(note goroutine-leak)" "40 parked per connection"
done
kill "$PID"
start_fixture healthy
sleep 1
for cap in 5000 0; do
  run_reef scan --url "$URL" --pid "$PID" --window 3s --samples 3 --full-cap "$cap" --json
  check "healthy, cap $cap: goroutine-leak passes" eq "$(status goroutine-leak)" pass
done
pass
