#!/usr/bin/env bash
# bench/scan.sh: what `reef scan` costs the service it looks at.  A Go
# service with N parked goroutines (bench/loadtarget) is kept under steady
# loopback load by wrk, three ways, side by side in one run:
#
#   baseline  wrk alone
#   reef      `reef scan --url URL --window 10s --samples 3 -q --json`
#             back to back for the whole load (one of them under GNU time
#             for reef's wall time, CPU and peak RSS)
#   debug2    what the manual checklist does instead: `curl
#             URL/debug/pprof/goroutine?debug=2` back to back for the whole
#             load (the stop-the-world dump reef skips above --full-cap)
#
# Each condition gets a fresh target, a short warm-up load, then the
# measured load.  The target is pinned to one CPU, wrk and the scanner
# (reef or curl) to another, with taskset.  Results: a markdown table on
# stdout (wrk's req/s and latency percentiles), raw files in bench/out/scan/.
#
# Environment (all optional):
#   REEF=path                    reef binary (default build/reef)
#   REEF_BENCH_DATA=dir          where loadtarget is built (default /tmp/reef-bench)
#   SCAN_BENCH_GOROUTINES="10000 100000"
#   SCAN_BENCH_SECONDS=20        measured load per condition
#   SCAN_BENCH_CONNECTIONS=32    wrk connections (one wrk thread)
#   SCAN_BENCH_WARMUP=3          seconds of load before each measured run
#   SCAN_BENCH_WRK_TIMEOUT=30s   wrk's per-request timeout; requests slower
#                                than this are left out of its percentiles
#   SCAN_BENCH_CONDITIONS="baseline reef debug2"
#   SCAN_BENCH_TARGET_CPU=0, SCAN_BENCH_LOAD_CPU=1
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DATA=${REEF_BENCH_DATA:-/tmp/reef-bench}
OUT=$HERE/out/scan
REEF=${REEF:-$ROOT/build/reef}
GOROUTINES=${SCAN_BENCH_GOROUTINES:-"10000 100000"}
LOAD_S=${SCAN_BENCH_SECONDS:-20}
CONNS=${SCAN_BENCH_CONNECTIONS:-32}
WARMUP_S=${SCAN_BENCH_WARMUP:-3}
WRK_TIMEOUT=${SCAN_BENCH_WRK_TIMEOUT:-30s}
CONDITIONS=${SCAN_BENCH_CONDITIONS:-"baseline reef debug2"}
TARGET_CPU=${SCAN_BENCH_TARGET_CPU:-0}
LOAD_CPU=${SCAN_BENCH_LOAD_CPU:-1}
SCAN_ARGS=(--window 10s --samples 3 -q --json)
export PATH="$PATH:/usr/local/go/bin"
export LC_ALL=C

source "$HERE/lib.sh"

# ---- prerequisites ----
need_pkg wrk wrk
need_pkg /usr/bin/time time
need_pkg taskset util-linux
need_pkg curl curl
need_pkg jq jq
command -v go >/dev/null || die "go missing (needed to build bench/loadtarget)"
[ -x "$REEF" ] || die "$REEF not found: run 'make' first"
[ "$(nproc)" -ge 2 ] || log "warning: $(nproc) CPU: target and load cannot be pinned apart"

mkdir -p "$DATA" "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LT=$DATA/loadtarget
log "building loadtarget"
(cd "$HERE/loadtarget" && go build -o "$LT" .) >&2

