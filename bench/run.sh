#!/usr/bin/env bash
# bench/run.sh: reef vs panicparse's pp vs grep -c, on generated goroutine
# dumps of 10k, 100k and 1M goroutines, in one run.
#
# For each size and tool: peak RSS and wall time of one run under GNU time
# (/usr/bin/time -f '%e s %M KB'), then wall time over several runs with
# hyperfine (warmup 1). Files are read from the page cache (warm).
#
# Environment (all optional):
#   REEF=path              reef binary (default: build/reef)
#   REEF_BENCH_SKIP_REEF=1 run without reef (grep and pp only)
#   REEF_BENCH_SKIP_PP=1   run without pp (it takes minutes from 100k on)
#   REEF_BENCH_DATA=dir    where the dumps live (default /tmp/reef-bench)
#   REEF_BENCH_OUT=dir     raw results (default bench/out)
#   REEF_BENCH_SIZES="10k 100k 1m"
#   REEF_BENCH_RUNS=5      hyperfine runs for grep and reef
#   REEF_BENCH_PP_RUNS=3   hyperfine runs for pp below 1m
#   REEF_BENCH_PP_RUNS_BIG=2  hyperfine runs for pp at 1m and up (no warmup:
#                          the GNU time run before it warms the cache)
#   REEF_BENCH_PP_TIMEOUT=600  seconds; past it pp is recorded as "timeout"
#   REEF_BENCH_SLOW_S=60   a command whose GNU time run exceeds this is not
#                          re-run by hyperfine (pp's grouping is O(n x groups))
#   PP=path                use this pp binary instead of installing one
#   PP_VERSION=latest      version of github.com/maruel/panicparse/v2 to install
#   GENDUMP_FLAGS="..."    extra flags for gendump (e.g. -mode1m replicate)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DATA=${REEF_BENCH_DATA:-/tmp/reef-bench}
OUT=${REEF_BENCH_OUT:-$HERE/out}
SIZES=${REEF_BENCH_SIZES:-"10k 100k 1m"}
RUNS=${REEF_BENCH_RUNS:-5}
PP_RUNS=${REEF_BENCH_PP_RUNS:-3}
PP_RUNS_BIG=${REEF_BENCH_PP_RUNS_BIG:-2}
PP_TIMEOUT=${REEF_BENCH_PP_TIMEOUT:-600}
SLOW_S=${REEF_BENCH_SLOW_S:-60}
PP_VERSION=${PP_VERSION:-latest}
REEF=${REEF:-$ROOT/build/reef}
SKIP_REEF=${REEF_BENCH_SKIP_REEF:-0}
export LC_ALL=C # byte-oriented grep, same locale for every tool

source "$HERE/lib.sh"

# ---- prerequisites ----
[ -x /usr/bin/time ] || { need_pkg /usr/bin/time time; }
need_pkg hyperfine hyperfine
command -v go >/dev/null || die "go missing (needed to build gendump and install pp)"
command -v timeout >/dev/null || die "timeout (coreutils) missing"

if [ "$SKIP_REEF" = 1 ]; then
    log "REEF_BENCH_SKIP_REEF=1: reef is left out"
elif [ ! -x "$REEF" ]; then
    die "$REEF not found: run 'make' first (or REEF_BENCH_SKIP_REEF=1 to bench grep and pp only)"
fi

