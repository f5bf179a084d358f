#!/usr/bin/env bash
# `sova run` end to end on the reference models: greedy ids and text equal
# the recorded continuations, context shifting, errors; and (when the real
# Gemma 3 270M is present: $SOVA_SRC/models, see scripts/fetch-test-model.sh)
# English text from a real model.
set -u
sova="$SOVA_BIN"; fx="$SOVA_FIXTURES"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
ref() { # dir prompt-index field -> space separated ids
  python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['prompts'][int(sys.argv[2])]; print(' '.join(map(str,p[sys.argv[3]])))" \
    "$fx/models/$1/reference.json" "$2" "$3"
}
for m in llama qwen2 qwen3 gemma3; do
  for i in 0 1 2; do
    ids=$(ref $m $i ids); want=$(ref $m $i greedy)
    got=$("$sova" run -m "$fx/models/$m/$m-F32.gguf" --prompt-ids "$ids" --temp 0 -n 16 --ids --no-stats -t 2 2>&1)
    [ "$got" = "$want" ] && ok || bad "$m p$i: want [$want] got [$got]"
  done
done
# Text output is the detokenized greedy continuation.
want_text=$("$sova" tokenize -m "$fx/models/qwen2/qwen2-F32.gguf" --decode "$(ref qwen2 0 greedy)")
got_text=$("$sova" run -m "$fx/models/qwen2/qwen2-F32.gguf" --prompt-ids "$(ref qwen2 0 ids)" --temp 0 -n 16 --no-stats 2>&1)
[ "$got_text" = "$want_text" ] && ok || bad "text: want [$want_text] got [$got_text]"
# A context of 48 tokens with a 40-token prompt: 30 tokens need shifts.
out=$("$sova" run -m "$fx/models/llama/llama-F32.gguf" --prompt-ids "$(ref llama 0 ids)" --temp 0 -n 30 -c 48 --ids --no-stats 2>&1)
[ "$(echo "$out" | wc -w)" = 30 ] && ok || bad "context shift: [$out]"
[ "$(echo "$out" | cut -d' ' -f1-8)" = "$(ref llama 0 greedy | cut -d' ' -f1-8)" ] && ok || bad "shift changed the first tokens: [$out]"
if "$sova" run -m "$fx/models/llama/llama-F32.gguf" --prompt-ids "$(ref llama 0 ids)" --temp 0 -n 30 -c 48 --no-context-shift --no-stats > /dev/null 2>&1; then
  bad "full context without shift succeeded"; else ok; fi
# Seeded sampling repeats itself.
a=$("$sova" run -m "$fx/models/qwen2/qwen2-F32.gguf" -p "Hello" --seed 7 -n 12 --ids --no-stats 2>&1)
b=$("$sova" run -m "$fx/models/qwen2/qwen2-F32.gguf" -p "Hello" --seed 7 -n 12 --ids --no-stats 2>&1)
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "seeded runs differ: [$a] [$b]"
# Stats line on stderr.
"$sova" run -m "$fx/models/qwen2/qwen2-F32.gguf" -p "Hello" --temp 0 -n 4 2>&1 >/dev/null | grep -q "generation 4 tokens" && ok || bad "stats"
"$sova" run --help > /dev/null && ok || bad "--help"
if "$sova" run -m "$tmp/none.gguf" -p x > /dev/null 2>&1; then bad "missing model accepted"; else ok; fi
if "$sova" run -m "$fx/models/qwen2/qwen2-F32.gguf" --prompt-ids "99999" --no-stats > /dev/null 2>&1; then bad "bad id accepted"; else ok; fi
if "$sova" run -m "$fx/models/qwen2/qwen2-F32.gguf" -p x --temp nan > /dev/null 2>&1; then bad "bad --temp accepted"; else ok; fi
# The real Gemma 3 270M. The file is the pretrained model (no chat template,
# general.name without "it"): it answers a few-shot prompt, while the Gemma
# chat prompt only gets its question echoed, token for token what a float64
# reference over the same weights does (tests/model/data/gemma3_270m_ref.json,
# whose test_model_gemma3_270m checks the logits).
real="${SOVA_SRC:-.}/models/gemma-3-270m-q4_k_m.gguf"
if [ -s "$real" ]; then
  g3ref="${SOVA_SRC:-.}/tests/model/data/gemma3_270m_ref.json"
  g3() { # prompt-name field -> space separated values
    python3 -c "import json,sys; p=[p for p in json.load(open(sys.argv[1]))['prompts'] if p['name']==sys.argv[2]][0]; print(' '.join(map(str,p[sys.argv[3]])))" \
      "$g3ref" "$1" "$2"
  }
  fewshot=$(printf 'Q: What is the capital of Germany?\nA: Berlin\nQ: What is the capital of Italy?\nA: Rome\nQ: What is the capital of France?\nA:')
  out=$("$sova" run -m "$real" -p "$fewshot" --temp 0 -n 4 -c 256 --no-stats 2>&1)
  echo "gemma-3-270m few-shot: [$out]"
  case "$out" in " Paris"*) ok ;; *) bad "gemma-3-270m few-shot answer: [$out]" ;; esac
  [ "$("$sova" tokenize -m "$real" "$fewshot")" = "$(g3 fewshot ids)" ] && ok || bad "gemma-3-270m few-shot ids"
  # The chat prompt through --chat and the gemma template: the reference's
  # first 5 greedy tokens (its top-1 leads by >= 1.5 there), "What is the capital of".
  chat_ids=$("$sova" run -m "$real" --chat --chat-template gemma -p "What is the capital of France?" --temp 0 -n 5 \
    -c 256 --ids --no-stats 2>&1)
  want=$(g3 chat greedy | cut -d' ' -f1-5)
  [ "$chat_ids" = "$want" ] && ok || bad "gemma-3-270m chat: want [$want] got [$chat_ids]"
  # 16 tokens: llama.cpp's own greedy text (CPU, Q4_K_M) names France only at
  # the 13th, " the capital of the country. It is the largest city in France".
  out=$("$sova" run -m "$real" -p "The capital of France is" --temp 0 -n 16 -c 256 --no-stats 2>&1)
  echo "gemma-3-270m plain: [$out]"
  echo "$out" | grep -qi "france\|paris\|capital" && ok || bad "gemma-3-270m plain prompt: [$out]"
else
  echo "skip: $real absent (scripts/fetch-test-model.sh)"
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
