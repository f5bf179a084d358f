/* Registry, buffers and the scheduler over two CPU backend instances that
 * count as separate devices (each has private compute memory), so placement
 * by weights, copies between devices, fallbacks and buffer reuse are
 * exercised without a GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/sched.h"
#include "check.h"

static void test_registry(void) {
    CHECK(backend_dev_count() >= 1);
    backend_device *d = backend_dev_by_name("cpu");
    CHECK(d != NULL && d == backend_dev_get(0));
    backend_dev_props p;
    backend_dev_props_get(d, &p);
    CHECK_STREQ(p.name, "CPU");
    CHECK(p.kind == BACKEND_DEV_CPU);
    backend *b;
    CHECK(backend_dev_init(d, "threads=2", &b) == SV_OK);
    CHECK_EQ_I64(backend_cpu_n_threads(b), 2);
    CHECK(backend_is_cpu(b));
    backend_free(b);
    CHECK(backend_dev_init(d, "threads=x", &b) == SV_ERR_INVALID_ARG);
    CHECK(backend_dev_init(d, "colour=blue", &b) == SV_ERR_INVALID_ARG);
    CHECK(backend_register(backend_cpu_reg()) == SV_ERR_INVALID_ARG); /* already there */
    static backend_reg future = {.version = BACKEND_API_VERSION + 1, .name = "FUTURE"};
    CHECK(backend_register(&future) == SV_ERR_UNSUPPORTED);
    CHECK(backend_dev_by_name("nope") == NULL);
}

static void test_buffers(void) {
    backend *b;
    CHECK(backend_cpu_new(1, &b) == SV_OK);
    backend_buffer_type *bt = backend_get_buffer_type(b);
    CHECK(backend_buft_is_host(bt));
    CHECK(backend_buft_alignment(bt) >= 16);
    sv_arena a;
    sv_arena_init(&a, 0);
    int64_t ne[2] = {5, 3};
    tensor *t1 = tensor_new(&a, GGUF_TYPE_F32, 2, ne), *t2 = tensor_new(&a, GGUF_TYPE_F16, 2, ne);
    tensor *ts[2] = {t1, t2};
    backend_buffer *buf;
    CHECK(backend_alloc_tensors(bt, ts, 2, &buf) == SV_OK);
    CHECK(t1->buffer == buf && t2->buffer == buf);
    CHECK(((uintptr_t)t2->data % backend_buft_alignment(bt)) == 0);
    float in[15], out[15];
    for (int i = 0; i < 15; i++) in[i] = (float)i * 0.5f;
    CHECK(backend_tensor_set(t1, in, 0, sizeof in) == SV_OK);
    CHECK(backend_tensor_get(t1, out, 0, sizeof out) == SV_OK);
    CHECK(memcmp(in, out, sizeof in) == 0);
    CHECK(backend_tensor_set(t1, in, 8, sizeof in) == SV_ERR_INVALID_ARG); /* past the end */
    CHECK(backend_buffer_clear(buf, 0) == SV_OK);
    CHECK(backend_tensor_get(t1, out, 0, 4) == SV_OK && out[0] == 0.0f);
    static char host[256];
    backend_buffer *wrapped;
    CHECK(backend_cpu_buffer_from_ptr(host, sizeof host, &wrapped) == SV_OK);
    CHECK(backend_tensor_place(t1, wrapped, 200) == SV_ERR_LIMIT);
    CHECK(backend_tensor_place(t1, wrapped, 64) == SV_OK && t1->data == host + 64);
    CHECK(backend_supports_buffer_type(b, wrapped->type)); /* shared host memory */
    backend_event *ev;
    CHECK(backend_event_new(b, &ev) == SV_ERR_UNSUPPORTED);
    backend_buffer_free(wrapped);
    backend_buffer_free(buf);
    backend_buffer_free(NULL);
    sv_arena_free(&a);
    backend_free(b);
}

/* Weights w [n, n] of F32 in the given backend's private memory. */
static tensor *make_weight(sv_arena *a, backend *b, int64_t n, float seed, backend_buffer **buf) {
    int64_t ne[2] = {n, n};
    tensor *w = tensor_new(a, GGUF_TYPE_F32, 2, ne);
    w->flags |= TENSOR_FLAG_WEIGHT;
    CHECK(backend_alloc_tensors(backend_get_buffer_type(b), &w, 1, buf) == SV_OK);
    float *d = w->data;
    for (int64_t i = 0; i < n * n; i++) d[i] = sinf(seed * (float)(i + 1)) * 0.3f;
    return w;
}

enum { N = 16, T = 3 };

