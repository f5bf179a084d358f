/* bench_matmul: CPU matmul speed per weight type next to baselines measured
 * in the same run: STREAM-style copy/triad bandwidth (the GEMV ceiling) and
 * OpenBLAS sgemm (the GEMM yardstick; for quantized weights, dequantize to
 * f32 + sgemm). Weights rotate over enough copies to exceed the caches, so
 * GEMV reads come from memory as in a real decode step.
 *
 *   bench_matmul [--threads N] [--types F16,Q8_0,...] [--reps N] [--no-gemv] [--no-gemm]
 */
#include <cblas.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/matmul.h"
#include "bench_util.h"
#include "base/threadpool.h"
#include "base/timer.h"

static const size_t COLD_BYTES = (size_t)512 << 20; /* 16x the L3: weights never stay cached */

/* ---- STREAM-style bandwidth ----------------------------------------------- */

typedef struct {
    float *a, *b, *c;
    size_t n;
    size_t off, len; /* the range one pass covers */
    int triad;
} stream_job;

static void stream_fn(void *ctx, int ith, int nth) {
    const stream_job *j = ctx;
    size_t lo = j->off + j->len * (size_t)ith / (size_t)nth, hi = j->off + j->len * (size_t)(ith + 1) / (size_t)nth;
    if (j->triad)
        for (size_t i = lo; i < hi; i++) j->a[i] = j->b[i] + 3.0f * j->c[i];
    else
        for (size_t i = lo; i < hi; i++) j->a[i] = j->b[i];
}

static stream_job stream_new(void) {
    size_t n = (size_t)64 << 20; /* 256 MiB per array */
    stream_job j = {bench_xalloc(n * 4), bench_xalloc(n * 4), bench_xalloc(n * 4), n, 0, n, 0};
    for (size_t i = 0; i < n; i++) j.a[i] = j.b[i] = j.c[i] = 1.0f;
    return j;
}

/* GB/s of one pass; bytes counted as STREAM does (no write-allocate traffic). */
static double stream_pass(sv_pool *pool, stream_job *j, int triad) {
    j->triad = triad;
    double t0 = sv_time_s();
    sv_pool_run(pool, stream_fn, j);
    return (double)j->len * 4.0 * (triad ? 3.0 : 2.0) / (sv_time_s() - t0) * 1e-9;
}

/* Best triad GB/s over the arrays in 64 pieces of 12 MiB of traffic (well
 * under a millisecond, like one GEMV call): on a machine other processes
 * load, short pieces catch the moments both threads run, as the per-call GEMV
 * timings do. The pieces walk the 768 MiB in order, so none finds its data
 * in cache. */
static double triad_pieces(sv_pool *pool, stream_job *j) {
    enum { PIECES = 64 };
    double best = 0;
    size_t len = j->n / PIECES;
    for (int p = 0; p < PIECES; p++) {
        j->off = (size_t)p * len;
        j->len = len;
        double g = stream_pass(pool, j, 1);
        if (g > best) best = g;
    }
    j->off = 0;
    j->len = j->n;
    return best;
}

/* ---- matmul runs ----------------------------------------------------------- */

typedef struct {
    const cpu_matmul_args *a;
    int pass;
} mm_job;

static void mm_fn(void *ctx, int ith, int nth) {
    const mm_job *j = ctx;
    if (j->pass == 0) cpu_matmul_prepare(j->a, ith, nth);
    else cpu_matmul_compute(j->a, ith, nth);
}

static void run_matmul(sv_pool *pool, const cpu_matmul_args *a) {
    mm_job j = {a, 0};
    sv_pool_run(pool, mm_fn, &j);
    j.pass = 1;
    sv_pool_run(pool, mm_fn, &j);
}

/* Each rep measures triad right before the GEMV, so that both bests come
 * from the same quiet moments of a shared machine. Two GEMV figures: the best
 * rep's mean over its calls, and the best single call (each call reads a
 * different copy from DRAM); the latter sits next to the best triad piece. */
