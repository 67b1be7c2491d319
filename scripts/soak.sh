#!/usr/bin/env bash
# scripts/soak.sh: does `reef watch` keep its memory flat over tens of
# thousands of polls?  (`make soak` runs the long version; the short one is
# tests/e2e/test_watch_soak.sh.)
#
# N watchable fixtures (tests/fixtures/watchable) are started, and a dead
# URL beside them (a port nothing listens on), and one `reef watch` polls
# them all at a very short interval for DURATION seconds (--duration: it
# stops by itself).  Meanwhile a driver puts the targets through what
# happens to real services, in cycles of CYCLE seconds, so that every part
# of the run sees the same mix: by target number modulo 4,
#   0  a burst of 200 goroutines that live 3 s (burst rule, captures);
#   1  a leak of 40 goroutines a second for half the cycle, then released;
#   2  descriptors and heap retained for half the cycle, then released;
#   3  healthy, and the first of these is killed (-9) and started again on
#      the same port every 4th cycle (down, up, restart).
# reef's RSS (VmRSS) and CPU (utime+stime) are sampled every second.
#
# Verdict (exit 0 pass, 1 fail, 2 could not run):
#   - polls: goroutine profiles the targets served, counted by the targets
#     themselves (/state of each), at least MIN_POLLS;
#   - flat memory after warm-up (WARMUP s: by default long enough for every
#     series ring, 512 polls, to fill): the largest RSS of the last third
#     of the samples is at most the largest of the first third + SLACK KiB,
#     and the least-squares trend over all of them, times their span, is at
#     most SLACK KiB (a slow steady rise is caught even when each third
#     stays within the slack of the one before);
#   - reef exits by itself at --duration, with status 0 or 1, and says
#     nothing of AddressSanitizer, LeakSanitizer or UBSan on stderr (for an
#     ASan build, LSan's report at exit is that check);
#   - every line of the event log is a JSON object.
#
# Usage: scripts/soak.sh [-d SECONDS] [-i INTERVAL] [-n TARGETS] [-p MIN_POLLS] [-o OUTDIR]
#   defaults: -d 1200 -i 100ms -n 8 -p 50000 -o /tmp/reef-soak
# Environment:
#   REEF=path          reef binary (default build/reef)
#   WATCHABLE=path     the watchable fixture, built (default: built into OUTDIR)
#   SOAK_SLACK_KB      default 1024, or 4096 when REEF's build has ASan
#   SOAK_WARMUP_S      default: 1.2 x 512 intervals, at least 15 s
#   SOAK_CYCLE_S       the driver's cycle (default 12)
# Results in OUTDIR: summary.txt (key=value), rss.tsv (seconds since start,
# RSS KiB, CPU ticks), events.jsonl, reef.err, driver.log, targets/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"
export LC_ALL=C

DURATION=1200 INTERVAL=100ms NTARGETS=8 MIN_POLLS=50000 OUT=/tmp/reef-soak
usage() {
    echo "usage: $0 [-d SECONDS] [-i INTERVAL] [-n TARGETS] [-p MIN_POLLS] [-o OUTDIR]" >&2
    exit 2
}
while getopts d:i:n:p:o: opt; do
    case $opt in
        d) DURATION=$OPTARG ;;
        i) INTERVAL=$OPTARG ;;
        n) NTARGETS=$OPTARG ;;
        p) MIN_POLLS=$OPTARG ;;
        o) OUT=$OPTARG ;;
        *) usage ;;
    esac
