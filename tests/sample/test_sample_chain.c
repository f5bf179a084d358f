#include <float.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sample/sample.h"
#include "sample/sample_rng.h"

/* Every filter off: temperature and dist only. */
static sample_params plain_params(uint64_t seed, float temp) {
    sample_params p = sample_default_params();
    p.seed = seed;
    p.temp = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.penalty_last_n = 0;
    return p;
}

static sample_chain *make(const sample_params *p) {
    sample_chain *c = NULL;
    sv_status st = sample_chain_new(p, &c);
    CHECK_MSG(st == SV_OK, "sample_chain_new: %s", sv_errmsg());
    return c;
}

static void test_bad_params(void) {
    sample_chain *c = (sample_chain *)1;
    sample_params p = sample_default_params();
    p.temp = NAN;
    CHECK(sample_chain_new(&p, &c) == SV_ERR_INVALID_ARG && c == NULL);
    CHECK(strstr(sv_errmsg(), "temp") != NULL);
    p = sample_default_params();
    p.penalty_repeat = 0.0f;
    CHECK(sample_chain_new(&p, &c) == SV_ERR_INVALID_ARG);
    p = sample_default_params();
    p.penalty_last_n = -1;
    CHECK(sample_chain_new(&p, &c) == SV_ERR_INVALID_ARG);
    p = sample_default_params();
    p.top_p = INFINITY;
    CHECK(sample_chain_new(&p, &c) == SV_ERR_INVALID_ARG);
    p = sample_default_params();
    p.min_keep = -2;
    CHECK(sample_chain_new(&p, &c) == SV_ERR_INVALID_ARG);
    sample_logit_bias b = {.token = 10, .bias = 1.0f};
    p = sample_default_params();
    p.logit_bias = &b;
    p.n_logit_bias = 1;
    p.n_vocab = 10;
    CHECK(sample_chain_new(&p, &c) == SV_ERR_INVALID_ARG);
    CHECK(strstr(sv_errmsg(), "10") != NULL);
    b.token = -1;
    p.n_vocab = 0;
    CHECK(sample_chain_new(&p, &c) == SV_ERR_INVALID_ARG);
    b = (sample_logit_bias){.token = 3, .bias = NAN};
    CHECK(sample_chain_new(&p, &c) == SV_ERR_INVALID_ARG);
    p.logit_bias = NULL;
    CHECK(sample_chain_new(&p, &c) == SV_ERR_INVALID_ARG);
    CHECK(sample_chain_new(NULL, &c) == SV_ERR_INVALID_ARG);
    sample_chain_free(NULL);

    /* A bias id checked late, at the first sample, when n_vocab was unknown. */
    b = (sample_logit_bias){.token = 5, .bias = 1.0f};
    p = sample_default_params();
    p.logit_bias = &b;
    p.n_logit_bias = 1;
    c = make(&p);
    const float l[4] = {0};
    CHECK(sample_chain_sample(c, l, 4) == SV_ERR_INVALID_ARG);
    sample_chain_free(c);
}

static void test_bad_calls(void) {
    sample_params p = plain_params(1, 1.0f);
    sample_chain *c = make(&p);
    const float l[4] = {0, 1, 2, 3};
    CHECK(sample_chain_sample(c, NULL, 4) == SV_ERR_INVALID_ARG);
    CHECK(sample_chain_sample(c, l, 0) == SV_ERR_INVALID_ARG);
    CHECK(sample_chain_sample(c, l, 4) >= 0);
    CHECK(sample_chain_sample(c, l, 3) == SV_ERR_INVALID_ARG);
    CHECK(sample_chain_accept(c, 4) == SV_ERR_INVALID_ARG);
    CHECK(sample_chain_accept(c, -1) == SV_ERR_INVALID_ARG);
    CHECK(sample_chain_accept(c, 3) == SV_OK);
    const float dead[4] = {-INFINITY, NAN, -INFINITY, NAN};
    CHECK(sample_chain_sample(c, dead, 4) == SV_ERR_INVALID_ARG);
    sample_chain_free(c);
    p = plain_params(1, 0.0f);
    c = make(&p);
    CHECK(sample_chain_sample(c, dead, 4) == SV_ERR_INVALID_ARG);
    sample_chain_free(c);
}

