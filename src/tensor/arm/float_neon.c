/* F32, F16 and BF16 dot products for NEON (f16 widened by the FCVTL instruction,
 * which every armv8-a core has). */
#include "tensor/arm/neon_util.h"
#include "tensor/quant_impl.h"

void tensor__vec_dot_f32_neon(int64_t n, float *s, const void *x, const void *y) {
    const float *a = x, *b = y;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), vld1q_f32(b + i));
        acc1 = vfmaq_f32(acc1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        acc2 = vfmaq_f32(acc2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        acc3 = vfmaq_f32(acc3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), vld1q_f32(b + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++) sum += a[i] * b[i];
    *s = sum;
}

static inline float32x4_t load_f16x4(const uint16_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

void tensor__vec_dot_f16_neon(int64_t n, float *s, const void *x, const void *y) {
    const uint16_t *a = x;
    const float *b = y;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = vfmaq_f32(acc0, load_f16x4(a + i), vld1q_f32(b + i));
        acc1 = vfmaq_f32(acc1, load_f16x4(a + i + 4), vld1q_f32(b + i + 4));
        acc2 = vfmaq_f32(acc2, load_f16x4(a + i + 8), vld1q_f32(b + i + 8));
        acc3 = vfmaq_f32(acc3, load_f16x4(a + i + 12), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) acc0 = vfmaq_f32(acc0, load_f16x4(a + i), vld1q_f32(b + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++) sum += tensor_f16_to_f32(a[i]) * b[i];
    *s = sum;
}

void tensor__to_float_f16_neon(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, load_f16x4(h + i));
    for (; i < n; i++) dst[i] = tensor_f16_to_f32(h[i]);
}

/* bf16 is the high half of an f32: widening is a 16-bit shift. */
static inline float32x4_t load_bf16x4(const uint16_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}

void tensor__vec_dot_bf16_neon(int64_t n, float *s, const void *x, const void *y) {
    const uint16_t *a = x;
    const float *b = y;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = vfmaq_f32(acc0, load_bf16x4(a + i), vld1q_f32(b + i));
        acc1 = vfmaq_f32(acc1, load_bf16x4(a + i + 4), vld1q_f32(b + i + 4));
        acc2 = vfmaq_f32(acc2, load_bf16x4(a + i + 8), vld1q_f32(b + i + 8));
        acc3 = vfmaq_f32(acc3, load_bf16x4(a + i + 12), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) acc0 = vfmaq_f32(acc0, load_bf16x4(a + i), vld1q_f32(b + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++) sum += tensor_bf16_to_f32(a[i]) * b[i];
    *s = sum;
}
