/* The KV cache of a context: per layer one K and one V tensor with a row per
 * cell (F16 by default, F32 or Q8_0 on request), all in one backend buffer
 * allocated at creation, and the cell map (model/kv_cells.h) saying which
 * position and sequences each row holds. */
#ifndef MODEL_MODEL_KV_H
#define MODEL_MODEL_KV_H

#include "model/kv_cells.h"
#include "model/model.h"

typedef struct {
    model_kv_cells *cells;
    uint32_t n_cells;
    tensor_type type_k, type_v;
    tensor **k;          /* [n_layer] each [n_head_kv * head_k, n_cells] */
    tensor **v;          /* [n_layer] each [n_head_kv * head_v, n_cells] */
    backend_buffer *buf; /* holds every k and v */
    sv_arena arena;
} model_kv;

/* F32, F16 or Q8_0 (the head widths must then be multiples of 32). OUT: *out. */
sv_status model_kv_new(const model *m, uint32_t n_cells, tensor_type type_k, tensor_type type_v,
                       backend_buffer_type *bt, model_kv **out);
void model_kv_free(model_kv *kv);
size_t model_kv_bytes(const model_kv *kv);

/* Adds to g, for every layer, the re-rotation of the cached keys by the
 * cells' pending shifts (u->inp_pos holds them: I32 [n_cells]); u->n_tokens
 * must be n_cells. */
sv_status model_kv_build_shift(model_ubatch_graph *u, model_kv *kv);

#endif
