/* Builders of computing ops: shape and type checks, result shapes, params. */
#include <string.h>

#include "tensor/graph_impl.h"

#define CHECK_ARGS(g, ...)                                                  \
    do {                                                                    \
        if ((g)->status != SV_OK) return NULL;                              \
        const tensor *args_[] = {__VA_ARGS__};                              \
        for (size_t i_ = 0; i_ < sizeof args_ / sizeof args_[0]; i_++)      \
            if (!args_[i_]) return NULL;                                    \
    } while (0)

static bool is_float_type(tensor_type t) {
    return t == GGUF_TYPE_F32 || t == GGUF_TYPE_F16 || t == GGUF_TYPE_BF16;
}

static tensor *need_f32(graph *g, const char *op, const tensor *a) {
    return graph__fail(g, SV_ERR_UNSUPPORTED, "%s needs F32 input, got %s", op, graph__shape(a));
}

tensor *graph_cont(graph *g, tensor *a) {
    CHECK_ARGS(g, a);
    if (!is_float_type(a->type))
        return graph__fail(g, SV_ERR_UNSUPPORTED, "CONT of %s: only F32/F16/BF16", graph__shape(a));
    tensor *t = graph__new_op(g, TENSOR_OP_CONT, a->type, a->ne);
    if (t) t->src[0] = a;
    return t;
}

tensor *graph_cpy(graph *g, tensor *a, tensor *b) {
    CHECK_ARGS(g, a, b);
    if (tensor_nelements(a) != tensor_nelements(b))
        return graph__fail(g, SV_ERR_INVALID_ARG, "CPY %s into %s: element counts differ", graph__shape(a),
                           graph__shape(b));
    const tensor_type_traits *ta = tensor_type_get(a->type), *tb = tensor_type_get(b->type);
    bool ok;
    if (is_float_type(b->type)) {
        ok = a->type == GGUF_TYPE_F32 || is_float_type(a->type) || (ta && ta->to_float);
    } else {
        ok = a->type == GGUF_TYPE_F32 && tb && tb->from_float && tensor_same_shape(a, b) &&
             tensor_rows_contiguous(b);
    }
    if (!ok)
        return graph__fail(g, SV_ERR_UNSUPPORTED, "CPY %s into %s is not supported", graph__shape(a),
                           graph__shape(b));
    tensor *t = graph__new_view(g, TENSOR_OP_CPY, b, b->ne, b->nb, 0);
    if (!t) return NULL;
    t->src[0] = a;
    t->src[1] = b;
    return t;
}

tensor *graph_get_rows(graph *g, tensor *w, tensor *ids) {
    CHECK_ARGS(g, w, ids);
    const tensor_type_traits *tr = tensor_type_get(w->type);
    if (!tr || !tr->to_float || !tensor_rows_contiguous(w))
        return graph__fail(g, SV_ERR_UNSUPPORTED, "GET_ROWS from %s", graph__shape(w));
    if (ids->type != GGUF_TYPE_I32 || tensor_n_dims(ids) > 1 || tensor_n_dims(w) > 2)
        return graph__fail(g, SV_ERR_INVALID_ARG, "GET_ROWS of %s by %s: want [E, V] and I32 [n]",
                           graph__shape(w), graph__shape(ids));
    int64_t ne[4] = {w->ne[0], ids->ne[0], 1, 1};
    tensor *t = graph__new_op(g, TENSOR_OP_GET_ROWS, GGUF_TYPE_F32, ne);
    if (t) {
        t->src[0] = w;
        t->src[1] = ids;
    }
    return t;
}

tensor *graph_concat(graph *g, tensor *a, tensor *b, int dim) {
    CHECK_ARGS(g, a, b);
    if (dim < 0 || dim > 3 || a->type != GGUF_TYPE_F32 || b->type != GGUF_TYPE_F32)
        return graph__fail(g, SV_ERR_INVALID_ARG, "CONCAT of %s and %s along %d", graph__shape(a),
                           graph__shape(b), dim);
    int64_t ne[4];
    for (int i = 0; i < 4; i++) {
        if (i != dim && a->ne[i] != b->ne[i])
            return graph__fail(g, SV_ERR_INVALID_ARG, "CONCAT of %s and %s along %d: shapes differ",
                               graph__shape(a), graph__shape(b), dim);
        ne[i] = i == dim ? a->ne[i] + b->ne[i] : a->ne[i];
    }
    tensor *t = graph__new_op(g, TENSOR_OP_CONCAT, GGUF_TYPE_F32, ne);
    if (t) {
        t->src[0] = a;
        t->src[1] = b;
        t->params[0] = dim;
    }
    return t;
}

