#!/usr/bin/env bash
# bench/pprof.sh: reef pprof top vs go tool pprof -top, and reef pprof diff
# vs go tool pprof -top -base, side by side in one run, on generated heap
# and CPU profiles of about 1, 10 and 50 MiB compressed (bench/genprof; the
# base of a diff is the same generator with another seed).  Wall time with
# hyperfine (warm cache), peak RSS with GNU time.  Results: a markdown table
# on stdout, raw files in bench/out/.
#
# Environment: REEF (default build/reef), REEF_BENCH_DATA (default
# /tmp/reef-bench), PPROF_SIZES ("1 10 50"), PPROF_KINDS ("heap cpu"),
# PPROF_RUNS (hyperfine runs, default 3).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DATA=${REEF_BENCH_DATA:-/tmp/reef-bench}
OUT=$HERE/out
REEF=${REEF:-$ROOT/build/reef}
SIZES=${PPROF_SIZES:-"1 10 50"}
KINDS=${PPROF_KINDS:-"heap cpu"}
RUNS=${PPROF_RUNS:-3}
export PATH="$PATH:/usr/local/go/bin"

source "$HERE/lib.sh"
[[ -x $REEF ]] || die "$REEF missing; run make first"
need_pkg hyperfine hyperfine
need_pkg /usr/bin/time time
mkdir -p "$DATA" "$OUT"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

gen="$DATA/genprof"
[[ -x $gen ]] || (cd "$HERE/genprof" && go build -o "$gen" .)
for kind in $KINDS; do
  for mb in $SIZES; do
    f="$DATA/$kind-${mb}mb.pb.gz"
    [[ -s $f ]] || { echo "bench: generating $f" >&2; "$gen" -kind "$kind" -size-mb "$mb" -out "$f"; }
    b="$DATA/$kind-${mb}mb-base.pb.gz"
    [[ -s $b ]] || { echo "bench: generating $b" >&2; "$gen" -kind "$kind" -size-mb "$mb" -seed 2 -out "$b"; }
  done
done

# run_pair LABEL-PPROF CMD-PPROF LABEL-REEF CMD-REEF: one pair of rows.
run_pair() {
  local lp=$1 cp=$2 lr=$3 cr=$4 tool cmd
  declare -A mean sd rss
  for tool in pprof reef; do
    if [[ $tool == pprof ]]; then cmd=$cp; else cmd=$cr; fi
    /usr/bin/time -f '%M' -o "$OUT/$stamp-$tag-$tool.rss" bash -c "$cmd > /dev/null 2>&1"
    hyperfine -N -w 1 -r "$RUNS" --export-json "$OUT/$stamp-$tag-$tool.json" "$cmd" >/dev/null 2>&1
    mean[$tool]=$(jq '.results[0].mean' "$OUT/$stamp-$tag-$tool.json")
    sd[$tool]=$(jq '.results[0].stddev // 0' "$OUT/$stamp-$tag-$tool.json")
    rss[$tool]=$(cat "$OUT/$stamp-$tag-$tool.rss")
  done
  for tool in pprof reef; do
    local ratio_t="" ratio_m=""
    if [[ $tool == reef ]]; then
      ratio_t=$(awk -v a="${mean[pprof]}" -v b="${mean[reef]}" 'BEGIN {printf "%.1fx faster", a / b}')
      ratio_m=$(awk -v a="${rss[pprof]}" -v b="${rss[reef]}" 'BEGIN {printf "%.1fx less", a / b}')
    fi
    printf '| %s | %s | %s | %.3f | %.3f | %.0f | %s | %s |\n' "$kind" "$size" \
      "$([[ $tool == pprof ]] && echo "$lp" || echo "$lr")" \
      "${mean[$tool]}" "${sd[$tool]}" "$(awk -v k="${rss[$tool]}" 'BEGIN {print k / 1024}')" "$ratio_t" "$ratio_m"
  done
}

echo "| profile | MiB | tool | mean wall s | ± | peak RSS MB | time ratio | RSS ratio |"
echo "|---|---|---|---|---|---|---|---|"
for kind in $KINDS; do
  for mb in $SIZES; do
    f="$DATA/$kind-${mb}mb.pb.gz"
    b="$DATA/$kind-${mb}mb-base.pb.gz"
    size=$(awk -v b="$(stat -L -c %s "$f")" 'BEGIN {printf "%.1f", b / 1048576}')
    tag=$kind$mb-top
    run_pair 'go tool pprof -top' "go tool pprof -top $f" 'reef pprof top' "$REEF pprof top $f"
    tag=$kind$mb-diff
    run_pair 'go tool pprof -top -base' "go tool pprof -top -base $b $f" 'reef pprof diff' "$REEF pprof diff $b $f"
  done
done
