#!/bin/bash
# capture.sh - regenerate the real-world captures of tests/realworld/captures.
#
#   tests/realworld/capture.sh [--bin DIR] [--out DIR] [--scan REEF DIR] [STATE...]
#
# Builds three open-source Go servers from the Go module proxy (pinned
# versions below; a binary already in --bin is reused), starts each on
# loopback, drives it with tests/realworld/load into a healthy or failing
# state, and saves what an SRE would look at:
#
#   goroutine-debug1.txt                         /debug/pprof/goroutine?debug=1
#   goroutine-debug2.txt.gz                      /debug/pprof/goroutine?debug=2 (gzipped)
#   heap.pb.gz                                   /debug/pprof/heap (gzipped protobuf)
#   metrics.txt.gz                               Prometheus /metrics (caddy, etcd)
#   varz.json, connz.json                        NATS monitoring (nats)
#   proc.tar.gz                                  /proc/PID as `reef proc --proc-root` reads it
#   facts.tsv                                    what the driver started, and counts
#                                                taken by other means (ls, the kernel)
#   buildinfo.txt                                `go version -m` of the server
#
# STATE-long (e.g. proxy-hang-long, etcd-ok-long) holds STATE for 66 s and
# forces a GC before capturing, so that the dump carries wait minutes.
#
# With --scan REEF DIR, also runs `REEF scan` (10 s window) against each
# live state and keeps its text and JSON in DIR, for the report; reef's
# output is never a capture's truth.  STATE defaults to all of:
#   nats-idle nats-ok nats-slow nats-slow-long proxy-idle proxy-ok
#   proxy-hang proxy-hang-long proxy-pool etcd-idle etcd-ok etcd-ok-long
#   etcd-slow
# (nats-ok-busy is a nats-ok capture that caught write loops runnable:
# run nats-ok until its dump has a runnable writeLoop group, and rename.)
# Loopback only; every wait is bounded; everything started is stopped.
set -euo pipefail

NATS_VERSION=v2.12.15
CADDY_VERSION=v2.10.2
ETCD_VERSION=v3.6.16

