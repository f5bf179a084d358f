/* Fixed thread pool for data-parallel kernels: workers spin briefly for the
 * next job (decode steps arrive microseconds apart), then sleep. */
#ifndef SV_THREADPOOL_H
#define SV_THREADPOOL_H

#include "base/status.h"

typedef struct sv_pool sv_pool;

/* Runs as thread `ith` of `nth`; the caller of sv_pool_run is thread 0. */
typedef void (*sv_pool_fn)(void *ctx, int ith, int nth);

/* n_threads counts the calling thread; <= 0 means all cores. OUT: *pool. */
sv_status sv_pool_new(int n_threads, sv_pool **pool);
/* Runs fn on every thread and returns when all have finished. Not reentrant. */
void sv_pool_run(sv_pool *pool, sv_pool_fn fn, void *ctx);

enum { SV_POOL_MAX_TASKS = 65535 };

/* Runs fn(ctx, i, n_tasks) once for every task i in [0, n_tasks) (at most
 * SV_POOL_MAX_TASKS; more are clamped) and returns when all have finished.
 * Tasks go to whichever thread claims them first, the caller included, so a
 * worker that the OS has not scheduled yet delays nothing but the tasks it
 * already took; fn must not rely on which thread runs a task or on tasks
 * running at the same time. Not reentrant. */
void sv_pool_run_tasks(sv_pool *pool, sv_pool_fn fn, void *ctx, int n_tasks);
int sv_pool_size(const sv_pool *pool);
void sv_pool_free(sv_pool *pool);

/* Online CPU cores (at least 1). */
int sv_cpu_count(void);

#endif
