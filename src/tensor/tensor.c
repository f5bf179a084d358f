#include "tensor/tensor.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/checked.h"

static const char *const op_names[] = {
    "NONE", "VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE", "CPY", "CONT", "GET_ROWS", "CONCAT",
    "ADD", "MUL", "SCALE", "UNARY", "GLU", "RMS_NORM", "NORM", "SOFT_MAX", "ROPE", "ARGMAX",
    "MUL_MAT", "FLASH_ATTN", "IM2COL", "POOL_2D",
};
static_assert(sizeof op_names / sizeof op_names[0] == TENSOR_OP_COUNT, "op_names out of step with tensor_op");

static const char *const unary_names[] = {"SILU", "GELU", "GELU_ERF"};
static_assert(sizeof unary_names / sizeof unary_names[0] == TENSOR_UNARY_COUNT, "unary_names out of step");

const char *tensor_op_name(tensor_op op) {
    return (unsigned)op < TENSOR_OP_COUNT ? op_names[op] : "?";
}

const char *tensor_unary_name(tensor_unary_op op) {
    return (unsigned)op < TENSOR_UNARY_COUNT ? unary_names[op] : "?";
}

bool tensor_set_contiguous_strides(tensor *t) {
    int64_t bs = gguf_type_block_size(t->type);
    size_t bb = gguf_type_block_bytes(t->type);
    if (bs <= 0 || bb == 0 || t->ne[0] % bs != 0) return false;
    t->nb[0] = bb;
    size_t stride;
    if (sv_mul_size(bb, (size_t)(t->ne[0] / bs), &stride)) return false;
    t->nb[1] = stride;
    for (int i = 2; i < TENSOR_MAX_DIMS; i++) {
        if (sv_mul_size(t->nb[i - 1], (size_t)t->ne[i - 1], &stride)) return false;
        t->nb[i] = stride;
    }
    size_t total;
    return !sv_mul_size(t->nb[3], (size_t)t->ne[3], &total);
}

tensor *tensor_new(sv_arena *arena, tensor_type type, int n_dims, const int64_t *ne) {
    if (n_dims < 1 || n_dims > TENSOR_MAX_DIMS) {
        sv_error(SV_ERR_INVALID_ARG, "tensor with %d dimensions", n_dims);
        return NULL;
    }
    if (!gguf_type_valid((uint32_t)type)) {
        sv_error(SV_ERR_UNSUPPORTED, "tensor of unknown type id %d", (int)type);
        return NULL;
    }
    tensor *t = sv_arena_alloc(arena, sizeof *t);
    if (!t) {
        sv_error(SV_ERR_NOMEM, "out of memory for a tensor");
        return NULL;
    }
    t->type = type;
    t->place = -1;
    for (int i = 0; i < TENSOR_MAX_DIMS; i++) {
        t->ne[i] = i < n_dims ? ne[i] : 1;
        if (t->ne[i] < 0) {
            sv_error(SV_ERR_INVALID_ARG, "tensor dimension %d is negative (%lld)", i, (long long)t->ne[i]);
            return NULL;
        }
    }
    if (!tensor_set_contiguous_strides(t)) {
        sv_error(SV_ERR_INVALID_ARG, "tensor of %s [%lld, %lld, %lld, %lld]: row not whole blocks or too large",
                 gguf_type_name(type), (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                 (long long)t->ne[3]);
        return NULL;
    }
    return t;
}

int64_t tensor_nelements(const tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

int64_t tensor_nrows(const tensor *t) {
    return t->ne[1] * t->ne[2] * t->ne[3];
}

size_t tensor_row_size(const tensor *t) {
    return tensor_row_bytes(t->type, t->ne[0]);
}

size_t tensor_nbytes(const tensor *t) {
    for (int i = 0; i < TENSOR_MAX_DIMS; i++)
        if (t->ne[i] <= 0) return 0;
    int64_t bs = gguf_type_block_size(t->type);
    if (bs <= 0) return 0;
    /* Extent: the last block's offset plus its size (strides may be permuted). */
    size_t last = (size_t)(t->ne[0] / bs - 1) * t->nb[0];
    for (int i = 1; i < TENSOR_MAX_DIMS; i++) last += (size_t)(t->ne[i] - 1) * t->nb[i];
    return last + gguf_type_block_bytes(t->type);
}

int tensor_n_dims(const tensor *t) {
    for (int i = TENSOR_MAX_DIMS - 1; i >= 1; i--)
        if (t->ne[i] > 1) return i + 1;
    return 1;
}

bool tensor_rows_contiguous(const tensor *t) {
    return t->nb[0] == gguf_type_block_bytes(t->type);
}

bool tensor_is_contiguous(const tensor *t) {
    if (!tensor_rows_contiguous(t)) return false;
    size_t next = tensor_row_bytes(t->type, t->ne[0]);
    for (int i = 1; i < TENSOR_MAX_DIMS; i++) {
        if (t->ne[i] != 1 && t->nb[i] != next) return false;
        next *= (size_t)t->ne[i];
    }
    return true;
}

bool tensor_same_shape(const tensor *a, const tensor *b) {
    for (int i = 0; i < TENSOR_MAX_DIMS; i++)
        if (a->ne[i] != b->ne[i]) return false;
    return true;
}

bool tensor_can_repeat(const tensor *b, const tensor *a) {
    for (int i = 0; i < TENSOR_MAX_DIMS; i++)
        if (b->ne[i] == 0 || a->ne[i] % b->ne[i] != 0) return false;
    return true;
}

tensor *tensor_view_root(tensor *t) {
    while (t->view_src) t = t->view_src;
    return t;
}

bool tensor_op_is_view(tensor_op op) {
    return op == TENSOR_OP_VIEW || op == TENSOR_OP_RESHAPE || op == TENSOR_OP_PERMUTE ||
           op == TENSOR_OP_TRANSPOSE || op == TENSOR_OP_CPY;
}

bool tensor_resolve_view(tensor *t) {
    if (!t->view_src) return t->data != NULL;
    if (!t->view_src->data && !tensor_resolve_view(t->view_src)) return false;
    t->data = (char *)t->view_src->data + t->view_offs;
    t->buffer = t->view_src->buffer;
    return true;
}

void tensor_set_name(tensor *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
}
