/* Gemma 3 and Qwen2.5-VL preprocessing (see img_preproc.h). Normalisation is
 * a per-channel table of 256 floats computed the way the HF processors do
 * (float32 rescale, then float32 (x - mean) / std), so every output value is
 * bit-identical to theirs for the same resized pixel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "vision/img_preproc.h"

img_prep_params img_prep_default_params(img_prep_kind kind) {
    img_prep_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.rescale = 1.0 / 255.0;
    if (kind == IMG_PREP_GEMMA3) {
        p.filter = IMG_FILTER_BILINEAR;
        for (int c = 0; c < 3; c++) p.mean[c] = p.std[c] = 0.5f;
        p.image_size = 896;
    } else {
        static const float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f}, std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
        p.filter = IMG_FILTER_BICUBIC;
        memcpy(p.mean, mean, sizeof mean);
        memcpy(p.std, std, sizeof std);
        p.patch_size = 14;
        p.merge_size = 2;
        p.temporal_patch = 2;
        p.min_pixels = 56 * 56;
        p.max_pixels = 28 * 28 * 1280;
    }
    return p;
}

const char *img_prep_kind_name(img_prep_kind k) {
    return k == IMG_PREP_GEMMA3 ? "gemma3" : k == IMG_PREP_QWEN2VL ? "qwen2.5vl" : "unknown";
}

void img_tensor_free(img_tensor *t) {
    if (!t) return;
    free(t->data);
    memset(t, 0, sizeof *t);
}

sv_status img_qwen2vl_smart_resize(int h, int w, const img_prep_params *p, int *out_h, int *out_w) {
    int factor = p->patch_size * p->merge_size;
    if (h <= 0 || w <= 0 || factor <= 0 || p->min_pixels <= 0 || p->max_pixels < p->min_pixels)
        return sv_error(SV_ERR_INVALID_ARG, "smart resize: invalid size %dx%d or parameters", w, h);
    double big = h > w ? h : w, small = h > w ? w : h;
    if (big / small > 200)
        return sv_error(SV_ERR_INVALID_ARG, "smart resize: aspect ratio %.1f exceeds 200", big / small);
    double hb = rint((double)h / factor) * factor, wb = rint((double)w / factor) * factor;
    if (hb * wb > (double)p->max_pixels) {
        double beta = sqrt((double)h * (double)w / (double)p->max_pixels);
        hb = fmax(factor, floor((double)h / beta / factor) * factor);
        wb = fmax(factor, floor((double)w / beta / factor) * factor);
    } else if (hb * wb < (double)p->min_pixels) {
        double beta = sqrt((double)p->min_pixels / ((double)h * (double)w));
        hb = ceil((double)h * beta / factor) * factor;
        wb = ceil((double)w * beta / factor) * factor;
    }
    if (hb < factor || wb < factor || hb > 65536 || wb > 65536)
        return sv_error(SV_ERR_INVALID_ARG, "smart resize: %dx%d gives an unusable %gx%g", w, h, wb, hb);
    *out_h = (int)hb;
    *out_w = (int)wb;
    return SV_OK;
}

static sv_status check_params(const img_prep_params *p) {
    for (int c = 0; c < 3; c++)
        if (!(p->std[c] != 0.0f) || !isfinite(p->std[c]) || !isfinite(p->mean[c]))
            return sv_error(SV_ERR_INVALID_ARG, "preprocess: invalid mean/std for channel %d", c);
    if (p->kind == IMG_PREP_GEMMA3) {
        if (p->image_size <= 0 || p->image_size > 16384)
            return sv_error(SV_ERR_INVALID_ARG, "preprocess: invalid image size %d", p->image_size);
    } else if (p->kind == IMG_PREP_QWEN2VL) {
        if (p->patch_size <= 0 || p->patch_size > 1024 || p->merge_size <= 0 || p->merge_size > 16 ||
            p->temporal_patch <= 0 || p->temporal_patch > 16)
            return sv_error(SV_ERR_INVALID_ARG, "preprocess: invalid patch/merge/temporal sizes");
    } else {
        return sv_error(SV_ERR_INVALID_ARG, "preprocess: unknown model kind %d", (int)p->kind);
    }
    return SV_OK;
}

sv_status img_prep_target_size(const img_prep_params *p, int w, int h, int *out_w, int *out_h) {
    sv_status st = check_params(p);
    if (st) return st;
    if (p->kind == IMG_PREP_GEMMA3) {
        *out_w = *out_h = p->image_size;
        return SV_OK;
    }
    return img_qwen2vl_smart_resize(h, w, p, out_h, out_w);
}

static void make_lut(const img_prep_params *p, float lut[3][256]) {
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) {
            float r = (float)((double)v * p->rescale);
            lut[c][v] = (r - p->mean[c]) / p->std[c];
        }
}

static sv_status gemma3_tensor(const img_image *im, const float lut[3][256], img_tensor *out) {
    size_t plane = (size_t)im->w * (size_t)im->h;
    out->data = malloc(plane * 3 * sizeof(float));
    if (!out->data) return sv_error(SV_ERR_NOMEM, "preprocess: out of memory");
    out->n_dims = 4;
    out->shape[0] = 1;
    out->shape[1] = 3;
    out->shape[2] = im->h;
    out->shape[3] = im->w;
    float *r = out->data, *g = r + plane, *b = g + plane;
    const uint8_t *s = im->rgb;
    for (size_t i = 0; i < plane; i++, s += 3) {
        r[i] = lut[0][s[0]];
        g[i] = lut[1][s[1]];
        b[i] = lut[2][s[2]];
    }
    return SV_OK;
}

static sv_status qwen_tensor(const img_image *im, const img_prep_params *p, const float lut[3][256], img_tensor *out) {
    int ps = p->patch_size, m = p->merge_size, tp = p->temporal_patch;
    int gh = im->h / ps, gw = im->w / ps;
    if (gh % m || gw % m || gh * ps != im->h || gw * ps != im->w)
        return sv_error(SV_ERR_INVALID_ARG, "preprocess: %dx%d is not a multiple of %d", im->w, im->h, ps * m);
    size_t rows = (size_t)gh * (size_t)gw, cols = (size_t)3 * (size_t)tp * (size_t)ps * (size_t)ps, n;
    if (sv_mul_size(rows, cols, &n) || n > SIZE_MAX / sizeof(float))
        return sv_error(SV_ERR_LIMIT, "preprocess: patch tensor too large");
    out->data = malloc(n * sizeof(float));
    if (!out->data) return sv_error(SV_ERR_NOMEM, "preprocess: out of memory");
    out->n_dims = 2;
    out->shape[0] = (int64_t)rows;
    out->shape[1] = (int64_t)cols;
    out->grid_t = 1;
    out->grid_h = gh;
    out->grid_w = gw;
    size_t tstride = (size_t)ps * (size_t)ps, row_bytes = (size_t)im->w * 3;
    float *row = out->data;
    for (int bh = 0; bh < gh / m; bh++)
        for (int bw = 0; bw < gw / m; bw++)
            for (int mh = 0; mh < m; mh++)
                for (int mw = 0; mw < m; mw++, row += cols) {
                    const uint8_t *s0 = im->rgb + (size_t)(bh * m + mh) * (size_t)ps * row_bytes + (size_t)(bw * m + mw) * (size_t)ps * 3;
                    /* Sequential writes per channel; a still image fills every temporal slot with the same frame. */
                    for (int c = 0; c < 3; c++) {
                        float *d = row + (size_t)c * (size_t)tp * tstride;
                        const float *l = lut[c];
                        for (int py = 0; py < ps; py++, d += ps) {
                            const uint8_t *s = s0 + (size_t)py * row_bytes + (size_t)c;
                            for (int px = 0; px < ps; px++) d[px] = l[s[3 * px]];
                        }
                        for (int t = 1; t < tp; t++) memcpy(d + (size_t)(t - 1) * tstride, d - tstride, tstride * sizeof(float));
                    }
                }
    return SV_OK;
}

sv_status img_prep_image(const img_image *im, const img_prep_params *p, img_tensor *out) {
    memset(out, 0, sizeof *out);
    if (!im || !im->rgb || im->w <= 0 || im->h <= 0) return sv_error(SV_ERR_INVALID_ARG, "preprocess: empty image");
    int tw, th;
    sv_status st = img_prep_target_size(p, im->w, im->h, &tw, &th);
    if (st) return st;
    img_image rs = {0};
    const img_image *src = im;
    if (tw != im->w || th != im->h) {
        st = img_resize(im, tw, th, p->filter, &rs);
        if (st) return st;
        src = &rs;
    }
    float lut[3][256];
    make_lut(p, lut);
    st = p->kind == IMG_PREP_GEMMA3 ? gemma3_tensor(src, lut, out) : qwen_tensor(src, p, lut, out);
    img_image_free(&rs);
    if (st) img_tensor_free(out);
    return st;
}

sv_status img_prep_bytes(const uint8_t *data, size_t size, const img_prep_params *p, uint64_t max_pixels, img_tensor *out) {
    memset(out, 0, sizeof *out);
    img_decode_params dp = img_default_decode_params();
    if (max_pixels) dp.max_pixels = max_pixels;
    if (p->dct_margin > 0) {
        img_info info;
        int tw, th;
        sv_status st = img_probe(data, size, &info);
        if (st) return st;
        /* Targets are for the upright image; the DCT scale applies before EXIF rotation. */
        bool swap = dp.apply_orientation && info.orientation >= 5;
        int iw = swap ? info.height : info.width, ih = swap ? info.width : info.height;
        if (info.format == IMG_FORMAT_JPEG && (st = img_prep_target_size(p, iw, ih, &tw, &th)) == SV_OK) {
            dp.target_w = swap ? th : tw;
            dp.target_h = swap ? tw : th;
            dp.dct_margin = p->dct_margin;
        }
        if (st) return st;
    }
    img_image im;
    sv_status st = img_decode(data, size, &dp, &im);
    if (st) return st;
    st = img_prep_image(&im, p, out);
    img_image_free(&im);
    return st;
}
