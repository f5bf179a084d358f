/* Resampling that reproduces Pillow's Image.resize on 8-bit RGB exactly:
 * separable convolution (horizontal pass first, rounded to uint8, then
 * vertical), support scaled by the shrink factor (antialiasing), coefficients
 * normalised in double and fixed to 22 fractional bits, Pillow's rounding and
 * clipping; NEAREST follows Pillow's affine nearest-neighbour mapping. */
#ifndef IMG_RESIZE_H
#define IMG_RESIZE_H

#include "vision/img.h"

typedef enum {
    IMG_FILTER_NEAREST = 0,
    IMG_FILTER_BILINEAR,
    IMG_FILTER_BICUBIC,
    IMG_FILTER_LANCZOS,
    IMG_FILTER_COUNT
} img_filter;

/* Pillow's Resampling numbers (0 NEAREST, 1 LANCZOS, 2 BILINEAR, 3 BICUBIC)
 * as used by HF processor configs ("resample"); false for BOX/HAMMING and others. */
bool img_filter_from_pil(int pil_resample, img_filter *out);
const char *img_filter_name(img_filter f);

/* OUT: *out, a new w x h image (release with img_image_free). */
sv_status img_resize(const img_image *src, int w, int h, img_filter filter, img_image *out);

/* Selects the portable C kernels even where AVX2 is available (tests compare both). */
void img_resize_force_scalar(bool on);

#endif