static void reference(const float *w0, const float *w1, const float *x, double *y) {
    for (int t = 0; t < T; t++) {
        double h[N];
        for (int o = 0; o < N; o++) {
            double s = 0;
            for (int i = 0; i < N; i++) s += (double)w0[o * N + i] * x[t * N + i];
            h[o] = s / (1.0 + exp(-s));
        }
        for (int o = 0; o < N; o++) {
            double s = 0;
            for (int i = 0; i < N; i++) s += (double)w1[o * N + i] * h[i];
            y[t * N + o] = s + x[t * N + o];
        }
    }
}

static tensor *build(graph *g, tensor *w0, tensor *w1, tensor **x, tensor **h) {
    *x = graph_set_input(graph_new_tensor_2d(g, GGUF_TYPE_F32, N, T));
    tensor_set_name(*x, "x");
    *h = graph_silu(g, graph_mul_mat(g, w0, *x));
    tensor_set_name(*h, "h");
    tensor *y = graph_add(g, graph_mul_mat(g, w1, *h), *x);
    graph_expand(g, y);
    return y;
}

static void test_two_devices(void) {
    backend *b[2];
    CHECK(backend_cpu_new(2, &b[0]) == SV_OK);
    CHECK(backend_cpu_new(1, &b[1]) == SV_OK);
    sv_arena wa;
    sv_arena_init(&wa, 0);
    backend_buffer *wb0, *wb1;
    tensor *w0 = make_weight(&wa, b[0], N, 0.7f, &wb0), *w1 = make_weight(&wa, b[1], N, 1.3f, &wb1);
    backend_sched *s;
    CHECK(backend_sched_new(b, 2, &s) == SV_OK);

    float xin[N * T];
    for (int i = 0; i < N * T; i++) xin[i] = cosf((float)i);
    double want[N * T];
    reference(w0->data, w1->data, xin, want);

    for (int pin = 0; pin < 2; pin++) {
        sv_arena ga;
        sv_arena_init(&ga, 0);
        graph *g;
        CHECK(graph_new(&ga, 64, &g) == SV_OK);
        tensor *x, *h;
        tensor *y = build(g, w0, w1, &x, &h);
        tensor *mm0 = h->src[0]; /* alloc rewires h->src[0] to a copy when h runs elsewhere */
        if (pin) backend_sched_set_backend(s, h, 1);
        CHECK(backend_sched_alloc(s, g) == SV_OK);
        CHECK(backend_tensor_set(x, xin, 0, sizeof xin) == SV_OK);
        CHECK(backend_sched_compute(s, g) == SV_OK);
        /* Each matmul runs where its weights are; x is read on both devices. */
        CHECK_EQ_I64(backend_sched_backend_of(s, mm0), 0);
        CHECK(pin ? (h->src[0]->flags & TENSOR_FLAG_COPY) != 0 : h->src[0] == mm0);
        CHECK_EQ_I64(backend_sched_backend_of(s, h), pin ? 1 : 0);
        CHECK_EQ_I64(backend_sched_backend_of(s, y), 1);
        CHECK_EQ_I64(backend_sched_n_splits(s), 2);
        /* unpinned: h and x cross to device 1; pinned: h's input and x do */
        CHECK_EQ_I64(backend_sched_n_copies(s), 2);
        CHECK(backend_sched_buffer_size(s, 0) > 0 && backend_sched_buffer_size(s, 1) > 0);
        float got[N * T];
        CHECK(backend_tensor_get(y, got, 0, sizeof got) == SV_OK);
        double e = 0;
        for (int i = 0; i < N * T; i++) e = fmax(e, fabs(got[i] - want[i]));
        /* f32 dots of 16 terms of size <= 0.3: rounding ~1e-6 */
        CHECK_MSG(e < 1e-5, "pin %d: error %g", pin, e);
        /* Computing the same graph again reuses the plan and gives the same result. */
        CHECK(backend_sched_compute(s, g) == SV_OK);
        float again[N * T];
        CHECK(backend_tensor_get(y, again, 0, sizeof again) == SV_OK);
        CHECK(memcmp(got, again, sizeof got) == 0);
        sv_arena_free(&ga);
    }
    backend_sched_free(s);
    backend_buffer_free(wb0);
    backend_buffer_free(wb1);
    sv_arena_free(&wa);
    backend_free(b[0]);
    backend_free(b[1]);
}

/* Weights in shared host memory (a mapped file): both CPU devices compute on
 * them in place, so only activations cross. */
