/* Per-tensor type mixes of the quantized file types users know from
 * llama.cpp's llama-quantize (Q4_K_M, Q5_K_S, ...): which tensor gets which
 * type, given the file type, the tensor's role and layer, and a few model
 * hyperparameters. The rules follow llama.cpp's documented behaviour so that
 * a file we write has the same tensor types as one llama-quantize writes from
 * the same input; only the choice of types lives here, not the quantizing. */
#ifndef TENSOR_QUANTIZE_MIX_H
#define TENSOR_QUANTIZE_MIX_H

#include <stdint.h>

#include "base/status.h"
#include "gguf/gguf.h"
#include "tensor/type.h"

/* general.file_type values (llama.cpp's llama_ftype numbering). */
typedef enum {
    TENSOR_FTYPE_ALL_F32 = 0,
    TENSOR_FTYPE_F16 = 1,
    TENSOR_FTYPE_Q4_0 = 2,
    TENSOR_FTYPE_Q4_1 = 3,
    TENSOR_FTYPE_Q8_0 = 7,
    TENSOR_FTYPE_Q5_0 = 8,
    TENSOR_FTYPE_Q5_1 = 9,
    TENSOR_FTYPE_Q2_K = 10,
    TENSOR_FTYPE_Q3_K_S = 11,
    TENSOR_FTYPE_Q3_K_M = 12,
    TENSOR_FTYPE_Q3_K_L = 13,
    TENSOR_FTYPE_Q4_K_S = 14,
    TENSOR_FTYPE_Q4_K_M = 15,
    TENSOR_FTYPE_Q5_K_S = 16,
    TENSOR_FTYPE_Q5_K_M = 17,
    TENSOR_FTYPE_Q6_K = 18,
    TENSOR_FTYPE_BF16 = 32,
} tensor_ftype;

/* Parses "Q4_K_M", "q8_0", "F16", "BF16", "F32" ...; false when unknown. */
bool tensor_ftype_from_name(const char *name, tensor_ftype *out);
const char *tensor_ftype_name(tensor_ftype ft); /* "Q4_K_M"; "?" when unknown */
/* The type most tensors get (Q4_K for Q4_K_M). */
tensor_type tensor_ftype_base_type(tensor_ftype ft);
/* Every file type this module knows, for --help texts: "Q4_0, Q4_1, ...". */
const char *tensor_ftype_list(void);

/* What the rules need to know about the model. */
typedef struct {
    char arch[64];  /* general.architecture ("falcon" has its own rules) */
    int n_layer;    /* {arch}.block_count */
    int n_head;     /* {arch}.attention.head_count (first layer's when per layer) */
    int n_head_kv;  /* {arch}.attention.head_count_kv; n_head when absent */
    int n_expert;   /* {arch}.expert_count; 0 when absent */
} tensor_mix_model;

/* Reads tensor_mix_model from a model file's keys; SV_ERR_FORMAT naming the
 * key when general.architecture or {arch}.block_count is missing. */
sv_status tensor_mix_model_from_gguf(const gguf_file *f, tensor_mix_model *out);

typedef struct {
    const char *name;
    int n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    tensor_type type; /* the tensor's type in the input */
} tensor_mix_tensor;

/* The order llama-quantize writes tensors in: tensors outside blocks first,
 * then block by block ("blk.N." ascending), by name (strcmp) within each.
 * The layer counters of the rules depend on this order. Fills perm[0..n)
 * with tensor indices. */
sv_status tensor_mix_sort(const tensor_mix_tensor *t, int64_t n, int64_t *perm);

/* Output type of every tensor, visiting them in the order perm gives (as from
 * tensor_mix_sort): out_types[perm[i]] receives tensor perm[i]'s type.
 * Tensors that are not quantized (1-D, norms, non-"weight" tensors) keep
 * their input type. Row lengths that do not fit the chosen block size fall
 * back as llama.cpp does (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K and
 * Q3_K -> Q4_0), and to F16 where no block type fits. `pure` turns the
 * mix rules off (llama-quantize --pure): every quantized tensor gets the
 * base type, fallbacks still apply. OUT: *n_fallback. */
sv_status tensor_mix_types(const tensor_mix_model *m, tensor_ftype ft, bool pure, const tensor_mix_tensor *t, int64_t n,
                           const int64_t *perm, tensor_type *out_types, int *n_fallback);

#endif
