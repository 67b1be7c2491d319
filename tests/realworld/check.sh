#!/bin/bash
# check.sh - reef's verdicts on the real-world captures against EXPECTED.tsv.
#
#   tests/realworld/check.sh [--reef REEF] [--captures DIR] [--only CAP,...] [--live] [--verbose]
#
# For every row of EXPECTED.tsv, runs reef on the capture (goroutines --json
# on the debug=2 and debug=1 dumps, proc --json on the recorded /proc, scan
# --json on the capture served by `load replay`: 2 samples over 2 s, no
# pid), or reads a fact (input `facts`: the server's own figures against
# the driver's, which says the capture holds the state it claims), and
# compares one figure with the expected one: a number, or fact:NAME from the
# capture's facts.tsv (what the load driver started, or what was counted by
# other means when the capture was taken).  --only keeps the rows of the
# named captures; --live only the rows marked `live` (their figures do not
# depend on the instant of the capture, so they hold on a fresh capture too,
# as the e2e test takes one).
#
# Each row also says what reef does today: `pass`, or `xfail` when the
# verdict is known to be wrong (the row's "why" says what is right).  The
# outcome per row is PASS, XFAIL (still wrong, as recorded), FAIL (a row
# that passed no longer does) or XPASS (a known-wrong verdict is now right:
# change `xfail` to `pass` in EXPECTED.tsv so it stays right).  Exit status
# 1 when any row is FAIL or XPASS, 0 otherwise; 2 for bad usage or data.
set -euo pipefail
# A reef that fails inside $(...) must stop the check, not read as a verdict.
shopt -s inherit_errexit

here=$(cd "$(dirname "$0")" && pwd)
reef=${REEF:-$here/../../build/reef}
caps=$here/captures
verbose=0
only=
live=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --reef) reef=$2; shift 2 ;;
    --captures) caps=$2; shift 2 ;;
    --only) only=,$2,; shift 2 ;;
    --live) live=1; shift ;;
    --verbose) verbose=1; shift ;;
    *) echo "usage: check.sh [--reef REEF] [--captures DIR] [--only CAP,...] [--live] [--verbose]" >&2; exit 2 ;;
  esac
done
[[ -x $reef ]] || { echo "check.sh: no reef binary at $reef" >&2; exit 2; }
command -v jq >/dev/null || { echo "check.sh: needs jq" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/reef-realworld-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A function's package is standard library when the first element of its
# import path has no dot (Go reserves dotless paths for GOROOT; `main` is
# the program's own).  go.etcd.io/..., golang.org/x/..., google.golang.org/...
# are modules, not the standard library.
JQ_STD='
def firstelem: if contains("/") then split("/")[0] else split(".")[0] end;
def isstd: firstelem as $p | ($p | contains(".") | not) and $p != "main";'

# reef_json CAPTURE DUMP: reef's JSON for one dump of a capture (cached).
reef_json() {
  local cap=$1 dump=$2 f=$tmp/$1.$2.json
  if [[ ! -f $f ]]; then
    case $dump in
      debug2) gzip -dc "$caps/$cap/goroutine-debug2.txt.gz" | "$reef" goroutines --json - >"$f" ;;
      debug1) "$reef" goroutines --json "$caps/$cap/goroutine-debug1.txt" >"$f" ;;
      scan) scan_replay "$cap" "$f" ;;
      proc)
        mkdir -p "$tmp/$cap.proc"
        tar -C "$tmp/$cap.proc" -xzf "$caps/$cap/proc.tar.gz"
        "$reef" proc --json --proc-root "$tmp/$cap.proc" "$(fact "$cap" pid)" >"$f"
        ;;
    esac
  fi
  echo "$f"
}

# scan_replay CAPTURE OUT: reef scan of the capture served as the server
# served it (tests/realworld/load replay; built here, standard library only).
scan_replay() {
  local i url=
  if [[ ! -x $tmp/load ]]; then
    (cd "$here/load" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -o "$tmp/load" .) ||
      { echo "check.sh: cannot build tests/realworld/load" >&2; exit 2; }
  fi
  local log=$tmp/$1.replay rc=0
  rm -f "$tmp/fifo" && mkfifo "$tmp/fifo"
  "$tmp/load" replay -dir "$caps/$1" -hold 2m <"$tmp/fifo" >"$log" 2>&1 &
  local pid=$!
  exec {fd}>"$tmp/fifo"
  for ((i = 0; i < 100; i++)); do
    url=$(sed -n 's/^listening on //p' "$log" 2>/dev/null)
    [[ -z $url ]] || break
    sleep 0.1
  done
  [[ -n $url ]] || { cat "$log" >&2; echo "check.sh: replay of $1 did not start" >&2; exit 2; }
  # Exit 1 is a finding; its progress lines are not wanted, a sanitizer's
  # report is (the suite runs under ASan+UBSan too).
  "$reef" scan --url "$url" --window 2s --samples 2 --json >"$2" 2>"$tmp/scan.err" || rc=$?
  grep -E 'Sanitizer|runtime error' "$tmp/scan.err" >&2 || true
  if [[ $rc -gt 1 ]]; then
    cat "$tmp/scan.err" >&2
    echo "check.sh: reef scan of the replayed $1 exited $rc" >&2
    exit 2
  fi
  exec {fd}>&-
  wait "$pid" || true
}

