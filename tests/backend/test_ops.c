/* CPU element-wise, row-wise and data-movement ops against scalar references
 * written here, on odd shapes, non-contiguous views and broadcasts, with one
 * and with three threads. Registered twice: the second run sets
 * SOVA_CPU=generic so the portable path is tested too.
 *
 * Tolerances: ops that do the same float arithmetic as the reference are
 * compared exactly; ops whose reference runs in double (norms, softmax,
 * activations, rope) allow 1e-5 absolute on O(1) values, a few float ulps of
 * accumulated rounding and of the AVX2 exp polynomial (2e-7 relative). */
#include "ops_harness.h"

static backend *g_be[2];

/* ---- ADD / MUL with broadcast ---- */

typedef struct {
    tensor *a, *b;
    bool mul;
} bin_arg;

static double ref_bin(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    bin_arg *r = p;
    const tensor *b = r->b;
    double x = h_get(r->a, i0, i1, i2, i3);
    double y = h_get(b, i0 % b->ne[0], i1 % b->ne[1], i2 % b->ne[2], i3 % b->ne[3]);
    return r->mul ? (double)(float)(x * y) : (double)(float)(x + y);
}

static void test_binary(void) {
    static const int64_t bshapes[][4] = {{7, 5, 3, 2}, {7, 1, 1, 1}, {1, 5, 1, 2}, {7, 5, 1, 1}, {1, 1, 1, 1}};
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < 5; s++)
            for (int mode = 0; mode < 3; mode++) {
                op_ctx c;
                h_begin(&c, g_be[k]);
                tensor *a0 = h_input(&c, GGUF_TYPE_F32, 7, 3, 5, 2);
                tensor *a = graph_permute(c.g, a0, 0, 2, 1, 3); /* [7, 5, 3, 2], strided */
                const int64_t *bs = bshapes[s];
                tensor *b0 = h_input(&c, GGUF_TYPE_F32, bs[0], bs[1], bs[2], bs[3]);
                tensor *b = b0;
                if (mode == 2 && bs[0] > 1 && bs[1] > 1) {
                    /* b as the transpose of a [5, 7] tensor: non-contiguous rows */
                    b0 = h_input(&c, GGUF_TYPE_F32, bs[1], bs[0], bs[2], bs[3]);
                    b = graph_transpose(c.g, b0);
                }
                bin_arg r = {a, b, mode == 1};
                tensor *out = mode == 1 ? graph_mul(c.g, a, b) : graph_add(c.g, a, b);
                tensor *ins[] = {a0, b0, NULL};
                if (h_run(&c, out, h_fill_all, ins))
                    CHECK_MSG(h_max_err(out, ref_bin, &r) == 0.0, "binary shape %d mode %d", s, mode);
                h_end(&c);
            }
}

/* ---- SCALE, activations, GLU ---- */

typedef struct {
    tensor *a, *b;
    int op; /* -1 scale, else tensor_unary_op */
    float s;
} un_arg;

static double act(int op, double x) {
    switch (op) {
    case TENSOR_UNARY_SILU: return x / (1.0 + exp(-x));
    case TENSOR_UNARY_GELU: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    default: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    }
}

static double ref_un(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    un_arg *r = p;
    double x = h_get(r->a, i0, i1, i2, i3);
    if (r->op < 0) return x * r->s;
    double y = act(r->op, x);
    return r->b ? y * h_get(r->b, i0, i1, i2, i3) : y;
}

/* Wide range (|x| < 12) so the activations' saturating ends are covered. */
static void fill_wide(void *arg) {
    for (tensor **t = arg; *t; t++) h_fill(*t, 12.0f);
}

