/* GEMV speed on the matrix shapes of a qwen2.5-0.5b decode step (and the Q4_K
 * down projections of qwen2.5-0.5b and gemma-3-270m), run the way
 * the CPU backend runs a decode matmul (activations converted by the caller,
 * output rows as sv_pool_run_tasks tasks), against a plain read loop over
 * the same memory in the same run. Weights rotate over 512 MiB so they come
 * from memory, as in decode. --huge asks for 2 MiB pages (MADV_HUGEPAGE);
 * --hot reuses one copy of the weights, so the matrices that fit in cache
 * show the kernels' compute speed rather than the memory's.
 *
 *   bench_decode_gemv [--threads N] [--reps N] [--huge] [--hot] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend/cpu/matmul.h"
#include "base/threadpool.h"
#include "read_loop.h"
#include "base/timer.h"
#include "tensor/type.h"

static const size_t COLD_BYTES = (size_t)512 << 20;

static double now_s(void) { return (double)sv_time_ns() * 1e-9; }

static void prepare(void *ctx, int ith, int nth) { cpu_matmul_prepare(ctx, ith, nth); }
static void compute(void *ctx, int ith, int nth) { cpu_matmul_compute(ctx, ith, nth); }

/* The CPU backend's split (cpu_backend.c mm_tasks). */
static int n_tasks(int64_t n_out, int nth) {
    int64_t t = n_out / 64;
    if (t > 4 * (int64_t)nth) t = 4 * (int64_t)nth;
    return t > nth ? (int)t : nth;
}

int main(int argc, char **argv) {
    int threads = 2, reps = 3;
    bool huge = false, hot = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--huge")) huge = true;
        else if (!strcmp(argv[i], "--hot")) hot = true;
        else {
            fprintf(stderr, "usage: bench_decode_gemv [--threads N] [--reps N] [--huge] [--hot]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (threads < 1 || reps < 1) return 2;
    sv_pool *pool;
    if (sv_pool_new(threads, &pool) != SV_OK) return 1;
    char *mem = aligned_alloc((size_t)1 << 21, COLD_BYTES);
    float *x = malloc(8192 * sizeof *x), *y = malloc(160000 * sizeof *y);
    void *scratch = aligned_alloc(64, (size_t)1 << 20);
    if (!mem || !x || !y || !scratch) return 1;
    if (huge && madvise(mem, COLD_BYTES, MADV_HUGEPAGE) != 0) perror("madvise(MADV_HUGEPAGE)");
    /* 0x11 bytes: small normal f16 scales and nonzero quants. */
    memset(mem, 0x11, COLD_BYTES);
    for (int i = 0; i < 8192; i++) x[i] = (float)((i * 37) % 101 - 50) / 50.0f;

    double read_gbs = bench_read_gbs(pool, mem, COLD_BYTES, 5);
    printf("threads %d%s%s: read loop %.2f GB/s (best of 5)\n", threads, huge ? ", 2 MiB pages" : "",
           hot ? ", hot weights" : "", read_gbs);

    static const struct {
        const char *what;
        tensor_type type;
        int64_t n_in, n_out;
    } shapes[] = {
        {"wq, wo", GGUF_TYPE_Q4_0, 896, 896},       {"wk, wv", GGUF_TYPE_Q4_0, 896, 128},
        {"gate, up", GGUF_TYPE_Q4_0, 896, 4864},    {"down", GGUF_TYPE_Q4_0, 4864, 896},
        {"output", GGUF_TYPE_Q8_0, 896, 151936},    {"gate, up", GGUF_TYPE_Q8_0, 896, 4864},
        {"down", GGUF_TYPE_Q8_0, 4864, 896},
        /* the Q4_K-capable rows (multiples of 256) of qwen2.5-0.5b and gemma-3-270m */
        {"down", GGUF_TYPE_Q4_K, 4864, 896},        {"g3 down", GGUF_TYPE_Q4_K, 2048, 640},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t row = tensor_row_bytes(shapes[s].type, shapes[s].n_in), bytes = row * (size_t)shapes[s].n_out;
        size_t copies = COLD_BYTES / bytes;
        if (copies > 512) copies = 512;
        double best = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = now_s();
            for (size_t c = 0; c < copies; c++) {
                cpu_matmul_args a = {.wtype = shapes[s].type, .w = mem + (hot ? 0 : c) * bytes, .w_row_bytes = row,
                                     .n_in = shapes[s].n_in, .n_out = shapes[s].n_out, .n_tokens = 1, .x = x,
                                     .x_row_stride = (size_t)shapes[s].n_in, .y = y,
                                     .y_row_stride = (size_t)shapes[s].n_out, .scratch = scratch};
                prepare(&a, 0, 1);
                sv_pool_run_tasks(pool, compute, &a, n_tasks(shapes[s].n_out, threads));
            }
            double t = (now_s() - t0) / (double)copies;
            if (t < best) best = t;
        }
        double gbs = (double)bytes / best * 1e-9;
        printf("%-5s %5lld x %-6lld %-8s %8.1f KiB  %7.1f us  %6.2f GB/s  %3.0f%% of read loop\n",
               gguf_type_name(shapes[s].type), (long long)shapes[s].n_in, (long long)shapes[s].n_out,
               shapes[s].what, (double)bytes / 1024.0, best * 1e6, gbs, 100.0 * gbs / read_gbs);
    }
    sv_pool_free(pool);
    free(mem);
    free(x);
    free(y);
    free(scratch);
    return 0;
}
