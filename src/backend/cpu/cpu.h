/* The CPU backend: runs every op on the host with a thread pool.
 *
 * Each backend instance is its own device as far as the scheduler is
 * concerned: its compute buffers are of an instance-private buffer type. It
 * also computes directly on the shared host buffer type (weights mapped from
 * a file, memory from backend_cpu_buffer_from_ptr), so several CPU instances
 * share weights without copies. */
#ifndef BACKEND_CPU_H
#define BACKEND_CPU_H

#include "backend/backend.h"

/* The registry entry (one device, "CPU"); registered automatically. */
backend_reg *backend_cpu_reg(void);

/* Plain host memory, usable by every CPU backend instance. */
backend_buffer_type *backend_cpu_host_buffer_type(void);

/* n_threads counts the calling thread; <= 0 means all cores. OUT: *out. */
sv_status backend_cpu_new(int n_threads, backend **out);
bool backend_is_cpu(const backend *b);
int backend_cpu_n_threads(const backend *b);

/* Nodes of cheap element-wise/row ops up to n_elements values (ops with a
 * transcendental per value: n_elements/16) run on the calling thread alone,
 * since waking the pool costs more than such work. Default 16384; 0 sends
 * every node to the pool (tests use that to exercise the threaded splits). */
void backend_cpu_set_inline_limit(backend *b, int64_t n_elements);

/* Sizes the scratch memory the ops of these nodes need (matmul activation
 * rows and panels, attention rows), so that computing graphs no larger
 * allocates nothing. */
sv_status backend_cpu_reserve(backend *b, tensor *const *nodes, int n_nodes);
/* Bytes of that scratch now held. */
size_t backend_cpu_work_size(const backend *b);

/* Q8_0 prompt batches in ggml's float order (cpu_matmul_args.ggml_order):
 * llama.cpp's results to the bit, slower. Off by default. */
void backend_cpu_set_ggml_order(backend *b, bool on);

/* Wraps caller-owned host memory (e.g. a mapped GGUF file) as a buffer of the
 * host type without copying; freeing the buffer leaves the memory alone. */
sv_status backend_cpu_buffer_from_ptr(void *ptr, size_t size, backend_buffer **out);

#endif
