/* Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1: portable conversions and dots. The
 * quantizers follow ggml's reference rounding exactly (the order of float
 * operations included) so their bytes match files made by llama-quantize. */
#include <math.h>
#include <string.h>

#include "tensor/quant_impl.h"

static float absmax_signed(const float *x, int n, float *amax_out) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    *amax_out = amax;
    return max;
}

static void min_max(const float *x, int n, float *mn, float *mx) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

/* ---- Q4_0 ---- */

void tensor__to_float_q4_0(const void *src, float *dst, int64_t n) {
    const block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        float d = F16(b[i].d);
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)((b[i].qs[j] & 0x0f) - 8) * d;
            dst[j + 16] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void tensor__from_float_q4_0(const float *src, void *dst, int64_t n) {
    block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / QK4_0; i++, src += QK4_0) {
        float amax;
        float max = absmax_signed(src, QK4_0, &amax);
        float d = max / -8;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = tensor_f32_to_f16(d);
        for (int j = 0; j < 16; j++) {
            int q0 = (int)(src[j] * id + 8.5f), q1 = (int)(src[j + 16] * id + 8.5f);
            q0 = q0 < 15 ? q0 : 15;
            q1 = q1 < 15 ? q1 : 15;
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void tensor__vec_dot_q4_0(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_0 *a = x;
    const block_q8_0 *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        int isum = 0;
        for (int j = 0; j < 16; j++)
            isum += ((a[i].qs[j] & 0x0f) - 8) * b[i].qs[j] + ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
        sum += (float)isum * (F16(a[i].d) * F16(b[i].d));
    }
    *s = sum;
}

/* ---- Q4_1 ---- */

void tensor__to_float_q4_1(const void *src, float *dst, int64_t n) {
    const block_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK4_1; i++, dst += QK4_1) {
        float d = F16(b[i].d), m = F16(b[i].m);
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)(b[i].qs[j] & 0x0f) * d + m;
            dst[j + 16] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void tensor__from_float_q4_1(const float *src, void *dst, int64_t n) {
    block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / QK4_1; i++, src += QK4_1) {
        float mn, mx;
        min_max(src, QK4_1, &mn, &mx);
        float d = (mx - mn) / 15;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = tensor_f32_to_f16(d);
        b[i].m = tensor_f32_to_f16(mn);
        for (int j = 0; j < 16; j++) {
            int q0 = (int)((src[j] - mn) * id + 0.5f), q1 = (int)((src[j + 16] - mn) * id + 0.5f);
            q0 = q0 < 15 ? q0 : 15;
            q1 = q1 < 15 ? q1 : 15;
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void tensor__vec_dot_q4_1(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_1 *a = x;
    const block_q8_1 *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        int isum = 0;
        for (int j = 0; j < 16; j++)
            isum += (a[i].qs[j] & 0x0f) * b[i].qs[j] + (a[i].qs[j] >> 4) * b[i].qs[j + 16];
        sum += (float)isum * (F16(a[i].d) * F16(b[i].d)) + F16(a[i].m) * F16(b[i].s);
    }
    *s = sum;
}

/* ---- Q5_0 ---- */

static inline uint32_t load_qh(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

static inline void store_qh(uint8_t qh[4], uint32_t v) {
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(v >> (8 * k));
}

void tensor__to_float_q5_0(const void *src, float *dst, int64_t n) {
    const block_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK5_0; i++, dst += QK5_0) {
        float d = F16(b[i].d);
        uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < 16; j++) {
            int q0 = (int)((b[i].qs[j] & 0x0f) | (((qh >> j) & 1u) << 4)) - 16;
            int q1 = (int)((b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) - 16;
            dst[j] = (float)q0 * d;
            dst[j + 16] = (float)q1 * d;
        }
    }
}

void tensor__from_float_q5_0(const float *src, void *dst, int64_t n) {
    block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / QK5_0; i++, src += QK5_0) {
        float amax;
        float max = absmax_signed(src, QK5_0, &amax);
        float d = max / -16;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = tensor_f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = (int)(src[j] * id + 16.5f), q1 = (int)(src[j + 16] * id + 16.5f);
            q0 = q0 < 31 ? q0 : 31;
            q1 = q1 < 31 ? q1 : 31;
            b[i].qs[j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)(q0 >> 4) << j | (uint32_t)(q1 >> 4) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}

void tensor__vec_dot_q5_0(int64_t n, float *s, const void *x, const void *y) {
    const block_q5_0 *a = x;
    const block_q8_0 *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        uint32_t qh = load_qh(a[i].qh);
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = (int)((a[i].qs[j] & 0x0f) | (((qh >> j) & 1u) << 4)) - 16;
            int q1 = (int)((a[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) - 16;
            isum += q0 * b[i].qs[j] + q1 * b[i].qs[j + 16];
        }
        sum += (float)isum * (F16(a[i].d) * F16(b[i].d));
    }
    *s = sum;
}

/* ---- Q5_1 ---- */

void tensor__to_float_q5_1(const void *src, float *dst, int64_t n) {
    const block_q5_1 *b = src;
    for (int64_t i = 0; i < n / QK5_1; i++, dst += QK5_1) {
        float d = F16(b[i].d), m = F16(b[i].m);
        uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < 16; j++) {
            uint32_t q0 = (b[i].qs[j] & 0x0fu) | (((qh >> j) & 1u) << 4);
            uint32_t q1 = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
            dst[j] = (float)q0 * d + m;
            dst[j + 16] = (float)q1 * d + m;
        }
    }
}

void tensor__from_float_q5_1(const float *src, void *dst, int64_t n) {
    block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / QK5_1; i++, src += QK5_1) {
        float mn, mx;
        min_max(src, QK5_1, &mn, &mx);
        float d = (mx - mn) / 31;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = tensor_f32_to_f16(d);
        b[i].m = tensor_f32_to_f16(mn);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            /* The reference keeps the low 8 bits without clamping; 31.5 can't be reached. */
            uint32_t q0 = (uint8_t)(int)((src[j] - mn) * id + 0.5f);
            uint32_t q1 = (uint8_t)(int)((src[j + 16] - mn) * id + 0.5f);
            b[i].qs[j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= ((q0 >> 4) & 1u) << j | ((q1 >> 4) & 1u) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}

void tensor__vec_dot_q5_1(int64_t n, float *s, const void *x, const void *y) {
    const block_q5_1 *a = x;
    const block_q8_1 *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        uint32_t qh = load_qh(a[i].qh);
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = (int)((a[i].qs[j] & 0x0fu) | (((qh >> j) & 1u) << 4));
            int q1 = (int)((a[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
            isum += q0 * b[i].qs[j] + q1 * b[i].qs[j + 16];
        }
        sum += (float)isum * (F16(a[i].d) * F16(b[i].d)) + F16(a[i].m) * F16(b[i].s);
    }
    *s = sum;
}

/* ---- Q8_0 and Q8_1 ---- */

static float q8_scale(const float *x, float *id) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    float d = amax / 127;
    *id = d != 0.0f ? 1.0f / d : 0.0f;
    return d;
}

void tensor__to_float_q8_0(const void *src, float *dst, int64_t n) {
    const block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        float d = F16(b[i].d);
        for (int j = 0; j < QK8_0; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

void tensor__from_float_q8_0(const float *src, void *dst, int64_t n) {
    block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0) {
        float id, d = q8_scale(src, &id);
        b[i].d = tensor_f32_to_f16(d);
        for (int j = 0; j < QK8_0; j++) b[i].qs[j] = (int8_t)roundf(src[j] * id);
    }
}

void tensor__vec_dot_q8_0(int64_t n, float *s, const void *x, const void *y) {
    const block_q8_0 *a = x, *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int isum = 0;
        for (int j = 0; j < QK8_0; j++) isum += a[i].qs[j] * b[i].qs[j];
        sum += (float)isum * (F16(a[i].d) * F16(b[i].d));
    }
    *s = sum;
}

void tensor__to_float_q8_1(const void *src, float *dst, int64_t n) {
    const block_q8_1 *b = src;
    for (int64_t i = 0; i < n / QK8_1; i++, dst += QK8_1) {
        float d = F16(b[i].d);
        for (int j = 0; j < QK8_1; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

void tensor__from_float_q8_1(const float *src, void *dst, int64_t n) {
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        float id, d = q8_scale(src, &id);
        int sum = 0;
        for (int j = 0; j < QK8_1; j++) {
            b[i].qs[j] = (int8_t)roundf(src[j] * id);
            sum += b[i].qs[j];
        }
        b[i].d = tensor_f32_to_f16(d);
        b[i].s = tensor_f32_to_f16((float)sum * d);
    }
}
