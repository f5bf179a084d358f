/* Graph memory planner: gives every intermediate tensor an offset in one of
 * several buffers (one per backend) so that tensors whose lifetimes do not
 * overlap share memory. Lifetimes follow the node order: a tensor is born at
 * the node that produces it and dies after its last user (views keep their
 * root alive). Inputs live from the start, outputs to the end.
 *
 * The planner only computes offsets and peak sizes; the backend layer owns the
 * buffers (backend_alloc in src/backend/). Its scratch grows to the largest
 * graph seen and is then reused, so planning a decode step mallocs nothing. */
#ifndef TENSOR_PLANNER_H
#define TENSOR_PLANNER_H

#include "tensor/tensor.h"

#define PLANNER_MAX_BUFS 16

/* Buffer index (0 .. n_bufs-1) for a tensor the planner must place. */
typedef int (*planner_buf_fn)(void *ctx, const tensor *t);

typedef struct {
    tensor *t;
    int buf;
    size_t offset;
    size_t size; /* aligned bytes */
} planner_slot;

typedef struct planner planner;

/* align[i] (a power of two) for each of n_bufs buffers. OUT: *out. */
sv_status planner_new(int n_bufs, const size_t *align, planner **out);
void planner_free(planner *p);

/* True for a tensor the planner places: no memory yet (or memory from an
 * earlier plan, TENSOR_FLAG_PLANNED) and not a view. */
bool planner_needs_memory(const tensor *t);

/* Plans nodes (in execution order) and leafs. Placed tensors are those for
 * which planner_needs_memory holds; buf_of (NULL: buffer 0) picks their
 * buffer. Replaces the previous plan. Does not touch the tensors. */
sv_status planner_plan(planner *p, tensor *const *nodes, int n_nodes, tensor *const *leafs, int n_leafs,
                       planner_buf_fn buf_of, void *ctx);

size_t planner_peak(const planner *p, int buf); /* bytes buffer `buf` needs for the last plan */
int planner_n_slots(const planner *p);
const planner_slot *planner_slots(const planner *p); /* valid until the next plan */

/* Points every slot's tensor at base[slot.buf] + offset with `buffers[buf]`
 * (flags it TENSOR_FLAG_PLANNED), then resolves views among nodes. */
void planner_apply(const planner *p, void *const *base, struct backend_buffer *const *buffers,
                   tensor *const *nodes, int n_nodes);

#endif
