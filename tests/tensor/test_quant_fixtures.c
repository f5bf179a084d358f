/* Quantization formats against ggml's reference vectors
 * ($SOVA_FIXTURES/quant): dequantization must be bit-exact for every type
 * and every row; quantization bit-exact for the plain-rounding types and,
 * for the K-quants, at least as accurate as the reference bytes (RMSE
 * against the input within 1%), checked on both kernel paths. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tensor/type.h"

#define N_ROWS 8
#define N_PER_ROW 256

static float input[N_ROWS * N_PER_ROW];

typedef struct {
    const char *file;
    tensor_type type;
    int quantize; /* 0: read-only type, 1: bytes must match, 2: RMSE criterion */
} fixture;

static const fixture fixtures[] = {
    {"quant/q4_0.bin", GGUF_TYPE_Q4_0, 1},     {"quant/q4_1.bin", GGUF_TYPE_Q4_1, 1},
    {"quant/q5_0.bin", GGUF_TYPE_Q5_0, 1},     {"quant/q5_1.bin", GGUF_TYPE_Q5_1, 1},
    {"quant/q8_0.bin", GGUF_TYPE_Q8_0, 1},     {"quant/q2_K.bin", GGUF_TYPE_Q2_K, 2},
    {"quant/q3_K.bin", GGUF_TYPE_Q3_K, 2},     {"quant/q4_K.bin", GGUF_TYPE_Q4_K, 2},
    {"quant/q5_K.bin", GGUF_TYPE_Q5_K, 2},     {"quant/q6_K.bin", GGUF_TYPE_Q6_K, 2},
    {"quant/iq4_nl.bin", GGUF_TYPE_IQ4_NL, 0}, {"quant/iq4_xs.bin", GGUF_TYPE_IQ4_XS, 0},
};

static double rmse(const float *a, const float *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s / n);
}

static void check_fixture(const fixture *f, tensor_cpu cpu) {
    const tensor_type_traits *tr = tensor_type_get_cpu(f->type, cpu);
    CHECK_MSG(tr != NULL, "%s: no traits", f->file);
    if (!tr) return;
    size_t row = tensor_row_bytes(f->type, N_PER_ROW), size;
    uint8_t *data = t_read_file(t_fixture(f->file), &size);
    CHECK_EQ_I64(size, N_ROWS * row + sizeof input);
    if (size != N_ROWS * row + sizeof input) {
        free(data);
        return;
    }
    float ref[N_PER_ROW], out[N_PER_ROW], mine_deq[N_PER_ROW];
    uint8_t mine[1024];
    for (int r = 0; r < N_ROWS; r++) {
        const uint8_t *q = data + r * row;
        memcpy(ref, data + N_ROWS * row + r * sizeof ref, sizeof ref);
        tr->to_float(q, out, N_PER_ROW);
        CHECK_MSG(memcmp(out, ref, sizeof out) == 0, "%s [%s] row %d: dequantization differs", tr->name,
                  tensor_cpu_name(cpu), r);
        if (!f->quantize) continue;
        CHECK(tr->from_float != NULL);
        if (!tr->from_float) continue;
        const float *x = input + r * N_PER_ROW;
        tr->from_float(x, mine, N_PER_ROW);
        if (f->quantize == 1) {
            CHECK_MSG(memcmp(mine, q, row) == 0, "%s [%s] row %d: quantized bytes differ", tr->name,
                      tensor_cpu_name(cpu), r);
        } else {
            tr->to_float(mine, mine_deq, N_PER_ROW);
            double e_mine = rmse(mine_deq, x, N_PER_ROW), e_ref = rmse(ref, x, N_PER_ROW);
            /* 1e-30 lets all-zero rows (both errors 0) pass. */
            CHECK_MSG(e_mine <= e_ref * 1.01 + 1e-30, "%s [%s] row %d: rmse %g > reference %g", tr->name,
                      tensor_cpu_name(cpu), r, e_mine, e_ref);
            if (memcmp(mine, q, row) != 0)
                printf("  note: %s row %d not bit-exact (rmse %.6g vs reference %.6g)\n", tr->name, r,
                       e_mine, e_ref);
        }
    }
    free(data);
}

