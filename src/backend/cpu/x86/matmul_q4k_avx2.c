/* Q4_K by Q8_K matmul kernels (AVX2) with ggml's float order; see
 * matmul_q4k.h for the formula. Integer parts are exact (maddubs pairs of a
 * 4-bit code and an int8 stay far below the int16 limit, and at most 16 such
 * products meet in one int16 lane before madd widens them), so only the
 * float steps have to follow ggml, and they do so lane for lane.
 *
 * GEMV: weights read in place, row by row. Per row and block the codes meet
 * each token's int8 values in maddubs, the scales are applied exactly in
 * madd, and the int32 vectors of 8 rows are reduced together so that the
 * float steps run with one row per lane.
 *
 * GEMM: a panel of 8 rows is repacked once, interleaved 4 bytes per row, so
 * one broadcast of 4 activation bytes meets all 8 rows in one maddubs and
 * lane r of every sum belongs to row r: no reductions, and the panel is
 * reused by every token. */
#if defined(__x86_64__)

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC target("avx2,fma,f16c")
#endif

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "backend/cpu/x86/matmul_q4k.h"
#include "tensor/quant_impl.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

enum { ROWS = 8, MAX_T = 4 };

/* Tokens [0, n - n % 4) of a batch of n > 3 take ggml's GEMM order. */
static inline int64_t split_tokens(int64_t n) { return n > 3 ? n - n % 4 : 0; }

static inline const block_q8_K *act_row(const void *act, size_t row_bytes, int64_t t) {
    return (const block_q8_K *)((const uint8_t *)act + (size_t)t * row_bytes);
}

/* The 8 scales (int16 lanes 0..7) and 8 mins (lanes 8..15) of a block from
 * their 12-byte packing; reads 16 bytes, the last 4 are the block's codes. */
static ALWAYS_INLINE __m256i scales_mins(const uint8_t *s) {
    __m128i v = _mm_loadu_si128((const __m128i *)s);
    __m128i low = _mm_and_si128(v, _mm_set1_epi8(0x3f));
    __m128i w2 = _mm_shuffle_epi32(v, 0xaa);
    __m128i nib = _mm_and_si128(_mm_srlv_epi32(w2, _mm_setr_epi32(0, 4, 0, 4)), _mm_set1_epi8(0x0f));
    __m128i top = _mm_and_si128(_mm_srli_epi32(v, 2), _mm_set1_epi8(0x30));
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi32(low, _mm_or_si128(nib, top)));
}

/* The scale/min bytes of two blocks, one per 128-bit lane, each as
 * [sc0..sc7, mn0..mn7] (the 12-byte packing of scales_mins, done for both
 * rows at once). */
static ALWAYS_INLINE __m256i scale_bytes2(const uint8_t *s0, const uint8_t *s1) {
    __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)s0)),
                                        _mm_loadu_si128((const __m128i *)s1), 1);
    __m256i low = _mm256_and_si256(v, _mm256_set1_epi8(0x3f));
    __m256i w2 = _mm256_shuffle_epi32(v, 0xaa);
    __m256i nib = _mm256_and_si256(_mm256_srlv_epi32(w2, _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4)),
                                   _mm256_set1_epi8(0x0f));
    __m256i top = _mm256_and_si256(_mm256_srli_epi32(v, 2), _mm256_set1_epi8(0x30));
    return _mm256_unpacklo_epi32(low, _mm256_or_si256(nib, top));
}

/* int16 lanes = byte j of each 128-bit lane of v (pshufb writes 0 for an
 * index with the top bit set). */
static ALWAYS_INLINE __m256i bcast_byte16(__m256i v, int j) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)(0x8000 | j)));
}

/* P_j = bsums[2j] + bsums[2j+1] as int16 lanes j, in both halves. */
static ALWAYS_INLINE __m256i bsum_pairs(const block_q8_K *x) {
    __m128i p = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)x->bsums),
                               _mm_loadu_si128((const __m128i *)(x->bsums + 8)));
    return _mm256_broadcastsi128_si256(p);
}

