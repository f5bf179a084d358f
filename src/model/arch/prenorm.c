/* The pre-norm decoder stack Llama, Qwen 2 and Qwen 3 share. */
#include "model/arch/arch.h"

tensor *model_arch_build_prenorm(model_ubatch_graph *u) {
    graph *g = u->g;
    const model *m = u->m;
    const model_hparams *hp = &m->hp;
    tensor *x = model_embed(u);
    for (int32_t il = 0; il < hp->n_layer; il++) {
        const model_layer *L = &m->layers[il];
        tensor *cur = model_attention(u, il, model_rms_norm(g, x, L->attn_norm, hp->norm_eps));
        x = graph_add(g, x, cur);
        cur = model_ffn(g, L, model_rms_norm(g, x, L->ffn_norm, hp->norm_eps), TENSOR_UNARY_SILU);
        x = graph_add(g, x, cur);
    }
    return model_logits(u, x);
}
