/* Fused attention: softmax(scale * q k^T [soft-capped] + mask) v without
 * storing the score matrix (flash-style running maximum).
 *
 * One task is (query row, KV head, batch) and handles all query heads that
 * share the KV head (grouped-query attention), so each K and V row is loaded
 * once per group instead of once per head. Keys go in blocks: the block's
 * scores for every head of the group, one maximum/rescale per block, a
 * vectorised exp, then the V accumulation. F16 K/V are read directly;
 * other types (a Q8_0 cache) are dequantized a row at a time, once per group. */
#include <math.h>
#include <string.h>

#include "backend/cpu/ops.h"

enum { KV_BLOCK = 64 };

static int64_t group_of(const tensor *dst) {
    return dst->src[0]->ne[2] / dst->src[1]->ne[2];
}

size_t cpu_flash_attn_work_size(const tensor *dst, int nth) {
    size_t per = (size_t)group_of(dst) * ((size_t)dst->src[2]->ne[0] + KV_BLOCK + 3) + KV_BLOCK +
                 (size_t)dst->src[1]->ne[0] + (size_t)dst->src[2]->ne[0];
    return (size_t)nth * per * sizeof(float);
}

void cpu_op_flash_attn(const cpu_params *p, tensor *dst) {
    const tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[3];
    const cpu_vec_fns *fn = cpu_vec();
    float scale = tensor_get_param_f32(dst, 0), cap = tensor_get_param_f32(dst, 1);
    bool causal = dst->params[2] != 0;
    int64_t q_pos0 = dst->params[3], window = dst->params[4];
    int64_t d = q->ne[0], dv = v->ne[0], n_q = q->ne[1], n_kv = k->ne[1], n_hk = k->ne[2];
    int64_t G = group_of(dst);
    bool f16 = k->type == GGUF_TYPE_F16, f32 = k->type == GGUF_TYPE_F32;
    tensor_to_float_fn deq = f16 || f32 ? NULL : tensor_type_get(k->type)->to_float;

    /* per thread: acc[G][dv], s[G][KV_BLOCK], m[G], sum[G], dots[G], bias[KV_BLOCK], krow[d], vrow[dv] */
    float *acc = (float *)p->work + (size_t)p->ith * ((size_t)G * ((size_t)dv + KV_BLOCK + 3) + KV_BLOCK +
                                                      (size_t)d + (size_t)dv);
    float *s = acc + G * dv, *m = s + G * KV_BLOCK, *sum = m + G, *dots = sum + G, *bias = dots + G;
    float *krow = bias + KV_BLOCK, *vrow = krow + d;

    int64_t r0, r1;
    cpu_split_rows(n_q * n_hk * q->ne[3], p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t iq = r % n_q, hk = (r / n_q) % n_hk, b = r / (n_q * n_hk);
        const char *qbase = (const char *)q->data + iq * q->nb[1] + b * q->nb[3];
        const char *kbase = (const char *)k->data + hk * k->nb[2] + b * k->nb[3];
        const char *vbase = (const char *)v->data + hk * v->nb[2] + b * v->nb[3];
        const char *mr = mask ? (const char *)mask->data + iq * mask->nb[1] : NULL;
        int64_t qpos = q_pos0 + iq;
        memset(acc, 0, (size_t)(G * dv) * sizeof(float));
        for (int64_t g = 0; g < G; g++) {
            m[g] = -INFINITY;
            sum[g] = 0.0f;
        }
        for (int64_t j0 = 0; j0 < n_kv; j0 += KV_BLOCK) {
            int64_t nb = n_kv - j0 < KV_BLOCK ? n_kv - j0 : KV_BLOCK;
            int64_t n_vis = 0;
            for (int64_t jj = 0; jj < nb; jj++) {
                int64_t j = j0 + jj;
                float bv = 0.0f;
                if (causal && (j > qpos || (window > 0 && qpos - j >= window))) bv = -INFINITY;
                else if (mr) {
                    if (mask->type == GGUF_TYPE_F32) memcpy(&bv, mr + j * 4, 4);
                    else {
                        uint16_t hm;
                        memcpy(&hm, mr + j * 2, 2);
                        bv = tensor_f16_to_f32(hm);
                    }
                }
                bias[jj] = bv;
                n_vis += bv != -INFINITY;
            }
            if (n_vis == 0) continue;
            for (int64_t jj = 0; jj < nb; jj++) {
                if (bias[jj] == -INFINITY) {
                    for (int64_t g = 0; g < G; g++) s[g * KV_BLOCK + jj] = -INFINITY;
                    continue;
                }
                const void *kr = kbase + (j0 + jj) * k->nb[1];
                if (deq) {
                    deq(kr, krow, d);
                    kr = krow;
                }
                const float *q0 = (const float *)(const void *)(qbase + hk * G * q->nb[2]);
                size_t qs = q->nb[2] / sizeof(float);
                if (f16) fn->dot_f16_rows(q0, qs, (int)G, kr, d, dots);
                else
                    for (int64_t g = 0; g < G; g++) dots[g] = fn->dot(q0 + (size_t)g * qs, kr, d);
                for (int64_t g = 0; g < G; g++) {
                    float sc = dots[g] * scale;
                    if (cap > 0.0f) sc = cap * tanhf(sc / cap);
                    s[g * KV_BLOCK + jj] = sc + bias[jj];
                }
            }
            for (int64_t g = 0; g < G; g++) {
                float *sg = s + g * KV_BLOCK;
                float bm = fn->max(sg, nb);
                if (bm == -INFINITY) continue;
                if (bm > m[g]) {
                    float shrink = expf(m[g] - bm); /* 0 for the first visible block */
                    fn->scale(acc + g * dv, acc + g * dv, shrink, dv);
                    sum[g] *= shrink;
                    m[g] = bm;
                }
                sum[g] += fn->exp_sum(sg, sg, m[g], nb);
            }
            for (int64_t jj = 0; jj < nb; jj++) {
                if (bias[jj] == -INFINITY) continue;
                const void *vr = vbase + (j0 + jj) * v->nb[1];
                if (deq) {
                    deq(vr, vrow, dv);
                    vr = vrow;
                }
                for (int64_t g = 0; g < G; g++) dots[g] = s[g * KV_BLOCK + jj];
                if (f16) fn->axpy_f16_rows(acc, (size_t)dv, (int)G, vr, dots, dv);
                else
                    for (int64_t g = 0; g < G; g++) fn->axpy(acc + g * dv, vr, dots[g], dv);
            }
        }
        for (int64_t g = 0; g < G; g++) {
            float *out = (float *)(void *)((char *)dst->data + (hk * G + g) * dst->nb[1] + iq * dst->nb[2] +
                                           b * dst->nb[3]);
            if (sum[g] == 0.0f) memset(out, 0, (size_t)dv * sizeof(float));
            else fn->scale(out, acc + g * dv, 1.0f / sum[g], dv);
        }
    }
}
