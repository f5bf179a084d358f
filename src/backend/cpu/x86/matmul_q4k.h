/* Q4_K weights by Q8_K activations (AVX2), giving the same float bits as
 * ggml's CPU backend on an AVX2 machine, where Q4_K matrices whose row count
 * is a multiple of 8 go through its 8-row interleaved kernels.
 *
 * Per output, those kernels accumulate in float per 256-value super-block b,
 * with isum/imin exact integer sums over the block's 6-bit scales sc_j and
 * mins m_j (P_j = bsums[2j] + bsums[2j+1] of the activation block):
 *     isum = sum_j sc_j * dot_j,  imin = sum_j m_j * P_j
 *     acc  = fmaf((float)isum, f16(w.d)    * y.d, acc)
 *     accm = fmaf((float)imin, f16(w.dmin) * y.d, accm)
 *     y    = acc - accm
 * but ggml's GEMM (the tokens 0 .. n - n % 4 of a batch of n >= 4) applies
 * the two FMAs once per 64 values (sub-block pairs j = 2k, 2k + 1, k = 0..3)
 * instead of once per block, while its GEMV (the other tokens) does it per
 * block. Both functions here apply that rule per token from a->n_tokens, so
 * every output matches whichever split of the work calls them.
 *
 * act holds a->n_tokens rows of n_in / 256 block_q8_K, act_row_bytes apart
 * (as tensor__from_float_q8_K writes them). Weights are a->w as stored (row
 * major Q4_K rows, a->w_row_bytes apart), read in place. */
#ifndef CPU_X86_MATMUL_Q4K_H
#define CPU_X86_MATMUL_Q4K_H

#include <stddef.h>
#include <stdint.h>

#include "backend/cpu/matmul.h"

#if defined(__x86_64__)
/* y[t][o] for o in [o0, o1) and every token; for decode-sized batches. */
void mm__gemv_q4k_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t o0, int64_t o1);

/* Bytes of per-thread scratch mm__gemmq_q4k_avx2 needs for rows of n_in
 * values (a multiple of 256). */
size_t mm__gemmq_q4k_scratch(int64_t n_in);

/* y[t][8p .. 8p + 8) (clipped at n_out) for panels p in [p0, p1) and every
 * token; for prompt-sized batches. Each panel's 8 weight rows are first
 * repacked, interleaved, into scratch (mm__gemmq_q4k_scratch(n_in) bytes,
 * 32-byte aligned, owned by the calling thread). */
void mm__gemmq_q4k_avx2(const cpu_matmul_args *a, const void *act, size_t act_row_bytes, int64_t p0, int64_t p1,
                        void *scratch);
#endif

#endif
