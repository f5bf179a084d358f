/* The sampler chain: parameter checks, per-vocabulary scratch reserved once,
 * and the per-token pipeline over the steps of sample_ops.c. */
#include "sample/sample.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/timer.h"
#include "sample/sample_ops.h"
#include "sample/sample_rng.h"

struct sample_chain {
    sample_params p;          /* logit_bias points at bias below */
    sample_logit_bias *bias;  /* [p.n_logit_bias], owned */
    uint64_t seed;
    sample_rng rng;
    int32_t *last;            /* [p.penalty_last_n] ring of accepted ids */
    size_t n_last, last_head;
    int32_t n_vocab;          /* 0 until the scratch below is reserved */
    /* Bias and penalties change few logits: rather than copying the whole
     * row, the changed ones live in an overlay that the scans patch in. */
    uint32_t *slot;           /* [n_vocab] overlay index + 1, 0 = untouched; all 0 between calls */
    int32_t *ov_id;           /* [ov_cap] */
    float *ov_logit;          /* [ov_cap] */
    int32_t *ov_count;        /* [ov_cap] occurrences in the penalty window */
    size_t n_ov, ov_cap;
    sample_cand *cands;       /* [n_vocab] */
    size_t n_cands;           /* candidates of the last sample */
};

sample_params sample_default_params(void) {
    return (sample_params){
        .seed = SAMPLE_SEED_RANDOM,
        .temp = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .typical_p = 1.0f,
        .min_keep = 0,
        .penalty_last_n = 64,
        .penalty_repeat = 1.0f,
        .penalty_freq = 0.0f,
        .penalty_present = 0.0f,
    };
}

static sv_status check_bias_ids(const sample_logit_bias *bias, int32_t n, int32_t n_vocab) {
    for (int32_t i = 0; i < n; i++)
        if (bias[i].token >= n_vocab)
            return sv_error(SV_ERR_INVALID_ARG, "logit bias token %d is outside the vocabulary (%d tokens)",
                            bias[i].token, n_vocab);
    return SV_OK;
}

static sv_status check_params(const sample_params *p) {
    struct {
        const char *name;
        float v;
    } floats[] = {{"temp", p->temp},          {"top_p", p->top_p},
                  {"min_p", p->min_p},        {"typical_p", p->typical_p},
                  {"penalty_repeat", p->penalty_repeat}, {"penalty_freq", p->penalty_freq},
                  {"penalty_present", p->penalty_present}};
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++)
        if (!isfinite(floats[i].v))
            return sv_error(SV_ERR_INVALID_ARG, "sampler parameter %s is not a finite number", floats[i].name);
    if (p->penalty_repeat <= 0.0f)
        return sv_error(SV_ERR_INVALID_ARG, "penalty_repeat must be > 0, got %g", (double)p->penalty_repeat);
    if (p->min_keep < 0) return sv_error(SV_ERR_INVALID_ARG, "min_keep must be >= 0, got %d", p->min_keep);
    if (p->penalty_last_n < 0 || p->penalty_last_n > SAMPLE_MAX_LAST_N)
        return sv_error(SV_ERR_INVALID_ARG, "penalty_last_n must be in [0, %d], got %d", SAMPLE_MAX_LAST_N,
                        p->penalty_last_n);
    if (p->n_vocab < 0) return sv_error(SV_ERR_INVALID_ARG, "n_vocab must be >= 0, got %d", p->n_vocab);
    if (p->n_logit_bias < 0 || p->n_logit_bias > SAMPLE_MAX_BIAS)
        return sv_error(SV_ERR_INVALID_ARG, "n_logit_bias must be in [0, %d], got %d", SAMPLE_MAX_BIAS,
                        p->n_logit_bias);
    if (p->n_logit_bias > 0 && !p->logit_bias)
        return sv_error(SV_ERR_INVALID_ARG, "n_logit_bias is %d but logit_bias is NULL", p->n_logit_bias);
    for (int32_t i = 0; i < p->n_logit_bias; i++) {
        if (p->logit_bias[i].token < 0)
            return sv_error(SV_ERR_INVALID_ARG, "logit bias token %d is negative", p->logit_bias[i].token);
        if (isnan(p->logit_bias[i].bias))
            return sv_error(SV_ERR_INVALID_ARG, "logit bias for token %d is NaN", p->logit_bias[i].token);
    }
    if (p->n_vocab > 0) return check_bias_ids(p->logit_bias, p->n_logit_bias, p->n_vocab);
    return SV_OK;
}

