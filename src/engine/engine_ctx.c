/* sova_ctx: KV cache, compute buffers sized once at creation, and decoding
 * in micro-batches through the scheduler. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "base/checked.h"
#include "engine/engine.h"

sova_ctx_params sova_ctx_default_params(void) {
    return (sova_ctx_params){.n_ctx = 4096,
                             .n_batch = 2048,
                             .n_ubatch = 512,
                             .n_seq_max = 1,
                             .n_threads = 0,
                             .type_k = SOVA_KV_F16,
                             .type_v = SOVA_KV_F16};
}

/* Cells attention looks at: the used ones, rounded up so that consecutive
 * decode steps mostly share one shape. */
static int32_t kv_window(const sova_ctx *c) {
    uint32_t used = model_kv_cells_used_end(c->kv->cells), n = c->kv->n_cells;
    uint32_t padded = (used + 31u) & ~31u;
    return (int32_t)(padded < n ? padded : n);
}

/* Inputs the graph does not read (the positions when rope angles come from
 * the host, a mask no layer uses) get no memory and are skipped. */
static sv_status set_input(tensor *t, const void *data, size_t bytes) {
    return t && t->buffer ? backend_tensor_set(t, data, 0, bytes) : SV_OK;
}

static tensor *input(graph *g, tensor_type t, int64_t ne0, int64_t ne1) {
    return graph_set_input(ne1 > 1 ? graph_new_tensor_2d(g, t, ne0, ne1) : graph_new_tensor_1d(g, t, ne0));
}

/* The graph of one micro-batch (n_tok tokens into cells, n_out logits rows),
 * or of a K shift (shift: n_tok = n_cells). */
static sv_status build(sova_ctx *c, int32_t n_tok, int32_t n_kv, int32_t n_out, bool shift, graph **gout,
                       model_ubatch_graph *u, tensor **logits) {
    const model *m = c->model->m;
    const model_hparams *hp = &m->hp;
    sv_arena_reset(&c->garena);
    graph *g = NULL;
    int32_t runs = 1;
    for (int32_t t = 1; !shift && t < n_tok; t++) runs += c->cells[t] != c->cells[t - 1] + 1;
    int max_t = c->max_tensors + 8 * hp->n_layer * runs;
    sv_status st = graph_new(&c->garena, max_t, &g);
    if (st != SV_OK) return st;
    *u = (model_ubatch_graph){.g = g, .m = m, .n_tokens = n_tok, .n_kv = n_kv, .n_outputs = n_out,
                              .cells = c->cells, .k_cache = c->kv->k, .v_cache = c->kv->v};
    u->inp_pos = input(g, GGUF_TYPE_I32, n_tok, 1);
    *logits = NULL;
    if (shift) {
        st = model_kv_build_shift(u, c->kv);
    } else {
        u->inp_tokens = input(g, GGUF_TYPE_I32, n_tok, 1);
        u->inp_mask = input(g, GGUF_TYPE_F32, n_kv, n_tok);
        if (hp->n_swa > 0) u->inp_mask_swa = input(g, GGUF_TYPE_F32, n_kv, n_tok);
        if (n_out < n_tok) u->inp_out_ids = input(g, GGUF_TYPE_I32, n_out, 1);
        *logits = m->def->build(u);
        st = *logits ? graph_expand(g, *logits) : g->status;
        if (st == SV_OK && !*logits) st = sv_error(SV_ERR_BACKEND, "graph building failed");
    }
    if (st != SV_OK) return sv_error_prefix(st, "building the %s graph: ", model_arch_name(hp->arch));
    *gout = g;
    return SV_OK;
}

