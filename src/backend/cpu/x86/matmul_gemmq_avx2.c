/* Integer GEMM for prompt-sized batches of Q4_0, Q8_0 and Q4_K weights
 * (AVX2): weights stay 4/8-bit, activations are the int8 rows of the GEMV
 * path (one scale per 32 values), and the products run in maddubs.
 *
 * Each thread repacks MM_QR weight rows by MM_QKC columns into a panel that
 * interleaves the rows 4 bytes at a time: step s of block b is one 32-byte
 * vector whose bytes 4r..4r+3 are row r's values 4s..4s+3 of that block. One
 * broadcast of 4 activation bytes then meets all 8 rows in one maddubs, and
 * lane r of the int32 sums belongs to row r, so the per-block float scaling
 * is one multiply-add per token for 8 rows at once (against a horizontal
 * reduction per row and block for row-wise dots). The output lanes are 8
 * consecutive y values of a token, stored straight into y. */
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

_Static_assert(MM_QR == 8, "one panel step holds 4 bytes of each of 8 rows");
_Static_assert(MM_QKC % QK_K == 0, "a panel must hold whole blocks of every type");

/* Per 32-value block of the panel: 8 steps of 32 code bytes, then the rows'
 * scales and (Q4_0/Q4_K) offsets as floats: w = scale * code - offset. */
typedef struct {
    uint8_t q[8][32];
    float scale[MM_QR];
    float offset[MM_QR];
} qpanel_block;

enum { PANEL_BLOCKS = MM_QKC / MM_QA_BLOCK };

/* dst[r] = 4-byte column r of the 8x8 matrix of 4-byte units in src[0..8). */
static inline void transpose_units(const __m256i *src, __m256i *dst) {
    __m256 r0 = _mm256_castsi256_ps(src[0]), r1 = _mm256_castsi256_ps(src[1]);
    __m256 r2 = _mm256_castsi256_ps(src[2]), r3 = _mm256_castsi256_ps(src[3]);
    __m256 r4 = _mm256_castsi256_ps(src[4]), r5 = _mm256_castsi256_ps(src[5]);
    __m256 r6 = _mm256_castsi256_ps(src[6]), r7 = _mm256_castsi256_ps(src[7]);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    dst[0] = _mm256_castps_si256(_mm256_permute2f128_ps(u0, u4, 0x20));
    dst[1] = _mm256_castps_si256(_mm256_permute2f128_ps(u1, u5, 0x20));
    dst[2] = _mm256_castps_si256(_mm256_permute2f128_ps(u2, u6, 0x20));
    dst[3] = _mm256_castps_si256(_mm256_permute2f128_ps(u3, u7, 0x20));
    dst[4] = _mm256_castps_si256(_mm256_permute2f128_ps(u0, u4, 0x31));
    dst[5] = _mm256_castps_si256(_mm256_permute2f128_ps(u1, u5, 0x31));
    dst[6] = _mm256_castps_si256(_mm256_permute2f128_ps(u2, u6, 0x31));
    dst[7] = _mm256_castps_si256(_mm256_permute2f128_ps(u3, u7, 0x31));
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

/* Codes of 32-value block b (in the panel's numbering from column k0) of one
 * weight row, with its scale and offset. */
static inline __m256i row_block(tensor_type t, const uint8_t *row, int64_t k0, int64_t b, float *scale,
                                float *offset) {
    const __m256i lo4 = _mm256_set1_epi8(0x0f);
    switch (t) {
    case GGUF_TYPE_Q4_0: {
        const block_q4_0 *blk = (const block_q4_0 *)row + k0 / QK4_0 + b;
        __m128i raw = _mm_loadu_si128((const __m128i *)blk->qs);
        *scale = _cvtsh_ss(blk->d);
        *offset = 8.0f * *scale;
        return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), lo4);
    }
    case GGUF_TYPE_Q8_0: {
        const block_q8_0 *blk = (const block_q8_0 *)row + k0 / QK8_0 + b;
        *scale = _cvtsh_ss(blk->d);
        *offset = 0.0f;
        return _mm256_loadu_si256((const __m256i *)blk->qs);
    }
    default: { /* Q4_K: sub-block j of super-block b / 8 */
        const block_q4_K *blk = (const block_q4_K *)row + k0 / QK_K + b / 8;
        int j = (int)(b % 8), sc, mn;
        q4k_scale_min(blk->scales, j, &sc, &mn);
        *scale = _cvtsh_ss(blk->d) * (float)sc;
        *offset = _cvtsh_ss(blk->dmin) * (float)mn;
        __m256i q = _mm256_loadu_si256((const __m256i *)(blk->qs + 32 * (j / 2)));
        return _mm256_and_si256(j % 2 ? _mm256_srli_epi16(q, 4) : q, lo4);
    }
    }
}

