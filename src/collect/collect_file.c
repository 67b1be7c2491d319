/* collect_file.c - files and stdin. */
#include "collect.h"
#include "../util/xalloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (1u << 20)

static int read_stream(int fd, const char *name, collect_sink sink, void *ctx, collect_error *err)
{
    char *chunk = xmalloc(READ_CHUNK);
    int rc = COLLECT_OK;
    for (;;) {
        ssize_t n = read(fd, chunk, READ_CHUNK);
        if (n < 0) {
            if (errno == EINTR) continue;
            snprintf(err->msg, sizeof err->msg, "%s: read: %s", name, strerror(errno));
            rc = COLLECT_BAD_INPUT;
            break;
        }
        if (n == 0) break;
        if (sink(ctx, chunk, (size_t)n)) {
            rc = COLLECT_SINK_STOPPED;
            break;
        }
    }
    free(chunk);
    return rc;
}

/* Regular files are mapped a window at a time and each window is unmapped
 * once parsed: no copy, and resident memory stays at one window however
 * large the file (a whole mapping would count every page in RSS). */
#define MAP_WINDOW ((size_t)8 << 20)

static int map_windows(int fd, const char *name, uint64_t start, uint64_t end, collect_sink sink, void *ctx,
                       collect_error *err)
{
    long page = sysconf(_SC_PAGESIZE);
    for (uint64_t off = start; off < end;) {
        /* Mappings start on a page boundary; skip the bytes before start. */
        uint64_t base = off - off % (uint64_t)page;
        size_t len = (size_t)(end - base < MAP_WINDOW ? end - base : MAP_WINDOW);
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)base);
        if (map == MAP_FAILED) {
            if (off == 0) return read_stream(fd, name, sink, ctx, err); /* not mappable */
            snprintf(err->msg, sizeof err->msg, "%s: mmap: %s", name, strerror(errno));
            return COLLECT_BAD_INPUT;
        }
        madvise(map, len, MADV_SEQUENTIAL);
        int stopped = sink(ctx, (const char *)map + (off - base), len - (size_t)(off - base));
        munmap(map, len);
        if (stopped) return COLLECT_SINK_STOPPED;
        off = base + len;
    }
    return COLLECT_OK;
}

int collect_file(const char *path, collect_sink sink, void *ctx, collect_error *err)
{
    if (strcmp(path, "-") == 0) return read_stream(STDIN_FILENO, "<stdin>", sink, ctx, err);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err->msg, sizeof err->msg, "%s: %s", path, strerror(errno));
        return COLLECT_BAD_INPUT;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err->msg, sizeof err->msg, "%s: %s", path, strerror(errno));
        close(fd);
        return COLLECT_BAD_INPUT;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err->msg, sizeof err->msg, "%s: is a directory", path);
        close(fd);
        return COLLECT_BAD_INPUT;
    }
    int rc;
    if (S_ISREG(st.st_mode) && st.st_size > 0) rc = map_windows(fd, path, 0, (uint64_t)st.st_size, sink, ctx, err);
    else rc = read_stream(fd, path, sink, ctx, err); /* FIFOs, /proc files, empty files */
    close(fd);
    return rc;
}

int collect_file_range(const char *path, uint64_t start, uint64_t end, collect_sink sink, void *ctx,
                       collect_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err->msg, sizeof err->msg, "%s: %s", path, strerror(errno));
        return COLLECT_BAD_INPUT;
    }
    int rc = map_windows(fd, path, start, end, sink, ctx, err);
    close(fd);
    return rc;
}

int64_t collect_regular_file_size(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) return -1;
    return (int64_t)st.st_size;
}

bool collect_is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static bool url_has_path(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p) return false;
    p = strchr(p + 3, '/');
    if (!p) return false;
    return p[1] != '\0' && p[1] != '?';
}

/* Length of url without trailing slashes and a trailing "/debug/pprof". */
static size_t base_length(const char *url, bool *pprof_suffix)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/') n--;
    *pprof_suffix = n >= 12 && memcmp(url + n - 12, "/debug/pprof", 12) == 0;
    return *pprof_suffix ? n - 12 : n;
}

bool collect_is_base_url(const char *url)
{
    bool suffix;
    base_length(url, &suffix);
    return collect_is_url(url) && (!url_has_path(url) || suffix);
}

char *collect_endpoint(const char *base, const char *path)
{
    bool suffix;
    size_t n = base_length(base, &suffix);
    size_t len = n + strlen("/debug/pprof/") + strlen(path) + 1;
    char *out = xmalloc(len);
    snprintf(out, len, "%.*s/debug/pprof/%s", (int)n, base, path);
    return out;
}

char *collect_service_url(const char *base, const char *path)
{
    bool suffix;
    size_t n = base_length(base, &suffix);
    size_t len = n + strlen(path) + 1;
    char *out = xmalloc(len);
    snprintf(out, len, "%.*s%s", (int)n, base, path);
    return out;
}

int collect_source(const char *source, const http_options *http, collect_sink sink, void *ctx, collect_error *err)
{
    return collect_is_url(source) ? collect_http(source, http, sink, ctx, err) : collect_file(source, sink, ctx, err);
}

/* The port of a base URL ("http://host:port/..."), the scheme's default
 * when it names none; 0 when the URL cannot be read. */
unsigned collect_url_port(const char *url)
{
    const char *host = strstr(url, "://");
    if (!host) return 0;
    host += 3;
    size_t len = strcspn(host, "/?#");
    const char *end = host + len, *colon = NULL;
    for (const char *p = host; p < end; p++)
        if (*p == ':') colon = p;
    if (colon && (!memchr(host, ']', len) || colon > (const char *)memchr(host, ']', len)))
        return (unsigned)strtoul(colon + 1, NULL, 10);
    return strncmp(url, "https:", 6) == 0 ? 443 : 80;
}
