/* The whole chain against a naive reference sampler written here from the
 * definitions (full sorts, double precision): for random parameters and
 * logits, the final candidate set and its probabilities must agree. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sample/sample.h"
#include "sample/sample_rng.h"

#define MAXV 5000

typedef struct {
    int id;
    double logit, p, key;
} rc;

static int by_logit(const void *a, const void *b) {
    const rc *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id - y->id;
}

static int by_key(const void *a, const void *b) {
    const rc *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->id - y->id;
}

static void softmax(rc *c, int n) {
    double mx = -INFINITY, z = 0;
    for (int i = 0; i < n; i++) mx = c[i].logit > mx ? c[i].logit : mx;
    for (int i = 0; i < n; i++) z += c[i].p = exp(c[i].logit - mx);
    for (int i = 0; i < n; i++) c[i].p /= z;
}

/* Set when a cut lands within rounding of its target: float and double sums
 * may then legitimately disagree by one token. */
static int close_call;

/* Keeps the shortest prefix of c (in its current order) with mass >= p. */
static int cut_mass(rc *c, int n, double p, int mk) {
    double cum = 0;
    for (int i = 0; i < n; i++) {
        cum += c[i].p;
        if (fabs(cum - p) < 1e-4) close_call = 1;
        if (cum >= p && i + 1 >= mk) return i + 1;
    }
    return n;
}

static float sanitize(float v) { return v != v ? -INFINITY : v > FLT_MAX ? FLT_MAX : v; }

/* The reference chain; returns the candidate count, c holding final p. */
static int ref_chain(const sample_params *p, const float *logits, int n_vocab, const int32_t *last, int n_last,
                     rc *c) {
    static float v[MAXV];
    for (int i = 0; i < n_vocab; i++) v[i] = sanitize(logits[i]);
    for (int i = 0; i < p->n_logit_bias; i++)
        v[p->logit_bias[i].token] = sanitize(v[p->logit_bias[i].token] + p->logit_bias[i].bias);
    if (p->penalty_last_n > 0)
        for (int t = 0; t < n_vocab; t++) {
            int cnt = 0;
            for (int i = 0; i < n_last; i++) cnt += last[i] == t;
            if (!cnt) continue;
            float x = v[t] <= 0 ? v[t] * p->penalty_repeat : v[t] / p->penalty_repeat;
            v[t] = sanitize(x - ((float)cnt * p->penalty_freq + p->penalty_present));
        }
    int n = 0;
    for (int i = 0; i < n_vocab; i++)
        if (v[i] > -INFINITY) c[n++] = (rc){.id = i, .logit = v[i]};
    qsort(c, (size_t)n, sizeof *c, by_logit);
    if (p->temp <= 0) {
        c[0].p = 1;
        return 1;
    }
    const int mk = p->min_keep > 1 ? p->min_keep : 1;
    if (p->top_k > 0) {
        int k = p->top_k > mk ? p->top_k : mk;
        if (k < n) n = k;
    }
    if (p->typical_p < 1 && n > mk) {
        softmax(c, n);
        double h = 0;
        for (int i = 0; i < n; i++)
            if (c[i].p > 0) h -= c[i].p * log(c[i].p);
        for (int i = 0; i < n; i++) c[i].key = c[i].p > 0 ? fabs(-log(c[i].p) - h) : INFINITY;
        qsort(c, (size_t)n, sizeof *c, by_key);
        int m = cut_mass(c, n, p->typical_p, mk);
        /* Near-equal typicality keys at the cut may order either way. */
        if (m < n && fabs(c[m].key - c[m - 1].key) < 1e-5) close_call = 1;
        n = m;
        qsort(c, (size_t)n, sizeof *c, by_logit);
    }
    if (p->top_p < 1 && n > mk) {
        softmax(c, n);
        n = cut_mass(c, n, p->top_p, mk);
    }
    if (p->min_p > 0 && n > mk) {
        float thr = (float)c[0].logit + logf(p->min_p);
        int m = 0;
        while (m < n && (float)c[m].logit >= thr) m++;
        for (int i = 0; i < n; i++)
            if (fabs(c[i].logit - thr) < 1e-5) close_call = 1;
        n = m < mk ? mk : m;
    }
    for (int i = 0; i < n; i++) c[i].logit = (float)c[i].logit / p->temp;
    softmax(c, n);
    return n;
}

