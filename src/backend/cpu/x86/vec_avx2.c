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

/* ggml_vec_dot_f32's order (see vec.c): four FMA chains per 32 values. */
static inline float fold4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 v = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    t = _mm_hadd_ps(t, t);
    return _mm_cvtss_f32(_mm_hadd_ps(t, t));
}

static float dot(const float *x, const float *y, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    float s = fold4(a0, a1, a2, a3);
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

static float sum_sq(const float *x, int64_t n) {
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
        a = _mm256_fmadd_ps(x0, x0, a);
        b = _mm256_fmadd_ps(x1, x1, b);
    }
    float s = hsum(_mm256_add_ps(a, b));
    for (; i < n; i++) s += x[i] * x[i];
    return s;
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

/* cpu_expf_ggml (vec.c) on 8 lanes, the same operations in the same order;
 * the two-factor scale only when some lane needs it. */
static inline __m256 exp256(__m256 x) {
    const __m256 shift = _mm256_set1_ps(0x1.8p23f), absmask = _mm256_set1_ps(-0.0f);
    __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shift);
    __m256 n = _mm256_sub_ps(z, shift);
    __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f), _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
    __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1.0f))));
    __m256 u = _mm256_mul_ps(b, b);
    __m256 hi = _mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f));
    __m256 lo = _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f));
    __m256 j = _mm256_fmadd_ps(_mm256_fmadd_ps(hi, u, lo), u, _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
    __m256 an = _mm256_andnot_ps(absmask, n);
    __m256 big = _mm256_cmp_ps(an, _mm256_set1_ps(126.0f), _CMP_GT_OQ);
    __m256 normal = _mm256_fmadd_ps(k, j, k);
    if (!_mm256_movemask_ps(big)) return normal;
    __m256i g = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                 _mm256_set1_epi32((int)0x82000000u));
    __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
    __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    __m256 huge = _mm256_cmp_ps(an, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
    __m256 scaled = _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1);
    __m256 r = _mm256_blendv_ps(normal, scaled, big);
    return _mm256_blendv_ps(r, _mm256_mul_ps(s1, s1), huge);
}

static double exp_sum(float *y, const float *x, float m, int64_t n) {
    __m256 vm = _mm256_set1_ps(m);
    double s = 0.0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(y + i, e);
        s += (double)hsum(e);
    }
    for (; i < n; i++) {
        y[i] = expf(x[i] - m);
        s += (double)y[i];
    }
    return s;
}

static void f16_to_f32(float *y, const uint16_t *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + i))));
    for (; i < n; i++) y[i] = tensor_f16_to_f32(x[i]);
}

static inline __m256 load_h(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
}

static float dot_f16(const float *x, const uint16_t *y, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), load_h(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), load_h(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), load_h(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), load_h(y + i + 24), a3);
    }
    float s = fold4(a0, a1, a2, a3);
    for (; i < n; i++) s += x[i] * tensor_f16_to_f32(y[i]);
    return s;
}

/* silu(x) = x / (1 + exp(-x)) as ggml_v_silu; gelu(x) = x / 2 (1 + tanh(z))
 * with tanh(z) = 1 - 2 / (exp(2z) + 1), both through exp256. */
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

static inline __m256 load_k(const char *k, bool f16, int64_t i) {
    return f16 ? load_h((const uint16_t *)(const void *)k + i) : _mm256_loadu_ps((const float *)(const void *)k + i);
}

/* Two heads per pass over the key, sharing its (converted) loads; each head
 * keeps dot's four chains and fold. */
