#!/usr/bin/env bash
# `sova gguf` through the binary. Hashes are checked against independent
# tools (sha256sum, sha1sum, xxhsum, Python's hashlib) run on tensor bytes cut
# out of the file with dd at the offsets `sova gguf info --json` reports.
set -u
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "failed: $*" >&2; }
check() { if "$@"; then ok; else bad "$*"; fi; }

S="$SOVA_BIN"
FX="$SOVA_FIXTURES"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for sub in "" info hash manifest verify; do
  $S gguf $sub --help >/dev/null 2>&1; check test $? -eq 0
done
$S gguf no-such >/dev/null 2>&1; check test $? -eq 2
$S gguf hash >/dev/null 2>&1; check test $? -eq 2
$S gguf hash --bogus "$FX/models/llama/llama-F32.gguf" >/dev/null 2>&1; check test $? -eq 2
$S gguf hash --no-layer --no-model "$FX/models/llama/llama-F32.gguf" >/dev/null 2>&1; check test $? -eq 2

# tensor list as "name offset bytes" lines
tensor_table() { $S gguf info --json --tensors "$1" | python3 -c '
import json,sys
for t in json.load(sys.stdin)["tensors"]: print(t["name"], t["offset"], t["bytes"])'; }

cut_tensor() { dd if="$1" of="$2" bs=1M iflag=skip_bytes,count_bytes skip="$3" count="$4" status=none; }

for rel in models/llama/llama-Q4_K_M.gguf models/qwen25vl/mmproj-qwen25vl-F16.gguf models/gemma3/gemma3-F32.gguf; do
  F="$FX/$rel"
  $S gguf hash --all --xxh128 "$F" > "$T/out.txt"; check test $? -eq 0
  : > "$T/all.bin"
  n=0
  while read -r name off bytes; do
    cut_tensor "$F" "$T/t.bin" "$off" "$bytes"
    cat "$T/t.bin" >> "$T/all.bin"
    want_xxh64=$(xxhsum -H1 "$T/t.bin" 2>/dev/null | cut -d' ' -f1)
    want_xxh3=$(xxhsum -H3 "$T/t.bin" 2>/dev/null | sed 's/.*= //')
    want_xxh128=$(xxhsum -H2 "$T/t.bin" 2>/dev/null | cut -d' ' -f1)
    want_sha1=$(sha1sum "$T/t.bin" | cut -d' ' -f1)
    want_sha256=$(sha256sum "$T/t.bin" | cut -d' ' -f1)
    # llama-gguf-hash layout: algorithm left-aligned in 8 columns, 2 spaces, digest, 2 spaces, FILE:TENSOR
    expect=$(printf '%-8s  %s  %s:%s\n' xxh64 "$want_xxh64" "$F" "$name" xxh3 "$want_xxh3" "$F" "$name" \
             xxh128 "$want_xxh128" "$F" "$name" sha1 "$want_sha1" "$F" "$name" sha256 "$want_sha256" "$F" "$name")
    got=$(sed -n "$((n*5+1)),$((n*5+5))p" "$T/out.txt")
    if [ "$got" = "$expect" ]; then ok; else bad "$rel: tensor $name lines"; printf 'want:\n%s\ngot:\n%s\n' "$expect" "$got" >&2; fi
    n=$((n+1))
  done < <(tensor_table "$F")
  check test "$n" -gt 10
  expect=$(printf '%-8s  %s  %s\n' xxh64 "$(xxhsum -H1 "$T/all.bin" 2>/dev/null | cut -d' ' -f1)" "$F" \
           xxh3 "$(xxhsum -H3 "$T/all.bin" 2>/dev/null | sed 's/.*= //')" "$F" \
           xxh128 "$(xxhsum -H2 "$T/all.bin" 2>/dev/null | cut -d' ' -f1)" "$F" \
           sha1 "$(sha1sum "$T/all.bin" | cut -d' ' -f1)" "$F" \
           sha256 "$(sha256sum "$T/all.bin" | cut -d' ' -f1)" "$F")
  check test "$(tail -n 5 "$T/out.txt")" = "$expect"
  check test "$(wc -l < "$T/out.txt")" -eq $((n*5+5))

  # the same lines whatever the thread count
  for t in 1 2 3; do
    $S gguf hash -t $t --all --xxh128 "$F" | cmp -s - "$T/out.txt"; check test $? -eq 0
  done
  # default is xxh64; --no-layer keeps only the model line
  check test "$($S gguf hash "$F" | grep -c '^xxh64     ')" -eq $((n+1))
  check test "$($S gguf hash --no-layer --sha256 "$F")" = "$(printf '%-8s  %s  %s' sha256 "$(sha256sum "$T/all.bin" | cut -d' ' -f1)" "$F")"
  # --no-model keeps only the per-tensor lines
  $S gguf hash -t 2 --no-model --all --xxh128 "$F" | cmp -s - <(head -n $((n*5)) "$T/out.txt"); check test $? -eq 0
  # UUIDv5 over the namespace and the model data, computed by Python
  want_uuid=$(python3 -c '
import hashlib,sys,uuid
ns=uuid.UUID("ef001206-dadc-5f6d-a15f-3359e577d4e5")
d=hashlib.sha1(ns.bytes+open(sys.argv[1],"rb").read()).digest()
print(uuid.UUID(bytes=d[:16], version=5))' "$T/all.bin")
  check test "$($S gguf hash --uuid --no-layer "$F")" = "$(printf '%-8s  %s  %s' uuid "$want_uuid" "$F")"
done

# info: text and JSON
F="$FX/models/llama/llama-Q4_K_M.gguf"
info=$($S gguf info "$F"); check test $? -eq 0
check grep -q '^architecture: *llama$' <<< "$info"
check grep -q '^tensors: *22 (F32: 6, Q4_K: 13, Q6_K: 3)$' <<< "$info"
check grep -q 'block_count  *2$' <<< "$info"
check grep -q '^vocabulary: *611 tokens, model gpt2' <<< "$info"
check grep -q '^chat template: *yes$' <<< "$info"
check test "$($S gguf info --tensors "$F" | grep -c ' Q4_K ')" -eq 13
check test "$($S gguf info --json "$F" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["hyperparameters"]["embedding_length"], d["vocab_size"], d["chat_template"], d["tensor_types"]["Q6_K"])')" = "256 611 True 3"
check test "$($S gguf info --json "$FX/vocab/ggml-vocab-qwen2.gguf" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["tensor_count"], d["tokenizer_model"])')" = "0 gpt2"

# manifest + verify (JSON form)
cp "$F" "$T/m.gguf"
$S gguf manifest "$T/m.gguf" -o "$T/m.json"; check test $? -eq 0
check test "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["tensors"][0]; print(d["format"], d["file_size"], len(d["tensors"]), sorted(t))' "$T/m.json")" = \
  "sova-gguf-manifest 943648 22 ['bytes', 'file_offset', 'name', 'offset', 'sha256', 'shape', 'split', 'type', 'xxh64']"
check test "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["model"]["sha256"])' "$T/m.json")" = \
  "$($S gguf hash --sha256 --no-layer "$T/m.gguf" | awk '{print $2}')"
$S gguf manifest "$T/m.gguf" > "$T/m2.json"; check cmp -s "$T/m.json" "$T/m2.json"
$S gguf verify "$T/m.gguf" "$T/m.json" > "$T/v.txt"; check test $? -eq 0
check grep -q '^OK: 22 tensors' "$T/v.txt"
# flip one byte inside blk.1.ffn_up.weight
read -r _ off _ < <(tensor_table "$T/m.gguf" | grep '^blk.1.ffn_up.weight ')
printf '\x5a' | dd of="$T/m.gguf" bs=1 seek=$((off+100)) conv=notrunc status=none
$S gguf verify "$T/m.gguf" "$T/m.json" > "$T/v.txt"; check test $? -eq 1
check grep -q '^differs   blk.1.ffn_up.weight: xxh64' "$T/v.txt"
check grep -q '^differs   blk.1.ffn_up.weight: sha256' "$T/v.txt"
check test "$(grep -c '^differs' "$T/v.txt")" -eq 2
# another model: every tensor missing or extra
$S gguf verify "$FX/models/qwen2/qwen2-Q8_0.gguf" "$T/m.json" > "$T/v.txt"; check test $? -eq 1
check grep -q '^missing   rope_freqs.weight$' "$T/v.txt"
check grep -q '^extra     blk.0.attn_q.bias$' "$T/v.txt"

# verify against llama-gguf-hash's text form
$S gguf hash --all "$F" > "$T/m.txt"
$S gguf verify "$F" "$T/m.txt" > "$T/v.txt"; check test $? -eq 0
$S gguf verify "$T/m.gguf" "$T/m.txt" > "$T/v.txt"; check test $? -eq 1
check test "$(grep -c '^differs   blk.1.ffn_up.weight: ' "$T/v.txt")" -eq 4
check test "$(grep -c '^differs   (model): ' "$T/v.txt")" -eq 4
check test "$(grep -c '^differs' "$T/v.txt")" -eq 8
grep -v 'output_norm.weight' "$T/m.txt" > "$T/m3.txt"
$S gguf verify "$F" "$T/m3.txt" > "$T/v.txt"; check test $? -eq 1
check grep -q '^extra     output_norm.weight$' "$T/v.txt"
echo "garbage" > "$T/g.txt"
$S gguf verify "$F" "$T/g.txt" >/dev/null 2>&1; check test $? -eq 1

# broken input: a clean error naming the field and the byte
head -c 1000 "$F" > "$T/trunc.gguf"
err=$($S gguf info "$T/trunc.gguf" 2>&1); check test $? -eq 1
check grep -q "header.kv\[19\] 'tokenizer.ggml.tokens'.value at byte 849: " <<< "$err"
$S gguf hash "$T/trunc.gguf" >/dev/null 2>&1; check test $? -eq 1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
