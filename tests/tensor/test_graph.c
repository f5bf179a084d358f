/* Graph IR: tensor geometry, views, builder checks, topological order. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tensor/graph.h"

static void test_tensor_geometry(void) {
    sv_arena a;
    sv_arena_init(&a, 0);
    int64_t ne[3] = {7, 5, 3};
    tensor *t = tensor_new(&a, GGUF_TYPE_F32, 3, ne);
    CHECK(t != NULL);
    CHECK_EQ_I64(t->nb[0], 4);
    CHECK_EQ_I64(t->nb[1], 28);
    CHECK_EQ_I64(t->nb[2], 140);
    CHECK_EQ_I64(t->ne[3], 1);
    CHECK_EQ_I64(tensor_nelements(t), 105);
    CHECK_EQ_I64(tensor_nrows(t), 15);
    CHECK_EQ_I64(tensor_nbytes(t), 420);
    CHECK_EQ_I64(tensor_n_dims(t), 3);
    CHECK(tensor_is_contiguous(t));
    CHECK_EQ_I64(t->place, -1);

    int64_t q[2] = {64, 3};
    tensor *tq = tensor_new(&a, GGUF_TYPE_Q8_0, 2, q);
    CHECK(tq != NULL);
    CHECK_EQ_I64(tq->nb[0], 34);
    CHECK_EQ_I64(tq->nb[1], 68);
    CHECK_EQ_I64(tensor_nbytes(tq), 204);

    int64_t bad[2] = {33, 2};
    CHECK(tensor_new(&a, GGUF_TYPE_Q8_0, 2, bad) == NULL);
    int64_t neg[1] = {-1};
    CHECK(tensor_new(&a, GGUF_TYPE_F32, 1, neg) == NULL);
    int64_t huge[4] = {INT64_MAX / 2, 4, 1, 1};
    CHECK(tensor_new(&a, GGUF_TYPE_F32, 4, huge) == NULL);
    CHECK(tensor_new(&a, (tensor_type)4, 1, ne) == NULL);
    CHECK(tensor_new(&a, GGUF_TYPE_F32, 5, ne) == NULL);

    tensor_set_name(t, "blk.%d.attn_q.weight", 12);
    CHECK_STREQ(t->name, "blk.12.attn_q.weight");
    tensor_set_name(t, "%s", "a-name-that-is-far-too-long-for-the-fixed-size-buffer-of-a-tensor");
    CHECK_EQ_I64(strlen(t->name), TENSOR_NAME_MAX - 1);
    CHECK_STREQ(tensor_op_name(TENSOR_OP_MUL_MAT), "MUL_MAT");
    CHECK_STREQ(tensor_op_name(TENSOR_OP_COUNT), "?");
    sv_arena_free(&a);
}

static void test_views(void) {
    sv_arena a;
    sv_arena_init(&a, 0);
    graph *g;
    CHECK(graph_new(&a, 64, &g) == SV_OK);
    tensor *x = graph_new_tensor_3d(g, GGUF_TYPE_F32, 8, 6, 4);
    static float mem[8 * 6 * 4];
    x->data = mem;

    tensor *p = graph_permute(g, x, 0, 2, 1, 3); /* [8, 4, 6] */
    CHECK(p && p->ne[1] == 4 && p->ne[2] == 6);
    CHECK(p->nb[1] == x->nb[2] && p->nb[2] == x->nb[1]);
    CHECK(!tensor_is_contiguous(p));
    CHECK(tensor_rows_contiguous(p));
    CHECK(p->data == mem); /* views of tensors with memory resolve at once */
    CHECK_EQ_I64(tensor_nbytes(p), tensor_nbytes(x));

    tensor *tr = graph_transpose(g, x); /* [6, 8, 4] */
    CHECK(tr && tr->ne[0] == 6 && tr->nb[0] == 32 && !tensor_rows_contiguous(tr));
    CHECK(tr->op == TENSOR_OP_TRANSPOSE);

    tensor *v = graph_view_2d(g, x, 4, 3, x->nb[1], x->nb[1] * 2 + 8);
    CHECK(v && (char *)v->data == (char *)mem + 2 * 32 + 8);
    CHECK(tensor_view_root(v) == x);
    tensor *vv = graph_view_1d(g, v, 2, 4);
    CHECK(vv && tensor_view_root(vv) == x && (char *)vv->data == (char *)mem + 2 * 32 + 12);

    tensor *r = graph_reshape_2d(g, x, 48, 4);
    CHECK(r && r->nb[1] == 192 && r->op == TENSOR_OP_RESHAPE);
    CHECK(g->status == SV_OK);

    /* Errors: reshape of a non-contiguous view, views past the end, bad permutations. */
    CHECK(graph_reshape_2d(g, p, 48, 4) == NULL);
    CHECK(g->status == SV_ERR_INVALID_ARG);
    CHECK(strstr(sv_errmsg(), "reshape") != NULL);
    g->status = SV_OK;
    CHECK(graph_view_1d(g, x, 8, sizeof mem - 16) == NULL);
    g->status = SV_OK;
    CHECK(graph_permute(g, x, 0, 1, 1, 3) == NULL);
    g->status = SV_OK;
    CHECK(graph_reshape_2d(g, x, 47, 4) == NULL);
    /* Once failed, builders return NULL and NULL propagates. */
    CHECK(graph_add(g, x, x) == NULL);
    CHECK(graph_add(g, NULL, x) == NULL);
    sv_arena_free(&a);
}

