/* Loading: the GGUF file's data sections become backend buffers (the mapping
 * itself when use_mmap, zero copy), and every weight a tensor placed in them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "base/checked.h"
#include "model/model.h"

/* Buffers over each split's data section: the mapped bytes themselves, or a
 * copy when the caller does not want the mapping kept in use. */
static sv_status map_weights(model *m, bool use_mmap) {
    int n = gguf_split_count(m->gguf);
    m->wbufs = sv_arena_alloc(&m->arena, (size_t)n * sizeof *m->wbufs);
    if (!m->wbufs) return sv_error(SV_ERR_NOMEM, "out of memory for weight buffers");
    const uint8_t **bases = calloc((size_t)n, sizeof *bases);
    if (!bases) return sv_error(SV_ERR_NOMEM, "out of memory for weight buffers");
    for (int64_t i = 0; i < gguf_tensor_count(m->gguf); i++) {
        const gguf_tensor_info *ti = gguf_tensor(m->gguf, i);
        if (ti->split >= 0 && ti->split < n && !bases[ti->split]) bases[ti->split] = ti->data - ti->offset;
    }
    size_t total = 0, offs[256];
    if (!use_mmap) {
        if (n > 256) {
            free(bases);
            return sv_error(SV_ERR_UNSUPPORTED, "%d split files are too many to read into memory", n);
        }
        for (int s = 0; s < n; s++) {
            offs[s] = total;
            uint64_t sz = gguf_split_file_size(m->gguf, s) - gguf_split_data_offset(m->gguf, s), al;
            if (sv_align_up_u64(sz, 64, &al) || sv_add_size(total, (size_t)al, &total)) {
                free(bases);
                return sv_error(SV_ERR_NOMEM, "weights are too large");
            }
        }
        m->wcopy = aligned_alloc(64, total ? total : 64);
        if (!m->wcopy) {
            free(bases);
            return sv_error(SV_ERR_NOMEM, "cannot allocate %zu bytes for the weights", total);
        }
    }
    sv_status st = SV_OK;
    for (int s = 0; s < n && st == SV_OK; s++) {
        size_t sz = (size_t)(gguf_split_file_size(m->gguf, s) - gguf_split_data_offset(m->gguf, s));
        if (!bases[s]) sz = 0;
        /* The mapping is read-only; weights are only ever read. */
        void *base = (void *)(uintptr_t)bases[s];
        if (!use_mmap) {
            base = (char *)m->wcopy + offs[s];
            if (sz) memcpy(base, bases[s], sz);
        }
        st = backend_cpu_buffer_from_ptr(base, sz, &m->wbufs[s]);
        if (st == SV_OK) m->n_wbufs = s + 1;
    }
    free(bases);
    return st;
}

