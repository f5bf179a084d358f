/* Portable row helpers and the choice between them and the AVX2 ones. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "backend/cpu/ops.h"

/* f16 -> f32 by table (256 KiB, filled once): the portable attention reads
 * every K/V value through it, and a table load beats the bit manipulation. */
static float f16_table[1 << 16];
static pthread_once_t f16_once = PTHREAD_ONCE_INIT;

static void fill_f16_table(void) {
    for (uint32_t i = 0; i < (1u << 16); i++) f16_table[i] = tensor_f16_to_f32((uint16_t)i);
}

/* The float orders below are those of ggml's AVX2 CPU kernels (llama.cpp),
 * one lane at a time, so that both kernel sets give llama.cpp's results bit
 * for bit: a value that later rounds to 8 bits (activation quantization)
 * must not differ in its last place. fmaf is one rounding, like the FMA
 * instructions; plain a * b + c (no contraction in C11 mode) is two. */

/* ggml_vec_dot_f32: four 8-lane FMA chains over each 32 values, the chains
 * folded pairwise (0+2, 1+3, then together), the 8 lanes folded as
 * (l0+l4 + l1+l5) + (l2+l6 + l3+l7); a tail of n % 32 added in order. */
static float dot_fold32(const float acc[32]) {
    float v[8], t[4];
    for (int l = 0; l < 8; l++) v[l] = (acc[l] + acc[16 + l]) + (acc[8 + l] + acc[24 + l]);
    for (int m = 0; m < 4; m++) t[m] = v[m] + v[m + 4];
    return (t[0] + t[1]) + (t[2] + t[3]);
}

/* One 8-lane horizontal sum as ggml's AVX2 softmax and tinyBLAS fold it:
 * upper half onto lower, then (l0+l2) + (l1+l3). */
static float hsum8(const float a[8]) {
    float h[4];
    for (int m = 0; m < 4; m++) h[m] = a[m + 4] + a[m];
    return (h[0] + h[2]) + (h[1] + h[3]);
}

static float dot(const float *x, const float *y, int64_t n) {
    float acc[32] = {0};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 32; k++) acc[k] = fmaf(x[i + k], y[i + k], acc[k]);
    float s = dot_fold32(acc);
    for (; i < n; i++) s += x[i] * y[i];
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
    for (int64_t i = 0; i < n; i++) y[i] = fmaf(a, x[i], y[i]);
}

static float vmax(const float *x, int64_t n) {
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* exp(x) the way ggml's vector kernels compute it (ARM optimized-routines'
 * expf: x = n ln2 + b with n from the 1.5 * 2^23 rounding trick, a degree-5
 * polynomial in b, 2^n through the exponent bits, with a two-factor scale
 * where 2^n alone would overflow or underflow). */
float cpu_expf_ggml(float x) {
    const float shift = 0x1.8p23f;
    float z = fmaf(x, 0x1.715476p+0f, shift);
    float n = z - shift;
    float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    uint32_t e = f2u(z) << 23;
    float k = u2f(e + f2u(1.0f));
    float u = b * b;
    float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                   0x1.ffffecp-1f * b);
    if (!(fabsf(n) > 126.0f)) return fmaf(k, j, k);
    uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
    float s1 = u2f(g + 0x7f000000u), s2 = u2f(e - g);
    if (fabsf(n) > 192.0f) return s1 * s1;
    return fmaf(s2, j, s2) * s1;
}

/* ggml_vec_soft_max_f32: groups of 8 through the vector exp, each group's
 * sum folded in float and added in double; the tail through expf. */
static double exp_sum(float *y, const float *x, float m, int64_t n) {
    double s = 0.0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) y[i + l] = cpu_expf_ggml(x[i + l] - m);
        s += (double)hsum8(y + i);
    }
    for (; i < n; i++) {
        y[i] = expf(x[i] - m);
        s += (double)y[i];
    }
    return s;
}

static void f16_to_f32(float *y, const uint16_t *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = f16_table[x[i]];
}

static float dot_f16(const float *x, const uint16_t *y, int64_t n) {
    float acc[32] = {0};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 32; k++) acc[k] = fmaf(x[i + k], f16_table[y[i + k]], acc[k]);
    float s = dot_fold32(acc);
    for (; i < n; i++) s += x[i] * f16_table[y[i]];
    return s;
}

/* SiLU as ggml_vec_swiglu_f32 / ggml_vec_silu_f32: x / (1 + exp(-x)) with
 * the vector exp for each full group of 8, expf for the tail. */
static float silu_at(float x, bool vector_lane) {
    return x / (1.0f + (vector_lane ? cpu_expf_ggml(-x) : expf(-x)));
}

static void glu(float *y, const float *a, const float *b, tensor_unary_op act, int64_t n) {
    int64_t n8 = n - n % 8;
    for (int64_t i = 0; i < n; i++) {
        float x = a[i], v;
        if (act == TENSOR_UNARY_SILU) v = silu_at(x, i < n8);
        else v = 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
        y[i] = b ? v * b[i] : v;
    }
}

static void attn_scores(const float *q, size_t qs, int nq, const char *k, size_t rb, bool f16, int64_t d,
                        const float *vis, int64_t n, float *tmp, float *out, size_t os) {
    for (int64_t j = 0; j < n; j++) {
        if (vis[j] == -INFINITY) {
            for (int g = 0; g < nq; g++) out[(size_t)g * os + (size_t)j] = 0.0f;
            continue;
        }
        const float *kj = (const float *)(const void *)(k + (size_t)j * rb);
        if (f16) {
            f16_to_f32(tmp, (const uint16_t *)(const void *)kj, d);
            kj = tmp;
        }
        for (int g = 0; g < nq; g++) out[(size_t)g * os + (size_t)j] = dot(q + (size_t)g * qs, kj, d);
    }
}

static void attn_accumulate(float *acc, int lanes, int64_t w, int nq, const float *p, size_t ps, const char *v,
                            size_t rb, bool f16, int64_t c0, const float *vis, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        if (vis[j] == -INFINITY) continue;
        const char *vj = v + (size_t)j * rb;
        float *lane = acc + (j % lanes) * w;
        for (int g = 0; g < nq; g++) {
            float pj = p[(size_t)g * ps + (size_t)j], *a = lane + (int64_t)g * lanes * w;
            for (int64_t i = 0; i < w; i++) {
                float x = f16 ? f16_table[((const uint16_t *)(const void *)vj)[c0 + i]]
                              : ((const float *)(const void *)vj)[c0 + i];
                a[i] = fmaf(pj, x, a[i]);
            }
        }
    }
}

static const cpu_vec_fns generic = {
    .dot = dot, .sum_sq = sum_sq, .scale = scale, .axpy = axpy, .max = vmax, .exp_sum = exp_sum,
    .f16_to_f32 = f16_to_f32, .dot_f16 = dot_f16, .glu = glu,
    .attn_scores = attn_scores, .attn_accumulate = attn_accumulate,
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
