/* Internals of the CPU backend: one kernel per op, each run by every thread
 * of the pool (ith of nth) on its share of the rows. */
#ifndef BACKEND_CPU_OPS_H
#define BACKEND_CPU_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/tensor.h"

typedef struct {
    int ith, nth;
    void *work;       /* shared scratch of cpu_op_work_size bytes, 64-byte aligned */
    size_t work_size;
} cpu_params;

/* Rows [*r0, *r1) of n for thread ith of nth. */
static inline void cpu_split_rows(int64_t n, int ith, int nth, int64_t *r0, int64_t *r1) {
    int64_t per = (n + nth - 1) / nth;
    *r0 = per * ith < n ? per * ith : n;
    *r1 = *r0 + per < n ? *r0 + per : n;
}

/* Row r (of ne1*ne2*ne3) of t. */
static inline char *cpu_row(const tensor *t, int64_t r) {
    int64_t i1 = r % t->ne[1], i2 = (r / t->ne[1]) % t->ne[2], i3 = r / (t->ne[1] * t->ne[2]);
    return (char *)t->data + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

/* Row of t (ne[0] values, any layout along dimension 0) as f32 / from f32. */
void cpu_load_row(const tensor *t, const char *row, float *out);
void cpu_store_row(const tensor *t, char *row, const float *in);

/* Whether the CPU kernels handle this node (types, layouts). */
bool cpu_op_supported(const tensor *node);
/* Scratch bytes node needs with nth threads (MUL_MAT not included). */
size_t cpu_op_work_size(const tensor *node, int nth);
/* Runs one node (not MUL_MAT, which has two passes: see cpu_backend.c). */
void cpu_op_run(const cpu_params *p, tensor *node);

/* Kernel families, one file each. */
void cpu_op_cpy(const cpu_params *p, tensor *dst);
void cpu_op_cont(const cpu_params *p, tensor *dst);
void cpu_op_get_rows(const cpu_params *p, tensor *dst);
void cpu_op_concat(const cpu_params *p, tensor *dst);
void cpu_op_binary(const cpu_params *p, tensor *dst);
void cpu_op_scale(const cpu_params *p, tensor *dst);
void cpu_op_unary(const cpu_params *p, tensor *dst);
void cpu_op_glu(const cpu_params *p, tensor *dst);
void cpu_op_argmax(const cpu_params *p, tensor *dst);
void cpu_op_norm(const cpu_params *p, tensor *dst); /* RMS_NORM and NORM */
void cpu_op_soft_max(const cpu_params *p, tensor *dst);
void cpu_op_rope(const cpu_params *p, tensor *dst);
void cpu_op_flash_attn(const cpu_params *p, tensor *dst);
size_t cpu_flash_attn_work_size(const tensor *dst, int nth);
void cpu_op_im2col(const cpu_params *p, tensor *dst);
void cpu_op_pool_2d(const cpu_params *p, tensor *dst);

/* Row helpers with a portable and (where it pays) an AVX2 version, picked
 * from tensor_cpu_active() (SOVA_CPU=generic forces the portable ones).
 * dot, dot_f16, exp_sum and glu's SiLU follow the float order of ggml's AVX2
 * kernels in both versions (see vec.c), so both give llama.cpp's bits. */
typedef struct {
    float (*dot)(const float *x, const float *y, int64_t n); /* ggml_vec_dot_f32 order */
    float (*sum_sq)(const float *x, int64_t n);
    void (*scale)(float *y, const float *x, float s, int64_t n);
    void (*axpy)(float *y, const float *x, float a, int64_t n); /* y = fma(a, x, y) */
    float (*max)(const float *x, int64_t n);
    /* y = exp(x - m); returns the sum, ggml_vec_soft_max_f32's order and exp */
    double (*exp_sum)(float *y, const float *x, float m, int64_t n);
    void (*f16_to_f32)(float *y, const uint16_t *x, int64_t n);
    float (*dot_f16)(const float *x, const uint16_t *y, int64_t n); /* as dot */
    /* y = act(a) * b (b NULL: act(a)) for act SILU or GELU (tanh form). */
    void (*glu)(float *y, const float *a, const float *b, tensor_unary_op act, int64_t n);
    /* Attention scores: out[g * os + j] = dot(q + g * qs, k_j) (dot's order)
     * for the nq heads and each j < n with vis[j] > -inf, 0 for the others;
     * k_j F32, or F16 when f16 (converted through tmp [d]), rows rb apart. */
    void (*attn_scores)(const float *q, size_t qs, int nq, const char *k, size_t rb, bool f16, int64_t d,
                        const float *vis, int64_t n, float *tmp, float *out, size_t os);
    /* Attention output in lanes: for each j < n with vis[j] > -inf and head
     * g < nq, acc[(g * lanes + j % lanes) * w + i] = fma(p[g * ps + j],
     * v_j[c0 + i], acc[...]) for i < w; v rows F32 or F16 (f16), rb apart. */
    void (*attn_accumulate)(float *acc, int lanes, int64_t w, int nq, const float *p, size_t ps, const char *v,
                            size_t rb, bool f16, int64_t c0, const float *vis, int64_t n);
} cpu_vec_fns;

/* ggml's exp of its vector kernels, one lane (bit-exact with the AVX2 one). */
float cpu_expf_ggml(float x);

const cpu_vec_fns *cpu_vec(void);
const cpu_vec_fns *cpu_vec_generic(void);
/* NULL when the build is not x86-64; callable only when the type traits
 * report the AVX2 kernel set usable (tensor_type_get_cpu(.., TENSOR_CPU_AVX2)). */
const cpu_vec_fns *cpu_vec_avx2(void);

#endif
