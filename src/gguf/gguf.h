/* GGUF v2/v3 reader: metadata key/values, tensor index, tensor data by mmap,
 * split files (NAME-00001-of-0000N.gguf) opened as one model.
 *
 * Everything read from the file is validated against the file size without
 * integer overflow; a malformed file gets SV_ERR_FORMAT with a message naming
 * the field and its byte offset. Strings handed out are NUL-terminated copies
 * owned by the gguf_file (valid until gguf_free).
 *
 * Rules enforced (ggml's where it has one): version 2 or 3 (v1 is
 * SV_ERR_UNSUPPORTED); keys non-empty UTF-8 and unique; general.alignment a
 * UINT32 power of two; arrays nested at most 8 deep; tensor names 1..63 bytes
 * of UTF-8 and unique (across splits too); n_dims <= 4; every ne >= 0 (zero
 * elements allowed) with an element count that fits int64; a known type whose
 * block size divides ne[0]; offsets multiples of the alignment; data inside the
 * file and not overlapping. Unlike ggml, tensors need not be stored in index
 * order or back to back. String values may hold any bytes. */
#ifndef GGUF_H
#define GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "gguf/gguf_types.h"

enum { GGUF_MAX_DIMS = 4, GGUF_DEFAULT_ALIGNMENT = 32 };

typedef enum {
    GGUF_VT_UINT8 = 0,
    GGUF_VT_INT8 = 1,
    GGUF_VT_UINT16 = 2,
    GGUF_VT_INT16 = 3,
    GGUF_VT_UINT32 = 4,
    GGUF_VT_INT32 = 5,
    GGUF_VT_FLOAT32 = 6,
    GGUF_VT_BOOL = 7,
    GGUF_VT_STRING = 8,
    GGUF_VT_ARRAY = 9,
    GGUF_VT_UINT64 = 10,
    GGUF_VT_INT64 = 11,
    GGUF_VT_FLOAT64 = 12,
    GGUF_VT_COUNT
} gguf_value_type;

/* One metadata value. Arrays of scalars are decoded into native-endian
 * contiguous storage (arr.data); arrays of strings and nested arrays hold
 * one gguf_value per item (arr.items). */
typedef struct gguf_value {
    gguf_value_type type;
    union {
        uint64_t u64; /* every unsigned integer type and bool, widened */
        int64_t i64;  /* every signed integer type, widened */
        double f64;   /* float32 and float64, widened */
        struct {
            const char *ptr; /* NUL-terminated; may contain NULs when len says so */
            uint64_t len;
        } str;
        struct {
            gguf_value_type type; /* element type */
            uint64_t n;
            const void *data;              /* scalar elements: n * gguf_value_type_size(type) bytes */
            const struct gguf_value *items; /* string or array elements: n items */
        } arr;
    } v;
} gguf_value;

typedef struct {
    const char *name;
    gguf_type type;
    int n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* elements per dimension, ne[0] innermost; unused dims are 1 */
    uint64_t offset;           /* from the start of its file's data section */
    uint64_t size;             /* bytes of data */
    uint64_t file_offset;      /* absolute offset in its file */
    int split;                 /* which split file holds it (0 for single files) */
    const uint8_t *data;       /* mapped bytes (read-only) */
} gguf_tensor_info;

typedef struct gguf_file gguf_file;

typedef struct {
    bool map_data;      /* map tensor data (true) or only read the header */
    bool allow_splits;  /* open NAME-0000k-of-0000N siblings as one model */
} gguf_open_params;

gguf_open_params gguf_default_open_params(void);

/* Opens and validates `path`. OUT: *out (release with gguf_free). */
sv_status gguf_open(const char *path, const gguf_open_params *params, gguf_file **out);
/* Parses a GGUF image held in memory (no splits; data must outlive the file). */
sv_status gguf_open_memory(const void *data, size_t size, const char *name, gguf_file **out);
void gguf_free(gguf_file *f);

uint32_t gguf_version(const gguf_file *f);
uint32_t gguf_alignment(const gguf_file *f);
int gguf_split_count(const gguf_file *f);
/* Size and data-section start of split `i`. */
uint64_t gguf_split_file_size(const gguf_file *f, int i);
uint64_t gguf_split_data_offset(const gguf_file *f, int i);
const char *gguf_split_path(const gguf_file *f, int i);

/* Metadata. Keys of all splits are the first file's keys. */
int64_t gguf_kv_count(const gguf_file *f);
const char *gguf_kv_key(const gguf_file *f, int64_t i);
const gguf_value *gguf_kv_value(const gguf_file *f, int64_t i);
int64_t gguf_find_key(const gguf_file *f, const char *key); /* -1 when absent */
const gguf_value *gguf_get(const gguf_file *f, const char *key); /* NULL when absent */

/* Typed getters: false when the key is absent or holds an incompatible type
 * (integers convert between widths when the value fits). */
bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
bool gguf_get_i32(const gguf_file *f, const char *key, int32_t *out);
bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out);
bool gguf_get_f32(const gguf_file *f, const char *key, float *out);
bool gguf_get_bool(const gguf_file *f, const char *key, bool *out);
const char *gguf_get_str(const gguf_file *f, const char *key); /* NULL when absent or not a string */
/* Array view; NULL when absent or not an array. */
const gguf_value *gguf_get_arr(const gguf_file *f, const char *key, gguf_value_type *elem_type, uint64_t *n);

/* Tensors, in file order (split 0 first). */
int64_t gguf_tensor_count(const gguf_file *f);
const gguf_tensor_info *gguf_tensor(const gguf_file *f, int64_t i);
const gguf_tensor_info *gguf_find_tensor(const gguf_file *f, const char *name); /* NULL when absent */

/* Bytes of one scalar element of a value type (0 for string/array). */
size_t gguf_value_type_size(gguf_value_type t);
const char *gguf_value_type_name(gguf_value_type t);

#endif
