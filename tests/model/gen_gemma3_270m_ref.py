#!/usr/bin/env python3
"""Reference logits for the real Gemma 3 270M GGUF (tests/model/data/gemma3_270m_ref.json).

An independent float64 numpy forward pass of the Gemma 3 text decoder, written
from the Hugging Face Gemma3ForCausalLM definition, over the GGUF's own
weights dequantized with the `gguf` PyPI package (so the reference and sova
see the same quantized numbers and differ only in arithmetic):
  embeddings x sqrt(n_embd); per layer RMSNorm -> q/k/v -> per-head RMSNorm of
  q and k -> NEOX rope (base 1e6 on every 6th layer, which attends to all
  positions; rope.freq_base_swa or 10000 on the others, which see the last
  sliding_window positions) -> softmax(q.k / sqrt(head width)) with one K/V head
  shared by the query heads -> o -> RMSNorm -> residual; RMSNorm -> GELU-tanh
  gated FFN -> RMSNorm -> residual; final RMSNorm; tied output (token_embd).
  The GGUF converter stored Gemma's RMSNorm (1 + w) as w + 1.
No soft-capping (the 270M has none).

Checked against transformers: `--check-fixture DIR` runs the same code on a
shared fixture (e.g. /work/shared/fixtures/models/gemma3, F32, HF fp32 logits
in p1_chat_logits.npy) and prints the largest difference.

`--ggml-rounding` rounds every matmul input to the 8-bit blocks ggml-style
dot products use (Q8_0 for Q5_0/Q8_0 weights, Q8_K for Q4_K/Q6_K) and keeps
K/V in f16, as sova's CPU path does: on this model that alone moves the
chat prompt's logits by up to ~1.1 against float64, and a relative change of
1e-6 in the inputs moves them by ~0.8 (a block's rounding flips), which is
why the test's tolerance is 1.5 and not 1e-3.

Produced with: python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy gguf
(gguf 0.19.0, numpy 2.4.6), then
  /tmp/venv/bin/python tests/model/gen_gemma3_270m_ref.py models/gemma-3-270m-q4_k_m.gguf \
      > tests/model/data/gemma3_270m_ref.json
Each prompt records the top-10 ids and logits after it, the 8 greedy tokens
(full recomputation per step) and each step's top-1 - top-2 logit margin.
Token ids are given here (not tokenized) so the test depends on the model code
alone; they are what sova's tokenizer (checked against the fixtures' vectors)
produces for the texts beside them, with BOS.
"""
import argparse
import hashlib
import json
import sys

import numpy as np
import gguf
from gguf.quants import dequantize

PROMPTS = [
    ("chat", "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n",
     [2, 105, 2364, 107, 3689, 563, 506, 5279, 529, 7001, 236881, 106, 107, 105, 4368, 107]),
    ("plain", "The capital of France is",
     [2, 818, 5279, 529, 7001, 563]),
    ("story", "Once upon a time, in a small village by the sea, there lived",
     [2, 14946, 3324, 496, 990, 236764, 528, 496, 1944, 9744, 684, 506, 5442, 236764, 993, 11742]),
]
# The file is the pretrained (not instruction-tuned) 270M: it answers in a
# few-shot pattern, where the chat prompt above only gets its question echoed.
FEWSHOT = "Q: What is the capital of Germany?\nA: Berlin\nQ: What is the capital of Italy?\nA: Rome\n" \
          "Q: What is the capital of France?\nA:"
PROMPTS.append(("fewshot", FEWSHOT,
                [2, 236935, 236787, 2900, 563, 506, 5279, 529, 9405, 236881, 107, 236776, 236787, 15687, 107,
                 236935, 236787, 2900, 563, 506, 5279, 529, 11702, 236881, 107, 236776, 236787, 13706, 107,
                 236935, 236787, 2900, 563, 506, 5279, 529, 7001, 236881, 107, 236776, 236787]))
