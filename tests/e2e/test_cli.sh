#!/usr/bin/env bash
# The command-line surface: version, help, usage errors and their statuses.
source "$(dirname "$0")/lib.sh"

run_reef --version
check "--version exits 0" eq "$RC" 0
check "--version prints the version" contains "$OUT" "reef 0."

run_reef help
check "help exits 0" eq "$RC" 0
check "help lists goroutines" contains "$OUT" "goroutines"

run_reef help goroutines
check "help goroutines exits 0" eq "$RC" 0
check "help goroutines documents --json" contains "$OUT" "--json"
check "help goroutines documents --similar" contains "$OUT" "--similar"

run_reef goroutines --help
check "goroutines --help exits 0" eq "$RC" 0
check "goroutines --help is the same text" contains "$OUT" "usage: reef goroutines"

run_reef
check "no command exits 2" eq "$RC" 2

run_reef frobnicate
check "unknown command exits 2" eq "$RC" 2
check "unknown command is named" contains "$ERR" "frobnicate"

run_reef help frobnicate
check "help for an unknown command exits 2" eq "$RC" 2

run_reef goroutines --no-such-flag x
check "unknown option exits 2" eq "$RC" 2
check "unknown option is named" contains "$ERR" "--no-such-flag"

run_reef goroutines --min-count
check "missing option value exits 2" eq "$RC" 2

run_reef goroutines --min-count -4 x
check "negative count exits 2" eq "$RC" 2
check "bad number is quoted" contains "$ERR" '"-4"'

run_reef goroutines --class nonsense x
check "unknown class exits 2" eq "$RC" 2

run_reef goroutines --match '(' "$REEF_SRC/tests/bad/nul-bytes.txt"
check "a broken --match regex exits 2" eq "$RC" 2

run_reef goroutines "$TMP/does-not-exist"
check "missing file exits 2" eq "$RC" 2
check "missing file is named" contains "$ERR" "does-not-exist"

run_reef goroutines "$TMP"
check "a directory exits 2" eq "$RC" 2
check "a directory is named" contains "$ERR" "is a directory"

run_reef goroutines a b
check "two inputs exit 2" eq "$RC" 2

pass
