/* Integer GEMM for prompt-sized batches of Q4_0 and Q8_0 weights (AVX2):
 * weights stay 4/8-bit, activations are the int8 rows of the GEMV path, and
 * the products run in maddubs. Both produce the float bits ggml's CPU
 * backend produces for the same weights and activations.
 *
 * Q4_0 follows ggml's repacked 8-row kernels: each thread repacks MM_QR
 * weight rows by MM_QKC columns into a panel that interleaves the rows 4
 * bytes at a time (step s of block b is one 32-byte vector whose bytes
 * 4r..4r+3 are row r's values 4s..4s+3 of that block), so one broadcast of 4
 * activation bytes meets all 8 rows in one maddubs and lane r of the int32
 * sums belongs to row r; per block and token one fused multiply-add scales
 * the 8 rows' exact sums into 8 accumulators, as ggml does per row.
 *
 * Q8_0 follows ggml's vec_dot and llamafile kernels when asked to
 * (ggml_order): per row and token an 8-lane accumulator whose lane k gathers
 * values 4k..4k+3 of every block, one fused multiply-add per block, then
 * ggml's horizontal sum; tiles of 4 rows by 2 tokens share each weight and
 * activation load. That costs an 8-wide multiply-add and a conversion per
 * row, token and block, about 1.5x the time of the panel kernel, which Q8_0
 * uses otherwise: the Q4_0 layout with signed codes (same int8 products,
 * the float sums per block and 8 rows). */
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

/* Per 32-value block of the panel: 8 steps of 32 code bytes (q + 8), then
 * the rows' f16 scales as floats. */
typedef struct {
    uint8_t q[8][32];
    float scale[MM_QR];
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

/* Codes of 32-value block b (counted from column k0) of one weight row (Q4_0:
 * q + 8; Q8_0: q), with its scale. */
static inline __m256i row_block(tensor_type t, const uint8_t *row, int64_t k0, int64_t b, float *scale) {
    if (t == GGUF_TYPE_Q8_0) {
        const block_q8_0 *blk = (const block_q8_0 *)row + k0 / QK8_0 + b;
        *scale = _cvtsh_ss(blk->d);
        return _mm256_loadu_si256((const __m256i *)blk->qs);
    }
    const block_q4_0 *blk = (const block_q4_0 *)row + k0 / QK4_0 + b;
    __m128i raw = _mm_loadu_si128((const __m128i *)blk->qs);
    *scale = _cvtsh_ss(blk->d);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
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
                rows[r] = row_block(a->wtype, w + (size_t)(o + r) * a->w_row_bytes, k0, b, &pb->scale[r]);
            } else {
                rows[r] = _mm256_setzero_si256();
                pb->scale[r] = 0.0f;
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
    const float *d;
    const int32_t *xs;
} qa_view;

static inline qa_view qa_row_view(const void *act, size_t act_row_bytes, int64_t t, int64_t n_in) {
    const uint8_t *row = (const uint8_t *)act + (size_t)t * act_row_bytes;
    return (qa_view){(const int8_t *)row, mm__qa_scales(row, n_in), mm__qa_sums(row, n_in)};
}

static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* Tokens per tile, as measured in an isolated loop: Q4_0 4 (6 or 8 were 2-4%
 * slower), Q8_0 6 (its abs per panel step is shared by more tokens: ~6%
 * faster than 4). */
enum { Q4_TOKENS = 4, Q8P_TOKENS = 6, MAX_TOKENS = 6 };

/* y[t][o .. o + 8) for T tokens over the panel's nb blocks starting at block
 * kb of the activation rows. Q4_0 codes are 0..15, so the 16-bit pair sums of
 * maddubs (at most 2 * 15 * 127) add up over a block's 8 steps without
 * overflow and widen once per block, less the activation's 8 sum x; Q8_0
 * codes are signed, so they go through the sign trick and widen every step
 * (two signed products can exceed int16). */
static inline __attribute__((always_inline)) void kernel(int T, bool q8, const qpanel_block *panel, int64_t nb,
                                                         const qa_view *x, int64_t kb, float *y, size_t ys, int nr,
                                                         bool accumulate) {
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
            __m256i s32 = q8 ? sum[t]
                             : _mm256_sub_epi32(_mm256_madd_epi16(sum[t], ones), _mm256_set1_epi32(x[t].xs[kb + b]));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32), _mm256_mul_ps(sc, _mm256_set1_ps(x[t].d[kb + b])),
                                     acc[t]);
        }
    }
    for (int t = 0; t < T; t++) {
        float *yt = y + (size_t)t * ys;
        if (nr == MM_QR) _mm256_storeu_ps(yt, acc[t]);
        else _mm256_maskstore_ps(yt, mask, acc[t]);
    }
}

