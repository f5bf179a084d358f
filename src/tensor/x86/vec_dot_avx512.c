/* AVX-512 (F, BW, VL, VNNI) dot products. The integer kernels multiply
 * unsigned by signed bytes with vpdpbusd, which sums four products straight
 * into int32 lanes: no int16 intermediate, so no maddubs saturation to work
 * around and one instruction where AVX2 needs two. Integer products are exact; only the
 * order of the float scaling differs from the other paths. */
#include <immintrin.h>
#include <string.h>

#include "tensor/quant_impl.h"

static inline float f16_to_f32_c(uint16_t h) { return _cvtsh_ss(h); }

static inline __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* Two 256-bit halves (lo from the first block, hi from the second). */
static inline __m512i join(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* Q8_0 uses 256-bit VNNI: one block per register, so each block's scale
 * meets its int32 lanes without the lane shuffling a 512-bit pair needs
 * (which, measured, ate the gain). Q4_0 keeps the AVX2 kernel: a VNNI one
 * measured 0.95-0.99x of it (docs/perf/quant.md). */

/* Signed x signed bytes: |x| as unsigned, the sign moved onto y. Like the
 * AVX2 path, exact while y avoids -128 (the Q8 quantizers give [-127, 127]). */
static inline __m256i dot_i8(__m256i x, __m256i y) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(x), _mm256_sign_epi8(y, x));
}

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#define ACC_BLOCK(acc, d, isum) acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc)

void tensor__vec_dot_q8_0_avx512(int64_t n, float *s, const void *x, const void *y) {
    const block_q8_0 *a = x, *b = y;
    const int64_t nb = n / QK8_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        ACC_BLOCK(acc0, f16_to_f32_c(a[i].d) * f16_to_f32_c(b[i].d), dot_i8(load256(a[i].qs), load256(b[i].qs)));
        ACC_BLOCK(acc1, f16_to_f32_c(a[i + 1].d) * f16_to_f32_c(b[i + 1].d),
                  dot_i8(load256(a[i + 1].qs), load256(b[i + 1].qs)));
    }
    for (; i < nb; i++)
        ACC_BLOCK(acc0, f16_to_f32_c(a[i].d) * f16_to_f32_c(b[i].d), dot_i8(load256(a[i].qs), load256(b[i].qs)));
    *s = hsum256(_mm256_add_ps(acc0, acc1));
}

/* Q4_K 6-bit scales (sc) and mins (mn), 8 each, from their 12-byte packing. */
static inline void k4_scales_mins(const uint8_t q[12], uint8_t sc[8], uint8_t mn[8]) {
    uint32_t w[3];
    memcpy(w, q, 12);
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    uint32_t v[4] = {w[0] & m6, (w[2] & m4) | (((w[0] >> 6) & m2) << 4), w[1] & m6,
                     ((w[2] >> 4) & m4) | (((w[1] >> 6) & m2) << 4)};
    memcpy(sc, v, 8);
    memcpy(mn, v + 2, 8);
}

/* sum_j mn[j] * (bsums[2j] + bsums[2j+1]), exactly. */
static inline int k4_summs(const int16_t bsums[16], const uint8_t mn[8]) {
    __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)bsums),
                                   _mm_loadu_si128((const __m128i *)(bsums + 8)));
    __m128i m = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)mn));
    __m128i p = _mm_madd_epi16(m, pairs);
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
    return _mm_cvtsi128_si32(p);
}

/* Each 32 bytes of qs hold sub-block 2j in the low nibbles and 2j+1 in the
 * high ones, and the matching 64 Q8_K bytes are contiguous: one 512-bit
 * product per sub-block pair. */
void tensor__vec_dot_q4_K_avx512(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_K *a = x;
    const block_q8_K *b = y;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m512 accf = _mm512_setzero_ps();
    float summ = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        k4_scales_mins(a[i].scales, sc, mn);
        const int8_t *q8 = b[i].qs;
        __m512i acc = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) {
            __m256i q4 = load256(a[i].qs + 32 * j);
            __m512i v = join(_mm256_and_si256(q4, m4), _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4));
            /* Nibble x int8 pairs fit int16 (2 * 15 * 128); vpdpwssd then
             * applies the scales and accumulates in one step. */
            __m512i p = _mm512_maddubs_epi16(v, _mm512_loadu_si512(q8 + 64 * j));
            __m512i scale = _mm512_mask_blend_epi16((__mmask32)0xffff0000u, _mm512_set1_epi16(sc[2 * j]),
                                                    _mm512_set1_epi16(sc[2 * j + 1]));
            acc = _mm512_dpwssd_epi32(acc, p, scale);
        }
        accf = _mm512_fmadd_ps(_mm512_set1_ps(b[i].d * f16_to_f32_c(a[i].d)), _mm512_cvtepi32_ps(acc), accf);
        summ += b[i].d * f16_to_f32_c(a[i].dmin) * (float)k4_summs(b[i].bsums, mn);
    }
    *s = _mm512_reduce_add_ps(accf) - summ;
}

