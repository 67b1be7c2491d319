#!/usr/bin/env bash
# The cgroup rules of reef scan (memory-limit, gomaxprocs-quota,
# cpu-throttling) against real cgroups: as root on a machine with writable
# cgroup v1 memory and cpu controllers, the test makes its own cgroups and
# starts fixtures inside them.  Elsewhere those cases are skipped, with a
# message; the recorded cgroup v2 trees are read in every case.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scan_lib.sh"
build_fixtures

MEM=/sys/fs/cgroup/memory
CPU=/sys/fs/cgroup/cpu
groups=()
cleanup_groups() {
  local g p
  for g in "${groups[@]:-}"; do
    [[ -n $g && -d $g ]] || continue
    # Move anything left back to the root, then remove the group.
    while read -r p; do echo "$p" >"$(dirname "$g")/cgroup.procs" 2>/dev/null || true; done <"$g/cgroup.procs"
    rmdir "$g" 2>/dev/null || true
  done
}
trap 'cleanup; cleanup_groups' EXIT

# make_group CONTROLLER_DIR: a fresh cgroup under the controller's root.
make_group() {
  local g=$1/reef-scan-$$-$RANDOM
  mkdir "$g"
  groups+=("$g")
  echo "$g"
}

# start_in GROUPS... -- FIXTURE ARGS...: starts a fixture inside the groups
# (through a shell that joins them and then execs), setting URL and PID.
start_in() {
  local gs=()
  while [[ $1 != -- ]]; do gs+=("$1"); shift; done
  shift
  local name=$1
  shift
  local out
  out=$(mktemp --suffix=.out "$TMP/$name.XXXXXX")
  # shellcheck disable=SC2016
  sh -c 'for g in $REEF_CGROUPS; do echo $$ > "$g/cgroup.procs"; done; exec "$@"' sh "$FIXTURES/$name" "$@" \
    >"$out" 2>"$out.err" &
  PID=$!
  _pids+=("$PID")
  await_listening "$out" "$name"
}

if [[ $(id -u) -eq 0 && -w $MEM && -w $CPU && -f $MEM/memory.limit_in_bytes && -f $CPU/cpu.cfs_quota_us ]]; then
  # 1. A CPU-bound service with GOMAXPROCS=8 under a 0.2 CPU quota and a
  #    memory limit, without GOMEMLIMIT.
  mg=$(make_group $MEM)
  cg=$(make_group $CPU)
  echo $((256 << 20)) >"$mg/memory.limit_in_bytes"
  echo 100000 >"$cg/cpu.cfs_period_us"
  echo 20000 >"$cg/cpu.cfs_quota_us"
  REEF_CGROUPS="$mg $cg" GOMAXPROCS=8 start_in -- ailing -fault burn
  run_reef scan --url "$URL" --pid "$PID" --window 2s --samples 3 --json
  check "burn: schema" schema_ok
  check "burn: cpu-throttling fires" fires cpu-throttling
  check "burn: gomaxprocs-quota fires" fires gomaxprocs-quota
  check "burn: GOMAXPROCS 8 against 0.20 CPUs" contains "$(titles gomaxprocs-quota)" "GOMAXPROCS 8 is above the CPU quota of 0.20"
  check "burn: GOMEMLIMIT unset under a limit" contains "$(titles memory-limit)" "GOMEMLIMIT is not set under a cgroup memory limit of 256 MiB"
  kill "$PID"

  # 2. 256 MiB mapped outside the heap in a 288 MiB cgroup, GOMEMLIMIT
  #    above the limit.
  mg=$(make_group $MEM)
  echo $((288 << 20)) >"$mg/memory.limit_in_bytes"
  REEF_CGROUPS="$mg" GOMEMLIMIT=1GiB start_in -- ailing -fault rss
  run_reef scan --url "$URL" --pid "$PID" --window 1s --samples 2 --json
  check "rss in a small cgroup: memory-limit fires" fires memory-limit
  check "rss: usage close to the limit is named" contains "$(titles memory-limit)" "of its limit"
  check "rss: GOMEMLIMIT above the limit is named" contains "$(titles memory-limit)" "GOMEMLIMIT 1.0 GiB is above the cgroup limit 288 MiB"
  kill "$PID"

  # 3. An OOM kill recorded in the cgroup: a process that outgrows the
  #    limit is killed, then a service runs there.
  mg=$(make_group $MEM)
  echo $((64 << 20)) >"$mg/memory.limit_in_bytes"
  echo 0 >"$mg/memory.swappiness" 2>/dev/null || true
  (sh -c 'echo $$ > "$1/cgroup.procs"; exec python3 -c "b = bytearray(512 << 20)"' sh "$mg" || true) 2>/dev/null
  kills=$(sed -n 's/^oom_kill //p' "$mg/memory.oom_control")
  if [[ ${kills:-0} -gt 0 ]]; then
    REEF_CGROUPS="$mg" GOMEMLIMIT=48MiB start_in -- ailing -fault none
    run_reef scan --url "$URL" --pid "$PID" --window 0 --samples 1 --json
    check "oom: memory-limit is crit" eq "$(status memory-limit)" crit
    check "oom: the kill count is named" contains "$(titles memory-limit)" "$kills OOM kill"
    kill "$PID"
  else
    echo "skip: the kernel recorded no oom_kill in $mg/memory.oom_control"
  fi

  # 4. A sound service with room: limits set, GOMEMLIMIT below the limit,
  #    GOMAXPROCS left to Go 1.25+'s quota rule.
  mg=$(make_group $MEM)
  cg=$(make_group $CPU)
  echo $((1 << 30)) >"$mg/memory.limit_in_bytes"
  echo 100000 >"$cg/cpu.cfs_period_us"
  echo 150000 >"$cg/cpu.cfs_quota_us"
  REEF_CGROUPS="$mg $cg" GOMEMLIMIT=900MiB start_in -- healthy
  run_reef scan --url "$URL" --pid "$PID" --window 2s --samples 3 --json
  check "healthy in cgroups: memory-limit passes" eq "$(status memory-limit)" pass
  check "healthy in cgroups: gomaxprocs-quota passes" eq "$(status gomaxprocs-quota)" pass
  check "healthy in cgroups: Go 1.25+ rule applied" contains \
    "$(jq -r '.checks[] | select(.rule == "gomaxprocs-quota") | .note' <<<"$OUT")" "CPU quota 1.50"
  check "healthy in cgroups: nothing loud" eq "$(loud_but_pauses)" ""
  kill "$PID"
