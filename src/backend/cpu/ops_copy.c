/* Data movement kernels: CPY/CONT (with type conversion), GET_ROWS, CONCAT. */
#include <string.h>

#include "backend/cpu/ops.h"

void cpu_load_row(const tensor *t, const char *row, float *out) {
    int64_t n = t->ne[0];
    size_t s = t->nb[0];
    switch (t->type) {
    case GGUF_TYPE_F32:
        if (s == sizeof(float)) memcpy(out, row, (size_t)n * sizeof(float));
        else
            for (int64_t i = 0; i < n; i++) memcpy(&out[i], row + (size_t)i * s, sizeof(float));
        break;
    case GGUF_TYPE_F16:
        if (s == 2) cpu_vec()->f16_to_f32(out, (const uint16_t *)(const void *)row, n);
        else
            for (int64_t i = 0; i < n; i++) {
                uint16_t h;
                memcpy(&h, row + (size_t)i * s, 2);
                out[i] = tensor_f16_to_f32(h);
            }
        break;
    case GGUF_TYPE_BF16:
        if (s == 2) tensor_type_get(t->type)->to_float(row, out, n);
        else
            for (int64_t i = 0; i < n; i++) {
                uint16_t h;
                memcpy(&h, row + (size_t)i * s, 2);
                out[i] = tensor_bf16_to_f32(h);
            }
        break;
    default:
        /* Block types keep dimension 0 contiguous (graph builders check). */
        tensor_type_get(t->type)->to_float(row, out, n);
        break;
    }
}

void cpu_store_row(const tensor *t, char *row, const float *in) {
    int64_t n = t->ne[0];
    size_t s = t->nb[0];
    switch (t->type) {
    case GGUF_TYPE_F32:
        if (s == sizeof(float)) memcpy(row, in, (size_t)n * sizeof(float));
        else
            for (int64_t i = 0; i < n; i++) memcpy(row + (size_t)i * s, &in[i], sizeof(float));
        break;
    case GGUF_TYPE_F16:
    case GGUF_TYPE_BF16:
        /* contiguous rows through the type's (SIMD) converter: KV cache writes */
        if (s == 2) {
            tensor_type_get(t->type)->from_float(in, row, n);
            break;
        }
        for (int64_t i = 0; i < n; i++) {
            uint16_t h = t->type == GGUF_TYPE_F16 ? tensor_f32_to_f16(in[i]) : tensor_f32_to_bf16(in[i]);
            memcpy(row + (size_t)i * s, &h, 2);
        }
        break;
    default:
        tensor_type_get(t->type)->from_float(in, row, n);
        break;
    }
}

static void unravel(const tensor *t, int64_t k, int64_t idx[4]) {
    for (int d = 0; d < 4; d++) {
        idx[d] = k % t->ne[d];
        k /= t->ne[d];
    }
}

static size_t elem_offset(const tensor *t, const int64_t idx[4]) {
    return (size_t)idx[0] * t->nb[0] + (size_t)idx[1] * t->nb[1] + (size_t)idx[2] * t->nb[2] +
           (size_t)idx[3] * t->nb[3];
}

static float load_elem(const tensor *t, const char *p) {
    uint16_t h;
    float f;
    switch (t->type) {
    case GGUF_TYPE_F16: memcpy(&h, p, 2); return tensor_f16_to_f32(h);
    case GGUF_TYPE_BF16: memcpy(&h, p, 2); return tensor_bf16_to_f32(h);
    default: memcpy(&f, p, 4); return f;
    }
}

static void store_elem(const tensor *t, char *p, float v) {
    uint16_t h;
    switch (t->type) {
    case GGUF_TYPE_F16: h = tensor_f32_to_f16(v); memcpy(p, &h, 2); break;
    case GGUF_TYPE_BF16: h = tensor_f32_to_bf16(v); memcpy(p, &h, 2); break;
    default: memcpy(p, &v, 4); break;
    }
}