/* Lane j of the result = sum of all lanes of s[j]. */
static ALWAYS_INLINE __m256i reduce8x8(const __m256i *s) {
    __m256i h01 = _mm256_hadd_epi32(s[0], s[1]), h23 = _mm256_hadd_epi32(s[2], s[3]);
    __m256i h45 = _mm256_hadd_epi32(s[4], s[5]), h67 = _mm256_hadd_epi32(s[6], s[7]);
    __m256i a = _mm256_hadd_epi32(h01, h23), b = _mm256_hadd_epi32(h45, h67);
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

static ALWAYS_INLINE void store_rows(float *y, __m256 v, int nr) {
    if (nr == ROWS) {
        _mm256_storeu_ps(y, v);
    } else {
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(y, mask, v);
    }
}

/* ---- GEMV ------------------------------------------------------------------ */

/* d and dmin of block b of 8 rows as float lanes. */
static ALWAYS_INLINE void row_deltas(const uint8_t *const *wr, int64_t b, __m256 *d, __m256 *dmin) {
    uint32_t u[ROWS];
    for (int r = 0; r < ROWS; r++) memcpy(&u[r], wr[r] + (size_t)b * sizeof(block_q4_K), sizeof u[r]);
    __m256i v = _mm256_setr_epi32((int)u[0], (int)u[1], (int)u[2], (int)u[3], (int)u[4], (int)u[5], (int)u[6],
                                  (int)u[7]);
    const __m256i split = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9,
                                           12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    v = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(v, split), 0xd8);
    *d = _mm256_cvtph_ps(_mm256_castsi256_si128(v));
    *dmin = _mm256_cvtph_ps(_mm256_extracti128_si256(v, 1));
}

/* Rows in lanes for the lane order (0, 2, 4, 6 | 1, 3, 5, 7) the min
 * reductions leave. */
static ALWAYS_INLINE __m256i unzip_rows(__m256i v) {
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* The memory [pf, pf + nb * pf_step) is prefetched in nb equal steps, one per
 * block: the rows of the next pass arrive while this one computes (short rows
 * give the hardware prefetcher too little of each stream to lock on). */
typedef struct {
    const char *pf;
    size_t pf_step;
} prefetch_plan;

/* The 8 rows of one pass over T tokens (T <= MAX_T): split selects the
 * per-64-values order (ggml's GEMM) over the per-block one (its GEMV). A
 * short last pass repeats a row; nr rows are stored. */
static ALWAYS_INLINE void gemv_pass(int T, bool split, const uint8_t *const *wr, int64_t nb,
                                    const block_q8_K *const *x, float *const *y, int nr, prefetch_plan pp) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[MAX_T], accm[MAX_T];
    for (int t = 0; t < T; t++) acc[t] = accm[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        if (pp.pf)
            for (size_t off = 0; off < pp.pf_step; off += 64) _mm_prefetch(pp.pf + (size_t)b * pp.pf_step + off, _MM_HINT_T0);
        /* split: s[t][k][r]; otherwise s[t][0][r] sums the four k */
        /* mn[i]: int16 mins of rows 2i (low half) and 2i + 1 (high half) */
        __m256i s[MAX_T][4][ROWS], mn[ROWS / 2], sb8 = _mm256_setzero_si256();
        for (int r = 0; r < ROWS; r++) {
            const block_q4_K *blk = (const block_q4_K *)wr[r] + b;
            if (r % 2 == 0) {
                __m256i pair = scale_bytes2(blk->scales, ((const block_q4_K *)wr[r + 1] + b)->scales);
                mn[r / 2] = _mm256_shuffle_epi8(pair, _mm256_setr_epi8(8, -1, 9, -1, 10, -1, 11, -1, 12, -1, 13, -1, 14,
                                                                       -1, 15, -1, 8, -1, 9, -1, 10, -1, 11, -1, 12,
                                                                       -1, 13, -1, 14, -1, 15, -1));
                sb8 = pair;
            }
            /* this row's scale bytes in both halves */
            __m256i s8 = r % 2 ? _mm256_permute2x128_si256(sb8, sb8, 0x11) : _mm256_permute2x128_si256(sb8, sb8, 0x00);
            for (int k = 0; k < 4; k++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(blk->qs + 32 * k));
                __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                __m256i sl = bcast_byte16(s8, 2 * k), sh = bcast_byte16(s8, 2 * k + 1);
                for (int t = 0; t < T; t++) {
                    const int8_t *xq = x[t][b].qs + 64 * k;
                    __m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)xq));
                    __m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(xq + 32)));
                    __m256i p = _mm256_add_epi32(_mm256_madd_epi16(pl, sl), _mm256_madd_epi16(ph, sh));
                    if (split) s[t][k][r] = p;
                    else s[t][0][r] = k ? _mm256_add_epi32(s[t][0][r], p) : p;
                }
            }
        }
        __m256 d, dmin;
        row_deltas(wr, b, &d, &dmin);
        for (int t = 0; t < T; t++) {
            __m256 dy = _mm256_set1_ps(x[t][b].d);
            __m256 sd = _mm256_mul_ps(d, dy), smin = _mm256_mul_ps(dmin, dy);
            /* v[i] lane k (< 4) = row 2i's sub-block pair k min term, lane 4 + k row 2i + 1's */
            __m256i pairs = bsum_pairs(&x[t][b]), v[4];
            for (int i = 0; i < 4; i++) v[i] = _mm256_madd_epi16(mn[i], pairs);
            if (split) {
                __m256i u0 = _mm256_unpacklo_epi32(v[0], v[1]), u1 = _mm256_unpackhi_epi32(v[0], v[1]);
                __m256i u2 = _mm256_unpacklo_epi32(v[2], v[3]), u3 = _mm256_unpackhi_epi32(v[2], v[3]);
                __m256i mk[4] = {_mm256_unpacklo_epi64(u0, u2), _mm256_unpackhi_epi64(u0, u2),
                                 _mm256_unpacklo_epi64(u1, u3), _mm256_unpackhi_epi64(u1, u3)};
                for (int k = 0; k < 4; k++) {
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(reduce8x8(s[t][k])), sd, acc[t]);
                    accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(unzip_rows(mk[k])), smin, accm[t]);
                }
            } else {
                __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(reduce8x8(s[t][0])), sd, acc[t]);
                accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(unzip_rows(h)), smin, accm[t]);
            }
        }
    }
    for (int t = 0; t < T; t++) store_rows(y[t], _mm256_sub_ps(acc[t], accm[t]), nr);
}

