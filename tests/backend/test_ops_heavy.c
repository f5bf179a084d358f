/* CPU heavy ops through the graph: MUL_MAT per weight type with broadcast
 * batch dimensions and strided activations, fused attention against an
 * explicit softmax(q k^T) v, IM2COL/CONV_2D against a direct convolution and
 * average pooling. Registered twice (second run: SOVA_CPU=generic).
 *
 * Tolerances (normalised error = max |out - ref| / max |ref|):
 *  - F32/F16/BF16 weights: 1e-5; activations stay f32 and the reference uses
 *    the same (rounded) weights, so only summation order differs.
 *  - quantized weights: 2e-2; the activations are quantized to 8 bits per
 *    block (Q8_0/Q8_K, 1/127 of the block maximum each) and the reference
 *    multiplies the dequantized weights by the unquantized activations.
 *  - attention with F16 (Q8_0) K/V: 1e-5 against a reference reading the
 *    same f16 (dequantized) values; the running-maximum rescaling only
 *    reorders rounding.
 *  - convolution and pooling: 1e-5, float sums of up to 3*14*14 products. */
#include "ops_harness.h"

static backend *g_be[2];

static double norm_err(const tensor *out, h_ref_fn ref, void *arg) {
    double mx = 0.0;
    for (int64_t i3 = 0; i3 < out->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < out->ne[2]; i2++)
            for (int64_t i1 = 0; i1 < out->ne[1]; i1++)
                for (int64_t i0 = 0; i0 < out->ne[0]; i0++) mx = fmax(mx, fabs(ref(arg, i0, i1, i2, i3)));
    return h_max_err(out, ref, arg) / (mx > 0 ? mx : 1.0);
}

/* ---- MUL_MAT ---- */

typedef struct {
    tensor *w, *x;
    float *wdeq; /* [B3][B2][n][k] */
} mm_arg;

static double ref_mm(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    mm_arg *r = p;
    const tensor *w = r->w, *x = r->x;
    int64_t k = w->ne[0];
    int64_t w2 = i2 / (x->ne[2] / w->ne[2]), w3 = i3 / (x->ne[3] / w->ne[3]);
    const float *wr = r->wdeq + ((w3 * w->ne[2] + w2) * w->ne[1] + i0) * k;
    double s = 0.0;
    for (int64_t i = 0; i < k; i++) s += (double)wr[i] * h_get(x, i, i1, i2, i3);
    return s;
}

static void test_mul_mat(void) {
    static const tensor_type types[] = {GGUF_TYPE_F32,  GGUF_TYPE_F16,  GGUF_TYPE_BF16, GGUF_TYPE_Q8_0,
                                        GGUF_TYPE_Q4_0, GGUF_TYPE_Q4_1, GGUF_TYPE_Q5_0, GGUF_TYPE_Q5_1,
                                        GGUF_TYPE_Q2_K, GGUF_TYPE_Q3_K, GGUF_TYPE_Q4_K, GGUF_TYPE_Q5_K,
                                        GGUF_TYPE_Q6_K, GGUF_TYPE_IQ4_NL, GGUF_TYPE_IQ4_XS};
    /* batch 1 (GEMV path), 7 and 19 tokens (GEMM path, ragged tiles) */
    static const int64_t toks[] = {1, 7, 19};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
        for (int tk = 0; tk < 3; tk++)
            for (int bcast = 0; bcast < 2; bcast++) {
                const tensor_type_traits *tr = tensor_type_get(types[ti]);
                CHECK_MSG(tr && tr->vec_dot, "%s", gguf_type_name(types[ti]));
                if (!tr || !tr->vec_dot) continue;
                op_ctx c;
                h_begin(&c, g_be[(ti + (size_t)tk) % 2]);
                int64_t k = 512, n = 13;
                tensor *w = h_input(&c, types[ti], k, n, bcast ? 2 : 1, 1);
                /* x as a strided view: every other row of a larger input */
                int64_t nt = toks[tk];
                tensor *x0 = h_input(&c, GGUF_TYPE_F32, k, 2 * nt, bcast ? 4 : 1, 1);
                tensor *x = graph_view_3d(c.g, x0, k, nt, x0->ne[2], 2 * x0->nb[1], x0->nb[2], 0);
                tensor *y = graph_mul_mat(c.g, w, x);
                tensor *ins[] = {w, x0, NULL};
                if (h_run(&c, y, h_fill_all, ins)) {
                    float *deq = malloc((size_t)(k * n * w->ne[2]) * sizeof(float));
                    tr->to_float(w->data, deq, k * n * w->ne[2]);
                    mm_arg r = {w, x, deq};
                    double e = norm_err(y, ref_mm, &r);
                    double tol = tr->is_quantized ? 2e-2 : 1e-5;
                    CHECK_MSG(e < tol, "mul_mat %s tokens %lld bcast %d: error %g", gguf_type_name(types[ti]),
                              (long long)nt, bcast, e);
                    free(deq);
                }
                h_end(&c);
            }
}

