/* KV cache cell map: slot search, sequence edits, position shifts, masks. */
#include "model/kv_cells.h"

#include <math.h>
#include <stdlib.h>

struct model_kv_cells {
    uint32_t n;       /* cells */
    uint32_t used;    /* cells with a non-empty sequence set */
    uint32_t head;    /* where the next slot search starts */
    bool has_shift;
    int32_t *pos;     /* [n] -1 when empty */
    int32_t *shift;   /* [n] position change since the last re-rope */
    uint64_t *seqs;   /* [n] 0 when empty */
    /* Per sequence lowest / highest position held (-1: none), kept exact so
     * the per-token queries of a decode loop cost O(1): adding tokens updates
     * them, edits (already a pass over the cells) rebuild them. */
    int32_t pos_min[MODEL_KV_MAX_SEQ], pos_max[MODEL_KV_MAX_SEQ];
};

sv_status model_kv_cells_new(uint32_t n_cells, model_kv_cells **out) {
    *out = NULL;
    if (n_cells == 0) return sv_error(SV_ERR_INVALID_ARG, "a KV cache needs at least one cell");
    model_kv_cells *c = calloc(1, sizeof *c);
    if (c) {
        c->n = n_cells;
        c->pos = malloc((size_t)n_cells * sizeof *c->pos);
        c->shift = malloc((size_t)n_cells * sizeof *c->shift);
        c->seqs = malloc((size_t)n_cells * sizeof *c->seqs);
    }
    if (!c || !c->pos || !c->shift || !c->seqs) {
        model_kv_cells_free(c);
        return sv_error(SV_ERR_NOMEM, "no memory for %u KV cells", n_cells);
    }
    model_kv_cells_clear(c);
    *out = c;
    return SV_OK;
}

void model_kv_cells_free(model_kv_cells *c) {
    if (!c) return;
    free(c->pos);
    free(c->shift);
    free(c->seqs);
    free(c);
}

void model_kv_cells_clear(model_kv_cells *c) {
    for (uint32_t i = 0; i < c->n; i++) {
        c->pos[i] = -1;
        c->shift[i] = 0;
        c->seqs[i] = 0;
    }
    c->used = 0;
    c->head = 0;
    c->has_shift = false;
    for (int s = 0; s < MODEL_KV_MAX_SEQ; s++) c->pos_min[s] = c->pos_max[s] = -1;
}

static void range_add(model_kv_cells *c, uint64_t seqs, int32_t pos) {
    while (seqs) {
        int s = __builtin_ctzll(seqs);
        seqs &= seqs - 1;
        if (c->pos_min[s] < 0 || pos < c->pos_min[s]) c->pos_min[s] = pos;
        if (pos > c->pos_max[s]) c->pos_max[s] = pos;
    }
}

static void ranges_rebuild(model_kv_cells *c) {
    for (int s = 0; s < MODEL_KV_MAX_SEQ; s++) c->pos_min[s] = c->pos_max[s] = -1;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->seqs[i]) range_add(c, c->seqs[i], c->pos[i]);
}

uint32_t model_kv_cells_size(const model_kv_cells *c) { return c->n; }
uint32_t model_kv_cells_used(const model_kv_cells *c) { return c->used; }

uint32_t model_kv_cells_used_end(const model_kv_cells *c) {
    for (uint32_t i = c->n; i > 0; i--)
        if (c->seqs[i - 1]) return i;
    return 0;
}

int32_t model_kv_cells_pos(const model_kv_cells *c, uint32_t i) { return i < c->n ? c->pos[i] : -1; }
uint64_t model_kv_cells_seqs(const model_kv_cells *c, uint32_t i) { return i < c->n ? c->seqs[i] : 0; }

const int32_t *model_kv_cells_shifts(const model_kv_cells *c) { return c->shift; }
bool model_kv_cells_has_shift(const model_kv_cells *c) { return c->has_shift; }

void model_kv_cells_shift_done(model_kv_cells *c) {
    for (uint32_t i = 0; i < c->n; i++) c->shift[i] = 0;
    c->has_shift = false;
}

/* Empties cell i; the slot search restarts at the lowest freed cell so that
 * freed space is refilled before the tail grows. */
static void cell_empty(model_kv_cells *c, uint32_t i) {
    c->pos[i] = -1;
    c->seqs[i] = 0;
    c->shift[i] = 0;
    c->used--;
    if (i < c->head) c->head = i;
}

