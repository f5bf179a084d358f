/* GIF through giflib's record-level API, so every image descriptor is checked
 * before its pixels are read. Frames are drawn on an RGBA canvas with their
 * disposal methods (1 keep, 2 clear to transparent, 3 restore previous) and
 * handed out composited on white. */
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>

#include "vision/img_impl.h"

typedef struct {
    const uint8_t *d;
    size_t n, pos;
} gif_src;

static int on_read(GifFileType *g, GifByteType *out, int len) {
    gif_src *s = g->UserData;
    size_t k = (size_t)len;
    if (len < 0) return 0;
    if (k > s->n - s->pos) k = s->n - s->pos;
    memcpy(out, s->d + s->pos, k);
    s->pos += k;
    return (int)k;
}

static sv_status gif_fail(GifFileType *g, const char *what) {
    int code = g ? g->Error : 0;
    const char *m = GifErrorString(code);
    return sv_error(SV_ERR_FORMAT, "gif: %s: %s", what,
                    code == D_GIF_ERR_READ_FAILED ? "truncated data" : (m ? m : "corrupt data"));
}

static GifFileType *gif_open(gif_src *s, sv_status *st) {
    int err = 0;
    GifFileType *g = DGifOpen(s, on_read, &err);
    if (!g) {
        const char *m = GifErrorString(err);
        *st = sv_error(SV_ERR_FORMAT, "gif: cannot read header: %s", m ? m : "corrupt data");
    }
    return g;
}

static void gif_close(GifFileType *g) {
    int err;
    if (g) DGifCloseFile(g, &err);
}

/* Skips the rest of an extension or image-data sub-block chain. */
static bool skip_ext(GifFileType *g, GifByteType *ext) {
    while (ext)
        if (DGifGetExtensionNext(g, &ext) == GIF_ERROR) return false;
    return true;
}

sv_status img__probe_gif(const uint8_t *d, size_t n, img_info *info) {
    gif_src s = {d, n, 0};
    sv_status st = SV_OK;
    GifFileType *g = gif_open(&s, &st);
    if (!g) return st;
    info->format = IMG_FORMAT_GIF;
    info->width = g->SWidth;
    info->height = g->SHeight;
    info->components = 1;
    info->n_frames = 0;
    for (;;) {
        GifRecordType rt;
        if (DGifGetRecordType(g, &rt) == GIF_ERROR) break;
        if (rt == TERMINATE_RECORD_TYPE) break;
        if (rt == IMAGE_DESC_RECORD_TYPE) {
            if (DGifGetImageDesc(g) == GIF_ERROR) break;
            if (g->Image.Interlace) info->progressive = true;
            int size;
            GifByteType *code;
            if (DGifGetCode(g, &size, &code) == GIF_ERROR) break;
            while (code)
                if (DGifGetCodeNext(g, &code) == GIF_ERROR) goto done;
            info->n_frames++;
        } else if (rt == EXTENSION_RECORD_TYPE) {
            int code;
            GifByteType *ext;
            if (DGifGetExtension(g, &code, &ext) == GIF_ERROR) break;
            if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4 && (ext[1] & 1)) info->has_alpha = true;
            if (!skip_ext(g, ext)) break;
        }
    }
done:
    gif_close(g);
    if (info->n_frames == 0) return sv_error(SV_ERR_FORMAT, "gif: no image in the file");
    return SV_OK;
}

typedef struct {
    int w, h;
    uint8_t *canvas; /* [h, w, 4] */
    uint8_t *saved;  /* canvas before a disposal-3 frame */
    uint8_t *line;
    img_frames *out;
    int cap;
} gif_state;

static sv_status emit(gif_state *gs, int delay_ms, uint64_t max_pixels, uint64_t *emitted) {
    img_frames *o = gs->out;
    uint64_t px = (uint64_t)gs->w * (uint64_t)gs->h;
    if (*emitted + px > max_pixels)
        return sv_error(SV_ERR_LIMIT, "gif: frames exceed the limit of %llu pixels in total", (unsigned long long)max_pixels);
    if (o->n == gs->cap) {
        int cap = gs->cap ? gs->cap * 2 : 4;
        img_image *f = realloc(o->frames, sizeof *f * (size_t)cap);
        if (f) o->frames = f;
        int *dl = f ? realloc(o->delay_ms, sizeof *dl * (size_t)cap) : NULL;
        if (dl) o->delay_ms = dl;
        if (!f || !dl) return sv_error(SV_ERR_NOMEM, "gif: out of memory");
        gs->cap = cap;
    }
    img_image *im = &o->frames[o->n];
    sv_status st = img_image_alloc(gs->w, gs->h, max_pixels, im);
    if (st) return st;
    img__rgba_to_rgb_on_white(gs->canvas, (size_t)px, im->rgb);
    o->delay_ms[o->n++] = delay_ms;
    *emitted += px;
    return SV_OK;
}

static void clear_rect(gif_state *gs, int x0, int y0, int w, int h) {
    for (int y = y0 < 0 ? 0 : y0; y < y0 + h && y < gs->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x0 + w && x < gs->w; x++) memset(gs->canvas + ((size_t)y * gs->w + x) * 4, 0, 4);
}

