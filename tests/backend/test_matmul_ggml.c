/* The AVX2 matmul of Q8_0 and Q4_0 weights must give the float bits ggml's
 * CPU backend gives (llama.cpp's quantized logits are reproduced only then:
 * one different int8 rounding of an activation downstream moves them by
 * ~0.01-0.05). Checked with memcmp against scalar models of ggml's
 * arithmetic, for decode and prompt batch sizes, 1 and 3 threads:
 *   activations: Q8_0 blocks, quants rint(x * 127 / amax), scale f16(amax / 127);
 *   Q8_0 (vec_dot / llamafile): per row and token 8 lane accumulators, lane k
 *     += fl(dw * dx) * (exact sum of values 4k..4k+3 of the block) fused,
 *     then ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
 *   Q4_0 with a multiple of 8 rows (repacked 8-row kernels): one accumulator
 *     += (float)(exact sum of (q - 8) x over the block) * fl(dw * dx) fused;
 *   Q4_0 otherwise (vec_dot): like Q8_0 with the values q - 8. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/matmul.h"
#include "base/threadpool.h"
#include "check.h"
#include "tensor/quant_impl.h"

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static float frand(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) * 0x1p-53 * 2.0 - 1.0);
}

/* ggml's AVX2 quantize_row_q8_0, written out per value. */
static void act_q8_0(const float *x, block_q8_0 *out, int64_t n) {
    for (int64_t b = 0; b < n / QK8_0; b++) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(x[b * QK8_0 + j]));
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        for (int j = 0; j < QK8_0; j++) out[b].qs[j] = (int8_t)nearbyintf(x[b * QK8_0 + j] * id);
        out[b].d = tensor_f32_to_f16(amax / 127.0f);
    }
}

static int weight_value(tensor_type t, const void *row, int64_t b, int j) {
    if (t == GGUF_TYPE_Q8_0) return ((const block_q8_0 *)row)[b].qs[j];
    const block_q4_0 *q = (const block_q4_0 *)row + b;
    return (j < 16 ? q->qs[j] & 15 : q->qs[j - 16] >> 4) - 8;
}

static float weight_scale(tensor_type t, const void *row, int64_t b) {
    return tensor_f16_to_f32(t == GGUF_TYPE_Q8_0 ? ((const block_q8_0 *)row)[b].d : ((const block_q4_0 *)row)[b].d);
}

static float model_lanes(tensor_type t, const void *row, const block_q8_0 *x, int64_t nb) {
    float acc[8] = {0};
    for (int64_t b = 0; b < nb; b++) {
        float d = weight_scale(t, row, b) * tensor_f16_to_f32(x[b].d);
        for (int k = 0; k < 8; k++) {
            int s = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++) s += weight_value(t, row, b, j) * x[b].qs[j];
            acc[k] = fmaf(d, (float)s, acc[k]);
        }
    }
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

static float model_repacked(const void *row, const block_q8_0 *x, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int s = 0;
        for (int j = 0; j < QK8_0; j++) s += weight_value(GGUF_TYPE_Q4_0, row, b, j) * x[b].qs[j];
        acc = fmaf((float)s, weight_scale(GGUF_TYPE_Q4_0, row, b) * tensor_f16_to_f32(x[b].d), acc);
    }
    return acc;
}

typedef struct {
    const cpu_matmul_args *args;
    int pass;
} job;

static void run_pass(void *ctx, int ith, int nth) {
    const job *j = ctx;
    if (j->pass == 0) cpu_matmul_prepare_cpu(TENSOR_CPU_AVX2, j->args, ith, nth);
    else cpu_matmul_compute_cpu(TENSOR_CPU_AVX2, j->args, ith, nth);
}