static void test_unary(void) {
    for (int k = 0; k < 2; k++)
        for (int op = -1; op < TENSOR_UNARY_COUNT; op++)
            for (int variant = 0; variant < 4; variant++) {
                int glu = variant & 1;
                if (op < 0 && variant) continue;
                op_ctx c;
                h_begin(&c, g_be[k]);
                bool strided = variant >= 2;
                tensor *a0 = strided ? h_input(&c, GGUF_TYPE_F32, 9, 13, 3, 1) : h_input(&c, GGUF_TYPE_F32, 13, 9, 3, 1);
                tensor *a = strided ? graph_transpose(c.g, a0) : a0; /* [13, 9, 3], rows strided or not */
                tensor *b = h_input(&c, GGUF_TYPE_F32, 13, 9, 3, 1);
                un_arg r = {a, glu ? b : NULL, op, 0.37f};
                tensor *out = op < 0 ? graph_scale(c.g, a, r.s)
                              : glu  ? graph_glu(c.g, a, b, (tensor_unary_op)op)
                                     : graph_unary(c.g, a, (tensor_unary_op)op);
                tensor *ins[] = {a0, glu ? b : NULL, NULL};
                if (h_run(&c, out, fill_wide, ins)) {
                    /* relative: values reach 12 (x 12 for GLU); float exp/tanh rounding is ~1e-7 */
                    double e = h_max_err(out, ref_un, &r) / (glu ? 144.0 : 12.0);
                    CHECK_MSG(e < 1e-6, "unary op %d glu %d strided %d: error %g", op, glu, strided, e);
                }
                h_end(&c);
            }
}

/* ---- RMS_NORM / NORM ---- */

typedef struct {
    tensor *a;
    bool rms;
    float eps;
    int64_t row; /* row whose statistics are cached, -1 none */
    double mean, sq;
} norm_arg;

static double ref_norm(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    norm_arg *r = p;
    int64_t n = r->a->ne[0], row = i1 + r->a->ne[1] * (i2 + r->a->ne[2] * i3);
    if (row != r->row) {
        r->row = row;
        r->mean = r->sq = 0.0;
        for (int64_t i = 0; i < n; i++) r->mean += h_get(r->a, i, i1, i2, i3);
        r->mean /= (double)n;
        for (int64_t i = 0; i < n; i++) {
            double d = h_get(r->a, i, i1, i2, i3) - (r->rms ? 0.0 : r->mean);
            r->sq += d * d;
        }
    }
    double x = h_get(r->a, i0, i1, i2, i3) - (r->rms ? 0.0 : r->mean);
    return x / sqrt(r->sq / (double)n + r->eps);
}

static void test_norms(void) {
    static const int64_t lens[] = {1, 7, 64, 203, 4096};
    for (int k = 0; k < 2; k++)
        for (int li = 0; li < 5; li++)
            for (int rms = 0; rms < 2; rms++)
                for (int strided = 0; strided < 2; strided++) {
                    if (lens[li] == 1 && !rms) continue; /* variance 0: eps decides, not interesting */
                    op_ctx c;
                    h_begin(&c, g_be[k]);
                    int64_t n = lens[li];
                    tensor *a0 = strided ? h_input(&c, GGUF_TYPE_F32, 3, n, 2, 1) : h_input(&c, GGUF_TYPE_F32, n, 3, 2, 1);
                    tensor *a = strided ? graph_transpose(c.g, a0) : a0;
                    norm_arg r = {a, rms != 0, 1e-5f, -1, 0.0, 0.0};
                    tensor *out = rms ? graph_rms_norm(c.g, a, r.eps) : graph_norm(c.g, a, r.eps);
                    tensor *ins[] = {a0, NULL};
                    if (h_run(&c, out, h_fill_all, ins)) {
                        double e = h_max_err(out, ref_norm, &r);
                        CHECK_MSG(e < 1e-5, "norm n=%lld rms=%d strided=%d: error %g", (long long)n, rms, strided, e);
                    }
                    h_end(&c);
                }
}

/* ---- SOFT_MAX with mask, scale and soft-cap ---- */

typedef struct {
    tensor *a, *mask;
    float scale, cap;
} sm_arg;

static double sm_logit(const sm_arg *r, int64_t i, int64_t i1, int64_t i2, int64_t i3) {
    double x = h_get(r->a, i, i1, i2, i3) * (double)r->scale;
    if (r->cap > 0) x = r->cap * tanh(x / r->cap);
    if (r->mask) x += h_get(r->mask, i, i1, i2 % r->mask->ne[2], i3 % r->mask->ne[3]);
    return x;
}

static double ref_sm(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    sm_arg *r = p;
    double m = -INFINITY, s = 0.0;
    for (int64_t i = 0; i < r->a->ne[0]; i++) m = fmax(m, sm_logit(r, i, i1, i2, i3));
    if (m == -INFINITY) return 0.0;
    for (int64_t i = 0; i < r->a->ne[0]; i++) s += exp(sm_logit(r, i, i1, i2, i3) - m);
    return exp(sm_logit(r, i0, i1, i2, i3) - m) / s;
}

