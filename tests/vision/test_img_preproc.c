/* Preprocessors against the HF PIL-backend processors (fixtures/images/hfproc_*_pil_A)
 * and the model folders' pixel_values.npy. Tolerance (issue 5): every value
 * within one uint8 level of the resize, 1/(255*std), and >= 99% within 1e-5. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/npy.h"
#include "check.h"
#include "vision/img_preproc.h"

static img_image load_rgb(const char *name, int w, int h) {
    img_image im = {w, h, NULL};
    size_t n;
    im.rgb = t_read_file(t_fixture(name), &n);
    CHECK_EQ_I64(n, (size_t)w * h * 3);
    return im;
}

static void compare(const char *ref, const img_tensor *t, const img_prep_params *p) {
    sv_npy a;
    sv_status st = sv_npy_load(t_fixture(ref), &a);
    CHECK_MSG(st == SV_OK, "%s: %s", ref, sv_errmsg());
    if (st) return;
    int64_t n = 1;
    for (int i = 0; i < t->n_dims; i++) n *= t->shape[i];
    CHECK_MSG(a.n_dims == t->n_dims && (int64_t)a.n_elems == n, "%s: shape differs", ref);
    for (int i = 0; i < a.n_dims && i < t->n_dims; i++) CHECK_EQ_I64(a.shape[i], t->shape[i]);
    if ((int64_t)a.n_elems == n && !strcmp(a.dtype, "f4")) {
        float smin = fminf(p->std[0], fminf(p->std[1], p->std[2]));
        double tol = 1.0 / (255.0 * smin) + 1e-6, md = 0;
        size_t close = 0;
        const float *r = a.data;
        for (int64_t i = 0; i < n; i++) {
            double d = fabs((double)r[i] - (double)t->data[i]);
            if (d > md) md = d;
            if (d <= 1e-5) close++;
        }
        CHECK_MSG(md <= tol, "%s: max diff %g > %g", ref, md, tol);
        CHECK_MSG(close * 100 >= (size_t)n * 99, "%s: only %zu of %lld within 1e-5", ref, close, (long long)n);
        printf("  %s: max |diff| %.3g, %.4f%% within 1e-5\n", ref, md, 100.0 * (double)close / (double)n);
    }
    sv_npy_free(&a);
}

static void test_gemma3_hf(void) {
    img_image a = load_rgb("images/source_A.rgb", 64, 48);
    img_prep_params p = img_prep_default_params(IMG_PREP_GEMMA3);
    p.image_size = 112;
    img_tensor t;
    sv_status st = img_prep_image(&a, &p, &t);
    CHECK_MSG(st == SV_OK, "%s", sv_errmsg());
    if (!st) compare("images/hfproc_gemma3_pil_A.pixel_values.npy", &t, &p);
    img_tensor_free(&t);
    free(a.rgb);
    img_image m = load_rgb("models/gemma3vl/image.rgb", 112, 112);
    CHECK(img_prep_image(&m, &p, &t) == SV_OK);
    compare("models/gemma3vl/pixel_values.npy", &t, &p);
    img_tensor_free(&t);
    free(m.rgb);
}

static void test_qwen_hf(void) {
    img_image a = load_rgb("images/source_A.rgb", 64, 48);
    img_prep_params p = img_prep_default_params(IMG_PREP_QWEN2VL);
    img_tensor t;
    sv_status st = img_prep_image(&a, &p, &t);
    CHECK_MSG(st == SV_OK, "%s", sv_errmsg());
    if (!st) {
        CHECK(t.grid_t == 1 && t.grid_h == 4 && t.grid_w == 4);
        compare("images/hfproc_qwen2vl_pil_A.pixel_values.npy", &t, &p);
    }
    img_tensor_free(&t);
    free(a.rgb);
    img_image m = load_rgb("models/qwen25vl/image.rgb", 168, 112);
    CHECK(img_prep_image(&m, &p, &t) == SV_OK);
    CHECK(t.grid_t == 1 && t.grid_h == 8 && t.grid_w == 12);
    compare("models/qwen25vl/pixel_values.npy", &t, &p);
    img_tensor_free(&t);
    free(m.rgb);
}

static void test_smart_resize(void) {
    img_prep_params p = img_prep_default_params(IMG_PREP_QWEN2VL);
    int h, w;
    CHECK(img_qwen2vl_smart_resize(48, 64, &p, &h, &w) == SV_OK && h == 56 && w == 56);
    CHECK(img_qwen2vl_smart_resize(1080, 1920, &p, &h, &w) == SV_OK && h == 728 && w == 1316);
    CHECK(img_qwen2vl_smart_resize(112, 168, &p, &h, &w) == SV_OK && h == 112 && w == 168);
    /* 42/28 = 1.5 rounds half to even (2), 70/28 = 2.5 rounds to 2, as Python's round does. */
    CHECK(img_qwen2vl_smart_resize(42, 70, &p, &h, &w) == SV_OK && h == 56 && w == 56);
    CHECK(img_qwen2vl_smart_resize(10, 20, &p, &h, &w) == SV_OK && h * w >= 3136 && h % 28 == 0 && w % 28 == 0);
    CHECK_EQ_I64(img_qwen2vl_smart_resize(10, 2100, &p, &h, &w), SV_ERR_INVALID_ARG);
    p.max_pixels = 12845056;
    CHECK(img_qwen2vl_smart_resize(1080, 1920, &p, &h, &w) == SV_OK && h == 1092 && w == 1932);
}

static void test_bytes_and_errors(void) {
    size_t n;
    uint8_t *d = t_read_file(t_fixture("models/gemma3vl/image.png"), &n);
    img_prep_params p = img_prep_default_params(IMG_PREP_GEMMA3);
    p.image_size = 112;
    img_tensor t;
    CHECK(img_prep_bytes(d, n, &p, 0, &t) == SV_OK);
    compare("models/gemma3vl/pixel_values.npy", &t, &p);
    img_tensor_free(&t);
    free(d);
    p.std[1] = 0;
    img_image a = {2, 2, (uint8_t[12]){0}};
    CHECK_EQ_I64(img_prep_image(&a, &p, &t), SV_ERR_INVALID_ARG);
}

/* Parameters read from the fixture mmproj GGUFs reproduce the models' pixel_values. */
static void test_mmproj(void) {
    img_prep_params p;
    sv_status st = img_prep_params_from_mmproj(t_fixture("models/gemma3vl/mmproj-gemma3vl-F16.gguf"), &p);
    CHECK_MSG(st == SV_OK, "%s", sv_errmsg());
    CHECK(p.kind == IMG_PREP_GEMMA3 && p.image_size == 112 && p.mean[0] == 0.5f && p.std[2] == 0.5f);
    CHECK(p.filter == IMG_FILTER_BILINEAR);
    img_image m = load_rgb("models/gemma3vl/image.rgb", 112, 112);
    img_tensor t;
    CHECK(img_prep_image(&m, &p, &t) == SV_OK);
    compare("models/gemma3vl/pixel_values.npy", &t, &p);
    img_tensor_free(&t);
    free(m.rgb);

    st = img_prep_params_from_mmproj(t_fixture("models/qwen25vl/mmproj-qwen25vl-F16.gguf"), &p);
    CHECK_MSG(st == SV_OK, "%s", sv_errmsg());
    CHECK(p.kind == IMG_PREP_QWEN2VL && p.patch_size == 14 && p.merge_size == 2 && p.temporal_patch == 2);
    CHECK(fabsf(p.mean[0] - 0.48145466f) < 1e-7f && fabsf(p.std[0] - 0.26862954f) < 1e-7f);
    m = load_rgb("models/qwen25vl/image.rgb", 168, 112);
    CHECK(img_prep_image(&m, &p, &t) == SV_OK);
    compare("models/qwen25vl/pixel_values.npy", &t, &p);
    img_tensor_free(&t);
    free(m.rgb);
    /* A text model has no clip.projector_type; a PNG is no GGUF. */
    CHECK(img_prep_params_from_mmproj(t_fixture("models/qwen25vl/qwen25vl-F32.gguf"), &p) == SV_ERR_FORMAT);
    CHECK(img_prep_params_from_mmproj(t_fixture("images/png_rgb.png"), &p) != SV_OK);
}

int main(void) {
    RUN_TEST(test_mmproj);
    RUN_TEST(test_gemma3_hf);
    RUN_TEST(test_qwen_hf);
    RUN_TEST(test_smart_resize);
    RUN_TEST(test_bytes_and_errors);
    return test_main_end();
}
