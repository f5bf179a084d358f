/* Small AVX2 building blocks shared by the x86 kernels (include only from
 * files compiled with -mavx2 -mfma -mf16c). */
#ifndef TENSOR_X86_AVX2_UTIL_H
#define TENSOR_X86_AVX2_UTIL_H

#include <immintrin.h>
#include <string.h>

static inline float avx2_hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int avx2_hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static inline float avx2_hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* 16 packed bytes -> 32 nibbles: low nibbles in bytes 0..15, high in 16..31
 * (the element order of every 32-value block with split nibbles). */
static inline __m256i avx2_nibbles(const uint8_t *p) {
    __m128i t = _mm_loadu_si128((const __m128i *)p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0f));
}

/* Byte k = 0xff when bit k of the 32-bit little-endian word at p is set. */
static inline __m256i avx2_bits_to_bytes(const uint8_t *p) {
    uint32_t w;
    memcpy(&w, p, sizeof w);
    const __m256i spread = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                              0x0202020202020202, 0x0303030303030303);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)w), spread);
    v = _mm256_or_si256(v, _mm256_set1_epi64x((long long)0x7fbfdfeff7fbfdfeULL));
    return _mm256_cmpeq_epi8(v, _mm256_set1_epi8(-1));
}

/* Sums of adjacent products of unsigned bytes u and signed bytes s, as 8
 * int32 (each the sum of 4 products). */
static inline __m256i avx2_dot_us8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* The same for two signed operands: the sign moves onto y so maddubs sees
 * |x| (at most 128) as unsigned. */
static inline __m256i avx2_dot_i8(__m256i x, __m256i y) {
    return avx2_dot_us8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

/* int16 products of adjacent pairs of |x| * sign(x)y, for weighting by scale. */
static inline __m256i avx2_maddubs_i8(__m256i x, __m256i y) {
    return _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

static inline __m256i avx2_load(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

static inline float f16_to_f32_c(uint16_t h) { return _cvtsh_ss(h); }

#endif
