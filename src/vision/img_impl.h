/* Internals shared by the image decoders. */
#ifndef IMG_IMPL_H
#define IMG_IMPL_H

#include "vision/img.h"

/* Checks w x h against the limit; names the format in the message. */
sv_status img__check_size(const char *fmt, int64_t w, int64_t h, uint64_t max_pixels);

/* Pillow's alpha_composite of (c, a) over opaque white, one channel. */
static inline uint8_t img__over_white(uint32_t c, uint32_t a) {
    if (a == 0) return 255;
    /* Pillow keeps 7 extra bits; with an opaque backdrop its coefficients reduce to a*128 and (255-a)*128. */
    uint32_t t = (c * a + 255u * (255u - a)) * 128u + (0x80u << 7);
    return (uint8_t)((((t >> 8) + t) >> 8) >> 7);
}

/* RGBA (n pixels) to RGB over white; in place is allowed (rgb == rgba). */
void img__rgba_to_rgb_on_white(const uint8_t *rgba, size_t n, uint8_t *rgb);

sv_status img__probe_jpeg(const uint8_t *d, size_t n, img_info *info);
sv_status img__decode_jpeg(const uint8_t *d, size_t n, const img_decode_params *p, img_image *out);
sv_status img__probe_png(const uint8_t *d, size_t n, img_info *info);
sv_status img__decode_png(const uint8_t *d, size_t n, const img_decode_params *p, img_image *out);
sv_status img__probe_gif(const uint8_t *d, size_t n, img_info *info);
/* max_frames 1 decodes only the first frame. */
sv_status img__decode_gif(const uint8_t *d, size_t n, const img_decode_params *p, int max_frames, img_frames *out);
sv_status img__probe_bmp(const uint8_t *d, size_t n, img_info *info);
sv_status img__decode_bmp(const uint8_t *d, size_t n, const img_decode_params *p, img_image *out);
sv_status img__probe_webp(const uint8_t *d, size_t n, img_info *info);
sv_status img__decode_webp(const uint8_t *d, size_t n, const img_decode_params *p, int max_frames, img_frames *out);

/* Applies an EXIF orientation (2..8) in place of *im (may reallocate). */
sv_status img__orient(img_image *im, int orientation);
/* EXIF orientation from an APP1 "Exif\0\0" payload; 1 when absent or malformed. */
int img__exif_orientation(const uint8_t *p, size_t n);

#endif