static void test_greedy_is_argmax(void) {
    sample_params p = sample_default_params(); /* filters on, but temp 0 */
    p.temp = 0.0f;
    sample_chain *c = make(&p);
    sample_rng r;
    sample_rng_seed(&r, 3);
    static float l[1000];
    for (int t = 0; t < 50; t++) {
        size_t best = 0;
        for (size_t i = 0; i < 1000; i++) {
            l[i] = (float)(sample_rng_uniform(&r) * 10);
            if (l[i] > l[best]) best = i;
        }
        CHECK_EQ_I64(sample_chain_sample(c, l, 1000), (long long)best);
    }
    /* Ties: the lowest id wins; NaN never wins; +inf does. */
    for (size_t i = 0; i < 1000; i++) l[i] = 1.0f;
    l[3] = NAN;
    CHECK_EQ_I64(sample_chain_sample(c, l, 1000), 0);
    l[700] = INFINITY;
    CHECK_EQ_I64(sample_chain_sample(c, l, 1000), 700);
    sample_chain_free(c);
}

static void test_logit_bias(void) {
    const sample_logit_bias b[] = {{.token = 2, .bias = -INFINITY}, {.token = 0, .bias = 1.5f}};
    sample_params p = plain_params(1, 0.0f);
    p.logit_bias = b;
    p.n_logit_bias = 2;
    sample_chain *c = make(&p);
    const float l[] = {1.0f, 2.0f, 9.0f, 0.0f};
    /* 2 banned; 0 goes 1.0 -> 2.5 > 2.0 */
    CHECK_EQ_I64(sample_chain_sample(c, l, 4), 0);
    sample_chain_free(c);
    /* A banned token is never drawn either. */
    p.temp = 1.0f;
    c = make(&p);
    const float flat[] = {0.0f, 0.0f, 0.0f, 0.0f};
    int seen2 = 0;
    for (int i = 0; i < 2000; i++) seen2 += sample_chain_sample(c, flat, 4) == 2;
    CHECK_EQ_I64(seen2, 0);
    sample_chain_free(c);
}

static void test_penalties_window(void) {
    sample_params p = plain_params(1, 0.0f);
    p.penalty_last_n = 2;
    p.penalty_repeat = 1.0f;
    p.penalty_present = 10.0f;
    sample_chain *c = make(&p);
    const float l[] = {5.0f, 4.0f, 3.0f, 2.0f};
    CHECK_EQ_I64(sample_chain_sample(c, l, 4), 0);
    CHECK(sample_chain_accept(c, 0) == SV_OK);
    CHECK_EQ_I64(sample_chain_sample(c, l, 4), 1);
    CHECK(sample_chain_accept(c, 1) == SV_OK);
    CHECK_EQ_I64(sample_chain_sample(c, l, 4), 2);
    CHECK(sample_chain_accept(c, 2) == SV_OK); /* 0 leaves the window of 2 */
    CHECK_EQ_I64(sample_chain_sample(c, l, 4), 0);
    sample_chain_reset(c);
    CHECK_EQ_I64(sample_chain_sample(c, l, 4), 0);
    sample_chain_free(c);

    /* Repetition 2 and frequency 1: token 0 seen twice: 5 / 2 - 2 = 0.5 < 1 */
    p = plain_params(1, 0.0f);
    p.penalty_last_n = 8;
    p.penalty_repeat = 2.0f;
    p.penalty_freq = 1.0f;
    c = make(&p);
    const float m[] = {5.0f, 1.0f, 0.0f};
    CHECK(sample_chain_accept(c, 0) == SV_OK);
    CHECK_EQ_I64(sample_chain_sample(c, m, 3), 0); /* 5 / 2 - 1 = 1.5 */
    CHECK(sample_chain_accept(c, 0) == SV_OK);
    CHECK_EQ_I64(sample_chain_sample(c, m, 3), 1);
    sample_chain_free(c);
}

/* Draws n tokens and checks each frequency against want[] within 5 standard
 * errors sqrt(p (1 - p) / n): with a fixed seed the test is deterministic; the
 * bound is what a correct sampler meets with probability ~1 - 6e-7 per token. */
