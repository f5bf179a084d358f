/* `sova perplexity`: llama.cpp's chunked perplexity, so numbers compare. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/timer.h"
#include "commands.h"
#include "sova.h"

const char cmd_perplexity_summary[] = "perplexity of a text file (llama.cpp's chunked method)";

static void usage(FILE *f) {
    fprintf(f,
            "usage: sova perplexity -m MODEL -f TEXT [OPTIONS]\n\n"
            "Tokenizes TEXT (with BOS where the vocabulary adds one), cuts it into chunks\n"
            "of n_ctx tokens, each evaluated from an empty cache with its first token set\n"
            "to BOS, and scores the second half of every chunk (each token predicted with\n"
            "at least n_ctx/2 tokens of context), as llama.cpp's llama-perplexity does.\n"
            "Prints the running estimate per chunk ([1]x,[2]y,...) and the final one.\n\n"
            "options:\n"
            "  -m FILE         model (GGUF)\n"
            "  -f FILE         text\n"
            "  -c N            chunk size n_ctx (default 512)\n"
            "  -b N            batch size (default 2048, at most n_ctx)\n"
            "  --chunks N      stop after N chunks (default: all)\n"
            "  -t N            threads (default: all cores)\n"
            "  -h, --help      this help\n");
}

typedef struct {
    const char *model, *text;
    int n_ctx, n_batch, max_chunks, threads;
} ppl_opts;

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

static int parse(int argc, char **argv, ppl_opts *o) {
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok;
        if (!strcmp(a, "-m") && v) o->model = v, ok = 1;
        else if (!strcmp(a, "-f") && v) o->text = v, ok = 1;
        else if (!strcmp(a, "-c")) ok = parse_int(v, 8, 1 << 20, &o->n_ctx);
        else if (!strcmp(a, "-b")) ok = parse_int(v, 1, 1 << 20, &o->n_batch);
        else if (!strcmp(a, "--chunks")) ok = parse_int(v, 1, 1 << 30, &o->max_chunks);
        else if (!strcmp(a, "-t")) ok = parse_int(v, 1, 1024, &o->threads);
        else return fprintf(stderr, "sova perplexity: unknown option '%s'\n", a), 0;
        if (!ok) return fprintf(stderr, "sova perplexity: bad value for %s\n", a), 0;
    }
    if (!o->model || !o->text) return fprintf(stderr, "sova perplexity: -m MODEL and -f TEXT are required\n"), 0;
    return 1;
}

/* -log softmax(logits)[target], in double. */
static double nll_of(const float *logits, int32_t n_vocab, sova_token target) {
    float mx = logits[0];
    for (int32_t k = 1; k < n_vocab; k++) mx = logits[k] > mx ? logits[k] : mx;
    double sum = 0;
    for (int32_t k = 0; k < n_vocab; k++) sum += exp((double)logits[k] - mx);
    return log(sum) - ((double)logits[target] - mx);
}

typedef struct {
    sova_model *m;
    sova_ctx *c;
    sova_batch b;
    sova_token *tokens;
    int32_t n_tokens;
} ppl_state;

static sova_status tokenize_file(ppl_state *s, const char *path) {
    uint8_t *text = NULL;
    size_t len = 0;
    sv_status fst = sv_file_read_all(path, (size_t)1 << 31, &text, &len);
    if (fst) return (sova_status)fst;
    /* Bytes are a generous bound on the token count (plus BOS/EOS). */
    int32_t cap = len + 2 > (size_t)INT32_MAX ? INT32_MAX : (int32_t)(len + 2);
    s->tokens = malloc((size_t)cap * sizeof *s->tokens);
    sova_status st = s->tokens ? SOVA_OK : SOVA_ERR_NOMEM;
    if (!st) st = sova_tokenize(s->m, (const char *)text, len, true, false, s->tokens, cap, &s->n_tokens);
    free(text);
    return st;
}

