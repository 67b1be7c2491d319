#!/usr/bin/env bash
# reef scan against real Go processes, each with one real silent failure
# (tests/fixtures/ailing), and against busy but sound ones: each failure's
# rule fires, and the sound services give nothing at warn or above.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures

# scan_fault FAULT RULE [ENV...]: starts ailing -fault FAULT, scans it by
# URL and pid, and checks RULE fires and the exit status is 1.
scan_fault() {
  local fault=$1 rule=$2
  shift 2
  if (($#)); then
    export "$@"
  fi
  start_fixture ailing -fault "$fault"
  if (($#)); then
    local kv
    for kv in "$@"; do unset "${kv%%=*}"; done
  fi
  run_reef scan --url "$URL" --pid "$PID" --window "${WINDOW:-4s}" --samples 3 --json
  check "$fault: the JSON follows the schema" schema_ok
  check "$fault: $rule fires" fires "$rule"
  check "$fault: exit status 1 (a finding at warn or above)" eq "$RC" 1
  kill "$PID"
}

scan_fault leak goroutine-leak
check "leak: the leaking stack is named" contains "$(titles goroutine-leak)" "main.handleQuote.func1"
check "leak: blocked in chan send" contains "$(titles goroutine-leak)" "chan send"
check "leak: the count growth is measured" contains "$(titles goroutine-leak)" "goroutines grew from"
check "leak: the goroutine series is in values" test "$(jq '[.findings[].values.goroutines // empty | length] | max' <<<"$OUT")" -eq 3

scan_fault pileup lock-pileup
check "pileup: 60 waiters on the Lock at main.go:112" contains "$(titles lock-pileup)" "60 goroutines queued on sync.Mutex.Lock"

scan_fault pool http-pool-exhaustion
check "pool: 28 requests wait in getConn" contains "$(titles http-pool-exhaustion)" "28 goroutines waiting"
check "pool: in the transport" contains "$(titles http-pool-exhaustion)" "net/http.(*Transport).getConn"

# conns: requests with no timeout to an upstream that hangs, a new
# Transport each: the read loops that pile up are those requests'
# connections, so the cause is named once, as requests waiting on an
# upstream (20 more every second), not as a second, unrelated pile-up.
scan_fault conns upstream-wait
check "conns: named as requests waiting on an upstream" contains "$(titles upstream-wait)" "requests waiting on an upstream"
check "conns: from the fixture's client call" contains "$(titles upstream-wait)" "main.conns.func2"
check "conns: growing by about 20/s, so at least 40 more over the 4 s window" \
  test "$(jq '[.findings[].values.upstream_waits // empty | (.[-1] - .[0])] | max' <<<"$OUT")" -ge 40
check "conns: the read loops are not a second finding" eq "$(findings http-pool-exhaustion)" 0
check "conns: the advice is a response timeout" contains "$(advice upstream-wait)" "ResponseHeaderTimeout"

scan_fault init init-blocked
check "init: the creator is the package init" contains "$(titles init-blocked)" "started by main.init.0"
check "init: on a nil channel" contains "$(titles init-blocked)" "chan receive (nil chan)"
check "init: not double-reported as a plain leak" eq "$(findings goroutine-leak)" 0

scan_fault heap heap-growth
check "heap: the growing site is named" contains "$(jq -r '.findings[] | select(.rule == "heap-growth") | .evidence[]' <<<"$OUT")" "main.heap"

scan_fault frag heap-fragmentation
scan_fault rss rss-gap
check "rss: not mistaken for heap growth" bash -c "! grep -qw heap-growth <<<'$(loud)'"
scan_fault fd fd-leak
scan_fault threads thread-leak
scan_fault gcpause gc-pause GODEBUG=asyncpreemptoff=1
scan_fault gccpu gc-cpu

# The controls: a service doing nothing wrong, and a busy one whose idle
# pool, keep-alive connections, tickers, cache and lock look alarming.
for control in "ailing -fault none" healthy; do
  # shellcheck disable=SC2086
  start_fixture $control
  sleep 1
  run_reef scan --url "$URL" --pid "$PID" --window 3s --samples 4 --json
  check "$control: the JSON follows the schema" schema_ok
  check "$control: nothing at warn or above" eq "$(loud_but_pauses)" ""
  check "$control: exit status 0 (1 only for a gc-pause warning)" eq "$RC" "$([[ $(loud) == gc-pause ]] && echo 1 || echo 0)"
  # (An idle service may run no GC in the window: heap-growth then says so.)
  check "$control: every rule but expectation was checked, not skipped" \
    grep -qxE "(heap-growth )?expectation" <<<"$(jq -r '[.checks[] | select(.status == "skip") | .rule] | join(" ")' <<<"$OUT")"
  kill "$PID"
done

# Text: a checklist with every rule, the evidence and the advice.
start_fixture ailing -fault leak
leak_url=$URL
run_reef scan "$URL" "$PID" --window 2s --samples 3 --color never
check "text: exit 1" eq "$RC" 1
for rule in $RULES; do
  check "text: $rule is on the checklist" grep -qE "^(PASS|INFO|WARN|CRIT|SKIP) +$rule( |$)" "$TMP/out"
done
check "text: the leak is CRIT" grep -qE "^CRIT +goroutine-leak" "$TMP/out"
check "text: advice is given" contains "$OUT" "advice:"
check "text: the summary line" grep -qE "^[0-9]+ crit, [0-9]+ warn, [0-9]+ info, [0-9]+ pass, [0-9]+ skipped$" "$TMP/out"

# --fail-on decides the exit status.
run_reef scan "$URL" --window 0 --samples 1 --fail-on never --json
check "--fail-on never: exit 0 despite the leak" eq "$RC" 0
check "--fail-on never: the findings are still reported" test "$(findings goroutine-leak)" -gt 0
start_fixture ailing -fault fd
run_reef scan --pid "$PID" --url "$URL" --window 4s --samples 3 --fail-on crit --json
check "--fail-on crit: a warn-only scan exits 0" eq "$RC" 0
check "--fail-on crit: fd-leak still warns" eq "$(status fd-leak)" warn
kill "$PID"

# URL only: the /proc rules say why they skipped.
run_reef scan "$leak_url" --window 0 --samples 1 --json
check "URL only: rss-gap skipped for want of a pid" contains "$(jq -r '.checks[] | select(.rule == "rss-gap") | .note' <<<"$OUT")" "--pid"
check "URL only: status skip" eq "$(status memory-limit)" skip

pass
