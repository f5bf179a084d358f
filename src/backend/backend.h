/* Backends: devices that hold tensor memory (buffers) and run graph nodes.
 *
 * Three levels, each a versioned vtable with optional slots (NULL = the
 * generic fallback in backend.c), so CPU, CUDA and RPC implement the same
 * interface:
 *  - a buffer type says where memory lives (host RAM, one GPU, one remote
 *    server) and allocates buffers there; a buffer sets/gets tensor bytes;
 *  - a backend is a compute stream on a device: it runs a list of nodes,
 *    optionally asynchronously (then async copies, events and synchronize
 *    order the work);
 *  - a device belongs to a registry entry (one per backend kind) and creates
 *    backends.
 * Tensor data pointers are addresses in the buffer's address space (device
 * pointers for a GPU), so only the owning backend dereferences them unless
 * the buffer type is_host. */
#ifndef BACKEND_BACKEND_H
#define BACKEND_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "tensor/tensor.h"

/* Bumped when a vtable changes; implementations store the version they were
 * written against and the registry refuses others. */
#define BACKEND_API_VERSION 1

typedef struct backend backend;
typedef struct backend_buffer backend_buffer;
typedef struct backend_buffer_type backend_buffer_type;
typedef struct backend_event backend_event;
typedef struct backend_device backend_device;
typedef struct backend_reg backend_reg;

/* ---- buffer types and buffers ---- */

typedef struct {
    const char *(*name)(backend_buffer_type *bt);
    /* OUT: *out, a buffer of at least `size` bytes (size 0 allowed). */
    sv_status (*alloc)(backend_buffer_type *bt, size_t size, backend_buffer **out);
    size_t (*alignment)(backend_buffer_type *bt);
    size_t (*max_size)(backend_buffer_type *bt); /* optional: SIZE_MAX */
    bool (*is_host)(backend_buffer_type *bt);    /* optional: false; true when the CPU can read data */
} backend_buffer_type_i;

struct backend_buffer_type {
    backend_buffer_type_i i;
    backend_device *dev; /* may be NULL for plain host memory */
    void *ctx;
};

typedef struct {
    void (*free)(backend_buffer *b); /* optional: nothing to release */
    void *(*base)(backend_buffer *b);
    /* Bytes [offset, offset+size) of t's memory (t->data + offset) in this buffer. */
    sv_status (*set)(backend_buffer *b, tensor *t, const void *src, size_t offset, size_t size);
    sv_status (*get)(backend_buffer *b, const tensor *t, void *dst, size_t offset, size_t size);
    /* optional: copies src (in any buffer) into dst (in this one) without the
     * host in between; returns false when it cannot, and the caller stages. */
    bool (*copy_in)(backend_buffer *b, const tensor *src, tensor *dst);
    sv_status (*clear)(backend_buffer *b, uint8_t value); /* optional: set through a staging copy */
} backend_buffer_i;

struct backend_buffer {
    backend_buffer_i i;
    backend_buffer_type *type;
    void *ctx;
    size_t size;
};

/* ---- backends (compute streams) ---- */

typedef struct {
    uint32_t version; /* BACKEND_API_VERSION */
    const char *(*name)(backend *b);
    void (*free)(backend *b);
    backend_buffer_type *(*buffer_type)(backend *b);
    /* Whether this backend runs the node (its op, types and layouts). */
    bool (*supports_op)(backend *b, const tensor *node);
    /* Whether this backend computes directly on memory of buffer type bt. */
    bool (*supports_buffer_type)(backend *b, backend_buffer_type *bt);
    /* Runs nodes in order (views and leaves among them are skipped). May return
     * before the work is done when the backend is asynchronous. */
    sv_status (*compute)(backend *b, tensor *const *nodes, int n_nodes);

    /* Optional asynchronous slots; NULL means "synchronous is fine". */
    sv_status (*set_async)(backend *b, tensor *t, const void *src, size_t offset, size_t size);
    sv_status (*get_async)(backend *b, const tensor *t, void *dst, size_t offset, size_t size);
    /* src lives where backend `from` computes, dst where b computes. Must be
     * ordered after the work already queued on `from` (e.g. an event recorded
     * there and waited for on b's stream) and before b's later work. */
    sv_status (*copy_async)(backend *from, backend *b, const tensor *src, tensor *dst);
    sv_status (*synchronize)(backend *b);
    sv_status (*event_new)(backend *b, backend_event **out);
    void (*event_free)(backend_event *e);
    sv_status (*event_record)(backend *b, backend_event *e);
    sv_status (*event_wait)(backend *b, backend_event *e); /* b's later work waits for e */
    sv_status (*event_sync)(backend_event *e);             /* the host waits for e */
} backend_i;

struct backend {
    backend_i i;
    backend_device *dev;
    void *ctx;
};

/* ---- devices and registry ---- */

typedef enum { BACKEND_DEV_CPU = 0, BACKEND_DEV_GPU, BACKEND_DEV_REMOTE } backend_dev_kind;

typedef struct {
    const char *name;        /* "CPU", "CUDA0", "RPC[host:port]" */
    const char *description; /* human readable */
    backend_dev_kind kind;
    size_t memory_total, memory_free; /* bytes; 0 when unknown */
} backend_dev_props;

typedef struct {
    uint32_t version; /* BACKEND_API_VERSION */
    void (*props)(backend_device *d, backend_dev_props *out);
    /* params: backend-specific text such as "threads=4", or NULL. OUT: *out. */
    sv_status (*init)(backend_device *d, const char *params, backend **out);
    backend_buffer_type *(*buffer_type)(backend_device *d);
    backend_buffer_type *(*host_buffer_type)(backend_device *d); /* optional: pinned staging memory */
} backend_device_i;

struct backend_device {
    backend_device_i i;
    backend_reg *reg;
    void *ctx;
};

struct backend_reg {
    uint32_t version; /* BACKEND_API_VERSION */
    const char *name; /* "CPU", "CUDA", "RPC" */
    int (*device_count)(backend_reg *r);
    backend_device *(*device)(backend_reg *r, int i);
    void *ctx;
};

/* Adds a registry entry (the CPU registers itself on first use). Thread-safe;
 * the entry must outlive the process. Refuses other API versions. */
sv_status backend_register(backend_reg *reg);
int backend_reg_count(void);
backend_reg *backend_reg_get(int i);
/* Devices of all registries, CPU first. */
int backend_dev_count(void);
backend_device *backend_dev_get(int i);
backend_device *backend_dev_by_name(const char *name); /* case-insensitive; NULL when absent */
void backend_dev_props_get(backend_device *d, backend_dev_props *out);
sv_status backend_dev_init(backend_device *d, const char *params, backend **out);

/* ---- calls through the vtables (with fallbacks for optional slots) ---- */

const char *backend_name(backend *b);
void backend_free(backend *b); /* NULL is a no-op */
backend_buffer_type *backend_get_buffer_type(backend *b);
bool backend_supports_op(backend *b, const tensor *node);
bool backend_supports_buffer_type(backend *b, backend_buffer_type *bt);
sv_status backend_compute(backend *b, tensor *const *nodes, int n_nodes);
sv_status backend_synchronize(backend *b);

sv_status backend_event_new(backend *b, backend_event **out); /* UNSUPPORTED when the slot is absent */
void backend_event_free(backend *b, backend_event *e);
sv_status backend_event_record(backend *b, backend_event *e);
sv_status backend_event_wait(backend *b, backend_event *e);
sv_status backend_event_sync(backend *b, backend_event *e);

const char *backend_buft_name(backend_buffer_type *bt);
size_t backend_buft_alignment(backend_buffer_type *bt);
size_t backend_buft_max_size(backend_buffer_type *bt);
bool backend_buft_is_host(backend_buffer_type *bt);
sv_status backend_buffer_alloc(backend_buffer_type *bt, size_t size, backend_buffer **out);
void backend_buffer_free(backend_buffer *b); /* NULL is a no-op */
void *backend_buffer_base(backend_buffer *b);
size_t backend_buffer_size(const backend_buffer *b);
sv_status backend_buffer_clear(backend_buffer *b, uint8_t value);

/* Gives t memory at base + offset of buf (for weights, KV cache and other
 * persistent tensors the caller lays out itself); checks that it fits. */
sv_status backend_tensor_place(tensor *t, backend_buffer *buf, size_t offset);
/* One buffer of bt for all n tensors (each aligned), placed in order. OUT: *out. */
sv_status backend_alloc_tensors(backend_buffer_type *bt, tensor *const *ts, int n, backend_buffer **out);

/* Bytes [offset, offset+size) of t's memory; t must have a buffer. */
sv_status backend_tensor_set(tensor *t, const void *src, size_t offset, size_t size);
sv_status backend_tensor_get(const tensor *t, void *dst, size_t offset, size_t size);
/* Copies src's extent into dst (same type and strides, any two buffers). */
sv_status backend_tensor_copy(const tensor *src, tensor *dst);
/* The same, ordered on the streams: src is computed by `from`, dst is used
 * by `to`. Falls back to synchronising `from` and copying. */
sv_status backend_tensor_copy_async(backend *from, backend *to, const tensor *src, tensor *dst);

#endif