static tensor *sm_mask;
static tensor *sm_in;

/* Causal-looking mask with one fully hidden row (row 1). */
static void fill_sm(void *arg) {
    (void)arg;
    h_fill(sm_in, 3.0f);
    if (!sm_mask) return;
    for (int64_t i2 = 0; i2 < sm_mask->ne[2]; i2++)
        for (int64_t i1 = 0; i1 < sm_mask->ne[1]; i1++)
            for (int64_t i0 = 0; i0 < sm_mask->ne[0]; i0++) {
                float v = (i0 > i1 + 3 || i1 == 1) ? -INFINITY : 0.25f * h_rand();
                h_put(sm_mask, i0, i1, i2, 0, v);
            }
}

static void test_soft_max(void) {
    static const int64_t lens[] = {5, 32, 67};
    for (int k = 0; k < 2; k++)
        for (int li = 0; li < 3; li++)
            for (int variant = 0; variant < 4; variant++) {
                op_ctx c;
                h_begin(&c, g_be[k]);
                int64_t n = lens[li];
                sm_in = h_input(&c, GGUF_TYPE_F32, n, 4, 3, 1);
                sm_mask = NULL;
                if (variant >= 1) /* f32 mask shared by heads; f16 mask per head, padded rows */
                    sm_mask = variant == 1 ? h_input(&c, GGUF_TYPE_F32, n, 4, 1, 1) : h_input(&c, GGUF_TYPE_F16, n, 8, 3, 1);
                sm_arg r = {sm_in, sm_mask, variant == 3 ? 1.0f : 0.125f, variant == 3 ? 2.5f : 0.0f};
                tensor *out = graph_soft_max(c.g, sm_in, sm_mask, r.scale, r.cap);
                if (h_run(&c, out, fill_sm, NULL)) {
                    double e = h_max_err(out, ref_sm, &r);
                    CHECK_MSG(e < 1e-6, "soft_max n=%lld variant %d: error %g", (long long)n, variant, e);
                }
                h_end(&c);
            }
}

/* ---- ROPE ---- */

typedef struct {
    tensor *a, *pos, *ff;
    int n_dims, mode;
    int sect[4];
    float base, fscale;
} rope_arg;

static double ref_rope(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    rope_arg *r = p;
    int64_t nd = r->n_dims, n_tok = r->a->ne[2];
    bool vision = r->mode == TENSOR_ROPE_VISION;
    int64_t turned = vision ? 2 * nd : nd;
    if (i0 >= turned) return h_get(r->a, i0, i1, i2, i3);
    int64_t k, partner;
    bool first;
    if (r->mode == TENSOR_ROPE_NORMAL) {
        k = i0 / 2;
        first = i0 % 2 == 0;
        partner = first ? i0 + 1 : i0 - 1;
    } else {
        int64_t half = vision ? nd : nd / 2;
        first = i0 < half;
        k = first ? i0 : i0 - half;
        partner = first ? i0 + half : i0 - half;
    }
    double pos = h_get(r->pos, i2, 0, 0, 0), expo = (double)k;
    if (r->mode == TENSOR_ROPE_MROPE || vision) {
        int total = r->sect[0] + r->sect[1] + r->sect[2] + r->sect[3];
        int sector = (int)(k % total), s = 0, start = 0;
        while (s < 3 && sector >= start + r->sect[s]) start += r->sect[s++];
        pos = h_get(r->pos, s * n_tok + i2, 0, 0, 0);
        if (vision) expo = sector - start;
    }
    double theta = pos * r->fscale * pow(r->base, -2.0 * expo / (double)nd);
    if (r->ff) theta /= h_get(r->ff, k, 0, 0, 0);
    double x = h_get(r->a, i0, i1, i2, i3), y = h_get(r->a, partner, i1, i2, i3);
    return first ? x * cos(theta) - y * sin(theta) : y * sin(theta) + x * cos(theta);
}

static tensor *rope_in, *rope_pos, *rope_ff;

static void fill_rope(void *arg) {
    (void)arg;
    h_fill(rope_in, 1.0f);
    if (rope_ff)
        for (int64_t i = 0; i < rope_ff->ne[0]; i++) h_put(rope_ff, i, 0, 0, 0, 1.0f + 7.0f * (float)(i % 3));
    for (int64_t i = 0; i < rope_pos->ne[0]; i++) h_put(rope_pos, i, 0, 0, 0, (float)((i * 37) % 300));
}