/* ---- FLASH_ATTN ---- */

static sv_arena fa_arena;

typedef struct {
    tensor *q, *k, *v, *mask;
    graph_attn_params p;
} fa_arg;

static bool fa_visible(const fa_arg *r, int64_t iq, int64_t j, double *bias) {
    *bias = 0.0;
    int64_t qpos = r->p.q_pos0 + iq;
    if (r->p.causal && (j > qpos || (r->p.window > 0 && qpos - j >= r->p.window))) return false;
    if (r->mask) {
        *bias = h_get(r->mask, j, iq, 0, 0);
        if (*bias == -INFINITY) return false;
    }
    return true;
}

/* out [dv, h, n_q, b] */
static double ref_fa(void *p, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    fa_arg *r = p;
    int64_t h = i1, iq = i2, b = i3, n_kv = r->k->ne[1], d = r->q->ne[0];
    int64_t hk = h / (r->q->ne[2] / r->k->ne[2]);
    double m = -INFINITY, sum = 0.0, acc = 0.0;
    double *s = malloc((size_t)n_kv * sizeof(double));
    for (int64_t j = 0; j < n_kv; j++) {
        double bias;
        s[j] = -INFINITY;
        if (!fa_visible(r, iq, j, &bias)) continue;
        double dot = 0.0;
        for (int64_t i = 0; i < d; i++) dot += (double)h_get(r->q, i, iq, h, b) * h_get(r->k, i, j, hk, b);
        dot *= r->p.scale;
        if (r->p.softcap > 0) dot = r->p.softcap * tanh(dot / r->p.softcap);
        s[j] = dot + bias;
        m = fmax(m, s[j]);
    }
    for (int64_t j = 0; j < n_kv; j++) {
        if (s[j] == -INFINITY) continue;
        double w = exp(s[j] - m);
        sum += w;
        acc += w * h_get(r->v, i0, j, hk, b);
    }
    free(s);
    return sum > 0 ? acc / sum : 0.0;
}

static fa_arg *fa_cur;

/* Q8_0 K/V: the reference reads F32 copies dequantized by the traits. */
static void fa_dequantize(fa_arg *r) {
    tensor **kv[2] = {&r->k, &r->v};
    for (int i = 0; i < 2; i++) {
        tensor *t = *kv[i];
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        tensor *f = tensor_new(&fa_arena, GGUF_TYPE_F32, 4, ne);
        f->data = sv_arena_alloc(&fa_arena, tensor_nbytes(f));
        tensor_type_get(t->type)->to_float(t->data, f->data, tensor_nelements(t));
        *kv[i] = f;
    }
}

