/* Exact token ids against the golden tokenizer references in
 * $SOVA_FIXTURES/vocab: NAME.jsonl (HF ids with special-token text matched,
 * no BOS/EOS, plus the decoded text) and NAME.inp/.out (llama.cpp's
 * test-tokenizer-0 format, parse_special off). No tolerance: ids must be equal. */
#include <jansson.h>
#include <utf8proc.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gguf/gguf.h"
#include "text/tok.h"

static tok_vocab *load_vocab(const char *rel) {
    gguf_open_params p = gguf_default_open_params();
    p.map_data = false;
    gguf_file *f = NULL;
    if (gguf_open(t_fixture(rel), &p, &f) != SV_OK) {
        CHECK_MSG(0, "open %s: %s", rel, sv_errmsg());
        return NULL;
    }
    tok_vocab *v = NULL;
    if (tok_vocab_load(f, &v) != SV_OK) CHECK_MSG(0, "vocab %s: %s", rel, sv_errmsg());
    gguf_free(f);
    return v;
}

static void print_ids(const char *what, const tok_id *ids, size_t n) {
    fprintf(stderr, "    %s:", what);
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, "\n");
}

/* Compares one case; returns true when equal (and reports otherwise). */
static bool same_ids(const char *name, const char *text, size_t len, const tok_ids *got, const tok_id *want,
                     size_t n_want) {
    bool ok = got->n == n_want && (n_want == 0 || memcmp(got->ids, want, n_want * sizeof *want) == 0);
    if (!ok) {
        fprintf(stderr, "  %s: mismatch for \"%.*s\"\n", name, (int)(len > 120 ? 120 : len), text);
        print_ids("want", want, n_want);
        print_ids("got ", got->ids, got->n);
    }
    return ok;
}

static void run_jsonl(const char *name, const char *gguf_rel, const char *jsonl_rel) {
    tok_vocab *v = load_vocab(gguf_rel);
    if (!v) return;
    size_t size;
    char *data = (char *)t_read_file(t_fixture(jsonl_rel), &size);
    int n = 0, bad_ids = 0, bad_text = 0;
    for (char *line = data, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        if (!o) {
            CHECK_MSG(0, "%s: bad JSON line: %s", jsonl_rel, err.text);
            continue;
        }
        const char *text = json_string_value(json_object_get(o, "text"));
        size_t len = json_string_length(json_object_get(o, "text"));
        json_t *jids = json_object_get(o, "ids");
        size_t nw = json_array_size(jids);
        tok_id *want = malloc((nw + 1) * sizeof *want);
        for (size_t i = 0; i < nw; i++) want[i] = (tok_id)json_integer_value(json_array_get(jids, i));
        tok_ids got = {0};
        CHECK(tok_encode(v, text, len, TOK_PARSE_SPECIAL, &got) == SV_OK);
        if (!same_ids(name, text, len, &got, want, nw)) bad_ids++;
        const char *dec = json_string_value(json_object_get(o, "decoded"));
        if (dec) {
            char *out = NULL;
            size_t olen = 0;
            CHECK(tok_decode(v, want, nw, TOK_DECODE_SPECIAL | TOK_DECODE_STRIP_PREFIX, &out, &olen) == SV_OK);
            size_t dlen = json_string_length(json_object_get(o, "decoded"));
            if (!out || olen != dlen || memcmp(out, dec, dlen) != 0) {
                bad_text++;
                fprintf(stderr, "  %s: decode mismatch: want \"%s\" got \"%s\"\n", name, dec, out ? out : "");
            }
            free(out);
        }
        n++;
        tok_ids_free(&got);
        free(want);
        json_decref(o);
    }
    CHECK_MSG(n > 0, "%s: no cases", jsonl_rel);
    CHECK_MSG(bad_ids == 0, "%s: %d of %d id sequences differ", jsonl_rel, bad_ids, n);
    CHECK_MSG(bad_text == 0, "%s: %d of %d decoded texts differ", jsonl_rel, bad_text, n);
    printf("  %-12s %s: %d cases\n", name, jsonl_rel, n);
    free(data);
    tok_vocab_free(v);
}

/* Decoding gives the text back: exactly for byte-level BPE and SPM with byte
 * fallback, after NFC for Qwen (its normalizer). WordPiece lower-cases and
 * drops accents and spaces, so it has no round trip. */
static bool roundtrip(const tok_vocab *v, const char *text, size_t len, const tok_ids *ids) {
    if (tok_vocab_model(v) == TOK_MODEL_WPM) return true;
    char *out = NULL, *want = NULL;
    size_t olen = 0, wlen = len;
    if (tok_decode(v, ids->ids, ids->n, TOK_DECODE_SPECIAL | TOK_DECODE_STRIP_PREFIX, &out, &olen) != SV_OK)
        return false;
    const char *w = text;
    if (!strcmp(tok_vocab_pre(v), "qwen2")) {
        utf8proc_ssize_t k = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len,
                                          (utf8proc_uint8_t **)&want, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (k >= 0) w = want, wlen = (size_t)k;
    }
    bool ok = olen == wlen && memcmp(out, w, wlen) == 0;
    if (!ok) fprintf(stderr, "  round trip: want \"%.*s\" got \"%s\"\n", (int)wlen, w, out);
    free(out);
    free(want);
    return ok;
}

