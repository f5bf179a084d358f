/* The real Gemma 3 270M (Q4_K_M, $SOVA_SRC/models, scripts/fetch-test-model.sh)
 * against data/gemma3_270m_ref.json, a float64 forward pass over the same
 * dequantized weights (gen_gemma3_270m_ref.py). It covers what the tiny gemma3
 * fixture does not: head width 256 with n_embd 640, global layers every 6th
 * (rope base 1e6, no window), a prompt longer than the 512-token window, rows
 * of 640 in Q5_0/Q8_0/Q4_K/Q6_K, the tied 262144-token output.
 *
 * Per prompt, after the prompt in one decode, each of the reference's top-10
 * logits must be within LOGIT_TOL; then greedy decoding (one token per
 * decode) must give the reference's tokens, the first being the top-1, for
 * as long as the reference's top-1 leads its top-2 by LOGIT_TOL or more.
 * Tolerance: the CPU dots round activations to 8-bit blocks as ggml does;
 * on this model that moves logits (magnitudes 5-30) by up to ~1.1 against
 * float64 (measured with the generator's --ggml-rounding), and sova's
 * kernels, which now give ggml's exact roundings, land 0.1-1.6 from it
 * (chat is the worst prompt), while a global-layer rope base of 1e4 moves
 * them by 3.8 (chat) and a missing sliding window by 13.5 (count).
 * Skipped (exit 77) when the model file is absent. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sova.h"

#define LOGIT_TOL 2.0
#define N_TOP 10
#define N_GREEDY 8
#define MAX_IDS 1024

typedef struct {
    char name[32];
    int32_t ids[MAX_IDS];
    int32_t n_ids;
    int32_t top_ids[N_TOP];
    double top_logits[N_TOP];
    int32_t greedy[N_GREEDY];
    double margins[N_GREEDY]; /* reference top-1 - top-2 at each greedy step */
} ref_prompt;

static bool read_ints(json_t *a, int32_t *out, size_t n) {
    if (json_array_size(a) != n) return false;
    for (size_t i = 0; i < n; i++) out[i] = (int32_t)json_integer_value(json_array_get(a, i));
    return true;
}

