/* Row-wise kernels: RMS_NORM, NORM and SOFT_MAX (scale, soft-cap, mask). */
#include <math.h>
#include <string.h>

#include "backend/cpu/ops.h"

/* The row as contiguous floats: the row itself, or a copy in buf. */
static const float *row_f32(const tensor *t, const char *row, float *buf) {
    if (t->nb[0] == sizeof(float)) return (const float *)(const void *)row;
    cpu_load_row(t, row, buf);
    return buf;
}

void cpu_op_norm(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0];
    const cpu_vec_fns *v = cpu_vec();
    float eps = tensor_get_param_f32(dst, 0);
    int64_t n = a->ne[0], r0, r1;
    float *buf = (float *)p->work + (size_t)p->ith * (size_t)n;
    cpu_split_rows(tensor_nrows(a), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = row_f32(a, cpu_row(a, r), buf);
        float *y = (float *)(void *)cpu_row(dst, r);
        if (dst->op == TENSOR_OP_RMS_NORM) {
            /* ggml's order: float squares summed in double, the mean rounded
             * to float before eps (the scale feeds 8-bit activations). */
            double ss = 0.0;
            for (int64_t i = 0; i < n; i++) ss += (double)(x[i] * x[i]);
            float ms = (float)(ss / (double)n);
            v->scale(y, x, 1.0f / sqrtf(ms + eps), n);
        } else {
            float sum = 0.0f;
            for (int64_t i = 0; i < n; i++) sum += x[i];
            float mean = sum / (float)n;
            for (int64_t i = 0; i < n; i++) y[i] = x[i] - mean;
            float var = v->sum_sq(y, n) / (float)n;
            v->scale(y, y, 1.0f / sqrtf(var + eps), n);
        }
    }
}

void cpu_op_soft_max(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0], *mask = dst->src[1];
    const cpu_vec_fns *v = cpu_vec();
    float scale = tensor_get_param_f32(dst, 0), cap = tensor_get_param_f32(dst, 1);
    int64_t n = a->ne[0], r0, r1;
    float *buf = (float *)p->work + (size_t)p->ith * 2 * (size_t)n;
    float *mrow = buf + n;
    cpu_split_rows(tensor_nrows(a), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t i1 = r % a->ne[1], i2 = (r / a->ne[1]) % a->ne[2], i3 = r / (a->ne[1] * a->ne[2]);
        const float *x = row_f32(a, cpu_row(a, r), buf);
        float *y = (float *)(void *)cpu_row(dst, r);
        v->scale(y, x, scale, n);
        if (cap > 0.0f)
            for (int64_t i = 0; i < n; i++) y[i] = cap * tanhf(y[i] / cap);
        if (mask) {
            const char *mr = (const char *)mask->data + i1 * mask->nb[1] + (i2 % mask->ne[2]) * mask->nb[2] +
                             (i3 % mask->ne[3]) * mask->nb[3];
            const float *m = (const float *)(const void *)mr;
            if (mask->type != GGUF_TYPE_F32) {
                v->f16_to_f32(mrow, (const uint16_t *)(const void *)mr, n);
                m = mrow;
            }
            for (int64_t i = 0; i < n; i++) y[i] += m[i];
        }
        float mx = v->max(y, n);
        if (mx == -INFINITY) {
            /* Every position masked: an all-zero row rather than NaNs. */
            memset(y, 0, (size_t)n * sizeof(float));
            continue;
        }
        double sum = v->exp_sum(y, y, mx, n);
        v->scale(y, y, (float)(1.0 / sum), n);
    }
}
