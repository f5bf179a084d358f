#!/usr/bin/env bash
# Chat templates through `sova tokenize --chat`:
#  1. the tiny models' recorded chat prompts (reference.json p1_chat ids, made
#     by HF's apply_chat_template + tokenizer) are reproduced id for id;
#  2. the rendered prompt text equals jinja2's rendering of the template
#     (HF's settings) for several conversations, for the templates stored in
#     the fixture GGUFs (tiny ChatML, tiny Llama 3, real Qwen 3, real Llama 3)
#     and for public Gemma 3, Qwen 2.5 and Mistral v0.3 templates kept below.
set -u
sova="$SOVA_BIN"; fx="$SOVA_FIXTURES"; here="$SOVA_SRC/tests/text"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
python3 -c 'import jinja2' 2>/dev/null || { echo "jinja2 (python3) is needed for the reference prompts"; echo "0 passed, 1 failed"; exit 1; }

# 1. recorded prompt ids
echo '[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is 2+2? Answer briefly."}]' > "$tmp/p1_sys.json"
echo '[{"role":"user","content":"What is 2+2? Answer briefly."}]' > "$tmp/p1_user.json"
check_ids() { # model-dir gguf messages [template-name]
  local want got extra=()
  want=$(python3 -c "import json,sys; print(' '.join(map(str, json.load(open(sys.argv[1]))['prompts'][1]['ids'])))" "$fx/models/$1/reference.json")
  [ -n "${4:-}" ] && extra=(--chat-template "$4")
  got=$("$sova" tokenize -m "$fx/models/$1/$2" --chat "$3" "${extra[@]}")
  if [ "$got" = "$want" ]; then ok; else bad "p1_chat ids for $1: want [$want] got [$got]"; fi
}
check_ids qwen2 qwen2-F32.gguf "$tmp/p1_sys.json"
check_ids qwen3 qwen3-F32.gguf "$tmp/p1_sys.json"
check_ids llama llama-F32.gguf "$tmp/p1_user.json"
check_ids gemma3 gemma3-F32.gguf "$tmp/p1_user.json" gemma

# 2. prompt text against jinja2
cat > "$tmp/c1.json" <<'J'
[{"role":"system","content":"Be terse."},{"role":"user","content":"Hi there"}]
J
cat > "$tmp/c2.json" <<'J'
[{"role":"user","content":"  What is up? \n"},{"role":"assistant","content":" Not much.\n"},{"role":"user","content":"Tell me more <b>now</b>"}]
J
cat > "$tmp/c3.json" <<'J'
[{"role":"system","content":"sys"},{"role":"user","content":"q1"},{"role":"assistant","content":"<think>\nfirst reasoning\n</think>\n\nanswer one"},{"role":"user","content":"q2"},{"role":"assistant","content":"<think>r2</think>\n\nanswer two"}]
J
cat > "$tmp/c4.json" <<'J'
[{"role":"user","content":"Привет, 世界! 🦙"}]
J

cat > "$tmp/gemma3.jinja" <<'J'
{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
J
cat > "$tmp/qwen25.jinja" <<'J'
{%- if messages[0]['role'] == 'system' %}
    {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
{%- else %}
    {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant") %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
J
cat > "$tmp/mistral.jinja" <<'J'
{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message["role"] == "user" %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- endif %}
{%- endfor %}
J
python3 "$here/chat_ref.py" gguf-template "$fx/models/qwen2/qwen2-F32.gguf" > "$tmp/tiny-chatml.jinja"
python3 "$here/chat_ref.py" gguf-template "$fx/models/llama/llama-F32.gguf" > "$tmp/tiny-llama3.jinja"
python3 "$here/chat_ref.py" gguf-template "$fx/vocab/ggml-vocab-qwen2.gguf" > "$tmp/qwen3.jinja"
python3 "$here/chat_ref.py" gguf-template "$fx/vocab/ggml-vocab-llama3.gguf" > "$tmp/llama3.jinja"

# template-file model bos eos: the model supplies the vocabulary (BOS/EOS text).
check_text() {
  local tmpl=$1 model=$2 bos=$3 eos=$4 c gen want got
  for c in c1 c2 c3 c4; do
    for gen in 1 0; do
      local flag=(); [ $gen = 0 ] && flag=(--no-generation-prompt)
      if ! python3 "$here/chat_ref.py" render "$tmp/$tmpl.jinja" "$tmp/$c.json" "$bos" "$eos" $gen > "$tmp/want" 2>"$tmp/err"; then
        bad "$tmpl/$c: jinja2 failed: $(tail -1 "$tmp/err")"; continue
      fi
      "$sova" tokenize -m "$model" --chat "$tmp/$c.json" --chat-template-file "$tmp/$tmpl.jinja" --prompt "${flag[@]}" > "$tmp/got" 2>"$tmp/err" \
        || { bad "$tmpl/$c: sova failed: $(cat "$tmp/err")"; continue; }
      if cmp -s "$tmp/want" "$tmp/got"; then ok; else bad "$tmpl/$c gen=$gen:"; diff <(cat -A "$tmp/want") <(cat -A "$tmp/got") | head -8; fi
    done
  done
}
q=$fx/models/qwen2/qwen2-F32.gguf; l=$fx/models/llama/llama-F32.gguf; g=$fx/models/gemma3/gemma3-F32.gguf
check_text tiny-chatml "$q" "" "<|endoftext|>"
check_text qwen25 "$q" "" "<|endoftext|>"
check_text qwen3 "$q" "" "<|endoftext|>"
check_text tiny-llama3 "$l" "<|begin_of_text|>" "<|end_of_text|>"
check_text llama3 "$l" "<|begin_of_text|>" "<|end_of_text|>"
check_text gemma3 "$g" "<bos>" "<eos>"
check_text mistral "$l" "<|begin_of_text|>" "<|end_of_text|>"

# 3. errors: roles that do not alternate are refused, unknown names too.
echo '[{"role":"user","content":"a"},{"role":"user","content":"b"}]' > "$tmp/bad.json"
if "$sova" tokenize -m "$g" --chat "$tmp/bad.json" --chat-template gemma >/dev/null 2>"$tmp/err"; then bad "gemma accepted user,user"; else ok; fi
if "$sova" tokenize -m "$g" --chat "$tmp/c1.json" --chat-template nosuch >/dev/null 2>&1; then bad "unknown template name accepted"; else ok; fi
echo '{"messages": 3}' > "$tmp/bad2.json"
if "$sova" tokenize -m "$q" --chat "$tmp/bad2.json" >/dev/null 2>&1; then bad "bad messages JSON accepted"; else ok; fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
