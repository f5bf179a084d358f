#include "base/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "base/timer.h"

enum { BAR_WIDTH = 30 };

void sv_progress_init(sv_progress *p, const char *label, uint64_t total) {
    p->label = label;
    p->total = total;
    atomic_init(&p->done, 0);
    atomic_init(&p->last_draw_ns, 0);
    p->enabled = isatty(STDERR_FILENO) != 0;
    p->start_ns = sv_time_ns();
}

static void draw(sv_progress *p, uint64_t done) {
    double frac = p->total ? (double)done / (double)p->total : 1.0;
    if (frac > 1.0) frac = 1.0;
    int fill = (int)(frac * BAR_WIDTH);
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = 0;
    double secs = (double)(sv_time_ns() - p->start_ns) * 1e-9;
    fprintf(stderr, "\r%s [%s] %5.1f%% %6.1fs", p->label, bar, frac * 100.0, secs);
    fflush(stderr);
}

void sv_progress_add(sv_progress *p, uint64_t n) {
    uint64_t done = atomic_fetch_add(&p->done, n) + n;
    if (!p->enabled) return;
    uint64_t now = sv_time_ns();
    uint64_t last = atomic_load(&p->last_draw_ns);
    /* Redraw at most ten times a second; one thread wins each slot. */
    if (now - last < 100000000u) return;
    if (!atomic_compare_exchange_strong(&p->last_draw_ns, &last, now)) return;
    draw(p, done);
}

void sv_progress_finish(sv_progress *p) {
    if (!p->enabled) return;
    draw(p, atomic_load(&p->done));
    fputc('\n', stderr);
}