static void run_inp_out(const char *name, const char *gguf_rel, const char *inp_rel, const char *out_rel) {
    tok_vocab *v = load_vocab(gguf_rel);
    if (!v) return;
    size_t isz, osz;
    char *inp = (char *)t_read_file(t_fixture(inp_rel), &isz);
    char *outs = (char *)t_read_file(t_fixture(out_rel), &osz);
    static const char sep[] = "\n__ggml_vocab_test__\n";
    char *text = inp, *oline = outs;
    int n = 0, bad = 0, bad_rt = 0;
    while (text < inp + isz) {
        char *end = strstr(text, sep);
        if (!end) break;
        char *onext = strchr(oline, '\n');
        if (onext) *onext++ = 0;
        tok_id want[4096];
        size_t nw = 0;
        for (char *p = oline, *q; nw < 4096; p = q) {
            long x = strtol(p, &q, 10);
            if (q == p) break;
            want[nw++] = (tok_id)x;
        }
        tok_ids got = {0};
        size_t len = (size_t)(end - text);
        CHECK(tok_encode(v, text, len, 0, &got) == SV_OK);
        if (!same_ids(name, text, len, &got, want, nw)) bad++;
        if (!roundtrip(v, text, len, &got)) bad_rt++;
        n++;
        tok_ids_free(&got);
        text = end + sizeof sep - 1;
        oline = onext ? onext : outs + osz;
    }
    CHECK_MSG(n > 0, "%s: no cases", inp_rel);
    CHECK_MSG(bad == 0, "%s: %d of %d id sequences differ", inp_rel, bad, n);
    CHECK_MSG(bad_rt == 0, "%s: %d of %d texts do not decode back", inp_rel, bad_rt, n);
    printf("  %-12s %s: %d cases\n", name, inp_rel, n);
    free(inp);
    free(outs);
    tok_vocab_free(v);
}

static void test_qwen2(void) {
    run_jsonl("qwen2", "vocab/ggml-vocab-qwen2.gguf", "vocab/qwen2.jsonl");
    run_inp_out("qwen2", "vocab/ggml-vocab-qwen2.gguf", "vocab/qwen2.inp", "vocab/qwen2.out");
    run_inp_out("qwen2", "vocab/ggml-vocab-qwen2.gguf", "vocab/llamacpp/ggml-vocab-qwen2.gguf.inp",
                "vocab/llamacpp/ggml-vocab-qwen2.gguf.out");
}

static void test_llama3(void) {
    run_jsonl("llama3", "vocab/ggml-vocab-llama3.gguf", "vocab/llama3.jsonl");
    run_inp_out("llama3", "vocab/ggml-vocab-llama3.gguf", "vocab/llama3.inp", "vocab/llama3.out");
    run_inp_out("llama-bpe", "vocab/ggml-vocab-llama3.gguf", "vocab/llamacpp/ggml-vocab-llama-bpe.gguf.inp",
                "vocab/llamacpp/ggml-vocab-llama-bpe.gguf.out");
}

static void test_tiny_models(void) {
    run_jsonl("tiny-qwen", "models/qwen2/qwen2-F32.gguf", "vocab/tiny-qwen.jsonl");
    run_inp_out("tiny-qwen", "models/qwen2/qwen2-F32.gguf", "vocab/tiny-qwen.inp", "vocab/tiny-qwen.out");
    run_jsonl("tiny-llama3", "models/llama/llama-F32.gguf", "vocab/tiny-llama3.jsonl");
    run_inp_out("tiny-llama3", "models/llama/llama-F32.gguf", "vocab/tiny-llama3.inp", "vocab/tiny-llama3.out");
    run_jsonl("tiny-gemma", "models/gemma3/gemma3-F32.gguf", "vocab/tiny-gemma.jsonl");
    run_inp_out("tiny-gemma", "models/gemma3/gemma3-F32.gguf", "vocab/tiny-gemma.inp", "vocab/tiny-gemma.out");
}

static void test_llamacpp(void) {
    static const char *const names[] = {"llama-spm", "phi-3", "gpt-2", "deepseek-coder", "bert-bge"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char g[200], in[256], out[256];
        snprintf(g, sizeof g, "vocab/llamacpp/ggml-vocab-%s.gguf", names[i]);
        snprintf(in, sizeof in, "%s.inp", g);
        snprintf(out, sizeof out, "%s.out", g);
        run_inp_out(names[i], g, in, out);
    }
}

int main(void) {
    RUN_TEST(test_qwen2);
    RUN_TEST(test_llama3);
    RUN_TEST(test_tiny_models);
    RUN_TEST(test_llamacpp);
    return test_main_end();
}
