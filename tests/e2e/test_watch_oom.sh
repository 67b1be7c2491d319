#!/usr/bin/env bash
# reef watch names an OOM kill as the reason of a restart.  A real one: the
# watchable fixture runs in a memory cgroup of its own with a 96 MiB limit,
# retains heap until the kernel kills it, and is started again in the same
# cgroup with the same arguments, as a service manager would.  What the
# kernel did is read independently from the cgroup's own counter.
. "$(dirname "$0")/lib.sh"
build_fixtures

# Our memory cgroup, v1 ("N:memory:/path") or v2 ("0::/path").
own=$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' /proc/self/cgroup | head -1)
if [[ -n $own && -d /sys/fs/cgroup/memory ]]; then
  CG=/sys/fs/cgroup/memory${own%/}/reef-oom-$$
  limit_file=memory.limit_in_bytes
  oom_count() { sed -n 's/^oom_kill //p' "$CG/memory.oom_control"; }
else
  own=$(sed -n 's/^0::\(.*\)/\1/p' /proc/self/cgroup | head -1)
  CG=/sys/fs/cgroup${own%/}/reef-oom-$$
  limit_file=memory.max
  oom_count() { sed -n 's/^oom_kill //p' "$CG/memory.events"; }
fi
if ! mkdir "$CG" 2>"$TMP/mkdir.err" || ! echo $((96 << 20)) >"$CG/$limit_file" 2>>"$TMP/mkdir.err"; then
  echo "skip: cannot make a memory cgroup with a limit here ($(cat "$TMP/mkdir.err")): run as root on a host whose cgroups are writable" >&2
  rmdir "$CG" 2>/dev/null || true
  echo "ok: 0 checks (skipped)"
  exit 0
fi
[[ -f $CG/memory.memsw.limit_in_bytes ]] && { echo $((96 << 20)) >"$CG/memory.memsw.limit_in_bytes" 2>/dev/null || true; }
[[ -f $CG/memory.swap.max ]] && { echo 0 >"$CG/memory.swap.max" 2>/dev/null || true; }
remove_cgroup() {
  local i
  for ((i = 0; i < 50; i++)); do rmdir "$CG" 2>/dev/null && return 0; sleep 0.1; done
}
trap 'cleanup; remove_cgroup' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# in_cgroup ARGS...: the fixture, started inside the cgroup (the shell moves
# itself in, then becomes the fixture: same executable, same arguments).
in_cgroup() {
  local out
  out=$(mktemp --suffix=.out "$TMP/watchable.XXXXXX")
  sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$FIXTURES/watchable" "$@" >"$out" 2>"$out.err" &
  PID=$!
  _pids+=("$PID")
  await_listening "$out" watchable
}

in_cgroup -addr "127.0.0.1:$port" -lifetime 3m
first=$PID
"$REEF" watch --interval 300ms --no-captures --events "$TMP/events.jsonl" "$first" 2>"$TMP/watch.err" &
WATCH_PID=$!
_pids+=("$WATCH_PID")
events() { cat "$TMP/events.jsonl" 2>/dev/null || true; }
await_event() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [[ $(events | jq -c "select($1)" | wc -l) -gt 0 ]] && return 0
    sleep 0.1
  done
  echo "  no event ($1) within $2 s:" >&2
  events | tail -10 >&2
  return 1
}
check "up" await_event '.event == "up"' 20
sleep 1

before=$(oom_count)
curl -sf "$URL/heap?rate=$((64 << 20))" >/dev/null
for ((i = 0; i < 300; i++)); do kill -0 "$first" 2>/dev/null || break; sleep 0.1; done
wait "$first" 2>/dev/null || true
after=$(oom_count)
check "the kernel OOM-killed the fixture (oom_kill $before -> $after)" test "$after" -gt "$before"

in_cgroup -addr "127.0.0.1:$port" -lifetime 3m
second=$PID
check "the restart is an event" await_event ".event == \"restart\" and .pid == $second" 30
detail=$(events | jq -r 'select(.event == "restart") | .detail')
check "the restart names the OOM kill" contains "$detail" "OOM-killed"
check "the restart gives the cgroup's counter" contains "$detail" "oom_kill $before -> $after"
check "up again under the same name" \
  eq "$(events | jq -r 'select(.event == "up") | .target' | sort -u | wc -l)" 1

kill "$WATCH_PID" "$second"
wait "$WATCH_PID" "$second" 2>/dev/null || true
pass
