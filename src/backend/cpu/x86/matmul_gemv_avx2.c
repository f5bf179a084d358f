/* GEMV kernels for decode-sized batches (AVX2/FMA/F16C): weights streamed once
 * from memory, several rows per activation load so every load of x (which sits
 * in L1) feeds more than one row. Quantized weights meet int8 activations. */
#if defined(__x86_64__)

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC target("avx2,fma,f16c")
#endif

#include <immintrin.h>
#include <string.h>

#include "backend/cpu/matmul-impl.h"
#include "tensor/quant_impl.h"

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int32_t hsum8_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* ---- activation quantization ---------------------------------------------- */

void mm__quantize_act_avx2(const float *x, void *qa, int64_t n_in, int64_t b0, int64_t b1) {
    int8_t *qs = qa;
    float *d = mm__qa_scales(qa, n_in);
    int32_t *xs = mm__qa_sums(qa, n_in);
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = b0; b < b1; b++) {
        const float *xb = x + b * MM_QA_BLOCK;
        __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
        __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
        __m256 am = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign_bit, v0), _mm256_andnot_ps(sign_bit, v1)),
                                  _mm256_max_ps(_mm256_andnot_ps(sign_bit, v2), _mm256_andnot_ps(sign_bit, v3)));
        float amax = hmax8(am);
        __m256 inv = _mm256_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
        /* cvtps rounds to nearest-even under the default MXCSR. */
        __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, inv));
        __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, inv));
        __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, inv));
        __m256i q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, inv));
        int32_t sum = hsum8_i32(_mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3)));
        /* The packs work per 128-bit lane; the permute restores element order. */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
        _mm256_storeu_si256((__m256i *)(qs + b * MM_QA_BLOCK), _mm256_permutevar8x32_epi32(p, perm));
        /* ggml keeps the scale as f16; the dots use that value. */
        d[b] = _cvtsh_ss(_cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT));
        xs[b] = 8 * sum;
    }
}

/* ---- F32 / F16 / BF16 weights by f32 activations -------------------------- */

