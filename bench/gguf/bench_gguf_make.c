/* Writes a synthetic GGUF of about SIZE_MB megabytes (default 1536) with a
 * realistic tensor mix (one large embedding, many equal layer matrices, small
 * norms) filled with pseudo-random bytes, for bench/gguf/hash_bench.sh. */
#include <stdio.h>
#include <stdlib.h>

#include "gguf/gguf_writer.h"

static sv_status fill_random(void *user, const gguf_tensor_info *t, gguf_sink *sink) {
    uint64_t *state = user;
    static uint64_t chunk[1 << 16];
    for (uint64_t done = 0; done < t->size;) {
        for (size_t i = 0; i < sizeof chunk / sizeof *chunk; i++) {
            uint64_t x = *state;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            chunk[i] = *state = x;
        }
        size_t n = t->size - done < sizeof chunk ? (size_t)(t->size - done) : sizeof chunk;
        sv_status st = gguf_sink_write(sink, chunk, n);
        if (st) return st;
        done += n;
    }
    return SV_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_gguf_make OUT.gguf [SIZE_MB]\n");
        return 2;
    }
    long mb = argc > 2 ? atol(argv[2]) : 1536;
    if (mb < 64) mb = 64;
    /* Q8_0 layer matrices of 4096 x 1024 (4.25 MiB each), an embedding of
     * 4096 x 32000 in Q8_0, and an F32 norm per layer. */
    const int64_t n_embd = 4096, n_vocab = 32000, n_ff = 1024;
    uint64_t emb = (uint64_t)n_embd / 32 * 34 * (uint64_t)n_vocab, mat = (uint64_t)n_embd / 32 * 34 * (uint64_t)n_ff;
    int64_t n_mats = ((int64_t)mb * 1024 * 1024 - (int64_t)emb) / (int64_t)mat;
    if (n_mats < 1) n_mats = 1;
    gguf_writer *w;
    uint64_t state = 0x9E3779B97F4A7C15ull;
    sv_status st = gguf_writer_new(&w);
    if (!st) st = gguf_writer_set_str(w, "general.architecture", "llama");
    int64_t ne_emb[2] = {n_embd, n_vocab}, ne_mat[2] = {n_embd, n_ff}, ne_norm[1] = {n_embd};
    if (!st) st = gguf_writer_add_tensor_fn(w, "token_embd.weight", GGUF_TYPE_Q8_0, 2, ne_emb, fill_random, &state);
    for (int64_t i = 0; i < n_mats && !st; i++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%lld.ffn.%lld.weight", (long long)(i / 4), (long long)(i % 4));
        st = gguf_writer_add_tensor_fn(w, name, GGUF_TYPE_Q8_0, 2, ne_mat, fill_random, &state);
        if (!st && i % 4 == 3) {
            snprintf(name, sizeof name, "blk.%lld.norm.weight", (long long)(i / 4));
            st = gguf_writer_add_tensor_fn(w, name, GGUF_TYPE_F32, 1, ne_norm, fill_random, &state);
        }
    }
    if (!st) st = gguf_writer_write(w, argv[1]);
    gguf_writer_free(w);
    if (st) {
        fprintf(stderr, "bench_gguf_make: %s\n", sv_errmsg());
        return 1;
    }
    return 0;
}
