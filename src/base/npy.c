#include "base/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "base/file.h"

static size_t dtype_size(const char *d) {
    if (!strcmp(d, "f4") || !strcmp(d, "i4") || !strcmp(d, "u4")) return 4;
    if (!strcmp(d, "f2") || !strcmp(d, "i2") || !strcmp(d, "u2")) return 2;
    if (!strcmp(d, "f8") || !strcmp(d, "i8") || !strcmp(d, "u8")) return 8;
    if (!strcmp(d, "u1") || !strcmp(d, "i1") || !strcmp(d, "b1")) return 1;
    return 0;
}

void sv_npy_free(sv_npy *a) {
    if (!a) return;
    free(a->data);
    a->data = NULL;
}

sv_status sv_npy_load(const char *path, sv_npy *a) {
    memset(a, 0, sizeof *a);
    uint8_t *buf;
    size_t size;
    sv_status st = sv_file_read_all(path, (size_t)1 << 34, &buf, &size);
    if (st) return st;
    st = SV_ERR_FORMAT;
    if (size < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        sv_error(st, "%s: not a .npy file", path);
        goto out;
    }
    size_t hlen, hoff;
    if (buf[6] == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hoff = 10;
    } else {
        if (size < 12) {
            sv_error(st, "%s: truncated header", path);
            goto out;
        }
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hoff = 12;
    }
    if (hlen > size - hoff) {
        sv_error(st, "%s: truncated header", path);
        goto out;
    }
    char hdr[4096];
    if (hlen >= sizeof hdr) {
        sv_error(st, "%s: header too long", path);
        goto out;
    }
    memcpy(hdr, buf + hoff, hlen);
    hdr[hlen] = 0;
    const char *d = strstr(hdr, "'descr':");
    const char *f = strstr(hdr, "'fortran_order':");
    const char *s = strstr(hdr, "'shape':");
    if (!d || !f || !s) {
        sv_error(st, "%s: header lacks descr/fortran_order/shape", path);
        goto out;
    }
    d = strchr(d + 8, '\'');
    if (!d || (d[1] != '<' && d[1] != '|')) {
        sv_error(st, "%s: only little-endian arrays are supported", path);
        goto out;
    }
    size_t k = 0;
    for (d += 2; *d && *d != '\'' && k + 1 < sizeof a->dtype; d++) a->dtype[k++] = *d;
    a->elem_size = dtype_size(a->dtype);
    if (!a->elem_size) {
        sv_error(st, "%s: unsupported dtype '%s'", path, a->dtype);
        goto out;
    }
    if (strncmp(f + 16, " True", 5) == 0) {
        sv_error(st, "%s: Fortran order is not supported", path);
        goto out;
    }
    const char *p = strchr(s, '(');
    size_t n = 1;
    for (p = p ? p + 1 : NULL; p && *p && *p != ')';) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || a->n_dims == SV_NPY_MAX_DIMS || sv_mul_size(n, (size_t)v, &n)) {
            sv_error(st, "%s: bad shape", path);
            goto out;
        }
        a->shape[a->n_dims++] = v;
        p = end;
    }
    size_t bytes;
    if (sv_mul_size(n, a->elem_size, &bytes) || bytes > size - hoff - hlen) {
        sv_error(st, "%s: data shorter than the shape says", path);
        goto out;
    }
    a->n_elems = n;
    a->data = malloc(bytes ? bytes : 1);
    if (!a->data) {
        st = sv_error(SV_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(a->data, buf + hoff + hlen, bytes);
    st = SV_OK;
out:
    free(buf);
    return st;
}

sv_status sv_npy_save(const char *path, const char *dtype, const int64_t *shape, int n_dims, const void *data) {
    size_t esz = dtype_size(dtype);
    if (!esz || n_dims < 0 || n_dims > SV_NPY_MAX_DIMS) return sv_error(SV_ERR_INVALID_ARG, "bad npy dtype or rank");
    char sh[256] = "";
    size_t n = 1, off = 0;
    for (int i = 0; i < n_dims; i++) {
        off += (size_t)snprintf(sh + off, sizeof sh - off, "%lld,%s", (long long)shape[i], (n_dims > 1 && i < n_dims - 1) ? " " : "");
        n *= (size_t)shape[i];
    }
    if (n_dims > 1) sh[off - 1] = 0;
    char hdr[512];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '%s%s', 'fortran_order': False, 'shape': (%s), }", esz == 1 ? "|" : "<", dtype, sh);
    size_t total = 10 + (size_t)hl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)hl + pad + 1;
    size_t bytes = n * esz;
    uint8_t *out = malloc(10 + hlen + bytes);
    if (!out) return sv_error(SV_ERR_NOMEM, "out of memory");
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (uint8_t)(hlen & 0xff);
    out[9] = (uint8_t)(hlen >> 8);
    memcpy(out + 10, hdr, (size_t)hl);
    memset(out + 10 + hl, ' ', pad);
    out[10 + hlen - 1] = '\n';
    memcpy(out + 10 + hlen, data, bytes);
    sv_status st = sv_file_write_all(path, out, 10 + hlen + bytes);
    free(out);
    return st;
}