here=$(cd "$(dirname "$0")" && pwd)
bin=${TMPDIR:-/tmp}/reef-realworld-bin
out=$here/captures
reef=
scandir=
while [[ $# -gt 0 ]]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --scan) reef=$2; scandir=$3; shift 3 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "capture.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
states=("$@")
# Absolute: the driver is built from inside its own directory.
mkdir -p "$bin" "$out"
bin=$(cd "$bin" && pwd)
out=$(cd "$out" && pwd)
[[ ${#states[@]} -gt 0 ]] || states=(nats-idle nats-ok nats-slow nats-slow-long proxy-idle proxy-ok
  proxy-hang proxy-hang-long proxy-pool etcd-idle etcd-ok etcd-ok-long etcd-slow)

work=$(mktemp -d "${TMPDIR:-/tmp}/reef-realworld.XXXXXX")
pids=()
LOAD_PID=
cleanup() {
  local p
  for p in "${pids[@]:-}"; do
    [[ -n $p ]] && kill "$p" 2>/dev/null && { wait "$p" 2>/dev/null || true; }
  done
  rm -rf "$work"
}
trap cleanup EXIT

log() { echo "capture: $*" >&2; }
die() { echo "capture: $*" >&2; exit 1; }

# ---- building ---------------------------------------------------------

# build_servers: the servers the requested states need, and the driver.
build_servers() {
  local need=" ${states[*]} "
  mkdir -p "$bin"
  export GOFLAGS=-buildvcs=false CGO_ENABLED=0
  if [[ $need == *" nats-"* && ! -x $bin/nats-server ]]; then
    log "building nats-server $NATS_VERSION"
    GOBIN=$bin go install "github.com/nats-io/nats-server/v2@$NATS_VERSION"
  fi
  if [[ $need == *" proxy-"* && ! -x $bin/caddy ]]; then
    log "building caddy $CADDY_VERSION"
    GOBIN=$bin go install "github.com/caddyserver/caddy/v2/cmd/caddy@$CADDY_VERSION"
  fi
  if [[ $need == *" etcd-"* && ! -x $bin/etcd ]]; then
    # etcd's server module has replace directives, which `go install
    # pkg@version` refuses: build it from a throwaway module requiring it.
    log "building etcd $ETCD_VERSION"
    local m=$work/etcdbuild
    mkdir -p "$m"
    printf 'module reef.test/realworld/etcdbuild\n\ngo 1.24\n' >"$m/go.mod"
    (cd "$m" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" &&
      go build -o "$bin/etcd" go.etcd.io/etcd/server/v3)
  fi
  (cd "$here/load" && go build -o "$bin/load" .)
}

# ---- helpers ----------------------------------------------------------

# wait_http URL: until URL answers 200 (at most 30 s).
wait_http() {
  local i
  for ((i = 0; i < 300; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  die "no answer from $1"
}

fetch() { # fetch URL FILE
  curl -fsS --max-time 60 -o "$2" "$1" || die "fetching $1"
}

# start_server NAME CMD...: starts it in the background, sets SERVER_PID.
start_server() {
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
}

stop() { # stop PID
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# start_load DIR MODE ARGS...: starts the driver with its stdin on a fifo
# (closing it ends the state), waits for "ready" (at most 120 s), and copies
# its facts into DIR/facts.tsv.  Sets LOAD_PID and LOAD_FD.
start_load() {
  local dir=$1 mode=$2 i
  shift 2
  rm -f "$work/fifo" && mkfifo "$work/fifo"
  "$bin/load" "$mode" "$@" <"$work/fifo" >"$work/load.out" 2>"$work/load.err" &
  LOAD_PID=$!
  pids+=("$LOAD_PID")
  exec {LOAD_FD}>"$work/fifo"
  for ((i = 0; i < 1200; i++)); do
    [[ -f $work/load.out ]] && grep -qx ready "$work/load.out" && break
    kill -0 "$LOAD_PID" 2>/dev/null || { cat "$work/load.err" >&2; die "load $mode exited"; }
    sleep 0.1
  done
  grep -qx ready "$work/load.out" || die "load $mode: not ready after 120 s"
  sed -n 's/^fact \([^ ]*\) \(.*\)/\1\t\2/p' "$work/load.out" >>"$dir/facts.tsv"
}

stop_load() {
  exec {LOAD_FD}>&-
  stop "$LOAD_PID"
  LOAD_PID=
}

# snap_proc PID DIR: /proc/PID as reef proc --proc-root reads it (the
# descriptors as symlinks with the kernel's targets), with the true counts.
snap_proc() {
  local pid=$1 dir=$2 root=$work/procsnap f
  rm -rf "$root" && mkdir -p "$root/$pid/fd" "$root/$pid/net"
  cp /proc/uptime "$root/uptime"
  # status (Threads) and the task list are read together until they agree:
  # a runtime thread started between the two would make the count a race.
  local tries=0 before after
  while :; do
    before=$(ls "/proc/$pid/task" | wc -l)
    for f in stat status limits maps environ cgroup; do
      cat "/proc/$pid/$f" >"$root/$pid/$f"
    done
    after=$(ls "/proc/$pid/task" | wc -l)
    [[ $before == "$after" ]] && break
    tries=$((tries + 1))
    [[ $tries -lt 10 ]] || die "pid $pid: threads keep changing"
    sleep 0.2
  done
  cat "/proc/$pid/net/tcp" >"$root/$pid/net/tcp"
  cat "/proc/$pid/net/tcp6" >"$root/$pid/net/tcp6"
  ln -s "$(readlink "/proc/$pid/exe")" "$root/$pid/exe"
  for f in /proc/$pid/fd/*; do
    ln -s "$(readlink "$f" 2>/dev/null || echo gone)" "$root/$pid/fd/${f##*/}"
  done
  tar -C "$root" -czf "$dir/proc.tar.gz" .
  printf 'pid\t%s\n' "$pid" >>"$dir/facts.tsv"
  printf 'open_fds\t%s\n' "$(ls "$root/$pid/fd" | wc -l)" >>"$dir/facts.tsv"
  printf 'threads\t%s\n' "$after" >>"$dir/facts.tsv"
}

# capture STATE PPROF_BASE PID: the goroutine dumps, heap, /proc; the
# goroutine total as Go's own debug=1 header states it.
capture() {
  local dir=$1 base=$2 pid=$3
  fetch "$base/debug/pprof/goroutine?debug=1" "$dir/goroutine-debug1.txt"
  fetch "$base/debug/pprof/goroutine?debug=2" "$dir/goroutine-debug2.txt"
  fetch "$base/debug/pprof/heap" "$dir/heap.pb.gz"
  snap_proc "$pid" "$dir"
  printf 'goroutines_debug1_header\t%s\n' \
    "$(sed -n 's/^goroutine profile: total \([0-9]*\)$/\1/p' "$dir/goroutine-debug1.txt")" >>"$dir/facts.tsv"
  printf 'goroutines_debug2_count\t%s\n' \
    "$(grep -c '^goroutine [0-9]* \[' "$dir/goroutine-debug2.txt")" >>"$dir/facts.tsv"
  printf 'goroutines_waiting_minutes\t%s\n' \
    "$(grep -c '^goroutine [0-9]* \[.*, [0-9]* minutes' "$dir/goroutine-debug2.txt")" >>"$dir/facts.tsv"
  gzip -9n "$dir/goroutine-debug2.txt"
}

# listening PORT...: the ports this state's server was told to listen on.
listening() {
  printf 'listen_ports\t%s\n' "$(printf '%s\n' "$@" | sort -n | paste -sd' ')" >>"$dir/facts.tsv"
}

# scan_live STATE URL PID: reef's live verdict, for the report only.
scan_live() {
  [[ -n $reef ]] || return 0
  mkdir -p "$scandir"
  "$reef" scan --url "$2" --pid "$3" --window 10s --color never >"$scandir/$1.txt" 2>&1 || true
  "$reef" scan --url "$2" --pid "$3" --window 10s --json >"$scandir/$1.json" 2>/dev/null || true
}

# finish STATE DIR BASE PID [METRICS_URL]: the captures once the state has
# settled, reef's live scan if asked, then the load and the server stopped.
finish() {
  local state=$1 dir=$2 base=$3 pid=$4
  sleep 3
  if [[ $state == *-long ]]; then
    # Held past a minute, then one GC (heap?gc=1): Go prints a blocked
    # goroutine's wait in whole minutes, and only once a GC has seen it.
    sleep 63
    curl -fsS --max-time 30 -o /dev/null "$base/debug/pprof/heap?gc=1" || die "forcing a GC"
    printf 'held_seconds\t66\n' >>"$dir/facts.tsv"
  fi
  capture "$dir" "$base" "$pid"
  [[ -z ${5:-} ]] || curl -fsS --max-time 30 "$5" | gzip -9n >"$dir/metrics.txt.gz"
  [[ -z ${6:-} ]] || nats_monitor "$dir" "$6"
  scan_live "$state" "$base" "$pid"
  [[ -z $LOAD_PID ]] || stop_load
  stop "$pid"
}

new_state() { # new_state STATE SERVER_BINARY: a fresh directory and its header facts
  local dir=$out/$1
  rm -rf "$dir" && mkdir -p "$dir"
  go version -m "$2" | sed "s|^$2:|SERVER:|" >"$dir/buildinfo.txt"
  printf 'state\t%s\ncaptured\t%s\n' "$1" "$(date -u +%FT%TZ)" >"$dir/facts.tsv"
  echo "$dir"
}

# ---- NATS -------------------------------------------------------------
# Client port 14222, monitoring 18222 (/varz, /connz), pprof 16222 (or
# RW_NATS_PORT, RW_NATS_MONITOR_PORT, RW_NATS_PPROF_PORT: the e2e test runs
# NATS live on free ports).  The
# configuration raises write_deadline from 10 s to 2 min so that a slow
# consumer is buffered (and its write loop blocked) for the whole capture
# instead of being cut off: the misconfiguration that lets a broker's
# memory grow with its slowest consumers.

nats_state() {
  local state=$1 dir pid
  dir=$(new_state "$state" "$bin/nats-server")
  printf 'write_deadline: "2m"\n' >"$work/nats.conf"
  local p=${RW_NATS_PORT:-14222} m=${RW_NATS_MONITOR_PORT:-18222} pp=${RW_NATS_PPROF_PORT:-16222}
  listening "$p" "$m" "$pp"
  start_server nats "$bin/nats-server" -c "$work/nats.conf" -a 127.0.0.1 -p "$p" -m "$m" --profile "$pp"
  pid=$SERVER_PID
  wait_http "http://127.0.0.1:$m/varz"
  wait_http "http://127.0.0.1:$pp/debug/pprof/"
  case ${state%-long} in
    nats-idle) printf 'client_connections\t0\n' >>"$dir/facts.tsv" ;;
    nats-ok) start_load "$dir" nats-ok -addr "127.0.0.1:$p" -n 100 ;;
    nats-slow) start_load "$dir" nats-slow -addr "127.0.0.1:$p" -n 20 -msgs 2000 -size 4096 ;;
  esac
  finish "$state" "$dir" "http://127.0.0.1:$pp" "$pid" "" "http://127.0.0.1:$m"
}

# nats_monitor DIR BASE: /varz and /connz, and the server's own count of
# clients holding undelivered bytes.
nats_monitor() {
  fetch "$2/varz" "$1/varz.json"
  fetch "$2/connz?limit=1000&sort=pending" "$1/connz.json"
  printf 'connz_pending_clients\t%s\nconnz_pending_bytes\t%s\n' \
    "$(jq '[.connections[] | select(.pending_bytes > 0)] | length' "$1/connz.json")" \
    "$(jq '[.connections[].pending_bytes] | add // 0' "$1/connz.json")" >>"$1/facts.tsv"
}

# ---- Caddy (reverse proxy) --------------------------------------------
# Proxy on 19080 (HTTP/1.1 and h2c), admin API (pprof, /metrics) on 12019,
# the driver's backend on 19081.  No response_header_timeout: Caddy's
# default, so a hung backend holds every request.  proxy-pool caps the
# upstream connections at 10 (max_conns_per_host): the other requests wait
# for one of them inside the proxy's transport.

proxy_state() {
  local state=$1 dir pid
  dir=$(new_state "$state" "$bin/caddy")
  cat >"$work/Caddyfile" <<'EOF'
{
	admin 127.0.0.1:12019
	auto_https off
	metrics
	servers {
		protocols h1 h2c
	}
}
http://127.0.0.1:19080 {
	reverse_proxy 127.0.0.1:19081 {
		transport http {
			max_conns_per_host MAXCONNS
		}
	}
}
EOF
  # 0 is Caddy's default: no cap.
  sed -i "s/MAXCONNS/$([[ ${state%-long} == proxy-pool ]] && echo 10 || echo 0)/" "$work/Caddyfile"
  listening 19080 12019
  start_server caddy env HOME="$work" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" \
    "$bin/caddy" run --config "$work/Caddyfile" --adapter caddyfile
  pid=$SERVER_PID
  wait_http http://127.0.0.1:12019/debug/pprof/
  case ${state%-long} in
    proxy-idle) printf 'client_connections\t0\n' >>"$dir/facts.tsv" ;;
    proxy-ok) start_load "$dir" proxy-ok -proxy http://127.0.0.1:19080 -backend 127.0.0.1:19081 -n 100 ;;
    proxy-hang) start_load "$dir" proxy-hang -proxy http://127.0.0.1:19080 -backend 127.0.0.1:19081 -n 100 ;;
    proxy-pool)
      printf 'max_conns_per_host\t10\n' >>"$dir/facts.tsv"
      start_load "$dir" proxy-hang -proxy http://127.0.0.1:19080 -backend 127.0.0.1:19081 -n 100 -arrivals 10
      ;;
  esac
  finish "$state" "$dir" http://127.0.0.1:12019 "$pid" http://127.0.0.1:12019/metrics
  # Caddy's own count of requests its handlers have in flight.
  printf 'caddy_requests_in_flight\t%s\n' "$(gzip -dc "$dir/metrics.txt.gz" |
    awk '/^caddy_http_requests_in_flight\{/ { n += $NF } END { print n + 0 }')" >>"$dir/facts.tsv"
}

