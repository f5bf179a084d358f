/* Gemma 3 text decoder: embeddings scaled by sqrt(n_embd); sandwich norms
 * (RMSNorm before and after attention and FFN, the converter having stored
 * Gemma's (1 + w) weights as w + 1, so they multiply like any RMSNorm);
 * QK-norm; GELU-tanh gated FFN; five sliding-window layers (rope base
 * rope.freq_base_swa, default 10000) to every global one (rope.freq_base);
 * queries scaled by 1/sqrt(query_pre_attn_scalar) (model_read_hparams). */
#include "model/arch/arch.h"

static sv_status load(model *m) { return model_load_common(m, false, true, true); }

static tensor *build(model_ubatch_graph *u) {
    graph *g = u->g;
    const model *m = u->m;
    const model_hparams *hp = &m->hp;
    tensor *x = model_embed(u);
    for (int32_t il = 0; il < hp->n_layer; il++) {
        const model_layer *L = &m->layers[il];
        tensor *cur = model_attention(u, il, model_rms_norm(g, x, L->attn_norm, hp->norm_eps));
        x = graph_add(g, x, model_rms_norm(g, cur, L->attn_post_norm, hp->norm_eps));
        cur = model_ffn(g, L, model_rms_norm(g, x, L->ffn_norm, hp->norm_eps), TENSOR_UNARY_GELU);
        x = graph_add(g, x, model_rms_norm(g, cur, L->ffn_post_norm, hp->norm_eps));
    }
    return model_logits(u, x);
}

const model_arch_def model_arch_gemma3 = {"gemma3", load, build};
