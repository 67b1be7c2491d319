#!/usr/bin/env bash
# reef ps against real processes: healthy (pprof), scan-live quiet (pprof),
# a scan-live broker (pprof, a raw TCP port that never answers HTTP and a
# monitoring HTTP port without pprof), a scan-live subscriber (no listener),
# healthy built by Go 1.22, and sleep and bash beside them.  Expected values
# come from elsewhere: `go version -m` for versions and modules, `go version`
# over every /proc/PID/exe for which processes are Go, ss for the ports,
# the fixtures' own "listening on" lines for the pprof URLs, curl for the
# goroutine counts, ps for uptime and RSS, Python for the FNV-1a argument
# hash.  Then patterns, --no-probe, the JSON schema, bad usage, a restart
# found by goproc_find_successor (a small C driver linked with libreefcore),
# a real OOM kill in a cgroup v1 memory cgroup counted by goproc_oom_kills,
# a process in a network namespace of its own, and reef run as nobody.
#
# Other tests run Go fixtures at the same time: every check that lists
# processes names this test's pids or its own executables (copied under
# $TMP), and no whole-machine listing probes (--no-probe).
source "$(dirname "$0")/lib.sh" || exit 1
build_fixtures

B=$TMP/bin
mkdir -p "$B"
HEALTHY=$B/pshealthy$$
LIVE=$B/pslive$$
cp "$FIXTURES/healthy" "$HEALTHY"
cp "$FIXTURES/scan-live" "$LIVE"
OLD=
if (cd "$REEF_SRC/tests/fixtures" && GOTOOLCHAIN=go1.22.12 GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
  timeout 240 go build -o "$B/psold$$" ./healthy) 2>"$TMP/old.err"; then
  OLD=$B/psold$$
else
  echo "skip: cannot build with go1.22.12 (toolchain not cached and not downloadable?): $(tail -1 "$TMP/old.err")" >&2
fi

