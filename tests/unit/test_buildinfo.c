/* test_buildinfo.c - the Go build info reader on blobs and ELF files built
 * byte by byte here: the inline format, the sentinel framing, Go's quoting
 * of build settings, replacements, and every way the lengths can lie.
 * Real executables are cross-checked with `go version -m` in tests/e2e. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "parse/buildinfo.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The framing cmd/go puts around the module info (modload infoStart and
 * infoEnd); the reader only relies on their length. */
static const char info_start[17] = "0w\xaf\f\x92t\b\x02" "A\xe1\xc1\a\xe6\xd6\x18\xe6";
static const char info_end[17] = "\xf9" "2C1\x86\x18 r\x00\x82" "B\x10" "A\x16\xd8\xf2";

static void uvarint(buf *b, uint64_t v)
{
    while (v >= 0x80) {
        buf_putc(b, (char)(v | 0x80));
        v >>= 7;
    }
    buf_putc(b, (char)v);
}

static void header(buf *b, uint8_t ptrsize, uint8_t flags)
{
    buf_append(b, "\xff Go buildinf:", 14);
    buf_putc(b, (char)ptrsize);
    buf_putc(b, (char)flags);
    for (int i = 0; i < 16; i++) buf_putc(b, 0);
}

/* A Go 1.18+ blob; text framed by the sentinels unless raw. */
static void make_blob(buf *b, const char *vers, const char *text, bool raw)
{
    b->len = 0;
    header(b, 8, 2);
    uvarint(b, strlen(vers));
    buf_puts(b, vers);
    size_t n = strlen(text);
    uvarint(b, raw ? n : n + 32);
    if (!raw) buf_append(b, info_start, 16);
    buf_append(b, text, n);
    if (!raw) buf_append(b, info_end, 16);
}

static int parse(const buf *b, buildinfo *bi, char *err, size_t errlen)
{
    return buildinfo_parse((const uint8_t *)b->data, b->len, "test.bin", bi, err, errlen);
}

/* buildinfo_print's output, for comparison with `go version -m`'s. */
static char *printed(const buildinfo *bi)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    buildinfo_print(bi, f);
    fclose(f);
    return out;
}

/* Parses text as module info; returns the printed form, or the error
 * message prefixed with "ERR ". */
static char *roundtrip(const char *text)
{
    buf b = {0};
    make_blob(&b, "go1.22.1", text, false);
    buildinfo bi;
    char err[512];
    char *out;
    if (parse(&b, &bi, err, sizeof err) == 0) {
        out = printed(&bi);
    } else {
        out = malloc(strlen(err) + 5);
        sprintf(out, "ERR %s", err);
    }
    buildinfo_free(&bi);
    buf_free(&b);
    return out;
}

static void assert_roundtrip(const char *text, const char *want)
{
    char *got = roundtrip(text);
    assert_string_equal(got, want);
    free(got);
}

static void assert_error(const char *text, const char *want)
{
    char *got = roundtrip(text);
    if (strncmp(got, "ERR ", 4) != 0 || !strstr(got, want)) fail_msg("want an error with [%s], got [%s]", want, got);
    free(got);
}

