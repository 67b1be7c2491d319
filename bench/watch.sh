#!/usr/bin/env bash
# bench/watch.sh: what `reef watch` costs, itself and the services it
# watches.  Two parts, in one run:
#
#   (a) own cost: one `reef watch` (default 15 s interval, default
#       configuration) on 10 watchable fixtures (tests/fixtures/watchable:
#       a healthy busy service, ~40 goroutines, one self-load client) for
#       WATCH_BENCH_OWN_S seconds (default 330: 22 polls of each target).
#       reef's VmRSS is sampled every second (peak: VmHWM at the end), its
#       CPU from /proc/PID/stat (utime + stime) over the whole run, as a
#       share of one core.  Goal: under 8 MB and under 0.5%.
#   (b) cost to a target under load, as bench/scan.sh measures it for scan:
#       bench/loadtarget with N parked goroutines pinned to one CPU, wrk
#       (and reef) pinned to the other; each condition on a fresh target
#       after a warm-up load, then WATCH_BENCH_LOAD_S seconds of measured
#       load, side by side:
#         baseline  wrk alone
#         watch15   `reef watch --interval 15s` on the target
#         watch1    `reef watch --interval 1s` on the target
#       wrk's req/s and latency percentiles; the notes give what the
#       watch raised (its event log) and the captures it wrote, which are
#       part of what the service paid.
#
# Results: a markdown table on stdout, raw files in bench/out/watch/.
#
# Environment (all optional):
#   REEF=path                    reef binary (default build/reef)
#   REEF_BENCH_DATA=dir          where loadtarget and watchable are built (default /tmp/reef-bench)
#   WATCH_BENCH_OWN_S=330        part (a)'s length; 0 skips it
#   WATCH_BENCH_TARGETS=10       part (a)'s targets
#   WATCH_BENCH_GOROUTINES=10000 part (b)'s parked goroutines ("" skips (b))
#   WATCH_BENCH_LOAD_S=60        measured load per condition (4 polls at 15 s)
#   WATCH_BENCH_CONNECTIONS=32   wrk connections (one wrk thread)
#   WATCH_BENCH_WARMUP=3         seconds of load before each measured run
#   WATCH_BENCH_CONDITIONS="baseline watch15 watch1"
#   WATCH_BENCH_TARGET_CPU=0, WATCH_BENCH_LOAD_CPU=1
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DATA=${REEF_BENCH_DATA:-/tmp/reef-bench}
OUT=$HERE/out/watch
REEF=${REEF:-$ROOT/build/reef}
OWN_S=${WATCH_BENCH_OWN_S:-330}
NOWN=${WATCH_BENCH_TARGETS:-10}
GOROUTINES=${WATCH_BENCH_GOROUTINES-10000}
LOAD_S=${WATCH_BENCH_LOAD_S:-60}
CONNS=${WATCH_BENCH_CONNECTIONS:-32}
WARMUP_S=${WATCH_BENCH_WARMUP:-3}
CONDITIONS=${WATCH_BENCH_CONDITIONS:-"baseline watch15 watch1"}
TARGET_CPU=${WATCH_BENCH_TARGET_CPU:-0}
LOAD_CPU=${WATCH_BENCH_LOAD_CPU:-1}
WRK_TIMEOUT=30s
export PATH="$PATH:/usr/local/go/bin"
export LC_ALL=C

source "$HERE/lib.sh"

need_pkg wrk wrk
need_pkg taskset util-linux
need_pkg curl curl
need_pkg jq jq
command -v go >/dev/null || die "go missing (needed to build the targets)"
[ -x "$REEF" ] || die "$REEF not found: run 'make' first"
"$REEF" watch --help >/dev/null 2>&1 || die "$REEF has no 'watch' command"

mkdir -p "$DATA" "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW=$OUT/$STAMP
mkdir -p "$RAW"
log "building loadtarget and watchable"
(cd "$HERE/loadtarget" && go build -o "$DATA/loadtarget" .) >&2
(cd "$ROOT/tests/fixtures" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -o "$DATA/watchable" ./watchable) >&2
TCK=$(getconf CLK_TCK)