/* Re-rotates cached keys whose positions moved (sova_kv_seq_add). */
static sv_status apply_shift(sova_ctx *c) {
    uint32_t n = c->kv->n_cells;
    const int32_t *sh = model_kv_cells_shifts(c->kv->cells);
    memcpy(c->pos, sh, n * sizeof *c->pos);
    graph *g;
    model_ubatch_graph u;
    tensor *unused;
    sv_status st = build(c, (int32_t)n, 0, 0, true, &g, &u, &unused);
    if (st == SV_OK) st = backend_sched_alloc(c->sched, g);
    if (st == SV_OK) st = set_input(u.inp_pos, c->pos, n * sizeof *c->pos);
    if (st == SV_OK) st = backend_sched_compute(c->sched, g);
    if (st == SV_OK) model_kv_cells_shift_done(c->kv->cells);
    return st;
}

static void *alloc_array(size_t n, size_t size, sv_status *st) {
    size_t bytes;
    if (*st != SV_OK) return NULL;
    if (sv_mul_size(n ? n : 1, size, &bytes)) {
        *st = sv_error(SV_ERR_LIMIT, "context buffers are too large");
        return NULL;
    }
    void *p = calloc(1, bytes);
    if (!p) *st = sv_error(SV_ERR_NOMEM, "out of memory for %zu bytes of context buffers", bytes);
    return p;
}

static sv_status grow_logits(sova_ctx *c, size_t rows) {
    if (rows <= c->logits_rows) return SV_OK;
    size_t nv = (size_t)c->model->m->hp.n_vocab, bytes;
    if (sv_mul_size(rows, nv * sizeof(float), &bytes)) return sv_error(SV_ERR_LIMIT, "too many logits rows");
    float *p = realloc(c->logits, bytes);
    if (!p) return sv_error(SV_ERR_NOMEM, "out of memory for %zu rows of logits", rows);
    c->logits = p;
    c->logits_rows = rows;
    return SV_OK;
}

sova_status sova_ctx_new(sova_model *sm, const sova_ctx_params *params, sova_ctx **out) {
    if (!out || !sm) return (sova_status)sv_error(SV_ERR_INVALID_ARG, "sova_ctx_new: NULL argument");
    *out = NULL;
    const model *m = sm->m;
    const model_hparams *hp = &m->hp;
    sova_ctx_params p = params ? *params : sova_ctx_default_params();
    if (p.n_ctx == 0) p.n_ctx = (uint32_t)hp->n_ctx_train;
    if (p.n_batch == 0 || p.n_ubatch == 0 || p.n_seq_max == 0 || p.n_seq_max > SOVA_MAX_SEQ)
        return (sova_status)sv_error(SV_ERR_INVALID_ARG,
                                     "n_batch (%u) and n_ubatch (%u) must be > 0, n_seq_max (%u) in 1..%d", p.n_batch,
                                     p.n_ubatch, p.n_seq_max, SOVA_MAX_SEQ);
    if (p.n_ctx > (1u << 24)) return (sova_status)sv_error(SV_ERR_LIMIT, "n_ctx %u is larger than 16M", p.n_ctx);
    if (p.n_batch > p.n_ctx) p.n_batch = p.n_ctx;
    if (p.n_ubatch > p.n_batch) p.n_ubatch = p.n_batch;
    sova_ctx *c = calloc(1, sizeof *c);
    if (!c) return (sova_status)sv_error(SV_ERR_NOMEM, "out of memory for the context");
    c->model = sm;
    c->p = p;
    c->max_tensors = 96 * hp->n_layer + 256;
    sv_arena_init(&c->garena, (size_t)c->max_tensors * (sizeof(tensor) + 64) * 2 + (1u << 16));
    sv_status st = backend_cpu_new(p.n_threads, &c->cpu);
    if (st == SV_OK) backend_cpu_set_ggml_order(c->cpu, p.ggml_order);
    if (st == SV_OK) st = backend_sched_new(&c->cpu, 1, &c->sched);
    if (st == SV_OK)
        st = model_kv_new(m, p.n_ctx, (tensor_type)p.type_k, (tensor_type)p.type_v, backend_get_buffer_type(c->cpu),
                          &c->kv);
    size_t nu = p.n_ubatch, nc = p.n_ctx, big = nu > nc ? nu : nc;
    c->tok = alloc_array(nu, sizeof *c->tok, &st);
    c->pos = alloc_array(big, sizeof *c->pos, &st);
    c->cells = alloc_array(nu, sizeof *c->cells, &st);
    c->kvt = alloc_array(nu, sizeof *c->kvt, &st);
    c->out_ids = alloc_array(nu, sizeof *c->out_ids, &st);
    c->out_row = alloc_array(p.n_batch, sizeof *c->out_row, &st);
    size_t mask_n = 0;
    if (st == SV_OK && sv_mul_size(nc, nu, &mask_n)) st = sv_error(SV_ERR_LIMIT, "n_ctx x n_ubatch is too large");
    c->mask = alloc_array(mask_n, sizeof(float), &st);
    if (hp->n_swa > 0) c->mask_swa = alloc_array(mask_n, sizeof(float), &st);
    if (st == SV_OK) st = grow_logits(c, p.n_seq_max);

    /* Worst cases: a full micro-batch over the whole cache, and a K shift. */
    for (uint32_t t = 0; st == SV_OK && t < p.n_ubatch; t++) c->cells[t] = t;
    graph *g;
    model_ubatch_graph u;
    tensor *logits;
    if (st == SV_OK) {
        int32_t n_out = (int32_t)(p.n_seq_max < p.n_ubatch ? p.n_seq_max : p.n_ubatch);
        st = build(c, (int32_t)p.n_ubatch, (int32_t)p.n_ctx, n_out, false, &g, &u, &logits);
        if (st == SV_OK) st = backend_sched_reserve(c->sched, g);
        if (st == SV_OK) st = backend_cpu_reserve(c->cpu, g->nodes, g->n_nodes);
    }
    if (st == SV_OK) {
        st = build(c, (int32_t)p.n_ctx, 0, 0, true, &g, &u, &logits);
        if (st == SV_OK) st = backend_sched_reserve(c->sched, g);
        if (st == SV_OK) st = backend_cpu_reserve(c->cpu, g->nodes, g->n_nodes);
    }
    if (st != SV_OK) {
        sova_ctx_free(c);
        return (sova_status)st;
    }
    *out = c;
    return SOVA_OK;
}

