/* Where image bytes come from: files, base64 text, data: URIs and http(s)
 * URLs (libcurl, http/https only, also across redirects, with time and size
 * limits). The format is always detected from the bytes, never the name. */
#ifndef IMG_SOURCE_H
#define IMG_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef struct {
    size_t max_bytes;       /* refuse larger payloads (default 64 MiB) */
    long timeout_ms;        /* whole transfer (default 30 s) */
    long connect_timeout_ms;/* default 10 s */
    long max_redirects;     /* default 5 */
} img_source_params;

img_source_params img_default_source_params(void);

/* Standard or URL-safe alphabet; whitespace is skipped; padding optional but
 * only at the end. SV_ERR_INVALID_ARG naming the offending offset otherwise.
 * OUT: *out (malloc'd), *out_n. */
sv_status img_base64_decode(const char *s, size_t n, size_t max_bytes, uint8_t **out, size_t *out_n);

/* `data:[<mime>][;param...];base64,<payload>`; mime (may be NULL) gets the
 * media type (truncated to mime_cap). Non-base64 data URIs are refused. */
sv_status img_data_uri_decode(const char *uri, size_t n, size_t max_bytes, uint8_t **out, size_t *out_n, char *mime,
                              size_t mime_cap);

/* GET over http(s). SV_ERR_NETWORK (with curl's reason or the HTTP status),
 * SV_ERR_TIMEOUT, SV_ERR_LIMIT (too large). */
sv_status img_fetch_url(const char *url, const img_source_params *p, uint8_t **out, size_t *out_n);

/* Dispatches on the text: "data:" URI, "http://"/"https://" URL, otherwise a
 * file path. OUT: *out (malloc'd), *out_n. */
sv_status img_read_source(const char *src, const img_source_params *p, uint8_t **out, size_t *out_n);

#endif
