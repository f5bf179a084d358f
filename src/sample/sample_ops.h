/* Candidate arrays and the individual steps a sampler chain is built from.
 * Every step works in place on caller-owned memory and allocates nothing, so
 * the chain can run them once per token without touching the heap. */
#ifndef SAMPLE_OPS_H
#define SAMPLE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t id;    /* token id */
    float logit;   /* finite or -INFINITY, never NaN or +INFINITY */
    float p;       /* probability, valid after sample_softmax */
    float key;     /* scratch for the partial sorts below */
} sample_cand;

typedef struct {
    sample_cand *data; /* [n], caller-owned */
    size_t n;
    /* true when data is in descending logit order, ties by ascending id */
    bool sorted;
} sample_cands;

/* Sets p = softmax(logit) over the candidates (sums in double). n must be > 0
 * and at least one logit finite. */
void sample_softmax(sample_cands *c);

/* Sorts descending by logit, ties by ascending id (heapsort: no allocation,
 * O(n log n) whatever the input). */
void sample_sort(sample_cands *c);

/* Keeps the k highest logits (ties: lower id first), leaving them sorted.
 * k == 0 or k >= n keeps everything unchanged. */
void sample_top_k(sample_cands *c, size_t k);

/* Nucleus: keeps the smallest set of most probable candidates (softmax of
 * the current logits, ties by id) whose probabilities sum to >= p, and at
 * least min_keep (>= 1). p >= 1 keeps everything. Leaves p set to the
 * probabilities before the cut. A sorted c stays sorted; otherwise the kept
 * candidates are in an unspecified but deterministic order (no full sort:
 * expected O(n) for any nucleus size). */
void sample_top_p(sample_cands *c, float p, size_t min_keep);

/* Keeps candidates whose probability is >= p * the highest probability
 * (tested on logits: logit >= max + log p), and at least min_keep (>= 1).
 * p <= 0 keeps everything. Keeps the current order. */
void sample_min_p(sample_cands *c, float p, size_t min_keep);

/* Locally typical sampling (Meister et al. 2022): orders candidates by
 * |-log p_i - H| where H is the entropy, keeps the smallest such prefix whose
 * probabilities sum to >= p, and at least min_keep (>= 1). p >= 1 keeps
 * everything. The survivors are left in an unspecified, deterministic order. */
void sample_typical(sample_cands *c, float p, size_t min_keep);

/* Divides every logit by t (> 0), clamping overflow to the largest float. */
void sample_temp(sample_cands *c, float t);

/* Index of the candidate that a uniform u in [0, 1) selects, walking the
 * cumulative probabilities (sample_softmax must have run). */
size_t sample_pick(const sample_cands *c, double u);

/* Writes the k (1 <= k <= n) largest entries of x[0..n) with their indices
 * into out[0..k), sorted like sample_sort, leaving out ids i with skip[i] != 0
 * (skip may be NULL). NaN counts as -INFINITY and +INFINITY as FLT_MAX;
 * -INFINITY entries are never taken, so it returns how many were written
 * (< k when fewer are eligible). One pass over x with a k-entry heap: the
 * fast top-k (and argmax, k = 1) for large vocabularies. */
size_t sample_top_k_scan(const float *x, size_t n, size_t k, const uint32_t *skip, sample_cand *out);

/* Writes every entry of x[0..n) that is >= thr (NaN never, +INFINITY as
 * FLT_MAX, -INFINITY never), leaving out ids i with skip[i] != 0 (skip may be
 * NULL), into out in ascending id order and returns how many; out needs room
 * for all of them. One pass at the speed of sample_top_k_scan: min-p over a
 * whole vocabulary without building its candidate array. */
size_t sample_collect_at_least(const float *x, size_t n, float thr, const uint32_t *skip, sample_cand *out);

/* One token's logit after llama.cpp's repetition / frequency / presence
 * penalties for a token seen count > 0 times: a positive logit is divided by
 * repeat and a non-positive one multiplied by it, then count * freq + present
 * is subtracted. NaN results become -INFINITY, overflow FLT_MAX. */
float sample_penalize(float logit, int32_t count, float repeat, float freq, float present);

#endif
