#!/usr/bin/env bash
# `sova quantize` on the fixture F32 models: byte-identical with llama.cpp's
# llama-quantize output where the fixtures hold one, llama.cpp's per-tensor
# type mixes (hand-derived from its rules) elsewhere, thread-count
# independence, and clear errors for bad input.
set -u
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "failed: $*" >&2; }
check() { if "$@"; then ok; else bad "$*"; fi; }
M="$SOVA_FIXTURES/models"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# Name and type of every tensor, in file order.
types() { "$SOVA_BIN" gguf info --tensors "$1" | awk '$1 ~ /^[0-9]+$/ && NF >= 4 {print $2, $3}'; }

# 1. llama-quantize made these from the same F32 files: same bytes, whole file.
for ref in llama/llama-Q4_0 llama/llama-Q8_0 llama/llama-Q4_K_M llama/llama-Q5_K_M llama/llama-Q6_K \
           qwen2/qwen2-Q4_0 qwen2/qwen2-Q8_0 qwen2/qwen2-Q4_K_M; do
  model=${ref%%/*}; ty=${ref#*-}
  if "$SOVA_BIN" quantize -q "$M/$model/$model-F32.gguf" "$T/out.gguf" "$ty" 2 > "$T/log"; then ok; else bad "quantize $ref"; cat "$T/log" >&2; continue; fi
  check cmp -s "$T/out.gguf" "$M/$ref.gguf"
  check diff <(types "$T/out.gguf") <(types "$M/$ref.gguf")
done

# 2. Mixes without a llama.cpp file in the fixtures: the llama fixture has 2
#    layers, 4 heads over 2 KV heads (n_gqa 2), untied output.
expect_llama() { # TYPE then "name=type" overrides; other matrices get BASE, 1-D stay F32
  local ty=$1 base=$2; shift 2
  declare -A want=()
  for kv in "$@"; do want[${kv%%=*}]=${kv#*=}; done
  "$SOVA_BIN" quantize -q -t 2 "$M/llama/llama-F32.gguf" "$T/l.gguf" "$ty" > /dev/null || { bad "quantize llama $ty"; return; }
  local errs=0
  while read -r name got; do
    local exp=$base
    case $name in *_norm.weight|rope_freqs.weight) exp=F32 ;; esac
    [ -n "${want[$name]+x}" ] && exp=${want[$name]}
    [ "$got" = "$exp" ] || { echo "llama $ty: $name is $got, want $exp" >&2; errs=$((errs+1)); }
  done < <(types "$T/l.gguf")
  check test "$errs" -eq 0
  check test "$(types "$T/l.gguf" | wc -l)" -eq 22
}
expect_llama Q4_1 Q4_1 output.weight=Q6_K
expect_llama Q5_0 Q5_0 output.weight=Q6_K
expect_llama Q5_1 Q5_1 output.weight=Q6_K
expect_llama Q2_K Q2_K output.weight=Q6_K blk.0.attn_v.weight=Q3_K blk.1.attn_v.weight=Q3_K \
  blk.0.ffn_down.weight=Q3_K blk.1.ffn_down.weight=Q3_K blk.0.attn_output.weight=Q3_K blk.1.attn_output.weight=Q3_K
expect_llama Q3_K_S Q3_K output.weight=Q6_K
expect_llama Q3_K_M Q3_K output.weight=Q6_K blk.0.attn_v.weight=Q5_K blk.1.attn_v.weight=Q5_K \
  blk.0.ffn_down.weight=Q4_K blk.1.ffn_down.weight=Q4_K blk.0.attn_output.weight=Q4_K blk.1.attn_output.weight=Q4_K
expect_llama Q3_K_L Q3_K output.weight=Q6_K blk.0.attn_v.weight=Q5_K blk.1.attn_v.weight=Q5_K \
  blk.0.ffn_down.weight=Q5_K blk.1.ffn_down.weight=Q5_K blk.0.attn_output.weight=Q5_K blk.1.attn_output.weight=Q5_K
expect_llama Q4_K_S Q4_K output.weight=Q6_K blk.0.attn_v.weight=Q5_K blk.1.attn_v.weight=Q5_K
expect_llama Q5_K_S Q5_K output.weight=Q6_K
expect_llama F16 F16
expect_llama BF16 BF16
expect_llama F32 F32
expect_llama Q8_0 Q8_0 output.weight=Q8_0
expect_llama Q4_K_M Q4_K output.weight=Q6_K blk.1.attn_v.weight=Q6_K blk.1.ffn_down.weight=Q6_K
"$SOVA_BIN" quantize -q --pure "$M/llama/llama-F32.gguf" "$T/p.gguf" Q4_K_M > /dev/null; check test $? -eq 0
check test "$(types "$T/p.gguf" | awk '$2=="Q4_K"' | wc -l)" -eq 16

# 3. Tied embeddings (gemma3, qwen3 have no output.weight): token_embd takes
#    the output tensor's type.
for m in gemma3 qwen3; do
  "$SOVA_BIN" quantize -q "$M/$m/$m-F32.gguf" "$T/t.gguf" Q4_K_M > /dev/null; check test $? -eq 0
  check test "$(types "$T/t.gguf" | awk '$1=="token_embd.weight"{print $2}')" = Q6_K
  "$SOVA_BIN" quantize -q "$M/$m/$m-F32.gguf" "$T/t.gguf" Q8_0 > /dev/null; check test $? -eq 0
  check test "$(types "$T/t.gguf" | awk '$1=="token_embd.weight"{print $2}')" = Q8_0
  check test "$(types "$T/t.gguf" | awk '$1 ~ /norm/ && $2 != "F32"' | wc -l)" -eq 0
done

# 4. Keys: general.file_type is llama.cpp's number (u32 type 4, value 17 for
#    Q5_K_M) and comes last, after general.quantization_version; the rest is kept.
"$SOVA_BIN" quantize -q "$M/qwen3/qwen3-F32.gguf" "$T/k.gguf" Q5_K_M > /dev/null
u32_after() { local off; off=$(grep -obUa "$2" "$1" | tail -1 | cut -d: -f1); od -An -tu4 -j $((off + ${#2})) -N8 "$1" | tr -s ' ' | sed 's/^ //'; }
check test "$(u32_after "$T/k.gguf" general.file_type)" = "4 17"
check test "$(u32_after "$T/k.gguf" general.quantization_version)" = "4 2"
check test "$(grep -obUa 'general.file_type' "$T/k.gguf" | cut -d: -f1)" -gt "$(grep -obUa 'tokenizer.ggml.model' "$T/k.gguf" | cut -d: -f1)"
check diff <("$SOVA_BIN" gguf info "$M/qwen3/qwen3-F32.gguf" | sed -n '/^hyperparameters/,/^tensors/p' | grep -v '^tensors') \
           <("$SOVA_BIN" gguf info "$T/k.gguf" | sed -n '/^hyperparameters/,/^tensors/p' | grep -v '^tensors')

# 5. Same bytes with 1 and 2 threads.
"$SOVA_BIN" quantize -q -t 1 "$M/gemma3/gemma3-F32.gguf" "$T/a.gguf" Q3_K_M > /dev/null
"$SOVA_BIN" quantize -q -t 2 "$M/gemma3/gemma3-F32.gguf" "$T/b.gguf" Q3_K_M > /dev/null
check cmp -s "$T/a.gguf" "$T/b.gguf"

# 6. Errors: exit non-zero with a message, no output file left behind.
"$SOVA_BIN" quantize "$M/llama/llama-F32.gguf" "$T/e.gguf" Q9_9 > /dev/null 2>&1; check test $? -eq 2
"$SOVA_BIN" quantize "$T/missing.gguf" "$T/e.gguf" Q4_0 > /dev/null 2>&1; check test $? -eq 1
"$SOVA_BIN" quantize -q "$M/llama/llama-Q4_0.gguf" "$T/e.gguf" Q8_0 2> "$T/err" > /dev/null; check test $? -eq 1
check grep -q "allow-requantize" "$T/err"
check test ! -e "$T/e.gguf"
head -c 1000 "$M/llama/llama-F32.gguf" > "$T/trunc.gguf"
"$SOVA_BIN" quantize "$T/trunc.gguf" "$T/e.gguf" Q4_0 > /dev/null 2>&1; check test $? -eq 1
"$SOVA_BIN" quantize -q --allow-requantize "$M/llama/llama-Q8_0.gguf" "$T/r.gguf" Q4_0 > /dev/null; check test $? -eq 0
check test "$(types "$T/r.gguf" | awk '$2=="Q4_0"' | wc -l)" -eq 15

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
