/* Internals of the tensor type traits: ggml-compatible block layouts and the
 * kernels each path (portable C, AVX2, NEON) provides. Halves are stored as raw
 * IEEE binary16 bits (uint16_t), little-endian like every GGUF file. */
#ifndef TENSOR_QUANT_IMPL_H
#define TENSOR_QUANT_IMPL_H

#include <assert.h>
#include <stdint.h>

#include "tensor/type.h"

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK4_NL 32
#define QK_K 256
#define K_SCALE_SIZE 12

/* Element j of a block sits in the low nibble of qs[j] for j < 16 and in the
 * high nibble of qs[j - 16] otherwise (the same split for the 5th bits in qh). */
typedef struct { uint16_t d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1;
typedef struct { uint16_t d; int8_t qs[QK8_0]; } block_q8_0;
/* s = d * sum(qs), the term Q4_1/Q5_1 multiply by their minimum. */
typedef struct { uint16_t d, s; int8_t qs[QK8_1]; } block_q8_1;
typedef struct { uint16_t d; uint8_t qs[QK4_NL / 2]; } block_iq4_nl;

/* K-quants: 256 values per super-block, split in sub-blocks with their own
 * (6- or 4-bit) scales relative to the super-block's f16 scale(s). */
typedef struct {
    uint8_t scales[QK_K / 16]; /* low nibble scale, high nibble min, per 16 values */
    uint8_t qs[QK_K / 4];      /* 2-bit quants */
    uint16_t d, dmin;
} block_q2_K;
typedef struct {
    uint8_t hmask[QK_K / 8]; /* high bit of each 3-bit quant */
    uint8_t qs[QK_K / 4];    /* low 2 bits */
    uint8_t scales[12];      /* 16 6-bit scales, packed */
    uint16_t d;
} block_q3_K;
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE]; /* 8 6-bit scales + 8 6-bit mins, packed */
    uint8_t qs[QK_K / 2];
} block_q4_K;
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
} block_q5_K;
typedef struct {
    uint8_t ql[QK_K / 2];     /* low 4 bits */
    uint8_t qh[QK_K / 4];     /* high 2 bits */
    int8_t scales[QK_K / 16]; /* 8-bit scales per 16 values */
    uint16_t d;
} block_q6_K;
/* Activation format of the K-quant dots: bsums[i] = sum of qs[16i..16i+16). */
typedef struct {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
} block_q8_K;
typedef struct {
    uint16_t d;
    uint16_t scales_h;          /* 2 high bits of each of the 8 6-bit scales */
    uint8_t scales_l[QK_K / 64]; /* 4 low bits, two per byte */
    uint8_t qs[QK_K / 2];
} block_iq4_xs;

static_assert(sizeof(block_q4_0) == 18, "q4_0 layout");
static_assert(sizeof(block_q4_1) == 20, "q4_1 layout");
static_assert(sizeof(block_q5_0) == 22, "q5_0 layout");
static_assert(sizeof(block_q5_1) == 24, "q5_1 layout");
static_assert(sizeof(block_q8_0) == 34, "q8_0 layout");
static_assert(sizeof(block_q8_1) == 36, "q8_1 layout");
static_assert(sizeof(block_iq4_nl) == 18, "iq4_nl layout");
static_assert(sizeof(block_q2_K) == 84, "q2_K layout");
static_assert(sizeof(block_q3_K) == 110, "q3_K layout");
static_assert(sizeof(block_q4_K) == 144, "q4_K layout");
static_assert(sizeof(block_q5_K) == 176, "q5_K layout");
static_assert(sizeof(block_q6_K) == 210, "q6_K layout");
static_assert(sizeof(block_q8_K) == 292, "q8_K layout");
static_assert(sizeof(block_iq4_xs) == 136, "iq4_xs layout");

/* The 16 IQ4_NL / IQ4_XS code points (non-linear, denser near zero). */
extern const int8_t tensor__iq4nl_values[16];

/* f16 -> f32 by table for the portable kernels; filled before any traits
 * are handed out, so every kernel reached through them may use it. */
extern float tensor__f16_table[65536];
#define F16(h) tensor__f16_table[(uint16_t)(h)]

/* Kernels: tensor__<op>_<type>[_<path>]. Every path provides the same
 * signature as the traits slots. */
#define TENSOR__DECL_GENERIC(T)                                             \
    void tensor__to_float_##T(const void *src, float *dst, int64_t n);     \
    void tensor__from_float_##T(const float *src, void *dst, int64_t n);   \
    void tensor__vec_dot_##T(int64_t n, float *s, const void *x, const void *y);

