/* K-quants (Q2_K..Q6_K) and their activation format Q8_K: portable
 * conversions and dots. The quantizers are ggml's reference search
 * (make_qx/q3/qkx2 below) so the output matches llama-quantize without an
 * importance matrix. */
#include <math.h>
#include <string.h>

#include "tensor/quant_impl.h"

#define GROUP_MAX_EPS 1e-15f

/* Round to nearest, ties to even, through the FPU: adding 1.5 * 2^23 leaves
 * the integer in the low mantissa bits. Valid for |f| <= 2^22. */
static inline int nearest_int(float f) {
    float v = f + 12582912.0f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The element of largest magnitude, with its sign (the first one on ties). */
static float signed_absmax(int n, const float *x) {
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    return max;
}

/* Quantizes x with iscale into [-nmax, nmax) and accumulates the x^2-weighted
 * sums sum(w x l) and sum(w l^2) the scale fit uses; stores l + offset in L
 * when L is given. The summation order is ggml's (bit-exact scales). */
static void weighted_sums(int n, int nmax, float iscale, const float *x, int8_t *L, int offset, float *sumlx,
                          float *suml2) {
    float slx = 0.0f, sl2 = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        if (L) L[i] = (int8_t)(l + offset);
        float w = x[i] * x[i];
        slx += w * x[i] * (float)l;
        sl2 += w * (float)l * (float)l;
    }
    *sumlx = slx;
    *suml2 = sl2;
}

/* Symmetric quants in [-nmax, nmax) stored as L + nmax, with the scale
 * refined by weighted least squares over a small sweep of trial scales. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L) {
    float max = signed_absmax(n, x);
    if (fabsf(max) < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)-nmax / max;
    float sumlx, suml2;
    weighted_sums(n, nmax, iscale, x, L, nmax, &sumlx, &suml2);
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        weighted_sums(n, nmax, iscale, x, NULL, 0, &sumlx, &suml2);
        if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Like make_qx_quants for Q3_K, but refining quant by quant (up to 5 passes). */
