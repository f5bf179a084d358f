/* AVX2 kernels for the K-quants, IQ4_XS and the Q8_K activation quantizer.
 * Quants are widened to unsigned bytes and multiplied with the Q8_K bytes by
 * maddubs; sub-block scales are applied exactly in int16 x int16 -> int32
 * (madd), and constant offsets (Q3_K's -4, Q6_K's -32, the K mins) are taken
 * out through Q8_K's per-16 sums, so each super-block costs one float FMA.
 * Q5_K and Q6_K keep ggml's AVX2 float order exactly (which values each
 * int32 lane sums, where the offsets come out, the min term's fused
 * multiply-add), so their dots are llama.cpp's to the bit. */
#include <math.h>

#include "tensor/quant_impl.h"
#include "tensor/x86/avx2_util.h"

/* Scales are kept in registers (built from 32-bit words, never stored and
 * reloaded byte-wise, which would stall store forwarding) and broadcast with
 * pshufb. s8 holds 8 int16 scales in both 128-bit lanes. */

/* Lanes 0..7 get scale 2k, lanes 8..15 scale 2k+1 (two 16-value groups). */
static inline __m256i scale_pair(__m256i s8, int k) {
    const short lo = (short)(((4 * k + 1) << 8) | (4 * k)), hi = (short)(((4 * k + 3) << 8) | (4 * k + 2));
    return _mm256_shuffle_epi8(s8, _mm256_set_m128i(_mm_set1_epi16(hi), _mm_set1_epi16(lo)));
}

/* All lanes get scale j (one 32-value sub-block). */
static inline __m256i scale_one(__m256i s8, int j) {
    return _mm256_shuffle_epi8(s8, _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))));
}

static inline __m256i dup_lanes(__m128i v) { return _mm256_broadcastsi128_si256(v); }

/* sum_g sc[g] * bsums[g] over the 16 groups (sc as 16 int8), exactly. */
static inline int bsum_dot16(const int16_t bsums[16], __m128i sc) {
    return avx2_hsum_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(sc), avx2_load(bsums)));
}

void tensor__vec_dot_q2_K_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q2_K *a = x;
    const block_q8_K *b = y;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0x0f);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m128i raw = _mm_loadu_si128((const __m128i *)a[i].scales);
        int summs = bsum_dot16(b[i].bsums, _mm_and_si128(_mm_srli_epi16(raw, 4), m4));
        __m128i sc = _mm_and_si128(raw, m4);
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i s8 = dup_lanes(_mm_cvtepu8_epi16(h ? _mm_srli_si128(sc, 8) : sc));
            __m256i q2 = avx2_load(a[i].qs + 32 * h);
            const int8_t *q8 = b[i].qs + 128 * h;
            for (int k = 0; k < 4; k++) {
                __m256i v = _mm256_and_si256(_mm256_srli_epi16(q2, 2 * k), m3);
                __m256i p = _mm256_maddubs_epi16(v, avx2_load(q8 + 32 * k));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale_pair(s8, k)));
            }
        }
        float d = b[i].d * f16_to_f32_c(a[i].d), dmin = b[i].d * f16_to_f32_c(a[i].dmin);
        sum += d * (float)avx2_hsum_epi32(acc) - dmin * (float)summs;
    }
    *s = sum;
}

/* The 16 Q3_K scales (bias removed) as int8, from their 12-byte packing. */
static inline __m128i q3k_scales(const uint8_t raw[12]) {
    uint32_t w[3];
    memcpy(w, raw, 12);
    const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
    __m128i v = _mm_setr_epi32((int)((w[0] & m4) | ((w[2] & m2) << 4)),
                               (int)((w[1] & m4) | (((w[2] >> 2) & m2) << 4)),
                               (int)(((w[0] >> 4) & m4) | (((w[2] >> 4) & m2) << 4)),
                               (int)(((w[1] >> 4) & m4) | (((w[2] >> 6) & m2) << 4)));
    return _mm_sub_epi8(v, _mm_set1_epi8(32));
}

void tensor__vec_dot_q3_K_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q3_K *a = x;
    const block_q8_K *b = y;
    const __m256i m3 = _mm256_set1_epi8(3), m1 = _mm256_set1_epi8(1);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m128i sc = q3k_scales(a[i].scales);
        /* Quants are stored as q + 4 in [0, 8): subtract 4 * sum(sc * bsums). */
        int corr = bsum_dot16(b[i].bsums, sc);
        __m256i hm = avx2_load(a[i].hmask);
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i s8 = dup_lanes(_mm_cvtepi8_epi16(h ? _mm_srli_si128(sc, 8) : sc));
            __m256i q2 = avx2_load(a[i].qs + 32 * h);
            const int8_t *q8 = b[i].qs + 128 * h;
            for (int k = 0; k < 4; k++) {
                __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q2, 2 * k), m3);
                __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + k), m1);
                __m256i v = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
                __m256i p = _mm256_maddubs_epi16(v, avx2_load(q8 + 32 * k));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale_pair(s8, k)));
            }
        }
        int isum = avx2_hsum_epi32(acc) - 4 * corr;
        sum += f16_to_f32_c(a[i].d) * b[i].d * (float)isum;
    }
    *s = sum;
}

