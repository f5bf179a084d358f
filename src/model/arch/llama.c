/* Llama 2, 3 and 3.1 (rope_freqs frequency factors), Mistral: pre-norm
 * blocks with RMSNorm, grouped-query attention and a SwiGLU FFN. */
#include "model/arch/arch.h"

static sv_status load(model *m) {
    sv_status st = model_load_common(m, false, false, false);
    if (st != SV_OK) return st;
    int64_t half = m->hp.n_rot / 2;
    m->rope_freqs = model_tensor(m, false, 1, &half, "rope_freqs.weight");
    if (!m->rope_freqs && gguf_find_tensor(m->gguf, "rope_freqs.weight")) return SV_ERR_FORMAT;
    if (m->rope_freqs && m->hp.n_rot != m->hp.n_embd_head_k)
        return sv_error(SV_ERR_UNSUPPORTED, "rope frequency factors with partial rotation (%d of %d)", m->hp.n_rot,
                        m->hp.n_embd_head_k);
    return SV_OK;
}

const model_arch_def model_arch_llama = {"llama", load, model_arch_build_prenorm};
