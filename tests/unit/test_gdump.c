/* test_gdump.c - the goroutine-dump parser against inputs shaped exactly as
 * the Go runtime prints them (runtime/traceback.go goroutineheader,
 * traceback2, printcreatedby1, printAncestorTraceback; runtime/pprof
 * printCountProfile).  Real captures are checked end to end in tests/e2e. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gdump_parse.h"

static const char *S(parsed *r, uint32_t id) { return gmodel_str(&r->m, id); }

static const char two_same[] =
    "goroutine 7 [chan send, 3 minutes]:\n"
    "main.leak(0xc000012345, {0x1, 0x2})\n"
    "\t/src/app/main.go:25 +0x1d\n"
    "created by main.start in goroutine 1\n"
    "\t/src/app/main.go:20 +0x66\n"
    "\n"
    "goroutine 8 [chan send, 9 minutes]:\n"
    "main.leak(0xc000099999, {0x3, 0x4})\n"
    "\t/src/app/main.go:25 +0x1d\n"
    "created by main.start in goroutine 5\n"
    "\t/src/app/main.go:20 +0x66\n"
    "\n"
    "goroutine 9 [chan send]:\n"
    "main.leak(0xc000099999, {0x3, 0x4})\n"
    "\t/src/app/main.go:26 +0x1d\n"
    "created by main.start in goroutine 5\n"
    "\t/src/app/main.go:20 +0x66\n";

static void test_groups_ignore_arguments(void **state)
{
    (void)state;
    parsed *r = parse(two_same);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 3);
    assert_int_equal(r->m.ngroups, 2);
    ggroup *g = &r->m.groups[0];
    assert_int_equal(g->count, 2);
    assert_string_equal(S(r, g->state), "chan send");
    assert_int_equal(g->wait_min, 3);
    assert_int_equal(g->wait_max, 9);
    assert_int_equal(g->nframes, 1);
    assert_string_equal(S(r, g->frames[0].func), "main.leak");
    assert_string_equal(S(r, g->frames[0].file), "/src/app/main.go");
    assert_int_equal(g->frames[0].line, 25);
    assert_true(g->has_created_by);
    assert_string_equal(S(r, g->created_by.func), "main.start");
    assert_int_equal(g->created_by.line, 20);
    assert_int_equal(g->nparents, 2);
    assert_int_equal(g->parents[0], 1);
    assert_int_equal(g->parents[1], 5);
    /* The third differs only in its line: its own group, merged by --similar. */
    assert_int_equal(r->m.groups[1].frames[0].line, 26);
    assert_int_equal(r->m.groups[1].wait_max, 0);
    gmodel_merge_similar(&r->m);
    assert_int_equal(r->m.ngroups, 1);
    assert_int_equal(r->m.groups[0].count, 3);
    done(r);
}

static void test_chunking_is_invisible(void **state)
{
    (void)state;
    parsed *whole = parse(two_same);
    for (size_t chunk = 1; chunk < 40; chunk += 3) {
        parsed *r = parse_chunks(two_same, strlen(two_same), chunk, 0);
        assert_int_equal(r->rc, 0);
        assert_int_equal(r->m.ngroups, whole->m.ngroups);
        for (size_t i = 0; i < r->m.ngroups; i++) {
            assert_int_equal(r->m.groups[i].count, whole->m.groups[i].count);
            assert_int_equal(r->m.groups[i].key_len, whole->m.groups[i].key_len);
            assert_memory_equal(r->m.groups[i].key, whole->m.groups[i].key, whole->m.groups[i].key_len);
        }
        done(r);
    }
    done(whole);
}

