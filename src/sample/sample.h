/* Sampler chain: turns one row of logits into a token id, with the samplers
 * and defaults llama.cpp users know. Order (as llama.cpp's default chain):
 *   logit bias -> penalties -> top-k -> typical -> top-p -> min-p -> temperature -> dist
 * temp <= 0 means greedy: the argmax of the biased, penalised logits (lowest id
 * on ties), skipping the other filters. See docs/sampling.md. */
#ifndef SAMPLE_H
#define SAMPLE_H

#include <stdint.h>

#include "base/status.h"
#include "sample/sample_ops.h"

/* Seed value asking for a seed drawn from the clock; sample_chain_seed tells
 * which one was used. */
#define SAMPLE_SEED_RANDOM UINT64_MAX
/* Upper bound on penalty_last_n and n_logit_bias (bounds memory taken from
 * request parameters). */
#define SAMPLE_MAX_LAST_N (1 << 20)
#define SAMPLE_MAX_BIAS (1 << 20)

typedef struct {
    int32_t token;
    float bias; /* added to the logit; -INFINITY bans the token */
} sample_logit_bias;

typedef struct {
    uint64_t seed;          /* SAMPLE_SEED_RANDOM: from the clock */
    float temp;             /* <= 0: greedy */
    int32_t top_k;          /* <= 0: off */
    float top_p;            /* >= 1: off */
    float min_p;            /* <= 0: off */
    float typical_p;        /* >= 1: off */
    int32_t min_keep;       /* each filter keeps at least max(1, min_keep) */
    int32_t penalty_last_n; /* tokens remembered for penalties; 0: off. The
                             * engine maps llama.cpp's -1 to n_ctx. */
    float penalty_repeat;   /* 1: off; must be > 0 */
    float penalty_freq;     /* 0: off */
    float penalty_present;  /* 0: off */
    const sample_logit_bias *logit_bias; /* [n_logit_bias], copied by sample_chain_new */
    int32_t n_logit_bias;
    int32_t n_vocab;        /* > 0: reserve (and check ids) at creation; 0: at the first sample */
} sample_params;

/* Per-sequence state (penalty window, random stream): one chain per sequence;
 * a chain is not safe to use from two threads at once. */
typedef struct sample_chain sample_chain;

/* llama.cpp's defaults: temp 0.8, top_k 40, top_p 0.95, min_p 0.05,
 * typical 1, penalty_last_n 64, penalties off, random seed. */
sample_params sample_default_params(void);

/* Validates params (every float finite where a number is needed, ranges as
 * above, bias ids inside n_vocab when given) and allocates all per-token
 * memory when n_vocab > 0. OUT: *out, free with sample_chain_free. */
sv_status sample_chain_new(const sample_params *params, sample_chain **out);
void sample_chain_free(sample_chain *chain);

/* Samples one token from logits[0..n_vocab). NaN logits count as -INFINITY and
 * +INFINITY as the largest float. Returns the id (>= 0), or a negative
 * sv_status with a message: n_vocab differs from the first call's, a bias id is
 * out of range, no memory on the first call, or every logit is -INFINITY.
 * Allocates nothing once the chain has seen its vocabulary size. Does not
 * accept the token: call sample_chain_accept with the id actually used. */
int32_t sample_chain_sample(sample_chain *chain, const float *logits, int32_t n_vocab);

/* Records a token (generated or from the prompt) for the penalties.
 * SV_ERR_INVALID_ARG for a negative id or one >= a known n_vocab. */
sv_status sample_chain_accept(sample_chain *chain, int32_t id);

/* The candidates that the last sample_chain_sample drew from, with their
 * final probabilities (after every filter and the temperature), in no
 * particular order; after a greedy pick, the one token with p = 1. For
 * reporting log-probabilities of alternatives. Valid until the next sample
 * or free; *n = 0 before the first successful sample. */
const sample_cand *sample_chain_candidates(const sample_chain *chain, size_t *n);

/* Forgets accepted tokens and restarts the random stream from the seed. */
void sample_chain_reset(sample_chain *chain);

/* The seed in use (the drawn one when SAMPLE_SEED_RANDOM was asked). */
uint64_t sample_chain_seed(const sample_chain *chain);

#endif