/* Packs rows [o, o + 8) (rows past n_out as zero weights), blocks
 * [k0/32, k0/32 + nb), into the panel. */
static void pack_panel(const cpu_matmul_args *a, int64_t o, int64_t k0, int64_t nb, qpanel_block *panel) {
    const uint8_t *w = a->w;
    int nr = (int)(a->n_out - o < MM_QR ? a->n_out - o : MM_QR);
    for (int64_t b = 0; b < nb; b++) {
        __m256i rows[MM_QR];
        qpanel_block *pb = &panel[b];
        for (int r = 0; r < MM_QR; r++) {
            if (r < nr) {
                rows[r] = row_block(a->wtype, w + (size_t)(o + r) * a->w_row_bytes, k0, b, &pb->scale[r],
                                    &pb->offset[r]);
            } else {
                rows[r] = _mm256_setzero_si256();
                pb->scale[r] = pb->offset[r] = 0.0f;
            }
        }
        __m256i steps[8];
        transpose_units(rows, steps);
        for (int s = 0; s < 8; s++) _mm256_store_si256((__m256i *)pb->q[s], steps[s]);
    }
}

/* One int8 activation row of the prepared scratch. */
typedef struct {
    const int8_t *qs;
    const float *d, *ds;
} qa_view;

static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* Tokens per tile, as measured in an isolated loop: Q4 4 (6 or 8 were 2-4%
 * slower), Q8_0 6 (its abs per panel step is shared by more tokens: ~6%
 * faster than 4). */
enum { Q4_TOKENS = 4, Q8_TOKENS = 6, MAX_TOKENS = 6 };

/* y[t][o .. o + 8) for T tokens over the panel's nb blocks starting at block
 * kb of the activation rows. Q4 codes are 0..15, so the 16-bit pair sums of
 * maddubs (at most 2 * 15 * 127) add up over a block's 8 steps without
 * overflow and widen once per block; Q8_0 codes are signed, so they go
 * through the sign trick and widen every step. */
static inline __attribute__((always_inline)) void kernel(int T, bool q8, bool has_offset, const qpanel_block *panel,
                                                         int64_t nb, const qa_view *x, int64_t kb, float *y,
                                                         size_t ys, int nr, bool accumulate) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[MAX_TOKENS];
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int t = 0; t < T; t++) {
        float *yt = y + (size_t)t * ys;
        acc[t] = accumulate ? (nr == MM_QR ? _mm256_loadu_ps(yt) : _mm256_maskload_ps(yt, mask)) : _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < nb; b++) {
        const qpanel_block *pb = &panel[b];
        __m256i sum[MAX_TOKENS];
        const int8_t *xq[MAX_TOKENS];
        for (int t = 0; t < T; t++) {
            sum[t] = _mm256_setzero_si256();
            xq[t] = x[t].qs + (kb + b) * MM_QA_BLOCK;
        }
        for (int s = 0; s < 8; s++) {
            __m256i wv = _mm256_load_si256((const __m256i *)pb->q[s]);
            if (q8) {
                __m256i wa = _mm256_abs_epi8(wv);
                for (int t = 0; t < T; t++) {
                    __m256i p = _mm256_maddubs_epi16(wa, _mm256_sign_epi8(bcast4(xq[t] + 4 * s), wv));
                    sum[t] = _mm256_add_epi32(sum[t], _mm256_madd_epi16(p, ones));
                }
            } else {
                for (int t = 0; t < T; t++)
                    sum[t] = _mm256_add_epi16(sum[t], _mm256_maddubs_epi16(wv, bcast4(xq[t] + 4 * s)));
            }
        }
        __m256 sc = _mm256_load_ps(pb->scale);
        for (int t = 0; t < T; t++) {
            __m256i s32 = q8 ? sum[t] : _mm256_madd_epi16(sum[t], ones);
            float dx = x[t].d[kb + b];
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32), _mm256_mul_ps(sc, _mm256_set1_ps(dx)), acc[t]);
        }
        if (has_offset) {
            __m256 off = _mm256_load_ps(pb->offset);
            for (int t = 0; t < T; t++) acc[t] = _mm256_fnmadd_ps(off, _mm256_set1_ps(x[t].ds[kb + b]), acc[t]);
        }
    }
    for (int t = 0; t < T; t++) {
        float *yt = y + (size_t)t * ys;
        if (nr == MM_QR) _mm256_storeu_ps(yt, acc[t]);
        else _mm256_maskstore_ps(yt, mask, acc[t]);
    }
}