static void test_inline(void **state)
{
    (void)state;
    const char *text = "path\texample.com/cmd/svc\n"
                       "mod\texample.com\t(devel)\t\n"
                       "dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n"
                       "dep\tgithub.com/a/b\tv1.2.3\n"
                       "build\t-buildmode=exe\n"
                       "build\tCGO_ENABLED=0\n"
                       "build\tvcs.modified=true\n";
    buf b = {0};
    make_blob(&b, "go1.26.8", text, false);
    buildinfo bi;
    char err[256];
    assert_int_equal(parse(&b, &bi, err, sizeof err), 0);
    assert_string_equal(bi.go_version, "go1.26.8");
    assert_string_equal(bi.path, "example.com/cmd/svc");
    assert_string_equal(bi.main.path, "example.com");
    assert_string_equal(bi.main.version, "(devel)");
    assert_string_equal(bi.main.sum, "");
    assert_int_equal(bi.ndeps, 2);
    assert_string_equal(bi.deps[0].sum, "h1:abc=");
    assert_string_equal(bi.deps[1].version, "v1.2.3");
    assert_string_equal(bi.deps[1].sum, "");
    assert_null(bi.deps[1].replace);
    assert_int_equal(bi.nsettings, 3);
    assert_string_equal(buildinfo_setting_value(&bi, "CGO_ENABLED"), "0");
    assert_null(buildinfo_setting_value(&bi, "GOOS"));
    char *out = printed(&bi);
    assert_string_equal(out, "\tpath\texample.com/cmd/svc\n"
                             "\tmod\texample.com\t(devel)\t\n"
                             "\tdep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n"
                             "\tdep\tgithub.com/a/b\tv1.2.3\t\n"
                             "\tbuild\t-buildmode=exe\n"
                             "\tbuild\tCGO_ENABLED=0\n"
                             "\tbuild\tvcs.modified=true\n");
    free(out);
    buildinfo_free(&bi);
    buildinfo_free(&bi); /* freeing twice is harmless */

    /* 32-bit and big-endian headers read the same: the inline format has
     * no pointers. */
    make_blob(&b, "go1.26.8", text, false);
    b.data[14] = 4;
    b.data[15] = 3;
    assert_int_equal(parse(&b, &bi, err, sizeof err), 0);
    assert_int_equal(bi.ndeps, 2);
    buildinfo_free(&bi);
    buf_free(&b);
}

static void test_sentinels(void **state)
{
    (void)state;
    buf b = {0};
    buildinfo bi;
    char err[256];
    /* Without the framing, Go sees no module info: only the version. */
    make_blob(&b, "go1.21.0", "path\tx\nmod\tx\tv1\t\n", true);
    assert_int_equal(parse(&b, &bi, err, sizeof err), 0);
    assert_string_equal(bi.go_version, "go1.21.0");
    assert_null(bi.path);
    assert_null(bi.main.path);
    char *out = printed(&bi);
    assert_string_equal(out, "");
    free(out);
    buildinfo_free(&bi);
    /* Framed, but the text does not end in a newline: not module info. */
    make_blob(&b, "go1.21.0", "path\tx", false);
    assert_int_equal(parse(&b, &bi, err, sizeof err), 0);
    assert_null(bi.path);
    buildinfo_free(&bi);
    /* The shortest framed text: one newline, 33 bytes in all. */
    make_blob(&b, "go1.21.0", "\n", false);
    assert_int_equal(parse(&b, &bi, err, sizeof err), 0);
    assert_null(bi.path);
    buildinfo_free(&bi);
    buf_free(&b);
    /* A mod line of empty columns is the zero Module: not printed. */
    assert_roundtrip("mod\t\t\n", "");
    /* Unknown lines are skipped, the last path and mod lines win. */
    assert_roundtrip("hello\tworld\npath\ta\npath\tb\nmod\tm\tv1\tsum\nmod\tn\tv2\n",
                     "\tpath\tb\n\tmod\tn\tv2\t\n");
}

