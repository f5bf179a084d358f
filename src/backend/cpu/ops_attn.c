/* Fused attention: softmax(scale * q k^T [soft-capped] + mask) v per query
 * row, with a running maximum so the scores are never stored (flash-style). */
#include <math.h>
#include <string.h>

#include "backend/cpu/ops.h"

size_t cpu_flash_attn_work_size(const tensor *dst, int nth) {
    return (size_t)nth * (size_t)dst->src[2]->ne[0] * sizeof(float);
}

void cpu_op_flash_attn(const cpu_params *p, tensor *dst) {
    const tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[3];
    const cpu_vec_fns *fn = cpu_vec();
    float scale = tensor_get_param_f32(dst, 0), cap = tensor_get_param_f32(dst, 1);
    bool causal = dst->params[2] != 0;
    int64_t q_pos0 = dst->params[3], window = dst->params[4];
    int64_t d = q->ne[0], dv = v->ne[0], n_q = q->ne[1], n_head = q->ne[2], n_kv = k->ne[1];
    int64_t group = n_head / k->ne[2];
    bool f16 = k->type == GGUF_TYPE_F16;
    float *acc = (float *)p->work + (size_t)p->ith * (size_t)dv;
    int64_t r0, r1;
    cpu_split_rows(n_q * n_head * q->ne[3], p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t iq = r % n_q, h = (r / n_q) % n_head, b = r / (n_q * n_head);
        int64_t hk = h / group;
        const float *qr = (const float *)(const void *)((const char *)q->data + iq * q->nb[1] + h * q->nb[2] +
                                                        b * q->nb[3]);
        const char *kbase = (const char *)k->data + hk * k->nb[2] + b * k->nb[3];
        const char *vbase = (const char *)v->data + hk * v->nb[2] + b * v->nb[3];
        const char *mr = mask ? (const char *)mask->data + iq * mask->nb[1] : NULL;
        int64_t qpos = q_pos0 + iq;
        float m = -INFINITY, sum = 0.0f;
        memset(acc, 0, (size_t)dv * sizeof(float));
        for (int64_t j = 0; j < n_kv; j++) {
            if (causal && (j > qpos || (window > 0 && qpos - j >= window))) continue;
            float mv = 0.0f;
            if (mr) {
                if (mask->type == GGUF_TYPE_F32) memcpy(&mv, mr + j * 4, 4);
                else {
                    uint16_t hm;
                    memcpy(&hm, mr + j * 2, 2);
                    mv = tensor_f16_to_f32(hm);
                }
                if (mv == -INFINITY) continue;
            }
            const void *kr = kbase + j * k->nb[1];
            float s = f16 ? fn->dot_f16(qr, kr, d) : fn->dot(qr, kr, d);
            s *= scale;
            if (cap > 0.0f) s = cap * tanhf(s / cap);
            s += mv;
            float w;
            if (s > m) {
                float shrink = expf(m - s); /* 0 for the first key */
                m = s;
                fn->scale(acc, acc, shrink, dv);
                sum *= shrink;
                w = 1.0f;
            } else {
                w = expf(s - m);
            }
            const void *vr = vbase + j * v->nb[1];
            if (f16) fn->axpy_f16(acc, vr, w, dv);
            else fn->axpy(acc, vr, w, dv);
            sum += w;
        }
        float *out = (float *)(void *)((char *)dst->data + h * dst->nb[1] + iq * dst->nb[2] + b * dst->nb[3]);
        if (sum == 0.0f) memset(out, 0, (size_t)dv * sizeof(float));
        else fn->scale(out, acc, 1.0f / sum, dv);
    }
}
