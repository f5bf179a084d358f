/* The cell map of a KV cache: which position and which sequences each cell
 * holds, independent of the K/V tensors themselves. Up to 64 sequences share
 * one cache (continuous batching, prefix reuse); a cell shared by several
 * sequences holds the same token at the same position for all of them. The
 * operations follow llama.cpp's KV cache API (seq_rm, seq_cp, seq_keep,
 * seq_add, seq_div, seq_pos_min/max) so that users' code maps one to one. */
#ifndef MODEL_KV_CELLS_H
#define MODEL_KV_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

#define MODEL_KV_MAX_SEQ 64

typedef struct model_kv_cells model_kv_cells;

/* One token of a micro-batch. */
typedef struct {
    int32_t pos;   /* >= 0 */
    uint64_t seqs; /* bit s: the token belongs to sequence s; != 0 */
} model_kv_token;

/* Positions [p0, p1) of the sequences in seqs that attend to each other in
 * both directions (the tokens of one image for Gemma 3). */
typedef struct {
    int32_t p0, p1;
    uint64_t seqs;
} model_kv_span;

typedef struct {
    /* > 0: sliding window, a token at p sees cells with pos > p - window; 0: off */
    int32_t window;
    const model_kv_span *spans; /* [n_spans], may be NULL when n_spans is 0 */
    size_t n_spans;
} model_kv_mask_opts;

/* OUT: *out with n_cells (>= 1) empty cells; free with model_kv_cells_free. */
sv_status model_kv_cells_new(uint32_t n_cells, model_kv_cells **out);
void model_kv_cells_free(model_kv_cells *c);

/* Empties every cell and forgets pending shifts. */
void model_kv_cells_clear(model_kv_cells *c);

uint32_t model_kv_cells_size(const model_kv_cells *c);
/* Number of cells holding a token. */
uint32_t model_kv_cells_used(const model_kv_cells *c);
/* One past the highest used cell (0 when empty): attention need only look at
 * cells [0, used_end). */
uint32_t model_kv_cells_used_end(const model_kv_cells *c);
/* Position of cell i, -1 when empty. */
int32_t model_kv_cells_pos(const model_kv_cells *c, uint32_t i);
/* Sequence set of cell i, 0 when empty. */
uint64_t model_kv_cells_seqs(const model_kv_cells *c, uint32_t i);

/* Chooses n_tokens empty cells, writing their indices to idx[0..n_tokens):
 * the first run of consecutive empty cells from the search head on (wrapping
 * once), else the first empty cells in that order. *contiguous (may be NULL)
 * tells which. Changes nothing. SV_ERR_LIMIT naming the counts when fewer
 * than n_tokens cells are empty. */
sv_status model_kv_cells_find_slot(const model_kv_cells *c, uint32_t n_tokens, uint32_t *idx, bool *contiguous);

/* Stores tokens[i] in cell idx[i]. SV_ERR_INVALID_ARG, changing nothing, when
 * an index is out of range, repeated or names a used cell, or a token has a
 * negative position or an empty sequence set. */
sv_status model_kv_cells_apply(model_kv_cells *c, const model_kv_token *tokens, uint32_t n_tokens,
                               const uint32_t *idx);

/* In the operations below seq is 0..63, or -1 for every sequence where said;
 * a position range [p0, p1) takes p0 < 0 as 0 and p1 < 0 as no upper bound.
 * A bad seq is SV_ERR_INVALID_ARG. */

/* Removes seq (-1: all) from the cells in range; cells left without a
 * sequence become empty. */
sv_status model_kv_cells_seq_rm(model_kv_cells *c, int32_t seq, int32_t p0, int32_t p1);
/* Adds dst to the cells of src in range: the cells are shared, not copied. */
sv_status model_kv_cells_seq_cp(model_kv_cells *c, int32_t src, int32_t dst, int32_t p0, int32_t p1);
/* Empties every cell not in seq and drops the other sequences from the rest. */
sv_status model_kv_cells_seq_keep(model_kv_cells *c, int32_t seq);
/* Adds delta to the positions of seq's (-1: all) cells in range and to their
 * shift accumulators (K must be re-roped by that much); cells pushed below
 * position 0 become empty. A shifted cell that is shared with a sequence not
 * being shifted would move that sequence too: SV_ERR_UNSUPPORTED naming it,
 * with nothing changed. SV_ERR_LIMIT when a position would pass INT32_MAX. */
sv_status model_kv_cells_seq_add(model_kv_cells *c, int32_t seq, int32_t p0, int32_t p1, int32_t delta);
/* Divides the positions of seq's (-1: all) cells in range by d (>= 1),
 * rounding down, recording the change as a shift; sharing as in seq_add. */
sv_status model_kv_cells_seq_div(model_kv_cells *c, int32_t seq, int32_t p0, int32_t p1, int32_t d);
/* Lowest / highest position held for seq (0..63), -1 when it has none. */
int32_t model_kv_cells_seq_pos_min(const model_kv_cells *c, int32_t seq);
int32_t model_kv_cells_seq_pos_max(const model_kv_cells *c, int32_t seq);

/* Sliding-window caches (Gemma 3's local layers): drops every sequence from
 * the cells that its next token (at pos_max + 1 or later) can no longer see
 * through a window of that size, and returns how many cells became empty. A
 * cache for window layers then needs only about window + n_ubatch cells per
 * sequence. Irreversible: rolling a sequence back (seq_rm) below what was
 * pruned needs those tokens recomputed; seq_pos_min tells. window <= 0: no-op. */
uint32_t model_kv_cells_prune_window(model_kv_cells *c, int32_t window);

/* Per-cell position change since the last model_kv_cells_shift_done
 * ([size]; 0 for cells that did not move); has_shift says whether any did. */
const int32_t *model_kv_cells_shifts(const model_kv_cells *c);
bool model_kv_cells_has_shift(const model_kv_cells *c);
/* The caller has re-roped K: zero the accumulators. */
void model_kv_cells_shift_done(model_kv_cells *c);

/* Fills mask[t * ld + j] (t < n_tokens, j < n_kv) for token t against cell
 * kv0 + j with 0 when the token may attend to the cell and -INFINITY when not:
 * the cell holds a token of one of t's sequences, at a position <= t's
 * (causal) or inside a span that holds both and applies to that sequence, and,
 * with a window, at a position > t's - window. opts may be NULL (causal, no
 * window). SV_ERR_INVALID_ARG when the cell range leaves the cache, ld < n_kv,
 * the window is negative or a span has p1 < p0. */
sv_status model_kv_cells_mask(const model_kv_cells *c, const model_kv_token *tokens, uint32_t n_tokens,
                              uint32_t kv0, uint32_t n_kv, const model_kv_mask_opts *opts, float *mask,
                              size_t ld);

#endif
