#!/usr/bin/env bash
# reef pprof against go tool pprof on profiles shaped the way producers
# other than Go's runtime shape them (tests/pprof-odd, written by make.py
# there): ids out of order, one name in several files, drop_frames and
# keep_frames, units other than bytes and nanoseconds, NUL bytes in names,
# an empty mapping name, C++ and generic names.  Every expected figure
# comes from go tool pprof.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pprof_lib.sh"
ODD=$REEF_SRC/tests/pprof-odd

for f in "$ODD"/*.pb.gz; do
  n=$(sample_type_count "$f")
  check "${f##*/}: go tool pprof reads it" test -n "$n"
  for ((i = 0; i < n; i++)); do compare_top "$f" --sample-index "$i" -- -sample_index="$i"; done
done

# Samples referring to sparse location ids before their definition.
run_reef pprof top --json "$ODD/out-of-order-ids.pb.gz"
check "out-of-order ids read" eq "$RC" 0

# One function name in two files is one row; in two builds, a diff nets it.
ours=$("$REEF" pprof top --json "$ODD/same-name-a.pb.gz" | jq -r '[.rows[] | select(.func == "main.work")] | length')
check "main.work in two files is one row" eq "$ours" 1
compare_diff "$ODD/same-name-a.pb.gz" "$ODD/same-name-b.pb.gz"
compare_diff "$ODD/same-name-b.pb.gz" "$ODD/same-name-a.pb.gz"
run_reef pprof diff "$ODD/same-name-a.pb.gz" "$ODD/same-name-b.pb.gz"
check "the diff shows main.work's net +30B" contains "$OUT" "       30B"

# drop_frames: the allocator frames are gone, as in pprof.
run_reef pprof top --json "$ODD/drop-frames.pb.gz"
check "operator new dropped" eq "$(jq '[.rows[] | select(.func == "operator new")] | length' <<<"$OUT")" 0
check "a stack of allocator frames only keeps them" eq "$(jq '[.rows[] | select(.func == "malloc")][0].flat' <<<"$OUT")" 64
run_reef pprof top "$ODD/drop-frames-re2.pb.gz"
check "RE2 drop_frames (?:..), \\w, \\s, lazy: applied without a warning" eq "$ERR" ""
check "RE2 drop_frames: operator new dropped" eq "$(grep -c 'operator new' <<<"$OUT")" 0

# Text: values scaled as pprof scales each value (-unit=auto), every unit.
n=$(sample_type_count "$ODD/units.pb.gz")
for ((i = 0; i < n; i++)); do
  ours=$("$REEF" pprof top --sample-index "$i" "$ODD/units.pb.gz" | awk 'rows {print $1, $4, $NF} /flat%/ {rows = 1}' | LC_ALL=C sort)
  theirs=$(go tool pprof -symbolize=none -top -nodefraction=0 -unit=auto -sample_index="$i" "$ODD/units.pb.gz" 2>/dev/null |
    awk 'rows {print $1, $4, $NF} /flat%/ {rows = 1}' | LC_ALL=C sort)
  check "units, sample type $i: text values as go tool pprof -unit=auto" eq "$ours" "$theirs"
done

# A NUL inside a name does not cut it, and is printed.
"$REEF" pprof top "$ODD/odd-names.pb.gz" >"$TMP/out" # not run_reef: bash drops NUL bytes from variables
check "two names that differ after a NUL are two rows" eq "$(grep -c 'main.a' "$TMP/out")" 2
check "the bytes after the NUL are printed" eq "$(tr '\000' '@' <"$TMP/out" | grep -c 'main.a@one')" 1
check "an empty mapping name is <unknown>, not []" eq "$(grep -c '\[\]' "$TMP/out")" 0
"$REEF" pprof folded "$ODD/odd-names.pb.gz" >"$TMP/folded"
check "folded: the NUL shown as _, two stacks" eq "$(grep -c '^main.root;main.a_\(one\|two\) ' "$TMP/folded")" 2

# --names pprof: the names go tool pprof shows by default (its demangler's
# simplification); the default keeps the names of the file.
ours=$("$REEF" pprof top --json --names pprof "$ODD/generics.pb.gz" |
  jq -r '.rows[] | "\(.flat) \(.cum) \(.func)"' | LC_ALL=C sort)
theirs=$(PPROF_BINARY_PATH=/nonexistent go tool pprof -top -nodefraction=0 "$ODD/generics.pb.gz" 2>/dev/null |
  awk '/^ *flat  *flat%/ {rows = 1; next} rows {name = $6; for (i = 7; i <= NF; i++) name = name " " $i; print $1, $4, name}' |
  LC_ALL=C sort)
check "--names pprof = go tool pprof's default names" eq "$ours" "$theirs"
check "--names pprof merges std::vector<...>::push_back" contains "$ours" "39 39 std::vector::push_back"
run_reef pprof top --names nope "$ODD/generics.pb.gz"
check "--names with an unknown value: exit 2" eq "$RC" 2
pass
