/* Shared by the CPU op tests: a one-op graph on a CPU backend, random
 * inputs, element access for references, and error measures. */
#ifndef TESTS_BACKEND_OPS_HARNESS_H
#define TESTS_BACKEND_OPS_HARNESS_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/sched.h"
#include "check.h"
#include "tensor/graph.h"

typedef struct {
    sv_arena arena;
    graph *g;
    backend *be;
    backend_sched *s;
} op_ctx;

static uint64_t h_rng = 0x9E3779B97F4A7C15ull;

static inline float h_rand(void) { /* uniform in [-1, 1) */
    h_rng ^= h_rng << 13;
    h_rng ^= h_rng >> 7;
    h_rng ^= h_rng << 17;
    return (float)((double)(h_rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static inline void h_begin(op_ctx *c, backend *be) {
    sv_arena_init(&c->arena, 1 << 16);
    CHECK(graph_new(&c->arena, 256, &c->g) == SV_OK);
    c->be = be;
    CHECK(backend_sched_new(&be, 1, &c->s) == SV_OK);
}

static inline void h_end(op_ctx *c) {
    backend_sched_free(c->s);
    sv_arena_free(&c->arena);
}

/* An input that stays intact after compute (flagged as an output too, so the
 * planner never hands its memory to a later node), for the references. */
static inline tensor *h_input(op_ctx *c, tensor_type type, int64_t n0, int64_t n1, int64_t n2, int64_t n3) {
    tensor *t = graph_set_input(graph_new_tensor_4d(c->g, type, n0, n1, n2, n3));
    if (t) t->flags |= TENSOR_FLAG_OUTPUT;
    return t;
}

static inline char *h_at(const tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return (char *)t->data + (size_t)i0 * t->nb[0] + (size_t)i1 * t->nb[1] + (size_t)i2 * t->nb[2] +
           (size_t)i3 * t->nb[3];
}

/* Element of an F32/F16/BF16/I32 tensor as float. */
static inline float h_get(const tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    const char *p = h_at(t, i0, i1, i2, i3);
    uint16_t h;
    float f;
    int32_t i;
    switch (t->type) {
    case GGUF_TYPE_F16: memcpy(&h, p, 2); return tensor_f16_to_f32(h);
    case GGUF_TYPE_BF16: memcpy(&h, p, 2); return tensor_bf16_to_f32(h);
    case GGUF_TYPE_I32: memcpy(&i, p, 4); return (float)i;
    default: memcpy(&f, p, 4); return f;
    }
}

static inline void h_put(const tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3, float v) {
    char *p = h_at(t, i0, i1, i2, i3);
    uint16_t h;
    int32_t i;
    switch (t->type) {
    case GGUF_TYPE_F16: h = tensor_f32_to_f16(v); memcpy(p, &h, 2); break;
    case GGUF_TYPE_BF16: h = tensor_f32_to_bf16(v); memcpy(p, &h, 2); break;
    case GGUF_TYPE_I32: i = (int32_t)v; memcpy(p, &i, 4); break;
    default: memcpy(p, &v, 4); break;
    }
}

/* Random values in [-amp, amp) (quantized types through from_float, row by
 * row; types sova cannot quantize to (IQ4_NL, IQ4_XS) get random bytes with
 * the f16 scale that opens each of their blocks set to 1/64). */
static inline void h_fill(tensor *t, float amp) {
    const tensor_type_traits *tr = tensor_type_get(t->type);
    if (tr && tr->is_quantized && !tr->from_float) {
        for (int64_t r = 0; r < tensor_nrows(t); r++) {
            unsigned char *row = (unsigned char *)h_at(t, 0, r % t->ne[1], (r / t->ne[1]) % t->ne[2],
                                                        r / (t->ne[1] * t->ne[2]));
            size_t nb = (size_t)(t->ne[0] / tr->block_size);
            for (size_t i = 0; i < nb * tr->block_bytes; i++) row[i] = (unsigned char)(h_rand() * 128.0f + 128.0f);
            uint16_t d = tensor_f32_to_f16(1.0f / 64.0f);
            for (size_t b = 0; b < nb; b++) memcpy(row + b * tr->block_bytes, &d, 2);
        }
        return;
    }
    if (tr && tr->is_quantized) {
        float *row = malloc((size_t)t->ne[0] * sizeof(float));
        for (int64_t r = 0; r < tensor_nrows(t); r++) {
            for (int64_t i = 0; i < t->ne[0]; i++) row[i] = amp * h_rand();
            tr->from_float(row, h_at(t, 0, r % t->ne[1], (r / t->ne[1]) % t->ne[2], r / (t->ne[1] * t->ne[2])),
                           t->ne[0]);
        }
        free(row);
        return;
    }
    for (int64_t i3 = 0; i3 < t->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < t->ne[2]; i2++)
            for (int64_t i1 = 0; i1 < t->ne[1]; i1++)
                for (int64_t i0 = 0; i0 < t->ne[0]; i0++) h_put(t, i0, i1, i2, i3, amp * h_rand());
}

/* fill callback for h_run: arg is a NULL-terminated tensor* array, all random. */
static inline void h_fill_all(void *arg) {
    for (tensor **t = arg; *t; t++) h_fill(*t, 1.0f);
}

/* Plans and runs the graph of `out`; inputs are filled by `fill` after planning. */
static inline bool h_run(op_ctx *c, tensor *out, void (*fill)(void *), void *arg) {
    if (!out || graph_expand(c->g, out) != SV_OK) {
        t_fail_at(__FILE__, __LINE__, "graph: %s", sv_errmsg());
        return false;
    }
    if (backend_sched_alloc(c->s, c->g) != SV_OK) {
        t_fail_at(__FILE__, __LINE__, "alloc: %s", sv_errmsg());
        return false;
    }
    fill(arg);
    if (backend_sched_compute(c->s, c->g) != SV_OK) {
        t_fail_at(__FILE__, __LINE__, "compute: %s", sv_errmsg());
        return false;
    }
    return true;
}

/* Largest |out - ref| over all elements, ref given per element. */
typedef double (*h_ref_fn)(void *arg, int64_t i0, int64_t i1, int64_t i2, int64_t i3);

static inline double h_max_err(const tensor *out, h_ref_fn ref, void *arg) {
    double e = 0.0;
    for (int64_t i3 = 0; i3 < out->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < out->ne[2]; i2++)
            for (int64_t i1 = 0; i1 < out->ne[1]; i1++)
                for (int64_t i0 = 0; i0 < out->ne[0]; i0++) {
                    double d = fabs((double)h_get(out, i0, i1, i2, i3) - ref(arg, i0, i1, i2, i3));
                    if (!(d <= e)) e = d; /* NaN counts as the largest error */
                }
    return e;
}

#endif
