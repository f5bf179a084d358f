/* Status codes and the thread-local error message every fallible call leaves. */
#ifndef SV_STATUS_H
#define SV_STATUS_H

#include <stdarg.h>

/* Values equal sova_status in include/sova.h (tied there by static_assert). */
typedef enum {
    SV_OK = 0,
    SV_ERR_IO = -1,
    SV_ERR_FORMAT = -2,
    SV_ERR_UNSUPPORTED = -3,
    SV_ERR_NOMEM = -4,
    SV_ERR_INVALID_ARG = -5,
    SV_ERR_BACKEND = -6,
    SV_ERR_NETWORK = -7,
    SV_ERR_LIMIT = -8,
    SV_ERR_CANCELLED = -9,
    SV_ERR_TIMEOUT = -10,
} sv_status;

#define SV_STATUS_COUNT 11

#if defined(__GNUC__)
#define SV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SV_PRINTF(f, a)
#endif

/* Records a message for the calling thread and returns `st`, so error paths
 * read `return sv_error(SV_ERR_FORMAT, "...", ...);`. */
sv_status sv_error(sv_status st, const char *fmt, ...) SV_PRINTF(2, 3);
sv_status sv_verror(sv_status st, const char *fmt, va_list ap);

/* Prepends context ("loading X: ") to the current message; returns `st`. */
sv_status sv_error_prefix(sv_status st, const char *fmt, ...) SV_PRINTF(2, 3);

/* The calling thread's last message ("" when none). Valid until the next sv_error. */
const char *sv_errmsg(void);
void sv_clear_error(void);

/* Short upper-case name such as "FORMAT". */
const char *sv_status_name(sv_status st);

#endif
