/* CPU backend: host buffers, the device/registry entry and the node loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/ops.h"
#include "base/threadpool.h"

enum { CPU_ALIGN = 64 };

/* ---- host buffers ---- */

typedef struct {
    void *mem;
    bool owned;
} host_buf;

static void host_free(backend_buffer *b) {
    host_buf *h = b->ctx;
    if (h->owned) free(h->mem);
    free(h);
    free(b);
}

static void *host_base(backend_buffer *b) {
    return ((host_buf *)b->ctx)->mem;
}

static sv_status host_set(backend_buffer *b, tensor *t, const void *src, size_t offset, size_t size) {
    (void)b;
    memcpy((char *)t->data + offset, src, size);
    return SV_OK;
}

static sv_status host_get(backend_buffer *b, const tensor *t, void *dst, size_t offset, size_t size) {
    (void)b;
    memcpy(dst, (const char *)t->data + offset, size);
    return SV_OK;
}

static sv_status host_clear(backend_buffer *b, uint8_t value) {
    memset(host_base(b), value, b->size);
    return SV_OK;
}

static const backend_buffer_i host_buffer_i = {
    .free = host_free, .base = host_base, .set = host_set, .get = host_get, .clear = host_clear};

static sv_status wrap(backend_buffer_type *bt, void *mem, size_t size, bool owned, backend_buffer **out) {
    backend_buffer *b = calloc(1, sizeof *b);
    host_buf *h = calloc(1, sizeof *h);
    if (!b || !h) {
        free(b);
        free(h);
        return sv_error(SV_ERR_NOMEM, "out of memory");
    }
    h->mem = mem;
    h->owned = owned;
    *b = (backend_buffer){.i = host_buffer_i, .type = bt, .ctx = h, .size = size};
    *out = b;
    return SV_OK;
}

static sv_status host_alloc(backend_buffer_type *bt, size_t size, backend_buffer **out) {
    size_t rounded = (size + CPU_ALIGN - 1) & ~(size_t)(CPU_ALIGN - 1);
    if (rounded < size) return sv_error(SV_ERR_NOMEM, "buffer of %zu bytes is too large", size);
    void *mem = aligned_alloc(CPU_ALIGN, rounded ? rounded : CPU_ALIGN);
    if (!mem) return sv_error(SV_ERR_NOMEM, "out of memory allocating %zu bytes", size);
    sv_status st = wrap(bt, mem, size, true, out);
    if (st != SV_OK) free(mem);
    return st;
}

static const char *host_name(backend_buffer_type *bt) {
    return bt->ctx ? (const char *)bt->ctx : "CPU_Host";
}

static size_t host_alignment(backend_buffer_type *bt) {
    (void)bt;
    return CPU_ALIGN;
}

static bool host_is_host(backend_buffer_type *bt) {
    (void)bt;
    return true;
}

static backend_buffer_type host_buft = {
    .i = {.name = host_name, .alloc = host_alloc, .alignment = host_alignment, .is_host = host_is_host}};

backend_buffer_type *backend_cpu_host_buffer_type(void) {
    return &host_buft;
}

sv_status backend_cpu_buffer_from_ptr(void *ptr, size_t size, backend_buffer **out) {
    *out = NULL;
    return wrap(&host_buft, ptr, size, false, out);
}

/* ---- backend instances ---- */

typedef struct {
    sv_pool *pool;
    backend_buffer_type buft; /* instance-private compute memory */
    char name[32];
    void *work;
    size_t work_size;
    int64_t inline_limit; /* see backend_cpu_set_inline_limit */
    bool ggml_order;      /* see backend_cpu_set_ggml_order */
} cpu_ctx;

static const char *cpu_name(backend *b) {
    return ((cpu_ctx *)b->ctx)->name;
}

static void cpu_free(backend *b) {
    cpu_ctx *c = b->ctx;
    sv_pool_free(c->pool);
    free(c->work);
    free(c);
    free(b);
}

static backend_buffer_type *cpu_buffer_type(backend *b) {
    return &((cpu_ctx *)b->ctx)->buft;
}

static bool cpu_supports_op(backend *b, const tensor *node) {
    (void)b;
    return cpu_op_supported(node);
}

static bool cpu_supports_buft(backend *b, backend_buffer_type *bt) {
    return bt == &host_buft || bt == cpu_buffer_type(b);
}

typedef struct {
    tensor *node;
    cpu_params p;
    cpu_matmul_args mm;
} job;

static void run_node(void *ctx, int ith, int nth) {
    job *j = ctx;
    cpu_params p = j->p;
    p.ith = ith;
    p.nth = nth;
    cpu_op_run(&p, j->node);
}

