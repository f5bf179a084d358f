/* Monotonic clock. */
#ifndef SV_TIMER_H
#define SV_TIMER_H

#include <stdint.h>

uint64_t sv_time_ns(void);
static inline double sv_time_s(void) { return (double)sv_time_ns() * 1e-9; }

#endif
