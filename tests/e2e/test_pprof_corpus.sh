#!/usr/bin/env bash
# reef pprof against go tool pprof on every profile of the shared corpus
# (profiles that Go, gperftools, Java, Node.js, .NET converters, eBPF
# profilers and profile mergers wrote): for each, the total and every row's
# flat and cum for each sample type; and diffs of the corpus's before/after
# pairs.  A file pprof refuses, reef refuses too: exit 2, naming the file.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pprof_lib.sh"
CORPUS=$REEF_SRC/../shared/corpus/profiles
[[ -d $CORPUS ]] || fail "no corpus at $CORPUS"

# The files in formats older than profile.proto (SOURCES.md): reef names
# the format and the conversion; the converted profile it reads with the
# numbers pprof shows for the original.
LEGACY=" cppbench.cpu cppbench.small.contention cppbench.contention cppbench.growth cppbench.heap cppbench.thread
  cppbench.thread.all cppbench.thread.none go.crc32.cpu go.godoc.thread gobench.cpu gobench.heap java.contention
  java.cpu java.heap 7e3c92482f6f39fc502b822ded792c589849cca8 "
is_legacy() { local b=${1##*/}; b=${b#*testdata_}; [[ $LEGACY == *" $b "* || $LEGACY == *" $b"$'\n'* ]]; }

check_legacy() { # FILE: refused plainly, and the conversion it names works
  local f=$1 n i
  run_reef pprof top "$f"
  check "${f##*/}: legacy format refused with exit 2" eq "$RC" 2
  check "${f##*/}: the message names the file and the format" contains "$ERR" "$f: a legacy "
  check "${f##*/}: the message gives the conversion" contains "$ERR" "go tool pprof -proto $f"
  check "${f##*/}: no protobuf wording" eq "$(grep -c -i 'protobuf\|wire type\|byte [0-9]* of' <<<"$ERR")" 0
  go tool pprof -symbolize=none -proto "$f" >"$TMP/converted.pb.gz" 2>/dev/null || return 0 # pprof refuses it too
  n=$(sample_type_count "$f")
  for ((i = 0; i < n; i++)); do
    ours=$(reef_rows "$TMP/converted.pb.gz" --sample-index "$i") || fail "reef cannot read ${f##*/} converted"
    theirs=$(pprof_rows "$f" "$(jq -r .unit "$TMP/rf.json")" -sample_index="$i")
    [[ "$ours" == "$theirs" ]] || diff <(echo "$theirs") <(echo "$ours") | head -20 >&2 || true
    check "${f##*/} converted, sample type $i: reef = go tool pprof on the original" eq "$ours" "$theirs"
  done
  nlegacy=$((nlegacy + 1))
}

nread=0 nrefused=0 nlegacy=0
for f in "$CORPUS"/*/*; do
  [[ -f $f && $f != *.md ]] || continue
  if is_legacy "$f"; then
    check_legacy "$f"
    continue
  fi
  n=$(sample_type_count "$f")
  if [[ -z $n ]]; then
    # pprof cannot read it: neither can reef, and it says so plainly.
    run_reef pprof top "$f"
    check "${f##*/}: refused with exit 2 like pprof" eq "$RC" 2
    check "${f##*/}: the message names the file" contains "$ERR" "$f: "
    nrefused=$((nrefused + 1))
    continue
  fi
  compare_top "$f"
  for ((i = 0; i < n; i++)); do
    [[ $n -gt 1 ]] && compare_top "$f" --sample-index "$i" -- -sample_index="$i"
  done
  nread=$((nread + 1))
done
check "the corpus is read: $nread read, $nlegacy legacy, $nrefused refused" test "$nread" -ge 60 -a "$nlegacy" -ge 15
run_reef pprof top "$CORPUS"/misc/pprofutils_internal_legacy_test-fixtures_jemalloc.heap
check "jemalloc heap_v2 named as such" contains "$ERR" "a jemalloc heap_v2 profile"

# Diffs: dd-trace-go's before/after pairs, parca's consecutive heap profiles.
DD=$CORPUS/ddtrace/profiler_internal_fastdelta_testdata_
for pair in block heap stress-failure stress-failure.2 stress-failure.3; do
  compare_diff "$DD$pair.before.pprof" "$DD$pair.after.pprof"
done
compare_diff "$DD"block.before.pprof "$DD"block.after.pprof --sample-index contentions -- -sample_index=contentions
prev=
for f in "$CORPUS"/parca/pkg_query_testdata_many_*.pb.gz; do
  [[ -n $prev ]] && compare_diff "$prev" "$f"
  prev=$f
done
compare_diff "$prev" "$CORPUS"/parca/pkg_query_testdata_many_1644509272337470000.pb.gz --sample-index alloc_space -- -sample_index=alloc_space
pass