static void check_distribution(const char *what, const sample_params *p, const float *l, int n_vocab,
                               const double *want, int n) {
    sample_chain *c = make(p);
    static int counts[64];
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < n; i++) {
        int32_t id = sample_chain_sample(c, l, n_vocab);
        if (id < 0 || id >= 64) {
            CHECK_MSG(0, "%s: sample returned %d", what, id);
            break;
        }
        counts[id]++;
    }
    for (int t = 0; t < n_vocab && t < 64; t++) {
        double f = (double)counts[t] / n, se = sqrt(want[t] * (1 - want[t]) / n);
        if (want[t] == 0.0) CHECK_MSG(counts[t] == 0, "%s: token %d drawn %d times, want never", what, t, counts[t]);
        else CHECK_MSG(fabs(f - want[t]) <= 5 * se, "%s: token %d freq %.5f want %.5f (5 se = %.5f)", what, t, f,
                       want[t], 5 * se);
    }
    sample_chain_free(c);
}

static void softmax_ref(const float *l, int n, double temp, double *out) {
    double mx = -1e300, z = 0;
    for (int i = 0; i < n; i++) mx = l[i] > mx ? l[i] : mx;
    for (int i = 0; i < n; i++) z += out[i] = exp((l[i] - mx) / temp);
    for (int i = 0; i < n; i++) out[i] /= z;
}

static void test_distributions(void) {
    const float l[] = {1.0f, 2.0f, 0.5f, -1.0f, 1.5f};
    double want[5];
    const int n = 200000;

    sample_params p = plain_params(123, 1.0f);
    softmax_ref(l, 5, 1.0, want);
    check_distribution("temp 1", &p, l, 5, want, n);

    p = plain_params(124, 0.5f);
    softmax_ref(l, 5, 0.5, want);
    check_distribution("temp 0.5", &p, l, 5, want, n);

    /* top-k 2 then temp 2: renormalised over tokens 1 and 4. */
    p = plain_params(125, 2.0f);
    p.top_k = 2;
    {
        double a = exp(2.0 / 2), b = exp(1.5 / 2);
        double w[5] = {0, a / (a + b), 0, 0, b / (a + b)};
        check_distribution("top-k 2", &p, l, 5, w, n);
    }

    /* top-p 0.7 at temp 1: softmax = .1927 .5239 .1169 .0261 .3178 (rounded);
     * .5239 + .3178 = .8417 >= .7 keeps {1, 4}; then sampled at temp 0.8. */
    p = plain_params(126, 0.8f);
    p.top_p = 0.7f;
    {
        double a = exp(2.0 / 0.8), b = exp(1.5 / 0.8);
        double w[5] = {0, a / (a + b), 0, 0, b / (a + b)};
        check_distribution("top-p 0.7", &p, l, 5, w, n);
    }

    /* min-p 0.3: keeps p >= 0.3 * .5239 = .157: tokens 0, 1, 4. */
    p = plain_params(127, 1.0f);
    p.min_p = 0.3f;
    {
        double z = exp(1.0) + exp(2.0) + exp(1.5);
        double w[5] = {exp(1.0) / z, exp(2.0) / z, 0, 0, exp(1.5) / z};
        check_distribution("min-p 0.3", &p, l, 5, w, n);
    }
}

/* A vocabulary big enough for the one-pass top-k path (k <= n / 8): the mass
 * must still spread over exactly the k best. */
static void test_distribution_large_vocab(void) {
    static float l[4096];
    for (int i = 0; i < 4096; i++) l[i] = -5.0f - (float)(i % 7);
    l[100] = 3.0f;
    l[7] = 2.0f;
    l[4000] = 2.0f;
    l[50] = 1.0f;
    sample_params p = plain_params(9, 1.0f);
    p.top_k = 3;
    sample_chain *c = make(&p);
    int counts[3] = {0}, other = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        int32_t id = sample_chain_sample(c, l, 4096);
        if (id == 100) counts[0]++;
        else if (id == 7) counts[1]++;
        else if (id == 4000) counts[2]++;
        else other++;
    }
    CHECK_EQ_I64(other, 0);
    double z = exp(3.0) + 2 * exp(2.0);
    const double want[3] = {exp(3.0) / z, exp(2.0) / z, exp(2.0) / z};
    for (int t = 0; t < 3; t++) {
        double f = (double)counts[t] / n, se = sqrt(want[t] * (1 - want[t]) / n);
        CHECK_MSG(fabs(f - want[t]) <= 5 * se, "token slot %d freq %.4f want %.4f", t, f, want[t]);
    }
    sample_chain_free(c);
}

