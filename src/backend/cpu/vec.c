/* Portable row helpers and the choice between them and the AVX2 ones. */
#include <math.h>
#include <pthread.h>

#include "backend/cpu/ops.h"

/* f16 -> f32 by table (256 KiB, filled once): the portable attention reads
 * every K/V value through it, and a table load beats the bit manipulation. */
static float f16_table[1 << 16];
static pthread_once_t f16_once = PTHREAD_ONCE_INIT;

static void fill_f16_table(void) {
    for (uint32_t i = 0; i < (1u << 16); i++) f16_table[i] = tensor_f16_to_f32((uint16_t)i);
}

/* Eight running sums: independent chains the compiler can pipeline or vectorise. */
static float dot(const float *x, const float *y, int64_t n) {
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += x[i + k] * y[i + k];
    for (; i < n; i++) s[0] += x[i] * y[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
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
    for (int64_t i = 0; i < n; i++) y[i] = f16_table[x[i]];
}

static float dot_f16(const float *x, const uint16_t *y, int64_t n) {
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += x[i + k] * f16_table[y[i + k]];
    for (; i < n; i++) s[0] += x[i] * f16_table[y[i]];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static void axpy_f16(float *y, const uint16_t *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * f16_table[x[i]];
}

static void dot_f16_rows(const float *x, size_t xs, int nx, const uint16_t *y, int64_t n, float *out) {
    for (int r = 0; r < nx; r++) out[r] = dot_f16(x + (size_t)r * xs, y, n);
}

static void axpy_f16_rows(float *y, size_t ys, int ny, const uint16_t *x, const float *a, int64_t n) {
    for (int r = 0; r < ny; r++) axpy_f16(y + (size_t)r * ys, x, a[r], n);
}

static void glu(float *y, const float *a, const float *b, tensor_unary_op act, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float x = a[i], v;
        if (act == TENSOR_UNARY_SILU) v = x / (1.0f + expf(-x));
        else v = 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
        y[i] = b ? v * b[i] : v;
    }
}

static const cpu_vec_fns generic = {
    .dot = dot, .sum_sq = sum_sq, .scale = scale, .axpy = axpy, .max = vmax, .exp_sum = exp_sum,
    .f16_to_f32 = f16_to_f32, .dot_f16 = dot_f16, .axpy_f16 = axpy_f16,
    .dot_f16_rows = dot_f16_rows, .axpy_f16_rows = axpy_f16_rows, .glu = glu,
};

const cpu_vec_fns *cpu_vec_generic(void) {
    pthread_once(&f16_once, fill_f16_table);
    return &generic;
}

const cpu_vec_fns *cpu_vec(void) {
    /* The kernel set the type traits chose (SOVA_CPU=generic forces portable). */
    if (tensor_cpu_active() == TENSOR_CPU_AVX2 || tensor_cpu_active() == TENSOR_CPU_AVX512) {
        const cpu_vec_fns *v = cpu_vec_avx2();
        if (v) return v;
    }
    return cpu_vec_generic();
}

#if !defined(__x86_64__)
const cpu_vec_fns *cpu_vec_avx2(void) {
    return NULL;
}
#endif
