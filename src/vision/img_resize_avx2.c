/* AVX2 kernels of the Pillow-exact resampler: the same 22-bit integer taps
 * and rounding as the C kernels, in exact 32-bit integer arithmetic, so results
 * are identical. Compiled with -mavx2; called only after a CPU check. */
#include <stdlib.h>
#include <string.h>

#include "vision/img_resize_impl.h"

#if defined(__AVX2__)
#include <immintrin.h>

static void hpixel_c(const uint8_t *s, const int32_t *k, int n, uint8_t *d) {
    int32_t r = 1 << (IMG_PRECISION_BITS - 1), g = r, b = r;
    for (int i = 0; i < n; i++) {
        r += s[3 * i] * k[i];
        g += s[3 * i + 1] * k[i];
        b += s[3 * i + 2] * k[i];
    }
    d[0] = img__clip8(r);
    d[1] = img__clip8(g);
    d[2] = img__clip8(b);
}

/* The horizontal pass uses 16-bit multiply-adds, four taps of one RGB pixel per
 * instruction. Each 22-bit tap is split exactly as k = kh * 2^11 + kl with
 * kl in [0, 2^11), so sum(s * k) = (sum(s * kh) << 11) + sum(s * kl) in the
 * same 32-bit arithmetic as the C kernel: the result is bit-identical. */
enum { SPLIT_BITS = 11 };

/* Per output pixel and group of four taps: 16 int16 of kh then 16 of kl, laid
 * out as (k0 k1) x4 | (k2 k3) x4 to match the pixel shuffle below. NULL when
 * out of memory or when a tap is too large for the split (never for normalised
 * filters; the caller then uses the C kernel). */
static int16_t *split_taps(const img__coeffs *c, int groups) {
    size_t per = (size_t)groups * 32;
    int16_t *t = malloc(sizeof(int16_t) * per * (size_t)c->out_size);
    if (!t) return NULL;
    for (int o = 0; o < c->out_size; o++) {
        const int32_t *k = c->k + (size_t)o * (size_t)c->kstride;
        int16_t *d = t + per * (size_t)o;
        for (int g = 0; g < groups; g++)
            for (int e = 0; e < 16; e++) {
                int i = 4 * g + 2 * (e / 8) + (e & 1);
                int32_t v = i < c->n[o] ? k[i] : 0, hi = v >> SPLIT_BITS;
                if (hi < INT16_MIN || hi > INT16_MAX) {
                    free(t);
                    return NULL;
                }
                d[32 * g + e] = (int16_t)hi;
                d[32 * g + 16 + e] = (int16_t)(v - hi * (1 << SPLIT_BITS));
            }
    }
    return t;
}

/* Taps 0,1 (lane 0) and 2,3 (lane 1) of a broadcast 12-byte window as int16
 * (R_a R_b G_a G_b B_a B_b 0 0), so one madd gives the R, G, B partial sums.
 * Returns the two lanes' unreduced 32-bit sums; `groups` is a constant at the
 * hot call sites so the loop unrolls. */
static inline __attribute__((always_inline)) __m256i out_acc(const uint8_t *p, const int16_t *kt, int groups, __m256i shuf) {
    __m256i hi = _mm256_setzero_si256(), lo = hi;
    for (int g = 0; g < groups; g++) {
        __m256i px = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(p + 12 * g))), shuf);
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(px, _mm256_loadu_si256((const __m256i *)(kt + 32 * g))));
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(px, _mm256_loadu_si256((const __m256i *)(kt + 32 * g + 16))));
    }
    return _mm256_add_epi32(_mm256_slli_epi32(hi, SPLIT_BITS), lo);
}

/* Outputs o.. of one row: four at a time (one shared reduction and a 12-byte
 * store), then one at a time, and the C kernel where a read would pass src_end. */
