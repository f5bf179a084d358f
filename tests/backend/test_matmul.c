/* CPU matmul against a double-precision reference over the dequantized
 * weights, for every weight type the traits support, on both kernel sets
 * (portable and AVX2), for decode and prompt shapes with padded strides and
 * 1..3 threads.
 *
 * Tolerance per output y[t][o] (reference r = sum_i w_i x_i in double):
 *   |y - r| <= 4 * sqrt(sum_i w_i^2 (step_i^2 + (x_i / 1024)^2)) + 2e-5 * sum_i |w_i x_i| + 1e-6
 * step_i is one quantization step of the activation format the type's dot
 * uses (0 when activations stay f32, else max|x| over the format's block /
 * 127): rounding moves each x_i by at most half a step, and the f16 block
 * scale of Q8_0/Q8_1 by x_i/2048, so the random-walk sum stays within this
 * bound with a wide margin (4 sigma of a full step is ~14 sigma of the real
 * error). The last terms cover f32 accumulation. A wrong scale, nibble or
 * block order errs by the size of y itself, far outside the bound. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/matmul.h"
#include "base/threadpool.h"
#include "check.h"
#include "tensor/quant_impl.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float frand(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) * 0x1p-53 * 2.0 - 1.0);
}

typedef struct {
    tensor_cpu cpu;
    const cpu_matmul_args *args;
    int pass;
} job;

static void run_pass(void *ctx, int ith, int nth) {
    const job *j = ctx;
    if (j->pass == 0) cpu_matmul_prepare_cpu(j->cpu, j->args, ith, nth);
    else cpu_matmul_compute_cpu(j->cpu, j->args, ith, nth);
}

static const float SENTINEL = 12345.0f;

/* One weight row: quantized from random floats, or, for the IQ types sova
 * does not quantize to, random code bytes under a sane f16 scale (every byte
 * pattern of those layouts is a valid weight). */
static bool make_row(const tensor_type_traits *tr, tensor_type t, int64_t n, float *src, uint8_t *dst) {
    if (tr->from_float) {
        for (int64_t i = 0; i < n; i++) src[i] = frand();
        tr->from_float(src, dst, n);
        return true;
    }
    size_t nb = (size_t)(n / tr->block_size);
    for (size_t i = 0; i < nb * tr->block_bytes; i++) dst[i] = (uint8_t)(frand() * 128.0f + 128.0f);
    for (size_t b = 0; b < nb; b++) {
        uint16_t d = tensor_f32_to_f16(0.02f + 0.01f * frand());
        if (t == GGUF_TYPE_IQ4_NL) ((block_iq4_nl *)dst)[b].d = d;
        else if (t == GGUF_TYPE_IQ4_XS) ((block_iq4_xs *)dst)[b].d = d;
        else return false;
    }
    return true;
}

typedef struct {
    int64_t n_tokens, n_out;
    int n_in_kind; /* 0: 512, 1: an awkward multiple of the block size, 2: deeper than one
                      integer-GEMM panel (1024) and not a multiple of it, 3: more than
                      the 128 blocks of 32 the Q4_0 GEMV converts scales for at once,
                      4: qwen2.5-0.5b's 896 (28 blocks of 32, not a multiple of the
                      8 scales the GEMV converts at once) */
    int threads;
} shape;

static const shape shapes[] = {
    {1, 37, 0, 1}, {1, 37, 1, 2}, {2, 19, 1, 3}, {7, 37, 0, 2},
    {33, 41, 1, 3}, {512, 37, 0, 2}, {512, 21, 1, 1},
    /* token counts leaving 1..3 after groups of 4 and 1..5 after groups of 6
     * (Q8_0), row counts leaving 1..7 after panels of 8 (and exactly 8) */
    {9, 29, 1, 1}, {10, 13, 2, 2}, {11, 8, 2, 3}, {8, 3, 0, 3}, {13, 10, 0, 2},
    {1, 11, 3, 2}, {3, 5, 3, 1}, {12, 9, 3, 2},
    {1, 37, 4, 2}, {2, 6, 4, 1}, {1, 3, 4, 1},
};

static int64_t n_in_for(int kind, int64_t bs) {
    if (kind == 0) return 512;
    if (kind == 2) return bs == 1 ? 1500 : 2304;
    if (kind == 3) return bs == 1 ? 4101 : bs >= 256 ? 4352 : 4384;
    if (kind == 4) return bs >= 256 ? 1792 : 896;
    if (bs == 1) return 301;
    return bs >= 256 ? 768 : 288;
}

/* Checks one type on one kernel set over all shapes; returns the worst
 * |error| / tolerance seen (for the log). */
