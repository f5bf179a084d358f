/* Image sources (see img_source.h). */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "base/file.h"
#include "vision/img_source.h"

img_source_params img_default_source_params(void) {
    img_source_params p = {.max_bytes = 64u << 20, .timeout_ms = 30000, .connect_timeout_ms = 10000, .max_redirects = 5};
    return p;
}

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

sv_status img_base64_decode(const char *s, size_t n, size_t max_bytes, uint8_t **out, size_t *out_n) {
    *out = NULL;
    *out_n = 0;
    if (max_bytes == 0) max_bytes = img_default_source_params().max_bytes;
    if (n / 4 * 3 > max_bytes + 3) return sv_error(SV_ERR_LIMIT, "base64: payload larger than %zu bytes", max_bytes);
    uint8_t *buf = malloc(n / 4 * 3 + 3);
    if (!buf) return sv_error(SV_ERR_NOMEM, "base64: out of memory");
    size_t o = 0, pad = 0, nq = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            pad++;
            if (pad > 2) goto bad_pad;
            continue;
        }
        int v = b64_value(c);
        if (v < 0) {
            free(buf);
            return sv_error(SV_ERR_INVALID_ARG, "base64: invalid character 0x%02x at offset %zu", c, i);
        }
        if (pad) goto bad_pad;
        acc = acc << 6 | (uint32_t)v;
        if (++nq == 4) {
            buf[o++] = (uint8_t)(acc >> 16);
            buf[o++] = (uint8_t)(acc >> 8);
            buf[o++] = (uint8_t)acc;
            acc = 0;
            nq = 0;
        }
    }
    if (nq == 1) {
        free(buf);
        return sv_error(SV_ERR_INVALID_ARG, "base64: truncated input (a lone final character)");
    }
    if (pad && (nq == 0 || nq + pad != 4)) goto bad_pad;
    if (nq == 2) buf[o++] = (uint8_t)(acc >> 4);
    if (nq == 3) {
        buf[o++] = (uint8_t)(acc >> 10);
        buf[o++] = (uint8_t)(acc >> 2);
    }
    if (o == 0) {
        free(buf);
        return sv_error(SV_ERR_INVALID_ARG, "base64: empty payload");
    }
    *out = buf;
    *out_n = o;
    return SV_OK;
bad_pad:
    free(buf);
    return sv_error(SV_ERR_INVALID_ARG, "base64: misplaced '=' padding");
}

sv_status img_data_uri_decode(const char *uri, size_t n, size_t max_bytes, uint8_t **out, size_t *out_n, char *mime,
                              size_t mime_cap) {
    *out = NULL;
    *out_n = 0;
    if (n < 5 || strncasecmp(uri, "data:", 5)) return sv_error(SV_ERR_INVALID_ARG, "data URI: must start with 'data:'");
    const char *comma = memchr(uri, ',', n);
    if (!comma) return sv_error(SV_ERR_INVALID_ARG, "data URI: no ',' before the payload");
    const char *meta = uri + 5;
    size_t mlen = (size_t)(comma - meta);
    size_t tlen = 0;
    while (tlen < mlen && meta[tlen] != ';') tlen++;
    if (mime && mime_cap) {
        size_t k = tlen < mime_cap - 1 ? tlen : mime_cap - 1;
        memcpy(mime, meta, k);
        mime[k] = 0;
    }
    if (tlen && strncasecmp(meta, "image/", 6) && strncasecmp(meta, "application/octet-stream", tlen))
        return sv_error(SV_ERR_INVALID_ARG, "data URI: media type '%.*s' is not an image", (int)(tlen > 64 ? 64 : tlen), meta);
    if (mlen < 7 || strncasecmp(comma - 7, ";base64", 7))
        return sv_error(SV_ERR_INVALID_ARG, "data URI: only ';base64,' payloads are supported");
    return img_base64_decode(comma + 1, n - (size_t)(comma + 1 - uri), max_bytes, out, out_n);
}

typedef struct {
    uint8_t *d;
    size_t n, cap, max;
    int too_big;
} fetch_buf;

static size_t on_body(char *p, size_t sz, size_t nm, void *ud) {
    fetch_buf *b = ud;
    size_t k = sz * nm;
    if (k > b->max - b->n) {
        b->too_big = 1;
        return 0;
    }
    if (b->n + k > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + k) cap = cap > b->max / 2 ? b->max : cap * 2;
        uint8_t *d = realloc(b->d, cap);
        if (!d) return 0;
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->n, p, k);
    b->n += k;
    return k;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void init_curl(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

sv_status img_fetch_url(const char *url, const img_source_params *pp, uint8_t **out, size_t *out_n) {
    *out = NULL;
    *out_n = 0;
    img_source_params p = pp ? *pp : img_default_source_params();
    if (!p.max_bytes) p.max_bytes = img_default_source_params().max_bytes;
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
        return sv_error(SV_ERR_INVALID_ARG, "fetch: only http:// and https:// URLs are allowed");
    pthread_once(&curl_once, init_curl);
    if (curl_init_rc != CURLE_OK) return sv_error(SV_ERR_NETWORK, "fetch: libcurl initialisation failed");
    CURL *c = curl_easy_init();
    if (!c) return sv_error(SV_ERR_NOMEM, "fetch: cannot create a libcurl handle");
    fetch_buf b = {.max = p.max_bytes};
    char err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, p.max_redirects);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, p.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p.max_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sova-image/1");
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    sv_status st = SV_OK;
    if (b.too_big || rc == CURLE_FILESIZE_EXCEEDED)
        st = sv_error(SV_ERR_LIMIT, "fetch %s: body larger than %zu bytes", url, p.max_bytes);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        st = sv_error(SV_ERR_TIMEOUT, "fetch %s: timed out after %ld ms", url, p.timeout_ms);
    else if (rc == CURLE_HTTP_RETURNED_ERROR)
        st = sv_error(SV_ERR_NETWORK, "fetch %s: HTTP status %ld", url, code);
    else if (rc != CURLE_OK)
        st = sv_error(SV_ERR_NETWORK, "fetch %s: %s", url, err[0] ? err : curl_easy_strerror(rc));
    else if (b.n == 0)
        st = sv_error(SV_ERR_NETWORK, "fetch %s: empty response body", url);
    if (st) {
        free(b.d);
        return st;
    }
    *out = b.d;
    *out_n = b.n;
    return SV_OK;
}

sv_status img_read_source(const char *src, const img_source_params *pp, uint8_t **out, size_t *out_n) {
    img_source_params p = pp ? *pp : img_default_source_params();
    if (!p.max_bytes) p.max_bytes = img_default_source_params().max_bytes;
    if (!strncasecmp(src, "data:", 5)) return img_data_uri_decode(src, strlen(src), p.max_bytes, out, out_n, NULL, 0);
    if (!strncasecmp(src, "http://", 7) || !strncasecmp(src, "https://", 8)) return img_fetch_url(src, &p, out, out_n);
    sv_status st = sv_file_read_all(src, p.max_bytes, out, out_n);
    return st ? sv_error_prefix(st, "image %s: ", src) : SV_OK;
}