tensor *model_tensor(model *m, bool required, int n_dims, const int64_t *ne, const char *fmt, ...) {
    char name[GGUF_MAX_DIMS * 32 + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const gguf_tensor_info *ti = gguf_find_tensor(m->gguf, name);
    if (!ti) {
        if (required) sv_error(SV_ERR_FORMAT, "missing tensor '%s'", name);
        return NULL;
    }
    int64_t want[4] = {1, 1, 1, 1};
    for (int i = 0; i < n_dims; i++) want[i] = ne[i];
    for (int i = 0; i < GGUF_MAX_DIMS; i++) {
        if (ti->ne[i] != want[i]) {
            sv_error(SV_ERR_FORMAT, "tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld, %lld, %lld]",
                     name, (long long)ti->ne[0], (long long)ti->ne[1], (long long)ti->ne[2], (long long)ti->ne[3],
                     (long long)want[0], (long long)want[1], (long long)want[2], (long long)want[3]);
            return NULL;
        }
    }
    if (tensor_type_check((tensor_type)ti->type, name) != SV_OK) return NULL;
    tensor *t = tensor_new(&m->arena, (tensor_type)ti->type, n_dims, want);
    if (!t) return NULL;
    if (tensor_nbytes(t) != ti->size) {
        sv_error(SV_ERR_FORMAT, "tensor '%s' holds %llu bytes, its shape needs %zu", name,
                 (unsigned long long)ti->size, tensor_nbytes(t));
        return NULL;
    }
    if (ti->split < 0 || ti->split >= m->n_wbufs ||
        backend_tensor_place(t, m->wbufs[ti->split], (size_t)ti->offset) != SV_OK) {
        sv_error(SV_ERR_FORMAT, "tensor '%s' lies outside its file's data", name);
        return NULL;
    }
    t->flags |= TENSOR_FLAG_WEIGHT;
    tensor_set_name(t, "%s", name);
    m->n_params += tensor_nelements(t);
    m->weight_bytes += ti->size;
    return t;
}

#define NE(...) ((const int64_t[]){__VA_ARGS__})

sv_status model_load_common(model *m, bool qkv_bias, bool qk_norm, bool post_norms) {
    const model_hparams *hp = &m->hp;
    int64_t E = hp->n_embd, V = hp->n_vocab, F = hp->n_ff;
    int64_t q_w = (int64_t)hp->n_head * hp->n_embd_head_k, k_w = (int64_t)hp->n_head_kv * hp->n_embd_head_k,
            v_w = (int64_t)hp->n_head_kv * hp->n_embd_head_v, o_w = (int64_t)hp->n_head * hp->n_embd_head_v;
    if (!(m->tok_embd = model_tensor(m, true, 2, NE(E, V), "token_embd.weight")) ||
        !(m->output_norm = model_tensor(m, true, 1, NE(E), "output_norm.weight")))
        return SV_ERR_FORMAT;
    m->output = model_tensor(m, false, 2, NE(E, V), "output.weight");
    if (!m->output) {
        if (gguf_find_tensor(m->gguf, "output.weight")) return SV_ERR_FORMAT;
        m->output = m->tok_embd; /* tied embeddings */
    }
    m->layers = sv_arena_alloc(&m->arena, (size_t)hp->n_layer * sizeof *m->layers);
    if (!m->layers) return sv_error(SV_ERR_NOMEM, "out of memory for layers");
    for (int32_t il = 0; il < hp->n_layer; il++) {
        model_layer *L = &m->layers[il];
        if (!(L->attn_norm = model_tensor(m, true, 1, NE(E), "blk.%d.attn_norm.weight", il)) ||
            !(L->wq = model_tensor(m, true, 2, NE(E, q_w), "blk.%d.attn_q.weight", il)) ||
            !(L->wk = model_tensor(m, true, 2, NE(E, k_w), "blk.%d.attn_k.weight", il)) ||
            !(L->wv = model_tensor(m, true, 2, NE(E, v_w), "blk.%d.attn_v.weight", il)) ||
            !(L->wo = model_tensor(m, true, 2, NE(o_w, E), "blk.%d.attn_output.weight", il)) ||
            !(L->ffn_norm = model_tensor(m, true, 1, NE(E), "blk.%d.ffn_norm.weight", il)) ||
            !(L->ffn_gate = model_tensor(m, true, 2, NE(E, F), "blk.%d.ffn_gate.weight", il)) ||
            !(L->ffn_up = model_tensor(m, true, 2, NE(E, F), "blk.%d.ffn_up.weight", il)) ||
            !(L->ffn_down = model_tensor(m, true, 2, NE(F, E), "blk.%d.ffn_down.weight", il)))
            return SV_ERR_FORMAT;
        if (qkv_bias && (!(L->bq = model_tensor(m, true, 1, NE(q_w), "blk.%d.attn_q.bias", il)) ||
                         !(L->bk = model_tensor(m, true, 1, NE(k_w), "blk.%d.attn_k.bias", il)) ||
                         !(L->bv = model_tensor(m, true, 1, NE(v_w), "blk.%d.attn_v.bias", il))))
            return SV_ERR_FORMAT;
        if (qk_norm &&
            (!(L->q_norm = model_tensor(m, true, 1, NE(hp->n_embd_head_k), "blk.%d.attn_q_norm.weight", il)) ||
             !(L->k_norm = model_tensor(m, true, 1, NE(hp->n_embd_head_k), "blk.%d.attn_k_norm.weight", il))))
            return SV_ERR_FORMAT;
        if (post_norms &&
            (!(L->attn_post_norm = model_tensor(m, true, 1, NE(E), "blk.%d.post_attention_norm.weight", il)) ||
             !(L->ffn_post_norm = model_tensor(m, true, 1, NE(E), "blk.%d.post_ffw_norm.weight", il))))
            return SV_ERR_FORMAT;
    }
    return SV_OK;
}

sv_status model_load(const char *path, const model_load_params *p, model **out) {
    *out = NULL;
    model *m = calloc(1, sizeof *m);
    if (!m) return sv_error(SV_ERR_NOMEM, "out of memory for the model");
    sv_arena_init(&m->arena, 1 << 16);
    gguf_open_params op = gguf_default_open_params();
    op.map_data = true;
    op.allow_splits = true;
    sv_status st = gguf_open(path, &op, &m->gguf);
    if (st == SV_OK) st = model_read_hparams(m->gguf, &m->hp);
    if (st == SV_OK) {
        const gguf_tensor_info *te = gguf_find_tensor(m->gguf, "token_embd.weight");
        if (!te) st = sv_error(SV_ERR_FORMAT, "missing tensor 'token_embd.weight'");
        else if (te->ne[1] <= 0 || te->ne[1] > INT32_MAX)
            st = sv_error(SV_ERR_FORMAT, "token_embd.weight has %lld rows", (long long)te->ne[1]);
        else m->hp.n_vocab = (int32_t)te->ne[1];
    }
    if (st == SV_OK) {
        m->def = model_arch_get(m->hp.arch);
        st = map_weights(m, !p || p->use_mmap);
    }
    if (st == SV_OK) st = m->def->load(m);
    if (st == SV_OK && m->rope_freqs) {
        const float *ff = m->rope_freqs->data;
        if (m->rope_freqs->type != GGUF_TYPE_F32) st = sv_error(SV_ERR_UNSUPPORTED, "rope_freqs.weight must be F32");
        for (int64_t i = 0; st == SV_OK && i < m->rope_freqs->ne[0]; i++)
            if (!(ff[i] > 0.0f)) st = sv_error(SV_ERR_FORMAT, "rope_freqs.weight[%lld] is not positive", (long long)i);
    }
    if (st != SV_OK) {
        sv_error_prefix(st, "loading %s: ", path);
        model_free(m);
        return st;
    }
    *out = m;
    return SV_OK;
}

void model_free(model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_wbufs; i++) backend_buffer_free(m->wbufs[i]);
    free(m->wcopy);
    gguf_free(m->gguf);
    sv_arena_free(&m->arena);
    free(m);
}