/* Q4_K/Q5_K 6-bit scales (int16 lanes 0..7) and mins (lanes 8..15). */
static inline __m256i k4_scales_mins(const uint8_t q[12]) {
    uint32_t w[3];
    memcpy(w, q, 12);
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    __m128i v = _mm_setr_epi32((int)(w[0] & m6), (int)((w[2] & m4) | (((w[0] >> 6) & m2) << 4)),
                               (int)(w[1] & m6), (int)(((w[2] >> 4) & m4) | (((w[1] >> 6) & m2) << 4)));
    return _mm256_cvtepu8_epi16(v);
}

/* Lane k = mins[2k] (bsums[4k] + bsums[4k+1]) + mins[2k+1] (bsums[4k+2] + bsums[4k+3]). */
static inline __m128i k4_min_terms(const int16_t bsums[16], __m256i scales_mins) {
    __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)bsums),
                                   _mm_loadu_si128((const __m128i *)(bsums + 8)));
    return _mm_madd_epi16(_mm256_extracti128_si256(scales_mins, 1), pairs);
}

/* sum_j mins[j] * (bsums[2j] + bsums[2j+1]). */
static inline int k4_summs(const int16_t bsums[16], __m256i scales_mins) {
    __m128i p = k4_min_terms(bsums, scales_mins);
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
    return _mm_cvtsi128_si32(p);
}

void tensor__vec_dot_q4_K_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_K *a = x;
    const block_q8_K *b = y;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 accf = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sm = k4_scales_mins(a[i].scales);
        __m256i s8 = dup_lanes(_mm256_castsi256_si128(sm));
        const int8_t *q8 = b[i].qs;
        __m256i acc = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            __m256i q4 = avx2_load(a[i].qs + 32 * j);
            __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(q4, m4), avx2_load(q8 + 64 * j));
            __m256i p1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4),
                                              avx2_load(q8 + 64 * j + 32));
            p0 = _mm256_madd_epi16(p0, scale_one(s8, 2 * j));
            p1 = _mm256_madd_epi16(p1, scale_one(s8, 2 * j + 1));
            acc = _mm256_add_epi32(acc, _mm256_add_epi32(p0, p1));
        }
        accf = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * f16_to_f32_c(a[i].d)), _mm256_cvtepi32_ps(acc), accf);
        /* ggml keeps the min terms in 4 float lanes, one FMA per block. */
        __m128 dmin = _mm_set1_ps(-b[i].d * f16_to_f32_c(a[i].dmin));
        accm = _mm_fmadd_ps(dmin, _mm_cvtepi32_ps(k4_min_terms(b[i].bsums, sm)), accm);
    }
    accm = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    accm = _mm_add_ss(accm, _mm_movehdup_ps(accm));
    *s = avx2_hsum_ps(accf) + _mm_cvtss_f32(accm);
}

void tensor__vec_dot_q5_K_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q5_K *a = x;
    const block_q8_K *b = y;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m1 = _mm256_set1_epi8(1);
    __m256 accf = _mm256_setzero_ps();
    float summ = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sm = k4_scales_mins(a[i].scales);
        __m256i s8 = dup_lanes(_mm256_castsi256_si128(sm));
        const int8_t *q8 = b[i].qs;
        __m256i qh = avx2_load(a[i].qh);
        __m256i acc = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            __m256i q4 = avx2_load(a[i].qs + 32 * j);
            __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), m1), 4);
            __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), m1), 4);
            __m256i v0 = _mm256_or_si256(_mm256_and_si256(q4, m4), h0);
            __m256i v1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4), h1);
            __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(v0, avx2_load(q8 + 64 * j)), scale_one(s8, 2 * j));
            __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(v1, avx2_load(q8 + 64 * j + 32)),
                                           scale_one(s8, 2 * j + 1));
            acc = _mm256_add_epi32(acc, _mm256_add_epi32(p0, p1));
        }
        accf = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * f16_to_f32_c(a[i].d)), _mm256_cvtepi32_ps(acc), accf);
        /* ggml's C contracts this sum into a fused multiply-add. */
        summ = fmaf(-b[i].d * f16_to_f32_c(a[i].dmin), (float)k4_summs(b[i].bsums, sm), summ);
    }
    *s = avx2_hsum_ps(accf) + summ;
}

