/* End-to-end agreement with the reference models through the public C API.
 *
 * F32 GGUFs: every logits row of prompt + greedy[:-1] within
 * max|err| <= 1e-3 * max|logit| of transformers' fp32 logits (the fixtures'
 * tolerance: llama.cpp itself is at ~1e-5 on these), and the 16 greedy tokens
 * exactly. F16 GGUFs: llama.cpp's recorded greedy tokens (llamacpp.json).
 * Quantized GGUFs: the logits of p1_chat against llama.cpp's (same quantized
 * weights) within 0.75 x the distance between llama.cpp and HF there, and
 * llama.cpp's 16 greedy tokens exactly (the forward pass follows ggml's CPU
 * float order, so 8-bit activation roundings come out the same) with the
 * kernel sets checked against llama.cpp (AVX2, portable), except the pairs in
 * known_divergent (see docs/model.md); other kernel sets only count them. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/npy.h"
#include "check.h"
#include "sova.h"
#include "tensor/type.h"

typedef struct {
    char name[32];
    int32_t ids[256];
    int n_ids;
    int32_t greedy[16];
} prompt;

static int load_prompts(const char *dir, prompt *out, int max) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/reference.json", dir);
    json_error_t err;
    json_t *root = json_load_file(t_fixture(rel), 0, &err);
    CHECK_MSG(root != NULL, "%s: %s", rel, err.text);
    if (!root) return 0;
    json_t *ps = json_object_get(root, "prompts");
    int n = 0;
    for (size_t i = 0; i < json_array_size(ps) && n < max; i++) {
        json_t *p = json_array_get(ps, i);
        prompt *q = &out[n];
        snprintf(q->name, sizeof q->name, "%s", json_string_value(json_object_get(p, "name")));
        json_t *ids = json_object_get(p, "ids"), *gr = json_object_get(p, "greedy");
        if (json_array_size(ids) > 256 || json_array_size(gr) != 16) continue;
        q->n_ids = (int)json_array_size(ids);
        for (int k = 0; k < q->n_ids; k++) q->ids[k] = (int32_t)json_integer_value(json_array_get(ids, (size_t)k));
        for (int k = 0; k < 16; k++) q->greedy[k] = (int32_t)json_integer_value(json_array_get(gr, (size_t)k));
        n++;
    }
    json_decref(root);
    return n;
}

/* max|llama.cpp - HF| of one GGUF for one prompt (llamacpp.json), 0 when absent. */
static double llamacpp_hf_diff(const char *dir, const char *gguf, const char *pname) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/llamacpp.json", dir);
    json_t *root = json_load_file(t_fixture(rel), 0, NULL);
    json_t *d = json_object_get(json_object_get(json_object_get(json_object_get(root, "ggufs"), gguf), pname),
                                "max_abs_diff");
    double v = json_is_number(d) ? json_number_value(d) : 0.0;
    json_decref(root);
    return v;
}

/* llama.cpp's greedy tokens of one GGUF for one prompt. */
static bool llamacpp_greedy(const char *dir, const char *gguf, const char *pname, int32_t *out) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/llamacpp.json", dir);
    json_t *root = json_load_file(t_fixture(rel), 0, NULL);
    json_t *gr = json_object_get(json_object_get(json_object_get(json_object_get(root, "ggufs"), gguf), pname),
                                 "greedy");
    bool ok = json_array_size(gr) == 16;
    for (int k = 0; ok && k < 16; k++) out[k] = (int32_t)json_integer_value(json_array_get(gr, (size_t)k));
    json_decref(root);
    return ok;
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static sova_ctx *new_ctx(sova_model *m, uint32_t n_ubatch, sova_kv_type kv) {
    sova_ctx_params cp = sova_ctx_default_params();
    cp.n_ctx = 256;
    cp.n_batch = 256;
    cp.n_ubatch = n_ubatch;
    cp.n_threads = 2;
    cp.type_k = cp.type_v = kv;
    cp.ggml_order = true; /* llama.cpp's float order, for its recorded tokens */
    sova_ctx *c = NULL;
    sova_status st = sova_ctx_new(m, &cp, &c);
    CHECK_MSG(st == SOVA_OK, "sova_ctx_new: %s", sova_errmsg());
    return c;
}

/* Teacher-forced logits of prompt + greedy[:-1] in one batch (micro-batches
 * of n_ubatch) against the reference rows. */
