#!/usr/bin/env bash
# `make demo`: start the bundled leaky Go service, point reef at it, show
# what reef finds, stop the service.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
fixtures=build/fixtures
tests/fixtures/run.sh build "$fixtures" >/dev/null

out=$(mktemp)
"$fixtures/leakyservice" -selfload 300 >"$out" 2>/dev/null &
pid=$!
stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$out"
}
trap stop EXIT
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$out")
  [[ -n $url ]] && break
  sleep 0.1
done
[[ -n $url ]] || { echo "demo: the service did not start" >&2; exit 1; }
# The self-load needs a moment: each /quote request leaks after its 100 ms
# timeout, once the 300 ms upstream call returns.
sleep 3

echo "The demo service (tests/fixtures/leakyservice) listens on $url and has"
echo "just served 300 /quote and 300 /report requests to itself."
echo
echo "\$ reef goroutines --brief --hide-runtime $url"
build/reef goroutines --brief --hide-runtime "$url"
echo
echo "\$ reef goroutines --class leak $url"
build/reef goroutines --class leak "$url"
echo
echo "\$ reef scan $pid --window 3s      # the pid alone: reef finds the pprof endpoint"
build/reef scan "$pid" --window 3s -q --color never || true
exit 0
