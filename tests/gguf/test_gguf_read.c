/* The reader on every fixture GGUF, checked against the metadata and tensor
 * lists that the fixture generator recorded independently (reference.json,
 * written by gguf-py from the same files). */
#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gguf/gguf.h"

static const char *k_models[] = {"llama", "gemma3", "gemma3vl", "qwen2", "qwen25vl", "qwen3"};

static void check_value(const gguf_file *f, const char *key, json_t *want) {
    const gguf_value *v = gguf_get(f, key);
    CHECK_MSG(v != NULL, "%s: key %s missing", gguf_split_path(f, 0), key);
    if (!v) return;
    if (json_is_string(want)) {
        const char *w = json_string_value(want);
        if (!strncmp(w, "[array of ", 10)) {
            CHECK_MSG(v->type == GGUF_VT_ARRAY && v->v.arr.n == strtoull(w + 10, NULL, 10), "%s: %s length", key, w);
        } else {
            CHECK_MSG(v->type == GGUF_VT_STRING && !strcmp(v->v.str.ptr, w), "%s: string differs", key);
        }
    } else if (json_is_boolean(want)) {
        bool b = false;
        CHECK_MSG(gguf_get_bool(f, key, &b) && b == json_is_true(want), "%s: bool differs", key);
    } else if (json_is_integer(want)) {
        long long w = json_integer_value(want);
        long long got = v->type == GGUF_VT_INT8 || v->type == GGUF_VT_INT16 || v->type == GGUF_VT_INT32 ||
                                v->type == GGUF_VT_INT64
                            ? (long long)v->v.i64
                            : (long long)v->v.u64;
        CHECK_MSG(got == w, "%s: %lld != %lld", key, got, w);
    } else if (json_is_real(want)) {
        float x = 0;
        CHECK_MSG(gguf_get_f32(f, key, &x) && (double)x == (double)(float)json_real_value(want), "%s: float differs",
                  key);
    }
}

static void check_against_reference(const char *model) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/reference.json", model);
    json_error_t err;
    json_t *root = json_load_file(t_fixture(rel), 0, &err);
    CHECK_MSG(root != NULL, "cannot load %s: %s", rel, err.text);
    if (!root) return;
    const char *gname;
    json_t *g;
    json_object_foreach(json_object_get(root, "gguf"), gname, g) {
        snprintf(rel, sizeof rel, "models/%s/%s", model, gname);
        FILE *probe = fopen(t_fixture(rel), "rb");
        if (!probe) continue; /* listed but not shipped */
        fclose(probe);
        gguf_file *f = NULL;
        sv_status st = gguf_open(t_fixture(rel), NULL, &f);
        CHECK_MSG(st == SV_OK, "%s: %s", rel, sv_errmsg());
        if (st) continue;
        json_t *md = json_object_get(g, "metadata");
        CHECK_EQ_I64(gguf_version(f), json_integer_value(json_object_get(md, "GGUF.version")));
        CHECK_EQ_I64(gguf_tensor_count(f), json_integer_value(json_object_get(md, "GGUF.tensor_count")));
        CHECK_EQ_I64(gguf_kv_count(f), json_integer_value(json_object_get(md, "GGUF.kv_count")));
        CHECK_EQ_I64(gguf_split_file_size(f, 0), json_integer_value(json_object_get(g, "bytes")));
        const char *key;
        json_t *want;
        json_object_foreach(md, key, want) {
            if (strncmp(key, "GGUF.", 5) != 0) check_value(f, key, want);
        }
        json_t *tensors = json_object_get(g, "tensors");
        size_t i;
        json_t *t;
        json_array_foreach(tensors, i, t) {
            const gguf_tensor_info *ti = gguf_tensor(f, (int64_t)i);
            if (!ti) break;
            CHECK_STREQ(ti->name, json_string_value(json_object_get(t, "name")));
            CHECK_STREQ(gguf_type_name(ti->type), json_string_value(json_object_get(t, "type")));
            json_t *shape = json_object_get(t, "shape");
            CHECK_EQ_I64(ti->n_dims, json_array_size(shape));
            for (size_t d = 0; d < json_array_size(shape); d++)
                CHECK_EQ_I64(ti->ne[d], json_integer_value(json_array_get(shape, d)));
            CHECK(gguf_find_tensor(f, ti->name) == ti);
        }
        gguf_free(f);
    }
    json_decref(root);
}

static void t_reference_metadata_and_tensors(void) {
    for (size_t i = 0; i < sizeof k_models / sizeof *k_models; i++) check_against_reference(k_models[i]);
}

/* Every fixture: tensors tile the data section in order, each padded to the
 * alignment, as ggml and gguf-py lay them out; the in-memory parse agrees. */
