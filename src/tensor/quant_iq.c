/* IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-linear table. sova reads
 * and computes with them; it does not write them (no from_float). */
#include "tensor/quant_impl.h"

const int8_t tensor__iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                         1,    13,   25,  38,  53,  69,  89,  113};

void tensor__to_float_iq4_nl(const void *src, float *dst, int64_t n) {
    const block_iq4_nl *b = src;
    for (int64_t i = 0; i < n / QK4_NL; i++, dst += QK4_NL) {
        float d = F16(b[i].d);
        for (int j = 0; j < 16; j++) {
            dst[j] = d * (float)tensor__iq4nl_values[b[i].qs[j] & 0x0f];
            dst[j + 16] = d * (float)tensor__iq4nl_values[b[i].qs[j] >> 4];
        }
    }
}

void tensor__vec_dot_iq4_nl(int64_t n, float *s, const void *x, const void *y) {
    const block_iq4_nl *a = x;
    const block_q8_0 *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK4_NL; i++) {
        int isum = 0;
        for (int j = 0; j < 16; j++)
            isum += tensor__iq4nl_values[a[i].qs[j] & 0x0f] * b[i].qs[j] +
                    tensor__iq4nl_values[a[i].qs[j] >> 4] * b[i].qs[j + 16];
        sum += (float)isum * (F16(a[i].d) * F16(b[i].d));
    }
    *s = sum;
}

/* Scale of sub-block ib (of 8), in [-32, 32). */
static inline int iq4xs_scale(const block_iq4_xs *b, int ib) {
    int lo = (b->scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f;
    int hi = (b->scales_h >> (2 * ib)) & 3;
    return (lo | (hi << 4)) - 32;
}

void tensor__to_float_iq4_xs(const void *src, float *dst, int64_t n) {
    const block_iq4_xs *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = F16(b[i].d);
        for (int ib = 0; ib < 8; ib++, dst += 32) {
            float dl = d * (float)iq4xs_scale(&b[i], ib);
            const uint8_t *qs = b[i].qs + 16 * ib;
            for (int j = 0; j < 16; j++) {
                dst[j] = dl * (float)tensor__iq4nl_values[qs[j] & 0x0f];
                dst[j + 16] = dl * (float)tensor__iq4nl_values[qs[j] >> 4];
            }
        }
    }
}

void tensor__vec_dot_iq4_xs(int64_t n, float *s, const void *x, const void *y) {
    const block_iq4_xs *a = x;
    const block_q8_K *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int isum = 0;
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t *qs = a[i].qs + 16 * ib;
            const int8_t *q8 = b[i].qs + 32 * ib;
            int gs = 0;
            for (int j = 0; j < 16; j++)
                gs += tensor__iq4nl_values[qs[j] & 0x0f] * q8[j] + tensor__iq4nl_values[qs[j] >> 4] * q8[j + 16];
            isum += iq4xs_scale(&a[i], ib) * gs;
        }
        sum += F16(a[i].d) * b[i].d * (float)isum;
    }
    *s = sum;
}
