/* AVX2+FMA+F16C row helpers (compiled with those flags only; chosen at run
 * time after the CPU check). */
#include <immintrin.h>
#include <math.h>

#include "backend/cpu/ops.h"

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float dot(const float *x, const float *y, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

static float sum_sq(const float *x, int64_t n) {
    return dot(x, x, n);
}

static void scale(float *y, const float *x, float a, int64_t n) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(va, _mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = a * x[i];
}

static void axpy(float *y, const float *x, float a, int64_t n) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static float vmax(const float *x, int64_t n) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float r = _mm_cvtss_f32(h);
    for (; i < n; i++)
        if (x[i] > r) r = x[i];
    return r;
}

/* exp(x) for x <= 88: x = k ln2 + r with |r| <= ln2/2, a degree-6 Taylor
 * polynomial for exp(r) (relative error < 2e-7), 2^k through the exponent
 * bits; below -87.3 the result is 0 (denormals are not worth the cost). */
static inline __m256 exp256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f);
    __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(88.0f));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    __m256 res = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(under, res);
}

static float exp_sum(float *y, const float *x, float m, int64_t n) {
    __m256 vm = _mm256_set1_ps(m), s = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(y + i, e);
        s = _mm256_add_ps(s, e);
    }
    float t = hsum(s);
    for (; i < n; i++) {
        y[i] = expf(x[i] - m);
        t += y[i];
    }
    return t;
}

static void f16_to_f32(float *y, const uint16_t *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + i))));
    for (; i < n; i++) y[i] = tensor_f16_to_f32(x[i]);
}

static float dot_f16(const float *x, const uint16_t *y, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 y0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(y + i)));
        __m256 y1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(y + i + 8)));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), y0, a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), y1, a1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 y0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(y + i)));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), y0, a0);
    }
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += x[i] * tensor_f16_to_f32(y[i]);
    return s;
}

static void axpy_f16(float *y, const uint16_t *x, float a, int64_t n) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + i)));
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
    }
    for (; i < n; i++) y[i] += a * tensor_f16_to_f32(x[i]);
}

static inline __m256 load_h(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
}

/* Up to four rows per pass: each converted f16 vector feeds four FMAs. */
static void dot_f16_rows(const float *x, size_t xs, int nx, const uint16_t *y, int64_t n, float *out) {
    for (int r0 = 0; r0 < nx; r0 += 4) {
        int nr = nx - r0 < 4 ? nx - r0 : 4;
        const float *x0 = x + (size_t)r0 * xs;
        if (nr < 4) {
            for (int r = 0; r < nr; r++) out[r0 + r] = dot_f16(x0 + (size_t)r * xs, y, n);
            continue;
        }
        const float *x1 = x0 + xs, *x2 = x1 + xs, *x3 = x2 + xs;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256 k = load_h(y + i);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x0 + i), k, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x1 + i), k, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x2 + i), k, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x3 + i), k, a3);
        }
        float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
        for (; i < n; i++) {
            float k = tensor_f16_to_f32(y[i]);
            s0 += x0[i] * k;
            s1 += x1[i] * k;
            s2 += x2[i] * k;
            s3 += x3[i] * k;
        }
        out[r0] = s0;
        out[r0 + 1] = s1;
        out[r0 + 2] = s2;
        out[r0 + 3] = s3;
    }
}

static void axpy_f16_rows(float *y, size_t ys, int ny, const uint16_t *x, const float *a, int64_t n) {
    for (int r0 = 0; r0 < ny; r0 += 4) {
        int nr = ny - r0 < 4 ? ny - r0 : 4;
        float *y0 = y + (size_t)r0 * ys;
        if (nr < 4) {
            for (int r = 0; r < nr; r++) axpy_f16(y0 + (size_t)r * ys, x, a[r0 + r], n);
            continue;
        }
        float *y1 = y0 + ys, *y2 = y1 + ys, *y3 = y2 + ys;
        __m256 w0 = _mm256_set1_ps(a[r0]), w1 = _mm256_set1_ps(a[r0 + 1]);
        __m256 w2 = _mm256_set1_ps(a[r0 + 2]), w3 = _mm256_set1_ps(a[r0 + 3]);
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256 v = load_h(x + i);
            _mm256_storeu_ps(y0 + i, _mm256_fmadd_ps(w0, v, _mm256_loadu_ps(y0 + i)));
            _mm256_storeu_ps(y1 + i, _mm256_fmadd_ps(w1, v, _mm256_loadu_ps(y1 + i)));
            _mm256_storeu_ps(y2 + i, _mm256_fmadd_ps(w2, v, _mm256_loadu_ps(y2 + i)));
            _mm256_storeu_ps(y3 + i, _mm256_fmadd_ps(w3, v, _mm256_loadu_ps(y3 + i)));
        }
        for (; i < n; i++) {
            float v = tensor_f16_to_f32(x[i]);
            y0[i] += a[r0] * v;
            y1[i] += a[r0 + 1] * v;
            y2[i] += a[r0 + 2] * v;
            y3[i] += a[r0 + 3] * v;
        }
    }
}

/* silu(x) = x / (1 + exp(-x)); gelu(x) = x / 2 (1 + tanh(z)) with
 * tanh(z) = 1 - 2 / (exp(2z) + 1), both through exp256 (saturating ends). */
static void glu(float *y, const float *a, const float *b, tensor_unary_op act, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f), half = _mm256_set1_ps(0.5f);
    const __m256 c0 = _mm256_set1_ps(0.7978845608028654f), c1 = _mm256_set1_ps(0.044715f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(a + i), v;
        if (act == TENSOR_UNARY_SILU) {
            v = _mm256_div_ps(x, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
        } else {
            __m256 z = _mm256_mul_ps(c0, _mm256_fmadd_ps(_mm256_mul_ps(c1, x), _mm256_mul_ps(x, x), x));
            __m256 t = _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(exp256(_mm256_add_ps(z, z)), one)));
            v = _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, t));
        }
        if (b) v = _mm256_mul_ps(v, _mm256_loadu_ps(b + i));
        _mm256_storeu_ps(y + i, v);
    }
    for (; i < n; i++) {
        float x = a[i], v;
        if (act == TENSOR_UNARY_SILU) v = x / (1.0f + expf(-x));
        else v = 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
        y[i] = b ? v * b[i] : v;
    }
}

static const cpu_vec_fns avx2 = {
    .dot = dot, .sum_sq = sum_sq, .scale = scale, .axpy = axpy, .max = vmax, .exp_sum = exp_sum,
    .f16_to_f32 = f16_to_f32, .dot_f16 = dot_f16, .axpy_f16 = axpy_f16,
    .dot_f16_rows = dot_f16_rows, .axpy_f16_rows = axpy_f16_rows, .glu = glu,
};

const cpu_vec_fns *cpu_vec_avx2(void) {
    return &avx2;
}