static inline __attribute__((always_inline)) void hrow(const uint8_t *s, const uint8_t *src_end, const img__coeffs *c,
                                                       const int16_t *taps, int groups, uint8_t *d) {
    const __m256i shuf = _mm256_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1,
                                          6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1);
    const __m256i half = _mm256_set1_epi32(1 << (IMG_PRECISION_BITS - 1));
    const __m128i drop = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    size_t per = (size_t)groups * 32, reach = (size_t)groups * 12 + 4;
    int o = 0;
    for (; o + 4 <= c->out_size && (size_t)(src_end - (s + (size_t)c->first[o + 3] * 3)) >= reach; o += 4) {
        const int16_t *kt = taps + per * (size_t)o;
        __m256i a0 = out_acc(s + (size_t)c->first[o] * 3, kt, groups, shuf);
        __m256i a1 = out_acc(s + (size_t)c->first[o + 1] * 3, kt + per, groups, shuf);
        __m256i a2 = out_acc(s + (size_t)c->first[o + 2] * 3, kt + 2 * per, groups, shuf);
        __m256i a3 = out_acc(s + (size_t)c->first[o + 3] * 3, kt + 3 * per, groups, shuf);
        __m256i x01 = _mm256_add_epi32(_mm256_permute2x128_si256(a0, a1, 0x20), _mm256_permute2x128_si256(a0, a1, 0x31));
        __m256i x23 = _mm256_add_epi32(_mm256_permute2x128_si256(a2, a3, 0x20), _mm256_permute2x128_si256(a2, a3, 0x31));
        x01 = _mm256_srai_epi32(_mm256_add_epi32(x01, half), IMG_PRECISION_BITS);
        x23 = _mm256_srai_epi32(_mm256_add_epi32(x23, half), IMG_PRECISION_BITS);
        __m256i b = _mm256_packs_epi32(x01, x23);
        b = _mm256_packus_epi16(b, b);
        /* Lane 0 holds outputs 0 and 2, lane 1 outputs 1 and 3, as 4-byte RGB0. */
        __m128i v = _mm_shuffle_epi8(_mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1)), drop);
        uint8_t *q = d + 3 * (size_t)o;
        _mm_storel_epi64((__m128i *)q, v);
        uint32_t t = (uint32_t)_mm_extract_epi32(v, 2);
        memcpy(q + 8, &t, 4);
    }
    for (; o < c->out_size; o++) {
        const uint8_t *p = s + (size_t)c->first[o] * 3;
        if ((size_t)(src_end - p) < reach) {
            hpixel_c(p, c->k + (size_t)o * (size_t)c->kstride, c->n[o], d + 3 * o);
            continue;
        }
        __m256i acc = out_acc(p, taps + per * (size_t)o, groups, shuf);
        __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        sum = _mm_srai_epi32(_mm_add_epi32(sum, _mm256_castsi256_si128(half)), IMG_PRECISION_BITS);
        sum = _mm_packus_epi16(_mm_packs_epi32(sum, sum), sum);
        uint32_t v = (uint32_t)_mm_cvtsi128_si32(sum);
        memcpy(d + 3 * o, &v, 3);
    }
}

bool img__hpass_avx2(const uint8_t *src, const uint8_t *src_end, int in_w, int rows, const img__coeffs *c, uint8_t *dst) {
    int groups = (c->kstride + 3) / 4;
    int16_t *taps = split_taps(c, groups);
    if (!taps) return false;
    for (int y = 0; y < rows; y++) {
        const uint8_t *s = src + (size_t)y * (size_t)in_w * 3;
        uint8_t *d = dst + (size_t)y * (size_t)c->out_size * 3;
        if (groups == 2) hrow(s, src_end, c, taps, 2, d);
        else hrow(s, src_end, c, taps, groups, d);
    }
    free(taps);
    return true;
}

static inline __m256i vtap(__m256i acc, const uint8_t *s, __m256i k) {
    return _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)s)), k));
}

void img__vpass_avx2(const uint8_t *src, size_t row_bytes, const img__coeffs *c, uint8_t *dst) {
    const __m256i half = _mm256_set1_epi32(1 << (IMG_PRECISION_BITS - 1));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int o = 0; o < c->out_size; o++) {
        const int32_t *k = c->k + (size_t)o * (size_t)c->kstride;
        const uint8_t *s = src + (size_t)c->first[o] * row_bytes;
        uint8_t *d = dst + (size_t)o * row_bytes;
        int n = c->n[o];
        size_t x = 0;
        for (; x + 32 <= row_bytes; x += 32) {
            __m256i a0 = half, a1 = half, a2 = half, a3 = half;
            for (int i = 0; i < n; i++) {
                const uint8_t *r = s + (size_t)i * row_bytes + x;
                __m256i kk = _mm256_set1_epi32(k[i]);
                a0 = vtap(a0, r, kk);
                a1 = vtap(a1, r + 8, kk);
                a2 = vtap(a2, r + 16, kk);
                a3 = vtap(a3, r + 24, kk);
            }
            a0 = _mm256_srai_epi32(a0, IMG_PRECISION_BITS);
            a1 = _mm256_srai_epi32(a1, IMG_PRECISION_BITS);
            a2 = _mm256_srai_epi32(a2, IMG_PRECISION_BITS);
            a3 = _mm256_srai_epi32(a3, IMG_PRECISION_BITS);
            __m256i b = _mm256_packus_epi16(_mm256_packs_epi32(a0, a1), _mm256_packs_epi32(a2, a3));
            _mm256_storeu_si256((__m256i *)(d + x), _mm256_permutevar8x32_epi32(b, order));
        }
        for (; x < row_bytes; x++) {
            int32_t acc = 1 << (IMG_PRECISION_BITS - 1);
            for (int i = 0; i < n; i++) acc += s[(size_t)i * row_bytes + x] * k[i];
            d[x] = img__clip8(acc);
        }
    }
}
#else
#error "img_resize_avx2.c must be compiled with -mavx2"
#endif
