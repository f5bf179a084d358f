/* Graph memory planner: reuse by liveness, no overlap between live tensors,
 * inputs and outputs kept, several buffers. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tensor/graph.h"
#include "tensor/planner.h"

static const planner_slot *slot_of(const planner *p, const tensor *t) {
    for (int i = 0; i < planner_n_slots(p); i++)
        if (planner_slots(p)[i].t == t) return &planner_slots(p)[i];
    return NULL;
}

static void test_chain_reuses(void) {
    sv_arena a;
    sv_arena_init(&a, 0);
    graph *g;
    CHECK(graph_new(&a, 64, &g) == SV_OK);
    tensor *x = graph_set_input(graph_new_tensor_1d(g, GGUF_TYPE_F32, 256)); /* 1 KiB */
    tensor *t = x;
    for (int i = 0; i < 10; i++) t = graph_scale(g, t, 0.5f);
    CHECK(graph_expand(g, t) == SV_OK);
    size_t align = 64;
    planner *p;
    CHECK(planner_new(1, &align, &p) == SV_OK);
    CHECK(planner_plan(p, g->nodes, g->n_nodes, g->leafs, g->n_leafs, NULL, NULL) == SV_OK);
    CHECK_EQ_I64(planner_n_slots(p), 11);
    /* A chain needs two live tensors at a time, never eleven. */
    CHECK_EQ_I64(planner_peak(p, 0), 2048);
    /* The input is free after its one reader, so the third node reuses it. */
    CHECK(slot_of(p, g->nodes[1])->offset == slot_of(p, x)->offset);

    static _Alignas(64) char mem[4096];
    void *base[1] = {mem};
    planner_apply(p, base, NULL, g->nodes, g->n_nodes);
    CHECK(x->data != NULL && (x->flags & TENSOR_FLAG_PLANNED));
    /* Re-planning the same graph replaces the earlier plan. */
    CHECK(planner_plan(p, g->nodes, g->n_nodes, g->leafs, g->n_leafs, NULL, NULL) == SV_OK);
    CHECK_EQ_I64(planner_peak(p, 0), 2048);
    planner_free(p);
    sv_arena_free(&a);
}

/* Lifetimes computed independently: [birth, death] in node indices (leafs are
 * born at -1; outputs die at n_nodes). */
typedef struct {
    int birth, death;
} life;

static void lifetime(graph *g, const tensor *t, life *out) {
    out->birth = -1;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i] == t) out->birth = i;
    out->death = out->birth;
    for (int i = 0; i < g->n_nodes; i++) {
        tensor *n = g->nodes[i];
        if (tensor_view_root(n) == t) {
            if (i > out->death) out->death = i;
            if (n->flags & TENSOR_FLAG_OUTPUT) out->death = g->n_nodes;
        }
        for (int j = 0; j < TENSOR_MAX_SRC; j++)
            if (n->src[j] && tensor_view_root(n->src[j]) == t && i > out->death) out->death = i;
    }
    if (t->flags & TENSOR_FLAG_OUTPUT) out->death = g->n_nodes;
}

static uint32_t rng = 12345;
static int rnd(int n) {
    rng = rng * 1664525u + 1013904223u;
    return (int)((rng >> 8) % (uint32_t)n);
}

static int buf_by_parity(void *ctx, const tensor *t) {
    (void)ctx;
    return (int)(t->ne[0] & 1);
}

static void test_random_no_overlap(void) {
    for (int round = 0; round < 40; round++) {
        sv_arena a;
        sv_arena_init(&a, 0);
        graph *g;
        CHECK(graph_new(&a, 512, &g) == SV_OK);
        tensor *pool[64];
        int n = 0;
        for (int i = 0; i < 3; i++)
            pool[n++] = graph_set_input(graph_new_tensor_2d(g, GGUF_TYPE_F32, 1 + rnd(40), 1 + rnd(4)));
        tensor *weight = graph_new_tensor_2d(g, GGUF_TYPE_F32, 8, 8);
        static float wmem[64];
        weight->data = wmem;
        weight->flags |= TENSOR_FLAG_WEIGHT;
        for (int i = 0; i < 40 && n < 64; i++) {
            tensor *s = pool[rnd(n)];
            tensor *t;
            switch (rnd(5)) {
            case 0: t = graph_scale(g, s, 2.0f); break;
            case 1: t = graph_add(g, s, pool[rnd(n)]); break; /* may fail to broadcast: skip */
            case 2: t = graph_cont(g, graph_transpose(g, s)); break;
            case 3: t = graph_silu(g, graph_view_1d(g, s, s->ne[0], 0)); break;
            default: t = graph_concat(g, s, s, 1); break;
            }
            if (!t) {
                g->status = SV_OK;
                continue;
            }
            pool[n++] = t;
        }
        tensor *w8 = graph_new_tensor_2d(g, GGUF_TYPE_F32, 8, 3);
        graph_set_input(w8);
        pool[n++] = graph_mul_mat(g, weight, w8);
        for (int i = 0; i < 3; i++) CHECK(graph_expand(g, pool[n - 1 - rnd(n / 2)]) == SV_OK);
        for (int i = 0; i < n; i++) CHECK(graph_expand(g, pool[i]->flags & TENSOR_FLAG_OUTPUT ? pool[i] : pool[n - 1]) == SV_OK);

        size_t align[2] = {32, 128};
        planner *p;
        CHECK(planner_new(2, align, &p) == SV_OK);
        CHECK(planner_plan(p, g->nodes, g->n_nodes, g->leafs, g->n_leafs, buf_by_parity, NULL) == SV_OK);
        int ns = planner_n_slots(p);
        const planner_slot *sl = planner_slots(p);
        int bad = 0;
        for (int i = 0; i < ns; i++) {
            CHECK(sl[i].t != weight);
            CHECK(sl[i].offset % align[sl[i].buf] == 0);
            CHECK(sl[i].buf == (int)(sl[i].t->ne[0] & 1));
            CHECK(sl[i].offset + sl[i].size <= planner_peak(p, sl[i].buf));
            life li;
            lifetime(g, sl[i].t, &li);
            for (int j = i + 1; j < ns; j++) {
                if (sl[j].buf != sl[i].buf) continue;
                life lj;
                lifetime(g, sl[j].t, &lj);
                bool live_together = li.birth <= lj.death && lj.birth <= li.death;
                bool overlap = sl[i].offset < sl[j].offset + sl[j].size && sl[j].offset < sl[i].offset + sl[i].size;
                if (live_together && overlap) bad++;
            }
        }
        CHECK_MSG(bad == 0, "round %d: %d overlapping live pairs", round, bad);
        planner_free(p);
        sv_arena_free(&a);
    }
}

static void test_bad_args(void) {
    size_t align = 48;
    planner *p = NULL;
    CHECK(planner_new(1, &align, &p) == SV_ERR_INVALID_ARG);
    CHECK(planner_new(0, &align, &p) == SV_ERR_INVALID_ARG);
    align = 16;
    CHECK(planner_new(1, &align, &p) == SV_OK);
    sv_arena a;
    sv_arena_init(&a, 0);
    graph *g;
    CHECK(graph_new(&a, 8, &g) == SV_OK);
    tensor *x = graph_scale(g, graph_new_tensor_1d(g, GGUF_TYPE_F32, 4), 1.0f);
    CHECK(graph_expand(g, x) == SV_OK);
    CHECK(planner_plan(p, g->nodes, g->n_nodes, g->leafs, g->n_leafs, buf_by_parity, NULL) == SV_OK);
    int64_t ne = 5;
    tensor *y = graph_scale(g, graph_new_tensor(g, GGUF_TYPE_F32, 1, &ne), 1.0f);
    CHECK(graph_expand(g, y) == SV_OK);
    /* buffer 1 does not exist in a one-buffer planner */
    CHECK(planner_plan(p, g->nodes, g->n_nodes, g->leafs, g->n_leafs, buf_by_parity, NULL) == SV_ERR_INVALID_ARG);
    planner_free(p);
    planner_free(NULL);
    sv_arena_free(&a);
}

int main(void) {
    RUN_TEST(test_chain_reuses);
    RUN_TEST(test_random_no_overlap);
    RUN_TEST(test_bad_args);
    return test_main_end();
}
