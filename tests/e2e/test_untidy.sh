#!/usr/bin/env bash
# reef on goroutine dumps as people paste them: the zoo captures of every Go
# release and the real dumps of the shared corpus, reshaped by
# tests/untidy/reshape.py (tabs expanded or dropped, timestamps, journald and
# CRI prefixes, "> " quoting, CI line numbers, CRLF, colors, a byte-order
# mark, no final newline, a go test trailer) and cut short.
#
# Expected figures: the zoo's own ground truth (truth*.txt, what it started)
# and the goroutine headers of the capture as printed, counted by grep; for
# the corpus, the counts in its SOURCES.md.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/truth.sh"
CAPTURES=$REEF_SRC/tests/captures
CORPUS=$REEF_SRC/../shared/corpus/goroutine-dumps
reshape() { python3 "$REEF_SRC/tests/untidy/reshape.py" "$@"; }
mapfile -t shapes < <(reshape --list)
check "reshape.py knows at least 15 shapes" test "${#shapes[@]}" -ge 15

# Captures: each release's debug=2 and deadlock dumps in a shape (the next
# one for each file, so that all are used), checked against the zoo's truth: counts per
# kind of goroutine, and the class each kind must get.
i=0
for dir in "$CAPTURES"/go*/; do
  v=$(basename "$dir")
  for kind in debug2 deadlock; do
    truth=$dir/truth.txt
    [[ $kind == deadlock ]] && truth=$dir/truth-deadlock.txt
    shape=${shapes[$((i % ${#shapes[@]}))]}
    reshape "$shape" <"$dir/$kind.txt" >"$TMP/$v-$kind-$shape.txt"
    check_traceback "$TMP/$v-$kind-$shape.txt" "$truth" "$dir/$kind.txt"
    i=$((i + 1))
  done
done

# Every shape of one capture: the same groups, states and classes as the
# capture as printed (itself checked against the truth above).
cap=$CAPTURES/go1.26.8/sigquit.txt
project='[.total, .classes, ([.groups[] | [.count, .state, .class, [.frames[] | [.func, .file, .line]]]] | sort)]'
"$REEF" goroutines --json "$cap" 2>/dev/null | jq -c "$project" >"$TMP/clean"
check "the capture as printed: total = headers" eq "$(jq '.[0]' "$TMP/clean")" "$(grep -cE '^goroutine [1-9][0-9]* ' "$cap")"
mkdir -p "$TMP/cap"
reshape --all "$TMP/cap" <"$cap"
for shape in "${shapes[@]}"; do
  run_reef goroutines --json "$TMP/cap/$shape.txt"
  check "sigquit.txt, $shape: exit 0" eq "$RC" 0
  check "sigquit.txt, $shape: same groups as printed" eq "$(jq -c "$project" <<<"$OUT")" "$(cat "$TMP/clean")"
  check "sigquit.txt, $shape: goroutine 0 said" contains "$ERR" "goroutine 0 is the thread that took the signal"
  check "sigquit.txt, $shape: nothing lost" eq "$(grep -c 'left out\|is cut' <<<"$ERR" || true)" 0
done

# The shared corpus in every shape: the counts of its SOURCES.md.
declare -A TRUE_COUNT=(
  [01-amqpx-test-timeout.txt]=25 [03-kvstore-windows-debug2.txt]=13 [04-cdk-erigon-debug2.txt]=133
  [06-go-compile-sigquit-regs-indented.txt]=2 [07-concurrent-map-writes-3fatal.txt]=74
  [08-gostackparse-frameselided.txt]=2 [09-gostackparse-ancestors.txt]=3 [10-gostackparse-cgo.txt]=3
  [11-gostackparse-waitsince.txt]=9 [12-panicparse-panicweb-debug2.txt]=71 [25-glassdb-test-timeout-go122.txt]=4
  [26-k8s-25331-etcd3-watch-go110.txt]=32 [27-etcd-5509-double-rlock.txt]=28
  [02-erigon-debug1-20k.txt]=20161 [05-nats-debug1-7k.txt]=7046 [32-cdk-erigon-debug1-txgaslogger-leak.txt]=5171
)
mkdir -p "$TMP/shapes"
for f in "${!TRUE_COUNT[@]}"; do
  reshape --all "$TMP/shapes" <"$CORPUS/$f"
  cp "$CORPUS/$f" "$TMP/shapes/as-stored.txt"
  for shaped in "$TMP"/shapes/*.txt; do
    shape=$(basename "$shaped" .txt)
    got=$("$REEF" goroutines --json "$shaped" 2>/dev/null | jq .total) || fail "$f $shape: reef exit"
    check "$f $shape: ${TRUE_COUNT[$f]} goroutines" eq "$got" "${TRUE_COUNT[$f]}"
  done
done

# Cut short, through the binary (every byte offset is in unit_gdump_untidy):
# exit 0 with the goroutines whose header arrived, the cut said when it
# falls inside a goroutine; never a count that is silently short.
cap=$CAPTURES/go1.26.8/panic.txt
size=$(stat -c %s "$cap")
for ((k = 1; k <= 25; k++)); do
  at=$((size * k / 26 + k * 13))
  reshape "cut:$at" <"$cap" >"$TMP/cut.txt"
  run_reef goroutines --json "$TMP/cut.txt"
  want=$(grep -cE '^goroutine [1-9][0-9]* .*\]:$' "$TMP/cut.txt" || true)
  check "cut at $at: exit 0" eq "$RC" 0
  check "cut at $at: $want goroutines" eq "$(jq .total <<<"$OUT")" "$want"
  if [[ $(tail -c 1 "$TMP/cut.txt") != "" && $(tail -n 1 "$TMP/cut.txt") == goroutine* ]]; then
    check "cut at $at, in a header: said" contains "$ERR" "is cut at line"
  fi
  if [[ $(tail -n 1 "$TMP/cut.txt") == *"("* && $(tail -c 1 "$TMP/cut.txt") != ")" ]]; then
    check "cut at $at, in a function line: said" contains "$ERR" "is cut at line $(wc -l <"$TMP/cut.txt" | awk '{print $1 + 1}')"
  fi
done

# What was read past is said on stderr; stdout stays valid JSON.
run_reef goroutines --json "$CORPUS/07-concurrent-map-writes-3fatal.txt"
check "07: duplicates said" contains "$ERR" "2 goroutines printed twice"
check "07: valid JSON" eq "$(jq -r .schema <<<"$OUT")" "reef.goroutines/1"
run_reef goroutines --brief "$CORPUS/06-go-compile-sigquit-regs-indented.txt"
check "06: goroutine 0 said" contains "$ERR" "goroutine 0 is the thread that took the signal, not a goroutine"
check "06: 2 goroutines" contains "$OUT" "2 goroutines in"
printf 'goroutine 1 [running]:\nmain.main()\n        /tmp/x.go:5 +0x1d\n' >"$TMP/issue.txt"
run_reef goroutines --json - <"$TMP/issue.txt"
check "the issue's example: exit 0" eq "$RC" 0
check "the issue's example: its frame" eq "$(jq -r '.groups[0].frames[0] | "\(.func) \(.file):\(.line)"' <<<"$OUT")" "main.main /tmp/x.go:5"
printf 'goroutine 1 [running]:\n\t/tmp/x.go:5 +0x1d\nmain.main()\n\t/tmp/x.go:6 +0x1d\n' >"$TMP/lost.txt"
run_reef goroutines --json "$TMP/lost.txt"
check "a lost function line: exit 0" eq "$RC" 0
check "a lost function line: said, with its line" contains "$ERR" "lost.txt:2: 1 line inside goroutines is not Go's"

pass