/* Tolerance: rel_tol x max|reference logit|, or abs_tol when > 0. */
static void check_logits_file(sova_model *m, const char *dir, const char *file, const prompt *p, uint32_t n_ubatch,
                              sova_kv_type kv, double rel_tol, double abs_tol) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/%s", dir, file);
    sv_npy ref;
    if (sv_npy_load(t_fixture(rel), &ref) != SV_OK || ref.n_dims != 2) {
        CHECK_MSG(false, "cannot load %s", rel);
        return;
    }
    int32_t nv = sova_model_n_vocab(m), n = p->n_ids + 15;
    CHECK_EQ_I64(ref.shape[0], n);
    CHECK_EQ_I64(ref.shape[1], nv);
    sova_ctx *c = new_ctx(m, n_ubatch, kv);
    sova_batch b;
    sova_batch_init(n, 1, &b);
    int32_t seq = 0;
    for (int32_t i = 0; i < n; i++)
        sova_batch_add(&b, i < p->n_ids ? p->ids[i] : p->greedy[i - p->n_ids], i, &seq, 1, true);
    sova_status st = c ? sova_decode(c, &b) : SOVA_ERR_INVALID_ARG;
    CHECK_MSG(st == SOVA_OK, "%s/%s decode: %s", dir, p->name, sova_errmsg());
    if (st == SOVA_OK && ref.shape[0] == n && ref.shape[1] == nv) {
        const float *r = ref.data;
        double max_err = 0, max_ref = 0;
        for (int32_t i = 0; i < n; i++) {
            const float *row = sova_get_logits_ith(c, i);
            for (int32_t v = 0; v < nv; v++) {
                double e = fabs((double)row[v] - r[(size_t)i * (size_t)nv + (size_t)v]);
                if (!(e <= max_err)) max_err = e;
                if (fabs(r[(size_t)i * (size_t)nv + (size_t)v]) > max_ref) max_ref = fabs(r[(size_t)i * (size_t)nv + (size_t)v]);
            }
        }
        double tol = abs_tol > 0 ? abs_tol : rel_tol * max_ref;
        CHECK_MSG(max_err <= tol, "%s ubatch %u: max|err| %.3g > %.3g", rel, n_ubatch, max_err, tol);
        printf("  %s ubatch %u kv %d: max|err| %.3g (max|logit| %.3g)\n", rel, n_ubatch, (int)kv, max_err, max_ref);
    }
    sova_batch_free(&b);
    sova_ctx_free(c);
    sv_npy_free(&ref);
}

static void check_logits(sova_model *m, const char *dir, const prompt *p, uint32_t n_ubatch, sova_kv_type kv,
                         double rel_tol) {
    char file[sizeof p->name + 16];
    snprintf(file, sizeof file, "%.31s_logits.npy", p->name);
    check_logits_file(m, dir, file, p, n_ubatch, kv, rel_tol, 0);
}

/* Prompt in one decode, then 16 greedy steps of one token each. */
/* Returns how many leading tokens agree with want; all 16 must when required. */
static int check_greedy(sova_model *m, const char *label, const prompt *p, const int32_t *want, sova_kv_type kv,
                        bool required) {
    sova_ctx *c = new_ctx(m, 512, kv);
    if (!c) return 0;
    sova_batch b;
    sova_batch_init(p->n_ids, 1, &b);
    int32_t seq = 0, got[16];
    for (int32_t i = 0; i < p->n_ids; i++) sova_batch_add(&b, p->ids[i], i, &seq, 1, i == p->n_ids - 1);
    sova_status st = sova_decode(c, &b);
    int n_got = 0;
    for (int k = 0; st == SOVA_OK && k < 16; k++) {
        got[n_got++] = argmax(sova_get_logits_ith(c, -1), sova_model_n_vocab(m));
        sova_batch_clear(&b);
        sova_batch_add(&b, got[k], p->n_ids + k, &seq, 1, true);
        if (k < 15) st = sova_decode(c, &b);
    }
    CHECK_MSG(st == SOVA_OK, "%s/%s decode: %s", label, p->name, sova_errmsg());
    int first_bad = -1;
    for (int k = 0; k < n_got && first_bad < 0; k++)
        if (got[k] != want[k]) first_bad = k;
    CHECK_MSG(n_got == 16 && (first_bad < 0 || !required), "%s/%s greedy differs at step %d: %d vs %d", label,
              p->name, first_bad, first_bad >= 0 ? got[first_bad] : -1, first_bad >= 0 ? want[first_bad] : -1);
    sova_batch_free(&b);
    sova_ctx_free(c);
    return first_bad < 0 ? n_got : first_bad;
}

static void run_f32(const char *dir, const char *file) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/%s", dir, file);
    sova_model *m = NULL;
    sova_status st = sova_model_load(t_fixture(rel), NULL, &m);
    CHECK_MSG(st == SOVA_OK, "load %s: %s", rel, sova_errmsg());
    if (!m) return;
    prompt ps[4];
    int n = load_prompts(dir, ps, 4);
    CHECK(n == 3);
    for (int i = 0; i < n; i++) {
        check_logits(m, dir, &ps[i], 512, SOVA_KV_F32, 1e-3);
        check_logits(m, dir, &ps[i], 512, SOVA_KV_F16, 1e-3);
        check_logits(m, dir, &ps[i], 7, SOVA_KV_F16, 1e-3);
        /* Q8_0 keys and values round to 8 bits per value: a looser bound. */
        check_logits(m, dir, &ps[i], 512, SOVA_KV_Q8_0, 2e-2);
        check_greedy(m, rel, &ps[i], ps[i].greedy, SOVA_KV_F16, true);
    }
    sova_model_free(m);
}

