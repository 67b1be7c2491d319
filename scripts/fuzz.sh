#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan+UBSan) and runs each for
# FUZZ_SECONDS (default 20), seeded with the committed captures and the bad
# inputs.  Crashes land in fuzz/artifacts/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
build=${FUZZ_BUILD:-build-fuzz}

CC=clang cmake -S . -B "$build" -DREEF_FUZZ=ON -DREEF_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target fuzz_gdump fuzz_pprof fuzz_buildinfo fuzz_metrics fuzz_expect fuzz_wconfig >/dev/null

status=0
for harness in gdump pprof buildinfo metrics expect wconfig; do
  corpus="$build/corpus-$harness"
  mkdir -p "$corpus" fuzz/artifacts
  # Seeds: the committed captures and bad inputs of the harness's format.
  case $harness in
  gdump) seeds=$(find tests/captures tests/bad -maxdepth 2 -type f -size -256k ! -path '*/pprof/*' ! -name '*.sh' 2>/dev/null) ;;
  pprof) seeds=$(find tests/captures/pprof tests/bad/pprof -type f -size -256k -name '*.pb*' 2>/dev/null) ;;
  buildinfo) seeds=$(find tests/data/buildinfo -type f -size -256k 2>/dev/null) ;;
  metrics) seeds=$(find tests/data/metrics -type f -size -256k 2>/dev/null) ;;
  expect) seeds=$(find tests/data/expect -type f 2>/dev/null) ;;
  wconfig)
    seeds=$(find tests/bad/watch -type f 2>/dev/null)
    # and the full example of docs/watch.md's Configuration section
    awk '/^## Configuration/{s=1} s&&/^```yaml/{f=1;next} f&&/^```/{exit} f' docs/watch.md >"$corpus/seed-docs-example.yaml" ;;
  esac
  # shellcheck disable=SC2086
  for f in $seeds fuzz/seeds/"$harness"/*; do
    if [ -f "$f" ]; then cp "$f" "$corpus/seed-$(echo "$f" | tr '/' '_')"; fi
  done
  echo "fuzz: $harness for ${seconds}s"
  if ! "$build/fuzz_$harness" "$corpus" -max_total_time="$seconds" -max_len=65536 \
      -rss_limit_mb=2048 -timeout=10 -artifact_prefix=fuzz/artifacts/ -print_final_stats=1 \
      >"$build/fuzz-$harness.log" 2>&1; then
    echo "fuzz: $harness FAILED; see $build/fuzz-$harness.log and fuzz/artifacts/" >&2
    tail -40 "$build/fuzz-$harness.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_runs|cov:" "$build/fuzz-$harness.log" | tail -2 | sed 's/^/fuzz: /'
  fi
done
exit $status
