/* Fused attention: softmax(scale * q k^T [soft-capped] + mask) v.
 *
 * The arithmetic is llama.cpp's attention without flash attention (the
 * KQ matmul, soft_max_ext, the KQV matmul) in ggml's CPU float order, so an
 * F32 cache gives llama.cpp's bits: quantized models turn the output into
 * 8-bit activations, where one changed last place can flip a rounding and,
 * through the cache, every later token. What that takes:
 * - a score is ggml_vec_dot_f32 (cpu_vec()->dot), times scale, plus mask;
 * - softmax over the whole row: maximum, ggml's vector exp and its sum in
 *   groups of 8 from cell 0 (masked cells count as 0), then times the float
 *   of 1 / sum taken in double;
 * - the output sums p_j v_j as ggml's KQV matmul does: with one query row
 *   (decode) ggml_vec_dot_f32 over the cells (32 lanes, lane j % 32), with
 *   more (a prompt) llamafile's tinyBLAS (8 lanes, lane j % 8). Cells
 *   padded or masked add exact zeros in ggml and are skipped here.
 *
 * One task is (query row, KV head, batch) and handles all query heads that
 * share the KV head (grouped-query attention), so each K and V row is
 * converted once per group. The output is built 32 columns at a time, one
 * FMA chain per lane, folded at the end. F16 K/V are read directly; other
 * types (a Q8_0 cache) are dequantized a row at a time. */
#include <math.h>
#include <string.h>

#include "backend/cpu/ops.h"

enum { LANES_MAX = 32, COLS = 32, ACC_FLOATS = 16384 };

static int64_t group_of(const tensor *dst) {
    return dst->src[0]->ne[2] / dst->src[1]->ne[2];
}

/* Cells rounded up to ggml's softmax groups of 8. */
static int64_t padded_kv(const tensor *dst) {
    return (dst->src[1]->ne[1] + 7) / 8 * 8;
}

/* Output columns per pass over the cells: the whole row while the lane sums
 * of the group stay within ACC_FLOATS (one pass reads V sequentially), else
 * COLS; types dequantized a row at a time take the whole row. */
static int64_t pass_cols(const tensor *dst, int lanes) {
    const tensor *v = dst->src[2];
    bool direct = v->type == GGUF_TYPE_F16 || v->type == GGUF_TYPE_F32;
    if (!direct || group_of(dst) * lanes * v->ne[0] <= ACC_FLOATS) return v->ne[0];
    return v->ne[0] > COLS ? COLS : v->ne[0];
}

/* Cells the K view can grow to within its source (the whole cache), rounded
 * to 8: the scratch is sized for them, so that decode steps, whose view
 * grows by a cell each, never regrow it. */
static int64_t kv_capacity(const tensor *dst) {
    const tensor *k = dst->src[1];
    int64_t n = k->ne[1];
    if (k->view_src && k->nb[1] > 0 && k->view_offs < tensor_nbytes(k->view_src)) {
        int64_t rows = (int64_t)((tensor_nbytes(k->view_src) - k->view_offs) / k->nb[1]);
        if (rows > n) n = rows;
    }
    return (n + 7) / 8 * 8;
}

/* Lane sums of one pass, for either lane count. */
static size_t acc_floats(const tensor *dst) {
    int64_t a8 = 8 * pass_cols(dst, 8), a32 = 32 * pass_cols(dst, 32);
    return (size_t)(group_of(dst) * (a8 > a32 ? a8 : a32));
}

/* Per thread: scores [G][cells], bias [cells], lane sums (acc_floats), a K
 * row [d] and a V row [dv], for kv_capacity cells. */
static size_t per_thread(const tensor *dst) {
    size_t G = (size_t)group_of(dst), n8 = (size_t)kv_capacity(dst);
    return G * n8 + n8 + acc_floats(dst) + (size_t)dst->src[1]->ne[0] + (size_t)dst->src[2]->ne[0];
}

size_t cpu_flash_attn_work_size(const tensor *dst, int nth) {
    return (size_t)nth * per_thread(dst) * sizeof(float);
}

/* bias[j]: 0, the mask value, or -inf for cells the query may not see
 * (causal, sliding window, padding). Returns the visible span [*lo, *hi)
 * (empty when no cell is visible). */