static float make_q3_quants(int n, int nmax, const float *x, int8_t *L) {
    float max = signed_absmax(n, x);
    if (fabsf(max) < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)-nmax / max;
    float sumlx, suml2;
    weighted_sums(n, nmax, iscale, x, L, 0, &sumlx, &suml2);
    for (int itry = 0; itry < 5; itry++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            if (slx > 0.0f) {
                float sl2 = suml2 - w * (float)L[i] * (float)L[i];
                int nl = clampi(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (nl != L[i]) {
                    slx += w * x[i] * (float)nl;
                    sl2 += w * (float)nl * (float)nl;
                    if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)nl;
                        sumlx = slx;
                        suml2 = sl2;
                        changed++;
                    }
                }
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Asymmetric quants in [0, nmax] with scale and min fitted by weighted least
 * squares over nstep+1 trial scales; returns the scale, *the_min = -min. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *w, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                              bool use_mad) {
    float min = x[0], max = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0.0f) min = 0.0f;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.0f;
    }
    float iscale = (float)nmax / (max - min);
    float scale = 1.0f / iscale;
    float best_error = 0.0f;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
        float diff = scale * (float)L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += w[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
        for (int i = 0; i < n; i++) {
            int l = clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            float fl = (float)l;
            sum_l += w[i] * fl;
            sum_l2 += w[i] * fl * fl;
            sum_xl += w[i] * fl * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0.0f) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0.0f) {
                this_min = 0.0f;
                this_scale = sum_xl / sum_l2;
            }
            float err = 0.0f;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                err += w[i] * diff;
            }
            if (err < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = err;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* 6-bit scale j and min j of a Q4_K/Q5_K block (12 packed bytes). */
static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

static void pack_scale_min_k4(uint8_t *q, const uint8_t ls[8], const uint8_t lm[8]) {
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            q[j] = ls[j];
            q[j + 4] = lm[j];
        } else {
            q[j + 4] = (uint8_t)((ls[j] & 0x0f) | ((lm[j] & 0x0f) << 4));
            q[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            q[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

/* The 16 signed 6-bit scales of a Q3_K block, minus their bias of 32. */
static void q3_scales(const uint8_t raw[12], int8_t out[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? raw[j] & 0x0f : raw[j - 8] >> 4;
        int hi = (raw[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

/* Packs 2-bit values L[0..256) the way Q2_K and Q3_K store them: byte l of
 * each 32-byte half holds elements l, l+32, l+64, l+96 of its 128. */
static void pack_2bit(uint8_t qs[64], const uint8_t *L) {
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
}

static inline int unpack_2bit(const uint8_t qs[64], int e) {
    return (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

/* ---- Q2_K ---- */

void tensor__to_float_q2_K(const void *src, float *dst, int64_t n) {
    const block_q2_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = F16(b[i].d), dmin = F16(b[i].dmin);
        for (int g = 0; g < 16; g++) {
            float dl = d * (float)(b[i].scales[g] & 0x0f), ml = dmin * (float)(b[i].scales[g] >> 4);
            for (int l = 0; l < 16; l++) {
                int e = g * 16 + l;
                dst[e] = dl * (float)unpack_2bit(b[i].qs, e) - ml;
            }
        }
    }
}

void tensor__from_float_q2_K(const float *src, void *dst, int64_t n) {
    block_q2_K *b = dst;
    uint8_t L[QK_K], Laux[16];
    float w[16], mins[16], scales[16];
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = fabsf(src[16 * j + l]);
            scales[j] = make_qkx2_quants(16, 3, src + 16 * j, w, L + 16 * j, &mins[j], Laux, -0.5f,
                                         0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        memset(b[i].scales, 0, sizeof b[i].scales);
        b[i].d = tensor_f32_to_f16(0.0f);
        b[i].dmin = tensor_f32_to_f16(0.0f);
        if (max_scale > 0.0f) {
            float iscale = 15.0f / max_scale;
            for (int j = 0; j < 16; j++) b[i].scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
            b[i].d = tensor_f32_to_f16(max_scale / 15.0f);
        }
        if (max_min > 0.0f) {
            float iscale = 15.0f / max_min;
            for (int j = 0; j < 16; j++) b[i].scales[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
            b[i].dmin = tensor_f32_to_f16(max_min / 15.0f);
        }
        for (int j = 0; j < 16; j++) {
            float d = F16(b[i].d) * (float)(b[i].scales[j] & 0x0f);
            if (d == 0.0f) continue;
            float dm = F16(b[i].dmin) * (float)(b[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (uint8_t)clampi(nearest_int((src[16 * j + l] + dm) / d), 0, 3);
        }
        pack_2bit(b[i].qs, L);
    }
}

void tensor__vec_dot_q2_K(int64_t n, float *s, const void *x, const void *y) {
    const block_q2_K *a = x;
    const block_q8_K *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int summs = 0, isum = 0;
        for (int g = 0; g < 16; g++) {
            summs += (a[i].scales[g] >> 4) * b[i].bsums[g];
            int gs = 0;
            for (int l = 0; l < 16; l++) gs += unpack_2bit(a[i].qs, g * 16 + l) * b[i].qs[g * 16 + l];
            isum += (a[i].scales[g] & 0x0f) * gs;
        }
        float d = b[i].d * F16(a[i].d), dmin = b[i].d * F16(a[i].dmin);
        sum += d * (float)isum - dmin * (float)summs;
    }
    *s = sum;
}

/* ---- Q3_K ---- */

static inline int q3_value(const block_q3_K *b, int e) {
    int hbit = (b->hmask[e % 32] >> (e / 32)) & 1;
    return unpack_2bit(b->qs, e) - (hbit ? 0 : 4);
}

void tensor__to_float_q3_K(const void *src, float *dst, int64_t n) {
    const block_q3_K *b = src;
    int8_t sc[16];
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = F16(b[i].d);
        q3_scales(b[i].scales, sc);
        for (int g = 0; g < 16; g++) {
            float dl = d * (float)sc[g];
            for (int l = 0; l < 16; l++) dst[g * 16 + l] = dl * (float)q3_value(&b[i], g * 16 + l);
        }
    }
}

void tensor__from_float_q3_K(const float *src, void *dst, int64_t n) {
    block_q3_K *b = dst;
    int8_t L[QK_K], sc[16];
    float scales[16];
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float max_scale = 0.0f, amax = 0.0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = make_q3_quants(16, 4, src + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > amax) {
                amax = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        memset(b[i].scales, 0, sizeof b[i].scales);
        if (max_scale != 0.0f) {
            float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; j++) {
                /* The reference narrows to int8 before clamping. */
                int l = clampi((int8_t)nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) b[i].scales[j] = (uint8_t)(l & 0x0f);
                else b[i].scales[j - 8] |= (uint8_t)((l & 0x0f) << 4);
                b[i].scales[j % 4 + 8] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            b[i].d = tensor_f32_to_f16(1.0f / iscale);
        } else {
            b[i].d = tensor_f32_to_f16(0.0f);
        }
        q3_scales(b[i].scales, sc);
        for (int j = 0; j < 16; j++) {
            float d = F16(b[i].d) * (float)sc[j];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(clampi(nearest_int(src[16 * j + l] / d), -4, 3) + 4);
        }
        uint8_t low[QK_K];
        memset(b[i].hmask, 0, sizeof b[i].hmask);
        for (int e = 0; e < QK_K; e++) {
            int v = L[e];
            if (v > 3) {
                b[i].hmask[e % 32] |= (uint8_t)(1u << (e / 32));
                v -= 4;
            }
            low[e] = (uint8_t)v;
        }
        pack_2bit(b[i].qs, low);
    }
}

void tensor__vec_dot_q3_K(int64_t n, float *s, const void *x, const void *y) {
    const block_q3_K *a = x;
    const block_q8_K *b = y;
    int8_t sc[16];
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        q3_scales(a[i].scales, sc);
        int isum = 0;
        for (int g = 0; g < 16; g++) {
            int gs = 0;
            for (int l = 0; l < 16; l++) gs += q3_value(&a[i], g * 16 + l) * b[i].qs[g * 16 + l];
            isum += sc[g] * gs;
        }
        sum += F16(a[i].d) * b[i].d * (float)isum;
    }
    *s = sum;
}

/* ---- Q4_K and Q5_K share the scale search ---- */

static void kx_scales(const float *x, int nmax, float rmin, float rdelta, int nstep, uint8_t *L,
                      uint8_t ls[8], uint8_t lm[8], float *d_out, float *m_out) {
    uint8_t Laux[32];
    float w[32], mins[8], scales[8];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0.0f;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], Laux, rmin, rdelta,
                                     nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < 8; j++) {
        /* The reference narrows to uint8 before clamping to 63. */
        uint8_t a = (uint8_t)nearest_int(inv_scale * scales[j]);
        uint8_t m = (uint8_t)nearest_int(inv_min * mins[j]);
        ls[j] = a < 63 ? a : 63;
        lm[j] = m < 63 ? m : 63;
    }
    *d_out = max_scale / 63.0f;
    *m_out = max_min / 63.0f;
}

static void kx_requantize(const float *x, const uint16_t d16, const uint16_t dmin16,
                          const uint8_t scales[12], int nmax, uint8_t *L) {
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        scale_min_k4(j, scales, &sc, &m);
        float d = F16(d16) * (float)sc;
        if (d == 0.0f) continue;
        float dm = F16(dmin16) * (float)m;
        for (int l = 0; l < 32; l++)
            L[32 * j + l] = (uint8_t)clampi(nearest_int((x[32 * j + l] + dm) / d), 0, nmax);
    }
}

/* The scales, mins and codes (into L) of one Q4_K/Q5_K super-block. */
static void kx_quantize(const float *x, int nmax, float rmin, float rdelta, int nstep, uint8_t scales[12],
                        uint16_t *d16, uint16_t *dmin16, uint8_t *L) {
    uint8_t ls[8], lm[8];
    float d, dmin;
    kx_scales(x, nmax, rmin, rdelta, nstep, L, ls, lm, &d, &dmin);
    memset(scales, 0, 12);
    pack_scale_min_k4(scales, ls, lm);
    *d16 = tensor_f32_to_f16(d);
    *dmin16 = tensor_f32_to_f16(dmin);
    kx_requantize(x, *d16, *dmin16, scales, nmax, L);
}

/* ---- Q4_K ---- */

void tensor__to_float_q4_K(const void *src, float *dst, int64_t n) {
    const block_q4_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = F16(b[i].d), dmin = F16(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            scale_min_k4(j, b[i].scales, &sc, &m);
            float dl = d * (float)sc, ml = dmin * (float)m;
            const uint8_t *q = b[i].qs + 32 * (j / 2);
            int shift = 4 * (j % 2);
            for (int l = 0; l < 32; l++) dst[32 * j + l] = dl * (float)((q[l] >> shift) & 0x0f) - ml;
        }
    }
}

void tensor__from_float_q4_K(const float *src, void *dst, int64_t n) {
    block_q4_K *b = dst;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        kx_quantize(src, 15, -1.0f, 0.1f, 20, b[i].scales, &b[i].d, &b[i].dmin, L);
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++)
                b[i].qs[32 * j + l] = (uint8_t)(L[64 * j + l] | (L[64 * j + 32 + l] << 4));
    }
}

void tensor__vec_dot_q4_K(int64_t n, float *s, const void *x, const void *y) {
    const block_q4_K *a = x;
    const block_q8_K *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int isum = 0, summs = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            scale_min_k4(j, a[i].scales, &sc, &m);
            const uint8_t *q = a[i].qs + 32 * (j / 2);
            int shift = 4 * (j % 2), gs = 0;
            for (int l = 0; l < 32; l++) gs += ((q[l] >> shift) & 0x0f) * b[i].qs[32 * j + l];
            isum += sc * gs;
            summs += m * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        }
        sum += b[i].d * F16(a[i].d) * (float)isum - b[i].d * F16(a[i].dmin) * (float)summs;
    }
    *s = sum;
}

/* ---- Q5_K ---- */

static inline int q5k_value(const block_q5_K *b, int e) {
    int j = e / 32, l = e % 32;
    int lo = (b->qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 0x0f;
    int hi = (b->qh[l] >> j) & 1;
    return lo | (hi << 4);
}

void tensor__to_float_q5_K(const void *src, float *dst, int64_t n) {
    const block_q5_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = F16(b[i].d), dmin = F16(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            scale_min_k4(j, b[i].scales, &sc, &m);
            float dl = d * (float)sc, ml = dmin * (float)m;
            for (int l = 0; l < 32; l++) dst[32 * j + l] = dl * (float)q5k_value(&b[i], 32 * j + l) - ml;
        }
    }
}

void tensor__from_float_q5_K(const float *src, void *dst, int64_t n) {
    block_q5_K *b = dst;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        kx_quantize(src, 31, -0.5f, 0.1f, 15, b[i].scales, &b[i].d, &b[i].dmin, L);
        memset(b[i].qh, 0, sizeof b[i].qh);
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < 32; l++) {
                int v = L[32 * j + l];
                b[i].qh[l] |= (uint8_t)((v >> 4) << j);
                if (j % 2 == 0) b[i].qs[32 * (j / 2) + l] = (uint8_t)(v & 0x0f);
                else b[i].qs[32 * (j / 2) + l] |= (uint8_t)((v & 0x0f) << 4);
            }
    }
}