static void bench_gemv(sv_pool *pool, stream_job *sj, tensor_type t, int64_t n_out, int64_t n_in, int reps) {
    size_t rb;
    uint8_t *w0 = bench_make_weights(t, n_out, n_in, &rb);
    size_t bytes = (size_t)n_out * rb;
    int copies = (int)((COLD_BYTES + bytes - 1) / bytes);
    if (copies < 2) copies = 2;
    uint8_t **w = calloc((size_t)copies, sizeof *w);
    w[0] = w0;
    for (int c = 1; c < copies; c++) {
        w[c] = bench_xalloc(bytes);
        memcpy(w[c], w0, bytes);
    }
    float *x = bench_xalloc((size_t)n_in * sizeof(float)), *y = bench_xalloc((size_t)n_out * sizeof(float));
    for (int64_t i = 0; i < n_in; i++) x[i] = bench_frand();
    size_t ss = cpu_matmul_scratch_size(t, n_in, n_out, 1, 64);
    void *scratch = ss ? bench_xalloc(ss) : NULL;
    cpu_matmul_args a = {.wtype = t, .w_row_bytes = rb, .n_in = n_in, .n_out = n_out, .n_tokens = 1,
                         .x = x, .x_row_stride = (size_t)n_in, .y = y, .y_row_stride = (size_t)n_out,
                         .scratch = scratch};
    /* Enough calls for ~0.2 s per rep at 20 GB/s. */
    int calls = (int)(4e9 / (double)bytes);
    if (calls < copies) calls = copies;
    double best = 1e30, best1 = 1e30, triad = 0, triad1 = 0;
    for (int r = 0; r < reps + 1; r++) {
        double tr = stream_pass(pool, sj, 1), tp = triad_pieces(pool, sj);
        if (tr > triad) triad = tr;
        if (tp > triad1) triad1 = tp;
        double t0 = sv_time_s();
        for (int i = 0; i < calls; i++) {
            a.w = w[i % copies];
            double c0 = sv_time_s();
            run_matmul(pool, &a);
            double c = sv_time_s() - c0;
            if (r > 0 && c < best1) best1 = c;
        }
        double dt = (sv_time_s() - t0) / calls;
        if (r > 0 && dt < best) best = dt;
    }
    double gbs = (double)bytes / best * 1e-9, gbs1 = (double)bytes / best1 * 1e-9;
    printf("gemv  %-6s %5lldx%-5lld  mean %6.1f GB/s vs triad %5.1f: %5.1f%% | best call %6.1f GB/s (%7.1f us)"
           " vs best triad piece %5.1f: %5.1f%%\n",
           gguf_type_name(t), (long long)n_out, (long long)n_in, gbs, triad, 100.0 * gbs / triad, gbs1, best1 * 1e6,
           triad1, 100.0 * gbs1 / triad1);
    for (int c = 0; c < copies; c++) free(w[c]);
    free(w), free(x), free(y), free(scratch);
}

typedef struct {
    const tensor_type_traits *tr;
    const uint8_t *w;
    size_t rb;
    float *wf;
    int64_t n_out, n_in;
} deq_job;

static void deq_fn(void *ctx, int ith, int nth) {
    const deq_job *j = ctx;
    for (int64_t o = j->n_out * ith / nth; o < j->n_out * (ith + 1) / nth; o++)
        j->tr->to_float(j->w + (size_t)o * j->rb, j->wf + (size_t)o * (size_t)j->n_in, j->n_in);
}

static double sgemm_s(const float *x, const float *wf, float *y, int64_t m, int64_t n, int64_t k) {
    double t0 = sv_time_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)m, (blasint)n, (blasint)k, 1.0f, x,
                (blasint)k, wf, (blasint)k, 0.0f, y, (blasint)n);
    return sv_time_s() - t0;
}

