/* Model input tensors from decoded images, matching the HF PIL-backend
 * processors: Pillow-exact resize on uint8, then rescale and normalise in
 * float32 (x * rescale - mean) / std.
 *
 * Gemma 3 (Gemma3ImageProcessor): resize to image_size x image_size, output
 * [1, 3, S, S] (CHW). Qwen2.5-VL (Qwen2VLImageProcessor): smart resize to
 * multiples of patch*merge within [min_pixels, max_pixels], output the patch
 * matrix [grid_t*grid_h*grid_w, 3*temporal*patch*patch]: rows in 2x2 merge
 * groups (row-major over merged cells, then inside the group), columns
 * (channel, t, py, px); a still image is repeated over the temporal patch. */
#ifndef IMG_PREPROC_H
#define IMG_PREPROC_H

#include "vision/img.h"
#include "vision/img_resize.h"

typedef enum { IMG_PREP_GEMMA3 = 0, IMG_PREP_QWEN2VL, IMG_PREP_COUNT } img_prep_kind;

typedef struct {
    img_prep_kind kind;
    img_filter filter;        /* Gemma 3: bilinear (HF resample=2); Qwen2.5-VL: bicubic (3) */
    float mean[3], std[3];
    double rescale;           /* 1/255 */
    int image_size;           /* Gemma 3: square side (896 for the released models) */
    int patch_size;           /* Qwen2.5-VL: 14 */
    int merge_size;           /* Qwen2.5-VL: 2 */
    int temporal_patch;       /* Qwen2.5-VL: 2 */
    int64_t min_pixels, max_pixels; /* Qwen2.5-VL smart-resize bounds: 3136 and 1003520 (HF defaults) */
    /* DCT-domain JPEG downscale is allowed when the decoded image stays at
     * least this many times the target in both axes (0 = never; see
     * docs/vision-input.md for the difference it makes). */
    int dct_margin;
} img_prep_params;

img_prep_params img_prep_default_params(img_prep_kind kind);
const char *img_prep_kind_name(img_prep_kind k);

typedef struct {
    float *data;     /* malloc'd, C order */
    int n_dims;
    int64_t shape[4];
    int grid_t, grid_h, grid_w; /* Qwen2.5-VL patch grid (0 for Gemma 3) */
} img_tensor;

void img_tensor_free(img_tensor *t);

/* Qwen2-VL smart_resize (Python rounding: half to even); SV_ERR_INVALID_ARG
 * for aspect ratios above 200 or impossible bounds. */
sv_status img_qwen2vl_smart_resize(int h, int w, const img_prep_params *p, int *out_h, int *out_w);

/* Size the preprocessor resizes a w x h image to. */
sv_status img_prep_target_size(const img_prep_params *p, int w, int h, int *out_w, int *out_h);

/* Parameters from an mmproj's clip.* keys (clip.projector_type picks the
 * model; clip.vision.image_size, patch_size, spatial_merge_size, image_mean,
 * image_std override the defaults). */
struct gguf_file;
sv_status img_prep_params_from_gguf(const struct gguf_file *f, img_prep_params *out);
sv_status img_prep_params_from_mmproj(const char *path, img_prep_params *out);

/* OUT: *out (release with img_tensor_free). */
sv_status img_prep_image(const img_image *im, const img_prep_params *p, img_tensor *out);
/* Decode + preprocess; uses DCT scaling for JPEGs as p->dct_margin allows. */
sv_status img_prep_bytes(const uint8_t *data, size_t size, const img_prep_params *p, uint64_t max_pixels, img_tensor *out);

#endif
