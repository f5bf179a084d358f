#include "check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

int t_passed, t_failed;

void t_fail_at(const char *file, int line, const char *fmt, ...) {
    t_failed++;
    fprintf(stderr, "%s:%d: failed: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int test_main_end(void) {
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}

static char *ring_slot(void) {
    static char bufs[8][4096];
    static int next;
    return bufs[next++ & 7];
}

const char *t_fixture(const char *rel) {
    const char *root = getenv("SOVA_FIXTURES");
    char *b = ring_slot();
    snprintf(b, 4096, "%s/%s", root ? root : "../shared/fixtures", rel);
    return b;
}

const char *t_tmpdir(void) {
    static char dir[256];
    if (!dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/sova-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return dir;
}

const char *t_tmpfile(const char *name) {
    char *b = ring_slot();
    snprintf(b, 4096, "%s/%s", t_tmpdir(), name);
    return b;
}

uint8_t *t_read_file(const char *path, size_t *size) {
    uint8_t *data;
    if (sv_file_read_all(path, (size_t)1 << 32, &data, size) != SV_OK) {
        fprintf(stderr, "cannot read %s: %s\n", path, sv_errmsg());
        t_failed++;
        exit(test_main_end());
    }
    return data;
}
