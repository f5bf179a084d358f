#!/usr/bin/env bash
# `sova gguf synth`: the tensor names, shapes, counts and keys of real models.
# Parameter counts are the published ones (Qwen2.5-0.5B 494,032,768; Llama 3.1
# 8B 8,030,261,248 + the 64 rope factors); the Q4_K_M type counts are the ones
# llama.cpp's loader reports for llama-quantize'd files of those models.
set -u
pass=0; fail=0
check() { if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "failed: $*" >&2; fi; }
V="$SOVA_FIXTURES/vocab"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# 1. qwen2.5-0.5b written for real (Q4_0) and read back.
"$SOVA_BIN" gguf synth --like qwen2.5-0.5b --vocab "$V/ggml-vocab-qwen2.gguf" --type Q4_0 -o "$T/q.gguf" -t 2 > "$T/log"
check test $? -eq 0
"$SOVA_BIN" gguf info --tensors "$T/q.gguf" > "$T/info"; check test $? -eq 0
check grep -q "^tensors: *290 (F32: 121, Q4_0: 168, Q8_0: 1)" "$T/info"
check grep -q "^parameters: *494032768$" "$T/info"
check grep -q "^architecture: *qwen2$" "$T/info"
check grep -q "^vocabulary: *151936 tokens, model gpt2 (pre qwen2)" "$T/info"
for kv in "block_count 24" "context_length 32768" "embedding_length 896" "feed_forward_length 4864" \
          "attention.head_count 14" "attention.head_count_kv 2" "rope.freq_base 1e+06" \
          "attention.layer_norm_rms_epsilon 1e-06"; do
  check test "$(awk -v k="${kv% *}" '$1 == k {print $2}' "$T/info")" = "${kv#* }"
done
shape() { awk -v n="$1" '$2 == n { $1 = $2 = ""; sub(/^ +/, ""); print $1, $2, $3, $4 }' "$T/info"; }
check test "$(shape token_embd.weight)" = "Q8_0 896 x 151936"
check test "$(shape blk.0.attn_q.weight)" = "Q4_0 896 x 896"
check test "$(shape blk.0.attn_k.weight)" = "Q4_0 896 x 128"
check test "$(shape blk.0.attn_k.bias | cut -d' ' -f1-2)" = "F32 128"
check test "$(shape blk.23.ffn_down.weight)" = "Q4_0 4864 x 896"
check test "$(shape blk.23.ffn_up.weight)" = "Q4_0 896 x 4864"
check test "$(awk '$2 == "output.weight"' "$T/info" | wc -l)" -eq 0   # tied embeddings
# Weights look like N(0, 0.02): the Q4_0 scale of a block of 32 normals is
# max|x|/8 ~ 2.1 * 0.02 / 8 ~ 2^-7.6; the f16 exponent field of the first
# block's scale (biased by 15) must be 7 give or take one.
off=$(awk '$2 == "blk.0.attn_q.weight" {print $(NF-1)}' "$T/info")
scale=$(od -An -tx2 -j "$off" -N2 "$T/q.gguf" | tr -d ' ')
check test "$((16#$scale >> 10 & 31))" -ge 6
check test "$((16#$scale >> 10 & 31))" -le 8

# 2. The other models, planned without writing (sizes would be gigabytes).
plan() { "$SOVA_BIN" gguf synth --like "$1" --vocab "$V/$2" --type "$3" --dry-run; }
count() { awk -v t="$2" '$2 == t' "$1" | wc -l; }
plan llama-3.1-8b ggml-vocab-llama3.gguf Q4_K_M > "$T/p"; check test $? -eq 0
check grep -q "^292 tensors, 8030261312 parameters" "$T/p"
check test "$(count "$T/p" Q4_K) $(count "$T/p" Q6_K) $(count "$T/p" F32)" = "193 33 66"
check grep -Eq "^blk.31.ffn_down.weight +Q6_K +14336 x 4096" "$T/p"
check grep -Eq "^blk.0.attn_k.weight +Q4_K +4096 x 1024" "$T/p"
check grep -Eq "^rope_freqs.weight +F32 +64 x 1 " "$T/p"
check grep -Eq "^output.weight +Q6_K +4096 x 128256" "$T/p"
plan qwen2.5-7b ggml-vocab-qwen2.gguf Q4_K_M > "$T/p"; check test $? -eq 0
check grep -q "^339 tensors, 7615616512 parameters" "$T/p"
check test "$(count "$T/p" Q4_K) $(count "$T/p" Q6_K) $(count "$T/p" F32)" = "169 29 141"
check grep -Eq "^token_embd.weight +Q4_K +3584 x 152064" "$T/p"
plan qwen2.5-1.5b ggml-vocab-qwen2.gguf Q8_0 > "$T/p"; check test $? -eq 0
check grep -q "^338 tensors, 1543714304 parameters" "$T/p"
for g in "gemma-3-4b 444 2560 2048 1024 10240" "gemma-3-12b 626 3840 4096 2048 15360" \
         "gemma-3-27b 808 5376 4096 2048 21504"; do
  set -- $g
  plan "$1" ggml-vocab-llama3.gguf Q8_0 > "$T/p"; check test $? -eq 0
  check grep -q "^$2 tensors" "$T/p"
  check grep -Eq "^blk.0.attn_q.weight +Q8_0 +$3 x $4 " "$T/p"
  check grep -Eq "^blk.0.attn_k.weight +Q8_0 +$3 x $5 " "$T/p"
  check grep -Eq "^blk.0.ffn_down.weight +Q8_0 +$6 x $3 " "$T/p"
  check grep -Eq "^token_embd.weight +Q8_0 +$3 x 262208 " "$T/p"
  check grep -Eq "^blk.0.post_ffw_norm.weight +F32" "$T/p"
  check grep -Eq "^blk.0.attn_q_norm.weight +F32" "$T/p"
done

# 3. Errors.
"$SOVA_BIN" gguf synth --like qwen9 --vocab "$V/ggml-vocab-qwen2.gguf" --type Q4_0 -o "$T/x.gguf" 2> /dev/null; check test $? -eq 2
"$SOVA_BIN" gguf synth --like llama-3.1-8b --vocab "$V/ggml-vocab-qwen2.gguf" --type Q4_0 -o "$T/x.gguf" 2> "$T/err"; check test $? -eq 1
check grep -q "more than the model" "$T/err"
"$SOVA_BIN" gguf synth --like qwen2.5-0.5b --vocab "$T/missing.gguf" --type Q4_0 -o "$T/x.gguf" 2> /dev/null; check test $? -eq 1
"$SOVA_BIN" gguf synth --like qwen2.5-0.5b --vocab "$V/ggml-vocab-qwen2.gguf" --type Q7 -o "$T/x.gguf" 2> /dev/null; check test $? -eq 2
check test ! -e "$T/x.gguf"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
