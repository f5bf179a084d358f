#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/checked.h"
#include "tensor/graph_impl.h"

tensor *graph__fail(graph *g, sv_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sv_verror(st, fmt, ap);
    va_end(ap);
    if (g->status == SV_OK) g->status = st;
    return NULL;
}

const char *graph__shape(const tensor *t) {
    static _Thread_local char buf[4][96];
    static _Thread_local int k;
    char *b = buf[k++ & 3];
    snprintf(b, sizeof buf[0], "%s [%lld, %lld, %lld, %lld]", gguf_type_name(t->type), (long long)t->ne[0],
             (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3]);
    return b;
}

sv_status graph_new(sv_arena *arena, int max_tensors, graph **out) {
    *out = NULL;
    if (max_tensors <= 0 || max_tensors > (1 << 24))
        return sv_error(SV_ERR_INVALID_ARG, "graph size %d out of range", max_tensors);
    graph *g = sv_arena_alloc(arena, sizeof *g);
    size_t cap = 16;
    while (cap < (size_t)max_tensors * 4) cap *= 2;
    if (g) {
        g->nodes = sv_arena_alloc(arena, sizeof(tensor *) * (size_t)max_tensors);
        g->leafs = sv_arena_alloc(arena, sizeof(tensor *) * (size_t)max_tensors);
        g->seen = sv_arena_alloc(arena, sizeof(tensor *) * cap);
    }
    if (!g || !g->nodes || !g->leafs || !g->seen) return sv_error(SV_ERR_NOMEM, "out of memory for a graph");
    static _Atomic uint64_t next_id = 1;
    g->id = next_id++;
    g->arena = arena;
    g->max_tensors = max_tensors;
    g->seen_cap = cap;
    *out = g;
    return SV_OK;
}

/* True when t was already in the set; inserts it otherwise. */
static bool seen_insert(graph *g, const tensor *t) {
    size_t h = ((uintptr_t)t >> 4) * 0x9E3779B97F4A7C15ull;
    size_t mask = g->seen_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (g->seen[i] == t) return true;
        if (!g->seen[i]) {
            g->seen[i] = t;
            return false;
        }
    }
}

static sv_status visit(graph *g, tensor *t) {
    if (seen_insert(g, t)) return SV_OK;
    for (int i = 0; i < TENSOR_MAX_SRC; i++)
        if (t->src[i]) {
            sv_status st = visit(g, t->src[i]);
            if (st != SV_OK) return st;
        }
    if (t->view_src) {
        sv_status st = visit(g, t->view_src);
        if (st != SV_OK) return st;
    }
    if (t->op == TENSOR_OP_NONE) {
        if (g->n_leafs >= g->max_tensors)
            return g->status = sv_error(SV_ERR_LIMIT, "graph holds more than %d leaves", g->max_tensors);
        g->leafs[g->n_leafs++] = t;
    } else {
        if (g->n_nodes >= g->max_tensors)
            return g->status = sv_error(SV_ERR_LIMIT, "graph holds more than %d nodes", g->max_tensors);
        g->nodes[g->n_nodes++] = t;
    }
    return SV_OK;
}

sv_status graph_expand(graph *g, tensor *t) {
    if (g->status != SV_OK) return g->status;
    if (!t) return g->status = sv_error(SV_ERR_INVALID_ARG, "graph_expand of no tensor");
    t->flags |= TENSOR_FLAG_OUTPUT;
    if (g->n_nodes + g->n_leafs >= (int)(g->seen_cap / 2))
        return g->status = sv_error(SV_ERR_LIMIT, "graph holds more than %d tensors", g->max_tensors);
    return visit(g, t);
}

tensor *graph_new_tensor(graph *g, tensor_type type, int n_dims, const int64_t *ne) {
    if (g->status != SV_OK) return NULL;
    tensor *t = tensor_new(g->arena, type, n_dims, ne);
    if (!t && g->status == SV_OK) g->status = SV_ERR_INVALID_ARG;
    return t;
}

tensor *graph_new_tensor_1d(graph *g, tensor_type type, int64_t ne0) {
    return graph_new_tensor(g, type, 1, &ne0);
}

