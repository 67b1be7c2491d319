/* buildinfo.h - the Go build information embedded in an executable.
 *
 * Since Go 1.18 the linker writes a ".go.buildinfo" blob: a 32-byte header
 * that starts with "\xff Go buildinf:", then the Go version and the module
 * information as length-prefixed strings (the same text `go version -m`
 * prints).  reef reads it from a file or /proc/PID/exe without running Go.
 *
 * The blob is found through the ELF section table (libelf) and, when the
 * section table is stripped, by scanning the first writable data segment
 * for the magic, as cmd/go does. */
#ifndef REEF_PARSE_BUILDINFO_H
#define REEF_PARSE_BUILDINFO_H

#include <stddef.h>
#include <stdint.h>

typedef struct buildinfo_module {
    char *path;
    char *version;   /* "(devel)" for a local main module; may be "" */
    char *sum;       /* "h1:..." or "" */
    struct buildinfo_module *replace; /* "=>" line, or NULL */
} buildinfo_module;

typedef struct buildinfo_setting {
    char *key;       /* "-race", "CGO_ENABLED", "GOARCH", "vcs.modified", ... */
    char *value;
} buildinfo_setting;

typedef struct buildinfo {
    char *go_version;        /* "go1.26.8", as printed by go version */
    char *path;              /* "path" line: the main package; may be NULL */
    buildinfo_module main;   /* "mod" line; path NULL when absent */
    buildinfo_module *deps;  /* "dep" lines, in order */
    size_t ndeps;
    buildinfo_setting *settings; /* "build" lines, in order */
    size_t nsettings;
} buildinfo;

/* Reads the build info of an ELF executable (mapped, not read).  Returns
 * 0, or 2 with a message in err ("PATH: not an ELF executable", "PATH: not a
 * Go executable (no Go build info)", "PATH: offset N: build info in the old
 * pointer format: built before Go 1.18, ...", ...); bi is then empty. */
int buildinfo_read_file(const char *path, buildinfo *bi, char *err, size_t errlen);

/* The same for an ELF image in memory (size bytes); name is used in
 * messages.  For tests and the fuzz harness. */
int buildinfo_read_image(const uint8_t *data, size_t size, const char *name, buildinfo *bi, char *err, size_t errlen);

/* Parses the blob itself (from the magic on; len bytes available), for the
 * fuzz harness and tests.  name is used in messages.  Returns 0 or 2. */
int buildinfo_parse(const uint8_t *data, size_t len, const char *name, buildinfo *bi, char *err, size_t errlen);

/* The value of a build setting, or NULL. */
const char *buildinfo_setting_value(const buildinfo *bi, const char *key);

/* Writes the build info in the format of `go version -m FILE` (after its
 * first "FILE: goX" line). */
struct _IO_FILE;
void buildinfo_print(const buildinfo *bi, struct _IO_FILE *out);

void buildinfo_free(buildinfo *bi);

#endif
