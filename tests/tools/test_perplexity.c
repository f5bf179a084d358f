/* `sova perplexity` against an independent computation through the C API:
 * the same chunks decoded one token at a time (another batch path), BOS put
 * first in each chunk, the second half scored with a double-precision
 * log-softmax. Per-chunk running values and the final estimate must agree to
 * 1e-3 relative (batched and single-token matmuls round differently). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "base/file.h"
#include "sova.h"

enum { N_CTX = 64, N_CHUNKS = 3 };

static double reference_ppl(const char *model, const char *text_path, double *running) {
    sova_model *m = NULL;
    sova_ctx *c = NULL;
    sova_batch b = {0};
    uint8_t *text = NULL;
    size_t len = 0;
    CHECK(sv_file_read_all(text_path, 1 << 20, &text, &len) == SV_OK);
    CHECK(sova_model_load(model, NULL, &m) == SOVA_OK);
    sova_ctx_params cp = sova_ctx_default_params();
    cp.n_ctx = N_CTX;
    cp.n_batch = cp.n_ubatch = 1;
    cp.n_threads = 2;
    CHECK(sova_ctx_new(m, &cp, &c) == SOVA_OK);
    CHECK(sova_batch_init(1, 1, &b) == SOVA_OK);
    sova_token *tok = malloc((len + 2) * sizeof *tok);
    int32_t n = 0;
    CHECK(sova_tokenize(m, (const char *)text, len, true, false, tok, (int32_t)len + 2, &n) == SOVA_OK);
    CHECK(n >= N_CTX * N_CHUNKS);
    sova_token bos = sova_token_bos(m);
    CHECK(bos >= 0 && tok[0] == bos); /* the llama fixture vocabulary adds BOS */
    int32_t nv = sova_model_n_vocab(m);
    double nll = 0;
    int count = 0;
    for (int ch = 0; ch < N_CHUNKS; ch++) {
        sova_kv_clear(c);
        const sova_token *t = tok + ch * N_CTX;
        for (int j = 0; j < N_CTX - 1; j++) {
            int32_t seq = 0;
            sova_batch_clear(&b);
            CHECK(sova_batch_add(&b, j == 0 ? bos : t[j], j, &seq, 1, true) == SOVA_OK);
            CHECK(sova_decode(c, &b) == SOVA_OK);
            if (j < N_CTX / 2) continue;
            const float *l = sova_get_logits_ith(c, 0);
            double mx = -INFINITY, s = 0;
            for (int32_t k = 0; k < nv; k++) mx = l[k] > mx ? l[k] : mx;
            for (int32_t k = 0; k < nv; k++) s += exp(l[k] - mx);
            nll += log(s) + mx - l[t[j + 1]];
            count++;
        }
        running[ch] = exp(nll / count);
    }
    free(tok);
    free(text);
    sova_batch_free(&b);
    sova_ctx_free(c);
    sova_model_free(m);
    return exp(nll / count);
}

int main(void) {
    const char *fx = getenv("SOVA_FIXTURES"), *bin = getenv("SOVA_BIN");
    if (!fx || !bin) return fprintf(stderr, "SOVA_FIXTURES and SOVA_BIN must be set\n"), 1;
    char model[1024], text[1024], cmd[4096];
    snprintf(model, sizeof model, "%s/models/llama/llama-F32.gguf", fx);
    snprintf(text, sizeof text, "%s/vocab/tiny-llama3.inp", fx);
    double running[N_CHUNKS];
    double ref = reference_ppl(model, text, running);

    snprintf(cmd, sizeof cmd, "'%s' perplexity -m '%s' -f '%s' -c %d -b 16 --chunks %d -t 2 2>/dev/null", bin, model,
             text, N_CTX, N_CHUNKS);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    char out[8192] = {0};
    size_t got = p ? fread(out, 1, sizeof out - 1, p) : 0;
    CHECK(p && pclose(p) == 0);
    out[got] = 0;
    for (int ch = 0; ch < N_CHUNKS; ch++) {
        char key[16];
        snprintf(key, sizeof key, "[%d]", ch + 1);
        const char *at = strstr(out, key);
        CHECK_MSG(at != NULL, "no %s in: %s", key, out);
        double v = at ? strtod(at + strlen(key), NULL) : 0;
        CHECK_MSG(fabs(v - running[ch]) <= 1e-3 * running[ch], "chunk %d: %f vs reference %f", ch + 1, v, running[ch]);
    }
    const char *fin = strstr(out, "Final estimate: PPL = ");
    CHECK_MSG(fin != NULL, "no final estimate in: %s", out);
    double v = fin ? strtod(fin + strlen("Final estimate: PPL = "), NULL) : 0;
    CHECK_MSG(fabs(v - ref) <= 1e-3 * ref, "final %f vs reference %f", v, ref);
    /* A random 611-token model: perplexity near the vocabulary size, far from 1. */
    CHECK(ref > 100 && ref < 5000);

    /* Too short a text for 2 chunks, and a missing file: errors, not crashes. */
    snprintf(cmd, sizeof cmd, "'%s' perplexity -m '%s' -f '%s' -c 4096 >/dev/null 2>&1", bin, model, text);
    CHECK(system(cmd) != 0);
    snprintf(cmd, sizeof cmd, "'%s' perplexity -m '%s' -f /nonexistent >/dev/null 2>&1", bin, model);
    CHECK(system(cmd) != 0);
    return test_main_end();
}