/* Reads one image's rows (interlaced or not) onto the canvas. */
static sv_status draw_image(GifFileType *g, gif_state *gs, int transparent) {
    const GifImageDesc *id = &g->Image;
    const ColorMapObject *cm = id->ColorMap ? id->ColorMap : g->SColorMap;
    if (!cm) return sv_error(SV_ERR_FORMAT, "gif: image without a colour map");
    if (id->Width <= 0 || id->Height <= 0) return sv_error(SV_ERR_FORMAT, "gif: empty image descriptor");
    uint8_t *line = realloc(gs->line, (size_t)id->Width);
    if (!line) return sv_error(SV_ERR_NOMEM, "gif: out of memory");
    gs->line = line;
    static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    int passes = id->Interlace ? 4 : 1;
    for (int pass = 0; pass < passes; pass++) {
        for (int r = id->Interlace ? start[pass] : 0; r < id->Height; r += id->Interlace ? step[pass] : 1) {
            if (DGifGetLine(g, line, id->Width) == GIF_ERROR) return gif_fail(g, "image data");
            int y = id->Top + r;
            if (y < 0 || y >= gs->h) continue;
            for (int c = 0; c < id->Width; c++) {
                int x = id->Left + c;
                if (x < 0 || x >= gs->w || line[c] == transparent) continue;
                uint8_t *px = gs->canvas + ((size_t)y * gs->w + x) * 4;
                if (line[c] >= cm->ColorCount) {
                    memset(px, 0, 3);
                } else {
                    px[0] = cm->Colors[line[c]].Red;
                    px[1] = cm->Colors[line[c]].Green;
                    px[2] = cm->Colors[line[c]].Blue;
                }
                px[3] = 255;
            }
        }
    }
    return SV_OK;
}

sv_status img__decode_gif(const uint8_t *d, size_t n, const img_decode_params *p, int max_frames, img_frames *out) {
    gif_src s = {d, n, 0};
    sv_status st = SV_OK;
    GifFileType *g = gif_open(&s, &st);
    if (!g) return st;
    gif_state gs = {.w = g->SWidth, .h = g->SHeight, .out = out};
    st = img__check_size("gif", gs.w, gs.h, p->max_pixels);
    if (st) goto fail;
    size_t cbytes = (size_t)gs.w * (size_t)gs.h * 4;
    gs.canvas = calloc(cbytes, 1);
    if (!gs.canvas) {
        st = sv_error(SV_ERR_NOMEM, "gif: out of memory");
        goto fail;
    }
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSAL_UNSPECIFIED, .TransparentColor = NO_TRANSPARENT_COLOR};
    int prev_disposal = DISPOSAL_UNSPECIFIED, px0 = 0, py0 = 0, pw = 0, ph = 0;
    uint64_t emitted = 0;
    while (out->n < max_frames) {
        GifRecordType rt;
        if (DGifGetRecordType(g, &rt) == GIF_ERROR) {
            st = gif_fail(g, "record");
            goto fail;
        }
        if (rt == TERMINATE_RECORD_TYPE) break;
        if (rt == EXTENSION_RECORD_TYPE) {
            int code;
            GifByteType *ext;
            if (DGifGetExtension(g, &code, &ext) == GIF_ERROR) {
                st = gif_fail(g, "extension");
                goto fail;
            }
            if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4) DGifExtensionToGCB(ext[0], ext + 1, &gcb);
            if (!skip_ext(g, ext)) {
                st = gif_fail(g, "extension");
                goto fail;
            }
            continue;
        }
        if (rt != IMAGE_DESC_RECORD_TYPE) continue;
        if (DGifGetImageDesc(g) == GIF_ERROR) {
            st = gif_fail(g, "image descriptor");
            goto fail;
        }
        if (prev_disposal == DISPOSE_BACKGROUND) clear_rect(&gs, px0, py0, pw, ph);
        else if (prev_disposal == DISPOSE_PREVIOUS && gs.saved) memcpy(gs.canvas, gs.saved, cbytes);
        if (gcb.DisposalMode == DISPOSE_PREVIOUS) {
            if (!gs.saved) gs.saved = malloc(cbytes);
            if (!gs.saved) {
                st = sv_error(SV_ERR_NOMEM, "gif: out of memory");
                goto fail;
            }
            memcpy(gs.saved, gs.canvas, cbytes);
        }
        st = draw_image(g, &gs, gcb.TransparentColor);
        if (st) goto fail;
        st = emit(&gs, gcb.DelayTime * 10, p->max_pixels, &emitted);
        if (st) goto fail;
        prev_disposal = gcb.DisposalMode;
        px0 = g->Image.Left;
        py0 = g->Image.Top;
        pw = g->Image.Width;
        ph = g->Image.Height;
        gcb = (GraphicsControlBlock){.DisposalMode = DISPOSAL_UNSPECIFIED, .TransparentColor = NO_TRANSPARENT_COLOR};
    }
    if (out->n == 0) {
        st = sv_error(SV_ERR_FORMAT, "gif: no image in the file");
        goto fail;
    }
    free(gs.canvas);
    free(gs.saved);
    free(gs.line);
    gif_close(g);
    return SV_OK;
fail:
    free(gs.canvas);
    free(gs.saved);
    free(gs.line);
    gif_close(g);
    img_frames_free(out);
    return st;
}
