/* Shapes and hyperparameters of the models `sova gguf synth --like` knows,
 * from each model's published config.json. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_synth.h"

const synth_model synth_models[] = {
    /* Qwen2.5: biases on q/k/v, rope 1e6, small ones tie the output to the embedding. */
    {.name = "qwen2.5-0.5b", .arch = "qwen2", .label = "0.5B", .n_embd = 896, .n_layer = 24, .n_head = 14,
     .n_head_kv = 2, .head_dim = 64, .n_ff = 4864, .n_vocab = 151936, .n_ctx_train = 32768, .rope_theta = 1e6f,
     .rms_eps = 1e-6f, .tied_embeddings = true, .qkv_bias = true},
    {.name = "qwen2.5-1.5b", .arch = "qwen2", .label = "1.5B", .n_embd = 1536, .n_layer = 28, .n_head = 12,
     .n_head_kv = 2, .head_dim = 128, .n_ff = 8960, .n_vocab = 151936, .n_ctx_train = 32768, .rope_theta = 1e6f,
     .rms_eps = 1e-6f, .tied_embeddings = true, .qkv_bias = true},
    {.name = "qwen2.5-7b", .arch = "qwen2", .label = "7B", .n_embd = 3584, .n_layer = 28, .n_head = 28,
     .n_head_kv = 4, .head_dim = 128, .n_ff = 18944, .n_vocab = 152064, .n_ctx_train = 32768, .rope_theta = 1e6f,
     .rms_eps = 1e-6f, .tied_embeddings = false, .qkv_bias = true},
    /* Llama 3.1: rope 5e5 with the llama3 frequency scaling (factor 8, low 1, high 4, original 8192). */
    {.name = "llama-3.1-8b", .arch = "llama", .label = "8B", .n_embd = 4096, .n_layer = 32, .n_head = 32,
     .n_head_kv = 8, .head_dim = 128, .n_ff = 14336, .n_vocab = 128256, .n_ctx_train = 131072,
     .rope_theta = 5e5f, .rms_eps = 1e-5f, .rope_llama3_factor = 8.0f, .rope_llama3_low = 1.0f,
     .rope_llama3_high = 4.0f, .rope_llama3_orig_ctx = 8192},
    /* Gemma 3 (text part): 5 sliding-window layers (window 1024, rope 1e4) per global one (rope 1e6,
     * linear scaling 8), tied embeddings, q/k norms, pre and post norms. */
    {.name = "gemma-3-4b", .arch = "gemma3", .label = "4B", .n_embd = 2560, .n_layer = 34, .n_head = 8,
     .n_head_kv = 4, .head_dim = 256, .n_ff = 10240, .n_vocab = 262208, .n_ctx_train = 131072, .rope_theta = 1e6f,
     .rms_eps = 1e-6f, .tied_embeddings = true, .sliding_window = 1024, .rope_theta_swa = 1e4f,
     .rope_linear_factor = 8.0f},
    {.name = "gemma-3-12b", .arch = "gemma3", .label = "12B", .n_embd = 3840, .n_layer = 48, .n_head = 16,
     .n_head_kv = 8, .head_dim = 256, .n_ff = 15360, .n_vocab = 262208, .n_ctx_train = 131072, .rope_theta = 1e6f,
     .rms_eps = 1e-6f, .tied_embeddings = true, .sliding_window = 1024, .rope_theta_swa = 1e4f,
     .rope_linear_factor = 8.0f},
    {.name = "gemma-3-27b", .arch = "gemma3", .label = "27B", .n_embd = 5376, .n_layer = 62, .n_head = 32,
     .n_head_kv = 16, .head_dim = 128, .n_ff = 21504, .n_vocab = 262208, .n_ctx_train = 131072,
     .rope_theta = 1e6f, .rms_eps = 1e-6f, .tied_embeddings = true, .sliding_window = 1024,
     .rope_theta_swa = 1e4f, .rope_linear_factor = 8.0f},
    {.name = NULL},
};