# Longer than the 512-token sliding window, so local layers must mask what
# global layers see: "Count: 1, 2, 3, ..., 170, " (745 tokens; Gemma's
# tokenizer splits numbers into single digits).
DIGITS = [236771, 236770, 236778, 236800, 236812, 236810, 236825, 236832, 236828, 236819]
COUNT_IDS = [2, 4377, 236787, 236743]
for i in range(1, 171):
    COUNT_IDS += [DIGITS[int(c)] for c in str(i)] + [236764, 236743]
PROMPTS.append(("count", "Count: 1, 2, 3, ..., 170, ", COUNT_IDS))
N_TOP = 10
N_GREEDY = 8


def round_activations(x, qtype):
    Q = gguf.GGMLQuantizationType
    if qtype in (Q.Q4_0, Q.Q5_0, Q.Q8_0):  # Q8_0: 32 values, d = amax/127 kept as f16
        b = x.astype(np.float32).reshape(*x.shape[:-1], -1, 32)
        d = np.abs(b).max(-1, keepdims=True) / np.float32(127)
        inv = np.where(d > 0, np.float32(1) / np.where(d > 0, d, 1), 0).astype(np.float32)
        q = np.round(b * inv)
        return (q * d.astype(np.float16).astype(np.float64)).reshape(x.shape)
    if qtype in (Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K):  # Q8_K: 256 values, d = -max/127 in f32
        b = x.astype(np.float32).reshape(*x.shape[:-1], -1, 256)
        i = np.abs(b).argmax(-1)[..., None]
        mx = np.take_along_axis(b, i, -1)
        iscale = np.where(mx != 0, np.float32(-127) / np.where(mx != 0, mx, 1), 0).astype(np.float32)
        q = np.minimum(np.floor(iscale * b + np.float32(0.5)), 127)
        d = np.where(iscale != 0, np.float32(1) / np.where(iscale != 0, iscale, 1), 0).astype(np.float32)
        return (q * d).astype(np.float64).reshape(x.shape)
    return x


