#include "tensor/quantize_mix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    tensor_ftype ft;
    tensor_type base;
} k_ftypes[] = {
    {"F32", TENSOR_FTYPE_ALL_F32, GGUF_TYPE_F32},   {"F16", TENSOR_FTYPE_F16, GGUF_TYPE_F16},
    {"BF16", TENSOR_FTYPE_BF16, GGUF_TYPE_BF16},    {"Q4_0", TENSOR_FTYPE_Q4_0, GGUF_TYPE_Q4_0},
    {"Q4_1", TENSOR_FTYPE_Q4_1, GGUF_TYPE_Q4_1},    {"Q5_0", TENSOR_FTYPE_Q5_0, GGUF_TYPE_Q5_0},
    {"Q5_1", TENSOR_FTYPE_Q5_1, GGUF_TYPE_Q5_1},    {"Q8_0", TENSOR_FTYPE_Q8_0, GGUF_TYPE_Q8_0},
    {"Q2_K", TENSOR_FTYPE_Q2_K, GGUF_TYPE_Q2_K},    {"Q3_K_S", TENSOR_FTYPE_Q3_K_S, GGUF_TYPE_Q3_K},
    {"Q3_K_M", TENSOR_FTYPE_Q3_K_M, GGUF_TYPE_Q3_K}, {"Q3_K_L", TENSOR_FTYPE_Q3_K_L, GGUF_TYPE_Q3_K},
    {"Q4_K_S", TENSOR_FTYPE_Q4_K_S, GGUF_TYPE_Q4_K}, {"Q4_K_M", TENSOR_FTYPE_Q4_K_M, GGUF_TYPE_Q4_K},
    {"Q5_K_S", TENSOR_FTYPE_Q5_K_S, GGUF_TYPE_Q5_K}, {"Q5_K_M", TENSOR_FTYPE_Q5_K_M, GGUF_TYPE_Q5_K},
    {"Q6_K", TENSOR_FTYPE_Q6_K, GGUF_TYPE_Q6_K},
};
enum { N_FTYPES = (int)(sizeof k_ftypes / sizeof k_ftypes[0]) };

bool tensor_ftype_from_name(const char *name, tensor_ftype *out) {
    for (int i = 0; i < N_FTYPES; i++)
        if (!strcasecmp(name, k_ftypes[i].name)) {
            *out = k_ftypes[i].ft;
            return true;
        }
    /* llama-quantize accepts these two aliases too. */
    if (!strcasecmp(name, "Q4_K")) return *out = TENSOR_FTYPE_Q4_K_M, true;
    if (!strcasecmp(name, "Q5_K")) return *out = TENSOR_FTYPE_Q5_K_M, true;
    if (!strcasecmp(name, "Q3_K")) return *out = TENSOR_FTYPE_Q3_K_M, true;
    return false;
}

const char *tensor_ftype_name(tensor_ftype ft) {
    for (int i = 0; i < N_FTYPES; i++)
        if (k_ftypes[i].ft == ft) return k_ftypes[i].name;
    return "?";
}

tensor_type tensor_ftype_base_type(tensor_ftype ft) {
    for (int i = 0; i < N_FTYPES; i++)
        if (k_ftypes[i].ft == ft) return k_ftypes[i].base;
    return GGUF_TYPE_COUNT;
}

const char *tensor_ftype_list(void) {
    return "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, "
           "F16, BF16, F32";
}

static int get_int_key(const gguf_file *f, const char *arch, const char *suffix, int dflt) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    uint32_t v;
    if (gguf_get_u32(f, key, &v) && v <= 1000000) return (int)v;
    /* Per-layer arrays (e.g. head counts of OpenELM): the rules use layer 0's. */
    gguf_value_type et;
    uint64_t n;
    const gguf_value *arr = gguf_get_arr(f, key, &et, &n);
    if (arr && n > 0) {
        if (et == GGUF_VT_UINT32) return (int)((const uint32_t *)arr->v.arr.data)[0];
        if (et == GGUF_VT_INT32) return (int)((const int32_t *)arr->v.arr.data)[0];
    }
    return dflt;
}

