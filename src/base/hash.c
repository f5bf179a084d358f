#include "base/hash.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct sv_hasher {
    sv_hash_algo algo;
    XXH64_state_t *x64;
    XXH3_state_t *x3;
    EVP_MD_CTX *md;
};

static const char *const k_names[SV_HASH_COUNT] = {"xxh64", "xxh3", "sha1", "sha256"};
static const size_t k_bytes[SV_HASH_COUNT] = {8, 16, 20, 32};

const char *sv_hash_name(sv_hash_algo algo) { return (unsigned)algo < SV_HASH_COUNT ? k_names[algo] : "?"; }
size_t sv_hash_digest_bytes(sv_hash_algo algo) { return (unsigned)algo < SV_HASH_COUNT ? k_bytes[algo] : 0; }

int sv_hash_from_name(const char *name) {
    for (int i = 0; i < SV_HASH_COUNT; i++)
        if (!strcmp(name, k_names[i])) return i;
    if (!strcmp(name, "xxh3-128") || !strcmp(name, "xxh128")) return SV_HASH_XXH3_128;
    return -1;
}

static const EVP_MD *md_of(sv_hash_algo algo) { return algo == SV_HASH_SHA1 ? EVP_sha1() : EVP_sha256(); }

void sv_hasher_reset(sv_hasher *h) {
    switch (h->algo) {
    case SV_HASH_XXH64: XXH64_reset(h->x64, 0); break;
    case SV_HASH_XXH3_128: XXH3_128bits_reset(h->x3); break;
    default: EVP_DigestInit_ex(h->md, md_of(h->algo), NULL); break;
    }
}

sv_status sv_hasher_new(sv_hash_algo algo, sv_hasher **out) {
    *out = NULL;
    if ((unsigned)algo >= SV_HASH_COUNT) return sv_error(SV_ERR_INVALID_ARG, "unknown hash algorithm %d", (int)algo);
    sv_hasher *h = calloc(1, sizeof *h);
    if (!h) return sv_error(SV_ERR_NOMEM, "out of memory");
    h->algo = algo;
    int ok;
    switch (algo) {
    case SV_HASH_XXH64: ok = (h->x64 = XXH64_createState()) != NULL; break;
    case SV_HASH_XXH3_128: ok = (h->x3 = XXH3_createState()) != NULL; break;
    default: ok = (h->md = EVP_MD_CTX_new()) != NULL; break;
    }
    if (!ok) {
        sv_hasher_free(h);
        return sv_error(SV_ERR_NOMEM, "out of memory");
    }
    sv_hasher_reset(h);
    *out = h;
    return SV_OK;
}

void sv_hasher_update(sv_hasher *h, const void *data, size_t size) {
    switch (h->algo) {
    case SV_HASH_XXH64: XXH64_update(h->x64, data, size); break;
    case SV_HASH_XXH3_128: XXH3_128bits_update(h->x3, data, size); break;
    default: EVP_DigestUpdate(h->md, data, size); break;
    }
}

static void to_hex(const unsigned char *b, size_t n, char *hex) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    hex[2 * n] = 0;
}

void sv_hasher_hex(sv_hasher *h, char *hex) {
    switch (h->algo) {
    case SV_HASH_XXH64: {
        XXH64_canonical_t c;
        XXH64_canonicalFromHash(&c, XXH64_digest(h->x64));
        to_hex(c.digest, sizeof c.digest, hex);
        break;
    }
    case SV_HASH_XXH3_128: {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->x3));
        to_hex(c.digest, sizeof c.digest, hex);
        break;
    }
    default: {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_MD_CTX *tmp = EVP_MD_CTX_new();
        /* Finalise a copy so the hasher stays usable like the xxhash states. */
        if (tmp && EVP_MD_CTX_copy_ex(tmp, h->md) && EVP_DigestFinal_ex(tmp, d, &n)) to_hex(d, n, hex);
        else hex[0] = 0;
        EVP_MD_CTX_free(tmp);
        break;
    }
    }
}

void sv_hasher_free(sv_hasher *h) {
    if (!h) return;
    if (h->x64) XXH64_freeState(h->x64);
    if (h->x3) XXH3_freeState(h->x3);
    if (h->md) EVP_MD_CTX_free(h->md);
    free(h);
}

sv_status sv_hash_hex(sv_hash_algo algo, const void *data, size_t size, char *hex) {
    sv_hasher *h;
    sv_status st = sv_hasher_new(algo, &h);
    if (st) return st;
    sv_hasher_update(h, data, size);
    sv_hasher_hex(h, hex);
    sv_hasher_free(h);
    return SV_OK;
}

uint64_t sv_xxh64(const void *data, size_t size, uint64_t seed) { return XXH64(data, size, seed); }
