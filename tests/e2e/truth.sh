# truth.sh - checks of reef's JSON against the zoo fixture's ground truth
# (sourced after lib.sh).  The zoo writes one TRUTH line per kind of
# goroutine it made: how many, in which state, blocked at which frame.

# The class reef must give each kind of goroutine, in a traceback dump.
# (A kind not listed must simply be found with the right count and state.)
declare -A CLASS=(
  [leak]=leak [leak-recv]=leak [nil-recv]=leak [select-forever]=leak
  [mutex-pileup]=lock-pileup [pool-wait]=pool-wait
  [io-read]=io-wait [io-accept]=io-wait
  [worker-pool]=other [sleep]=other [mutex-holder]=other [cond]=other [waitgroup]=other
  [leak-single]=leak [pool-big]=other [upstream]=upstream-wait [upstream-server]=other
  [client-conn]=upstream-wait [net-write]=net-write [conn-reader]=io-wait [conn-writer]=other
)
# In a debug=1 dump (no states, runtime frames hidden) these still hold.
# (pool-big is not listed: debug=1 has no ids or creators, and a pool of 24
# parked workers looks like 24 leaked goroutines; docs/goroutines.md.)
declare -A CLASS1=([leak]=leak [leak-recv]=leak [mutex-pileup]=lock-pileup [pool-wait]=pool-wait [worker-pool]=other
  [leak-single]=leak [upstream]=upstream-wait [client-conn]=upstream-wait [net-write]=net-write [conn-writer]=other)

truth_json() { # TRUTH lines -> JSON array
  jq -R -s '[split("\n")[] | select(startswith("TRUTH "))
    | capture("kind=(?<kind>\\S+) count=(?<count>[0-9]+) state=(?<state>.*) file=(?<file>\\S+) line=(?<line>[0-9]+) func=(?<func>.*)$")
    | .count |= tonumber | .line |= tonumber]' "$1"
}

# For each truth kind: goroutines in groups that have the kind's frame and
# state, and the classes of those groups.  Kinds that share a frame (the
# pool's waiters and its one request in flight) are told apart by state.
check_traceback() { # capture truth [the capture as printed, when cap is a reshaped copy]
  local cap=$1 truth=$2 json="$TMP/r.json"
  "$REEF" goroutines --json "$cap" >"$json" 2>/dev/null || fail "$cap: reef exit $?"
  local headers
  # Goroutine 0 (in SIGQUIT output) is the signal thread, not a goroutine.
  headers=$(grep -cE '^goroutine [1-9][0-9]* ' "${3:-$cap}")
  check "$cap: total equals the goroutine headers" eq "$(jq .total "$json")" "$headers"
  check "$cap: classes add up to the total" eq "$(jq '[.classes[]] | add' "$json")" "$headers"
  check "$cap: group counts add up to the total" eq "$(jq '[.groups[].count] | add' "$json")" "$headers"
  local kinds
  kinds=$(truth_json "$truth")
  # Kinds that share state and frame (the pool's waiters and its request in
  # flight both sit in select under poolGet) are compared as a sum.
  while IFS=$'\t' read -r kinds_at want got classes; do
    check "$cap: $kinds_at: $want goroutines expected" eq "$got" "$want"
    if [[ $kinds_at != *,* && -n ${CLASS[$kinds_at]:-} ]]; then
      # After "all goroutines are asleep - deadlock!" every kind is blocked for good.
      local want_class=${CLASS[$kinds_at]}
      [[ $(jq -r '.headline.kind // ""' "$json") == deadlock ]] && want_class=deadlocked
      check "$cap: $kinds_at is classed $want_class" eq "$classes" "$want_class"
    fi
  done < <(jq -r --argjson t "$kinds" '
    . as $r | [$t[] | select(.line > 0)] | group_by([.state, .func, .file, .line])[] | . as $site
    | [$r.groups[] | select(($site[0].state == "-" or .state == $site[0].state)
        and any(.frames[]; .func == $site[0].func and .file == $site[0].file and .line == $site[0].line))] as $g
    | [([$site[].kind] | join(",")), ([$site[].count] | add), ([$g[].count] | add // 0),
       ([$g[].class] | unique | join(","))] | @tsv' "$json")
  # The pool's waiters are the goroutines inside Transport.getConn.
  local want_pool
  want_pool=$(jq --argjson t "$kinds" '[$t[] | select(.kind == "pool-wait") | .count] | add // 0' <<<null)
  if [[ $want_pool -gt 0 ]]; then
    check "$cap: pool waiters found in getConn" eq \
      "$(jq '[.groups[] | select(any(.frames[]; .func == "net/http.(*Transport).getConn")) | .count] | add' "$json")" "$want_pool"
    check "$cap: pool waiters classed pool-wait" eq \
      "$(jq -r '[.groups[] | select(any(.frames[]; .func == "net/http.(*Transport).getConn")) | .class] | unique | join(",")' "$json")" "pool-wait"
  fi
}

check_debug1() { # capture truth
  local cap=$1 truth=$2 json="$TMP/r1.json"
  "$REEF" goroutines --json "$cap" >"$json" || fail "$cap: reef exit $?"
  local declared
  declared=$(sed -n 's/^goroutine profile: total \([0-9]*\)$/\1/p' "$cap")
  check "$cap: format is debug=1" eq "$(jq -r .format "$json")" "debug=1"
  check "$cap: total equals the declared total" eq "$(jq .total "$json")" "$declared"
  check "$cap: no states in debug=1" eq "$(jq '[.groups[] | select(.state != null)] | length' "$json")" 0
  local kinds
  kinds=$(truth_json "$truth")
  # Sites shared by several kinds are compared as a sum.
  while IFS=$'\t' read -r kinds_at want got classes; do
    check "$cap: $kinds_at: $want goroutines expected" eq "$got" "$want"
    for kind in ${kinds_at//,/ }; do
      if [[ -n ${CLASS1[$kind]:-} && $kinds_at != *,* ]]; then
        check "$cap: $kind is classed ${CLASS1[$kind]}" eq "$classes" "${CLASS1[$kind]}"
      fi
    done
  done < <(jq -r --argjson t "$kinds" '
    . as $r | [$t[] | select(.line > 0)] | group_by([.func, .file, .line])[] | . as $site
    | [$r.groups[] | select(any(.frames[]; .func == $site[0].func and .file == $site[0].file
        and .line == $site[0].line))] as $g
    | [([$site[].kind] | join(",")), ([$site[].count] | add), ([$g[].count] | add // 0),
       ([$g[].class] | unique | join(","))] | @tsv' "$json")
  # The labeled goroutines keep their pprof labels.
  check "$cap: labels kept" eq "$(jq '[.groups[] | select(any(.labels[]; .set.worker == "a")) | .count] | add' "$json")" 5
}