static tensor *binary(graph *g, tensor_op op, tensor *a, tensor *b) {
    CHECK_ARGS(g, a, b);
    if (a->type != GGUF_TYPE_F32 || b->type != GGUF_TYPE_F32)
        return graph__fail(g, SV_ERR_UNSUPPORTED, "%s of %s and %s: F32 only", tensor_op_name(op),
                           graph__shape(a), graph__shape(b));
    if (!tensor_can_repeat(b, a))
        return graph__fail(g, SV_ERR_INVALID_ARG, "%s: %s does not broadcast to %s", tensor_op_name(op),
                           graph__shape(b), graph__shape(a));
    tensor *t = graph__new_op(g, op, GGUF_TYPE_F32, a->ne);
    if (t) {
        t->src[0] = a;
        t->src[1] = b;
    }
    return t;
}

tensor *graph_add(graph *g, tensor *a, tensor *b) {
    return binary(g, TENSOR_OP_ADD, a, b);
}

tensor *graph_mul(graph *g, tensor *a, tensor *b) {
    return binary(g, TENSOR_OP_MUL, a, b);
}

tensor *graph_scale(graph *g, tensor *a, float s) {
    CHECK_ARGS(g, a);
    if (a->type != GGUF_TYPE_F32) return need_f32(g, "SCALE", a);
    tensor *t = graph__new_op(g, TENSOR_OP_SCALE, GGUF_TYPE_F32, a->ne);
    if (t) {
        t->src[0] = a;
        tensor_set_param_f32(t, 0, s);
    }
    return t;
}

tensor *graph_unary(graph *g, tensor *a, tensor_unary_op op) {
    CHECK_ARGS(g, a);
    if (a->type != GGUF_TYPE_F32) return need_f32(g, tensor_unary_name(op), a);
    if ((unsigned)op >= TENSOR_UNARY_COUNT) return graph__fail(g, SV_ERR_INVALID_ARG, "unary op %d", (int)op);
    tensor *t = graph__new_op(g, TENSOR_OP_UNARY, GGUF_TYPE_F32, a->ne);
    if (t) {
        t->src[0] = a;
        t->params[0] = (int32_t)op;
    }
    return t;
}

tensor *graph_silu(graph *g, tensor *a) {
    return graph_unary(g, a, TENSOR_UNARY_SILU);
}

tensor *graph_gelu(graph *g, tensor *a) {
    return graph_unary(g, a, TENSOR_UNARY_GELU);
}

tensor *graph_gelu_erf(graph *g, tensor *a) {
    return graph_unary(g, a, TENSOR_UNARY_GELU_ERF);
}

tensor *graph_glu(graph *g, tensor *a, tensor *b, tensor_unary_op act) {
    CHECK_ARGS(g, a, b);
    if (a->type != GGUF_TYPE_F32 || b->type != GGUF_TYPE_F32 || !tensor_same_shape(a, b) ||
        (unsigned)act >= TENSOR_UNARY_COUNT)
        return graph__fail(g, SV_ERR_INVALID_ARG, "GLU of %s and %s: want two F32 of one shape",
                           graph__shape(a), graph__shape(b));
    tensor *t = graph__new_op(g, TENSOR_OP_GLU, GGUF_TYPE_F32, a->ne);
    if (t) {
        t->src[0] = a;
        t->src[1] = b;
        t->params[0] = (int32_t)act;
    }
    return t;
}

tensor *graph_swiglu(graph *g, tensor *a, tensor *b) {
    return graph_glu(g, a, b, TENSOR_UNARY_SILU);
}

tensor *graph_geglu(graph *g, tensor *a, tensor *b) {
    return graph_glu(g, a, b, TENSOR_UNARY_GELU);
}

static tensor *norm(graph *g, tensor_op op, tensor *a, float eps) {
    CHECK_ARGS(g, a);
    if (a->type != GGUF_TYPE_F32) return need_f32(g, tensor_op_name(op), a);
    tensor *t = graph__new_op(g, op, GGUF_TYPE_F32, a->ne);
    if (t) {
        t->src[0] = a;
        tensor_set_param_f32(t, 0, eps);
    }
    return t;
}