sv_status model_kv_cells_find_slot(const model_kv_cells *c, uint32_t n_tokens, uint32_t *idx, bool *contiguous) {
    if (contiguous) *contiguous = true;
    if (n_tokens == 0) return SV_OK;
    const uint32_t free_cells = c->n - c->used;
    if (n_tokens > free_cells)
        return sv_error(SV_ERR_LIMIT, "KV cache full: %u tokens need cells but %u of %u are free", n_tokens,
                        free_cells, c->n);
    /* A run may not wrap past the end; each cell is looked at about once. */
    uint32_t cur = c->head >= c->n ? 0 : c->head;
    uint64_t tried = 0;
    while (tried < c->n) {
        if ((uint64_t)cur + n_tokens > c->n) {
            tried += c->n - cur;
            cur = 0;
            continue;
        }
        uint32_t j = 0;
        while (j < n_tokens && c->seqs[cur + j] == 0) j++;
        if (j == n_tokens) {
            for (uint32_t k = 0; k < n_tokens; k++) idx[k] = cur + k;
            return SV_OK;
        }
        tried += j + 1;
        cur += j + 1;
        if (cur >= c->n) cur = 0;
    }
    if (contiguous) *contiguous = false;
    uint32_t m = 0, start = c->head >= c->n ? 0 : c->head;
    for (uint32_t k = 0; k < c->n && m < n_tokens; k++) {
        uint32_t i = (start + k) % c->n;
        if (c->seqs[i] == 0) idx[m++] = i;
    }
    return SV_OK;
}

sv_status model_kv_cells_apply(model_kv_cells *c, const model_kv_token *tokens, uint32_t n_tokens,
                               const uint32_t *idx) {
    for (uint32_t t = 0; t < n_tokens; t++) {
        if (tokens[t].pos < 0)
            return sv_error(SV_ERR_INVALID_ARG, "token %u of the batch has negative position %d", t, tokens[t].pos);
        if (tokens[t].seqs == 0) return sv_error(SV_ERR_INVALID_ARG, "token %u of the batch has no sequence", t);
        if (idx[t] >= c->n)
            return sv_error(SV_ERR_INVALID_ARG, "cell index %u is outside the cache (%u cells)", idx[t], c->n);
        if (c->seqs[idx[t]] != 0) return sv_error(SV_ERR_INVALID_ARG, "cell %u is already in use", idx[t]);
    }
    /* Repeats: mark each target cell (pos -2 on an empty cell) and look for a
     * mark already set, then undo the marks, so a failure changes nothing. */
    sv_status st = SV_OK;
    uint32_t marked = 0;
    for (; marked < n_tokens; marked++) {
        if (c->pos[idx[marked]] == -2) {
            st = sv_error(SV_ERR_INVALID_ARG, "cell %u is named twice in one batch", idx[marked]);
            break;
        }
        c->pos[idx[marked]] = -2;
    }
    for (uint32_t t = 0; t < marked; t++) c->pos[idx[t]] = -1;
    if (st != SV_OK) return st;
    for (uint32_t t = 0; t < n_tokens; t++) {
        uint32_t i = idx[t];
        c->pos[i] = tokens[t].pos;
        c->seqs[i] = tokens[t].seqs;
        c->shift[i] = 0;
        range_add(c, tokens[t].seqs, tokens[t].pos);
    }
    c->used += n_tokens;
    if (n_tokens > 0) c->head = idx[n_tokens - 1] + 1 >= c->n ? 0 : idx[n_tokens - 1] + 1;
    return SV_OK;
}

static sv_status check_seq(int32_t seq, bool allow_all) {
    if ((seq >= 0 && seq < MODEL_KV_MAX_SEQ) || (allow_all && seq == -1)) return SV_OK;
    return sv_error(SV_ERR_INVALID_ARG, "sequence id %d is outside 0..%d%s", seq, MODEL_KV_MAX_SEQ - 1,
                    allow_all ? " (or -1 for all)" : "");
}

static inline uint64_t seq_mask(int32_t seq) { return seq < 0 ? ~(uint64_t)0 : (uint64_t)1 << seq; }

static inline bool in_range(int32_t pos, int32_t p0, int32_t p1) {
    return pos >= (p0 < 0 ? 0 : p0) && (p1 < 0 || pos < p1);
}

sv_status model_kv_cells_seq_rm(model_kv_cells *c, int32_t seq, int32_t p0, int32_t p1) {
    sv_status st = check_seq(seq, true);
    if (st != SV_OK) return st;
    const uint64_t m = seq_mask(seq);
    for (uint32_t i = 0; i < c->n; i++) {
        if (!(c->seqs[i] & m) || !in_range(c->pos[i], p0, p1)) continue;
        c->seqs[i] &= ~m;
        if (c->seqs[i] == 0) cell_empty(c, i);
    }
    ranges_rebuild(c);
    return SV_OK;
}

