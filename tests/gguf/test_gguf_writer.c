/* The writer: byte-exact rewrites of every fixture, edits of every value
 * type, streamed tensors, and split sets read back as one model. */
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"

static void t_rewrite_every_fixture_byte_for_byte(void) {
    glob_t g;
    char pat[4096];
    snprintf(pat, sizeof pat, "%s", t_fixture("models/*/*.gguf"));
    glob(pat, 0, NULL, &g);
    snprintf(pat, sizeof pat, "%s", t_fixture("vocab/*.gguf"));
    glob(pat, GLOB_APPEND, NULL, &g);
    CHECK(g.gl_pathc >= 20);
    for (size_t k = 0; k < g.gl_pathc; k++) {
        gguf_file *f = NULL;
        gguf_writer *w = NULL;
        CHECK(gguf_open(g.gl_pathv[k], NULL, &f) == SV_OK);
        if (!f) continue;
        CHECK(gguf_writer_from_file(f, &w) == SV_OK);
        uint8_t *out = NULL;
        size_t n = 0, orig_n;
        if (w) CHECK(gguf_writer_write_mem(w, &out, &n) == SV_OK);
        uint8_t *orig = t_read_file(g.gl_pathv[k], &orig_n);
        CHECK_MSG(out && n == orig_n && memcmp(out, orig, n) == 0, "%s: rewrite differs (%zu vs %zu bytes)",
                  g.gl_pathv[k], n, orig_n);
        free(orig);
        free(out);
        gguf_writer_free(w);
        gguf_free(f);
    }
    globfree(&g);
}

static sv_status fill_ramp(void *user, const gguf_tensor_info *t, gguf_sink *sink) {
    (void)user;
    uint8_t chunk[7];
    for (uint64_t done = 0; done < t->size;) {
        size_t n = t->size - done < sizeof chunk ? (size_t)(t->size - done) : sizeof chunk;
        for (size_t i = 0; i < n; i++) chunk[i] = (uint8_t)(done + i);
        sv_status st = gguf_sink_write(sink, chunk, n);
        if (st) return st;
        done += n;
    }
    return SV_OK;
}

static sv_status fill_short(void *user, const gguf_tensor_info *t, gguf_sink *sink) {
    (void)user;
    uint8_t b = 0;
    return t->size > 1 ? gguf_sink_write(sink, &b, 1) : SV_OK;
}

