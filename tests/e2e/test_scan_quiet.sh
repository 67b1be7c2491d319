#!/usr/bin/env bash
# init-blocked on a quiet service (tests/fixtures/scan-live -mode quiet): a
# package init started a loop that waits for a Start call nobody makes, and
# the process allocates nothing after start-up.  Go stamps a goroutine's
# wait start only when a GC scans it blocked; here the one GC ran in an
# init before the loop started, so the next is the forced one, two minutes
# or more later, and the dump shows "1 minutes" only a minute after that:
# at three minutes of uptime or more the wait reads two minutes or more
# short of it.  The rule must still say the loop has waited since
# start-up.  Bounded: the poll gives up after 330 s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures
t0=$SECONDS
live_server -mode quiet -lifetime 420s
quiet_url=$URL quiet_pid=$PID

# Younger than a minute: the dump has no wait times yet, and the rule does
# not guess (a loop waiting on a real channel could be about to be woken).
# (Another copy: a scan allocates in the service, and a GC it causes would
# stamp the wait early, which is not the case under test.)
live_server -mode quiet -lifetime 60s
run_reef scan --url "$URL" --pid "$PID" --window 0 --samples 1 --json
check "quiet, young: init-blocked not at warn" eq "$(status init-blocked)" pass
check "quiet, young: its PASS line says what it counted" contains "$(note init-blocked)" "1 goroutines started by a package init"
kill "$PID"

# Nothing asks the quiet one anything (a request allocates) until the
# forced GC can have run.
sleep 150
while ((SECONDS - t0 < 330)); do
  curl -sf "$quiet_url/debug/pprof/goroutine?debug=2" >"$TMP/quiet.txt" || true
  grep -A2 -E '^goroutine [0-9]+ .*\[chan receive, [0-9]+ minutes' "$TMP/quiet.txt" >"$TMP/quiet-waits.txt" || true
  grep -q 'main\.init\.1\.func1' "$TMP/quiet-waits.txt" && break
  sleep 10
done
check "quiet: Go printed the loop's wait in minutes within 330 s" grep -q 'main\.init\.1\.func1' "$TMP/quiet-waits.txt"
waited=$(sed -n 's/.*\[chan receive, \([0-9]*\) minutes.*/\1/p' "$TMP/quiet-waits.txt" | head -1)
uptime=$(( $(date +%s) - $(stat -c %Y /proc/"$quiet_pid") ))
echo "quiet: the dump says ${waited} min at ${uptime} s of uptime"
run_reef scan --url "$quiet_url" --pid "$quiet_pid" --window 0 --samples 1 --json
check "quiet: init-blocked fires" fires init-blocked
check "quiet: the init is named" contains "$(titles init-blocked)" "started by main.init.1"
check "quiet: on the channel receive of the loop" contains "$(titles init-blocked)" "blocked in chan receive"
check "quiet: waiting since start-up" contains "$(evidence init-blocked)" "since start-up"
check "quiet: no goroutine-leak besides" eq "$(findings goroutine-leak)" 0
pass
