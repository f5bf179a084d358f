/* Resampling against Pillow's Image.resize outputs (fixtures/images/resize_*).
 * Tolerance 0: the integer taps and rounding reproduce Pillow's exactly;
 * both the C and the AVX2 kernels are checked. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vision/img_resize.h"

static img_image load_source(const char *name, int w, int h) {
    img_image im = {w, h, NULL};
    size_t n;
    im.rgb = t_read_file(t_fixture(name), &n);
    CHECK_EQ_I64(n, (size_t)w * h * 3);
    return im;
}

static void one(const img_image *src, char which, const char *fname, img_filter f, int w, int h) {
    char ref[128];
    snprintf(ref, sizeof ref, "images/resize_%c_%s_%dx%d.rgb", which, fname, w, h);
    size_t n;
    uint8_t *r = t_read_file(t_fixture(ref), &n);
    for (int scalar = 0; scalar < 2; scalar++) {
        img_resize_force_scalar(scalar);
        img_image out;
        sv_status st = img_resize(src, w, h, f, &out);
        CHECK_MSG(st == SV_OK, "%s: %s", ref, sv_errmsg());
        if (st) continue;
        int md = 0;
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            int d = abs((int)out.rgb[i] - (int)r[i]);
            if (d) bad++;
            if (d > md) md = d;
        }
        CHECK_MSG(md == 0, "%s (%s): max diff %d at %zu values", ref, scalar ? "C" : "AVX2", md, bad);
        img_image_free(&out);
    }
    img_resize_force_scalar(false);
    free(r);
}

static void test_fixtures(void) {
    img_image a = load_source("images/source_A.rgb", 64, 48), b = load_source("images/source_B.rgb", 61, 37);
    for (int s = 0; s < 2; s++) {
        const img_image *src = s ? &b : &a;
        char c = s ? 'B' : 'A';
        one(src, c, "bicubic", IMG_FILTER_BICUBIC, 32, 24);
        one(src, c, "bilinear", IMG_FILTER_BILINEAR, 32, 24);
        one(src, c, "lanczos", IMG_FILTER_LANCZOS, 32, 24);
        one(src, c, "nearest", IMG_FILTER_NEAREST, 32, 24);
        one(src, c, "bicubic", IMG_FILTER_BICUBIC, 50, 40);
        one(src, c, "bilinear", IMG_FILTER_BILINEAR, 50, 40);
        one(src, c, "bicubic", IMG_FILTER_BICUBIC, 100, 75);
        one(src, c, "bilinear", IMG_FILTER_BILINEAR, 100, 75);
    }
    free(a.rgb);
    free(b.rgb);
}

/* The AVX2 kernels equal the C kernels on sizes that exercise row tails, the
 * end-of-buffer guard, tap groups past the first and the Qwen-like 1.47 ratio. */
static void test_kernels_agree(void) {
    img_image src;
    CHECK(img_image_alloc(97, 53, 0, &src) == SV_OK);
    uint32_t s = 12345;
    for (size_t i = 0; i < (size_t)97 * 53 * 3; i++) {
        s = s * 1103515245u + 12345u;
        src.rgb[i] = (uint8_t)(s >> 24);
    }
    static const int sizes[][2] = {{31, 17}, {200, 9}, {7, 120}, {96, 53}, {97, 20}, {1, 1}, {66, 36}, {2, 53}, {3, 2}};
    for (int f = IMG_FILTER_BILINEAR; f < IMG_FILTER_COUNT; f++)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            img_image x, y;
            img_resize_force_scalar(true);
            CHECK(img_resize(&src, sizes[k][0], sizes[k][1], (img_filter)f, &x) == SV_OK);
            img_resize_force_scalar(false);
            CHECK(img_resize(&src, sizes[k][0], sizes[k][1], (img_filter)f, &y) == SV_OK);
            CHECK_MSG(!memcmp(x.rgb, y.rgb, (size_t)x.w * x.h * 3), "%s %dx%d: kernels differ", img_filter_name((img_filter)f),
                      sizes[k][0], sizes[k][1]);
            img_image_free(&x);
            img_image_free(&y);
        }
    img_image out;
    CHECK_EQ_I64(img_resize(&src, 0, 5, IMG_FILTER_BICUBIC, &out), SV_ERR_INVALID_ARG);
    img_image_free(&src);
    img_filter f;
    CHECK(img_filter_from_pil(3, &f) && f == IMG_FILTER_BICUBIC);
    CHECK(img_filter_from_pil(2, &f) && f == IMG_FILTER_BILINEAR);
    CHECK(!img_filter_from_pil(4, &f));
}

int main(void) {
    RUN_TEST(test_fixtures);
    RUN_TEST(test_kernels_agree);
    return test_main_end();
}
