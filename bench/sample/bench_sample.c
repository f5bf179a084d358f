/* Per-token cost of sample_chain_sample at n_vocab = 262144 (Gemma 3) for the
 * usual parameter sets, against two baselines timed in the same loop:
 *   full-sort: a naive sampler (candidates for the whole vocabulary, qsort,
 *              then the same filters);
 *   fill:      only building the (id, logit, p) array for the whole
 *              vocabulary, which a llama.cpp-style sampler does every token
 *              before any filter runs: a floor for that design.
 * Prints medians per token and the baseline / chain ratios (> 1: chain faster).
 * Usage: bench_sample [n_vocab] [tokens] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timer.h"
#include "sample/sample.h"
#include "sample/sample_rng.h"

typedef struct {
    int32_t id;
    float logit, p;
} naive_cand;

static int cmp_desc(const void *a, const void *b) {
    const naive_cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id < y->id ? -1 : 1;
}

static void naive_softmax(naive_cand *c, size_t n) {
    double z = 0;
    for (size_t i = 0; i < n; i++) z += c[i].p = expf(c[i].logit - c[0].logit);
    for (size_t i = 0; i < n; i++) c[i].p = (float)(c[i].p / z);
}

/* The textbook pipeline: sort everything, then cut. */
static int32_t naive_sample(const sample_params *p, const float *logits, size_t n, naive_cand *c, sample_rng *r) {
    for (size_t i = 0; i < n; i++) c[i] = (naive_cand){.id = (int32_t)i, .logit = logits[i]};
    qsort(c, n, sizeof *c, cmp_desc);
    if (p->temp <= 0) return c[0].id;
    if (p->top_k > 0 && (size_t)p->top_k < n) n = (size_t)p->top_k;
    naive_softmax(c, n);
    if (p->top_p < 1) {
        double cum = 0;
        for (size_t i = 0; i < n; i++)
            if ((cum += c[i].p) >= p->top_p) {
                n = i + 1;
                break;
            }
    }
    if (p->min_p > 0) {
        size_t m = 1;
        while (m < n && c[m].p >= p->min_p * c[0].p) m++;
        n = m;
    }
    for (size_t i = 0; i < n; i++) c[i].logit /= p->temp;
    naive_softmax(c, n);
    double u = sample_rng_uniform(r), cum = 0;
    for (size_t i = 0; i < n; i++)
        if ((cum += c[i].p) > u) return c[i].id;
    return c[n - 1].id;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* Logits shaped like a language model's: a broad Gaussian body and a few
 * strong candidates (peaked), or the body alone (flat, the worst case for
 * top-p and typical over the whole vocabulary). */
static void make_logits(float *l, size_t n, int peaked, uint64_t seed) {
    sample_rng r;
    sample_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        double u1 = sample_rng_uniform(&r) + 1e-12, u2 = sample_rng_uniform(&r);
        l[i] = (float)(2.5 * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
    }
    if (peaked)
        for (int k = 0; k < 20; k++) l[sample_rng_next(&r) % n] = 12.0f + (float)k * 0.3f;
}

int main(int argc, char **argv) {
    const size_t n = argc > 1 ? (size_t)atol(argv[1]) : 262144;
    const int tokens = argc > 2 ? atoi(argv[2]) : 100;
    const int rows = 8;
    float *logits = malloc(rows * n * sizeof *logits);
    naive_cand *cands = malloc(n * sizeof *cands);
    double *t_chain = malloc((size_t)tokens * sizeof(double)), *t_naive = malloc((size_t)tokens * sizeof(double));
    double *t_fill = malloc((size_t)tokens * sizeof(double));
    if (!logits || !cands || !t_chain || !t_naive || !t_fill) return 1;

    struct {
        const char *name;
        int peaked;
        sample_params p;
    } cfg[9];
    int nc = 0;
    sample_params d = sample_default_params();
    d.seed = 1;
    d.penalty_repeat = 1.1f;
    cfg[nc++] = (__typeof__(cfg[0])){"greedy", 1, d};
    cfg[nc - 1].p.temp = 0;
    cfg[nc++] = (__typeof__(cfg[0])){"default: k40 p.95 minp.05 t.8 rep1.1", 1, d};
    cfg[nc++] = (__typeof__(cfg[0])){"default, flat logits", 0, d};
    cfg[nc] = (__typeof__(cfg[0])){"no top-k: top-p .95 min-p .05", 1, d};
    cfg[nc++].p.top_k = 0;
    cfg[nc] = (__typeof__(cfg[0])){"no top-k: top-p .95 only", 1, d};
    cfg[nc].p.top_k = 0;
    cfg[nc++].p.min_p = 0;
    cfg[nc] = (__typeof__(cfg[0])){"no top-k: top-p .95 only, flat", 0, d};
    cfg[nc].p.top_k = 0;
    cfg[nc++].p.min_p = 0;
    cfg[nc] = (__typeof__(cfg[0])){"no top-k, no top-p: min-p .05", 1, d};
    cfg[nc].p.top_k = 0;
    cfg[nc++].p.top_p = 1.0f;
    cfg[nc] = (__typeof__(cfg[0])){"no top-k: typical .95 min-p .05", 1, d};
    cfg[nc].p.top_k = 0;
    cfg[nc++].p.typical_p = 0.95f;

    printf("n_vocab %zu, %d tokens per row set, median per token\n", n, tokens);
    printf("%-38s %9s %12s %7s %8s %7s\n", "parameters", "chain us", "full-sort us", "ratio", "fill us", "ratio");
    for (int ci = 0; ci < nc; ci++) {
        for (int r = 0; r < rows; r++) make_logits(logits + (size_t)r * n, n, cfg[ci].peaked, 100 + (uint64_t)r);
        sample_chain *ch = NULL;
        if (sample_chain_new(&cfg[ci].p, &ch) != SV_OK) return 1;
        sample_rng rng;
        sample_rng_seed(&rng, 1);
        volatile int32_t sink = 0;
        for (int t = 0; t < tokens; t++) {
            const float *l = logits + (size_t)(t % rows) * n;
            uint64_t t0 = sv_time_ns();
            int32_t id = sample_chain_sample(ch, l, (int32_t)n);
            uint64_t t1 = sv_time_ns();
            sample_chain_accept(ch, id < 0 ? 0 : id);
            sink += naive_sample(&cfg[ci].p, l, n, cands, &rng);
            uint64_t t2 = sv_time_ns();
            for (size_t i = 0; i < n; i++) cands[i] = (naive_cand){.id = (int32_t)i, .logit = l[i], .p = 0.0f};
            sink += cands[(size_t)t % n].id;
            uint64_t t3 = sv_time_ns();
            t_chain[t] = (double)(t1 - t0) * 1e-3;
            t_naive[t] = (double)(t2 - t1) * 1e-3;
            t_fill[t] = (double)(t3 - t2) * 1e-3;
        }
        (void)sink;
        sample_chain_free(ch);
        double a = median(t_chain, tokens), b = median(t_naive, tokens), f = median(t_fill, tokens);
        printf("%-38s %9.1f %12.1f %6.1fx %8.1f %6.2fx\n", cfg[ci].name, a, b, b / a, f, f / a);
    }
    free(logits);
    free(cands);
    free(t_chain);
    free(t_naive);
    free(t_fill);
    return 0;
}
