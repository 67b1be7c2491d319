# bench/lib.sh: helpers shared by the benchmark scripts (sourced, not run).

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

# need_pkg COMMAND PACKAGE: makes sure COMMAND exists, installing the Debian
# PACKAGE when running as root; otherwise stops, naming the package.
need_pkg() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing Debian package $2"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    fi
    command -v "$1" >/dev/null 2>&1 || die "$1 missing: install the Debian package '$2'"
}
