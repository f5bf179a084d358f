#!/usr/bin/env bash
# `sova tokenize` end to end: ids with and without BOS, special-token parsing,
# pieces, files, decoding, and errors for bad input.
set -u
sova="$SOVA_BIN"; fx="$SOVA_FIXTURES"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
expect() { # want cmd...
  local want=$1; shift
  local got; got=$("$@" 2>&1)
  if [ "$got" = "$want" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*: want [$want] got [$got]"; fi
}
l=$fx/models/llama/llama-F32.gguf; q=$fx/models/qwen2/qwen2-F32.gguf
# Ids from reference.json p0_plain (llama: BOS 600 first).
expect "600 39 375 320 11 384 270 597 0 526 71 68 220 452 72 498 371 360 86 77 293 78 87 220 73 84 328 82 220 78 542 489 220 310 89 88 220 426 70 13" \
  "$sova" tokenize -m "$l" "Hello, world! The quick brown fox jumps over the lazy dog."
expect "39 375 320 11" "$sova" tokenize -m "$l" --no-bos "Hello,"
expect "601 84 458 198" "$sova" tokenize -m "$q" --parse-special $'<|im_start|>user\n'
expect "$(printf '    39 '"'"'H'"'"'\n   374 '"'"'el'"'"'\n   320 '"'"'lo'"'"'')" "$sova" tokenize -m "$q" --pieces "Hello"
printf 'Hello,' > "$tmp/in.txt"
expect "39 374 320 11" "$sova" tokenize -m "$q" -f "$tmp/in.txt"
expect "Hello, world!" "$sova" tokenize -m "$q" --decode "39 374 320 11 382 270 592 0"
"$sova" tokenize --help > /dev/null && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: --help"; }
if "$sova" tokenize -m "$tmp/in.txt" "x" > /dev/null 2>&1; then fail=$((fail + 1)); echo "FAIL: non-GGUF accepted"; else pass=$((pass + 1)); fi
if "$sova" tokenize -m "$q" --decode "99999" > /dev/null 2>&1; then fail=$((fail + 1)); echo "FAIL: bad id accepted"; else pass=$((pass + 1)); fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