static double check_type(tensor_type t, tensor_cpu cpu, sv_pool **pools) {
    const tensor_type_traits *tr = tensor_type_get_cpu(t, cpu);
    const tensor_type_traits *vt = tensor_type_get_cpu(tr->vec_dot_type, cpu);
    double worst = 0.0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const shape *sh = &shapes[si];
        int64_t n_in = n_in_for(sh->n_in_kind, tr->block_size), n_out = sh->n_out, m = sh->n_tokens;
        size_t row_bytes = tensor_row_bytes(t, n_in), w_stride = row_bytes + 48;
        size_t xs = (size_t)n_in + 5, ys = (size_t)n_out + 3;
        uint8_t *w = calloc((size_t)n_out, w_stride);
        float *wf = malloc((size_t)n_out * (size_t)n_in * sizeof(float));
        float *src = malloc((size_t)n_in * sizeof(float));
        float *x = malloc((size_t)m * xs * sizeof(float));
        float *y = malloc((size_t)m * ys * sizeof(float));
        for (int64_t o = 0; o < n_out; o++) {
            if (!make_row(tr, t, n_in, src, w + (size_t)o * w_stride)) {
                t_fail_at(__FILE__, __LINE__, "%s: no way to make test weights", tr->name);
                break;
            }
            tr->to_float(w + (size_t)o * w_stride, wf + (size_t)o * (size_t)n_in, n_in);
        }
        /* Magnitudes differ between 32-value blocks (period 5, so across panels
         * and chunks too): a kernel taking another block's activation scale
         * errs by far more than the tolerance. */
        for (size_t i = 0; i < (size_t)m * xs; i++) x[i] = frand() * (0.25f + (float)((i % xs) / 32 % 5) * 0.6f);
        for (size_t i = 0; i < (size_t)m * ys; i++) y[i] = SENTINEL;

        size_t scratch_bytes = cpu_matmul_scratch_size_cpu(cpu, t, n_in, n_out, m, 16);
        void *scratch = scratch_bytes ? aligned_alloc(64, (scratch_bytes + 63) & ~(size_t)63) : NULL;
        cpu_matmul_args a = {.wtype = t, .w = w, .w_row_bytes = w_stride, .n_in = n_in, .n_out = n_out,
                             .n_tokens = m, .x = x, .x_row_stride = xs, .y = y, .y_row_stride = ys,
                             .scratch = scratch};
        job j = {cpu, &a, 0};
        sv_pool_run(pools[sh->threads - 1], run_pass, &j);
        j.pass = 1;
        sv_pool_run(pools[sh->threads - 1], run_pass, &j);

        int bad = 0;
        int64_t vbs = vt->block_size;
        bool quant_act = tr->vec_dot_type != GGUF_TYPE_F32;
        for (int64_t tk = 0; tk < m && bad < 3; tk++) {
            const float *xt = x + (size_t)tk * xs;
            for (int64_t o = 0; o < n_out && bad < 3; o++) {
                const float *wo = wf + (size_t)o * (size_t)n_in;
                double ref = 0, abs_sum = 0, var = 0;
                for (int64_t b = 0; b < n_in; b += vbs) {
                    double amax = 0;
                    for (int64_t i = b; i < b + vbs; i++) amax = fmax(amax, fabs(xt[i]));
                    double step = quant_act ? amax / 127.0 : 0.0;
                    for (int64_t i = b; i < b + vbs; i++) {
                        double p = (double)wo[i] * xt[i];
                        double sx = quant_act ? xt[i] / 1024.0 : 0.0;
                        ref += p;
                        abs_sum += fabs(p);
                        var += (double)wo[i] * wo[i] * (step * step + sx * sx);
                    }
                }
                double tol = 4.0 * sqrt(var) + 2e-5 * abs_sum + 1e-6;
                double err = fabs((double)y[(size_t)tk * ys + (size_t)o] - ref);
                if (!(err <= tol)) {
                    bad++;
                    t_fail_at(__FILE__, __LINE__, "%s/%s n_tokens=%lld n_out=%lld n_in=%lld thr=%d: y[%lld][%lld]=%g ref=%g tol=%g",
                              tr->name, tensor_cpu_name(cpu), (long long)m, (long long)n_out, (long long)n_in,
                              sh->threads, (long long)tk, (long long)o, (double)y[(size_t)tk * ys + (size_t)o], ref, tol);
                } else if (err / tol > worst) {
                    worst = err / tol;
                }
            }
            for (size_t p = (size_t)n_out; p < ys; p++)
                if (y[(size_t)tk * ys + p] != SENTINEL) bad++;
        }
        CHECK_MSG(bad == 0, "%s/%s n_tokens=%lld: %d outputs wrong or padding overwritten", tr->name,
                  tensor_cpu_name(cpu), (long long)m, bad);
        free(scratch);
        free(w);
        free(wf);
        free(src);
        free(x);
        free(y);
    }
    return worst;
}

static const tensor_type all_types[] = {
    GGUF_TYPE_F32,  GGUF_TYPE_F16,  GGUF_TYPE_BF16, GGUF_TYPE_Q4_0,   GGUF_TYPE_Q4_1,
    GGUF_TYPE_Q5_0, GGUF_TYPE_Q5_1, GGUF_TYPE_Q8_0, GGUF_TYPE_Q2_K,   GGUF_TYPE_Q3_K,
    GGUF_TYPE_Q4_K, GGUF_TYPE_Q5_K, GGUF_TYPE_Q6_K, GGUF_TYPE_IQ4_NL, GGUF_TYPE_IQ4_XS,
};

static sv_pool *pools[3];

static void test_all_types(void) {
    int checked = 0;
    for (int c = 0; c < TENSOR_CPU_COUNT; c++) {
        tensor_cpu cpu = (tensor_cpu)c;
        if (!tensor_type_get_cpu(GGUF_TYPE_F32, cpu)) {
            printf("  kernel set %s: not available on this CPU\n", tensor_cpu_name(cpu));
            continue;
        }
        for (size_t i = 0; i < sizeof all_types / sizeof all_types[0]; i++) {
            const tensor_type_traits *tr = tensor_type_get_cpu(all_types[i], cpu);
            if (!tr || !tr->vec_dot) continue;
            double worst = check_type(all_types[i], cpu, pools);
            printf("  %-6s %-7s worst error/tolerance %.3f\n", tr->name, tensor_cpu_name(cpu), worst);
            checked++;
        }
    }
    CHECK(checked >= 3); /* F32, F16, BF16 at least, on the portable path */
}

int main(void) {
    for (int i = 0; i < 3; i++)
        if (sv_pool_new(i + 1, &pools[i]) != SV_OK) return 1;
    RUN_TEST(test_all_types);
    for (int i = 0; i < 3; i++) sv_pool_free(pools[i]);
    return test_main_end();
}
