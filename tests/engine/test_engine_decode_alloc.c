/* Decoding a token allocates no memory: the KV cache, compute buffers, graph
 * arena, staging and thread pool are all sized at context creation. Counted
 * by replacing the allocator of this executable (glibc's __libc_* entry
 * points underneath); under ASan, which owns the allocator, only the decode
 * itself is checked. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "sova.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
#endif

static atomic_bool counting;
static atomic_long n_allocs;

#if COUNT_ALLOCS
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

static void count(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed)) atomic_fetch_add(&n_allocs, 1);
}

void *malloc(size_t n) {
    count();
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size) {
    count();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n) {
    count();
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n) {
    count();
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
    count();
    void *p = __libc_memalign(align, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

void free(void *p) { __libc_free(p); }
#endif

static int32_t argmax(const float *x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* A prompt, then single-token greedy steps whose attention window crosses
 * several 32-cell boundaries (new graph shapes), with two threads. */
static void check_decode(const char *file, int n_threads) {
    sova_model *m = NULL;
    sova_model_params mp = sova_model_default_params();
    sova_status st = sova_model_load(t_fixture(file), &mp, &m);
    CHECK_MSG(st == SOVA_OK, "%s: %s", file, sova_errmsg());
    if (st != SOVA_OK) return;
    sova_ctx_params cp = sova_ctx_default_params();
    cp.n_ctx = 256;
    cp.n_threads = n_threads;
    sova_ctx *c = NULL;
    st = sova_ctx_new(m, &cp, &c);
    CHECK_MSG(st == SOVA_OK, "sova_ctx_new: %s", sova_errmsg());
    sova_batch b;
    CHECK(sova_batch_init(16, 1, &b) == SOVA_OK);
    int32_t seq = 0, nv = sova_model_n_vocab(m);
    for (int32_t i = 0; i < 12; i++) sova_batch_add(&b, (i * 7919) % nv, i, &seq, 1, i == 11);
    CHECK(c && sova_decode(c, &b) == SOVA_OK);
    const float *row = c ? sova_get_logits_ith(c, -1) : NULL;
    CHECK(row != NULL);
    sova_token t = row ? argmax(row, nv) : 0;
    long before = atomic_load(&n_allocs);
    int steps = 0;
    for (int32_t pos = 12; c && row && pos < 12 + 100; pos++, steps++) {
        sova_batch_clear(&b);
        sova_batch_add(&b, t, pos, &seq, 1, true);
        atomic_store(&counting, true);
        st = sova_decode(c, &b);
        row = st == SOVA_OK ? sova_get_logits_ith(c, 0) : NULL;
        t = row ? argmax(row, nv) : 0;
        atomic_store(&counting, false);
        if (!row) break;
    }
    CHECK_MSG(row != NULL, "%s: decode step %d: %s", file, steps, sova_errmsg());
    CHECK_EQ_I64(steps, 100);
    if (COUNT_ALLOCS) CHECK_EQ_I64(atomic_load(&n_allocs) - before, 0);
    sova_batch_free(&b);
    sova_ctx_free(c);
    sova_model_free(m);
}

/* The replacement is in effect (else the checks above could not fail). */
static void test_counter_sees_allocations(void) {
    if (!COUNT_ALLOCS) return;
    long before = atomic_load(&n_allocs);
    sova_batch b;
    atomic_store(&counting, true);
    sova_status st = sova_batch_init(4, 1, &b);
    atomic_store(&counting, false);
    CHECK(st == SOVA_OK);
    CHECK(atomic_load(&n_allocs) > before);
    sova_batch_free(&b);
}

static void test_qwen2_q4_0_two_threads(void) { check_decode("models/qwen2/qwen2-Q4_0.gguf", 2); }
static void test_gemma3_f32_one_thread(void) { check_decode("models/gemma3/gemma3-F32.gguf", 1); }

int main(void) {
    RUN_TEST(test_counter_sees_allocations);
    RUN_TEST(test_qwen2_q4_0_two_threads);
    RUN_TEST(test_gemma3_f32_one_thread);
    return test_main_end();
}
