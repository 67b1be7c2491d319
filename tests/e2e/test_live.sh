#!/usr/bin/env bash
# reef against a live Go process (the zoo fixture, built with this
# machine's Go): over HTTP with the automatic debug=1 -> debug=2 choice,
# debug=1 only, a SIGQUIT dump from the same process, and a cross-check of
# every per-function goroutine count with `go tool pprof` on the binary
# goroutine profile (debug=0) of the same process.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/truth.sh"
build_fixtures
start_fixture zoo -mode serve -truth "$TMP/truth.txt"
for _ in $(seq 100); do [[ -s $TMP/truth.txt ]] && break; sleep 0.1; done

# A base URL: reef asks debug=1 first, then debug=2 since the zoo is small.
"$REEF" goroutines --json "$URL" >"$TMP/auto.json"
check "auto: debug=2 fetched below the cap" eq "$(jq -r .endpoint "$TMP/auto.json")" "$URL/debug/pprof/goroutine?debug=2"
cp "$TMP/auto.json" "$TMP/r.json"
"$REEF" goroutines --json "$URL/debug/pprof/goroutine?debug=2" >"$TMP/d2.txt.json"
curl -sf "$URL/debug/pprof/goroutine?debug=2" >"$TMP/d2.txt"
check_traceback "$TMP/d2.txt" "$TMP/truth.txt"

# Above the cap reef stays with debug=1.
"$REEF" goroutines --json --full-cap 10 "$URL" >"$TMP/capped.json"
check "capped: debug=1 kept" eq "$(jq -r .endpoint "$TMP/capped.json")" "$URL/debug/pprof/goroutine?debug=1"
check "capped: format debug=1" eq "$(jq -r .format "$TMP/capped.json")" "debug=1"
curl -sf "$URL/debug/pprof/goroutine?debug=1" >"$TMP/d1.txt"
check_debug1 "$TMP/d1.txt" "$TMP/truth.txt"

# --full goes straight to debug=2.
"$REEF" goroutines --json --full "$URL" >"$TMP/full.json"
check "--full: debug=2" eq "$(jq -r .endpoint "$TMP/full.json")" "$URL/debug/pprof/goroutine?debug=2"

# Cross-check with go tool pprof: for every application function, the
# goroutines whose stack holds it (pprof's cumulative count on the debug=0
# profile) equal reef's, summed over the groups holding it.
go tool pprof -top -cum -nodecount=100000 "$URL/debug/pprof/goroutine" >"$TMP/pprof.txt" 2>/dev/null
pprof_total=$(sed -n 's/.* of \([0-9]*\) total.*/\1/p' "$TMP/pprof.txt" | head -1)
check "pprof total = reef total" eq "$(jq .total "$TMP/full.json")" "$pprof_total"
compared=0
while read -r cum fn; do
  # pprof names a generic instance by its shape (F[go.shape.string]); a
  # traceback prints F[...].
  fn=$(sed -E 's/\[[^]]*\]/[...]/g' <<<"$fn")
  ours=$(jq --arg f "$fn" '[.groups[] | select(any(.frames[]; .func == $f)) | .count] | add // 0' "$TMP/full.json")
  check "pprof cum for $fn = reef's" eq "$ours" "$cum"
  compared=$((compared + 1))
done < <(awk '$6 ~ /^main\./ && $7 == "" {print $4, $6}' "$TMP/pprof.txt")
check "pprof cross-check compared at least 15 functions" test "$compared" -ge 15

# The same process's SIGQUIT dump (stderr), parsed like any log.
kill -QUIT "$PID"
wait "$PID" 2>/dev/null || true
err=$(ls "$TMP"/zoo.*.out.err)
check_traceback "$err" "$TMP/truth.txt"
check "SIGQUIT dump found in the log" contains "$(head -c 200 "$err")" "SIGQUIT"

pass
