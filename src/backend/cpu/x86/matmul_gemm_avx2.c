/* Packed GEMM for prompt-sized batches (AVX2/FMA/F16C). Tokens are packed
 * once (prepare) into MM_MR-row panels; each thread dequantizes a MM_NR-row
 * by MM_KC-deep weight panel into f32 (it stays in L1), then sweeps every token
 * panel over it with a 6x16 register-blocked FMA kernel. Dequantizing per panel
 * costs one pass over the weights, the same as reading them, so quantized
 * weights run at the f32 kernel's speed without a full f32 copy. */
#if defined(__x86_64__)

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC target("avx2,fma,f16c")
#endif

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "backend/cpu/matmul-impl.h"
#include "tensor/quant_impl.h"

_Static_assert(MM_MR == 6 && MM_NR == 16, "the kernel below is written for a 6x16 tile");
_Static_assert(MM_KC % QK_K == 0, "a panel must hold whole blocks of every type");

/* ---- packing --------------------------------------------------------------- */

void mm__pack_act_avx2(const cpu_matmul_args *a, float *packed, int64_t p0, int64_t p1) {
    int64_t k = a->n_in;
    for (int64_t p = p0; p < p1; p++) {
        float *dst = packed + (size_t)p * MM_MR * (size_t)k;
        for (int r = 0; r < MM_MR; r++) {
            int64_t t = p * MM_MR + r;
            if (t < a->n_tokens) {
                const float *src = a->x + (size_t)t * a->x_row_stride;
                for (int64_t i = 0; i < k; i++) dst[i * MM_MR + r] = src[i];
            } else {
                for (int64_t i = 0; i < k; i++) dst[i * MM_MR + r] = 0.0f;
            }
        }
    }
}

static void dequant_q8_0(const block_q8_0 *b, int64_t nb, float *dst) {
    for (int64_t i = 0; i < nb; i++, dst += QK8_0) {
        __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d));
        for (int j = 0; j < QK8_0; j += 8) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b[i].qs + j)));
            _mm256_storeu_ps(dst + j, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q)));
        }
    }
}

static void dequant_q4_0(const block_q4_0 *b, int64_t nb, float *dst) {
    const __m256i eight = _mm256_set1_epi32(8), lo4 = _mm256_set1_epi32(0x0f);
    for (int64_t i = 0; i < nb; i++, dst += QK4_0) {
        __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d));
        for (int j = 0; j < QK4_0 / 2; j += 8) {
            __m256i raw = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b[i].qs + j)));
            __m256i lo = _mm256_sub_epi32(_mm256_and_si256(raw, lo4), eight);
            __m256i hi = _mm256_sub_epi32(_mm256_srli_epi32(raw, 4), eight);
            _mm256_storeu_ps(dst + j, _mm256_mul_ps(d, _mm256_cvtepi32_ps(lo)));
            _mm256_storeu_ps(dst + j + QK4_0 / 2, _mm256_mul_ps(d, _mm256_cvtepi32_ps(hi)));
        }
    }
}

/* Scale j and min j (0..7) of a Q4_K super-block (6 bits each, packed in 12 bytes). */
static inline void q4k_scale_min(const uint8_t *s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Same arithmetic as the reference dequantizer, (d*sc)*q - (dmin*m), so the
 * values are bit-identical to it. */
static void dequant_q4_k(const block_q4_K *b, int64_t nb, float *dst) {
    const __m256i lo4 = _mm256_set1_epi32(0x0f);
    for (int64_t i = 0; i < nb; i++) {
        float d = _cvtsh_ss(b[i].d), dmin = _cvtsh_ss(b[i].dmin);
        for (int j = 0; j < 4; j++, dst += 64) {
            int sc0, m0, sc1, m1;
            q4k_scale_min(b[i].scales, 2 * j, &sc0, &m0);
            q4k_scale_min(b[i].scales, 2 * j + 1, &sc1, &m1);
            __m256 d0 = _mm256_set1_ps(d * (float)sc0), n0 = _mm256_set1_ps(dmin * (float)m0);
            __m256 d1 = _mm256_set1_ps(d * (float)sc1), n1 = _mm256_set1_ps(dmin * (float)m1);
            const uint8_t *q = b[i].qs + 32 * j;
            for (int l = 0; l < 32; l += 8) {
                __m256i raw = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + l)));
                __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(raw, lo4));
                __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(raw, 4));
                _mm256_storeu_ps(dst + l, _mm256_sub_ps(_mm256_mul_ps(d0, lo), n0));
                _mm256_storeu_ps(dst + 32 + l, _mm256_sub_ps(_mm256_mul_ps(d1, hi), n1));
            }
        }
    }
}