typedef void (*gemv_fn)(const uint8_t *const *, int64_t, const block_q8_K *const *, float *const *, int,
                        prefetch_plan);

#define GEMV_PASS(name, T, split)                                                                                \
    static void name(const uint8_t *const *wr, int64_t nb, const block_q8_K *const *x, float *const *y, int nr,  \
                     prefetch_plan pp) {                                                                         \
        gemv_pass(T, split, wr, nb, x, y, nr, pp);                                                               \
    }
GEMV_PASS(gemv_split4, 4, true)
GEMV_PASS(gemv_block1, 1, false)
GEMV_PASS(gemv_block2, 2, false)
GEMV_PASS(gemv_block3, 3, false)
#undef GEMV_PASS

void mm__gemv_q4k_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t o0, int64_t o1) {
    static const gemv_fn block_fns[3] = {gemv_block1, gemv_block2, gemv_block3};
    const uint8_t *w = a->w;
    int64_t nb = a->n_in / QK_K, n = a->n_tokens, ns = split_tokens(n);
    for (int64_t o = o0; o < o1; o += ROWS) {
        int nr = (int)(o1 - o < ROWS ? o1 - o : ROWS);
        const uint8_t *wr[ROWS];
        for (int r = 0; r < ROWS; r++) wr[r] = w + (size_t)(o + (r < nr ? r : nr - 1)) * a->w_row_bytes;
        /* the next pass's rows, contiguous; only the first token group reads from memory */
        int64_t next = o1 - (o + ROWS) < ROWS ? o1 - (o + ROWS) : ROWS;
        prefetch_plan pp = {0};
        if (next > 0 && nb > 0) {
            pp.pf = (const char *)w + (size_t)(o + ROWS) * a->w_row_bytes;
            pp.pf_step = ((size_t)next * a->w_row_bytes + (size_t)nb - 1) / (size_t)nb;
        }
        for (int64_t t0 = 0; t0 < n;) {
            int T = t0 < ns ? MAX_T : (int)(n - t0 < 3 ? n - t0 : 3);
            const block_q8_K *x[MAX_T];
            float *y[MAX_T];
            for (int t = 0; t < T; t++) {
                x[t] = act_row(act, act_row_bytes, t0 + t);
                y[t] = a->y + (size_t)(t0 + t) * a->y_row_stride + o;
            }
            if (t0 < ns) gemv_split4(wr, nb, x, y, nr, pp);
            else block_fns[T - 1](wr, nb, x, y, nr, pp);
            pp.pf = NULL;
            t0 += T;
        }
    }
}

/* ---- GEMM ------------------------------------------------------------------ */