sv_status model_kv_cells_seq_cp(model_kv_cells *c, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    sv_status st = check_seq(src, false);
    if (st == SV_OK) st = check_seq(dst, false);
    if (st != SV_OK) return st;
    const uint64_t ms = seq_mask(src), md = seq_mask(dst);
    for (uint32_t i = 0; i < c->n; i++)
        if ((c->seqs[i] & ms) && in_range(c->pos[i], p0, p1)) {
            c->seqs[i] |= md;
            range_add(c, md, c->pos[i]);
        }
    return SV_OK;
}

sv_status model_kv_cells_seq_keep(model_kv_cells *c, int32_t seq) {
    sv_status st = check_seq(seq, false);
    if (st != SV_OK) return st;
    const uint64_t m = seq_mask(seq);
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->seqs[i] & m) c->seqs[i] = m;
        else if (c->seqs[i]) cell_empty(c, i);
    }
    ranges_rebuild(c);
    return SV_OK;
}

/* The new position of a moved cell. */
typedef int64_t (*pos_map_fn)(int32_t pos, int32_t arg);

static int64_t map_add(int32_t pos, int32_t delta) { return (int64_t)pos + delta; }
static int64_t map_div(int32_t pos, int32_t d) { return pos / d; }

/* Checks the whole edit before making any of it, so that a refusal (a shared
 * cell would move, a position or shift sum would overflow int32) changes
 * nothing. */
static sv_status move_cells(model_kv_cells *c, int32_t seq, int32_t p0, int32_t p1, pos_map_fn map, int32_t arg) {
    sv_status st = check_seq(seq, true);
    if (st != SV_OK) return st;
    const uint64_t m = seq_mask(seq);
    for (uint32_t i = 0; i < c->n; i++) {
        if (!(c->seqs[i] & m) || !in_range(c->pos[i], p0, p1)) continue;
        uint64_t others = c->seqs[i] & ~m;
        if (others)
            return sv_error(SV_ERR_UNSUPPORTED,
                            "cell %u at position %d is shared by sequence %d with sequence %d, which would move too",
                            i, c->pos[i], seq, __builtin_ctzll(others));
        int64_t np = map(c->pos[i], arg), ns = (int64_t)c->shift[i] + (np - c->pos[i]);
        if (np > INT32_MAX || ns > INT32_MAX || ns < INT32_MIN)
            return sv_error(SV_ERR_LIMIT, "moving cell %u from position %d overflows", i, c->pos[i]);
    }
    for (uint32_t i = 0; i < c->n; i++) {
        if (!(c->seqs[i] & m) || !in_range(c->pos[i], p0, p1)) continue;
        int32_t np = (int32_t)map(c->pos[i], arg);
        if (np == c->pos[i]) continue;
        c->shift[i] += np - c->pos[i];
        c->pos[i] = np;
        c->has_shift = true;
        if (np < 0) cell_empty(c, i);
    }
    ranges_rebuild(c);
    return SV_OK;
}

sv_status model_kv_cells_seq_add(model_kv_cells *c, int32_t seq, int32_t p0, int32_t p1, int32_t delta) {
    return move_cells(c, seq, p0, p1, map_add, delta);
}

sv_status model_kv_cells_seq_div(model_kv_cells *c, int32_t seq, int32_t p0, int32_t p1, int32_t d) {
    if (d < 1) return sv_error(SV_ERR_INVALID_ARG, "position divisor must be >= 1, got %d", d);
    return move_cells(c, seq, p0, p1, map_div, d);
}

int32_t model_kv_cells_seq_pos_min(const model_kv_cells *c, int32_t seq) {
    return seq >= 0 && seq < MODEL_KV_MAX_SEQ ? c->pos_min[seq] : -1;
}

int32_t model_kv_cells_seq_pos_max(const model_kv_cells *c, int32_t seq) {
    return seq >= 0 && seq < MODEL_KV_MAX_SEQ ? c->pos_max[seq] : -1;
}