static void test_llama(void) { run_f32("llama", "llama-F32.gguf"); }
static void test_qwen2(void) { run_f32("qwen2", "qwen2-F32.gguf"); }
static void test_qwen3(void) { run_f32("qwen3", "qwen3-F32.gguf"); }
static void test_gemma3(void) { run_f32("gemma3", "gemma3-F32.gguf"); }

/* Pairs whose greedy tokens differ from the recorded ones at a near-tie.
 * all_sets: with every kernel set; a llama.cpp CPU build newer than the
 * fixtures' (d32676d) diverges from the record at exactly these too (its
 * Q4_K and repacked Q4_0 matmuls sum in another float order). Otherwise only
 * with the portable kernels, whose Q8_0 activation quantizer rounds halves
 * away from zero where ggml's AVX2 one rounds them to even. */
static const struct {
    const char *file, *prompt;
    bool all_sets;
} known_divergent[] = {
    {"llama-Q4_K_M.gguf", "p0_plain", true}, {"llama-Q4_K_M.gguf", "p2_random", true},
    {"qwen2-Q4_0.gguf", "p1_chat", true},    {"llama-Q8_0.gguf", "p2_random", false},
    {"llama-Q4_0.gguf", "p2_random", false},
};

static bool greedy_required(const char *file, const char *pname) {
    tensor_cpu cpu = tensor_cpu_active();
    if (cpu != TENSOR_CPU_AVX2 && cpu != TENSOR_CPU_GENERIC) return false;
    for (size_t i = 0; i < sizeof known_divergent / sizeof *known_divergent; i++)
        if (!strcmp(known_divergent[i].file, file) && !strcmp(known_divergent[i].prompt, pname) &&
            (known_divergent[i].all_sets || cpu == TENSOR_CPU_GENERIC))
            return false;
    return true;
}

static void run_quant(const char *dir, const char *file) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/%s", dir, file);
    sova_model *m = NULL;
    sova_status st = sova_model_load(t_fixture(rel), NULL, &m);
    CHECK_MSG(st == SOVA_OK, "load %s: %s", rel, sova_errmsg());
    if (!m) return;
    prompt ps[4];
    int n = load_prompts(dir, ps, 4);
    for (int i = 0; i < n; i++) {
        int32_t want[16];
        bool f16 = strstr(file, "-F16.") != NULL;
        /* F16 weights hold the same (bf16-exact) values as F32: HF's logits apply. */
        if (f16) check_logits(m, dir, &ps[i], 512, SOVA_KV_F32, 1e-3);
        else if (!strcmp(ps[i].name, "p1_chat")) {
            char lf[96];
            snprintf(lf, sizeof lf, "llamacpp_%.*s_p1_chat_logits.npy", (int)(strlen(file) - 5 - strlen(dir) - 1),
                     file + strlen(dir) + 1);
            double d = llamacpp_hf_diff(dir, file, "p1_chat");
            CHECK(d > 0);
            check_logits_file(m, dir, lf, &ps[i], 512, SOVA_KV_F32, 0, 0.75 * d);
        }
        CHECK(llamacpp_greedy(dir, file, ps[i].name, want));
        int same = check_greedy(m, rel, &ps[i], want, SOVA_KV_F32, f16 || greedy_required(file, ps[i].name));
        printf("  %s/%s: %d of 16 greedy tokens as llama.cpp before the first difference\n", rel, ps[i].name, same);
    }
    sova_model_free(m);
}

static void test_quantized(void) {
    static const char *const llama[] = {"llama-F16.gguf", "llama-Q8_0.gguf", "llama-Q6_K.gguf",
                                        "llama-Q5_K_M.gguf", "llama-Q4_K_M.gguf", "llama-Q4_0.gguf"};
    static const char *const qwen2[] = {"qwen2-F16.gguf", "qwen2-Q8_0.gguf", "qwen2-Q4_K_M.gguf", "qwen2-Q4_0.gguf"};
    for (size_t i = 0; i < sizeof llama / sizeof *llama; i++) run_quant("llama", llama[i]);
    for (size_t i = 0; i < sizeof qwen2 / sizeof *qwen2; i++) run_quant("qwen2", qwen2[i]);
}

int main(void) {
    RUN_TEST(test_llama);
    RUN_TEST(test_qwen2);
    RUN_TEST(test_qwen3);
    RUN_TEST(test_gemma3);
    RUN_TEST(test_quantized);
    return test_main_end();
}
