/* Overflow-checked size arithmetic for values that come from outside. */
#ifndef SV_CHECKED_H
#define SV_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each returns true on overflow and leaves *out unspecified then. */
static inline bool sv_mul_u64(uint64_t a, uint64_t b, uint64_t *out) { return __builtin_mul_overflow(a, b, out); }
static inline bool sv_add_u64(uint64_t a, uint64_t b, uint64_t *out) { return __builtin_add_overflow(a, b, out); }
static inline bool sv_mul_size(size_t a, size_t b, size_t *out) { return __builtin_mul_overflow(a, b, out); }
static inline bool sv_add_size(size_t a, size_t b, size_t *out) { return __builtin_add_overflow(a, b, out); }
static inline bool sv_mul_i64(int64_t a, int64_t b, int64_t *out) { return __builtin_mul_overflow(a, b, out); }

/* Rounds n up to a multiple of align (align a power of two); true on overflow. */
static inline bool sv_align_up_u64(uint64_t n, uint64_t align, uint64_t *out) {
    uint64_t t;
    if (__builtin_add_overflow(n, align - 1, &t)) return true;
    *out = t & ~(align - 1);
    return false;
}

#endif
