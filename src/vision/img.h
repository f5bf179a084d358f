/* Decoded images and the decoders: JPEG, PNG, GIF, BMP and WebP bytes to RGB8.
 *
 * Every decoder reads the header first and refuses images above
 * img_decode_params.max_pixels before allocating pixel memory. Alpha is
 * composited on white exactly as Pillow's alpha_composite over an opaque white
 * background does (what HF processors' convert_rgb produces). Bad bytes get
 * SV_ERR_FORMAT (corrupt or truncated), SV_ERR_UNSUPPORTED (unknown format or
 * feature) or SV_ERR_LIMIT (too many pixels), with a message naming the problem. */
#ifndef IMG_H
#define IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef enum {
    IMG_FORMAT_UNKNOWN = 0,
    IMG_FORMAT_JPEG,
    IMG_FORMAT_PNG,
    IMG_FORMAT_GIF,
    IMG_FORMAT_BMP,
    IMG_FORMAT_WEBP,
    IMG_FORMAT_COUNT
} img_format;

enum { IMG_DEFAULT_MAX_PIXELS = 50000000 };

/* An RGB8 picture, row-major HWC without padding. */
typedef struct {
    int w, h;
    uint8_t *rgb; /* malloc'd, [h, w, 3] */
} img_image;

typedef struct {
    uint64_t max_pixels;   /* refuse larger images (canvas size for GIF/WebP); 0 = default */
    bool apply_orientation; /* rotate/flip JPEGs by their EXIF orientation */
    /* Size the caller will resize to (0 = unknown). JPEG decoding may then use
     * libjpeg's DCT-domain downscale (1/2, 1/4, 1/8) while the decoded image
     * stays at least `dct_margin` times the target in both axes. */
    int target_w, target_h;
    int dct_margin; /* 0 = never scale in the DCT domain */
} img_decode_params;

img_decode_params img_default_decode_params(void);

/* Header facts, read without decoding pixels. */
typedef struct {
    img_format format;
    int width, height;  /* as stored (before EXIF orientation) */
    int n_frames;       /* GIF/WebP animations: frame count; 1 otherwise */
    int orientation;    /* EXIF orientation 1..8 (1 when absent or not JPEG) */
    bool has_alpha;
    bool progressive;   /* JPEG / interlaced PNG / interlaced GIF */
    int components;     /* JPEG: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK; otherwise channels */
} img_info;

/* An animation: frames composited on the canvas, each with its delay. */
typedef struct {
    int n;
    img_image *frames; /* n images of the canvas size */
    int *delay_ms;     /* n delays */
} img_frames;

const char *img_format_name(img_format f);
/* From the leading bytes; IMG_FORMAT_UNKNOWN when no signature matches. */
img_format img_detect_format(const uint8_t *data, size_t size);

/* OUT: *info. Reads headers only (a whole GIF is scanned to count frames). */
sv_status img_probe(const uint8_t *data, size_t size, img_info *info);

/* Decodes the first frame. OUT: *out (release with img_image_free). */
sv_status img_decode(const uint8_t *data, size_t size, const img_decode_params *params, img_image *out);
/* Every frame (GIF, animated WebP: composited with disposal; others: one
 * frame). OUT: *out (release with img_frames_free). */
sv_status img_decode_frames(const uint8_t *data, size_t size, const img_decode_params *params, img_frames *out);

void img_image_free(img_image *im);
void img_frames_free(img_frames *fr);

/* Allocates a w x h image after checking the size against max_pixels. */
sv_status img_image_alloc(int w, int h, uint64_t max_pixels, img_image *out);

#endif
