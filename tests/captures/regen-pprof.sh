#!/bin/bash
# Regenerate the committed pprof captures in tests/captures/pprof/.
#
#   tests/captures/regen-pprof.sh [goX.Y.Z ...]
#
# For each Go version (default: VERSIONS below) builds tests/fixtures/profiles
# with GOTOOLCHAIN=<version> (fetched through the module proxy on first use)
# and writes tests/captures/pprof/<version>/ (see README.md there). Every
# .pb.gz gets a .top.txt made with the machine's go (GOTOOLCHAIN=local).
set -euo pipefail

VERSIONS="go1.19.13 go1.22.12 go1.24.13 go1.26.8"
GROW_GAP=2 # seconds between heap-base.pb.gz and heap-later.pb.gz

here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../fixtures" && pwd)

versions=()
for a in "$@"; do
	case "$a" in
	go1.*) versions+=("$a") ;;
	*) echo "usage: $0 [goX.Y.Z ...]" >&2; exit 2 ;;
	esac
done
[ ${#versions[@]} -gt 0 ] || read -r -a versions <<<"$VERSIONS"

work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

unset GODEBUG GOMAXPROCS
export TZ=UTC # for the Time: line of the .top.txt files

# grow BIN DIR: two heap profiles of `profiles -mode grow`, GROW_GAP s apart.
grow() {
	local bin=$1 d=$2 url= i
	# Fresh file names: the shell truncates the redirect only once the child
	# runs, so a reused name could still show the previous run's address.
	local out=$work/grow-$v.out err=$work/grow-$v.err
	"$bin" -mode grow >"$out" 2>"$err" &
	pid=$!
	for i in $(seq 600); do
		url=$(sed -n 's/^listening on //p' "$out" 2>/dev/null)
		[ -n "$url" ] && break
		kill -0 "$pid" 2>/dev/null || { cat "$err" >&2; return 1; }
		sleep 0.1
	done
	[ -n "$url" ] || { echo "regen-pprof: no listening line" >&2; return 1; }
	curl -sSf -o "$d/heap-base.pb.gz" "$url/debug/pprof/heap?gc=1"
	sleep "$GROW_GAP"
	curl -sSf -o "$d/heap-later.pb.gz" "$url/debug/pprof/heap?gc=1"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}

for v in "${versions[@]}"; do
	echo "== $v"
	bin="$work/$v"
	GOTOOLCHAIN=$v "$fixtures/run.sh" build "$bin"
	got=$(GOTOOLCHAIN=local go version "$bin/profiles" | awk '{print $2}')
	if [ "$got" != "$v" ]; then
		echo "regen-pprof: built with $got, wanted $v" >&2
		exit 1
	fi
	d="$here/pprof/$v"
	rm -rf "$d"
	mkdir -p "$d"

	"$bin/profiles" -mode write -out "$d"
	"$bin/profiles" -mode write -rate 1 -suffix -rate1 -profiles heap,allocs -out "$d"
	grow "$bin/profiles" "$d"

	for f in "$d"/*.pb.gz; do
		GOTOOLCHAIN=local go tool pprof -top -nodecount=1000000 "$f" >"$f.top.txt"
	done
	ls -l "$d" | awk 'NR > 1 {printf "   %8d %s\n", $5, $9}'
done
du -sh "$here/pprof"
