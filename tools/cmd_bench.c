/* `sova bench`: prompt processing and generation speed in llama-bench's table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/threadpool.h"
#include "base/timer.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "sova.h"
#include "tensor/quantize_mix.h"

const char cmd_bench_summary[] = "measure prompt and generation speed (llama-bench style table)";

enum { MAX_REPS = 100 };

static void usage(FILE *f) {
    fprintf(f,
            "usage: sova bench -m MODEL [OPTIONS]\n\n"
            "Times prompt processing (ppN: N random tokens in batches) and generation (tgN:\n"
            "N tokens one at a time from an empty cache), each repeated after a warm-up\n"
            "run, and prints llama-bench's markdown table with tokens/s mean +- stddev.\n\n"
            "options:\n"
            "  -m FILE       model (GGUF)\n"
            "  -p N          prompt tokens (default 512; 0 skips the test)\n"
            "  -n N          generated tokens (default 128; 0 skips the test)\n"
            "  -r N          repetitions (default 5)\n"
            "  -t N          threads (default: all cores)\n"
            "  -b N          batch size (default 2048)\n"
            "  -ub N         micro-batch size (default 512)\n"
            "  -h, --help    this help\n");
}

typedef struct {
    const char *model;
    int n_prompt, n_gen, reps, threads, n_batch, n_ubatch;
} bench_opts;

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

static int parse(int argc, char **argv, bench_opts *o) {
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok;
        if (!strcmp(a, "-m") && v) o->model = v, ok = 1;
        else if (!strcmp(a, "-p")) ok = parse_int(v, 0, 1 << 20, &o->n_prompt);
        else if (!strcmp(a, "-n")) ok = parse_int(v, 0, 1 << 20, &o->n_gen);
        else if (!strcmp(a, "-r")) ok = parse_int(v, 1, MAX_REPS, &o->reps);
        else if (!strcmp(a, "-t")) ok = parse_int(v, 1, 1024, &o->threads);
        else if (!strcmp(a, "-b")) ok = parse_int(v, 1, 1 << 20, &o->n_batch);
        else if (!strcmp(a, "-ub")) ok = parse_int(v, 1, 1 << 20, &o->n_ubatch);
        else return fprintf(stderr, "sova bench: unknown option '%s'\n", a), 0;
        if (!ok) return fprintf(stderr, "sova bench: bad value for %s\n", a), 0;
    }
    if (!o->model) return fprintf(stderr, "sova bench: -m MODEL is required\n"), 0;
    if (o->n_prompt == 0 && o->n_gen == 0) return fprintf(stderr, "sova bench: nothing to run (-p 0 -n 0)\n"), 0;
    return 1;
}

/* Deterministic token stream (llama-bench uses rand()). */
static sova_token next_token(uint64_t *s, int32_t n_vocab) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (sova_token)((*s >> 33) % (uint64_t)n_vocab);
}

static sova_status run_prompt(sova_ctx *c, sova_batch *b, int n, int n_batch, int32_t n_vocab, uint64_t *rng) {
    sova_kv_clear(c);
    for (int i = 0; i < n; i += n_batch) {
        int k = n - i < n_batch ? n - i : n_batch;
        sova_batch_clear(b);
        int32_t seq = 0;
        for (int j = 0; j < k; j++) {
            sova_status st = sova_batch_add(b, next_token(rng, n_vocab), i + j, &seq, 1, j == k - 1);
            if (st) return st;
        }
        sova_status st = sova_decode(c, b);
        if (st) return st;
    }
    return SOVA_OK;
}

static sova_status run_gen(sova_ctx *c, sova_batch *b, int n, int32_t n_vocab, uint64_t *rng) {
    sova_kv_clear(c);
    sova_token t = next_token(rng, n_vocab);
    int32_t seq = 0;
    for (int i = 0; i < n; i++) {
        sova_batch_clear(b);
        sova_status st = sova_batch_add(b, t, i, &seq, 1, true);
        if (!st) st = sova_decode(c, b);
        if (st) return st;
        t = next_token(rng, n_vocab);
    }
    return SOVA_OK;
}

/* "qwen2 0.5B Q4_0", as llama-bench names models. */
static void model_label(const char *path, const sova_model *m, char *buf, size_t cap) {
    gguf_open_params p = gguf_default_open_params();
    p.map_data = false;
    gguf_file *f = NULL;
    const char *size = NULL, *ftype = "?";
    uint32_t ft;
    if (gguf_open(path, &p, &f) == SV_OK) {
        size = gguf_get_str(f, "general.size_label");
        if (gguf_get_u32(f, "general.file_type", &ft)) ftype = tensor_ftype_name((tensor_ftype)ft);
    }
    snprintf(buf, cap, "%s %s %s", sova_model_arch(m), size ? size : "?B", ftype);
    gguf_free(f);
}

