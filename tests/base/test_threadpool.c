#include <stdatomic.h>

#include "base/threadpool.h"
#include "check.h"

typedef struct {
    atomic_int calls;
    atomic_long sum;
    int seen_nth;
} job;

static void work(void *p, int ith, int nth) {
    job *j = p;
    atomic_fetch_add(&j->calls, 1);
    atomic_fetch_add(&j->sum, ith);
    j->seen_nth = nth;
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
            CHECK_EQ_I64(j.seen_nth, n);
        }
        sv_pool_free(pool);
    }
    sv_pool_free(NULL);
}

int main(void) {
    RUN_TEST(test_every_thread_runs_once_per_job);
    return test_main_end();
}
