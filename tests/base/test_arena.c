#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "check.h"

static void test_alloc_reset(void) {
    sv_arena a;
    sv_arena_init(&a, 256);
    char *s = sv_arena_strdup(&a, "hello", 5);
    CHECK_STREQ(s, "hello");
    for (int i = 0; i < 100; i++) {
        unsigned char *p = sv_arena_alloc(&a, (size_t)(i * 13 + 1));
        CHECK(p && ((uintptr_t)p & 15) == 0 && p[0] == 0);
    }
    void *big = sv_arena_alloc(&a, 10000);
    CHECK(big != NULL);
    sv_arena_reset(&a);
    CHECK_EQ_I64(a.used, 0);
    CHECK(sv_arena_alloc(&a, 8) != NULL);
    CHECK(sv_arena_alloc(&a, SIZE_MAX - 4) == NULL);
    sv_arena_free(&a);
}

int main(void) {
    RUN_TEST(test_alloc_reset);
    return test_main_end();
}
