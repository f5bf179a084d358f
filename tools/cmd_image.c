/* `sova image info|prep`: inspect an image and write a model's input tensor. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/npy.h"
#include "commands.h"
#include "vision/img.h"
#include "vision/img_preproc.h"
#include "vision/img_source.h"

const char cmd_image_summary[] = "inspect images and write model input tensors (info, prep)";

static void usage(FILE *f) {
    fprintf(f,
            "usage: sova image info FILE|URL|DATA-URI\n"
            "       sova image prep --model MMPROJ.gguf IMAGE -o OUT.npy [options]\n\n"
            "info   prints the format, size, frame count and EXIF orientation.\n"
            "prep   decodes IMAGE (file, http(s) URL or data: URI), preprocesses it as the\n"
            "       mmproj's model expects (Gemma 3: [1,3,S,S]; Qwen2.5-VL: patch matrix\n"
            "       [N, 3*2*14*14] plus its grid t h w) and writes float32 .npy.\n\n"
            "prep options:\n"
            "  --grid FILE.npy      also write the Qwen2.5-VL grid (int64 [1,3])\n"
            "  --min-pixels N       Qwen2.5-VL smart-resize lower bound (default 3136)\n"
            "  --max-pixels N       Qwen2.5-VL smart-resize upper bound (default 1003520)\n"
            "  --image-limit N      refuse images above N pixels (default 50000000)\n"
            "  --dct-margin K       allow JPEG DCT downscale while >= K x the target (default 0: off)\n");
}

static int image_info(int argc, char **argv) {
    if (argc != 2) {
        usage(stderr);
        return 2;
    }
    uint8_t *d;
    size_t n;
    img_source_params sp = img_default_source_params();
    if (img_read_source(argv[1], &sp, &d, &n)) return cmd_fail("image info");
    img_info info;
    sv_status st = img_probe(d, n, &info);
    free(d);
    if (st) return cmd_fail("image info");
    printf("format: %s\nsize: %dx%d\nframes: %d\norientation: %d\nalpha: %s\ncomponents: %d\nprogressive: %s\n",
           img_format_name(info.format), info.width, info.height, info.n_frames, info.orientation,
           info.has_alpha ? "yes" : "no", info.components, info.progressive ? "yes" : "no");
    return 0;
}

static bool parse_i64(const char *s, int64_t lo, int64_t *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo) return false;
    *out = v;
    return true;
}

static int image_prep(int argc, char **argv) {
    const char *model = NULL, *image = NULL, *out = NULL, *grid = NULL;
    int64_t min_px = -1, max_px = -1, limit = 0, margin = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--model") && has) model = argv[++i];
        else if (!strcmp(a, "-o") && has) out = argv[++i];
        else if (!strcmp(a, "--grid") && has) grid = argv[++i];
        else if (!strcmp(a, "--min-pixels") && has && parse_i64(argv[i + 1], 1, &min_px)) i++;
        else if (!strcmp(a, "--max-pixels") && has && parse_i64(argv[i + 1], 1, &max_px)) i++;
        else if (!strcmp(a, "--image-limit") && has && parse_i64(argv[i + 1], 1, &limit)) i++;
        else if (!strcmp(a, "--dct-margin") && has && parse_i64(argv[i + 1], 0, &margin) && margin <= 64) i++;
        else if (a[0] != '-' && !image) image = a;
        else {
            fprintf(stderr, "sova image prep: bad argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model || !image || !out) {
        usage(stderr);
        return 2;
    }
    img_prep_params p;
    if (img_prep_params_from_mmproj(model, &p)) return cmd_fail("image prep");
    if (min_px > 0) p.min_pixels = min_px;
    if (max_px > 0) p.max_pixels = max_px;
    p.dct_margin = (int)margin;
    uint8_t *d;
    size_t n;
    img_source_params sp = img_default_source_params();
    if (img_read_source(image, &sp, &d, &n)) return cmd_fail("image prep");
    img_tensor t;
    sv_status st = img_prep_bytes(d, n, &p, (uint64_t)limit, &t);
    free(d);
    if (st) return cmd_fail("image prep");
    st = sv_npy_save(out, "f4", t.shape, t.n_dims, t.data);
    if (!st && grid && p.kind == IMG_PREP_QWEN2VL) {
        int64_t g[3] = {t.grid_t, t.grid_h, t.grid_w}, shape[2] = {1, 3};
        st = sv_npy_save(grid, "i8", shape, 2, g);
    }
    if (st) {
        img_tensor_free(&t);
        return cmd_fail("image prep");
    }
    printf("model: %s\nshape:", img_prep_kind_name(p.kind));
    for (int i = 0; i < t.n_dims; i++) printf(" %" PRId64, t.shape[i]);
    printf("\n");
    if (p.kind == IMG_PREP_QWEN2VL) printf("grid_thw: %d %d %d\n", t.grid_t, t.grid_h, t.grid_w);
    img_tensor_free(&t);
    return 0;
}

int cmd_image_main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (cmd_wants_help(argc - 1, argv + 1)) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "info")) return image_info(argc - 1, argv + 1);
    if (!strcmp(argv[1], "prep")) return image_prep(argc - 1, argv + 1);
    fprintf(stderr, "sova image: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
