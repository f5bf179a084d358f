/* The matmul's own AVX2 building blocks: the panel dequantizers against
 * ggml's dequantized floats in the quant fixtures (bit-exact: they compute the
 * same products in the same order), and the int8 activation quantizer
 * (round to nearest, within half a step, exact block sums). Skips where the
 * CPU has no AVX2. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/matmul-impl.h"
#include "tensor/quant_impl.h"
#include "check.h"

#ifdef MM_HAVE_X86
enum { ROWS = 8, COLS = 256 }; /* quant/README.md: 8 rows of 256 values */

static void check_fixture(const char *file, tensor_type t) {
    size_t size;
    uint8_t *data = t_read_file(t_fixture(file), &size);
    size_t row_bytes = tensor_row_bytes(t, COLS);
    size_t deq_at = ROWS * row_bytes;
    CHECK_MSG(size == deq_at + ROWS * COLS * sizeof(float), "%s: size %zu", file, size);
    if (size != deq_at + ROWS * COLS * sizeof(float)) {
        free(data);
        return;
    }
    int64_t bs = gguf_type_block_size(t);
    for (int r = 0; r < ROWS; r++) {
        float got[COLS], want[COLS];
        memcpy(want, data + deq_at + (size_t)r * COLS * sizeof(float), sizeof want);
        mm__dequant_row_avx2(t, data + (size_t)r * row_bytes, 0, COLS, got);
        CHECK_MSG(memcmp(got, want, sizeof got) == 0, "%s row %d differs", file, r);
        /* A chunk starting at a later block, as the GEMM's panels read them. */
        int64_t k0 = bs < COLS ? COLS - 2 * bs : 0, n = COLS - k0;
        mm__dequant_row_avx2(t, data + (size_t)r * row_bytes, k0, n, got);
        CHECK_MSG(memcmp(got, want + k0, (size_t)n * sizeof(float)) == 0, "%s row %d at %lld differs", file,
                  r, (long long)k0);
    }
    free(data);
}

static void test_dequant_fixtures(void) {
    check_fixture("quant/q4_0.bin", GGUF_TYPE_Q4_0);
    check_fixture("quant/q8_0.bin", GGUF_TYPE_Q8_0);
    check_fixture("quant/q4_K.bin", GGUF_TYPE_Q4_K);
}

static void test_dequant_halves(void) {
    enum { N = 37 }; /* not a multiple of 8: exercises the scalar tail */
    uint16_t h[N], b[N];
    for (int i = 0; i < N; i++) {
        float v = (float)(i - 18) * 0.37f;
        h[i] = tensor_f32_to_f16(v);
        b[i] = tensor_f32_to_bf16(v);
    }
    float got[N];
    mm__dequant_row_avx2(GGUF_TYPE_F16, h, 3, N - 3, got);
    int bad = 0;
    for (int i = 3; i < N; i++) bad += got[i - 3] != tensor_f16_to_f32(h[i]);
    mm__dequant_row_avx2(GGUF_TYPE_BF16, b, 3, N - 3, got);
    for (int i = 3; i < N; i++) bad += got[i - 3] != tensor_bf16_to_f32(b[i]);
    CHECK_EQ_I64(bad, 0);
}

/* The int8 rows must be ggml's AVX2 Q8_0 activations: quants rint(x * 127 /
 * amax) (ties to even), the scale amax / 127 rounded to f16, and the same
 * bytes as the traits' activation quantizer (the vec_dot path). */
static void test_quantize_act(void) {
    enum { N = 128, NB = N / MM_QA_BLOCK };
    float x[N];
    for (int i = 0; i < N; i++) x[i] = sinf((float)i * 0.7f) * (i < 32 ? 0.01f : 3.0f);
    for (int i = 64; i < 96; i++) x[i] = 0.0f; /* an all-zero block must give d = 0, not NaN */
    for (int i = 96; i < N; i++) x[i] = (float)(i - 112) * 0.5f; /* exact ties at 127 / 8 steps */
    uint8_t *qa = aligned_alloc(64, mm__qa_row_bytes(N));
    mm__quantize_act_avx2(x, qa, N, 0, NB);
    const int8_t *qs = (const int8_t *)qa;
    const float *d = mm__qa_scales(qa, N);
    const int32_t *xs = mm__qa_sums(qa, N);
    block_q8_0 ref[NB];
    tensor_type_get_cpu(GGUF_TYPE_Q8_0, TENSOR_CPU_AVX2)->from_float_act(x, ref, N);
    int bad = 0;
    for (int b = 0; b < NB; b++) {
        float amax = 0.0f;
        for (int j = 0; j < MM_QA_BLOCK; j++) amax = fmaxf(amax, fabsf(x[b * MM_QA_BLOCK + j]));
        float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < MM_QA_BLOCK; j++) {
            int i = b * MM_QA_BLOCK + j;
            sum += qs[i];
            bad += qs[i] != (int8_t)nearbyintf(x[i] * id);
            bad += qs[i] != ref[b].qs[j];
        }
        bad += d[b] != tensor_f16_to_f32(tensor_f32_to_f16(amax / 127.0f));
        bad += d[b] != tensor_f16_to_f32(ref[b].d);
        bad += xs[b] != 8 * sum;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK(d[2] == 0.0f && xs[2] == 0);
    free(qa);
}
#endif

int main(void) {
#ifdef MM_HAVE_X86
    if (tensor_type_get_cpu(GGUF_TYPE_F32, TENSOR_CPU_AVX2)) {
        RUN_TEST(test_dequant_fixtures);
        RUN_TEST(test_dequant_halves);
        RUN_TEST(test_quantize_act);
    } else {
        printf("skipped: no AVX2 on this CPU\n");
    }
#endif
    return test_main_end();
}
