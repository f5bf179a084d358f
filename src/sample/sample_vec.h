/* Small vector helpers for the whole-vocabulary loops of the samplers,
 * written with the GCC/Clang vector extension so they compile to SSE2 / NEON
 * on any target without per-ISA files; compilers do not vectorise the plain C
 * forms (branches, float reductions). Each has a scalar twin computing the
 * same values. Internal to src/sample/. */
#ifndef SAMPLE_VEC_H
#define SAMPLE_VEC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { SAMPLE_SCAN_BLOCK = 16 };

/* e^x for x <= 0 (or -INFINITY); 0 below -87.3 where floats run out. Cephes'
 * expf polynomial, rounding by the 1.5 * 2^23 trick and 2^n built from bits:
 * no libm, the same result on every platform, relative error a few 1e-7. */
#define SAMPLE_EXP_LO (-87.3f)
#define SAMPLE_EXP_SHIFTER 12582912.0f /* 1.5 * 2^23 */
#define SAMPLE_EXP_POLY(r, p)                              \
    do {                                                   \
        p = p * r + 1.3981999507e-3f;                      \
        p = p * r + 8.3334519073e-3f;                      \
        p = p * r + 4.1665795894e-2f;                      \
        p = p * r + 1.6666665459e-1f;                      \
        p = p * r + 5.0000001201e-1f;                      \
        p = p * r * r + r + 1.0f;                          \
    } while (0)

static inline float sample_exp_nonpos(float x) {
    const float xc = x < SAMPLE_EXP_LO ? SAMPLE_EXP_LO : x;
    const float n = (xc * 1.44269504088896341f + SAMPLE_EXP_SHIFTER) - SAMPLE_EXP_SHIFTER;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    SAMPLE_EXP_POLY(r, p);
    int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x >= SAMPLE_EXP_LO ? p * scale : 0.0f;
}

#if defined(__GNUC__)
#define SAMPLE_VEC 1
typedef float sample_v4f __attribute__((vector_size(16)));
typedef int32_t sample_v4i __attribute__((vector_size(16)));

static inline sample_v4f sample_v4f_splat(float v) { return (sample_v4f){v, v, v, v}; }

/* Lane-wise a > b ? a : b without branches (no NaN reaches it). */
static inline sample_v4f sample_v4f_max(sample_v4f a, sample_v4f b) {
    const sample_v4i gt = a > b;
    return (sample_v4f)(((sample_v4i)a & gt) | ((sample_v4i)b & ~gt));
}

/* sample_exp_nonpos on four lanes, the same operations in the same order. */
static inline sample_v4f sample_v4f_exp_nonpos(sample_v4f x) {
    const sample_v4f lo = sample_v4f_splat(SAMPLE_EXP_LO);
    const sample_v4i ok = x >= lo;
    const sample_v4f xc = sample_v4f_max(x, lo);
    const sample_v4f sh = sample_v4f_splat(SAMPLE_EXP_SHIFTER);
    const sample_v4f n = (xc * sample_v4f_splat(1.44269504088896341f) + sh) - sh;
    sample_v4f r = xc - n * sample_v4f_splat(0.693359375f);
    r = r - n * sample_v4f_splat(-2.12194440e-4f);
    sample_v4f p = sample_v4f_splat(1.9875691500e-4f);
    SAMPLE_EXP_POLY(r, p);
    const sample_v4i bits = (__builtin_convertvector(n, sample_v4i) + 127) * (1 << 23);
    return (sample_v4f)((sample_v4i)(p * (sample_v4f)bits) & ok);
}

/* Whether any of x[0..SAMPLE_SCAN_BLOCK) is > thr (false for NaN). x86-64
 * always has SSE2, whose movemask ends the test in one instruction where the
 * generic form needs four lane extracts. */
#if defined(__SSE2__)
static inline bool sample_block_any_gt(const float *x, float thr) {
    const __m128 t = _mm_set1_ps(thr);
    const __m128 ab = _mm_or_ps(_mm_cmpgt_ps(_mm_loadu_ps(x), t), _mm_cmpgt_ps(_mm_loadu_ps(x + 4), t));
    const __m128 cd = _mm_or_ps(_mm_cmpgt_ps(_mm_loadu_ps(x + 8), t), _mm_cmpgt_ps(_mm_loadu_ps(x + 12), t));
    return _mm_movemask_ps(_mm_or_ps(ab, cd)) != 0;
}
#else
static inline bool sample_block_any_gt(const float *x, float thr) {
    sample_v4f a, b, c, d;
    memcpy(&a, x, sizeof a);
    memcpy(&b, x + 4, sizeof b);
    memcpy(&c, x + 8, sizeof c);
    memcpy(&d, x + 12, sizeof d);
    const sample_v4f t = sample_v4f_splat(thr);
    const sample_v4i m = (a > t) | (b > t) | (c > t) | (d > t);
    return (m[0] | m[1] | m[2] | m[3]) != 0;
}
#endif
#else
#define SAMPLE_VEC 0
static inline bool sample_block_any_gt(const float *x, float thr) {
    int any = 0;
    for (int j = 0; j < SAMPLE_SCAN_BLOCK; j++) any |= x[j] > thr;
    return any != 0;
}
#endif

#endif
