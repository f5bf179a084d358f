/* Internals of the GGUF reader shared by its source files. */
#ifndef GGUF_IMPL_H
#define GGUF_IMPL_H

#include "base/arena.h"
#include "base/file.h"
#include "gguf/gguf.h"

typedef struct {
    const char *key;
    gguf_value value;
    uint64_t key_offset;   /* byte offset of the key in the file */
    uint64_t value_offset; /* byte offset of the value type id */
} gguf__kv;

/* Open-addressing index from names to positions. */
typedef struct {
    int64_t *slots; /* -1 for empty */
    uint64_t mask;
} gguf__index;

struct gguf_file {
    sv_arena arena;
    char *path;
    sv_mapping map;        /* mapped file, when opened from a path */
    const uint8_t *bytes;  /* whole file image */
    uint64_t size;
    uint64_t data_offset;  /* start of the data section */
    uint32_t version;
    uint32_t alignment;

    int64_t n_kv;
    gguf__kv *kv;
    gguf__index kv_index;

    int64_t n_tensors;
    gguf_tensor_info *tensors;
    gguf__index tensor_index;

    /* A split set is one gguf_file owning one parsed gguf_file per part;
     * kv are part 0's, tensors are all parts' in order. */
    int n_parts;
    gguf_file **parts;
};

/* Parses one GGUF image (no split handling). `name` labels messages. */
sv_status gguf__parse(const uint8_t *bytes, uint64_t size, const char *name, gguf_file **out);

sv_status gguf__index_build(gguf__index *ix, int64_t n, const char *(*name_at)(const void *, int64_t),
                            const void *ctx, int64_t *dup_a, int64_t *dup_b);
int64_t gguf__index_find(const gguf__index *ix, const char *name, const char *(*name_at)(const void *, int64_t),
                         const void *ctx);
void gguf__index_free(gguf__index *ix);

/* True when s[0..n) is well-formed UTF-8 without NUL bytes. */
bool gguf__utf8_valid(const char *s, uint64_t n);

#endif