static void stats(const double *v, int n, double *mean, double *sd) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += v[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) s2 += (v[i] - *mean) * (v[i] - *mean);
    *sd = n > 1 ? sqrt(s2 / (n - 1)) : 0.0;
}

static int run(const bench_opts *o) {
    sova_model *m = NULL;
    sova_ctx *c = NULL;
    sova_batch b = {0};
    sova_model_params mp = sova_model_default_params();
    mp.n_threads = o->threads;
    sova_status st = sova_model_load(o->model, &mp, &m);
    sova_ctx_params cp = sova_ctx_default_params();
    int n_batch = o->n_batch < o->n_prompt ? o->n_batch : (o->n_prompt > 0 ? o->n_prompt : 1);
    cp.n_ctx = (uint32_t)(o->n_prompt + o->n_gen);
    cp.n_batch = (uint32_t)n_batch;
    cp.n_ubatch = (uint32_t)(o->n_ubatch < n_batch ? o->n_ubatch : n_batch);
    cp.n_threads = o->threads;
    if (!st) st = sova_ctx_new(m, &cp, &c);
    if (!st) st = sova_batch_init(n_batch, 1, &b);
    if (st) {
        fprintf(stderr, "sova bench: %s\n", sova_errmsg());
        sova_batch_free(&b);
        sova_ctx_free(c);
        sova_model_free(m);
        return 1;
    }
    char label[160];
    model_label(o->model, m, label, sizeof label);
    int32_t n_vocab = sova_model_n_vocab(m);
    int threads = o->threads > 0 ? o->threads : sv_cpu_count();
    uint64_t rng = 1234;
    printf("| %-24s | %10s | %10s | %-7s | %7s | %13s | %20s |\n", "model", "size", "params", "backend", "threads",
           "test", "t/s");
    printf("| %.24s | %.10s | %.10s | %.7s | %.7s | %.13s | %.20s |\n", "------------------------------",
           "---------------:", "---------------:", "-----------", "------:", "--------------:", "-------------------:");
    struct {
        int n;
        bool prompt;
    } tests[2] = {{o->n_prompt, true}, {o->n_gen, false}};
    for (int k = 0; k < 2 && !st; k++) {
        if (tests[k].n == 0) continue;
        /* Warm-up: pages of the weights in, caches and buffers touched. */
        st = tests[k].prompt ? run_prompt(c, &b, tests[k].n, n_batch, n_vocab, &rng) : run_gen(c, &b, 1, n_vocab, &rng);
        double tps[MAX_REPS];
        for (int r = 0; r < o->reps && !st; r++) {
            uint64_t t0 = sv_time_ns();
            st = tests[k].prompt ? run_prompt(c, &b, tests[k].n, n_batch, n_vocab, &rng)
                                 : run_gen(c, &b, tests[k].n, n_vocab, &rng);
            tps[r] = tests[k].n / ((double)(sv_time_ns() - t0) * 1e-9);
        }
        if (st) break;
        double mean, sd;
        stats(tps, o->reps, &mean, &sd);
        char test[32], size[32], params[32], tsd[48];
        snprintf(test, sizeof test, "%s%d", tests[k].prompt ? "pp" : "tg", tests[k].n);
        snprintf(size, sizeof size, "%.2f MiB", (double)sova_model_weight_bytes(m) / 1048576.0);
        snprintf(params, sizeof params, "%.2f M", (double)sova_model_n_params(m) / 1e6);
        snprintf(tsd, sizeof tsd, "%.2f ± %.2f", mean, sd);
        printf("| %-24s | %10s | %10s | %-7s | %7d | %13s | %21s |\n", label, size, params, "CPU", threads, test, tsd);
        fflush(stdout);
    }
    if (!st) {
        sova_memory mem;
        sova_ctx_memory(c, &mem);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("\nmemory: weights %.2f MiB, KV cache %.2f MiB, compute %.2f MiB, logits %.2f MiB; peak RSS %.2f MiB\n",
               (double)mem.weights / 1048576.0, (double)mem.kv / 1048576.0, (double)mem.compute / 1048576.0,
               (double)mem.logits / 1048576.0, (double)ru.ru_maxrss / 1024.0);
    }
    if (st) fprintf(stderr, "sova bench: %s\n", sova_errmsg());
    sova_batch_free(&b);
    sova_ctx_free(c);
    sova_model_free(m);
    return st ? 1 : 0;
}

int cmd_bench_main(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    bench_opts o = {.n_prompt = 512, .n_gen = 128, .reps = 5, .threads = 0, .n_batch = 2048, .n_ubatch = 512};
    if (!parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    return run(&o);
}