tensor *graph_new_tensor_2d(graph *g, tensor_type type, int64_t ne0, int64_t ne1) {
    int64_t ne[2] = {ne0, ne1};
    return graph_new_tensor(g, type, 2, ne);
}

tensor *graph_new_tensor_3d(graph *g, tensor_type type, int64_t ne0, int64_t ne1, int64_t ne2) {
    int64_t ne[3] = {ne0, ne1, ne2};
    return graph_new_tensor(g, type, 3, ne);
}

tensor *graph_new_tensor_4d(graph *g, tensor_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3) {
    int64_t ne[4] = {ne0, ne1, ne2, ne3};
    return graph_new_tensor(g, type, 4, ne);
}

tensor *graph_set_input(tensor *t) {
    if (t) t->flags |= TENSOR_FLAG_INPUT;
    return t;
}

tensor *graph__new_op(graph *g, tensor_op op, tensor_type type, const int64_t ne[4]) {
    tensor *t = graph_new_tensor(g, type, 4, ne);
    if (t) t->op = op;
    return t;
}

tensor *graph__new_view(graph *g, tensor_op op, tensor *a, const int64_t ne[4], const size_t nb[4],
                        size_t offset) {
    if (g->status != SV_OK || !a) return NULL;
    tensor tmp = {.type = a->type};
    memcpy(tmp.ne, ne, sizeof tmp.ne);
    memcpy(tmp.nb, nb, sizeof tmp.nb);
    size_t extent = tensor_nbytes(&tmp), end;
    if (sv_add_size(extent, offset, &end) || (extent > 0 && end > tensor_nbytes(a)))
        return graph__fail(g, SV_ERR_INVALID_ARG, "%s view of %s ends past it (offset %zu, extent %zu)",
                           tensor_op_name(op), graph__shape(a), offset, extent);
    tensor *t = graph_new_tensor(g, a->type, 4, ne);
    if (!t) return NULL;
    memcpy(t->nb, nb, sizeof t->nb);
    t->op = op;
    t->src[0] = a;
    t->view_src = a;
    t->view_offs = offset;
    /* A view of something with memory (a weight, the KV cache) has memory now. */
    if (a->data) tensor_resolve_view(t);
    return t;
}

static tensor *reshape(graph *g, tensor *a, int n_dims, const int64_t *ne) {
    if (g->status != SV_OK || !a) return NULL;
    int64_t n = 1;
    int64_t full[4] = {1, 1, 1, 1};
    for (int i = 0; i < n_dims; i++) {
        full[i] = ne[i];
        if (ne[i] < 0 || sv_mul_i64(n, ne[i], &n)) n = -1;
    }
    if (!tensor_is_contiguous(a) || n != tensor_nelements(a))
        return graph__fail(g, SV_ERR_INVALID_ARG, "cannot reshape %s%s to %lld elements", graph__shape(a),
                           tensor_is_contiguous(a) ? "" : " (not contiguous)", (long long)n);
    tensor tmp = {.type = a->type, .ne = {full[0], full[1], full[2], full[3]}};
    if (!tensor_set_contiguous_strides(&tmp))
        return graph__fail(g, SV_ERR_INVALID_ARG, "cannot reshape %s: rows not whole blocks", graph__shape(a));
    return graph__new_view(g, TENSOR_OP_RESHAPE, a, tmp.ne, tmp.nb, 0);
}

tensor *graph_reshape_2d(graph *g, tensor *a, int64_t ne0, int64_t ne1) {
    int64_t ne[2] = {ne0, ne1};
    return reshape(g, a, 2, ne);
}

tensor *graph_reshape_3d(graph *g, tensor *a, int64_t ne0, int64_t ne1, int64_t ne2) {
    int64_t ne[3] = {ne0, ne1, ne2};
    return reshape(g, a, 3, ne);
}

tensor *graph_reshape_4d(graph *g, tensor *a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3) {
    int64_t ne[4] = {ne0, ne1, ne2, ne3};
    return reshape(g, a, 4, ne);
}

