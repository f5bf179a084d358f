/* AVX2 kernels of the Pillow-exact resampler: the same 22-bit integer taps
 * and rounding as the C kernels (32-bit products, so results are identical),
 * eight lanes at a time. Compiled with -mavx2; called only after a CPU check. */
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

/* Two taps per step: pixels (R0 G0 B0 R1 G1 B1) widened to lanes
 * (R0 G0 B0 0 R1 G1 B1 0) times (k0 x4, k1 x4); the halves are summed at the end. */
void img__hpass_avx2(const uint8_t *src, const uint8_t *src_end, int in_w, int rows, const img__coeffs *c, uint8_t *dst) {
    const __m128i shuf = _mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i dup = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    const __m128i half = _mm_set1_epi32(1 << (IMG_PRECISION_BITS - 1));
    for (int y = 0; y < rows; y++) {
        const uint8_t *s = src + (size_t)y * (size_t)in_w * 3;
        uint8_t *d = dst + (size_t)y * (size_t)c->out_size * 3;
        for (int o = 0; o < c->out_size; o++) {
            const int32_t *k = c->k + (size_t)o * (size_t)c->kstride;
            const uint8_t *p = s + (size_t)c->first[o] * 3;
            int n = c->n[o], pairs = (n + 1) / 2;
            if (p + (size_t)pairs * 6 + 2 > src_end) {
                hpixel_c(p, k, n, d + 3 * o);
                continue;
            }
            __m256i acc = _mm256_setzero_si256();
            for (int i = 0; i < pairs; i++) {
                __m128i px = _mm_shuffle_epi8(_mm_loadl_epi64((const __m128i *)(p + 6 * i)), shuf);
                __m256i kk = _mm256_permutevar8x32_epi32(
                    _mm256_castsi128_si256(_mm_loadl_epi64((const __m128i *)(k + 2 * i))), dup);
                acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(px), kk));
            }
            __m128i sum = _mm_add_epi32(_mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1)), half);
            sum = _mm_srai_epi32(sum, IMG_PRECISION_BITS);
            sum = _mm_packus_epi16(_mm_packs_epi32(sum, sum), sum);
            uint32_t v = (uint32_t)_mm_cvtsi128_si32(sum);
            d[3 * o] = (uint8_t)v;
            d[3 * o + 1] = (uint8_t)(v >> 8);
            d[3 * o + 2] = (uint8_t)(v >> 16);
        }
    }
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
