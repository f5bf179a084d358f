/* Image sources: base64, data URIs and http(s) fetches against a one-shot
 * HTTP server on 127.0.0.1 in a thread (redirect to another scheme, size
 * limit, timeout). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "vision/img.h"
#include "vision/img_source.h"

static void test_base64(void) {
    uint8_t *o;
    size_t n;
    CHECK(img_base64_decode("aGVsbG8=", 8, 0, &o, &n) == SV_OK && n == 5 && !memcmp(o, "hello", 5));
    free(o);
    CHECK(img_base64_decode("aGVsbG8", 7, 0, &o, &n) == SV_OK && n == 5);
    free(o);
    CHECK(img_base64_decode("aGVs\nbG8h", 9, 0, &o, &n) == SV_OK && n == 6 && !memcmp(o, "hello!", 6));
    free(o);
    CHECK(img_base64_decode("-_-_", 4, 0, &o, &n) == SV_OK && n == 3 && o[0] == 0xfb);
    free(o);
    CHECK_EQ_I64(img_base64_decode("aGV*bG8=", 8, 0, &o, &n), SV_ERR_INVALID_ARG);
    CHECK(strstr(sv_errmsg(), "offset 3") != NULL);
    CHECK_EQ_I64(img_base64_decode("aG=VsbG8", 8, 0, &o, &n), SV_ERR_INVALID_ARG);
    CHECK_EQ_I64(img_base64_decode("aGVsb", 5, 0, &o, &n), SV_ERR_INVALID_ARG);
    CHECK_EQ_I64(img_base64_decode("a===", 4, 0, &o, &n), SV_ERR_INVALID_ARG);
    CHECK_EQ_I64(img_base64_decode("", 0, 0, &o, &n), SV_ERR_INVALID_ARG);
    CHECK_EQ_I64(img_base64_decode("aGVsbG8gd29ybGQ=", 16, 4, &o, &n), SV_ERR_LIMIT);
}

static char *b64(const uint8_t *d, size_t n) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *s = malloc((n + 2) / 3 * 4 + 1), *p = s;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        *p++ = a[v >> 18];
        *p++ = a[(v >> 12) & 63];
        *p++ = i + 1 < n ? a[(v >> 6) & 63] : '=';
        *p++ = i + 2 < n ? a[v & 63] : '=';
    }
    *p = 0;
    return s;
}

static void test_data_uri(void) {
    size_t n;
    uint8_t *png = t_read_file(t_fixture("images/png_rgb.png"), &n);
    char *enc = b64(png, n);
    size_t ulen = strlen(enc) + 32;
    char *uri = malloc(ulen);
    snprintf(uri, ulen, "data:image/png;base64,%s", enc);
    uint8_t *o;
    size_t on;
    char mime[32];
    CHECK(img_data_uri_decode(uri, strlen(uri), 0, &o, &on, mime, sizeof mime) == SV_OK && on == n && !memcmp(o, png, n));
    CHECK_STREQ(mime, "image/png");
    free(o);
    CHECK(img_read_source(uri, NULL, &o, &on) == SV_OK && on == n);
    img_image im;
    CHECK(img_decode(o, on, NULL, &im) == SV_OK && im.w == 64);
    img_image_free(&im);
    free(o);
    CHECK_EQ_I64(img_data_uri_decode("data:text/plain;base64,aGk=", 27, 0, &o, &on, NULL, 0), SV_ERR_INVALID_ARG);
    CHECK_EQ_I64(img_data_uri_decode("data:image/png,rawbytes", 23, 0, &o, &on, NULL, 0), SV_ERR_INVALID_ARG);
    CHECK_EQ_I64(img_data_uri_decode("data:image/png;base64", 21, 0, &o, &on, NULL, 0), SV_ERR_INVALID_ARG);
    CHECK_EQ_I64(img_read_source("/no/such/file.png", NULL, &o, &on), SV_ERR_IO);
    free(uri);
    free(enc);
    free(png);
}

/* One-connection HTTP server answering with a fixed response. */
typedef struct {
    int fd;
    const char *resp;
    size_t resp_n;
    int delay_s;
} server;

static void *serve(void *arg) {
    server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0) return NULL;
    char buf[4096];
    ssize_t r = recv(c, buf, sizeof buf, 0);
    (void)r;
    if (s->delay_s) sleep((unsigned)s->delay_s);
    size_t off = 0;
    while (off < s->resp_n) {
        ssize_t w = send(c, s->resp + off, s->resp_n - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(c);
    return NULL;
}

static int start(server *s, pthread_t *th) {
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 1) ||
        getsockname(s->fd, (struct sockaddr *)&a, &al))
        return -1;
    pthread_create(th, NULL, serve, s);
    return ntohs(a.sin_port);
}

static sv_status fetch_with(const char *resp, size_t resp_n, int delay_s, const img_source_params *p, uint8_t **o, size_t *n) {
    server s = {.resp = resp, .resp_n = resp_n, .delay_s = delay_s};
    pthread_t th;
    int port = start(&s, &th);
    CHECK(port > 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/img", port);
    sv_status st = img_fetch_url(url, p, o, n);
    pthread_join(th, NULL);
    close(s.fd);
    return st;
}

static void test_fetch(void) {
    size_t n;
    uint8_t *gif = t_read_file(t_fixture("images/gif_anim.gif"), &n);
    char *resp = malloc(n + 128);
    int h = snprintf(resp, 128, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", n);
    memcpy(resp + h, gif, n);
    uint8_t *o;
    size_t on;
    sv_status st = fetch_with(resp, (size_t)h + n, 0, NULL, &o, &on);
    CHECK_MSG(st == SV_OK, "%s", sv_errmsg());
    if (!st) {
        CHECK(on == n && !memcmp(o, gif, n));
        free(o);
    }
    img_source_params p = img_default_source_params();
    p.max_bytes = 1000;
    CHECK_EQ_I64(fetch_with(resp, (size_t)h + n, 0, &p, &o, &on), SV_ERR_LIMIT);
    static const char redir[] = "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ_I64(fetch_with(redir, sizeof redir - 1, 0, NULL, &o, &on), SV_ERR_NETWORK);
    static const char e500[] = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ_I64(fetch_with(e500, sizeof e500 - 1, 0, NULL, &o, &on), SV_ERR_NETWORK);
    CHECK(strstr(sv_errmsg(), "500") != NULL);
    p = img_default_source_params();
    p.timeout_ms = 300;
    CHECK_EQ_I64(fetch_with(resp, (size_t)h + n, 2, &p, &o, &on), SV_ERR_TIMEOUT);
    CHECK_EQ_I64(img_fetch_url("file:///etc/passwd", NULL, &o, &on), SV_ERR_INVALID_ARG);
    free(resp);
    free(gif);
}

int main(void) {
    RUN_TEST(test_base64);
    RUN_TEST(test_data_uri);
    RUN_TEST(test_fetch);
    return test_main_end();
}
