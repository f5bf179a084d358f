/* vec_dot of every weight type against its activation format, on the
 * portable path and every SIMD path this CPU has: compared with
 * dequantize-then-dot in double. Also checks that the SIMD paths agree with
 * the portable one bit for bit where they must (the activation quantizers
 * and dequantizers). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tensor/type.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static float uniform(void) { return (float)next_u32() / 4294967296.0f; }

static float gaussian(void) {
    float u = uniform() + 1e-7f, v = uniform();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

/* Weights as a model would hold them: quantized from f32 where sova can
 * quantize the type, random blocks with a sane f16 scale otherwise. */
static void make_weights(tensor_type t, const tensor_type_traits *tr, void *dst, int64_t n) {
    if (tr->from_float) {
        float *x = malloc((size_t)n * sizeof *x);
        for (int64_t i = 0; i < n; i++) x[i] = gaussian() * 0.05f;
        tr->from_float(x, dst, n);
        free(x);
        return;
    }
    size_t bytes = tensor_row_bytes(t, n);
    uint8_t *p = dst;
    for (size_t i = 0; i < bytes; i++) p[i] = (uint8_t)next_u32();
    /* IQ4_NL and IQ4_XS both start each block with an f16 scale. */
    for (size_t off = 0; off < bytes; off += tr->block_bytes) {
        uint16_t h = tensor_f32_to_f16(0.001f + 0.002f * uniform());
        memcpy(p + off, &h, sizeof h);
    }
}

/* Tolerance: every integer product in the kernels is exact; what differs from
 * the double reference is float rounding when scaling and summing per block
 * (relative 2^-24 per operation, a few per block) plus, for Q8_1, the f16
 * rounding of the stored block sum s (relative 2^-11 of |m * s| per block).
 * 2e-5 of sum |x_i y_i| covers the first for rows of up to thousands of
 * blocks; the second is added from the blocks themselves. */
static double q8_1_sum_error(tensor_type t, const void *w, const void *yq, int64_t n) {
    if (t != GGUF_TYPE_Q4_1 && t != GGUF_TYPE_Q5_1) return 0;
    size_t wb = t == GGUF_TYPE_Q4_1 ? 20 : 24;
    double e = 0;
    for (int64_t b = 0; b < n / 32; b++) {
        uint16_t m, s;
        memcpy(&m, (const uint8_t *)w + b * wb + 2, 2);
        memcpy(&s, (const uint8_t *)yq + b * 36 + 2, 2);
        e += fabs((double)tensor_f16_to_f32(m) * tensor_f16_to_f32(s)) * (1.0 / 2048);
    }
    return e;
}

static void check_type(tensor_type t, tensor_cpu cpu, int64_t n) {
    const tensor_type_traits *tr = tensor_type_get_cpu(t, cpu);
    const tensor_type_traits *yt = tr ? tensor_type_get_cpu(tr->vec_dot_type, cpu) : NULL;
    CHECK(tr && yt && tr->vec_dot && yt->from_float && yt->to_float);
    if (!tr || !yt) return;
    void *w = malloc(tensor_row_bytes(t, n));
    void *yq = malloc(tensor_row_bytes(tr->vec_dot_type, n));
    float *y = malloc((size_t)n * sizeof *y), *wf = malloc((size_t)n * sizeof *wf);
    float *yf = malloc((size_t)n * sizeof *yf);
    make_weights(t, tr, w, n);
    for (int64_t i = 0; i < n; i++) y[i] = gaussian() * (i % 97 == 0 ? 8.0f : 1.0f);
    yt->from_float(y, yq, n);
    tr->to_float(w, wf, n);
    yt->to_float(yq, yf, n);
    double ref = 0, mag = 0;
    for (int64_t i = 0; i < n; i++) {
        ref += (double)wf[i] * yf[i];
        mag += fabs((double)wf[i] * yf[i]);
    }
    float got;
    tr->vec_dot(n, &got, w, yq);
    double tol = 2e-5 * mag + q8_1_sum_error(t, w, yq, n) + 1e-30;
    CHECK_MSG(fabs(got - ref) <= tol, "%s [%s] n=%lld: vec_dot %.9g, reference %.9g (tolerance %.3g)", tr->name,
              tensor_cpu_name(cpu), (long long)n, got, ref, tol);
    free(w);
    free(yq);
    free(y);
    free(wf);
    free(yf);
}

static const tensor_type weight_types[] = {
    GGUF_TYPE_F32,  GGUF_TYPE_F16,  GGUF_TYPE_BF16, GGUF_TYPE_Q4_0, GGUF_TYPE_Q4_1,
    GGUF_TYPE_Q5_0, GGUF_TYPE_Q5_1, GGUF_TYPE_Q8_0, GGUF_TYPE_Q2_K, GGUF_TYPE_Q3_K,
    GGUF_TYPE_Q4_K, GGUF_TYPE_Q5_K, GGUF_TYPE_Q6_K, GGUF_TYPE_IQ4_NL, GGUF_TYPE_IQ4_XS,
};

