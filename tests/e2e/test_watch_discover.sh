#!/usr/bin/env bash
# reef watch --discover: every Go process of the host that matches, those
# that start later too, each once; a restarted one stays one target.
. "$(dirname "$0")/lib.sh"
build_fixtures

events() { cat "$TMP/events.jsonl" 2>/dev/null || true; }
await_event() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [[ $(events | jq -c "select($1)" | wc -l) -gt 0 ]] && return 0
    kill -0 "$WATCH_PID" 2>/dev/null || { cat "$TMP/watch.err" >&2; fail "reef watch exited"; }
    sleep 0.1
  done
  echo "  no event ($1) within $2 s:" >&2
  events | tail -10 >&2
  return 1
}
port_of() { echo "${1##*:}"; }

# Discovery looks at the whole host, where other tests run watchable
# fixtures too: this test's copy has a name of its own to match.
NAME=watchable-disc-$$
cp "$FIXTURES/watchable" "$TMP/$NAME"
start_mine() { start_bin "$TMP/$NAME" "$@"; }

early_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
start_mine -addr "127.0.0.1:$early_port" -lifetime 3m
early_pid=$PID
start_fixture healthy # Go, but not matched
other_pid=$PID

cat >"$TMP/watch.yaml" <<EOF
interval: 500ms
events: $TMP/events.jsonl
captures: {enabled: false}
discover: {enabled: true, match: ["$NAME"], every: 1s}
EOF
"$REEF" watch --config "$TMP/watch.yaml" 2>"$TMP/watch.err" &
WATCH_PID=$!
_pids+=("$WATCH_PID")

check "a process running before the agent is found" \
  await_event ".event == \"up\" and .pid == $early_pid and .target == \"$NAME:$early_port\"" 20
start_mine -lifetime 3m
late_pid=$PID late_port=$(port_of "$URL")
check "a process started later is found" \
  await_event ".event == \"up\" and .pid == $late_pid and .target == \"$NAME:$late_port\"" 20
check "a Go process the patterns do not match is left alone" \
  eq "$(events | jq -c "select(.pid == $other_pid)" | wc -l)" 0

# Restarted with the same arguments (same port): the target follows it, and
# discovery does not start a second one.
kill -9 "$early_pid"
wait "$early_pid" 2>/dev/null || true
start_mine -addr "127.0.0.1:$early_port" -lifetime 3m
check "the process that died is followed to its successor" \
  await_event ".event == \"restart\" and .target == \"$NAME:$early_port\" and .pid == $PID" 20
sleep 3 # three looks of discovery
check "one target per process: two processes, two targets" \
  eq "$(events | jq -r 'select(.event == "up") | .target' | sort -u | wc -l)" 2
check "the successor is not watched twice" \
  eq "$(events | jq -c "select(.event == \"up\" and .pid == $PID)" | wc -l)" 1
kill "$WATCH_PID"
wait "$WATCH_PID" 2>/dev/null || true
pass
