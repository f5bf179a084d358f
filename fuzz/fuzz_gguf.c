/* libFuzzer target for the GGUF reader: parse, walk every value and tensor,
 * and check that whatever parses also survives a rewrite by the writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t walk(const gguf_value *v) {
    uint64_t h = (uint64_t)v->type;
    if (v->type == GGUF_VT_STRING) return h + v->v.str.len + (v->v.str.len ? (uint8_t)v->v.str.ptr[v->v.str.len - 1] : 0);
    if (v->type != GGUF_VT_ARRAY) return h + v->v.u64;
    size_t esz = gguf_value_type_size(v->v.arr.type);
    if (esz) return h + (v->v.arr.n ? ((const uint8_t *)v->v.arr.data)[v->v.arr.n * esz - 1] : 0);
    for (uint64_t i = 0; i < v->v.arr.n; i++) h += walk(&v->v.arr.items[i]);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file *f = NULL;
    if (gguf_open_memory(data, size, "fuzz", &f) != SV_OK) return 0;
    volatile uint64_t sink = 0;
    for (int64_t i = 0; i < gguf_kv_count(f); i++) {
        const char *key = gguf_kv_key(f, i);
        if (gguf_find_key(f, key) != i) abort();
        sink += walk(gguf_kv_value(f, i));
    }
    for (int64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor_info *t = gguf_tensor(f, i);
        if (gguf_find_tensor(f, t->name) != t) abort();
        if (t->size) sink += (uint64_t)t->data[0] + t->data[t->size - 1];
    }
    gguf_writer *w = NULL;
    uint8_t *out = NULL;
    size_t n = 0;
    if (gguf_writer_from_file(f, &w) == SV_OK && gguf_writer_write_mem(w, &out, &n) == SV_OK) {
        gguf_file *g = NULL;
        /* What we read, we must be able to write and read back. */
        if (gguf_open_memory(out, n, "rewrite", &g) != SV_OK) abort();
        if (gguf_tensor_count(g) != gguf_tensor_count(f) || gguf_kv_count(g) != gguf_kv_count(f)) abort();
        gguf_free(g);
    }
    free(out);
    gguf_writer_free(w);
    gguf_free(f);
    (void)sink;
    return 0;
}
