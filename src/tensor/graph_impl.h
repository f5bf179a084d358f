/* Internals shared by the graph builder files. */
#ifndef TENSOR_GRAPH_IMPL_H
#define TENSOR_GRAPH_IMPL_H

#include "tensor/graph.h"

/* Records the error (the first one stays in g->status) and returns NULL. */
tensor *graph__fail(graph *g, sv_status st, const char *fmt, ...) SV_PRINTF(3, 4);

/* A contiguous result tensor of op with the given shape. */
tensor *graph__new_op(graph *g, tensor_op op, tensor_type type, const int64_t ne[4]);

/* A tensor using a's memory at offset with shape ne and strides nb; the
 * extent is checked against a's. */
tensor *graph__new_view(graph *g, tensor_op op, tensor *a, const int64_t ne[4], const size_t nb[4],
                        size_t offset);

/* "[n0, n1, n2, n3]" of t in a static per-thread buffer, for messages. */
const char *graph__shape(const tensor *t);

#endif