void sova_ctx_free(sova_ctx *c) {
    if (!c) return;
    backend_sched_free(c->sched);
    model_kv_free(c->kv);
    backend_free(c->cpu);
    sv_arena_free(&c->garena);
    free(c->tok);
    free(c->pos);
    free(c->cells);
    free(c->kvt);
    free(c->out_ids);
    free(c->out_row);
    free(c->mask);
    free(c->mask_swa);
    free(c->logits);
    free(c);
}

uint32_t sova_ctx_n_ctx(const sova_ctx *c) { return c->p.n_ctx; }
uint32_t sova_ctx_n_batch(const sova_ctx *c) { return c->p.n_batch; }

void sova_ctx_memory(const sova_ctx *c, sova_memory *out) {
    out->weights = c->model->m->weight_bytes;
    out->kv = model_kv_bytes(c->kv);
    out->compute = backend_sched_buffer_size(c->sched, 0) + backend_cpu_work_size(c->cpu);
    out->logits = (uint64_t)c->logits_rows * (uint64_t)c->model->m->hp.n_vocab * sizeof(float);
}

static sv_status check_batch(const sova_ctx *c, const sova_batch *b) {
    if (!b || b->n_tokens <= 0 || !b->token || !b->pos || !b->n_seq_id || !b->seq_id)
        return sv_error(SV_ERR_INVALID_ARG, "sova_decode: empty or incomplete batch");
    if ((uint32_t)b->n_tokens > c->p.n_batch)
        return sv_error(SV_ERR_LIMIT, "batch of %d tokens exceeds n_batch %u", b->n_tokens, c->p.n_batch);
    int32_t nv = c->model->m->hp.n_vocab;
    for (int32_t i = 0; i < b->n_tokens; i++) {
        if (b->token[i] < 0 || b->token[i] >= nv)
            return sv_error(SV_ERR_INVALID_ARG, "batch token %d: id %d is outside the vocabulary (%d)", i,
                            b->token[i], nv);
        if (b->pos[i] < 0) return sv_error(SV_ERR_INVALID_ARG, "batch token %d: negative position", i);
        if (b->n_seq_id[i] <= 0 || !b->seq_id[i])
            return sv_error(SV_ERR_INVALID_ARG, "batch token %d belongs to no sequence", i);
        for (int32_t s = 0; s < b->n_seq_id[i]; s++)
            if (b->seq_id[i][s] < 0 || (uint32_t)b->seq_id[i][s] >= c->p.n_seq_max)
                return sv_error(SV_ERR_INVALID_ARG, "batch token %d: sequence %d is outside 0..%u", i,
                                b->seq_id[i][s], c->p.n_seq_max - 1);
    }
    return SV_OK;
}