static int run(const ppl_opts *o) {
    ppl_state s = {0};
    sova_model_params mp = sova_model_default_params();
    mp.n_threads = o->threads;
    sova_status st = sova_model_load(o->model, &mp, &s.m);
    if (!st) st = tokenize_file(&s, o->text);
    int n_ctx = o->n_ctx, n_batch = o->n_batch < n_ctx ? o->n_batch : n_ctx;
    if (!st && s.n_tokens < 2 * n_ctx) {
        fprintf(stderr, "sova perplexity: %d tokens, need at least 2*n_ctx = %d (use a smaller -c)\n", s.n_tokens,
                2 * n_ctx);
        free(s.tokens);
        sova_model_free(s.m);
        return 1;
    }
    sova_ctx_params cp = sova_ctx_default_params();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_batch = (uint32_t)n_batch;
    cp.n_ubatch = cp.n_ubatch < (uint32_t)n_batch ? cp.n_ubatch : (uint32_t)n_batch;
    cp.n_threads = o->threads;
    if (!st) st = sova_ctx_new(s.m, &cp, &s.c);
    if (!st) st = sova_batch_init(n_batch, 1, &s.b);
    int n_chunk = st ? 0 : s.n_tokens / n_ctx;
    if (o->max_chunks > 0 && o->max_chunks < n_chunk) n_chunk = o->max_chunks;
    int32_t n_vocab = st ? 0 : sova_model_n_vocab(s.m);
    sova_token bos = st ? -1 : sova_token_bos(s.m);
    /* Whether the vocabulary adds BOS: the tokenizer put it first. */
    bool add_bos = !st && bos >= 0 && s.n_tokens > 0 && s.tokens[0] == bos;
    float *logits = st ? NULL : malloc((size_t)n_ctx * (size_t)n_vocab * sizeof *logits);
    if (!st && !logits) st = SOVA_ERR_NOMEM;
    if (!st)
        fprintf(stderr, "perplexity: %d tokens, %d chunks of n_ctx=%d, batch %d\n", s.n_tokens, n_chunk, n_ctx,
                n_batch);
    const int first = n_ctx / 2;
    double nll = 0, nll2 = 0;
    int64_t count = 0;
    uint64_t t0 = sv_time_ns();
    for (int i = 0; i < n_chunk && !st; i++) {
        const sova_token *chunk = s.tokens + (size_t)i * (size_t)n_ctx;
        sova_kv_clear(s.c);
        int32_t seq = 0;
        for (int j = 0; j < n_ctx && !st; j += n_batch) {
            int k = n_ctx - j < n_batch ? n_ctx - j : n_batch;
            sova_batch_clear(&s.b);
            for (int q = 0; q < k && !st; q++) {
                sova_token t = (add_bos && j + q == 0) ? bos : chunk[j + q];
                st = sova_batch_add(&s.b, t, j + q, &seq, 1, j + q >= first);
            }
            if (!st) st = sova_decode(s.c, &s.b);
            for (int q = 0; q < k && !st; q++) {
                if (j + q < first) continue;
                const float *row = sova_get_logits_ith(s.c, q);
                if (!row) st = SOVA_ERR_BACKEND;
                else memcpy(logits + (size_t)(j + q) * (size_t)n_vocab, row, (size_t)n_vocab * sizeof *row);
            }
        }
        for (int j = first; j < n_ctx - 1 && !st; j++) {
            double v = nll_of(logits + (size_t)j * (size_t)n_vocab, n_vocab, chunk[j + 1]);
            nll += v;
            nll2 += v * v;
            count++;
        }
        if (!st) {
            printf("[%d]%.4f,", i + 1, exp(nll / (double)count));
            fflush(stdout);
        }
    }
    if (!st) {
        double mean = nll / (double)count, var = nll2 / (double)count - mean * mean;
        double ppl = exp(mean);
        double err = var > 0 && count > 1 ? ppl * sqrt(var / (double)(count - 1)) : 0.0;
        printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", ppl, err);
        fprintf(stderr, "perplexity: %.2f s, %lld tokens scored\n", (double)(sv_time_ns() - t0) * 1e-9,
                (long long)count);
    } else {
        fprintf(stderr, "sova perplexity: %s\n", sova_errmsg());
    }
    free(logits);
    free(s.tokens);
    sova_batch_free(&s.b);
    sova_ctx_free(s.c);
    sova_model_free(s.m);
    return st ? 1 : 0;
}

int cmd_perplexity_main(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    ppl_opts o = {.n_ctx = 512, .n_batch = 2048, .threads = 0};
    if (!parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    return run(&o);
}
