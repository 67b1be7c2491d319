#!/usr/bin/env bash
# Output modes, filters and dump selection, on real captures.  Expected
# figures come from the capture's ground truth (truth.txt) or from reef's
# own unfiltered JSON of the same file (a filter must select exactly the
# groups it names, no more, no fewer).
source "$(dirname "$0")/lib.sh"
CAP=$REEF_SRC/tests/captures/go1.26.8
D2=$CAP/debug2.txt
"$REEF" goroutines --json "$D2" >"$TMP/all.json"
total=$(jq .total "$TMP/all.json")
leak_count=$(sed -n 's/^TRUTH kind=leak count=\([0-9]*\) .*/\1/p' "$CAP/truth.txt")

# --min-count keeps exactly the groups that large.
"$REEF" goroutines --json --min-count 10 "$D2" >"$TMP/o.json"
check "--min-count: same groups as the unfiltered JSON" eq \
  "$(jq -c '[.groups[] | select(.count >= 10) | .count]' "$TMP/all.json")" "$(jq -c '[.groups[].count]' "$TMP/o.json")"
check "--min-count: total still the whole dump" eq "$(jq .total "$TMP/o.json")" "$total"

# --class keeps one class, and its sum is the class total.
"$REEF" goroutines --json --class leak "$D2" >"$TMP/o.json"
check "--class leak: only leaks" eq "$(jq -r '[.groups[].class] | unique | join(",")' "$TMP/o.json")" "leak"
check "--class leak: all of them" eq "$(jq '[.groups[].count] | add' "$TMP/o.json")" "$(jq .classes.leak "$TMP/all.json")"

# --match on a function, on file:line, on a state.
"$REEF" goroutines --json --match '^main\.leakSend$' "$D2" >"$TMP/o.json"
check "--match func: the leak group" eq "$(jq '[.groups[].count] | add' "$TMP/o.json")" "$leak_count"
"$REEF" goroutines --json --match 'zoo/kinds\.go:154$' "$D2" >"$TMP/o.json"
check "--match file:line: the leak group" eq "$(jq '[.groups[].count] | add' "$TMP/o.json")" "$leak_count"
"$REEF" goroutines --json --match '^sync\.Mutex\.Lock$' "$D2" >"$TMP/o.json"
check "--match state" eq "$(jq -r '[.groups[].state] | unique | join(",")' "$TMP/o.json")" "sync.Mutex.Lock"

# --hide-runtime drops the groups with no application frame (the idle ones).
"$REEF" goroutines --json --hide-runtime "$D2" >"$TMP/o.json"
check "--hide-runtime: no idle group left" eq "$(jq '[.groups[] | select(.class == "idle")] | length' "$TMP/o.json")" 0
check "--hide-runtime: every group has a main. frame" eq \
  "$(jq '[.groups[] | select(any(.frames[]; .func | startswith("main.")) | not)] | length' "$TMP/o.json")" 0
check "--hide-runtime: nothing else dropped" eq "$(jq '[.groups[].count] | add' "$TMP/o.json")" \
  "$(jq '[.groups[] | select(any(.frames[]; .func | startswith("main."))) | .count] | add' "$TMP/all.json")"

# --similar: move one leaking goroutine's frame to another line of the same
# function; it becomes its own group, and --similar merges it back.
awk 'BEGIN{done=0} /kinds.go:154 / && !done {sub(/kinds.go:154 /, "kinds.go:155 "); done=1} {print}' "$D2" >"$TMP/moved.txt"
"$REEF" goroutines --json "$TMP/moved.txt" >"$TMP/o.json"
check "a moved line splits the group" eq "$(jq -c '[.groups[] | select(.frames[0].func == "main.leakSend") | .count] | sort' "$TMP/o.json")" "[1,$((leak_count - 1))]"
"$REEF" goroutines --json --similar "$TMP/moved.txt" >"$TMP/o.json"
check "--similar merges it back" eq "$(jq -c '[.groups[] | select(.frames[0].func == "main.leakSend") | .count]' "$TMP/o.json")" "[$leak_count]"
check "--similar keeps the total" eq "$(jq .total "$TMP/o.json")" "$total"
check "--similar is reported" eq "$(jq .similar "$TMP/o.json")" "true"

# --folded: one line per group, outermost frame first, counts add up.
"$REEF" goroutines --folded "$D2" >"$TMP/folded"
check "--folded: counts add up to the total" eq "$(awk '{s += $NF} END {print s}' "$TMP/folded")" "$total"
check "--folded: one line per group" eq "$(wc -l <"$TMP/folded")" "$(jq '.groups | length' "$TMP/all.json")"
check "--folded: the leak stack ends in its function" eq "$(grep -cE "(^|;)main\.leakSend $leak_count\$" "$TMP/folded")" 1

