/* Portable row helpers and the choice between them and the AVX2 ones. */
#include <math.h>

#include "backend/cpu/ops.h"

static float dot(const float *x, const float *y, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}

static float sum_sq(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return (float)s;
}

static void scale(float *y, const float *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = a * x[i];
}

static void axpy(float *y, const float *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static float vmax(const float *x, int64_t n) {
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

static float exp_sum(float *y, const float *x, float m, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        y[i] = expf(x[i] - m);
        s += y[i];
    }
    return (float)s;
}

static void f16_to_f32(float *y, const uint16_t *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = tensor_f16_to_f32(x[i]);
}

static float dot_f16(const float *x, const uint16_t *y, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += x[i] * tensor_f16_to_f32(y[i]);
    return s;
}

static void axpy_f16(float *y, const uint16_t *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * tensor_f16_to_f32(x[i]);
}

static const cpu_vec_fns generic = {
    .dot = dot, .sum_sq = sum_sq, .scale = scale, .axpy = axpy, .max = vmax, .exp_sum = exp_sum,
    .f16_to_f32 = f16_to_f32, .dot_f16 = dot_f16, .axpy_f16 = axpy_f16,
};

const cpu_vec_fns *cpu_vec_generic(void) {
    return &generic;
}

const cpu_vec_fns *cpu_vec(void) {
    /* The kernel set the type traits chose (SOVA_CPU=generic forces portable). */
    if (tensor_cpu_active() == TENSOR_CPU_AVX2) {
        const cpu_vec_fns *v = cpu_vec_avx2();
        if (v) return v;
    }
    return &generic;
}

#if !defined(__x86_64__)
const cpu_vec_fns *cpu_vec_avx2(void) {
    return NULL;
}
#endif
