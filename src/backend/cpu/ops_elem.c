/* Element-wise kernels: ADD/MUL with broadcast, SCALE, activations, GLU, ARGMAX. */
#include <math.h>
#include <string.h>

#include "backend/cpu/ops.h"

static inline float f32_at(const char *row, size_t stride, int64_t i) {
    float v;
    memcpy(&v, row + (size_t)i * stride, sizeof v);
    return v;
}

static inline void f32_put(char *row, size_t stride, int64_t i, float v) {
    memcpy(row + (size_t)i * stride, &v, sizeof v);
}

void cpu_op_binary(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0], *b = dst->src[1];
    bool mul = dst->op == TENSOR_OP_MUL;
    int64_t r0, r1;
    cpu_split_rows(tensor_nrows(dst), p->ith, p->nth, &r0, &r1);
    int64_t n = dst->ne[0], nb0 = b->ne[0];
    for (int64_t r = r0; r < r1; r++) {
        int64_t i1 = r % dst->ne[1], i2 = (r / dst->ne[1]) % dst->ne[2], i3 = r / (dst->ne[1] * dst->ne[2]);
        const char *ar = cpu_row(a, r);
        const char *br = (const char *)b->data + (i1 % b->ne[1]) * b->nb[1] + (i2 % b->ne[2]) * b->nb[2] +
                         (i3 % b->ne[3]) * b->nb[3];
        char *dr = cpu_row(dst, r);
        if (a->nb[0] == 4 && b->nb[0] == 4 && nb0 == n) {
            const float *x = (const float *)(const void *)ar, *y = (const float *)(const void *)br;
            float *z = (float *)(void *)dr;
            if (mul)
                for (int64_t i = 0; i < n; i++) z[i] = x[i] * y[i];
            else
                for (int64_t i = 0; i < n; i++) z[i] = x[i] + y[i];
            continue;
        }
        for (int64_t i = 0; i < n; i++) {
            float x = f32_at(ar, a->nb[0], i), y = f32_at(br, b->nb[0], i % nb0);
            f32_put(dr, dst->nb[0], i, mul ? x * y : x + y);
        }
    }
}

void cpu_op_scale(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0];
    float s = tensor_get_param_f32(dst, 0);
    int64_t r0, r1;
    cpu_split_rows(tensor_nrows(dst), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *ar = cpu_row(a, r);
        char *dr = cpu_row(dst, r);
        if (a->nb[0] == 4) cpu_vec()->scale((float *)(void *)dr, (const float *)(const void *)ar, s, dst->ne[0]);
        else
            for (int64_t i = 0; i < dst->ne[0]; i++) f32_put(dr, 4, i, s * f32_at(ar, a->nb[0], i));
    }
}

static inline float act(tensor_unary_op op, float x) {
    switch (op) {
    case TENSOR_UNARY_SILU: return x / (1.0f + expf(-x));
    case TENSOR_UNARY_GELU: {
        const float c = 0.7978845608028654f; /* sqrt(2/pi) */
        return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
    }
    case TENSOR_UNARY_GELU_ERF: return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
    default: return x;
    }
}

void cpu_op_unary(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0];
    tensor_unary_op op = (tensor_unary_op)dst->params[0];
    int64_t r0, r1;
    cpu_split_rows(tensor_nrows(dst), p->ith, p->nth, &r0, &r1);
    bool vec = op != TENSOR_UNARY_GELU_ERF && a->nb[0] == sizeof(float);
    for (int64_t r = r0; r < r1; r++) {
        const char *ar = cpu_row(a, r);
        float *d = (float *)(void *)cpu_row(dst, r);
        if (vec) cpu_vec()->glu(d, (const float *)(const void *)ar, NULL, op, dst->ne[0]);
        else
            for (int64_t i = 0; i < dst->ne[0]; i++) d[i] = act(op, f32_at(ar, a->nb[0], i));
    }
}

void cpu_op_glu(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0], *b = dst->src[1];
    tensor_unary_op op = (tensor_unary_op)dst->params[0];
    int64_t r0, r1;
    cpu_split_rows(tensor_nrows(dst), p->ith, p->nth, &r0, &r1);
    bool vec = op != TENSOR_UNARY_GELU_ERF && a->nb[0] == sizeof(float) && b->nb[0] == sizeof(float);
    for (int64_t r = r0; r < r1; r++) {
        const char *ar = cpu_row(a, r), *br = cpu_row(b, r);
        float *d = (float *)(void *)cpu_row(dst, r);
        if (vec)
            cpu_vec()->glu(d, (const float *)(const void *)ar, (const float *)(const void *)br, op, dst->ne[0]);
        else
            for (int64_t i = 0; i < dst->ne[0]; i++)
                d[i] = act(op, f32_at(ar, a->nb[0], i)) * f32_at(br, b->nb[0], i);
    }
}

void cpu_op_argmax(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0];
    int64_t r0, r1;
    cpu_split_rows(tensor_nrows(a), p->ith, p->nth, &r0, &r1);
    int32_t *out = dst->data;
    for (int64_t r = r0; r < r1; r++) {
        const char *ar = cpu_row(a, r);
        int64_t best = 0;
        float bv = f32_at(ar, a->nb[0], 0);
        for (int64_t i = 1; i < a->ne[0]; i++) {
            float v = f32_at(ar, a->nb[0], i);
            if (v > bv) {
                bv = v;
                best = i;
            }
        }
        out[r] = (int32_t)best;
    }
}
