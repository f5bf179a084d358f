/* Small NEON building blocks shared by the arm64 kernels. NEON is part of the
 * armv8-a baseline, so these files need no extra compiler flags; the dot
 * product instructions are used only where the compiler targets them. */
#ifndef TENSOR_ARM_NEON_UTIL_H
#define TENSOR_ARM_NEON_UTIL_H

#include <arm_neon.h>

/* acc + the products of 16 signed bytes, four per int32 lane. Exact: each
 * product fits in int16 and pairs are widened before they are added. */
static inline int32x4_t neon_dot_i8(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

/* 16 packed bytes -> low nibbles (elements 0..15) and high nibbles (16..31). */
static inline void neon_nibbles(const uint8_t *p, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t v = vld1q_u8(p);
    *lo = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0f)));
    *hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
}

/* Byte k = 0xff when bit k (k < 16) of the little-endian bits at p is set. */
static inline uint8x16_t neon_bits_to_bytes16(const uint8_t *p) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t v = vcombine_u8(vdup_n_u8(p[0]), vdup_n_u8(p[1]));
    return vtstq_u8(v, vld1q_u8(bit));
}

static inline float neon_f16_to_f32(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

#endif