sv_status tensor_mix_model_from_gguf(const gguf_file *f, tensor_mix_model *out) {
    memset(out, 0, sizeof *out);
    const char *arch = gguf_get_str(f, "general.architecture");
    if (!arch) return sv_error(SV_ERR_FORMAT, "missing key general.architecture");
    if (strlen(arch) >= sizeof out->arch) return sv_error(SV_ERR_FORMAT, "general.architecture is too long");
    strcpy(out->arch, arch);
    out->n_layer = get_int_key(f, arch, "block_count", -1);
    if (out->n_layer < 0) return sv_error(SV_ERR_FORMAT, "missing key %s.block_count", arch);
    out->n_head = get_int_key(f, arch, "attention.head_count", 0);
    out->n_head_kv = get_int_key(f, arch, "attention.head_count_kv", out->n_head);
    out->n_expert = get_int_key(f, arch, "expert_count", 0);
    return SV_OK;
}

/* Layer of "blk.N.…"; -1 for tensors outside blocks. */
static int name_layer(const char *name) {
    if (strncmp(name, "blk.", 4)) return -1;
    char *end;
    long v = strtol(name + 4, &end, 10);
    if (end == name + 4 || *end != '.' || v < 0 || v > 1000000) return -1;
    return (int)v;
}

typedef struct {
    int layer;
    const char *name;
    int64_t index;
} sort_key;

static int cmp_order(const void *a, const void *b) {
    const sort_key *x = a, *y = b;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    return strcmp(x->name, y->name);
}

sv_status tensor_mix_sort(const tensor_mix_tensor *t, int64_t n, int64_t *perm) {
    sort_key *keys = malloc((size_t)(n > 0 ? n : 1) * sizeof *keys);
    if (!keys) return sv_error(SV_ERR_NOMEM, "out of memory sorting %lld tensors", (long long)n);
    for (int64_t i = 0; i < n; i++) keys[i] = (sort_key){name_layer(t[i].name), t[i].name, i};
    qsort(keys, (size_t)n, sizeof *keys, cmp_order);
    for (int64_t i = 0; i < n; i++) perm[i] = keys[i].index;
    free(keys);
    return SV_OK;
}

typedef enum {
    CAT_TOKEN_EMBD,
    CAT_ATTN_Q,
    CAT_ATTN_V, /* attn_v, attn_qkv and attn_kv_b: the tensors most sensitive to quantization */
    CAT_ATTN_K,
    CAT_ATTN_OUTPUT,
    CAT_FFN_UP,
    CAT_FFN_GATE,
    CAT_FFN_DOWN,
    CAT_OUTPUT,
    CAT_OTHER
} category;