TMP=$(mktemp -d /tmp/reef-bench-tools.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT/raw" "$DATA"

# ---- (a) panicparse ----
if [ "${REEF_BENCH_SKIP_PP:-0}" = 1 ]; then
    PP=/bin/true
elif [ -z "${PP:-}" ]; then
    log "installing github.com/maruel/panicparse/v2/cmd/pp@$PP_VERSION"
    (cd "$TMP" && GOBIN="$TMP/bin" GOFLAGS=-mod=mod go install \
        "github.com/maruel/panicparse/v2/cmd/pp@$PP_VERSION") >&2
    PP=$TMP/bin/pp
fi
[ -x "$PP" ] || die "pp not found at $PP"
PP_MODVER=$(go version -m "$PP" 2>/dev/null | awk '$1=="mod" && $2=="github.com/maruel/panicparse/v2" {print $3}' || true)
PP_MODVER=${PP_MODVER:-unknown}
log "pp: github.com/maruel/panicparse/v2 $PP_MODVER"

# ---- (b) dumps ----
log "building gendump"
(cd "$HERE/gendump" && go build -o "$TMP/gendump" .) >&2
# shellcheck disable=SC2086 # GENDUMP_FLAGS is a list of flags
"$TMP/gendump" -sizes "$(echo "$SIZES" | tr ' ' ',')" ${GENDUMP_FLAGS:-} "$DATA" >&2

# ---- (c) measure ----
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TSV=$OUT/results-$STAMP.tsv
printf 'size\tfile_mb\ttool\tmean_s\tstddev_s\tpeak_rss_kb\tgnu_time_s\tstatus\truns\tcommand\n' >"$TSV"

# pp flags: -no-color (also the default when stdout is not a terminal),
# -parse=false: do not open the Go source files named in the dump to guess
# argument types (reef does not either). No -html: grouped text on stdout.
PP_FLAGS=(-no-color -parse=false)

measure() { # size file tool runs warmup timeout cmd...
    local size=$1 file=$2 tool=$3 runs=$4 warmup=$5 tmo=$6
    shift 6
    local mb rc=0 rss="" gtime="" status=ok mean="" sd=""
    local base="$OUT/raw/$STAMP-$size-$tool"
    mb=$(awk -v b="$(stat -c %s "$file")" 'BEGIN{printf "%.1f", b/1e6}')
    log "$size $tool: $*"
    # Peak RSS (and a first timing) with GNU time.
    /usr/bin/time -f '%e s %M KB' -o "$base.time" timeout -k 10 "$tmo" "$@" >"$base.stdout" 2>"$base.stderr" || rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        status=timeout
    elif [ "$rc" != 0 ] && ! { [ "$tool" = grep ] && [ "$rc" = 1 ]; }; then
        status="exit-$rc"
    fi
    gtime=$(awk '/ s .* KB$/ {print $1}' "$base.time" | tail -1)
    rss=$(awk '/ s .* KB$/ {print $3}' "$base.time" | tail -1)
    # keep small outputs only (grep's count, errors)
    if [ "$(stat -c %s "$base.stdout")" -gt 65536 ]; then
        head -c 65536 "$base.stdout" >"$base.stdout.head" && rm -f "$base.stdout"
    fi
    # Slow commands get fewer hyperfine runs: over REEF_BENCH_SLOW_S (60 s)
    # the GNU time run is the only timing (stddev left empty); over 10 s,
    # 2 runs without warmup (the GNU time run warmed the cache).
    if [ "$status" = ok ] && [ -n "$gtime" ]; then
        if awk -v t="$gtime" -v s="$SLOW_S" 'BEGIN{exit !(t > s)}'; then
            mean=$gtime
            status=ok1
        elif awk -v t="$gtime" 'BEGIN{exit !(t > 10)}'; then
            runs=$((runs < 2 ? runs : 2)) warmup=0
        fi
    fi
    if [ "$status" = ok ]; then
        local q
        q=$(printf '%q ' "$@")
        # GNU grep stops at the first match when its stdout is /dev/null, so
        # grep's output goes to a pipe (hyperfine reads and drops it).
        local output=null
        [ "$tool" = grep ] && output=pipe
        if hyperfine -N --output="$output" --warmup "$warmup" --runs "$runs" \
            --export-json "$base.json" --export-csv "$base.csv" -n "$tool" -- "$q" >"$base.hyperfine" 2>&1; then
            mean=$(awk -F, 'NR==2 {print $2}' "$base.csv")
            sd=$(awk -F, 'NR==2 {print $3}' "$base.csv")
        else
            status=hyperfine-failed
        fi
    fi
    [ "$status" = ok1 ] && status=ok runs=1
    [ "$status" = timeout ] && gtime=">$tmo" # rss: peak until killed
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$mb" "$tool" "$mean" "$sd" "$rss" "$gtime" "$status" "$runs" "$*" >>"$TSV"
}

for size in $SIZES; do
    f="$DATA/g${size}.txt"
    [ -s "$f" ] || die "missing dump $f"
    cat "$f" >/dev/null # into the page cache
    measure "$size" "$f" grep "$RUNS" 1 3600 grep -c '^goroutine ' "$f"
    want=$(awk -v f="g${size}.txt" '$1 == f {print $4}' "$DATA/sizes.txt" 2>/dev/null || true)
    got=$(cat "$OUT/raw/$STAMP-$size-grep.stdout" 2>/dev/null || true)
    [ -z "$want" ] || [ "$want" = "$got" ] || log "warning: grep counted $got goroutines in $f, gendump wrote $want"
    if [ "$SKIP_REEF" != 1 ]; then
        measure "$size" "$f" reef "$RUNS" 1 3600 "$REEF" goroutines "$f"
        measure "$size" "$f" reef-json "$RUNS" 1 3600 "$REEF" goroutines --json "$f"
    fi
    [ "${REEF_BENCH_SKIP_PP:-0}" = 1 ] && continue
    case $size in
        *m) measure "$size" "$f" pp "$PP_RUNS_BIG" 0 "$PP_TIMEOUT" "$PP" "${PP_FLAGS[@]}" "$f" ;;
        *) measure "$size" "$f" pp "$PP_RUNS" 1 "$PP_TIMEOUT" "$PP" "${PP_FLAGS[@]}" "$f" ;;
    esac