static sv_status reserve_vocab(sample_chain *c, int32_t n_vocab) {
    sv_status st = check_bias_ids(c->bias, c->p.n_logit_bias, n_vocab);
    if (st != SV_OK) return st;
    size_t n = (size_t)n_vocab, bytes;
    if (sv_mul_size(n, sizeof(sample_cand), &bytes))
        return sv_error(SV_ERR_NOMEM, "sampler scratch for %d tokens overflows", n_vocab);
    c->slot = calloc(n, sizeof *c->slot);
    c->cands = malloc(bytes);
    if (!c->slot || !c->cands) {
        free(c->slot);
        free(c->cands);
        c->slot = NULL;
        c->cands = NULL;
        return sv_error(SV_ERR_NOMEM, "no memory for sampler scratch (%d tokens)", n_vocab);
    }
    c->n_vocab = n_vocab;
    return SV_OK;
}

sv_status sample_chain_new(const sample_params *params, sample_chain **out) {
    *out = NULL;
    if (!params) return sv_error(SV_ERR_INVALID_ARG, "sampler params are NULL");
    sv_status st = check_params(params);
    if (st != SV_OK) return st;
    sample_chain *c = calloc(1, sizeof *c);
    if (!c) return sv_error(SV_ERR_NOMEM, "no memory for a sampler chain");
    c->p = *params;
    if (params->n_logit_bias > 0) {
        c->bias = malloc((size_t)params->n_logit_bias * sizeof *c->bias);
        if (!c->bias) {
            sample_chain_free(c);
            return sv_error(SV_ERR_NOMEM, "no memory for %d logit biases", params->n_logit_bias);
        }
        memcpy(c->bias, params->logit_bias, (size_t)params->n_logit_bias * sizeof *c->bias);
    }
    c->p.logit_bias = c->bias;
    if (params->penalty_last_n > 0) {
        c->last = malloc((size_t)params->penalty_last_n * sizeof *c->last);
        if (!c->last) {
            sample_chain_free(c);
            return sv_error(SV_ERR_NOMEM, "no memory for %d penalty tokens", params->penalty_last_n);
        }
    }
    c->ov_cap = (size_t)params->n_logit_bias + (size_t)params->penalty_last_n;
    if (c->ov_cap > 0) {
        c->ov_id = malloc(c->ov_cap * sizeof *c->ov_id);
        c->ov_logit = malloc(c->ov_cap * sizeof *c->ov_logit);
        c->ov_count = malloc(c->ov_cap * sizeof *c->ov_count);
        if (!c->ov_id || !c->ov_logit || !c->ov_count) {
            sample_chain_free(c);
            return sv_error(SV_ERR_NOMEM, "no memory for %zu changed logits", c->ov_cap);
        }
    }
    c->seed = params->seed;
    if (c->seed == SAMPLE_SEED_RANDOM) {
        uint64_t st_mix = sv_time_ns() ^ (uint64_t)(uintptr_t)c;
        c->seed = sample_splitmix64(&st_mix);
        if (c->seed == SAMPLE_SEED_RANDOM) c->seed = 0;
    }
    sample_rng_seed(&c->rng, c->seed);
    if (params->n_vocab > 0 && (st = reserve_vocab(c, params->n_vocab)) != SV_OK) {
        sample_chain_free(c);
        return st;
    }
    *out = c;
    return SV_OK;
}

void sample_chain_free(sample_chain *c) {
    if (!c) return;
    free(c->bias);
    free(c->last);
    free(c->slot);
    free(c->ov_id);
    free(c->ov_logit);
    free(c->ov_count);
    free(c->cands);
    free(c);
}

void sample_chain_reset(sample_chain *c) {
    c->n_last = 0;
    c->last_head = 0;
    sample_rng_seed(&c->rng, c->seed);
}

uint64_t sample_chain_seed(const sample_chain *c) { return c->seed; }