/* src into dst (same element count); work holds 2 rows of floats per thread. */
static void copy(const cpu_params *p, const tensor *src, tensor *dst) {
    float *buf = (float *)p->work + (size_t)p->ith * 2 * (size_t)(src->ne[0] > dst->ne[0] ? src->ne[0] : dst->ne[0]);
    if (src->ne[0] == dst->ne[0]) {
        /* Row to row in row-major order; rows of a and b may differ in shape above dimension 0. */
        int64_t r0, r1;
        cpu_split_rows(tensor_nrows(src), p->ith, p->nth, &r0, &r1);
        bool same_f32 = src->type == GGUF_TYPE_F32 && dst->type == GGUF_TYPE_F32;
        for (int64_t r = r0; r < r1; r++) {
            const char *sr = cpu_row(src, r);
            char *dr = cpu_row(dst, r);
            if (same_f32 && src->nb[0] == 4 && dst->nb[0] == 4) {
                memcpy(dr, sr, (size_t)src->ne[0] * 4);
            } else if (src->type == dst->type && tensor_rows_contiguous(src) && tensor_rows_contiguous(dst)) {
                memcpy(dr, sr, tensor_row_bytes(src->type, src->ne[0]));
            } else {
                cpu_load_row(src, sr, buf);
                cpu_store_row(dst, dr, buf);
            }
        }
        return;
    }
    /* Different row lengths: element by element (only float types get here). */
    int64_t n = tensor_nelements(src), k0, k1;
    cpu_split_rows(n, p->ith, p->nth, &k0, &k1);
    int64_t is[4], id[4];
    for (int64_t k = k0; k < k1; k++) {
        unravel(src, k, is);
        unravel(dst, k, id);
        store_elem(dst, (char *)dst->data + elem_offset(dst, id),
                   load_elem(src, (const char *)src->data + elem_offset(src, is)));
    }
}

void cpu_op_cpy(const cpu_params *p, tensor *dst) {
    copy(p, dst->src[0], dst);
}

void cpu_op_cont(const cpu_params *p, tensor *dst) {
    copy(p, dst->src[0], dst);
}

void cpu_op_get_rows(const cpu_params *p, tensor *dst) {
    const tensor *w = dst->src[0], *ids = dst->src[1];
    int64_t r0, r1;
    cpu_split_rows(ids->ne[0], p->ith, p->nth, &r0, &r1);
    for (int64_t i = r0; i < r1; i++) {
        int32_t id;
        memcpy(&id, (const char *)ids->data + (size_t)i * ids->nb[0], sizeof id);
        float *out = (float *)(void *)((char *)dst->data + (size_t)i * dst->nb[1]);
        /* Ids are validated by the caller; an out-of-range one reads as zeros, not out of bounds. */
        if (id < 0 || id >= w->ne[1]) memset(out, 0, (size_t)w->ne[0] * sizeof(float));
        else cpu_load_row(w, (const char *)w->data + (size_t)id * w->nb[1], out);
    }
}

/* Whole rows: along dimension 0 a row is a's row then b's; along the others
 * each row comes from one of them. */
void cpu_op_concat(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0], *b = dst->src[1];
    int dim = dst->params[0];
    int64_t r0, r1;
    cpu_split_rows(tensor_nrows(dst), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t idx[4] = {0, r % dst->ne[1], (r / dst->ne[1]) % dst->ne[2], r / (dst->ne[1] * dst->ne[2])};
        float *out = (float *)(void *)cpu_row(dst, r);
        if (dim == 0) {
            cpu_load_row(a, (const char *)a->data + elem_offset(a, idx), out);
            cpu_load_row(b, (const char *)b->data + elem_offset(b, idx), out + a->ne[0]);
            continue;
        }
        const tensor *s = a;
        if (idx[dim] >= a->ne[dim]) {
            s = b;
            idx[dim] -= a->ne[dim];
        }
        cpu_load_row(s, (const char *)s->data + elem_offset(s, idx), out);
    }
}