done
[ $# -ge "$OPTIND" ] && usage
[[ $DURATION =~ ^[0-9]+$ && $NTARGETS =~ ^[0-9]+$ && $MIN_POLLS =~ ^[0-9]+$ ]] || usage
[[ $NTARGETS -ge 4 ]] || { echo "soak: -n wants at least 4 targets (one of each role)" >&2; exit 2; }

REEF=${REEF:-$ROOT/build/reef}
CYCLE=${SOAK_CYCLE_S:-12}
die() { echo "soak: $*" >&2; exit 2; }
log() { echo "soak: $*" >&2; }
[ -x "$REEF" ] || die "$REEF not found: run 'make' first"
for c in curl jq python3; do command -v $c >/dev/null || die "$c missing"; done

# The interval in seconds (for the warm-up); reef parses the flag itself.
interval_s=$(awk -v v="$INTERVAL" 'BEGIN {
    x = v + 0
    if (v ~ /ms$/) x /= 1000; else if (v ~ /m$/) x *= 60; else if (v ~ /h$/) x *= 3600
    print x }')
awk -v x="$interval_s" 'BEGIN {exit !(x > 0)}' || die "-i $INTERVAL: wants a duration such as 100ms"
WARMUP=${SOAK_WARMUP_S:-$(awk -v i="$interval_s" 'BEGIN {w = 1.2 * 512 * i; if (w < 15) w = 15; printf "%d", w + 0.5}')}
asan=0
grep -aq __asan_init "$REEF" && asan=1
SLACK=${SOAK_SLACK_KB:-$([ $asan = 1 ] && echo 4096 || echo 1024)}
awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN {exit !(d >= w + 30)}' ||
    die "-d $DURATION: wants at least the warm-up ($WARMUP s) + 30 s"

rm -rf "$OUT"
mkdir -p "$OUT/targets" "$OUT/captures"
if [ -z "${WATCHABLE:-}" ]; then
    log "building the watchable fixture"
    (cd "$ROOT/tests/fixtures" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -o "$OUT/watchable" ./watchable) >&2
    WATCHABLE=$OUT/watchable
fi
[ -x "$WATCHABLE" ] || die "$WATCHABLE not found"

# ---- processes: everything started here is stopped by its pid ----
TPID=() URLS=() REEFPID="" DRIVERPID="" SAMPLERPID="" RESTART=3
stop_pid() { [ -n "$1" ] && { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }; return 0; }
cleanup() {
    local p
    stop_pid "$DRIVERPID"
    stop_pid "$SAMPLERPID"
    stop_pid "$REEFPID"
    for i in "${!TPID[@]}"; do
        # Once restarted, the first life of that target is gone (and was
        # reaped): its pid may be another process's now.  The new life is
        # the driver's child; its pid is in a file.
        if [ "$i" = "$RESTART" ] && [ -f "$OUT/targets/restarted.pid" ]; then
            kill "$(cat "$OUT/targets/restarted.pid")" 2>/dev/null || true
        else
            stop_pid "${TPID[i]}"
        fi
    done
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_target I ADDR: the fixture lives past the run; sets URLS[I].
LIFETIME=$((DURATION + 120))
start_target() {
    local i=$1 addr=$2 out="$OUT/targets/$1.out" k
    "$WATCHABLE" -addr "$addr" -lifetime "${LIFETIME}s" -clients 1 >"$out" 2>"$out.err" &
    TPID[i]=$!
    for ((k = 0; k < 300; k++)); do
        URLS[i]=$(sed -n 's/^listening on //p' "$out" 2>/dev/null || true)
        [ -n "${URLS[i]}" ] && return 0
        kill -0 "${TPID[i]}" 2>/dev/null || die "target $i exited: $(cat "$out.err")"
        sleep 0.1
    done
    die "target $i did not start in 30 s"
}

# Target $RESTART is the one the driver kills and starts again.
RESTART_PORT=$(free_port)
for ((i = 0; i < NTARGETS; i++)); do
    if [ $i = $RESTART ]; then start_target $i "127.0.0.1:$RESTART_PORT"; else start_target $i 127.0.0.1:0; fi
done
DEAD="http://127.0.0.1:$(free_port)"
log "$NTARGETS targets up (${URLS[*]}), dead URL $DEAD"

# ---- the driver ----
get() { curl -s -o /dev/null --max-time 3 "$1" || echo "driver: GET $1 failed" >>"$OUT/driver.log"; }

# Polls served by the restarted target's earlier lives, added up here.
: >"$OUT/targets/restarted-polls"
: >"$OUT/driver.log"
polls_of() { # URL: goroutine profiles it served, "" if it does not answer
    curl -s --max-time 5 "$1/state" | jq -r '.requests["/debug/pprof/goroutine"] // 0' 2>/dev/null || true
}

restart_target() {
    local pid=$1 out="$OUT/targets/$RESTART.out" k
    polls_of "${URLS[RESTART]}" >>"$OUT/targets/restarted-polls"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sleep 1 # reef sees it down
    "$WATCHABLE" -addr "127.0.0.1:$RESTART_PORT" -lifetime "${LIFETIME}s" -clients 1 >"$out" 2>>"$out.err" &
    echo $! >"$OUT/targets/restarted.pid"
    for ((k = 0; k < 50; k++)); do
        grep -q '^listening on ' "$out" && { echo "driver: restarted target $RESTART, pid $!" >>"$OUT/driver.log"; return 0; }
        sleep 0.1
    done
    echo "driver: target $RESTART did not come back" >>"$OUT/driver.log"
}

driver() {
    local cycle=0 i half=$((CYCLE / 2)) rpid=${TPID[RESTART]}
    while :; do
        for ((i = 0; i < NTARGETS; i++)); do
            case $((i % 4)) in
                0) get "${URLS[i]}/burst?n=200&hold=3s" ;;
                1) get "${URLS[i]}/leak?rate=40" ;;
                2) get "${URLS[i]}/fds?rate=20"; get "${URLS[i]}/heap?rate=2000000" ;;
            esac
        done
        sleep "$half"
        for ((i = 0; i < NTARGETS; i++)); do
            case $((i % 4)) in 1 | 2) get "${URLS[i]}/release" ;; esac
        done
        cycle=$((cycle + 1))
        if [ $((cycle % 4)) = 0 ]; then
            restart_target "$rpid"
            rpid=$(cat "$OUT/targets/restarted.pid")
        fi
        sleep $((CYCLE - half))
    done
}

