# pprof_lib.sh - compare `reef pprof top` with `go tool pprof -top` on the
# same profile and options (sourced after lib.sh).

# pprof_rows FILE ARGS...: go tool pprof's rows as "flat cum name" lines,
# sorted, and its total on the first line.  -unit with the profile's own
# unit makes it print raw values (scaled by 1) instead of scaled ones;
# -symbolize=none keeps it from looking for the profiled binaries.
pprof_rows() {
  local file=$1 unit=$2
  shift 2
  local uflag=()
  [[ -n $unit ]] && uflag=("-unit=$unit")
  go tool pprof -symbolize=none -top -nodecount=1000000 -nodefraction=0 "${uflag[@]}" "$@" "$file" 2>/dev/null >"$TMP/pp.txt" || return 1
  local total
  total=$(sed -n 's/.* of \(-\{0,1\}[0-9]*\)[a-zA-Z]* total.*/\1/p' "$TMP/pp.txt" | head -1)
  echo "total $total"
  # Rows: flat flat% sum% cum cum% name...; strip units and pprof's inline marks.
  tr '\000' '@' <"$TMP/pp.txt" | awk '/^ *flat  *flat%/ {rows = 1; next} rows && NF >= 6 {
         name = $6; for (i = 7; i <= NF; i++) name = name " " $i
         sub(/ \((partial-)?inline\)$/, "", name)
         f = $1; c = $4; gsub(/[a-zA-Z]+$/, "", f); gsub(/[a-zA-Z]+$/, "", c)
         print f, c, name }' | LC_ALL=C sort
}

# reef_rows FILE ARGS...: the same from reef's JSON.
reef_rows() {
  local file=$1
  shift
  "$REEF" pprof top --json "$@" "$file" >"$TMP/rf.json" || return 1
  echo "total $(jq .total "$TMP/rf.json")"
  # Names as awk splits pprof's: blanks collapsed, NUL bytes shown as @.
  jq -r '.rows[] | "\(.flat) \(.cum) \(.func | gsub("[ \t]+"; " ") | gsub("\u0000"; "@"))\(if .line then " " + .file + ":" + (.line | tostring) else "" end)"' \
    "$TMP/rf.json" | LC_ALL=C sort
}

# compare_top FILE REEF-ARGS -- PPROF-ARGS: one check that both agree.
compare_top() {
  local file=$1
  shift
  local rargs=() pargs=()
  while [[ $# -gt 0 && $1 != -- ]]; do rargs+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  pargs=("$@")
  local ours unit theirs
  ours=$(reef_rows "$file" "${rargs[@]}") || fail "reef pprof top failed on $file ${rargs[*]}"
  unit=$(jq -r .unit "$TMP/rf.json")
  theirs=$(pprof_rows "$file" "$unit" "${pargs[@]}") || fail "go tool pprof failed on $file"
  if [[ "$ours" != "$theirs" ]]; then
    diff <(echo "$theirs") <(echo "$ours") | head -20 >&2 || true
  fi
  check "$(basename "$(dirname "$file")")/$(basename "$file") ${rargs[*]}: reef = go tool pprof ($(wc -l <<<"$ours") rows)" \
    eq "$ours" "$theirs"
}

# compare_diff BASE SOURCE REEF-ARGS -- PPROF-ARGS: reef pprof diff against
# go tool pprof -top -base BASE SOURCE.
compare_diff() {
  local base=$1 file=$2
  shift 2
  local rargs=() pargs=()
  while [[ $# -gt 0 && $1 != -- ]]; do rargs+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  pargs=("$@")
  "$REEF" pprof diff --json "${rargs[@]}" "$base" "$file" >"$TMP/rf.json" || fail "reef pprof diff failed on $base $file"
  local ours theirs
  ours=$({ echo "total $(jq .total "$TMP/rf.json")"; jq -r '.rows[] | "\(.flat) \(.cum) \(.func | gsub("[ \t]+"; " "))"' "$TMP/rf.json" | LC_ALL=C sort; })
  theirs=$(pprof_rows "$file" "$(jq -r .unit "$TMP/rf.json")" -base "$base" "${pargs[@]}") || fail "go tool pprof -base failed on $file"
  [[ "$ours" == "$theirs" ]] || diff <(echo "$theirs") <(echo "$ours") | head -20 >&2 || true
  check "diff $(basename "$base") $(basename "$file") ${rargs[*]}: reef = go tool pprof -base ($(wc -l <<<"$ours") rows)" \
    eq "$ours" "$theirs"
}

# sample_type_count FILE: how many sample types go tool pprof sees.
sample_type_count() {
  { go tool pprof -symbolize=none -raw "$1" 2>/dev/null || true; } | awk '/^Samples:/ {getline; print NF; exit}'
}
