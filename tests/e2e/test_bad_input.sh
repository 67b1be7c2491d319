#!/usr/bin/env bash
# Bad input: a clear message naming the input and the line, exit status 2,
# no crash, bounded memory.
source "$(dirname "$0")/lib.sh"
BAD=$REEF_SRC/tests/bad

expect_bad() { # file expected-position expected-words
  run_reef goroutines "$1"
  check "$1 exits 2" eq "$RC" 2
  check "$1 message names the position" contains "$ERR" "$2"
  check "$1 message says what is wrong" contains "$ERR" "$3"
  check "$1 prints nothing on stdout" eq "$OUT" ""
}

expect_bad "$BAD/empty.txt" "empty.txt:" "empty input"
expect_bad "$BAD/binary-junk.bin" "binary-junk.bin:" "no goroutine dump found"
expect_bad "$BAD/nul-bytes.txt" "nul-bytes.txt:2:" "control character"
expect_bad "$BAD/lying-header.txt" "lying-header.txt:2:" '"-3 minutes"'
expect_bad "$BAD/overflow-minutes.txt" "overflow-minutes.txt:1:" "implausible wait time"
expect_bad "$BAD/overflow-id.txt" "overflow-id.txt:1:" "goroutine id out of range"
expect_bad "$BAD/debug1-short.txt" "debug1-short.txt:4:" "says 9 goroutines"

expect_bad "$BAD/only-signal-thread.txt" "only-signal-thread.txt:" "only the signal thread"

# A dump cut short is not bad input: it is read, and the cut is said (with
# or without the old --partial); see test_untidy.sh for every shape of cut.
for opt in "" --partial; do
  run_reef goroutines --json $opt "$BAD/truncated-mid-frame.txt"
  check "cut dump $opt: exit 0" eq "$RC" 0
  check "cut dump $opt: both headers counted" eq "$(jq .total <<<"$OUT")" "$(grep -c '^goroutine ' "$BAD/truncated-mid-frame.txt")"
  check "cut dump $opt: flagged truncated" eq "$(jq .truncated <<<"$OUT")" true
  check "cut dump $opt: says where" contains "$ERR" "is cut at line 8, inside goroutine 7"
done

# Through a pipe the message names <stdin>.
set +e
"$REEF" goroutines <"$BAD/lying-header.txt" >/dev/null 2>"$TMP/err"
rc=$?
set -e
check "stdin: exit 2" eq "$rc" 2
check "stdin: named" contains "$(cat "$TMP/err")" "<stdin>:2:"

# A 100 MB line: inside a goroutine it is an error, found without reading
# it all into memory; before a dump it is skipped text.  Memory is capped
# with ulimit (not under ASan, which reserves terabytes of address space).
limit() { if [[ ${REEF_SANITIZE:-OFF} == ON ]]; then "$@"; else (ulimit -v 300000; "$@"); fi; }
{ printf 'goroutine 1 [running]:\n'; head -c 100000000 /dev/zero | tr '\0' 'a'; printf '\n'; } >"$TMP/longline.txt"
set +e
limit "$REEF" goroutines "$TMP/longline.txt" >/dev/null 2>"$TMP/err"; rc=$?
limit "$REEF" goroutines - <"$TMP/longline.txt" >/dev/null 2>"$TMP/err2"; rc2=$?
set -e
check "100 MB line in a goroutine: exit 2 (file)" eq "$rc" 2
check "100 MB line: message" contains "$(cat "$TMP/err")" "longline.txt:2: line longer than 1048576 bytes inside goroutine 1"
check "100 MB line in a goroutine: exit 2 (pipe)" eq "$rc2" 2
check "100 MB line: pipe message" contains "$(cat "$TMP/err2")" "<stdin>:2: line longer than 1048576 bytes inside goroutine 1"
{ head -c 100000000 /dev/zero | tr '\0' 'b'; printf '\ngoroutine 1 [running]:\nmain.main()\n\t/a.go:1 +0x1\n'; } >"$TMP/longtext.txt"
set +e
limit "$REEF" goroutines --json - <"$TMP/longtext.txt" >"$TMP/out" 2>"$TMP/err"; rc=$?
set -e
check "100 MB of text before a dump is skipped" eq "$rc" 0
check "the dump after it is read" eq "$(jq .total "$TMP/out")" 1

pass
