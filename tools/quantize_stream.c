#include "quantize_stream.h"

#include <stdlib.h>

#include "base/checked.h"
#include "tensor/type.h"

/* Rows converted per pool run: ~4M floats (16 MiB) of f32 in flight, so
 * large tensors stream in pieces and small ones still split over threads. */
enum { CHUNK_FLOATS = 1 << 22 };

typedef struct {
    quant_rows_fn rows;
    void *user;
    tensor_from_float_fn from_float;
    int64_t ne0;
    size_t row_bytes;
    int64_t row0, nrows, per_thread;
    float **scratch;
    uint8_t *out;
    sv_progress *progress;
} chunk_job;

static void run_chunk(void *ctx, int ith, int nth) {
    (void)nth;
    chunk_job *j = ctx;
    int64_t first = (int64_t)ith * j->per_thread;
    if (first >= j->nrows) return;
    int64_t n = j->nrows - first < j->per_thread ? j->nrows - first : j->per_thread;
    float *f = j->scratch[ith];
    j->rows(j->user, j->row0 + first, n, f);
    j->from_float(f, j->out + (size_t)first * j->row_bytes, n * j->ne0);
    if (j->progress) sv_progress_add(j->progress, (uint64_t)(n * j->ne0));
}

int64_t quant_tensor_rows(const gguf_tensor_info *t) {
    int64_t r = 1;
    for (int d = 1; d < GGUF_MAX_DIMS; d++)
        if (sv_mul_i64(r, t->ne[d], &r)) return -1;
    return r;
}

sv_status quant_stream_tensor(quant_stream *q, const gguf_tensor_info *t, quant_rows_fn rows, void *user,
                              gguf_sink *sink) {
    const tensor_type_traits *tr = tensor_type_get_cpu(t->type, TENSOR_CPU_GENERIC);
    if (!tr || !tr->from_float)
        return sv_error(SV_ERR_UNSUPPORTED, "tensor %s: cannot write type %s", t->name, gguf_type_name(t->type));
    int64_t ne0 = t->ne[0], nrows = quant_tensor_rows(t);
    size_t row_bytes = tensor_row_bytes(t->type, ne0);
    if (nrows < 0 || ne0 <= 0 || row_bytes == 0)
        return sv_error(SV_ERR_INVALID_ARG, "tensor %s: shape does not fit type %s", t->name, gguf_type_name(t->type));
    int nth = sv_pool_size(q->pool);
    int64_t chunk_rows = CHUNK_FLOATS / ne0;
    if (chunk_rows < nth) chunk_rows = nth;
    if (chunk_rows > nrows) chunk_rows = nrows;
    int64_t per_thread = (chunk_rows + nth - 1) / nth;
    size_t scratch_floats, out_bytes;
    if (sv_mul_size((size_t)per_thread, (size_t)ne0, &scratch_floats) ||
        sv_mul_size((size_t)chunk_rows, row_bytes, &out_bytes))
        return sv_error(SV_ERR_LIMIT, "tensor %s: rows too large", t->name);

    sv_status st = SV_OK;
    float **scratch = calloc((size_t)nth, sizeof *scratch);
    uint8_t *out = malloc(out_bytes);
    if (!scratch || !out) st = sv_error(SV_ERR_NOMEM, "tensor %s: out of memory for %zu-byte chunks", t->name, out_bytes);
    for (int i = 0; i < nth && !st; i++)
        if (!(scratch[i] = malloc(scratch_floats * sizeof(float))))
            st = sv_error(SV_ERR_NOMEM, "tensor %s: out of memory", t->name);

    chunk_job j = {.rows = rows, .user = user, .from_float = tr->from_float, .ne0 = ne0, .row_bytes = row_bytes,
                   .scratch = scratch, .out = out, .progress = q->progress};
    for (int64_t r = 0; r < nrows && !st; r += chunk_rows) {
        j.row0 = r;
        j.nrows = nrows - r < chunk_rows ? nrows - r : chunk_rows;
        j.per_thread = (j.nrows + nth - 1) / nth;
        sv_pool_run(q->pool, run_chunk, &j);
        st = gguf_sink_write(sink, out, (size_t)j.nrows * row_bytes);
    }
    for (int i = 0; scratch && i < nth; i++) free(scratch[i]);
    free(scratch);
    free(out);
    return st;
}
