#!/usr/bin/env bash
# reef watch's captures when things go wrong, with the reef binary itself:
#   - kill -9 of reef in the middle of a capture (a 20 s heap gap holds it
#     there): only a .tmp- directory is left, nothing that looks complete,
#     and the next start of reef watch removes it;
#   - a full disk (a 256 KiB tmpfs with a few KiB free): the finding is
#     still logged, with capture null, a capture-failed event says ENOSPC,
#     and nothing is left behind.
# The finding comes from a watchable fixture leaking goroutines on request.
. "$(dirname "$0")/lib.sh"
build_fixtures

events() { cat "$1" 2>/dev/null || true; }
# await FILE JQ-FILTER SECONDS: waits until the event log FILE has a match.
await() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [[ $(events "$1" | jq -c "select($2)" | wc -l) -gt 0 ]] && return 0
    kill -0 "$WATCH_PID" 2>/dev/null || { cat "$TMP/watch.err" >&2; fail "reef watch exited"; }
    sleep 0.1
  done
  echo "  no event ($2) within $3 s; the log:" >&2
  events "$1" | tail -20 >&2
  return 1
}
complete() { find "$1" -mindepth 2 -maxdepth 2 -type d ! -name '.*' | wc -l; }
temporary() { find "$1" -mindepth 2 -maxdepth 2 -type d -name '.tmp-*' | wc -l; }

# config NAME DIR HEAP_GAP: a configuration that opens goroutines-level at
# warn a second after a leak of 40 goroutines a second starts.
config() {
  cat >"$TMP/$1.yaml" <<EOF
interval: 500ms
learn: 2s
baseline_window: 1m
events: $TMP/$1.jsonl
request: {timeout: 5s, connect_timeout: 1s}
captures: {dir: $2, target_every: 1s, global_every: 1s, heap_gap: $3}
rules:
  goroutines-level: {warn: 30%, warn_for: 1s, crit: 100%, crit_for: 60s, clear_for: 60s}
targets:
  - {name: leaky, url: "$URL", pid: $PID}
EOF
}

start_fixture watchable -lifetime 5m
leaky_url=$URL

# ---- kill -9 in the middle of a capture ------------------------------------------
config crash "$TMP/captures" 20s
"$REEF" watch --config "$TMP/crash.yaml" >"$TMP/watch.out" 2>"$TMP/watch.err" &
WATCH_PID=$!
_pids+=("$WATCH_PID")
check "crash: the target comes up" await "$TMP/crash.jsonl" '.event == "up"' 20
sleep 3 # the learning period and a poll beyond it
curl -sf "$leaky_url/leak?rate=40" >/dev/null
tmpdir=
for ((i = 0; i < 300; i++)); do
  tmpdir=$(find "$TMP/captures" -mindepth 2 -maxdepth 2 -type d -name '.tmp-*' 2>/dev/null | head -1)
  [[ -n $tmpdir && -e $tmpdir/heap-1.pb.gz ]] && break
  sleep 0.1
done
check "crash: a capture is under way, in the heap gap ($tmpdir)" test -e "$tmpdir/heap-1.pb.gz"
check "crash: the second heap profile is not there yet" test ! -e "$tmpdir/heap-2.pb.gz"
kill -9 "$WATCH_PID"
wait "$WATCH_PID" 2>/dev/null || true
check "crash: after kill -9, one .tmp- directory" eq "$(temporary "$TMP/captures")" 1
check "crash: and nothing that looks complete" eq "$(complete "$TMP/captures")" 0
run_reef watch --config "$TMP/crash.yaml" --duration 1s
check "crash: the next start runs (status $RC: $ERR)" eq "$RC" 0
check "crash: the next start removed the .tmp- directory" eq "$(temporary "$TMP/captures")" 0
check "crash: still nothing that looks complete" eq "$(complete "$TMP/captures")" 0
curl -sf "$leaky_url/release" >/dev/null

# ---- a full disk --------------------------------------------------------------------
full="$TMP/full"
mkdir -p "$full"
if ! mount -t tmpfs -o size=256k tmpfs "$full" 2>"$TMP/mount.err"; then
  echo "SKIPPED the full-disk half: mount -t tmpfs refused ($(cat "$TMP/mount.err")); it needs root" >&2
  pass
  exit 0
fi
trap 'umount "$full" 2>/dev/null || true; cleanup' EXIT
dd if=/dev/zero of="$full/filler" bs=4k count=60 2>/dev/null || true
config full "$full/captures" 1s
"$REEF" watch --config "$TMP/full.yaml" >"$TMP/watch.out" 2>"$TMP/watch.err" &
WATCH_PID=$!
_pids+=("$WATCH_PID")
check "full: the target comes up" await "$TMP/full.jsonl" '.event == "up"' 20
sleep 3
curl -sf "$leaky_url/leak?rate=40" >/dev/null
check "full: the finding opens" await "$TMP/full.jsonl" '.event == "finding" and .change == "opened"' 30
check "full: capture-failed says the disk is full" \
  await "$TMP/full.jsonl" '.event == "capture-failed" and (.detail | test("No space left on device"))' 30
opened=$(events "$TMP/full.jsonl" | jq -c 'select(.event == "finding" and .change == "opened")' | head -1)
check "full: the finding is logged with capture null" eq "$(jq -r .capture <<<"$opened")" null
check "full: nothing that looks complete" eq "$(complete "$full/captures")" 0
check "full: no .tmp- directory left" eq "$(temporary "$full/captures")" 0
kill "$WATCH_PID"
wait "$WATCH_PID" 2>/dev/null || true
curl -sf "$leaky_url/release" >/dev/null
pass
