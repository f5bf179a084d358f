/* `sova quantize` output read back: every tensor dequantizes close to the F32
 * input (relative RMS error per tensor type), unquantized
 * tensors are bit-identical, and the mix rules on a qwen2.5-0.5b shape (row
 * length 896, not a multiple of 256) fall back like llama.cpp. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/check.h"
#include "gguf/gguf.h"
#include "tensor/quantize_mix.h"
#include "tensor/type.h"

static const char *const k_ftypes[] = {"Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_0", "Q5_1", "Q4_K_M",
                                       "Q4_K_S", "Q4_0", "Q4_1", "Q3_K_M", "Q2_K", "F16", "BF16"};

/* Bound for one tensor type, whatever file type chose it: ~1.15x the largest
 * error ggml's reference quantizers reach here (the same bytes, see
 * test_quantize.sh). F16/BF16 are exact: the fixture weights are
 * bf16-representable and small. */
static double bound_for(tensor_type t) {
    switch (t) {
    case GGUF_TYPE_Q8_0: return 0.0062;
    case GGUF_TYPE_Q6_K: return 0.021;
    case GGUF_TYPE_Q5_K: return 0.042;
    case GGUF_TYPE_Q5_0: return 0.049;
    case GGUF_TYPE_Q5_1: return 0.044;
    case GGUF_TYPE_Q4_K: return 0.083;
    case GGUF_TYPE_Q4_0: return 0.098;
    case GGUF_TYPE_Q4_1: return 0.089;
    case GGUF_TYPE_Q3_K: return 0.175;
    case GGUF_TYPE_Q2_K: return 0.34;
    case GGUF_TYPE_F16: return 1e-7;
    case GGUF_TYPE_BF16: return 1e-7;
    default: return 0.0;
    }
}

static void check_file(const char *src_path, const char *q_path, const char *ftype) {
    gguf_file *a = NULL, *b = NULL;
    CHECK(gguf_open(src_path, NULL, &a) == SV_OK);
    CHECK_MSG(gguf_open(q_path, NULL, &b) == SV_OK, "%s: %s", q_path, sv_errmsg());
    if (!a || !b) goto done;
    CHECK_EQ_I64(gguf_tensor_count(a), gguf_tensor_count(b));
    for (int64_t i = 0; i < gguf_tensor_count(a); i++) {
        const gguf_tensor_info *ta = gguf_tensor(a, i), *tb = gguf_find_tensor(b, ta->name);
        CHECK_MSG(tb != NULL, "%s missing in %s", ta->name, q_path);
        if (!tb) continue;
        CHECK(memcmp(ta->ne, tb->ne, sizeof ta->ne) == 0);
        if (tb->type == GGUF_TYPE_F32) {
            CHECK_MSG(ta->size == tb->size && !memcmp(ta->data, tb->data, ta->size), "%s %s changed", ftype, ta->name);
            continue;
        }
        int64_t n = (int64_t)(ta->size / 4);
        float *d = malloc((size_t)n * sizeof *d);
        tensor_type_get(tb->type)->to_float(tb->data, d, n);
        const float *x = (const float *)ta->data;
        double se = 0, sx = 0;
        for (int64_t k = 0; k < n; k++) {
            se += ((double)d[k] - x[k]) * ((double)d[k] - x[k]);
            sx += (double)x[k] * x[k];
        }
        double rel = sqrt(se / sx);
        double bound = bound_for(tb->type);
        CHECK_MSG(bound > 0 && rel <= bound, "%s %s as %s: relative rmse %.5f > %.5f", ftype, ta->name,
                  gguf_type_name(tb->type), rel, bound);
        if (getenv("SOVA_TEST_VERBOSE"))
            printf("%-7s %-28s %-5s %.5f\n", ftype, ta->name, gguf_type_name(tb->type), rel);
        free(d);
    }
done:
    gguf_free(a);
    gguf_free(b);
}

/* qwen2.5-0.5b: n_embd 896 = 3.5 blocks of 256. Q4_K_M must give Q5_0 for
 * the 896-column K-quant tensors, Q8_0 where Q6_K was chosen, and leave
 * ffn_down (4864 columns) at Q4_K/Q6_K; token_embd is tied -> Q8_0 (its
 * columns do not fit Q4_K, so the output rule picks Q8_0 directly). */
