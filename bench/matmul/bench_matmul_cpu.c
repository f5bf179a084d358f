/* bench_matmul_cpu: single-thread kernel speed in thread CPU time
 * (CLOCK_THREAD_CPUTIME_ID), best of N, so that the numbers hold on a machine
 * other processes are loading: time this thread spends descheduled is not
 * counted (time stalled on memory is). Next to each sova number it prints the
 * baseline measured the same way in the same run:
 *   gemv: weights read from DRAM (rotating over 512 MiB) and from L2 (the
 *         first 256 KiB of rows, called over and over); GB/s of weight bytes.
 *   gemm: sova vs OpenBLAS sgemm (1 thread) on the dequantized weights, plus
 *         the dequantization (type traits' to_float).
 *
 *   bench_matmul_cpu [--types Q4_0,...] [--reps N] [--tokens M] [--no-gemv] [--no-gemm]
 */
#include <cblas.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/cpu/matmul.h"
#include "bench_util.h"

static const size_t COLD_BYTES = (size_t)512 << 20;

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run1(const cpu_matmul_args *a) {
    cpu_matmul_prepare(a, 0, 1);
    cpu_matmul_compute(a, 0, 1);
}

/* Best seconds per call over reps, each rep ~0.1 s of calls cycling over w. */
static double time_gemv(cpu_matmul_args *a, uint8_t **w, int copies, size_t bytes, int reps) {
    int calls = (int)(1e9 / (double)bytes);
    if (calls < copies) calls = copies;
    double best = 1e30;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = cpu_s();
        for (int i = 0; i < calls; i++) {
            a->w = w[i % copies];
            run1(a);
        }
        double dt = (cpu_s() - t0) / calls;
        if (r > 0 && dt < best) best = dt;
    }
    return best;
}

static void bench_gemv(tensor_type t, int64_t n_out, int64_t n_in, int reps) {
    size_t rb;
    uint8_t *w0 = bench_make_weights(t, n_out, n_in, &rb);
    size_t bytes = (size_t)n_out * rb;
    int copies = (int)((COLD_BYTES + bytes - 1) / bytes);
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
    double cold = time_gemv(&a, w, copies, bytes, reps);
    /* L2-resident (512 KiB per core here): the first 256 KiB of rows of one copy. */
    cpu_matmul_args h = a;
    int64_t l2_rows = (int64_t)(((size_t)256 << 10) / rb);
    h.n_out = n_out < l2_rows ? n_out : l2_rows;
    double hot = time_gemv(&h, w, 1, (size_t)h.n_out * rb, reps);
    printf("gemv  %-6s %5lldx%-5lld  DRAM %6.1f GB/s (%7.1f us)  L2 %6.1f GB/s\n", gguf_type_name(t),
           (long long)n_out, (long long)n_in, (double)bytes / cold * 1e-9, cold * 1e6,
           (double)h.n_out * (double)rb / hot * 1e-9);
    for (int c = 0; c < copies; c++) free(w[c]);
    free(w), free(x), free(y), free(scratch);
}

static void bench_gemm(tensor_type t, int64_t m, int64_t n_out, int64_t n_in, int reps) {
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
    const tensor_type_traits *tr = tensor_type_get(t);
    double best_ours = 1e30, best_blas = 1e30, best_deq = 1e30;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = cpu_s();
        run1(&a);
        double ours = cpu_s() - t0;
        t0 = cpu_s();
        for (int64_t o = 0; o < n_out; o++) tr->to_float(w + (size_t)o * rb, wf + (size_t)o * (size_t)n_in, n_in);
        double deq = cpu_s() - t0;
        t0 = cpu_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)m, (blasint)n_out, (blasint)n_in, 1.0f, x,
                    (blasint)n_in, wf, (blasint)n_in, 0.0f, yb, (blasint)n_out);
        double blas = cpu_s() - t0;
        if (r == 0) continue;
        if (ours < best_ours) best_ours = ours;
        if (blas < best_blas) best_blas = blas;
        if (deq < best_deq) best_deq = deq;
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
    double base = is_f32 ? best_blas : best_blas + best_deq;
    printf("gemm  %-6s %lldx%lldx%lld  sova %7.1f ms %6.1f GFLOP/s | sgemm %7.1f ms %6.1f GFLOP/s | deq %6.1f ms"
           " | sova/%s speed %.2fx  (max |diff| %.2g of %.2g)\n",
           gguf_type_name(t), (long long)m, (long long)n_out, (long long)n_in, best_ours * 1e3,
           flop / best_ours * 1e-9, best_blas * 1e3, flop / best_blas * 1e-9, best_deq * 1e3,
           is_f32 ? "sgemm" : "(deq+sgemm)", base / best_ours, max_diff, max_ref);
    free(w), free(x), free(y), free(yb), free(wf), free(scratch);
}

int main(int argc, char **argv) {
    int reps = 5;
    int64_t tokens = 512;
    bool gemv = true, gemm = true;
    const char *types = "F16,Q8_0,Q4_0,Q4_K";
    const char *gemm_types = "F32,Q8_0,Q4_0,Q4_K";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) tokens = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--types") && i + 1 < argc) types = gemm_types = argv[++i];
        else if (!strcmp(argv[i], "--no-gemv")) gemv = false;
        else if (!strcmp(argv[i], "--no-gemm")) gemm = false;
        else {
            fprintf(stderr, "usage: bench_matmul_cpu [--reps N] [--tokens M] [--types T,T,...] [--no-gemv] [--no-gemm]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (reps < 1 || tokens < 1) return 2;
    tensor_type tv[BENCH_MAX_TYPES], tm[BENCH_MAX_TYPES];
    int ntv = bench_parse_types("bench_matmul_cpu", types, tv), ntm = bench_parse_types("bench_matmul_cpu", gemm_types, tm);
    if (ntv < 0 || ntm < 0) return 2;
    openblas_set_num_threads(1);
    printf("kernels: %s, 1 thread, thread CPU time, best of %d\n", tensor_cpu_name(tensor_cpu_active()), reps);
    if (gemv)
        for (int i = 0; i < ntv; i++) bench_gemv(tv[i], 4096, 4096, reps);
    if (gemm)
        for (int i = 0; i < ntm; i++) bench_gemm(tm[i], tokens, 512, 4096, reps);
    return 0;
}