tensor *graph_rms_norm(graph *g, tensor *a, float eps) {
    return norm(g, TENSOR_OP_RMS_NORM, a, eps);
}

tensor *graph_norm(graph *g, tensor *a, float eps) {
    return norm(g, TENSOR_OP_NORM, a, eps);
}

static bool mask_fits(const tensor *mask, int64_t n_kv, int64_t n_q, const tensor *a) {
    if (mask->type != GGUF_TYPE_F32 && mask->type != GGUF_TYPE_F16) return false;
    if (!tensor_rows_contiguous(mask) || mask->ne[0] != n_kv || mask->ne[1] < n_q) return false;
    return mask->ne[2] > 0 && mask->ne[3] > 0 && a->ne[2] % mask->ne[2] == 0 && a->ne[3] % mask->ne[3] == 0;
}

tensor *graph_soft_max(graph *g, tensor *a, tensor *mask, float scale, float softcap) {
    CHECK_ARGS(g, a);
    if (a->type != GGUF_TYPE_F32) return need_f32(g, "SOFT_MAX", a);
    if (mask && !mask_fits(mask, a->ne[0], a->ne[1], a))
        return graph__fail(g, SV_ERR_INVALID_ARG, "SOFT_MAX of %s: mask %s does not fit", graph__shape(a),
                           graph__shape(mask));
    tensor *t = graph__new_op(g, TENSOR_OP_SOFT_MAX, GGUF_TYPE_F32, a->ne);
    if (t) {
        t->src[0] = a;
        t->src[1] = mask;
        tensor_set_param_f32(t, 0, scale);
        tensor_set_param_f32(t, 1, softcap);
    }
    return t;
}

tensor *graph_argmax(graph *g, tensor *a) {
    CHECK_ARGS(g, a);
    if (a->type != GGUF_TYPE_F32) return need_f32(g, "ARGMAX", a);
    int64_t ne[4] = {tensor_nrows(a), 1, 1, 1};
    tensor *t = graph__new_op(g, TENSOR_OP_ARGMAX, GGUF_TYPE_I32, ne);
    if (t) t->src[0] = a;
    return t;
}

tensor *graph_rope_multi(graph *g, tensor *a, tensor *pos, int n_dims, const int sections[4], int mode,
                         float freq_base, float freq_scale) {
    CHECK_ARGS(g, a, pos);
    if (a->type != GGUF_TYPE_F32) return need_f32(g, "ROPE", a);
    bool multi = mode == TENSOR_ROPE_MROPE || mode == TENSOR_ROPE_VISION;
    if (mode != TENSOR_ROPE_NORMAL && mode != TENSOR_ROPE_NEOX && !multi)
        return graph__fail(g, SV_ERR_INVALID_ARG, "ROPE mode %d is unknown", mode);
    int64_t turned = mode == TENSOR_ROPE_VISION ? 2 * (int64_t)n_dims : n_dims;
    if (n_dims <= 0 || n_dims % 2 != 0 || turned > a->ne[0])
        return graph__fail(g, SV_ERR_INVALID_ARG, "ROPE of %s over %d dims", graph__shape(a), n_dims);
    if (pos->type != GGUF_TYPE_I32 || tensor_n_dims(pos) > 1 || pos->ne[0] != a->ne[2] * (multi ? 4 : 1))
        return graph__fail(g, SV_ERR_INVALID_ARG, "ROPE of %s: positions %s, want I32 [%lld]", graph__shape(a),
                           graph__shape(pos), (long long)(a->ne[2] * (multi ? 4 : 1)));
    if (multi) {
        int sect_sum = 0;
        bool negative = false;
        for (int i = 0; i < 4; i++) {
            negative |= sections[i] < 0 || sections[i] > 4096;
            sect_sum += sections[i];
        }
        if (negative || sect_sum <= 0)
            return graph__fail(g, SV_ERR_INVALID_ARG, "ROPE sections {%d, %d, %d, %d}", sections[0],
                               sections[1], sections[2], sections[3]);
    }
    tensor *t = graph__new_op(g, TENSOR_OP_ROPE, GGUF_TYPE_F32, a->ne);
    if (!t) return NULL;
    t->src[0] = a;
    t->src[1] = pos;
    t->params[0] = n_dims;
    t->params[1] = mode;
    tensor_set_param_f32(t, 2, freq_base);
    tensor_set_param_f32(t, 3, freq_scale);
    for (int i = 0; i < 4; i++) t->params[4 + i] = multi ? sections[i] : 0;
    return t;
}

