/* NEON kernels for the K-quants and IQ4_XS and the Q8_K activation quantizer. Each
 * sub-block's integer dot is exact and weighted by its integer scale; the
 * constant offsets (Q4_K's mins) go through Q8_K's per-16 sums. */
#include <string.h>

#include "tensor/arm/neon_util.h"
#include "tensor/quant_impl.h"

/* The 8 6-bit scales (sc) and mins (mn) of a Q4_K / Q5_K super-block. */
static inline void k4_scales_mins(const uint8_t q[12], uint8_t sc[8], uint8_t mn[8]) {
    uint32_t w[3], o[4];
    memcpy(w, q, 12);
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    o[0] = w[0] & m6;
    o[1] = (w[2] & m4) | (((w[0] >> 6) & m2) << 4);
    o[2] = w[1] & m6;
    o[3] = ((w[2] >> 4) & m4) | (((w[1] >> 6) & m2) << 4);
    memcpy(sc, o, 4);
    memcpy(sc + 4, o + 1, 4);
    memcpy(mn, o + 2, 4);
    memcpy(mn + 4, o + 3, 4);
}

void tensor__vec_dot_q4_K_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_K *a = x;
    const block_q8_K *b = y;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        k4_scales_mins(a[i].scales, sc, mn);
        /* sum_j mins[j] * (bsums[2j] + bsums[2j+1]). */
        int16x8_t pairs = vpaddq_s16(vld1q_s16(b[i].bsums), vld1q_s16(b[i].bsums + 8));
        int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
        int32x4_t ms = vmull_s16(vget_low_s16(pairs), vget_low_s16(mins));
        ms = vmlal_s16(ms, vget_high_s16(pairs), vget_high_s16(mins));
        int summs = vaddvq_s32(ms);
        const int8_t *q8 = b[i].qs;
        int isum = 0;
        for (int j = 0; j < 4; j++) {
            uint8x16_t q0 = vld1q_u8(a[i].qs + 32 * j), q1 = vld1q_u8(a[i].qs + 32 * j + 16);
            int32x4_t p0 = neon_dot_i8(vdupq_n_s32(0), vreinterpretq_s8_u8(vandq_u8(q0, m4)), vld1q_s8(q8 + 64 * j));
            p0 = neon_dot_i8(p0, vreinterpretq_s8_u8(vandq_u8(q1, m4)), vld1q_s8(q8 + 64 * j + 16));
            int32x4_t p1 = neon_dot_i8(vdupq_n_s32(0), vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), vld1q_s8(q8 + 64 * j + 32));
            p1 = neon_dot_i8(p1, vreinterpretq_s8_u8(vshrq_n_u8(q1, 4)), vld1q_s8(q8 + 64 * j + 48));
            isum += vaddvq_s32(p0) * sc[2 * j] + vaddvq_s32(p1) * sc[2 * j + 1];
        }
        sum += b[i].d * neon_f16_to_f32(a[i].d) * (float)isum - b[i].d * neon_f16_to_f32(a[i].dmin) * (float)summs;
    }
    *s = sum;
}

/* Dot of 16 quants with 16 Q8_K bytes, as one int. */
static inline int dot16(int8x16_t q, const int8_t *q8) {
    return vaddvq_s32(neon_dot_i8(vdupq_n_s32(0), q, vld1q_s8(q8)));
}