#define KERNEL_Q4(T)                                                                                      \
    static void kernel_q4_##T(const qpanel_block *p, int64_t nb, const qa_view *x, int64_t kb, float *y,  \
                              size_t ys, int nr, bool acc) {                                              \
        kernel(T, false, true, p, nb, x, kb, y, ys, nr, acc);                                             \
    }
#define KERNEL_Q8(T)                                                                                      \
    static void kernel_q8_##T(const qpanel_block *p, int64_t nb, const qa_view *x, int64_t kb, float *y,  \
                              size_t ys, int nr, bool acc) {                                              \
        kernel(T, true, false, p, nb, x, kb, y, ys, nr, acc);                                             \
    }
KERNEL_Q4(1)
KERNEL_Q4(2)
KERNEL_Q4(3)
KERNEL_Q4(4)
KERNEL_Q8(1)
KERNEL_Q8(2)
KERNEL_Q8(3)
KERNEL_Q8(4)
KERNEL_Q8(5)
KERNEL_Q8(6)
#undef KERNEL_Q4
#undef KERNEL_Q8

typedef void (*kernel_fn)(const qpanel_block *, int64_t, const qa_view *, int64_t, float *, size_t, int, bool);

void mm__gemmq_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0, int64_t p1) {
    _Alignas(32) qpanel_block panel[PANEL_BLOCKS];
    static const kernel_fn k4[Q4_TOKENS] = {kernel_q4_1, kernel_q4_2, kernel_q4_3, kernel_q4_4};
    static const kernel_fn k8[Q8_TOKENS] = {kernel_q8_1, kernel_q8_2, kernel_q8_3,
                                            kernel_q8_4, kernel_q8_5, kernel_q8_6};
    bool q8 = a->wtype == GGUF_TYPE_Q8_0;
    const kernel_fn *kern = q8 ? k8 : k4;
    int64_t tile = q8 ? Q8_TOKENS : Q4_TOKENS;
    int64_t n_in = a->n_in, m = a->n_tokens, nb_all = n_in / MM_QA_BLOCK;
    size_t ys = a->y_row_stride;
    for (int64_t k0 = 0; k0 < n_in; k0 += MM_QKC) {
        int64_t kc = n_in - k0 < MM_QKC ? n_in - k0 : MM_QKC, kb = k0 / MM_QA_BLOCK;
        for (int64_t p = p0; p < p1; p++) {
            int64_t o = p * MM_QR;
            int nr = (int)(a->n_out - o < MM_QR ? a->n_out - o : MM_QR);
            pack_panel(a, o, k0, kc / MM_QA_BLOCK, panel);
            for (int64_t t = 0; t < m; t += tile) {
                int T = (int)(m - t < tile ? m - t : tile);
                qa_view x[MAX_TOKENS];
                for (int i = 0; i < T; i++) {
                    const uint8_t *row = (const uint8_t *)act + (size_t)(t + i) * act_row_bytes;
                    x[i].qs = (const int8_t *)row;
                    x[i].d = (const float *)(row + mm__align64((size_t)n_in));
                    x[i].ds = x[i].d + nb_all;
                }
                kern[T - 1](panel, kc / MM_QA_BLOCK, x, kb, a->y + (size_t)t * ys + o, ys, nr, k0 > 0);
            }
        }
    }
}

#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif
