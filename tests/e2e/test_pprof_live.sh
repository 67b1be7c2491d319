#!/usr/bin/env bash
# reef pprof against a live Go process (tests/fixtures/profiles -mode serve):
# fetching by profile name, the CPU profile, the answer to a second CPU
# profile while one runs, and the same figures as go tool pprof on the
# profile reef fetched.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pprof_lib.sh"
build_fixtures
start_fixture profiles -mode serve

for name in heap allocs goroutine mutex block threadcreate; do
  run_reef pprof top --json "$URL" "$name"
  check "live $name: exit 0" eq "$RC" 0
  check "live $name: has rows" test "$(jq '.rows | length' <<<"$OUT")" -gt 0
done
# The same profile fetched once, read by both tools.
curl -sf "$URL/debug/pprof/heap" >"$TMP/heap.pb.gz"
compare_top "$TMP/heap.pb.gz"
compare_top "$TMP/heap.pb.gz" --sample-index alloc_space -- -sample_index=alloc_space
"$REEF" pprof top --json "$TMP/heap.pb.gz" >"$TMP/a.json"
"$REEF" pprof top --json - <"$TMP/heap.pb.gz" >"$TMP/b.json"
check "stdin reads the same" eq "$(jq -c .rows "$TMP/a.json")" "$(jq -c .rows "$TMP/b.json")"

# CPU: the burn functions show up.
run_reef pprof top --json --seconds 1 "$URL" cpu
check "live cpu: exit 0" eq "$RC" 0
check "live cpu: the hot function is sampled" test "$(jq '[.rows[] | select(.func == "main.burnHot") | .flat] | add // 0' <<<"$OUT")" -gt 0

# A second CPU profile while one runs: Go refuses; reef says so, once.
"$REEF" pprof top --seconds 6 "$URL" cpu >/dev/null 2>&1 &
first=$!
# Wait until the service is really profiling (its handler shows in its own
# goroutine profile), not a fixed time: a slow start would let the second
# request take the profiler.
for _ in $(seq 100); do
  curl -sf "$URL/debug/pprof/goroutine?debug=1" >"$TMP/g.txt" || true
  grep -q 'net/http/pprof.Profile' "$TMP/g.txt" && break
  sleep 0.1
done
check "concurrent cpu profile: the first one is running" grep -q 'net/http/pprof.Profile' "$TMP/g.txt"
t0=$SECONDS
run_reef pprof top --seconds 1 "$URL" cpu
elapsed=$((SECONDS - t0))
wait "$first" || true
check "concurrent cpu profile: exit 3" eq "$RC" 3
check "concurrent cpu profile: reason given" contains "$ERR" "already in use"
check "concurrent cpu profile: no retry loop" test "$elapsed" -le 4

# Folded and SVG of a live profile.
"$REEF" pprof folded "$TMP/heap.pb.gz" >"$TMP/folded"
check "folded: values add up to the total" eq "$(awk '{s += $NF} END {print s}' "$TMP/folded")" "$(jq .total "$TMP/a.json")"
"$REEF" pprof svg "$TMP/heap.pb.gz" -o "$TMP/heap.svg"
check "svg: well-formed XML" python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$TMP/heap.svg"
check "svg: a frame per function, with its title" contains "$(cat "$TMP/heap.svg")" "<title>main."
check "svg: the zoom script" contains "$(cat "$TMP/heap.svg")" "function zoomer"
# In a real browser (when one is installed: chromium is not a dependency of
# the tests), the script zooms: the clicked frame then spans the width and
# frames outside it are hidden.
if command -v chromium >/dev/null; then
  grep -o 'data-n="main\.[^"]*"' "$TMP/heap.svg" >"$TMP/frames"
  frame=$(sed -n '1s/data-n="\(.*\)"/\1/p' "$TMP/frames")
  sed "s#</svg>#<script><![CDATA[window.addEventListener('load',function(){var gs=document.querySelectorAll('\#frames g'),t;for(var i=0;i<gs.length;i++)if(gs[i].getAttribute('data-n')==='$frame'){t=gs[i];break;}t.onclick();document.getElementById('details').textContent='ZOOMED '+t.children[1].getAttribute('x')+' '+t.children[1].getAttribute('width');});]]></script></svg>#" \
    "$TMP/heap.svg" >"$TMP/zoom.svg"
  zoomed=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$TMP/chromium" \
    --virtual-time-budget=3000 --dump-dom "file://$TMP/zoom.svg" 2>/dev/null | grep -o 'ZOOMED [0-9.]* [0-9.]*' | head -1 || true)
  check "svg in chromium: a click on $frame zooms it to the full width" eq "$zoomed" "ZOOMED 10.00 1179.50"
fi
pass