static void fill_fa(void *arg) {
    (void)arg;
    h_fill(fa_cur->q, 1.0f);
    h_fill(fa_cur->k, 1.0f);
    h_fill(fa_cur->v, 1.0f);
    tensor *m = fa_cur->mask;
    if (!m) return;
    for (int64_t i1 = 0; i1 < m->ne[1]; i1++)
        for (int64_t i0 = 0; i0 < m->ne[0]; i0++)
            h_put(m, i0, i1, 0, 0, (i0 % 5 == 3 || i1 == 2) ? -INFINITY : 0.5f * h_rand());
}

static void test_flash_attn(void) {
    sv_arena_init(&fa_arena, 0);
    static const tensor_type kv_types[] = {GGUF_TYPE_F32, GGUF_TYPE_F16, GGUF_TYPE_Q8_0};
    for (int kv_i = 0; kv_i < 3; kv_i++)
        for (int variant = 0; variant < 4; variant++)
            for (int nq_i = 0; nq_i < 2; nq_i++) {
                op_ctx c;
                h_begin(&c, g_be[variant % 2]);
                tensor_type kt = kv_types[kv_i];
                int64_t d = kt == GGUF_TYPE_Q8_0 ? 64 : 40, dv = kt == GGUF_TYPE_Q8_0 ? 32 : 24, n_q = nq_i ? 5 : 1, n_kv = 23, h = 6, hk = variant == 0 ? 6 : 2;
                fa_arg r = {.p = {.scale = 1.0f / sqrtf((float)d)}};
                r.q = h_input(&c, GGUF_TYPE_F32, d, n_q, h, 2);
                r.k = h_input(&c, kt, d, n_kv, hk, 2);
                r.v = h_input(&c, kt, dv, n_kv, hk, 2);
                if (variant == 1) r.mask = h_input(&c, kv_i ? GGUF_TYPE_F16 : GGUF_TYPE_F32, n_kv, n_q + 3, 1, 1);
                if (variant == 2) r.p = (graph_attn_params){.scale = 0.3f, .causal = true, .q_pos0 = 16, .window = 9};
                if (variant == 3) r.p = (graph_attn_params){.scale = 0.5f, .softcap = 1.5f, .causal = true, .q_pos0 = 18};
                fa_cur = &r;
                tensor *out = graph_flash_attn(c.g, r.q, r.k, r.v, r.mask, &r.p);
                if (h_run(&c, out, fill_fa, NULL)) {
                    if (kt == GGUF_TYPE_Q8_0) fa_dequantize(&r);
                    double e = norm_err(out, ref_fa, &r);
                    CHECK_MSG(e < 1e-5, "flash_attn %s variant %d n_q %lld: error %g", gguf_type_name(kt), variant,
                              (long long)n_q, e);
                }
                h_end(&c);
            }
    sv_arena_free(&fa_arena);
}

/* ---- IM2COL / CONV_2D / POOL_2D ---- */

typedef struct {
    tensor *ker, *img;
    int s0, s1, p0, p1, d0, d1;
} conv_arg;

/* out [oc, ow, oh, n] */
static double ref_conv(void *p, int64_t oc, int64_t ox, int64_t oy, int64_t n) {
    conv_arg *r = p;
    const tensor *k = r->ker, *img = r->img;
    double s = 0.0;
    for (int64_t ch = 0; ch < img->ne[2]; ch++)
        for (int64_t ky = 0; ky < k->ne[1]; ky++)
            for (int64_t kx = 0; kx < k->ne[0]; kx++) {
                int64_t x = ox * r->s0 + kx * r->d0 - r->p0, y = oy * r->s1 + ky * r->d1 - r->p1;
                if (x < 0 || y < 0 || x >= img->ne[0] || y >= img->ne[1]) continue;
                s += (double)h_get(k, kx, ky, ch, oc) * h_get(img, x, y, ch, n);
            }
    return s;
}

static void test_conv_2d(void) {
    /* patch embedding (stride = kernel) and an overlapping padded, dilated case */
    static const int cfg[][8] = {{14, 14, 14, 14, 0, 0, 1, 1}, {3, 5, 2, 1, 1, 2, 2, 1}};
    for (int ci = 0; ci < 2; ci++)
        for (int kf16 = 0; kf16 < 2; kf16++) {
            op_ctx c;
            h_begin(&c, g_be[ci]);
            const int *f = cfg[ci];
            conv_arg r = {.s0 = f[2], .s1 = f[3], .p0 = f[4], .p1 = f[5], .d0 = f[6], .d1 = f[7]};
            r.img = h_input(&c, GGUF_TYPE_F32, 30, 29, 3, 2);
            r.ker = h_input(&c, kf16 ? GGUF_TYPE_F16 : GGUF_TYPE_F32, f[0], f[1], 3, 5);
            tensor *out = graph_conv_2d(c.g, r.ker, r.img, r.s0, r.s1, r.p0, r.p1, r.d0, r.d1);
            tensor *ins[] = {r.img, r.ker, NULL};
            if (h_run(&c, out, h_fill_all, ins)) {
                double e = norm_err(out, ref_conv, &r);
                CHECK_MSG(e < 1e-5, "conv cfg %d f16 %d: error %g", ci, kf16, e);
            }
            h_end(&c);
        }
}

typedef struct {
    tensor *a;
    int k0, k1, s0, s1, p0, p1;
} pool_arg;

static double ref_pool(void *p, int64_t ox, int64_t oy, int64_t ch, int64_t n) {
    pool_arg *r = p;
    double s = 0.0;
    for (int ky = 0; ky < r->k1; ky++)
        for (int kx = 0; kx < r->k0; kx++) {
            int64_t x = ox * r->s0 + kx - r->p0, y = oy * r->s1 + ky - r->p1;
            if (x >= 0 && y >= 0 && x < r->a->ne[0] && y < r->a->ne[1]) s += h_get(r->a, x, y, ch, n);
        }
    return s / (r->k0 * r->k1);
}

static void test_pool_2d(void) {
    static const int cfg[][6] = {{4, 4, 4, 4, 0, 0}, {3, 2, 2, 1, 1, 1}};
    for (int ci = 0; ci < 2; ci++) {
        op_ctx c;
        h_begin(&c, g_be[ci]);
        const int *f = cfg[ci];
        pool_arg r = {.k0 = f[0], .k1 = f[1], .s0 = f[2], .s1 = f[3], .p0 = f[4], .p1 = f[5]};
        /* Gemma 3 pools the patch grid: tokens [c, w*h] transposed to [w, h, c] (strided) */
        tensor *tok = h_input(&c, GGUF_TYPE_F32, 7, 16 * 13, 1, 1);
        r.a = graph_reshape_3d(c.g, graph_cont(c.g, graph_transpose(c.g, tok)), 16, 13, 7);
        tensor *out = graph_pool_2d_avg(c.g, r.a, r.k0, r.k1, r.s0, r.s1, r.p0, r.p1);
        tensor *ins[] = {tok, NULL};
        if (h_run(&c, out, h_fill_all, ins)) {
            double e = norm_err(out, ref_pool, &r);
            CHECK_MSG(e < 1e-5, "pool cfg %d: error %g", ci, e);
        }
        h_end(&c);
    }
}

int main(void) {
    CHECK(backend_cpu_new(1, &g_be[0]) == SV_OK);
    CHECK(backend_cpu_new(3, &g_be[1]) == SV_OK);
    backend_cpu_set_inline_limit(g_be[1], 0); /* small test shapes still split over threads */
    printf("kernels: %s\n", tensor_cpu_name(tensor_cpu_active()));
    RUN_TEST(test_mul_mat);
    RUN_TEST(test_flash_attn);
    RUN_TEST(test_conv_2d);
    RUN_TEST(test_pool_2d);
    backend_free(g_be[0]);
    backend_free(g_be[1]);
    return test_main_end();
}