uint32_t model_kv_cells_prune_window(model_kv_cells *c, int32_t window) {
    if (window <= 0) return 0;
    uint32_t freed = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        uint64_t seqs = c->seqs[i], keep = seqs;
        while (seqs) {
            int s = __builtin_ctzll(seqs);
            seqs &= seqs - 1;
            /* The next token of s is at pos_max + 1 or later and sees only
             * positions > pos_max + 1 - window. */
            if ((int64_t)c->pos[i] <= (int64_t)c->pos_max[s] + 1 - window) keep &= ~((uint64_t)1 << s);
        }
        if (keep == c->seqs[i]) continue;
        c->seqs[i] = keep;
        if (keep == 0) {
            cell_empty(c, i);
            freed++;
        }
    }
    ranges_rebuild(c);
    return freed;
}

sv_status model_kv_cells_mask(const model_kv_cells *c, const model_kv_token *tokens, uint32_t n_tokens,
                              uint32_t kv0, uint32_t n_kv, const model_kv_mask_opts *opts, float *mask,
                              size_t ld) {
    const model_kv_mask_opts none = {0};
    if (!opts) opts = &none;
    if ((uint64_t)kv0 + n_kv > c->n)
        return sv_error(SV_ERR_INVALID_ARG, "mask cells [%u, %llu) leave the cache (%u cells)", kv0,
                        (unsigned long long)kv0 + n_kv, c->n);
    if (ld < n_kv) return sv_error(SV_ERR_INVALID_ARG, "mask row stride %zu < %u cells", ld, n_kv);
    if (opts->window < 0) return sv_error(SV_ERR_INVALID_ARG, "negative attention window %d", opts->window);
    if (opts->n_spans > 0 && !opts->spans) return sv_error(SV_ERR_INVALID_ARG, "n_spans > 0 but spans is NULL");
    for (size_t s = 0; s < opts->n_spans; s++)
        if (opts->spans[s].p1 < opts->spans[s].p0)
            return sv_error(SV_ERR_INVALID_ARG, "span %zu ends (%d) before it starts (%d)", s, opts->spans[s].p1,
                            opts->spans[s].p0);
    const int32_t *pos = c->pos + kv0;
    const uint64_t *seqs = c->seqs + kv0;
    uint64_t covered_ts = 0; /* 0: not checked yet (no token has an empty set) */
    bool covers = false;
    for (uint32_t t = 0; t < n_tokens; t++) {
        const int32_t p = tokens[t].pos;
        const uint64_t ts = tokens[t].seqs;
        /* Lowest visible position: the window, or none (-1 is below all). */
        const int64_t lo = opts->window > 0 ? (int64_t)p - opts->window + 1 : -1;
        /* Spans around this token widen the causal limit only for cells of
         * the sequences that the span names. */
        size_t in_span = 0;
        for (size_t s = 0; s < opts->n_spans; s++)
            in_span += (opts->spans[s].seqs & ts) && p >= opts->spans[s].p0 && p < opts->spans[s].p1;
        float *row = mask + (size_t)t * ld;
        if (!in_span) {
            /* The common row, branch-free (a prompt ubatch fills n_tokens x
             * n_kv entries, twice for Gemma 3). When every used cell of the
             * range shares a sequence with the token (one sequence, or all
             * cells shared) the test is on positions alone, which compilers
             * vectorise; empty cells fail it through their position -1. */
            if (ts != covered_ts) {
                covered_ts = ts;
                covers = true;
                for (uint32_t j = 0; j < n_kv; j++) covers &= seqs[j] == 0 || (seqs[j] & ts) != 0;
            }
            if (covers) {
                const int32_t lo0 = lo > 0 ? (int32_t)lo : 0;
                for (uint32_t j = 0; j < n_kv; j++) row[j] = ((pos[j] >= lo0) & (pos[j] <= p)) ? 0.0f : -INFINITY;
            } else {
                const int32_t lo32 = (int32_t)lo;
                for (uint32_t j = 0; j < n_kv; j++) {
                    const int vis = ((seqs[j] & ts) != 0) & (pos[j] >= lo32) & (pos[j] <= p);
                    row[j] = vis ? 0.0f : -INFINITY;
                }
            }
            continue;
        }
        for (uint32_t j = 0; j < n_kv; j++) {
            const uint64_t common = seqs[j] & ts;
            const int32_t q = pos[j];
            bool vis = common && q >= lo;
            if (vis && q > p) {
                vis = false;
                for (size_t s = 0; in_span && s < opts->n_spans && !vis; s++) {
                    const model_kv_span *sp = &opts->spans[s];
                    vis = (sp->seqs & common) && p >= sp->p0 && p < sp->p1 && q >= sp->p0 && q < sp->p1;
                }
            }
            row[j] = vis ? 0.0f : -INFINITY;
        }
    }
    return SV_OK;
}
