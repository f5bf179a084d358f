/* Decoders against Pillow's pixels in fixtures/images. Tolerance: 0 for the
 * lossless formats; 1 level for JPEG and lossy WebP, whose decoders may
 * differ in the last bit between libjpeg-turbo / libwebp versions. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vision/img.h"

static int max_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d > m) m = d;
    }
    return m;
}

static void expect(const char *file, const char *ref, int w, int h, int tol) {
    size_t n, rn;
    uint8_t *d = t_read_file(t_fixture(file), &n);
    uint8_t *r = t_read_file(t_fixture(ref), &rn);
    img_image im;
    img_decode_params p = img_default_decode_params();
    sv_status st = img_decode(d, n, &p, &im);
    CHECK_MSG(st == SV_OK, "%s: %s", file, sv_errmsg());
    if (st == SV_OK) {
        CHECK_MSG(im.w == w && im.h == h, "%s: %dx%d, want %dx%d", file, im.w, im.h, w, h);
        if (im.w == w && im.h == h && rn == (size_t)w * h * 3) {
            int md = max_diff(im.rgb, r, rn);
            CHECK_MSG(md <= tol, "%s vs %s: max diff %d > %d", file, ref, md, tol);
        }
        img_image_free(&im);
    }
    img_info info;
    CHECK_MSG(img_probe(d, n, &info) == SV_OK && info.width == w && info.height == h, "probe %s", file);
    free(d);
    free(r);
}

static void test_jpeg(void) {
    expect("images/jpeg_baseline_420.jpg", "images/jpeg_baseline_420.rgb", 64, 48, 1);
    expect("images/jpeg_progressive.jpg", "images/jpeg_progressive.rgb", 64, 48, 1);
    expect("images/jpeg_444.jpg", "images/jpeg_444.rgb", 61, 37, 1);
    expect("images/jpeg_422.jpg", "images/jpeg_422.rgb", 64, 48, 1);
    expect("images/jpeg_420_odd.jpg", "images/jpeg_420_odd.rgb", 61, 37, 1);
    expect("images/jpeg_gray.jpg", "images/jpeg_gray.rgb", 64, 48, 1);
    expect("images/jpeg_cmyk.jpg", "images/jpeg_cmyk.rgb", 64, 48, 1);
    expect("images/jpeg_optimized.jpg", "images/jpeg_optimized.rgb", 61, 37, 1);
}

static void test_png(void) {
    expect("images/png_rgb.png", "images/png_rgb.rgb", 64, 48, 0);
    expect("images/png_rgba.png", "images/png_rgba.onwhite.rgb", 64, 48, 0);
    expect("images/png_palette.png", "images/png_palette.rgb", 64, 48, 0);
    expect("images/png_palette_trns.png", "images/png_palette_trns.onwhite.rgb", 61, 37, 0);
    expect("images/png_gray.png", "images/png_gray.rgb", 64, 48, 0);
    expect("images/png_gray_alpha.png", "images/png_gray_alpha.onwhite.rgb", 64, 48, 0);
    expect("images/png_rgb16.png", "images/png_rgb16.rgb", 64, 48, 0);
    expect("images/png_filters.png", "images/png_filters.rgb", 61, 37, 0);
    expect("images/png_rgba_filters.png", "images/png_rgba_filters.onwhite.rgb", 64, 48, 0);
}

static void test_bmp_webp(void) {
    expect("images/bmp_24.bmp", "images/bmp_24.rgb", 61, 37, 0);
    expect("images/bmp_32.bmp", "images/bmp_32.rgb", 64, 48, 0);
    expect("images/webp_lossless.webp", "images/webp_lossless.rgb", 61, 37, 0);
    expect("images/webp_lossy.webp", "images/webp_lossy.rgb", 64, 48, 1);
    expect("images/webp_alpha.webp", "images/webp_alpha.onwhite.rgb", 64, 48, 1);
}

static void test_gif(void) {
    expect("images/gif_anim.gif", "images/gif_anim.frame0.rgb", 64, 48, 0);
    size_t n;
    uint8_t *d = t_read_file(t_fixture("images/gif_anim.gif"), &n);
    img_frames fr;
    sv_status st = img_decode_frames(d, n, NULL, &fr);
    CHECK_MSG(st == SV_OK, "gif frames: %s", sv_errmsg());
    if (st == SV_OK) {
        CHECK_EQ_I64(fr.n, 3);
        for (int i = 0; i < fr.n && i < 3; i++) {
            char name[64];
            snprintf(name, sizeof name, "images/gif_anim.frame%d.rgb", i);
            size_t rn;
            uint8_t *r = t_read_file(t_fixture(name), &rn);
            CHECK_MSG(rn == 64 * 48 * 3 && max_diff(fr.frames[i].rgb, r, rn) == 0, "gif frame %d differs", i);
            CHECK(fr.delay_ms[i] >= 0);
            free(r);
        }
        img_frames_free(&fr);
    }
    img_info info;
    CHECK(img_probe(d, n, &info) == SV_OK && info.n_frames == 3 && info.format == IMG_FORMAT_GIF);
    free(d);
}

/* Every prefix of every fixture must fail cleanly (or, for formats that
 * tolerate a missing trailer, succeed) - never crash. */
static void test_truncated_and_corrupt(void) {
    static const char *files[] = {"images/jpeg_baseline_420.jpg", "images/jpeg_progressive.jpg", "images/png_rgba.png",
                                  "images/gif_anim.gif", "images/bmp_24.bmp", "images/webp_lossy.webp",
                                  "images/webp_lossless.webp"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        size_t n;
        uint8_t *d = t_read_file(t_fixture(files[f]), &n);
        int failures = 0;
        for (size_t k = 0; k < n / 2; k += 7) {
            img_image im;
            sv_status st = img_decode(d, k, NULL, &im);
            if (st == SV_OK) img_image_free(&im);
            else failures++;
            if (st != SV_OK && st != SV_ERR_FORMAT && st != SV_ERR_UNSUPPORTED) CHECK_MSG(0, "%s[:%zu]: status %d", files[f], k, st);
        }
        CHECK_MSG(failures > 0, "%s: truncations never reported", files[f]);
        /* Flipped bytes in the body: any status, no crash. */
        uint8_t *c = malloc(n);
        memcpy(c, d, n);
        for (size_t i = n / 3; i < n; i += 13) c[i] ^= 0x5a;
        img_image im;
        if (img_decode(c, n, NULL, &im) == SV_OK) img_image_free(&im);
        free(c);
        free(d);
    }
    size_t n;
    uint8_t *d = t_read_file(t_fixture("images/png_rgb.png"), &n);
    img_image im;
    CHECK_EQ_I64(img_decode(d, 100, NULL, &im), SV_ERR_FORMAT);
    CHECK(strstr(sv_errmsg(), "png") != NULL);
    free(d);
    static const uint8_t junk[] = "hello, not an image";
    CHECK_EQ_I64(img_decode(junk, sizeof junk, NULL, &im), SV_ERR_UNSUPPORTED);
    CHECK(strstr(sv_errmsg(), "unknown format") != NULL);
    CHECK_EQ_I64(img_decode(junk, 0, NULL, &im), SV_ERR_FORMAT);
}

static void test_limits(void) {
    static const char *files[] = {"images/jpeg_444.jpg", "images/png_rgb.png", "images/gif_anim.gif", "images/bmp_24.bmp",
                                  "images/webp_lossy.webp"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        size_t n;
        uint8_t *d = t_read_file(t_fixture(files[f]), &n);
        img_decode_params p = img_default_decode_params();
        p.max_pixels = 1000;
        img_image im;
        CHECK_MSG(img_decode(d, n, &p, &im) == SV_ERR_LIMIT, "%s: limit not enforced", files[f]);
        CHECK(strstr(sv_errmsg(), "exceeds the limit") != NULL);
        free(d);
    }
    /* A PNG header claiming 100000 x 100000 is refused from its IHDR alone. */
    size_t n;
    uint8_t *d = t_read_file(t_fixture("images/png_rgb.png"), &n);
    uint8_t hdr[64];
    memcpy(hdr, d, 33);
    hdr[16] = 0; hdr[17] = 1; hdr[18] = 0x86; hdr[19] = 0xa0;
    hdr[20] = 0; hdr[21] = 1; hdr[22] = 0x86; hdr[23] = 0xa0;
    img_image im;
    sv_status st = img_decode(hdr, 33, NULL, &im);
    CHECK_MSG(st == SV_ERR_LIMIT || st == SV_ERR_FORMAT, "huge png header: %d", st);
    free(d);
    /* A BMP claiming 30000 x 30000 is refused by size; 1000 x 1000 without pixel data as truncated. */
    uint8_t bmp[54] = {'B', 'M'};
    bmp[10] = 54; bmp[14] = 40;
    bmp[18] = 0x30; bmp[19] = 0x75; bmp[22] = 0x30; bmp[23] = 0x75;
    bmp[26] = 1; bmp[28] = 24;
    CHECK_EQ_I64(img_decode(bmp, sizeof bmp, NULL, &im), SV_ERR_LIMIT);
    bmp[18] = 0xe8; bmp[19] = 0x03; bmp[22] = 0xe8; bmp[23] = 0x03;
    CHECK_EQ_I64(img_decode(bmp, sizeof bmp, NULL, &im), SV_ERR_FORMAT);
    CHECK(strstr(sv_errmsg(), "truncated") != NULL);
    bmp[26] = 2;
    CHECK_EQ_I64(img_decode(bmp, sizeof bmp, NULL, &im), SV_ERR_FORMAT);
}

/* A JPEG with an APP1 Exif orientation inserted after SOI. */
static uint8_t *with_orientation(const uint8_t *d, size_t n, int o, size_t *out_n) {
    static const uint8_t app1[] = {0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8,
                                   0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t *r = malloc(n + sizeof app1);
    memcpy(r, d, 2);
    memcpy(r + 2, app1, sizeof app1);
    r[2 + 29] = (uint8_t)o; /* low byte of the big-endian SHORT value */
    memcpy(r + 2 + sizeof app1, d + 2, n - 2);
    *out_n = n + sizeof app1;
    return r;
}

static void test_orientation(void) {
    size_t n;
    uint8_t *d = t_read_file(t_fixture("images/jpeg_444.jpg"), &n);
    img_image base;
    CHECK(img_decode(d, n, NULL, &base) == SV_OK);
    for (int o = 2; o <= 8; o++) {
        size_t m;
        uint8_t *j = with_orientation(d, n, o, &m);
        img_info info;
        CHECK(img_probe(j, m, &info) == SV_OK && info.orientation == o);
        img_image im;
        sv_status st = img_decode(j, m, NULL, &im);
        CHECK_MSG(st == SV_OK, "orientation %d: %s", o, sv_errmsg());
        if (st == SV_OK) {
            bool swap = o >= 5;
            CHECK(im.w == (swap ? base.h : base.w) && im.h == (swap ? base.w : base.h));
            /* The stored top-left pixel lands in the corner each orientation names. */
            int cx = (o == 2 || o == 3 || o == 6 || o == 7) ? im.w - 1 : 0;
            int cy = (o == 3 || o == 4 || o == 7 || o == 8) ? im.h - 1 : 0;
            CHECK_MSG(!memcmp(im.rgb + ((size_t)cy * im.w + cx) * 3, base.rgb, 3), "orientation %d corner", o);
            img_image_free(&im);
        }
        img_decode_params p = img_default_decode_params();
        p.apply_orientation = false;
        CHECK(img_decode(j, m, &p, &im) == SV_OK && im.w == base.w);
        img_image_free(&im);
        free(j);
    }
    img_image_free(&base);
    free(d);
}

static void test_dct_scaling(void) {
    size_t n;
    uint8_t *d = t_read_file(t_fixture("images/jpeg_baseline_420.jpg"), &n);
    img_decode_params p = img_default_decode_params();
    p.target_w = 8;
    p.target_h = 6;
    p.dct_margin = 2;
    img_image im;
    CHECK(img_decode(d, n, &p, &im) == SV_OK && im.w == 16 && im.h == 12);
    img_image_free(&im);
    p.dct_margin = 0;
    CHECK(img_decode(d, n, &p, &im) == SV_OK && im.w == 64 && im.h == 48);
    img_image_free(&im);
    free(d);
}

static void test_detect(void) {
    CHECK_EQ_I64(img_detect_format((const uint8_t *)"\xff\xd8\xff\xe0", 4), IMG_FORMAT_JPEG);
    CHECK_EQ_I64(img_detect_format((const uint8_t *)"GIF89a", 6), IMG_FORMAT_GIF);
    CHECK_EQ_I64(img_detect_format((const uint8_t *)"RIFF\0\0\0\0WEBP", 12), IMG_FORMAT_WEBP);
    CHECK_EQ_I64(img_detect_format((const uint8_t *)"RIFF\0\0\0\0WAVE", 12), IMG_FORMAT_UNKNOWN);
    CHECK_STREQ(img_format_name(IMG_FORMAT_PNG), "png");
}

int main(void) {
    RUN_TEST(test_detect);
    RUN_TEST(test_jpeg);
    RUN_TEST(test_png);
    RUN_TEST(test_bmp_webp);
    RUN_TEST(test_gif);
    RUN_TEST(test_truncated_and_corrupt);
    RUN_TEST(test_limits);
    RUN_TEST(test_orientation);
    RUN_TEST(test_dct_scaling);
    return test_main_end();
}
