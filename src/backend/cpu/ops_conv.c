/* Image kernels: IM2COL (patch extraction for convolutions) and 2-D average pooling. */
#include <string.h>

#include "backend/cpu/ops.h"

void cpu_op_im2col(const cpu_params *p, tensor *dst) {
    const tensor *img = dst->src[0];
    int64_t kw = dst->params[0], kh = dst->params[1];
    int64_t s0 = dst->params[2], s1 = dst->params[3], p0 = dst->params[4], p1 = dst->params[5];
    int64_t d0 = dst->params[6], d1 = dst->params[7];
    int64_t iw = img->ne[0], ih = img->ne[1], c = img->ne[2];
    int64_t ow = dst->ne[1], oh = dst->ne[2];
    int64_t r0, r1;
    cpu_split_rows(ow * oh * dst->ne[3], p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t ox = r % ow, oy = (r / ow) % oh, n = r / (ow * oh);
        float *out = (float *)(void *)cpu_row(dst, r);
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t ky = 0; ky < kh; ky++)
                for (int64_t kx = 0; kx < kw; kx++) {
                    int64_t x = ox * s0 + kx * d0 - p0, y = oy * s1 + ky * d1 - p1;
                    float val = 0.0f;
                    if (x >= 0 && x < iw && y >= 0 && y < ih)
                        memcpy(&val, (const char *)img->data + x * img->nb[0] + y * img->nb[1] + ch * img->nb[2] +
                                         n * img->nb[3],
                               sizeof val);
                    out[kx + kw * (ky + kh * ch)] = val;
                }
    }
}

void cpu_op_pool_2d(const cpu_params *p, tensor *dst) {
    const tensor *a = dst->src[0];
    int64_t k0 = dst->params[0], k1 = dst->params[1], s0 = dst->params[2], s1 = dst->params[3];
    int64_t p0 = dst->params[4], p1 = dst->params[5];
    int64_t r0, r1;
    cpu_split_rows(tensor_nrows(dst), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t oy = r % dst->ne[1], plane = r / dst->ne[1];
        int64_t ic = plane % a->ne[2], in = plane / a->ne[2];
        const char *base = (const char *)a->data + ic * a->nb[2] + in * a->nb[3];
        float *out = (float *)(void *)cpu_row(dst, r);
        for (int64_t ox = 0; ox < dst->ne[0]; ox++) {
            float sum = 0.0f;
            for (int64_t ky = 0; ky < k1; ky++) {
                int64_t y = oy * s1 + ky - p1;
                if (y < 0 || y >= a->ne[1]) continue;
                for (int64_t kx = 0; kx < k0; kx++) {
                    int64_t x = ox * s0 + kx - p0;
                    if (x < 0 || x >= a->ne[0]) continue;
                    float v;
                    memcpy(&v, base + x * a->nb[0] + y * a->nb[1], sizeof v);
                    sum += v;
                }
            }
            out[ox] = sum / (float)(k0 * k1);
        }
    }
}
