/* GGUF writer: builds a file from scratch or from an opened gguf_file.
 *
 * Layout written: header, key/values in insertion order, tensor infos in
 * insertion order, zero padding to the alignment, then each tensor's data
 * followed by zero padding to the alignment. The alignment is the UINT32 key
 * `general.alignment` when set, else 32. A file without tensors gets no
 * padding after its metadata (as gguf-py writes vocabulary-only files).
 * This is the canonical layout that llama.cpp and gguf-py produce, so a writer
 * made with gguf_writer_from_file and left unchanged rewrites such a file
 * byte for byte (the exceptions: files whose padding bytes are not zero or
 * whose tensors are not stored in index order; they come out canonical).
 *
 * Example: copy a model, replacing every F32 matrix by data produced on the
 * fly (a quantizer streaming rows), and set the file type key.
 *
 *     static sv_status fill(void *user, const gguf_tensor_info *t, gguf_sink *sink) {
 *         const gguf_tensor_info *src = user;          // the tensor being replaced
 *         for (int64_t row = 0; row < src->ne[1]; row++) {
 *             uint8_t out[...];                        // one quantized row
 *             size_t n = quantize_row(src, row, out);  // caller's code
 *             sv_status st = gguf_sink_write(sink, out, n);
 *             if (st) return st;
 *         }
 *         return SV_OK;
 *     }
 *
 *     gguf_file *in;   gguf_writer *w;
 *     if ((st = gguf_open("in.gguf", NULL, &in))) return st;
 *     if ((st = gguf_writer_from_file(in, &w))) { gguf_free(in); return st; }
 *     for (int64_t i = 0; i < gguf_tensor_count(in) && !st; i++) {
 *         const gguf_tensor_info *t = gguf_tensor(in, i);
 *         if (t->type == GGUF_TYPE_F32 && t->n_dims == 2)
 *             st = gguf_writer_replace_tensor_fn(w, t->name, GGUF_TYPE_Q8_0, t->n_dims, t->ne, fill, (void *)t);
 *     }
 *     if (!st) st = gguf_writer_set_u32(w, "general.file_type", 7);
 *     if (!st) st = gguf_writer_write(w, "out.gguf");
 *     gguf_writer_free(w);   // before gguf_free(in): the writer points into `in`
 *     gguf_free(in);
 *
 * All functions return SV_ERR_INVALID_ARG with a message for bad arguments
 * (invalid names, duplicate tensors, unknown types, sizes that overflow). */
#ifndef GGUF_WRITER_H
#define GGUF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "gguf/gguf.h"

typedef struct gguf_writer gguf_writer;

/* Receives a tensor's bytes from a fill callback, in order. Writing more
 * than the tensor's size is an error; so is returning having written less. */
typedef struct gguf_sink gguf_sink;
sv_status gguf_sink_write(gguf_sink *sink, const void *data, size_t size);

/* Produces the data of tensor `t` (t->size bytes) into `sink`. Called once,
 * during gguf_writer_write, in tensor order. */
typedef sv_status (*gguf_tensor_fill_fn)(void *user, const gguf_tensor_info *t, gguf_sink *sink);

/* An empty GGUF v3 file. OUT: *out (release with gguf_writer_free). */
sv_status gguf_writer_new(gguf_writer **out);
/* Copies the version, every key and every tensor of `src` (a split set is
 * merged into one file: its split.* keys are dropped). Values and tensor
 * data are referenced, not copied: `src` must outlive the writer and must
 * have been opened with map_data. OUT: *out. */
sv_status gguf_writer_from_file(const gguf_file *src, gguf_writer **out);
void gguf_writer_free(gguf_writer *w);

/* 2 or 3. */
sv_status gguf_writer_set_version(gguf_writer *w, uint32_t version);

/* Keys. A key that exists keeps its position and gets the new value; a new
 * key is appended. Values are deep-copied. */
sv_status gguf_writer_set_value(gguf_writer *w, const char *key, const gguf_value *v);
sv_status gguf_writer_set_u8(gguf_writer *w, const char *key, uint8_t v);
sv_status gguf_writer_set_i8(gguf_writer *w, const char *key, int8_t v);
sv_status gguf_writer_set_u16(gguf_writer *w, const char *key, uint16_t v);
sv_status gguf_writer_set_i16(gguf_writer *w, const char *key, int16_t v);
sv_status gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v);
sv_status gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v);
sv_status gguf_writer_set_u64(gguf_writer *w, const char *key, uint64_t v);
sv_status gguf_writer_set_i64(gguf_writer *w, const char *key, int64_t v);
sv_status gguf_writer_set_f32(gguf_writer *w, const char *key, float v);
sv_status gguf_writer_set_f64(gguf_writer *w, const char *key, double v);
sv_status gguf_writer_set_bool(gguf_writer *w, const char *key, bool v);
sv_status gguf_writer_set_str(gguf_writer *w, const char *key, const char *v);
/* An array of scalars: n elements of elem_type, packed little-endian. */
sv_status gguf_writer_set_arr(gguf_writer *w, const char *key, gguf_value_type elem_type, const void *data,
                              uint64_t n);
sv_status gguf_writer_set_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n);
/* False when the key was absent. */
bool gguf_writer_remove_key(gguf_writer *w, const char *key);
int64_t gguf_writer_kv_count(const gguf_writer *w);

/* Tensors. ne[0..n_dims) as in gguf_tensor_info; `data` (size implied by
 * type and shape) must stay valid until the file is written. */
sv_status gguf_writer_add_tensor(gguf_writer *w, const char *name, gguf_type type, int n_dims, const int64_t *ne,
                                 const void *data);
sv_status gguf_writer_add_tensor_fn(gguf_writer *w, const char *name, gguf_type type, int n_dims,
                                    const int64_t *ne, gguf_tensor_fill_fn fn, void *user);
/* Replaces an existing tensor in place (same position, new type/shape/data). */
sv_status gguf_writer_replace_tensor(gguf_writer *w, const char *name, gguf_type type, int n_dims,
                                     const int64_t *ne, const void *data);
sv_status gguf_writer_replace_tensor_fn(gguf_writer *w, const char *name, gguf_type type, int n_dims,
                                        const int64_t *ne, gguf_tensor_fill_fn fn, void *user);
bool gguf_writer_remove_tensor(gguf_writer *w, const char *name);
int64_t gguf_writer_tensor_count(const gguf_writer *w);

/* Writes the file through a temporary sibling renamed into place, so a
 * failed write leaves no partial file at `path`. */
sv_status gguf_writer_write(gguf_writer *w, const char *path);
/* Writes into malloc'd memory. OUT: *data (free()), *size. */
sv_status gguf_writer_write_mem(gguf_writer *w, uint8_t **data, size_t *size);

#endif