sv_status sample_chain_accept(sample_chain *c, int32_t id) {
    if (id < 0 || (c->n_vocab > 0 && id >= c->n_vocab))
        return sv_error(SV_ERR_INVALID_ARG, "accepted token %d is outside the vocabulary", id);
    if (c->p.penalty_last_n == 0) return SV_OK;
    size_t cap = (size_t)c->p.penalty_last_n;
    c->last[c->last_head] = id;
    c->last_head = (c->last_head + 1) % cap;
    if (c->n_last < cap) c->n_last++;
    return SV_OK;
}

/* NaN would poison every comparison and +INFINITY the softmax (inf - inf). */
static inline float sanitize_logit(float x) {
    if (x != x) return -INFINITY;
    return x > FLT_MAX ? FLT_MAX : x;
}

static bool penalties_on(const sample_params *p) {
    return p->penalty_last_n > 0 &&
           (p->penalty_repeat != 1.0f || p->penalty_freq != 0.0f || p->penalty_present != 0.0f);
}

static size_t overlay_add(sample_chain *c, const float *logits, int32_t id) {
    if (c->slot[id] == 0) {
        c->ov_id[c->n_ov] = id;
        c->ov_logit[c->n_ov] = sanitize_logit(logits[id]);
        c->ov_count[c->n_ov] = 0;
        c->slot[id] = (uint32_t)++c->n_ov;
    }
    return c->slot[id] - 1;
}

/* The logits that bias (first, as llama.cpp's chain) and penalties change. */
static void overlay_build(sample_chain *c, const float *logits) {
    c->n_ov = 0;
    for (int32_t i = 0; i < c->p.n_logit_bias; i++) {
        size_t o = overlay_add(c, logits, c->bias[i].token);
        c->ov_logit[o] = sanitize_logit(c->ov_logit[o] + c->bias[i].bias);
    }
    if (!penalties_on(&c->p)) return;
    for (size_t i = 0; i < c->n_last; i++) {
        /* Ids accepted before the vocabulary size was known may be out of it. */
        if (c->last[i] >= c->n_vocab) continue;
        c->ov_count[overlay_add(c, logits, c->last[i])]++;
    }
    for (size_t o = 0; o < c->n_ov; o++)
        if (c->ov_count[o] > 0)
            c->ov_logit[o] = sample_penalize(c->ov_logit[o], c->ov_count[o], c->p.penalty_repeat,
                                             c->p.penalty_freq, c->p.penalty_present);
}

static void overlay_clear(sample_chain *c) {
    for (size_t o = 0; o < c->n_ov; o++) c->slot[c->ov_id[o]] = 0;
    c->n_ov = 0;
}

static size_t find_id(const sample_cand *a, size_t n, int32_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && a[lo].id == id ? lo : n;
}

/* Patches the overlay into candidates a[0..m) taken from the raw logits:
 * with by_id (a holds every finite logit in ascending id order) the changed
 * ones are found by binary search and overwritten, the missing ones appended;
 * otherwise a holds none of them and all are appended. Tokens now at
 * -INFINITY are dropped. Returns the new count; a has room for m + n_ov. */
static size_t overlay_apply(sample_chain *c, sample_cand *a, size_t m, bool by_id) {
    if (c->n_ov == 0) return m;
    size_t n = m;
    for (size_t o = 0; o < c->n_ov; o++) {
        size_t i = by_id ? find_id(a, m, c->ov_id[o]) : m;
        if (i < m) a[i].logit = c->ov_logit[o];
        else if (c->ov_logit[o] > -INFINITY) a[n++] = (sample_cand){.id = c->ov_id[o], .logit = c->ov_logit[o]};
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].logit > -INFINITY) a[w++] = a[i];
    return w;
}

static size_t fill_finite(sample_cand *cands, const float *logits, size_t n) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (logits[i] > -INFINITY) cands[m++] = (sample_cand){.id = (int32_t)i, .logit = sanitize_logit(logits[i])};
    return m;
}

/* The candidates after bias, penalties and top-k. With a small k (greedy is
 * k = 1) one scan of the raw row, skipping the changed tokens, finds the k
 * best unchanged ones: an unchanged token of the true top k has fewer than k
 * unchanged tokens above it, so it is among them. The changed tokens, with
 * their new logits, join them and the cut to k gives the exact answer
 * without copying the row. */
