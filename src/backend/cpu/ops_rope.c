/* Rotary position embedding: NORMAL, NEOX, multi-section MROPE and 2-D VISION. */
#include <math.h>
#include <string.h>

#include "backend/cpu/ops.h"
#include "tensor/graph.h"

/* Section of pair k for multi-section modes, and where that section starts. */
static int section_of(const int32_t *sect, int64_t k, int64_t *start) {
    int64_t total = sect[0] + sect[1] + sect[2] + sect[3];
    int64_t sector = k % total, lo = 0;
    for (int s = 0; s < 3; s++) {
        if (sector < lo + sect[s]) {
            *start = lo;
            return s;
        }
        lo += sect[s];
    }
    *start = lo;
    return 3;
}

void cpu_op_rope(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0], *pos = dst->src[1];
    int64_t n_dims = dst->params[0];
    int mode = dst->params[1];
    float base = tensor_get_param_f32(dst, 2), fscale = tensor_get_param_f32(dst, 3);
    const int32_t *sect = &dst->params[4];
    const int32_t *posv = pos->data;
    const float *ff = dst->src[2] ? dst->src[2]->data : NULL;
    int64_t n_tok = a->ne[2], d = a->ne[0];
    float theta_scale = powf(base, -2.0f / (float)n_dims);
    int64_t n_pairs = mode == TENSOR_ROPE_VISION ? n_dims : n_dims / 2;
    int64_t half = mode == TENSOR_ROPE_VISION ? n_dims : n_dims / 2;
    /* per thread: a row buffer [d] and cos/sin of the current token [2 * n_pairs <= d] */
    float *buf = (float *)p->work + (size_t)p->ith * 2 * (size_t)d;
    float *cs = buf + d, *sn = cs + n_pairs;
    int64_t cached_t = -1;
    int64_t r0, r1;
    cpu_split_rows(tensor_nrows(a), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t t = (r / a->ne[1]) % n_tok;
        const char *ar = cpu_row(a, r);
        const float *x = (const float *)(const void *)ar;
        if (a->nb[0] != sizeof(float)) {
            cpu_load_row(a, ar, buf);
            x = buf;
        }
        float *y = (float *)(void *)cpu_row(dst, r);
        if (y != x) memcpy(y, x, (size_t)d * sizeof(float));
        /* Heads of one token share their angles: compute them once per token. */
        if (t != cached_t) {
            cached_t = t;
            bool sectioned = mode == TENSOR_ROPE_MROPE || mode == TENSOR_ROPE_VISION;
            /* NORMAL/NEOX: ggml's chain theta_k = p ts^k, one rounding per
             * pair, then / factor, then * freq_scale (the same bits as
             * llama.cpp; the angles feed 8-bit activations downstream). */
            float chain = (float)posv[t];
            float theta_pow = 1.0f; /* theta_scale^k, kept by multiplication */
            int64_t prev_start = -1;
            for (int64_t k = 0; k < n_pairs; k++) {
                float theta;
                if (sectioned) {
                    int64_t start;
                    int sec = section_of(sect, k, &start);
                    float pk = (float)posv[sec * n_tok + t];
                    if (mode == TENSOR_ROPE_VISION && start != prev_start) {
                        theta_pow = 1.0f;
                        prev_start = start;
                    }
                    theta = pk * fscale * theta_pow;
                    if (ff) theta /= ff[k];
                    theta_pow *= theta_scale;
                } else {
                    theta = fscale * (ff ? chain / ff[k] : chain);
                    chain *= theta_scale;
                }
                cs[k] = cosf(theta);
                sn[k] = sinf(theta);
            }
        }
        for (int64_t k = 0; k < n_pairs; k++) {
            float c = cs[k], s = sn[k];
            int64_t i0, i1;
            if (mode == TENSOR_ROPE_NORMAL) {
                i0 = 2 * k;
                i1 = 2 * k + 1;
            } else {
                i0 = k;
                i1 = k + half;
            }
            float x0 = x[i0], x1 = x[i1];
            /* The contraction GCC makes of ggml's x0 c - x1 s and x0 s + x1 c
             * (one FMA each, the second product rounded): llama.cpp's bits. */
            y[i0] = fmaf(x0, c, -(x1 * s));
            y[i1] = fmaf(x0, s, x1 * c);
        }
    }
}