static inline __m256 load8_f32(const void *p, int64_t i) { return _mm256_loadu_ps((const float *)p + i); }
static inline __m256 load8_f16(const void *p, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)));
}
static inline __m256 load8_bf16(const void *p, int64_t i) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
static inline float load1_f32(const void *p, int64_t i) { return ((const float *)p)[i]; }
static inline float load1_f16(const void *p, int64_t i) { return h2f(((const uint16_t *)p)[i]); }
static inline float load1_bf16(const void *p, int64_t i) {
    uint32_t u = (uint32_t)((const uint16_t *)p)[i] << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Rows per pass: four independent FMA chains hide the FMA latency and let one
 * x load serve four rows. */
enum { FR = 4, Q4R = 8, MAX_ROWS = 8 };
_Static_assert(FR == 4, "dot_rows_q8_0 spells out four rows");
_Static_assert(Q4R == 8, "dot_rows8_q4_0 reduces eight rows in one transpose");

#define DEFINE_GEMV_F(T)                                                                          \
    static void dot_rows_##T(int64_t n, const void *const *w, const float *x, float *out) {        \
        __m256 acc[FR];                                                                           \
        for (int r = 0; r < FR; r++) acc[r] = _mm256_setzero_ps();                                \
        int64_t i = 0;                                                                            \
        for (; i + 8 <= n; i += 8) {                                                              \
            __m256 xv = _mm256_loadu_ps(x + i);                                                   \
            for (int r = 0; r < FR; r++) acc[r] = _mm256_fmadd_ps(load8_##T(w[r], i), xv, acc[r]); \
        }                                                                                         \
        for (int r = 0; r < FR; r++) {                                                            \
            float s = hsum8(acc[r]);                                                              \
            for (int64_t j = i; j < n; j++) s += load1_##T(w[r], j) * x[j];                       \
            out[r] = s;                                                                           \
        }                                                                                         \
    }
DEFINE_GEMV_F(f32)
DEFINE_GEMV_F(f16)
DEFINE_GEMV_F(bf16)

/* ---- quantized weights by int8 activations -------------------------------- */

typedef struct {
    const int8_t *qs;
    const float *d;
    const int32_t *xs;
} qa_row;

/* The next pass's rows, [pf, pf + nb * step), are prefetched in nb equal
 * steps, one per block, so their memory arrives while this pass computes:
 * rows of a few hundred bytes give the hardware prefetcher too little of
 * each stream to lock on. pf is NULL when nothing follows. */
typedef struct {
    const char *pf;
    size_t step;
} prefetch_plan;

static inline void prefetch_step(prefetch_plan pp, int64_t b) {
    if (!pp.pf) return;
    const char *p = pp.pf + (size_t)b * pp.step;
    for (size_t off = 0; off < pp.step; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

static inline __m256i dot_u8_s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* The sign trick: |w| * (x with w's sign) = w * x, with |w| unsigned for maddubs. */
static inline __m256i dot_s8_s8(__m256i w, __m256i x) {
    return dot_u8_s8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

/* Converts the f16 scales (the first field of each block) of blocks [0, n)
 * of a row, n <= 8, blocks `stride` bytes apart, into float lanes; lanes past
 * n are 0. */
static inline __m256 scales8(const void *first, size_t stride, int n) {
    const uint8_t *p = first;
    uint16_t h;
    __m128i v = _mm_setzero_si128();
#define LANE(i) (memcpy(&h, p + (i) * stride, sizeof h), v = _mm_insert_epi16(v, h, i))
    switch (n) { /* falls through: lane i takes block i */
    case 8: LANE(7); /* fall through */
    case 7: LANE(6); /* fall through */
    case 6: LANE(5); /* fall through */
    case 5: LANE(4); /* fall through */
    case 4: LANE(3); /* fall through */
    case 3: LANE(2); /* fall through */
    case 2: LANE(1); /* fall through */
    default: LANE(0);
    }
#undef LANE
    return _mm256_cvtph_ps(v);
}

/* Lanes [0, n) of p, the rest 0, without reading past p + n. */
static inline __m256 load_first(const float *p, int n) {
    if (n == 8) return _mm256_loadu_ps(p);
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx));
}

/* Stores the per-block combined scales of four rows, v[r] lane i = block i of
 * row r, block-major into sc[0..8)[4]. */
static inline void store_scales_t(const __m256 *v, float (*sc)[4]) {
    __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    /* u_j holds blocks j (low half) and j + 4 */
    __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xee),
                   _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xee)};
    for (int j = 0; j < 4; j++) {
        _mm_store_ps(sc[j], _mm256_castps256_ps128(u[j]));
        _mm_store_ps(sc[j + 4], _mm256_extractf128_ps(u[j], 1));
    }
}

/* Blocks per chunk whose combined scales are computed ahead of the dots. */
enum { SC_CHUNK = 128 };

/* Per chunk, a first loop turns each row's f16 scales into dw * dx (8 blocks
 * per conversion); the dot loop then needs one broadcast load and one FMA per
 * row and block. */
