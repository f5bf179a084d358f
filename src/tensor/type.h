/* Computation traits of tensor element types: conversion to and from f32 and
 * the quantized dot products the matmul kernels use. Type ids and block
 * geometry are GGUF's (src/gguf/gguf_types.h): tensor_type is gguf_type. */
#ifndef TENSOR_TYPE_H
#define TENSOR_TYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "gguf/gguf_types.h"

typedef gguf_type tensor_type;

/* Dequantize n values (n a multiple of the block size). */
typedef void (*tensor_to_float_fn)(const void *src, float *dst, int64_t n);
/* Quantize n values with the reference algorithm (bit-exact with ggml's *_ref). */
typedef void (*tensor_from_float_fn)(const float *src, void *dst, int64_t n);
/* *s = dot(x[0..n), y[0..n)) where x is of this type and y of vec_dot_type. */
typedef void (*tensor_vec_dot_fn)(int64_t n, float *s, const void *x, const void *y);

typedef struct {
    const char *name;
    int64_t block_size;         /* elements per block */
    size_t block_bytes;         /* bytes per block */
    bool is_quantized;
    tensor_to_float_fn to_float;     /* NULL when the type cannot be read */
    tensor_from_float_fn from_float; /* NULL when sova cannot write the type */
    /* Activation conversion as ggml's CPU backend does it for this kernel set
     * (its AVX2 Q8_0/Q8_1 quantizers round differently from the reference
     * ones that from_float, like llama-quantize, follows); the vec_dot input. */
    tensor_from_float_fn from_float_act;
    tensor_type vec_dot_type;        /* activation format vec_dot wants for y */
    tensor_vec_dot_fn vec_dot;       /* best kernel for this CPU, chosen at start */
} tensor_type_traits;

/* Traits of a type; NULL when sova cannot compute with it. Thread-safe.
 *
 * Activation formats (vec_dot_type), chosen for decode speed:
 *   F32, F16, BF16            -> F32   (F16C/shift widening of x only; y stays exact)
 *   Q4_0, Q5_0, Q8_0, IQ4_NL  -> Q8_0
 *   Q4_1, Q5_1                -> Q8_1  (carries the block sum the min term needs)
 *   Q2_K..Q6_K, IQ4_XS        -> Q8_K
 * Q8_1 and Q8_K are activation formats only: they have traits (to_float,
 * from_float) but no vec_dot, and tensor_type_check refuses them as weights.
 *
 * Kernels are chosen once, at the first call: AVX-512 (F, BW, VL and VNNI,
 * with the OS saving ZMM state) when the CPU has it, else AVX2+FMA+F16C when
 * the CPU has them (CPUID, with the OS saving YMM state); NEON on aarch64,
 * where it is always present; else the portable C path. The AVX-512 set keeps
 * the AVX2 kernels where it has no wider one. The environment variable
 * SOVA_CPU, read once at that first call, caps the choice: "generic" forces
 * the portable path, "avx2" uses AVX2 instead of AVX-512; any other value
 * keeps the automatic choice. */
const tensor_type_traits *tensor_type_get(tensor_type t);

/* Kernel sets. The portable path is always available. */
typedef enum {
    TENSOR_CPU_GENERIC = 0,
    TENSOR_CPU_AVX2 = 1,
    TENSOR_CPU_NEON = 2,
    TENSOR_CPU_AVX512 = 3, /* implies AVX2: code taking AVX2 kernels may run on it */
    TENSOR_CPU_COUNT
} tensor_cpu;

/* The kernel set tensor_type_get uses. */
tensor_cpu tensor_cpu_active(void);
const char *tensor_cpu_name(tensor_cpu cpu); /* "generic", "avx2", "neon", "avx512" */
/* Traits with one specific kernel set, so tests and benchmarks can compare the
 * paths in one process; NULL when the type is unsupported or this CPU (or
 * build) lacks `cpu`. SOVA_CPU does not affect it. */
const tensor_type_traits *tensor_type_get_cpu(tensor_type t, tensor_cpu cpu);

/* SV_OK when sova can compute with `t`; otherwise SV_ERR_UNSUPPORTED with a
 * message naming the type and `what` (e.g. the tensor's name). */
sv_status tensor_type_check(tensor_type t, const char *what);

/* Bytes of a row of n elements; 0 when n is not a multiple of the block size,
 * the type id is invalid or the size overflows. */
size_t tensor_row_bytes(tensor_type t, int64_t n);

/* f16/bf16 scalar conversions (IEEE round-to-nearest-even). */
float tensor_f16_to_f32(uint16_t h);
uint16_t tensor_f32_to_f16(float f);
float tensor_bf16_to_f32(uint16_t h);
uint16_t tensor_f32_to_bf16(float f);

#endif
