#!/usr/bin/env bash
# `make test`: every test, three ways.
#   1. unit and end-to-end tests on the normal build;
#   2. the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. every libFuzzer harness for a bounded time (FUZZ_SECONDS, default 20).
# Ends with one line "N passed, N failed" over all suites.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

passed=0
failed=0
count() { # adds ctest's "N tests failed out of M" to the totals
  local line f t
  line=$(grep -E "tests failed out of [0-9]+" "$1" | tail -1)
  if [[ -z $line ]]; then failed=$((failed + 1)); return; fi
  f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  t=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + t - f))
  failed=$((failed + f))
}

suite() { # name builddir cmake-args...
  local name=$1 dir=$2
  shift 2
  echo "== $name"
  mkdir -p "$dir"
  if ! cmake -S . -B "$dir" "$@" >/dev/null || ! cmake --build "$dir" -j2 >"$dir/reef-build.log" 2>&1; then
    cat "$dir/reef-build.log" >&2
    echo "$name: build failed" >&2
    failed=$((failed + 1))
    return
  fi
  (cd "$dir" && ctest --output-on-failure -j2) | tee "$dir/reef-ctest.log"
  count "$dir/reef-ctest.log"
}

suite "tests" build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  suite "tests under ASan+UBSan" build-asan -DREEF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

echo "== fuzz"
if scripts/fuzz.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
