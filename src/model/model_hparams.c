/* Hyperparameters from the {arch}.* keys, with the defaults llama.cpp applies
 * when a converter left a key out. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/model.h"
#include "tensor/graph.h"

static const model_arch_def *const k_arch_defs[MODEL_ARCH_COUNT] = {
    [MODEL_ARCH_LLAMA] = &model_arch_llama,
    [MODEL_ARCH_QWEN2] = &model_arch_qwen2,
    [MODEL_ARCH_QWEN3] = &model_arch_qwen3,
    [MODEL_ARCH_GEMMA3] = &model_arch_gemma3,
};

const model_arch_def *model_arch_get(model_arch a) {
    return a >= 0 && a < MODEL_ARCH_COUNT ? k_arch_defs[a] : NULL;
}

const char *model_arch_name(model_arch a) {
    return a >= 0 && a < MODEL_ARCH_COUNT ? k_arch_defs[a]->name : "?";
}

bool model_layer_is_swa(const model_hparams *hp, int32_t il) {
    if (hp->n_swa <= 0) return false;
    if (hp->swa_pattern <= 1) return true;
    return il % hp->swa_pattern < hp->swa_pattern - 1;
}

static bool key_u32(const gguf_file *f, const char *arch, const char *suffix, uint32_t *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return gguf_get_u32(f, key, out);
}

static bool key_f32(const gguf_file *f, const char *arch, const char *suffix, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return gguf_get_f32(f, key, out);
}

static const char *key_str(const gguf_file *f, const char *arch, const char *suffix) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return gguf_get_str(f, key);
}

/* A required positive count that fits int32 with room for products. */
static sv_status need_count(const gguf_file *f, const char *arch, const char *suffix, int32_t max, int32_t *out) {
    uint32_t v;
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!gguf_get_u32(f, key, &v)) {
        if (gguf_get(f, key)) return sv_error(SV_ERR_UNSUPPORTED, "key %s is not a single integer", key);
        return sv_error(SV_ERR_FORMAT, "missing key %s", key);
    }
    if (v == 0 || v > (uint32_t)max) return sv_error(SV_ERR_FORMAT, "key %s = %u is out of range", key, v);
    *out = (int32_t)v;
    return SV_OK;
}

static sv_status opt_count(const gguf_file *f, const char *arch, const char *suffix, int32_t max, int32_t dflt,
                           int32_t *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!gguf_get(f, key)) {
        *out = dflt;
        return SV_OK;
    }
    return need_count(f, arch, suffix, max, out);
}

