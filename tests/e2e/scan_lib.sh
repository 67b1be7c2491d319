# scan_lib.sh - helpers for the `reef scan` end-to-end tests (sourced after lib.sh).

RULES="goroutine-leak lock-pileup http-pool-exhaustion init-blocked heap-growth heap-fragmentation rss-gap
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
