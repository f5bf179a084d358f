/* A progress bar on stderr, drawn only when stderr is a terminal. Thread-safe. */
#ifndef SV_PROGRESS_H
#define SV_PROGRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *label;
    uint64_t total;
    atomic_uint_fast64_t done;
    atomic_uint_fast64_t last_draw_ns;
    bool enabled;
    uint64_t start_ns;
} sv_progress;

void sv_progress_init(sv_progress *p, const char *label, uint64_t total);
void sv_progress_add(sv_progress *p, uint64_t n);
/* Draws the final state and ends the line. */
void sv_progress_finish(sv_progress *p);

#endif