/* One block of a panel of 8 rows. */
typedef struct {
    uint8_t q[8][8][32]; /* [sub-block j][step s]: bytes 4r..4r+3 = codes 4s..4s+3 of row r */
    int16_t sc[8][16];   /* [j]: lanes 2r, 2r+1 = scale j of row r */
    int16_t mn[4][16];   /* [k]: lanes 2r, 2r+1 = mins 2k, 2k+1 of row r */
    float d[ROWS], dmin[ROWS];
} q4k_panel;

_Static_assert(sizeof(q4k_panel) % 32 == 0, "panel blocks keep 32-byte alignment");

size_t mm__gemmq_q4k_scratch(int64_t n_in) { return (size_t)(n_in / QK_K) * sizeof(q4k_panel); }

/* dst[r] = 4-byte column r of the 8x8 matrix of 4-byte units in src[0..8). */
static inline void transpose_units(const __m256i *src, __m256i *dst) {
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_castsi256_ps(src[i]);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        dst[i] = _mm256_castps_si256(_mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        dst[i + 4] = _mm256_castps_si256(_mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    }
}

/* Repacks rows [o, o + nr) (nr <= 8; missing rows as zero weights) into
 * nb panel blocks. */
static void pack_panel(const cpu_matmul_args *a, int64_t o, int nr, int64_t nb, q4k_panel *panel) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int64_t b = 0; b < nb; b++) {
        q4k_panel *pb = &panel[b];
        const block_q4_K *blk[ROWS];
        int16_t sm[ROWS][16];
        for (int r = 0; r < ROWS; r++) {
            blk[r] = r < nr ? (const block_q4_K *)((const uint8_t *)a->w + (size_t)(o + r) * a->w_row_bytes) + b
                            : NULL;
            if (blk[r]) {
                _mm256_storeu_si256((__m256i *)sm[r], scales_mins(blk[r]->scales));
                pb->d[r] = _cvtsh_ss(blk[r]->d);
                pb->dmin[r] = _cvtsh_ss(blk[r]->dmin);
            } else {
                memset(sm[r], 0, sizeof sm[r]);
                pb->d[r] = pb->dmin[r] = 0.0f;
            }
            for (int j = 0; j < 8; j++) pb->sc[j][2 * r] = pb->sc[j][2 * r + 1] = sm[r][j];
            for (int k = 0; k < 4; k++) {
                pb->mn[k][2 * r] = sm[r][8 + 2 * k];
                pb->mn[k][2 * r + 1] = sm[r][9 + 2 * k];
            }
        }
        for (int j = 0; j < 8; j++) {
            __m256i rows[ROWS], steps[8];
            for (int r = 0; r < ROWS; r++) {
                if (!blk[r]) {
                    rows[r] = _mm256_setzero_si256();
                    continue;
                }
                __m256i q = _mm256_loadu_si256((const __m256i *)(blk[r]->qs + 32 * (j / 2)));
                rows[r] = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(q, 4) : q, m4);
            }
            transpose_units(rows, steps);
            for (int s = 0; s < 8; s++) _mm256_store_si256((__m256i *)pb->q[j][s], steps[s]);
        }
    }
}

static ALWAYS_INLINE __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* s16[t] = the int16 pair sums of one sub-block's 8 steps for token t: each
 * lane adds 16 products of a code (<= 15) and an int8, within int16. */
static ALWAYS_INLINE void sub_block(int T, const uint8_t (*q)[32], const int8_t *const *xq, __m256i *s16) {
    __m256i w = _mm256_load_si256((const __m256i *)q[0]);
    for (int t = 0; t < T; t++) s16[t] = _mm256_maddubs_epi16(w, bcast4(xq[t]));
#pragma GCC unroll 8
    for (int s = 1; s < 8; s++) {
        w = _mm256_load_si256((const __m256i *)q[s]);
        for (int t = 0; t < T; t++) {
            s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(w, bcast4(xq[t] + 4 * s)));
            /* Keeps the running sums in registers: GCC would otherwise
             * reassociate the chain into a tree over all 32 products and spill
             * them (about 1.5x slower). */
            __asm__("" : "+x"(s16[t]));
        }
    }
}

/* y[t][o .. o + nr) for T tokens (T <= MAX_T) over the whole panel, in
 * ggml's per-64-values order (split) or per-block order. */
