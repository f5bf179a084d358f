#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "base/threadpool.h"
#include "check.h"

typedef struct {
    atomic_int calls;
    atomic_long sum;
    atomic_int seen_nth;
} job;

static void work(void *p, int ith, int nth) {
    job *j = p;
    atomic_fetch_add(&j->calls, 1);
    atomic_fetch_add(&j->sum, ith);
    atomic_store(&j->seen_nth, nth);
}

static void test_every_thread_runs_once_per_job(void) {
    for (int n = 1; n <= 4; n++) {
        sv_pool *pool;
        CHECK(sv_pool_new(n, &pool) == SV_OK);
        CHECK_EQ_I64(sv_pool_size(pool), n);
        for (int rep = 0; rep < 200; rep++) {
            job j = {0};
            sv_pool_run(pool, work, &j);
            CHECK_EQ_I64(atomic_load(&j.calls), n);
            CHECK_EQ_I64(atomic_load(&j.sum), n * (n - 1) / 2);
            CHECK_EQ_I64(atomic_load(&j.seen_nth), n);
        }
        sv_pool_free(pool);
    }
    sv_pool_free(NULL);
}

enum { MAX_T = 1000 };

typedef struct {
    atomic_int runs[MAX_T];
    atomic_int bad_n;
    int n;
} tasks_job;

static void task(void *p, int i, int n) {
    tasks_job *j = p;
    if (n != j->n || i < 0 || i >= n) atomic_fetch_add(&j->bad_n, 1);
    else atomic_fetch_add(&j->runs[i], 1);
}

static bool each_task_once(tasks_job *j) {
    for (int i = 0; i < j->n; i++)
        if (atomic_load(&j->runs[i]) != 1) return false;
    return atomic_load(&j->bad_n) == 0;
}

/* Alternates claimed-task jobs with fixed per-thread jobs, so a worker that
 * is late for one job meets the next one of the other kind. */
static void test_tasks_run_once_mixed_with_fixed_jobs(void) {
    static const int counts[] = {1, 2, 3, 7, 64, MAX_T};
    for (int n = 1; n <= 4; n++) {
        sv_pool *pool;
        CHECK(sv_pool_new(n, &pool) == SV_OK);
        for (int rep = 0; rep < 300; rep++) {
            static tasks_job j;
            memset(&j, 0, sizeof j);
            j.n = counts[rep % 6];
            sv_pool_run_tasks(pool, task, &j, j.n);
            CHECK(each_task_once(&j));
            job f = {0};
            sv_pool_run(pool, work, &f);
            CHECK_EQ_I64(atomic_load(&f.calls), n);
            CHECK_EQ_I64(atomic_load(&f.sum), n * (n - 1) / 2);
        }
        tasks_job none = {.n = 0};
        sv_pool_run_tasks(pool, task, &none, 0);
        CHECK_EQ_I64(atomic_load(&none.bad_n), 0);
        sv_pool_free(pool);
    }
}

int main(void) {
    RUN_TEST(test_every_thread_runs_once_per_job);
    RUN_TEST(test_tasks_run_once_mixed_with_fixed_jobs);
    return test_main_end();
}
