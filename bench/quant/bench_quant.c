/* One-thread throughput of the type kernels, portable vs AVX2 (vs AVX-512
 * where the CPU has it: columns "512", 0 otherwise), in GB/s of
 * weight bytes: vec_dot over a weight matrix that fits in L2 (compute
 * bound) and one that does not (memory bound), plus to_float and the
 * activation quantizers. Baseline in the same run: memcpy bandwidth on the
 * large buffer.
 *
 *   bench_quant [seconds_per_case]   (default 0.2) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timer.h"
#include "tensor/type.h"

enum { N = 4096 };

static volatile float sink;

static float frand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* Runs vec_dot over `rows` weight rows until `secs` pass; returns GB/s. */
static double bench_dot(const tensor_type_traits *tr, const void *w, size_t row_bytes, int rows,
                        const void *yq, double secs) {
    double t0 = sv_time_s(), t;
    long iters = 0;
    float acc = 0;
    do {
        for (int r = 0; r < rows; r++) {
            float s;
            tr->vec_dot(N, &s, (const uint8_t *)w + (size_t)r * row_bytes, yq);
            acc += s;
        }
        iters++;
        t = sv_time_s() - t0;
    } while (t < secs);
    sink = acc;
    return (double)iters * rows * (double)row_bytes / t * 1e-9;
}

static double bench_to_float(const tensor_type_traits *tr, const void *w, size_t row_bytes, int rows,
                             float *out, double secs) {
    double t0 = sv_time_s(), t;
    long iters = 0;
    do {
        for (int r = 0; r < rows; r++) tr->to_float((const uint8_t *)w + (size_t)r * row_bytes, out, N);
        iters++;
        t = sv_time_s() - t0;
    } while (t < secs);
    sink = out[7];
    return (double)iters * rows * (double)row_bytes / t * 1e-9;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 0.2;
    if (secs <= 0) secs = 0.2;
    static const tensor_type types[] = {GGUF_TYPE_F32,  GGUF_TYPE_F16,  GGUF_TYPE_BF16,   GGUF_TYPE_Q4_0,
                                        GGUF_TYPE_Q4_1, GGUF_TYPE_Q5_0, GGUF_TYPE_Q5_1,   GGUF_TYPE_Q8_0,
                                        GGUF_TYPE_Q2_K, GGUF_TYPE_Q3_K, GGUF_TYPE_Q4_K,   GGUF_TYPE_Q5_K,
                                        GGUF_TYPE_Q6_K, GGUF_TYPE_IQ4_NL, GGUF_TYPE_IQ4_XS};
    const int small_rows = 32;              /* <= 512 KiB of weights even for F32 */
    const size_t big_bytes = 96u << 20;     /* well past the last-level cache share */
    uint8_t *big = malloc(big_bytes), *big2 = malloc(big_bytes);
    float *x = malloc(N * sizeof *x), *out = malloc(N * sizeof *out);
    uint8_t *yq = malloc(N * 4 + 4096);
    if (!big || !big2 || !x || !out || !yq) return 1;
    unsigned seed = 1;
    for (int i = 0; i < N; i++) x[i] = frand(&seed);

    memset(big, 1, big_bytes);
    memset(big2, 2, big_bytes);
    double t0 = sv_time_s();
    int reps = 0;
    do {
        memcpy(big2, big, big_bytes);
        reps++;
    } while (sv_time_s() - t0 < secs);
    double memcpy_gbs = (double)reps * (double)big_bytes * 2 / (sv_time_s() - t0) * 1e-9;
    printf("baseline memcpy (read+write) %.2f GB/s; vec_dot n=%d, one thread\n\n", memcpy_gbs, N);
    printf("%-7s %10s %10s %6s %8s | %10s %10s %6s %8s | %9s %9s\n", "type", "L2 gen", "L2 avx2", "x",
           "L2 512", "mem gen", "mem avx2", "x/cpy", "mem 512", "deq gen", "deq avx2");

    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const tensor_type_traits *g = tensor_type_get_cpu(types[t], TENSOR_CPU_GENERIC);
        const tensor_type_traits *v = tensor_type_get_cpu(types[t], TENSOR_CPU_AVX2);
        const tensor_type_traits *z = tensor_type_get_cpu(types[t], TENSOR_CPU_AVX512);
        size_t row = tensor_row_bytes(types[t], N);
        int big_rows = (int)(big_bytes / row);
        /* Weights from real quantization where possible, else random bytes
         * with a small f16 scale at the start of every block. */
        for (size_t i = 0; i < big_bytes; i++) big[i] = (uint8_t)(i * 2654435761u >> 13);
        if (g->from_float) {
            for (int r = 0; r < small_rows; r++) g->from_float(x, big + (size_t)r * row, N);
            for (int r = small_rows; r < big_rows; r++) memcpy(big + (size_t)r * row, big, row);
        } else {
            uint16_t h = tensor_f32_to_f16(0.01f);
            for (size_t off = 0; off + g->block_bytes <= big_bytes; off += g->block_bytes) memcpy(big + off, &h, 2);
        }
        const tensor_type_traits *yt = tensor_type_get_cpu(g->vec_dot_type, TENSOR_CPU_GENERIC);
        yt->from_float(x, yq, N);
        double l2g = bench_dot(g, big, row, small_rows, yq, secs);
        double l2v = v ? bench_dot(v, big, row, small_rows, yq, secs) : 0;
        double l2z = z ? bench_dot(z, big, row, small_rows, yq, secs) : 0;
        double mg = bench_dot(g, big, row, big_rows, yq, secs);
        double mv = v ? bench_dot(v, big, row, big_rows, yq, secs) : 0;
        double mz = z ? bench_dot(z, big, row, big_rows, yq, secs) : 0;
        double dg = bench_to_float(g, big, row, small_rows, out, secs);
        double dv = v ? bench_to_float(v, big, row, small_rows, out, secs) : 0;
        printf("%-7s %10.2f %10.2f %6.1f %8.2f | %10.2f %10.2f %6.2f %8.2f | %9.2f %9.2f\n", g->name, l2g, l2v,
               l2v / l2g, l2z, mg, mv, mv / memcpy_gbs, mz, dg, dv);
    }

    printf("\nactivation quantizers (GB/s of f32 input)\n");
    static const tensor_type acts[] = {GGUF_TYPE_Q8_0, GGUF_TYPE_Q8_1, GGUF_TYPE_Q8_K, GGUF_TYPE_F16};
    for (size_t t = 0; t < sizeof acts / sizeof acts[0]; t++) {
        double r[2] = {0, 0};
        for (int c = 0; c < 2; c++) {
            const tensor_type_traits *tr = tensor_type_get_cpu(acts[t], (tensor_cpu)c);
            if (!tr) continue;
            double s0 = sv_time_s(), el;
            long it = 0;
            do {
                tr->from_float(x, yq, N);
                it++;
                el = sv_time_s() - s0;
            } while (el < secs);
            r[c] = (double)it * N * sizeof(float) / el * 1e-9;
        }
        printf("%-7s generic %8.2f   avx2 %8.2f   x%.1f\n", tensor_type_get(acts[t])->name, r[0], r[1],
               r[0] > 0 ? r[1] / r[0] : 0);
    }
    free(big);
    free(big2);
    free(x);
    free(out);
    free(yq);
    return 0;
}