void tensor__vec_dot_q2_K_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q2_K *a = x;
    const block_q8_K *b = y;
    const uint8x16_t m3 = vdupq_n_u8(3);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8x16_t raw = vld1q_u8(a[i].scales);
        int16x8_t mn_lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(vshrq_n_u8(raw, 4))));
        int16x8_t mn_hi = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(vshrq_n_u8(raw, 4))));
        int32x4_t ms = vmull_s16(vget_low_s16(mn_lo), vld1_s16(b[i].bsums));
        ms = vmlal_s16(ms, vget_high_s16(mn_lo), vld1_s16(b[i].bsums + 4));
        ms = vmlal_s16(ms, vget_low_s16(mn_hi), vld1_s16(b[i].bsums + 8));
        ms = vmlal_s16(ms, vget_high_s16(mn_hi), vld1_s16(b[i].bsums + 12));
        int summs = vaddvq_s32(ms);
        int isum = 0;
        for (int h = 0; h < 2; h++) {
            const int8_t *q8 = b[i].qs + 128 * h;
            const uint8_t *sc = a[i].scales + 8 * h;
            for (int c = 0; c < 2; c++) {
                uint8x16_t q2 = vld1q_u8(a[i].qs + 32 * h + 16 * c);
                isum += (sc[c] & 0x0f) * dot16(vreinterpretq_s8_u8(vandq_u8(q2, m3)), q8 + 16 * c);
                isum += (sc[2 + c] & 0x0f) * dot16(vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(q2, 2), m3)), q8 + 32 + 16 * c);
                isum += (sc[4 + c] & 0x0f) * dot16(vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(q2, 4), m3)), q8 + 64 + 16 * c);
                isum += (sc[6 + c] & 0x0f) * dot16(vreinterpretq_s8_u8(vshrq_n_u8(q2, 6)), q8 + 96 + 16 * c);
            }
        }
        float d = b[i].d * neon_f16_to_f32(a[i].d), dmin = b[i].d * neon_f16_to_f32(a[i].dmin);
        sum += d * (float)isum - dmin * (float)summs;
    }
    *s = sum;
}

/* The 16 Q3_K scales (bias removed) from their 12-byte packing. */
static inline void q3k_scales(const uint8_t raw[12], int8_t sc[16]) {
    uint32_t w[3], o[4];
    memcpy(w, raw, 12);
    const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
    o[0] = (w[0] & m4) | ((w[2] & m2) << 4);
    o[1] = (w[1] & m4) | (((w[2] >> 2) & m2) << 4);
    o[2] = ((w[0] >> 4) & m4) | (((w[2] >> 4) & m2) << 4);
    o[3] = ((w[1] >> 4) & m4) | (((w[2] >> 6) & m2) << 4);
    vst1q_s8(sc, vsubq_s8(vreinterpretq_s8_u32(vld1q_u32(o)), vdupq_n_s8(32)));
}

void tensor__vec_dot_q3_K_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q3_K *a = x;
    const block_q8_K *b = y;
    const uint8x16_t m3 = vdupq_n_u8(3), m1 = vdupq_n_u8(1);
    const int8x16_t four = vdupq_n_s8(4);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t sc[16];
        q3k_scales(a[i].scales, sc);
        int isum = 0;
        for (int h = 0; h < 2; h++) {
            const int8_t *q8 = b[i].qs + 128 * h;
            for (int c = 0; c < 2; c++) {
                uint8x16_t q2 = vld1q_u8(a[i].qs + 32 * h + 16 * c), hm = vld1q_u8(a[i].hmask + 16 * c);
                for (int k = 0; k < 4; k++) {
                    /* Stored as q + 4 in [0, 8): low 2 bits, 3rd bit in hmask. */
                    uint8x16_t lo = vandq_u8(vshlq_u8(q2, vdupq_n_s8((int8_t)(-2 * k))), m3);
                    uint8x16_t hb = vandq_u8(vshlq_u8(hm, vdupq_n_s8((int8_t)(-(4 * h + k)))), m1);
                    int8x16_t v = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, vshlq_n_u8(hb, 2))), four);
                    isum += sc[8 * h + 2 * k + c] * dot16(v, q8 + 32 * k + 16 * c);
                }
            }
        }
        sum += neon_f16_to_f32(a[i].d) * b[i].d * (float)isum;
    }
    *s = sum;
}

void tensor__vec_dot_q5_K_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q5_K *a = x;
    const block_q8_K *b = y;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m1 = vdupq_n_u8(1);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        k4_scales_mins(a[i].scales, sc, mn);
        int16x8_t pairs = vpaddq_s16(vld1q_s16(b[i].bsums), vld1q_s16(b[i].bsums + 8));
        int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
        int32x4_t ms = vmull_s16(vget_low_s16(pairs), vget_low_s16(mins));
        ms = vmlal_s16(ms, vget_high_s16(pairs), vget_high_s16(mins));
        int summs = vaddvq_s32(ms);
        const int8_t *q8 = b[i].qs;
        int isum = 0;
        for (int j = 0; j < 4; j++) {
            for (int c = 0; c < 2; c++) {
                uint8x16_t q4 = vld1q_u8(a[i].qs + 32 * j + 16 * c), qh = vld1q_u8(a[i].qh + 16 * c);
                uint8x16_t h0 = vshlq_n_u8(vandq_u8(vshlq_u8(qh, vdupq_n_s8((int8_t)(-2 * j))), m1), 4);
                uint8x16_t h1 = vshlq_n_u8(vandq_u8(vshlq_u8(qh, vdupq_n_s8((int8_t)(-2 * j - 1))), m1), 4);
                int8x16_t v0 = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q4, m4), h0));
                int8x16_t v1 = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q4, 4), h1));
                isum += sc[2 * j] * dot16(v0, q8 + 64 * j + 16 * c);
                isum += sc[2 * j + 1] * dot16(v1, q8 + 64 * j + 32 + 16 * c);
            }
        }
        sum += b[i].d * neon_f16_to_f32(a[i].d) * (float)isum - b[i].d * neon_f16_to_f32(a[i].dmin) * (float)summs;
    }
    *s = sum;
}