static void test_quoting(void **state)
{
    (void)state;
    /* Values with spaces are quoted by cmd/go; printing quotes them again. */
    assert_roundtrip("build\t-ldflags=\"-s -w -X main.v=1\"\n", "\tbuild\t-ldflags=\"-s -w -X main.v=1\"\n");
    assert_roundtrip("build\t-tags=a,b\n", "\tbuild\t-tags=a,b\n");
    /* Escapes decode; printing uses strconv.Quote's canonical forms. */
    assert_roundtrip("build\tK=\"a\\tb\\x41\\101\\u00e9\\U0001F600\\\"\\\\\"\n",
                     "\tbuild\tK=\"a\\tbAA\xc3\xa9\xf0\x9f\x98\x80\\\"\\\\\"\n");
    assert_roundtrip("build\tK=\"\\a\\b\\f\\n\\r\\v\\x01\\x7f \"\n", "\tbuild\tK=\"\\a\\b\\f\\n\\r\\v\\x01\\x7f \"\n");
    /* Bytes that are not UTF-8 print as \x; unprintable runes as \u. */
    assert_roundtrip("build\tK=\"\\xff \\u00a0\\u200b\\U000e0001\"\n",
                     "\tbuild\tK=\"\\xff \\u00a0\\u200b\\U000e0001\"\n");
    /* Controls, format characters, private use, noncharacters: escaped;
     * other runes past ASCII are printed. */
    assert_roundtrip("build\tK=\" \\u0085\\u00ad\\u0600\\u2028\\ue000\\ufeff\\ufffe\\U0001fffe\\U00032400\\u4e00"
                     "\\U000e0100\"\n",
                     "\tbuild\tK=\" \\u0085\\u00ad\\u0600\\u2028\\ue000\\ufeff\\ufffe\\U0001fffe\\U00032400"
                     "\xe4\xb8\x80\xf3\xa0\x84\x80\"\n");
    /* A raw byte that is not UTF-8 inside "..." decodes as U+FFFD. */
    assert_roundtrip("build\tK=\"\xff \"\n", "\tbuild\tK=\"\xef\xbf\xbd \"\n");
    /* Backquoted: no escapes, carriage returns dropped. */
    assert_roundtrip("build\tK=`a\\n b\rc`\n", "\tbuild\tK=\"a\\\\n bc\"\n");
    /* Quoted keys; a key that needs no quoting prints bare. */
    assert_roundtrip("build\t\"a b\"=1\n", "\tbuild\t\"a b\"=1\n");
    assert_roundtrip("build\t\"ab\"=1\n", "\tbuild\tab=1\n");
    assert_roundtrip("build\t\"\"=1\n", "\tbuild\t\"\"=1\n");
    assert_roundtrip("build\t\"a=b\"=\"\"\n", "\tbuild\t\"a=b\"=\n");
    /* A value quoted needlessly prints bare; an empty value stays empty. */
    assert_roundtrip("build\tK=\"plain\"\nbuild\tE=\n", "\tbuild\tK=plain\n\tbuild\tE=\n");
    /* Bare values may hold '='. */
    assert_roundtrip("build\tDefaultGODEBUG=a=1,b=0\n", "\tbuild\tDefaultGODEBUG=a=1,b=0\n");

    assert_error("build\t\n", "missing '='");
    assert_error("build\t=x\n", "missing key");
    assert_error("build\tnoequals\n", "missing '=' after key");
    assert_error("build\tK=a b\n", "unquoted value must be quoted");
    assert_error("build\tK=a\"b\n", "unquoted value must be quoted");
    assert_error("build\tK=\"abc\n", "invalid quoted value");
    assert_error("build\tK=\"a\"b\n", "invalid quoted value");
    assert_error("build\tK=\"a\\'b\"\n", "invalid quoted value");
    assert_error("build\tK=\"\\u00\"\n", "invalid quoted value");
    assert_error("build\tK=\"\\ud800\"\n", "invalid quoted value");
    assert_error("build\tK=\"\\U00110000\"\n", "invalid quoted value");
    assert_error("build\tK=\"\\400\"\n", "invalid quoted value");
    assert_error("build\tK=\"\\q\"\n", "invalid quoted value");
    assert_error("build\tK=\"\\\"\n", "invalid quoted value");
    assert_error("build\tK=`abc\n", "invalid quoted value");
    assert_error("build\tK=\"a\\x00b\"\n", "NUL");
    assert_error("build\t\"a b\n", "invalid quoted key");
    assert_error("build\t\"a b\"\n", "missing '=' after quoted key");
    assert_error("build\t\"a b\"x=1\n", "missing '=' after quoted key");
    assert_error("build\t\"a\\qb\"=1\n", "invalid quoted key");
}