static void t_every_value_type(void) {
    gguf_writer *w = NULL;
    CHECK(gguf_writer_new(&w) == SV_OK);
    if (!w) return;
    CHECK(gguf_writer_set_u8(w, "a.u8", 200) == SV_OK);
    CHECK(gguf_writer_set_i8(w, "a.i8", -100) == SV_OK);
    CHECK(gguf_writer_set_u16(w, "a.u16", 65000) == SV_OK);
    CHECK(gguf_writer_set_i16(w, "a.i16", -32000) == SV_OK);
    CHECK(gguf_writer_set_u32(w, "a.u32", 4000000000u) == SV_OK);
    CHECK(gguf_writer_set_i32(w, "a.i32", -2000000000) == SV_OK);
    CHECK(gguf_writer_set_u64(w, "a.u64", UINT64_MAX) == SV_OK);
    CHECK(gguf_writer_set_i64(w, "a.i64", INT64_MIN) == SV_OK);
    CHECK(gguf_writer_set_f32(w, "a.f32", 1.5f) == SV_OK);
    CHECK(gguf_writer_set_f64(w, "a.f64", -2.25) == SV_OK);
    CHECK(gguf_writer_set_bool(w, "a.bool", true) == SV_OK);
    CHECK(gguf_writer_set_str(w, "a.str", "h\xc3\xa9llo") == SV_OK);
    const char *strs[] = {"x", "", "z\xe2\x82\xac"};
    CHECK(gguf_writer_set_arr_str(w, "a.strs", strs, 3) == SV_OK);
    const int16_t i16s[] = {-1, 2, -3};
    CHECK(gguf_writer_set_arr(w, "a.i16s", GGUF_VT_INT16, i16s, 3) == SV_OK);
    /* [[1, 2], []] as a nested array of UINT32 arrays */
    const uint32_t one_two[] = {1, 2};
    gguf_value inner[2] = {{.type = GGUF_VT_ARRAY}, {.type = GGUF_VT_ARRAY}};
    inner[0].v.arr.type = GGUF_VT_UINT32;
    inner[0].v.arr.n = 2;
    inner[0].v.arr.data = one_two;
    inner[1].v.arr.type = GGUF_VT_UINT32;
    gguf_value nested = {.type = GGUF_VT_ARRAY};
    nested.v.arr.type = GGUF_VT_ARRAY;
    nested.v.arr.n = 2;
    nested.v.arr.items = inner;
    CHECK(gguf_writer_set_value(w, "a.nested", &nested) == SV_OK);
    CHECK(gguf_writer_set_u32(w, "a.u8", 7) == SV_OK); /* replace keeps position, changes type */
    CHECK(gguf_writer_set_str(w, "gone", "x") == SV_OK);
    CHECK(gguf_writer_remove_key(w, "gone"));
    CHECK(!gguf_writer_remove_key(w, "gone"));
    CHECK(gguf_writer_set_str(w, "", "x") == SV_ERR_INVALID_ARG);
    CHECK(gguf_writer_set_str(w, "bad\xff", "x") == SV_ERR_INVALID_ARG);
    CHECK(gguf_writer_set_arr(w, "a.bad", GGUF_VT_STRING, NULL, 0) == SV_ERR_INVALID_ARG);
    CHECK_EQ_I64(gguf_writer_kv_count(w), 15);

    float data[64];
    for (int i = 0; i < 64; i++) data[i] = (float)i;
    const int64_t ne[2] = {8, 8};
    const int64_t ne_q[2] = {32, 3};
    CHECK(gguf_writer_add_tensor(w, "t.f32", GGUF_TYPE_F32, 2, ne, data) == SV_OK);
    CHECK(gguf_writer_add_tensor_fn(w, "t.q8", GGUF_TYPE_Q8_0, 2, ne_q, fill_ramp, NULL) == SV_OK);
    CHECK(gguf_writer_add_tensor(w, "t.f32", GGUF_TYPE_F32, 2, ne, data) == SV_ERR_INVALID_ARG);
    const int64_t bad_row[1] = {31};
    CHECK(gguf_writer_add_tensor(w, "t.bad", GGUF_TYPE_Q8_0, 1, bad_row, data) == SV_ERR_INVALID_ARG);
    const int64_t neg[1] = {-1};
    CHECK(gguf_writer_add_tensor(w, "t.neg", GGUF_TYPE_F32, 1, neg, data) == SV_ERR_INVALID_ARG);
    CHECK(gguf_writer_add_tensor(w, "t.5d", GGUF_TYPE_F32, 5, ne, data) == SV_ERR_INVALID_ARG);
    CHECK(gguf_writer_add_tensor(w, "a_name_that_is_far_too_long_for_ggml_which_allows_63_bytes_only!", GGUF_TYPE_F32,
                                 2, ne, data) == SV_ERR_INVALID_ARG);
    CHECK(gguf_writer_set_u32(w, "general.alignment", 64) == SV_OK);

    uint8_t *img = NULL;
    size_t n = 0;
    CHECK(gguf_writer_write_mem(w, &img, &n) == SV_OK);
    gguf_file *f = NULL;
    CHECK(img && gguf_open_memory(img, n, "written", &f) == SV_OK);
    if (f) {
        CHECK_EQ_I64(gguf_alignment(f), 64);
        CHECK_EQ_I64(gguf_kv_count(f), 16);
        CHECK_STREQ(gguf_kv_key(f, 0), "a.u8");
        uint32_t u = 0;
        int32_t i = 0;
        uint64_t u64 = 0;
        float x = 0;
        bool b = false;
        CHECK(gguf_get_u32(f, "a.u8", &u) && u == 7 && gguf_get(f, "a.u8")->type == GGUF_VT_UINT32);
        CHECK(gguf_get(f, "a.i8")->v.i64 == -100 && gguf_get(f, "a.u16")->v.u64 == 65000);
        CHECK(gguf_get(f, "a.i16")->v.i64 == -32000);
        CHECK(gguf_get_u32(f, "a.u32", &u) && u == 4000000000u);
        CHECK(gguf_get_i32(f, "a.i32", &i) && i == -2000000000);
        CHECK(gguf_get_u64(f, "a.u64", &u64) && u64 == UINT64_MAX);
        CHECK(gguf_get(f, "a.i64")->v.i64 == INT64_MIN);
        CHECK(gguf_get_f32(f, "a.f32", &x) && x == 1.5f);
        CHECK(gguf_get(f, "a.f64")->type == GGUF_VT_FLOAT64 && gguf_get(f, "a.f64")->v.f64 == -2.25);
        CHECK(gguf_get_bool(f, "a.bool", &b) && b);
        CHECK_STREQ(gguf_get_str(f, "a.str"), "h\xc3\xa9llo");
        gguf_value_type et;
        uint64_t cnt;
        const gguf_value *sv = gguf_get_arr(f, "a.strs", &et, &cnt);
        CHECK(sv && et == GGUF_VT_STRING && cnt == 3);
        if (sv) {
            CHECK_STREQ(sv->v.arr.items[2].v.str.ptr, "z\xe2\x82\xac");
            CHECK(sv->v.arr.items[1].v.str.len == 0);
        }
        const gguf_value *iv = gguf_get_arr(f, "a.i16s", &et, &cnt);
        CHECK(iv && et == GGUF_VT_INT16 && cnt == 3 && ((const int16_t *)iv->v.arr.data)[2] == -3);
        const gguf_value *nv = gguf_get_arr(f, "a.nested", &et, &cnt);
        CHECK(nv && et == GGUF_VT_ARRAY && cnt == 2);
        if (nv) {
            CHECK(nv->v.arr.items[0].v.arr.n == 2 && ((const uint32_t *)nv->v.arr.items[0].v.arr.data)[1] == 2);
            CHECK(nv->v.arr.items[1].v.arr.n == 0 && nv->v.arr.items[1].v.arr.type == GGUF_VT_UINT32);
        }
        CHECK_EQ_I64(gguf_tensor_count(f), 2);
        const gguf_tensor_info *t0 = gguf_find_tensor(f, "t.f32"), *t1 = gguf_find_tensor(f, "t.q8");
        CHECK(t0 && t0->size == sizeof data && memcmp(t0->data, data, sizeof data) == 0);
        CHECK(t1 && t1->size == 3 * 34 && t1->offset == 256 && t1->file_offset % 64 == 0);
        if (t1) CHECK(t1->data[0] == 0 && t1->data[33] == 33 && t1->data[101] == 101);
        CHECK_EQ_I64(n % 64, 0);

        /* Rewriting what we wrote reproduces it. */
        gguf_writer *w2 = NULL;
        uint8_t *img2 = NULL;
        size_t n2 = 0;
        CHECK(gguf_writer_from_file(f, &w2) == SV_OK);
        if (w2) CHECK(gguf_writer_write_mem(w2, &img2, &n2) == SV_OK);
        CHECK(img2 && n2 == n && memcmp(img, img2, n) == 0);
        free(img2);
        gguf_writer_free(w2);
    }
    gguf_free(f);
    free(img);

    CHECK(gguf_writer_replace_tensor_fn(w, "t.q8", GGUF_TYPE_Q8_0, 2, ne_q, fill_short, NULL) == SV_OK);
    CHECK(gguf_writer_write_mem(w, &img, &n) == SV_ERR_INVALID_ARG);
    CHECK(strstr(sv_errmsg(), "t.q8") != NULL);
    CHECK(gguf_writer_replace_tensor(w, "t.none", GGUF_TYPE_F32, 2, ne, data) == SV_ERR_INVALID_ARG);
    CHECK(gguf_writer_remove_tensor(w, "t.q8"));
    CHECK(!gguf_writer_remove_tensor(w, "t.q8"));
    CHECK(gguf_writer_set_u32(w, "general.alignment", 48) == SV_OK);
    CHECK(gguf_writer_write_mem(w, &img, &n) == SV_ERR_INVALID_ARG);
    gguf_writer_free(w);
}