static void test_builder_shapes(void) {
    sv_arena a;
    sv_arena_init(&a, 0);
    graph *g;
    CHECK(graph_new(&a, 256, &g) == SV_OK);
    tensor *w = graph_new_tensor_2d(g, GGUF_TYPE_F16, 64, 10);
    tensor *x = graph_new_tensor_2d(g, GGUF_TYPE_F32, 64, 3);
    tensor *y = graph_mul_mat(g, w, x);
    CHECK(y && y->ne[0] == 10 && y->ne[1] == 3 && y->type == GGUF_TYPE_F32);

    tensor *bias = graph_new_tensor_1d(g, GGUF_TYPE_F32, 10);
    CHECK(graph_add(g, y, bias) != NULL);
    tensor *odd = graph_new_tensor_1d(g, GGUF_TYPE_F32, 3);
    CHECK(graph_add(g, y, odd) == NULL); /* 3 does not divide 10 */
    g->status = SV_OK;
    CHECK(graph_mul_mat(g, x, w) == NULL); /* f16 activations */
    g->status = SV_OK;

    tensor *ids = graph_new_tensor_1d(g, GGUF_TYPE_I32, 5);
    tensor *rows = graph_get_rows(g, w, ids);
    CHECK(rows && rows->ne[0] == 64 && rows->ne[1] == 5 && rows->type == GGUF_TYPE_F32);

    tensor *q = graph_new_tensor_4d(g, GGUF_TYPE_F32, 16, 7, 8, 1);
    tensor *k = graph_new_tensor_4d(g, GGUF_TYPE_F16, 16, 9, 2, 1);
    tensor *v = graph_new_tensor_4d(g, GGUF_TYPE_F16, 12, 9, 2, 1);
    graph_attn_params ap = {.scale = 0.25f};
    tensor *o = graph_flash_attn(g, q, k, v, NULL, &ap);
    CHECK(o && o->ne[0] == 12 && o->ne[1] == 8 && o->ne[2] == 7);
    tensor *k3 = graph_new_tensor_4d(g, GGUF_TYPE_F16, 16, 9, 3, 1);
    CHECK(graph_flash_attn(g, q, k3, k3, NULL, &ap) == NULL); /* 3 kv heads do not divide 8 */
    g->status = SV_OK;

    tensor *pos = graph_new_tensor_1d(g, GGUF_TYPE_I32, 8);
    tensor *hq = graph_new_tensor_3d(g, GGUF_TYPE_F32, 16, 4, 8);
    CHECK(graph_rope(g, hq, pos, 16, TENSOR_ROPE_NEOX, 10000.0f, 1.0f) != NULL);
    CHECK(graph_rope(g, hq, pos, 18, TENSOR_ROPE_NEOX, 10000.0f, 1.0f) == NULL);
    g->status = SV_OK;
    tensor *ff = graph_new_tensor_1d(g, GGUF_TYPE_F32, 8);
    CHECK(graph_rope_ext(g, hq, pos, ff, 16, TENSOR_ROPE_NORMAL, 5e5f, 1.0f) != NULL);
    CHECK(graph_rope_ext(g, hq, pos, ff, 12, TENSOR_ROPE_NORMAL, 5e5f, 1.0f) == NULL); /* 8 factors, 6 pairs */
    g->status = SV_OK;
    int sect[4] = {2, 3, 3, 0};
    CHECK(graph_rope_multi(g, hq, pos, 16, sect, TENSOR_ROPE_MROPE, 1e4f, 1.0f) == NULL); /* needs 4*n pos */
    g->status = SV_OK;

    tensor *img = graph_new_tensor_4d(g, GGUF_TYPE_F32, 28, 14, 3, 1);
    tensor *ker = graph_new_tensor_4d(g, GGUF_TYPE_F16, 14, 14, 3, 32);
    tensor *pe = graph_conv_2d(g, ker, img, 14, 14, 0, 0, 1, 1);
    CHECK(pe && pe->ne[0] == 32 && pe->ne[1] == 2 && pe->ne[2] == 1);
    tensor *pool = graph_pool_2d_avg(g, img, 2, 2, 2, 2, 0, 0);
    CHECK(pool && pool->ne[0] == 14 && pool->ne[1] == 7 && pool->ne[2] == 3);

    tensor *cat = graph_concat(g, x, x, 1);
    CHECK(cat && cat->ne[1] == 6);
    tensor *am = graph_argmax(g, x);
    CHECK(am && am->type == GGUF_TYPE_I32 && am->ne[0] == 3);
    tensor *kq8 = graph_new_tensor_2d(g, GGUF_TYPE_Q8_0, 64, 3);
    tensor *c = graph_cpy(g, x, kq8);
    CHECK(c && c->view_src == kq8 && c->src[0] == x);
    CHECK(g->status == SV_OK);
    sv_arena_free(&a);
}

static int index_of(tensor *const *list, int n, const tensor *t) {
    for (int i = 0; i < n; i++)
        if (list[i] == t) return i;
    return -1;
}

static void test_expand_order(void) {
    sv_arena a;
    sv_arena_init(&a, 0);
    graph *g;
    CHECK(graph_new(&a, 64, &g) == SV_OK);
    tensor *x = graph_set_input(graph_new_tensor_2d(g, GGUF_TYPE_F32, 8, 2));
    tensor *w = graph_new_tensor_2d(g, GGUF_TYPE_F32, 8, 8);
    tensor *h = graph_rms_norm(g, x, 1e-6f);
    tensor *y = graph_mul_mat(g, w, h);
    tensor *z = graph_add(g, y, x); /* x reached twice, listed once */
    tensor *out = graph_silu(g, z);
    CHECK(graph_expand(g, out) == SV_OK);
    CHECK_EQ_I64(g->n_nodes, 4);
    CHECK_EQ_I64(g->n_leafs, 2);
    CHECK(index_of(g->nodes, g->n_nodes, h) < index_of(g->nodes, g->n_nodes, y));
    CHECK(index_of(g->nodes, g->n_nodes, y) < index_of(g->nodes, g->n_nodes, z));
    CHECK(g->nodes[g->n_nodes - 1] == out);
    CHECK(out->flags & TENSOR_FLAG_OUTPUT);
    CHECK(graph_expand(g, out) == SV_OK); /* idempotent */
    CHECK_EQ_I64(g->n_nodes, 4);

    tensor_set_name(out, "ffn_out");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    graph_print(g, f);
    fclose(f);
    CHECK(text && strstr(text, "SILU") == NULL && strstr(text, "UNARY") != NULL);
    CHECK(text && strstr(text, "F32 [8, 2, 1, 1] input") != NULL);
    CHECK(text && strstr(text, "'ffn_out'") != NULL);
    free(text);

    /* A graph rebuilt in the reset arena sits at the same address but is
     * another graph for the scheduler. */
    uint64_t id = g->id;
    sv_arena_reset(&a);
    graph *g2;
    CHECK(graph_new(&a, 64, &g2) == SV_OK);
    CHECK(g2->id != id);

    /* Capacity limits are errors, not overruns. */
    graph *small;
    CHECK(graph_new(&a, 2, &small) == SV_OK);
    tensor *s = graph_new_tensor_1d(small, GGUF_TYPE_F32, 4);
    for (int i = 0; i < 4; i++) s = graph_scale(small, s, 2.0f);
    CHECK(graph_expand(small, s) == SV_ERR_LIMIT);
    CHECK(graph_new(&a, 0, &small) == SV_ERR_INVALID_ARG);
    sv_arena_free(&a);
}

int main(void) {
    RUN_TEST(test_tensor_geometry);
    RUN_TEST(test_views);
    RUN_TEST(test_builder_shapes);
    RUN_TEST(test_expand_order);
    return test_main_end();
}
