/* sova public C API.
 *
 * Conventions: every fallible call returns sova_status (0 = ok, negative = the
 * kind of error) and leaves a human message for the calling thread, readable
 * with sova_errmsg(). Handles are opaque; X_new/X_load pair with X_free, and
 * X_free(NULL) is a no-op. OUT: marks parameters written by the call. */
#ifndef SOVA_H
#define SOVA_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SOVA_OK = 0,
    SOVA_ERR_IO = -1,          /* a file or device could not be read or written */
    SOVA_ERR_FORMAT = -2,      /* input bytes are malformed */
    SOVA_ERR_UNSUPPORTED = -3, /* well-formed, but not something sova handles */
    SOVA_ERR_NOMEM = -4,
    SOVA_ERR_INVALID_ARG = -5,
    SOVA_ERR_BACKEND = -6,
    SOVA_ERR_NETWORK = -7,
    SOVA_ERR_LIMIT = -8,       /* a configured limit (size, pixels, context) was exceeded */
    SOVA_ERR_CANCELLED = -9,
    SOVA_ERR_TIMEOUT = -10,
} sova_status;

/* The calling thread's last error message ("" when none). The pointer stays
 * valid until the thread's next failing sova call. */
const char *sova_errmsg(void);

/* Short name of a status ("FORMAT", ...). Static storage. */
const char *sova_status_name(sova_status st);

/* "MAJOR.MINOR.PATCH". Static storage. */
const char *sova_version(void);

#ifdef __cplusplus
}
#endif

#endif
