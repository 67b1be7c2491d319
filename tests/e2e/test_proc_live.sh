#!/usr/bin/env bash
# reef proc against real processes: leakyservice on 127.0.0.1, on 0.0.0.0
# and on ::1 (listening ports, loopback or not), descriptor and thread counts
# against /proc as ls and grep read it, the Go environment it was started
# with, a process holding 100k descriptors (bounded memory), the recorded
# trees of tests/data through --proc-root and --sysfs-root, and, as root on
# a machine with writable cgroup v1 memory and cpu hierarchies, real cgroups
# with limits set by this test, nested, with the parent tighter.
source "$(dirname "$0")/lib.sh" || exit 1
build_fixtures

data=$REEF_SRC/tests/data

# jq over the last reef output.
q() { jq -r "$@" <<<"$OUT"; }

# ---- a service on 127.0.0.1, with Go settings in its environment ----
GOGC=150 GOMEMLIMIT=512MiB GODEBUG=madvdontneed=1 start_fixture leakyservice
port=${URL##*:}
run_reef proc --json "$PID"
check "loopback service: exit 0" eq "$RC" 0
check "loopback service: its port, as loopback" \
  eq "$(q --argjson p "$port" '[.listen[] | select(.port == $p) | "\(.addr) \(.loopback)"] | join(",")')" "127.0.0.1 true"
check "loopback service: nothing else listens" eq "$(q '.listen | length')" 1
check "comm" eq "$(q .comm)" leakyservice
check "exe" eq "$(q .exe)" "$(readlink -f "$FIXTURES/leakyservice")"
check "GOGC from the environment" eq "$(q .env.GOGC)" 150
check "GOMEMLIMIT from the environment" eq "$(q .env.GOMEMLIMIT)" 512MiB
check "GODEBUG from the environment" eq "$(q .env.GODEBUG)" madvdontneed=1
check "GOMAXPROCS unset: null" eq "$(q .env.GOMAXPROCS)" null
# The service is idle, but the Go runtime may still start a thread (or a
# connection may close) between two reads: up to three tries for reef's
# figures to agree with what ls and /proc/PID/status say just before and
# just after.
fds_and_threads() { echo "$(ls "/proc/$PID/fd" | wc -l) $(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$PID/status")"; }
for _ in 1 2 3; do
  before=$(fds_and_threads)
  run_reef proc --json "$PID"
  after=$(fds_and_threads)
  [[ $before == "$after" && $(q .open_fds)" "$(q .threads) == "$before" ]] && break
done
check "open_fds = ls /proc/PID/fd | wc -l" eq "$(q .open_fds)" "${before% *}"
check "threads = the Threads: line" eq "$(q .threads)" "${before#* }"
check "a socket among the descriptors" test "$(q .socket_fds)" -ge 1
check "RSS read" test "$(q .vm_rss)" -gt 1000000
check "uptime: started within the last 5 minutes" eq "$(q '.uptime_seconds >= 0 and .uptime_seconds < 300')" true
# The os package of Go (1.19+) raises the soft open-files limit to the hard one.
check "nofile: soft raised to the hard limit by Go" eq "$(q .nofile_soft)" "$(ulimit -Hn)"
check "nofile: hard limit = ulimit -Hn" eq "$(q .nofile_hard)" "$(ulimit -Hn)"
check "statically linked (CGO_ENABLED=0): no shared objects" eq "$(q .mapped_so)" 0
check "cpus allowed = nproc" eq "$(q .ncpus_allowed)" "$(nproc)"

# Text: aligned key and value.
run_reef proc "$PID"
check "text: exit 0" eq "$RC" 0
check "text: the listen line" contains "$OUT" "listen             127.0.0.1:$port loopback"
check "text: GOGC line" contains "$OUT" "GOGC               150"
loopback_pid=$PID

# ---- a service on every address: not loopback ----
start_fixture leakyservice -addr 0.0.0.0:0
port=${URL##*:}
run_reef proc --json "$PID"
# Go listens on 0.0.0.0 through a dual-stack IPv6 socket, [::]; either is right.
check "wildcard service: its port, not loopback" \
  eq "$(q --argjson p "$port" '[.listen[] | select(.port == $p) | "\(.addr == "::" or .addr == "0.0.0.0") \(.loopback)"] | join(",")')" \
  "true false"
run_reef proc --json "$loopback_pid"
check "the other service's port is not in this one's list" eq "$(q --argjson p "$port" '[.listen[] | select(.port == $p)] | length')" 0

# ---- IPv6 loopback, where the machine has it ----
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  start_fixture leakyservice -addr '[::1]:0'
  port=${URL##*:}
  run_reef proc --json "$PID"
  check "::1 service: loopback" eq "$(q --argjson p "$port" '[.listen[] | select(.port == $p) | "\(.addr) \(.loopback)"] | join(",")')" "::1 true"
else
  echo "skip: no IPv6 loopback on this machine"
fi

# ---- errors ----
gone=$(python3 -c 'import os; print(os.getpid())') # a process that has exited
while kill -0 "$gone" 2>/dev/null; do gone=$((gone + 100000)); done
run_reef proc "$gone"
check "no such process: exit 3" eq "$RC" 3
check "no such process: message" eq "$ERR" "reef: no process $gone"
run_reef proc 12x
check "bad pid: exit 2" eq "$RC" 2
run_reef proc --frobnicate 1
check "unknown option: exit 2" eq "$RC" 2
run_reef proc
check "no pid: exit 2" eq "$RC" 2
run_reef proc 1 2
check "two pids: exit 2" eq "$RC" 2

# ---- recorded trees ----
run_reef proc --json --proc-root "$data/proc" --sysfs-root "$data/cgroup/v2-limited" 4242
check "recorded: exit 0" eq "$RC" 0
check "recorded: listeners" eq "$(q '[.listen[] | "\(.addr):\(.port)"] | join(" ")')" "::1:6060 ::ffff:127.0.0.1:7070 127.0.0.1:8080 :::9090"
check "recorded: parent's memory limit" eq "$(q .cgroup.memory_limit)" 268435456
check "recorded: parent's cpu limit" eq "$(q .cgroup.cpu_limit)" 0.5
check "recorded: the leaf's, for GOMAXPROCS" eq "$(q .cgroup.cpu_limit_leaf)" 2
check "recorded: oom kills" eq "$(q .cgroup.oom_kills)" 2
check "recorded: throttled seconds" eq "$(q .cgroup.throttled_seconds)" 42.5
run_reef proc --proc-root "$data/proc" --sysfs-root "$data/cgroup/v2-bad" 4242
check "recorded: a cgroup missing from the tree is no error" eq "$RC" 0
mkdir -p "$TMP/proc/4242"
cp "$data/proc/4242/status" "$TMP/proc/4242/"
printf '0::/garbage-memory\n' >"$TMP/proc/4242/cgroup"
run_reef proc --proc-root "$TMP/proc" --sysfs-root "$data/cgroup/v2-bad" 4242
check "malformed memory.max: exit 2" eq "$RC" 2
check "malformed memory.max: names the file" contains "$ERR" "v2-bad/garbage-memory/memory.max: malformed"

# ---- many descriptors: counted, in bounded memory ----
# A live process with as many as the hard limit allows (raising it needs
# CAP_SYS_RESOURCE), then a recorded tree with 100k: reef reads /proc/PID/fd
# a directory block at a time and keeps nothing per descriptor.
maxrss_ok() { # maxrss_ok WHAT: reef's peak RSS, checked unless under ASan
  [[ ${REEF_SANITIZE:-OFF} == ON ]] && return 0
  check "$1: reef stays under 8 MB ($(cat "$TMP/maxrss") kB)" test "$(cat "$TMP/maxrss")" -lt 8192
}
nfd=$(($(ulimit -Hn) - 50))
((nfd > 100000)) && nfd=100000
python3 -c '
import os, resource, sys, time
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 50, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
fd = os.open("/dev/null", os.O_RDONLY)
for _ in range(n - 1):
    os.dup(fd)
print("ready", flush=True)
time.sleep(120)
' "$nfd" >"$TMP/many.out" &
many=$!
_pids+=("$many")
for ((i = 0; i < 300; i++)); do [[ -s $TMP/many.out ]] && break; sleep 0.1; done
check "$nfd descriptors: the holder started" eq "$(cat "$TMP/many.out")" ready
if [[ -x /usr/bin/time ]]; then
  /usr/bin/time -f %M -o "$TMP/maxrss" "$REEF" proc --json "$many" >"$TMP/out" 2>"$TMP/err"
  OUT=$(cat "$TMP/out")
  check "$nfd descriptors: counted" eq "$(q .open_fds)" "$(ls "/proc/$many/fd" | wc -l)"
  check "$nfd descriptors: at least $nfd" test "$(q .open_fds)" -ge "$nfd"
  maxrss_ok "$nfd descriptors"
  # 100k descriptors, half of them sockets, and 100k connections in net/tcp,
  # one in 10000 listening.
  mkdir -p "$TMP/big/9/fd" "$TMP/big/9/net"
  cp "$data/proc/4242/status" "$TMP/big/9/"
  python3 -c '
import os, sys
d = sys.argv[1]
for i in range(100000):
    os.symlink("socket:[%d]" % (10 + i) if i % 2 else "/dev/null", "%s/fd/%d" % (d, i))
with open(d + "/net/tcp", "w") as f:
    f.write("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
    for i in range(100000):
        st = "0A" if i % 10000 == 1 else "01"
        f.write("%4d: 0100007F:%04X 0100007F:1F90 %s 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n"
                % (i, 1024 + i % 60000, st, 10 + i))
' "$TMP/big/9"
  /usr/bin/time -f %M -o "$TMP/maxrss" "$REEF" proc --json --proc-root "$TMP/big" 9 >"$TMP/out" 2>"$TMP/err"
  OUT=$(cat "$TMP/out")
  check "100k recorded descriptors: counted" eq "$(q .open_fds)" 100000
  check "100k recorded descriptors: sockets" eq "$(q .socket_fds)" 50000
  check "100k connections: the 10 listeners found" eq "$(q .nlisten_total)" 10
  maxrss_ok "100k descriptors and connections"
else
  echo "skip: no /usr/bin/time to measure reef's memory"
fi
kill "$many" 2>/dev/null || true

# ---- real cgroup v1 limits ----
cgv1_ok() {
  [[ $(id -u) == 0 ]] || { echo "skip: real cgroup test needs root"; return 1; }
  local c
  for c in memory cpu; do
    grep -qE "^[^ ]+ [^ ]+ [^ ]+ / /sys/fs/cgroup/$c .* - cgroup cgroup [^ ]*\b$c\b" /proc/self/mountinfo ||
      { echo "skip: /sys/fs/cgroup/$c is not a cgroup v1 mount"; return 1; }
    [[ -w /sys/fs/cgroup/$c ]] || { echo "skip: /sys/fs/cgroup/$c is not writable"; return 1; }
  done
}

MCG=/sys/fs/cgroup/memory/reef-test-$$
CCG=/sys/fs/cgroup/cpu/reef-test-$$
cgroup_cleanup() {
  local d p
  for d in "$MCG/child" "$CCG/child" "$MCG" "$CCG"; do
    [[ -d $d ]] || continue
    # Out to the root of the hierarchy, so the directory can go.
    for p in $(cat "$d/cgroup.procs" 2>/dev/null); do echo "$p" >"${d%%/reef-test-*}/cgroup.procs" 2>/dev/null || true; done
    rmdir "$d" 2>/dev/null || echo "warning: could not remove $d" >&2
  done
}
trap 'cgroup_cleanup; cleanup' EXIT

if cgv1_ok; then
  mkdir "$MCG" "$CCG"
  echo $((256 << 20)) >"$MCG/memory.limit_in_bytes"
  echo 100000 >"$CCG/cpu.cfs_period_us"
  echo 50000 >"$CCG/cpu.cfs_quota_us"
  start_fixture leakyservice
  echo "$PID" >"$MCG/cgroup.procs"
  echo "$PID" >"$CCG/cgroup.procs"
  run_reef proc --json "$PID"
  check "cgroup v1: exit 0" eq "$RC" 0
  check "cgroup v1: version" eq "$(q .cgroup.version)" 1
  check "cgroup v1: memory limit" eq "$(q .cgroup.memory_limit)" 268435456
  check "cgroup v1: memory path" eq "$(q .cgroup.memory_path)" "$MCG"
  check "cgroup v1: cpu limit" eq "$(q .cgroup.cpu_limit)" 0.5
  check "cgroup v1: cpu quota" eq "$(q .cgroup.cpu_quota_us)" 50000
  check "cgroup v1: throttling counters read" test "$(q .cgroup.nr_periods)" -ge 0
  check "cgroup v1: OOM kills read" eq "$(q .cgroup.oom_kills)" 0
  check "cgroup v1: usage read" test "$(q .cgroup.memory_usage)" -ge 0
  run_reef proc "$PID"
  check "cgroup v1 text: memory_limit" contains "$OUT" "memory_limit       268435456 (256.0 MiB)"
  check "cgroup v1 text: cpu_limit" contains "$OUT" "cpu_limit          0.50 CPUs"

  # A child with a looser memory limit and no CPU quota of its own: the
  # parent's limits hold.  (v1 refuses a child CPU quota above its
  # parent's, so the CPU case is "none in the child".)
  mkdir "$MCG/child" "$CCG/child"
  echo $((1 << 30)) >"$MCG/child/memory.limit_in_bytes"
  echo "$PID" >"$MCG/child/cgroup.procs"
  echo "$PID" >"$CCG/child/cgroup.procs"
  run_reef proc --json "$PID"
  check "nested: memory path is the child" eq "$(q .cgroup.memory_path)" "$MCG/child"
  check "nested: the parent's tighter memory limit" eq "$(q .cgroup.memory_limit)" 268435456
  check "nested: found at the parent" eq "$(q .cgroup.memory_limit_at)" "$MCG"
  check "nested: the parent's cpu limit" eq "$(q .cgroup.cpu_limit)" 0.5
  check "nested: found at the parent" eq "$(q .cgroup.cpu_limit_at)" "$CCG"
  check "nested: the child has no quota of its own (what Go reads)" eq "$(q .cgroup.cpu_limit_leaf)" null
  # The child tighter: the child's.
  echo $((128 << 20)) >"$MCG/child/memory.limit_in_bytes"
  echo 25000 >"$CCG/child/cpu.cfs_quota_us"
  run_reef proc --json "$PID"
  check "nested, child tighter: memory" eq "$(q .cgroup.memory_limit)" 134217728
  check "nested, child tighter: cpu" eq "$(q .cgroup.cpu_limit)" 0.25
  check "nested, child tighter: cpu at the child" eq "$(q .cgroup.cpu_limit_at)" "$CCG/child"
  kill "$PID"
  wait "$PID" 2>/dev/null || true
fi
pass
