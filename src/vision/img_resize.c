/* Pillow-exact separable resampling (see img_resize.h). The coefficient
 * computation follows Pillow's Resample.c behaviour step by step (centre,
 * bounds rounding, double normalisation, 22-bit fixed point) because any
 * deviation changes output pixels by one level. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/img_resize.h"
#include "vision/img_resize_impl.h"

static bool force_scalar;

void img_resize_force_scalar(bool on) { force_scalar = on; }

static bool use_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
    return !force_scalar && __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

bool img_filter_from_pil(int pil, img_filter *out) {
    switch (pil) {
    case 0: *out = IMG_FILTER_NEAREST; return true;
    case 1: *out = IMG_FILTER_LANCZOS; return true;
    case 2: *out = IMG_FILTER_BILINEAR; return true;
    case 3: *out = IMG_FILTER_BICUBIC; return true;
    default: return false;
    }
}

const char *img_filter_name(img_filter f) {
    static const char *const names[IMG_FILTER_COUNT] = {"nearest", "bilinear", "bicubic", "lanczos"};
    return (unsigned)f < IMG_FILTER_COUNT ? names[f] : "unknown";
}

static double sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double filter_at(img_filter f, double x) {
    switch (f) {
    case IMG_FILTER_BILINEAR:
        if (x < 0.0) x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    case IMG_FILTER_BICUBIC: {
        const double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }
    default:
        return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
    }
}

static double filter_support(img_filter f) {
    return f == IMG_FILTER_BILINEAR ? 1.0 : f == IMG_FILTER_BICUBIC ? 2.0 : 3.0;
}

static void coeffs_free(img__coeffs *c) {
    free(c->first);
    free(c->n);
    free(c->k);
    memset(c, 0, sizeof *c);
}

static sv_status coeffs_make(int in_size, int out_size, img_filter f, img__coeffs *c) {
    memset(c, 0, sizeof *c);
    double scale = (double)in_size / out_size, fscale = scale < 1.0 ? 1.0 : scale;
    double support = filter_support(f) * fscale;
    int ksize = (int)ceil(support) * 2 + 1;
    c->out_size = out_size;
    c->kstride = (ksize + 1) & ~1;
    c->first = malloc(sizeof(int) * (size_t)out_size);
    c->n = malloc(sizeof(int) * (size_t)out_size);
    c->k = calloc((size_t)out_size * (size_t)c->kstride, sizeof(int32_t));
    double *w = malloc(sizeof(double) * (size_t)ksize);
    if (!c->first || !c->n || !c->k || !w) {
        free(w);
        coeffs_free(c);
        return sv_error(SV_ERR_NOMEM, "resize: out of memory for %d x %d taps", out_size, ksize);
    }
    for (int o = 0; o < out_size; o++) {
        double center = (o + 0.5) * scale, ss = 1.0 / fscale, sum = 0.0;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in_size) hi = in_size;
        int n = hi - lo;
        for (int i = 0; i < n; i++) {
            w[i] = filter_at(f, (i + lo - center + 0.5) * ss);
            sum += w[i];
        }
        int32_t *k = c->k + (size_t)o * (size_t)c->kstride;
        for (int i = 0; i < n; i++) {
            double v = sum != 0.0 ? w[i] / sum : w[i];
            double fx = v * (1 << IMG_PRECISION_BITS);
            k[i] = (int32_t)(v < 0 ? -0.5 + fx : 0.5 + fx);
        }
        c->first[o] = lo;
        c->n[o] = n;
    }
    free(w);
    return SV_OK;
}

static void hpass_c(const uint8_t *src, int in_w, int rows, const img__coeffs *c, uint8_t *dst) {
    for (int y = 0; y < rows; y++) {
        const uint8_t *s = src + (size_t)y * (size_t)in_w * 3;
        uint8_t *d = dst + (size_t)y * (size_t)c->out_size * 3;
        for (int o = 0; o < c->out_size; o++) {
            const int32_t *k = c->k + (size_t)o * (size_t)c->kstride;
            const uint8_t *p = s + (size_t)c->first[o] * 3;
            int32_t r = 1 << (IMG_PRECISION_BITS - 1), g = r, b = r;
            for (int i = 0; i < c->n[o]; i++) {
                r += p[3 * i] * k[i];
                g += p[3 * i + 1] * k[i];
                b += p[3 * i + 2] * k[i];
            }
            d[3 * o] = img__clip8(r);
            d[3 * o + 1] = img__clip8(g);
            d[3 * o + 2] = img__clip8(b);
        }
    }
}

static void vpass_c(const uint8_t *src, size_t row_bytes, const img__coeffs *c, uint8_t *dst) {
    for (int o = 0; o < c->out_size; o++) {
        const int32_t *k = c->k + (size_t)o * (size_t)c->kstride;
        const uint8_t *s = src + (size_t)c->first[o] * row_bytes;
        uint8_t *d = dst + (size_t)o * row_bytes;
        for (size_t x = 0; x < row_bytes; x++) {
            int32_t acc = 1 << (IMG_PRECISION_BITS - 1);
            for (int i = 0; i < c->n[o]; i++) acc += s[(size_t)i * row_bytes + x] * k[i];
            d[x] = img__clip8(acc);
        }
    }
}

/* The AVX2 kernel where there is one and the CPU has AVX2, else the C one. */
static void hpass(bool avx2, const uint8_t *src, const uint8_t *src_end, int in_w, int rows, const img__coeffs *c,
                  uint8_t *dst) {
#ifdef IMG_HAVE_AVX2_KERNELS
    if (avx2 && img__hpass_avx2(src, src_end, in_w, rows, c, dst)) return;
#else
    (void)avx2;
    (void)src_end;
#endif
    hpass_c(src, in_w, rows, c, dst);
}