static void fill_bias(const tensor *dst, int64_t iq, int64_t n8, float *bias, int64_t *lo, int64_t *hi) {
    const tensor *k = dst->src[1], *mask = dst->src[3];
    bool causal = dst->params[2] != 0;
    int64_t qpos = dst->params[3] + iq, window = dst->params[4], n_kv = k->ne[1];
    const char *mr = mask ? (const char *)mask->data + iq * mask->nb[1] : NULL;
    *lo = n8;
    *hi = 0;
    for (int64_t j = 0; j < n8; j++) {
        float bv = 0.0f;
        if (j >= n_kv || (causal && (j > qpos || (window > 0 && qpos - j >= window)))) bv = -INFINITY;
        else if (mr) {
            if (mask->type == GGUF_TYPE_F32) memcpy(&bv, mr + j * 4, 4);
            else {
                uint16_t hm;
                memcpy(&hm, mr + j * 2, 2);
                bv = tensor_f16_to_f32(hm);
            }
        }
        bias[j] = bv;
        if (bv != -INFINITY) {
            if (j < *lo) *lo = j;
            *hi = j + 1;
        }
    }
}

/* Scores of the G heads of q against the n cells of a span (rows of s n8
 * apart), then the softmax in place: s[g * n8 + j] becomes the probability
 * of cell j (all 0 for a head with no finite score, so that its output is 0
 * rather than NaN). Cells outside the span are masked: they would add exact
 * zeros to ggml's sums. */
static void scores_softmax(const tensor *dst, const cpu_vec_fns *fn, const float *q0, size_t qs,
                           const char *kbase, const float *bias, int64_t n, int64_t n8, float *s, float *krow) {
    const tensor *k = dst->src[1];
    float scale = tensor_get_param_f32(dst, 0), cap = tensor_get_param_f32(dst, 1);
    int G = (int)group_of(dst);
    int64_t d = k->ne[0];
    bool f16 = k->type == GGUF_TYPE_F16, f32 = k->type == GGUF_TYPE_F32;
    if (f16 || f32) fn->attn_scores(q0, qs, G, kbase, k->nb[1], f16, d, bias, n, krow, s, (size_t)n8);
    else {
        tensor_to_float_fn deq = tensor_type_get(k->type)->to_float;
        for (int64_t j = 0; j < n; j++) {
            for (int64_t g = 0; g < G; g++) s[g * n8 + j] = 0.0f;
            if (bias[j] == -INFINITY) continue;
            deq(kbase + j * k->nb[1], krow, d);
            fn->attn_scores(q0, qs, G, (const char *)krow, 0, false, d, bias + j, 1, NULL, s + j, (size_t)n8);
        }
    }
    for (int64_t g = 0; g < G; g++) {
        float *sg = s + g * n8;
        /* Masked cells hold a 0 score here, and -inf after the bias. */
        fn->scale(sg, sg, scale, n);
        if (cap > 0.0f)
            for (int64_t j = 0; j < n; j++) sg[j] = cap * tanhf(sg[j] / cap);
        for (int64_t j = 0; j < n; j++) sg[j] += bias[j];
        float mx = fn->max(sg, n);
        if (mx == -INFINITY) {
            memset(sg, 0, (size_t)n * sizeof(float));
            continue;
        }
        double sum = fn->exp_sum(sg, sg, mx, n);
        fn->scale(sg, sg, (float)(1.0 / sum), n);
    }
}

static void add_rows(float *x, const float *y, int64_t w) {
    for (int64_t i = 0; i < w; i++) x[i] += y[i];
}

/* Folds the lane sums of one head (rows of w floats, destroyed) into out, in
 * ggml's order: 8 lanes as tinyBLAS's hsum, (l4+l0 + l6+l2) + (l5+l1 + l7+l3);
 * 32 as ggml_vec_dot_f32, chains 0+2 and 1+3 (lane l of chain c is row
 * 8c + l), then the 8 lanes as (l0+l4 + l1+l5) + (l2+l6 + l3+l7). */
