/* to_float for the formats without a hand-written AVX2 dequantizer: plain
 * loops in storage order (no per-element index arithmetic) that the compiler
 * vectorizes for AVX2. The float operations and their order are those of the
 * portable path, and contraction is off, so the results are bit-identical. */
#include "tensor/quant_impl.h"
#include "tensor/x86/avx2_util.h"

void tensor__to_float_q4_1_avx2(const void *src, float *dst, int64_t n) {
    const block_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK4_1; i++, dst += QK4_1) {
        const float d = f16_to_f32_c(b[i].d), m = f16_to_f32_c(b[i].m);
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)(b[i].qs[j] & 0x0f) * d + m;
            dst[j + 16] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void tensor__to_float_q5_0_avx2(const void *src, float *dst, int64_t n) {
    const block_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK5_0; i++, dst += QK5_0) {
        const float d = f16_to_f32_c(b[i].d);
        uint32_t qh;
        memcpy(&qh, b[i].qh, sizeof qh);
        for (int j = 0; j < 16; j++) {
            int q0 = (int)((b[i].qs[j] & 0x0fu) | (((qh >> j) & 1u) << 4)) - 16;
            int q1 = (int)((b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) - 16;
            dst[j] = (float)q0 * d;
            dst[j + 16] = (float)q1 * d;
        }
    }
}

void tensor__to_float_q5_1_avx2(const void *src, float *dst, int64_t n) {
    const block_q5_1 *b = src;
    for (int64_t i = 0; i < n / QK5_1; i++, dst += QK5_1) {
        const float d = f16_to_f32_c(b[i].d), m = f16_to_f32_c(b[i].m);
        uint32_t qh;
        memcpy(&qh, b[i].qh, sizeof qh);
        for (int j = 0; j < 16; j++) {
            uint32_t q0 = (b[i].qs[j] & 0x0fu) | (((qh >> j) & 1u) << 4);
            uint32_t q1 = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
            dst[j] = (float)q0 * d + m;
            dst[j + 16] = (float)q1 * d + m;
        }
    }
}

void tensor__to_float_iq4_nl_avx2(const void *src, float *dst, int64_t n) {
    const block_iq4_nl *b = src;
    for (int64_t i = 0; i < n / QK4_NL; i++, dst += QK4_NL) {
        const float d = f16_to_f32_c(b[i].d);
        for (int j = 0; j < 16; j++) {
            dst[j] = d * (float)tensor__iq4nl_values[b[i].qs[j] & 0x0f];
            dst[j + 16] = d * (float)tensor__iq4nl_values[b[i].qs[j] >> 4];
        }
    }
}

void tensor__to_float_iq4_xs_avx2(const void *src, float *dst, int64_t n) {
    const block_iq4_xs *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = f16_to_f32_c(b[i].d);
        for (int ib = 0; ib < 8; ib++, dst += 32) {
            int ls = (((b[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((b[i].scales_h >> (2 * ib)) & 3) << 4)) - 32;
            const float dl = d * (float)ls;
            const uint8_t *qs = b[i].qs + 16 * ib;
            for (int j = 0; j < 16; j++) {
                dst[j] = dl * (float)tensor__iq4nl_values[qs[j] & 0x0f];
                dst[j + 16] = dl * (float)tensor__iq4nl_values[qs[j] >> 4];
            }
        }
    }
}

void tensor__to_float_q2_K_avx2(const void *src, float *dst, int64_t n) {
    const block_q2_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = f16_to_f32_c(b[i].d), dmin = f16_to_f32_c(b[i].dmin);
        const uint8_t *q = b[i].qs;
        int is = 0;
        for (int h = 0; h < 2; h++, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++, is++, dst += 16) {
                    const uint8_t sc = b[i].scales[is];
                    const float dl = d * (float)(sc & 0x0f), ml = dmin * (float)(sc >> 4);
                    for (int l = 0; l < 16; l++) dst[l] = dl * (float)((q[16 * half + l] >> shift) & 3) - ml;
                }
            }
        }
    }
}

void tensor__to_float_q3_K_avx2(const void *src, float *dst, int64_t n) {
    const block_q3_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = f16_to_f32_c(b[i].d);
        uint32_t w[3];
        memcpy(w, b[i].scales, 12);
        const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
        uint32_t s4[4] = {(w[0] & m4) | ((w[2] & m2) << 4), (w[1] & m4) | (((w[2] >> 2) & m2) << 4),
                          ((w[0] >> 4) & m4) | (((w[2] >> 4) & m2) << 4),
                          ((w[1] >> 4) & m4) | (((w[2] >> 6) & m2) << 4)};
        uint8_t sc[16];
        memcpy(sc, s4, 16);
        const uint8_t *q = b[i].qs;
        uint8_t m = 1;
        int is = 0;
        for (int h = 0; h < 2; h++, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m = (uint8_t)(m << 1)) {
                for (int half = 0; half < 2; half++, is++, dst += 16) {
                    const float dl = d * (float)(sc[is] - 32);
                    for (int l = 0; l < 16; l++) {
                        int v = ((q[16 * half + l] >> shift) & 3) - ((b[i].hmask[16 * half + l] & m) ? 0 : 4);
                        dst[l] = dl * (float)v;
                    }
                }
            }
        }
    }
}

void tensor__to_float_q5_K_avx2(const void *src, float *dst, int64_t n) {
    const block_q5_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = f16_to_f32_c(b[i].d), dmin = f16_to_f32_c(b[i].dmin);
        uint32_t w[3];
        memcpy(w, b[i].scales, 12);
        const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
        uint32_t s4[4] = {w[0] & m6, (w[2] & m4) | (((w[0] >> 6) & m2) << 4), w[1] & m6,
                          ((w[2] >> 4) & m4) | (((w[1] >> 6) & m2) << 4)};
        uint8_t sm[16]; /* scales 0..7, mins 8..15 */
        memcpy(sm, s4, 16);
        const uint8_t *ql = b[i].qs, *qh = b[i].qh;
        for (int j = 0; j < 8; j += 2, ql += 32) {
            const float d1 = d * (float)sm[j], m1 = dmin * (float)sm[8 + j];
            const float d2 = d * (float)sm[j + 1], m2f = dmin * (float)sm[9 + j];
            for (int l = 0; l < 32; l++) {
                dst[l] = d1 * (float)((ql[l] & 0x0f) | (((qh[l] >> j) & 1) << 4)) - m1;
                dst[l + 32] = d2 * (float)((ql[l] >> 4) | (((qh[l] >> (j + 1)) & 1) << 4)) - m2f;
            }
            dst += 64;
        }
    }
}

void tensor__to_float_q6_K_avx2(const void *src, float *dst, int64_t n) {
    const block_q6_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = f16_to_f32_c(b[i].d);
        const uint8_t *ql = b[i].ql, *qh = b[i].qh;
        const int8_t *sc = b[i].scales;
        for (int h = 0; h < 2; h++, dst += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                dst[l] = d * (float)sc[is] * (float)q1;
                dst[l + 32] = d * (float)sc[is + 2] * (float)q2;
                dst[l + 64] = d * (float)sc[is + 4] * (float)q3;
                dst[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}