static void test_shared_weights(void) {
    backend *b[2];
    CHECK(backend_cpu_new(1, &b[0]) == SV_OK);
    CHECK(backend_cpu_new(1, &b[1]) == SV_OK);
    static _Alignas(64) float host[2 * N * N];
    for (int i = 0; i < 2 * N * N; i++) host[i] = sinf(0.37f * (float)i) * 0.3f;
    backend_buffer *wbuf;
    CHECK(backend_cpu_buffer_from_ptr(host, sizeof host, &wbuf) == SV_OK);
    sv_arena a;
    sv_arena_init(&a, 0);
    int64_t ne[2] = {N, N};
    tensor *w0 = tensor_new(&a, GGUF_TYPE_F32, 2, ne), *w1 = tensor_new(&a, GGUF_TYPE_F32, 2, ne);
    w0->flags |= TENSOR_FLAG_WEIGHT;
    w1->flags |= TENSOR_FLAG_WEIGHT;
    CHECK(backend_tensor_place(w0, wbuf, 0) == SV_OK);
    CHECK(backend_tensor_place(w1, wbuf, N * N * sizeof(float)) == SV_OK);
    backend_sched *s;
    CHECK(backend_sched_new(b, 2, &s) == SV_OK);
    graph *g;
    CHECK(graph_new(&a, 64, &g) == SV_OK);
    tensor *x, *h;
    tensor *y = build(g, w0, w1, &x, &h);
    backend_sched_set_backend(s, y->src[0], 1); /* second matmul on device 1 */
    CHECK(backend_sched_alloc(s, g) == SV_OK);
    /* h and x cross to device 1; the weights do not */
    CHECK_EQ_I64(backend_sched_n_copies(s), 2);
    float xin[N * T], got[N * T];
    for (int i = 0; i < N * T; i++) xin[i] = cosf((float)i);
    CHECK(backend_tensor_set(x, xin, 0, sizeof xin) == SV_OK);
    CHECK(backend_sched_compute(s, g) == SV_OK);
    CHECK(backend_tensor_get(y, got, 0, sizeof got) == SV_OK);
    double want[N * T], e = 0;
    reference(host, host + N * N, xin, want);
    for (int i = 0; i < N * T; i++) e = fmax(e, fabs(got[i] - want[i]));
    CHECK_MSG(e < 1e-5, "error %g", e); /* as in test_two_devices */
    backend_sched_free(s);
    backend_buffer_free(wbuf);
    sv_arena_free(&a);
    backend_free(b[0]);
    backend_free(b[1]);
}

/* A backend that refuses MUL_MAT: the scheduler must fall back to the next. */
static bool no_mul_mat(backend *b, const tensor *n) {
    (void)b;
    return n->op != TENSOR_OP_MUL_MAT;
}

static void test_fallback(void) {
    backend *cpu;
    CHECK(backend_cpu_new(1, &cpu) == SV_OK);
    backend limited = *cpu;
    limited.i.supports_op = no_mul_mat;
    backend *list[2] = {&limited, cpu};
    backend_sched *s;
    CHECK(backend_sched_new(list, 2, &s) == SV_OK);
    sv_arena ga;
    sv_arena_init(&ga, 0);
    graph *g;
    CHECK(graph_new(&ga, 64, &g) == SV_OK);
    tensor *w = graph_set_input(graph_new_tensor_2d(g, GGUF_TYPE_F32, 8, 4));
    tensor *x = graph_set_input(graph_new_tensor_2d(g, GGUF_TYPE_F32, 8, 2));
    tensor *sx = graph_scale(g, x, 2.0f);
    tensor *y = graph_mul_mat(g, w, sx);
    CHECK(graph_expand(g, y) == SV_OK);
    CHECK(backend_sched_alloc(s, g) == SV_OK);
    CHECK_EQ_I64(backend_sched_backend_of(s, sx), 0);
    CHECK_EQ_I64(backend_sched_backend_of(s, y), 1);
    float ones[32];
    for (int i = 0; i < 32; i++) ones[i] = 1.0f;
    CHECK(backend_tensor_set(w, ones, 0, sizeof ones) == SV_OK);
    CHECK(backend_tensor_set(x, ones, 0, 16 * sizeof(float)) == SV_OK);
    CHECK(backend_sched_compute(s, g) == SV_OK);
    float out[8];
    CHECK(backend_tensor_get(y, out, 0, sizeof out) == SV_OK);
    CHECK(out[0] == 16.0f && out[7] == 16.0f);
    sv_arena_free(&ga);

    /* A graph whose building failed is refused, naming the cause. */
    sv_arena_init(&ga, 0);
    CHECK(graph_new(&ga, 16, &g) == SV_OK);
    tensor *bad = graph_add(g, graph_new_tensor_1d(g, GGUF_TYPE_F32, 4), graph_new_tensor_1d(g, GGUF_TYPE_F32, 3));
    CHECK(bad == NULL);
    CHECK(backend_sched_alloc(s, g) == SV_ERR_INVALID_ARG);
    CHECK(strstr(sv_errmsg(), "broadcast") != NULL);
    sv_arena_free(&ga);

    /* Memory that no buffer owns is refused rather than guessed at. */
    sv_arena_init(&ga, 0);
    CHECK(graph_new(&ga, 16, &g) == SV_OK);
    static float loose[4];
    tensor *lw = graph_new_tensor_1d(g, GGUF_TYPE_F32, 4);
    lw->data = loose;
    CHECK(graph_expand(g, graph_scale(g, lw, 2.0f)) == SV_OK);
    CHECK(backend_sched_alloc(s, g) == SV_ERR_INVALID_ARG);
    sv_arena_free(&ga);

    /* With only the limited backend nothing runs MUL_MAT. */
    backend *only[1] = {&limited};
    backend_sched *s1;
    CHECK(backend_sched_new(only, 1, &s1) == SV_OK);
    sv_arena_init(&ga, 0);
    CHECK(graph_new(&ga, 16, &g) == SV_OK);
    tensor *m = graph_mul_mat(g, graph_new_tensor_2d(g, GGUF_TYPE_F32, 8, 4), graph_new_tensor_2d(g, GGUF_TYPE_F32, 8, 2));
    CHECK(graph_expand(g, m) == SV_OK);
    CHECK(backend_sched_alloc(s1, g) == SV_ERR_UNSUPPORTED);
    sv_arena_free(&ga);
    backend_sched_free(s1);
    backend_sched_free(s);
    backend_free(cpu);
}

/* Decode-shaped graphs: reserve once for the largest, then many smaller
 * graphs of one topology fit without growing; a larger one grows once. */
static graph *chain(sv_arena *a, int64_t n_tok, tensor **in) {
    graph *g;
    CHECK(graph_new(a, 64, &g) == SV_OK);
    *in = graph_set_input(graph_new_tensor_2d(g, GGUF_TYPE_F32, 64, n_tok));
    tensor *t = *in;
    for (int i = 0; i < 6; i++) t = graph_rms_norm(g, graph_silu(g, t), 1e-6f);
    graph_expand(g, t);
    return g;
}

static void test_reserve(void) {
    backend *b;
    CHECK(backend_cpu_new(1, &b) == SV_OK);
    backend_sched *s;
    CHECK(backend_sched_new(&b, 1, &s) == SV_OK);
    sv_arena a;
    sv_arena_init(&a, 0);
    tensor *in;
    CHECK(backend_sched_reserve(s, chain(&a, 32, &in)) == SV_OK);
    size_t reserved = backend_sched_buffer_size(s, 0);
    /* input + two live intermediates + the output of 64*32 floats, not 13 tensors */
    CHECK(reserved <= 4 * 64 * 32 * sizeof(float));
    /* One topology gives one layout every step (what CUDA graph replay needs). */
    ptrdiff_t layout[16] = {0};
    for (int step = 0; step < 5; step++) {
        sv_arena_reset(&a);
        graph *g = chain(&a, 1, &in);
        CHECK(backend_sched_alloc(s, g) == SV_OK);
        CHECK(g->n_nodes <= 16);
        for (int i = 0; i < g->n_nodes && i < 16; i++) {
            ptrdiff_t off = (char *)g->nodes[i]->data - (char *)in->data;
            if (step == 0) layout[i] = off;
            else CHECK_EQ_I64(off, layout[i]);
        }
        float v[64];
        for (int i = 0; i < 64; i++) v[i] = (float)(i - 32) / 8.0f;
        CHECK(backend_tensor_set(in, v, 0, sizeof v) == SV_OK);
        CHECK(backend_sched_compute(s, g) == SV_OK);
    }
    CHECK_EQ_I64(backend_sched_n_grows(s), 0);
    CHECK_EQ_I64(backend_sched_buffer_size(s, 0), reserved);
    sv_arena_reset(&a);
    CHECK(backend_sched_alloc(s, chain(&a, 100, &in)) == SV_OK);
    CHECK_EQ_I64(backend_sched_n_grows(s), 1);
    sv_arena_free(&a);
    backend_sched_free(s);
    backend_free(b);
}

/* Random graphs over three CPU devices with weights spread over their private
 * memory and random pinning give bit-identical outputs to the same graph on
 * one device (same kernels, no cross-thread reductions), so every copy and
 * rewiring the scheduler did was right. */
static uint32_t rs = 99;
static int rnd(int n) {
    rs = rs * 1664525u + 1013904223u;
    return (int)((rs >> 8) % (uint32_t)n);
}

static void test_random_graphs(void) {
    backend *b[3];
    for (int i = 0; i < 3; i++) CHECK(backend_cpu_new(1 + i % 2, &b[i]) == SV_OK);
    backend_sched *one, *three;
    CHECK(backend_sched_new(b, 1, &one) == SV_OK);
    CHECK(backend_sched_new(b, 3, &three) == SV_OK);
    int total_copies = 0, total_splits = 0;
    for (int round = 0; round < 30; round++) {
        sv_arena wa, ga;
        sv_arena_init(&wa, 0);
        sv_arena_init(&ga, 0);
        backend_buffer *wb[3];
        tensor *w[3];
        for (int i = 0; i < 3; i++) w[i] = make_weight(&wa, b[i], 8, 0.3f + (float)i, &wb[i]);
        graph *g;
        CHECK(graph_new(&ga, 512, &g) == SV_OK);
        tensor *in = graph_set_input(graph_new_tensor_2d(g, GGUF_TYPE_F32, 8, 5));
        tensor *pool[48] = {in};
        int n = 1;
        for (int i = 0; i < 40; i++) {
            tensor *a = pool[rnd(n)], *t;
            switch (rnd(6)) {
            case 0: t = graph_mul_mat(g, w[rnd(3)], a); break;
            case 1: t = graph_add(g, a, pool[rnd(n)]); break;
            case 2: t = graph_silu(g, a); break;
            case 3: t = graph_rms_norm(g, a, 1e-5f); break;
            case 4: t = graph_cont(g, graph_transpose(g, graph_cont(g, graph_transpose(g, a)))); break;
            default: t = graph_scale(g, graph_view_2d(g, a, 8, a->ne[1] > 1 ? a->ne[1] - 1 : 1, a->nb[1], 0), 0.5f); break;
            }
            if (!t) {
                g->status = SV_OK;
                continue;
            }
            if (t->ne[0] == 8 && t->ne[1] == 5 && t->ne[2] == 1) pool[n++] = t;
        }
        tensor *out = pool[n - 1];
        for (int i = 1; i < n; i += 5) out = graph_add(g, out, pool[i]);
        CHECK(graph_expand(g, out) == SV_OK);
        float x[40], y1[40], y3[40];
        for (int i = 0; i < 40; i++) x[i] = sinf((float)(i + round));
        CHECK(backend_sched_alloc(one, g) == SV_OK);
        CHECK(backend_tensor_set(in, x, 0, sizeof x) == SV_OK);
        CHECK(backend_sched_compute(one, g) == SV_OK);
        CHECK(backend_tensor_get(out, y1, 0, sizeof y1) == SV_OK);
        for (int i = 0; i < g->n_nodes; i++)
            if (rnd(4) == 0) backend_sched_set_backend(three, g->nodes[i], rnd(3));
        CHECK(backend_sched_alloc(three, g) == SV_OK);
        CHECK(backend_tensor_set(in, x, 0, sizeof x) == SV_OK);
        CHECK(backend_sched_compute(three, g) == SV_OK);
        CHECK(backend_tensor_get(out, y3, 0, sizeof y3) == SV_OK);
        CHECK_MSG(memcmp(y1, y3, sizeof y1) == 0, "round %d: %d splits, %d copies", round,
                  backend_sched_n_splits(three), backend_sched_n_copies(three));
        total_copies += backend_sched_n_copies(three);
        total_splits += backend_sched_n_splits(three);
        for (int i = 0; i < 3; i++) backend_buffer_free(wb[i]);
        sv_arena_free(&ga);
        sv_arena_free(&wa);
    }
    printf("random graphs: %d splits, %d copies in all\n", total_splits, total_copies);
    CHECK(total_copies > 30 && total_splits > 60); /* the path under test was taken */
    backend_sched_free(one);
    backend_sched_free(three);
    for (int i = 0; i < 3; i++) backend_free(b[i]);
}

int main(void) {
    RUN_TEST(test_registry);
    RUN_TEST(test_buffers);
    RUN_TEST(test_two_devices);
    RUN_TEST(test_shared_weights);
    RUN_TEST(test_fallback);
    RUN_TEST(test_reserve);
    RUN_TEST(test_random_graphs);
    return test_main_end();
}
