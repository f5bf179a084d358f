/* Internals of the resampler shared with its AVX2 kernels. */
#ifndef IMG_RESIZE_IMPL_H
#define IMG_RESIZE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { IMG_PRECISION_BITS = 22 };

/* Fixed-point filter taps for one axis. Row `o` of k holds `kstride` taps
 * (zero past n[o]), applied to inputs first[o] .. first[o] + n[o] - 1. */
typedef struct {
    int out_size;
    int kstride;   /* ksize rounded up to even, so kernels may read taps in pairs */
    int *first;    /* [out_size] */
    int *n;        /* [out_size] */
    int32_t *k;    /* [out_size, kstride] */
} img__coeffs;

/* The AVX2 kernels exist on x86 only (img_resize_avx2.c, compiled for AVX2). */
#if defined(__x86_64__) || defined(__i386__)
#define IMG_HAVE_AVX2_KERNELS 1
/* src: rows of in_w RGB pixels (row stride in_w*3), `rows` of them; dst: rows
 * of c->out_size pixels. src_end bounds reads (kernels may read a few bytes
 * past a row but never past src_end). False (nothing written) when its tap
 * table cannot be allocated or a tap does not fit its 16-bit split: the caller
 * then runs the C kernel. */
bool img__hpass_avx2(const uint8_t *src, const uint8_t *src_end, int in_w, int rows, const img__coeffs *c, uint8_t *dst);
/* src: rows of `row_bytes`; dst: c->out_size rows. */
void img__vpass_avx2(const uint8_t *src, size_t row_bytes, const img__coeffs *c, uint8_t *dst);
#endif

static inline uint8_t img__clip8(int32_t v) {
    v >>= IMG_PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

#endif
