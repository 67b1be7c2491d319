# scan_lib.sh - helpers for the `reef scan` end-to-end tests (sourced after lib.sh).

RULES="goroutine-leak lock-pileup http-pool-exhaustion upstream-wait init-blocked heap-growth heap-fragmentation rss-gap
memory-limit gomaxprocs-quota cpu-throttling fd-leak so-growth thread-leak gc-pause gc-cpu build-risk
pprof-exposed expectation"

# status RULE: the rule's status in the last JSON scan ($OUT).
status() { jq -r --arg r "$1" '.checks[] | select(.rule == $r) | .status' <<<"$OUT"; }
# findings RULE: how many findings the rule has in $OUT.
findings() { jq --arg r "$1" '[.findings[] | select(.rule == $r)] | length' <<<"$OUT"; }
# titles RULE: the titles of its findings, one per line.
titles() { jq -r --arg r "$1" '.findings[] | select(.rule == $r) | .title' <<<"$OUT"; }
# loud: the rules at warn or crit, space-separated.
loud() { jq -r '[.checks[] | select(.status == "warn" or .status == "crit") | .rule] | join(" ")' <<<"$OUT"; }
# loud_but_pauses: loud without a gc-pause warning.  A stop-the-world pause
# is wall-clock time: on a loaded two-core machine (or under a CPU quota) a
# sound service can really pause for 10 ms, so the controls leave that
# warning out, but not a crit (100 ms).
loud_but_pauses() {
  jq -r '[.checks[] | select(.status == "crit" or (.status == "warn" and .rule != "gc-pause")) | .rule] | join(" ")' <<<"$OUT"
}

# fires RULE: the rule has a finding at warn or above in $OUT.
fires() {
  local s
  s=$(status "$1")
  [[ $s == warn || $s == crit ]] && [[ $(findings "$1") -gt 0 ]] ||
    { echo "  $1 is [$s]; loud rules: [$(loud)]" >&2; return 1; }
}

# schema_ok: the JSON of $OUT has the documented shape.
schema_ok() {
  jq -e --arg rules "$RULES" '
    (.checks | map(.rule)) == ($rules | split("\\s+"; null)) and
    all(.checks[]; .status | IN("pass", "info", "warn", "crit", "skip")) and
    all(.checks[]; (.status != "skip") or (.note | type == "string" and length > 0)) and
    all(.findings[]; (.rule | type == "string") and (.severity | IN("info", "warn", "crit")) and
        (.title | length > 0) and (.evidence | type == "array") and (.advice | type == "string")) and
    (.target | has("url") and has("pid")) and (.scan.samples >= 1)' <<<"$OUT" >/dev/null
}

# ---- tests/fixtures/scan-live: servers and their bounded clients ----------

# live_server ARGS...: starts scan-live with ARGS, waits for its
# "listening on URL" line; sets PID, URL and LIVE_OUT (its output file).
live_server() {
  LIVE_OUT=$(mktemp --suffix=.out "$TMP/scan-live.XXXXXX")
  "$FIXTURES/scan-live" "$@" >"$LIVE_OUT" 2>"$LIVE_OUT.err" &
  PID=$!
  _pids+=("$PID")
  await_listening "$LIVE_OUT" "scan-live $*"
}

# live_line WORD: the rest of the server's line that starts with "WORD on ".
live_line() { sed -n "s/^$1 on //p" "$LIVE_OUT" | head -1; }

# live_client WORD ARGS...: starts a bounded scan-live client with ARGS and
# waits (at most 60 s) until it prints "WORD N" (all connected, all sent);
# sets CLIENT_PID and CLIENT_N (the N it printed: what it knows it did).
live_client() {
  local word=$1 out i
  shift
  out=$(mktemp --suffix=.out "$TMP/scan-live-client.XXXXXX")
  "$FIXTURES/scan-live" "$@" >"$out" 2>"$out.err" &
  CLIENT_PID=$!
  _pids+=("$CLIENT_PID")
  for ((i = 0; i < 600; i++)); do
    CLIENT_N=$(sed -n "s/^$word //p" "$out" | head -1)
    [[ -n $CLIENT_N ]] && return 0
    kill -0 "$CLIENT_PID" 2>/dev/null || { cat "$out.err" >&2; fail "client $* exited early"; }
    sleep 0.1
  done
  fail "client $* did not finish within 60 s"
}

# live_client_bg ARGS...: starts a bounded client and returns at once.
live_client_bg() {
  "$FIXTURES/scan-live" "$@" >/dev/null 2>&1 &
  CLIENT_PID=$!
  _pids+=("$CLIENT_PID")
}

# evidence RULE: every evidence line of the rule's findings in $OUT.
evidence() { jq -r --arg r "$1" '.findings[] | select(.rule == $r) | .evidence[]' <<<"$OUT"; }
# severity_of RULE: the highest severity among the rule's findings, or "none".
severity_of() {
  jq -r --arg r "$1" '[.findings[] | select(.rule == $r) | .severity] |
    if length == 0 then "none" elif index("crit") then "crit" elif index("warn") then "warn" else "info" end' <<<"$OUT"
}
# note RULE: the rule's checklist note in $OUT.
note() { jq -r --arg r "$1" '.checks[] | select(.rule == $r) | .note' <<<"$OUT"; }
# advice RULE: the advice of the rule's findings in $OUT.
advice() { jq -r --arg r "$1" '.findings[] | select(.rule == $r) | .advice' <<<"$OUT"; }
# lacks TEXT PART: TEXT does not contain PART.
lacks() { [[ "$1" != *"$2"* ]] || { echo "  [$2] found in: ${1:0:600}" >&2; return 1; }; }
# quiet_or_info RULE: the rule is at pass or info in $OUT.
quiet_or_info() { [[ $(status "$1") == pass || $(status "$1") == info ]] || { echo "  $1 is [$(status "$1")]" >&2; return 1; }; }
