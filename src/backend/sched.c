#include "backend/sched.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "tensor/planner.h"

typedef struct {
    int backend;
    int exec_start, exec_end; /* copies then nodes, in exec[] */
    int node_start, node_end; /* nodes only, in exec[] (after the copies) */
} split;

typedef struct {
    tensor *orig;
    int backend;
    tensor *copy;
} copy_entry;

struct backend_sched {
    int n;
    backend *b[BACKEND_SCHED_MAX];
    backend_buffer *buf[BACKEND_SCHED_MAX];
    planner *pl;
    sv_arena arena; /* copy tensors of the last graph */
    tensor **exec;  /* [n_exec] copies and nodes in run order */
    int n_exec, cap_exec;
    split *splits;
    int n_splits, cap_splits;
    copy_entry *copies;
    int n_copies, cap_copies;
    uint64_t last_id; /* graph_id of the graph last allocated, 0 none */
    int n_last_nodes;
    int n_grows;
};

sv_status backend_sched_new(backend *const *backends, int n, backend_sched **out) {
    *out = NULL;
    if (n < 1 || n > BACKEND_SCHED_MAX)
        return sv_error(SV_ERR_INVALID_ARG, "scheduler over %d backends (1..%d)", n, BACKEND_SCHED_MAX);
    backend_sched *s = calloc(1, sizeof *s);
    if (!s) return sv_error(SV_ERR_NOMEM, "out of memory");
    size_t align[BACKEND_SCHED_MAX];
    s->n = n;
    for (int i = 0; i < n; i++) {
        s->b[i] = backends[i];
        align[i] = backend_buft_alignment(backend_get_buffer_type(backends[i]));
    }
    sv_status st = planner_new(n, align, &s->pl);
    if (st != SV_OK) {
        free(s);
        return st;
    }
    sv_arena_init(&s->arena, 64 * 1024);
    *out = s;
    return SV_OK;
}

void backend_sched_free(backend_sched *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) backend_buffer_free(s->buf[i]);
    planner_free(s->pl);
    sv_arena_free(&s->arena);
    free(s->exec);
    free(s->splits);
    free(s->copies);
    free(s);
}

void backend_sched_set_backend(backend_sched *s, tensor *t, int i) {
    if (i < 0 || i >= s->n) return;
    t->place = i;
    t->flags |= TENSOR_FLAG_PINNED;
}

int backend_sched_backend_of(const backend_sched *s, const tensor *t) {
    return t->place >= 0 && t->place < s->n ? t->place : -1;
}

int backend_sched_n_splits(const backend_sched *s) {
    return s->n_splits;
}

int backend_sched_n_copies(const backend_sched *s) {
    return s->n_copies;
}

int backend_sched_n_grows(const backend_sched *s) {
    return s->n_grows;
}

size_t backend_sched_buffer_size(const backend_sched *s, int i) {
    return i >= 0 && i < s->n && s->buf[i] ? backend_buffer_size(s->buf[i]) : 0;
}

static bool is_persistent(const tensor *r) {
    return r->buffer && !(r->flags & TENSOR_FLAG_PLANNED);
}

/* Backend whose memory holds root r: persistent memory by buffer type
 * (exact type first), planned memory by placement; -1 when not known yet. */
static int mem_backend(const backend_sched *s, const tensor *r) {
    if (!is_persistent(r)) return r->place;
    for (int i = 0; i < s->n; i++)
        if (backend_get_buffer_type(s->b[i]) == r->buffer->type) return i;
    for (int i = 0; i < s->n; i++)
        if (backend_supports_buffer_type(s->b[i], r->buffer->type)) return i;
    return -1;
}

static bool is_compute(const tensor *n) {
    return n->op != TENSOR_OP_NONE && (!tensor_op_is_view(n->op) || n->op == TENSOR_OP_CPY);
}

/* Array of *cap elements grown to hold `need`; NULL (with the error set) when
 * out of memory, the old array then still owned by the caller. */
static void *grow(void *p, int *cap, int need, size_t elem) {
    if (need <= *cap) return p;
    int c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(p, (size_t)c * elem);
    if (!q) {
        sv_error(SV_ERR_NOMEM, "out of memory in the scheduler");
        return NULL;
    }
    *cap = c;
    return q;
}

static sv_status place_node(backend_sched *s, tensor *n) {
    if ((n->flags & TENSOR_FLAG_PINNED) && n->place >= 0 && n->place < s->n) return SV_OK;
    n->place = -1;
    if (n->view_src) {
        int m = mem_backend(s, tensor_view_root(n));
        if (m >= 0) {
            n->place = m;
            return SV_OK;
        }
    }
    for (int j = 0; j < TENSOR_MAX_SRC && n->place < 0; j++) {
        if (!n->src[j]) continue;
        tensor *r = tensor_view_root(n->src[j]);
        int m = is_persistent(r) ? mem_backend(s, r) : -1;
        if (m >= 0 && backend_supports_op(s->b[m], n)) n->place = m;
    }
    for (int j = 0; j < TENSOR_MAX_SRC && n->place < 0; j++) {
        if (!n->src[j]) continue;
        int m = mem_backend(s, tensor_view_root(n->src[j]));
        if (m >= 0 && backend_supports_op(s->b[m], n)) n->place = m;
    }
    for (int i = 0; i < s->n && n->place < 0; i++)
        if (backend_supports_op(s->b[i], n)) n->place = i;
    if (n->place < 0)
        return sv_error(SV_ERR_UNSUPPORTED, "no backend runs %s node '%s'", tensor_op_name(n->op), n->name);
    /* Inputs not placed yet live where their first reader runs. */
    for (int j = 0; j < TENSOR_MAX_SRC; j++) {
        if (!n->src[j]) continue;
        tensor *r = tensor_view_root(n->src[j]);
        if (!is_persistent(r) && r->place < 0) r->place = n->place;
    }
    if (n->view_src) {
        tensor *r = tensor_view_root(n);
        if (!is_persistent(r) && r->place < 0) r->place = n->place;
    }
    return SV_OK;
}

/* The copy of src on backend bi, made once per graph. */
static sv_status copy_of(backend_sched *s, tensor *src, int bi, tensor **out) {
    for (int i = 0; i < s->n_copies; i++)
        if (s->copies[i].orig == src && s->copies[i].backend == bi) {
            *out = s->copies[i].copy;
            return SV_OK;
        }
    copy_entry *ce = grow(s->copies, &s->cap_copies, s->n_copies + 1, sizeof *s->copies);
    if (!ce) return SV_ERR_NOMEM;
    s->copies = ce;
    tensor *c = sv_arena_alloc(&s->arena, sizeof *c);
    if (!c) return sv_error(SV_ERR_NOMEM, "out of memory in the scheduler");
    c->type = src->type;
    memcpy(c->ne, src->ne, sizeof c->ne);
    memcpy(c->nb, src->nb, sizeof c->nb);
    c->src[0] = src;
    c->place = bi;
    c->flags = TENSOR_FLAG_COPY;
    tensor_set_name(c, "%.30s#to%d", src->name, bi);
    s->copies[s->n_copies++] = (copy_entry){src, bi, c};
    *out = c;
    return SV_OK;
}

static int buf_of(void *ctx, const tensor *t) {
    (void)ctx;
    return t->place >= 0 ? t->place : 0;
}

static sv_status alloc_graph(backend_sched *s, graph *g, bool reserve) {
    s->last_id = 0;
    if (g->status != SV_OK) return sv_error_prefix(g->status, "graph was not built: ");
    sv_arena_reset(&s->arena);
    s->n_copies = 0;
    s->n_splits = 0;
    s->n_exec = 0;

    /* Undo the rewiring of an earlier alloc of this graph, then forget placements. */
    for (int i = 0; i < g->n_nodes; i++) {
        tensor *n = g->nodes[i];
        for (int j = 0; j < TENSOR_MAX_SRC; j++)
            if (n->src[j] && (n->src[j]->flags & TENSOR_FLAG_COPY)) n->src[j] = n->src[j]->src[0];
        if (!(n->flags & TENSOR_FLAG_PINNED)) n->place = -1;
    }
    for (int i = 0; i < g->n_leafs; i++) {
        tensor *l = g->leafs[i];
        /* Memory must belong to a buffer, or no backend knows where it is. */
        if (l->data && !l->buffer)
            return sv_error(SV_ERR_INVALID_ARG, "tensor '%s' has memory outside any backend buffer", l->name);
        if (!is_persistent(l)) l->place = -1;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        sv_status st = place_node(s, g->nodes[i]);
        if (st != SV_OK) return st;
    }

    tensor **ex = grow(s->exec, &s->cap_exec, g->n_nodes * (2 + TENSOR_MAX_SRC), sizeof *s->exec);
    if (!ex) return SV_ERR_NOMEM;
    s->exec = ex;
    split *sps = grow(s->splits, &s->cap_splits, g->n_nodes + 1, sizeof *s->splits);
    if (!sps) return SV_ERR_NOMEM;
    s->splits = sps;
    sv_status st;

    /* Splits: a new one whenever a computing node runs elsewhere. Each split's
     * copies go first, so nodes are contiguous for backend_compute; views
     * ride along in whatever split is open. */
    tensor **pending = s->exec + g->n_nodes * (1 + TENSOR_MAX_SRC); /* nodes of the open split */
    int n_pending = 0;
    int cur = -1;
    for (int i = 0; i <= g->n_nodes; i++) {
        tensor *n = i < g->n_nodes ? g->nodes[i] : NULL;
        bool flush = !n || (is_compute(n) && cur >= 0 && n->place != cur);
        if (flush && n_pending > 0) {
            split *sp = &s->splits[s->n_splits - 1];
            sp->node_start = s->n_exec;
            memmove(s->exec + s->n_exec, pending, (size_t)n_pending * sizeof *pending);
            s->n_exec += n_pending;
            sp->node_end = sp->exec_end = s->n_exec;
            n_pending = 0;
        }
        if (!n) break;
        if (cur < 0 || flush) {
            cur = n->place;
            s->splits[s->n_splits++] = (split){.backend = cur, .exec_start = s->n_exec};
        }
        if (is_compute(n)) {
            for (int j = 0; j < TENSOR_MAX_SRC; j++) {
                tensor *src = n->src[j];
                if (!src) continue;
                tensor *r = tensor_view_root(src);
                bool ok = is_persistent(r) ? backend_supports_buffer_type(s->b[cur], r->buffer->type)
                                           : r->place == cur;
                if (ok) continue;
                int before = s->n_copies;
                tensor *c = NULL;
                st = copy_of(s, src, cur, &c);
                if (st != SV_OK) return st;
                if (s->n_copies > before) s->exec[s->n_exec++] = c;
                n->src[j] = c;
            }
        }
        pending[n_pending++] = n;
    }

    st = planner_plan(s->pl, s->exec, s->n_exec, g->leafs, g->n_leafs, buf_of, NULL);
    if (st != SV_OK) return st;
    void *base[BACKEND_SCHED_MAX];
    for (int i = 0; i < s->n; i++) {
        size_t need = planner_peak(s->pl, i);
        if (need > 0 && (!s->buf[i] || backend_buffer_size(s->buf[i]) < need)) {
            if (s->buf[i] && !reserve) {
                s->n_grows++;
                SV_LOGI("scheduler: %s compute buffer grows to %zu bytes", backend_name(s->b[i]), need);
            }
            backend_buffer_free(s->buf[i]);
            s->buf[i] = NULL;
            st = backend_buffer_alloc(backend_get_buffer_type(s->b[i]), need, &s->buf[i]);
            if (st != SV_OK) return st;
        }
        base[i] = s->buf[i] ? backend_buffer_base(s->buf[i]) : NULL;
    }
    planner_apply(s->pl, base, s->buf, s->exec, s->n_exec);
    s->last_id = g->id;
    s->n_last_nodes = g->n_nodes;
    return SV_OK;
}

sv_status backend_sched_reserve(backend_sched *s, graph *g) {
    return alloc_graph(s, g, true);
}

sv_status backend_sched_alloc(backend_sched *s, graph *g) {
    return alloc_graph(s, g, false);
}

sv_status backend_sched_compute(backend_sched *s, graph *g) {
    if (s->last_id != g->id || s->n_last_nodes != g->n_nodes) {
        sv_status st = alloc_graph(s, g, false);
        if (st != SV_OK) return st;
    }
    for (int k = 0; k < s->n_splits; k++) {
        split *sp = &s->splits[k];
        backend *to = s->b[sp->backend];
        for (int e = sp->exec_start; e < sp->node_start; e++) {
            tensor *c = s->exec[e];
            tensor *src = c->src[0];
            int from = mem_backend(s, tensor_view_root(src));
            sv_status st = backend_tensor_copy_async(s->b[from >= 0 ? from : sp->backend], to, src, c);
            if (st != SV_OK) return sv_error_prefix(st, "copy of '%s' to %s: ", src->name, backend_name(to));
        }
        sv_status st = backend_compute(to, s->exec + sp->node_start, sp->node_end - sp->node_start);
        if (st != SV_OK) return sv_error_prefix(st, "%s: ", backend_name(to));
    }
    for (int i = 0; i < s->n; i++) {
        sv_status st = backend_synchronize(s->b[i]);
        if (st != SV_OK) return st;
    }
    return SV_OK;
}
