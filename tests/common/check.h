/* Minimal test harness: CHECK macros count failures; test_main_end prints the
 * closing "N passed, N failed" line and returns the exit code. */
#ifndef SOVA_TEST_CHECK_H
#define SOVA_TEST_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int t_passed, t_failed;

void t_fail_at(const char *file, int line, const char *fmt, ...);

#define CHECK(cond)                                                    \
    do {                                                               \
        if (cond) t_passed++;                                          \
        else t_fail_at(__FILE__, __LINE__, "CHECK(%s)", #cond);        \
    } while (0)

#define CHECK_MSG(cond, ...)                                           \
    do {                                                               \
        if (cond) t_passed++;                                          \
        else t_fail_at(__FILE__, __LINE__, __VA_ARGS__);               \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                                        \
    do {                                                                                          \
        long long a_ = (long long)(a), b_ = (long long)(b);                                       \
        if (a_ == b_) t_passed++;                                                                 \
        else t_fail_at(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_);             \
    } while (0)

#define CHECK_STREQ(a, b)                                                                         \
    do {                                                                                          \
        const char *a_ = (a), *b_ = (b);                                                          \
        if (a_ && b_ && strcmp(a_, b_) == 0) t_passed++;                                          \
        else t_fail_at(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,                  \
                       a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                   \
    } while (0)

/* Runs one test function, printing its name. */
#define RUN_TEST(fn)                                                   \
    do {                                                               \
        int f0_ = t_failed;                                            \
        fn();                                                          \
        printf("%s %s\n", t_failed == f0_ ? "ok  " : "FAIL", #fn);     \
    } while (0)

int test_main_end(void);

/* Path of a golden-data file: $SOVA_FIXTURES/rel (static buffer, per call ring). */
const char *t_fixture(const char *rel);
/* A fresh temporary folder for this test process (created once). */
const char *t_tmpdir(void);
/* Path inside t_tmpdir() (static buffer, per call ring). */
const char *t_tmpfile(const char *name);
/* Whole file into malloc'd memory; aborts the test (counted as a failure and exit) when missing. */
uint8_t *t_read_file(const char *path, size_t *size);

#endif