const synth_model *synth_find_model(const char *name) {
    for (const synth_model *m = synth_models; m->name; m++)
        if (!strcmp(m->name, name)) return m;
    return NULL;
}

float synth_rope_llama3_factor(const synth_model *m, int i) {
    const double pi = 3.14159265358979323846;
    double freq = pow((double)m->rope_theta, -2.0 * i / m->head_dim);
    double wavelen = 2.0 * pi / freq;
    double low_wavelen = (double)m->rope_llama3_orig_ctx / m->rope_llama3_low;
    double high_wavelen = (double)m->rope_llama3_orig_ctx / m->rope_llama3_high;
    if (wavelen < high_wavelen) return 1.0f;
    if (wavelen > low_wavelen) return m->rope_llama3_factor;
    double smooth = (m->rope_llama3_orig_ctx / wavelen - m->rope_llama3_low) /
                    (m->rope_llama3_high - m->rope_llama3_low);
    return (float)(1.0 / ((1.0 - smooth) / m->rope_llama3_factor + smooth));
}

typedef struct {
    synth_tensor *t;
    int64_t n, cap;
} tensor_list;

static sv_status add(tensor_list *l, synth_init init, int64_t ne0, int64_t ne1, const char *fmt, int layer) {
    if (l->n == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 64;
        synth_tensor *t = realloc(l->t, (size_t)cap * sizeof *t);
        if (!t) return sv_error(SV_ERR_NOMEM, "out of memory");
        l->t = t;
        l->cap = cap;
    }
    synth_tensor *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, fmt, layer);
    t->n_dims = ne1 > 0 ? 2 : 1;
    t->ne[0] = ne0;
    t->ne[1] = ne1 > 0 ? ne1 : 1;
    t->ne[2] = t->ne[3] = 1;
    t->init = init;
    return SV_OK;
}

sv_status synth_model_tensors(const synth_model *m, synth_tensor **out, int64_t *n) {
    tensor_list l = {0};
    const int64_t e = m->n_embd, q = (int64_t)m->n_head * m->head_dim, kv = (int64_t)m->n_head_kv * m->head_dim;
    const bool gemma = !strcmp(m->arch, "gemma3");
    sv_status st = add(&l, SYNTH_INIT_NORMAL, e, m->n_vocab, "token_embd.weight", 0);
    if (!st) st = add(&l, SYNTH_INIT_ONES, e, 0, "output_norm.weight", 0);
    if (!st && !m->tied_embeddings) st = add(&l, SYNTH_INIT_NORMAL, e, m->n_vocab, "output.weight", 0);
    if (!st && m->rope_llama3_factor > 0) st = add(&l, SYNTH_INIT_ROPE_FREQS, m->head_dim / 2, 0, "rope_freqs.weight", 0);
    for (int i = 0; i < m->n_layer && !st; i++) {
        st = add(&l, SYNTH_INIT_ONES, e, 0, "blk.%d.attn_norm.weight", i);
        if (!st) st = add(&l, SYNTH_INIT_NORMAL, e, q, "blk.%d.attn_q.weight", i);
        if (!st) st = add(&l, SYNTH_INIT_NORMAL, e, kv, "blk.%d.attn_k.weight", i);
        if (!st) st = add(&l, SYNTH_INIT_NORMAL, e, kv, "blk.%d.attn_v.weight", i);
        if (!st) st = add(&l, SYNTH_INIT_NORMAL, q, e, "blk.%d.attn_output.weight", i);
        if (!st && m->qkv_bias) {
            st = add(&l, SYNTH_INIT_NORMAL, q, 0, "blk.%d.attn_q.bias", i);
            if (!st) st = add(&l, SYNTH_INIT_NORMAL, kv, 0, "blk.%d.attn_k.bias", i);
            if (!st) st = add(&l, SYNTH_INIT_NORMAL, kv, 0, "blk.%d.attn_v.bias", i);
        }
        if (!st && gemma) {
            st = add(&l, SYNTH_INIT_ONES, m->head_dim, 0, "blk.%d.attn_q_norm.weight", i);
            if (!st) st = add(&l, SYNTH_INIT_ONES, m->head_dim, 0, "blk.%d.attn_k_norm.weight", i);
            if (!st) st = add(&l, SYNTH_INIT_ONES, e, 0, "blk.%d.post_attention_norm.weight", i);
            if (!st) st = add(&l, SYNTH_INIT_ONES, e, 0, "blk.%d.post_ffw_norm.weight", i);
        }
        if (!st) st = add(&l, SYNTH_INIT_ONES, e, 0, "blk.%d.ffn_norm.weight", i);
        if (!st) st = add(&l, SYNTH_INIT_NORMAL, e, m->n_ff, "blk.%d.ffn_gate.weight", i);
        if (!st) st = add(&l, SYNTH_INIT_NORMAL, e, m->n_ff, "blk.%d.ffn_up.weight", i);
        if (!st) st = add(&l, SYNTH_INIT_NORMAL, m->n_ff, e, "blk.%d.ffn_down.weight", i);
    }
    if (st) {
        free(l.t);
        return st;
    }
    *out = l.t;
    *n = l.n;
    return SV_OK;
}

