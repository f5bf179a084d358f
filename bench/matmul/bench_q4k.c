/* Q4_K kernels (x86/matmul_q4k_avx2.c) in one run against their baselines:
 *  - decode GEMV (--gemv-tokens, default 1) on Q4_K shapes of qwen2.5-0.5b, gemma-3-270m and
 *    qwen2.5-1.5b, weights rotating over 512 MiB (from memory, as in decode),
 *    in GB/s next to a plain read loop over the same memory, run just before
 *    each shape (the shared machine's load drifts); with --hot one
 *    copy is reused (cache-resident: the kernel's compute speed) and the
 *    per-row traits vec_dot runs beside it;
 *  - prompt GEMM (--tokens, default 128) against dequantizing the weights
 *    to f32 and OpenBLAS sgemm, both on --threads threads.
 *
 *   bench_q4k [--threads N] [--reps N] [--hot] [--tokens N] [--gemv-tokens N] */
#include <cblas.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/x86/matmul_q4k.h"
#include "base/threadpool.h"
#include "read_loop.h"
#include "base/timer.h"
#include "tensor/quant_impl.h"
#include "tensor/type.h"

void openblas_set_num_threads(int n);

static const size_t COLD_BYTES = (size_t)512 << 20;

static double now_s(void) { return (double)sv_time_ns() * 1e-9; }

typedef struct {
    cpu_matmul_args a;
    const void *act;
    size_t act_row;
    bool vec_dot; /* the traits vec_dot per row instead of the GEMV */
    char *scratch;
    size_t scratch_bytes; /* per thread, GEMM */
} job;

/* Rows split in multiples of 8 over the tasks. */
static void gemv_part(void *ctx, int ith, int nth) {
    job *j = ctx;
    int64_t groups = (j->a.n_out + 7) / 8;
    int64_t o0 = groups * ith / nth * 8, o1 = groups * (ith + 1) / nth * 8;
    if (o1 > j->a.n_out) o1 = j->a.n_out;
    if (!j->vec_dot) {
        mm__gemv_q4k_avx2(&j->a, j->act, j->act_row, o0, o1);
        return;
    }
    for (int64_t t = 0; t < j->a.n_tokens; t++)
        for (int64_t o = o0; o < o1; o++)
            tensor__vec_dot_q4_K_avx2(j->a.n_in, &j->a.y[(size_t)t * j->a.y_row_stride + o],
                                      (const char *)j->a.w + (size_t)o * j->a.w_row_bytes,
                                      (const char *)j->act + (size_t)t * j->act_row);
}

static void gemm_part(void *ctx, int ith, int nth) {
    job *j = ctx;
    int64_t np = (j->a.n_out + 7) / 8;
    mm__gemmq_q4k_avx2(&j->a, j->act, j->act_row, np * ith / nth, np * (ith + 1) / nth,
                       j->scratch + (size_t)ith * j->scratch_bytes);
}

typedef struct {
    const char *w;
    size_t row;
    int64_t n_in, n_out;
    float *dst;
} deq_job;

static void deq_part(void *ctx, int ith, int nth) {
    deq_job *j = ctx;
    const tensor_type_traits *tt = tensor_type_get(GGUF_TYPE_Q4_K);
    for (int64_t o = j->n_out * ith / nth; o < j->n_out * (ith + 1) / nth; o++)
        tt->to_float(j->w + (size_t)o * j->row, j->dst + (size_t)o * j->n_in, j->n_in);
}

static const struct {
    const char *what;
    int64_t n_in, n_out;
} shapes[] = {
    {"qwen2.5-0.5b down", 4864, 896},
    {"gemma-3-270m down", 2048, 640},
    {"qwen2.5-1.5b q, o", 1536, 1536},
    {"qwen2.5-1.5b up", 1536, 8960},
    {"qwen2.5-1.5b down", 8960, 1536},
};