static void test_replacements(void **state)
{
    (void)state;
    assert_roundtrip("mod\tm\t(devel)\t\n"
                     "dep\ta\tv1.0.0\th1:a=\n"
                     "=>\t../a\t(devel)\t\n"
                     "dep\tb\tv2.0.0\th1:b=\n"
                     "=>\tc\tv2.1.0\th1:c=\n",
                     "\tmod\tm\t(devel)\t\n"
                     "\tdep\ta\tv1.0.0\n"
                     "\t=>\t../a\t(devel)\t\n"
                     "\t\n" /* BuildInfo.String's extra newline after a replacement */
                     "\tdep\tb\tv2.0.0\n"
                     "\t=>\tc\tv2.1.0\th1:c=\n"
                     "\t\n");
    /* As in Go, "=>" replaces the last mod or dep even after other lines;
     * the empty line an earlier print left is skipped. */
    assert_roundtrip("dep\ta\tv1\nbuild\tK=V\n\n=>\tb\tv2\th\n",
                     "\tdep\ta\tv1\n\t=>\tb\tv2\th\n\t\n\tbuild\tK=V\n");

    buf b = {0};
    make_blob(&b, "go1.22.1", "dep\ta\tv1\th1:a=\n=>\tb\tv2\th1:b=\n", false);
    buildinfo bi;
    char err[256];
    assert_int_equal(parse(&b, &bi, err, sizeof err), 0);
    assert_non_null(bi.deps[0].replace);
    assert_string_equal(bi.deps[0].replace->path, "b");
    assert_string_equal(bi.deps[0].replace->sum, "h1:b=");
    assert_null(bi.deps[0].replace->replace);
    buildinfo_free(&bi);
    buf_free(&b);

    assert_error("=>\ta\tv1\th\n", "no module on the line before");
    assert_error("dep\ta\tv1\n=>\tb\tv2\th\n=>\tc\tv3\th\n", "no module on the line before");
    assert_error("dep\ta\tv1\n=>\tb\tv2\n", "3 columns");
    assert_error("dep\ta\n", "2 or 3 columns");
    assert_error("mod\ta\tb\tc\td\n", "2 or 3 columns");
    /* Messages name the input and the offset of the bad line: 32 (header)
     * + 9 ("go1.22.1" and its length) + 1 (length) + 16 (sentinel) + 7. */
    assert_error("path\tx\ndep\ta\n", "test.bin: offset 65: module info line \"dep\\ta\": expected 2 or 3 columns");
}

static void test_lengths(void **state)
{
    (void)state;
    buf b = {0};
    buildinfo bi;
    char err[256];

    make_blob(&b, "go1.22.1", "path\tp\n", false);
    size_t full = b.len;
    /* Every truncation of a good blob fails cleanly. */
    for (size_t n = 0; n < full; n++) {
        assert_int_equal(buildinfo_parse((const uint8_t *)b.data, n, "cut", &bi, err, sizeof err), 2);
        assert_non_null(strstr(err, "cut: offset "));
        assert_null(bi.go_version);
    }
    assert_int_equal(buildinfo_parse((const uint8_t *)b.data, full, "t", &bi, err, sizeof err), 0);
    buildinfo_free(&bi);
    assert_int_equal(buildinfo_parse((const uint8_t *)b.data, 40, "t", &bi, err, sizeof err), 2);
    assert_string_equal(err, "t: offset 33: Go version claims 8 bytes, only 7 left");

    /* The module info claims more than there is. */
    b.len = 0;
    header(&b, 8, 2);
    uvarint(&b, 2);
    buf_puts(&b, "go");
    uvarint(&b, (uint64_t)1 << 40);
    buf_puts(&b, "abc");
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "test.bin: offset 41: module info claims 1099511627776 bytes, only 3 left"));

    /* Varints: 64 bits at most, ten bytes at most, not cut off. */
    b.len = 0;
    header(&b, 8, 2);
    for (int i = 0; i < 9; i++) buf_putc(&b, (char)0xff);
    buf_putc(&b, 0x02);
    buf_puts(&b, "xxxxxxxxxxxx");
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_string_equal(err, "test.bin: offset 32: Go version length overflows 64 bits");
    b.len = 32;
    for (int i = 0; i < 11; i++) buf_putc(&b, (char)0x80);
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "overflows"));
    b.len = 32;
    buf_putc(&b, (char)0x80);
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_string_equal(err, "test.bin: offset 32: Go version length is cut off");
    /* A ten-byte varint with a last byte of 1 is legal (2^63 here), and
     * then too long for the input. */
    b.len = 32;
    for (int i = 0; i < 9; i++) buf_putc(&b, (char)0x80);
    buf_putc(&b, 0x01);
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "claims 9223372036854775808 bytes"));

    /* An empty version, a NUL in the version or the module info. */
    make_blob(&b, "", "", true);
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "empty Go version"));
    make_blob(&b, "go1.22", "", true);
    b.data[34] = 0;
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "NUL byte in the Go version"));
    /* reef keeps strings NUL-terminated: a NUL on a line it reads is an
     * error (Go would keep it); on a line Go skips it does no harm. */
    make_blob(&b, "go1.22", "path\tab\n", false);
    b.data[b.len - 16 - 2] = 0;
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "offset 56: module info line \"path\\ta\\x00\""));
    assert_non_null(strstr(err, "NUL byte"));
    make_blob(&b, "go1.22", "hello\tab\npath\tp\n", false);
    b.data[56 + 6] = 0;
    assert_int_equal(parse(&b, &bi, err, sizeof err), 0);
    assert_string_equal(bi.path, "p");
    buildinfo_free(&bi);
    buf_free(&b);
}

