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

# wrk_ms DURATION: one of wrk's durations (us, ms, s, m, h) as "1.23 ms" or
# "4.56 s".
wrk_ms() {
    awk -v v="$1" 'BEGIN {
        x = v + 0
        if (v ~ /us$/) x /= 1000; else if (v ~ /ms$/) ; else if (v ~ /s$/) x *= 1000
        else if (v ~ /m$/) x *= 60000; else if (v ~ /h$/) x *= 3600000; else { print "-"; exit }
        if (x >= 1000) printf "%.2f s", x / 1000; else if (x >= 10) printf "%.0f ms", x; else printf "%.2f ms", x }'
}

# wrk_summary FILE: "REQ/S P50 P99 MAX" from the output of `wrk --latency`.
wrk_summary() {
    awk '
        $1 == "Latency" && NF >= 4 && !lat { max = $4; lat = 1 }
        $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
        $1 == "Requests/sec:" { rps = $2 }
        END { print rps, p50, p99, max }' "$1"
}