# j PID FILTER [JQ-OPTIONS]: FILTER applied to pid's object in the last JSON output.
j() {
  local p=$1 f=$2
  shift 2
  jq -r --argjson p "$p" "$@" ".[] | select(.pid == \$p) | $f" <<<"$OUT"
}
pids() { jq -r '[.[].pid] | sort | map(tostring) | join(" ")' <<<"$OUT"; }
sorted() { tr ' ' '\n' <<<"$*" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
go_version_of() { go version "$1" | sed 's/^[^:]*: //'; }
module_of() { go version -m "$1" | awk -F'\t' '$2 == "mod" {print $3}'; }
ss_ports() { ss -Hltnp | grep "pid=$1," | awk '{print $4}' | sed 's/.*://' | sort -n | uniq | tr '\n' ' ' | sed 's/ $//'; }
reef_ports() { j "$1" '[.listen[].port] | sort | map(tostring) | join(" ")'; }
port_of() { echo "${1##*:}"; }
gcount() { curl -s --max-time 5 "$1/debug/pprof/goroutine?debug=1" | head -1 | sed -n 's/^goroutine profile: total //p'; }
fnv_args() { # FNV-1a 64 of /proc/PID/cmdline after argv[0], in hex
  python3 -c 'import sys
d = open("/proc/%s/cmdline" % sys.argv[1], "rb").read()
h = 0xcbf29ce484222325
for c in d[d.index(b"\0") + 1:]:
    h = ((h ^ c) * 0x100000001b3) % (1 << 64)
print("%016x" % h)' "$1"
}

# ---- the processes ----
start_bin "$HEALTHY"
H_PID=$PID H_URL=$URL
start_bin "$LIVE" -mode quiet -lifetime 5m
Q_PID=$PID Q_URL=$URL
start_bin "$LIVE" -mode broker -monitor -lifetime 5m
BR_PID=$PID BR_URL=$URL
BR_OUT=$(grep -l '^broker on' "$TMP"/pslive$$.*.out | head -1)
BROKER_PORT=$(port_of "$(sed -n 's/^broker on //p' "$BR_OUT")")
MONITOR_PORT=$(port_of "$(sed -n 's/^monitor on //p' "$BR_OUT")")
"$LIVE" -mode subscribe -target "127.0.0.1:$BROKER_PORT" -n 2 -hold 5m -lifetime 5m >"$TMP/sub.out" 2>&1 &
SUB_PID=$!
_pids+=("$SUB_PID")
for ((i = 0; i < 300; i++)); do grep -q '^subscribed 2' "$TMP/sub.out" && break; sleep 0.1; done
check "subscriber connected" grep -q '^subscribed 2' "$TMP/sub.out"
O_PID=
if [[ -n $OLD ]]; then
  start_bin "$OLD"
  O_PID=$PID O_URL=$URL
fi
sleep 300 &
S_PID=$!
_pids+=("$S_PID")
bash -c 'while :; do sleep 1; done' & # (short sleeps: none outlives the test by more than 1 s)
BASH_PID=$!
_pids+=("$BASH_PID")
GO_PIDS="$H_PID $Q_PID $BR_PID $SUB_PID${O_PID:+ $O_PID}"

# ---- the listing, probed, of this test's processes ----
before_h=$(gcount "$H_URL") before_q=$(gcount "$Q_URL")
ps -o pid=,etimes= -p "${GO_PIDS// /,}" >"$TMP/etimes.before"
run_reef ps --json $GO_PIDS "$S_PID" "$BASH_PID"
ps -o pid=,etimes= -p "${GO_PIDS// /,}" >"$TMP/etimes.after"
after_h=$(gcount "$H_URL") after_q=$(gcount "$Q_URL")
check "json: exit 0" eq "$RC" 0
check "json: the Go processes, not sleep nor bash" eq "$(pids)" "$(sorted $GO_PIDS)"
for p in $GO_PIDS; do
  exe=$(readlink -f "/proc/$p/exe")
  check "$p: exe" eq "$(j "$p" .exe)" "$exe"
  check "$p: name" eq "$(j "$p" .name)" "$(basename "$exe")"
  check "$p: Go version as go version says" eq "$(j "$p" .go_version)" "$(go_version_of "$exe")"
  check "$p: module as go version -m says" eq "$(j "$p" .module)" "$(module_of "$exe")"
  check "$p: ports as ss says" eq "$(reef_ports "$p")" "$(ss_ports "$p")"
  check "$p: args = /proc/PID/cmdline" eq "$(j "$p" .args)" "$(tr '\0' ' ' <"/proc/$p/cmdline" | sed 's/ $//')"
  check "$p: args_hash = FNV-1a of the arguments" eq "$(j "$p" .args_hash)" "$(fnv_args "$p")"
  # ps's elapsed time (whole seconds, rounded down) just before and after.
  e0=$(awk -v p="$p" '$1 == p {print $2}' "$TMP/etimes.before")
  e1=$(awk -v p="$p" '$1 == p {print $2}' "$TMP/etimes.after")
  check "$p: uptime $(j "$p" .uptime_seconds) between ps's $e0 s and $e1 s" \
    eq "$(j "$p" '.uptime_seconds >= $e0 and .uptime_seconds < $e1 + 1' --argjson e0 "$e0" --argjson e1 "$e1")" true
  check "$p: starttime = field 22 of stat" eq "$(j "$p" .starttime_ticks)" "$(sed 's/.*) //' "/proc/$p/stat" | awk '{print $20}')"
  check "$p: no note" eq "$(j "$p" .note)" null
done
check "old Go: go1.22.12" eq "${O_PID:+$(j "$O_PID" .go_version)}" "${O_PID:+go1.22.12}"

# pprof where the fixture said it listens; none for the subscriber.
check "healthy: pprof URL = its listening line" eq "$(j "$H_PID" .pprof_url)" "$H_URL"
check "healthy: the pprof port marked" eq "$(j "$H_PID" '[.listen[] | select(.pprof) | .port] | join(",")')" "$(port_of "$H_URL")"
check "quiet: pprof URL" eq "$(j "$Q_PID" .pprof_url)" "$Q_URL"
check "broker: pprof URL (past the port that never answers HTTP)" eq "$(j "$BR_PID" .pprof_url)" "$BR_URL"
check "broker: three ports" eq "$(reef_ports "$BR_PID")" \
  "$(sorted "$BROKER_PORT" "$MONITOR_PORT" "$(port_of "$BR_URL")")"
check "broker: ports in order" eq "$(j "$BR_PID" '[.listen[].port] | map(tostring) | join(" ")')" \
  "$(sorted "$BROKER_PORT" "$MONITOR_PORT" "$(port_of "$BR_URL")")"
check "broker: only the pprof port marked" \
  eq "$(j "$BR_PID" '[.listen[] | select(.pprof) | .port] | join(",")')" "$(port_of "$BR_URL")"
check "broker: loopback ports" eq "$(j "$BR_PID" '[.listen[].loopback] | all')" true
check "subscriber: no port" eq "$(j "$SUB_PID" '.listen | length')" 0
check "subscriber: no pprof URL" eq "$(j "$SUB_PID" .pprof_url)" null
check "subscriber: goroutines unknown" eq "$(j "$SUB_PID" .goroutines)" null
[[ -n $O_PID ]] && check "old Go: pprof URL" eq "$(j "$O_PID" .pprof_url)" "$O_URL"

# Goroutines: between what curl read just before and just after.  The
# quiet server's count is steady: 2 either way for a connection of curl's
# not yet closed.  healthy's moves with its 4 load clients: up to 4
# goroutines each for a request in flight (the transport's read and write
# loops, the server's connection, a timer), so 16 either way; it starts 64
# pool workers.
in_range() { # in_range N A B SLACK: N within [min(A,B)-SLACK, max(A,B)+SLACK]
  local lo=$(($2 < $3 ? $2 : $3)) hi=$(($2 > $3 ? $2 : $3))
  [[ $1 =~ ^[0-9]+$ ]] && ((lo - $4 <= $1 && $1 <= hi + $4)) || { echo "  $1 not in [$2, $3] +- $4" >&2; return 1; }
}
check "healthy: goroutines as curl reads them" in_range "$(j "$H_PID" .goroutines)" "$before_h" "$after_h" 16
check "healthy: at least its 64 workers" test "$(j "$H_PID" .goroutines)" -ge 64
check "quiet: goroutines as curl reads them" in_range "$(j "$Q_PID" .goroutines)" "$before_q" "$after_q" 2
rss_kb=$(ps -o rss= -p "$Q_PID" | tr -d ' ')
check "quiet: RSS within 20% of ps's" eq "$(j "$Q_PID" '(.rss_bytes / 1024 - $k) | fabs <= $k * 0.2' --argjson k "$rss_kb")" true

# ---- a Go server that answers 404 to everything: one request, no mark ----
start_fixture hostile -lifetime 2m
HOSTILE_PID=$PID
HOSTILE_OUT=$(grep -l '^listening on' "$TMP"/hostile.*.out | head -1)
run_reef ps --json "$HOSTILE_PID"
check "404: its port listed" eq "$(reef_ports "$HOSTILE_PID")" "$(port_of "$URL")"
check "404: not pprof" eq "$(j "$HOSTILE_PID" .pprof_url)" null
check "404: asked once, for the first line of debug=1" \
  eq "$(grep '^request ' "$HOSTILE_OUT" | tr '\n' ' ')" "request /debug/pprof/goroutine?debug=1 "
kill "$HOSTILE_PID"
wait "$HOSTILE_PID" 2>/dev/null || true

# ---- a process in a network namespace of its own ----
# Its sockets are not in reef's namespace: read from its /proc/PID/net/tcp,
# and not probed (127.0.0.1 here is not its loopback).
if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null && command -v ip >/dev/null; then
  unshare --net sh -c 'ip link set lo up && exec "$0"' "$HEALTHY" >"$TMP/ns.out" 2>&1 &
  NS_PID=$!
  _pids+=("$NS_PID")
  for ((i = 0; i < 300; i++)); do grep -q '^listening on' "$TMP/ns.out" && break; sleep 0.1; done
  NS_URL=$(sed -n 's/^listening on //p' "$TMP/ns.out")
  run_reef ps --json "$NS_PID"
  check "netns: its port, from its namespace" eq "$(reef_ports "$NS_PID")" "$(port_of "$NS_URL")"
  check "netns: not probed" eq "$(j "$NS_PID" .pprof_url)" null
  check "netns: said" eq "$(j "$NS_PID" .note)" "in another network namespace: ports not probed"
  check "netns: said on stderr" contains "$ERR" "pid $NS_PID ($(basename "$HEALTHY")): in another network namespace"
  kill "$NS_PID"
  wait "$NS_PID" 2>/dev/null || true
else
  echo "skip: a network namespace needs root, unshare and ip"
fi

# ---- the text table ----
run_reef ps "$H_PID" "$SUB_PID"
check "table: exit 0" eq "$RC" 0
check "table: header" eq "$(head -1 <<<"$OUT" | tr -s ' ' | sed 's/^ //')" "PID NAME GO MODULE UPTIME RSS GOROUTINES LISTEN"
row() { awk -v p="$1" '$1 == p' <<<"$OUT"; }
check "table: healthy's row" eq "$(row "$H_PID" | awk '{print $2, $3, $4, $8}')" \
  "$(basename "$HEALTHY") $(go_version_of "$HEALTHY") reef.test/fixtures $(port_of "$H_URL")(pprof)"
check "table: healthy's goroutines" test "$(row "$H_PID" | awk '{print $7}')" -ge 64
check "table: subscriber without goroutines nor ports" eq "$(row "$SUB_PID" | awk '{print $7, $8}')" "- -"
check "table: two rows" eq "$(wc -l <<<"$OUT")" 3

# ---- every Go process of the machine, and only those ----
# go version over every /proc/PID/exe says which are Go; processes of other
# tests come and go, so only those alive before and after reef count.
# (comm wants lexical order, not numeric.)
go_pids() { { go version /proc/[0-9]*/exe 2>/dev/null || true; } | sed -n 's|^/proc/\([0-9]*\)/exe: go.*|\1|p' | sort; }
go_pids >"$TMP/go.before"
run_reef ps --json --no-probe
go_pids >"$TMP/go.after"
check "all: exit 0" eq "$RC" 0
jq -r '.[] | select(.go_version != null) | .pid' <<<"$OUT" | sort >"$TMP/reef.pids"
ls /proc | grep -E '^[0-9]+$' | sort >"$TMP/alive.after"
check "all: every Go process alive throughout is listed" \
  eq "$(comm -12 "$TMP/go.before" "$TMP/go.after" | comm -23 - "$TMP/reef.pids" | tr '\n' ' ')" ""
check "all: everything listed as Go is Go" \
  eq "$(comm -12 "$TMP/reef.pids" "$TMP/alive.after" | comm -23 - "$TMP/go.after" | tr '\n' ' ')" ""
check "all: this test's processes listed" eq "$(for p in $GO_PIDS; do j "$p" .pid; done | tr '\n' ' ')" "$GO_PIDS "
check "all: sleep, bash and this shell absent" eq "$(for p in "$S_PID" "$BASH_PID" $$; do j "$p" .pid; done)" ""
check "--no-probe: no goroutines" eq "$(jq '[.[] | select(.goroutines != null)] | length' <<<"$OUT")" 0
check "--no-probe: no pprof URL" eq "$(jq '[.[] | select(.pprof_url != null)] | length' <<<"$OUT")" 0

# ---- the JSON schema (docs/watch.md, "reef ps and discovery") ----
schema_ok() { jq -e "$1" >/dev/null <<<"$OUT"; }
check "schema: fields and types" schema_ok '
  type == "array" and length > 0 and all(.[];
    (keys == (["args", "args_hash", "exe", "go_version", "goroutines", "listen", "module", "name", "note",
               "oom_kills", "pid", "pprof_url", "rss_bytes", "starttime_ticks", "uptime_seconds"])) and
    (.pid | type == "number") and (.name | type == "string") and (.args | type == "string") and
    (.args_hash | test("^[0-9a-f]{16}$")) and (.starttime_ticks | type == "number") and
    all(.exe, .go_version, .module, .pprof_url, .note; type == "string" or type == "null") and
    all(.goroutines, .oom_kills, .rss_bytes, .uptime_seconds; type == "number" or type == "null") and
    all(.listen[]; (.port | type == "number") and (.loopback | type == "boolean") and (.pprof | type == "boolean")))'

# ---- patterns ----
run_reef ps --json --no-probe "pslive$$"
check "pattern: the name" eq "$(pids)" "$(sorted "$Q_PID" "$BR_PID" "$SUB_PID")"
run_reef ps --json --no-probe "$B/*"
check "pattern: the executable's path" eq "$(pids)" "$(sorted $GO_PIDS)"
run_reef ps --json --no-probe 'reef.test/fix*'
check "pattern: the module (others' fixtures too)" \
  eq "$(for p in $GO_PIDS; do j "$p" .pid; done | tr '\n' ' ')" "$GO_PIDS "
run_reef ps --json --no-probe "pshealthy$$" "$SUB_PID"
check "patterns: either one, a number is a pid" eq "$(pids)" "$(sorted "$H_PID" "$SUB_PID")"
run_reef ps --json "no-such-program-$$"
check "no match: exit 0" eq "$RC" 0
check "no match: an empty array" eq "$(jq length <<<"$OUT")" 0
check "no match: said on stderr" eq "$ERR" "reef: no Go process matches"
run_reef ps "no-such-program-$$"
check "no match, text: nothing on stdout" eq "$OUT" ""

# ---- bad usage ----
run_reef ps --frobnicate
check "unknown option: exit 2" eq "$RC" 2
check "unknown option: named" eq "$ERR" "reef: unknown option --frobnicate; see 'reef help ps'"
run_reef ps ''
check "empty pattern: exit 2" eq "$RC" 2
run_reef help ps
check "help: usage line" eq "$(head -1 <<<"$OUT")" "usage: reef ps [--json] [--no-probe] [PATTERN...]"
run_reef ps --help
check "--help: exit 0" eq "$RC" 0

# ---- a restart: goproc_find_successor ----
# The driver reads the quiet server while it runs, then, for each line on
# its stdin, prints the successor it finds.
cat >"$TMP/driver.c" <<'EOF'
#include "collect/collect_ps.h"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    goproc_list_options o = {.probe = true};
    goproc old, now;
    char err[256], line[16];
    if (argc != 2 || goproc_read(&o, atoi(argv[1]), &old, err, sizeof err) != 0) return fprintf(stderr, "%s\n", err), 2;
    printf("old %d %016llx %s\n", old.pid, (unsigned long long)old.args_hash, old.pprof_url);
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        int pid = goproc_find_successor(&o, &old, &now);
        printf("successor %d %s %d\n", pid, pid ? now.pprof_url : "-", pid ? goproc_same(&old, &now) : 0);
        fflush(stdout);
    }
    return 0;
}
EOF
san=()
[[ ${REEF_SANITIZE:-OFF} == ON ]] && san=(-fsanitize=address,undefined)
check "driver builds" cc "${san[@]}" -I"$REEF_SRC/src" -o "$TMP/driver" "$TMP/driver.c" "$REEF_BUILD/libreefcore.a" \
  $(pkg-config --libs libelf yaml-0.1 zlib) -lm -ldl -lpthread
