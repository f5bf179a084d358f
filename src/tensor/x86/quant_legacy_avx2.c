/* AVX2 kernels for the 32-value block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
 * IQ4_NL) and their activation quantizers (Q8_0, Q8_1). Integer products are
 * exact; the float side follows ggml's AVX2 dots operation for operation (one
 * accumulator, one fused multiply-add per block in block order, the same
 * horizontal sum, the offset terms summed with fused multiply-adds as its
 * contracted C does), so a model gives llama.cpp's logits to the last bit
 * wherever the rest of the graph does too. */
#include <math.h>

#include "tensor/quant_impl.h"
#include "tensor/x86/avx2_util.h"

/* Accumulates d * (int32 lanes) into acc. */
#define ACC_BLOCK(acc, d, isum) acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc)

/* sum (q - 8) y = sum q y - 8 sum y: the nibbles stay unsigned for maddubs,
 * which saves the sign juggling a signed x needs (both terms fit in int16). */
static inline __m256i q4_0_dot(const block_q4_0 *a, const block_q8_0 *b) {
    __m256i y = avx2_load(b->qs);
    __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(avx2_nibbles(a->qs), y),
                                 _mm256_maddubs_epi16(_mm256_set1_epi8(8), y));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

void tensor__vec_dot_q4_0_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_0 *a = x;
    const block_q8_0 *b = y;
    const int64_t nb = n / QK4_0;
    __m256 acc0 = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) ACC_BLOCK(acc0, f16_to_f32_c(a[i].d) * f16_to_f32_c(b[i].d), q4_0_dot(&a[i], &b[i]));
    *s = avx2_hsum_ps(acc0);
}

void tensor__vec_dot_q4_1_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_1 *a = x;
    const block_q8_1 *b = y;
    const int64_t nb = n / QK4_1;
    __m256 acc0 = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        ACC_BLOCK(acc0, f16_to_f32_c(a[i].d) * f16_to_f32_c(b[i].d),
                  avx2_dot_us8(avx2_nibbles(a[i].qs), avx2_load(b[i].qs)));
        summs = fmaf(f16_to_f32_c(a[i].m), f16_to_f32_c(b[i].s), summs);
    }
    *s = avx2_hsum_ps(acc0) + summs;
}

/* Q5_0 values as signed bytes: the nibble, minus 16 where the 5th bit is clear. */
static inline __m256i q5_0_values(const block_q5_0 *blk) {
    __m256i hi = _mm256_andnot_si256(avx2_bits_to_bytes(blk->qh), _mm256_set1_epi8((char)0xf0));
    return _mm256_or_si256(avx2_nibbles(blk->qs), hi);
}

void tensor__vec_dot_q5_0_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q5_0 *a = x;
    const block_q8_0 *b = y;
    const int64_t nb = n / QK5_0;
    __m256 acc0 = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++)
        ACC_BLOCK(acc0, f16_to_f32_c(a[i].d) * f16_to_f32_c(b[i].d),
                  avx2_dot_i8(q5_0_values(&a[i]), avx2_load(b[i].qs)));
    *s = avx2_hsum_ps(acc0);
}

static inline __m256i q5_1_values(const block_q5_1 *blk) {
    __m256i hi = _mm256_and_si256(avx2_bits_to_bytes(blk->qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(avx2_nibbles(blk->qs), hi);
}

void tensor__vec_dot_q5_1_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q5_1 *a = x;
    const block_q8_1 *b = y;
    const int64_t nb = n / QK5_1;
    __m256 acc0 = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        ACC_BLOCK(acc0, f16_to_f32_c(a[i].d) * f16_to_f32_c(b[i].d),
                  avx2_dot_us8(q5_1_values(&a[i]), avx2_load(b[i].qs)));
        summs = fmaf(f16_to_f32_c(a[i].m), f16_to_f32_c(b[i].s), summs);
    }
    *s = avx2_hsum_ps(acc0) + summs;
}

void tensor__vec_dot_q8_0_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_q8_0 *a = x, *b = y;
    const int64_t nb = n / QK8_0;
    __m256 acc0 = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++)
        ACC_BLOCK(acc0, f16_to_f32_c(a[i].d) * f16_to_f32_c(b[i].d),
                  avx2_dot_i8(avx2_load(a[i].qs), avx2_load(b[i].qs)));
    *s = avx2_hsum_ps(acc0);
}

static inline __m256i iq4nl_table(void) {
    __m128i t = _mm_loadu_si128((const __m128i *)tensor__iq4nl_values);
    return _mm256_set_m128i(t, t);
}