static void check_fallback_mix(void) {
    enum { NL = 24 };
    static char names[NL * 4 + 2][48];
    tensor_mix_tensor t[NL * 4 + 2];
    int n = 0;
    snprintf(names[n], 48, "token_embd.weight");
    t[n] = (tensor_mix_tensor){.name = names[n], .n_dims = 2, .ne = {896, 151936, 1, 1}, .type = GGUF_TYPE_F32};
    n++;
    for (int l = 0; l < NL; l++) {
        snprintf(names[n], 48, "blk.%d.attn_v.weight", l);
        t[n] = (tensor_mix_tensor){.name = names[n], .n_dims = 2, .ne = {896, 128, 1, 1}, .type = GGUF_TYPE_F32};
        n++;
        snprintf(names[n], 48, "blk.%d.ffn_down.weight", l);
        t[n] = (tensor_mix_tensor){.name = names[n], .n_dims = 2, .ne = {4864, 896, 1, 1}, .type = GGUF_TYPE_F32};
        n++;
        snprintf(names[n], 48, "blk.%d.attn_q.weight", l);
        t[n] = (tensor_mix_tensor){.name = names[n], .n_dims = 2, .ne = {896, 896, 1, 1}, .type = GGUF_TYPE_F32};
        n++;
        snprintf(names[n], 48, "blk.%d.attn_q.bias", l);
        t[n] = (tensor_mix_tensor){.name = names[n], .n_dims = 1, .ne = {896, 1, 1, 1}, .type = GGUF_TYPE_F32};
        n++;
    }
    snprintf(names[n], 48, "output_norm.weight");
    t[n] = (tensor_mix_tensor){.name = names[n], .n_dims = 1, .ne = {896, 1, 1, 1}, .type = GGUF_TYPE_F32};
    n++;
    tensor_mix_model m = {.arch = "qwen2", .n_layer = NL, .n_head = 14, .n_head_kv = 2};
    int64_t perm[NL * 4 + 2];
    tensor_type ty[NL * 4 + 2];
    int nfb = 0;
    CHECK(tensor_mix_sort(t, n, perm) == SV_OK);
    CHECK(strcmp(t[perm[0]].name, "output_norm.weight") == 0); /* outside blocks first, by name */
    CHECK(strcmp(t[perm[2]].name, "blk.0.attn_q.bias") == 0);
    CHECK(strcmp(t[perm[n - 1]].name, "blk.23.ffn_down.weight") == 0); /* blk.23 after blk.3 */
    CHECK(tensor_mix_types(&m, TENSOR_FTYPE_Q4_K_M, false, t, n, perm, ty, &nfb) == SV_OK);
    /* use_more_bits(i, 24): i < 3, i >= 21, or (i - 3) % 3 == 2. */
    for (int l = 0; l < NL; l++) {
        bool more = l < 3 || l >= 21 || (l - 3) % 3 == 2;
        int base = 1 + l * 4;
        CHECK_MSG(ty[base] == (more ? GGUF_TYPE_Q8_0 : GGUF_TYPE_Q5_0), "attn_v %d: %s", l, gguf_type_name(ty[base]));
        CHECK_MSG(ty[base + 1] == (more ? GGUF_TYPE_Q6_K : GGUF_TYPE_Q4_K), "ffn_down %d", l);
        CHECK(ty[base + 2] == GGUF_TYPE_Q5_0);
        CHECK(ty[base + 3] == GGUF_TYPE_F32);
    }
    CHECK(ty[0] == GGUF_TYPE_Q8_0);
    CHECK(ty[n - 1] == GGUF_TYPE_F32);
    CHECK_EQ_I64(nfb, NL * 2); /* attn_v and attn_q of every layer */
    CHECK(tensor_mix_types(&m, TENSOR_FTYPE_Q8_0, false, t, n, perm, ty, &nfb) == SV_OK);
    CHECK(ty[0] == GGUF_TYPE_Q8_0 && ty[1] == GGUF_TYPE_Q8_0 && nfb == 0);
    /* A row of 100 fits no block type: F16. */
    tensor_mix_tensor odd = {.name = "blk.0.ffn_up.weight", .n_dims = 2, .ne = {100, 64, 1, 1}, .type = GGUF_TYPE_F32};
    int64_t p0 = 0;
    CHECK(tensor_mix_types(&m, TENSOR_FTYPE_Q4_0, false, &odd, 1, &p0, ty, &nfb) == SV_OK);
    CHECK(ty[0] == GGUF_TYPE_F16 && nfb == 1);
    tensor_ftype ft;
    CHECK(tensor_ftype_from_name("q4_k_m", &ft) && ft == TENSOR_FTYPE_Q4_K_M);
    CHECK(!tensor_ftype_from_name("Q4_K_X", &ft));
}

int main(void) {
    const char *fx = getenv("SOVA_FIXTURES"), *bin = getenv("SOVA_BIN");
    check_fallback_mix();
    if (!fx || !bin) {
        fprintf(stderr, "SOVA_FIXTURES and SOVA_BIN must be set\n");
        return 1;
    }
    char dir[] = "/tmp/sova-qerr-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    const char *models[] = {"llama", "qwen2", "gemma3"};
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        char src[1024], out[1200], cmd[4096];
        snprintf(src, sizeof src, "%s/models/%s/%s-F32.gguf", fx, models[mi], models[mi]);
        for (size_t k = 0; k < sizeof k_ftypes / sizeof k_ftypes[0]; k++) {
            snprintf(out, sizeof out, "%s/%s-%s.gguf", dir, models[mi], k_ftypes[k]);
            snprintf(cmd, sizeof cmd, "'%s' quantize -q -t 2 '%s' '%s' %s > /dev/null", bin, src, out, k_ftypes[k]);
            CHECK_MSG(system(cmd) == 0, "%s", cmd);
            check_file(src, out, k_ftypes[k]);
            unlink(out);
        }
    }
    rmdir(dir);
    return test_main_end();
}
