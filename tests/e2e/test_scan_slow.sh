#!/usr/bin/env bash
# reef scan: the cases that need time or a special build.
#   - init-blocked on a real channel: Go prints wait times in whole minutes,
#     so the fixture must have waited over a minute (the other cases run
#     while it does);
#   - Go's goroutine leak profile (Go 1.26 with GOEXPERIMENT=goroutineleakprofile);
#   - authentication (-H, --token-file) and https.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures
t0=$SECONDS
start_fixture ailing -fault initwait
init_url=$URL init_pid=$PID

# ---- the goroutine leak profile --------------------------------------------
if (cd "$REEF_SRC/tests/fixtures" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOEXPERIMENT=goroutineleakprofile \
  go build -o "$TMP/ailing-gl" ./ailing) 2>"$TMP/gl.err"; then
  start_bin "$TMP/ailing-gl" -fault leak
  sleep 1
  run_reef scan --url "$URL" --window 1s --samples 2 --json
  check "leak profile: the endpoint is found" eq "$(jq -r .scan.endpoints.goroutineleak <<<"$OUT")" true
  check "leak profile: crit" eq "$(status goroutine-leak)" crit
  check "leak profile: named as the runtime's proof" contains "$(titles goroutine-leak)" "leaked at main.handleQuote.func1"
  check "leak profile: the same stack is not reported twice" \
    eq "$(titles goroutine-leak | grep -c 'blocked in chan send at main.handleQuote.func1' || true)" 0
  kill "$PID"
else
  echo "skip: this Go cannot build with GOEXPERIMENT=goroutineleakprofile: $(head -1 "$TMP/gl.err")"
fi

# ---- authentication ----------------------------------------------------------
start_fixture ailing -fault leak -token sesame
run_reef scan --url "$URL" --window 0 --samples 1
check "no credentials: exit 3" eq "$RC" 3
check "no credentials: 401 named, with the way out" contains "$ERR" "HTTP 401"
printf 'sesame\n' >"$TMP/token"
run_reef scan --url "$URL" --token-file "$TMP/token" --window 1s --samples 2 --json
check "--token-file: the scan reads the service" eq "$(jq -r .scan.endpoints.pprof <<<"$OUT")" true
check "--token-file: the leak is found" fires goroutine-leak
run_reef scan --url "$URL" -H "Authorization: Bearer sesame" --window 0 --samples 1 --json
check "-H: the scan reads the service" eq "$(jq -r .scan.endpoints.pprof <<<"$OUT")" true
run_reef scan --url "$URL" --token-file "$TMP/no-such-file" --window 0 --samples 1
check "a missing token file: exit 2, named" eq "$RC:$(grep -c no-such-file <<<"$ERR")" "2:1"
kill "$PID"

# ---- https (hostile -tls serves a pprof index under /halfhang/) -------------
start_fixture hostile -tls -lifetime 60s
run_reef scan --url "$URL/halfhang/debug/pprof" --window 0 --samples 1 --timeout 1 --json
check "https, self-signed: refused without -k" eq "$RC" 3
check "https, self-signed: the certificate is named" contains "$ERR" "certificate"
run_reef scan -k --url "$URL/halfhang/debug/pprof" --window 0 --samples 1 --timeout 1 --json
check "https -k: the pprof index is read" eq "$(jq -r .scan.endpoints.pprof <<<"$OUT")" true
kill "$PID"

# ---- init-blocked on a real channel, after a minute --------------------------
# Go prints "N minutes" once a GC has seen the goroutine blocked for a
# minute: poll for it (at most 150 s after the start) rather than trusting a
# fixed sleep on a loaded machine.
while ((SECONDS - t0 < 150)); do
  curl -sf "$init_url/debug/pprof/goroutine?debug=2" >"$TMP/init.txt" || true
  grep -A2 -E '^goroutine [0-9]+ .*\[chan receive, [0-9]+ minutes' "$TMP/init.txt" >"$TMP/init-waits.txt" || true
  grep -q 'main\.init\.1\.func1' "$TMP/init-waits.txt" && break
  sleep 2
done
run_reef scan --url "$init_url" --pid "$init_pid" --window 0 --samples 1 --json
check "initwait: init-blocked fires" fires init-blocked
check "initwait: the init is named" contains "$(titles init-blocked)" "started by main.init.1"
check "initwait: on a channel receive" contains "$(titles init-blocked)" "blocked in chan receive at main.init.1.func1"
check "initwait: waiting since start-up" contains "$(jq -r '.findings[] | select(.rule == "init-blocked") | .evidence[]' <<<"$OUT")" "(since start-up)"
pass
