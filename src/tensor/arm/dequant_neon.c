/* NEON dequantizers for Q4_0, Q8_0, Q4_K and Q6_K. Each value is computed
 * with the same float operations, in the same order, as the portable path,
 * so the results are bit-identical (the test suite compares them). */
#include <string.h>

#include "tensor/arm/neon_util.h"
#include "tensor/quant_impl.h"

/* dst[0..16) = (float)q[k] * d. */
static inline void store_scaled16(float *dst, int8x16_t q, float d) {
    int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
    vst1q_f32(dst, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d));
    vst1q_f32(dst + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), d));
    vst1q_f32(dst + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d));
    vst1q_f32(dst + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), d));
}

void tensor__to_float_q4_0_neon(const void *src, float *dst, int64_t n) {
    const block_q4_0 *b = src;
    const int8x16_t eight = vdupq_n_s8(8);
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        float d = neon_f16_to_f32(b[i].d);
        int8x16_t lo, hi;
        neon_nibbles(b[i].qs, &lo, &hi);
        store_scaled16(dst, vsubq_s8(lo, eight), d);
        store_scaled16(dst + 16, vsubq_s8(hi, eight), d);
    }
}

void tensor__to_float_q8_0_neon(const void *src, float *dst, int64_t n) {
    const block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        float d = neon_f16_to_f32(b[i].d);
        store_scaled16(dst, vld1q_s8(b[i].qs), d);
        store_scaled16(dst + 16, vld1q_s8(b[i].qs + 16), d);
    }
}

/* dst[0..16) = dl * (float)q[k] - ml (q unsigned, below 128). */
static inline void store_affine16(float *dst, uint8x16_t q, float dl, float ml) {
    int16x8_t lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(q)));
    int16x8_t hi = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(q)));
    const float32x4_t m = vdupq_n_f32(ml);
    vst1q_f32(dst, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), dl), m));
    vst1q_f32(dst + 4, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), dl), m));
    vst1q_f32(dst + 8, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), dl), m));
    vst1q_f32(dst + 12, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), dl), m));
}

void tensor__to_float_q4_K_neon(const void *src, float *dst, int64_t n) {
    const block_q4_K *b = src;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        uint32_t w[3], o[4];
        memcpy(w, b[i].scales, 12);
        const uint32_t m6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, m2 = 0x03030303;
        o[0] = w[0] & m6;
        o[1] = (w[2] & k4) | (((w[0] >> 6) & m2) << 4);
        o[2] = w[1] & m6;
        o[3] = ((w[2] >> 4) & k4) | (((w[1] >> 6) & m2) << 4);
        uint8_t sc[8], mn[8];
        memcpy(sc, o, 8);
        memcpy(mn, o + 2, 8);
        float d = neon_f16_to_f32(b[i].d), dmin = neon_f16_to_f32(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            float dl = d * (float)sc[j], ml = dmin * (float)mn[j];
            const uint8_t *q = b[i].qs + 32 * (j / 2);
            for (int c = 0; c < 2; c++) {
                uint8x16_t v = vld1q_u8(q + 16 * c);
                v = j % 2 ? vshrq_n_u8(v, 4) : vandq_u8(v, m4);
                store_affine16(dst + 32 * j + 16 * c, v, dl, ml);
            }
        }
    }
}

void tensor__to_float_q6_K_neon(const void *src, float *dst, int64_t n) {
    const block_q6_K *b = src;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m3 = vdupq_n_u8(3);
    const int8x16_t bias = vdupq_n_s8(32);
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = neon_f16_to_f32(b[i].d);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
            for (int c = 0; c < 2; c++) {
                uint8x16_t l0 = vld1q_u8(ql + 16 * c), l1 = vld1q_u8(ql + 32 + 16 * c);
                uint8x16_t hb = vld1q_u8(qh + 16 * c);
                uint8x16_t v[4];
                v[0] = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m3), 4));
                v[1] = vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4));
                v[2] = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4));
                v[3] = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
                for (int k = 0; k < 4; k++) {
                    int e = 128 * h + 32 * k + 16 * c;
                    store_scaled16(dst + e, vsubq_s8(vreinterpretq_s8_u8(v[k]), bias),
                                   d * (float)b[i].scales[e / 16]);
                }
            }
        }
    }
}