static void test_vec_dot(void) {
    static const int64_t sizes[] = {256, 512, 768, 4096, 11008};
    for (int c = 0; c < TENSOR_CPU_COUNT; c++) {
        if (!tensor_type_get_cpu(GGUF_TYPE_F32, (tensor_cpu)c)) continue;
        for (size_t t = 0; t < sizeof weight_types / sizeof weight_types[0]; t++) {
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
                check_type(weight_types[t], (tensor_cpu)c, sizes[k]);
            /* Sizes that are not multiples of 256 (or of 8, for floats). */
            int64_t bs = tensor_type_get(weight_types[t])->block_size;
            if (bs == 1) {
                check_type(weight_types[t], (tensor_cpu)c, 1);
                check_type(weight_types[t], (tensor_cpu)c, 37);
            } else if (bs == 32) {
                check_type(weight_types[t], (tensor_cpu)c, 32);
                check_type(weight_types[t], (tensor_cpu)c, 96);
                check_type(weight_types[t], (tensor_cpu)c, 160);
            }
        }
    }
}

/* The SIMD quantizers and dequantizers (AVX2, NEON) must produce exactly
 * what the portable ones do; inputs include ties (x.5 after scaling), zeros
 * and negative zero. */
static void check_path_agrees(tensor_cpu cpu) {
    enum { N = 4096 };
    float *x = malloc(N * sizeof *x), *f0 = malloc(N * sizeof *f0), *f1 = malloc(N * sizeof *f1);
    uint8_t *q0 = malloc(N * 2), *q1 = malloc(N * 2);
    for (int i = 0; i < N; i++) x[i] = gaussian() * (i % 256 < 128 ? 1.0f : 1e-3f);
    for (int i = 0; i < 32; i++) x[i] = (float)(i - 16) * 0.5f; /* 127/8 scaling gives ties */
    for (int i = 32; i < 64; i++) x[i] = i % 2 ? 0.0f : -0.0f;
    /* amax 127 makes the Q8_0 and Q8_K scales exactly +-1: exact x.5 ties
     * (away from zero for Q8_0, to even for Q8_K). */
    x[64] = 127.0f;
    for (int i = 65; i < 96; i++) x[i] = (float)(i - 80) + 0.5f;
    for (int i = 256; i < 512; i++) x[i] = (float)((i * 7) % 255 - 127); /* exact levels */
    static const tensor_type types[] = {GGUF_TYPE_F16,  GGUF_TYPE_BF16, GGUF_TYPE_Q8_0, GGUF_TYPE_Q8_1,
                                        GGUF_TYPE_Q8_K, GGUF_TYPE_Q4_0, GGUF_TYPE_Q4_K};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const tensor_type_traits *g = tensor_type_get_cpu(types[t], TENSOR_CPU_GENERIC);
        const tensor_type_traits *v = tensor_type_get_cpu(types[t], cpu);
        size_t bytes = tensor_row_bytes(types[t], N);
        memset(q0, 0, N * 2);
        memset(q1, 0, N * 2);
        g->from_float(x, q0, N);
        v->from_float(x, q1, N);
        CHECK_MSG(memcmp(q0, q1, bytes) == 0, "%s: %s from_float differs", g->name, tensor_cpu_name(cpu));
        g->to_float(q0, f0, N);
        v->to_float(q0, f1, N);
        CHECK_MSG(memcmp(f0, f1, N * sizeof *f0) == 0, "%s: %s to_float differs", g->name, tensor_cpu_name(cpu));
    }
    free(x);
    free(f0);
    free(f1);
    free(q0);
    free(q1);
}

static void test_paths_agree(void) {
    for (int c = 0; c < TENSOR_CPU_COUNT; c++) {
        if (c == TENSOR_CPU_GENERIC) continue;
        if (!tensor_type_get_cpu(GGUF_TYPE_F32, (tensor_cpu)c)) {
            printf("  (no %s on this CPU: skipped)\n", tensor_cpu_name((tensor_cpu)c));
            continue;
        }
        check_path_agrees((tensor_cpu)c);
    }
}

/* f16: every half converts to f32 and back unchanged (NaNs stay NaN), and
 * f32 -> f16 rounds to nearest-even (the AVX2 path uses the F16C instruction,
 * which test_paths_agree compares against). */
static void test_half(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = tensor_f16_to_f32((uint16_t)h);
        uint16_t back = tensor_f32_to_f16(f);
        if (isnan(f) ? (back & 0x7c00) != 0x7c00 || !(back & 0x3ff) : back != h) bad++;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(tensor_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);           /* tie -> even */
    CHECK_EQ_I64(tensor_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);       /* tie -> even (up) */
    CHECK_EQ_I64(tensor_f32_to_f16(65520.0f), 0x7c00);                  /* overflow */
    CHECK_EQ_I64(tensor_f32_to_f16(65519.0f), 0x7bff);
    CHECK_EQ_I64(tensor_f32_to_f16(0x1p-25f), 0x0000);                  /* tie -> even zero */
    CHECK_EQ_I64(tensor_f32_to_f16(0x1.8p-24f), 0x0002);                /* subnormal tie -> even */
    CHECK_EQ_I64(tensor_f32_to_f16(-2.0f), 0xc000);
    CHECK_EQ_I64(tensor_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);           /* tie -> even */
    CHECK_EQ_I64(tensor_f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
    CHECK(tensor_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(isnan(tensor_bf16_to_f32(tensor_f32_to_bf16(NAN))));
}

int main(void) {
    printf("active kernels: %s\n", tensor_cpu_name(tensor_cpu_active()));
    RUN_TEST(test_half);
    RUN_TEST(test_vec_dot);
    RUN_TEST(test_paths_agree);
    return test_main_end();
}
