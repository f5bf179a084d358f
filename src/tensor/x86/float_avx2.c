/* F32, F16 and BF16 kernels for AVX2 + FMA + F16C. */
#include <immintrin.h>

#include "tensor/quant_impl.h"

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256 load_f16x8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline __m256 load_bf16x8(const uint16_t *p) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

void tensor__to_float_f16_avx2(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_f16x8(h + i));
    for (; i < n; i++) dst[i] = tensor_f16_to_f32(h[i]);
}

void tensor__from_float_f16_avx2(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) h[i] = tensor_f32_to_f16(src[i]);
}

void tensor__to_float_bf16_avx2(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_bf16x8(h + i));
    for (; i < n; i++) dst[i] = tensor_bf16_to_f32(h[i]);
}

static inline __m256 load_f32x8(const float *p) { return _mm256_loadu_ps(p); }
static inline float load_f32x1(const float *p) { return *p; }
static inline float load_f16x1(const uint16_t *p) { return tensor_f16_to_f32(*p); }
static inline float load_bf16x1(const uint16_t *p) { return tensor_bf16_to_f32(*p); }

/* x (of type T) times f32 y: four FMA chains of 8 lanes, then 8 at a time,
 * then the tail in scalar after the horizontal sum. */
#define DEFINE_VEC_DOT(NAME, T, LOAD8, LOAD1)                                                    \
    void tensor__vec_dot_##NAME##_avx2(int64_t n, float *s, const void *x, const void *y) {      \
        const T *a = x;                                                                          \
        const float *b = y;                                                                      \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                           \
        __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();                           \
        int64_t i = 0;                                                                           \
        for (; i + 32 <= n; i += 32) {                                                           \
            acc0 = _mm256_fmadd_ps(LOAD8(a + i), _mm256_loadu_ps(b + i), acc0);                  \
            acc1 = _mm256_fmadd_ps(LOAD8(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);          \
            acc2 = _mm256_fmadd_ps(LOAD8(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);        \
            acc3 = _mm256_fmadd_ps(LOAD8(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);        \
        }                                                                                        \
        for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(LOAD8(a + i), _mm256_loadu_ps(b + i), acc0); \
        float sum = hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3))); \
        for (; i < n; i++) sum += LOAD1(a + i) * b[i];                                          \
        *s = sum;                                                                                \
    }
DEFINE_VEC_DOT(f32, float, load_f32x8, load_f32x1)
DEFINE_VEC_DOT(f16, uint16_t, load_f16x8, load_f16x1)
DEFINE_VEC_DOT(bf16, uint16_t, load_bf16x8, load_bf16x1)
#undef DEFINE_VEC_DOT
