#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time (default 30 s)
# from its seed corpus. Any crash, leak or timeout fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${FUZZ_SECONDS:-30}"
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOVA_FUZZ=ON
cmake --build build-fuzz
shopt -s nullglob
ran=0
for bin in build-fuzz/fuzz/fuzz_*; do
  name=$(basename "$bin")
  work="build-fuzz/corpus/$name"
  mkdir -p "$work"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds+=("fuzz/corpus/$name")
  echo "== $name for ${secs}s"
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 "$work" "${seeds[@]}" 2>&1 | tail -n 3
  ran=$((ran + 1))
done
echo "fuzz targets run: $ran"
