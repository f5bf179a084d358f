/* Internals of the public API objects (include/sova.h). */
#ifndef ENGINE_ENGINE_H
#define ENGINE_ENGINE_H

#include "backend/backend.h"
#include "backend/sched.h"
#include "model/model.h"
#include "model/model_kv.h"
#include "sova.h"
#include "text/tok.h"

struct sova_model {
    model *m;
    tok_vocab *vocab;
};

struct sova_ctx {
    sova_model *model;
    sova_ctx_params p;
    backend *cpu;
    backend_sched *sched;
    model_kv *kv;
    sv_arena garena;     /* the graph of the current micro-batch */
    int max_tensors;     /* graph capacity for one micro-batch */
    /* host staging of one micro-batch's inputs */
    int32_t *tok;        /* [n_ubatch] */
    int32_t *pos;        /* [max(n_ubatch, n_ctx)] (positions, or shifts for a K shift) */
    uint32_t *cells;     /* [n_ubatch] */
    model_kv_token *kvt; /* [n_ubatch] */
    float *mask;         /* [n_ctx * n_ubatch] */
    float *mask_swa;     /* [n_ctx * n_ubatch] or NULL */
    int32_t *out_ids;    /* [n_ubatch] */
    /* outputs of the last decode */
    float *logits;       /* [logits_rows][n_vocab] */
    size_t logits_rows;  /* capacity */
    int32_t n_outputs;
    int32_t *out_row;    /* [n_batch] row of batch token i, -1 when not flagged */
    int32_t n_batch_last;
};

#endif
