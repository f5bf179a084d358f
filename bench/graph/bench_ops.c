/* Speed of the CPU backend's non-matmul kernels.
 *  1. Row helpers, AVX2 vs portable, same process: softmax-style exp-sum,
 *     sum of squares (RMS norm), f16 dot (attention q.k), rows of 4096.
 *  2. Decode attention through the graph (1 query, 32 heads, 8 KV heads of
 *     128, F16 KV of n_kv positions): bytes of K and V read per second next
 *     to memcpy bandwidth over a buffer of the same size, measured right
 *     before. Decode attention only reads K/V once, so memcpy (which reads
 *     and writes) is a fair ceiling-ish baseline.
 * Usage: bench_ops [--threads N] [--reps N] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/ops.h"
#include "backend/sched.h"
#include "base/timer.h"

static volatile float sink;

/* CPU time of the whole process: less disturbed than wall time on a loaded machine. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double time_helper(const cpu_vec_fns *v, int which, float *x, float *y, uint16_t *h, int64_t n, int reps) {
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = sv_time_s();
        float acc = 0.0f;
        for (int i = 0; i < reps; i++) {
            if (which == 0) acc += (float)v->exp_sum(y, x, 1.0f, n);
            else if (which == 1) acc += v->sum_sq(x, n);
            else if (which == 2) acc += v->dot_f16(x, h, n);
            else {
                v->glu(y, x, x, TENSOR_UNARY_SILU, n);
                acc += y[0];
            }
        }
        sink = acc;
        double t = (sv_time_s() - t0) / reps;
        if (t < best) best = t;
    }
    return best;
}

static double memcpy_gbs(size_t bytes) {
    char *a = malloc(bytes), *b = malloc(bytes);
    memset(a, 1, bytes);
    memset(b, 2, bytes);
    /* through a volatile pointer so the compiler cannot drop the copy */
    void *(*volatile copy)(void *, const void *, size_t) = memcpy;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = sv_time_s();
        copy(b, a, bytes);
        double t = sv_time_s() - t0;
        if (t < best) best = t;
    }
    sink = (float)b[bytes / 2];
    free(a);
    free(b);
    return (double)bytes / best / 1e9;
}

static void bench_attention(int threads, int reps, int64_t n_kv) {
    const int64_t d = 128, h = 32, hk = 8;
    backend *be;
    if (backend_cpu_new(threads, &be) != SV_OK) return;
    backend_sched *s;
    backend_sched_new(&be, 1, &s);
    sv_arena a;
    sv_arena_init(&a, 0);
    graph *g;
    graph_new(&a, 16, &g);
    tensor *q = graph_set_input(graph_new_tensor_4d(g, GGUF_TYPE_F32, d, 1, h, 1));
    tensor *k = graph_set_input(graph_new_tensor_4d(g, GGUF_TYPE_F16, d, n_kv, hk, 1));
    tensor *v = graph_set_input(graph_new_tensor_4d(g, GGUF_TYPE_F16, d, n_kv, hk, 1));
    graph_attn_params p = {.scale = 0.088f};
    tensor *o = graph_flash_attn(g, q, k, v, NULL, &p);
    graph_expand(g, o);
    if (backend_sched_alloc(s, g) != SV_OK) {
        fprintf(stderr, "alloc: %s\n", sv_errmsg());
        return;
    }
    memset(q->data, 0, tensor_nbytes(q));
    memset(k->data, 0, tensor_nbytes(k));
    memset(v->data, 0, tensor_nbytes(v));
    size_t kv_bytes = tensor_nbytes(k) + tensor_nbytes(v);
    double base = memcpy_gbs(kv_bytes);
    double best = 1e30, best_cpu = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = sv_time_s(), c0 = cpu_s();
        backend_sched_compute(s, g);
        double t = sv_time_s() - t0, c = cpu_s() - c0;
        if (t < best) best = t;
        if (c < best_cpu) best_cpu = c;
    }
    double gbs = (double)kv_bytes / best / 1e9;
    printf("attention decode n_kv=%-6lld threads=%d  %7.3f ms (cpu %7.3f ms)  %6.1f GB/s of K/V  memcpy %6.1f GB/s"
           "  ratio %.2f\n",
           (long long)n_kv, threads, best * 1e3, best_cpu * 1e3, gbs, base, gbs / base);
    sv_arena_free(&a);
    backend_sched_free(s);
    backend_free(be);
}

/* Decode-shaped chain of small nodes (rms_norm, mul, add on [2048] rows):
 * what per-node scheduling costs with `threads` against one thread. */
static double bench_small_nodes(int threads, int reps) {
    backend *be;
    if (backend_cpu_new(threads, &be) != SV_OK) return 0;
    backend_sched *s;
    backend_sched_new(&be, 1, &s);
    sv_arena a;
    sv_arena_init(&a, 0);
    graph *g;
    graph_new(&a, 2048, &g);
    tensor *x = graph_set_input(graph_new_tensor_1d(g, GGUF_TYPE_F32, 2048));
    tensor *w = graph_set_input(graph_new_tensor_1d(g, GGUF_TYPE_F32, 2048));
    tensor *t = x;
    for (int i = 0; i < 200; i++) t = graph_add(g, graph_mul(g, graph_rms_norm(g, t, 1e-6f), w), x);
    graph_expand(g, t);
    backend_sched_alloc(s, g);
    memset(x->data, 0, 2048 * 4);
    memset(w->data, 0, 2048 * 4);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = sv_time_s();
        backend_sched_compute(s, g);
        double dt = sv_time_s() - t0;
        if (dt < best) best = dt;
    }
    double per = best / g->n_nodes * 1e6;
    sv_arena_free(&a);
    backend_sched_free(s);
    backend_free(be);
    return per;
}