static sv_status set_arch_u32(gguf_writer *w, const synth_model *m, const char *suffix, uint32_t v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    return gguf_writer_set_u32(w, key, v);
}

static sv_status set_arch_f32(gguf_writer *w, const synth_model *m, const char *suffix, float v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    return gguf_writer_set_f32(w, key, v);
}

sv_status synth_model_keys(const synth_model *m, gguf_writer *w) {
    char name[128];
    snprintf(name, sizeof name, "%s (synthetic, random weights)", m->name);
    sv_status st = gguf_writer_set_str(w, "general.architecture", m->arch);
    if (!st) st = gguf_writer_set_str(w, "general.type", "model");
    if (!st) st = gguf_writer_set_str(w, "general.name", name);
    if (!st) st = gguf_writer_set_str(w, "general.size_label", m->label);
    if (!st) st = set_arch_u32(w, m, "block_count", (uint32_t)m->n_layer);
    if (!st) st = set_arch_u32(w, m, "context_length", (uint32_t)m->n_ctx_train);
    if (!st) st = set_arch_u32(w, m, "embedding_length", (uint32_t)m->n_embd);
    if (!st) st = set_arch_u32(w, m, "feed_forward_length", (uint32_t)m->n_ff);
    if (!st) st = set_arch_u32(w, m, "attention.head_count", (uint32_t)m->n_head);
    if (!st) st = set_arch_u32(w, m, "attention.head_count_kv", (uint32_t)m->n_head_kv);
    if (!st) st = set_arch_f32(w, m, "rope.freq_base", m->rope_theta);
    if (!st && m->rope_theta_swa > 0) st = set_arch_f32(w, m, "rope.freq_base_swa", m->rope_theta_swa);
    if (!st) st = set_arch_f32(w, m, "attention.layer_norm_rms_epsilon", m->rms_eps);
    /* The converter writes head sizes only where they differ from n_embd / n_head. */
    if (!st && m->head_dim * m->n_head != m->n_embd) {
        st = set_arch_u32(w, m, "attention.key_length", (uint32_t)m->head_dim);
        if (!st) st = set_arch_u32(w, m, "attention.value_length", (uint32_t)m->head_dim);
    }
    if (!st && !strcmp(m->arch, "llama")) {
        st = set_arch_u32(w, m, "vocab_size", (uint32_t)m->n_vocab);
        if (!st) st = set_arch_u32(w, m, "rope.dimension_count", (uint32_t)m->head_dim);
    }
    if (!st && m->sliding_window > 0) st = set_arch_u32(w, m, "attention.sliding_window", (uint32_t)m->sliding_window);
    if (!st && m->rope_linear_factor > 0) {
        char key[128];
        snprintf(key, sizeof key, "%s.rope.scaling.type", m->arch);
        st = gguf_writer_set_str(w, key, "linear");
        if (!st) st = set_arch_f32(w, m, "rope.scaling.factor", m->rope_linear_factor);
    }
    return st;
}