sv_status model_read_hparams(const gguf_file *f, model_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    const char *arch = gguf_get_str(f, "general.architecture");
    if (!arch) return sv_error(SV_ERR_FORMAT, "missing key general.architecture");
    int a = 0;
    while (a < MODEL_ARCH_COUNT && strcmp(k_arch_defs[a]->name, arch) != 0) a++;
    if (a == MODEL_ARCH_COUNT)
        return sv_error(SV_ERR_UNSUPPORTED, "unknown architecture '%s' (sova runs llama, qwen2, qwen3, gemma3)",
                        arch);
    hp->arch = (model_arch)a;

    enum { BIG = 1 << 24, WIDE = 1 << 20 };
    sv_status st;
    if ((st = need_count(f, arch, "context_length", INT32_MAX, &hp->n_ctx_train)) != SV_OK ||
        (st = need_count(f, arch, "embedding_length", WIDE, &hp->n_embd)) != SV_OK ||
        (st = need_count(f, arch, "block_count", 4096, &hp->n_layer)) != SV_OK ||
        (st = need_count(f, arch, "feed_forward_length", BIG, &hp->n_ff)) != SV_OK ||
        (st = need_count(f, arch, "attention.head_count", 4096, &hp->n_head)) != SV_OK ||
        (st = opt_count(f, arch, "attention.head_count_kv", 4096, hp->n_head, &hp->n_head_kv)) != SV_OK)
        return st;
    if (hp->n_head % hp->n_head_kv != 0)
        return sv_error(SV_ERR_FORMAT, "%d attention heads are not a multiple of %d KV heads", hp->n_head,
                        hp->n_head_kv);
    int32_t head = hp->n_embd % hp->n_head == 0 ? hp->n_embd / hp->n_head : 0;
    if ((st = opt_count(f, arch, "attention.key_length", 65536, head, &hp->n_embd_head_k)) != SV_OK ||
        (st = opt_count(f, arch, "attention.value_length", 65536, hp->n_embd_head_k, &hp->n_embd_head_v)) != SV_OK)
        return st;
    if (hp->n_embd_head_k <= 0 || hp->n_embd_head_v <= 0)
        return sv_error(SV_ERR_FORMAT, "head width cannot be derived: n_embd %d over %d heads", hp->n_embd,
                        hp->n_head);
    if ((st = opt_count(f, arch, "rope.dimension_count", hp->n_embd_head_k, hp->n_embd_head_k, &hp->n_rot)) !=
        SV_OK)
        return st;
    if (hp->n_rot % 2 != 0) return sv_error(SV_ERR_FORMAT, "rope.dimension_count %d is odd", hp->n_rot);

    if (!key_f32(f, arch, "attention.layer_norm_rms_epsilon", &hp->norm_eps))
        return sv_error(SV_ERR_FORMAT, "missing key %s.attention.layer_norm_rms_epsilon", arch);
    if (!(hp->norm_eps >= 0.0f) || !isfinite(hp->norm_eps))
        return sv_error(SV_ERR_FORMAT, "attention.layer_norm_rms_epsilon is not a finite value >= 0");

    hp->rope_freq_base = 10000.0f;
    key_f32(f, arch, "rope.freq_base", &hp->rope_freq_base);
    hp->rope_freq_scale = 1.0f;
    float factor = 0.0f;
    const char *scaling = key_str(f, arch, "rope.scaling.type");
    if (key_f32(f, arch, "rope.scale_linear", &factor) && factor > 0.0f) hp->rope_freq_scale = 1.0f / factor;
    if (scaling && strcmp(scaling, "none") != 0) {
        if (strcmp(scaling, "linear") != 0)
            return sv_error(SV_ERR_UNSUPPORTED, "rope scaling type '%s' is not supported", scaling);
        if (key_f32(f, arch, "rope.scaling.factor", &factor) && factor > 0.0f) hp->rope_freq_scale = 1.0f / factor;
    }
    if (!(hp->rope_freq_base > 0.0f) || !isfinite(hp->rope_freq_base) || !isfinite(hp->rope_freq_scale))
        return sv_error(SV_ERR_FORMAT, "rope.freq_base must be a finite positive value");
    hp->rope_freq_base_swa = hp->rope_freq_base;
    hp->rope_freq_scale_swa = hp->rope_freq_scale;
    hp->rope_mode = hp->arch == MODEL_ARCH_LLAMA ? TENSOR_ROPE_NORMAL : TENSOR_ROPE_NEOX;
    hp->attn_scale = 1.0f / sqrtf((float)hp->n_embd_head_k);
    hp->embd_scale = 1.0f;
    key_f32(f, arch, "attn_logit_softcapping", &hp->attn_softcap);
    key_f32(f, arch, "final_logit_softcapping", &hp->final_softcap);
    if (!isfinite(hp->attn_softcap) || !isfinite(hp->final_softcap))
        return sv_error(SV_ERR_FORMAT, "soft-capping values must be finite");

    if (hp->arch == MODEL_ARCH_GEMMA3) {
        uint32_t w = 0;
        /* Gemma 3: five local layers, then one global (llama.cpp's pattern 6). */
        if (key_u32(f, arch, "attention.sliding_window", &w)) {
            if (w == 0 || w > INT32_MAX) return sv_error(SV_ERR_FORMAT, "attention.sliding_window %u is out of range", w);
            hp->n_swa = (int32_t)w;
        }
        hp->swa_pattern = 6;
        hp->rope_freq_base_swa = 10000.0f;
        key_f32(f, arch, "rope.freq_base_swa", &hp->rope_freq_base_swa);
        /* Linear rope scaling applies to the global layers only. */
        hp->rope_freq_scale_swa = 1.0f;
        hp->embd_scale = sqrtf((float)hp->n_embd);
        /* Gemma 3 27B (62 layers) scales queries by n_embd / n_head, the others
         * by the head width; the GGUF does not store query_pre_attn_scalar. */
        if (hp->n_layer == 62) hp->attn_scale = 1.0f / sqrtf((float)(hp->n_embd / hp->n_head));
    }
    return SV_OK;
}