# ---- processes: everything started here is stopped by its pid ----
PIDS=()
stop_pid() { [ -n "$1" ] && { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }; return 0; }
cleanup() { local p; for p in "${PIDS[@]:-}"; do stop_pid "$p"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

load1=$(awk '{print $1}' /proc/loadavg)
{
    echo "# $(date -u) $(uname -sr), $(nproc) CPUs"
    uptime
    top -bn1 -o %CPU | sed -n '7,17p'
} >"$RAW/machine.txt"

# serve OUTFILE CMD...: starts a server and waits for "listening on URL";
# sets SPID and SURL.
serve() {
    local out=$1 k
    shift
    "$@" >"$out" 2>"$out.err" &
    SPID=$!
    PIDS+=("$SPID")
    for ((k = 0; k < 1200; k++)); do
        SURL=$(sed -n 's/^listening on //p' "$out" 2>/dev/null || true)
        [ -n "$SURL" ] && return 0
        kill -0 "$SPID" 2>/dev/null || die "$* exited: $(cat "$out.err")"
        sleep 0.1
    done
    die "$* did not start in 120 s"
}

served() { # URL: goroutine profiles it served, from its /state (watchable only)
    curl -s --max-time 5 "$1/state" | jq -r '.requests["/debug/pprof/goroutine"] // 0'
}

# ---- (a) reef's own cost ----
OWN_ROW=""
own_cost() {
    local urls=() pids=() i pid url rpid t0 c0 t1 c1 hwm=0 rss_max=0 rss_end=0 rss cpu polls=0 anon=0 file=0
    log "(a) reef watch on $NOWN watchable targets, default interval, ${OWN_S} s"
    for ((i = 0; i < NOWN; i++)); do
        serve "$RAW/own-target-$i.out" "$DATA/watchable" -lifetime "$((OWN_S + 120))s" -clients 1
        pids+=("$SPID") urls+=("$SURL")
    done
    echo "reef watch --duration ${OWN_S}s --events EVENTS --captures DIR ${urls[*]}" >"$RAW/own.cmd"
    "$REEF" watch --duration "${OWN_S}s" --events "$RAW/own-events.jsonl" --captures "$RAW/own-captures" \
        "${urls[@]}" >"$RAW/own-reef.out" 2>"$RAW/own-reef.err" &
    rpid=$!
    PIDS+=("$rpid")
    t0=$(date +%s.%N)
    c0=$(awk '{print $14 + $15}' "/proc/$rpid/stat")
    : >"$RAW/own-rss.tsv"
    while [ -r "/proc/$rpid/status" ]; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$rpid/status" 2>/dev/null || true)
        cpu=$(awk '{print $14 + $15}' "/proc/$rpid/stat" 2>/dev/null || true)
        [ -n "$rss" ] && [ -n "$cpu" ] || break
        hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$rpid/status" 2>/dev/null || echo "$hwm")
        anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$rpid/status" 2>/dev/null || echo "$anon")
        file=$(awk '/^RssFile:/ {print $2}' "/proc/$rpid/status" 2>/dev/null || echo "$file")
        t1=$(date +%s.%N) c1=$cpu rss_end=$rss
        [ "$rss" -gt "$rss_max" ] && rss_max=$rss
        printf '%s\t%s\t%s\n' "$t1" "$rss" "$cpu" >>"$RAW/own-rss.tsv"
        sleep 1
    done
    wait "$rpid" || log "reef watch exited with status $? (see $RAW/own-reef.err)"
    for url in "${urls[@]}"; do polls=$((polls + $(served "$url"))); done
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
    OWN_ROW=$(awk -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v tck="$TCK" -v hwm="$hwm" \
        -v mx="$rss_max" -v end="$rss_end" -v n="$NOWN" -v polls="$polls" -v anon="$anon" -v file="$file" 'BEGIN {
        wall = t1 - t0; cpu = (c1 - c0) / tck
        printf "| %d | %.0f s | %d | %.1f MB | %.1f MB | %.1f MB (%.1f anon, %.1f file) | %.2f s | %.3f%% |\n",
            n, wall, polls, hwm / 1024, mx / 1024, end / 1024, anon / 1024, file / 1024, cpu, 100 * cpu / wall }')
    echo "$OWN_ROW" >"$RAW/own.row"
}

# ---- (b) the cost to a loaded target ----
run_condition() { # n cond
    local n=$1 cond=$2 base="$RAW/$1-$2" tpid url wpid rpid="" k
    log "(b) $n goroutines, $cond"
    serve "$base.target.out" taskset -c "$TARGET_CPU" "$DATA/loadtarget" -goroutines "$n"
    tpid=$SPID url=$SURL
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP_S}s" "$url/item" >"$base.warmup" 2>&1
    case $cond in
        baseline) ;;
        watch15 | watch1)
            taskset -c "$LOAD_CPU" "$REEF" watch --interval "${cond#watch}s" --events "$base.events.jsonl" \
                --captures "$base.captures" "$url" >"$base.reef.out" 2>"$base.reef.err" &
            rpid=$!
            PIDS+=("$rpid")
            # Its start (and first poll) out of the measured load: wrk and
            # reef share a CPU, and a start delays wrk as well as the target.
            for ((k = 0; k < 100; k++)); do
                grep -q '"event":"up"' "$base.events.jsonl" 2>/dev/null && break
                sleep 0.1
            done
            sleep 1 ;;
        *) die "unknown condition $cond" ;;
    esac
    echo "wrk -t1 -c$CONNS -d${LOAD_S}s --timeout $WRK_TIMEOUT --latency $url/item" >"$base.cmd"
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${LOAD_S}s" --timeout "$WRK_TIMEOUT" --latency "$url/item" >"$base.wrk" 2>&1 &
    wpid=$!
    wait "$wpid" || die "wrk failed: $(cat "$base.wrk")"
    stop_pid "$rpid"
    awk '/^VmHWM:/ {printf "%.0f\n", $2 / 1024}' "/proc/$tpid/status" >"$base.target-hwm" 2>/dev/null || true
    stop_pid "$tpid"
    sleep 1
}