fact() { # fact CAPTURE NAME
  local v
  v=$(awk -F'\t' -v k="$2" '$1 == k { print $2; exit }' "$caps/$1/facts.tsv")
  [[ -n $v ]] || { echo "check.sh: $1/facts.tsv has no $2" >&2; exit 2; }
  echo "$v"
}

# measure CAPTURE DUMP CHECK: the figure reef gives for CHECK (dump `facts`:
# a fact itself, to check that the capture holds the state it claims).
#   total              goroutines in the dump
#   class C            goroutines reef puts in class C
#   count FUNC         goroutines in groups with FUNC on the stack
#   classes FUNC       the classes of those groups, sorted, comma-separated
#   idle-not-std       goroutines in idle groups with a non-standard-library frame
#   fds, threads       reef proc's open_fds and threads
#   rule R             reef scan's status for rule R (pass, info, warn, crit,
#                      skip; absent when reef has no such rule)
#   listen             reef proc's listening ports, sorted, space-separated
measure() {
  local j
  if [[ $2 == facts ]]; then
    fact "$1" "${3#fact }"
    return
  fi
  j=$(reef_json "$1" "$2")
  set -- "$3"
  local kind=${1%% *} arg=
  [[ $1 == *" "* ]] && arg=${1#* }
  case $kind in
    total) jq .total "$j" ;;
    class) jq --arg c "$arg" '.classes[$c] // 0' "$j" ;;
    count) jq --arg f "$arg" '[.groups[] | select(any(.frames[]; .func == $f)) | .count] | add // 0' "$j" ;;
    classes) jq -r --arg f "$arg" '[.groups[] | select(any(.frames[]; .func == $f)) | .class] | unique | join(",")' "$j" ;;
    idle-not-std) jq "$JQ_STD"' [.groups[] | select(.class == "idle" and any(.frames[]; .func | isstd | not)) | .count] | add // 0' "$j" ;;
    rule) jq -r --arg r "$arg" '[.checks[] | select(.rule == $r) | .status][0] // "absent"' "$j" ;;
    fds) jq .open_fds "$j" ;;
    threads) jq .threads "$j" ;;
    listen) jq -r '[.listen[].port] | unique | sort | map(tostring) | join(" ")' "$j" ;;
    *) echo "check.sh: unknown check '$kind'" >&2; exit 2 ;;
  esac
}

# expected CAPTURE VALUE CHECK: VALUE with fact:NAME replaced by the fact
# (after an operator: >=fact:NAME), a list of ports sorted as `listen`
# gives them.
expected() {
  local v=$2 op=
  [[ $v == '>='* ]] && op='>=' && v=${v#>=}
  [[ $v == fact:* ]] && v=$op$(fact "$1" "${v#fact:}") || v=$op$v
  if [[ $3 == listen ]]; then
    printf '%s\n' $v | sort -n | paste -sd' '
  else
    echo "$v"
  fi
}

# holds GOT WANT: WANT is a value (equal), ">=N", "!C" (a class list
# without C, for `classes`), or alternatives "A|B".
holds() {
  local alt
  if [[ $2 == *"|"* ]]; then
    for alt in ${2//|/ }; do
      [[ $1 == "$alt" ]] && return 0
    done
    return 1
  fi
  case $2 in
    '>='*) [[ $1 -ge ${2#>=} ]] ;;
    '!'*) [[ ",$1," != *",${2#!},"* ]] ;;
    *) [[ $1 == "$2" ]] ;;
  esac
}

trap 'echo "check.sh: reef or jq failed on row: ${cap:-} ${dump:-} ${check:-} (line $LINENO: $BASH_COMMAND)" >&2' ERR
declare -A tally=([PASS]=0 [XFAIL]=0 [FAIL]=0 [XPASS]=0)
while IFS=$'\t' read -r cap dump check want today why when; do
  [[ -z $cap || $cap == \#* ]] && continue
  [[ -z $only || $only == *",$cap,"* ]] || continue
  [[ $live == 0 || $when == live ]] || continue
  [[ -d $caps/$cap ]] || { echo "check.sh: no capture $cap in $caps" >&2; exit 2; }
  w=$(expected "$cap" "$want" "$check")
  got=$(measure "$cap" "$dump" "$check")
  if holds "$got" "$w"; then ok=1; else ok=0; fi
  case $today$ok in
    pass1) r=PASS ;;
    pass0) r=FAIL ;;
    xfail0) r=XFAIL ;;
    xfail1) r=XPASS ;;
    *) echo "check.sh: row $cap $check: today must be pass or xfail, not '$today'" >&2; exit 2 ;;
  esac
  tally[$r]=$((tally[$r] + 1))
  if [[ $r != PASS || $verbose == 1 ]]; then
    printf '%-5s %-10s %-6s %-58s want %s (%s), reef says %s\n' "$r" "$cap" "$dump" "$check" "$w" "$want" "$got"
    [[ $r == PASS ]] || printf '      why: %s\n' "$why"
  fi
done <"$here/EXPECTED.tsv"

total=$((tally[PASS] + tally[XFAIL] + tally[FAIL] + tally[XPASS]))
[[ $total -gt 0 ]] || { echo "check.sh: EXPECTED.tsv has no rows" >&2; exit 2; }
echo "realworld: $total expectations: ${tally[PASS]} pass, ${tally[XFAIL]} xfail (known wrong), ${tally[FAIL]} fail, ${tally[XPASS]} xpass"
trap - ERR
[[ ${tally[FAIL]} -eq 0 && ${tally[XPASS]} -eq 0 ]] || exit 1