void tensor__vec_dot_iq4_nl_avx2(int64_t n, float *s, const void *x, const void *y) {
    const block_iq4_nl *a = x;
    const block_q8_0 *b = y;
    const int64_t nb = n / QK4_NL;
    const __m256i table = iq4nl_table();
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        __m256i v0 = _mm256_shuffle_epi8(table, avx2_nibbles(a[i].qs));
        __m256i v1 = _mm256_shuffle_epi8(table, avx2_nibbles(a[i + 1].qs));
        ACC_BLOCK(acc0, f16_to_f32_c(a[i].d) * f16_to_f32_c(b[i].d), avx2_dot_i8(v0, avx2_load(b[i].qs)));
        ACC_BLOCK(acc1, f16_to_f32_c(a[i + 1].d) * f16_to_f32_c(b[i + 1].d),
                  avx2_dot_i8(v1, avx2_load(b[i + 1].qs)));
    }
    for (; i < nb; i++) {
        __m256i v0 = _mm256_shuffle_epi8(table, avx2_nibbles(a[i].qs));
        ACC_BLOCK(acc0, f16_to_f32_c(a[i].d) * f16_to_f32_c(b[i].d), avx2_dot_i8(v0, avx2_load(b[i].qs)));
    }
    *s = avx2_hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* roundf (ties away from zero) as the reference quantizer rounds, not the
 * FPU's ties-to-even: truncate, then step away from zero when the dropped
 * fraction (exact in f32) is at least one half. */
static inline __m256i round_away(__m256 v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
    __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
    step = _mm256_and_ps(step, _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ));
    return _mm256_cvttps_epi32(_mm256_add_ps(t, step));
}

/* Quantizes 32 floats; returns amax / 127 and the sum of the quants through
 * *sum. act: as ggml's AVX2 quantize_row_q8_0 does for activations
 * (multiplier 127 / amax, ties to even); otherwise as quantize_row_q8_0_ref
 * does for weights (multiplier 1 / d, halves away from zero). */
static inline float q8_block(const float *x, int8_t *qs, int *sum, bool act) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
    __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, absmask), _mm256_and_ps(v1, absmask)),
                             _mm256_max_ps(_mm256_and_ps(v2, absmask), _mm256_and_ps(v3, absmask)));
    float amax = avx2_hmax_ps(m);
    float d = amax / 127;
    __m256i i0, i1, i2, i3;
    if (act) {
        __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, id));
        i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, id));
        i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, id));
        i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, id));
    } else {
        __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        i0 = round_away(_mm256_mul_ps(v0, id));
        i1 = round_away(_mm256_mul_ps(v1, id));
        i2 = round_away(_mm256_mul_ps(v2, id));
        i3 = round_away(_mm256_mul_ps(v3, id));
    }
    *sum = avx2_hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
    /* packs works per 128-bit lane; the permute restores element order. */
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)qs, p);
    return d;
}

void tensor__from_float_q8_0_avx2(const float *src, void *dst, int64_t n) {
    block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int sum;
        b[i].d = tensor_f32_to_f16(q8_block(src + i * QK8_0, b[i].qs, &sum, false));
    }
}

void tensor__from_float_q8_1_avx2(const float *src, void *dst, int64_t n) {
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++) {
        int sum;
        float d = q8_block(src + i * QK8_1, b[i].qs, &sum, false);
        b[i].d = tensor_f32_to_f16(d);
        b[i].s = tensor_f32_to_f16((float)sum * d);
    }
}

void tensor__quantize_act_q8_0_avx2(const float *src, void *dst, int64_t n) {
    block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int sum;
        b[i].d = tensor_f32_to_f16(q8_block(src + i * QK8_0, b[i].qs, &sum, true));
    }
}

void tensor__quantize_act_q8_1_avx2(const float *src, void *dst, int64_t n) {
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++) {
        int sum;
        float d = q8_block(src + i * QK8_1, b[i].qs, &sum, true);
        b[i].d = tensor_f32_to_f16(d);
        b[i].s = tensor_f32_to_f16(d * (float)sum);
    }
}

void tensor__to_float_q4_0_avx2(const void *src, float *dst, int64_t n) {
    const block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        __m256 d = _mm256_set1_ps(f16_to_f32_c(b[i].d));
        __m256i q = _mm256_sub_epi8(avx2_nibbles(b[i].qs), _mm256_set1_epi8(8));
        for (int k = 0; k < 4; k++) {
            __m128i part = k < 2 ? _mm256_castsi256_si128(q) : _mm256_extracti128_si256(q, 1);
            if (k & 1) part = _mm_srli_si128(part, 8);
            __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(part));
            _mm256_storeu_ps(dst + 8 * k, _mm256_mul_ps(f, d));
        }
    }
}

void tensor__to_float_q8_0_avx2(const void *src, float *dst, int64_t n) {
    const block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        __m256 d = _mm256_set1_ps(f16_to_f32_c(b[i].d));
        for (int k = 0; k < 4; k++) {
            __m128i part = _mm_loadl_epi64((const __m128i *)(b[i].qs + 8 * k));
            __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(part));
            _mm256_storeu_ps(dst + 8 * k, _mm256_mul_ps(f, d));
        }
    }
}
