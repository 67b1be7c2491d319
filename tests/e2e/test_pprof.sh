#!/usr/bin/env bash
# reef pprof top/diff against `go tool pprof -top` on profiles written by a
# real Go program (tests/fixtures/profiles) built with three Go releases:
# the same totals, and the same flat and cum for every function.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pprof_lib.sh"
CAP=$REEF_SRC/tests/captures/pprof

n=0
for dir in "$CAP"/go*/; do
  n=$((n + 1))
  for f in "$dir"*.pb.gz; do
    compare_top "$f"
    case $(basename "$f") in
    heap*|allocs*)
      for si in alloc_objects alloc_space inuse_objects inuse_space; do
        compare_top "$f" --sample-index "$si" -- -sample_index="$si"
      done ;;
    mutex*|block*)
      compare_top "$f" --sample-index contentions -- -sample_index=contentions ;;
    esac
  done
  # Lines, focus and ignore on the CPU and heap profiles.
  compare_top "$dir/cpu.pb.gz" --by line -- -lines
  compare_top "$dir/heap-rate1.pb.gz" --by line --sample-index alloc_space -- -lines -sample_index=alloc_space
  compare_top "$dir/cpu.pb.gz" --focus 'burnHot' -- -focus=burnHot
  compare_top "$dir/cpu.pb.gz" --ignore 'burnHot' -- -ignore=burnHot
  compare_top "$dir/allocs.pb.gz" --focus 'main\.site[AB]' -- '-focus=main\.site[AB]'
  # diff = top -base.
  "$REEF" pprof diff --json "$dir/heap-base.pb.gz" "$dir/heap-later.pb.gz" >"$TMP/rf.json"
  ours=$({ echo "total $(jq .total "$TMP/rf.json")"; jq -r '.rows[] | "\(.flat) \(.cum) \(.func)"' "$TMP/rf.json" | LC_ALL=C sort; })
  theirs=$(pprof_rows "$dir/heap-later.pb.gz" bytes -base "$dir/heap-base.pb.gz")
  [[ "$ours" == "$theirs" ]] || diff <(echo "$theirs") <(echo "$ours") | head >&2
  check "$(basename "$dir") diff = go tool pprof -base" eq "$ours" "$theirs"
  "$REEF" pprof diff --json --sample-index alloc_space "$dir/heap-base.pb.gz" "$dir/heap-later.pb.gz" >"$TMP/rf.json"
  ours=$({ echo "total $(jq .total "$TMP/rf.json")"; jq -r '.rows[] | "\(.flat) \(.cum) \(.func)"' "$TMP/rf.json" | LC_ALL=C sort; })
  theirs=$(pprof_rows "$dir/heap-later.pb.gz" bytes -base "$dir/heap-base.pb.gz" -sample_index=alloc_space)
  check "$(basename "$dir") diff alloc_space = go tool pprof -base" eq "$ours" "$theirs"
done
check "profiles from at least three Go releases" test "$n" -ge 3

# --tag: the rows of one label value are those pprof shows when it keeps
# only the samples with that label (-tagfocus).
for dir in "$CAP"/go*/; do
  for phase in hot cold; do
    ours=$("$REEF" pprof top --json --tag phase "$dir/cpu.pb.gz" |
      jq -r --arg p "$phase" '.rows[] | select(.tag == $p) | "\(.flat) \(.cum) \(.func)"' | LC_ALL=C sort)
    theirs=$(pprof_rows "$dir/cpu.pb.gz" nanoseconds -tagfocus="phase=$phase" | tail -n +2)
    check "$(basename "$dir") --tag phase=$phase = pprof -tagfocus" eq "$ours" "$theirs"
  done
done

# Facts the program knows: with MemProfileRate=1 every allocation is
# sampled, so the heap profile holds the exact bytes each site keeps.
for dir in "$CAP"/go*/; do
  while read -r _ prof fn what; do
    key=${what%%=*}
    want=${what#*=}
    si=${key#exact_flat_}
    got=$("$REEF" pprof top --json --sample-index "$si" "$dir/${prof#profile=}-rate1.pb.gz" |
      jq --arg f "${fn#func=}" '[.rows[] | select(.func == $f) | .flat] | add')
    check "$(basename "$dir") ${prof#profile=} ${fn#func=} $si = $want" eq "$got" "$want"
  done < <(grep '^TRUTH .* exact_flat_' "$dir/truth-rate1.txt" || true)
done

pass