/* Prefill attention (n tokens attending causally to themselves, 32 heads, 8
 * KV heads of 128, F16 K/V as in the cache): fused FLASH_ATTN against the unfused graph
 * mul_mat(k, q) -> soft_max(mask) -> mul_mat(v^T, p) on the same data. */
static void bench_prefill(int threads, int reps, int64_t n) {
    const int64_t d = 128, h = 32, hk = 8;
    backend *be;
    if (backend_cpu_new(threads, &be) != SV_OK) return;
    backend_sched *s;
    backend_sched_new(&be, 1, &s);
    double t[2];
    for (int fused = 0; fused < 2; fused++) {
        sv_arena a;
        sv_arena_init(&a, 0);
        graph *g;
        graph_new(&a, 64, &g);
        tensor *q = graph_set_input(graph_new_tensor_4d(g, GGUF_TYPE_F32, d, n, h, 1));
        tensor *k = graph_set_input(graph_new_tensor_4d(g, GGUF_TYPE_F16, d, n, hk, 1));
        tensor *vt = graph_set_input(graph_new_tensor_4d(g, GGUF_TYPE_F16, n, d, hk, 1)); /* V transposed */
        tensor *mask = graph_set_input(graph_new_tensor_2d(g, GGUF_TYPE_F32, n, n));
        tensor *o;
        if (fused) {
            graph_attn_params p = {.scale = 0.088f, .causal = true};
            tensor *v = graph_cont(g, graph_transpose(g, vt));
            o = graph_flash_attn(g, q, k, v, NULL, &p);
        } else {
            /* grouped heads by broadcast: q heads 4 per KV head need a q layout
             * [d, n, 4, 8] against k [d, n, 1, 8] */
            tensor *q4 = graph_reshape_4d(g, q, d, n, h / hk, hk);
            tensor *k4 = graph_reshape_4d(g, k, d, n, 1, hk);
            tensor *kq = graph_mul_mat(g, k4, q4); /* [n_kv, n_q, 4, 8] */
            tensor *p = graph_soft_max(g, kq, mask, 0.088f, 0.0f);
            tensor *v4 = graph_reshape_4d(g, vt, n, d, 1, hk);
            o = graph_mul_mat(g, v4, p); /* [d, n_q, 4, 8] */
        }
        graph_expand(g, o);
        if (backend_sched_alloc(s, g) != SV_OK) {
            fprintf(stderr, "alloc: %s\n", sv_errmsg());
            return;
        }
        memset(q->data, 0, tensor_nbytes(q));
        memset(k->data, 0, tensor_nbytes(k));
        memset(vt->data, 0, tensor_nbytes(vt));
        float *m = mask->data; /* in the unfused graph only */
        for (int64_t i = 0; m && i < n; i++)
            for (int64_t j = 0; j < n; j++) m[i * n + j] = j <= i ? 0.0f : -INFINITY;
        double best = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = sv_time_s();
            backend_sched_compute(s, g);
            double dt = sv_time_s() - t0;
            if (dt < best) best = dt;
        }
        t[fused] = best;
        sv_arena_free(&a);
    }
    printf("attention prefill n=%lld threads=%d  fused %7.2f ms  unfused (matmul+softmax+matmul) %7.2f ms  ratio %.2f\n",
           (long long)n, threads, t[1] * 1e3, t[0] * 1e3, t[1] / t[0]);
    backend_sched_free(s);
    backend_free(be);
}

int main(int argc, char **argv) {
    int threads = 2, reps = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
    }
    const int64_t n = 4096;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    uint16_t *hv = malloc(n * sizeof(uint16_t));
    for (int64_t i = 0; i < n; i++) {
        x[i] = (float)(i % 17) * 0.01f - 0.08f;
        hv[i] = tensor_f32_to_f16(x[i]);
    }
    const cpu_vec_fns *gen = cpu_vec_generic(), *avx = cpu_vec_avx2();
    bool have_avx2 = avx && tensor_type_get_cpu(GGUF_TYPE_F32, TENSOR_CPU_AVX2) != NULL;
    static const char *names[] = {"exp_sum (softmax)", "sum_sq (rms_norm)", "dot_f16 (attn q.k)", "glu (swiglu)"};
    for (int w = 0; w < 4; w++) {
        double tg = time_helper(gen, w, x, y, hv, n, reps * 50);
        if (have_avx2) {
            double ta = time_helper(avx, w, x, y, hv, n, reps * 50);
            printf("%-20s n=%lld  generic %8.2f us  avx2 %8.2f us  speed-up %.1fx\n", names[w], (long long)n, tg * 1e6,
                   ta * 1e6, tg / ta);
        } else {
            printf("%-20s n=%lld  generic %8.2f us  (no AVX2)\n", names[w], (long long)n, tg * 1e6);
        }
    }
    free(x);
    free(y);
    free(hv);
    printf("kernels for the graph run: %s\n", tensor_cpu_name(tensor_cpu_active()));
    double one = bench_small_nodes(1, reps), many = bench_small_nodes(threads, reps);
    printf("small nodes (600 x [2048]): %.2f us/node with 1 thread, %.2f us/node with %d (ratio %.2f)\n", one, many,
           threads, many / one);
    bench_prefill(threads, 3, 512);
    bench_attention(threads, reps, 4096);
    bench_attention(threads, reps, 16384);
    return 0;
}