# Text: --brief has no stacks; color only when asked or on a terminal.
run_reef goroutines --brief "$D2"
check "--brief: no file positions" eq "$(grep -c 'kinds.go:[0-9]*$' <<<"$OUT" || true)" 0
check "--brief: the leak reason" contains "$OUT" "$leak_count goroutines blocked"
run_reef goroutines "$D2"
check "text: stacks shown" contains "$OUT" "tests/fixtures/zoo/kinds.go:154"
check "text: no color into a file" eq "$(grep -c $'\033\\[' <<<"$OUT" || true)" 0
run_reef goroutines --color always "$D2"
check "--color always: escapes" test "$(grep -c $'\033\\[' <<<"$OUT")" -gt 0
if command -v script >/dev/null; then
  # On a terminal (script(1) gives reef a pty), color is on unless NO_COLOR.
  tty_out=$(script -qec "$REEF goroutines --brief $D2" /dev/null)
  check "terminal: color by default" test "$(grep -c $'\033\\[' <<<"$tty_out")" -gt 0
  tty_out=$(NO_COLOR=1 script -qec "$REEF goroutines --brief $D2" /dev/null)
  check "terminal: NO_COLOR turns it off" eq "$(grep -c $'\033\\[' <<<"$tty_out" || true)" 0
fi
run_reef goroutines --color sometimes "$D2"
check "--color with a bad value exits 2" eq "$RC" 2

# Two dumps in one log: the last by default, --dump picks another.
{ cat "$CAP/sigquit.txt"; echo "some log line"; cat "$REEF_SRC/tests/captures/go1.27.4/sigquit.txt"; } >"$TMP/two.txt"
t1=$("$REEF" goroutines --json "$CAP/sigquit.txt" | jq .total)
t2=$("$REEF" goroutines --json "$REEF_SRC/tests/captures/go1.27.4/sigquit.txt" | jq .total)
"$REEF" goroutines --json "$TMP/two.txt" >"$TMP/o.json"
check "two dumps found" eq "$(jq .dumps "$TMP/o.json")" 2
check "the last by default" eq "$(jq .total "$TMP/o.json")" "$t2"
check "--dump 1" eq "$("$REEF" goroutines --json --dump 1 "$TMP/two.txt" | jq .total)" "$t1"
run_reef goroutines "$TMP/two.txt"
check "text output notes the other dump" contains "$ERR" "holds 2 dumps"
run_reef goroutines --dump 3 "$TMP/two.txt"
check "--dump past the end exits 2" eq "$RC" 2

# Large files are read by two threads; the result must be the sequential
# one (stdin is always read sequentially), with and without a second dump.
# Each copy of the dump gets its own goroutine ids (an id printed twice is
# one goroutine).
copies() { # N [first]: N copies of the dump, ids offset by copy number
  local i
  for ((i = ${2:-1}; i < ${2:-1} + $1; i++)); do
    awk -v off=$((i * 1000000)) '/^goroutine [0-9]+ /{ $2 = $2 + off } { print }' "$D2"
  done
}
copies 520 >"$TMP/big.txt"
"$REEF" goroutines --json "$TMP/big.txt" | jq -S 'del(.source)' >"$TMP/par.json"
"$REEF" goroutines --json - <"$TMP/big.txt" | jq -S 'del(.source)' >"$TMP/seq.json"
check "parallel read = sequential read" eq "$(cmp -s "$TMP/par.json" "$TMP/seq.json" && echo same)" same
check "and it counted every copy" eq "$(jq .total "$TMP/par.json")" $((total * 520))
# The marker before the middle (the first thread sees both dumps), then
# after it (the second thread does, and reef reads again sequentially).
for split in "250 303" "300 253"; do
  read -r before after <<<"$split"
  { copies "$before"; printf '\nSIGQUIT: quit\n\n'; copies "$after" 1000; } >"$TMP/big2.txt"
  "$REEF" goroutines --json "$TMP/big2.txt" | jq -S 'del(.source)' >"$TMP/par.json"
  "$REEF" goroutines --json - <"$TMP/big2.txt" | jq -S 'del(.source)' >"$TMP/seq.json"
  check "parallel = sequential with a dump boundary ($split)" eq "$(cmp -s "$TMP/par.json" "$TMP/seq.json" && echo same)" same
  check "the second dump is the one kept ($split)" eq "$(jq .total "$TMP/par.json")" $((total * after))
done
pass
