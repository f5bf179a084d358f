/* NumPy .npy (format 1.0) read and write for little-endian f32/f16/i32/i64/u8 arrays. */
#ifndef SV_NPY_H
#define SV_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

enum { SV_NPY_MAX_DIMS = 8 };

typedef struct {
    char dtype[8];                 /* numpy descr without byte order: "f4", "f2", "i4", "i8", "u1" */
    int n_dims;
    int64_t shape[SV_NPY_MAX_DIMS];
    size_t elem_size;
    size_t n_elems;
    void *data;                    /* malloc'd, n_elems * elem_size bytes */
} sv_npy;

/* OUT: *a (release with sv_npy_free). Fortran order and big-endian are refused. */
sv_status sv_npy_load(const char *path, sv_npy *a);
void sv_npy_free(sv_npy *a);

/* Writes a C-order array; dtype as in sv_npy.dtype. */
sv_status sv_npy_save(const char *path, const char *dtype, const int64_t *shape, int n_dims, const void *data);

#endif