# ---- processes: everything started here is stopped by its pid ----
TPID="" WRKPID="" LOOPPID=""
stop_pid() { # pid: the process and, for the scan loop, its children
    local p=$1 c
    [ -n "$p" ] || return 0
    for c in $(pgrep -P "$p" 2>/dev/null || true); do kill "$c" 2>/dev/null || true; done
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}
cleanup() { stop_pid "$LOOPPID"; stop_pid "$WRKPID"; stop_pid "$TPID"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The machine should be quiet: say what else is running.
{
    echo "# $(date -u) $(uname -sr), $(nproc) CPUs"
    uptime
    top -bn1 -o %CPU | sed -n '7,17p'
} >"$OUT/$STAMP-machine.txt"
load1=$(awk '{print $1}' /proc/loadavg)
awk -v l="$load1" 'BEGIN {exit !(l > 0.5)}' &&
    log "warning: load average $load1 before the run (see $OUT/$STAMP-machine.txt)"

start_target() { # n base: sets TPID and URL
    local n=$1 base=$2 i
    taskset -c "$TARGET_CPU" "$LT" -goroutines "$n" >"$base.target.out" 2>"$base.target.err" &
    TPID=$!
    for ((i = 0; i < 1200; i++)); do
        grep -q '^listening on ' "$base.target.out" && break
        kill -0 "$TPID" 2>/dev/null || die "loadtarget exited: $(cat "$base.target.err")"
        sleep 0.1
    done
    URL=$(sed -n 's/^listening on //p' "$base.target.out")
    [ -n "$URL" ] || die "loadtarget did not start in 120 s"
}

stop_target() { # base: record the target's peak RSS and CPU time first
    local base=$1
    { grep VmHWM "/proc/$TPID/status"
      awk '{printf "cpu_s %.2f\n", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$TPID/stat"
    } >"$base.target.proc" 2>/dev/null || true
    stop_pid "$TPID"
    TPID=""
}

# Back-to-back scans until the load ends ($1.done appears).  The first runs
# under GNU time; `times` gives the CPU of all of them together.
reef_loop() { # base
    local base=$1 ok=0 failed=0 rc
    rc=0
    /usr/bin/time -f '%e %U %S %M' -o "$base.reef-time" \
        taskset -c "$LOAD_CPU" "$REEF" scan --url "$URL" "${SCAN_ARGS[@]}" >"$base.scan.json" 2>"$base.scan.err" || rc=$?
    # exit 1 means findings at warn or above: the scan completed
    if [ "$rc" -le 1 ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
    while [ ! -e "$base.done" ]; do
        rc=0
        taskset -c "$LOAD_CPU" "$REEF" scan --url "$URL" "${SCAN_ARGS[@]}" >/dev/null 2>>"$base.scan.err" || rc=$?
        if [ "$rc" -le 1 ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
    done
    echo "$ok $failed" >"$base.scans"
    times >"$base.scans-cpu" # line 2, children: user sys (not in a pipe: that would be a subshell)
}

dump_loop() { # base
    local base=$1
    : >"$base.dumps"
    while [ ! -e "$base.done" ]; do
        taskset -c "$LOAD_CPU" curl -s -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' \
            "$URL/debug/pprof/goroutine?debug=2" >>"$base.dumps" || echo "fail 0 000" >>"$base.dumps"
    done
}

run_condition() { # n cond
    local n=$1 cond=$2 base="$OUT/$STAMP-$1-$2"
    log "$n goroutines, $cond"
    rm -f "$base.done"
    start_target "$n" "$base"
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP_S}s" "$URL/item" >"$base.warmup" 2>&1
    echo "wrk -t1 -c$CONNS -d${LOAD_S}s --timeout $WRK_TIMEOUT --latency $URL/item" >"$base.cmd"
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${LOAD_S}s" --timeout "$WRK_TIMEOUT" --latency "$URL/item" >"$base.wrk" 2>&1 &
    WRKPID=$!
    case $cond in
        baseline) ;;
        reef) reef_loop "$base" & LOOPPID=$! ;;
        debug2) dump_loop "$base" & LOOPPID=$! ;;
        *) die "unknown condition $cond" ;;
    esac
    wait "$WRKPID" || die "wrk failed: $(cat "$base.wrk")"
    WRKPID=""
    touch "$base.done"
    if [ -n "$LOOPPID" ]; then wait "$LOOPPID" || true; LOOPPID=""; fi
    stop_target "$base"
    sleep 1
}

