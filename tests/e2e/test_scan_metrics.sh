#!/usr/bin/env bash
# reef scan of a service with Prometheus' client_golang on /metrics and
# expvar on /debug/vars (tests/fixtures/promservice): the runtime figures
# come from /metrics, GOMAXPROCS and GOMEMLIMIT from the runtime's own
# gauges, and metric expectations are checked against the live scrape.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures
GOMEMLIMIT=3GiB start_fixture promservice
curl -fsS "$URL/gc" >/dev/null

cat >"$TMP/expect" <<'X'
metric app_requests_total{path="/gc"} > 0
metric app_requests_total{code="404"} > 0
metric app_queue_depth{queue="plain"} == 3
metric app_never_registered_total > 0 crit
metric go_goroutines < 10000
X
run_reef scan --url "$URL" --pid "$PID" --window 1s --samples 2 --json --expect "$TMP/expect"
check "schema" schema_ok
check "figures from /metrics" eq "$(jq -r .scan.stats_source <<<"$OUT")" metrics
check "endpoints found: /metrics and /debug/vars" eq "$(jq -c '[.scan.endpoints.metrics, .scan.endpoints.vars]' <<<"$OUT")" "[true,true]"
check "the Go version from the build info" eq "$(jq -r .target.go_version <<<"$OUT")" "$(go env GOVERSION)"
check "two expectations fail" eq "$(findings expectation)" 2
check "a zero counter is named with its bound, value and sample" contains "$(titles expectation)" \
  '`app_requests_total{code="404"} > 0` violated: 0 at sample 2'
check "a missing metric is named, crit" contains "$(titles expectation)" "metric app_never_registered_total is missing"
check "expectation is crit" eq "$(status expectation)" crit
# The runtime's GOMAXPROCS gauge, not a guess: the note says where it came
# from whenever a quota is set; without one the rule passes.
check "gomaxprocs-quota passes without a quota" test "$(status gomaxprocs-quota)" = pass
check "gc-cpu measured from the heap trailer on the last sample" test "$(status gc-cpu)" != skip
check "gc-pause measured" test "$(status gc-pause)" != skip
check "nothing loud but the expectations" eq "$(loud_but_pauses)" "expectation"

# URL only: the build info is not readable, but go_info{version} is.
run_reef scan --url "$URL" --window 0 --samples 1 --json
check "URL only: the Go version from go_info" eq "$(jq -r .target.go_version <<<"$OUT")" "$(go env GOVERSION)"
check "URL only: build-risk still checks the release" test "$(status build-risk)" != skip
pass
