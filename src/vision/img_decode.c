/* Format detection and dispatch to the per-format decoders. */
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "vision/img_impl.h"

static const char *const format_names[IMG_FORMAT_COUNT] = {"unknown", "jpeg", "png", "gif", "bmp", "webp"};

const char *img_format_name(img_format f) {
    return (unsigned)f < IMG_FORMAT_COUNT ? format_names[f] : "unknown";
}

img_decode_params img_default_decode_params(void) {
    img_decode_params p = {0};
    p.max_pixels = IMG_DEFAULT_MAX_PIXELS;
    p.apply_orientation = true;
    return p;
}

img_format img_detect_format(const uint8_t *d, size_t n) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) return IMG_FORMAT_JPEG;
    if (n >= 8 && !memcmp(d, png_sig, 8)) return IMG_FORMAT_PNG;
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) return IMG_FORMAT_GIF;
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) return IMG_FORMAT_WEBP;
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return IMG_FORMAT_BMP;
    return IMG_FORMAT_UNKNOWN;
}

sv_status img__check_size(const char *fmt, int64_t w, int64_t h, uint64_t max_pixels) {
    if (w <= 0 || h <= 0) return sv_error(SV_ERR_FORMAT, "%s: invalid image size %lldx%lld", fmt, (long long)w, (long long)h);
    if (max_pixels == 0) max_pixels = IMG_DEFAULT_MAX_PIXELS;
    uint64_t px;
    if (w > INT32_MAX || h > INT32_MAX || sv_mul_u64((uint64_t)w, (uint64_t)h, &px) || px > max_pixels)
        return sv_error(SV_ERR_LIMIT, "%s: image %lldx%lld exceeds the limit of %llu pixels", fmt, (long long)w,
                        (long long)h, (unsigned long long)max_pixels);
    return SV_OK;
}

sv_status img_image_alloc(int w, int h, uint64_t max_pixels, img_image *out) {
    out->w = out->h = 0;
    out->rgb = NULL;
    sv_status st = img__check_size("image", w, h, max_pixels);
    if (st) return st;
    size_t bytes = (size_t)w * (size_t)h * 3;
    out->rgb = malloc(bytes ? bytes : 1);
    if (!out->rgb) return sv_error(SV_ERR_NOMEM, "image: cannot allocate %dx%d pixels", w, h);
    out->w = w;
    out->h = h;
    return SV_OK;
}

void img_image_free(img_image *im) {
    if (!im) return;
    free(im->rgb);
    im->rgb = NULL;
    im->w = im->h = 0;
}

void img_frames_free(img_frames *fr) {
    if (!fr) return;
    for (int i = 0; i < fr->n; i++) img_image_free(&fr->frames[i]);
    free(fr->frames);
    free(fr->delay_ms);
    memset(fr, 0, sizeof *fr);
}

void img__rgba_to_rgb_on_white(const uint8_t *rgba, size_t n, uint8_t *rgb) {
    for (size_t i = 0; i < n; i++) {
        uint32_t a = rgba[4 * i + 3];
        uint8_t r = img__over_white(rgba[4 * i], a), g = img__over_white(rgba[4 * i + 1], a),
                b = img__over_white(rgba[4 * i + 2], a);
        rgb[3 * i] = r;
        rgb[3 * i + 1] = g;
        rgb[3 * i + 2] = b;
    }
}

static sv_status unknown_format(const uint8_t *d, size_t n) {
    if (n == 0) return sv_error(SV_ERR_FORMAT, "image: no data (0 bytes)");
    return sv_error(SV_ERR_UNSUPPORTED, "image: unknown format (first bytes %02x %02x %02x %02x; "
                    "expected JPEG, PNG, GIF, BMP or WebP)", d[0], n > 1 ? d[1] : 0, n > 2 ? d[2] : 0, n > 3 ? d[3] : 0);
}

sv_status img_probe(const uint8_t *d, size_t n, img_info *info) {
    memset(info, 0, sizeof *info);
    info->n_frames = 1;
    info->orientation = 1;
    switch (img_detect_format(d, n)) {
    case IMG_FORMAT_JPEG: return img__probe_jpeg(d, n, info);
    case IMG_FORMAT_PNG: return img__probe_png(d, n, info);
    case IMG_FORMAT_GIF: return img__probe_gif(d, n, info);
    case IMG_FORMAT_BMP: return img__probe_bmp(d, n, info);
    case IMG_FORMAT_WEBP: return img__probe_webp(d, n, info);
    default: return unknown_format(d, n);
    }
}

static sv_status decode(const uint8_t *d, size_t n, const img_decode_params *params, int max_frames, img_frames *out) {
    img_decode_params p = params ? *params : img_default_decode_params();
    if (p.max_pixels == 0) p.max_pixels = IMG_DEFAULT_MAX_PIXELS;
    memset(out, 0, sizeof *out);
    img_format f = img_detect_format(d, n);
    if (f == IMG_FORMAT_GIF) return img__decode_gif(d, n, &p, max_frames, out);
    if (f == IMG_FORMAT_WEBP) return img__decode_webp(d, n, &p, max_frames, out);
    if (f == IMG_FORMAT_UNKNOWN) return unknown_format(d, n);
    out->frames = calloc(1, sizeof *out->frames);
    out->delay_ms = calloc(1, sizeof *out->delay_ms);
    if (!out->frames || !out->delay_ms) {
        img_frames_free(out);
        return sv_error(SV_ERR_NOMEM, "image: out of memory");
    }
    sv_status st = f == IMG_FORMAT_JPEG  ? img__decode_jpeg(d, n, &p, &out->frames[0])
                   : f == IMG_FORMAT_PNG ? img__decode_png(d, n, &p, &out->frames[0])
                                         : img__decode_bmp(d, n, &p, &out->frames[0]);
    if (st) {
        img_frames_free(out);
        return st;
    }
    out->n = 1;
    return SV_OK;
}

sv_status img_decode_frames(const uint8_t *d, size_t n, const img_decode_params *params, img_frames *out) {
    return decode(d, n, params, INT32_MAX, out);
}

sv_status img_decode(const uint8_t *d, size_t n, const img_decode_params *params, img_image *out) {
    img_frames fr;
    out->w = out->h = 0;
    out->rgb = NULL;
    sv_status st = decode(d, n, params, 1, &fr);
    if (st) return st;
    *out = fr.frames[0];
    fr.frames[0].rgb = NULL;
    img_frames_free(&fr);
    return SV_OK;
}