static void test_rope(void) {
    static const int modes[] = {TENSOR_ROPE_NORMAL, TENSOR_ROPE_NEOX, TENSOR_ROPE_MROPE, TENSOR_ROPE_VISION};
    for (int k = 0; k < 2; k++)
        for (int mi = 0; mi < 4; mi++)
            for (int partial = 0; partial < 2; partial++) {
                op_ctx c;
                h_begin(&c, g_be[k]);
                int mode = modes[mi];
                bool multi = mode >= TENSOR_ROPE_MROPE;
                int64_t d = 40, n_tok = 5;
                rope_arg r = {.mode = mode, .base = partial ? 1e6f : 1e4f, .fscale = partial ? 0.25f : 1.0f};
                r.n_dims = mode == TENSOR_ROPE_VISION ? (partial ? 16 : 20) : (partial ? 24 : 40);
                if (mode == TENSOR_ROPE_MROPE) memcpy(r.sect, (int[4]){4, 4, 4, 0}, sizeof r.sect);
                if (mode == TENSOR_ROPE_VISION) memcpy(r.sect, (int[4]){r.n_dims / 2, r.n_dims / 2, 0, 0}, sizeof r.sect);
                /* rows of a strided view: q heads out of a fused [d, 3 heads] row */
                tensor *qkv = h_input(&c, GGUF_TYPE_F32, d * 3, n_tok, 1, 1);
                rope_in = qkv;
                tensor *a = graph_view_3d(c.g, qkv, d, 2, n_tok, (size_t)d * 4, qkv->nb[1], (size_t)d * 4);
                rope_pos = h_input(&c, GGUF_TYPE_I32, n_tok * (multi ? 4 : 1), 1, 1, 1);
                r.a = a;
                r.pos = rope_pos;
                /* frequency factors (Llama 3.1) with the single-section modes, partial rotation */
                rope_ff = r.ff = !multi && partial ? h_input(&c, GGUF_TYPE_F32, r.n_dims / 2, 1, 1, 1) : NULL;
                tensor *out = multi ? graph_rope_multi(c.g, a, rope_pos, r.n_dims, r.sect, mode, r.base, r.fscale)
                                    : graph_rope_ext(c.g, a, rope_pos, r.ff, r.n_dims, mode, r.base, r.fscale);
                if (h_run(&c, out, fill_rope, NULL)) {
                    /* positions up to 300: theta up to 300 rad, where float sin/cos argument rounding is ~3e-5 */
                    double e = h_max_err(out, ref_rope, &r);
                    CHECK_MSG(e < 1e-4, "rope mode %d partial %d: error %g", mode, partial, e);
                }
                h_end(&c);
            }
}

/* ---- ARGMAX, CONCAT, CONT, CPY, GET_ROWS ---- */

static double ref_argmax(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    const tensor *a = p;
    (void)i1, (void)i2, (void)i3;
    int64_t best = 0;
    for (int64_t i = 1; i < a->ne[0]; i++)
        if (h_get(a, i, i0 % a->ne[1], i0 / a->ne[1], 0) > h_get(a, best, i0 % a->ne[1], i0 / a->ne[1], 0)) best = i;
    return (double)best;
}

static void test_argmax(void) {
    for (int k = 0; k < 2; k++) {
        op_ctx c;
        h_begin(&c, g_be[k]);
        tensor *a = h_input(&c, GGUF_TYPE_F32, 1001, 3, 2, 1);
        tensor *out = graph_argmax(c.g, a);
        tensor *ins[] = {a, NULL};
        if (h_run(&c, out, h_fill_all, ins)) CHECK(h_max_err(out, ref_argmax, a) == 0.0);
        h_end(&c);
    }
}

typedef struct {
    tensor *a, *b;
    int dim;
} cat_arg;

static double ref_cat(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    cat_arg *r = p;
    int64_t i[4] = {i0, i1, i2, i3};
    if (i[r->dim] < r->a->ne[r->dim]) return h_get(r->a, i0, i1, i2, i3);
    i[r->dim] -= r->a->ne[r->dim];
    return h_get(r->b, i[0], i[1], i[2], i[3]);
}