void tensor__vec_dot_q5_K(int64_t n, float *s, const void *x, const void *y) {
    const block_q5_K *a = x;
    const block_q8_K *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int isum = 0, summs = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            scale_min_k4(j, a[i].scales, &sc, &m);
            int gs = 0;
            for (int l = 0; l < 32; l++) gs += q5k_value(&a[i], 32 * j + l) * b[i].qs[32 * j + l];
            isum += sc * gs;
            summs += m * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        }
        sum += b[i].d * F16(a[i].d) * (float)isum - b[i].d * F16(a[i].dmin) * (float)summs;
    }
    *s = sum;
}

/* ---- Q6_K ---- */

/* Element e of a Q6_K block, in [-32, 32). */
static inline int q6k_value(const block_q6_K *b, int e) {
    int h = e / 128, r = e % 128, l = r % 32, k = r / 32;
    const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
    int lo = (ql[l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0x0f;
    int hi = (qh[l] >> (2 * k)) & 3;
    return (lo | (hi << 4)) - 32;
}

void tensor__to_float_q6_K(const void *src, float *dst, int64_t n) {
    const block_q6_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = F16(b[i].d);
        for (int e = 0; e < QK_K; e++) dst[e] = d * (float)b[i].scales[e / 16] * (float)q6k_value(&b[i], e);
    }
}

void tensor__from_float_q6_K(const float *src, void *dst, int64_t n) {
    block_q6_K *b = dst;
    int8_t L[QK_K];
    float scales[16];
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float max_scale = 0.0f, max_abs = 0.0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = make_qx_quants(16, 32, src + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > max_abs) {
                max_abs = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        memset(&b[i], 0, sizeof b[i]);
        if (max_abs < GROUP_MAX_EPS) continue;
        float iscale = -128.0f / max_scale;
        b[i].d = tensor_f32_to_f16(1.0f / iscale);
        for (int j = 0; j < 16; j++) {
            int v = nearest_int(iscale * scales[j]);
            b[i].scales[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < 16; j++) {
            float d = F16(b[i].d) * (float)b[i].scales[j];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(clampi(nearest_int(src[16 * j + l] / d), -32, 31) + 32);
        }
        for (int h = 0; h < 2; h++) {
            const int8_t *Lh = L + 128 * h;
            uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                  ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

void tensor__vec_dot_q6_K(int64_t n, float *s, const void *x, const void *y) {
    const block_q6_K *a = x;
    const block_q8_K *b = y;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int isum = 0;
        for (int g = 0; g < 16; g++) {
            int gs = 0;
            for (int l = 0; l < 16; l++) gs += q6k_value(&a[i], g * 16 + l) * b[i].qs[g * 16 + l];
            isum += a[i].scales[g] * gs;
        }
        sum += F16(a[i].d) * b[i].d * (float)isum;
    }
    *s = sum;
}

/* ---- Q8_K ---- */

void tensor__to_float_q8_K(const void *src, float *dst, int64_t n) {
    const block_q8_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K)
        for (int j = 0; j < QK_K; j++) dst[j] = b[i].d * (float)b[i].qs[j];
}

void tensor__from_float_q8_K(const float *src, void *dst, int64_t n) {
    block_q8_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            if (fabsf(src[j]) > amax) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        /* -127 rather than -128 keeps every quant's negation in int8 range. */
        float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) {
            int v = nearest_int(iscale * src[j]);
            b[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += b[i].qs[16 * g + l];
            b[i].bsums[g] = (int16_t)sum;
        }
        b[i].d = 1.0f / iscale;
    }
}
