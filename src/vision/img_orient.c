/* EXIF orientation: the transform that makes the stored pixels display upright. */
#include <stdlib.h>

#include "vision/img_impl.h"

sv_status img__orient(img_image *im, int o) {
    if (o < 2 || o > 8) return SV_OK;
    int w = im->w, h = im->h;
    bool swap = o >= 5;
    int ow = swap ? h : w, oh = swap ? w : h;
    uint8_t *dst = malloc((size_t)w * (size_t)h * 3);
    if (!dst) return sv_error(SV_ERR_NOMEM, "image: out of memory rotating %dx%d", w, h);
    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            int sx, sy;
            switch (o) {
            case 2: sx = w - 1 - ox; sy = oy; break;
            case 3: sx = w - 1 - ox; sy = h - 1 - oy; break;
            case 4: sx = ox; sy = h - 1 - oy; break;
            case 5: sx = oy; sy = ox; break;
            case 6: sx = oy; sy = h - 1 - ox; break;
            case 7: sx = w - 1 - oy; sy = h - 1 - ox; break;
            default: sx = w - 1 - oy; sy = ox; break;
            }
            const uint8_t *s = im->rgb + ((size_t)sy * (size_t)w + (size_t)sx) * 3;
            uint8_t *t = dst + ((size_t)oy * (size_t)ow + (size_t)ox) * 3;
            t[0] = s[0];
            t[1] = s[1];
            t[2] = s[2];
        }
    }
    free(im->rgb);
    im->rgb = dst;
    im->w = ow;
    im->h = oh;
    return SV_OK;
}
