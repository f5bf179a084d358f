/* Which nodes the CPU runs, the scratch they need, and the dispatch switch. */
#include "backend/cpu/ops.h"

static bool readable(tensor_type t) {
    const tensor_type_traits *tr = tensor_type_get(t);
    return tr && tr->to_float;
}

bool cpu_op_supported(const tensor *n) {
    switch (n->op) {
    case TENSOR_OP_NONE:
    case TENSOR_OP_VIEW:
    case TENSOR_OP_RESHAPE:
    case TENSOR_OP_PERMUTE:
    case TENSOR_OP_TRANSPOSE:
        return true;
    case TENSOR_OP_CPY:
    case TENSOR_OP_CONT: {
        const tensor *s = n->src[0];
        if (s->type != GGUF_TYPE_F32 && !readable(s->type)) return false;
        if (n->type == GGUF_TYPE_F32 || n->type == GGUF_TYPE_F16 || n->type == GGUF_TYPE_BF16) return true;
        const tensor_type_traits *tr = tensor_type_get(n->type);
        return tr && tr->from_float && s->ne[0] == n->ne[0];
    }
    case TENSOR_OP_GET_ROWS:
        return readable(n->src[0]->type);
    case TENSOR_OP_MUL_MAT: {
        const tensor_type_traits *tr = tensor_type_get(n->src[0]->type);
        return tr && tr->vec_dot && n->src[1]->type == GGUF_TYPE_F32;
    }
    case TENSOR_OP_FLASH_ATTN:
        return readable(n->src[1]->type) && n->src[2]->type == n->src[1]->type;
    case TENSOR_OP_CONCAT:
    case TENSOR_OP_ADD:
    case TENSOR_OP_MUL:
    case TENSOR_OP_SCALE:
    case TENSOR_OP_UNARY:
    case TENSOR_OP_GLU:
    case TENSOR_OP_RMS_NORM:
    case TENSOR_OP_NORM:
    case TENSOR_OP_SOFT_MAX:
    case TENSOR_OP_ROPE:
    case TENSOR_OP_ARGMAX:
    case TENSOR_OP_IM2COL:
    case TENSOR_OP_POOL_2D:
        return n->src[0]->type == GGUF_TYPE_F32;
    default:
        return false;
    }
}

size_t cpu_op_work_size(const tensor *n, int nth) {
    size_t per = 0;
    switch (n->op) {
    case TENSOR_OP_CPY:
    case TENSOR_OP_CONT: {
        int64_t m = n->src[0]->ne[0] > n->ne[0] ? n->src[0]->ne[0] : n->ne[0];
        per = 2 * (size_t)m;
        break;
    }
    case TENSOR_OP_RMS_NORM:
    case TENSOR_OP_NORM:
        per = (size_t)n->ne[0];
        break;
    case TENSOR_OP_ROPE:
        per = 2 * (size_t)n->ne[0];
        break;
    case TENSOR_OP_SOFT_MAX:
        per = 2 * (size_t)n->ne[0];
        break;
    case TENSOR_OP_FLASH_ATTN:
        return cpu_flash_attn_work_size(n, nth);
    default:
        return 0;
    }
    return per * (size_t)nth * sizeof(float);
}

void cpu_op_run(const cpu_params *p, tensor *n) {
    switch (n->op) {
    case TENSOR_OP_CPY: cpu_op_cpy(p, n); break;
    case TENSOR_OP_CONT: cpu_op_cont(p, n); break;
    case TENSOR_OP_GET_ROWS: cpu_op_get_rows(p, n); break;
    case TENSOR_OP_CONCAT: cpu_op_concat(p, n); break;
    case TENSOR_OP_ADD:
    case TENSOR_OP_MUL: cpu_op_binary(p, n); break;
    case TENSOR_OP_SCALE: cpu_op_scale(p, n); break;
    case TENSOR_OP_UNARY: cpu_op_unary(p, n); break;
    case TENSOR_OP_GLU: cpu_op_glu(p, n); break;
    case TENSOR_OP_RMS_NORM:
    case TENSOR_OP_NORM: cpu_op_norm(p, n); break;
    case TENSOR_OP_SOFT_MAX: cpu_op_soft_max(p, n); break;
    case TENSOR_OP_ROPE: cpu_op_rope(p, n); break;
    case TENSOR_OP_ARGMAX: cpu_op_argmax(p, n); break;
    case TENSOR_OP_FLASH_ATTN: cpu_op_flash_attn(p, n); break;
    case TENSOR_OP_IM2COL: cpu_op_im2col(p, n); break;
    case TENSOR_OP_POOL_2D: cpu_op_pool_2d(p, n); break;
    default: break; /* views, leaves; MUL_MAT runs in cpu_backend.c */
    }
}
