#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sample/sample_ops.h"
#include "sample/sample_rng.h"
#include "sample/sample_vec.h"

static sample_cand buf[8192];
static sample_cand ref[8192];

static sample_cands from_logits(const float *l, size_t n) {
    for (size_t i = 0; i < n; i++) buf[i] = (sample_cand){.id = (int32_t)i, .logit = l[i]};
    return (sample_cands){.data = buf, .n = n};
}

/* Logits whose softmax is exactly the given probabilities. */
static sample_cands from_probs(const double *p, size_t n) {
    for (size_t i = 0; i < n; i++) buf[i] = (sample_cand){.id = (int32_t)i, .logit = (float)log(p[i])};
    return (sample_cands){.data = buf, .n = n};
}

static int has_id(const sample_cands *c, int32_t id) {
    for (size_t i = 0; i < c->n; i++)
        if (c->data[i].id == id) return 1;
    return 0;
}

static void test_softmax(void) {
    const float l[] = {1.0f, 2.0f, 3.0f, -INFINITY};
    sample_cands c = from_logits(l, 4);
    sample_softmax(&c);
    double z = exp(1.0) + exp(2.0) + exp(3.0);
    CHECK(fabs(c.data[0].p - exp(1.0) / z) < 1e-6);
    CHECK(fabs(c.data[1].p - exp(2.0) / z) < 1e-6);
    CHECK(fabs(c.data[2].p - exp(3.0) / z) < 1e-6);
    CHECK(c.data[3].p == 0.0f);
    /* Large logits must not overflow: the max is subtracted first. */
    const float big[] = {1000.0f, 1000.0f};
    c = from_logits(big, 2);
    sample_softmax(&c);
    CHECK(fabs(c.data[0].p - 0.5) < 1e-6 && fabs(c.data[1].p - 0.5) < 1e-6);
}

static void test_sort_and_top_k_ties(void) {
    const float l[] = {0.1f, 3.0f, 2.0f, 3.0f, -1.0f};
    sample_cands c = from_logits(l, 5);
    sample_sort(&c);
    const int32_t want[] = {1, 3, 2, 0, 4};
    for (int i = 0; i < 5; i++) CHECK_EQ_I64(c.data[i].id, want[i]);
    c = from_logits(l, 5);
    sample_top_k(&c, 2);
    CHECK_EQ_I64(c.n, 2);
    CHECK_EQ_I64(c.data[0].id, 1);
    CHECK_EQ_I64(c.data[1].id, 3);
    CHECK(c.sorted);
    c = from_logits(l, 5);
    sample_top_k(&c, 3);
    CHECK_EQ_I64(c.n, 3);
    CHECK_EQ_I64(c.data[2].id, 2);
    c = from_logits(l, 5);
    sample_top_k(&c, 0);
    CHECK_EQ_I64(c.n, 5);
    sample_top_k(&c, 9);
    CHECK_EQ_I64(c.n, 5);
}

