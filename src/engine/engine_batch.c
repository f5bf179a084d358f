/* sova_batch: token arrays for sova_decode. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

sova_status sova_batch_init(int32_t n_tokens, int32_t n_seq, sova_batch *b) {
    if (!b) return (sova_status)sv_error(SV_ERR_INVALID_ARG, "sova_batch_init: b is NULL");
    memset(b, 0, sizeof *b);
    if (n_tokens <= 0 || n_seq <= 0 || n_seq > SOVA_MAX_SEQ || n_tokens > (1 << 24))
        return (sova_status)sv_error(SV_ERR_INVALID_ARG, "sova_batch_init: %d tokens of %d sequences", n_tokens,
                                     n_seq);
    size_t n = (size_t)n_tokens;
    b->token = malloc(n * sizeof *b->token);
    b->pos = malloc(n * sizeof *b->pos);
    b->n_seq_id = malloc(n * sizeof *b->n_seq_id);
    b->seq_id = calloc(n, sizeof *b->seq_id);
    b->logits = malloc(n * sizeof *b->logits);
    int32_t *ids = malloc(n * (size_t)n_seq * sizeof *ids);
    if (!b->token || !b->pos || !b->n_seq_id || !b->seq_id || !b->logits || !ids) {
        free(ids);
        sova_batch_free(b);
        return (sova_status)sv_error(SV_ERR_NOMEM, "out of memory for a batch of %d tokens", n_tokens);
    }
    for (size_t i = 0; i < n; i++) b->seq_id[i] = ids + i * (size_t)n_seq;
    b->cap = n_tokens;
    b->seq_cap = n_seq;
    return SOVA_OK;
}

void sova_batch_free(sova_batch *b) {
    if (!b) return;
    if (b->seq_id) free(b->seq_id[0]);
    free(b->token);
    free(b->pos);
    free(b->n_seq_id);
    free(b->seq_id);
    free(b->logits);
    memset(b, 0, sizeof *b);
}

void sova_batch_clear(sova_batch *b) { b->n_tokens = 0; }

sova_status sova_batch_add(sova_batch *b, sova_token t, int32_t pos, const int32_t *seq_ids, int32_t n_seq,
                           bool logits) {
    if (b->n_tokens >= b->cap) return (sova_status)sv_error(SV_ERR_LIMIT, "batch is full (%d tokens)", b->cap);
    if (n_seq <= 0 || n_seq > b->seq_cap || !seq_ids)
        return (sova_status)sv_error(SV_ERR_INVALID_ARG, "token in %d sequences, batch allows 1..%d", n_seq,
                                     b->seq_cap);
    int32_t i = b->n_tokens++;
    b->token[i] = t;
    b->pos[i] = pos;
    b->n_seq_id[i] = n_seq;
    memcpy(b->seq_id[i], seq_ids, (size_t)n_seq * sizeof *seq_ids);
    b->logits[i] = logits ? 1 : 0;
    return SOVA_OK;
}
