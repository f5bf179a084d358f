#include "base/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SV_CPU_RELAX() _mm_pause()
#else
#define SV_CPU_RELAX() ((void)0)
#endif

/* Pauses (~25 ns each on Zen 3) a thread spins before it sleeps. Short: on a
 * machine with more runnable threads than cores, a spinning thread burns the
 * time slice the thread it waits for needs (often queued on the same core),
 * and the tasks of sv_pool_run_tasks never wait for a sleeping worker to
 * wake. Measured on 2 shared cores (qwen2.5-0.5b Q4_0 decode, 2 threads):
 * 20000 -> 18-19 t/s, 200 -> 24-26 t/s loaded; both ~47 t/s idle. */
enum { SPIN_ROUNDS = 200 };

/* The current job in one word, so that a worker can tell which job a task
 * belongs to: generation (31 bits) | fixed (1) | tasks (16) | next task (16).
 * A fixed job runs task i on thread i; the tasks of any other job go to
 * whichever thread claims them first. */
#define JOB_GEN_SHIFT 33
#define JOB_FIXED ((uint64_t)1 << 32)
#define JOB_GEN_MASK 0x7fffffffu
static uint32_t job_gen(uint64_t w) { return (uint32_t)(w >> JOB_GEN_SHIFT); }
static int job_tasks(uint64_t w) { return (int)(w >> 16 & 0xffff); }
static int job_next(uint64_t w) { return (int)(w & 0xffff); }

struct sv_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic uint64_t job; /* see JOB_* */
    atomic_int done;      /* tasks of the current job finished */
    atomic_int stop;
    uint32_t gen;         /* generation of the last job (caller only) */
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

/* Claims and runs tasks of job generation gen until none is left. A claim
 * that succeeds proves the job is unfinished, so fn and ctx are still its. */
static void run_claimed(sv_pool *pool, uint64_t w, uint32_t gen) {
    while (job_gen(w) == gen && job_next(w) < job_tasks(w)) {
        if (!atomic_compare_exchange_weak_explicit(&pool->job, &w, w + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        pool->fn(pool->ctx, job_next(w), job_tasks(w));
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
        w = atomic_load_explicit(&pool->job, memory_order_acquire);
    }
}

static void *worker_main(void *p) {
    worker_arg *wa = p;
    sv_pool *pool = wa->pool;
    int ith = wa->ith;
    free(wa);
    uint32_t seen = 0;
    for (;;) {
        uint64_t w = atomic_load_explicit(&pool->job, memory_order_acquire);
        for (int i = 0; job_gen(w) == seen && i < SPIN_ROUNDS; i++) {
            SV_CPU_RELAX();
            w = atomic_load_explicit(&pool->job, memory_order_acquire);
        }
        if (job_gen(w) == seen) {
            pthread_mutex_lock(&pool->mu);
            while (job_gen(w = atomic_load(&pool->job)) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->cv, &pool->mu);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = job_gen(w);
        if (w & JOB_FIXED) {
            /* The job cannot finish without this thread: fn and ctx are its. */
            pool->fn(pool->ctx, ith, pool->n);
            atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
        } else {
            run_claimed(pool, w, seen);
        }
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

/* Publishes a job, runs the caller's part of it and waits for the rest. */
static void run_job(sv_pool *pool, sv_pool_fn fn, void *ctx, int n_tasks, bool fixed) {
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    pool->gen = (pool->gen + 1) & JOB_GEN_MASK;
    if (pool->gen == 0) pool->gen = 1; /* 0 is what a new worker has seen */
    uint64_t w = (uint64_t)pool->gen << JOB_GEN_SHIFT | (fixed ? JOB_FIXED : 0) | (uint64_t)n_tasks << 16;
    pthread_mutex_lock(&pool->mu);
    atomic_store_explicit(&pool->job, w, memory_order_release);
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    if (fixed) {
        fn(ctx, 0, n_tasks);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_relaxed);
    } else {
        run_claimed(pool, w, pool->gen);
    }
    int spins = 0;
    while (atomic_load_explicit(&pool->done, memory_order_acquire) < n_tasks) {
        if (++spins < SPIN_ROUNDS) SV_CPU_RELAX();
        else sched_yield();
    }
}

void sv_pool_run(sv_pool *pool, sv_pool_fn fn, void *ctx) {
    if (pool->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    run_job(pool, fn, ctx, pool->n, true);
}

void sv_pool_run_tasks(sv_pool *pool, sv_pool_fn fn, void *ctx, int n_tasks) {
    if (n_tasks <= 0) return;
    if (n_tasks > SV_POOL_MAX_TASKS) n_tasks = SV_POOL_MAX_TASKS;
    if (pool->n == 1 || n_tasks == 1) {
        for (int i = 0; i < n_tasks; i++) fn(ctx, i, n_tasks);
        return;
    }
    run_job(pool, fn, ctx, n_tasks, false);
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