/* Forgets the cells a failed micro-batch took. */
static void undo_ubatch(sova_ctx *c, int32_t n) {
    for (int32_t t = 0; t < n; t++)
        for (int s = 0; s < MODEL_KV_MAX_SEQ; s++)
            if (c->kvt[t].seqs >> s & 1)
                model_kv_cells_seq_rm(c->kv->cells, s, c->kvt[t].pos, c->kvt[t].pos + 1);
}

static sv_status run_ubatch(sova_ctx *c, const sova_batch *b, int32_t i0, int32_t n, int32_t *row) {
    const model *m = c->model->m;
    const model_hparams *hp = &m->hp;
    bool contiguous;
    for (int32_t t = 0; t < n; t++) {
        uint64_t seqs = 0;
        for (int32_t s = 0; s < b->n_seq_id[i0 + t]; s++) seqs |= 1ull << b->seq_id[i0 + t][s];
        c->kvt[t] = (model_kv_token){.pos = b->pos[i0 + t], .seqs = seqs};
        c->tok[t] = b->token[i0 + t];
        c->pos[t] = b->pos[i0 + t];
    }
    sv_status st = model_kv_cells_find_slot(c->kv->cells, (uint32_t)n, c->cells, &contiguous);
    if (st != SV_OK)
        return sv_error_prefix(st, "context full (n_ctx %u, %u cells used): ", c->kv->n_cells,
                               model_kv_cells_used(c->kv->cells));
    st = model_kv_cells_apply(c->kv->cells, c->kvt, (uint32_t)n, c->cells);
    if (st != SV_OK) return st;
    int32_t n_out = 0;
    for (int32_t t = 0; t < n; t++)
        if (b->logits && b->logits[i0 + t]) c->out_ids[n_out++] = t;
    bool keep = n_out > 0;
    if (!keep) c->out_ids[n_out++] = n - 1; /* the graph always ends in logits; this row is dropped */
    int32_t n_kv = kv_window(c);
    graph *g;
    model_ubatch_graph u;
    tensor *logits;
    st = build(c, n, n_kv, n_out, false, &g, &u, &logits);
    if (st == SV_OK) st = backend_sched_alloc(c->sched, g);
    if (st == SV_OK) st = set_input(u.inp_tokens, c->tok, (size_t)n * sizeof *c->tok);
    if (st == SV_OK) st = set_input(u.inp_pos, c->pos, (size_t)n * sizeof *c->pos);
    size_t mask_bytes = (size_t)n * (size_t)n_kv * sizeof(float);
    if (st == SV_OK) st = model_kv_cells_mask(c->kv->cells, c->kvt, (uint32_t)n, 0, (uint32_t)n_kv, NULL, c->mask, (size_t)n_kv);
    if (st == SV_OK) st = set_input(u.inp_mask, c->mask, mask_bytes);
    if (st == SV_OK && u.inp_mask_swa) {
        model_kv_mask_opts o = {.window = hp->n_swa};
        st = model_kv_cells_mask(c->kv->cells, c->kvt, (uint32_t)n, 0, (uint32_t)n_kv, &o, c->mask_swa, (size_t)n_kv);
        if (st == SV_OK) st = set_input(u.inp_mask_swa, c->mask_swa, mask_bytes);
    }
    if (st == SV_OK && u.inp_out_ids)
        st = set_input(u.inp_out_ids, c->out_ids, (size_t)n_out * sizeof *c->out_ids);
    if (st == SV_OK) st = backend_sched_compute(c->sched, g);
    if (st == SV_OK && keep) {
        size_t nv = (size_t)hp->n_vocab;
        float *dst = c->logits + (size_t)*row * nv;
        st = backend_tensor_get(logits, dst, 0, (size_t)n_out * nv * sizeof(float));
        float cap = hp->final_softcap;
        for (size_t i = 0; st == SV_OK && cap > 0.0f && i < (size_t)n_out * nv; i++)
            dst[i] = cap * tanhf(dst[i] / cap);
        for (int32_t k = 0; k < n_out; k++) c->out_row[i0 + c->out_ids[k]] = (*row)++;
    }
    if (st != SV_OK) undo_ubatch(c, n);
    return st;
}