void tensor__vec_dot_q6_K_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q6_K *a = x;
    const block_q8_K *b = y;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m128i sc = _mm_loadu_si128((const __m128i *)a[i].scales);
        /* Quants are stored as q + 32 in [0, 64): lane l loses 32 (sc * bsums)
         * of 16-value groups 2l and 2l + 1, where ggml's dot takes it out (the
         * lanes' float sums must be ggml's). */
        __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(avx2_load(b[i].bsums), _mm256_cvtepi8_epi16(sc)), 5);
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i l0 = avx2_load(a[i].ql + 64 * h), l1 = avx2_load(a[i].ql + 64 * h + 32);
            __m256i qh = avx2_load(a[i].qh + 32 * h);
            const int8_t *q8 = b[i].qs + 128 * h;
            __m256i s8 = dup_lanes(_mm_cvtepi8_epi16(h ? _mm_srli_si128(sc, 8) : sc));
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
            v[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
            for (int k = 0; k < 4; k++) {
                __m256i p = _mm256_maddubs_epi16(v[k], avx2_load(q8 + 32 * k));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale_pair(s8, k)));
            }
        }
        __m256i isum = _mm256_sub_epi32(acc, corr);
        accf = _mm256_fmadd_ps(_mm256_set1_ps(f16_to_f32_c(a[i].d) * b[i].d), _mm256_cvtepi32_ps(isum), accf);
    }
    *s = avx2_hsum_ps(accf);
}

void tensor__vec_dot_iq4_xs_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_iq4_xs *a = x;
    const block_q8_K *b = y;
    const __m128i t = _mm_loadu_si128((const __m128i *)tensor__iq4nl_values);
    const __m256i table = _mm256_set_m128i(t, t);
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i acc = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            int ls = (((a[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((a[i].scales_h >> (2 * ib)) & 3) << 4)) - 32;
            __m256i v = _mm256_shuffle_epi8(table, avx2_nibbles(a[i].qs + 16 * ib));
            __m256i p = avx2_maddubs_i8(v, avx2_load(b[i].qs + 32 * ib));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16((short)ls)));
        }
        accf = _mm256_fmadd_ps(_mm256_set1_ps(f16_to_f32_c(a[i].d) * b[i].d), _mm256_cvtepi32_ps(acc), accf);
    }
    *s = avx2_hsum_ps(accf);
}

void tensor__from_float_q8_K_avx2(const float *src, void *dst, int64_t n) {
    block_q8_K *b = dst;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < QK_K; j += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(src + j), absmask));
        float amax = avx2_hmax_ps(m);
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        /* The reference keeps the sign of the first value reaching amax. */
        float max = 0.0f;
        for (int j = 0; j < QK_K; j += 8) {
            __m256 eq = _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(src + j), absmask), _mm256_set1_ps(amax), _CMP_EQ_OQ);
            int mask = _mm256_movemask_ps(eq);
            if (mask) {
                max = src[j + __builtin_ctz((unsigned)mask)];
                break;
            }
        }
        float iscale = -127.0f / max;
        __m256 vs = _mm256_set1_ps(iscale);
        for (int j = 0; j < QK_K; j += 32) {
            /* cvtps rounds ties to even, like the reference's nearest_int. */
            __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + j), vs));
            __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + j + 8), vs));
            __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + j + 16), vs));
            __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + j + 24), vs));
            __m256i s01 = _mm256_packs_epi32(i0, i1), s23 = _mm256_packs_epi32(i2, i3);
            __m256i p = _mm256_packs_epi16(s01, s23);
            p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(b[i].qs + j), p);
        }
        for (int g = 0; g < 16; g++) {
            __m256i w = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b[i].qs + 16 * g)));
            b[i].bsums[g] = (int16_t)avx2_hsum_epi32(_mm256_madd_epi16(w, _mm256_set1_epi16(1)));
        }
        b[i].d = 1.0f / iscale;
    }
}

void tensor__to_float_q4_K_avx2(const void *src, float *dst, int64_t n) {
    const block_q4_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        uint16_t sc[8], mn[8];
        __m256i sm = k4_scales_mins(b[i].scales);
        _mm_storeu_si128((__m128i *)sc, _mm256_castsi256_si128(sm));
        _mm_storeu_si128((__m128i *)mn, _mm256_extracti128_si256(sm, 1));
        float d = f16_to_f32_c(b[i].d), dmin = f16_to_f32_c(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            __m256 dl = _mm256_set1_ps(d * (float)sc[j]), ml = _mm256_set1_ps(dmin * (float)mn[j]);
            const uint8_t *q = b[i].qs + 32 * (j / 2);
            for (int k = 0; k < 4; k++) {
                __m128i bytes = _mm_loadl_epi64((const __m128i *)(q + 8 * k));
                __m256i w = _mm256_cvtepu8_epi32(bytes);
                w = _mm256_and_si256(_mm256_srli_epi32(w, 4 * (j % 2)), _mm256_set1_epi32(0x0f));
                _mm256_storeu_ps(dst + 32 * j + 8 * k, _mm256_sub_ps(_mm256_mul_ps(dl, _mm256_cvtepi32_ps(w)), ml));
            }
        }
    }
}
