/* sova_sampler: the sampler chain over a context's logits. */
#include <stdlib.h>

#include "engine/engine.h"
#include "sample/sample.h"

struct sova_sampler {
    sample_chain *chain;
    int32_t n_vocab;
};

sova_sampler_params sova_sampler_default_params(void) {
    sample_params d = sample_default_params();
    return (sova_sampler_params){.seed = d.seed,
                                 .temp = d.temp,
                                 .top_k = d.top_k,
                                 .top_p = d.top_p,
                                 .min_p = d.min_p,
                                 .typical_p = d.typical_p,
                                 .penalty_last_n = d.penalty_last_n,
                                 .penalty_repeat = d.penalty_repeat,
                                 .penalty_freq = d.penalty_freq,
                                 .penalty_present = d.penalty_present};
}

sova_status sova_sampler_new(const sova_model *m, const sova_sampler_params *p, sova_sampler **out) {
    if (!m || !out) return (sova_status)sv_error(SV_ERR_INVALID_ARG, "sova_sampler_new: NULL argument");
    *out = NULL;
    sova_sampler_params sp = p ? *p : sova_sampler_default_params();
    sample_params q = sample_default_params();
    q.seed = sp.seed;
    q.temp = sp.temp;
    q.top_k = sp.top_k;
    q.top_p = sp.top_p;
    q.min_p = sp.min_p;
    q.typical_p = sp.typical_p;
    q.penalty_last_n = sp.penalty_last_n;
    q.penalty_repeat = sp.penalty_repeat;
    q.penalty_freq = sp.penalty_freq;
    q.penalty_present = sp.penalty_present;
    q.n_vocab = m->m->hp.n_vocab;
    sova_sampler *s = calloc(1, sizeof *s);
    if (!s) return (sova_status)sv_error(SV_ERR_NOMEM, "out of memory");
    s->n_vocab = q.n_vocab;
    sv_status st = sample_chain_new(&q, &s->chain);
    if (st != SV_OK) {
        free(s);
        return (sova_status)st;
    }
    *out = s;
    return SOVA_OK;
}

void sova_sampler_free(sova_sampler *s) {
    if (!s) return;
    sample_chain_free(s->chain);
    free(s);
}

sova_token sova_sampler_sample(sova_sampler *s, sova_ctx *c, int32_t i) {
    const float *row = sova_get_logits_ith(c, i);
    if (!row) return SOVA_ERR_INVALID_ARG;
    int32_t id = sample_chain_sample(s->chain, row, s->n_vocab);
    if (id < 0) return id;
    sv_status st = sample_chain_accept(s->chain, id);
    return st == SV_OK ? id : (sova_token)st;
}

sova_status sova_sampler_accept(sova_sampler *s, sova_token t) { return (sova_status)sample_chain_accept(s->chain, t); }
void sova_sampler_reset(sova_sampler *s) { sample_chain_reset(s->chain); }
uint64_t sova_sampler_seed(const sova_sampler *s) { return sample_chain_seed(s->chain); }