/* Q6_K: 6-bit quants stored as q + 32 in [0, 64), unsigned for vpdpbusd; the
 * offset is taken out once per super-block through Q8_K's per-16 sums. Each
 * 512-bit product covers 64 values = 4 groups of 16 with their own int8
 * scales, applied per 4-lane quarter of the register. */
void tensor__vec_dot_q6_K_avx512(int64_t n, float *s, const void *x, const void *y) {
    const block_q6_K *a = x;
    const block_q8_K *b = y;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m3 = _mm512_set1_epi8(3);
    /* Lane l (of 16 int32) belongs to 16-value group l / 4. */
    const __m512i quarter = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m128i sc8 = _mm_loadu_si128((const __m128i *)a[i].scales);
        __m512i sc32 = _mm512_cvtepi8_epi32(sc8);
        __m256i corr16 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), load256(b[i].bsums));
        __m512i acc = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            /* 128 values: low nibbles of ql's 64 bytes are values 0..63, high ones 64..127. */
            __m512i l = _mm512_loadu_si512(a[i].ql + 64 * h);
            __m256i qh256 = load256(a[i].qh + 32 * h);
            /* Bits 0-1 / 2-3 of qh top values 0..31 / 32..63, bits 4-5 / 6-7 values 64..127. */
            __m512i qh2 = join(qh256, _mm256_srli_epi16(qh256, 2));
            __m512i hlo = _mm512_and_si512(qh2, m3);
            __m512i hhi = _mm512_and_si512(_mm512_srli_epi16(qh2, 4), m3);
            __m512i v0 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_slli_epi16(hlo, 4));
            __m512i v1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), _mm512_slli_epi16(hhi, 4));
            const int8_t *q8 = b[i].qs + 128 * h;
            __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v0, _mm512_loadu_si512(q8));
            __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v1, _mm512_loadu_si512(q8 + 64));
            __m512i s0 = _mm512_permutexvar_epi32(_mm512_add_epi32(quarter, _mm512_set1_epi32(8 * h)), sc32);
            __m512i s1 = _mm512_permutexvar_epi32(_mm512_add_epi32(quarter, _mm512_set1_epi32(8 * h + 4)), sc32);
            acc = _mm512_add_epi32(acc, _mm512_add_epi32(_mm512_mullo_epi32(p0, s0), _mm512_mullo_epi32(p1, s1)));
        }
        __m128i c = _mm_add_epi32(_mm256_castsi256_si128(corr16), _mm256_extracti128_si256(corr16, 1));
        c = _mm_add_epi32(c, _mm_shuffle_epi32(c, 0x4e));
        c = _mm_add_epi32(c, _mm_shuffle_epi32(c, 0xb1));
        int isum = _mm512_reduce_add_epi32(acc) - 32 * _mm_cvtsi128_si32(c);
        sum += b[i].d * f16_to_f32_c(a[i].d) * (float)isum;
    }
    *s = sum;
}

void tensor__vec_dot_f32_avx512(int64_t n, float *s, const void *x, const void *y) {
    const float *a = x, *b = y;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)(n - i >= 16 ? 0xffff : (1u << (n - i)) - 1);
        acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc0);
        i += 16;
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc1);
    }
    *s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

static inline __m512 load_f16x16(const uint16_t *p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

static inline __m512 load_bf16x16(const uint16_t *p, __mmask16 m) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

/* F16 and BF16 weights widened exactly to f32 and multiplied with the f32
 * activations, like the other paths (vdpbf16ps would need y rounded to bf16). */
#define HALF_DOT(NAME, LOAD)                                                                  \
    void NAME(int64_t n, float *s, const void *x, const void *y) {                            \
        const uint16_t *a = x;                                                                \
        const float *b = y;                                                                   \
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();                        \
        int64_t i = 0;                                                                        \
        for (; i + 32 <= n; i += 32) {                                                        \
            acc0 = _mm512_fmadd_ps(LOAD(a + i, 0xffff), _mm512_loadu_ps(b + i), acc0);        \
            acc1 = _mm512_fmadd_ps(LOAD(a + i + 16, 0xffff), _mm512_loadu_ps(b + i + 16), acc1); \
        }                                                                                     \
        for (; i < n; i += 16) {                                                              \
            __mmask16 m = (__mmask16)(n - i >= 16 ? 0xffff : (1u << (n - i)) - 1);            \
            acc0 = _mm512_fmadd_ps(LOAD(a + i, m), _mm512_maskz_loadu_ps(m, b + i), acc0);   \
        }                                                                                     \
        *s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));                                 \
    }

HALF_DOT(tensor__vec_dot_f16_avx512, load_f16x16)
HALF_DOT(tensor__vec_dot_bf16_avx512, load_bf16x16)