# ---- reef watch and its sampler ----
sampler() { # one line a second while reef runs: t, VmRSS KiB, utime+stime ticks
    local t0 now rss cpu
    t0=$(date +%s.%N)
    while [ -r "/proc/$REEFPID/status" ]; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$REEFPID/status" 2>/dev/null || true)
        cpu=$(awk '{print $14 + $15}' "/proc/$REEFPID/stat" 2>/dev/null || true)
        now=$(date +%s.%N)
        [ -n "$rss" ] && [ -n "$cpu" ] && awk -v a="$t0" -v b="$now" -v r="$rss" -v c="$cpu" 'BEGIN {printf "%.1f\t%s\t%s\n", b - a, r, c}'
        sleep 1
    done
}

# A small ASan quarantine: the default (256 MiB of freed memory held back)
# would make RSS grow for the whole run without any leak.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16:detect_leaks=1
CMD=("$REEF" watch --interval "$INTERVAL" --learn 10s --duration "${DURATION}s"
    --events "$OUT/events.jsonl" --captures "$OUT/captures" "${URLS[@]}" "$DEAD")
echo "${CMD[*]}" >"$OUT/command"
log "${CMD[*]}"
"${CMD[@]}" >"$OUT/reef.out" 2>"$OUT/reef.err" &
REEFPID=$!
sampler >"$OUT/rss.tsv" &
SAMPLERPID=$!
driver &
DRIVERPID=$!

# reef stops itself at --duration; past a minute more it is stopped here.
rc=0
deadline=$((SECONDS + DURATION + 60))
while kill -0 "$REEFPID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 1; done
late=0
if kill -0 "$REEFPID" 2>/dev/null; then
    late=1
    kill -TERM "$REEFPID" 2>/dev/null || true
    sleep 5
    kill -KILL "$REEFPID" 2>/dev/null || true
fi
wait "$REEFPID" || rc=$?
REEFPID=""
stop_pid "$DRIVERPID"
DRIVERPID=""
wait "$SAMPLERPID" 2>/dev/null || true
SAMPLERPID=""

# ---- the verdict ----
polls=0
for ((i = 0; i < NTARGETS; i++)); do
    u=${URLS[i]}
    n=$(polls_of "$u")
    [[ $n =~ ^[0-9]+$ ]] || n=0
    polls=$((polls + n))
done
while read -r n; do [[ $n =~ ^[0-9]+$ ]] && polls=$((polls + n)); done <"$OUT/targets/restarted-polls"