static void t_every_fixture_layout(void) {
    glob_t g;
    char pat[4096];
    int found = 0;
    snprintf(pat, sizeof pat, "%s", t_fixture("models/*/*.gguf"));
    glob(pat, 0, NULL, &g);
    snprintf(pat, sizeof pat, "%s", t_fixture("vocab/*.gguf"));
    glob(pat, GLOB_APPEND, NULL, &g);
    for (size_t k = 0; k < g.gl_pathc; k++) {
        const char *path = g.gl_pathv[k];
        gguf_file *f = NULL;
        sv_status st = gguf_open(path, NULL, &f);
        CHECK_MSG(st == SV_OK, "%s: %s", path, sv_errmsg());
        if (st) continue;
        found++;
        CHECK_EQ_I64(gguf_alignment(f), 32);
        CHECK(gguf_get_str(f, "general.architecture") != NULL);
        uint64_t expect = 0, size = gguf_split_file_size(f, 0);
        for (int64_t i = 0; i < gguf_tensor_count(f); i++) {
            const gguf_tensor_info *ti = gguf_tensor(f, i);
            CHECK_EQ_I64(ti->offset, expect);
            CHECK_EQ_I64(ti->file_offset, gguf_split_data_offset(f, 0) + ti->offset);
            int64_t n = ti->ne[0] * ti->ne[1] * ti->ne[2] * ti->ne[3];
            CHECK_EQ_I64(ti->size, (uint64_t)(n / gguf_type_block_size(ti->type)) * gguf_type_block_bytes(ti->type));
            CHECK(ti->data != NULL);
            expect = (ti->offset + ti->size + 31) / 32 * 32;
        }
        if (gguf_tensor_count(f) > 0) CHECK_EQ_I64(gguf_split_data_offset(f, 0) + expect, size);

        size_t n;
        uint8_t *img = t_read_file(path, &n);
        gguf_file *m = NULL;
        CHECK(gguf_open_memory(img, n, "mem", &m) == SV_OK);
        if (m) {
            CHECK_EQ_I64(gguf_tensor_count(m), gguf_tensor_count(f));
            CHECK_EQ_I64(gguf_kv_count(m), gguf_kv_count(f));
            for (int64_t i = 0; i < gguf_tensor_count(m); i++)
                CHECK(memcmp(gguf_tensor(m, i)->data, gguf_tensor(f, i)->data, gguf_tensor(f, i)->size) == 0);
        }
        gguf_free(m);
        free(img);

        gguf_open_params p = gguf_default_open_params();
        p.map_data = false;
        gguf_file *h = NULL;
        CHECK(gguf_open(path, &p, &h) == SV_OK);
        if (h && gguf_tensor_count(h) > 0) CHECK(gguf_tensor(h, 0)->data == NULL);
        gguf_free(h);
        gguf_free(f);
    }
    globfree(&g);
    CHECK_MSG(found >= 20, "only %d fixture GGUFs opened", found);
}

/* Quantized files hold the same tensors (names, shapes) as the F32 file
 * they were made from; README lists the type counts of the llama ones. */
static void t_quantized_match_f32(void) {
    static const char *quants[] = {"Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"};
    static const int q6k_count[] = {1, 3, 3, 16, 0};
    gguf_file *base = NULL;
    CHECK(gguf_open(t_fixture("models/llama/llama-F32.gguf"), NULL, &base) == SV_OK);
    if (!base) return;
    for (size_t q = 0; q < 5; q++) {
        char rel[128];
        snprintf(rel, sizeof rel, "models/llama/llama-%s.gguf", quants[q]);
        gguf_file *f = NULL;
        CHECK(gguf_open(t_fixture(rel), NULL, &f) == SV_OK);
        if (!f) continue;
        CHECK_EQ_I64(gguf_tensor_count(f), gguf_tensor_count(base));
        int q6 = 0, f32 = 0;
        for (int64_t i = 0; i < gguf_tensor_count(f); i++) {
            const gguf_tensor_info *t = gguf_tensor(f, i);
            const gguf_tensor_info *b = gguf_find_tensor(base, t->name);
            CHECK_MSG(b != NULL, "%s: %s not in F32", rel, t->name);
            if (b) CHECK(memcmp(b->ne, t->ne, sizeof t->ne) == 0);
            q6 += t->type == GGUF_TYPE_Q6_K;
            f32 += t->type == GGUF_TYPE_F32;
        }
        CHECK_EQ_I64(q6, q6k_count[q]);
        CHECK_EQ_I64(f32, 6);
        gguf_free(f);
    }
    gguf_free(base);
}

static void t_getters(void) {
    gguf_file *f = NULL;
    CHECK(gguf_open(t_fixture("models/llama/llama-F32.gguf"), NULL, &f) == SV_OK);
    if (!f) return;
    uint32_t u = 0;
    int32_t i = 0;
    uint64_t u64 = 0;
    float x = 0;
    CHECK(gguf_get_u32(f, "llama.block_count", &u) && u == 2);
    CHECK(gguf_get_i32(f, "llama.block_count", &i) && i == 2);
    CHECK(gguf_get_u64(f, "llama.embedding_length", &u64) && u64 == 256);
    CHECK(gguf_get_f32(f, "llama.rope.freq_base", &x) && x == 500000.0f);
    CHECK(!gguf_get_u32(f, "general.name", &u));
    CHECK(!gguf_get_f32(f, "llama.block_count", &x));
    CHECK(gguf_get_str(f, "llama.block_count") == NULL);
    CHECK(gguf_get_str(f, "no.such.key") == NULL);
    CHECK(gguf_find_key(f, "no.such.key") == -1);
    CHECK(gguf_find_tensor(f, "no.such.tensor") == NULL);
    gguf_value_type et;
    uint64_t n = 0;
    const gguf_value *tok = gguf_get_arr(f, "tokenizer.ggml.tokens", &et, &n);
    CHECK(tok && et == GGUF_VT_STRING && n == 611);
    if (tok) CHECK(tok->v.arr.items[0].type == GGUF_VT_STRING && tok->v.arr.items[0].v.str.len == strlen(tok->v.arr.items[0].v.str.ptr));
    const gguf_value *tt = gguf_get_arr(f, "tokenizer.ggml.token_type", &et, &n);
    CHECK(tt && et == GGUF_VT_INT32 && n == 611 && tt->v.arr.data != NULL);
    CHECK(gguf_split_count(f) == 1);
    CHECK(gguf_split_path(f, 1) == NULL);
    gguf_free(f);
    gguf_free(NULL);
}

int main(void) {
    RUN_TEST(t_reference_metadata_and_tensors);
    RUN_TEST(t_every_fixture_layout);
    RUN_TEST(t_quantized_match_f32);
    RUN_TEST(t_getters);
    return test_main_end();
}