static void fold_lanes(float *acc, int lanes, int64_t w, float *out) {
    float *a[LANES_MAX];
    for (int l = 0; l < lanes; l++) a[l] = acc + (int64_t)l * w;
    if (lanes == 32) {
        for (int l = 0; l < 8; l++) {
            add_rows(a[l], a[16 + l], w);
            add_rows(a[8 + l], a[24 + l], w);
            add_rows(a[l], a[8 + l], w);
        }
        for (int m = 0; m < 4; m++) add_rows(a[m], a[m + 4], w);
        add_rows(a[0], a[1], w);
        add_rows(a[2], a[3], w);
        for (int64_t i = 0; i < w; i++) out[i] = a[0][i] + a[2][i];
    } else {
        for (int m = 0; m < 4; m++) add_rows(a[m], a[m + 4], w);
        add_rows(a[0], a[2], w);
        add_rows(a[1], a[3], w);
        for (int64_t i = 0; i < w; i++) out[i] = a[0][i] + a[1][i];
    }
}

void cpu_op_flash_attn(const cpu_params *p, tensor *dst) {
    const tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2];
    const cpu_vec_fns *fn = cpu_vec();
    int64_t d = q->ne[0], dv = v->ne[0], n_q = q->ne[1], n_hk = k->ne[2];
    int lanes = n_q == 1 ? 32 : 8;
    int64_t G = group_of(dst), n8 = padded_kv(dst), wmax = pass_cols(dst, lanes);
    bool vf16 = v->type == GGUF_TYPE_F16, vf32 = v->type == GGUF_TYPE_F32;
    tensor_to_float_fn deq = vf16 || vf32 ? NULL : tensor_type_get(v->type)->to_float;

    float *s = (float *)p->work + (size_t)p->ith * per_thread(dst);
    int64_t cells = kv_capacity(dst);
    float *bias = s + G * cells, *acc = bias + cells, *krow = acc + acc_floats(dst), *vrow = krow + d;
    size_t qs = q->nb[2] / sizeof(float);

    int64_t r0, r1;
    cpu_split_rows(n_q * n_hk * q->ne[3], p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t iq = r % n_q, hk = (r / n_q) % n_hk, b = r / (n_q * n_hk);
        const char *kbase = (const char *)k->data + hk * k->nb[2] + b * k->nb[3];
        const char *vbase = (const char *)v->data + hk * v->nb[2] + b * v->nb[3];
        const float *q0 = (const float *)(const void *)((const char *)q->data + iq * q->nb[1] + hk * G * q->nb[2] +
                                                        b * q->nb[3]);
        float *out0 = (float *)(void *)((char *)dst->data + hk * G * dst->nb[1] + iq * dst->nb[2] + b * dst->nb[3]);
        size_t os = dst->nb[1] / sizeof(float);
        /* The span of visible cells from a multiple of the lane count (so that
         * j % lanes and ggml's groups of 8 keep their cell numbering) to a
         * multiple of 8. */
        int64_t lo, hi;
        fill_bias(dst, iq, n8, bias, &lo, &hi);
        lo -= lo % lanes;
        int64_t n = hi > lo ? (hi - lo + 7) / 8 * 8 : 0;
        const float *bs = bias + lo;
        float *ss = s + lo;
        if (n > 0) scores_softmax(dst, fn, q0, qs, kbase + lo * k->nb[1], bs, n, n8, ss, krow);
        for (int64_t c0 = 0; c0 < dv; c0 += wmax) {
            int64_t w = dv - c0 < wmax ? dv - c0 : wmax;
            memset(acc, 0, (size_t)(G * lanes * w) * sizeof(float));
            const char *vspan = vbase + lo * v->nb[1];
            if (!deq) fn->attn_accumulate(acc, lanes, w, (int)G, ss, (size_t)n8, vspan, v->nb[1], vf16, c0, bs, n);
            else
                for (int64_t j = 0; j < n; j++) {
                    if (bs[j] == -INFINITY) continue;
                    deq(vspan + j * v->nb[1], vrow, dv);
                    fn->attn_accumulate(acc + (j % lanes) * w, lanes, w, (int)G, ss + j, (size_t)n8,
                                        (const char *)vrow, 0, false, 0, bs + j, 1);
                }
            /* No visible cell: the lane sums stay 0 and so does the output. */
            for (int64_t g = 0; g < G; g++) fold_lanes(acc + g * lanes * w, lanes, w, out0 + (size_t)g * os + c0);
        }
    }
}