static void bench_gemm(sv_pool *pool, tensor_type t, int64_t m, int64_t n_out, int64_t n_in, int reps) {
    size_t rb;
    uint8_t *w = bench_make_weights(t, n_out, n_in, &rb);
    float *x = bench_xalloc((size_t)m * (size_t)n_in * sizeof(float));
    float *y = bench_xalloc((size_t)m * (size_t)n_out * sizeof(float));
    float *yb = bench_xalloc((size_t)m * (size_t)n_out * sizeof(float));
    float *wf = bench_xalloc((size_t)n_out * (size_t)n_in * sizeof(float));
    for (size_t i = 0; i < (size_t)m * (size_t)n_in; i++) x[i] = bench_frand();
    size_t ss = cpu_matmul_scratch_size(t, n_in, n_out, m, 64);
    void *scratch = ss ? bench_xalloc(ss) : NULL;
    cpu_matmul_args a = {.wtype = t, .w = w, .w_row_bytes = rb, .n_in = n_in, .n_out = n_out, .n_tokens = m,
                         .x = x, .x_row_stride = (size_t)n_in, .y = y, .y_row_stride = (size_t)n_out,
                         .scratch = scratch};
    deq_job dj = {tensor_type_get(t), w, rb, wf, n_out, n_in};
    double best_ours = 1e30, best_blas = 1e30, best_deq = 1e30;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = sv_time_s();
        run_matmul(pool, &a);
        double ours = sv_time_s() - t0;
        t0 = sv_time_s();
        sv_pool_run(pool, deq_fn, &dj);
        double deq = sv_time_s() - t0;
        double blas = sgemm_s(x, wf, yb, m, n_out, n_in);
        if (r == 0) continue; /* warm-up: page faults, OpenBLAS thread start */
        if (ours < best_ours) best_ours = ours;
        if (blas < best_blas) best_blas = blas;
        if (deq + blas < best_deq) best_deq = deq + blas;
    }
    double max_diff = 0, max_ref = 0;
    for (size_t i = 0; i < (size_t)m * (size_t)n_out; i++) {
        double d = y[i] - yb[i];
        if (d < 0) d = -d;
        if (d > max_diff) max_diff = d;
        if (yb[i] > max_ref) max_ref = yb[i];
    }
    double flop = 2.0 * (double)m * (double)n_out * (double)n_in;
    bool is_f32 = t == GGUF_TYPE_F32;
    printf("gemm  %-6s %lldx%lldx%lld  sova %7.1f ms %6.1f GFLOP/s | sgemm %7.1f ms %6.1f GFLOP/s | %s %7.1f ms"
           " | sova/%s speed %.2fx  (max |diff| %.2g of %.2g)\n",
           gguf_type_name(t), (long long)m, (long long)n_out, (long long)n_in, best_ours * 1e3,
           flop / best_ours * 1e-9, best_blas * 1e3, flop / best_blas * 1e-9, is_f32 ? "copy+sgemm" : "deq+sgemm ",
           best_deq * 1e3, is_f32 ? "sgemm" : "deq+sgemm", (is_f32 ? best_blas : best_deq) / best_ours, max_diff,
           max_ref);
    free(w), free(x), free(y), free(yb), free(wf), free(scratch);
}

int main(int argc, char **argv) {
    int threads = 2, reps = 3;
    bool gemv = true, gemm = true;
    const char *types = "F16,Q8_0,Q4_0,Q4_K,Q6_K";
    const char *gemm_types = "F32,F16,Q8_0,Q4_0,Q4_K";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--types") && i + 1 < argc) types = gemm_types = argv[++i];
        else if (!strcmp(argv[i], "--no-gemv")) gemv = false;
        else if (!strcmp(argv[i], "--no-gemm")) gemm = false;
        else {
            fprintf(stderr, "usage: bench_matmul [--threads N] [--reps N] [--types T,T,...] [--no-gemv] [--no-gemm]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (threads < 1 || reps < 1) return 2;
    tensor_type tv[BENCH_MAX_TYPES], tm[BENCH_MAX_TYPES];
    int ntv = bench_parse_types("bench_matmul", types, tv), ntm = bench_parse_types("bench_matmul", gemm_types, tm);
    if (ntv < 0 || ntm < 0) return 2;
    sv_pool *pool;
    if (sv_pool_new(threads, &pool) != SV_OK) return 1;
    openblas_set_num_threads(threads);
    printf("kernels: %s, threads: %d (OpenBLAS: %d)\n", tensor_cpu_name(tensor_cpu_active()), threads,
           openblas_get_num_threads());
    stream_job sj = stream_new();
    double copy = 0, triad = 0;
    stream_pass(pool, &sj, 0); /* faults the pages in */
    for (int r = 0; r < reps; r++) {
        double c = stream_pass(pool, &sj, 0), t = stream_pass(pool, &sj, 1);
        if (c > copy) copy = c;
        if (t > triad) triad = t;
    }
    printf("bandwidth: copy %.1f GB/s, triad %.1f GB/s (best of %d)\n", copy, triad, reps);
    if (gemv) {
        const int64_t shapes[][2] = {{4096, 4096}, {14336, 4096}};
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < ntv; i++) bench_gemv(pool, &sj, tv[i], shapes[s][0], shapes[s][1], reps);
    }
    free(sj.a), free(sj.b), free(sj.c);
    if (gemm)
        for (int i = 0; i < ntm; i++) bench_gemm(pool, tm[i], 512, 4096, 4096, reps);
    sv_pool_free(pool);
    return 0;
}
