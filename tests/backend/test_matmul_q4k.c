/* Q4_K x Q8_K kernels against plain C references of ggml's AVX2 float order,
 * compared bit for bit (memcmp): one llama.cpp output differing by an ulp can
 * flip a later int8 rounding and so a greedy token, so no tolerance is right.
 *  - mm__gemv_q4k_avx2 / mm__gemmq_q4k_avx2: ggml's 8-row repacked kernels
 *    (per-64-values FMAs for tokens 0 .. n - n % 4 when n > 3, per-block FMAs
 *    for the rest), any split of the rows or panels over calls;
 *  - tensor__vec_dot_q4_K_avx2: ggml_vec_dot_q4_K_q8_K's AVX2 lanes (8 float
 *    lanes of scaled sums, 4 of min terms, reduced pairwise at the end).
 * Weights and activations are random with extreme scales: largest f16,
 * subnormal f16, activations near the float subnormal range, and saturated
 * blocks whose integer sums pass 2^24 (so the int -> float rounding counts).
 * Skips where the CPU has no AVX2. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/matmul-impl.h"
#include "backend/cpu/x86/matmul_q4k.h"
#include "tensor/quant_impl.h"
#include "tensor/type.h"
#include "check.h"

#ifdef MM_HAVE_X86
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static float rnd_unit(void) { return (float)(rnd() % 2000001u) / 1000000.0f - 1.0f; }

/* A block's d or dmin: mostly ordinary values, sometimes the extremes. */
static uint16_t rnd_scale(void) {
    switch (rnd() % 8) {
    case 0: return 0x7bff;               /* 65504, largest f16 */
    case 1: return (uint16_t)(rnd() % 4 + 1); /* subnormal f16 */
    case 2: return 0;
    default: return tensor_f32_to_f16(rnd_unit() * 0.05f);
    }
}

static void fill_weights(block_q4_K *w, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; i++) {
        bool saturated = rnd() % 16 == 0;
        w[i].d = saturated ? 0x3c00 : rnd_scale();
        w[i].dmin = saturated ? 0x3c00 : rnd_scale();
        for (int j = 0; j < 12; j++) w[i].scales[j] = saturated ? 0xff : (uint8_t)rnd();
        for (int j = 0; j < QK_K / 2; j++) w[i].qs[j] = saturated ? 0xff : (uint8_t)rnd();
    }
}

/* n_tokens rows of n_in floats quantized to Q8_K, packed row_bytes apart. */
static uint8_t *make_act(int64_t n_in, int64_t n_tokens, size_t row_bytes) {
    uint8_t *act = malloc((size_t)n_tokens * row_bytes);
    float *x = malloc((size_t)n_in * sizeof *x);
    for (int64_t t = 0; t < n_tokens; t++) {
        for (int64_t b = 0; b < n_in / QK_K; b++) {
            int kind = (int)(rnd() % 8);
            float scale = kind == 0 ? 1e-36f : kind == 1 ? 1e3f : 1.0f;
            for (int i = 0; i < QK_K; i++) {
                float v = kind == 2 ? 1.0f : rnd_unit() * scale; /* 2: all +127 after quantization */
                x[b * QK_K + i] = v;
            }
        }
        tensor__from_float_q8_K(x, act + (size_t)t * row_bytes, n_in);
    }
    free(x);
    return act;
}

static int code(const block_q4_K *w, int j, int i) {
    uint8_t byte = w->qs[32 * (j / 2) + i];
    return j % 2 ? byte >> 4 : byte & 15;
}

static void scale_min(const uint8_t *s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* ggml's repacked kernels for one output; split = its GEMM's order. */
static float ref_repacked(const block_q4_K *w, const block_q8_K *x, int64_t nb, bool split) {
    float acc = 0.0f, accm = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        float sd = tensor_f16_to_f32(w[b].d) * x[b].d;
        float smin = tensor_f16_to_f32(w[b].dmin) * x[b].d;
        int32_t isum = 0, imin = 0;
        for (int k = 0; k < 4; k++) {
            int32_t ik = 0, mk = 0;
            for (int j = 2 * k; j < 2 * k + 2; j++) {
                int sc, mn, dot = 0;
                scale_min(w[b].scales, j, &sc, &mn);
                for (int i = 0; i < 32; i++) dot += code(&w[b], j, i) * x[b].qs[32 * j + i];
                ik += sc * dot;
                mk += mn * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
            }
            if (split) {
                acc = fmaf((float)ik, sd, acc);
                accm = fmaf((float)mk, smin, accm);
            } else {
                isum += ik;
                imin += mk;
            }
        }
        if (!split) {
            acc = fmaf((float)isum, sd, acc);
            accm = fmaf((float)imin, smin, accm);
        }
    }
    return acc - accm;
}

