#include <string.h>

#include "base/hash.h"
#include "check.h"

/* Digests of "abc" from the algorithms' published test vectors / reference tools. */
static void test_known_vectors(void) {
    char hex[SV_HASH_MAX_HEX];
    CHECK(sv_hash_hex(SV_HASH_SHA256, "abc", 3, hex) == SV_OK);
    CHECK_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sv_hash_hex(SV_HASH_SHA1, "abc", 3, hex) == SV_OK);
    CHECK_STREQ(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(sv_hash_hex(SV_HASH_XXH64, "", 0, hex) == SV_OK);
    CHECK_STREQ(hex, "ef46db3751d8e999");
    CHECK(sv_hash_hex(SV_HASH_XXH3_128, "", 0, hex) == SV_OK);
    CHECK_STREQ(hex, "99aa06d3014798d86001c324468d497f");
}

static void test_streaming_equals_oneshot(void) {
    char buf[10000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(i * 31 + 7);
    for (int a = 0; a < SV_HASH_COUNT; a++) {
        char one[SV_HASH_MAX_HEX], inc[SV_HASH_MAX_HEX];
        CHECK(sv_hash_hex((sv_hash_algo)a, buf, sizeof buf, one) == SV_OK);
        sv_hasher *h;
        CHECK(sv_hasher_new((sv_hash_algo)a, &h) == SV_OK);
        sv_hasher_update(h, buf, 1);
        sv_hasher_update(h, buf + 1, 4999);
        sv_hasher_update(h, buf + 5000, 5000);
        sv_hasher_hex(h, inc);
        CHECK_STREQ(one, inc);
        CHECK_EQ_I64(strlen(one), 2 * sv_hash_digest_bytes((sv_hash_algo)a));
        CHECK_EQ_I64(sv_hash_from_name(sv_hash_name((sv_hash_algo)a)), a);
        sv_hasher_free(h);
    }
    CHECK_EQ_I64(sv_hash_from_name("md5"), -1);
}

int main(void) {
    RUN_TEST(test_known_vectors);
    RUN_TEST(test_streaming_equals_oneshot);
    return test_main_end();
}
