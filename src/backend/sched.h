/* Scheduler: runs a graph over several backends.
 *
 * Placement, per node in order: a node pinned by the caller (t->place) stays;
 * a view goes where its memory is; otherwise the backend holding one of its
 * weights (a source with persistent memory) if it supports the op, then the
 * backend of its first placed source, then the first backend (in the order
 * given: preferred first, CPU last) that supports it. Consecutive nodes on one
 * backend form a split. A source living in memory its backend cannot compute
 * on gets a copy in that backend's memory, made at the start of the split
 * (and reused by later splits of the same backend).
 *
 * Memory: all intermediates, copies and inputs are planned per backend by
 * liveness (tensor/planner.h) into one compute buffer per backend. reserve()
 * sizes those buffers for a worst-case graph once; later graphs that fit
 * reuse them with no allocation (a larger one grows them, counted).
 *
 * Use: build graph -> backend_sched_alloc -> set inputs (backend_tensor_set)
 * -> backend_sched_compute -> read outputs (backend_tensor_get). */
#ifndef BACKEND_SCHED_H
#define BACKEND_SCHED_H

#include "backend/backend.h"
#include "tensor/graph.h"

#define BACKEND_SCHED_MAX 16

typedef struct backend_sched backend_sched;

/* backends[0..n) are borrowed and must outlive the scheduler. OUT: *out. */
sv_status backend_sched_new(backend *const *backends, int n, backend_sched **out);
void backend_sched_free(backend_sched *s);

/* Plans `g` (a worst case: longest context, largest batch) and sizes the
 * compute buffers for it. The graph's tensors get memory as by alloc. */
sv_status backend_sched_reserve(backend_sched *s, graph *g);
/* Places g's nodes, inserts copies, plans and gives every tensor memory. */
sv_status backend_sched_alloc(backend_sched *s, graph *g);
/* Runs g (allocating it first unless it is the graph last allocated and has
 * not grown since), then waits for all backends. */
sv_status backend_sched_compute(backend_sched *s, graph *g);

/* Pins node t to backends[i] for graphs allocated from now on. */
void backend_sched_set_backend(backend_sched *s, tensor *t, int i);
/* Index of the backend that runs node t in the last allocated graph, -1 if none. */
int backend_sched_backend_of(const backend_sched *s, const tensor *t);

int backend_sched_n_splits(const backend_sched *s); /* in the last allocated graph */
int backend_sched_n_copies(const backend_sched *s);
int backend_sched_n_grows(const backend_sched *s);  /* compute buffers enlarged after reserve */
size_t backend_sched_buffer_size(const backend_sched *s, int i);

#endif