TENSOR__DECL_GENERIC(f32)
TENSOR__DECL_GENERIC(f16)
TENSOR__DECL_GENERIC(bf16)
TENSOR__DECL_GENERIC(q4_0)
TENSOR__DECL_GENERIC(q4_1)
TENSOR__DECL_GENERIC(q5_0)
TENSOR__DECL_GENERIC(q5_1)
TENSOR__DECL_GENERIC(q8_0)
TENSOR__DECL_GENERIC(q2_K)
TENSOR__DECL_GENERIC(q3_K)
TENSOR__DECL_GENERIC(q4_K)
TENSOR__DECL_GENERIC(q5_K)
TENSOR__DECL_GENERIC(q6_K)
void tensor__to_float_q8_1(const void *src, float *dst, int64_t n);
void tensor__from_float_q8_1(const float *src, void *dst, int64_t n);
void tensor__to_float_q8_K(const void *src, float *dst, int64_t n);
void tensor__from_float_q8_K(const float *src, void *dst, int64_t n);
void tensor__to_float_iq4_nl(const void *src, float *dst, int64_t n);
void tensor__vec_dot_iq4_nl(int64_t n, float *s, const void *x, const void *y);
void tensor__to_float_iq4_xs(const void *src, float *dst, int64_t n);
void tensor__vec_dot_iq4_xs(int64_t n, float *s, const void *x, const void *y);

#if defined(__x86_64__) || defined(__i386__)
#define TENSOR_HAVE_X86 1
void tensor__to_float_f16_avx2(const void *src, float *dst, int64_t n);
void tensor__from_float_f16_avx2(const float *src, void *dst, int64_t n);
void tensor__vec_dot_f32_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_f16_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_bf16_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__to_float_bf16_avx2(const void *src, float *dst, int64_t n);
void tensor__vec_dot_q4_0_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q4_1_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q5_0_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q5_1_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q8_0_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_iq4_nl_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q2_K_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q3_K_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q4_K_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q5_K_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q6_K_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_iq4_xs_avx2(int64_t n, float *s, const void *x, const void *y);
void tensor__from_float_q8_0_avx2(const float *src, void *dst, int64_t n);
void tensor__from_float_q8_1_avx2(const float *src, void *dst, int64_t n);
/* ggml's AVX2 activation quantizers: id = 127 / amax, ties to even. */
void tensor__quantize_act_q8_0_avx2(const float *src, void *dst, int64_t n);
void tensor__quantize_act_q8_1_avx2(const float *src, void *dst, int64_t n);
void tensor__from_float_q8_K_avx2(const float *src, void *dst, int64_t n);
void tensor__to_float_q4_0_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_q8_0_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_q4_K_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_q4_1_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_q5_0_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_q5_1_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_iq4_nl_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_iq4_xs_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_q2_K_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_q3_K_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_q5_K_avx2(const void *src, float *dst, int64_t n);
void tensor__to_float_q6_K_avx2(const void *src, float *dst, int64_t n);
void tensor__vec_dot_f32_avx512(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_f16_avx512(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_bf16_avx512(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q8_0_avx512(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q4_K_avx512(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q6_K_avx512(int64_t n, float *s, const void *x, const void *y);
#endif

#if defined(__aarch64__)
#define TENSOR_HAVE_NEON 1
void tensor__vec_dot_f32_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_f16_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__to_float_f16_neon(const void *src, float *dst, int64_t n);
void tensor__vec_dot_q4_0_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_bf16_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q4_1_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q5_0_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q5_1_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_iq4_nl_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q2_K_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q3_K_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q5_K_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_iq4_xs_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q8_0_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q4_K_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__vec_dot_q6_K_neon(int64_t n, float *s, const void *x, const void *y);
void tensor__from_float_q8_0_neon(const float *src, void *dst, int64_t n);
void tensor__from_float_q8_1_neon(const float *src, void *dst, int64_t n);
void tensor__from_float_q8_K_neon(const float *src, void *dst, int64_t n);
void tensor__to_float_q4_0_neon(const void *src, float *dst, int64_t n);
void tensor__to_float_q8_0_neon(const void *src, float *dst, int64_t n);
void tensor__to_float_q4_K_neon(const void *src, float *dst, int64_t n);
void tensor__to_float_q6_K_neon(const void *src, float *dst, int64_t n);
#endif

#endif
