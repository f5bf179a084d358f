/* WebP through libwebp: lossy, lossless and alpha stills are decoded directly;
 * animations go through WebPAnimDecoder, which composites each frame on the
 * canvas (the first frame, or all with their durations). */
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "vision/img_impl.h"

static const char *vp8_status(VP8StatusCode c) {
    switch (c) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated data";
    default: return "decoding failed";
    }
}

sv_status img__probe_webp(const uint8_t *d, size_t n, img_info *info) {
    WebPBitstreamFeatures f;
    VP8StatusCode c = WebPGetFeatures(d, n, &f);
    if (c != VP8_STATUS_OK) return sv_error(SV_ERR_FORMAT, "webp: %s", vp8_status(c));
    info->format = IMG_FORMAT_WEBP;
    info->width = f.width;
    info->height = f.height;
    info->has_alpha = f.has_alpha != 0;
    info->components = f.has_alpha ? 4 : 3;
    if (f.has_animation) {
        WebPData wd = {d, n};
        WebPDemuxer *dm = WebPDemux(&wd);
        if (!dm) return sv_error(SV_ERR_FORMAT, "webp: corrupt animation container");
        info->width = (int)WebPDemuxGetI(dm, WEBP_FF_CANVAS_WIDTH);
        info->height = (int)WebPDemuxGetI(dm, WEBP_FF_CANVAS_HEIGHT);
        info->n_frames = (int)WebPDemuxGetI(dm, WEBP_FF_FRAME_COUNT);
        WebPDemuxDelete(dm);
    }
    return SV_OK;
}

static sv_status frames_alloc(img_frames *out, int n) {
    out->frames = calloc((size_t)n, sizeof *out->frames);
    out->delay_ms = calloc((size_t)n, sizeof *out->delay_ms);
    if (!out->frames || !out->delay_ms) return sv_error(SV_ERR_NOMEM, "webp: out of memory");
    return SV_OK;
}

static sv_status decode_still(const uint8_t *d, size_t n, const WebPBitstreamFeatures *f, const img_decode_params *p,
                              img_frames *out) {
    sv_status st = frames_alloc(out, 1);
    if (st) return st;
    img_image *im = &out->frames[0];
    st = img_image_alloc(f->width, f->height, p->max_pixels, im);
    if (st) return st;
    out->n = 1; /* from here the caller's img_frames_free releases the frame */
    size_t px = (size_t)f->width * (size_t)f->height;
    if (f->has_alpha) {
        uint8_t *rgba = malloc(px * 4);
        if (!rgba) return sv_error(SV_ERR_NOMEM, "webp: out of memory");
        if (!WebPDecodeRGBAInto(d, n, rgba, px * 4, f->width * 4)) {
            free(rgba);
            return sv_error(SV_ERR_FORMAT, "webp: corrupt or truncated image data");
        }
        img__rgba_to_rgb_on_white(rgba, px, im->rgb);
        free(rgba);
    } else if (!WebPDecodeRGBInto(d, n, im->rgb, px * 3, f->width * 3)) {
        return sv_error(SV_ERR_FORMAT, "webp: corrupt or truncated image data");
    }
    return SV_OK;
}

static sv_status decode_anim(const uint8_t *d, size_t n, const img_decode_params *p, int max_frames, img_frames *out) {
    WebPData wd = {d, n};
    WebPAnimDecoderOptions o;
    if (!WebPAnimDecoderOptionsInit(&o)) return sv_error(SV_ERR_UNSUPPORTED, "webp: library version mismatch");
    o.color_mode = MODE_RGBA;
    o.use_threads = 0;
    /* Check the canvas before WebPAnimDecoderNew allocates it. */
    WebPDemuxer *dm = WebPDemux(&wd);
    if (!dm) return sv_error(SV_ERR_FORMAT, "webp: corrupt animation container");
    uint32_t cw = WebPDemuxGetI(dm, WEBP_FF_CANVAS_WIDTH), ch = WebPDemuxGetI(dm, WEBP_FF_CANVAS_HEIGHT);
    WebPDemuxDelete(dm);
    sv_status st = img__check_size("webp", cw, ch, p->max_pixels);
    if (st) return st;
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&wd, &o);
    if (!dec) return sv_error(SV_ERR_FORMAT, "webp: cannot decode the animation");
    WebPAnimInfo ai;
    if (!WebPAnimDecoderGetInfo(dec, &ai) || ai.frame_count == 0) {
        WebPAnimDecoderDelete(dec);
        return sv_error(SV_ERR_FORMAT, "webp: animation without frames");
    }
    int want = (int)(ai.frame_count < (uint32_t)max_frames ? ai.frame_count : (uint32_t)max_frames);
    uint64_t px = (uint64_t)ai.canvas_width * ai.canvas_height;
    if (want > 1 && px * (uint64_t)want > p->max_pixels) {
        WebPAnimDecoderDelete(dec);
        return sv_error(SV_ERR_LIMIT, "webp: %d frames exceed the limit of %llu pixels in total", want,
                        (unsigned long long)p->max_pixels);
    }
    st = frames_alloc(out, want);
    int prev_ts = 0;
    for (int i = 0; !st && i < want; i++) {
        uint8_t *buf;
        int ts;
        if (!WebPAnimDecoderGetNext(dec, &buf, &ts)) {
            st = sv_error(SV_ERR_FORMAT, "webp: corrupt or truncated frame %d", i);
            break;
        }
        st = img_image_alloc((int)ai.canvas_width, (int)ai.canvas_height, p->max_pixels, &out->frames[i]);
        if (st) break;
        img__rgba_to_rgb_on_white(buf, (size_t)px, out->frames[i].rgb);
        out->delay_ms[i] = ts - prev_ts;
        prev_ts = ts;
        out->n = i + 1;
    }
    WebPAnimDecoderDelete(dec);
    return st;
}

sv_status img__decode_webp(const uint8_t *d, size_t n, const img_decode_params *p, int max_frames, img_frames *out) {
    WebPBitstreamFeatures f;
    VP8StatusCode c = WebPGetFeatures(d, n, &f);
    if (c != VP8_STATUS_OK) return sv_error(SV_ERR_FORMAT, "webp: %s", vp8_status(c));
    sv_status st = f.has_animation ? decode_anim(d, n, p, max_frames, out)
                                   : img__check_size("webp", f.width, f.height, p->max_pixels);
    if (!st && !f.has_animation) st = decode_still(d, n, &f, p, out);
    if (st) img_frames_free(out);
    return st;
}
