#!/usr/bin/env bash
# Malformed profiles (tests/bad/pprof, written by make.py there): a message
# naming the input, the position and the problem, exit status 2, bounded
# memory; and the cap on the decoded size that the user sets.
source "$(dirname "$0")/lib.sh"
BAD=$REEF_SRC/tests/bad/pprof

expect_bad() { # file words...
  local f=$1
  shift
  run_reef pprof top "$BAD/$f"
  check "$f exits 2" eq "$RC" 2
  check "$f: nothing on stdout" eq "$OUT" ""
  local w
  for w in "$@"; do check "$f: message says \"$w\"" contains "$ERR" "$w"; done
}

expect_bad truncated-gzip.pb.gz "truncated-gzip.pb.gz:" "gzip stream ends early"
expect_bad truncated-field.pb.gz "truncated-field.pb.gz: byte 58 of the decoded profile" "truncated"
expect_bad string-index-out-of-range.pb.gz "string-index-out-of-range.pb.gz:" "function id 1 names a string past the table's 5"
expect_bad value-count-mismatch.pb.gz "byte 6 of the decoded profile" "sample has 2 values, the profile has 1 sample types"
expect_bad no-empty-first-string.pb.gz 'the string table does not start with ""'
expect_bad undefined-location.pb.gz "location id 7 is used but never defined"
expect_bad undefined-function.pb.gz "function id 8 is used but never defined"
expect_bad garbage.pb.gz "garbage.pb.gz: byte 0 of the decoded profile"
expect_bad garbage.bin "not a pprof profile"

run_reef pprof top "$BAD/good.pb.gz"
check "the well-formed sibling reads" eq "$RC" 0
check "its one function" contains "$OUT" "main.f"

# The gzip bomb inflates to 1 GiB: stopped at the default cap, or at the
# user's, with memory to match (ulimit; not under ASan).
limit() { if [[ ${REEF_SANITIZE:-OFF} == ON ]]; then "$@"; else (ulimit -v 400000; "$@"); fi; }
set +e
limit "$REEF" pprof top --max-size 50000000 "$BAD/bomb.pb.gz" >/dev/null 2>"$TMP/err"; rc=$?
set -e
check "bomb with --max-size: exit 2" eq "$rc" 2
check "bomb: the cap is named" contains "$(cat "$TMP/err")" "decodes to more than 50000000 bytes"
run_reef pprof top "$BAD/bomb.pb.gz"
check "bomb at the default cap: exit 2" eq "$RC" 2
check "bomb: default cap named" contains "$ERR" "decodes to more than 1073741824 bytes"

# Usage errors.
run_reef pprof
check "pprof alone: exit 2" eq "$RC" 2
run_reef pprof frob x
check "unknown subcommand: exit 2" eq "$RC" 2
run_reef pprof top "$BAD/good.pb.gz" --sample-index nope
check "unknown sample index: exit 2" eq "$RC" 2
check "unknown sample index: the choices named" contains "$ERR" "it has samples"
run_reef pprof svg "$BAD/good.pb.gz"
check "svg without -o: exit 2" eq "$RC" 2
run_reef pprof top http://127.0.0.1:1
check "a base URL without a profile name: exit 2" eq "$RC" 2
run_reef pprof top --focus '(' "$BAD/good.pb.gz"
check "bad --focus: exit 2" eq "$RC" 2
pass