coproc DRV { "$TMP/driver" "$Q_PID"; }
_pids+=("$DRV_PID")
ask() { echo >&"${DRV[1]}"; read -r -t 60 ANSWER <&"${DRV[0]}" || fail "driver did not answer"; }
read -r -t 60 ANSWER <&"${DRV[0]}" || fail "driver did not start"
check "driver: the running server read" eq "$ANSWER" "old $Q_PID $(fnv_args "$Q_PID") $Q_URL"
start_bin "$LIVE" -mode quiet -lifetime 6m # other arguments: another program
OTHER_PID=$PID
ask
check "no successor while it runs (another's arguments differ)" eq "$ANSWER" "successor 0 - 0"
kill -9 "$Q_PID"
wait "$Q_PID" 2>/dev/null || true
start_bin "$LIVE" -mode quiet -lifetime 5m
NEW_PID=$PID NEW_URL=$URL
ask
check "successor: the restarted server, its new port probed" eq "$ANSWER" "successor $NEW_PID $NEW_URL 1"
check "successor: another port" test "$NEW_URL" != "$Q_URL"
start_bin "$LIVE" -mode quiet -lifetime 5m
NEWER_PID=$PID NEWER_URL=$URL
ask
check "successor: the newest of two" eq "$ANSWER" "successor $NEWER_PID $NEWER_URL 1"
run_reef ps --json --no-probe "$NEW_PID" "$OTHER_PID"
check "reef ps: the restarted server has the old identity" eq "$(j "$NEW_PID" .args_hash)" "$(fnv_args "$NEWER_PID")"
check "reef ps: other arguments, another identity" test "$(j "$OTHER_PID" .args_hash)" != "$(j "$NEW_PID" .args_hash)"
eval "exec ${DRV[1]}>&-"
wait "$DRV_PID"

