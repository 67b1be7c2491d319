#!/bin/bash
# Regenerate the committed goroutine-dump captures in tests/captures/.
#
#   tests/captures/regen.sh [--with-long-wait] [goX.Y.Z ...]
#
# For each Go version (default: VERSIONS below) builds tests/fixtures/zoo with
# GOTOOLCHAIN=<version> (fetched through the module proxy on first use) and
# writes tests/captures/<version>/ (see README.md there for the files).
# --with-long-wait also writes long-wait.txt for $LOCAL_VERSION, which takes
# about 75 extra seconds.
set -euo pipefail

# Newest patch release of each minor the module proxy served when this list
# was made, plus the machine's go.
VERSIONS="go1.19.13 go1.20.14 go1.21.13 go1.22.12 go1.23.12 go1.24.13 go1.25.14 go1.26.8 go1.27.4"
# Version that also gets debug2-labels.txt (GODEBUG=tracebacklabels=1, Go 1.26+)
# and, with --with-long-wait, long-wait.txt.
LOCAL_VERSION="go1.26.8"
# Versions whose runtime finds leaked goroutines by default (Go 1.27+: the
# goroutineleak profile, which marks its goroutines "(leaked)" in later dumps).
LEAK_VERSIONS="go1.27.4"
LONG_WAIT_SECONDS=75

here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../fixtures" && pwd)

long_wait=0
versions=()
for a in "$@"; do
	case "$a" in
	--with-long-wait) long_wait=1 ;;
	go1.*) versions+=("$a") ;;
	*) echo "usage: $0 [--with-long-wait] [goX.Y.Z ...]" >&2; exit 2 ;;
	esac
done
[ ${#versions[@]} -gt 0 ] || read -r -a versions <<<"$VERSIONS"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Run without inherited settings that change the dump format.
unset GODEBUG GOTRACEBACK GOMAXPROCS

# serve_quit BIN OUT SECONDS: run BIN -mode serve, wait for its
# "listening on" line, wait SECONDS more, send SIGQUIT and keep its stderr
# (the runtime's dump) in OUT. Extra environment comes from the caller.
serve_quit() {
	local bin=$1 out=$2 extra=$3 pid i
	"$bin" -mode serve -truth "$work/truth-serve.txt" >"$work/serve.out" 2>"$out" &
	pid=$!
	for i in $(seq 600); do
		grep -q '^listening on http://' "$work/serve.out" && break
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "regen: zoo -mode serve exited early" >&2
			cat "$out" >&2
			return 1
		fi
		sleep 0.1
	done
	grep -q '^listening on http://' "$work/serve.out" || { echo "regen: no listening line" >&2; kill "$pid"; return 1; }
	sleep "$extra"
	kill -QUIT "$pid"
	wait "$pid" || true
}

# serve_leak BIN DIR: run BIN -mode serve, ask for the goroutineleak
# profile (debug=1, kept as leakprofile.txt), then a debug=2 dump, in which
# the runtime now marks those goroutines "(leaked)" (kept as leaked.txt).
serve_leak() {
	local bin=$1 d=$2 pid i url
	"$bin" -mode serve -truth "$work/truth-leak.txt" >"$work/leak.out" 2>/dev/null &
	pid=$!
	for i in $(seq 600); do
		url=$(sed -n 's/^listening on //p' "$work/leak.out")
		[ -n "$url" ] && break
		sleep 0.1
	done
	[ -n "$url" ] || { echo "regen: no listening line" >&2; kill "$pid"; return 1; }
	curl -sf "$url/debug/pprof/goroutineleak?debug=1" >"$d/leakprofile.txt"
	curl -sf "$url/debug/pprof/goroutine?debug=2" >"$d/leaked.txt"
	kill "$pid"
	wait "$pid" || true
	grep -q '(leaked)' "$d/leaked.txt" || { echo "regen: no (leaked) goroutines" >&2; return 1; }
}

for v in "${versions[@]}"; do
	echo "== $v"
	bin="$work/$v"
	GOTOOLCHAIN=$v "$fixtures/run.sh" build "$bin"
	got=$(GOTOOLCHAIN=local go version "$bin/zoo" | awk '{print $2}')
	if [ "$got" != "$v" ]; then
		echo "regen: built with $got, wanted $v" >&2
		exit 1
	fi
	zoo="$bin/zoo"
	d="$here/$v"
	# Keep an earlier long-wait.txt unless this run makes a new one.
	[ -f "$d/long-wait.txt" ] && [ "$long_wait" = 0 ] && mv "$d/long-wait.txt" "$work/long-wait.keep"
	rm -rf "$d"
	mkdir -p "$d"
	[ -f "$work/long-wait.keep" ] && mv "$work/long-wait.keep" "$d/long-wait.txt"

	"$zoo" -mode dump2 -truth "$d/truth.txt" >"$d/debug2.txt"
	"$zoo" -mode dump1 -truth "$work/truth1.txt" >"$d/debug1.txt"
	GOTRACEBACK=all serve_quit "$zoo" "$d/sigquit.txt" 0
	GOTRACEBACK=system serve_quit "$zoo" "$d/sigquit-system.txt" 0
	GOTRACEBACK=all "$zoo" -mode panic -truth "$work/truth-panic.txt" 2>"$d/panic.txt" || true
	timeout 120 "$zoo" -mode deadlock -truth "$d/truth-deadlock.txt" 2>"$d/deadlock.txt" || true
	grep -q 'all goroutines are asleep - deadlock!' "$d/deadlock.txt" || { echo "regen: $v: no deadlock report" >&2; exit 1; }
	# Only the healthy look-alikes (idle pool, keep-alive, per-connection
	# loops): nothing in these may be called a leak or a hung request.
	"$zoo" -set healthy -mode dump2 -truth "$d/truth-healthy.txt" >"$d/healthy2.txt"
	"$zoo" -set healthy -mode dump1 -truth "$work/truth-healthy1.txt" >"$d/healthy1.txt"
	# A go test that hangs, stopped by -test.timeout.
	(cd "$fixtures" && GOTOOLCHAIN=$v CGO_ENABLED=0 GOFLAGS=-buildvcs=false go test -c -o "$bin/zoo.test" ./zoo)
	ZOO_TRUTH="$d/truth-timeout.txt" "$bin/zoo.test" -test.timeout=3s -test.run TestHang >"$d/timeout.txt" 2>&1 || true
	grep -q 'panic: test timed out after 3s' "$d/timeout.txt" || { echo "regen: $v: no test timeout" >&2; exit 1; }

	if [ "$v" = "$LOCAL_VERSION" ]; then
		GODEBUG=tracebacklabels=1 "$zoo" -mode dump2 -truth "$work/truth-labels.txt" >"$d/debug2-labels.txt"
		if [ "$long_wait" = 1 ]; then
			echo "   long wait: $LONG_WAIT_SECONDS s"
			GOTRACEBACK=all serve_quit "$zoo" "$d/long-wait.txt" "$LONG_WAIT_SECONDS"
		fi
	fi
	case " $LEAK_VERSIONS " in *" $v "*) serve_leak "$zoo" "$d" ;; esac
	ls -l "$d" | awk 'NR > 1 {printf "   %8d %s\n", $5, $9}'
done
du -sh "$here"