static void widen_f16(const uint16_t *src, int64_t n, float *dst) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
}

static void widen_bf16(const uint16_t *src, int64_t n, float *dst) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
    }
    for (; i < n; i++) {
        uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, sizeof u);
    }
}

void mm__dequant_row_avx2(tensor_type t, const void *row, int64_t k0, int64_t n, float *dst) {
    switch (t) {
    case GGUF_TYPE_F32: memcpy(dst, (const float *)row + k0, (size_t)n * sizeof(float)); return;
    case GGUF_TYPE_F16: widen_f16((const uint16_t *)row + k0, n, dst); return;
    case GGUF_TYPE_BF16: widen_bf16((const uint16_t *)row + k0, n, dst); return;
    case GGUF_TYPE_Q8_0: dequant_q8_0((const block_q8_0 *)row + k0 / QK8_0, n / QK8_0, dst); return;
    case GGUF_TYPE_Q4_0: dequant_q4_0((const block_q4_0 *)row + k0 / QK4_0, n / QK4_0, dst); return;
    case GGUF_TYPE_Q4_K: dequant_q4_k((const block_q4_K *)row + k0 / QK_K, n / QK_K, dst); return;
    default: {
        const tensor_type_traits *tr = tensor_type_get_cpu(t, TENSOR_CPU_AVX2);
        const uint8_t *src = (const uint8_t *)row + (size_t)(k0 / tr->block_size) * tr->block_bytes;
        tr->to_float(src, dst, n);
        return;
    }
    }
}