static void draw(sample_chain *c, const float *l, int n_vocab, int32_t *out, int n) {
    for (int i = 0; i < n; i++) {
        out[i] = sample_chain_sample(c, l, n_vocab);
        CHECK(sample_chain_accept(c, out[i] < 0 ? 0 : out[i]) == SV_OK);
    }
}

static void test_determinism(void) {
    static float l[2000];
    sample_rng r;
    sample_rng_seed(&r, 5);
    for (int i = 0; i < 2000; i++) l[i] = (float)(sample_rng_uniform(&r) * 4);
    sample_params p = sample_default_params();
    p.seed = 42;
    p.penalty_repeat = 1.3f;
    p.typical_p = 0.9f;
    static int32_t a[500], b[500], d[500];
    sample_chain *c1 = make(&p), *c2 = make(&p);
    draw(c1, l, 2000, a, 500);
    draw(c2, l, 2000, b, 500);
    CHECK(memcmp(a, b, sizeof a) == 0);
    sample_chain_reset(c1);
    draw(c1, l, 2000, d, 500);
    CHECK(memcmp(a, d, sizeof a) == 0);
    sample_chain_free(c1);
    sample_chain_free(c2);

    p.seed = 43;
    c1 = make(&p);
    draw(c1, l, 2000, d, 500);
    CHECK(memcmp(a, d, sizeof a) != 0);
    sample_chain_free(c1);

    /* A drawn seed is reported and replays. */
    p.seed = SAMPLE_SEED_RANDOM;
    c1 = make(&p);
    CHECK(sample_chain_seed(c1) != SAMPLE_SEED_RANDOM);
    draw(c1, l, 2000, a, 500);
    p.seed = sample_chain_seed(c1);
    c2 = make(&p);
    draw(c2, l, 2000, b, 500);
    CHECK(memcmp(a, b, sizeof a) == 0);
    sample_chain_free(c1);
    sample_chain_free(c2);
}

/* Greedy and top-k with bias and penalties against a reference in the test
 * that copies the row and edits it in place: covers the one-pass scan (large
 * vocabulary) and the full fill (small one), NaN / inf logits and banned or
 * forced tokens, over many random rows. */
static void ref_modified(const float *l, int n, const sample_logit_bias *b, int nb, const int32_t *last, int n_last,
                         float rep, float freq, float pres, float *out) {
    for (int i = 0; i < n; i++) out[i] = l[i] != l[i] ? -INFINITY : l[i] > FLT_MAX ? FLT_MAX : l[i];
    for (int i = 0; i < nb; i++) {
        float v = out[b[i].token] + b[i].bias;
        out[b[i].token] = v != v ? -INFINITY : v > FLT_MAX ? FLT_MAX : v;
    }
    for (int t = 0; t < n; t++) {
        int cnt = 0;
        for (int i = 0; i < n_last; i++) cnt += last[i] == t;
        if (cnt == 0) continue;
        float v = out[t] <= 0 ? out[t] * rep : out[t] / rep;
        v -= (float)cnt * freq + pres;
        out[t] = v != v ? -INFINITY : v > FLT_MAX ? FLT_MAX : v;
    }
}