#define KERNEL(NAME, T, Q8)                                                                               \
    static void NAME##_##T(const qpanel_block *p, int64_t nb, const qa_view *x, int64_t kb, float *y,     \
                           size_t ys, int nr, bool acc) {                                                 \
        kernel(T, Q8, p, nb, x, kb, y, ys, nr, acc);                                                      \
    }
KERNEL(kernel_q4, 1, false)
KERNEL(kernel_q4, 2, false)
KERNEL(kernel_q4, 3, false)
KERNEL(kernel_q4, 4, false)
KERNEL(kernel_q8p, 1, true)
KERNEL(kernel_q8p, 2, true)
KERNEL(kernel_q8p, 3, true)
KERNEL(kernel_q8p, 4, true)
KERNEL(kernel_q8p, 5, true)
KERNEL(kernel_q8p, 6, true)
#undef KERNEL

typedef void (*kernel_fn)(const qpanel_block *, int64_t, const qa_view *, int64_t, float *, size_t, int, bool);

/* Panels of 8 rows by MM_QKC columns, each met by every token in tiles. */
static void gemm_panels(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0, int64_t p1,
                        const kernel_fn *kern, int tile) {
    _Alignas(32) qpanel_block panel[PANEL_BLOCKS];
    int64_t n_in = a->n_in, m = a->n_tokens;
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
                for (int i = 0; i < T; i++) x[i] = qa_row_view(act, act_row_bytes, t + i, n_in);
                kern[T - 1](panel, kc / MM_QA_BLOCK, x, kb, a->y + (size_t)t * ys + o, ys, nr, k0 > 0);
            }
        }
    }
}

static void gemm_q4_0(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0, int64_t p1) {
    static const kernel_fn kern[Q4_TOKENS] = {kernel_q4_1, kernel_q4_2, kernel_q4_3, kernel_q4_4};
    gemm_panels(a, act, act_row_bytes, p0, p1, kern, Q4_TOKENS);
}

void mm__gemmq_q8_panel_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0,
                             int64_t p1) {
    static const kernel_fn kern[Q8P_TOKENS] = {kernel_q8p_1, kernel_q8p_2, kernel_q8p_3,
                                               kernel_q8p_4, kernel_q8p_5, kernel_q8p_6};
    gemm_panels(a, act, act_row_bytes, p0, p1, kern, Q8P_TOKENS);
}

/* ---- Q8_0 in ggml's order --------------------------------------------------- */