static void dot_rows_q8_0(int64_t n, const void *const *w, prefetch_plan pp, const qa_row *x, float *out) {
    _Alignas(32) float sc[SC_CHUNK][FR];
    __m256 acc[FR];
    for (int r = 0; r < FR; r++) acc[r] = _mm256_setzero_ps();
    int64_t nb = n / QK8_0;
    for (int64_t c0 = 0; c0 < nb; c0 += SC_CHUNK) {
        int cn = (int)(nb - c0 < SC_CHUNK ? nb - c0 : SC_CHUNK);
        for (int b = 0; b < cn; b += 8) {
            int k = cn - b < 8 ? cn - b : 8;
            __m256 dx = load_first(x->d + c0 + b, k), v[FR];
            for (int r = 0; r < FR; r++)
                v[r] = _mm256_mul_ps(scales8((const block_q8_0 *)w[r] + c0 + b, sizeof(block_q8_0), k), dx);
            store_scales_t(v, sc + b);
        }
        const block_q8_0 *w0 = (const block_q8_0 *)w[0] + c0, *w1 = (const block_q8_0 *)w[1] + c0;
        const block_q8_0 *w2 = (const block_q8_0 *)w[2] + c0, *w3 = (const block_q8_0 *)w[3] + c0;
        for (int b = 0; b < cn; b++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(x->qs + (c0 + b) * QK8_0));
            prefetch_step(pp, c0 + b);
#define ROW(r) __m256i p##r = dot_s8_s8(_mm256_loadu_si256((const __m256i *)w##r[b].qs), xv);
            ROW(0)
            ROW(1)
            ROW(2)
            ROW(3)
#undef ROW
            acc[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_broadcast_ss(&sc[b][0]), acc[0]);
            acc[1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_broadcast_ss(&sc[b][1]), acc[1]);
            acc[2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p2), _mm256_broadcast_ss(&sc[b][2]), acc[2]);
            acc[3] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p3), _mm256_broadcast_ss(&sc[b][3]), acc[3]);
        }
    }
    for (int r = 0; r < FR; r++) out[r] = hsum8(acc[r]);
}

/* Q4_0 rows as ggml's repacked 8-row AVX2 kernels compute them (llama.cpp
 * repacks every Q4_0 matrix with a multiple of 8 rows on AVX2): per row and
 * block the exact integer sum (q - 8) x, then one fused multiply-add by the
 * f32 product of the two f16 scales into a single accumulator per row.
 *
 * The rows are read in place, and per block a transpose of 4-byte units puts
 * them in the lanes repacking would give: after it, vector U_s holds bytes
 * 4s..4s+3 of every row (rows in lane order 0 2 4 6 1 3 5 7), whose low
 * nibbles are values 4s..4s+3 and high nibbles values 16+4s..16+4s+3. One
 * broadcast of 4 activation bytes then meets all 8 rows in one maddubs, and
 * lane r of the sums is row r's, with no horizontal reduction. Q4_0 stores
 * q + 8, so the sum is (q + 8) x less the activation's 8 sum x. */