tensor *graph_rope(graph *g, tensor *a, tensor *pos, int n_dims, int mode, float freq_base, float freq_scale) {
    static const int none[4] = {0, 0, 0, 0};
    return graph_rope_multi(g, a, pos, n_dims, none, mode, freq_base, freq_scale);
}

tensor *graph_rope_ext(graph *g, tensor *a, tensor *pos, tensor *freq_factors, int n_dims, int mode,
                       float freq_base, float freq_scale) {
    CHECK_ARGS(g, a, pos);
    if (freq_factors && (mode == TENSOR_ROPE_MROPE || mode == TENSOR_ROPE_VISION || n_dims <= 0 ||
                         freq_factors->type != GGUF_TYPE_F32 || !tensor_is_contiguous(freq_factors) ||
                         tensor_nelements(freq_factors) != n_dims / 2))
        return graph__fail(g, SV_ERR_INVALID_ARG, "ROPE frequency factors %s for %d dims in mode %d",
                           graph__shape(freq_factors), n_dims, mode);
    tensor *t = graph_rope(g, a, pos, n_dims, mode, freq_base, freq_scale);
    if (t) t->src[2] = freq_factors;
    return t;
}

tensor *graph_mul_mat(graph *g, tensor *w, tensor *x) {
    CHECK_ARGS(g, w, x);
    const tensor_type_traits *tr = tensor_type_get(w->type);
    if (!tr || !tr->vec_dot || !tensor_rows_contiguous(w))
        return graph__fail(g, SV_ERR_UNSUPPORTED, "MUL_MAT with weights %s", graph__shape(w));
    if (x->type != GGUF_TYPE_F32 || !tensor_rows_contiguous(x)) return need_f32(g, "MUL_MAT", x);
    if (w->ne[0] != x->ne[0] || x->ne[2] % w->ne[2] != 0 || x->ne[3] % w->ne[3] != 0)
        return graph__fail(g, SV_ERR_INVALID_ARG, "MUL_MAT of %s by %s: shapes do not fit", graph__shape(w),
                           graph__shape(x));
    int64_t ne[4] = {w->ne[1], x->ne[1], x->ne[2], x->ne[3]};
    tensor *t = graph__new_op(g, TENSOR_OP_MUL_MAT, GGUF_TYPE_F32, ne);
    if (t) {
        t->src[0] = w;
        t->src[1] = x;
    }
    return t;
}

tensor *graph_flash_attn(graph *g, tensor *q, tensor *k, tensor *v, tensor *mask, const graph_attn_params *p) {
    CHECK_ARGS(g, q, k, v);
    const tensor_type_traits *kt = tensor_type_get(k->type);
    bool kv_ok = kt && kt->to_float && v->type == k->type;
    if (q->type != GGUF_TYPE_F32 || !kv_ok || !tensor_rows_contiguous(q) || !tensor_rows_contiguous(k) ||
        !tensor_rows_contiguous(v))
        return graph__fail(g, SV_ERR_UNSUPPORTED, "FLASH_ATTN of q %s, k %s, v %s: want F32 q, k and v of one readable type",
                           graph__shape(q), graph__shape(k), graph__shape(v));
    if (k->ne[0] != q->ne[0] || v->ne[1] != k->ne[1] || v->ne[2] != k->ne[2] || k->ne[2] == 0 ||
        q->ne[2] % k->ne[2] != 0 || k->ne[3] != q->ne[3] || v->ne[3] != q->ne[3])
        return graph__fail(g, SV_ERR_INVALID_ARG, "FLASH_ATTN of q %s, k %s, v %s: shapes do not fit",
                           graph__shape(q), graph__shape(k), graph__shape(v));
    if (mask && (!mask_fits(mask, k->ne[1], q->ne[1], q) || mask->ne[2] != 1 || mask->ne[3] != 1))
        return graph__fail(g, SV_ERR_INVALID_ARG, "FLASH_ATTN: mask %s does not fit [%lld, >= %lld]",
                           graph__shape(mask), (long long)k->ne[1], (long long)q->ne[1]);
    int64_t ne[4] = {v->ne[0], q->ne[2], q->ne[1], q->ne[3]};
    tensor *t = graph__new_op(g, TENSOR_OP_FLASH_ATTN, GGUF_TYPE_F32, ne);
    if (!t) return NULL;
    t->src[0] = q;
    t->src[1] = k;
    t->src[2] = v;
    t->src[3] = mask;
    tensor_set_param_f32(t, 0, p->scale);
    tensor_set_param_f32(t, 1, p->softcap);
    t->params[2] = p->causal;
    t->params[3] = p->q_pos0;
    t->params[4] = p->window;
    return t;
}