void tensor__vec_dot_iq4_xs_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_iq4_xs *a = x;
    const block_q8_K *b = y;
    const int8x16_t table = vld1q_s8(tensor__iq4nl_values);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int isum = 0;
        for (int ib = 0; ib < 8; ib++) {
            int ls = (((a[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((a[i].scales_h >> (2 * ib)) & 3) << 4)) - 32;
            int8x16_t lo, hi;
            neon_nibbles(a[i].qs + 16 * ib, &lo, &hi);
            lo = vqtbl1q_s8(table, vreinterpretq_u8_s8(lo));
            hi = vqtbl1q_s8(table, vreinterpretq_u8_s8(hi));
            isum += ls * (dot16(lo, b[i].qs + 32 * ib) + dot16(hi, b[i].qs + 32 * ib + 16));
        }
        sum += neon_f16_to_f32(a[i].d) * b[i].d * (float)isum;
    }
    *s = sum;
}

void tensor__vec_dot_q6_K_neon(int64_t n, float *s, const void *x, const void *y) {
    const block_q6_K *a = x;
    const block_q8_K *b = y;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m3 = vdupq_n_u8(3);
    const int8x16_t bias = vdupq_n_s8(32);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int isum = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = a[i].ql + 64 * h, *qh = a[i].qh + 32 * h;
            const int8_t *q8 = b[i].qs + 128 * h;
            const int8_t *sc = a[i].scales + 8 * h;
            /* 16 values per scale: half c (0 or 1) of each 32-value row k. */
            for (int c = 0; c < 2; c++) {
                uint8x16_t l0 = vld1q_u8(ql + 16 * c), l1 = vld1q_u8(ql + 32 + 16 * c);
                uint8x16_t hb = vld1q_u8(qh + 16 * c);
                uint8x16_t v[4];
                v[0] = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m3), 4));
                v[1] = vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4));
                v[2] = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4));
                v[3] = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
                for (int k = 0; k < 4; k++) {
                    int8x16_t q = vsubq_s8(vreinterpretq_s8_u8(v[k]), bias);
                    int32x4_t p = neon_dot_i8(vdupq_n_s32(0), q, vld1q_s8(q8 + 32 * k + 16 * c));
                    isum += vaddvq_s32(p) * sc[2 * k + c];
                }
            }
        }
        sum += neon_f16_to_f32(a[i].d) * b[i].d * (float)isum;
    }
    *s = sum;
}

void tensor__from_float_q8_K_neon(const float *src, void *dst, int64_t n) {
    block_q8_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int j = 0; j < QK_K; j += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(src + j)));
        float amax = vmaxvq_f32(m);
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        /* The reference keeps the sign of the first value reaching amax. */
        float max = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            if (__builtin_fabsf(src[j]) == amax) {
                max = src[j];
                break;
            }
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j += 16) {
            /* FCVTNS rounds ties to even, like the reference's nearest_int. */
            int16x8_t h0 = vcombine_s16(vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(src + j), iscale))),
                                        vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(src + j + 4), iscale))));
            int16x8_t h1 = vcombine_s16(vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(src + j + 8), iscale))),
                                        vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(src + j + 12), iscale))));
            /* Saturating narrowing clamps at 127 as the reference does. */
            int8x16_t q = vcombine_s8(vqmovn_s16(h0), vqmovn_s16(h1));
            vst1q_s8(b[i].qs + j, q);
            b[i].bsums[j / 16] = (int16_t)vaddlvq_s8(q);
        }
        b[i].d = 1.0f / iscale;
    }
}
