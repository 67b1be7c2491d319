#!/usr/bin/env bash
# bench/ps.sh: what a full `reef ps` costs on a host with many processes.
#
# Starts PS_BENCH_SLEEPS `sleep` processes (one executable: the per-walk
# cache of executables by inode is hit), PS_BENCH_DISTINCT copies of
# `sleep` under distinct names (distinct inodes: each is opened and its
# ELF headers read once), and PS_BENCH_GO Go services (tests/fixtures
# healthy, each serving pprof on loopback), then times, with hyperfine,
# `reef ps --no-probe` (the /proc walk alone) and `reef ps` (with one probe
# request per Go service), and gives reef's peak RSS by GNU time.
#
#   bench/ps.sh [REEF]        (default: build/reef)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
REEF=${1:-$here/../build/reef}
SLEEPS=${PS_BENCH_SLEEPS:-500}
DISTINCT=${PS_BENCH_DISTINCT:-50}
GO=${PS_BENCH_GO:-10}
need_pkg hyperfine hyperfine
need_pkg /usr/bin/time time
[ -x "$REEF" ] || die "no reef binary at $REEF (run make first)"

tmp=$(mktemp -d /tmp/reef-bench-ps.XXXXXX)
pids=()
finish() {
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap finish EXIT

CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -C "$here/../tests/fixtures" -o "$tmp/healthy" ./healthy
for ((i = 0; i < SLEEPS; i++)); do sleep 600 & pids+=($!); done
for ((i = 0; i < DISTINCT; i++)); do
    cp "$(command -v sleep)" "$tmp/sleep$i"
    "$tmp/sleep$i" 600 & pids+=($!)
done
for ((i = 0; i < GO; i++)); do
    "$tmp/healthy" >"$tmp/healthy$i.out" 2>&1 & pids+=($!)
done
for ((i = 0; i < GO; i++)); do
    until grep -q '^listening on' "$tmp/healthy$i.out"; do sleep 0.1; done
done
total=$(ls /proc | grep -c '^[0-9]')
log "$total processes on the host ($SLEEPS sleep, $DISTINCT distinct copies of sleep, $GO Go services, and the host's own)"

hyperfine -N --warmup 2 --runs 20 --export-markdown "$tmp/ps.md" \
    "$REEF ps --no-probe" "$REEF ps" >&2
cat "$tmp/ps.md"
for args in "ps --no-probe" "ps"; do
    /usr/bin/time -f "reef $args: peak RSS %M KB, %e s wall, %U s user, %S s system" "$REEF" $args >/dev/null 2>"$tmp/time.err" || true
    tail -1 "$tmp/time.err"
done
