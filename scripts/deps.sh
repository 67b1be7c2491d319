#!/usr/bin/env bash
# Installs the Debian packages reef needs to build and test, when missing.
# As root it runs apt-get; otherwise it names what to install and fails.
set -euo pipefail

# Package                 why
#   build-essential cmake   compiler and build
#   pkg-config              finds the libraries below
#   libcurl4-openssl-dev    HTTP(S) collector
#   zlib1g-dev              gzip-compressed pprof profiles
#   libelf-dev              Go build info from executables (ELF sections)
#   libyaml-dev             reef watch's configuration file
#   python3                 end-to-end tests check the SVG flame graph is well-formed XML
#   libcmocka-dev           unit tests
#   clang libclang-rt-14-dev  libFuzzer harnesses (make fuzz, and a bounded run in make test)
#   jq                      end-to-end tests read reef's JSON with it
#   golang (any Go)         fixtures are real Go programs; the machine's go is used if present
packages=(build-essential cmake pkg-config libcurl4-openssl-dev zlib1g-dev libelf-dev libyaml-dev libcmocka-dev clang libclang-rt-14-dev jq python3)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v go >/dev/null; then
  if [[ -x /usr/local/go/bin/go ]]; then
    :
  elif [[ $(id -u) -eq 0 ]]; then
    echo "deps: installing golang-go (the tests build real Go programs)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
  else
    echo "deps: no Go toolchain; the tests build real Go programs: sudo apt-get install golang-go" >&2
    exit 1
  fi
fi
