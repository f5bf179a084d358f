/* CPU matrix multiplication of a weight matrix of any supported type by f32
 * activations: y[t][o] = sum_i W[o][i] * x[t][i].
 *
 * Runs in two passes over the thread pool, with a barrier between them (the
 * caller's sv_pool_run returning is the barrier): prepare converts the
 * activations into the weight type's vec_dot format in `scratch`, compute
 * produces y. Batch 1 (decode) takes the GEMV path, larger batches a tiled
 * GEMM. */
#ifndef CPU_MATMUL_H
#define CPU_MATMUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/type.h"

typedef struct {
    tensor_type wtype;
    const void *w;       /* [n_out rows][n_in] of wtype */
    size_t w_row_bytes;  /* stride between weight rows */
    int64_t n_in;        /* shared dimension (a multiple of wtype's block size) */
    int64_t n_out;       /* weight rows */
    int64_t n_tokens;    /* activation rows */
    const float *x;      /* [n_tokens][n_in] */
    size_t x_row_stride; /* in floats */
    float *y;            /* [n_tokens][n_out] */
    size_t y_row_stride; /* in floats */
    void *scratch;       /* cpu_matmul_scratch_size bytes, 64-byte aligned */
    /* Q8_0 prompt batches in the float order of ggml's CPU kernels, giving
     * llama.cpp's results to the bit, instead of the faster panel kernel
     * (same int8 products, the float sums in another order). Every other
     * path follows ggml's order anyway. */
    bool ggml_order;
} cpu_matmul_args;

/* Bytes of scratch a call with these sizes needs (0 allowed) when compute is
 * split into at most n_tasks parts (its nth). */
size_t cpu_matmul_scratch_size(tensor_type wtype, int64_t n_in, int64_t n_out, int64_t n_tokens, int n_tasks);

/* Pass 1 and pass 2; each is called by every thread ith of nth. */
void cpu_matmul_prepare(const cpu_matmul_args *a, int ith, int nth);
void cpu_matmul_compute(const cpu_matmul_args *a, int ith, int nth);

/* The same with an explicit kernel set instead of tensor_cpu_active(), so tests
 * and benchmarks can run the SIMD and the portable path in one process. A set
 * this CPU lacks (tensor_type_get_cpu returns NULL) must not be passed. */
size_t cpu_matmul_scratch_size_cpu(tensor_cpu cpu, tensor_type wtype, int64_t n_in, int64_t n_out,
                                   int64_t n_tokens, int n_tasks);
void cpu_matmul_prepare_cpu(tensor_cpu cpu, const cpu_matmul_args *a, int ith, int nth);
void cpu_matmul_compute_cpu(tensor_cpu cpu, const cpu_matmul_args *a, int ith, int nth);

#endif