static void test_bias_penalties_against_reference(void) {
    sample_rng r;
    sample_rng_seed(&r, 99);
    static float l[5000], m[5000];
    const int sizes[] = {50, 5000};
    for (int si = 0; si < 2; si++) {
        const int n = sizes[si];
        for (int trial = 0; trial < 40; trial++) {
            sample_logit_bias b[6];
            for (int i = 0; i < 6; i++) {
                double u = sample_rng_uniform(&r);
                b[i] = (sample_logit_bias){.token = (int32_t)(sample_rng_next(&r) % (uint64_t)n),
                                           .bias = u < 0.2 ? -INFINITY : u < 0.3 ? 50.0f : (float)(u * 8 - 4)};
            }
            sample_params p = plain_params(trial, 0.0f);
            p.logit_bias = b;
            p.n_logit_bias = 6;
            p.penalty_last_n = 16;
            p.penalty_repeat = 1.0f + (float)sample_rng_uniform(&r);
            p.penalty_freq = (float)sample_rng_uniform(&r);
            p.penalty_present = (float)sample_rng_uniform(&r) * 2;
            sample_chain *cg = make(&p);
            p.temp = 1.0f;
            p.top_k = 5;
            sample_chain *ck = make(&p);
            int32_t last[16];
            int n_last = 0;
            for (int step = 0; step < 20; step++) {
                for (int i = 0; i < n; i++) {
                    double u = sample_rng_uniform(&r);
                    l[i] = u < 0.01 ? NAN : u < 0.02 ? -INFINITY : (u < 0.021 && step % 5 == 0) ? INFINITY : (float)(u * 10);
                }
                /* Recently accepted tokens get the top raw logits, so that the
                 * penalties decide whether they stay on top. */
                for (int i = 0; i < n_last; i++) l[last[i]] = 11.0f + 0.2f * (float)i;
                ref_modified(l, n, b, 6, last, n_last, p.penalty_repeat, p.penalty_freq, p.penalty_present, m);
                int best = -1;
                for (int i = 0; i < n; i++)
                    if (m[i] > -INFINITY && (best < 0 || m[i] > m[best])) best = i;
                int32_t g = sample_chain_sample(cg, l, n);
                CHECK_MSG(g == best, "n %d trial %d step %d: greedy %d, reference %d", n, trial, step, g, best);
                /* Top-5: the drawn token must be one of the reference's 5 best. */
                int32_t t = sample_chain_sample(ck, l, n);
                int rank = 0;
                for (int i = 0; t >= 0 && i < n; i++) rank += m[i] > m[t] || (m[i] == m[t] && i < t);
                CHECK_MSG(t >= 0 && m[t] > -INFINITY && rank < 5, "n %d trial %d: top-k drew %d of rank %d", n, trial,
                          t, rank);
                int32_t acc = (int32_t)(sample_rng_next(&r) % (uint64_t)n);
                CHECK(sample_chain_accept(cg, acc) == SV_OK && sample_chain_accept(ck, acc) == SV_OK);
                if (n_last < 16) last[n_last++] = acc;
                else {
                    memmove(last, last + 1, 15 * sizeof *last);
                    last[15] = acc;
                }
            }
            sample_chain_free(cg);
            sample_chain_free(ck);
        }
    }
}

/* A recorded token stream: the same seed must give these tokens on every
 * platform, compiler and version (the PRNG is integer-only, the softmax uses
 * the module's own exp, contraction is off). Recorded with GCC 12 -O3 and
 * checked identical with clang -march=native (FMA allowed). If an intended
 * change to the samplers alters it, re-record and say so in the commit. */
static void test_golden_stream(void) {
    static const int32_t want[3][24] = {
        {778, 29, 559, 597, 409, 530, 392, 286, 884, 588, 901, 621, 470, 786, 277, 801, 905, 553, 99, 444, 484, 510,
         992, 188},
        {28, 165, 790, 549, 92, 250, 534, 200, 673, 738, 597, 247, 149, 697, 432, 941, 677, 807, 375, 917, 900, 277,
         441, 28},
        {92, 638, 965, 118, 206, 946, 74, 412, 4, 35, 895, 789, 297, 659, 714, 546, 655, 317, 925, 168, 286, 474, 772,
         49},
    };
    static float l[1000];
    sample_rng r;
    sample_rng_seed(&r, 2025);
    for (int i = 0; i < 1000; i++) l[i] = (float)(sample_rng_uniform(&r) * 6.0);
    for (int v = 0; v < 3; v++) {
        sample_params p = sample_default_params();
        p.seed = 1234;
        p.penalty_repeat = 1.2f;
        if (v == 1) {
            p.top_k = 0;
            p.top_p = 0.9f;
            p.min_p = 0;
        }
        if (v == 2) {
            p.top_k = 0;
            p.typical_p = 0.8f;
            p.temp = 1.3f;
        }
        sample_chain *c = make(&p);
        int same = 1;
        for (int t = 0; t < 24; t++) {
            int32_t id = sample_chain_sample(c, l, 1000);
            same &= id == want[v][t];
            CHECK(sample_chain_accept(c, id < 0 ? 0 : id) == SV_OK);
            if (id >= 0) l[(id * 7) % 1000] += 0.5f;
        }
        CHECK_MSG(same, "recorded stream %d differs", v);
        sample_chain_free(c);
    }
}