/* dst[c * ds + r] = src[r * ss + c] for an 8x8 block. */
static inline void transpose8x8(const float *src, size_t ss, float *dst, size_t ds) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ss);
    __m256 r2 = _mm256_loadu_ps(src + 2 * ss), r3 = _mm256_loadu_ps(src + 3 * ss);
    __m256 r4 = _mm256_loadu_ps(src + 4 * ss), r5 = _mm256_loadu_ps(src + 5 * ss);
    __m256 r6 = _mm256_loadu_ps(src + 6 * ss), r7 = _mm256_loadu_ps(src + 7 * ss);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    _mm256_store_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_store_ps(dst + ds, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_store_ps(dst + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_store_ps(dst + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_store_ps(dst + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_store_ps(dst + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_store_ps(dst + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_store_ps(dst + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
}

void mm__pack_weights_avx2(const cpu_matmul_args *a, int64_t o, int64_t k0, int64_t kc,
                           float *panel, float *tmp) {
    const float *src = tmp;
    size_t src_stride = MM_KC;
    const uint8_t *w = a->w;
    if (a->wtype == GGUF_TYPE_F32 && o + MM_NR <= a->n_out && a->w_row_bytes % sizeof(float) == 0) {
        /* f32 rows need no conversion: transpose straight from the weights. */
        src = (const float *)(const void *)(w + (size_t)o * a->w_row_bytes) + k0;
        src_stride = a->w_row_bytes / sizeof(float);
    } else {
        for (int r = 0; r < MM_NR; r++) {
            if (o + r < a->n_out)
                mm__dequant_row_avx2(a->wtype, w + (size_t)(o + r) * a->w_row_bytes, k0, kc, tmp + r * MM_KC);
            else
                memset(tmp + r * MM_KC, 0, (size_t)kc * sizeof(float));
        }
    }
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {
        transpose8x8(src + k, src_stride, panel + k * MM_NR, MM_NR);
        transpose8x8(src + 8 * src_stride + k, src_stride, panel + k * MM_NR + 8, MM_NR);
    }
    for (; k < kc; k++)
        for (int r = 0; r < MM_NR; r++) panel[k * MM_NR + r] = src[(size_t)r * src_stride + k];
}

/* ---- the 6x16 kernel ------------------------------------------------------- */

/* c[6][16] (row stride ldc) = (accumulate ? c : 0) + a[kc][6] x b[kc][16]. */
static void kernel_6x16(int64_t kc, const float *restrict ap, const float *restrict bp, float *c,
                        size_t ldc, bool accumulate) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (accumulate) {
        c00 = _mm256_loadu_ps(c), c01 = _mm256_loadu_ps(c + 8);
        c10 = _mm256_loadu_ps(c + ldc), c11 = _mm256_loadu_ps(c + ldc + 8);
        c20 = _mm256_loadu_ps(c + 2 * ldc), c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
        c30 = _mm256_loadu_ps(c + 3 * ldc), c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
        c40 = _mm256_loadu_ps(c + 4 * ldc), c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
        c50 = _mm256_loadu_ps(c + 5 * ldc), c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < kc; k++, ap += MM_MR, bp += MM_NR) {
        __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8), av;
#define ROW(i)                                   \
    av = _mm256_broadcast_ss(ap + i);            \
    c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);  \
    c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
#undef ROW
    }
    _mm256_storeu_ps(c, c00), _mm256_storeu_ps(c + 8, c01);
    _mm256_storeu_ps(c + ldc, c10), _mm256_storeu_ps(c + ldc + 8, c11);
    _mm256_storeu_ps(c + 2 * ldc, c20), _mm256_storeu_ps(c + 2 * ldc + 8, c21);
    _mm256_storeu_ps(c + 3 * ldc, c30), _mm256_storeu_ps(c + 3 * ldc + 8, c31);
    _mm256_storeu_ps(c + 4 * ldc, c40), _mm256_storeu_ps(c + 4 * ldc + 8, c41);
    _mm256_storeu_ps(c + 5 * ldc, c50), _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}

/* A partial tile (mr < 6 tokens or nr < 16 outputs) goes through a full local one. */
static void kernel_edge(int64_t kc, const float *ap, const float *bp, float *c, size_t ldc, int mr,
                        int nr, bool accumulate) {
    float tile[MM_MR * MM_NR] = {0};
    if (accumulate)
        for (int i = 0; i < mr; i++) memcpy(tile + i * MM_NR, c + (size_t)i * ldc, (size_t)nr * sizeof(float));
    kernel_6x16(kc, ap, bp, tile, MM_NR, accumulate);
    for (int i = 0; i < mr; i++) memcpy(c + (size_t)i * ldc, tile + i * MM_NR, (size_t)nr * sizeof(float));
}

void mm__gemm_avx2(const cpu_matmul_args *a, const float *packed, int64_t p0, int64_t p1) {
    _Alignas(32) float panel[MM_KC * MM_NR];
    _Alignas(32) float tmp[MM_NR * MM_KC];
    int64_t k = a->n_in, m = a->n_tokens;
    int64_t n_tp = (m + MM_MR - 1) / MM_MR;
    size_t ldc = a->y_row_stride;
    for (int64_t k0 = 0; k0 < k; k0 += MM_KC) {
        int64_t kc = k - k0 < MM_KC ? k - k0 : MM_KC;
        for (int64_t p = p0; p < p1; p++) {
            int64_t o = p * MM_NR;
            int nr = (int)(a->n_out - o < MM_NR ? a->n_out - o : MM_NR);
            mm__pack_weights_avx2(a, o, k0, kc, panel, tmp);
            for (int64_t tp = 0; tp < n_tp; tp++) {
                int mr = (int)(m - tp * MM_MR < MM_MR ? m - tp * MM_MR : MM_MR);
                const float *ap = packed + (size_t)(tp * MM_MR) * (size_t)k + (size_t)k0 * MM_MR;
                float *c = a->y + (size_t)(tp * MM_MR) * ldc + o;
                if (mr == MM_MR && nr == MM_NR) kernel_6x16(kc, ap, panel, c, ldc, k0 > 0);
                else kernel_edge(kc, ap, panel, c, ldc, mr, nr, k0 > 0);
            }
        }
    }
}

#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif
