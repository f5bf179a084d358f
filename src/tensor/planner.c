#include "tensor/planner.h"

#include <stdlib.h>
#include <string.h>

#include "base/checked.h"

typedef struct {
    const tensor *key;
    int last_use;  /* index of the last node reading it; -1 none */
    int slot;      /* index in slots, -1 while not placed */
    bool keep;     /* output (or viewed by one): never freed */
    bool released; /* its memory went back to the free list */
} entry;

typedef struct {
    size_t off, size;
} block;

typedef struct {
    size_t align;
    size_t top, peak; /* end of the used region / its maximum */
    block *free;      /* [n_free] sorted by offset, disjoint, none touching top */
    int n_free;
} arena_state;

struct planner {
    int n_bufs;
    arena_state bufs[PLANNER_MAX_BUFS];
    entry *map;
    size_t map_cap;
    planner_slot *slots;
    int n_slots, cap_slots;
    block *blocks; /* backing store of every buffer's free list */
    int cap_blocks;
};

sv_status planner_new(int n_bufs, const size_t *align, planner **out) {
    *out = NULL;
    if (n_bufs < 1 || n_bufs > PLANNER_MAX_BUFS)
        return sv_error(SV_ERR_INVALID_ARG, "planner with %d buffers (1..%d)", n_bufs, PLANNER_MAX_BUFS);
    for (int i = 0; i < n_bufs; i++)
        if (align[i] == 0 || (align[i] & (align[i] - 1)) != 0)
            return sv_error(SV_ERR_INVALID_ARG, "buffer alignment %zu is not a power of two", align[i]);
    planner *p = calloc(1, sizeof *p);
    if (!p) return sv_error(SV_ERR_NOMEM, "out of memory");
    p->n_bufs = n_bufs;
    for (int i = 0; i < n_bufs; i++) p->bufs[i].align = align[i];
    *out = p;
    return SV_OK;
}

void planner_free(planner *p) {
    if (!p) return;
    free(p->map);
    free(p->slots);
    free(p->blocks);
    free(p);
}

bool planner_needs_memory(const tensor *t) {
    if (t->view_src || (t->flags & TENSOR_FLAG_WEIGHT)) return false;
    return !t->data || (t->flags & TENSOR_FLAG_PLANNED);
}

static entry *map_get(planner *p, const tensor *t, bool insert) {
    size_t mask = p->map_cap - 1;
    size_t h = ((uintptr_t)t >> 4) * 0x9E3779B97F4A7C15ull;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (p->map[i].key == t) return &p->map[i];
        if (!p->map[i].key) {
            if (!insert) return NULL;
            p->map[i] = (entry){.key = t, .last_use = -1, .slot = -1};
            return &p->map[i];
        }
    }
}

/* Grows scratch to hold a graph of n tensors (nodes + leafs); keys are at
 * most n_keys (every node, every source of one, every leaf). */
static sv_status reserve(planner *p, size_t n, size_t n_keys) {
    size_t cap = 64;
    while (cap < 2 * n_keys) cap *= 2;
    if (cap > p->map_cap) {
        entry *m = realloc(p->map, cap * sizeof *m);
        if (!m) return sv_error(SV_ERR_NOMEM, "out of memory for the graph planner");
        p->map = m;
        p->map_cap = cap;
    }
    memset(p->map, 0, p->map_cap * sizeof *p->map);
    if ((int)n > p->cap_slots) {
        planner_slot *s = realloc(p->slots, n * sizeof *s);
        if (!s) return sv_error(SV_ERR_NOMEM, "out of memory for the graph planner");
        p->slots = s;
        p->cap_slots = (int)n;
    }
    size_t nb = (n + 1) * (size_t)p->n_bufs;
    if ((int)nb > p->cap_blocks) {
        block *b = realloc(p->blocks, nb * sizeof *b);
        if (!b) return sv_error(SV_ERR_NOMEM, "out of memory for the graph planner");
        p->blocks = b;
        p->cap_blocks = (int)nb;
    }
    for (int i = 0; i < p->n_bufs; i++) {
        arena_state *a = &p->bufs[i];
        a->top = a->peak = 0;
        a->n_free = 0;
        a->free = p->blocks + (size_t)i * (n + 1);
    }
    return SV_OK;
}

/* Best fit among free blocks, else the end of the used region. */
static size_t arena_alloc(arena_state *a, size_t size) {
    int best = -1;
    for (int i = 0; i < a->n_free; i++)
        if (a->free[i].size >= size && (best < 0 || a->free[i].size < a->free[best].size)) best = i;
    if (best >= 0) {
        size_t off = a->free[best].off;
        a->free[best].off += size;
        a->free[best].size -= size;
        if (a->free[best].size == 0) {
            memmove(&a->free[best], &a->free[best + 1], (size_t)(a->n_free - best - 1) * sizeof(block));
            a->n_free--;
        }
        return off;
    }
    size_t off = a->top;
    a->top += size;
    if (a->top > a->peak) a->peak = a->top;
    return off;
}

static void arena_release(arena_state *a, size_t off, size_t size) {
    int i = 0;
    while (i < a->n_free && a->free[i].off < off) i++;
    memmove(&a->free[i + 1], &a->free[i], (size_t)(a->n_free - i) * sizeof(block));
    a->free[i] = (block){off, size};
    a->n_free++;
    if (i + 1 < a->n_free && a->free[i].off + a->free[i].size == a->free[i + 1].off) {
        a->free[i].size += a->free[i + 1].size;
        memmove(&a->free[i + 1], &a->free[i + 2], (size_t)(a->n_free - i - 2) * sizeof(block));
        a->n_free--;
    }
    if (i > 0 && a->free[i - 1].off + a->free[i - 1].size == a->free[i].off) {
        a->free[i - 1].size += a->free[i].size;
        memmove(&a->free[i], &a->free[i + 1], (size_t)(a->n_free - i - 1) * sizeof(block));
        a->n_free--;
        i--;
    }
    /* A free block ending at the top gives its space back to the top. */
    if (a->free[i].off + a->free[i].size == a->top) {
        a->top = a->free[i].off;
        a->n_free--;
    }
}

static sv_status place(planner *p, tensor *t, planner_buf_fn buf_of, void *ctx) {
    entry *e = map_get(p, t, true);
    if (e->slot >= 0) return SV_OK;
    int buf = buf_of ? buf_of(ctx, t) : 0;
    if (buf < 0 || buf >= p->n_bufs)
        return sv_error(SV_ERR_INVALID_ARG, "planner: tensor '%s' assigned to buffer %d of %d", t->name, buf,
                        p->n_bufs);
    arena_state *a = &p->bufs[buf];
    uint64_t size;
    if (sv_align_up_u64(tensor_nbytes(t), a->align, &size) || size > SIZE_MAX / 2)
        return sv_error(SV_ERR_LIMIT, "planner: tensor '%s' is too large", t->name);
    if (size == 0) size = a->align;
    e->slot = p->n_slots;
    p->slots[p->n_slots++] = (planner_slot){.t = t, .buf = buf, .offset = arena_alloc(a, size), .size = size};
    return SV_OK;
}

static void release(planner *p, const tensor *root) {
    entry *e = map_get(p, root, false);
    if (!e || e->slot < 0 || e->keep || e->released) return;
    const planner_slot *s = &p->slots[e->slot];
    arena_release(&p->bufs[s->buf], s->offset, s->size);
    e->released = true;
}

sv_status planner_plan(planner *p, tensor *const *nodes, int n_nodes, tensor *const *leafs, int n_leafs,
                       planner_buf_fn buf_of, void *ctx) {
    p->n_slots = 0;
    if (n_nodes < 0 || n_leafs < 0) return sv_error(SV_ERR_INVALID_ARG, "planner: negative tensor count");
    sv_status st = reserve(p, (size_t)n_nodes + (size_t)n_leafs,
                           (size_t)n_nodes * (1 + TENSOR_MAX_SRC) + (size_t)n_leafs);
    if (st != SV_OK) return st;

    /* Lifetimes: the last node reading each placed root. */
    for (int i = 0; i < n_nodes; i++) {
        tensor *n = nodes[i];
        tensor *root = tensor_view_root(n);
        if (planner_needs_memory(root)) {
            entry *e = map_get(p, root, true);
            if (e->last_use < i) e->last_use = i;
            if (n->flags & TENSOR_FLAG_OUTPUT) e->keep = true;
        }
        for (int j = 0; j < TENSOR_MAX_SRC; j++) {
            if (!n->src[j]) continue;
            tensor *r = tensor_view_root(n->src[j]);
            if (!planner_needs_memory(r)) continue;
            entry *e = map_get(p, r, true);
            if (e->last_use < i) e->last_use = i;
        }
    }

    for (int i = 0; i < n_leafs; i++)
        if (planner_needs_memory(leafs[i])) {
            st = place(p, leafs[i], buf_of, ctx);
            if (st != SV_OK) return st;
            map_get(p, leafs[i], true)->keep |= (leafs[i]->flags & TENSOR_FLAG_OUTPUT) != 0;
        }
    for (int i = 0; i < n_nodes; i++) {
        tensor *n = nodes[i];
        if (planner_needs_memory(n)) {
            st = place(p, n, buf_of, ctx);
            if (st != SV_OK) return st;
        }
        /* Free the roots this node read for the last time (sources first, then
         * the node itself when nothing reads it). */
        for (int j = 0; j < TENSOR_MAX_SRC; j++) {
            if (!n->src[j]) continue;
            tensor *r = tensor_view_root(n->src[j]);
            entry *e = map_get(p, r, false);
            if (e && e->last_use == i) release(p, r);
        }
        tensor *root = tensor_view_root(n);
        entry *e = map_get(p, root, false);
        if (e && e->last_use == i) release(p, root);
    }
    return SV_OK;
}

size_t planner_peak(const planner *p, int buf) {
    return buf >= 0 && buf < p->n_bufs ? p->bufs[buf].peak : 0;
}

int planner_n_slots(const planner *p) {
    return p->n_slots;
}

const planner_slot *planner_slots(const planner *p) {
    return p->slots;
}

void planner_apply(const planner *p, void *const *base, struct backend_buffer *const *buffers,
                   tensor *const *nodes, int n_nodes) {
    for (int i = 0; i < p->n_slots; i++) {
        const planner_slot *s = &p->slots[i];
        s->t->data = (char *)base[s->buf] + s->offset;
        s->t->buffer = buffers ? buffers[s->buf] : NULL;
        s->t->flags |= TENSOR_FLAG_PLANNED;
    }
    for (int i = 0; i < n_nodes; i++)
        if (nodes[i]->view_src) tensor_resolve_view(nodes[i]);
}