/* Reference: sort a copy by insertion (independent of the heap code). */
static void ref_sort(sample_cand *a, size_t n) {
    for (size_t i = 1; i < n; i++) {
        sample_cand x = a[i];
        size_t j = i;
        while (j > 0 && (a[j - 1].logit < x.logit || (a[j - 1].logit == x.logit && a[j - 1].id > x.id))) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

static void fill_pattern(float *x, size_t n, int pattern, sample_rng *r) {
    for (size_t i = 0; i < n; i++) {
        switch (pattern) {
        case 0: x[i] = (float)(sample_rng_uniform(r) * 20 - 10); break;
        case 1: x[i] = (float)(int)(sample_rng_uniform(r) * 5); break;   /* many ties */
        case 2: x[i] = (float)i; break;                                  /* ascending */
        case 3: x[i] = (float)(n - i); break;                            /* descending */
        case 4: x[i] = 1.0f; break;                                      /* all equal */
        default: x[i] = sample_rng_uniform(r) < 0.3 ? -INFINITY : (float)sample_rng_uniform(r); break;
        }
    }
}

/* top_k (quickselect path), top_k_scan (heap path) and a full insertion sort
 * agree exactly on many shapes, ties and -inf included. */
static void test_top_k_paths_agree(void) {
    static float x[3000];
    sample_rng r;
    sample_rng_seed(&r, 7);
    const size_t sizes[] = {1, 2, 17, 100, 3000};
    const size_t ks[] = {1, 2, 5, 40, 999};
    for (int pat = 0; pat < 6; pat++) {
        for (size_t si = 0; si < 5; si++) {
            size_t n = sizes[si];
            fill_pattern(x, n, pat, &r);
            size_t n_finite = 0;
            for (size_t i = 0; i < n; i++) {
                ref[i] = (sample_cand){.id = (int32_t)i, .logit = x[i]};
                n_finite += x[i] > -INFINITY;
            }
            ref_sort(ref, n);
            for (size_t ki = 0; ki < 5; ki++) {
                size_t k = ks[ki] < n ? ks[ki] : n;
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                    if (x[i] > -INFINITY) buf[m++] = (sample_cand){.id = (int32_t)i, .logit = x[i]};
                sample_cands c = {.data = buf, .n = m};
                sample_top_k(&c, k);
                /* k >= n leaves the array as it was: sort it to compare. */
                CHECK(c.sorted || k >= m);
                sample_sort(&c);
                size_t want_n = k < n_finite ? k : n_finite;
                CHECK_MSG(c.n == want_n, "pattern %d n %zu k %zu: top_k kept %zu", pat, n, k, c.n);
                int same = 1;
                for (size_t i = 0; i < c.n && i < want_n; i++) same &= c.data[i].id == ref[i].id;
                CHECK_MSG(same, "pattern %d n %zu k %zu: top_k order differs from reference", pat, n, k);

                static sample_cand out[3000];
                size_t got = sample_top_k_scan(x, n, k, NULL, out);
                CHECK_MSG(got == want_n, "pattern %d n %zu k %zu: scan kept %zu", pat, n, k, got);
                same = 1;
                for (size_t i = 0; i < got && i < want_n; i++) same &= out[i].id == ref[i].id;
                CHECK_MSG(same, "pattern %d n %zu k %zu: scan order differs from reference", pat, n, k);
            }
        }
    }
}

static void test_top_p_small(void) {
    const double p[] = {0.15, 0.5, 0.05, 0.3};
    sample_cands c = from_probs(p, 4);
    sample_top_p(&c, 0.75f, 1); /* 0.5 + 0.3 = 0.8 >= 0.75 */
    CHECK_EQ_I64(c.n, 2);
    CHECK(has_id(&c, 1) && has_id(&c, 3));
    c = from_probs(p, 4);
    sample_sort(&c);
    sample_top_p(&c, 0.75f, 1); /* the sorted-input path: order kept */
    CHECK(c.n == 2 && c.sorted && c.data[0].id == 1 && c.data[1].id == 3);
    c = from_probs(p, 4);
    sample_top_p(&c, 0.85f, 1); /* needs 0.95 */
    CHECK_EQ_I64(c.n, 3);
    CHECK(has_id(&c, 0) && !has_id(&c, 2));
    c = from_probs(p, 4);
    sample_top_p(&c, 0.1f, 1);
    CHECK_EQ_I64(c.n, 1);
    CHECK_EQ_I64(c.data[0].id, 1);
    c = from_probs(p, 4);
    sample_top_p(&c, 0.1f, 3);
    CHECK_EQ_I64(c.n, 3);
    c = from_probs(p, 4);
    sample_top_p(&c, 1.0f, 1);
    CHECK_EQ_I64(c.n, 4);
}

/* Large unsorted input: the incremental partial sort must cut where a full
 * sort and running sum say. */
static void test_top_p_large(void) {
    sample_rng r;
    sample_rng_seed(&r, 11);
    const size_t n = 8000;
    static float x[8000];
    const float ps[] = {0.01f, 0.5f, 0.9f, 0.99f, 0.999999f};
    for (int t = 0; t < 5; t++) {
        for (size_t i = 0; i < n; i++) x[i] = (float)(sample_rng_uniform(&r) * 6);
        double mx = -1e30, z = 0;
        for (size_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
        for (size_t i = 0; i < n; i++) z += exp(x[i] - mx);
        for (size_t i = 0; i < n; i++) ref[i] = (sample_cand){.id = (int32_t)i, .logit = x[i]};
        ref_sort(ref, n);
        size_t want = n;
        double cum = 0;
        for (size_t i = 0; i < n; i++) {
            cum += exp(ref[i].logit - mx) / z;
            if (cum >= ps[t]) {
                want = i + 1;
                break;
            }
        }
        sample_cands c = from_logits(x, n);
        sample_top_p(&c, ps[t], 1);
        /* The library sums float probabilities, the reference doubles: allow
         * the cut to move by one where the sum lands within rounding of p. */
        CHECK_MSG(c.n + 1 >= want && c.n <= want + 1, "top_p %g: kept %zu, reference %zu", (double)ps[t], c.n, want);
        static unsigned char kept[8000];
        memset(kept, 0, sizeof kept);
        for (size_t i = 0; i < c.n; i++) kept[c.data[i].id] = 1;
        size_t missing = 0;
        for (size_t i = 0; i < c.n && i < want; i++) missing += !kept[ref[i].id];
        CHECK_MSG(missing == 0, "top_p %g: %zu tokens of the reference prefix missing", (double)ps[t], missing);
    }
}

/* min_keep above the nucleus on a large unsorted set: exactly the best 50. */
static void test_top_p_min_keep_large(void) {
    sample_rng r;
    sample_rng_seed(&r, 12);
    static float x[5000];
    for (size_t i = 0; i < 5000; i++) x[i] = (float)(sample_rng_uniform(&r) * 3);
    x[4321] = 40.0f; /* alone holds nearly all the mass */
    for (size_t i = 0; i < 5000; i++) ref[i] = (sample_cand){.id = (int32_t)i, .logit = x[i]};
    ref_sort(ref, 5000);
    sample_cands c = from_logits(x, 5000);
    sample_top_p(&c, 0.5f, 50);
    CHECK_EQ_I64(c.n, 50);
    size_t missing = 0;
    for (size_t i = 0; i < 50; i++) missing += !has_id(&c, ref[i].id);
    CHECK_EQ_I64(missing, 0);
    c = from_logits(x, 5000);
    sample_top_p(&c, 0.5f, 1);
    CHECK(c.n == 1 && c.data[0].id == 4321);
}

static void test_min_p(void) {
    const double p[] = {0.15, 0.5, 0.05, 0.3};
    sample_cands c = from_probs(p, 4);
    sample_min_p(&c, 0.2f, 1); /* threshold 0.1: drops 0.05 */
    CHECK_EQ_I64(c.n, 3);
    CHECK(!has_id(&c, 2));
    /* Order is kept. */
    CHECK(c.data[0].id == 0 && c.data[1].id == 1 && c.data[2].id == 3);
    c = from_probs(p, 4);
    sample_min_p(&c, 0.7f, 1); /* threshold 0.35 */
    CHECK_EQ_I64(c.n, 1);
    CHECK_EQ_I64(c.data[0].id, 1);
    c = from_probs(p, 4);
    sample_min_p(&c, 0.7f, 2);
    CHECK_EQ_I64(c.n, 2);
    CHECK(has_id(&c, 1) && has_id(&c, 3));
    c = from_probs(p, 4);
    sample_min_p(&c, 0.0f, 1);
    CHECK_EQ_I64(c.n, 4);
}

/* p = {0.4, 0.3, 0.2, 0.1}: H = 1.2799 nats; -ln p = 0.916, 1.204, 1.609,
 * 2.303; |-ln p - H| = 0.364, 0.076, 0.329, 1.023, so typicality orders the
 * ids 1, 2, 0, 3 with running sums 0.3, 0.5, 0.9, 1.0. */
static void test_typical(void) {
    const double p[] = {0.4, 0.3, 0.2, 0.1};
    double h = 0;
    for (int i = 0; i < 4; i++) h -= p[i] * log(p[i]);
    CHECK(fabs(h - 1.2799) < 1e-4);
    sample_cands c = from_probs(p, 4);
    sample_typical(&c, 0.45f, 1);
    CHECK_EQ_I64(c.n, 2);
    CHECK(c.data[0].id == 1 && c.data[1].id == 2);
    c = from_probs(p, 4);
    sample_typical(&c, 0.6f, 1);
    CHECK_EQ_I64(c.n, 3);
    CHECK(c.data[2].id == 0);
    c = from_probs(p, 4);
    sample_typical(&c, 0.2f, 1);
    CHECK_EQ_I64(c.n, 1);
    CHECK_EQ_I64(c.data[0].id, 1);
    c = from_probs(p, 4);
    sample_typical(&c, 0.2f, 3);
    CHECK_EQ_I64(c.n, 3);
    c = from_probs(p, 4);
    sample_typical(&c, 1.0f, 1);
    CHECK_EQ_I64(c.n, 4);
}

static void test_temp_and_pick(void) {
    const float l[] = {1.0f, -2.0f, -INFINITY};
    sample_cands c = from_logits(l, 3);
    sample_temp(&c, 0.5f);
    CHECK(c.data[0].logit == 2.0f && c.data[1].logit == -4.0f && c.data[2].logit == -INFINITY);
    /* A tiny temperature overflows l / t; it must stay a usable number. */
    c = from_logits(l, 3);
    sample_temp(&c, 1e-40f);
    sample_softmax(&c);
    CHECK(c.data[0].p == 1.0f && c.data[1].p == 0.0f);

    const double p[] = {0.25, 0.25, 0.5};
    c = from_probs(p, 3);
    sample_softmax(&c);
    CHECK_EQ_I64(sample_pick(&c, 0.0), 0);
    CHECK_EQ_I64(sample_pick(&c, 0.24), 0);
    CHECK_EQ_I64(sample_pick(&c, 0.26), 1);
    CHECK_EQ_I64(sample_pick(&c, 0.49), 1);
    CHECK_EQ_I64(sample_pick(&c, 0.51), 2);
    CHECK_EQ_I64(sample_pick(&c, 0.999999), 2);
    /* A zero-probability candidate is never picked, even at the edges. */
    const double q[] = {0.5, 1e-300, 0.5};
    c = from_probs(q, 3);
    sample_softmax(&c);
    CHECK(c.data[1].p == 0.0f);
    CHECK_EQ_I64(sample_pick(&c, 0.5), 2);
    CHECK_EQ_I64(sample_pick(&c, 0.9999999999), 2);
}

/* The scan doubles as argmax (k = 1): lowest id on ties, NaN never, +inf as
 * the largest float (so a lower id at FLT_MAX still wins the tie). */
static void test_scan_argmax_and_specials(void) {
    static float x[100];
    static sample_cand out[100];
    for (int i = 0; i < 100; i++) x[i] = (float)(i % 10);
    CHECK_EQ_I64(sample_top_k_scan(x, 100, 1, NULL, out), 1);
    CHECK_EQ_I64(out[0].id, 9);
    x[3] = NAN;
    x[50] = NAN;
    x[40] = FLT_MAX;
    x[90] = INFINITY;
    CHECK_EQ_I64(sample_top_k_scan(x, 100, 2, NULL, out), 2);
    CHECK(out[0].id == 40 && out[1].id == 90 && out[1].logit == FLT_MAX);
    for (int i = 0; i < 100; i++) x[i] = -INFINITY;
    x[77] = NAN;
    CHECK_EQ_I64(sample_top_k_scan(x, 100, 3, NULL, out), 0);
    x[60] = -1.0f;
    CHECK_EQ_I64(sample_top_k_scan(x, 100, 3, NULL, out), 1);
    CHECK_EQ_I64(out[0].id, 60);
    /* Skipped ids are left out, in the first fill and in the scan alike. */
    static uint32_t skip[100];
    for (int i = 0; i < 100; i++) x[i] = (float)i;
    skip[0] = skip[99] = skip[97] = 1;
    CHECK_EQ_I64(sample_top_k_scan(x, 100, 2, skip, out), 2);
    CHECK(out[0].id == 98 && out[1].id == 96);
    CHECK_EQ_I64(sample_top_k_scan(x, 100, 99, skip, out), 97);
    CHECK(out[96].id == 1);
}

static void test_collect_at_least(void) {
    static float x[70];
    static sample_cand out[70];
    static uint32_t skip[70];
    for (int i = 0; i < 70; i++) x[i] = (float)(i % 7);
    x[10] = NAN;
    x[20] = INFINITY;
    x[30] = -INFINITY;
    skip[13] = 1; /* 13 % 7 == 6 */
    /* >= 5 keeps the 5s and 6s (threshold included), +inf as FLT_MAX. */
    size_t m = sample_collect_at_least(x, 70, 5.0f, skip, out);
    size_t want = 0;
    int ok = 1;
    for (int i = 0; i < 70; i++) {
        if (i == 10 || i == 13 || i == 30 || (i != 20 && i % 7 < 5)) continue;
        ok &= want < m && out[want].id == i && out[want].logit == (i == 20 ? FLT_MAX : x[i]);
        want++;
    }
    CHECK_EQ_I64(m, want);
    CHECK(ok);
    CHECK_EQ_I64(sample_collect_at_least(x, 70, FLT_MAX, NULL, out), 1);
    CHECK_EQ_I64(sample_collect_at_least(x, 70, -FLT_MAX, NULL, out), 68);
}

static void test_penalize(void) {
    /* Seen twice, repeat 2, freq 0.5, present 0.25: 2 / 2 - (2 * 0.5 + 0.25). */
    CHECK(sample_penalize(2.0f, 2, 2.0f, 0.5f, 0.25f) == -0.25f);
    /* A negative logit is multiplied: -2 * 2 - (0.5 + 0.25). */
    CHECK(sample_penalize(-2.0f, 1, 2.0f, 0.5f, 0.25f) == -4.75f);
    CHECK(sample_penalize(0.0f, 1, 3.0f, 0.0f, 0.0f) == 0.0f);
    CHECK(sample_penalize(-INFINITY, 3, 1.5f, 1.0f, 1.0f) == -INFINITY);
    CHECK(sample_penalize(-INFINITY, 3, 1.5f, -INFINITY, 0.0f) == -INFINITY); /* NaN -> -inf */
    CHECK(sample_penalize(FLT_MAX, 1, 1.0f, -FLT_MAX, 0.0f) == FLT_MAX);
}

/* The samplers' own exp against libm over its whole range, and the vector
 * form bit-identical to the scalar one. */
static void test_exp(void) {
    double worst = 0;
    int same = 1;
    for (int i = 0; i <= 200000; i++) {
        float x = -87.0f * (float)i / 200000.0f;
        double want = exp((double)x), got = sample_exp_nonpos(x);
        double rel = fabs(got - want) / want;
        if (rel > worst) worst = rel;
#if SAMPLE_VEC
        sample_v4f v = sample_v4f_exp_nonpos(sample_v4f_splat(x));
        same &= v[0] == (float)got && v[3] == (float)got;
#endif
    }
    CHECK_MSG(worst < 5e-7, "exp relative error %g", worst);
    CHECK(same);
    CHECK(sample_exp_nonpos(0.0f) == 1.0f);
    CHECK(sample_exp_nonpos(-88.0f) == 0.0f);
    CHECK(sample_exp_nonpos(-INFINITY) == 0.0f);
#if SAMPLE_VEC
    sample_v4f v = sample_v4f_exp_nonpos((sample_v4f){-INFINITY, -100.0f, 0.0f, -1.0f});
    CHECK(v[0] == 0.0f && v[1] == 0.0f && v[2] == 1.0f && fabs(v[3] - exp(-1.0)) < 1e-7);
#endif
}

/* Typical over a larger random set against a double-precision reference
 * (libm logs, full sort by typicality). */
static void test_typical_large(void) {
    sample_rng r;
    sample_rng_seed(&r, 21);
    const size_t n = 3000;
    static float x[3000];
    static double key[3000];
    static int order[3000];
    const float ps[] = {0.2f, 0.7f, 0.95f};
    for (int t = 0; t < 3; t++) {
        for (size_t i = 0; i < n; i++) x[i] = (float)(sample_rng_uniform(&r) * 8);
        double mx = -1e30, z = 0, h = 0;
        for (size_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
        for (size_t i = 0; i < n; i++) z += exp(x[i] - mx);
        for (size_t i = 0; i < n; i++) {
            double p = exp(x[i] - mx) / z;
            h -= p * log(p);
        }
        for (size_t i = 0; i < n; i++) {
            key[i] = fabs(-log(exp(x[i] - mx) / z) - h);
            order[i] = (int)i;
        }
        for (size_t i = 1; i < n; i++) { /* insertion sort by key */
            int v = order[i];
            size_t j = i;
            while (j > 0 && key[order[j - 1]] > key[v]) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = v;
        }
        size_t want = n;
        double cum = 0;
        for (size_t i = 0; i < n; i++) {
            cum += exp(x[order[i]] - mx) / z;
            if (cum >= ps[t]) {
                want = i + 1;
                break;
            }
        }
        sample_cands c = from_logits(x, n);
        sample_typical(&c, ps[t], 1);
        /* Float keys may swap near-equal neighbours and move the cut by one. */
        CHECK_MSG(c.n + 1 >= want && c.n <= want + 1, "typical %g: kept %zu, reference %zu", (double)ps[t], c.n, want);
        size_t common = c.n < want ? c.n : want, missing = 0;
        for (size_t i = 0; i + 2 < common; i++) missing += !has_id(&c, order[i]);
        CHECK_MSG(missing == 0, "typical %g: %zu reference tokens missing", (double)ps[t], missing);
    }
}

int main(void) {
    RUN_TEST(test_softmax);
    RUN_TEST(test_sort_and_top_k_ties);
    RUN_TEST(test_top_k_paths_agree);
    RUN_TEST(test_top_p_small);
    RUN_TEST(test_top_p_large);
    RUN_TEST(test_top_p_min_keep_large);
    RUN_TEST(test_min_p);
    RUN_TEST(test_typical);
    RUN_TEST(test_typical_large);
    RUN_TEST(test_exp);
    RUN_TEST(test_temp_and_pick);
    RUN_TEST(test_scan_argmax_and_specials);
    RUN_TEST(test_collect_at_least);
    RUN_TEST(test_penalize);
    return test_main_end();
}