/* Min-p as the only filter (top_k 0, top_p 1, typical 1: a common modern
 * setting): its threshold needs only the maximum, so two passes over the raw
 * row (argmax, then every logit above max + log min_p) replace building the
 * whole candidate array. The set is the one sample_min_p would keep; false
 * (nothing written that matters) when fewer than min_keep qualify or every
 * logit is -inf, for the general path to handle. */
static bool collect_min_p(sample_chain *c, const float *logits, size_t n, size_t min_keep, sample_cands *cur) {
    sample_cand best;
    float mx = -INFINITY;
    if (sample_top_k_scan(logits, n, 1, c->slot, &best) == 1) mx = best.logit;
    for (size_t o = 0; o < c->n_ov; o++) mx = c->ov_logit[o] > mx ? c->ov_logit[o] : mx;
    if (!(mx > -INFINITY)) return false;
    const float thr = mx + logf(c->p.min_p);
    size_t m = sample_collect_at_least(logits, n, thr, c->slot, c->cands);
    for (size_t o = 0; o < c->n_ov; o++)
        if (c->ov_logit[o] >= thr) c->cands[m++] = (sample_cand){.id = c->ov_id[o], .logit = c->ov_logit[o]};
    if (m < min_keep) return false;
    cur->n = m;
    return true;
}

static bool min_p_only(const sample_params *p) {
    return p->top_k <= 0 && p->top_p >= 1.0f && p->typical_p >= 1.0f && p->min_p > 0.0f && p->temp > 0.0f;
}

static void build_candidates(sample_chain *c, const float *logits, size_t n, size_t k, sample_cands *cur) {
    cur->data = c->cands;
    cur->sorted = false;
    const size_t min_keep = c->p.min_keep > 1 ? (size_t)c->p.min_keep : 1;
    if (min_p_only(&c->p) && collect_min_p(c, logits, n, min_keep, cur)) return;
    if (k > 0 && k + c->n_ov <= n / 8) {
        size_t m = sample_top_k_scan(logits, n, k, c->slot, c->cands);
        cur->n = overlay_apply(c, c->cands, m, false);
        cur->sorted = c->n_ov == 0;
    } else {
        cur->n = overlay_apply(c, c->cands, fill_finite(c->cands, logits, n), true);
    }
    sample_top_k(cur, k);
}

int32_t sample_chain_sample(sample_chain *c, const float *logits, int32_t n_vocab) {
    c->n_cands = 0;
    if (!logits || n_vocab <= 0)
        return sv_error(SV_ERR_INVALID_ARG, "sampling needs logits and n_vocab > 0 (got %d)", n_vocab);
    if (c->n_vocab == 0) {
        sv_status st = reserve_vocab(c, n_vocab);
        if (st != SV_OK) return st;
    } else if (c->n_vocab != n_vocab) {
        return sv_error(SV_ERR_INVALID_ARG, "sampler set up for %d tokens got logits for %d", c->n_vocab, n_vocab);
    }
    const size_t n = (size_t)n_vocab;
    const bool greedy = c->p.temp <= 0.0f;
    const size_t min_keep = c->p.min_keep > 1 ? (size_t)c->p.min_keep : 1;
    size_t k = greedy ? 1 : c->p.top_k > 0 ? (size_t)c->p.top_k : 0;
    if (k > 0 && k < min_keep && !greedy) k = min_keep;

    overlay_build(c, logits);
    sample_cands cur;
    build_candidates(c, logits, n, k, &cur);
    overlay_clear(c);
    if (cur.n == 0) return sv_error(SV_ERR_INVALID_ARG, "every logit is -inf or NaN");
    if (greedy) {
        cur.data[0].p = 1.0f;
        c->n_cands = 1;
        return cur.data[0].id;
    }

    sample_typical(&cur, c->p.typical_p, min_keep);
    sample_top_p(&cur, c->p.top_p, min_keep);
    sample_min_p(&cur, c->p.min_p, min_keep);
    sample_temp(&cur, c->p.temp);
    sample_softmax(&cur);
    size_t pick = sample_pick(&cur, sample_rng_uniform(&c->rng));
    c->n_cands = cur.n;
    return cur.data[pick].id;
}

const sample_cand *sample_chain_candidates(const sample_chain *c, size_t *n) {
    *n = c->n_cands;
    return c->cands;
}