static int64_t conv_out(int64_t in, int64_t k, int s, int pad, int d) {
    return (in + 2 * pad - d * (k - 1) - 1) / s + 1;
}

tensor *graph_im2col(graph *g, tensor *img, int64_t kw, int64_t kh, int s0, int s1, int p0, int p1, int d0,
                     int d1) {
    CHECK_ARGS(g, img);
    if (img->type != GGUF_TYPE_F32) return need_f32(g, "IM2COL", img);
    if (kw <= 0 || kh <= 0 || s0 <= 0 || s1 <= 0 || p0 < 0 || p1 < 0 || d0 <= 0 || d1 <= 0)
        return graph__fail(g, SV_ERR_INVALID_ARG, "IM2COL kernel %lldx%lld stride %d,%d pad %d,%d dil %d,%d",
                           (long long)kw, (long long)kh, s0, s1, p0, p1, d0, d1);
    int64_t ow = conv_out(img->ne[0], kw, s0, p0, d0), oh = conv_out(img->ne[1], kh, s1, p1, d1);
    if (ow <= 0 || oh <= 0)
        return graph__fail(g, SV_ERR_INVALID_ARG, "IM2COL of %s: kernel larger than the image", graph__shape(img));
    int64_t ne[4] = {kw * kh * img->ne[2], ow, oh, img->ne[3]};
    tensor *t = graph__new_op(g, TENSOR_OP_IM2COL, GGUF_TYPE_F32, ne);
    if (!t) return NULL;
    t->src[0] = img;
    int32_t prm[8] = {(int32_t)kw, (int32_t)kh, s0, s1, p0, p1, d0, d1};
    memcpy(t->params, prm, sizeof prm);
    return t;
}

tensor *graph_conv_2d(graph *g, tensor *kernel, tensor *img, int s0, int s1, int p0, int p1, int d0, int d1) {
    CHECK_ARGS(g, kernel, img);
    if (kernel->ne[2] != img->ne[2] || !tensor_is_contiguous(kernel))
        return graph__fail(g, SV_ERR_INVALID_ARG, "CONV_2D kernel %s over image %s", graph__shape(kernel),
                           graph__shape(img));
    tensor *cols = graph_im2col(g, img, kernel->ne[0], kernel->ne[1], s0, s1, p0, p1, d0, d1);
    tensor *w = graph_reshape_2d(g, kernel, kernel->ne[0] * kernel->ne[1] * kernel->ne[2], kernel->ne[3]);
    return graph_mul_mat(g, w, cols);
}

tensor *graph_pool_2d_avg(graph *g, tensor *a, int k0, int k1, int s0, int s1, int p0, int p1) {
    CHECK_ARGS(g, a);
    if (a->type != GGUF_TYPE_F32) return need_f32(g, "POOL_2D", a);
    if (k0 <= 0 || k1 <= 0 || s0 <= 0 || s1 <= 0 || p0 < 0 || p1 < 0 || p0 >= k0 || p1 >= k1)
        return graph__fail(g, SV_ERR_INVALID_ARG, "POOL_2D kernel %dx%d stride %d,%d pad %d,%d", k0, k1, s0, s1,
                           p0, p1);
    int64_t ow = conv_out(a->ne[0], k0, s0, p0, 1), oh = conv_out(a->ne[1], k1, s1, p1, 1);
    if (ow <= 0 || oh <= 0)
        return graph__fail(g, SV_ERR_INVALID_ARG, "POOL_2D of %s: kernel larger than the input", graph__shape(a));
    int64_t ne[4] = {ow, oh, a->ne[2], a->ne[3]};
    tensor *t = graph__new_op(g, TENSOR_OP_POOL_2D, GGUF_TYPE_F32, ne);
    if (!t) return NULL;
    t->src[0] = a;
    int32_t prm[6] = {k0, k1, s0, s1, p0, p1};
    memcpy(t->params, prm, sizeof prm);
    return t;
}