static int load_ref(const char *path, ref_prompt *out, int max) {
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    CHECK_MSG(root != NULL, "%s: %s", path, err.text);
    json_t *ps = json_object_get(root, "prompts");
    int n = 0;
    for (size_t i = 0; i < json_array_size(ps) && n < max; i++) {
        json_t *p = json_array_get(ps, i);
        ref_prompt *q = &out[n];
        snprintf(q->name, sizeof q->name, "%s", json_string_value(json_object_get(p, "name")));
        json_t *ids = json_object_get(p, "ids"), *tl = json_object_get(p, "top_logits"),
               *gm = json_object_get(p, "greedy_margins");
        q->n_ids = (int32_t)json_array_size(ids);
        bool ok = q->n_ids > 0 && q->n_ids <= MAX_IDS && read_ints(ids, q->ids, (size_t)q->n_ids) &&
                  read_ints(json_object_get(p, "top_ids"), q->top_ids, N_TOP) && json_array_size(tl) == N_TOP &&
                  read_ints(json_object_get(p, "greedy"), q->greedy, N_GREEDY) && json_array_size(gm) == N_GREEDY;
        for (size_t k = 0; ok && k < N_TOP; k++) q->top_logits[k] = json_number_value(json_array_get(tl, k));
        for (size_t k = 0; ok && k < N_GREEDY; k++) q->margins[k] = json_number_value(json_array_get(gm, k));
        CHECK_MSG(ok, "%s: prompt %zu is malformed", path, i);
        if (ok) n++;
    }
    json_decref(root);
    return n;
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static void check_prompt(sova_model *m, const ref_prompt *p, sova_kv_type kv) {
    sova_ctx_params cp = sova_ctx_default_params();
    cp.n_ctx = 1024;
    cp.n_batch = 1024;
    cp.n_threads = 2;
    cp.type_k = cp.type_v = kv;
    sova_ctx *c = NULL;
    sova_status st = sova_ctx_new(m, &cp, &c);
    CHECK_MSG(st == SOVA_OK, "sova_ctx_new: %s", sova_errmsg());
    if (st != SOVA_OK) return;
    sova_batch b;
    sova_batch_init(p->n_ids, 1, &b);
    int32_t seq = 0, nv = sova_model_n_vocab(m);
    for (int32_t i = 0; i < p->n_ids; i++) sova_batch_add(&b, p->ids[i], i, &seq, 1, i == p->n_ids - 1);
    st = sova_decode(c, &b);
    CHECK_MSG(st == SOVA_OK, "%s decode: %s", p->name, sova_errmsg());
    if (st == SOVA_OK) {
        const float *row = sova_get_logits_ith(c, p->n_ids - 1);
        double max_err = 0;
        for (int k = 0; k < N_TOP; k++) {
            if (p->top_ids[k] < 0 || p->top_ids[k] >= nv) {
                CHECK_MSG(false, "%s: reference id %d out of range", p->name, p->top_ids[k]);
                break;
            }
            double e = fabs((double)row[p->top_ids[k]] - p->top_logits[k]);
            if (!(e <= max_err)) max_err = e;
        }
        CHECK_MSG(max_err <= LOGIT_TOL, "%s kv %d: top-10 logits max|err| %.3g > %.3g", p->name, (int)kv, max_err,
                  LOGIT_TOL);
        int n_cmp = 0;
        while (n_cmp < N_GREEDY && p->margins[n_cmp] >= LOGIT_TOL) n_cmp++;
        int32_t got[N_GREEDY] = {0};
        got[0] = argmax(row, nv);
        for (int k = 1; k < n_cmp && st == SOVA_OK; k++) {
            sova_batch_clear(&b);
            sova_batch_add(&b, got[k - 1], p->n_ids + k - 1, &seq, 1, true);
            st = sova_decode(c, &b);
            if (st == SOVA_OK) got[k] = argmax(sova_get_logits_ith(c, 0), nv);
        }
        CHECK_MSG(st == SOVA_OK, "%s greedy decode: %s", p->name, sova_errmsg());
        int same = 0;
        while (st == SOVA_OK && same < n_cmp && got[same] == p->greedy[same]) same++;
        CHECK_MSG(same == n_cmp, "%s kv %d: greedy token %d is %d, reference %d", p->name, (int)kv, same,
                  same < n_cmp ? got[same] : -1, same < n_cmp ? p->greedy[same] : -1);
        printf("  %s (%d tokens) kv %d: top-10 logits max|err| %.3f, %d/%d greedy tokens compared\n", p->name,
               p->n_ids, (int)kv, max_err, n_cmp, N_GREEDY);
    }
    sova_batch_free(&b);
    sova_ctx_free(c);
}

int main(void) {
    const char *src = getenv("SOVA_SRC");
    char path[4096], ref[4096];
    snprintf(path, sizeof path, "%s/models/gemma-3-270m-q4_k_m.gguf", src ? src : ".");
    snprintf(ref, sizeof ref, "%s/tests/model/data/gemma3_270m_ref.json", src ? src : ".");
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("skipped: %s absent (bash scripts/fetch-test-model.sh fetches it)\n", path);
        return 77;
    }
    fclose(f);
    static ref_prompt prompts[8];
    int n = load_ref(ref, prompts, 8);
    CHECK(n >= 5);
    sova_model *m = NULL;
    sova_status st = sova_model_load(path, NULL, &m);
    CHECK_MSG(st == SOVA_OK, "load %s: %s", path, sova_errmsg());
    if (st == SOVA_OK) {
        for (int i = 0; i < n; i++) check_prompt(m, &prompts[i], SOVA_KV_F16);
        check_prompt(m, &prompts[0], SOVA_KV_F32);
    }
    sova_model_free(m);
    return test_main_end();
}
