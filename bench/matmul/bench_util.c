#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x2545f4914f6cdd1dull;

float bench_frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) * 0x1p-53 * 2.0 - 1.0);
}

void *bench_xalloc(size_t n) {
    void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

uint8_t *bench_make_weights(tensor_type t, int64_t n_out, int64_t n_in, size_t *row_bytes) {
    const tensor_type_traits *tr = tensor_type_get(t);
    *row_bytes = tensor_row_bytes(t, n_in);
    uint8_t *w = bench_xalloc((size_t)n_out * *row_bytes);
    float *src = bench_xalloc((size_t)n_in * sizeof(float));
    int64_t distinct = n_out < 64 ? n_out : 64;
    for (int64_t o = 0; o < distinct; o++) {
        for (int64_t i = 0; i < n_in; i++) src[i] = bench_frand();
        tr->from_float(src, w + (size_t)o * *row_bytes, n_in);
    }
    for (int64_t o = distinct; o < n_out; o++)
        memcpy(w + (size_t)o * *row_bytes, w + (size_t)(o % distinct) * *row_bytes, *row_bytes);
    free(src);
    return w;
}

int bench_parse_types(const char *prog, const char *list, tensor_type *out) {
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok && n < BENCH_MAX_TYPES; tok = strtok(NULL, ",")) {
        int t = gguf_type_from_name(tok);
        if (t < 0 || tensor_type_check((tensor_type)t, "bench") != SV_OK ||
            !tensor_type_get((tensor_type)t)->from_float) {
            fprintf(stderr, "%s: type %s cannot be benchmarked\n", prog, tok);
            return -1;
        }
        out[n++] = (tensor_type)t;
    }
    return n;
}