static void dot_rows8_q4_0(int64_t nb, const void *const *w, prefetch_plan pp, const qa_row *x, float *out) {
    const __m256i lo4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    const block_q4_0 *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    const block_q4_0 *w4 = w[4], *w5 = w[5], *w6 = w[6], *w7 = w[7];
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const int8_t *xq = x->qs + b * QK4_0;
        prefetch_step(pp, b);
#define ROWS(r, s)                                                                                    \
    _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)w##r[b].qs)),     \
                            _mm_loadu_si128((const __m128i *)w##s[b].qs), 1)
        __m256i v01 = ROWS(0, 1), v23 = ROWS(2, 3), v45 = ROWS(4, 5), v67 = ROWS(6, 7);
#undef ROWS
        __m256i a = _mm256_unpacklo_epi32(v01, v23), c = _mm256_unpackhi_epi32(v01, v23);
        __m256i e = _mm256_unpacklo_epi32(v45, v67), g = _mm256_unpackhi_epi32(v45, v67);
        __m256i u[4] = {_mm256_unpacklo_epi64(a, e), _mm256_unpackhi_epi64(a, e), _mm256_unpacklo_epi64(c, g),
                        _mm256_unpackhi_epi64(c, g)};
        /* 8 maddubs pair sums per 16-bit lane, at most 8 * 2 * 15 * 127 = 30480 */
        __m256i sum = _mm256_setzero_si256();
        for (int k = 0; k < 4; k++) {
            __m256i lo = _mm256_and_si256(u[k], lo4), hi = _mm256_and_si256(_mm256_srli_epi16(u[k], 4), lo4);
            int32_t xl, xh;
            memcpy(&xl, xq + 4 * k, sizeof xl);
            memcpy(&xh, xq + 16 + 4 * k, sizeof xh);
            sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(lo, _mm256_set1_epi32(xl)));
            sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(hi, _mm256_set1_epi32(xh)));
        }
        __m256i isum = _mm256_sub_epi32(_mm256_madd_epi16(sum, ones), _mm256_set1_epi32(x->xs[b]));
        __m128i hd = _mm_cvtsi32_si128(w0[b].d);
        hd = _mm_insert_epi16(hd, w2[b].d, 1);
        hd = _mm_insert_epi16(hd, w4[b].d, 2);
        hd = _mm_insert_epi16(hd, w6[b].d, 3);
        hd = _mm_insert_epi16(hd, w1[b].d, 4);
        hd = _mm_insert_epi16(hd, w3[b].d, 5);
        hd = _mm_insert_epi16(hd, w5[b].d, 6);
        hd = _mm_insert_epi16(hd, w7[b].d, 7);
        __m256 sc = _mm256_mul_ps(_mm256_cvtph_ps(hd), _mm256_set1_ps(x->d[b]));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), sc, acc);
    }
    /* lanes hold rows 0 2 4 6 1 3 5 7 */
    _mm256_storeu_ps(out, _mm256_permutevar8x32_ps(acc, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

/* ---- driver ---------------------------------------------------------------- */

void mm__gemv_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t o0,
                   int64_t o1) {
    const uint8_t *w = a->w;
    int rows = a->wtype == GGUF_TYPE_Q4_0 ? Q4R : FR;
    for (int64_t o = o0; o < o1; o += rows) {
        /* A short last pass repeats its last row rather than reading past it. */
        const void *wr[MAX_ROWS];
        for (int r = 0; r < rows; r++) wr[r] = w + (size_t)(o + r < o1 ? o + r : o1 - 1) * a->w_row_bytes;
        int nr = (int)(o1 - o < rows ? o1 - o : rows);
        /* Rows are contiguous; only the first token's pass reads them from memory. */
        int64_t next = o1 - (o + rows) < rows ? o1 - (o + rows) : rows, nb = a->n_in / MM_QA_BLOCK;
        prefetch_plan pp = {0};
        if (next > 0 && nb > 0) {
            pp.pf = (const char *)w + (size_t)(o + rows) * a->w_row_bytes;
            pp.step = ((size_t)next * a->w_row_bytes + (size_t)nb - 1) / (size_t)nb;
        }
        for (int64_t t = 0; t < a->n_tokens; t++) {
            _Alignas(32) float out[MAX_ROWS];
            const float *xt = a->x + (size_t)t * a->x_row_stride;
            qa_row q = {0};
            if (act) {
                const uint8_t *row = (const uint8_t *)act + (size_t)t * act_row_bytes;
                q.qs = (const int8_t *)row;
                q.d = mm__qa_scales(row, a->n_in);
                q.xs = mm__qa_sums(row, a->n_in);
            }
            switch (a->wtype) {
            case GGUF_TYPE_F32: dot_rows_f32(a->n_in, wr, xt, out); break;
            case GGUF_TYPE_F16: dot_rows_f16(a->n_in, wr, xt, out); break;
            case GGUF_TYPE_BF16: dot_rows_bf16(a->n_in, wr, xt, out); break;
            case GGUF_TYPE_Q8_0: dot_rows_q8_0(a->n_in, wr, t == 0 ? pp : (prefetch_plan){0}, &q, out); break;
            case GGUF_TYPE_Q4_0: dot_rows8_q4_0(nb, wr, t == 0 ? pp : (prefetch_plan){0}, &q, out); break;
            default: return;
            }
            float *yt = a->y + (size_t)t * a->y_row_stride + o;
            for (int r = 0; r < nr; r++) yt[r] = out[r];
        }
    }
}

#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif
