#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/kv_cells.h"

#define S(x) ((uint64_t)1 << (x))

static model_kv_cells *make(uint32_t n) {
    model_kv_cells *c = NULL;
    CHECK(model_kv_cells_new(n, &c) == SV_OK);
    return c;
}

/* Places n tokens of one sequence set at positions p0.. and returns the first
 * cell used. */
static uint32_t put(model_kv_cells *c, uint64_t seqs, int32_t p0, uint32_t n) {
    uint32_t idx[64];
    model_kv_token tok[64];
    for (uint32_t i = 0; i < n; i++) tok[i] = (model_kv_token){.pos = p0 + (int32_t)i, .seqs = seqs};
    CHECK(model_kv_cells_find_slot(c, n, idx, NULL) == SV_OK);
    CHECK(model_kv_cells_apply(c, tok, n, idx) == SV_OK);
    return idx[0];
}

static void test_new_clear(void) {
    model_kv_cells *c = (model_kv_cells *)1;
    CHECK(model_kv_cells_new(0, &c) == SV_ERR_INVALID_ARG && c == NULL);
    c = make(8);
    CHECK_EQ_I64(model_kv_cells_size(c), 8);
    CHECK_EQ_I64(model_kv_cells_used(c), 0);
    CHECK_EQ_I64(model_kv_cells_used_end(c), 0);
    for (uint32_t i = 0; i < 8; i++) CHECK(model_kv_cells_pos(c, i) == -1 && model_kv_cells_seqs(c, i) == 0);
    put(c, S(0), 0, 5);
    CHECK_EQ_I64(model_kv_cells_used(c), 5);
    CHECK_EQ_I64(model_kv_cells_used_end(c), 5);
    model_kv_cells_clear(c);
    CHECK_EQ_I64(model_kv_cells_used(c), 0);
    CHECK_EQ_I64(model_kv_cells_seq_pos_max(c, 0), -1);
    CHECK_EQ_I64(put(c, S(0), 0, 1), 0);
    model_kv_cells_free(c);
    model_kv_cells_free(NULL);
}

static void test_find_slot(void) {
    model_kv_cells *c = make(10);
    uint32_t idx[16];
    bool cont = false;
    CHECK_EQ_I64(put(c, S(0), 0, 4), 0);  /* cells 0-3 */
    CHECK_EQ_I64(put(c, S(1), 0, 4), 4);  /* cells 4-7 */
    /* Free 1-2 (seq 0 pos 1, 2) and 5 (seq 1 pos 1). */
    CHECK(model_kv_cells_seq_rm(c, 0, 1, 3) == SV_OK);
    CHECK(model_kv_cells_seq_rm(c, 1, 1, 2) == SV_OK);
    CHECK_EQ_I64(model_kv_cells_used(c), 5);
    /* The search restarts at the lowest freed cell: a run of two at 1. */
    CHECK(model_kv_cells_find_slot(c, 2, idx, &cont) == SV_OK);
    CHECK(cont && idx[0] == 1 && idx[1] == 2);
    /* No run of three is free (1-2, 5 and 8-9): the first free cells instead. */
    CHECK(model_kv_cells_find_slot(c, 3, idx, &cont) == SV_OK);
    CHECK(!cont);
    CHECK(idx[0] == 1 && idx[1] == 2 && idx[2] == 5);
    CHECK(model_kv_cells_find_slot(c, 5, idx, &cont) == SV_OK);
    CHECK(!cont && idx[3] == 8 && idx[4] == 9);
    CHECK(model_kv_cells_find_slot(c, 6, idx, &cont) == SV_ERR_LIMIT);
    CHECK(strstr(sv_errmsg(), "5 of 10") != NULL);
    CHECK(model_kv_cells_find_slot(c, 0, idx, &cont) == SV_OK && cont);
    /* Nothing changed by searching. */
    CHECK_EQ_I64(model_kv_cells_used(c), 5);
    model_kv_cells_free(c);
}

static void test_apply_rejects(void) {
    model_kv_cells *c = make(4);
    put(c, S(2), 7, 1); /* cell 0 */
    model_kv_token tok[2] = {{.pos = 1, .seqs = S(0)}, {.pos = 2, .seqs = S(0)}};
    uint32_t idx[2] = {1, 1};
    CHECK(model_kv_cells_apply(c, tok, 2, idx) == SV_ERR_INVALID_ARG);
    CHECK(strstr(sv_errmsg(), "twice") != NULL);
    idx[1] = 0;
    CHECK(model_kv_cells_apply(c, tok, 2, idx) == SV_ERR_INVALID_ARG);
    idx[1] = 4;
    CHECK(model_kv_cells_apply(c, tok, 2, idx) == SV_ERR_INVALID_ARG);
    idx[1] = 2;
    tok[1].pos = -1;
    CHECK(model_kv_cells_apply(c, tok, 2, idx) == SV_ERR_INVALID_ARG);
    tok[1] = (model_kv_token){.pos = 2, .seqs = 0};
    CHECK(model_kv_cells_apply(c, tok, 2, idx) == SV_ERR_INVALID_ARG);
    /* Failed calls left everything as it was. */
    CHECK_EQ_I64(model_kv_cells_used(c), 1);
    for (uint32_t i = 1; i < 4; i++) CHECK(model_kv_cells_pos(c, i) == -1);
    tok[1].seqs = S(0);
    CHECK(model_kv_cells_apply(c, tok, 2, idx) == SV_OK);
    CHECK(model_kv_cells_pos(c, 1) == 1 && model_kv_cells_pos(c, 2) == 2);
    model_kv_cells_free(c);
}

static void test_seq_edits(void) {
    model_kv_cells *c = make(16);
    put(c, S(0), 0, 6); /* cells 0-5, seq 0, pos 0-5 */
    CHECK(model_kv_cells_seq_cp(c, 0, 3, 0, 3) == SV_OK);
    CHECK(model_kv_cells_seqs(c, 2) == (S(0) | S(3)) && model_kv_cells_seqs(c, 3) == S(0));
    CHECK_EQ_I64(model_kv_cells_seq_pos_max(c, 3), 2);
    CHECK_EQ_I64(model_kv_cells_seq_pos_min(c, 3), 0);
    CHECK_EQ_I64(model_kv_cells_used(c), 6);
    put(c, S(3), 3, 2); /* seq 3 continues on its own: cells 6-7 */
    /* Removing seq 0 keeps the shared prefix alive for seq 3. */
    CHECK(model_kv_cells_seq_rm(c, 0, -1, -1) == SV_OK);
    CHECK_EQ_I64(model_kv_cells_used(c), 5);
    CHECK_EQ_I64(model_kv_cells_seq_pos_max(c, 0), -1);
    CHECK(model_kv_cells_seqs(c, 0) == S(3) && model_kv_cells_pos(c, 3) == -1);
    /* Shift: drop positions 1-2 of seq 3 and move 3.. down by 2. */
    CHECK(model_kv_cells_seq_rm(c, 3, 1, 3) == SV_OK);
    CHECK(model_kv_cells_seq_add(c, 3, 3, -1, -2) == SV_OK);
    CHECK(model_kv_cells_has_shift(c));
    CHECK(model_kv_cells_pos(c, 6) == 1 && model_kv_cells_pos(c, 7) == 2);
    CHECK(model_kv_cells_shifts(c)[6] == -2 && model_kv_cells_shifts(c)[7] == -2 && model_kv_cells_shifts(c)[0] == 0);
    CHECK(model_kv_cells_seq_add(c, 3, 2, 3, 5) == SV_OK); /* cell 7: 2 -> 7, shift -2 + 5 */
    CHECK(model_kv_cells_shifts(c)[7] == 3 && model_kv_cells_pos(c, 7) == 7);
    model_kv_cells_shift_done(c);
    CHECK(!model_kv_cells_has_shift(c) && model_kv_cells_shifts(c)[7] == 0);
    /* Pushed below 0: the cell empties. */
    CHECK(model_kv_cells_seq_add(c, 3, 0, 2, -1) == SV_OK); /* pos 0 -> -1 (gone), pos 1 -> 0 */
    CHECK(model_kv_cells_pos(c, 0) == -1 && model_kv_cells_pos(c, 6) == 0);
    CHECK_EQ_I64(model_kv_cells_used(c), 2);
    /* Divide: positions 0 and 7 by 2 -> 0 and 3. */
    CHECK(model_kv_cells_seq_div(c, 3, -1, -1, 2) == SV_OK);
    CHECK(model_kv_cells_pos(c, 6) == 0 && model_kv_cells_pos(c, 7) == 3);
    CHECK(model_kv_cells_shifts(c)[7] == -4);
    CHECK(model_kv_cells_seq_div(c, 3, -1, -1, 0) == SV_ERR_INVALID_ARG);
    /* Bad sequence ids. */
    CHECK(model_kv_cells_seq_rm(c, 64, 0, 1) == SV_ERR_INVALID_ARG);
    CHECK(model_kv_cells_seq_cp(c, -1, 2, 0, 1) == SV_ERR_INVALID_ARG);
    CHECK(model_kv_cells_seq_keep(c, -1) == SV_ERR_INVALID_ARG);
    CHECK(model_kv_cells_seq_add(c, -2, 0, 1, 1) == SV_ERR_INVALID_ARG);
    CHECK_EQ_I64(model_kv_cells_seq_pos_max(c, 64), -1);
    model_kv_cells_free(c);
}

static void test_shared_shift_refused(void) {
    model_kv_cells *c = make(8);
    put(c, S(0), 0, 4);
    CHECK(model_kv_cells_seq_cp(c, 0, 5, 2, 3) == SV_OK); /* cell 2 shared by 0 and 5 */
    CHECK(model_kv_cells_seq_add(c, 0, 1, -1, 10) == SV_ERR_UNSUPPORTED);
    CHECK(strstr(sv_errmsg(), "sequence 5") != NULL);
    /* Nothing moved, even cells before the shared one. */
    CHECK(model_kv_cells_pos(c, 1) == 1 && !model_kv_cells_has_shift(c));
    /* Shifting every sequence at once is fine. */
    CHECK(model_kv_cells_seq_add(c, -1, 1, -1, 10) == SV_OK);
    CHECK(model_kv_cells_pos(c, 2) == 12);
    CHECK(model_kv_cells_seq_add(c, 0, 0, -1, INT32_MAX) == SV_ERR_LIMIT);
    CHECK(model_kv_cells_pos(c, 0) == 0);
    /* seq_keep: 5 keeps cell 2 alone. */
    CHECK(model_kv_cells_seq_keep(c, 5) == SV_OK);
    CHECK_EQ_I64(model_kv_cells_used(c), 1);
    CHECK(model_kv_cells_seqs(c, 2) == S(5));
    model_kv_cells_free(c);
}

/* Window 4: seq 0 holds 0..9, so its next token (10) sees 7..9; seq 1 holds
 * 0..2 (cells shared with seq 0 for 0..2) and still sees them all. */
static void test_prune_window(void) {
    model_kv_cells *c = make(16);
    put(c, S(0), 0, 10);
    CHECK(model_kv_cells_seq_cp(c, 0, 1, 0, 3) == SV_OK);
    CHECK_EQ_I64(model_kv_cells_prune_window(c, 0), 0);
    CHECK_EQ_I64(model_kv_cells_used(c), 10);
    CHECK_EQ_I64(model_kv_cells_prune_window(c, 4), 4); /* 3..6 emptied; 0..2 kept for seq 1 */
    CHECK_EQ_I64(model_kv_cells_used(c), 6);
    CHECK(model_kv_cells_seqs(c, 0) == S(1) && model_kv_cells_seqs(c, 2) == S(1));
    CHECK(model_kv_cells_pos(c, 3) == -1 && model_kv_cells_pos(c, 6) == -1 && model_kv_cells_pos(c, 7) == 7);
    CHECK_EQ_I64(model_kv_cells_seq_pos_min(c, 0), 7);
    CHECK_EQ_I64(model_kv_cells_seq_pos_max(c, 1), 2);
    /* The next token of seq 0, at 10, sees everything left of seq 0. */
    model_kv_token t = {.pos = 10, .seqs = S(0)};
    float m[16];
    model_kv_mask_opts w = {.window = 4};
    CHECK(model_kv_cells_mask(c, &t, 1, 0, 16, &w, m, 16) == SV_OK);
    CHECK(m[7] == 0.0f && m[8] == 0.0f && m[9] == 0.0f);
    /* Freed cells are reused first. */
    uint32_t idx[2];
    bool cont;
    CHECK(model_kv_cells_find_slot(c, 2, idx, &cont) == SV_OK);
    CHECK(cont && idx[0] == 3);
    model_kv_cells_free(c);
}

static int row_visible(const float *row, uint32_t j) { return row[j] == 0.0f; }

static void test_mask_hand(void) {
    model_kv_cells *c = make(8);
    put(c, S(0), 0, 4);          /* cells 0-3: seq 0, pos 0-3 */
    put(c, S(1), 0, 2);          /* cells 4-5: seq 1, pos 0-1 */
    model_kv_token tok[2] = {{.pos = 2, .seqs = S(0)}, {.pos = 1, .seqs = S(1) | S(0)}};
    float m[2 * 8];
    CHECK(model_kv_cells_mask(c, tok, 2, 0, 8, NULL, m, 8) == SV_OK);
    const int want0[8] = {1, 1, 1, 0, 0, 0, 0, 0};
    const int want1[8] = {1, 1, 0, 0, 1, 1, 0, 0};
    for (uint32_t j = 0; j < 8; j++) {
        CHECK_MSG(row_visible(m, j) == want0[j], "causal row 0 cell %u", j);
        CHECK_MSG(row_visible(m + 8, j) == want1[j], "causal row 1 cell %u", j);
        CHECK(m[j] == 0.0f || (isinf(m[j]) && m[j] < 0));
    }
    /* Window 2 (Gemma 3 style): pos 2 sees pos > 0 only. */
    model_kv_mask_opts w = {.window = 2};
    CHECK(model_kv_cells_mask(c, tok, 1, 0, 8, &w, m, 8) == SV_OK);
    CHECK(!row_visible(m, 0) && row_visible(m, 1) && row_visible(m, 2) && !row_visible(m, 3));
    /* A span [1, 4) of seq 0: pos 2 sees pos 3 too, pos 0 stays causal. */
    model_kv_span sp = {.p0 = 1, .p1 = 4, .seqs = S(0)};
    model_kv_mask_opts o = {.spans = &sp, .n_spans = 1};
    CHECK(model_kv_cells_mask(c, tok, 1, 0, 8, &o, m, 8) == SV_OK);
    CHECK(row_visible(m, 0) && row_visible(m, 3));
    /* The span names seq 0 only: seq 1's token is unaffected. */
    sp.seqs = S(1);
    CHECK(model_kv_cells_mask(c, tok, 1, 0, 8, &o, m, 8) == SV_OK);
    CHECK(!row_visible(m, 3));
    /* A sub-range of cells with a padded row stride; padding left alone. */
    float pad[2 * 5];
    for (int i = 0; i < 10; i++) pad[i] = 7.0f;
    CHECK(model_kv_cells_mask(c, tok, 2, 2, 3, NULL, pad, 5) == SV_OK);
    CHECK(row_visible(pad, 0) && !row_visible(pad, 1) && !row_visible(pad, 2) && pad[3] == 7.0f);
    CHECK(!row_visible(pad + 5, 0) && !row_visible(pad + 5, 1) && row_visible(pad + 5, 2) && pad[9] == 7.0f);
    /* Bad arguments. */
    CHECK(model_kv_cells_mask(c, tok, 2, 4, 5, NULL, m, 8) == SV_ERR_INVALID_ARG);
    CHECK(model_kv_cells_mask(c, tok, 2, 0, 8, NULL, m, 7) == SV_ERR_INVALID_ARG);
    w.window = -1;
    CHECK(model_kv_cells_mask(c, tok, 2, 0, 8, &w, m, 8) == SV_ERR_INVALID_ARG);
    sp = (model_kv_span){.p0 = 3, .p1 = 1, .seqs = S(0)};
    CHECK(model_kv_cells_mask(c, tok, 2, 0, 8, &o, m, 8) == SV_ERR_INVALID_ARG);
    model_kv_cells_free(c);
}

/* ---- randomized comparison against a naive model of the same semantics ---- */

#define RN 40
typedef struct {
    int32_t pos[RN], shift[RN];
    uint64_t seqs[RN];
    int has_shift;
} ref_state;

static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static int32_t rand_seq(void) {
    uint32_t r = rnd(10);
    return r < 8 ? (int32_t)(r % 5) : r == 8 ? 63 : -1;
}

static int ref_in(int32_t pos, int32_t p0, int32_t p1) {
    int32_t lo = p0 < 0 ? 0 : p0;
    return pos >= lo && (p1 < 0 || pos < p1);
}

static int ref_has(const ref_state *r, uint32_t i, int32_t seq) {
    return seq < 0 ? r->seqs[i] != 0 : (int)((r->seqs[i] >> seq) & 1);
}

static void ref_drop_if_empty(ref_state *r, uint32_t i) {
    if (r->seqs[i] == 0) {
        r->pos[i] = -1;
        r->shift[i] = 0;
    }
}

static void ref_rm(ref_state *r, int32_t seq, int32_t p0, int32_t p1) {
    for (uint32_t i = 0; i < RN; i++) {
        if (!ref_has(r, i, seq) || !ref_in(r->pos[i], p0, p1)) continue;
        for (int s = 0; s < 64; s++)
            if (seq < 0 || s == seq) r->seqs[i] &= ~S(s);
        ref_drop_if_empty(r, i);
    }
}

/* Returns the status the library should give. */
static sv_status ref_move(ref_state *r, int32_t seq, int32_t p0, int32_t p1, int div, int32_t arg) {
    for (uint32_t i = 0; i < RN; i++) {
        if (!ref_has(r, i, seq) || !ref_in(r->pos[i], p0, p1)) continue;
        if (seq >= 0 && __builtin_popcountll(r->seqs[i]) > 1) return SV_ERR_UNSUPPORTED;
    }
    for (uint32_t i = 0; i < RN; i++) {
        if (!ref_has(r, i, seq) || !ref_in(r->pos[i], p0, p1)) continue;
        int32_t np = div ? r->pos[i] / arg : r->pos[i] + arg;
        if (np != r->pos[i]) r->has_shift = 1;
        r->shift[i] += np - r->pos[i];
        r->pos[i] = np;
        if (np < 0) {
            r->seqs[i] = 0;
            ref_drop_if_empty(r, i);
        }
    }
    return SV_OK;
}

static int compare(const model_kv_cells *c, const ref_state *r, int step) {
    int ok = 1;
    uint32_t used = 0, end = 0;
    for (uint32_t i = 0; i < RN; i++) {
        ok &= model_kv_cells_pos(c, i) == r->pos[i];
        ok &= model_kv_cells_seqs(c, i) == r->seqs[i];
        ok &= model_kv_cells_shifts(c)[i] == r->shift[i];
        if (r->seqs[i]) {
            used++;
            end = i + 1;
        }
    }
    ok &= model_kv_cells_used(c) == used && model_kv_cells_used_end(c) == end;
    ok &= model_kv_cells_has_shift(c) == (r->has_shift != 0);
    for (int32_t s = 0; s < 64; s++) {
        int32_t mn = -1, mx = -1;
        for (uint32_t i = 0; i < RN; i++) {
            if (!ref_has(r, i, s)) continue;
            if (mn < 0 || r->pos[i] < mn) mn = r->pos[i];
            if (r->pos[i] > mx) mx = r->pos[i];
        }
        ok &= model_kv_cells_seq_pos_min(c, s) == mn && model_kv_cells_seq_pos_max(c, s) == mx;
    }
    CHECK_MSG(ok, "state differs from the reference after step %d", step);
    return ok;
}

/* The reference mask: one sequence bit at a time. */
static int ref_visible(const ref_state *r, uint32_t cell, const model_kv_token *t, const model_kv_mask_opts *o) {
    int32_t p = t->pos, q = r->pos[cell];
    for (int s = 0; s < 64; s++) {
        if (!((t->seqs >> s) & 1) || !((r->seqs[cell] >> s) & 1)) continue;
        if (o->window > 0 && (int64_t)p - q >= o->window) continue;
        if (q <= p) return 1;
        for (size_t k = 0; k < o->n_spans; k++) {
            const model_kv_span *sp = &o->spans[k];
            if (((sp->seqs >> s) & 1) && p >= sp->p0 && p < sp->p1 && q >= sp->p0 && q < sp->p1) return 1;
        }
    }
    return 0;
}

static void check_mask(const model_kv_cells *c, const ref_state *r, int step) {
    model_kv_token tok[6];
    uint32_t nt = 1 + rnd(6);
    for (uint32_t t = 0; t < nt; t++)
        tok[t] = (model_kv_token){.pos = (int32_t)rnd(50), .seqs = S(rnd(5)) | (rnd(4) == 0 ? S(rnd(5)) : 0)};
    model_kv_span spans[3];
    model_kv_mask_opts o = {.window = rnd(3) == 0 ? (int32_t)(1 + rnd(10)) : 0, .spans = spans, .n_spans = rnd(4)};
    for (size_t k = 0; k < o.n_spans; k++) {
        int32_t a = (int32_t)rnd(50);
        spans[k] = (model_kv_span){.p0 = a, .p1 = a + (int32_t)rnd(12), .seqs = S(rnd(5)) | S(rnd(5))};
    }
    uint32_t kv0 = rnd(RN), n_kv = rnd(RN - kv0 + 1);
    static float m[6 * RN];
    CHECK(model_kv_cells_mask(c, tok, nt, kv0, n_kv, &o, m, RN) == SV_OK);
    int ok = 1;
    for (uint32_t t = 0; t < nt; t++)
        for (uint32_t j = 0; j < n_kv; j++) {
            float want = ref_visible(r, kv0 + j, &tok[t], &o) ? 0.0f : -INFINITY;
            ok &= m[t * RN + j] == want;
        }
    CHECK_MSG(ok, "mask differs from the reference at step %d", step);
}

static int has_run(const ref_state *r, uint32_t n) {
    for (uint32_t i = 0; i + n <= RN; i++) {
        uint32_t k = 0;
        while (k < n && r->seqs[i + k] == 0) k++;
        if (k == n) return 1;
    }
    return 0;
}

static void test_random_against_reference(void) {
    model_kv_cells *c = make(RN);
    ref_state r;
    for (uint32_t i = 0; i < RN; i++) {
        r.pos[i] = -1;
        r.shift[i] = 0;
        r.seqs[i] = 0;
    }
    r.has_shift = 0;
    int fails = 0;
    for (int step = 0; step < 20000 && fails < 3; step++) {
        uint32_t op = rnd(100);
        int32_t seq = rand_seq(), p0 = (int32_t)rnd(60) - 5, p1 = rnd(4) == 0 ? -1 : p0 + (int32_t)rnd(30);
        if (op < 35) {
            uint32_t n = 1 + rnd(8), idx[8];
            bool cont;
            uint32_t free_cells = 0;
            for (uint32_t i = 0; i < RN; i++) free_cells += r.seqs[i] == 0;
            sv_status st = model_kv_cells_find_slot(c, n, idx, &cont);
            if (n > free_cells) {
                CHECK_MSG(st == SV_ERR_LIMIT, "step %d: full cache not reported", step);
                continue;
            }
            CHECK_MSG(st == SV_OK, "step %d: find_slot: %s", step, sv_errmsg());
            CHECK_MSG(cont == (has_run(&r, n) != 0), "step %d: contiguous %d but a run exists %d", step, cont,
                      has_run(&r, n));
            model_kv_token tok[8];
            for (uint32_t t = 0; t < n; t++) {
                int ok = idx[t] < RN && r.seqs[idx[t]] == 0 && (!cont || t == 0 || idx[t] == idx[t - 1] + 1);
                for (uint32_t u = 0; u < t; u++) ok &= idx[u] != idx[t];
                CHECK_MSG(ok, "step %d: slot %u is not a fresh empty cell", step, idx[t]);
                int32_t s = seq < 0 ? 0 : seq;
                tok[t] = (model_kv_token){.pos = (int32_t)rnd(50), .seqs = S(s) | (rnd(5) == 0 ? S(rnd(5)) : 0)};
            }
            CHECK(model_kv_cells_apply(c, tok, n, idx) == SV_OK);
            for (uint32_t t = 0; t < n; t++) {
                r.pos[idx[t]] = tok[t].pos;
                r.seqs[idx[t]] = tok[t].seqs;
                r.shift[idx[t]] = 0;
            }
        } else if (op < 55) {
            CHECK(model_kv_cells_seq_rm(c, seq, p0, p1) == SV_OK);
            ref_rm(&r, seq, p0, p1);
        } else if (op < 65) {
            int32_t dst = rand_seq();
            if (seq < 0 || dst < 0) {
                CHECK(model_kv_cells_seq_cp(c, seq, dst, p0, p1) == SV_ERR_INVALID_ARG);
                continue;
            }
            CHECK(model_kv_cells_seq_cp(c, seq, dst, p0, p1) == SV_OK);
            for (uint32_t i = 0; i < RN; i++)
                if (ref_has(&r, i, seq) && ref_in(r.pos[i], p0, p1)) r.seqs[i] |= S(dst);
        } else if (op < 68) {
            if (seq < 0) continue;
            CHECK(model_kv_cells_seq_keep(c, seq) == SV_OK);
            for (uint32_t i = 0; i < RN; i++) {
                r.seqs[i] = ref_has(&r, i, seq) ? S(seq) : 0;
                ref_drop_if_empty(&r, i);
            }
        } else if (op < 88) {
            int32_t delta = (int32_t)rnd(41) - 20;
            sv_status want = ref_move(&r, seq, p0, p1, 0, delta);
            CHECK_MSG(model_kv_cells_seq_add(c, seq, p0, p1, delta) == want, "step %d: seq_add status", step);
        } else if (op < 93) {
            int32_t d = 1 + (int32_t)rnd(3);
            sv_status want = ref_move(&r, seq, p0, p1, 1, d);
            CHECK_MSG(model_kv_cells_seq_div(c, seq, p0, p1, d) == want, "step %d: seq_div status", step);
        } else if (op < 95) {
            int32_t window = 1 + (int32_t)rnd(30);
            int32_t pmax[64];
            for (int s2 = 0; s2 < 64; s2++) {
                pmax[s2] = -1;
                for (uint32_t i = 0; i < RN; i++)
                    if (ref_has(&r, i, s2) && r.pos[i] > pmax[s2]) pmax[s2] = r.pos[i];
            }
            uint32_t freed = 0;
            for (uint32_t i = 0; i < RN; i++) {
                if (!r.seqs[i]) continue;
                for (int s2 = 0; s2 < 64; s2++)
                    if (ref_has(&r, i, s2) && pmax[s2] + 1 - r.pos[i] >= window) r.seqs[i] &= ~S(s2);
                if (!r.seqs[i]) freed++;
                ref_drop_if_empty(&r, i);
            }
            CHECK_MSG(model_kv_cells_prune_window(c, window) == freed, "step %d: prune count", step);
        } else if (op < 96) {
            model_kv_cells_shift_done(c);
            for (uint32_t i = 0; i < RN; i++) r.shift[i] = 0;
            r.has_shift = 0;
        } else if (op < 97) {
            model_kv_cells_clear(c);
            for (uint32_t i = 0; i < RN; i++) {
                r.pos[i] = -1;
                r.shift[i] = 0;
                r.seqs[i] = 0;
            }
            r.has_shift = 0;
        } else {
            check_mask(c, &r, step);
        }
        if (!compare(c, &r, step)) fails++;
    }
    model_kv_cells_free(c);
}

int main(void) {
    RUN_TEST(test_new_clear);
    RUN_TEST(test_find_slot);
    RUN_TEST(test_apply_rejects);
    RUN_TEST(test_seq_edits);
    RUN_TEST(test_shared_shift_refused);
    RUN_TEST(test_prune_window);
    RUN_TEST(test_mask_hand);
    RUN_TEST(test_random_against_reference);
    return test_main_end();
}