static void vpass(bool avx2, const uint8_t *src, size_t row_bytes, const img__coeffs *c, uint8_t *dst) {
#ifdef IMG_HAVE_AVX2_KERNELS
    if (avx2) {
        img__vpass_avx2(src, row_bytes, c, dst);
        return;
    }
#else
    (void)avx2;
#endif
    vpass_c(src, row_bytes, c, dst);
}

/* Pillow's NEAREST: an affine scale with the source position accumulated in double. */
static sv_status resize_nearest(const img_image *src, img_image *out) {
    double ax = (double)src->w / out->w, ay = (double)src->h / out->h;
    int *xs = malloc(sizeof(int) * (size_t)out->w);
    if (!xs) return sv_error(SV_ERR_NOMEM, "resize: out of memory");
    double xo = ax * 0.5, yo = ay * 0.5;
    for (int x = 0; x < out->w; x++, xo += ax) {
        int xi = (int)xo;
        xs[x] = xi < src->w ? xi : src->w - 1;
    }
    for (int y = 0; y < out->h; y++, yo += ay) {
        int yi = (int)yo;
        if (yi >= src->h) yi = src->h - 1;
        const uint8_t *s = src->rgb + (size_t)yi * (size_t)src->w * 3;
        uint8_t *d = out->rgb + (size_t)y * (size_t)out->w * 3;
        for (int x = 0; x < out->w; x++) memcpy(d + 3 * x, s + 3 * (size_t)xs[x], 3);
    }
    free(xs);
    return SV_OK;
}

sv_status img_resize(const img_image *src, int w, int h, img_filter f, img_image *out) {
    out->w = out->h = 0;
    out->rgb = NULL;
    if (!src || !src->rgb || src->w <= 0 || src->h <= 0 || w <= 0 || h <= 0 || (unsigned)f >= IMG_FILTER_COUNT)
        return sv_error(SV_ERR_INVALID_ARG, "resize: invalid arguments (%dx%d to %dx%d)", src ? src->w : 0,
                        src ? src->h : 0, w, h);
    sv_status st = img_image_alloc(w, h, UINT64_MAX, out);
    if (st) return st;
    if (w == src->w && h == src->h) {
        memcpy(out->rgb, src->rgb, (size_t)w * (size_t)h * 3);
        return SV_OK;
    }
    if (f == IMG_FILTER_NEAREST) {
        st = resize_nearest(src, out);
        if (st) img_image_free(out);
        return st;
    }
    bool avx2 = use_avx2();
    img__coeffs ch = {0}, cv = {0};
    uint8_t *tmp = NULL;
    bool need_h = w != src->w, need_v = h != src->h;
    if ((need_h && (st = coeffs_make(src->w, w, f, &ch))) || (need_v && (st = coeffs_make(src->h, h, f, &cv)))) goto done;
    const uint8_t *vsrc = src->rgb;
    if (need_h) {
        int y0 = 0, y1 = src->h;
        if (need_v) {
            /* Only the source rows the vertical pass will read go through the horizontal pass. */
            y0 = cv.first[0];
            y1 = cv.first[h - 1] + cv.n[h - 1];
            for (int i = 0; i < h; i++) cv.first[i] -= y0;
        }
        uint8_t *hdst = need_v ? (tmp = malloc((size_t)w * 3 * (size_t)(y1 - y0))) : out->rgb;
        if (!hdst) {
            st = sv_error(SV_ERR_NOMEM, "resize: out of memory");
            goto done;
        }
        const uint8_t *hsrc = src->rgb + (size_t)y0 * (size_t)src->w * 3;
        hpass(avx2, hsrc, src->rgb + (size_t)src->w * (size_t)src->h * 3, src->w, y1 - y0, &ch, hdst);
        vsrc = hdst;
    }
    if (need_v) {
        vpass(avx2, vsrc, (size_t)w * 3, &cv, out->rgb);
    }
done:
    free(tmp);
    coeffs_free(&ch);
    coeffs_free(&cv);
    if (st) img_image_free(out);
    return st;
}