static void run_mm_prepare(void *ctx, int ith, int nth) {
    cpu_matmul_prepare(&((job *)ctx)->mm, ith, nth);
}

static void run_mm_compute(void *ctx, int ith, int nth) {
    cpu_matmul_compute(&((job *)ctx)->mm, ith, nth);
}

/* Output rows of a matmul split into a few tasks per thread (of at least 64
 * rows): on a busy machine a thread the OS has not scheduled yet loses its
 * tasks to the others instead of holding up the node. */
static int mm_tasks(int64_t n_out, int nth) {
    int64_t t = n_out / 64;
    if (t > 4 * (int64_t)nth) t = 4 * (int64_t)nth;
    return t > nth ? (int)t : nth;
}

static size_t node_work(const tensor *n, int nth) {
    if (n->op == TENSOR_OP_MUL_MAT)
        return cpu_matmul_scratch_size(n->src[0]->type, n->src[1]->ne[0], n->src[0]->ne[1], n->src[1]->ne[1],
                                       mm_tasks(n->src[0]->ne[1], nth));
    return cpu_op_work_size(n, nth);
}

/* One 2-D slice at a time: w's slice is shared by the x slices it broadcasts
 * to. Activations small enough to convert in a few microseconds are prepared
 * by the calling thread, which saves a round trip through the pool. */
static void mul_mat(cpu_ctx *c, job *j) {
    tensor *d = j->node, *w = d->src[0], *x = d->src[1];
    for (int64_t i3 = 0; i3 < x->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < x->ne[2]; i2++) {
            int64_t w2 = i2 / (x->ne[2] / w->ne[2]), w3 = i3 / (x->ne[3] / w->ne[3]);
            j->mm = (cpu_matmul_args){
                .wtype = w->type,
                .w = (const char *)w->data + w2 * w->nb[2] + w3 * w->nb[3],
                .w_row_bytes = w->nb[1],
                .n_in = w->ne[0],
                .n_out = w->ne[1],
                .n_tokens = x->ne[1],
                .x = (const float *)((const char *)x->data + i2 * x->nb[2] + i3 * x->nb[3]),
                .x_row_stride = x->nb[1] / sizeof(float),
                .y = (float *)((char *)d->data + i2 * d->nb[2] + i3 * d->nb[3]),
                .y_row_stride = d->nb[1] / sizeof(float),
                .scratch = c->work,
                .ggml_order = c->ggml_order,
            };
            if (x->ne[0] * x->ne[1] <= c->inline_limit) run_mm_prepare(j, 0, 1);
            else sv_pool_run_tasks(c->pool, run_mm_prepare, j, sv_pool_size(c->pool));
            sv_pool_run_tasks(c->pool, run_mm_compute, j, mm_tasks(w->ne[1], sv_pool_size(c->pool)));
        }
}

/* Below these sizes waking the pool costs more than the work (decode-sized
 * rows of a few thousand values): the calling thread runs the node alone. */
static bool run_inline(const tensor *n, int64_t limit) {
    int64_t ne = tensor_nelements(n);
    switch (n->op) {
    case TENSOR_OP_ADD:
    case TENSOR_OP_MUL:
    case TENSOR_OP_SCALE:
    case TENSOR_OP_RMS_NORM:
    case TENSOR_OP_NORM:
    case TENSOR_OP_CPY:
    case TENSOR_OP_CONT:
    case TENSOR_OP_GET_ROWS:
    case TENSOR_OP_CONCAT:
    case TENSOR_OP_ARGMAX:
        return ne <= limit;
    case TENSOR_OP_UNARY:
    case TENSOR_OP_GLU:
    case TENSOR_OP_SOFT_MAX:
    case TENSOR_OP_ROPE:
        return ne <= limit / 16; /* transcendental per element */
    default:
        return false;
    }
}

sv_status backend_cpu_reserve(backend *b, tensor *const *nodes, int n_nodes) {
    cpu_ctx *c = b->ctx;
    int nth = sv_pool_size(c->pool);
    size_t need = 0;
    for (int i = 0; i < n_nodes; i++) {
        size_t w = node_work(nodes[i], nth);
        if (w > need) need = w;
    }
    /* Grows to the largest graph seen, so steady-state decode allocates nothing. */
    if (need > c->work_size) {
        size_t sz = (need + CPU_ALIGN - 1) & ~(size_t)(CPU_ALIGN - 1);
        void *w = aligned_alloc(CPU_ALIGN, sz);
        if (!w) return sv_error(SV_ERR_NOMEM, "out of memory for %zu bytes of CPU scratch", sz);
        free(c->work);
        c->work = w;
        c->work_size = sz;
    }
    return SV_OK;
}

size_t backend_cpu_work_size(const backend *b) { return ((const cpu_ctx *)b->ctx)->work_size; }

static sv_status cpu_compute(backend *b, tensor *const *nodes, int n_nodes) {
    cpu_ctx *c = b->ctx;
    int nth = sv_pool_size(c->pool);
    sv_status st = backend_cpu_reserve(b, nodes, n_nodes);
    if (st != SV_OK) return st;
    job j = {.p = {.work = c->work, .work_size = c->work_size}};
    for (int i = 0; i < n_nodes; i++) {
        tensor *n = nodes[i];
        if (n->op == TENSOR_OP_NONE || (tensor_op_is_view(n->op) && n->op != TENSOR_OP_CPY)) continue;
        if (tensor_nelements(n) == 0) continue;
        j.node = n;
        if (n->op == TENSOR_OP_MUL_MAT) mul_mat(c, &j);
        else if (nth > 1 && run_inline(n, c->inline_limit)) run_node(&j, 0, 1);
        else sv_pool_run_tasks(c->pool, run_node, &j, nth);
    }
    return SV_OK;
}

static const backend_i cpu_backend_i = {
    .version = BACKEND_API_VERSION,
    .name = cpu_name,
    .free = cpu_free,
    .buffer_type = cpu_buffer_type,
    .supports_op = cpu_supports_op,
    .supports_buffer_type = cpu_supports_buft,
    .compute = cpu_compute,
};

/* ---- device and registry ---- */

static void dev_props(backend_device *d, backend_dev_props *out) {
    (void)d;
    out->name = "CPU";
    out->description = "host CPU";
    out->kind = BACKEND_DEV_CPU;
}

static backend_buffer_type *dev_buffer_type(backend_device *d) {
    (void)d;
    return &host_buft;
}

static sv_status dev_init(backend_device *d, const char *params, backend **out);

static backend_device cpu_device = {
    .i = {.version = BACKEND_API_VERSION, .props = dev_props, .init = dev_init, .buffer_type = dev_buffer_type},
};

static int reg_device_count(backend_reg *r) {
    (void)r;
    return 1;
}

static backend_device *reg_device(backend_reg *r, int i) {
    (void)r;
    return i == 0 ? &cpu_device : NULL;
}

static backend_reg cpu_reg = {
    .version = BACKEND_API_VERSION, .name = "CPU", .device_count = reg_device_count, .device = reg_device};

backend_reg *backend_cpu_reg(void) {
    cpu_device.reg = &cpu_reg;
    return &cpu_reg;
}

sv_status backend_cpu_new(int n_threads, backend **out) {
    *out = NULL;
    backend *b = calloc(1, sizeof *b);
    cpu_ctx *c = calloc(1, sizeof *c);
    if (!b || !c) {
        free(b);
        free(c);
        return sv_error(SV_ERR_NOMEM, "out of memory");
    }
    sv_status st = sv_pool_new(n_threads, &c->pool);
    if (st != SV_OK) {
        free(b);
        free(c);
        return st;
    }
    static int instances;
    snprintf(c->name, sizeof c->name, "CPU#%d", __atomic_fetch_add(&instances, 1, __ATOMIC_RELAXED));
    c->inline_limit = 16384;
    c->buft = (backend_buffer_type){.i = host_buft.i, .dev = &cpu_device, .ctx = c->name};
    *b = (backend){.i = cpu_backend_i, .dev = &cpu_device, .ctx = c};
    *out = b;
    return SV_OK;
}

static sv_status dev_init(backend_device *d, const char *params, backend **out) {
    (void)d;
    int threads = 0;
    if (params && *params) {
        char *end;
        if (strncmp(params, "threads=", 8) != 0) return sv_error(SV_ERR_INVALID_ARG, "CPU backend: unknown parameter '%s'", params);
        long v = strtol(params + 8, &end, 10);
        if (*end || v < 0 || v > 1024) return sv_error(SV_ERR_INVALID_ARG, "CPU backend: bad thread count '%s'", params + 8);
        threads = (int)v;
    }
    return backend_cpu_new(threads, out);
}

bool backend_is_cpu(const backend *b) {
    return b->i.compute == cpu_compute;
}

void backend_cpu_set_inline_limit(backend *b, int64_t n_elements) {
    ((cpu_ctx *)b->ctx)->inline_limit = n_elements;
}

void backend_cpu_set_ggml_order(backend *b, bool on) { ((cpu_ctx *)b->ctx)->ggml_order = on; }

int backend_cpu_n_threads(const backend *b) {
    return sv_pool_size(((const cpu_ctx *)b->ctx)->pool);
}
