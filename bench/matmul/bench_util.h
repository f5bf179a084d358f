/* Helpers shared by the matmul benchmarks. */
#ifndef BENCH_MATMUL_UTIL_H
#define BENCH_MATMUL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/type.h"

enum { BENCH_MAX_TYPES = 16 };

/* Uniform in [-1, 1) from a fixed-seed xorshift (same data every run). */
float bench_frand(void);
/* 64-byte aligned memory; exits with a message when out of memory. */
void *bench_xalloc(size_t n);
/* n_out rows of type t: 64 distinct quantized rows tiled (the values do not
 * matter for speed, and quantizing 58M values with the reference K-quant
 * algorithm would take longer than the benchmark). OUT: *row_bytes. */
uint8_t *bench_make_weights(tensor_type t, int64_t n_out, int64_t n_in, size_t *row_bytes);
/* Parses "Q4_0,Q8_0,..." into out[BENCH_MAX_TYPES]; -1 (with a message
 * naming `prog`) when a type cannot be benchmarked. */
int bench_parse_types(const char *prog, const char *list, tensor_type *out);

#endif
