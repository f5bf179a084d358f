/* Graph pieces shared by the architectures: norms, gated FFN, attention over
 * the KV cache, embeddings and the output head. */
#include "model/model.h"

tensor *model_rms_norm(graph *g, tensor *x, tensor *w, float eps) {
    tensor *y = graph_rms_norm(g, x, eps);
    return w ? graph_mul(g, y, w) : y;
}

tensor *model_ffn(graph *g, const model_layer *L, tensor *x, tensor_unary_op act) {
    tensor *gate = graph_mul_mat(g, L->ffn_gate, x);
    tensor *up = graph_mul_mat(g, L->ffn_up, x);
    return graph_mul_mat(g, L->ffn_down, graph_glu(g, gate, up, act));
}

tensor *model_embed(model_ubatch_graph *u) {
    tensor *x = graph_get_rows(u->g, u->m->tok_embd, u->inp_tokens);
    if (u->m->hp.embd_scale != 1.0f) x = graph_scale(u->g, x, u->m->hp.embd_scale);
    return x;
}

tensor *model_rope(model_ubatch_graph *u, tensor *x, int32_t il) {
    const model_hparams *hp = &u->m->hp;
    bool swa = model_layer_is_swa(hp, il);
    if (u->m->rope_freqs)
        return graph_rope_ext(u->g, x, u->inp_pos, u->m->rope_freqs, hp->n_rot, hp->rope_mode, hp->rope_freq_base,
                              hp->rope_freq_scale);
    return graph_rope(u->g, x, u->inp_pos, hp->n_rot, hp->rope_mode, swa ? hp->rope_freq_base_swa : hp->rope_freq_base,
                      swa ? hp->rope_freq_scale_swa : hp->rope_freq_scale);
}

/* Writes cur [width, n_tokens] into the cache cells of the micro-batch, one
 * copy per run of consecutive cells. The copies join the graph now, so they
 * run before the attention that reads the cache. */
static void store_cells(model_ubatch_graph *u, tensor *cache, tensor *cur) {
    graph *g = u->g;
    if (!cur) return;
    int32_t t0 = 0;
    while (t0 < u->n_tokens) {
        int32_t t1 = t0 + 1;
        while (t1 < u->n_tokens && u->cells[t1] == u->cells[t1 - 1] + 1) t1++;
        tensor *src = graph_view_2d(g, cur, cur->ne[0], t1 - t0, cur->nb[1], (size_t)t0 * cur->nb[1]);
        tensor *dst = graph_view_2d(g, cache, cache->ne[0], t1 - t0, cache->nb[1], (size_t)u->cells[t0] * cache->nb[1]);
        tensor *cp = graph_cpy(g, src, dst);
        if (cp) graph_expand(g, cp);
        t0 = t1;
    }
}

/* [d, n_kv, heads] view of the cache (attention reads F32, F16 and Q8_0 rows). */
static tensor *cache_view(model_ubatch_graph *u, tensor *cache, int64_t d, int64_t heads) {
    return graph_view_3d(u->g, cache, d, u->n_kv, heads, cache->nb[1], tensor_row_bytes(cache->type, d), 0);
}

tensor *model_attention(model_ubatch_graph *u, int32_t il, tensor *x) {
    graph *g = u->g;
    const model_hparams *hp = &u->m->hp;
    const model_layer *L = &u->m->layers[il];
    int64_t n = u->n_tokens, hk = hp->n_embd_head_k, hv = hp->n_embd_head_v;
    tensor *q = graph_mul_mat(g, L->wq, x), *k = graph_mul_mat(g, L->wk, x), *v = graph_mul_mat(g, L->wv, x);
    if (L->bq) q = graph_add(g, q, L->bq);
    if (L->bk) k = graph_add(g, k, L->bk);
    if (L->bv) v = graph_add(g, v, L->bv);
    q = graph_reshape_3d(g, q, hk, hp->n_head, n);
    k = graph_reshape_3d(g, k, hk, hp->n_head_kv, n);
    if (L->q_norm) q = model_rms_norm(g, q, L->q_norm, hp->norm_eps);
    if (L->k_norm) k = model_rms_norm(g, k, L->k_norm, hp->norm_eps);
    q = model_rope(u, q, il);
    k = model_rope(u, k, il);
    tensor *kc = u->k_cache[il], *vc = u->v_cache[il];
    store_cells(u, kc, graph_reshape_2d(g, k, hk * hp->n_head_kv, n));
    store_cells(u, vc, v);
    graph_attn_params ap = {.scale = hp->attn_scale, .softcap = hp->attn_softcap};
    tensor *mask = model_layer_is_swa(hp, il) && u->inp_mask_swa ? u->inp_mask_swa : u->inp_mask;
    tensor *o = graph_flash_attn(g, graph_permute(g, q, 0, 2, 1, 3), cache_view(u, kc, hk, hp->n_head_kv),
                                 cache_view(u, vc, hv, hp->n_head_kv), mask, &ap);
    o = graph_reshape_2d(g, o, hv * hp->n_head, n);
    return graph_mul_mat(g, L->wo, o);
}

tensor *model_logits(model_ubatch_graph *u, tensor *x) {
    graph *g = u->g;
    const model *m = u->m;
    if (u->inp_out_ids) x = graph_get_rows(g, x, u->inp_out_ids);
    x = model_rms_norm(g, x, m->output_norm, m->hp.norm_eps);
    return graph_mul_mat(g, m->output, x);
}