/* Min-p as the only filter takes a two-pass path over the raw row; its set
 * must be what min-p keeps of the biased, penalised logits, also when the raw
 * maximum is a penalised token and the new maximum a biased one. */
static void test_min_p_only_path(void) {
    static float l[5000], m[5000];
    static unsigned char in[5000];
    sample_rng r;
    sample_rng_seed(&r, 31);
    for (int trial = 0; trial < 20; trial++) {
        for (int i = 0; i < 5000; i++) l[i] = (float)(sample_rng_uniform(&r) * 10);
        const int32_t top = (int32_t)(sample_rng_next(&r) % 5000), lifted = (int32_t)(sample_rng_next(&r) % 5000);
        l[top] = 11.0f + 0.1f * (float)trial; /* the raw maximum, penalised to ~1.1 */
        const sample_logit_bias b[] = {{.token = lifted, .bias = trial % 2 ? 0.5f : 25.0f},
                                       {.token = (top + 1) % 5000, .bias = -INFINITY}};
        sample_params p = plain_params((uint64_t)trial, 1.0f);
        p.min_p = 0.05f + 0.02f * (float)trial;
        p.penalty_last_n = 4;
        p.penalty_repeat = 10.0f;
        p.logit_bias = b;
        p.n_logit_bias = 2;
        sample_chain *c = make(&p);
        CHECK(sample_chain_accept(c, top) == SV_OK);
        int32_t id = sample_chain_sample(c, l, 5000);
        size_t n = 0;
        const sample_cand *cand = sample_chain_candidates(c, &n);
        memcpy(m, l, sizeof m);
        m[lifted] += b[0].bias;
        m[(top + 1) % 5000] = -INFINITY;
        m[top] /= 10.0f;
        float mx = -INFINITY;
        for (int i = 0; i < 5000; i++) mx = m[i] > mx ? m[i] : mx;
        const float thr = mx + logf(p.min_p);
        memset(in, 0, sizeof in);
        for (size_t i = 0; i < n; i++) in[cand[i].id] = 1;
        size_t want = 0, missing = 0;
        for (int i = 0; i < 5000; i++)
            if (m[i] >= thr) {
                want++;
                missing += !in[i];
            }
        CHECK_MSG(n == want && missing == 0 && id >= 0 && in[id], "trial %d: %zu candidates, want %zu, %zu missing",
                  trial, n, want, missing);
        sample_chain_free(c);
    }
}

/* After the first call a chain must not allocate: glibc's counters of bytes in
 * use and of mmap'd chunks stay put over many samples. */
static void test_no_allocation_per_token(void) {
    const int n_vocab = 50000;
    float *l = malloc(n_vocab * sizeof *l);
    sample_rng r;
    sample_rng_seed(&r, 1);
    for (int i = 0; i < n_vocab; i++) l[i] = (float)sample_rng_uniform(&r);
    sample_params p = sample_default_params();
    p.seed = 1;
    p.top_k = 0; /* full-vocabulary paths: fill, typical, top-p */
    p.typical_p = 0.95f;
    p.penalty_repeat = 1.1f;
    sample_chain *c = make(&p);
    CHECK(sample_chain_sample(c, l, n_vocab) >= 0);
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 50; i++) {
        int32_t id = sample_chain_sample(c, l, n_vocab);
        CHECK(id >= 0 && sample_chain_accept(c, id) == SV_OK);
    }
    struct mallinfo2 after = mallinfo2();
    CHECK_EQ_I64(after.uordblks, before.uordblks);
    CHECK_EQ_I64(after.hblkhd, before.hblkhd);
    sample_chain_free(c);
    free(l);
}

int main(void) {
    RUN_TEST(test_bad_params);
    RUN_TEST(test_bad_calls);
    RUN_TEST(test_greedy_is_argmax);
    RUN_TEST(test_logit_bias);
    RUN_TEST(test_penalties_window);
    RUN_TEST(test_distributions);
    RUN_TEST(test_distribution_large_vocab);
    RUN_TEST(test_determinism);
    RUN_TEST(test_golden_stream);
    RUN_TEST(test_bias_penalties_against_reference);
    RUN_TEST(test_min_p_only_path);
    RUN_TEST(test_no_allocation_per_token);
    return test_main_end();
}
