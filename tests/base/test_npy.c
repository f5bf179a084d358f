#include <string.h>

#include "base/npy.h"
#include "check.h"

static void test_roundtrip(void) {
    float v[6] = {1, 2, 3, 4, 5, -6.5f};
    int64_t shape[2] = {2, 3};
    const char *p = t_tmpfile("a.npy");
    CHECK(sv_npy_save(p, "f4", shape, 2, v) == SV_OK);
    sv_npy a;
    CHECK(sv_npy_load(p, &a) == SV_OK);
    CHECK_EQ_I64(a.n_dims, 2);
    CHECK_EQ_I64(a.shape[0], 2);
    CHECK_EQ_I64(a.shape[1], 3);
    CHECK_STREQ(a.dtype, "f4");
    CHECK(memcmp(a.data, v, sizeof v) == 0);
    sv_npy_free(&a);
}

static void test_fixture_and_errors(void) {
    sv_npy a;
    CHECK(sv_npy_load(t_fixture("models/qwen3/p0_plain_logits.npy"), &a) == SV_OK);
    CHECK_EQ_I64(a.n_dims, 2);
    CHECK_EQ_I64(a.elem_size, 4);
    sv_npy_free(&a);
    CHECK(sv_npy_load(t_fixture("quant/input.f32"), &a) == SV_ERR_FORMAT);
    CHECK(sv_npy_load(t_tmpfile("missing.npy"), &a) == SV_ERR_IO);
}

int main(void) {
    RUN_TEST(test_roundtrip);
    RUN_TEST(test_fixture_and_errors);
    return test_main_end();
}