static void test_fixtures(void) {
    size_t size;
    uint8_t *in = t_read_file(t_fixture("quant/input.f32"), &size);
    CHECK_EQ_I64(size, sizeof input);
    if (size == sizeof input) memcpy(input, in, sizeof input);
    free(in);
    for (int c = 0; c < TENSOR_CPU_COUNT; c++) {
        if (!tensor_type_get_cpu(GGUF_TYPE_F32, (tensor_cpu)c)) {
            printf("  (%s kernels not available on this CPU: skipped)\n", tensor_cpu_name((tensor_cpu)c));
            continue;
        }
        for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
            check_fixture(&fixtures[i], (tensor_cpu)c);
    }
}

/* Types sova cannot compute with are refused by name, naming the tensor. */
static void test_unsupported(void) {
    static const tensor_type refused[] = {GGUF_TYPE_TQ1_0, GGUF_TYPE_TQ2_0, GGUF_TYPE_MXFP4,
                                          GGUF_TYPE_IQ2_XXS, GGUF_TYPE_Q8_K, GGUF_TYPE_I32};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sv_status st = tensor_type_check(refused[i], "blk.0.ffn_up.weight");
        CHECK_EQ_I64(st, SV_ERR_UNSUPPORTED);
        CHECK_MSG(strstr(sv_errmsg(), "blk.0.ffn_up.weight") && strstr(sv_errmsg(), gguf_type_name(refused[i])),
                  "message \"%s\" names neither tensor nor type", sv_errmsg());
    }
    CHECK_EQ_I64(tensor_type_check((tensor_type)4, "t"), SV_ERR_UNSUPPORTED);
    CHECK_EQ_I64(tensor_type_check((tensor_type)1000, "t"), SV_ERR_UNSUPPORTED);
    CHECK(tensor_type_get((tensor_type)1000) == NULL);
    static const tensor_type ok[] = {GGUF_TYPE_F32,  GGUF_TYPE_F16,    GGUF_TYPE_BF16,  GGUF_TYPE_Q4_0,
                                     GGUF_TYPE_Q4_1, GGUF_TYPE_Q5_0,   GGUF_TYPE_Q5_1,  GGUF_TYPE_Q8_0,
                                     GGUF_TYPE_Q2_K, GGUF_TYPE_Q3_K,   GGUF_TYPE_Q4_K,  GGUF_TYPE_Q5_K,
                                     GGUF_TYPE_Q6_K, GGUF_TYPE_IQ4_NL, GGUF_TYPE_IQ4_XS};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_EQ_I64(tensor_type_check(ok[i], "t"), SV_OK);
        const tensor_type_traits *tr = tensor_type_get(ok[i]);
        CHECK(tr && strcmp(tr->name, gguf_type_name(ok[i])) == 0);
        CHECK(tr && tr->block_size == gguf_type_block_size(ok[i]));
        CHECK(tr && tr->block_bytes == gguf_type_block_bytes(ok[i]));
        const tensor_type_traits *vd = tr ? tensor_type_get(tr->vec_dot_type) : NULL;
        CHECK(vd && vd->from_float);
    }
}

static void test_row_bytes(void) {
    CHECK_EQ_I64(tensor_row_bytes(GGUF_TYPE_Q4_0, 4096), 4096 / 32 * 18);
    CHECK_EQ_I64(tensor_row_bytes(GGUF_TYPE_Q4_K, 4096), 16 * 144);
    CHECK_EQ_I64(tensor_row_bytes(GGUF_TYPE_F16, 3), 6);
    CHECK_EQ_I64(tensor_row_bytes(GGUF_TYPE_Q4_K, 100), 0);
    CHECK_EQ_I64(tensor_row_bytes(GGUF_TYPE_Q8_0, -32), 0);
    CHECK_EQ_I64(tensor_row_bytes(GGUF_TYPE_F32, INT64_MAX), 0);
    CHECK_EQ_I64(tensor_row_bytes((tensor_type)5, 32), 0);
}

int main(void) {
    RUN_TEST(test_fixtures);
    RUN_TEST(test_unsupported);
    RUN_TEST(test_row_bytes);
    return test_main_end();
}
