#include "base/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -1 = not yet read from the environment. */
static atomic_int g_level = -1;

static sv_log_level level_from_env(void) {
    const char *e = getenv("SOVA_LOG");
    if (!e) return SV_LOG_WARN;
    if (!strcmp(e, "error")) return SV_LOG_ERROR;
    if (!strcmp(e, "info")) return SV_LOG_INFO;
    if (!strcmp(e, "debug")) return SV_LOG_DEBUG;
    return SV_LOG_WARN;
}

sv_log_level sv_log_get_level(void) {
    int l = atomic_load(&g_level);
    if (l < 0) {
        l = (int)level_from_env();
        atomic_store(&g_level, l);
    }
    return (sv_log_level)l;
}

void sv_log_set_level(sv_log_level level) { atomic_store(&g_level, (int)level); }

void sv_log(sv_log_level level, const char *fmt, ...) {
    static const char *const tags[] = {"error", "warn", "info", "debug"};
    if (level > sv_log_get_level()) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sova %s: %s\n", tags[level], line);
}
