/* libFuzzer: every decoder path. The first byte picks the entry point (probe,
 * first frame, all frames, DCT-scaled JPEG) so one corpus of real images
 * reaches JPEG, PNG, GIF, BMP and WebP through each. */
#include <stddef.h>
#include <stdint.h>

#include "vision/img.h"
#include "vision/img_preproc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    img_decode_params p = img_default_decode_params();
    p.max_pixels = 4u << 20; /* keeps each run small; the limit path is exercised too */
    switch (mode % 4) {
    case 0: {
        img_info info;
        img_probe(data, size, &info);
        break;
    }
    case 1: {
        img_image im;
        if (img_decode(data, size, &p, &im) == SV_OK) img_image_free(&im);
        break;
    }
    case 2: {
        img_frames fr;
        if (img_decode_frames(data, size, &p, &fr) == SV_OK) img_frames_free(&fr);
        break;
    }
    default: {
        img_prep_params pp = img_prep_default_params((mode >> 2) & 1 ? IMG_PREP_QWEN2VL : IMG_PREP_GEMMA3);
        pp.image_size = 32;
        pp.max_pixels = 64 * 64;
        pp.min_pixels = 28 * 28;
        pp.dct_margin = 2;
        img_tensor t;
        if (img_prep_bytes(data, size, &pp, p.max_pixels, &t) == SV_OK) img_tensor_free(&t);
        break;
    }
    }
    return 0;
}
