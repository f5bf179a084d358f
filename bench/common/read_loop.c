#include "read_loop.h"

#include <immintrin.h>

#include "base/timer.h"

typedef struct {
    const char *p;
    size_t n;
    long long sink; /* keeps the loads from being optimized away */
} read_job;

__attribute__((target("avx2"))) static void read_part(void *ctx, int ith, int nth) {
    read_job *j = ctx;
    size_t lo = j->n / (size_t)nth * (size_t)ith, hi = j->n / (size_t)nth * (size_t)(ith + 1);
    __m256i a = _mm256_setzero_si256(), b = a;
    for (size_t k = lo; k + 64 <= hi; k += 64) {
        a = _mm256_xor_si256(a, _mm256_load_si256((const __m256i *)(const void *)(j->p + k)));
        b = _mm256_xor_si256(b, _mm256_load_si256((const __m256i *)(const void *)(j->p + k + 32)));
    }
    __atomic_fetch_add(&j->sink, _mm256_extract_epi64(_mm256_xor_si256(a, b), 0), __ATOMIC_RELAXED);
}

double bench_read_gbs(sv_pool *pool, const char *mem, size_t n, int reps) {
    read_job rj = {.p = mem, .n = n};
    double best = 0;
    for (int r = 0; r < reps; r++) {
        uint64_t t0 = sv_time_ns();
        sv_pool_run(pool, read_part, &rj);
        double g = (double)n / (double)(sv_time_ns() - t0);
        if (g > best) best = g;
    }
    return best;
}