static void test_rejects(void **state)
{
    (void)state;
    buf b = {0};
    buildinfo bi;
    char err[256];
    /* Go 1.13-1.17: pointers to the strings instead of the strings. */
    b.len = 0;
    header(&b, 8, 0);
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "test.bin: offset 0: "));
    assert_non_null(strstr(err, "built before Go 1.18"));
    b.data[15] = 1; /* big-endian pointers: still the old format */
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "built before Go 1.18"));
    /* No magic. */
    make_blob(&b, "go1.22.1", "path\tp\n", false);
    b.data[1] = 'g';
    assert_int_equal(parse(&b, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "test.bin: offset 0: no Go build info header"));
    assert_int_equal(buildinfo_parse((const uint8_t *)"", 0, "empty", &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "empty: offset 0: no Go build info"));
    buf_free(&b);
}

/* ---- ELF files ---- */

typedef struct elfw {
    buf b;
    bool be, is64;
} elfw;

static void put(elfw *e, uint64_t v, int size)
{
    for (int i = 0; i < size; i++) {
        int shift = e->be ? (size - 1 - i) * 8 : i * 8;
        buf_putc(&e->b, (char)(v >> shift));
    }
}

static void put_addr(elfw *e, uint64_t v) { put(e, v, e->is64 ? 8 : 4); }

static void pad_to(elfw *e, size_t off)
{
    while (e->b.len < off) buf_putc(&e->b, 0);
}

enum { VADDR = 0x400000, DATA_OFF = 0x200 };

static void phdr(elfw *e, uint32_t flags, uint64_t off, uint64_t size)
{
    put(e, 1, 4); /* PT_LOAD */
    if (e->is64) put(e, flags, 4);
    put_addr(e, off);
    put_addr(e, VADDR + off);
    put_addr(e, VADDR + off);
    put_addr(e, size);
    put_addr(e, size);
    if (!e->is64) put(e, flags, 4);
    put_addr(e, 16);
}

static void shdr(elfw *e, uint32_t name, uint32_t type, uint64_t addr, uint64_t off, uint64_t size)
{
    put(e, name, 4);
    put(e, type, 4);
    put_addr(e, type == 1 ? 3 : 0); /* SHF_WRITE|SHF_ALLOC for the data */
    put_addr(e, addr);
    put_addr(e, off);
    put_addr(e, size);
    put(e, 0, 4);
    put(e, 0, 4);
    put_addr(e, 16);
    put_addr(e, 0);
}

/* An executable with a text segment and a data segment holding junk (and
 * a misaligned copy of the magic) then the blob; with a section table
 * naming .go.buildinfo or without one. */
static void make_elf(elfw *e, const buf *blob, bool with_sections)
{
    static const char shstr[] = "\0.shstrtab\0.go.buildinfo";
    size_t ehsize = e->is64 ? 64 : 52, phsize = e->is64 ? 56 : 32, shsize = e->is64 ? 64 : 40;
    size_t blob_off = DATA_OFF + 48, data_size = 48 + blob->len;
    size_t shstr_off = DATA_OFF + data_size, sh_off = (shstr_off + sizeof shstr + 15) & ~(size_t)15;
    e->b.len = 0;
    buf_append(&e->b, "\x7f" "ELF", 4);
    buf_putc(&e->b, e->is64 ? 2 : 1);
    buf_putc(&e->b, e->be ? 2 : 1);
    buf_putc(&e->b, 1);
    pad_to(e, 16);
    put(e, 2, 2);                      /* ET_EXEC */
    put(e, e->be ? 8 : 62, 2);         /* EM_MIPS or EM_X86_64: any will do */
    put(e, 1, 4);
    put_addr(e, VADDR + 0x100);        /* entry */
    put_addr(e, ehsize);               /* phoff */
    put_addr(e, with_sections ? sh_off : 0);
    put(e, 0, 4);
    put(e, ehsize, 2);
    put(e, phsize, 2);
    put(e, 2, 2);
    put(e, shsize, 2);
    put(e, with_sections ? 3 : 0, 2);
    put(e, with_sections ? 1 : 0, 2);
    phdr(e, 5, 0, DATA_OFF);           /* R+X: not where Go looks */
    phdr(e, 6, DATA_OFF, data_size);   /* R+W */
    pad_to(e, DATA_OFF);
    buf_append(&e->b, "........\xff Go buildinf:", 22);
    pad_to(e, blob_off);
    buf_append(&e->b, blob->data, blob->len);
    if (!with_sections) return;
    buf_append(&e->b, shstr, sizeof shstr);
    pad_to(e, sh_off);
    shdr(e, 0, 0, 0, 0, 0);
    shdr(e, 1, 3, 0, shstr_off, sizeof shstr);
    shdr(e, 11, 1, VADDR + blob_off, blob_off, blob->len);
}