static category name_category(const char *name) {
    if (!strcmp(name, "output.weight")) return CAT_OUTPUT;
    if (!strcmp(name, "token_embd.weight") || !strcmp(name, "per_layer_token_embd.weight")) return CAT_TOKEN_EMBD;
    if (strstr(name, "attn_qkv.weight") || strstr(name, "attn_kv_b.weight") || strstr(name, "attn_v.weight"))
        return CAT_ATTN_V;
    if (strstr(name, "attn_k.weight")) return CAT_ATTN_K;
    if (strstr(name, "attn_q.weight")) return CAT_ATTN_Q;
    if (strstr(name, "attn_output.weight")) return CAT_ATTN_OUTPUT;
    if (strstr(name, "ffn_up")) return CAT_FFN_UP;
    if (strstr(name, "ffn_gate")) return CAT_FFN_GATE;
    if (strstr(name, "ffn_down")) return CAT_FFN_DOWN;
    return CAT_OTHER;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Tensors llama-quantize leaves in their input type. */
static bool allows_quantization(const tensor_mix_tensor *t) {
    const char *n = t->name;
    int dims = t->n_dims;
    while (dims > 1 && t->ne[dims - 1] == 1) dims--;
    if (dims < 2 || !ends_with(n, "weight")) return false;
    static const char *const keep[] = {
        "_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d",
        "shortconv.conv.weight", "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
        "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
        "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight",
        "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", ".rel_pos", ".patch_embd",
        ".patch_merger",
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (strstr(n, keep[i])) return false;
    return strcmp(n, "position_embd.weight") && strcmp(n, "token_types.weight");
}

typedef struct {
    const tensor_mix_model *m;
    tensor_ftype ft;
    bool tied_embeddings;
    bool falcon;
    bool is_70b;
    int n_gqa;
    int n_attn_v, i_attn_v;
    int i_ffn_down, i_ffn_gate, i_ffn_up;
} mix_state;

static bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* Layer index the FFN rules use: a running counter, or for mixtures of
 * experts (whose expert tensors are not consecutive) the name's block. */
static sv_status ffn_layer(const mix_state *s, int counter, const char *name, int *layer) {
    *layer = counter;
    if (s->m->n_expert > 1) {
        *layer = name_layer(name);
        if (*layer < 0 || *layer >= s->m->n_layer)
            return sv_error(SV_ERR_FORMAT, "tensor %s: cannot tell its layer (block_count %d)", name, s->m->n_layer);
    }
    return SV_OK;
}

static sv_status mix_type(mix_state *s, const tensor_mix_tensor *t, category cat, tensor_type *io) {
    tensor_ftype ft = s->ft;
    tensor_type ty = *io;
    int nl = s->m->n_layer;
    if (cat == CAT_OUTPUT || (s->tied_embeddings && cat == CAT_TOKEN_EMBD)) {
        if (s->falcon || t->ne[0] % gguf_type_block_size(ty) != 0) ty = GGUF_TYPE_Q8_0;
        else if (ty != GGUF_TYPE_Q8_0) ty = GGUF_TYPE_Q6_K;
    } else if (cat == CAT_TOKEN_EMBD) {
        /* Untied embeddings keep the file type's base type. */
    } else if (cat == CAT_ATTN_V) {
        if (ft == TENSOR_FTYPE_Q2_K) ty = s->n_gqa >= 4 ? GGUF_TYPE_Q4_K : GGUF_TYPE_Q3_K;
        else if (ft == TENSOR_FTYPE_Q3_K_M) ty = s->i_attn_v < 2 ? GGUF_TYPE_Q5_K : GGUF_TYPE_Q4_K;
        else if (ft == TENSOR_FTYPE_Q3_K_L) ty = GGUF_TYPE_Q5_K;
        else if ((ft == TENSOR_FTYPE_Q4_K_M || ft == TENSOR_FTYPE_Q5_K_M) && use_more_bits(s->i_attn_v, s->n_attn_v))
            ty = GGUF_TYPE_Q6_K;
        else if (ft == TENSOR_FTYPE_Q4_K_S && s->i_attn_v < 4) ty = GGUF_TYPE_Q5_K;
        /* 70B shares each attn_v among 8 heads: a tiny tensor worth more bits. */
        if (s->is_70b && (ty == GGUF_TYPE_Q3_K || ty == GGUF_TYPE_Q4_K)) ty = GGUF_TYPE_Q5_K;
        if (s->m->n_expert == 8) ty = GGUF_TYPE_Q8_0;
        s->i_attn_v++;
    } else if (cat == CAT_ATTN_K) {
        if (s->m->n_expert == 8) ty = GGUF_TYPE_Q8_0;
    } else if (cat == CAT_FFN_DOWN) {
        int il;
        sv_status st = ffn_layer(s, s->i_ffn_down, t->name, &il);
        if (st) return st;
        if (ft == TENSOR_FTYPE_Q2_K) ty = GGUF_TYPE_Q3_K;
        else if (ft == TENSOR_FTYPE_Q3_K_M)
            ty = il < nl / 16                              ? GGUF_TYPE_Q5_K
                 : !s->falcon || use_more_bits(il, nl) ? GGUF_TYPE_Q4_K
                                                           : GGUF_TYPE_Q3_K;
        else if (ft == TENSOR_FTYPE_Q3_K_L) ty = s->falcon ? GGUF_TYPE_Q4_K : GGUF_TYPE_Q5_K;
        else if (ft == TENSOR_FTYPE_Q4_K_M) {
            if (s->falcon)
                ty = il < nl / 16 ? GGUF_TYPE_Q6_K : use_more_bits(il, nl) ? GGUF_TYPE_Q5_K : GGUF_TYPE_Q4_K;
            else if (use_more_bits(il, nl))
                ty = GGUF_TYPE_Q6_K;
        } else if (ft == TENSOR_FTYPE_Q5_K_M && use_more_bits(il, nl))
            ty = GGUF_TYPE_Q6_K;
        else if (ft == TENSOR_FTYPE_Q4_K_S && !s->falcon && il < nl / 8)
            ty = GGUF_TYPE_Q5_K;
        s->i_ffn_down++;
    } else if (cat == CAT_ATTN_OUTPUT) {
        if (!s->falcon) {
            if (s->m->n_expert == 8) {
                if (ft == TENSOR_FTYPE_Q2_K || ft == TENSOR_FTYPE_Q3_K_S || ft == TENSOR_FTYPE_Q3_K_M ||
                    ft == TENSOR_FTYPE_Q4_K_S || ft == TENSOR_FTYPE_Q4_K_M)
                    ty = GGUF_TYPE_Q5_K;
            } else if (ft == TENSOR_FTYPE_Q2_K)
                ty = GGUF_TYPE_Q3_K;
            else if (ft == TENSOR_FTYPE_Q3_K_M)
                ty = GGUF_TYPE_Q4_K;
            else if (ft == TENSOR_FTYPE_Q3_K_L)
                ty = GGUF_TYPE_Q5_K;
        } else if (ft == TENSOR_FTYPE_Q3_K_L)
            ty = GGUF_TYPE_Q4_K;
    } else if (cat == CAT_FFN_GATE) {
        s->i_ffn_gate++;
    } else if (cat == CAT_FFN_UP) {
        s->i_ffn_up++;
    }
    *io = ty;
    return SV_OK;
}

/* Row lengths that are not a multiple of the block size. */
static tensor_type fallback(const tensor_mix_tensor *t, tensor_type ty, int *n_fallback) {
    if (t->ne[0] % gguf_type_block_size(ty) == 0) return ty;
    (*n_fallback)++;
    tensor_type fb;
    switch (ty) {
    case GGUF_TYPE_Q2_K:
    case GGUF_TYPE_Q3_K: fb = GGUF_TYPE_Q4_0; break;
    case GGUF_TYPE_Q4_K: fb = GGUF_TYPE_Q5_0; break;
    case GGUF_TYPE_Q5_K: fb = GGUF_TYPE_Q5_1; break;
    case GGUF_TYPE_Q6_K: fb = GGUF_TYPE_Q8_0; break;
    default: fb = GGUF_TYPE_F16; break; /* llama-quantize refuses these; F16 always fits */
    }
    return t->ne[0] % gguf_type_block_size(fb) == 0 ? fb : GGUF_TYPE_F16;
}

sv_status tensor_mix_types(const tensor_mix_model *m, tensor_ftype ft, bool pure, const tensor_mix_tensor *t, int64_t n,
                           const int64_t *perm, tensor_type *out_types, int *n_fallback) {
    tensor_type base = tensor_ftype_base_type(ft);
    if (base == GGUF_TYPE_COUNT) return sv_error(SV_ERR_INVALID_ARG, "unknown file type %d", (int)ft);
    mix_state s = {.m = m, .ft = ft, .tied_embeddings = true};
    s.falcon = !strcmp(m->arch, "falcon");
    s.is_70b = !strcmp(m->arch, "llama") && m->n_layer == 80 && m->n_head != m->n_head_kv;
    s.n_gqa = m->n_head_kv > 0 ? m->n_head / m->n_head_kv : 1;
    for (int64_t i = 0; i < n; i++) {
        category c = name_category(t[i].name);
        if (c == CAT_ATTN_V) s.n_attn_v++;
        if (c == CAT_OUTPUT) s.tied_embeddings = false;
    }
    *n_fallback = 0;
    bool quantized = tensor_type_get(base) && tensor_type_get(base)->is_quantized;
    for (int64_t k = 0; k < n; k++) {
        int64_t i = perm[k];
        const tensor_mix_tensor *ti = &t[i];
        if (!allows_quantization(ti)) {
            out_types[i] = ti->type;
            continue;
        }
        tensor_type ty = base;
        if (quantized) {
            sv_status st = pure ? SV_OK : mix_type(&s, ti, name_category(ti->name), &ty);
            if (st) return st;
            ty = fallback(ti, ty, n_fallback);
        }
        out_types[i] = ty;
    }
    return SV_OK;
}
