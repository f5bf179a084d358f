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
    tensor_type vec_dot_type;        /* activation format vec_dot wants for y */
    tensor_vec_dot_fn vec_dot;       /* best kernel for this CPU, chosen at start */
} tensor_type_traits;

/* Traits of a type; NULL when sova cannot compute with it. Thread-safe. */
const tensor_type_traits *tensor_type_get(tensor_type t);

/* SV_OK when sova can compute with `t`; otherwise SV_ERR_UNSUPPORTED with a
 * message naming the type and `what` (e.g. the tensor's name). */
sv_status tensor_type_check(tensor_type t, const char *what);

/* Bytes of a row of n elements; 0 when n is not a multiple of the block size. */
size_t tensor_row_bytes(tensor_type t, int64_t n);

/* f16/bf16 scalar conversions (IEEE round-to-nearest-even). */
float tensor_f16_to_f32(uint16_t h);
uint16_t tensor_f32_to_f16(float f);
float tensor_bf16_to_f32(uint16_t h);
uint16_t tensor_f32_to_bf16(float f);

#endif
