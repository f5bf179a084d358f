/* KV cache tensors and their re-rotation after position shifts. */
#include <stdlib.h>

#include "base/checked.h"
#include "model/model_kv.h"

sv_status model_kv_new(const model *m, uint32_t n_cells, tensor_type type_k, tensor_type type_v,
                       backend_buffer_type *bt, model_kv **out) {
    *out = NULL;
    const model_hparams *hp = &m->hp;
    tensor_type types[2] = {type_k, type_v};
    int64_t widths[2] = {(int64_t)hp->n_head_kv * hp->n_embd_head_k, (int64_t)hp->n_head_kv * hp->n_embd_head_v};
    int64_t heads[2] = {hp->n_embd_head_k, hp->n_embd_head_v};
    for (int i = 0; i < 2; i++) {
        if (types[i] != GGUF_TYPE_F32 && types[i] != GGUF_TYPE_F16 && types[i] != GGUF_TYPE_Q8_0)
            return sv_error(SV_ERR_INVALID_ARG, "KV cache type %s is not one of f32, f16, q8_0",
                            gguf_type_name(types[i]));
        if (tensor_row_bytes(types[i], heads[i]) == 0)
            return sv_error(SV_ERR_INVALID_ARG, "KV cache type %s does not fit heads of %lld values",
                            gguf_type_name(types[i]), (long long)heads[i]);
    }
    if (n_cells == 0) return sv_error(SV_ERR_INVALID_ARG, "KV cache needs at least one cell");
    model_kv *kv = calloc(1, sizeof *kv);
    if (!kv) return sv_error(SV_ERR_NOMEM, "out of memory for the KV cache");
    sv_arena_init(&kv->arena, 1 << 14);
    kv->n_cells = n_cells;
    kv->type_k = type_k;
    kv->type_v = type_v;
    sv_status st = model_kv_cells_new(n_cells, &kv->cells);
    size_t nl = (size_t)hp->n_layer;
    tensor **all = NULL;
    if (st == SV_OK) {
        kv->k = sv_arena_alloc(&kv->arena, nl * sizeof *kv->k);
        kv->v = sv_arena_alloc(&kv->arena, nl * sizeof *kv->v);
        all = malloc(2 * nl * sizeof *all);
        if (!kv->k || !kv->v || !all) st = sv_error(SV_ERR_NOMEM, "out of memory for the KV cache");
    }
    for (size_t il = 0; st == SV_OK && il < nl; il++) {
        for (int i = 0; i < 2 && st == SV_OK; i++) {
            int64_t ne[2] = {widths[i], n_cells};
            tensor *t = tensor_new(&kv->arena, types[i], 2, ne);
            if (!t) {
                st = sv_error_prefix(SV_ERR_LIMIT, "KV cache of %u cells: ", n_cells);
                break;
            }
            tensor_set_name(t, "cache_%c_l%zu", i ? 'v' : 'k', il);
            (i ? kv->v : kv->k)[il] = t;
            all[2 * il + (size_t)i] = t;
        }
    }
    if (st == SV_OK) st = backend_alloc_tensors(bt, all, (int)(2 * nl), &kv->buf);
    if (st == SV_OK) st = backend_buffer_clear(kv->buf, 0);
    free(all);
    if (st != SV_OK) {
        model_kv_free(kv);
        return st;
    }
    *out = kv;
    return SV_OK;
}

void model_kv_free(model_kv *kv) {
    if (!kv) return;
    backend_buffer_free(kv->buf);
    model_kv_cells_free(kv->cells);
    sv_arena_free(&kv->arena);
    free(kv);
}

size_t model_kv_bytes(const model_kv *kv) { return kv->buf ? backend_buffer_size(kv->buf) : 0; }

sv_status model_kv_build_shift(model_ubatch_graph *u, model_kv *kv) {
    graph *g = u->g;
    const model_hparams *hp = &u->m->hp;
    int64_t hk = hp->n_embd_head_k, nh = hp->n_head_kv, n = kv->n_cells;
    for (int32_t il = 0; il < hp->n_layer; il++) {
        tensor *kc = kv->k[il];
        size_t head_bytes = tensor_row_bytes(kc->type, hk);
        tensor *k3 = graph_view_3d(g, kc, hk, nh, n, head_bytes, kc->nb[1], 0);
        tensor *f = graph_cpy(g, k3, graph_new_tensor_3d(g, GGUF_TYPE_F32, hk, nh, n));
        tensor *r = model_rope(u, f, il);
        tensor *back = graph_cpy(g, r, k3);
        if (back) graph_expand(g, back);
    }
    return g->status;
}
