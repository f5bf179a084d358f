/* BMP by hand: BITMAPCOREHEADER and BITMAPINFOHEADER (v1..v5), 1/4/8-bit
 * palettes, 16/32-bit BI_RGB or BI_BITFIELDS, 24-bit, bottom-up or top-down.
 * Every header field is checked against the file before pixels are read;
 * alpha in 32-bit files is ignored, as Pillow does. RLE is refused. */
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "vision/img_impl.h"

enum { BI_RGB = 0, BI_RLE8 = 1, BI_RLE4 = 2, BI_BITFIELDS = 3, BI_ALPHABITFIELDS = 6 };

typedef struct {
    int64_t w, h;       /* h > 0 bottom-up */
    int bpp;
    uint32_t compression;
    uint32_t offset;    /* pixel data from file start */
    uint32_t masks[3];
    size_t pal_at;      /* palette offset in the file */
    int pal_entry;      /* 3 (core header) or 4 bytes */
    uint32_t pal_n;
} bmp_hdr;

static uint32_t u16le(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t u32le(const uint8_t *p) { return u16le(p) | u16le(p + 2) << 16; }

static sv_status parse(const uint8_t *d, size_t n, bmp_hdr *hd) {
    memset(hd, 0, sizeof *hd);
    if (n < 26) return sv_error(SV_ERR_FORMAT, "bmp: truncated header (%zu bytes)", n);
    hd->offset = u32le(d + 10);
    uint32_t hs = u32le(d + 14);
    uint32_t planes;
    if (hs == 12) {
        hd->w = u16le(d + 18);
        hd->h = u16le(d + 20);
        planes = u16le(d + 22);
        hd->bpp = (int)u16le(d + 24);
        hd->pal_entry = 3;
    } else if (hs == 40 || hs == 52 || hs == 56 || hs == 64 || hs == 108 || hs == 124) {
        if (n < 14 + (size_t)hs) return sv_error(SV_ERR_FORMAT, "bmp: truncated %u-byte info header", hs);
        hd->w = (int32_t)u32le(d + 18);
        hd->h = (int32_t)u32le(d + 22);
        planes = u16le(d + 26);
        hd->bpp = (int)u16le(d + 28);
        hd->compression = u32le(d + 30);
        hd->pal_n = u32le(d + 46);
        hd->pal_entry = 4;
    } else {
        return sv_error(SV_ERR_FORMAT, "bmp: unknown info header size %u", hs);
    }
    if (planes != 1) return sv_error(SV_ERR_FORMAT, "bmp: %u planes (must be 1)", planes);
    if (hd->w <= 0 || hd->h == 0 || hd->h == INT32_MIN)
        return sv_error(SV_ERR_FORMAT, "bmp: invalid size %lldx%lld", (long long)hd->w, (long long)hd->h);
    if (hd->compression == BI_RLE8 || hd->compression == BI_RLE4)
        return sv_error(SV_ERR_UNSUPPORTED, "bmp: RLE compression is not supported");
    size_t after = 14 + (size_t)hs;
    if (hd->compression == BI_BITFIELDS || hd->compression == BI_ALPHABITFIELDS) {
        if (hd->bpp != 16 && hd->bpp != 32) return sv_error(SV_ERR_FORMAT, "bmp: bit fields with %d bits per pixel", hd->bpp);
        if (hs == 40) {
            after += hd->compression == BI_ALPHABITFIELDS ? 16 : 12;
            if (n < after) return sv_error(SV_ERR_FORMAT, "bmp: truncated colour masks");
        }
        for (int i = 0; i < 3; i++) hd->masks[i] = u32le(d + 54 + 4 * i);
        for (int i = 0; i < 3; i++)
            if (hd->masks[i] == 0) return sv_error(SV_ERR_FORMAT, "bmp: empty colour mask");
    } else if (hd->compression != BI_RGB) {
        return sv_error(SV_ERR_UNSUPPORTED, "bmp: compression %u is not supported", hd->compression);
    } else if (hd->bpp == 16) {
        hd->masks[0] = 0x7c00;
        hd->masks[1] = 0x03e0;
        hd->masks[2] = 0x001f;
    } else if (hd->bpp == 32) {
        hd->masks[0] = 0xff0000;
        hd->masks[1] = 0xff00;
        hd->masks[2] = 0xff;
    }
    if (hd->bpp == 1 || hd->bpp == 4 || hd->bpp == 8) {
        uint32_t maxn = 1u << hd->bpp;
        if (hd->pal_n == 0 || hd->pal_n > maxn) hd->pal_n = maxn;
        hd->pal_at = after;
        size_t pal_end = after + (size_t)hd->pal_n * (size_t)hd->pal_entry;
        if (pal_end > n || pal_end > hd->offset) {
            /* Some writers store fewer entries than they declare; keep what fits. */
            size_t room = (hd->offset < n ? hd->offset : n);
            if (room <= after) return sv_error(SV_ERR_FORMAT, "bmp: missing colour palette");
            hd->pal_n = (uint32_t)((room - after) / (size_t)hd->pal_entry);
            if (hd->pal_n == 0) return sv_error(SV_ERR_FORMAT, "bmp: missing colour palette");
        }
    } else if (hd->bpp != 16 && hd->bpp != 24 && hd->bpp != 32) {
        return sv_error(SV_ERR_UNSUPPORTED, "bmp: %d bits per pixel is not supported", hd->bpp);
    }
    if (hd->offset < after || hd->offset > n) return sv_error(SV_ERR_FORMAT, "bmp: pixel data offset %u outside the file", hd->offset);
    return SV_OK;
}

sv_status img__probe_bmp(const uint8_t *d, size_t n, img_info *info) {
    bmp_hdr hd;
    sv_status st = parse(d, n, &hd);
    if (st) return st;
    info->format = IMG_FORMAT_BMP;
    info->width = (int)hd.w;
    info->height = (int)(hd.h < 0 ? -hd.h : hd.h);
    info->components = hd.bpp <= 8 ? 1 : 3;
    return SV_OK;
}

static uint8_t field(uint32_t v, uint32_t mask) {
    int shift = __builtin_ctz(mask);
    uint32_t m = mask >> shift, x = (v >> shift) & m;
    if (m == 255) return (uint8_t)x;
    return (uint8_t)((x * 255u + m / 2) / m);
}

sv_status img__decode_bmp(const uint8_t *d, size_t n, const img_decode_params *p, img_image *out) {
    bmp_hdr hd;
    sv_status st = parse(d, n, &hd);
    if (st) return st;
    int64_t h = hd.h < 0 ? -hd.h : hd.h;
    st = img__check_size("bmp", hd.w, h, p->max_pixels);
    if (st) return st;
    uint64_t bits, stride, need;
    if (sv_mul_u64((uint64_t)hd.w, (uint64_t)hd.bpp, &bits) || sv_mul_u64((bits + 31) / 32, 4, &stride) ||
        sv_mul_u64(stride, (uint64_t)h, &need) || need > n - hd.offset)
        return sv_error(SV_ERR_FORMAT, "bmp: truncated pixel data (%lldx%lld at %d bits needs more than %zu bytes)",
                        (long long)hd.w, (long long)h, hd.bpp, n - hd.offset);
    st = img_image_alloc((int)hd.w, (int)h, p->max_pixels, out);
    if (st) return st;
    int w = (int)hd.w;
    for (int64_t y = 0; y < h; y++) {
        const uint8_t *row = d + hd.offset + (size_t)stride * (size_t)(hd.h > 0 ? h - 1 - y : y);
        uint8_t *o = out->rgb + (size_t)y * (size_t)w * 3;
        for (int x = 0; x < w; x++, o += 3) {
            if (hd.bpp == 24) {
                o[0] = row[3 * x + 2];
                o[1] = row[3 * x + 1];
                o[2] = row[3 * x];
            } else if (hd.bpp == 32 || hd.bpp == 16) {
                uint32_t v = hd.bpp == 32 ? u32le(row + 4 * x) : u16le(row + 2 * x);
                for (int c = 0; c < 3; c++) o[c] = field(v, hd.masks[c]);
            } else {
                int per = 8 / hd.bpp;
                uint32_t idx = (uint32_t)(row[x / per] >> (8 - hd.bpp * (x % per + 1))) & ((1u << hd.bpp) - 1);
                if (idx >= hd.pal_n) idx = 0;
                const uint8_t *e = d + hd.pal_at + (size_t)idx * (size_t)hd.pal_entry;
                o[0] = e[2];
                o[1] = e[1];
                o[2] = e[0];
            }
        }
    }
    return SV_OK;
}
