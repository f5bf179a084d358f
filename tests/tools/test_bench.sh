#!/usr/bin/env bash
# `sova bench` on a tiny fixture model: llama-bench's table with one row per
# test, positive speeds, the memory line; bad arguments and files fail cleanly.
set -u
pass=0; fail=0
check() { if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "failed: $*" >&2; fi; }
M="$SOVA_FIXTURES/models"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

"$SOVA_BIN" bench -m "$M/qwen2/qwen2-Q4_0.gguf" -p 32 -n 8 -r 2 -t 2 > "$T/out"; check test $? -eq 0
check grep -q '^| model .*size .*params .*backend .*threads .*test .*t/s' "$T/out"
row() { awk -F'|' -v t="$1" '{g=$7; gsub(/ /,"",g)} g == t' "$T/out"; }
check test "$(row pp32 | wc -l)" -eq 1
check test "$(row tg8 | wc -l)" -eq 1
check grep -q '| qwen2 1.3M Q4_0 ' "$T/out"
for t in pp32 tg8; do
  tps=$(row $t | awk -F'|' '{print $8}' | awk '{print $1}')
  check awk -v x="$tps" 'BEGIN { exit !(x > 0) }'
  check test "$(row $t | awk -F'|' '{gsub(/ /,"",$6); print $6}')" = 2
done
check grep -q '^memory: weights .* MiB, KV cache .* MiB, compute .* MiB, .*peak RSS .* MiB$' "$T/out"

"$SOVA_BIN" bench -m "$M/qwen2/qwen2-Q4_0.gguf" -p 0 -n 4 -r 1 > "$T/out"; check test $? -eq 0
check test "$(grep -c '| *tg4 *|' "$T/out")" -eq 1
check test "$(grep -c '| *pp' "$T/out")" -eq 0
"$SOVA_BIN" bench -m "$T/missing.gguf" > /dev/null 2>&1; check test $? -eq 1
"$SOVA_BIN" bench -m "$M/qwen2/qwen2-Q4_0.gguf" -p x > /dev/null 2>&1; check test $? -eq 2
"$SOVA_BIN" bench -m "$M/qwen2/qwen2-Q4_0.gguf" -p 0 -n 0 > /dev/null 2>&1; check test $? -eq 2
"$SOVA_BIN" bench > /dev/null 2>&1; check test $? -eq 2

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