static void attn_scores(const float *q, size_t qs, int nq, const char *k, size_t rb, bool f16, int64_t d,
                        const float *vis, int64_t n, float *tmp, float *out, size_t os) {
    (void)tmp;
    int64_t d32 = d - d % 32;
    for (int64_t j = 0; j < n; j++) {
        if (vis[j] == -INFINITY) {
            for (int g = 0; g < nq; g++) out[(size_t)g * os + (size_t)j] = 0.0f;
            continue;
        }
        const char *kj = k + (size_t)j * rb;
        for (int g = 0; g < nq; g += 2) {
            const float *x = q + (size_t)g * qs, *y = g + 1 < nq ? x + qs : x;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int64_t i = 0; i < d32; i += 32) {
                __m256 k0 = load_k(kj, f16, i), k1 = load_k(kj, f16, i + 8);
                __m256 k2 = load_k(kj, f16, i + 16), k3 = load_k(kj, f16, i + 24);
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), k0, a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), k1, a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), k2, a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), k3, a3);
                b0 = _mm256_fmadd_ps(_mm256_loadu_ps(y + i), k0, b0);
                b1 = _mm256_fmadd_ps(_mm256_loadu_ps(y + i + 8), k1, b1);
                b2 = _mm256_fmadd_ps(_mm256_loadu_ps(y + i + 16), k2, b2);
                b3 = _mm256_fmadd_ps(_mm256_loadu_ps(y + i + 24), k3, b3);
            }
            float sa = fold4(a0, a1, a2, a3), sb = fold4(b0, b1, b2, b3);
            for (int64_t i = d32; i < d; i++) {
                float kv = f16 ? tensor_f16_to_f32(((const uint16_t *)(const void *)kj)[i])
                               : ((const float *)(const void *)kj)[i];
                sa += x[i] * kv;
                sb += y[i] * kv;
            }
            out[(size_t)g * os + (size_t)j] = sa;
            if (g + 1 < nq) out[(size_t)(g + 1) * os + (size_t)j] = sb;
        }
    }
}

/* One V row chunk of 32 values held in registers feeds every head's lane. */
static void attn_accumulate(float *acc, int lanes, int64_t w, int nq, const float *p, size_t ps, const char *v,
                            size_t rb, bool f16, int64_t c0, const float *vis, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        if (vis[j] == -INFINITY) continue;
        const char *vj = v + (size_t)j * rb + (size_t)c0 * (f16 ? 2 : 4);
        const float *vf = (const float *)(const void *)vj;
        const uint16_t *vh = (const uint16_t *)(const void *)vj;
        float *lane = acc + (j % lanes) * w;
        int64_t i = 0;
        for (; i + 32 <= w; i += 32) {
            __m256 x0, x1, x2, x3;
            if (f16) {
                x0 = load_h(vh + i), x1 = load_h(vh + i + 8), x2 = load_h(vh + i + 16), x3 = load_h(vh + i + 24);
            } else {
                x0 = _mm256_loadu_ps(vf + i), x1 = _mm256_loadu_ps(vf + i + 8);
                x2 = _mm256_loadu_ps(vf + i + 16), x3 = _mm256_loadu_ps(vf + i + 24);
            }
            for (int g = 0; g < nq; g++) {
                __m256 pj = _mm256_set1_ps(p[(size_t)g * ps + (size_t)j]);
                float *a = lane + (int64_t)g * lanes * w + i;
                _mm256_storeu_ps(a, _mm256_fmadd_ps(pj, x0, _mm256_loadu_ps(a)));
                _mm256_storeu_ps(a + 8, _mm256_fmadd_ps(pj, x1, _mm256_loadu_ps(a + 8)));
                _mm256_storeu_ps(a + 16, _mm256_fmadd_ps(pj, x2, _mm256_loadu_ps(a + 16)));
                _mm256_storeu_ps(a + 24, _mm256_fmadd_ps(pj, x3, _mm256_loadu_ps(a + 24)));
            }
        }
        for (; i < w; i++) {
            float x = f16 ? tensor_f16_to_f32(vh[i]) : vf[i];
            for (int g = 0; g < nq; g++) {
                float *a = lane + (int64_t)g * lanes * w + i;
                *a = fmaf(p[(size_t)g * ps + (size_t)j], x, *a);
            }
        }
    }
}

static const cpu_vec_fns avx2 = {
    .dot = dot, .sum_sq = sum_sq, .scale = scale, .axpy = axpy, .max = vmax, .exp_sum = exp_sum,
    .f16_to_f32 = f16_to_f32, .dot_f16 = dot_f16, .glu = glu,
    .attn_scores = attn_scores, .attn_accumulate = attn_accumulate,
};

const cpu_vec_fns *cpu_vec_avx2(void) {
    return &avx2;
}