static char *write_temp(const void *data, size_t n)
{
    char *path = strdup("/tmp/reef-test-buildinfo.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_elf(void **state)
{
    (void)state;
    buf blob = {0};
    make_blob(&blob, "go1.24.2", "path\tp\nmod\tm\tv1.0.0\th1:x=\nbuild\tGOARCH=mips\n", false);
    for (int variant = 0; variant < 8; variant++) {
        elfw e = {.be = variant & 1, .is64 = variant & 2};
        bool sections = variant & 4;
        make_elf(&e, &blob, sections);
        char *path = write_temp(e.b.data, e.b.len);
        buildinfo bi;
        char err[512];
        int rc = buildinfo_read_file(path, &bi, err, sizeof err);
        if (rc) fail_msg("variant %d: %s", variant, err);
        assert_string_equal(bi.go_version, "go1.24.2");
        assert_string_equal(bi.main.sum, "h1:x=");
        assert_string_equal(buildinfo_setting_value(&bi, "GOARCH"), "mips");
        buildinfo_free(&bi);

        /* A lying length now runs past the segment: the message gives the
         * file offset (blob at DATA_OFF + 48, length at + 32 + 9). */
        size_t blob_off = DATA_OFF + 48;
        e.b.data[blob_off + 32 + 9] = 0x7f;
        unlink(path);
        free(path);
        path = write_temp(e.b.data, e.b.len);
        assert_int_equal(buildinfo_read_file(path, &bi, err, sizeof err), 2);
        char want[64];
        snprintf(want, sizeof want, ": offset %d: module info claims 127 bytes", (int)blob_off + 42);
        if (!strstr(err, want)) fail_msg("variant %d: [%s] lacks [%s]", variant, err, want);

        /* Without the blob: not a Go executable. */
        memset(e.b.data + blob_off, 0, 14);
        unlink(path);
        free(path);
        path = write_temp(e.b.data, e.b.len);
        assert_int_equal(buildinfo_read_file(path, &bi, err, sizeof err), 2);
        assert_non_null(strstr(err, "not a Go executable"));
        unlink(path);
        free(path);
        buf_free(&e.b);
    }
    buf_free(&blob);
}

static void test_files(void **state)
{
    (void)state;
    buildinfo bi;
    char err[512];
    assert_int_equal(buildinfo_read_file("/nonexistent/reef", &bi, err, sizeof err), 2);
    assert_string_equal(err, "/nonexistent/reef: cannot open: No such file or directory");
    assert_int_equal(buildinfo_read_file("/tmp", &bi, err, sizeof err), 2);
    assert_string_equal(err, "/tmp: is a directory");
    char *path = write_temp("", 0);
    assert_int_equal(buildinfo_read_file(path, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "not an ELF executable (empty file)"));
    unlink(path);
    free(path);
    path = write_temp("hello, world\n", 13);
    assert_int_equal(buildinfo_read_file(path, &bi, err, sizeof err), 2);
    assert_non_null(strstr(err, "not an ELF executable"));
    unlink(path);
    free(path);
    /* An ELF header that lies about its program headers. */
    path = write_temp("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0\0\0\0\0\0\0\0\0"
                      "\xff\xff\xff\xff\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x40\0\x38\0\x09\0\x40\0\0\0\0\0", 64);
    assert_int_equal(buildinfo_read_file(path, &bi, err, sizeof err), 2);
    assert_null(bi.go_version);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_sentinels),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_replacements),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_elf),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