done

# ---- (d) markdown table ----
MD=$OUT/results-$STAMP.md
{
    echo "# reef benchmark, $STAMP"
    echo
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr)"
    echo "- $(go version | cut -d' ' -f3-), $(hyperfine --version), GNU time, LC_ALL=C, files in page cache"
    echo "- pp: github.com/maruel/panicparse/v2 $PP_MODVER, run as \`pp ${PP_FLAGS[*]} FILE\` (pp timeout ${PP_TIMEOUT}s)"
    echo "- reef: $( [ "$SKIP_REEF" = 1 ] && echo "skipped" || echo "$REEF" )"
    echo "- wall time: hyperfine mean ± stddev ($RUNS runs for grep/reef, $PP_RUNS for pp, $PP_RUNS_BIG for pp at 1m+; warmup 1 except pp at 1m+, warmed by the GNU time run; fewer runs for commands slower than 10 s, a single run over ${SLOW_S} s); peak RSS: one run under /usr/bin/time -f '%e s %M KB'"
    echo
    echo "| size | file MB | tool | wall time | peak RSS (MB) | pp/reef time | pp/reef RSS | reef/grep time |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|"
    awk -F'\t' '
        NR == 1 { next }
        { n++; size[n] = $1; mb[n] = $2; tool[n] = $3; mean[n] = $4; sd[n] = $5; rss[n] = $6; st[n] = $8; nr[n] = $9
          if ($8 == "ok") { M[$1, $3] = $4; R[$1, $3] = $6 } }
        function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "" : sprintf("%.1f", a / b) }
        END {
            for (i = 1; i <= n; i++) {
                if (st[i] == "ok") {
                    d = (sd[i] == "" ? 0 : sd[i])
                    t = (mean[i] < 1) ? sprintf("%.1f ± %.1f ms", mean[i] * 1000, d * 1000) : sprintf("%.2f ± %.2f s", mean[i], d)
                    if (nr[i] == 1) t = sprintf("%.1f s (1 run)", mean[i])
                    m = sprintf("%.1f", rss[i] / 1024)
                } else { t = st[i]; m = (rss[i] == "" ? "-" : sprintf(">%.1f", rss[i] / 1024)) }
                r1 = r2 = r3 = ""
                if (tool[i] ~ /^reef/) {
                    s = size[i]
                    r1 = ratio(M[s, "pp"], mean[i]); r2 = ratio(R[s, "pp"], rss[i]); r3 = ratio(mean[i], M[s, "grep"])
                    if (r1 == "" && st[i] == "ok") r1 = "pp: " ((s SUBSEP "pp") in M ? "n/a" : "timeout/failed")
                }
                printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", size[i], mb[i], tool[i], t, m, r1, r2, r3
            }
        }' "$TSV"
    echo
    echo "Ratios are on the reef rows (reef = \`reef goroutines FILE\`, reef-json = \`reef goroutines --json FILE\`)."
} >"$MD"
cp "$MD" "$OUT/results.md"
cp "$TSV" "$OUT/results.tsv"
cat "$MD"
log "raw results in $OUT (results.md, results.tsv, raw/)"