int main(int argc, char **argv) {
    int threads = 2, reps = 3, tokens = 128, gemv_tokens = 1;
    bool hot = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) tokens = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--gemv-tokens") && i + 1 < argc) gemv_tokens = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hot")) hot = true;
        else {
            fprintf(stderr, "usage: bench_q4k [--threads N] [--reps N] [--hot] [--tokens N] [--gemv-tokens N]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (threads < 1 || reps < 1 || tokens < 1 || gemv_tokens < 1 || gemv_tokens > tokens) return 2;
    if (!tensor_type_get_cpu(GGUF_TYPE_F32, TENSOR_CPU_AVX2)) {
        printf("no AVX2 on this CPU\n");
        return 0;
    }
    sv_pool *pool;
    if (sv_pool_new(threads, &pool) != SV_OK) return 1;
    char *mem = aligned_alloc((size_t)1 << 21, COLD_BYTES);
    float *x = malloc((size_t)tokens * 8960 * sizeof *x), *y = malloc((size_t)tokens * 8960 * sizeof *y);
    void *act = malloc((size_t)tokens * 35 * sizeof(block_q8_K));
    if (!mem || !x || !y || !act) return 1;
    /* random codes and scales; f16 d/dmin kept small and normal */
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < COLD_BYTES / 8; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        memcpy(mem + 8 * i, &s, 8);
    }
    for (size_t i = 0; i < COLD_BYTES / sizeof(block_q4_K); i++) {
        block_q4_K *b = (block_q4_K *)(void *)mem + i;
        b->d = (uint16_t)(0x2000 | (b->d & 0x3ff));
        b->dmin = (uint16_t)(0x2000 | (b->dmin & 0x3ff));
    }
    for (int i = 0; i < tokens * 8960; i++) x[i] = (float)((i * 37) % 101 - 50) / 50.0f;

    printf("threads %d%s; read loop: best of 3 over the same 512 MiB just before each shape\n", threads,
           hot ? ", hot weights" : "");
    printf("GEMV, %d token(s)%s\n", gemv_tokens, hot ? " (vs traits vec_dot per row and token)" : "");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int64_t n_in = shapes[k].n_in, n_out = shapes[k].n_out;
        size_t row = (size_t)(n_in / QK_K) * sizeof(block_q4_K), bytes = row * (size_t)n_out;
        size_t copies = COLD_BYTES / bytes;
        if (copies > 512) copies = 512;
        size_t act_row = (size_t)(n_in / QK_K) * sizeof(block_q8_K);
        for (int t = 0; t < gemv_tokens; t++)
            tensor__from_float_q8_K_avx2(x + (size_t)t * n_in, (char *)act + t * act_row, n_in);
        /* measured next to each shape: the machine's load changes between them */
        double read_gbs = bench_read_gbs(pool, mem, COLD_BYTES, 3), best[2] = {1e30, 1e30};
        for (int v = 0; v < (hot ? 2 : 1); v++)
            for (int r = 0; r < reps; r++) {
                double t0 = now_s();
                for (size_t c = 0; c < copies; c++) {
                    job j = {.a = {.wtype = GGUF_TYPE_Q4_K, .w = mem + (hot ? 0 : c) * bytes, .w_row_bytes = row,
                                   .n_in = n_in, .n_out = n_out, .n_tokens = gemv_tokens, .y = y,
                                   .y_row_stride = (size_t)n_out},
                             .act = act, .act_row = act_row, .vec_dot = v == 1};
                    sv_pool_run(pool, gemv_part, &j);
                }
                double t = (now_s() - t0) / (double)copies;
                if (t < best[v]) best[v] = t;
            }
        double gbs = (double)bytes / best[0] * 1e-9;
        printf("  %-18s %5lld x %-5lld %8.1f KiB %8.1f us %6.2f GB/s %4.0f%% of read loop (%.2f GB/s)", shapes[k].what,
               (long long)n_in, (long long)n_out, (double)bytes / 1024.0, best[0] * 1e6, gbs, 100.0 * gbs / read_gbs,
               read_gbs);
        if (hot) printf("  vec_dot %8.1f us (x%.2f)", best[1] * 1e6, best[1] / best[0]);
        printf("\n");
    }

    printf("GEMM, %d tokens: ours vs dequantize + OpenBLAS sgemm (%d threads each)\n", tokens, threads);
    openblas_set_num_threads(threads);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int64_t n_in = shapes[k].n_in, n_out = shapes[k].n_out;
        size_t row = (size_t)(n_in / QK_K) * sizeof(block_q4_K), act_row = (size_t)(n_in / QK_K) * sizeof(block_q8_K);
        for (int t = 0; t < tokens; t++) tensor__from_float_q8_K_avx2(x + (size_t)t * n_in, (char *)act + t * act_row, n_in);
        size_t sb = (mm__gemmq_q4k_scratch(n_in) + 63) & ~(size_t)63;
        char *scratch = aligned_alloc(64, sb * (size_t)threads);
        float *wf = malloc((size_t)n_in * (size_t)n_out * sizeof *wf);
        double best_q = 1e30, best_b = 1e30;
        for (int r = 0; r < reps; r++) {
            job j = {.a = {.wtype = GGUF_TYPE_Q4_K, .w = mem, .w_row_bytes = row, .n_in = n_in, .n_out = n_out,
                           .n_tokens = tokens, .y = y, .y_row_stride = (size_t)n_out},
                     .act = act, .act_row = act_row, .scratch = scratch, .scratch_bytes = sb};
            double t0 = now_s();
            sv_pool_run(pool, gemm_part, &j);
            double t1 = now_s();
            deq_job dj = {.w = mem, .row = row, .n_in = n_in, .n_out = n_out, .dst = wf};
            sv_pool_run(pool, deq_part, &dj);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, tokens, (int)n_out, (int)n_in, 1.0f, x, (int)n_in, wf,
                        (int)n_in, 0.0f, y, (int)n_out);
            double t2 = now_s();
            if (t1 - t0 < best_q) best_q = t1 - t0;
            if (t2 - t1 < best_b) best_b = t2 - t1;
        }
        double gflop = 2.0 * (double)n_in * (double)n_out * tokens * 1e-9;
        printf("  %-18s %5lld x %-5lld ours %8.2f ms (%6.1f GFLOP/s)  deq+sgemm %8.2f ms (%6.1f GFLOP/s)  x%.2f\n",
               shapes[k].what, (long long)n_in, (long long)n_out, best_q * 1e3, gflop / best_q, best_b * 1e3,
               gflop / best_b, best_b / best_q);
        free(scratch);
        free(wf);
    }
    sv_pool_free(pool);
    free(mem);
    free(x);
    free(y);
    free(act);
    return 0;
}