static ALWAYS_INLINE void gemm_tile(int T, bool split, const q4k_panel *panel, int64_t nb,
                                    const block_q8_K *const *x, float *const *y, int nr) {
    __m256 acc[MAX_T], accm[MAX_T];
    for (int t = 0; t < T; t++) acc[t] = accm[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const q4k_panel *pb = &panel[b];
        __m256i isum[MAX_T], imin[MAX_T], pairs[MAX_T];
        for (int t = 0; t < T; t++) {
            isum[t] = imin[t] = _mm256_setzero_si256();
            pairs[t] = bsum_pairs(&x[t][b]);
        }
        for (int k = 0; k < 4; k++) {
            __m256i ik[MAX_T];
            for (int t = 0; t < T; t++) ik[t] = _mm256_setzero_si256();
            for (int j = 2 * k; j < 2 * k + 2; j++) {
                __m256i s16[MAX_T];
                const int8_t *xq[MAX_T];
                for (int t = 0; t < T; t++) xq[t] = x[t][b].qs + 32 * j;
                sub_block(T, pb->q[j], xq, s16);
                __m256i sc = _mm256_load_si256((const __m256i *)pb->sc[j]);
                for (int t = 0; t < T; t++) ik[t] = _mm256_add_epi32(ik[t], _mm256_madd_epi16(s16[t], sc));
            }
            __m256i mn = _mm256_load_si256((const __m256i *)pb->mn[k]);
            for (int t = 0; t < T; t++) {
                __m256i mk = _mm256_madd_epi16(_mm256_shuffle_epi8(pairs[t], _mm256_set1_epi32(0x03020100 + 0x04040404 * k)), mn);
                if (split) {
                    __m256 dy = _mm256_set1_ps(x[t][b].d);
                    __m256 d = _mm256_load_ps(pb->d), dmin = _mm256_load_ps(pb->dmin);
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ik[t]), _mm256_mul_ps(d, dy), acc[t]);
                    accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mk), _mm256_mul_ps(dmin, dy), accm[t]);
                } else {
                    isum[t] = _mm256_add_epi32(isum[t], ik[t]);
                    imin[t] = _mm256_add_epi32(imin[t], mk);
                }
            }
        }
        if (!split) {
            __m256 d = _mm256_load_ps(pb->d), dmin = _mm256_load_ps(pb->dmin);
            for (int t = 0; t < T; t++) {
                __m256 dy = _mm256_set1_ps(x[t][b].d);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, dy), acc[t]);
                accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(imin[t]), _mm256_mul_ps(dmin, dy), accm[t]);
            }
        }
    }
    for (int t = 0; t < T; t++) store_rows(y[t], _mm256_sub_ps(acc[t], accm[t]), nr);
}

typedef void (*gemm_fn)(const q4k_panel *, int64_t, const block_q8_K *const *, float *const *, int);

#define GEMM_TILE(name, T, split)                                                                                \
    static void name(const q4k_panel *p, int64_t nb, const block_q8_K *const *x, float *const *y, int nr) {     \
        gemm_tile(T, split, p, nb, x, y, nr);                                                                    \
    }
GEMM_TILE(gemm_split4, 4, true)
GEMM_TILE(gemm_block1, 1, false)
GEMM_TILE(gemm_block2, 2, false)
GEMM_TILE(gemm_block3, 3, false)
#undef GEMM_TILE

void mm__gemmq_q4k_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0, int64_t p1,
                        void *scratch) {
    static const gemm_fn block_fns[3] = {gemm_block1, gemm_block2, gemm_block3};
    q4k_panel *panel = scratch;
    int64_t nb = a->n_in / QK_K, n = a->n_tokens, ns = split_tokens(n);
    for (int64_t p = p0; p < p1; p++) {
        int64_t o = p * ROWS;
        int nr = (int)(a->n_out - o < ROWS ? a->n_out - o : ROWS);
        pack_panel(a, o, nr, nb, panel);
        for (int64_t t0 = 0; t0 < n;) {
            int T = t0 < ns ? MAX_T : (int)(n - t0 < 3 ? n - t0 : 3);
            const block_q8_K *x[MAX_T];
            float *y[MAX_T];
            for (int t = 0; t < T; t++) {
                x[t] = act_row(act, act_row_bytes, t0 + t);
                y[t] = a->y + (size_t)(t0 + t) * a->y_row_stride + o;
            }
            if (t0 < ns) gemm_split4(panel, nb, x, y, nr);
            else block_fns[T - 1](panel, nb, x, y, nr);
            t0 += T;
        }
    }
}

#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif
