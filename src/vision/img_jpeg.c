/* JPEG through libjpeg-turbo: islow IDCT and fancy upsampling (Pillow's
 * settings), CMYK/YCCK with Adobe inversion, EXIF orientation, and optional
 * DCT-domain downscaling. libjpeg's fatal errors longjmp back here instead
 * of exiting; a premature end of data is an error, not a grey fill. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "vision/img_impl.h"

typedef struct {
    struct jpeg_error_mgr mgr;
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX];
    uint8_t *pixels;   /* owned while decoding, freed on longjmp */
    uint8_t *row4;     /* CMYK row buffer */
} jpeg_err;

static void on_error(j_common_ptr c) {
    jpeg_err *e = (jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jmp, 1);
}

static void on_message(j_common_ptr c, int level) {
    jpeg_err *e = (jpeg_err *)c->err;
    /* Pillow refuses truncated files by default; so do we. Other warnings (extraneous bytes, bad restart markers) are recovered from as libjpeg does. */
    if (level == -1 && c->err->msg_code == JWRN_JPEG_EOF) {
        snprintf(e->msg, sizeof e->msg, "truncated data (premature end of JPEG file)");
        longjmp(e->jmp, 1);
    }
}

static void setup(struct jpeg_decompress_struct *ci, jpeg_err *e) {
    ci->err = jpeg_std_error(&e->mgr);
    e->mgr.error_exit = on_error;
    e->mgr.emit_message = on_message;
    e->msg[0] = 0;
    e->pixels = NULL;
    e->row4 = NULL;
}

static uint16_t rd16(const uint8_t *p, bool le) { return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p, bool le) {
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int img__exif_orientation(const uint8_t *p, size_t n) {
    if (n < 14 || memcmp(p, "Exif\0\0", 6)) return 1;
    const uint8_t *t = p + 6;
    size_t tn = n - 6;
    bool le;
    if (!memcmp(t, "II*\0", 4)) le = true;
    else if (!memcmp(t, "MM\0*", 4)) le = false;
    else return 1;
    uint32_t ifd = rd32(t + 4, le);
    if (ifd > tn || tn - ifd < 2) return 1;
    uint16_t count = rd16(t + ifd, le);
    for (uint32_t i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > tn) return 1;
        if (rd16(t + e, le) == 0x0112 && rd16(t + e + 2, le) == 3) {
            int v = rd16(t + e + 8, le);
            return v >= 1 && v <= 8 ? v : 1;
        }
    }
    return 1;
}

static int orientation_of(struct jpeg_decompress_struct *ci) {
    for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1) {
            int o = img__exif_orientation(m->data, m->data_length);
            if (o != 1) return o;
        }
    return 1;
}

sv_status img__probe_jpeg(const uint8_t *d, size_t n, img_info *info) {
    struct jpeg_decompress_struct ci;
    jpeg_err e;
    setup(&ci, &e);
    if (setjmp(e.jmp)) {
        jpeg_destroy_decompress(&ci);
        return sv_error(SV_ERR_FORMAT, "jpeg: %s", e.msg);
    }
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, d, (unsigned long)n);
    jpeg_save_markers(&ci, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&ci, TRUE);
    info->format = IMG_FORMAT_JPEG;
    info->width = (int)ci.image_width;
    info->height = (int)ci.image_height;
    info->components = ci.num_components;
    info->progressive = ci.progressive_mode != 0;
    info->orientation = orientation_of(&ci);
    jpeg_destroy_decompress(&ci);
    return SV_OK;
}

/* Pillow's CMYK to RGB: each channel (255-K) - (ink*(255-K))/255 rounded, no colour management. */
static void cmyk_row_to_rgb(const uint8_t *in, int w, bool inverted, uint8_t *out) {
    for (int x = 0; x < w; x++) {
        uint32_t c[4];
        for (int k = 0; k < 4; k++) c[k] = inverted ? 255u - in[4 * x + k] : in[4 * x + k];
        uint32_t nk = 255u - c[3];
        for (int k = 0; k < 3; k++) {
            uint32_t t = c[k] * nk + 128u;
            uint32_t m = ((t >> 8) + t) >> 8;
            out[3 * x + k] = (uint8_t)(nk - m);
        }
    }
}

/* Largest libjpeg denominator (8, 4, 2) that keeps the output >= margin x target. */
static unsigned dct_denom(unsigned w, unsigned h, const img_decode_params *p) {
    if (p->dct_margin <= 0 || p->target_w <= 0 || p->target_h <= 0) return 1;
    for (unsigned dn = 8; dn >= 2; dn /= 2) {
        uint64_t sw = (w + dn - 1) / dn, sh = (h + dn - 1) / dn;
        if (sw >= (uint64_t)p->dct_margin * (uint64_t)p->target_w && sh >= (uint64_t)p->dct_margin * (uint64_t)p->target_h)
            return dn;
    }
    return 1;
}

sv_status img__decode_jpeg(const uint8_t *d, size_t n, const img_decode_params *p, img_image *out) {
    struct jpeg_decompress_struct ci;
    jpeg_err e;
    setup(&ci, &e);
    if (setjmp(e.jmp)) {
        free(e.pixels);
        free(e.row4);
        jpeg_destroy_decompress(&ci);
        return sv_error(SV_ERR_FORMAT, "jpeg: %s", e.msg);
    }
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, d, (unsigned long)n);
    if (p->apply_orientation) jpeg_save_markers(&ci, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&ci, TRUE);
    sv_status st = img__check_size("jpeg", ci.image_width, ci.image_height, p->max_pixels);
    if (st) {
        jpeg_destroy_decompress(&ci);
        return st;
    }
    bool cmyk = ci.num_components == 4;
    ci.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGB;
    ci.dct_method = JDCT_ISLOW;
    ci.do_fancy_upsampling = TRUE;
    ci.scale_num = 1;
    ci.scale_denom = dct_denom(ci.image_width, ci.image_height, p);
    jpeg_start_decompress(&ci);
    int w = (int)ci.output_width, h = (int)ci.output_height;
    size_t stride = (size_t)w * 3;
    e.pixels = malloc(stride * (size_t)h);
    if (cmyk) e.row4 = malloc((size_t)w * 4);
    if (!e.pixels || (cmyk && !e.row4)) {
        free(e.pixels);
        free(e.row4);
        jpeg_destroy_decompress(&ci);
        return sv_error(SV_ERR_NOMEM, "jpeg: cannot allocate %dx%d pixels", w, h);
    }
    while (ci.output_scanline < ci.output_height) {
        unsigned y = ci.output_scanline;
        if (cmyk) {
            JSAMPROW row = e.row4;
            jpeg_read_scanlines(&ci, &row, 1);
            cmyk_row_to_rgb(e.row4, w, ci.saw_Adobe_marker != 0, e.pixels + y * stride);
        } else {
            JSAMPROW rows[4];
            unsigned k = 0;
            for (; k < 4 && y + k < ci.output_height; k++) rows[k] = e.pixels + (y + k) * stride;
            jpeg_read_scanlines(&ci, rows, k);
        }
    }
    int orient = p->apply_orientation ? orientation_of(&ci) : 1;
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    free(e.row4);
    out->w = w;
    out->h = h;
    out->rgb = e.pixels;
    if (orient != 1) {
        st = img__orient(out, orient);
        if (st) img_image_free(out);
        return st;
    }
    return SV_OK;
}
