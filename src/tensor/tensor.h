/* Tensors: an element type, up to four dimensions with byte strides, and
 * either memory (a weight, an input, a planned intermediate) or the operation
 * that produces them. Views share another tensor's memory at an offset.
 *
 * Dimension 0 is the innermost (contiguous) one, as in GGUF: a weight matrix
 * of n_out rows of n_in elements has ne = {n_in, n_out, 1, 1}. nb[i] is the
 * byte distance between consecutive indices along dimension i; for block
 * quantized types nb[0] is the block's bytes and ne[0] counts elements. */
#ifndef TENSOR_TENSOR_H
#define TENSOR_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "tensor/type.h"

#define TENSOR_MAX_DIMS 4
#define TENSOR_MAX_SRC 4
#define TENSOR_MAX_PARAMS 16
#define TENSOR_NAME_MAX 48

/* Operations; the shapes they take are documented at the builders in
 * tensor/graph.h. Keep tensor_op_name's table in step (static_assert). */
typedef enum {
    TENSOR_OP_NONE = 0, /* leaf: weight, input or persistent state */
    /* views: no computation, memory of src[0] */
    TENSOR_OP_VIEW,
    TENSOR_OP_RESHAPE,
    TENSOR_OP_PERMUTE,
    TENSOR_OP_TRANSPOSE,
    /* data movement */
    TENSOR_OP_CPY,  /* src[0] converted into the memory of src[1]; result views src[1] */
    TENSOR_OP_CONT,
    TENSOR_OP_GET_ROWS,
    TENSOR_OP_CONCAT,
    /* element-wise */
    TENSOR_OP_ADD,
    TENSOR_OP_MUL,
    TENSOR_OP_SCALE,
    TENSOR_OP_UNARY,
    TENSOR_OP_GLU,
    /* row-wise */
    TENSOR_OP_RMS_NORM,
    TENSOR_OP_NORM,
    TENSOR_OP_SOFT_MAX,
    TENSOR_OP_ROPE,
    TENSOR_OP_ARGMAX,
    /* heavy */
    TENSOR_OP_MUL_MAT,
    TENSOR_OP_FLASH_ATTN,
    TENSOR_OP_IM2COL,
    TENSOR_OP_POOL_2D,
    TENSOR_OP_COUNT
} tensor_op;

typedef enum {
    TENSOR_UNARY_SILU = 0,
    TENSOR_UNARY_GELU,     /* tanh approximation */
    TENSOR_UNARY_GELU_ERF, /* exact */
    TENSOR_UNARY_COUNT
} tensor_unary_op;

enum {
    TENSOR_FLAG_INPUT = 1u << 0,  /* set by the caller after planning; kept alive from the start */
    TENSOR_FLAG_OUTPUT = 1u << 1, /* read by the caller after compute; never reused */
    TENSOR_FLAG_WEIGHT = 1u << 2, /* persistent memory owned by someone else */
    TENSOR_FLAG_PLANNED = 1u << 3, /* memory from the graph planner, replaced by the next plan */
    TENSOR_FLAG_PINNED = 1u << 4,  /* place chosen by the caller, kept by the scheduler */
    TENSOR_FLAG_COPY = 1u << 5,    /* scheduler's copy of src[0] on another backend */
};

struct backend_buffer; /* defined by src/backend/backend.h */

typedef struct tensor tensor;
struct tensor {
    tensor_type type;
    int64_t ne[TENSOR_MAX_DIMS]; /* elements per dimension, 1 for unused dimensions */
    size_t nb[TENSOR_MAX_DIMS];  /* byte strides */

    tensor_op op;
    int32_t params[TENSOR_MAX_PARAMS]; /* op parameters (ints and floats bit-cast) */
    tensor *src[TENSOR_MAX_SRC];

    tensor *view_src; /* tensor whose memory this one uses, or NULL */
    size_t view_offs; /* byte offset into view_src's memory */

    void *data;                    /* NULL until planned or assigned */
    struct backend_buffer *buffer; /* where data lives; NULL while unplanned */
    uint32_t flags;                /* TENSOR_FLAG_* */
    int32_t place;                 /* scheduler's backend index for this graph, -1 when none */

    char name[TENSOR_NAME_MAX];
};

/* Allocates a zeroed tensor of `n_dims` (1..4) dimensions from `arena`
 * (unused dimensions are 1) with contiguous strides. NULL with an error set
 * when a size is negative, ne[0] does not fit the type's blocks, the type is
 * unknown or the byte size overflows. */
tensor *tensor_new(sv_arena *arena, tensor_type type, int n_dims, const int64_t *ne);

/* Sets contiguous strides for t->type and t->ne; false on overflow or when
 * ne[0] is not a multiple of the block size. */
bool tensor_set_contiguous_strides(tensor *t);

int64_t tensor_nelements(const tensor *t);
int64_t tensor_nrows(const tensor *t); /* ne[1]*ne[2]*ne[3] */
/* Bytes from the first to one past the last element (the extent for strided views). */
size_t tensor_nbytes(const tensor *t);
size_t tensor_row_size(const tensor *t); /* bytes of ne[0] elements */
int tensor_n_dims(const tensor *t);      /* highest dimension > 1, at least 1 */

bool tensor_is_contiguous(const tensor *t);
/* Rows are contiguous (nb[0] is one element or block) though rows may be strided. */
bool tensor_rows_contiguous(const tensor *t);
bool tensor_same_shape(const tensor *a, const tensor *b);
/* True when every dimension of b divides the one of a (b broadcasts to a). */
bool tensor_can_repeat(const tensor *b, const tensor *a);

/* The tensor that owns the memory t uses (t itself unless a view). */
tensor *tensor_view_root(tensor *t);
/* True for ops whose result is a view of src[0] (or src[1] for CPY). */
bool tensor_op_is_view(tensor_op op);

/* Sets data from view_src->data + view_offs (and the buffer); false while
 * view_src has no memory yet. */
bool tensor_resolve_view(tensor *t);

/* Copies at most TENSOR_NAME_MAX-1 bytes of printf-formatted text. */
void tensor_set_name(tensor *t, const char *fmt, ...) SV_PRINTF(2, 3);
const char *tensor_op_name(tensor_op op);
const char *tensor_unary_name(tensor_unary_op op);

static inline void tensor_set_param_f32(tensor *t, int i, float v) {
    union { float f; int32_t i; } u = {.f = v};
    t->params[i] = u.i;
}
static inline float tensor_get_param_f32(const tensor *t, int i) {
    union { float f; int32_t i; } u = {.i = t->params[i]};
    return u.f;
}

#endif