tensor *graph_view_4d(graph *g, tensor *a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, size_t nb1,
                      size_t nb2, size_t nb3, size_t offset) {
    if (g->status != SV_OK || !a) return NULL;
    int64_t ne[4] = {ne0, ne1, ne2, ne3};
    size_t nb[4] = {a->nb[0], nb1, nb2, nb3};
    int64_t bs = gguf_type_block_size(a->type);
    if (ne0 % bs != 0)
        return graph__fail(g, SV_ERR_INVALID_ARG, "view of %s: %lld elements are not whole blocks",
                           graph__shape(a), (long long)ne0);
    return graph__new_view(g, TENSOR_OP_VIEW, a, ne, nb, offset);
}

tensor *graph_view_1d(graph *g, tensor *a, int64_t ne0, size_t offset) {
    if (!a) return NULL;
    size_t rb = tensor_row_bytes(a->type, ne0);
    return graph_view_4d(g, a, ne0, 1, 1, 1, rb, rb, rb, offset);
}

tensor *graph_view_2d(graph *g, tensor *a, int64_t ne0, int64_t ne1, size_t nb1, size_t offset) {
    return graph_view_4d(g, a, ne0, ne1, 1, 1, nb1, nb1 * (size_t)ne1, nb1 * (size_t)ne1, offset);
}

tensor *graph_view_3d(graph *g, tensor *a, int64_t ne0, int64_t ne1, int64_t ne2, size_t nb1, size_t nb2,
                      size_t offset) {
    return graph_view_4d(g, a, ne0, ne1, ne2, 1, nb1, nb2, nb2 * (size_t)ne2, offset);
}

tensor *graph_permute(graph *g, tensor *a, int axis0, int axis1, int axis2, int axis3) {
    if (g->status != SV_OK || !a) return NULL;
    int ax[4] = {axis0, axis1, axis2, axis3};
    int used = 0;
    for (int i = 0; i < 4; i++) {
        if (ax[i] < 0 || ax[i] > 3 || (used & (1 << ax[i])))
            return graph__fail(g, SV_ERR_INVALID_ARG, "permute(%d, %d, %d, %d) is not a permutation", axis0,
                               axis1, axis2, axis3);
        used |= 1 << ax[i];
    }
    if (gguf_type_block_size(a->type) != 1 && ax[0] != 0)
        return graph__fail(g, SV_ERR_INVALID_ARG, "permute of block type %s must keep dimension 0",
                           graph__shape(a));
    int64_t ne[4];
    size_t nb[4];
    for (int i = 0; i < 4; i++) {
        ne[ax[i]] = a->ne[i];
        nb[ax[i]] = a->nb[i];
    }
    tensor *t = graph__new_view(g, TENSOR_OP_PERMUTE, a, ne, nb, 0);
    if (t)
        for (int i = 0; i < 4; i++) t->params[i] = ax[i];
    return t;
}

tensor *graph_transpose(graph *g, tensor *a) {
    tensor *t = graph_permute(g, a, 1, 0, 2, 3);
    if (t) t->op = TENSOR_OP_TRANSPOSE;
    return t;
}

static void print_tensor(FILE *f, char kind, int i, const tensor *t) {
    fprintf(f, "%c%-4d %-10s %s", kind, i, tensor_op_name(t->op), graph__shape(t));
    if (!tensor_is_contiguous(t))
        fprintf(f, " nb=[%zu, %zu, %zu, %zu]", t->nb[0], t->nb[1], t->nb[2], t->nb[3]);
    if (t->flags & TENSOR_FLAG_INPUT) fputs(" input", f);
    if (t->flags & TENSOR_FLAG_OUTPUT) fputs(" output", f);
    if (t->flags & TENSOR_FLAG_WEIGHT) fputs(" weight", f);
    if (t->place >= 0) fprintf(f, " @%d", (int)t->place);
    fprintf(f, " '%s'\n", t->name);
}

void graph_print(const graph *g, FILE *f) {
    for (int i = 0; i < g->n_leafs; i++) print_tensor(f, 'L', i, g->leafs[i]);
    for (int i = 0; i < g->n_nodes; i++) print_tensor(f, 'N', i, g->nodes[i]);
}
