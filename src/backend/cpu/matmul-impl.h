/* Internals of the CPU matmul: the paths a call can take and the ISA kernels
 * behind them. The path depends only on (kernel set, weight type, n_tokens), so
 * scratch sizing, prepare and compute always agree. */
#ifndef CPU_MATMUL_IMPL_H
#define CPU_MATMUL_IMPL_H

#include <stdint.h>

#include "backend/cpu/matmul.h"

typedef enum {
    MM_PATH_TRAITS = 0, /* vec_dot of the type traits, any kernel set */
    MM_PATH_GEMV_F,     /* F32/F16/BF16 weights by f32 activations, few tokens */
    MM_PATH_GEMV_Q,     /* Q4_0/Q8_0 weights by int8 activations, few tokens */
    MM_PATH_GEMM,       /* F32/F16/BF16 weights in packed f32 panels, many tokens */
    MM_PATH_GEMM_Q,     /* Q4_0/Q8_0 weights by int8 activations, many tokens, ggml's order */
    MM_PATH_GEMM_Q8P,   /* Q8_0 weights by int8 activations, many tokens, panel kernel */
    MM_PATH_GEMV_Q4K,   /* Q4_K weights (rows a multiple of 8) by Q8_K activations, few tokens */
    MM_PATH_GEMM_Q4K,   /* the same, many tokens */
} mm_path;

/* At and above this many tokens the packed GEMM wins over row-by-row dots. */
#define MM_GEMM_MIN_TOKENS 8

/* GEMM register tile: MM_MR tokens by MM_NR output rows, and the depth of one
 * packed panel (a multiple of every block size, 256 for the K-quants). */
#define MM_MR 6
#define MM_NR 16
#define MM_KC 512

/* Integer GEMM: output rows per interleaved panel, and the panel depth (a
 * multiple of 256; the panel, 320 bytes per 32 columns, stays in L1). */
#define MM_QR 8
#define MM_QKC 1024

/* int8 activations of the GEMV_Q/GEMM_Q paths, one token row of n_in values:
 * ggml's Q8_0 quantization of the row, laid out as qs[n_in] (padded to 64
 * bytes), then d[n_in/32] (floats holding the f16 scale ggml stores) and
 * xs[n_in/32] (int32): block b holds x[32b + j] ~= d[b] * qs[32b + j], and
 * xs[b] = 8 * sum_j qs[32b + j], the term Q4_0's offset of 8 contributes. */
#define MM_QA_BLOCK 32
size_t mm__qa_row_bytes(int64_t n_in);

static inline size_t mm__align64(size_t n) { return (n + 63) & ~(size_t)63; }

static inline float *mm__qa_scales(const void *row, int64_t n_in) {
    return (float *)((uintptr_t)row + mm__align64((size_t)n_in));
}
static inline int32_t *mm__qa_sums(const void *row, int64_t n_in) {
    return (int32_t *)(mm__qa_scales(row, n_in) + n_in / MM_QA_BLOCK);
}

#if defined(__x86_64__)
#define MM_HAVE_X86 1
/* Quantizes blocks [b0, b1) of the token row x into the activation row qa. */
void mm__quantize_act_avx2(const float *x, void *qa, int64_t n_in, int64_t b0, int64_t b1);
/* y[t][o] for o in [o0, o1), every token, with the GEMV kernels; act is the
 * prepared int8 rows (GEMV_Q) or unused (GEMV_F). */
void mm__gemv_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t o0,
                   int64_t o1);
/* Packs token panels [p0, p1) (MM_MR tokens each): panel p holds
 * [n_in][MM_MR] floats at p * MM_MR * n_in, rows past n_tokens zero. */
void mm__pack_act_avx2(const cpu_matmul_args *a, float *packed, int64_t p0, int64_t p1);
/* Output panels [p0, p1) (MM_NR rows each) of the packed GEMM. */
void mm__gemm_avx2(const cpu_matmul_args *a, const float *packed, int64_t p0, int64_t p1);
/* Dequantizes weight rows [o, o + MM_NR) (rows past n_out as zeros), columns
 * [k0, k0 + kc), into panel[kc][MM_NR]; tmp holds MM_NR * MM_KC floats. */
void mm__pack_weights_avx2(const cpu_matmul_args *a, int64_t o, int64_t k0, int64_t kc,
                           float *panel, float *tmp);
/* Output panels [p0, p1) (MM_QR rows each) of the integer GEMM; act is the
 * prepared int8 rows as for the GEMV. */
void mm__gemmq_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0, int64_t p1);
/* The faster Q8_0 GEMM (MM_PATH_GEMM_Q8P): ggml's int8 products, the float
 * sums per block and 8 rows as for Q4_0 rather than in vec_dot's lanes. */
void mm__gemmq_q8_panel_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0,
                             int64_t p1);
/* One row chunk: dst[0..n) = W[row][k0 .. k0 + n); n and k0 multiples of the
 * block size. Exposed for the tests. */
void mm__dequant_row_avx2(tensor_type t, const void *row, int64_t k0, int64_t n, float *dst);
#endif

#endif
