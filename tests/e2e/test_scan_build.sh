#!/usr/bin/env bash
# reef scan: build-risk (race detector, debug build, unsupported Go),
# pprof-exposed, so-growth (a cgo fixture), expectations, and the pprof
# endpoint found through a pid alone.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures

# A build that stalls (a toolchain download) gives up after 240 s: the
# old-toolchain case is then skipped instead of the test hanging.
gobuild() { # gobuild OUT ENV... -- BUILD-ARGS... (from tests/fixtures)
  local out=$1
  shift
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  (cd "$REEF_SRC/tests/fixtures" && env GOFLAGS=-buildvcs=false "${envs[@]}" timeout 240 go build -o "$out" "$@")
}

# ---- build-risk -----------------------------------------------------------
gobuild "$TMP/ailing-race" CGO_ENABLED=1 -- -race ./ailing
start_bin "$TMP/ailing-race" -fault none
run_reef scan --pid "$PID" --window 0 --samples 1 --json
check "race build: build-risk fires" fires build-risk
check "race build: the race detector is named" contains "$(titles build-risk)" "race detector"
check "race build: found the pprof endpoint through the pid" eq "$(jq -r .target.url_discovered <<<"$OUT")" true
check "race build: ... at the fixture's address" eq "$(jq -r .target.url <<<"$OUT")" "$URL"
kill "$PID"

gobuild "$TMP/ailing-debug" CGO_ENABLED=0 -- "-gcflags=all=-N -l" ./ailing
start_bin "$TMP/ailing-debug" -fault none
run_reef scan --pid "$PID" --window 0 --samples 1 --json
check "debug build: optimizations off named" contains "$(titles build-risk)" "optimizations or inlining off"
# The support window follows the date: this machine's Go is supported
# today and out of support two releases later.
gover=$(go env GOVERSION)
minor=$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$gover")
check "today: $gover is not out of support" bash -c "! grep -q 'out of support' <<<'$(titles build-risk)'"
# Go 1.(minor+2) comes out in February or August; 18 months later is past it.
later=$(($(date +%s) + 550 * 86400))
run_reef scan --pid "$PID" --window 0 --samples 1 --json --now "$later"
check "in 18 months: $gover is out of support" contains "$(titles build-risk)" "built with $gover, out of support since Go 1.$((minor + 2))"
kill "$PID"

# A real old toolchain, when the module proxy can supply it.
if gobuild "$TMP/ailing-old" CGO_ENABLED=0 GOTOOLCHAIN=go1.22.12 -- ./ailing 2>"$TMP/old.err"; then
  start_bin "$TMP/ailing-old" -fault none
  run_reef scan --pid "$PID" --window 0 --samples 1 --json
  check "go1.22.12: out of support" contains "$(titles build-risk)" "built with go1.22.12, out of support since Go 1.24"
  check "go1.22.12: the scan still reads its pprof" eq "$(jq -r .scan.endpoints.pprof <<<"$OUT")" true
  kill "$PID"
else
  echo "skip: go1.22.12 is not available ($(head -1 "$TMP/old.err"))"
fi

# ---- pprof-exposed ----------------------------------------------------------
start_fixture ailing -fault none -addr 0.0.0.0:0
port=${URL##*:}
URL=http://127.0.0.1:$port
run_reef scan --url "$URL" --pid "$PID" --window 0 --samples 1 --json
check "0.0.0.0: pprof-exposed fires" fires pprof-exposed
# Go listens on 0.0.0.0 with a dual-stack socket: /proc shows it as [::].
check "0.0.0.0: the wildcard address is named" grep -qE "listens on (0\.0\.0\.0|\[::\]):$port, not on loopback" <<<"$(titles pprof-exposed)"
kill "$PID"
start_fixture ailing -fault none
run_reef scan --url "$URL" --pid "$PID" --window 0 --samples 1 --json
check "127.0.0.1: pprof-exposed passes" eq "$(status pprof-exposed)" pass

# ---- expectations -------------------------------------------------------------
cat >"$TMP/expect" <<'X'
# the HTTP server's accept loop must run
goroutine net/http.(*Server).Serve
goroutine reef.NoSuchLoop >= 1 crit
goroutine main.main >= 2
X
run_reef scan --url "$URL" --window 0 --samples 1 --json --expect "$TMP/expect"
check "expect: two of three fail" eq "$(findings expectation)" 2
check "expect: a missing loop is crit" eq "$(status expectation)" crit
check "expect: the missing loop is named" contains "$(titles expectation)" "reef.NoSuchLoop, found 0"
check "expect: a count too small is named" contains "$(titles expectation)" "at least 2 goroutines running main.main, found 1"
printf 'goroutine\n' >"$TMP/bad-expect"
run_reef scan --url "$URL" --window 0 --samples 1 --expect "$TMP/bad-expect"
check "bad expectations: exit 2" eq "$RC" 2
check "bad expectations: file and line named" contains "$ERR" "bad-expect:1: expected a function name"
kill "$PID"

# ---- so-growth (cgo: dlopen of fresh copies of a library) --------------------
printf 'int plugin_answer(void) { return 42; }\n' >"$TMP/plugin.c"
if gcc -shared -fPIC -o "$TMP/libplugin.so" "$TMP/plugin.c" && gobuild "$TMP/sogrowth" CGO_ENABLED=1 -- ./sogrowth; then
  start_bin "$TMP/sogrowth" -lib "$TMP/libplugin.so"
  run_reef scan "$PID" --window 4s --samples 3 --json
  check "so-growth fires" fires so-growth
  check "so-growth: the series rises" test "$(jq '[.findings[] | select(.rule == "so-growth") | .values.mapped_shared_objects[]] | (.[-1] - .[0])' <<<"$OUT")" -ge 5
  kill "$PID"
else
  fail "could not build the cgo fixture"
fi
pass
