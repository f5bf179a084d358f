/* NEON kernels for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and IQ4_NL and the Q8_0 / Q8_1 activation
 * quantizers. Integer products are exact; only the per-block float scaling
 * differs in rounding order from the portable path. */
#include "tensor/arm/neon_util.h"
#include "tensor/quant_impl.h"

void tensor__vec_dot_q4_0_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_0 *a = x;
    const block_q8_0 *b = y;
    const int8x16_t eight = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t i = 0; i < n / QK4_0; i++) {
        int8x16_t lo, hi;
        neon_nibbles(a[i].qs, &lo, &hi);
        int32x4_t p = neon_dot_i8(vdupq_n_s32(0), vsubq_s8(lo, eight), vld1q_s8(b[i].qs));
        p = neon_dot_i8(p, vsubq_s8(hi, eight), vld1q_s8(b[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), neon_f16_to_f32(a[i].d) * neon_f16_to_f32(b[i].d));
    }
    *s = vaddvq_f32(acc);
}

void tensor__vec_dot_q4_1_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_1 *a = x;
    const block_q8_1 *b = y;
    float32x4_t acc = vdupq_n_f32(0.0f);
    float summs = 0.0f;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        int8x16_t lo, hi;
        neon_nibbles(a[i].qs, &lo, &hi);
        int32x4_t p = neon_dot_i8(vdupq_n_s32(0), lo, vld1q_s8(b[i].qs));
        p = neon_dot_i8(p, hi, vld1q_s8(b[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), neon_f16_to_f32(a[i].d) * neon_f16_to_f32(b[i].d));
        summs += neon_f16_to_f32(a[i].m) * neon_f16_to_f32(b[i].s);
    }
    *s = vaddvq_f32(acc) + summs;
}

/* The 5-bit values of a Q5_0 / Q5_1 block: the nibbles with the 5th bit. */
static inline void q5_values(const uint8_t qs[16], const uint8_t qh[4], int8x16_t *lo, int8x16_t *hi) {
    const uint8x16_t b4 = vdupq_n_u8(0x10);
    neon_nibbles(qs, lo, hi);
    *lo = vreinterpretq_s8_u8(vorrq_u8(vreinterpretq_u8_s8(*lo), vandq_u8(neon_bits_to_bytes16(qh), b4)));
    *hi = vreinterpretq_s8_u8(vorrq_u8(vreinterpretq_u8_s8(*hi), vandq_u8(neon_bits_to_bytes16(qh + 2), b4)));
}

void tensor__vec_dot_q5_0_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q5_0 *a = x;
    const block_q8_0 *b = y;
    const int8x16_t sixteen = vdupq_n_s8(16);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t i = 0; i < n / QK5_0; i++) {
        int8x16_t lo, hi;
        q5_values(a[i].qs, a[i].qh, &lo, &hi);
        int32x4_t p = neon_dot_i8(vdupq_n_s32(0), vsubq_s8(lo, sixteen), vld1q_s8(b[i].qs));
        p = neon_dot_i8(p, vsubq_s8(hi, sixteen), vld1q_s8(b[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), neon_f16_to_f32(a[i].d) * neon_f16_to_f32(b[i].d));
    }
    *s = vaddvq_f32(acc);
}

void tensor__vec_dot_q5_1_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q5_1 *a = x;
    const block_q8_1 *b = y;
    float32x4_t acc = vdupq_n_f32(0.0f);
    float summs = 0.0f;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        int8x16_t lo, hi;
        q5_values(a[i].qs, a[i].qh, &lo, &hi);
        int32x4_t p = neon_dot_i8(vdupq_n_s32(0), lo, vld1q_s8(b[i].qs));
        p = neon_dot_i8(p, hi, vld1q_s8(b[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), neon_f16_to_f32(a[i].d) * neon_f16_to_f32(b[i].d));
        summs += neon_f16_to_f32(a[i].m) * neon_f16_to_f32(b[i].s);
    }
    *s = vaddvq_f32(acc) + summs;
}

void tensor__vec_dot_iq4_nl_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_iq4_nl *a = x;
    const block_q8_0 *b = y;
    const int8x16_t table = vld1q_s8(tensor__iq4nl_values);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t i = 0; i < n / QK4_NL; i++) {
        int8x16_t lo, hi;
        neon_nibbles(a[i].qs, &lo, &hi);
        lo = vqtbl1q_s8(table, vreinterpretq_u8_s8(lo));
        hi = vqtbl1q_s8(table, vreinterpretq_u8_s8(hi));
        int32x4_t p = neon_dot_i8(vdupq_n_s32(0), lo, vld1q_s8(b[i].qs));
        p = neon_dot_i8(p, hi, vld1q_s8(b[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), neon_f16_to_f32(a[i].d) * neon_f16_to_f32(b[i].d));
    }
    *s = vaddvq_f32(acc);
}

void tensor__vec_dot_q8_0_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q8_0 *a = x, *b = y;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int32x4_t p = neon_dot_i8(vdupq_n_s32(0), vld1q_s8(a[i].qs), vld1q_s8(b[i].qs));
        p = neon_dot_i8(p, vld1q_s8(a[i].qs + 16), vld1q_s8(b[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), neon_f16_to_f32(a[i].d) * neon_f16_to_f32(b[i].d));
    }
    *s = vaddvq_f32(acc);
}

/* Quantizes 32 floats like the portable Q8_0 quantizer: FCVTAS rounds ties
 * away from zero, as roundf does. Returns d; the sum of the quants goes to
 * *sum. */
static inline float q8_block(const float *x, int8_t *qs, int *sum) {
    float32x4_t v[8];
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int k = 0; k < 8; k++) {
        v[k] = vld1q_f32(x + 4 * k);
        m = vmaxq_f32(m, vabsq_f32(v[k]));
    }
    float d = vmaxvq_f32(m) / 127;
    float32x4_t id = vdupq_n_f32(d != 0.0f ? 1.0f / d : 0.0f);
    int16x8_t h[4];
    int32x4_t acc = vdupq_n_s32(0);
    for (int k = 0; k < 4; k++) {
        int32x4_t i0 = vcvtaq_s32_f32(vmulq_f32(v[2 * k], id));
        int32x4_t i1 = vcvtaq_s32_f32(vmulq_f32(v[2 * k + 1], id));
        acc = vaddq_s32(acc, vaddq_s32(i0, i1));
        h[k] = vcombine_s16(vqmovn_s32(i0), vqmovn_s32(i1));
    }
    vst1q_s8(qs, vcombine_s8(vqmovn_s16(h[0]), vqmovn_s16(h[1])));
    vst1q_s8(qs + 16, vcombine_s8(vqmovn_s16(h[2]), vqmovn_s16(h[3])));
    *sum = vaddvq_s32(acc);
    return d;
}

void tensor__from_float_q8_0_neon(const float *src, void *dst, int64_t n) {
    block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int sum;
        b[i].d = tensor_f32_to_f16(q8_block(src + i * QK8_0, b[i].qs, &sum));
    }
}

void tensor__from_float_q8_1_neon(const float *src, void *dst, int64_t n) {
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++) {
        int sum;
        float d = q8_block(src + i * QK8_1, b[i].qs, &sum);
        b[i].d = tensor_f32_to_f16(d);
        b[i].s = tensor_f32_to_f16((float)sum * d);
    }
}
