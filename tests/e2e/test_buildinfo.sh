#!/usr/bin/env bash
# reef buildinfo against `go version -m` on real Go executables: the
# fixtures; a program with a dependency (from a local file proxy, so with a
# go.sum hash), a local replacement, build tags and vcs stamps; -race; -s -w
# and -trimpath; `strip`; the section table renamed or removed (the segment
# scan); 32-bit and big-endian cross builds; older Go toolchains; live
# processes by PID.  The text must be go's, line for line, and --json must
# hold go's figures (go version -m -json).  Then the inputs that are not Go
# executables: exit 2 and a message naming them.
source "$(dirname "$0")/lib.sh"
build_fixtures

# Builds here never reach the network, except for an old toolchain (below).
export GOFLAGS=-modcacherw GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOMODCACHE=$TMP/modcache
export GOCACHE=${GOCACHE:-$(go env GOCACHE)}

# The jq programs that bring both JSON forms to one shape.
JQ_GO='def mod: {path: (.Path // ""), version: (.Version // ""), sum: (.Sum // ""),
                 replace: (if .Replace then (.Replace | {path: (.Path // ""), version: (.Version // ""), sum: (.Sum // "")}) else null end)};
       {go: .GoVersion, path: (.Path // ""), main: (.Main // {} | mod), deps: [(.Deps // [])[] | mod],
        settings: [(.Settings // [])[] | {key: .Key, value: (.Value // "")}]}'
JQ_REEF='def mod: {path: (.path // ""), version: (.version // ""), sum: (.sum // ""),
                   replace: (if .replace then (.replace | {path, version, sum}) else null end)};
         {go: .go_version, path: (.path // ""), main: (.main // {} | mod), deps: [.deps[] | mod],
          settings: [.settings | to_entries[] | {key, value}]}'

compared=0
# compare WHAT FILE [REEF_ARG]: reef buildinfo REEF_ARG (default FILE)
# prints what go version -m FILE prints (the first line's name aside), and
# its JSON holds the same figures.
compare() {
  local what=$1 file=$2 arg=${3:-$2}
  go version -m "$file" >"$TMP/go.txt" 2>"$TMP/go.err" || { cat "$TMP/go.err" >&2; fail "$what: go version -m failed"; }
  run_reef buildinfo "$arg"
  check "$what: exit 0" eq "$RC" 0
  check "$what: first line" eq "${OUT%%$'\n'*}" "$arg: $(head -1 "$TMP/go.txt" | sed 's/^.*: //')"
  local ours theirs
  ours=$(tail -n +2 "$TMP/out")
  theirs=$(tail -n +2 "$TMP/go.txt")
  [[ "$ours" == "$theirs" ]] || diff <(echo "$theirs") <(echo "$ours") | head -20 >&2
  check "$what: text = go version -m" eq "$ours" "$theirs"
  check "$what: module lines present" test "$(echo "$theirs" | wc -l)" -ge 3
  go version -m -json "$file" | jq -c "$JQ_GO" >"$TMP/go.json"
  "$REEF" buildinfo --json "$arg" >"$TMP/reef.json"
  check "$what: --json = go version -m -json" eq "$(jq -c "$JQ_REEF" "$TMP/reef.json")" "$(cat "$TMP/go.json")"
  check "$what: --json file" eq "$(jq -r .file "$TMP/reef.json")" "$file"
  compared=$((compared + 1))
}

# ---- the fixtures (CGO_ENABLED=0, no vcs stamp) ----
for f in "$FIXTURES"/*; do
  [[ -f $f && -x $f ]] && compare "fixture $(basename "$f")" "$f"
done

# ---- a module of our own ----
# example.com/dep v1.0.0 comes from a file proxy (so go.sum holds its hash);
# example.com/lib is replaced by a local directory.
mkdir -p "$TMP/proxy/example.com/dep/@v" "$TMP/zip/example.com/dep@v1.0.0" "$TMP/src/lib" "$TMP/src/app"
printf 'module example.com/dep\n\ngo 1.19\n' | tee "$TMP/zip/example.com/dep@v1.0.0/go.mod" >"$TMP/proxy/example.com/dep/@v/v1.0.0.mod"
printf 'package dep\n\nfunc Name() string { return "dep" }\n' >"$TMP/zip/example.com/dep@v1.0.0/dep.go"
(cd "$TMP/zip" && python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for f in ("go.mod", "dep.go"): z.write("example.com/dep@v1.0.0/" + f)' "$TMP/proxy/example.com/dep/@v/v1.0.0.zip")
echo '{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}' >"$TMP/proxy/example.com/dep/@v/v1.0.0.info"
echo v1.0.0 >"$TMP/proxy/example.com/dep/@v/list"
printf 'module example.com/lib\n\ngo 1.19\n' >"$TMP/src/lib/go.mod"
printf 'package lib\n\nfunc Name() string { return "lib" }\n' >"$TMP/src/lib/lib.go"
cat >"$TMP/src/app/go.mod" <<'EOF'
module example.com/app

go 1.19

require (
	example.com/dep v1.0.0
	example.com/lib v1.2.3
)

replace example.com/lib => ../lib
EOF
cat >"$TMP/src/app/main.go" <<'EOF'
package main

import (
	"fmt"
	"os"
	"time"

	"example.com/dep"
	"example.com/lib"
)

var msg = "hello"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "sleep" {
		fmt.Println("ready")
		time.Sleep(time.Hour)
	}
	fmt.Println(msg, dep.Name(), lib.Name(), tag)
}
EOF
printf '//go:build extra\n\npackage main\n\nconst tag = "extra"\n' >"$TMP/src/app/tag_on.go"
printf '//go:build !extra\n\npackage main\n\nconst tag = "plain"\n' >"$TMP/src/app/tag_off.go"
cd "$TMP/src/app"
GOPROXY=file://$TMP/proxy go mod download example.com/dep
GOPROXY=file://$TMP/proxy go mod tidy >/dev/null 2>&1 || GOPROXY=file://$TMP/proxy go get example.com/dep@v1.0.0
check "go.sum holds the dependency's hash" grep -q '^example.com/dep v1.0.0 h1:' go.sum
# vcs stamps: a git repository around the module, with a modified file.
vcs=false
if command -v git >/dev/null; then
  git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm init && echo '// changed' >>main.go
  vcs=true
else
  echo "skip: no git, so no vcs stamps" >&2
fi

B=$TMP/bin
mkdir -p "$B"
go build -o "$B/app" .
compare "module with a dependency, a replacement and vcs stamps" "$B/app"
$vcs && check "vcs stamps present" contains "$OUT" $'\tbuild\tvcs.modified=true'
check "the replacement is shown" contains "$OUT" $'\tdep\texample.com/lib\tv1.2.3\n\t=>\t../lib\t(devel)\t'
check "the proxied dependency's sum" contains "$OUT" $'\tdep\texample.com/dep\tv1.0.0\th1:'
check "--json: the replacement" eq "$(jq -r '.deps[] | select(.path == "example.com/lib") | .replace.path' "$TMP/reef.json")" "../lib"
check "--json: a setting" eq "$(jq -r '.settings.GOOS' "$TMP/reef.json")" "linux"

# cmd/go splits flags at spaces outside quotes (no escapes); the stored
# value then needs Go quoting with escaped quotes.
go build -buildvcs=false -tags 'extra netgo' -gcflags='all=-N -l' -ldflags="-X 'main.msg=a \"quoted\" text'" -o "$B/tags" .
compare "build tags, -gcflags and -ldflags with spaces and quotes" "$B/tags"
check "the tags line" contains "$OUT" $'\tbuild\t-tags=extra,netgo'
check "a quoted -ldflags" contains "$OUT" $'\tbuild\t'"-ldflags=\"-X 'main.msg=a \\\"quoted\\\" text'\""
check "--json: -ldflags unquoted" eq "$(jq -r '.settings["-ldflags"]' "$TMP/reef.json")" "-X 'main.msg=a \"quoted\" text'"
check "the tagged file was built in" eq "$("$B/tags")" 'a "quoted" text dep lib extra'

CGO_ENABLED=1 go build -buildvcs=false -race -o "$B/race" .
compare "-race (cgo)" "$B/race"
check "-race recorded" contains "$OUT" $'\tbuild\t-race=true'

go build -buildvcs=false -trimpath -ldflags='-s -w' -o "$B/stripped" .
compare "-trimpath -ldflags='-s -w'" "$B/stripped"

cp "$B/app" "$B/strip-all"
strip --strip-all "$B/strip-all"
compare "strip --strip-all" "$B/strip-all"

# No .go.buildinfo section: reef scans the first writable segment, as go.
objcopy --rename-section .go.buildinfo=.renamed "$B/app" "$B/renamed"
check "the section is renamed" bash -c "! readelf -SW '$B/renamed' | grep -q go.buildinfo"
compare "section renamed (segment scan)" "$B/renamed"
noshdr() { # drops the section header table from the ELF header
  python3 - "$1" <<'EOF'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    h = bytearray(f.read(64))
    e = "<" if h[5] == 1 else ">"
    shoff, shnum = (0x28, 0x3C) if h[4] == 2 else (0x20, 0x30)
    struct.pack_into(e + ("Q" if h[4] == 2 else "I"), h, shoff, 0)
    struct.pack_into(e + "HH", h, shnum, 0, 0)
    f.seek(0)
    f.write(h)
EOF
}
cp "$B/app" "$B/noshdr"
noshdr "$B/noshdr"
check "no section table left" bash -c "readelf -hW '$B/noshdr' | grep -q 'Number of section headers: *0'"
compare "no section table (segment scan)" "$B/noshdr"

# GOPATH mode: a path, settings, no main module.
mkdir -p "$TMP/gopath/src/hello"
printf 'package main\n\nfunc main() {}\n' >"$TMP/gopath/src/hello/main.go"
(cd "$TMP/gopath/src/hello" && GOPATH=$TMP/gopath GO111MODULE=off GOFLAGS= go build -o "$B/gopath" .)
compare "GOPATH mode (no main module)" "$B/gopath"
check "GOPATH mode: --json main is null" eq "$(jq -c .main "$TMP/reef.json")" null

# ---- other architectures: 32-bit and big-endian ELF ----
for target in 386 mips ppc64; do # 32-bit LE, 32-bit BE, 64-bit BE
  GOARCH=$target go build -buildvcs=false -o "$B/app-$target" .
  compare "GOARCH=$target" "$B/app-$target"
  if [[ $target == mips ]]; then
    cp "$B/app-mips" "$B/noshdr-mips"
    noshdr "$B/noshdr-mips"
    compare "GOARCH=mips, no section table" "$B/noshdr-mips"
  fi
done

# ---- older toolchains (from the module cache, else the Go proxy) ----
go mod vendor
old=0
for v in go1.19.13 go1.22.12; do
  if GOTOOLCHAIN=$v GOPROXY=https://proxy.golang.org GOSUMDB=sum.golang.org GOMODCACHE=$(GOMODCACHE= go env GOMODCACHE) \
    GOFLAGS="-mod=vendor -modcacherw -buildvcs=false" timeout 240 go build -o "$B/app-$v" . 2>"$TMP/old.err"; then
    compare "built by $v" "$B/app-$v"
    check "$v recorded" eq "$(head -1 "$TMP/out")" "$B/app-$v: $v"
    old=$((old + 1))
  else
    echo "skip: cannot build with $v (toolchain not cached and not downloadable?): $(tail -1 "$TMP/old.err")" >&2
  fi
done
rm -rf vendor

# ---- live processes, by PID ----
"$B/app" sleep >"$TMP/sleep.out" &
PID=$!
_pids+=("$PID")
for _ in $(seq 100); do [[ -s $TMP/sleep.out ]] && break; sleep 0.1; done
compare "a live process by PID" "/proc/$PID/exe" "$PID"
check "--json pid" eq "$(jq -r .pid "$TMP/reef.json")" "$PID"
# The executable deleted while the process runs: /proc/PID/exe still reads.
cp "$B/app" "$B/gone"
"$B/gone" sleep >"$TMP/gone.out" &
GONE=$!
_pids+=("$GONE")
for _ in $(seq 100); do [[ -s $TMP/gone.out ]] && break; sleep 0.1; done
rm "$B/gone"
compare "a process whose executable was deleted" "/proc/$GONE/exe" "$GONE"
start_fixture leakyservice
compare "the leakyservice fixture, live" "/proc/$PID/exe" "$PID"
cd "$TMP"

# ---- not Go executables ----
expect_bad() { # WHAT WORDS... -- ARGS...
  local what=$1
  shift
  local words=()
  while [[ $1 != -- ]]; do words+=("$1"); shift; done
  shift
  run_reef buildinfo "$@"
  check "$what: exit 2" eq "$RC" 2
  check "$what: nothing on stdout" eq "$OUT" ""
  local w
  for w in "${words[@]}"; do check "$what: message says \"$w\"" contains "$ERR" "$w"; done
}
: >"$TMP/empty"
echo "hello, world" >"$TMP/text.txt"
head -c 300000 "$B/app" >"$TMP/truncated"
cp "$B/app" "$TMP/old-format"
off=$(readelf -SW "$B/app" | sed -n 's/.*\.go\.buildinfo *[A-Z]* *[0-9a-f]* *\([0-9a-f]*\) .*/\1/p')
check "found .go.buildinfo's offset" test -n "$off"
printf '\000' | dd of="$TMP/old-format" bs=1 seek=$((0x$off + 15)) conv=notrunc status=none
cp "$B/app" "$TMP/lying"
printf '\377\377\377\377\017' | dd of="$TMP/lying" bs=1 seek=$((0x$off + 32)) conv=notrunc status=none
expect_bad "empty file" "reef: $TMP/empty: not an ELF executable (empty file)" -- "$TMP/empty"
expect_bad "text file" "reef: $TMP/text.txt: not an ELF executable" -- "$TMP/text.txt"
expect_bad "truncated Go binary" "reef: $TMP/truncated: not a valid ELF file (truncated or corrupt)" -- "$TMP/truncated"
expect_bad "non-Go ELF" "reef: /bin/true: not a Go executable" -- /bin/true
expect_bad "directory" "reef: $TMP: is a directory" -- "$TMP"
expect_bad "missing file" "reef: $TMP/nope: cannot open: No such file or directory" -- "$TMP/nope"
expect_bad "pre-1.18 pointer format" "reef: $TMP/old-format: offset $((0x$off)):" "built before Go 1.18" -- "$TMP/old-format"
expect_bad "a length past the end" "reef: $TMP/lying: offset $((0x$off + 37)): Go version claims 4294967295 bytes" -- "$TMP/lying"
expect_bad "no such process" "reef: 4194305000: no such process" -- 4194305000
sleep 60 &
NOTGO=$!
_pids+=("$NOTGO")
expect_bad "a process that is not Go" "reef: process $NOTGO: /proc/$NOTGO/exe: not a Go executable" -- "$NOTGO"

# Several inputs: the good ones are printed, the status says one failed.
run_reef buildinfo "$B/app" /bin/true "$FIXTURES/zoo"
check "mixed inputs: exit 2" eq "$RC" 2
check "mixed inputs: both Go files printed" eq "$(grep -c $'^[^\t]' "$TMP/out")" 2
check "mixed inputs: one message" eq "$(wc -l <"$TMP/err")" 1
run_reef buildinfo --json "$B/app" "$FIXTURES/zoo"
check "--json with two inputs: two objects" eq "$(jq -s length "$TMP/out")" 2

# Usage.
run_reef buildinfo
check "no arguments: exit 2" eq "$RC" 2
check "no arguments: usage" contains "$ERR" "usage: reef buildinfo"
run_reef buildinfo --bogus "$B/app"
check "unknown option: exit 2" eq "$RC" 2
run_reef help buildinfo
check "help buildinfo" contains "$OUT" "FILE|PID"
run_reef help
check "listed in reef help" contains "$OUT" "buildinfo"

echo "cross-checked $compared executables with go version -m ($old old toolchains)"
check "at least 20 executables cross-checked" test "$compared" -ge 20
pass
