#include "base/status.h"

#include <stdio.h>
#include <string.h>

enum { SV_ERRMSG_CAP = 1024 };

static _Thread_local char tl_msg[SV_ERRMSG_CAP];

sv_status sv_verror(sv_status st, const char *fmt, va_list ap) {
    vsnprintf(tl_msg, sizeof tl_msg, fmt, ap);
    return st;
}

sv_status sv_error(sv_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sv_verror(st, fmt, ap);
    va_end(ap);
    return st;
}

sv_status sv_error_prefix(sv_status st, const char *fmt, ...) {
    char prefix[SV_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix), mlen = strlen(tl_msg);
    if (plen > SV_ERRMSG_CAP - 1) plen = SV_ERRMSG_CAP - 1;
    if (plen + mlen > SV_ERRMSG_CAP - 1) mlen = SV_ERRMSG_CAP - 1 - plen;
    memmove(tl_msg + plen, tl_msg, mlen);
    memcpy(tl_msg, prefix, plen);
    tl_msg[plen + mlen] = '\0';
    return st;
}

const char *sv_errmsg(void) { return tl_msg; }

void sv_clear_error(void) { tl_msg[0] = '\0'; }

const char *sv_status_name(sv_status st) {
    static const char *const names[SV_STATUS_COUNT] = {
        "OK", "IO", "FORMAT", "UNSUPPORTED", "NOMEM", "INVALID_ARG",
        "BACKEND", "NETWORK", "LIMIT", "CANCELLED", "TIMEOUT",
    };
    int i = -(int)st;
    return (i >= 0 && i < SV_STATUS_COUNT) ? names[i] : "UNKNOWN";
}