class Model:
    def __init__(self, path):
        self.r = gguf.GGUFReader(path)
        self.t = {x.name: x for x in self.r.tensors}
        arch = self.field("general.architecture")
        if arch != "gemma3":
            sys.exit(f"{path}: architecture {arch}, not gemma3")
        k = lambda s, d=None: self.field(f"gemma3.{s}", d)
        self.n_embd = k("embedding_length")
        self.n_layer = k("block_count")
        self.n_head = k("attention.head_count")
        self.n_kv = k("attention.head_count_kv", self.n_head)
        self.hd = k("attention.key_length", self.n_embd // self.n_head)
        self.eps = k("attention.layer_norm_rms_epsilon")
        self.base = k("rope.freq_base", 10000.0)
        self.base_swa = k("rope.freq_base_swa", 10000.0)
        self.window = k("attention.sliding_window")
        self.cache = {}
        self.ggml_rounding = False

    def field(self, key, default=None):
        f = self.r.fields.get(key)
        return default if f is None else f.contents()

    def w(self, name):
        if name not in self.cache:
            t = self.t[name]
            self.cache[name] = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float64)
        return self.cache[name]

    def mm(self, x, name):
        """x @ W.T; with ggml_rounding x is first rounded to the 8-bit block
        format ggml's dot products take for W's type (Q8_0 or Q8_K)."""
        if self.ggml_rounding:
            x = round_activations(x, self.t[name].tensor_type)
        return x @ self.w(name).T

    def rms(self, x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * w

    def rope(self, x, base):  # x [n, heads, hd]; NEOX: pairs (i, i + hd/2)
        n, half = x.shape[0], self.hd // 2
        inv = base ** (-np.arange(half, dtype=np.float64) * 2 / self.hd)
        ang = np.arange(n, dtype=np.float64)[:, None] * inv[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., :half], x[..., half:]
        return np.concatenate([a * c - b * s, b * c + a * s], -1)

    def forward(self, ids, all_rows=False):
        """Logits [n_vocab] after the last token of ids ([n, n_vocab] after each with all_rows)."""
        n, hd = len(ids), self.hd
        x = self.w("token_embd.weight")[ids] * np.sqrt(self.n_embd)
        dist = np.arange(n)[:, None] - np.arange(n)[None, :]
        for il in range(self.n_layer):
            p = f"blk.{il}."
            local = self.window and (il + 1) % 6 != 0
            h = self.rms(x, self.w(p + "attn_norm.weight"))
            q = self.mm(h, p + "attn_q.weight").reshape(n, self.n_head, hd)
            k = self.mm(h, p + "attn_k.weight").reshape(n, self.n_kv, hd)
            v = self.mm(h, p + "attn_v.weight").reshape(n, self.n_kv, hd)
            q = self.rope(self.rms(q, self.w(p + "attn_q_norm.weight")), self.base_swa if local else self.base)
            k = self.rope(self.rms(k, self.w(p + "attn_k_norm.weight")), self.base_swa if local else self.base)
            if self.ggml_rounding:  # an F16 KV cache
                k, v = k.astype(np.float16).astype(np.float64), v.astype(np.float16).astype(np.float64)
            allowed = (dist >= 0) & ((dist < self.window) if local else True)
            o = np.empty((n, self.n_head, hd))
            for hh in range(self.n_head):
                kh = hh // (self.n_head // self.n_kv)
                s = np.where(allowed, q[:, hh] @ k[:, kh].T / np.sqrt(hd), -np.inf)
                s = np.exp(s - s.max(-1, keepdims=True))
                o[:, hh] = (s / s.sum(-1, keepdims=True)) @ v[:, kh]
            a = self.mm(o.reshape(n, self.n_head * hd), p + "attn_output.weight")
            x = x + self.rms(a, self.w(p + "post_attention_norm.weight"))
            h = self.rms(x, self.w(p + "ffn_norm.weight"))
            g = self.mm(h, p + "ffn_gate.weight")
            g = 0.5 * g * (1 + np.tanh(np.sqrt(2 / np.pi) * (g + 0.044715 * g ** 3)))
            f = self.mm(g * self.mm(h, p + "ffn_up.weight"), p + "ffn_down.weight")
            x = x + self.rms(f, self.w(p + "post_ffw_norm.weight"))
        x = self.rms(x if all_rows else x[-1], self.w("output_norm.weight"))
        return self.mm(x, "output.weight" if "output.weight" in self.t else "token_embd.weight")


def check_fixture(d):
    ref = json.load(open(f"{d}/reference.json"))
    m = Model(f"{d}/gemma3-F32.gguf")
    for p in ref["prompts"]:
        hf = np.load(f"{d}/{p['logits_file']}")
        ids = p["ids"] + p["greedy"][:-1]
        got = m.forward(ids, all_rows=True)
        print(f"{p['name']}: max|ref - HF| = {np.abs(got - hf).max():.3g} (max|HF| {np.abs(hf).max():.3g})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gguf", nargs="?")
    ap.add_argument("--check-fixture", metavar="DIR")
    ap.add_argument("--ggml-rounding", action="store_true")
    a = ap.parse_args()
    if a.check_fixture:
        check_fixture(a.check_fixture)
        return
    if not a.gguf:
        ap.error("a GGUF path is required")
    m = Model(a.gguf)
    m.ggml_rounding = a.ggml_rounding
    sha = hashlib.sha256(open(a.gguf, "rb").read()).hexdigest()
    out = {"model": "gemma-3-270m-q4_k_m.gguf", "sha256": sha,
           "generator": "tests/model/gen_gemma3_270m_ref.py (float64 numpy, gguf dequantization)",
           "prompts": []}
    for name, text, ids in PROMPTS:
        lg = m.forward(ids)
        top = np.argsort(-lg)[:N_TOP]
        seq, margins, row = list(ids), [], lg
        for step in range(N_GREEDY):
            a, b = np.sort(row)[-2:]
            margins.append(round(float(b - a), 4))
            seq.append(int(np.argmax(row)))
            if step + 1 < N_GREEDY:
                row = m.forward(seq)
        out["prompts"].append({
            "name": name, "text": text, "ids": ids,
            "top_ids": [int(t) for t in top],
            "top_logits": [round(float(lg[t]), 5) for t in top],
            "greedy": seq[len(ids):],
            "greedy_margins": margins,
        })
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