sova_status sova_decode(sova_ctx *c, const sova_batch *b) {
    sv_status st = check_batch(c, b);
    if (st != SV_OK) return (sova_status)st;
    size_t n_out = 0;
    for (int32_t i = 0; i < b->n_tokens; i++) {
        c->out_row[i] = -1;
        n_out += b->logits && b->logits[i];
    }
    c->n_outputs = 0;
    c->n_batch_last = b->n_tokens;
    st = grow_logits(c, n_out);
    if (st == SV_OK && model_kv_cells_has_shift(c->kv->cells)) st = apply_shift(c);
    int32_t row = 0;
    for (int32_t i0 = 0; st == SV_OK && i0 < b->n_tokens; i0 += (int32_t)c->p.n_ubatch) {
        int32_t n = b->n_tokens - i0;
        if (n > (int32_t)c->p.n_ubatch) n = (int32_t)c->p.n_ubatch;
        st = run_ubatch(c, b, i0, n, &row);
    }
    c->n_outputs = st == SV_OK ? row : 0;
    if (st != SV_OK) c->n_batch_last = 0;
    return (sova_status)st;
}

const float *sova_get_logits(sova_ctx *c) { return c->n_outputs > 0 ? c->logits : NULL; }

const float *sova_get_logits_ith(sova_ctx *c, int32_t i) {
    if (i < 0) i += c->n_batch_last;
    if (i < 0 || i >= c->n_batch_last || c->out_row[i] < 0) {
        sv_error(SV_ERR_INVALID_ARG, "no logits for batch token %d of the last decode", i);
        return NULL;
    }
    return c->logits + (size_t)c->out_row[i] * (size_t)c->model->m->hp.n_vocab;
}

void sova_kv_clear(sova_ctx *c) { model_kv_cells_clear(c->kv->cells); }

sova_status sova_kv_seq_rm(sova_ctx *c, int32_t seq, int32_t p0, int32_t p1) {
    return (sova_status)model_kv_cells_seq_rm(c->kv->cells, seq, p0, p1);
}

sova_status sova_kv_seq_cp(sova_ctx *c, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    return (sova_status)model_kv_cells_seq_cp(c->kv->cells, src, dst, p0, p1);
}

sova_status sova_kv_seq_keep(sova_ctx *c, int32_t seq) { return (sova_status)model_kv_cells_seq_keep(c->kv->cells, seq); }

sova_status sova_kv_seq_add(sova_ctx *c, int32_t seq, int32_t p0, int32_t p1, int32_t delta) {
    return (sova_status)model_kv_cells_seq_add(c->kv->cells, seq, p0, p1, delta);
}

int32_t sova_kv_seq_pos_max(const sova_ctx *c, int32_t seq) { return model_kv_cells_seq_pos_max(c->kv->cells, seq); }

uint32_t sova_kv_used(const sova_ctx *c) { return model_kv_cells_used(c->kv->cells); }