static void test_header_variants(void **state)
{
    (void)state;
    parsed *r = parse(
        "goroutine 1 gp=0xc000002380 m=0 mp=0x5a1b20 [running]:\n"
        "main.main()\n"
        "\t/src/main.go:9 +0x25 fp=0xc000067f50 sp=0xc000067f40 pc=0x4a0e25\n"
        "\n"
        "goroutine 2 gp=0xc000002e00 m=nil [force gc (idle), 12 minutes]:\n"
        "runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n"
        "\t/go/src/runtime/proc.go:435 +0xce fp=0xc00005cfa8 sp=0xc00005cf88 pc=0x46b5ce\n"
        "\n"
        "goroutine 3 [chan receive (leaked), 4 minutes, locked to thread]:\n"
        "main.wait(...)\n"
        "\t/src/main.go:30\n"
        "main.outer()\n"
        "\t/src/main.go:40 +0x10\n"
        "\n"
        "goroutine 4 [select (scan), synctest bubble 7]:\n"
        "main.sel()\n"
        "\t/src/main.go:50 +0x10\n"
        "\n"
        "goroutine 5 [chan receive (durable), synctest bubble 7 labels:{\"k\": \"v, w\", \"x\": \"]:\"}]:\n"
        "main.dur()\n"
        "\t/src/main.go:60 +0x10\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.ngroups, 5);
    for (size_t i = 0; i < r->m.ngroups; i++) {
        ggroup *g = &r->m.groups[i];
        const char *f = S(r, g->frames[0].func);
        if (strcmp(f, "main.main") == 0) {
            assert_string_equal(S(r, g->state), "running");
            assert_string_equal(S(r, g->frames[0].file), "/src/main.go");
            assert_int_equal(g->frames[0].line, 9);
        } else if (strcmp(f, "runtime.gopark") == 0) {
            assert_string_equal(S(r, g->state), "force gc (idle)");
            assert_int_equal(g->wait_max, 12);
            assert_int_equal(g->frames[0].line, 435);
        } else if (strcmp(f, "main.wait") == 0) {
            assert_string_equal(S(r, g->state), "chan receive");
            assert_int_equal(g->leaked, 1);
            assert_int_equal(g->locked, 1);
            assert_int_equal(g->wait_max, 4);
            assert_int_equal(g->nframes, 2);
            assert_int_equal(g->frames[0].line, 30);
        } else if (strcmp(f, "main.sel") == 0) {
            assert_string_equal(S(r, g->state), "select");
        } else if (strcmp(f, "main.dur") == 0) {
            assert_string_equal(S(r, g->state), "chan receive (durable)");
            assert_int_equal(g->nlabels, 1);
            assert_string_equal(S(r, g->labels[0]), "{\"k\":\"v, w\", \"x\":\"]:\"}");
        } else {
            fail_msg("unexpected group %s", f);
        }
    }
    done(r);
}

static void test_elision_and_special_frames(void **state)
{
    (void)state;
    parsed *r = parse(
        "goroutine 10 [running]:\n"
        "main.rec(0x32)\n"
        "\t/src/r.go:5 +0x20\n"
        "...100 frames elided...\n"
        "main.rec(0x0)\n"
        "\t/src/r.go:5 +0x20\n"
        "created by main.main in goroutine 1\n"
        "\t/src/r.go:9 +0x30\n"
        "\n"
        "goroutine 11 [running]:\n"
        "\tgoroutine running on other thread; stack unavailable\n"
        "created by main.main in goroutine 1\n"
        "\t/src/r.go:10 +0x30\n"
        "\n"
        "goroutine 12 [syscall]:\n"
        "non-Go function at pc=0x7f0000001234\n"
        "runtime.cgocall(0x4a0e25, 0xc000067f40)\n"
        "\t/go/src/runtime/cgocall.go:167 +0x4b\n"
        "\n"
        "goroutine 13 [chan send]:\n"
        "main.anc()\n"
        "\t/src/r.go:20 +0x1\n"
        "created by main.main\n"
        "\t/src/r.go:21 +0x2\n"
        "[originating from goroutine 1]:\n"
        "main.main(...)\n"
        "\t/src/r.go:21 +0x2\n"
        "...additional frames elided...\n"
        "\n"
        "goroutine 14 [IO wait]:\n"
        "C.sym\n"
        "\t/src/c.c:12 pc=0x7f0000005678\n"
        "main.callC()\n"
        "\t/src/My Project/c.go:3 +0x5\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.ngroups, 5);
    for (size_t i = 0; i < r->m.ngroups; i++) {
        ggroup *g = &r->m.groups[i];
        if (g->unavailable) {
            assert_int_equal(g->nframes, 0);
            assert_string_equal(S(r, g->created_by.func), "main.main");
            continue;
        }
        const char *f = S(r, g->frames[0].func);
        if (strcmp(f, "main.rec") == 0) {
            assert_int_equal(g->nframes, 2);
            assert_int_equal(g->elided_at, 1);
            assert_int_equal(g->elided, 100);
        } else if (strcmp(f, "non-Go function") == 0) {
            assert_int_equal(g->nframes, 2);
            assert_string_equal(S(r, g->frames[1].func), "runtime.cgocall");
        } else if (strcmp(f, "main.anc") == 0) {
            assert_int_equal(g->nframes, 1); /* ancestors stay out of the stack */
            assert_int_equal(g->nparents, 0); /* pre-1.21 form has no parent id */
            assert_string_equal(S(r, g->created_by.func), "main.main");
        } else if (strcmp(f, "C.sym") == 0) {
            assert_string_equal(S(r, g->frames[0].file), "/src/c.c");
            assert_int_equal(g->frames[0].line, 12);
            assert_string_equal(S(r, g->frames[1].file), "/src/My Project/c.go");
            assert_int_equal(g->frames[1].line, 3);
        } else {
            fail_msg("unexpected group %s", f);
        }
    }
    done(r);
}

static void test_text_around_and_prefixes(void **state)
{
    (void)state;
    parsed *r = parse(
        "2026/11/22 01:02:03 starting\n"
        "panic: boom\n"
        "\tcontinued panic text\n"
        "\n"
        "goroutine 5 [running]:\n"
        "main.main()\n"
        "\t/src/main.go:9 +0x25\n"
        "exit status 2\n"
        "2026-11-22T01:02:03.123Z stderr F goroutine 6 [select, 2 minutes]:\n"
        "2026-11-22T01:02:03.123Z stderr F main.loop()\n"
        "2026-11-22T01:02:03.123Z stderr F \t/src/loop.go:7 +0x25\n"
        "2026-11-22T01:02:03.1Z stderr F \n"
        "Nov  2 01:02:03 host app[12]: goroutine 7 [select, 2 minutes]:\r\n"
        "Nov  2 01:02:03 host app[12]: main.loop()\r\n"
        "Nov  2 01:02:03 host app[12]: \t/src/loop.go:7 +0x25\r\n"
        "Nov  2 01:02:04 host app[12]: done\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 3);
    assert_int_equal(r->m.ngroups, 2);
    assert_int_equal(r->m.groups[0].count, 2);
    assert_string_equal(S(r, r->m.groups[0].frames[0].func), "main.loop");
    assert_string_equal(S(r, r->m.groups[0].frames[0].file), "/src/loop.go");
    assert_int_equal(r->m.groups[0].frames[0].line, 7);
    done(r);
}

static const char debug1[] =
    "goroutine profile: total 7\n"
    "3 @ 0x47d96e 0x45f472 0x4dc28f 0x483e81\n"
    "#\t0x47e9c4\tinternal/sync.runtime_SemacquireMutex+0x24\t/go/src/runtime/sema.go:95\n"
    "#\t0x4dc292\tsync.(*Mutex).Lock+0x12\t\t\t\t/go/src/sync/mutex.go:46\n"
    "#\t0x4dc28e\tmain.main.func2+0xe\t\t\t\t/tmp/t1/main.go:17\n"
    "\n"
    "3 @ 0x47d96e 0x41491c 0x4dc2de 0x483e81\n"
    "# labels: {\"worker\":\"a b\", \"z\":\"1\"}\n"
    "#\t0x4dc2dd\tmain.main.func1+0x1d\t/tmp/t1/main.go:16\n"
    "\n"
    "1 @ 0x442931 0x483e81\n"
    "#\t0x442930\n"
    "\n";

static void test_debug1(void **state)
{
    (void)state;
    parsed *r = parse(debug1);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.format, GDUMP_COUNTS);
    assert_int_equal(r->m.total, 7);
    assert_int_equal(r->m.declared_total, 7);
    assert_int_equal(r->m.ngroups, 3);
    ggroup *lock = NULL, *lab = NULL;
    for (size_t i = 0; i < r->m.ngroups; i++) {
        if (r->m.groups[i].nframes == 3) lock = &r->m.groups[i];
        if (r->m.groups[i].nlabels) lab = &r->m.groups[i];
    }
    assert_non_null(lock);
    assert_int_equal(lock->count, 3);
    assert_int_equal(lock->state, 0);
    assert_int_equal(lock->wait_max, -1);
    assert_string_equal(S(r, lock->frames[1].func), "sync.(*Mutex).Lock");
    assert_string_equal(S(r, lock->frames[2].file), "/tmp/t1/main.go");
    assert_int_equal(lock->frames[2].line, 17);
    assert_non_null(lab);
    assert_string_equal(S(r, lab->labels[0]), "{\"worker\":\"a b\", \"z\":\"1\"}");
    assert_int_equal(lab->label_counts[0], 3);
    done(r);
}

static void test_debug1_truncated(void **state)
{
    (void)state;
    /* Cut after the second block: the header's total no longer adds up. */
    const char *cut = strstr(debug1, "1 @ 0x442931");
    parsed *r = parse_chunks(debug1, (size_t)(cut - debug1), 0, 0);
    assert_int_equal(r->rc, -1);
    assert_non_null(strstr(r->error, "says 7 goroutines"));
    done(r);
}

static void test_several_dumps(void **state)
{
    (void)state;
    const char *text =
        "SIGQUIT: quit\n"
        "PC=0x46f0a1 m=0 sigcode=0\n"
        "\n"
        "goroutine 1 [select]:\n"
        "main.a()\n"
        "\t/src/a.go:1 +0x1\n"
        "\n"
        "SIGQUIT: quit\n"
        "goroutine 1 [select]:\n"
        "main.b()\n"
        "\t/src/b.go:1 +0x1\n"
        "\n"
        "goroutine 2 [select]:\n"
        "main.b()\n"
        "\t/src/b.go:1 +0x1\n";
    parsed *r = parse(text);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.dumps, 2);
    assert_int_equal(r->m.total, 2);
    assert_string_equal(S(r, r->m.groups[0].frames[0].func), "main.b");
    done(r);
    r = parse_chunks(text, strlen(text), 0, 1);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->m.total, 1);
    assert_string_equal(S(r, r->m.groups[0].frames[0].func), "main.a");
    done(r);
    r = parse_chunks(text, strlen(text), 0, 3);
    assert_int_equal(r->rc, -1);
    assert_non_null(strstr(r->error, "holds 2 dumps"));
    done(r);
}

/* Each bad input must fail with a message naming the input and the line.
 * (Cut and damaged dumps are read: see test_gdump_untidy.c.) */
static void expect_error(const char *text, size_t len, const char *where, const char *what)
{
    parsed *r = parse_chunks(text, len, 0, 0);
    assert_int_equal(r->rc, -1);
    if (!strstr(r->error, where) || !strstr(r->error, what))
        fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", r->error, where, what);
    done(r);
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_error("", 0, "t:", "empty input");
    expect_error("hello\nworld\n", 12, "t:", "no goroutine dump found in 2 lines");
    const char nul[] = "goroutine 1 [running]:\nmain.ma\0in()\n\t/src/main.go:9 +0x25\n";
    expect_error(nul, sizeof nul - 1, "t:2:", "control character");
    const char lie[] = "goroutine 1 [chan send, 99999999999999 minutes]:\nmain.main()\n\t/src/main.go:9\n";
    expect_error(lie, sizeof lie - 1, "t:1:", "implausible wait time");
    const char ctl[] = "goroutine 1 [chan\x01send]:\nmain.main()\n\t/src/main.go:9\n";
    expect_error(ctl, sizeof ctl - 1, "t:1:", "control characters");
    const char created[] = "goroutine 1 [running]:\nmain.f()\n\t/a.go:1\ncreated by main.g in goroutine x\n\t/a.go:2\n";
    expect_error(created, sizeof created - 1, "t:4:", "created by");

    /* A line longer than the limit inside a goroutine is an error... */
    size_t big = GPARSE_DEFAULT_MAX_LINE + 10;
    char *longline = malloc(big + 64);
    size_t n = (size_t)sprintf(longline, "goroutine 1 [running]:\n");
    memset(longline + n, 'a', big);
    n += big;
    longline[n++] = '\n';
    expect_error(longline, n, "t:2:", "inside goroutine 1");
    for (size_t chunk = 4096; chunk <= 65536; chunk *= 16) {
        parsed *r = parse_chunks(longline, n, chunk, 0);
        assert_int_equal(r->rc, -1);
        assert_non_null(strstr(r->error, "t:2:"));
        done(r);
    }
    /* ...but outside one it is text to skip, streamed or not. */
    n = 0;
    memset(longline, 'b', big);
    n = big;
    n += (size_t)sprintf(longline + n, "\ngoroutine 1 [running]:\nmain.main()\n\t/a.go:1\n");
    for (size_t chunk = 0; chunk <= 65536; chunk = chunk ? chunk * 16 : 4096) {
        parsed *r = parse_chunks(longline, n, chunk, 0);
        assert_int_equal(r->rc, 0);
        assert_int_equal(r->m.total, 1);
        done(r);
    }
    free(longline);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_ignore_arguments),
        cmocka_unit_test(test_chunking_is_invisible),
        cmocka_unit_test(test_header_variants),
        cmocka_unit_test(test_elision_and_special_frames),
        cmocka_unit_test(test_text_around_and_prefixes),
        cmocka_unit_test(test_debug1),
        cmocka_unit_test(test_debug1_truncated),
        cmocka_unit_test(test_several_dumps),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