static void test_random_chains(void) {
    sample_rng r;
    sample_rng_seed(&r, 2024);
    static float logits[MAXV];
    static rc ref[MAXV];
    static double got_p[MAXV];
    static unsigned char in_got[MAXV];
    int compared = 0, skipped = 0;
    for (int trial = 0; trial < 600; trial++) {
        const int n_vocab = trial % 3 == 0 ? MAXV : 300;
        const int peaked = (int)(sample_rng_next(&r) % 2);
        for (int i = 0; i < n_vocab; i++) {
            double u1 = sample_rng_uniform(&r) + 1e-12, u2 = sample_rng_uniform(&r);
            logits[i] = (float)(2.0 * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
        }
        if (peaked)
            for (int k = 0; k < 5; k++) logits[sample_rng_next(&r) % (uint64_t)n_vocab] = 8.0f + (float)k;
        logits[sample_rng_next(&r) % (uint64_t)n_vocab] = NAN;

        sample_logit_bias bias[4];
        for (int i = 0; i < 4; i++)
            bias[i] = (sample_logit_bias){.token = (int32_t)(sample_rng_next(&r) % (uint64_t)n_vocab),
                                          .bias = i == 0 ? -INFINITY : (float)(sample_rng_uniform(&r) * 6 - 3)};
        sample_params p = sample_default_params();
        p.seed = (uint64_t)trial;
        const double u = sample_rng_uniform(&r);
        p.temp = u < 0.1 ? 0.0f : (float)(0.2 + sample_rng_uniform(&r) * 1.5);
        p.top_k = sample_rng_uniform(&r) < 0.3 ? 0 : 1 + (int32_t)(sample_rng_next(&r) % 200);
        p.top_p = sample_rng_uniform(&r) < 0.3 ? 1.0f : (float)(0.05 + sample_rng_uniform(&r) * 0.94);
        p.min_p = sample_rng_uniform(&r) < 0.4 ? 0.0f : (float)(sample_rng_uniform(&r) * 0.3);
        p.typical_p = sample_rng_uniform(&r) < 0.6 ? 1.0f : (float)(0.1 + sample_rng_uniform(&r) * 0.89);
        p.min_keep = (int32_t)(sample_rng_next(&r) % 4);
        p.penalty_last_n = 8;
        p.penalty_repeat = (float)(1 + sample_rng_uniform(&r));
        p.penalty_freq = (float)sample_rng_uniform(&r);
        p.penalty_present = (float)sample_rng_uniform(&r);
        p.logit_bias = bias;
        p.n_logit_bias = 4;

        sample_chain *ch = NULL;
        CHECK(sample_chain_new(&p, &ch) == SV_OK);
        int32_t last[8];
        for (int i = 0; i < 8; i++) {
            /* Penalise some of the strongest tokens too. */
            last[i] = (int32_t)(sample_rng_next(&r) % (uint64_t)n_vocab);
            if (i < 3) logits[last[i]] = 7.5f + (float)i;
            CHECK(sample_chain_accept(ch, last[i]) == SV_OK);
        }
        close_call = 0;
        int n_ref = ref_chain(&p, logits, n_vocab, last, 8, ref);
        int32_t id = sample_chain_sample(ch, logits, n_vocab);
        size_t n_got = 0;
        const sample_cand *got = sample_chain_candidates(ch, &n_got);
        if (close_call) {
            skipped++;
            sample_chain_free(ch);
            continue;
        }
        compared++;
        memset(in_got, 0, (size_t)n_vocab);
        int drawn_in = 0;
        for (size_t i = 0; i < n_got; i++) {
            in_got[got[i].id] = 1;
            got_p[got[i].id] = got[i].p;
            drawn_in |= got[i].id == id;
        }
        int same = (size_t)n_ref == n_got && drawn_in;
        double worst = 0;
        for (int i = 0; same && i < n_ref; i++) {
            same &= in_got[ref[i].id];
            double d = fabs(got_p[ref[i].id] - ref[i].p);
            worst = d > worst ? d : worst;
        }
        CHECK_MSG(same && worst < 2e-5,
                  "trial %d (n %d temp %g k %d p %g min_p %g typ %g keep %d): %zu candidates vs reference %d, "
                  "max |dp| %g, drawn %d",
                  trial, n_vocab, (double)p.temp, p.top_k, (double)p.top_p, (double)p.min_p, (double)p.typical_p,
                  p.min_keep, n_got, n_ref, worst, id);
        sample_chain_free(ch);
    }
    printf("compared %d chains, skipped %d close calls\n", compared, skipped);
    CHECK(skipped * 10 < compared);
}

int main(void) {
    RUN_TEST(test_random_chains);
    return test_main_end();
}
