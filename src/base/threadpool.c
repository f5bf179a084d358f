#include "base/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SV_CPU_RELAX() _mm_pause()
#else
#define SV_CPU_RELAX() ((void)0)
#endif

enum { SPIN_ROUNDS = 20000 };

struct sv_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;   /* bumped once per job */
    atomic_int done;   /* workers finished with the current job */
    atomic_int stop;
    sv_pool_fn fn;
    void *ctx;
};

typedef struct {
    sv_pool *pool;
    int ith;
} worker_arg;

int sv_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void *worker_main(void *p) {
    worker_arg *wa = p;
    sv_pool *pool = wa->pool;
    int ith = wa->ith;
    free(wa);
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load_explicit(&pool->gen, memory_order_acquire);
        for (int i = 0; g == seen && i < SPIN_ROUNDS; i++) {
            SV_CPU_RELAX();
            g = atomic_load_explicit(&pool->gen, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&pool->mu);
            while ((g = atomic_load(&pool->gen)) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->cv, &pool->mu);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = g;
        pool->fn(pool->ctx, ith, pool->n);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
    }
}

sv_status sv_pool_new(int n_threads, sv_pool **out) {
    *out = NULL;
    if (n_threads <= 0) n_threads = sv_cpu_count();
    if (n_threads > 1024) return sv_error(SV_ERR_INVALID_ARG, "thread count %d is too large", n_threads);
    sv_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return sv_error(SV_ERR_NOMEM, "out of memory");
    pool->n = n_threads;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    pool->threads = calloc((size_t)n_threads, sizeof *pool->threads);
    if (!pool->threads) {
        sv_pool_free(pool);
        return sv_error(SV_ERR_NOMEM, "out of memory");
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) {
            pool->n = i;
            sv_pool_free(pool);
            return sv_error(SV_ERR_NOMEM, "out of memory");
        }
        wa->pool = pool;
        wa->ith = i;
        if (pthread_create(&pool->threads[i], NULL, worker_main, wa) != 0) {
            free(wa);
            pool->n = i;
            sv_pool_free(pool);
            return sv_error(SV_ERR_NOMEM, "cannot start thread %d", i);
        }
    }
    *out = pool;
    return SV_OK;
}

void sv_pool_run(sv_pool *pool, sv_pool_fn fn, void *ctx) {
    if (pool->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store(&pool->done, 0);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->gen, 1, memory_order_release);
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    fn(ctx, 0, pool->n);
    int spins = 0;
    while (atomic_load_explicit(&pool->done, memory_order_acquire) < pool->n - 1) {
        if (++spins < SPIN_ROUNDS) SV_CPU_RELAX();
        else sched_yield();
    }
}

int sv_pool_size(const sv_pool *pool) { return pool->n; }

void sv_pool_free(sv_pool *pool) {
    if (!pool) return;
    if (pool->threads) {
        pthread_mutex_lock(&pool->mu);
        atomic_store(&pool->stop, 1);
        pthread_cond_broadcast(&pool->cv);
        pthread_mutex_unlock(&pool->mu);
        for (int i = 1; i < pool->n; i++) pthread_join(pool->threads[i], NULL);
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    free(pool->threads);
    free(pool);
}