/* A model rewritten as a 3-file split set opens as one model from any part,
 * with the same tensors and data; a missing part is an error. */
static void t_split_set(void) {
    gguf_file *src = NULL;
    CHECK(gguf_open(t_fixture("models/qwen2/qwen2-Q4_K_M.gguf"), NULL, &src) == SV_OK);
    if (!src) return;
    const int parts = 3;
    int64_t nt = gguf_tensor_count(src), per = (nt + parts - 1) / parts;
    char path[3][4096];
    for (int k = 0; k < parts; k++) {
        snprintf(path[k], sizeof path[k], "%s", t_tmpfile(""));
        snprintf(path[k] + strlen(path[k]), sizeof path[k] - strlen(path[k]), "model-%05d-of-%05d.gguf", k + 1, parts);
        gguf_writer *w = NULL;
        CHECK(gguf_writer_new(&w) == SV_OK);
        if (!w) continue;
        if (k == 0)
            for (int64_t i = 0; i < gguf_kv_count(src); i++)
                CHECK(gguf_writer_set_value(w, gguf_kv_key(src, i), gguf_kv_value(src, i)) == SV_OK);
        CHECK(gguf_writer_set_u16(w, "split.no", (uint16_t)k) == SV_OK);
        CHECK(gguf_writer_set_u16(w, "split.count", (uint16_t)parts) == SV_OK);
        CHECK(gguf_writer_set_i32(w, "split.tensors.count", (int32_t)nt) == SV_OK);
        for (int64_t i = k * per; i < (k + 1) * per && i < nt; i++) {
            const gguf_tensor_info *t = gguf_tensor(src, i);
            CHECK(gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data) == SV_OK);
        }
        CHECK(gguf_writer_write(w, path[k]) == SV_OK);
        gguf_writer_free(w);
    }
    for (int k = 0; k < parts; k++) {
        gguf_file *f = NULL;
        CHECK_MSG(gguf_open(path[k], NULL, &f) == SV_OK, "%s", sv_errmsg());
        if (!f) continue;
        CHECK_EQ_I64(gguf_split_count(f), parts);
        CHECK_EQ_I64(gguf_tensor_count(f), nt);
        CHECK_EQ_I64(gguf_kv_count(f), gguf_kv_count(src) + 3);
        CHECK_STREQ(gguf_split_path(f, 2), path[2]);
        for (int64_t i = 0; i < nt; i++) {
            const gguf_tensor_info *a = gguf_tensor(src, i), *b = gguf_tensor(f, i);
            CHECK(!strcmp(a->name, b->name) && a->size == b->size && memcmp(a->data, b->data, a->size) == 0);
            CHECK_EQ_I64(b->split, i / per);
            CHECK(gguf_find_tensor(f, a->name) == b);
        }
        /* Merged back into one file: the original bytes. */
        if (k == 0) {
            gguf_writer *w = NULL;
            uint8_t *img = NULL;
            size_t n = 0, on = 0;
            CHECK(gguf_writer_from_file(f, &w) == SV_OK);
            if (w) CHECK(gguf_writer_write_mem(w, &img, &n) == SV_OK);
            uint8_t *orig = t_read_file(t_fixture("models/qwen2/qwen2-Q4_K_M.gguf"), &on);
            CHECK(img && n == on && memcmp(img, orig, n) == 0);
            free(orig);
            free(img);
            gguf_writer_free(w);
        }
        gguf_free(f);
    }
    gguf_open_params p = gguf_default_open_params();
    p.allow_splits = false;
    gguf_file *one = NULL;
    CHECK(gguf_open(path[1], &p, &one) == SV_OK);
    if (one) CHECK(gguf_split_count(one) == 1 && gguf_tensor_count(one) == per);
    gguf_free(one);
    remove(path[2]);
    gguf_file *f = NULL;
    CHECK(gguf_open(path[0], NULL, &f) == SV_ERR_IO && f == NULL);
    gguf_free(src);
}

int main(void) {
    RUN_TEST(t_rewrite_every_fixture_byte_for_byte);
    RUN_TEST(t_every_value_type);
    RUN_TEST(t_split_set);
    return test_main_end();
}
