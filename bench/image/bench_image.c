/* Times one JPEG to the Gemma 3 input tensor and to the Qwen2.5-VL patch
 * tensor (decode + resize + normalise, one thread) and optionally writes the
 * tensors for comparison with Pillow. Usage:
 *   bench_image IMAGE.jpg [ITERATIONS] [OUT_PREFIX] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/npy.h"
#include "base/timer.h"
#include "vision/img_preproc.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run(const char *name, const uint8_t *d, size_t n, const img_prep_params *p, int iters, const char *prefix) {
    double *t = malloc(sizeof(double) * (size_t)iters);
    img_tensor out = {0};
    for (int i = 0; i < iters; i++) {
        img_tensor_free(&out);
        uint64_t t0 = sv_time_ns();
        if (img_prep_bytes(d, n, p, 0, &out)) {
            fprintf(stderr, "%s: %s\n", name, sv_errmsg());
            free(t);
            return 1;
        }
        t[i] = (double)(sv_time_ns() - t0) * 1e-6;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_double);
    printf("%s median_ms %.3f min_ms %.3f shape", name, t[iters / 2], t[0]);
    for (int i = 0; i < out.n_dims; i++) printf(" %lld", (long long)out.shape[i]);
    printf("\n");
    if (prefix) {
        char path[512];
        snprintf(path, sizeof path, "%s_%s.npy", prefix, name);
        if (sv_npy_save(path, "f4", out.shape, out.n_dims, out.data)) fprintf(stderr, "%s\n", sv_errmsg());
    }
    img_tensor_free(&out);
    free(t);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_image IMAGE.jpg [ITERATIONS] [OUT_PREFIX]\n");
        return 2;
    }
    int iters = argc > 2 ? atoi(argv[2]) : 20;
    if (iters < 1) iters = 1;
    uint8_t *d;
    size_t n;
    if (sv_file_read_all(argv[1], 256u << 20, &d, &n)) {
        fprintf(stderr, "%s\n", sv_errmsg());
        return 1;
    }
    const char *prefix = argc > 3 ? argv[3] : NULL;
    img_prep_params g = img_prep_default_params(IMG_PREP_GEMMA3); /* 896 x 896, bilinear */
    img_prep_params q = img_prep_default_params(IMG_PREP_QWEN2VL); /* max 1003520 pixels, bicubic */
    int rc = run("gemma3", d, n, &g, iters, prefix) || run("qwen25vl", d, n, &q, iters, prefix);
    free(d);
    return rc;
}