read -r nsamples first_max mid_max last_max trend span rss_end cpu_share < <(awk -v w="$WARMUP" -v tck="$(getconf CLK_TCK)" '
    { t[NR] = $1; r[NR] = $2; c[NR] = $3 }
    END {
        for (i = 1; i <= NR; i++) if (t[i] >= w) { n++; x[n] = t[i]; y[n] = r[i] }
        if (n < 9) { print n, 0, 0, 0, 0, 0, 0, 0; exit }
        a = int(n / 3); b = int(2 * n / 3)
        for (i = 1; i <= n; i++) {
            if (i <= a && y[i] > m1) m1 = y[i]
            if (i > a && i <= b && y[i] > m2) m2 = y[i]
            if (i > b && y[i] > m3) m3 = y[i]
            sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i]
        }
        slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        cpu = (c[NR] - c[1]) / tck / (t[NR] - t[1])
        printf "%d %d %d %d %.0f %.0f %d %.4f\n", n, m1, m2, m3, slope * (x[n] - x[1]), x[n] - x[1], r[NR], cpu
    }' "$OUT/rss.tsv")

events=0 bad_events=0
if [ -f "$OUT/events.jsonl" ]; then
    events=$(wc -l <"$OUT/events.jsonl")
    bad_events=$(jq -c 'select(type != "object")' "$OUT/events.jsonl" 2>&1 | wc -l || true)
fi
sanitizer=$(grep -cE 'AddressSanitizer|LeakSanitizer|runtime error:' "$OUT/reef.err" || true)
{
    echo "reef=$REEF"
    echo "asan=$asan"
    echo "duration_s=$DURATION"
    echo "interval=$INTERVAL"
    echo "targets=$NTARGETS"
    echo "polls=$polls"
    echo "min_polls=$MIN_POLLS"
    echo "warmup_s=$WARMUP"
    echo "slack_kb=$SLACK"
    echo "samples_after_warmup=$nsamples"
    echo "rss_max_first_third_kb=$first_max"
    echo "rss_max_middle_third_kb=$mid_max"
    echo "rss_max_last_third_kb=$last_max"
    echo "rss_trend_kb=$trend"
    echo "rss_trend_span_s=$span"
    echo "rss_end_kb=$rss_end"
    echo "cpu_share=$cpu_share"
    echo "reef_exit=$rc"
    echo "reef_late=$late"
    echo "events=$events"
    echo "bad_event_lines=$bad_events"
    echo "sanitizer_reports=$sanitizer"
    echo "restarts=$(grep -c '^driver: restarted' "$OUT/driver.log" 2>/dev/null || true)"
    echo "driver_failures=$(grep -c 'failed$' "$OUT/driver.log" 2>/dev/null || true)"
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"

fails=()
[ "$late" = 0 ] || fails+=("reef watch did not stop by itself within 60 s after --duration ${DURATION}s")
[ "$rc" -le 1 ] || fails+=("reef watch exited with status $rc (see $OUT/reef.err)")
[ "$sanitizer" = 0 ] || fails+=("sanitizer reports on reef's stderr: $(grep -m1 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$OUT/reef.err")")
[ "$polls" -ge "$MIN_POLLS" ] || fails+=("$polls polls (goroutine profiles served), wanted at least $MIN_POLLS")
[ "$nsamples" -ge 9 ] || fails+=("$nsamples RSS samples after the ${WARMUP} s warm-up: too few to judge")
[ "$last_max" -le $((first_max + SLACK)) ] ||
    fails+=("RSS grew: last third's max $last_max KiB > first third's $first_max KiB + $SLACK KiB")
[ "$trend" -le "$SLACK" ] || fails+=("RSS trend +$trend KiB over $span s (more than $SLACK KiB)")
[ "$bad_events" = 0 ] || fails+=("$bad_events event lines are not JSON objects")
if [ ${#fails[@]} -gt 0 ]; then
    printf 'soak: FAIL: %s\n' "${fails[@]}" >&2
    exit 1
fi
log "pass: $polls polls, RSS $first_max / $mid_max / $last_max KiB (max by third), trend $trend KiB, CPU $cpu_share of a core"