static void check_shape(sv_pool *pool, tensor_type t, int64_t n_in, int64_t n_out, int64_t m) {
    const tensor_type_traits *tr = tensor_type_get(t);
    size_t rb = tensor_row_bytes(t, n_in);
    int64_t nb = n_in / QK8_0;
    uint8_t *w = malloc(rb * (size_t)n_out);
    float *src = malloc((size_t)n_in * sizeof(float)), *x = malloc((size_t)(m * n_in) * sizeof(float));
    float *y = malloc((size_t)(m * n_out) * sizeof(float));
    block_q8_0 *xq = malloc((size_t)(m * nb) * sizeof(block_q8_0));
    for (int64_t o = 0; o < n_out; o++) {
        /* rows of very different magnitudes, so the scales matter */
        float mag = (float)(1 + o % 7) * 0.3f;
        for (int64_t i = 0; i < n_in; i++) src[i] = frand() * mag;
        tr->from_float(src, w + (size_t)o * rb, n_in);
    }
    for (int64_t i = 0; i < m * n_in; i++) x[i] = frand() * (0.1f + (float)((i / 32) % 5));
    for (int64_t t0 = 0; t0 < m; t0++) act_q8_0(x + t0 * n_in, xq + t0 * nb, n_in);
    size_t ss = cpu_matmul_scratch_size_cpu(TENSOR_CPU_AVX2, t, n_in, n_out, m, 16);
    void *scratch = ss ? aligned_alloc(64, (ss + 63) & ~(size_t)63) : NULL;
    cpu_matmul_args a = {.wtype = t, .w = w, .w_row_bytes = rb, .n_in = n_in, .n_out = n_out, .n_tokens = m,
                         .x = x, .x_row_stride = (size_t)n_in, .y = y, .y_row_stride = (size_t)n_out,
                         .scratch = scratch, .ggml_order = true};
    job j0 = {&a, 0}, j1 = {&a, 1};
    sv_pool_run(pool, run_pass, &j0);
    sv_pool_run(pool, run_pass, &j1);
    bool repacked = t == GGUF_TYPE_Q4_0 && n_out % 8 == 0;
    int64_t bad = 0;
    for (int64_t t0 = 0; t0 < m; t0++)
        for (int64_t o = 0; o < n_out; o++) {
            const void *row = w + (size_t)o * rb;
            float want = repacked ? model_repacked(row, xq + t0 * nb, nb) : model_lanes(t, row, xq + t0 * nb, nb);
            float got = y[t0 * n_out + o];
            if (memcmp(&want, &got, sizeof want) != 0 && bad++ == 0)
                t_fail_at(__FILE__, __LINE__, "%s n_in %lld n_out %lld tokens %lld threads %d: y[%lld][%lld] %.9g, ggml %.9g",
                          tr->name, (long long)n_in, (long long)n_out, (long long)m, sv_pool_size(pool),
                          (long long)t0, (long long)o, (double)got, (double)want);
        }
    CHECK_EQ_I64(bad, 0);
    free(w);
    free(src);
    free(x);
    free(y);
    free(xq);
    free(scratch);
}

static void test_bits(void) {
    static const int64_t shapes[][3] = {
        {64, 8, 1},   {896, 40, 1},  {896, 37, 3}, {4864, 16, 1}, {256, 24, 8},
        {1088, 21, 9}, {896, 64, 33}, {2048, 13, 40},
    };
    for (int nth = 1; nth <= 3; nth += 2) {
        sv_pool *pool;
        CHECK(sv_pool_new(nth, &pool) == SV_OK);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            check_shape(pool, GGUF_TYPE_Q8_0, shapes[s][0], shapes[s][1], shapes[s][2]);
            check_shape(pool, GGUF_TYPE_Q4_0, shapes[s][0], shapes[s][1], shapes[s][2]);
        }
        sv_pool_free(pool);
    }
}

int main(void) {
    if (tensor_type_get_cpu(GGUF_TYPE_Q8_0, TENSOR_CPU_AVX2)) RUN_TEST(test_bits);
    else printf("skipped: no AVX2 on this CPU\n");
    return test_main_end();
}