# ---- etcd (key-value store) ---------------------------------------------
# Client URL 12379 (gateway, /metrics, --enable-pprof), peer 12380.
# etcd-slow: watchers that stop reading while the watched key is written.

etcd_state() {
  local state=$1 dir pid
  dir=$(new_state "$state" "$bin/etcd")
  rm -rf "$work/etcd-data"
  listening 12379 12380
  start_server etcd "$bin/etcd" --name rw --data-dir "$work/etcd-data" \
    --listen-client-urls http://127.0.0.1:12379 --advertise-client-urls http://127.0.0.1:12379 \
    --listen-peer-urls http://127.0.0.1:12380 --initial-advertise-peer-urls http://127.0.0.1:12380 \
    --initial-cluster rw=http://127.0.0.1:12380 --enable-pprof --log-level warn
  pid=$SERVER_PID
  wait_http http://127.0.0.1:12379/health
  case ${state%-long} in
    etcd-idle) printf 'watches\t0\n' >>"$dir/facts.tsv" ;;
    etcd-ok) start_load "$dir" etcd-ok -endpoint http://127.0.0.1:12379 -n 100 ;;
    etcd-slow) start_load "$dir" etcd-slow -endpoint http://127.0.0.1:12379 -n 20 ;;
  esac
  finish "$state" "$dir" http://127.0.0.1:12379 "$pid" http://127.0.0.1:12379/metrics
  # etcd's own counts of watch streams, watchers, and watchers fallen behind.
  local m
  for m in watch_stream_total watcher_total slow_watcher_total pending_events_total; do
    printf 'etcd_%s\t%s\n' "$m" "$(gzip -dc "$dir/metrics.txt.gz" |
      awk -v k="etcd_debugging_mvcc_$m" '$1 == k { print $2 }')" >>"$dir/facts.tsv"
  done
}

build_servers
mkdir -p "$out"
for s in "${states[@]}"; do
  log "$s"
  case $s in
    nats-*) nats_state "$s" ;;
    proxy-*) proxy_state "$s" ;;
    etcd-*) etcd_state "$s" ;;
    *) die "unknown state $s" ;;
  esac
done
log "done: ${states[*]} in $out"
