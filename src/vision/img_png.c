/* PNG through libpng's classic API: palette, tRNS, 1..16-bit, gray(+alpha),
 * interlaced. 16-bit samples keep their high byte (what Pillow shows); alpha is
 * composited on white. libpng's errors longjmp back here. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "vision/img_impl.h"

typedef struct {
    const uint8_t *d;
    size_t n, pos;
    char msg[256];
    uint8_t *pixels; /* owned while decoding */
    png_bytep *rows;
} png_src;

static void on_read(png_structp png, png_bytep out, size_t len) {
    png_src *s = png_get_io_ptr(png);
    if (len > s->n - s->pos) png_error(png, "truncated data");
    memcpy(out, s->d + s->pos, len);
    s->pos += len;
}

static void on_error(png_structp png, png_const_charp msg) {
    png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* Reads up to IHDR; returns NULL structs on allocation failure. */
static sv_status open_png(png_src *s, png_structp *png, png_infop *info) {
    *png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
    *info = *png ? png_create_info_struct(*png) : NULL;
    if (!*png || !*info) {
        png_destroy_read_struct(png, info, NULL);
        return sv_error(SV_ERR_NOMEM, "png: out of memory");
    }
    png_set_read_fn(*png, s, on_read);
    /* Bounds libpng's own allocations (text, ICC chunks) on hostile files. */
    png_set_chunk_malloc_max(*png, 8u << 20);
    png_set_user_limits(*png, 0x7fffffffu, 0x7fffffffu);
    return SV_OK;
}

sv_status img__probe_png(const uint8_t *d, size_t n, img_info *out) {
    png_src s = {.d = d, .n = n};
    png_structp png;
    png_infop info;
    sv_status st = open_png(&s, &png, &info);
    if (st) return st;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return sv_error(SV_ERR_FORMAT, "png: %s", s.msg);
    }
    png_read_info(png, info);
    int ct = png_get_color_type(png, info);
    out->format = IMG_FORMAT_PNG;
    out->width = (int)png_get_image_width(png, info);
    out->height = (int)png_get_image_height(png, info);
    out->has_alpha = (ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
    out->progressive = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    out->components = png_get_channels(png, info);
    png_destroy_read_struct(&png, &info, NULL);
    return SV_OK;
}

sv_status img__decode_png(const uint8_t *d, size_t n, const img_decode_params *p, img_image *out) {
    png_src s = {.d = d, .n = n};
    png_structp png;
    png_infop info;
    sv_status st = open_png(&s, &png, &info);
    if (st) return st;
    if (setjmp(png_jmpbuf(png))) {
        free(s.pixels);
        free(s.rows);
        png_destroy_read_struct(&png, &info, NULL);
        return sv_error(SV_ERR_FORMAT, "png: %s", s.msg);
    }
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    st = img__check_size("png", w, h, p->max_pixels);
    if (st) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
    int ct = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_strip_16(png);
    if (!(ct & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int ch = png_get_channels(png, info);
    if (ch != 3 && ch != 4) {
        png_destroy_read_struct(&png, &info, NULL);
        return sv_error(SV_ERR_UNSUPPORTED, "png: unexpected %d channels after expansion", ch);
    }
    size_t stride = (size_t)w * (size_t)ch;
    s.pixels = malloc(stride * h);
    s.rows = malloc(sizeof *s.rows * h);
    if (!s.pixels || !s.rows) {
        free(s.pixels);
        free(s.rows);
        png_destroy_read_struct(&png, &info, NULL);
        return sv_error(SV_ERR_NOMEM, "png: cannot allocate %ux%u pixels", (unsigned)w, (unsigned)h);
    }
    for (png_uint_32 y = 0; y < h; y++) s.rows[y] = s.pixels + y * stride;
    png_read_image(png, s.rows);
    png_destroy_read_struct(&png, &info, NULL);
    free(s.rows);
    if (ch == 4) {
        img__rgba_to_rgb_on_white(s.pixels, (size_t)w * h, s.pixels);
        uint8_t *shrunk = realloc(s.pixels, (size_t)w * h * 3);
        if (shrunk) s.pixels = shrunk;
    }
    out->w = (int)w;
    out->h = (int)h;
    out->rgb = s.pixels;
    return SV_OK;
}
