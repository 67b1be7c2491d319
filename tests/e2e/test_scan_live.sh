#!/usr/bin/env bash
# reef scan on the failures an SRE meets in live services, each beside the
# healthy look-alike that must not fire (tests/fixtures/scan-live):
#   - a broker's per-connection goroutines (a reader and a write loop parked
#     on a sync.Cond per client) while clients connect and once they hold
#     still: not a leak;
#   - slow consumers: write loops blocked in net.(*conn).Write while the
#     queues for them grow, with no GC in the window (GOGC=off): a memory
#     finding that names the network writes; fast consumers: nothing;
#   - a reverse proxy to an upstream that hangs, driven by a client with no
#     timeout: "requests waiting on an upstream" while the pile-up grows,
#     once it is flat, and without the debug=2 dump; a proxy to an upstream
#     that answers: no alarm;
#   - fd typing: sockets by state and peer, pipes, anon inodes;
#   - --url of one process with --pid of another: a warning.
# Expected figures come from what the fixtures did (the clients print how
# many connections or requests they made) or from /proc read by this script.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures

# ---- per-connection goroutines: a healthy broker --------------------------
live_server -mode broker -lifetime 120s
broker=$(live_line broker) broker_pid=$PID broker_url=$URL
broker_port=${broker##*:}
# 40 clients, one every 75 ms: connections (and their goroutines) rise
# through the whole scan window.
live_client_bg -mode subscribe -target "$broker" -n 40 -every 75ms -hold 100s
run_reef scan --url "$broker_url" --pid "$broker_pid" --window 2s --samples 3 --json
check "broker, clients connecting: the JSON follows the schema" schema_ok
check "broker, clients connecting: the goroutine count rose" \
  test "$(jq '.checks[] | select(.rule == "goroutine-leak") | .note | capture("goroutines (?<a>[0-9]+) → [0-9]+ → (?<b>[0-9]+)") | (.b | tonumber) - (.a | tonumber)' <<<"$OUT")" -ge 10
check "broker, clients connecting: growth that follows connections is not a leak" eq "$(findings goroutine-leak)" 0
check "broker, clients connecting: nothing at warn or above" eq "$(loud_but_pauses)" ""
for ((i = 0; i < 100; i++)); do
  n=$(grep -c "^[^ ]*:$(printf '%04X' "$broker_port") .* 01 " /proc/"$broker_pid"/net/tcp || true)
  ((n >= 40)) && break
  sleep 0.1
done
run_reef scan --url "$broker_url" --pid "$broker_pid" --window 2s --samples 3 --json
check "broker, 40 clients held: no goroutine-leak finding" eq "$(findings goroutine-leak)" 0
check "broker, 40 clients held: nothing at warn or above" eq "$(loud_but_pauses)" ""
check "broker: PASS says what was measured" contains "$(note goroutine-leak)" "goroutines "
# fd typing: the 40 client connections are grouped by the listening port
# they came in on; pipes and anon inodes as /proc lists them.
check "fd typing: 40 inbound connections to the broker's port" contains "$(note fd-leak)" "TCP established"
run_reef scan --url "$broker_url" --pid "$broker_pid" --window 0 --samples 1 --json
pipes=$(find /proc/"$broker_pid"/fd -lname 'pipe:*' | wc -l)
anon=$(find /proc/"$broker_pid"/fd -lname 'anon_inode:*' | wc -l)
# A kind the process has none of is left out of the note (how many pipes the
# broker holds depends on how the suite's stdio was wired: none under CI).
kind_count() { # N SINGULAR PLURAL
  if [[ $1 == 0 ]]; then lacks "$(note fd-leak)" " $2"
  elif [[ $1 == 1 ]]; then contains "$(note fd-leak)" "1 $2"
  else contains "$(note fd-leak)" "$1 $3"; fi
}
check "fd typing: pipes as /proc lists them ($pipes)" kind_count "$pipes" pipe pipes
check "fd typing: anon inodes as /proc lists them ($anon)" kind_count "$anon" "anon inode" "anon inodes"

# --url of the broker with --pid of this shell: two processes.
run_reef scan --url "$broker_url" --pid $$ --window 0 --samples 1 --json
check "url/pid mismatch: warned on stderr" contains "$ERR" "does not listen on port ${broker_url##*:}"
check "url/pid mismatch: a note in the report" contains "$(jq -r '.notes[]' <<<"$OUT")" "two different processes"
run_reef scan --url "$broker_url" --pid "$broker_pid" --window 0 --samples 1 --json
check "url and pid of one process: no warning" eq "$(jq '.notes | length' <<<"$OUT")" 0
kill "$broker_pid"

# ---- slow consumers: memory grows, no GC, writers blocked on the network ---
GOGC=off live_server -mode broker -slow -rate $((24 << 20)) -cap $((384 << 20)) -lifetime 120s
slow=$(live_line broker) slow_pid=$PID slow_url=$URL
live_client subscribed -mode subscribe -target "$slow" -n 8 -read=false -hold 100s
check "slow consumers: the client made 8 connections" eq "$CLIENT_N" 8
sleep 1
run_reef scan --url "$slow_url" --pid "$slow_pid" --window 4s --samples 3 --json
check "slow consumers: the JSON follows the schema" schema_ok
check "slow consumers: heap-growth fires" fires heap-growth
check "slow consumers: growth with no GC is named so" contains "$(titles heap-growth)" "with no GC in the window"
check "slow consumers: the 8 writers blocked on the network are named" \
  contains "$(evidence heap-growth)" "8 goroutines blocked writing to the network"
check "slow consumers: at net.(*conn).Write, from the broker's write loop" \
  contains "$(evidence heap-growth)" "net.(*conn).Write"
check "slow consumers: GOGC=off is said" contains "$(evidence heap-growth)" "GOGC=off"
check "slow consumers: the advice is about slow consumers" contains "$(advice heap-growth)" "SetWriteDeadline"
check "slow consumers: not a channel buffer" lacks "$OUT" "buffer of 1"
check "slow consumers: no goroutine-leak" eq "$(findings goroutine-leak)" 0
kill "$slow_pid"

# Fast consumers: the same broker, its clients read; nothing piles up.
GOGC=off live_server -mode broker -slow -rate $((4 << 20)) -cap $((384 << 20)) -lifetime 120s
fast=$(live_line broker) fast_pid=$PID fast_url=$URL
live_client subscribed -mode subscribe -target "$fast" -n 8 -hold 100s
sleep 1
run_reef scan --url "$fast_url" --pid "$fast_pid" --window 3s --samples 3 --json
check "fast consumers: heap-growth quiet" eq "$(severity_of heap-growth)" none
check "fast consumers: nothing at warn or above" eq "$(loud_but_pauses)" ""
kill "$fast_pid"

# ---- a reverse proxy whose upstream hangs ----------------------------------
live_server -mode backend -hang -lifetime 120s
hung=$(live_line backend)
live_server -mode proxy -backend "$hung" -lifetime 120s
proxy=$(live_line proxy) proxy_pid=$PID proxy_url=$URL
# 60 requests, 10 a second, no timeout: the pile-up grows for 6 s.
live_client_bg -mode client -target "$proxy/x" -n 60 -reqrate 10 -hold 100s
client_pid=$CLIENT_PID
sleep 0.5
run_reef scan --url "$proxy_url" --pid "$proxy_pid" --window 2s --samples 3 --json
check "proxy, growing: upstream-wait fires" fires upstream-wait
check "proxy, growing: named as requests waiting on an upstream" contains "$(titles upstream-wait)" "requests waiting on an upstream"
check "proxy, growing: from the ReverseProxy" contains "$(titles upstream-wait)" "httputil.(*ReverseProxy).ServeHTTP"
check "proxy, growing: the rate is said" contains "$(evidence upstream-wait)" " a minute"
check "proxy, growing: not a goroutine leak" eq "$(findings goroutine-leak)" 0
check "proxy, growing: the connections are not a second alarm" quiet_or_info fd-leak
check "proxy, growing: the advice is a response timeout" contains "$(advice upstream-wait)" "ResponseHeaderTimeout"
check "proxy, growing: no channel-buffer advice anywhere" lacks "$OUT" "buffer of 1"
# Once the client has sent all 60, the pile-up is flat.
for ((i = 0; i < 150; i++)); do
  curl -sf "$proxy_url/debug/pprof/goroutine?debug=1" | grep -q '^60 @.*' && break
  sleep 0.1
done
run_reef scan --url "$proxy_url" --pid "$proxy_pid" --window 2s --samples 3 --json
check "proxy, flat: upstream-wait fires" fires upstream-wait
check "proxy, flat: the client's 60 requests" contains "$(titles upstream-wait)" "60 requests waiting on an upstream"
check "proxy, flat: the same requests at every sample" contains "$(evidence upstream-wait)" "the same count at every sample"
check "proxy, flat: not a goroutine leak" eq "$(findings goroutine-leak)" 0
# Without the debug=2 dump (more goroutines than --full-cap): the same name.
run_reef scan --url "$proxy_url" --window 2s --samples 3 --full-cap 10 --json
check "proxy, over --full-cap: still named" contains "$(titles upstream-wait)" "60 requests waiting on an upstream"
check "proxy, over --full-cap: still warn" eq "$(status upstream-wait)" warn
check "proxy, over --full-cap: not a goroutine leak" eq "$(findings goroutine-leak)" 0
kill "$proxy_pid" "$client_pid"

# The look-alike: the same proxy to an upstream that answers in 2 ms.
live_server -mode backend -lifetime 120s
ok_backend=$(live_line backend)
live_server -mode proxy -backend "$ok_backend" -lifetime 120s
okproxy=$(live_line proxy) okproxy_pid=$PID okproxy_url=$URL
live_client_bg -mode client -target "$okproxy/x" -n 400 -reqrate 100 -hold 30s
sleep 0.5
run_reef scan --url "$okproxy_url" --pid "$okproxy_pid" --window 2s --samples 3 --json
check "healthy proxy: upstream-wait not at warn" quiet_or_info upstream-wait
check "healthy proxy: nothing at warn or above" eq "$(loud_but_pauses)" ""
pass