/* ggml_vec_dot_q4_K_q8_K, AVX2 branch, lane by lane. */
static float ref_vec_dot(const block_q4_K *w, const block_q8_K *x, int64_t nb) {
    float lane[8] = {0}, mlane[4] = {0};
    for (int64_t b = 0; b < nb; b++) {
        float d = x[b].d * tensor_f16_to_f32(w[b].d);
        float dmin = -x[b].d * tensor_f16_to_f32(w[b].dmin);
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++) scale_min(w[b].scales, j, &sc[j], &mn[j]);
        for (int l = 0; l < 8; l++) {
            int32_t s = 0;
            for (int k = 0; k < 4; k++) {
                int lo = 0, hi = 0;
                for (int i = 0; i < 4; i++) {
                    lo += code(&w[b], 2 * k, 4 * l + i) * x[b].qs[64 * k + 4 * l + i];
                    hi += code(&w[b], 2 * k + 1, 4 * l + i) * x[b].qs[64 * k + 32 + 4 * l + i];
                }
                s += sc[2 * k] * lo + sc[2 * k + 1] * hi;
            }
            lane[l] = fmaf(d, (float)s, lane[l]);
        }
        for (int k = 0; k < 4; k++) {
            int32_t p = mn[2 * k] * (x[b].bsums[4 * k] + x[b].bsums[4 * k + 1]) +
                        mn[2 * k + 1] * (x[b].bsums[4 * k + 2] + x[b].bsums[4 * k + 3]);
            mlane[k] = fmaf(dmin, (float)p, mlane[k]);
        }
    }
    float h[4];
    for (int i = 0; i < 4; i++) h[i] = lane[i] + lane[i + 4];
    float hs = (h[0] + h[2]) + (h[1] + h[3]);
    float ms = (mlane[0] + mlane[2]) + (mlane[1] + mlane[3]);
    return hs + ms;
}

typedef struct {
    int64_t n_in, n_out, n_tokens;
} shape;

