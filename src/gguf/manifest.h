/* Tensor hashes and manifests.
 *
 * Per-tensor hashes cover one tensor's data bytes (no padding). The
 * whole-model hash is one stream over every tensor's data in tensor index
 * order (split 0 first), so metadata edits do not change it; this is what
 * llama.cpp's llama-gguf-hash computes. Digests are lowercase hex in the
 * algorithms' canonical byte order (xxh64/xxh3 most significant byte first,
 * as xxhsum and llama-gguf-hash print them).
 *
 * Parallel plan: a whole-model stream is inherently sequential, so each
 * whole-model algorithm is one job for one thread, and each tensor (all its
 * per-tensor algorithms fed from the same cache-hot chunk) is one job. The
 * streams start first; the tensors follow in file order, so with few threads
 * the per-tensor workers read the region the streams are reading and the
 * second read of each byte hits the shared cache instead of memory. Wall time
 * approaches max(slowest stream, total work / threads). With one thread all
 * hashers are fed each chunk in a single pass over the data.
 */
#ifndef GGUF_MANIFEST_H
#define GGUF_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/status.h"
#include "gguf/gguf.h"

typedef enum {
    GGUF_HASH_XXH64 = 0,
    GGUF_HASH_XXH3,   /* XXH3 64-bit, as llama-gguf-hash --xxh3 */
    GGUF_HASH_XXH128, /* XXH3 128-bit, as xxhsum -H2 */
    GGUF_HASH_SHA1,
    GGUF_HASH_SHA256,
    GGUF_HASH_UUID, /* UUIDv5 of the model data (whole model only), as llama-gguf-hash --uuid */
    GGUF_HASH_COUNT
} gguf_hash_algo;

enum { GGUF_HASH_HEX = 65 }; /* longest digest text (sha256) with terminator */

#define GGUF_HASH_BIT(a) (1u << (a))

const char *gguf_hash_name(gguf_hash_algo a); /* "xxh64", "xxh3", "xxh128", "sha1", "sha256", "uuid" */
int gguf_hash_from_name(const char *name);    /* -1 when unknown */

typedef struct {
    unsigned tensor_algos; /* GGUF_HASH_BIT set for per-tensor hashes (no UUID) */
    unsigned model_algos;  /* GGUF_HASH_BIT set for whole-model hashes */
    int n_threads;         /* <= 0: all cores */
    bool progress;         /* progress bar on stderr when it is a terminal */
} gguf_hash_params;

typedef struct {
    int64_t n_tensors;
    char (*tensor)[GGUF_HASH_COUNT][GGUF_HASH_HEX]; /* [n_tensors]; "" where not requested */
    char model[GGUF_HASH_COUNT][GGUF_HASH_HEX];
} gguf_hashes;

/* Hashes the tensor data of `f` (opened with map_data). OUT: *out
 * (release with gguf_hashes_free). */
sv_status gguf_hash_file(const gguf_file *f, const gguf_hash_params *p, gguf_hashes **out);
void gguf_hashes_free(gguf_hashes *h);

/* sha256 of split i's bytes before its data section (header, metadata,
 * tensor infos and padding). hex: GGUF_HASH_HEX bytes. */
sv_status gguf_metadata_sha256(const gguf_file *f, int split, char *hex);

/* Writes the JSON manifest (docs/gguf-manifest.md) of `f` to `out`;
 * `display_name` is the file name recorded in it. */
sv_status gguf_manifest_write(const gguf_file *f, const char *display_name, const gguf_hash_params *p, FILE *out);

/* Compares `f` with a manifest file: the JSON form, or the text form that
 * llama-gguf-hash prints ("ALGO  HEX  FILE:TENSOR" and "ALGO  HEX  FILE"
 * lines). Writes one line per differing, missing or extra tensor to
 * `report`, and sets *n_problems (0 when everything matches). Only the
 * algorithms the manifest holds are computed; p->tensor_algos and
 * p->model_algos are ignored. */
sv_status gguf_manifest_verify(const gguf_file *f, const char *manifest_path, const gguf_hash_params *p,
                               FILE *report, int *n_problems);

#endif
