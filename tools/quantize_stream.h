/* Streams one tensor into a GGUF writer sink, converting f32 rows to the
 * tensor's type chunk by chunk on a thread pool, so neither the input nor the
 * output tensor is ever held whole in memory. Used by `sova quantize` (rows
 * dequantized from an input file) and `sova gguf synth` (random rows). */
#ifndef SOVA_TOOLS_QUANTIZE_STREAM_H
#define SOVA_TOOLS_QUANTIZE_STREAM_H

#include <stdint.h>

#include "base/progress.h"
#include "base/threadpool.h"
#include "gguf/gguf_writer.h"

/* Writes rows [row0, row0 + n) of the tensor as f32 into dst (n * ne[0]
 * floats). Called from several threads at once for disjoint row ranges. */
typedef void (*quant_rows_fn)(void *user, int64_t row0, int64_t n, float *dst);

typedef struct {
    sv_pool *pool;
    sv_progress *progress; /* advanced by elements written; may be NULL */
} quant_stream;

/* Produces tensor t (t->type, t->ne) from `rows` into `sink` with the
 * reference quantizer of t->type (bit-exact with ggml's *_ref functions). */
sv_status quant_stream_tensor(quant_stream *q, const gguf_tensor_info *t, quant_rows_fn rows, void *user,
                              gguf_sink *sink);

/* Rows of the tensor (elements of all dims but the first); -1 on overflow. */
int64_t quant_tensor_rows(const gguf_tensor_info *t);

#endif
