#!/usr/bin/env bash
# Regenerates the real captures in this directory from a live
# tests/fixtures/promservice (needs go, curl and python3; the fixture's
# modules come from the Go module proxy or the module cache):
#
#   metrics.txt      /metrics            (client_golang's default registry)
#   vars.json        /debug/vars         (expvar)
#   heap-debug1.txt  /debug/pprof/heap?debug=1
#   expected.txt     the figures tests/unit/test_metrics.c checks reef
#                    against, read from the three files by the Python below,
#                    not by reef.
#
# Run from anywhere: tests/data/metrics/regen.sh
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin"
here=$(cd "$(dirname "$0")" && pwd)
fixture=$here/../../fixtures/promservice
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reef-metrics.XXXXXX")
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$fixture" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -o "$tmp/promservice" .)
"$tmp/promservice" -addr 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$tmp/out")
  [[ -n $url ]] && break
  sleep 0.1
done
[[ -n $url ]] || { cat "$tmp/err" >&2; echo "promservice did not start" >&2; exit 1; }

# Two forced collections, so the pause figures are not all zero.
curl -sf "$url/gc" >/dev/null
curl -sf "$url/gc" >/dev/null
curl -sf "$url/metrics" >"$here/metrics.txt"
curl -sf "$url/debug/vars" >"$here/vars.json"
curl -sf "$url/debug/pprof/heap?debug=1" >"$here/heap-debug1.txt"

python3 - "$here" >"$here/expected.txt" <<'EOF'
# Reads the captures with Python's json and re, independently of reef, and
# prints "SOURCE KEY VALUE" lines: KEY is a gostats field, "var NAME" for a
# number expvar passes on, or a summary of all /metrics samples.
import json, math, re, sys

d = sys.argv[1]
def out(src, key, v):
    print(src, key, repr(float(v)))

# /metrics: every sample line, "name{labels} value [timestamp]".
names = {
    "go_goroutines": "goroutines", "go_threads": "threads",
    "go_memstats_heap_alloc_bytes": "heap_alloc", "go_memstats_heap_inuse_bytes": "heap_inuse",
    "go_memstats_heap_idle_bytes": "heap_idle", "go_memstats_heap_sys_bytes": "heap_sys",
    "go_memstats_heap_released_bytes": "heap_released", "go_memstats_heap_objects": "heap_objects",
    "go_memstats_alloc_bytes_total": "total_alloc", "go_memstats_stack_inuse_bytes": "stack_inuse",
    "go_memstats_sys_bytes": "sys", "go_memstats_next_gc_bytes": "next_gc",
    "go_gc_duration_seconds_count": "num_gc", "go_sched_gomaxprocs_threads": "gomaxprocs",
    "go_gc_gogc_percent": "gogc", "go_gc_gomemlimit_bytes": "gomemlimit",
    "process_open_fds": "open_fds", "process_max_fds": "max_fds",
    "process_resident_memory_bytes": "resident_bytes",
}
n, total = 0, 0.0
for line in open(f"{d}/metrics.txt"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$', line)
    name, labels, v = m.group(1), m.group(2) or "", float(m.group(3))
    n += 1
    total += v
    if name in names:
        out("metrics", names[name], v)
    elif name == "go_gc_duration_seconds_sum":
        out("metrics", "pause_total_ns", round(v * 1e9))
    elif name == "go_gc_duration_seconds" and labels == 'quantile="1"':
        out("metrics", "pause_max_ns", round(v * 1e9))
out("metrics", "samples", n)
out("metrics", "sum", total)

# /debug/vars
vars = json.load(open(f"{d}/vars.json"))
ms = vars["memstats"]
for k, f in [("HeapAlloc", "heap_alloc"), ("HeapInuse", "heap_inuse"), ("HeapIdle", "heap_idle"),
             ("HeapSys", "heap_sys"), ("HeapReleased", "heap_released"), ("HeapObjects", "heap_objects"),
             ("TotalAlloc", "total_alloc"), ("StackInuse", "stack_inuse"), ("Sys", "sys"),
             ("NextGC", "next_gc"), ("NumGC", "num_gc"), ("PauseTotalNs", "pause_total_ns"),
             ("GCCPUFraction", "gc_cpu_fraction")]:
    out("vars", f, ms[k])
out("vars", "pause_max_ns", max(ms["PauseNs"]))
out("vars", "pause_sum", sum(ms["PauseNs"]))
for k, v in vars.items():
    if k == "memstats":
        continue
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        out("vars", "var " + k, v)
    elif isinstance(v, dict):
        for mk, mv in v.items():
            if isinstance(mv, (int, float)) and not isinstance(mv, bool):
                out("vars", f"var {k}.{mk}", mv)

# heap?debug=1: the "# Name = value" lines after "# runtime.MemStats".
trailer = open(f"{d}/heap-debug1.txt").read().split("# runtime.MemStats\n", 1)[1]
t = dict(re.findall(r'^# (\w+) = (.*)$', trailer, re.M))
for k, f in [("HeapAlloc", "heap_alloc"), ("HeapInuse", "heap_inuse"), ("HeapIdle", "heap_idle"),
             ("HeapSys", "heap_sys"), ("HeapReleased", "heap_released"), ("HeapObjects", "heap_objects"),
             ("TotalAlloc", "total_alloc"), ("Sys", "sys"), ("NextGC", "next_gc"), ("NumGC", "num_gc"),
             ("GCCPUFraction", "gc_cpu_fraction"), ("MaxRSS", "max_rss")]:
    out("heap", f, float(t[k]))
out("heap", "stack_inuse", t["Stack"].split("/")[0])
pauses = [int(x) for x in t["PauseNs"].strip("[]").split()]
out("heap", "pause_max_ns", max(pauses))
out("heap", "pause_sum", sum(pauses))
if int(t["NumGC"]) <= 256:
    out("heap", "pause_total_ns", sum(pauses))
EOF
wc -c "$here"/metrics.txt "$here"/vars.json "$here"/heap-debug1.txt
