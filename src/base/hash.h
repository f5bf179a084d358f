/* Content hashes: xxh64 and xxh3-128 (libxxhash), sha1 and sha256 (OpenSSL). */
#ifndef SV_HASH_H
#define SV_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef enum {
    SV_HASH_XXH64 = 0,
    SV_HASH_XXH3_128,
    SV_HASH_SHA1,
    SV_HASH_SHA256,
    SV_HASH_COUNT
} sv_hash_algo;

/* Longest digest in bytes (sha256) and its hex form with terminator. */
enum { SV_HASH_MAX_BYTES = 32, SV_HASH_MAX_HEX = 65 };

typedef struct sv_hasher sv_hasher;

/* Streaming hasher. OUT: *h (release with sv_hasher_free). */
sv_status sv_hasher_new(sv_hash_algo algo, sv_hasher **h);
void sv_hasher_update(sv_hasher *h, const void *data, size_t size);
/* Writes the lowercase hex digest (canonical byte order, as the algorithms'
 * own command-line tools print it) into hex[SV_HASH_MAX_HEX]. */
void sv_hasher_hex(sv_hasher *h, char *hex);
void sv_hasher_reset(sv_hasher *h);
void sv_hasher_free(sv_hasher *h);

/* One-shot helpers. */
sv_status sv_hash_hex(sv_hash_algo algo, const void *data, size_t size, char *hex);
uint64_t sv_xxh64(const void *data, size_t size, uint64_t seed);

const char *sv_hash_name(sv_hash_algo algo);   /* "xxh64", "xxh3", "sha1", "sha256" */
size_t sv_hash_digest_bytes(sv_hash_algo algo); /* 8, 16, 20, 32 */
/* Parses a name as printed by sv_hash_name; returns -1 when unknown. */
int sv_hash_from_name(const char *name);

#endif