for n in $GOROUTINES; do
    for cond in $CONDITIONS; do
        run_condition "$n" "$cond"
    done
done

# ---- markdown table ----
MD=$OUT/$STAMP.md
{
    echo "# reef scan: cost to the service, $STAMP"
    echo
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr); load average before the run: $load1"
    echo "- $(go version | cut -d' ' -f3-), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), reef: $REEF"
    echo "- target pinned to CPU $TARGET_CPU; wrk, reef and curl to CPU $LOAD_CPU; each condition on a fresh target after ${WARMUP_S} s of warm-up load"
    echo "- load: \`wrk -t1 -c$CONNS -d${LOAD_S}s --timeout $WRK_TIMEOUT --latency URL/item\`; reef: \`reef scan --url URL ${SCAN_ARGS[*]}\` back to back; debug2: \`curl -s URL/debug/pprof/goroutine?debug=2\` back to back"
    echo
    echo "| goroutines | condition | req/s | p50 | p99 | max | notes |"
    echo "|---:|---|---:|---:|---:|---:|---|"
    for n in $GOROUTINES; do
        for cond in $CONDITIONS; do
            base="$OUT/$STAMP-$n-$cond"
            read -r rps p50 p99 max < <(wrk_summary "$base.wrk")
            notes=()
            case $cond in
                baseline) notes+=("wrk alone") ;;
                reef)
                    read -r ok failed <"$base.scans"
                    read -r wall usr sys rss < <(tail -n 1 "$base.reef-time")
                    cpu_all=$(awk '{u = $1; s = $2; gsub(/[ms]/, " ", u); gsub(/[ms]/, " ", s)
                                    split(u, a, " "); split(s, b, " ")
                                    printf "%.0f", (a[1] * 60 + a[2] + b[1] * 60 + b[2]) * 1000}' < <(sed -n 2p "$base.scans-cpu"))
                    req=$(jq -r '.scan.requests // "?"' "$base.scan.json" 2>/dev/null || echo "?")
                    note="$ok scans completed"
                    [ "$failed" = 0 ] || note+=", $failed failed"
                    note+=" ($req requests each); one scan: $(printf '%.1f' "$wall") s wall, $(awk -v u="$usr" -v s="$sys" 'BEGIN {printf "%.2f", u + s}') s CPU, $(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}') MB peak RSS; all scans: ${cpu_all} ms CPU"
                    jq -e '.checks[] | select(.rule == "init-blocked") | .note // "" | test("above --full-cap")' "$base.scan.json" >/dev/null 2>&1 &&
                        note+="; debug=1 only (above --full-cap)"
                    notes+=("$note") ;;
                debug2)
                    notes+=("$(awk '$1 != "fail" && $3 == 200 { n++; t += $1; if ($1 > mx) mx = $1; b = $2 } $1 == "fail" || $3 != 200 { f++ }
                        END { printf "%d dumps completed", n; if (f) printf " (%d failed)", f
                              if (n) printf ", %.1f MB each, %.2f s mean, %.2f s max per dump", b / 1e6, t / n, mx }' "$base.dumps")") ;;
            esac
            errs=$(grep -E 'Socket errors|Non-2xx' "$base.wrk" | sed 's/^ *//' | paste -sd ';' - || true)
            [ -z "$errs" ] || notes+=("wrk: $errs")
            hwm=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "$base.target.proc" 2>/dev/null || true)
            [ -z "$hwm" ] || notes+=("target peak RSS $hwm MB")
            note=$(printf '%s; ' "${notes[@]}")
            printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$cond" "$(printf '%.0f' "$rps")" \
                "$(wrk_ms "$p50")" "$(wrk_ms "$p99")" "$(wrk_ms "$max")" "${note%; }"
        done
    done
} >"$MD"
cp "$MD" "$OUT/results.md"
cat "$MD"
log "raw results in $OUT ($STAMP-*)"
