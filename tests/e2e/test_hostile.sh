#!/usr/bin/env bash
# A hostile or broken endpoint: reef reports it and finishes within its
# time budget, with the right exit status, and never reads without bound.
source "$(dirname "$0")/lib.sh"
build_fixtures
start_fixture hostile -lifetime 120s

timed() { # timed MAX_SECONDS reef-args...: runs reef, fails if it overruns
  local max=$1
  shift
  local t0=$SECONDS
  run_reef "$@"
  check "reef $* finished within ${max}s" test $((SECONDS - t0)) -le "$max"
}

timed 6 goroutines --timeout 2 "$URL/hang"
check "a hanging endpoint exits 3" eq "$RC" 3
check "a hanging endpoint is reported as a timeout" contains "$ERR" "imeout"

timed 6 goroutines --timeout 1 "$URL/slow/debug/pprof/goroutine?debug=2"
check "a byte-by-byte endpoint hits the total timeout" eq "$RC" 3

timed 20 goroutines --timeout 10 --max-bytes 10000000 "$URL/huge"
check "an endless body stops at --max-bytes" eq "$RC" 2
check "the size cap is named" contains "$ERR" "larger than 10000000 bytes"

run_reef goroutines "$URL/garbage/debug/pprof/goroutine?debug=2"
check "binary garbage exits 2" eq "$RC" 2
check "binary garbage is named with its URL" contains "$ERR" "/garbage/debug/pprof/goroutine?debug=2"

run_reef goroutines "$URL/error"
check "HTTP 500 exits 3" eq "$RC" 3
check "HTTP 500 is reported with the body's first line" contains "$ERR" "HTTP 500: internal trouble"

run_reef goroutines "$URL/busy"
check "HTTP 503 exits 3" eq "$RC" 3
check "busy endpoint: reef says it does not retry" contains "$ERR" "does not retry"

run_reef goroutines "$URL/nothing-here"
check "HTTP 404 exits 3" eq "$RC" 3
check "404 hints at net/http/pprof" contains "$ERR" "net/http/pprof"

timed 6 goroutines --connect-timeout 2 "http://127.0.0.1:$(closed_port)"
check "a closed port exits 3" eq "$RC" 3

# No retries: a failing URL costs exactly one request.
log=$(ls "$TMP"/hostile.*.out)
check "one request to the busy endpoint" eq "$(grep -c '^request /busy' "$log")" 1
check "one request to the failing endpoint" eq "$(grep -c '^request /error' "$log")" 1

# A base URL given as .../debug/pprof/ is still a base URL: reef asks for
# the cheap debug=1 dump first, once.
run_reef goroutines "$URL/busy/debug/pprof/"
check "busy base URL exits 3" eq "$RC" 3
check "the base URL's first request is debug=1" eq "$(grep '^request /busy/debug' "$log")" "request /busy/debug/pprof/goroutine?debug=1"
# A dump cut mid-goroutine over HTTP (Go's 64 MiB limit): what came before
# is read, the cut goroutine is counted (its header arrived), and reef says so.
run_reef goroutines --json "$URL/cut/debug/pprof/goroutine?debug=2"
check "cut dump over HTTP: exit 0" eq "$RC" 0
check "cut dump: both goroutines counted" eq "$(jq .total <<<"$OUT")" 2
check "cut dump: flagged" eq "$(jq .truncated <<<"$OUT")" true
check "cut dump: reef says which goroutine" contains "$ERR" "inside goroutine 2"

# Credentials by header, and HTTPS (certificate checked unless -k).
run_reef goroutines "$URL/auth/x"
check "no credentials: exit 3" eq "$RC" 3
check "no credentials: 401 and a hint" contains "$ERR" "HTTP 401: who are you? (pass credentials with -H)"
run_reef goroutines --json -H "Authorization: Bearer sesame" "$URL/auth/x"
check "-H: accepted" eq "$RC" 0
check "-H: the dump is read" eq "$(jq .total <<<"$OUT")" 1
start_fixture hostile -tls -lifetime 120s
check "the TLS fixture serves https" contains "$URL" "https://"
run_reef goroutines -H "Authorization: Bearer sesame" "$URL/auth/x"
check "self-signed certificate refused: exit 3" eq "$RC" 3
check "certificate problem named" contains "$ERR" "certificate"
run_reef goroutines --json -k -H "Authorization: Bearer sesame" "$URL/auth/x"
check "-k: https read" eq "$(jq .total <<<"$OUT")" 1

pass
