/* Read bandwidth of the thread pool over a buffer: what a kernel that only
 * streams its input (a decode GEMV) can hope for on this machine. */
#ifndef BENCH_READ_LOOP_H
#define BENCH_READ_LOOP_H

#include <stddef.h>

#include "base/threadpool.h"

/* Best of reps passes over n bytes of mem (64-byte aligned, n a multiple of
 * 64 per thread), every thread reading its share with 32-byte loads; GB/s. */
double bench_read_gbs(sv_pool *pool, const char *mem, size_t n, int reps);

#endif
