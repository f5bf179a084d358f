/* `sova quantize IN.gguf OUT.gguf TYPE`: llama-quantize's file types and
 * per-tensor mixes, streamed and multithreaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/progress.h"
#include "base/threadpool.h"
#include "base/timer.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "quantize_stream.h"
#include "tensor/quantize_mix.h"
#include "tensor/type.h"

const char cmd_quantize_summary[] = "quantize a GGUF model (Q4_K_M, Q8_0, ... with llama.cpp's tensor mixes)";

static void usage(FILE *f) {
    fprintf(f,
            "usage: sova quantize [OPTIONS] IN.gguf OUT.gguf TYPE [THREADS]\n\n"
            "Writes OUT.gguf with the tensors of IN.gguf converted to TYPE, choosing each\n"
            "tensor's type as llama.cpp's llama-quantize does for that file type (e.g. Q4_K_M\n"
            "keeps output.weight and some attn_v/ffn_down tensors at Q6_K; 1-D tensors stay\n"
            "as they are). Tensors are written in llama-quantize's order and\n"
            "general.file_type is set to llama.cpp's number for TYPE.\n\n"
            "TYPE: %s\n\n"
            "options:\n"
            "  -t N                 threads (default: all cores)\n"
            "  --allow-requantize   accept quantized input tensors (quality suffers)\n"
            "  --pure               every quantizable tensor gets TYPE's base type\n"
            "  -q, --quiet          no per-tensor listing\n"
            "  -h, --help           this help\n",
            tensor_ftype_list());
}

typedef struct {
    const gguf_tensor_info *src;
    tensor_to_float_fn to_float;
    size_t src_row_bytes;
} src_rows;

static void dequant_rows(void *user, int64_t row0, int64_t n, float *dst) {
    const src_rows *s = user;
    s->to_float(s->src->data + (size_t)row0 * s->src_row_bytes, dst, n * s->src->ne[0]);
}

typedef struct {
    const gguf_tensor_info *src;
    quant_stream *qs;
    sv_progress *progress;
} fill_ctx;

static sv_status fill_tensor(void *user, const gguf_tensor_info *t, gguf_sink *sink) {
    const fill_ctx *c = user;
    const gguf_tensor_info *src = c->src;
    if (t->type == src->type) {
        /* Unchanged tensors are copied in pieces so their pages stream through. */
        for (uint64_t off = 0; off < src->size;) {
            size_t n = src->size - off < (16u << 20) ? (size_t)(src->size - off) : (16u << 20);
            sv_status st = gguf_sink_write(sink, src->data + off, n);
            if (st) return st;
            off += n;
        }
        int64_t rows = quant_tensor_rows(src);
        sv_progress_add(c->progress, (uint64_t)(rows * src->ne[0]));
        return SV_OK;
    }
    src_rows s = {.src = src, .to_float = tensor_type_get_cpu(src->type, TENSOR_CPU_GENERIC)->to_float,
                  .src_row_bytes = tensor_row_bytes(src->type, src->ne[0])};
    return quant_stream_tensor(c->qs, t, dequant_rows, &s, sink);
}

static bool is_dropped_key(const char *k) {
    return !strcmp(k, "general.quantization_version") || !strcmp(k, "general.file_type") ||
           !strncmp(k, "split.", 6);
}

typedef struct {
    int threads;
    bool allow_requantize, pure, quiet;
    const char *in, *out;
    tensor_ftype ft;
} options;

static int parse(int argc, char **argv, options *o) {
    const char *pos[4];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-t") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1024) return fprintf(stderr, "sova quantize: bad thread count '%s'\n", argv[i]), 0;
            o->threads = (int)v;
        } else if (!strcmp(a, "--allow-requantize")) o->allow_requantize = true;
        else if (!strcmp(a, "--pure")) o->pure = true;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = true;
        else if (a[0] == '-' && a[1]) return fprintf(stderr, "sova quantize: unknown option '%s'\n", a), 0;
        else if (npos < 4) pos[npos++] = a;
        else return fprintf(stderr, "sova quantize: too many arguments\n"), 0;
    }
    if (npos < 3) return fprintf(stderr, "sova quantize: need IN.gguf OUT.gguf TYPE\n"), 0;
    o->in = pos[0];
    o->out = pos[1];
    if (!tensor_ftype_from_name(pos[2], &o->ft))
        return fprintf(stderr, "sova quantize: unknown type '%s' (known: %s)\n", pos[2], tensor_ftype_list()), 0;
    if (npos == 4) {
        char *end;
        long v = strtol(pos[3], &end, 10);
        if (*end || v < 1 || v > 1024) return fprintf(stderr, "sova quantize: bad thread count '%s'\n", pos[3]), 0;
        o->threads = (int)v;
    }
    return 1;
}

/* Plans the output: tensor order, types, keys. OUT: *w, *types, *perm. */
static sv_status plan(const options *o, const gguf_file *in, gguf_writer *w, tensor_type *types, int64_t *perm,
                      int *n_fallback) {
    int64_t n = gguf_tensor_count(in);
    tensor_mix_model m;
    sv_status st = tensor_mix_model_from_gguf(in, &m);
    if (st) return st;
    tensor_mix_tensor *mt = calloc((size_t)(n > 0 ? n : 1), sizeof *mt);
    if (!mt) return sv_error(SV_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        const gguf_tensor_info *t = gguf_tensor(in, i);
        mt[i] = (tensor_mix_tensor){.name = t->name, .n_dims = t->n_dims, .type = t->type};
        memcpy(mt[i].ne, t->ne, sizeof mt[i].ne);
    }
    st = tensor_mix_sort(mt, n, perm);
    if (!st) st = tensor_mix_types(&m, o->ft, o->pure, mt, n, perm, types, n_fallback);
    free(mt);
    for (int64_t i = 0; i < n && !st; i++) {
        const gguf_tensor_info *t = gguf_tensor(in, i);
        if (types[i] == t->type) continue;
        const tensor_type_traits *tr = tensor_type_get_cpu(t->type, TENSOR_CPU_GENERIC);
        if (!tr || !tr->to_float)
            st = sv_error(SV_ERR_UNSUPPORTED, "tensor %s: cannot read type %s", t->name, gguf_type_name(t->type));
        else if (tr->is_quantized && !o->allow_requantize)
            st = sv_error(SV_ERR_INVALID_ARG, "tensor %s is already %s: requantizing needs --allow-requantize",
                          t->name, gguf_type_name(t->type));
    }
    for (int64_t i = 0; i < gguf_kv_count(in) && !st; i++) {
        const char *k = gguf_kv_key(in, i);
        if (!is_dropped_key(k)) st = gguf_writer_set_value(w, k, gguf_kv_value(in, i));
    }
    /* llama-quantize appends these two, in this order, after the input's keys. */
    if (!st) st = gguf_writer_set_u32(w, "general.quantization_version", 2);
    if (!st) st = gguf_writer_set_u32(w, "general.file_type", (uint32_t)o->ft);
    return st;
}

static int run(const options *o) {
    gguf_file *in = NULL;
    gguf_writer *w = NULL;
    sv_pool *pool = NULL;
    tensor_type *types = NULL;
    int64_t *perm = NULL;
    fill_ctx *fills = NULL;
    uint64_t t0 = sv_time_ns();
    sv_status st = gguf_open(o->in, NULL, &in);
    if (st) return cmd_fail("quantize");
    int64_t n = gguf_tensor_count(in);
    size_t cnt = (size_t)(n > 0 ? n : 1);
    types = calloc(cnt, sizeof *types);
    perm = calloc(cnt, sizeof *perm);
    fills = calloc(cnt, sizeof *fills);
    int n_fallback = 0;
    if (!types || !perm || !fills) st = sv_error(SV_ERR_NOMEM, "out of memory");
    if (!st) st = gguf_writer_new(&w);
    if (!st) st = plan(o, in, w, types, perm, &n_fallback);
    if (!st) st = sv_pool_new(o->threads, &pool);

    sv_progress progress;
    quant_stream qs = {.pool = pool, .progress = &progress};
    uint64_t total = 0, bytes_in = 0, bytes_out = 0, n_elem = 0;
    int type_count[GGUF_TYPE_COUNT] = {0};
    for (int64_t k = 0; k < n && !st; k++) {
        const gguf_tensor_info *t = gguf_tensor(in, perm[k]);
        int64_t rows = quant_tensor_rows(t);
        uint64_t el = (uint64_t)rows * (uint64_t)t->ne[0];
        tensor_type ty = types[perm[k]];
        size_t out_size = tensor_row_bytes(ty, t->ne[0]) * (size_t)rows;
        total += el;
        n_elem += el;
        bytes_in += t->size;
        bytes_out += out_size;
        type_count[ty]++;
        if (!o->quiet)
            printf("[%4lld/%4lld] %-36s %-5s -> %-5s %10.3f MiB -> %10.3f MiB\n", (long long)k + 1, (long long)n,
                   t->name, gguf_type_name(t->type), gguf_type_name(ty), (double)t->size / 1048576.0,
                   (double)out_size / 1048576.0);
        fills[k] = (fill_ctx){.src = t, .qs = &qs, .progress = &progress};
        st = gguf_writer_add_tensor_fn(w, t->name, ty, t->n_dims, t->ne, fill_tensor, &fills[k]);
    }
    if (!st) {
        fflush(stdout);
        sv_progress_init(&progress, "quantizing", total);
        st = gguf_writer_write(w, o->out);
        sv_progress_finish(&progress);
    }
    if (!st) {
        double secs = (double)(sv_time_ns() - t0) * 1e-9;
        printf("file type:   %s (%d)\n", tensor_ftype_name(o->ft), (int)o->ft);
        printf("model size:  %.2f MiB (%.2f BPW)\n", (double)bytes_in / 1048576.0,
               n_elem ? (double)bytes_in * 8.0 / (double)n_elem : 0.0);
        printf("quant size:  %.2f MiB (%.2f BPW)\n", (double)bytes_out / 1048576.0,
               n_elem ? (double)bytes_out * 8.0 / (double)n_elem : 0.0);
        printf("tensor types:");
        for (int i = 0; i < GGUF_TYPE_COUNT; i++)
            if (type_count[i]) printf(" %s %d", gguf_type_name((gguf_type)i), type_count[i]);
        printf("\n");
        if (n_fallback) printf("fallbacks:   %d tensor(s) did not fit their type's block size\n", n_fallback);
        printf("time:        %.2f s with %d threads\n", secs, sv_pool_size(pool));
    }
    gguf_writer_free(w);
    sv_pool_free(pool);
    gguf_free(in);
    free(types);
    free(perm);
    free(fills);
    return st ? cmd_fail("quantize") : 0;
}

int cmd_quantize_main(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    options o = {.threads = 0};
    if (!parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    return run(&o);
}