enum { Q8_ROWS = 4, Q8_TOKENS = 2, Q8_TOKEN_BLOCK = 32 };

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* y[t][o + r] for NR <= 4 rows (w[r]) and T <= 2 tokens. */
static inline __attribute__((always_inline)) void kernel_q8(int NR, int T, const block_q8_0 *const *w,
                                                            const qa_view *x, int64_t nb, float *y,
                                                            size_t ys) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[Q8_ROWS][Q8_TOKENS];
    for (int r = 0; r < NR; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        _Alignas(16) float sc[Q8_TOKENS][Q8_ROWS];
        uint16_t hs[Q8_ROWS] = {0};
        for (int r = 0; r < NR; r++) hs[r] = w[r][b].d;
        __m128 dw = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(const void *)hs));
        __m256i xv[Q8_TOKENS];
        for (int t = 0; t < T; t++) {
            _mm_store_ps(sc[t], _mm_mul_ps(dw, _mm_set1_ps(x[t].d[b])));
            xv[t] = _mm256_loadu_si256((const __m256i *)(x[t].qs + b * QK8_0));
        }
        for (int r = 0; r < NR; r++) {
            __m256i wv = _mm256_loadu_si256((const __m256i *)w[r][b].qs), wa = _mm256_sign_epi8(wv, wv);
            for (int t = 0; t < T; t++) {
                __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(wa, _mm256_sign_epi8(xv[t], wv)), ones);
                acc[r][t] = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[t][r]), _mm256_cvtepi32_ps(p), acc[r][t]);
            }
        }
    }
    for (int r = 0; r < NR; r++)
        for (int t = 0; t < T; t++) y[(size_t)t * ys + (size_t)r] = hsum8(acc[r][t]);
}

#define KERNEL_Q8(NR, T)                                                                                  \
    static void kernel_q8_##NR##_##T(const block_q8_0 *const *w, const qa_view *x, int64_t nb, float *y,  \
                                     size_t ys) {                                                         \
        kernel_q8(NR, T, w, x, nb, y, ys);                                                                \
    }
KERNEL_Q8(4, 2)
KERNEL_Q8(4, 1)
KERNEL_Q8(3, 2)
KERNEL_Q8(3, 1)
KERNEL_Q8(2, 2)
KERNEL_Q8(2, 1)
KERNEL_Q8(1, 2)
KERNEL_Q8(1, 1)
#undef KERNEL_Q8

typedef void (*kernel_q8_fn)(const block_q8_0 *const *, const qa_view *, int64_t, float *, size_t);

/* Tokens go in blocks of Q8_TOKEN_BLOCK whose activations stay in L2 while
 * every row of the range passes over them. */
static void gemm_q8_0(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0, int64_t p1) {
    static const kernel_q8_fn kern[Q8_ROWS][Q8_TOKENS] = {{kernel_q8_1_1, kernel_q8_1_2},
                                                          {kernel_q8_2_1, kernel_q8_2_2},
                                                          {kernel_q8_3_1, kernel_q8_3_2},
                                                          {kernel_q8_4_1, kernel_q8_4_2}};
    int64_t o0 = p0 * MM_QR, o1 = p1 * MM_QR < a->n_out ? p1 * MM_QR : a->n_out, nb = a->n_in / QK8_0;
    size_t ys = a->y_row_stride;
    for (int64_t t0 = 0; t0 < a->n_tokens; t0 += Q8_TOKEN_BLOCK) {
        int64_t t1 = t0 + Q8_TOKEN_BLOCK < a->n_tokens ? t0 + Q8_TOKEN_BLOCK : a->n_tokens;
        for (int64_t o = o0; o < o1; o += Q8_ROWS) {
            int nr = (int)(o1 - o < Q8_ROWS ? o1 - o : Q8_ROWS);
            const block_q8_0 *w[Q8_ROWS];
            for (int r = 0; r < nr; r++)
                w[r] = (const block_q8_0 *)((const uint8_t *)a->w + (size_t)(o + r) * a->w_row_bytes);
            for (int64_t t = t0; t < t1; t += Q8_TOKENS) {
                int T = (int)(t1 - t < Q8_TOKENS ? t1 - t : Q8_TOKENS);
                qa_view x[Q8_TOKENS];
                for (int i = 0; i < T; i++) x[i] = qa_row_view(act, act_row_bytes, t + i, a->n_in);
                kern[nr - 1][T - 1](w, x, nb, a->y + (size_t)t * ys + o, ys);
            }
        }
    }
}

void mm__gemmq_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0, int64_t p1) {
    if (a->wtype == GGUF_TYPE_Q8_0) gemm_q8_0(a, act, act_row_bytes, p0, p1);
    else gemm_q4_0(a, act, act_row_bytes, p0, p1);
}

#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif
