/* `sova gguf synth --like NAME --vocab VOCAB.gguf --type T -o OUT`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/progress.h"
#include "base/threadpool.h"
#include "base/timer.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "gguf_cmd.h"
#include "gguf_synth.h"
#include "quantize_stream.h"
#include "tensor/quantize_mix.h"

/* Standard deviation of every matrix and bias: small enough that activations
 * of a deep random network stay finite and sane through all layers. */
#define SYNTH_STD 0.02f

static void usage(FILE *f) {
    fprintf(f,
            "usage: sova gguf synth --like NAME --vocab VOCAB.gguf --type T -o OUT [OPTIONS]\n\n"
            "Writes a GGUF with the exact tensor names, shapes and {arch}.* metadata of a\n"
            "published model, random weights N(0, 0.02) and norms 1, the tokenizer of\n"
            "VOCAB.gguf (its token list padded to the model's vocabulary with [PADn]\n"
            "tokens), quantized with llama-quantize's mix for T. Streams to disk.\n\n"
            "options:\n"
            "  --like NAME      model to imitate (--list shows them)\n"
            "  --vocab FILE     GGUF whose tokenizer.* keys are copied\n"
            "  --type T         %s\n"
            "  -o FILE          output path\n"
            "  --seed S         random seed (default 42); same seed, same bytes\n"
            "  -t N             threads (default: all cores)\n"
            "  --dry-run        print the tensors and their types, write nothing\n"
            "  --list           list the known models\n"
            "  -h, --help       this help\n",
            tensor_ftype_list());
}

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

typedef struct {
    const synth_model *model;
    const synth_tensor *t;
    uint64_t seed;
    quant_stream *qs;
} synth_fill;

/* Each row has its own random stream (seed, tensor, row), so the bytes do
 * not depend on the thread count or chunking. */
static void synth_rows(void *user, int64_t row0, int64_t n, float *dst) {
    const synth_fill *f = user;
    int64_t ne0 = f->t->ne[0];
    for (int64_t r = 0; r < n; r++) {
        float *d = dst + r * ne0;
        if (f->t->init == SYNTH_INIT_ONES) {
            for (int64_t k = 0; k < ne0; k++) d[k] = 1.0f;
            continue;
        }
        if (f->t->init == SYNTH_INIT_ROPE_FREQS) {
            for (int64_t k = 0; k < ne0; k++) d[k] = synth_rope_llama3_factor(f->model, (int)k);
            continue;
        }
        uint64_t s = f->seed ^ fnv1a(f->t->name) ^ ((uint64_t)(row0 + r) * 0xD1B54A32D192ED03ull);
        for (int64_t k = 0; k < ne0; k += 2) {
            /* Box-Muller on two 53-bit uniforms in (0, 1]. */
            double u1 = ((double)(splitmix64(&s) >> 11) + 1.0) * 0x1.0p-53;
            double u2 = (double)(splitmix64(&s) >> 11) * 0x1.0p-53;
            double rad = sqrt(-2.0 * log(u1)), ang = 6.283185307179586 * u2;
            d[k] = (float)(rad * cos(ang)) * SYNTH_STD;
            if (k + 1 < ne0) d[k + 1] = (float)(rad * sin(ang)) * SYNTH_STD;
        }
    }
}

static sv_status synth_fill_tensor(void *user, const gguf_tensor_info *t, gguf_sink *sink) {
    synth_fill *f = user;
    return quant_stream_tensor(f->qs, t, synth_rows, f, sink);
}

/* tokenizer.* keys of the vocabulary file; the token arrays padded to n_vocab
 * the way llama.cpp's converter pads them ([PADn], type UNUSED). */
static sv_status copy_vocab(const gguf_file *v, int64_t n_vocab, gguf_writer *w) {
    gguf_value_type et;
    uint64_t n_tok = 0;
    const gguf_value *tokens = gguf_get_arr(v, "tokenizer.ggml.tokens", &et, &n_tok);
    if (!tokens || et != GGUF_VT_STRING) return sv_error(SV_ERR_FORMAT, "vocabulary file has no tokenizer.ggml.tokens");
    if (n_tok > (uint64_t)n_vocab)
        return sv_error(SV_ERR_INVALID_ARG, "vocabulary has %llu tokens, more than the model's %lld",
                        (unsigned long long)n_tok, (long long)n_vocab);
    sv_status st = SV_OK;
    for (int64_t i = 0; i < gguf_kv_count(v) && !st; i++) {
        const char *k = gguf_kv_key(v, i);
        if (strncmp(k, "tokenizer.", 10)) continue;
        const gguf_value *val = gguf_kv_value(v, i);
        uint64_t pad = (uint64_t)n_vocab - n_tok;
        bool per_token = val->type == GGUF_VT_ARRAY && val->v.arr.n == n_tok &&
                         (!strcmp(k, "tokenizer.ggml.tokens") || !strcmp(k, "tokenizer.ggml.token_type") ||
                          !strcmp(k, "tokenizer.ggml.scores"));
        if (!per_token || pad == 0) {
            st = gguf_writer_set_value(w, k, val);
            continue;
        }
        if (val->v.arr.type == GGUF_VT_STRING) {
            const char **s = malloc((size_t)n_vocab * sizeof *s);
            char *names = malloc((size_t)pad * 32);
            if (!s || !names) st = sv_error(SV_ERR_NOMEM, "out of memory");
            for (uint64_t j = 0; j < (uint64_t)n_vocab && !st; j++) {
                if (j < n_tok) s[j] = val->v.arr.items[j].v.str.ptr;
                else {
                    char *p = names + (j - n_tok) * 32;
                    snprintf(p, 32, "[PAD%llu]", (unsigned long long)j);
                    s[j] = p;
                }
            }
            if (!st) st = gguf_writer_set_arr_str(w, k, s, (uint64_t)n_vocab);
            free(s);
            free(names);
        } else if (val->v.arr.type == GGUF_VT_INT32 || val->v.arr.type == GGUF_VT_FLOAT32) {
            uint32_t *d = malloc((size_t)n_vocab * 4);
            if (!d) return sv_error(SV_ERR_NOMEM, "out of memory");
            memcpy(d, val->v.arr.data, (size_t)n_tok * 4);
            float pad_score = -1000.0f;
            for (uint64_t j = n_tok; j < (uint64_t)n_vocab; j++) {
                if (val->v.arr.type == GGUF_VT_INT32) d[j] = 5; /* UNUSED */
                else memcpy(&d[j], &pad_score, 4);
            }
            st = gguf_writer_set_arr(w, k, val->v.arr.type, d, (uint64_t)n_vocab);
            free(d);
        } else {
            st = gguf_writer_set_value(w, k, val);
        }
    }
    return st;
}

typedef struct {
    const char *like, *vocab, *type, *out;
    uint64_t seed;
    int threads;
    bool dry_run, list;
} synth_opts;

static int parse(int argc, char **argv, synth_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--dry-run")) o->dry_run = true;
        else if (!strcmp(a, "--list")) o->list = true;
        else if (!v) return fprintf(stderr, "sova gguf synth: '%s' needs a value or is unknown\n", a), 0;
        else if (!strcmp(a, "--like")) o->like = v, i++;
        else if (!strcmp(a, "--vocab")) o->vocab = v, i++;
        else if (!strcmp(a, "--type")) o->type = v, i++;
        else if (!strcmp(a, "-o")) o->out = v, i++;
        else if (!strcmp(a, "-t")) {
            if (!gguf_cmd_threads(v, &o->threads)) return fprintf(stderr, "sova gguf synth: bad -t '%s'\n", v), 0;
            i++;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            o->seed = strtoull(v, &end, 10);
            if (*end || !*v) return fprintf(stderr, "sova gguf synth: bad seed '%s'\n", v), 0;
            i++;
        } else return fprintf(stderr, "sova gguf synth: unknown option '%s'\n", a), 0;
    }
    if (o->list) return 1;
    if (!o->like || !o->vocab || !o->type || (!o->out && !o->dry_run))
        return fprintf(stderr, "sova gguf synth: --like, --vocab, --type and -o are required\n"), 0;
    return 1;
}

static sv_status synth(const synth_opts *o, const synth_model *m, tensor_ftype ft) {
    gguf_file *vocab = NULL;
    gguf_writer *w = NULL;
    sv_pool *pool = NULL;
    synth_tensor *st_list = NULL;
    tensor_mix_tensor *mt = NULL;
    int64_t *perm = NULL, n = 0;
    tensor_type *types = NULL;
    synth_fill *fills = NULL;
    gguf_open_params vp = gguf_default_open_params();
    vp.map_data = false;
    sv_status st = gguf_open(o->vocab, &vp, &vocab);
    if (!st) st = synth_model_tensors(m, &st_list, &n);
    if (!st) {
        mt = calloc((size_t)n, sizeof *mt);
        perm = calloc((size_t)n, sizeof *perm);
        types = calloc((size_t)n, sizeof *types);
        fills = calloc((size_t)n, sizeof *fills);
        if (!mt || !perm || !types || !fills) st = sv_error(SV_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < n && !st; i++) {
        mt[i] = (tensor_mix_tensor){.name = st_list[i].name, .n_dims = st_list[i].n_dims, .type = GGUF_TYPE_F32};
        memcpy(mt[i].ne, st_list[i].ne, sizeof mt[i].ne);
    }
    tensor_mix_model mm = {.n_layer = m->n_layer, .n_head = m->n_head, .n_head_kv = m->n_head_kv};
    snprintf(mm.arch, sizeof mm.arch, "%s", m->arch);
    int n_fallback = 0;
    if (!st) st = tensor_mix_sort(mt, n, perm);
    if (!st) st = tensor_mix_types(&mm, ft, false, mt, n, perm, types, &n_fallback);
    if (!st) st = gguf_writer_new(&w);
    if (!st) st = synth_model_keys(m, w);
    if (!st) st = gguf_writer_set_u32(w, "general.quantization_version", 2);
    if (!st) st = gguf_writer_set_u32(w, "general.file_type", (uint32_t)ft);
    if (!st) st = copy_vocab(vocab, m->n_vocab, w);
    if (!st) st = sv_pool_new(o->threads, &pool);
    sv_progress progress;
    quant_stream qs = {.pool = pool, .progress = &progress};
    uint64_t total = 0, bytes = 0;
    for (int64_t k = 0; k < n && !st; k++) {
        int64_t i = perm[k];
        const synth_tensor *t = &st_list[i];
        uint64_t el = (uint64_t)(t->ne[0] * t->ne[1]);
        size_t sz = tensor_row_bytes(types[i], t->ne[0]) * (size_t)t->ne[1];
        total += el;
        bytes += sz;
        if (o->dry_run) {
            printf("%-36s %-5s %6lld x %-6lld %12zu\n", t->name, gguf_type_name(types[i]), (long long)t->ne[0],
                   (long long)t->ne[1], sz);
            continue;
        }
        fills[k] = (synth_fill){.model = m, .t = t, .seed = o->seed, .qs = &qs};
        st = gguf_writer_add_tensor_fn(w, t->name, types[i], t->n_dims, t->ne, synth_fill_tensor, &fills[k]);
    }
    if (!st && !o->dry_run) {
        uint64_t t0 = sv_time_ns();
        sv_progress_init(&progress, "synthesizing", total);
        st = gguf_writer_write(w, o->out);
        sv_progress_finish(&progress);
        if (!st)
            printf("%s: %s %s, %lld tensors, %llu parameters, %.2f MiB of tensor data, %.1f s\n", o->out, m->name,
                   tensor_ftype_name(ft), (long long)n, (unsigned long long)total, (double)bytes / 1048576.0,
                   (double)(sv_time_ns() - t0) * 1e-9);
    } else if (!st) {
        printf("%lld tensors, %llu parameters, %.2f MiB of tensor data\n", (long long)n, (unsigned long long)total,
               (double)bytes / 1048576.0);
    }
    gguf_writer_free(w);
    gguf_free(vocab);
    sv_pool_free(pool);
    free(st_list);
    free(mt);
    free(perm);
    free(types);
    free(fills);
    return st;
}

int gguf_cmd_synth(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    synth_opts o = {.seed = 42};
    if (!parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    if (o.list) {
        for (const synth_model *m = synth_models; m->name; m++)
            printf("%-14s %-7s %2d layers, n_embd %4d, heads %2d/%2d x %3d, ffn %5d, vocab %lld%s\n", m->name,
                   m->arch, m->n_layer, m->n_embd, m->n_head, m->n_head_kv, m->head_dim, m->n_ff,
                   (long long)m->n_vocab, m->tied_embeddings ? ", tied" : "");
        return 0;
    }
    const synth_model *m = synth_find_model(o.like);
    if (!m) {
        fprintf(stderr, "sova gguf synth: unknown model '%s' (see --list)\n", o.like);
        return 2;
    }
    tensor_ftype ft;
    if (!tensor_ftype_from_name(o.type, &ft)) {
        fprintf(stderr, "sova gguf synth: unknown type '%s' (known: %s)\n", o.type, tensor_ftype_list());
        return 2;
    }
    return synth(&o, m, ft) ? cmd_fail("gguf synth") : 0;
}
