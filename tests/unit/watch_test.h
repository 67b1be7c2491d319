/* watch_test.h - what the tests of reef watch's outputs share: running a
 * shell command (jq, date, go tool pprof) and taking its output, so that
 * expected values come from tools other than reef.  Included by one test
 * program each, after cmocka.h. */
#ifndef REEF_TEST_WATCH_TEST_H
#define REEF_TEST_WATCH_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The standard output of a shell command, trailing newlines removed
 * (malloc'd); the command must exit 0. */
static inline char *sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) fwrite(chunk, 1, n, m);
    fclose(m);
    int rc = pclose(p);
    if (rc != 0) fprintf(stderr, "%s: exit status %d\n", cmd, rc);
    assert_int_equal(rc, 0);
    while (len && out[len - 1] == '\n') out[--len] = '\0';
    return out;
}

/* The command's output is expected. */
static inline void expect_sh(const char *expected, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void expect_sh(const char *expected, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *got = sh("%s", cmd);
    if (strcmp(got, expected) != 0) fprintf(stderr, "%s: got [%s], expected [%s]\n", cmd, got, expected);
    assert_string_equal(got, expected);
    free(got);
}

#endif
