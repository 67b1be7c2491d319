#!/usr/bin/env bash
# reef scan --expect with a second endpoint: a broker's monitoring port
# (tests/fixtures/scan-live -mode broker -monitor: /varz in JSON as
# nats-server has it, /metrics in Prometheus text), read at every sample
# with the same capped, never-retried requests; a violated bound is named
# with the value and the sample.  Expected values come from the clients
# (they print how many connections they opened), not from reef.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures

live_server -mode broker -monitor -lifetime 5m
BROKER=$(live_line broker)
MON=$(live_line monitor)
check "the broker has a monitoring port of its own" test -n "$MON" -a "${MON##*:}" != "${URL##*:}"
live_client subscribed -mode subscribe -target "$BROKER" -n 12 -hold 5m
N=$CLIENT_N
check "the client opened 12 connections" eq "$N" 12

cat >"$TMP/expect" <<X
source nats $MON/varz
source prom $MON/metrics
metric connections <= 5 from nats crit
metric connections == $N from nats
metric broker_connections{state="open"} == $N from prom
metric broker_connections_total < $N from prom
metric slow_consumers == 0 from nats
metric cluster.port >= 0 from nats
metric never_there > 0 from nats
X
run_reef scan "$URL" --window 2s --samples 3 --json --expect "$TMP/expect"
check "schema" schema_ok
check "expectation is crit (the crit line fails)" eq "$(status expectation)" crit
check "three expectations fail" eq "$(findings expectation)" 3
check "the /varz bound is named with its value and sample" \
  contains "$(titles expectation)" "\`connections <= 5\` violated: $N at sample 1"
check "the Prometheus bound is named with its value and sample" \
  contains "$(titles expectation)" "\`broker_connections_total < $N\` violated: $N at sample 1"
check "a missing number from the source is named" contains "$(titles expectation)" "metric never_there is missing"
check "the violated line is crit, the others warn" eq \
  "$(jq -r '[.findings[] | select(.rule == "expectation") | .severity] | sort | join(" ")' <<<"$OUT")" "crit warn warn"
check "the evidence names the source and the file line" \
  contains "$(evidence expectation)" "$TMP/expect:3; read from source nats ($MON/varz)"
check "every sample read the source: the values per sample are the client's count" \
  eq "$(jq -c '[.findings[] | select(.title | startswith("`connections")) | .values.values[]]' <<<"$OUT")" "[$N,$N,$N]"
check "the note counts the second endpoints" contains "$(note expectation)" "from 2 second endpoints"
# The requests: each source once per sample, on top of the same scan without them.
with_sources=$(jq .scan.requests <<<"$OUT")
run_reef scan "$URL" --window 2s --samples 3 --json
check "each source is read once per sample (2 x 3 requests more)" eq "$((with_sources - $(jq .scan.requests <<<"$OUT")))" 6

# Clients arriving during the scan: the first sample past the bound is the
# one named, with the value it read.
live_client_bg -mode subscribe -target "$BROKER" -n 10 -every 400ms -hold 5m
cat >"$TMP/rising" <<X
source nats $MON/varz
metric connections <= $N from nats
X
run_reef scan "$URL" --window 4s --samples 3 --json --expect "$TMP/rising"
series=$(jq -c '[.findings[] | select(.rule == "expectation") | .values.values[]]' <<<"$OUT")
first=$(jq --argjson n "$N" '[.[] | . > $n] | index(true) + 1' <<<"$series")
value=$(jq --argjson i "$first" '.[$i - 1]' <<<"$series")
check "rising: the count rose past $N during the scan, and no further than the 22 clients" \
  jq -e --argjson n "$N" '.[-1] > $n and .[-1] <= 22 and .[0] <= .[1] and .[1] <= .[2]' <<<"$series"
check "rising: the title names the first sample past the bound and its value" \
  eq "$(titles expectation)" "\`connections <= $N\` violated: $value at sample $first"
check "rising: the advice is about a bound crossed" contains "$(advice expectation)" "rose past the bound"

# A source that does not answer, one that answers 404 and one that is not
# metrics (the pprof index's HTML): each is asked once, and the
# expectations it feeds say they could not be checked and why; the scan
# of the service itself goes on.
port=$(closed_port)
cat >"$TMP/broken" <<X
source down http://127.0.0.1:$port/varz
source gone $MON/nothing-here
source html $URL/debug/pprof/
metric connections > 0 from down crit
metric connections > 0 from gone
metric connections > 0 from html
X
run_reef scan "$URL" --window 1s --samples 3 --json --expect "$TMP/broken"
check "broken: schema" schema_ok
check "broken: three findings, one per unread source" eq "$(findings expectation)" 3
check "broken: the down source is named" contains "$(titles expectation)" "cannot check \`connections > 0\`: http://127.0.0.1:$port/varz could not be read"
check "broken: the 404 is said" contains "$(evidence expectation)" "404"
check "broken: the HTML body is refused with its position" contains "$(evidence expectation)" "$URL/debug/pprof/:1:"
check "broken: unchecked is a warning, not the line's crit" eq "$(severity_of expectation)" warn
check "broken: the service's own rules still ran" eq "$(status goroutine-leak)" pass
without=$(jq .scan.requests <<<"$OUT")
run_reef scan "$URL" --window 1s --samples 3 --json
check "broken: each failed source was asked once, never again (3 requests more)" \
  eq "$((without - $(jq .scan.requests <<<"$OUT")))" 3

# Bad expectation files stop before any request: exit 2, FILE:LINE: problem.
bad() { # bad TEXT POSITION WORDS
  printf '%b' "$1" >"$TMP/bad.expect"
  run_reef scan "$URL" --window 0 --samples 1 --expect "$TMP/bad.expect"
  check "bad [$1]: exit 2" eq "$RC" 2
  check "bad [$1]: names $2" contains "$ERR" "$TMP/bad.expect:$2: $3"
  check "bad [$1]: nothing on stdout" eq "$OUT" ""
}
bad 'metric connections <= 5 from nats\n' 1 "unknown source 'nats'"
bad "source nats $MON/varz\n# again\nsource nats $MON/varz\n" 3 "source 'nats' already declared on line 1"
bad 'source nats 127.0.0.1:8222/varz\n' 1 "expected an http:// or https:// URL"
bad "source nats $MON/varz\nmetric connections <= 5 from\n" 2 "expected a source name after 'from'"
bad "source nats $MON/varz\ngoroutine main.main from nats\n" 2 "expected warn, crit or the end of the line"
pass