[ "$OWN_S" -gt 0 ] && own_cost
for n in $GOROUTINES; do
    for cond in $CONDITIONS; do run_condition "$n" "$cond"; done
done

# ---- markdown ----
MD=$RAW.md
{
    echo "# reef watch: its own cost and the cost to a loaded service, $STAMP"
    echo
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr); load average before the run: $load1"
    echo "- $(go version | cut -d' ' -f3-), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), reef: $REEF"
    if [ "$OWN_S" -gt 0 ]; then
        echo
        echo "(a) \`$(cat "$RAW/own.cmd")\`"
        echo
        echo "| targets | wall | goroutine profiles served | peak RSS (VmHWM) | max VmRSS | VmRSS at end (RssAnon, RssFile) | CPU | share of one core |"
        echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
        echo "$OWN_ROW"
    fi
    if [ -n "$GOROUTINES" ]; then
        echo
        echo "(b) target pinned to CPU $TARGET_CPU; wrk and reef to CPU $LOAD_CPU; each condition on a fresh target after ${WARMUP_S} s of warm-up load; load: \`wrk -t1 -c$CONNS -d${LOAD_S}s --timeout $WRK_TIMEOUT --latency URL/item\`; watchN: \`reef watch --interval Ns --events F --captures D URL\` started before the load, which begins 1 s after its first poll (its up event)"
        echo
        echo "| goroutines | condition | req/s | p50 | p99 | max | notes |"
        echo "|---:|---|---:|---:|---:|---:|---|"
        for n in $GOROUTINES; do
            for cond in $CONDITIONS; do
                base="$RAW/$n-$cond"
                read -r rps p50 p99 max < <(wrk_summary "$base.wrk")
                note="wrk alone"
                if [ "$cond" != baseline ]; then
                    note="events: $(jq -r '.event + (if .change then " " + .change + " " + .rule else "" end)' "$base.events.jsonl" 2>/dev/null | sort | uniq -c | awk '{c = $1; $1 = ""; printf "%s%s x%d", s, substr($0, 2), c; s = ", "}')"
                    note+="; captures: $(find "$base.captures" -mindepth 2 -maxdepth 2 -type d 2>/dev/null | wc -l)"
                fi
                errs=$(grep -E 'Socket errors|Non-2xx' "$base.wrk" | sed 's/^ *//' | paste -sd ';' - || true)
                [ -z "$errs" ] || note+="; wrk: $errs"
                [ -s "$base.target-hwm" ] && note+="; target peak RSS $(cat "$base.target-hwm") MB"
                printf '| %s | %s | %.0f | %s | %s | %s | %s |\n' "$n" "$cond" "$rps" "$(wrk_ms "$p50")" "$(wrk_ms "$p99")" "$(wrk_ms "$max")" "$note"
            done
        done
    fi
} >"$MD"
cp "$MD" "$OUT/results.md"
cat "$MD"
log "raw results in $RAW/"