else
  echo "skip: real cgroup cases need root and writable cgroup v1 memory and cpu controllers"
fi

# Recorded cgroup v2 trees (tests/data/cgroup), read through a recorded
# /proc entry whose cgroup file points into them; the pprof side comes from
# a live fixture.
start_fixture ailing -fault none
mkdir -p "$TMP/proc"
cp -r "$REEF_SRC/tests/data/proc/4242" "$TMP/proc/4242"
cp "$REEF_SRC/tests/data/proc/uptime" "$TMP/proc/uptime"
scan_tree() { # scan_tree TREE CGROUP-PATH
  printf '0::%s\n' "$2" >"$TMP/proc/4242/cgroup"
  run_reef scan --url "$URL" --pid 4242 --proc-root "$TMP/proc" --sysfs-root "$REEF_SRC/tests/data/cgroup/$1" \
    --window 0 --samples 1 --json
  check "$1: schema" schema_ok
}
# v2-limited: memory.max 256 MiB on the parent (tighter than the leaf's
# 512 MiB), oom_kill 2, GOMEMLIMIT=1GiB in the recorded environment,
# GOMAXPROCS=4 against a 0.5 CPU parent quota, 1250 of 5000 periods
# throttled over the cgroup's life.
scan_tree v2-limited /kubepods/pod1/app
check "v2-limited: two OOM kills are crit" contains "$(titles memory-limit)" "2 OOM kills recorded in the cgroup"
check "v2-limited: GOMEMLIMIT above the tightest limit" contains "$(titles memory-limit)" "GOMEMLIMIT 1.0 GiB is above the cgroup limit 256 MiB"
check "v2-limited: GOMAXPROCS 4 above the 0.5 CPU quota" contains "$(titles gomaxprocs-quota)" "GOMAXPROCS 4 is above the CPU quota of 0.50"
check "v2-limited: lifetime throttling is info" eq "$(status cpu-throttling)" info
check "v2-limited: 25% of periods" contains "$(titles cpu-throttling)" "throttled in 25% of CPU periods since the cgroup was created"
scan_tree v2-unlimited /system.slice/app.service
check "v2-unlimited: memory-limit passes" eq "$(status memory-limit)" pass
check "v2-unlimited: gomaxprocs-quota passes" eq "$(status gomaxprocs-quota)" pass
check "v2-unlimited: no limit noted" contains "$(jq -r '.checks[] | select(.rule == "memory-limit") | .note' <<<"$OUT")" "no cgroup memory limit"
pass