static void check_shape(shape s) {
    int64_t nb = s.n_in / QK_K;
    size_t w_row = (size_t)nb * sizeof(block_q4_K), act_row = (size_t)nb * sizeof(block_q8_K);
    size_t ys = (size_t)s.n_out + 3; /* padding lanes must stay untouched */
    block_q4_K *w = malloc((size_t)s.n_out * w_row);
    fill_weights(w, s.n_out * nb);
    uint8_t *act = make_act(s.n_in, s.n_tokens, act_row);
    float *want = malloc((size_t)s.n_tokens * ys * sizeof(float));
    float *got = malloc((size_t)s.n_tokens * ys * sizeof(float));
    for (size_t i = 0; i < (size_t)s.n_tokens * ys; i++) want[i] = -1234.5f;
    int64_t ns = s.n_tokens > 3 ? s.n_tokens - s.n_tokens % 4 : 0;
    for (int64_t t = 0; t < s.n_tokens; t++) {
        const block_q8_K *x = (const block_q8_K *)(act + (size_t)t * act_row);
        for (int64_t o = 0; o < s.n_out; o++)
            want[(size_t)t * ys + o] = ref_repacked(w + o * nb, x, nb, t < ns);
    }
    cpu_matmul_args a = {.wtype = GGUF_TYPE_Q4_K, .w = w, .w_row_bytes = w_row, .n_in = s.n_in,
                         .n_out = s.n_out, .n_tokens = s.n_tokens, .y = got, .y_row_stride = ys};
    size_t bytes = (size_t)s.n_tokens * ys * sizeof(float);

    /* Rows split over two calls at an odd point, as threads may split them. */
    for (size_t i = 0; i < (size_t)s.n_tokens * ys; i++) got[i] = -1234.5f;
    int64_t cut = s.n_out > 5 ? 5 : s.n_out;
    mm__gemv_q4k_avx2(&a, act, act_row, 0, cut);
    mm__gemv_q4k_avx2(&a, act, act_row, cut, s.n_out);
    CHECK_MSG(memcmp(got, want, bytes) == 0, "gemv n_in %lld n_out %lld tokens %lld differs", (long long)s.n_in,
              (long long)s.n_out, (long long)s.n_tokens);

    size_t scratch_bytes = mm__gemmq_q4k_scratch(s.n_in);
    void *scratch = aligned_alloc(32, (scratch_bytes + 31) & ~(size_t)31);
    int64_t np = (s.n_out + MM_QR - 1) / MM_QR;
    for (size_t i = 0; i < (size_t)s.n_tokens * ys; i++) got[i] = -1234.5f;
    mm__gemmq_q4k_avx2(&a, act, act_row, 0, np / 2, scratch);
    mm__gemmq_q4k_avx2(&a, act, act_row, np / 2, np, scratch);
    CHECK_MSG(memcmp(got, want, bytes) == 0, "gemmq n_in %lld n_out %lld tokens %lld differs", (long long)s.n_in,
              (long long)s.n_out, (long long)s.n_tokens);

    int bad = 0;
    for (int64_t t = 0; t < s.n_tokens; t++) {
        const block_q8_K *x = (const block_q8_K *)(act + (size_t)t * act_row);
        for (int64_t o = 0; o < s.n_out; o++) {
            float v, r = ref_vec_dot(w + o * nb, x, nb);
            tensor__vec_dot_q4_K_avx2(s.n_in, &v, w + o * nb, x);
            bad += memcmp(&v, &r, sizeof v) != 0;
        }
    }
    CHECK_MSG(bad == 0, "vec_dot n_in %lld: %d of %lld outputs differ", (long long)s.n_in, bad,
              (long long)(s.n_out * s.n_tokens));
    free(scratch);
    free(got);
    free(want);
    free(act);
    free(w);
}

static void test_shapes(void) {
    static const int64_t n_ins[] = {256, 768, 2048, 4864};
    static const int64_t n_outs[] = {8, 13, 24, 40};
    static const int64_t tokens[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 40};
    for (size_t i = 0; i < sizeof n_ins / sizeof n_ins[0]; i++)
        for (size_t k = 0; k < sizeof tokens / sizeof tokens[0]; k++) {
            /* every n_out for the small rows, one per token count for the long ones */
            size_t j0 = n_ins[i] <= 768 ? 0 : k % 4, j1 = n_ins[i] <= 768 ? 4 : j0 + 1;
            for (size_t j = j0; j < j1; j++) check_shape((shape){n_ins[i], n_outs[j], tokens[k]});
        }
}

/* The two orders really differ on these inputs (so the test can tell a
 * kernel that uses the wrong one). */
static void test_orders_differ(void) {
    enum { NB = 19 };
    block_q4_K *w = malloc(NB * sizeof *w);
    uint8_t *act = NULL;
    int differ = 0;
    for (int tries = 0; tries < 20 && !differ; tries++) {
        fill_weights(w, NB);
        act = make_act(NB * QK_K, 1, NB * sizeof(block_q8_K));
        const block_q8_K *x = (const block_q8_K *)act;
        float a = ref_repacked(w, x, NB, true), b = ref_repacked(w, x, NB, false), c = ref_vec_dot(w, x, NB);
        differ = memcmp(&a, &b, sizeof a) != 0 && memcmp(&b, &c, sizeof b) != 0;
        free(act);
    }
    CHECK(differ);
    free(w);
}
#endif

int main(void) {
#ifdef MM_HAVE_X86
    if (tensor_type_get_cpu(GGUF_TYPE_F32, TENSOR_CPU_AVX2)) {
        RUN_TEST(test_orders_differ);
        RUN_TEST(test_shapes);
    } else {
        printf("skipped: no AVX2 on this CPU\n");
    }
#endif
    return test_main_end();
}