# ---- a real OOM kill in a cgroup v1 memory cgroup ----
oom_test_possible() {
  [[ $(id -u) == 0 ]] || { echo "skip: the OOM test needs root"; return 1; }
  grep -qE " /sys/fs/cgroup/memory .* - cgroup cgroup [^ ]*\bmemory\b" /proc/self/mountinfo ||
    { echo "skip: /sys/fs/cgroup/memory is not a cgroup v1 memory mount"; return 1; }
  [[ -w /sys/fs/cgroup/memory ]] || { echo "skip: /sys/fs/cgroup/memory is not writable"; return 1; }
  command -v python3 >/dev/null || { echo "skip: no python3 to allocate"; return 1; }
}
MCG=/sys/fs/cgroup/memory/reef-ps-$$
cgroup_cleanup() {
  [[ -d $MCG ]] || return 0
  local p
  for p in $(cat "$MCG/cgroup.procs" 2>/dev/null); do echo "$p" >/sys/fs/cgroup/memory/cgroup.procs 2>/dev/null || true; done
  rmdir "$MCG" 2>/dev/null || true
}
trap 'cgroup_cleanup; cleanup' EXIT
if oom_test_possible; then
  mkdir "$MCG"
  echo $((64 << 20)) >"$MCG/memory.limit_in_bytes"
  echo "$SUB_PID" >"$MCG/cgroup.procs"
  kills() { sed -n 's/^oom_kill //p' "$MCG/memory.oom_control"; }
  run_reef ps --json --no-probe "$SUB_PID"
  check "oom: none yet" eq "$(j "$SUB_PID" .oom_kills)" 0
  check "oom: as the cgroup says" eq "$(kills)" 0
  set +e
  { # (the group's stderr takes the shell's "Killed" too)
    (echo "$BASHPID" >"$MCG/cgroup.procs" && exec python3 -c 'x = bytearray(256 << 20)')
    hog=$?
  } 2>/dev/null
  set -e
  check "oom: the allocator was killed (SIGKILL)" eq "$hog" 137
  run_reef ps --json --no-probe "$SUB_PID"
  check "oom: one kill counted for the subscriber's cgroup" eq "$(j "$SUB_PID" .oom_kills)" 1
  check "oom: as memory.oom_control says" eq "$(kills)" 1
  check "oom: the subscriber itself lives" kill -0 "$SUB_PID"
fi

# ---- unprivileged: other users' processes listed with what can be read ----
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  set +e
  setpriv --reuid=65534 --regid=65534 --clear-groups "$REEF" ps --json "$H_PID" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  set -e
  OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
  check "nobody: exit 0" eq "$RC" 0
  check "nobody: healthy listed" eq "$(pids)" "$H_PID"
  comm=$(basename "$HEALTHY")
check "nobody: its name from stat (the comm, 15 bytes at most)" eq "$(j "$H_PID" .name)" "${comm:0:15}"
  check "nobody: Go version unknown" eq "$(j "$H_PID" .go_version)" null
  check "nobody: a note" contains "$(j "$H_PID" .note)" "executable unreadable"
  check "nobody: not probed" eq "$(j "$H_PID" .goroutines)" null
  check "nobody: its arguments are readable" eq "$(j "$H_PID" .args)" "$HEALTHY"
  check "nobody: said on stderr" contains "$ERR" "1 process listed with GO \"?\""
else
  echo "skip: the unprivileged run needs root and setpriv"
fi

pass
