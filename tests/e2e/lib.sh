# lib.sh - shared helpers for reef's end-to-end tests (sourced, not run).
# ctest sets REEF (the binary), REEF_SRC and REEF_BUILD.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin"
: "${REEF_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${REEF_BUILD:=$REEF_SRC/build}"
: "${REEF:=$REEF_BUILD/reef}"
FIXTURES=$REEF_BUILD/fixtures
TMP=$(mktemp -d "${TMPDIR:-/tmp}/reef-e2e.XXXXXX")
_pids=()
_checks=0

# Stops the processes the test started that still run.  Only this shell's
# running jobs are signalled: a pid in _pids that was killed and reaped
# earlier may since have been reused by another test's process.
cleanup() {
  local p running
  running=" $(jobs -pr | tr '\n' ' ') "
  for p in "${_pids[@]:-}"; do
    [[ -n $p && $running == *" $p "* ]] || continue
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

pass() { # prints the number of checks made, so an empty test cannot pass silently
  [[ $_checks -gt 0 ]] || fail "no checks were made"
  echo "ok: $_checks checks"
}

check() { # check DESCRIPTION CONDITION...
  local what=$1
  shift
  _checks=$((_checks + 1))
  "$@" || fail "$what"
}

eq() { [[ "$1" == "$2" ]] || { echo "  expected [$2], got [$1]" >&2; return 1; }; }
contains() { [[ "$1" == *"$2"* ]] || { echo "  [$2] not in: ${1:0:600}" >&2; return 1; }; }

# Runs reef, storing stdout, stderr and the exit status in OUT, ERR, RC.
run_reef() {
  set +e
  "$REEF" "$@" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  set -e
  OUT=$(cat "$TMP/out")
  ERR=$(cat "$TMP/err")
}

# Builds every Go fixture once per build directory (ctest runs tests in
# parallel, so the build is serialised with a lock).
build_fixtures() {
  mkdir -p "$FIXTURES"
  (
    flock 9
    "$REEF_SRC/tests/fixtures/run.sh" build "$FIXTURES" >&2
  ) 9>"$FIXTURES/.lock"
}

# await_listening OUT NAME: waits (at most 30 s) for the "listening on URL"
# line a fixture with pid $PID writes to OUT, and sets URL.
await_listening() {
  local out=$1 name=$2 i
  for ((i = 0; i < 300; i++)); do
    # The file is created by the background job's redirection, which may
    # not have run yet: a missing file is "not listening yet", not an error.
    URL=
    [[ -f $out ]] && URL=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$out" | head -1)
    [[ -n $URL ]] && return 0
    kill -0 "$PID" 2>/dev/null || { cat "$out.err" >&2 2>/dev/null || true; fail "$name exited early"; }
    sleep 0.1
  done
  fail "$name did not start within 30 s"
}

# start_bin PATH ARGS...: starts a server program, sets PID and URL.
start_bin() {
  local bin=$1
  shift
  local out
  out=$(mktemp --suffix=.out "$TMP/$(basename "$bin").XXXXXX")
  "$bin" "$@" >"$out" 2>"$out.err" &
  PID=$!
  _pids+=("$PID")
  await_listening "$out" "$bin"
}

# start_fixture NAME ARGS...: starts a fixture server, waits (at most 30 s)
# for its "listening on URL" line and sets URL and PID.
start_fixture() {
  local name=$1
  shift
  start_bin "$FIXTURES/$name" "$@"
}

# A port nothing listens on: bind, then close.
closed_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    echo 9
}