static void test_concat(void) {
    for (int k = 0; k < 2; k++)
        for (int dim = 0; dim < 4; dim++) {
            op_ctx c;
            h_begin(&c, g_be[k]);
            int64_t na[4] = {5, 3, 2, 2}, nb[4] = {5, 3, 2, 2};
            nb[dim] = 4;
            tensor *a = h_input(&c, GGUF_TYPE_F32, na[0], na[1], na[2], na[3]);
            tensor *b0 = h_input(&c, GGUF_TYPE_F32, nb[1], nb[0], nb[2], nb[3]);
            tensor *b = graph_transpose(c.g, b0); /* non-contiguous second operand */
            cat_arg r = {a, b, dim};
            tensor *out = graph_concat(c.g, a, b, dim);
            tensor *ins[] = {a, b0, NULL};
            if (h_run(&c, out, h_fill_all, ins)) CHECK_MSG(h_max_err(out, ref_cat, &r) == 0.0, "concat dim %d", dim);
            h_end(&c);
        }
}

static double ref_same(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return h_get(p, i0, i1, i2, i3);
}

/* f32 -> f16/bf16 and back, through permuted views and reshapes. */
static void test_cont_cpy(void) {
    static const tensor_type types[] = {GGUF_TYPE_F32, GGUF_TYPE_F16, GGUF_TYPE_BF16};
    for (int k = 0; k < 2; k++)
        for (int ti = 0; ti < 3; ti++)
            for (int to = 0; to < 3; to++) {
                op_ctx c;
                h_begin(&c, g_be[k]);
                tensor *a0 = h_input(&c, types[ti], 6, 5, 7, 1);
                tensor *a = graph_permute(c.g, a0, 2, 0, 1, 3); /* [5, 7, 6] */
                tensor *cont = graph_cont(c.g, a);
                /* CPY into a persistent-looking destination of another type */
                tensor *dst = h_input(&c, types[to], 5, 7, 6, 1);
                tensor *out = graph_cpy(c.g, cont, dst);
                tensor *ins[] = {a0, NULL};
                if (h_run(&c, out, h_fill_all, ins)) {
                    CHECK_MSG(h_max_err(cont, ref_same, a) == 0.0, "cont %d", ti);
                    /* f32 -> f16 rounds to 11 bits, -> bf16 to 8: relative 2^-11 and 2^-8 of |x| <= 1 */
                    double tol = types[to] == GGUF_TYPE_F16 ? 4.9e-4 : types[to] == GGUF_TYPE_BF16 ? 3.9e-3 : 0.0;
                    if (types[to] == types[ti]) tol = 0.0;
                    double e = h_max_err(out, ref_same, a);
                    CHECK_MSG(e <= tol, "cpy %d -> %d: error %g", ti, to, e);
                }
                h_end(&c);
            }
}

/* Reshaped copy: element order is row-major on both sides. */
static double ref_reshaped(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    const tensor *a = p; /* [6, 10] read as [4, 15] */
    (void)i2, (void)i3;
    int64_t k = i0 + 4 * i1;
    return h_get(a, k % 6, k / 6, 0, 0);
}

static void test_cpy_reshape(void) {
    op_ctx c;
    h_begin(&c, g_be[1]);
    tensor *a0 = h_input(&c, GGUF_TYPE_F32, 10, 6, 1, 1);
    tensor *a = graph_transpose(c.g, a0); /* [6, 10] strided */
    tensor *dst = h_input(&c, GGUF_TYPE_F16, 4, 15, 1, 1);
    tensor *out = graph_cpy(c.g, a, dst);
    tensor *ins[] = {a0, NULL};
    if (h_run(&c, out, h_fill_all, ins)) CHECK(h_max_err(out, ref_reshaped, a) <= 4.9e-4);
    h_end(&c);
}

/* f32 -> quantized (Q8_0 is the quantized KV cache): bytes equal the traits'
 * quantizer's, for every type sova quantizes to. */
static void test_cpy_quantized(void) {
    for (int t = 0; t < GGUF_TYPE_COUNT; t++) {
        const tensor_type_traits *tr = gguf_type_valid((uint32_t)t) ? tensor_type_get((tensor_type)t) : NULL;
        if (!tr || !tr->is_quantized || !tr->from_float) continue;
        op_ctx c;
        h_begin(&c, g_be[1]);
        tensor *a = h_input(&c, GGUF_TYPE_F32, 256, 3, 2, 1);
        tensor *dst = h_input(&c, (tensor_type)t, 256, 3, 2, 1);
        tensor *out = graph_cpy(c.g, a, dst);
        tensor *ins[] = {a, NULL};
        if (h_run(&c, out, h_fill_all, ins)) {
            size_t rb = tensor_row_size(dst);
            unsigned char *want = malloc(rb * 6);
            tr->from_float(a->data, want, 256 * 6);
            CHECK_MSG(memcmp(want, dst->data, rb * 6) == 0, "cpy to %s", gguf_type_name((tensor_type)t));
            free(want);
        }
        h_end(&c);
    }
}

typedef struct {
    tensor *w, *ids;
    float *deq; /* w dequantized by the traits */
} rows_arg;

static double ref_rows(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    rows_arg *r = p;
    (void)i2, (void)i3;
    int64_t id = (int64_t)h_get(r->ids, i1, 0, 0, 0);
    if (id < 0 || id >= r->w->ne[1]) return 0.0; /* out-of-range ids read as zeros */
    return r->deq[id * r->w->ne[0] + i0];
}

static tensor *gr_w, *gr_ids;

static void fill_rows(void *arg) {
    (void)arg;
    h_fill(gr_w, 2.0f);
    for (int64_t i = 0; i < gr_ids->ne[0]; i++) h_put(gr_ids, i, 0, 0, 0, (float)((i * 7 + 3) % gr_w->ne[1]));
    h_put(gr_ids, 1, 0, 0, 0, -1.0f);
    h_put(gr_ids, 4, 0, 0, 0, (float)gr_w->ne[1]);
}

static void test_get_rows(void) {
    static const tensor_type types[] = {GGUF_TYPE_F32,  GGUF_TYPE_F16,  GGUF_TYPE_BF16, GGUF_TYPE_Q8_0,
                                        GGUF_TYPE_Q4_0, GGUF_TYPE_Q4_1, GGUF_TYPE_Q5_0, GGUF_TYPE_Q5_1,
                                        GGUF_TYPE_Q2_K, GGUF_TYPE_Q3_K, GGUF_TYPE_Q4_K, GGUF_TYPE_Q5_K,
                                        GGUF_TYPE_Q6_K, GGUF_TYPE_IQ4_NL, GGUF_TYPE_IQ4_XS};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const tensor_type_traits *tr = tensor_type_get(types[ti]);
        /* random contents come from the type's quantizer */
        CHECK_MSG(tr && tr->to_float, "%s not readable", gguf_type_name(types[ti]));
        if (!tr || !tr->to_float) continue;
        op_ctx c;
        h_begin(&c, g_be[1]);
        gr_w = h_input(&c, types[ti], 256, 11, 1, 1);
        gr_ids = h_input(&c, GGUF_TYPE_I32, 9, 1, 1, 1);
        tensor *out = graph_get_rows(c.g, gr_w, gr_ids);
        if (h_run(&c, out, fill_rows, NULL)) {
            float *deq = malloc(256 * 11 * sizeof(float));
            tensor_type_get(types[ti])->to_float(gr_w->data, deq, 256 * 11);
            rows_arg r = {gr_w, gr_ids, deq};
            CHECK_MSG(h_max_err(out, ref_rows, &r) == 0.0, "get_rows %s", gguf_type_name(types[ti]));
            free(deq);
        }
        h_end(&c);
    }
}

int main(void) {
    CHECK(backend_cpu_new(1, &g_be[0]) == SV_OK);
    CHECK(backend_cpu_new(3, &g_be[1]) == SV_OK);
    backend_cpu_set_inline_limit(g_be[1], 0); /* small test shapes still split over threads */
    printf("kernels: %s\n", tensor_cpu_name(tensor_cpu_active()));
    RUN_TEST(test_binary);
    RUN_TEST(test_unary);
    RUN_TEST(test_norms);
    RUN_TEST(test_soft_max);
    RUN_TEST(test_rope);
    RUN_TEST(test_argmax);
    RUN_TEST(test_concat);
    RUN_TEST(test_cont_cpy);
    RUN_TEST(test_cpy_reshape);
    RUN_TEST(test_cpy_quantized);
    RUN_TEST(test_get_rows);
    backend_free(g_be[0]);
    backend_free(g_be[1]);
    return test_main_end();
}
