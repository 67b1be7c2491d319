/* gdump_read.c - read a goroutine dump from a file, stdin or URL into a
 * model: the plumbing between collectors and the parser.
 *
 * Large regular files are parsed by two threads, one per half, split at a
 * goroutine boundary ("\n\ngoroutine "), and the two models joined.  The
 * split is only an optimisation: whenever the halves could disagree with a
 * sequential read (a second dump, a format change, any error, --dump, a
 * goroutine id in both halves, goroutine 0 in the second), the file is read
 * again sequentially, so results and messages are the same. */
#include "gdump.h"
#include "../collect/collect.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Below this size one thread is as fast as two. */
#define PARALLEL_MIN ((int64_t)32 << 20)
/* How far past the middle to look for a goroutine boundary. */
#define SPLIT_SEARCH ((uint64_t)4 << 20)

static int feed(void *ctx, const char *data, size_t len) { return gparser_feed(ctx, data, len) != 0; }

static int append(void *ctx, const char *data, size_t len)
{
    buf_append(ctx, data, len);
    return 0;
}

static char *dup_msg(const char *s) { return xstrdup(s ? s : "unknown error"); }

static int read_sequential(const char *source, const gparse_options *popt, const http_options *http, gmodel *m,
                           char **message)
{
    gparser *p = gparser_new(m, popt);
    collect_error err = {.msg = {0}};
    int rc = collect_source(source, http, feed, p, &err);
    int status = 0;
    if (rc == COLLECT_OK) {
        if (gparser_finish(p) < 0) {
            status = 2;
            *message = dup_msg(gparser_error(p));
        }
    } else if (rc == COLLECT_SINK_STOPPED) {
        status = 2;
        *message = dup_msg(gparser_error(p));
    } else {
        status = rc == COLLECT_UNREACHABLE ? 3 : 2;
        *message = dup_msg(err.msg);
    }
    gparser_free(p);
    return status;
}

/* Offset of the 'g' of the first "\n\ngoroutine " past the middle, or 0. */
static uint64_t find_split(const char *path, uint64_t size)
{
    uint64_t mid = size / 2;
    uint64_t end = mid + SPLIT_SEARCH < size ? mid + SPLIT_SEARCH : size;
    buf window = {0};
    collect_error err;
    uint64_t split = 0;
    if (collect_file_range(path, mid, end, append, &window, &err) == COLLECT_OK && window.len) {
        const char *hit = memmem(window.data, window.len, "\n\ngoroutine ", 12);
        if (hit) split = mid + (uint64_t)(hit - window.data) + 2;
    }
    buf_free(&window);
    return split;
}

typedef struct half {
    const char *path;
    uint64_t start, end;
    gmodel model;
    gparser *parser;
    int rc;
} half;

static void *parse_half(void *arg)
{
    half *h = arg;
    collect_error err;
    h->rc = collect_file_range(h->path, h->start, h->end, feed, h->parser, &err);
    if (h->rc == COLLECT_OK && gparser_finish(h->parser) < 0) h->rc = COLLECT_SINK_STOPPED;
    return NULL;
}

/* What the second half's parser read past, in the first half's terms:
 * its line numbers start after the first half's lines. */
static void join_notes(gmodel *dst, const gmodel *src, unsigned long long lines_before)
{
    dst->duplicates += src->duplicates;
    dst->damaged += src->damaged;
    if (!dst->damaged_line && src->damaged_line) dst->damaged_line = src->damaged_line + lines_before;
    if (src->truncated_line) {
        dst->truncated_line = src->truncated_line + lines_before;
        dst->truncated_goroutine = src->truncated_goroutine;
    }
}

/* Returns true when the two-thread read succeeded and m holds the result. */
static bool read_parallel(const char *path, uint64_t size, const gparse_options *popt, gmodel *m)
{
    uint64_t split = find_split(path, size);
    if (!split) return false;
    half h[2] = {{.path = path, .start = 0, .end = split}, {.path = path, .start = split, .end = size}};
    for (int i = 0; i < 2; i++) {
        gmodel_init(&h[i].model);
        h[i].parser = gparser_new(&h[i].model, popt);
    }
    pthread_t t;
    bool threaded = pthread_create(&t, NULL, parse_half, &h[1]) == 0;
    parse_half(&h[0]);
    if (threaded) pthread_join(t, NULL);
    else parse_half(&h[1]);
    /* The second half must continue the first half's last dump. */
    bool ok = threaded && h[0].rc == COLLECT_OK && !h[0].model.truncated_line && h[1].rc == COLLECT_OK && h[1].model.dumps == 1 &&
              !gparser_new_dump_pending(h[0].parser) &&
              h[0].model.format == GDUMP_TRACEBACK && h[1].model.format == GDUMP_TRACEBACK &&
              h[1].model.signal_threads == 0 && !gparser_ids_overlap(h[0].parser, h[1].parser);
    if (ok) {
        gmodel_absorb(&h[0].model, &h[1].model);
        join_notes(&h[0].model, &h[1].model, gparser_lines(h[0].parser));
        gmodel_free(m);
        *m = h[0].model;
    } else {
        gmodel_free(&h[0].model);
    }
    gmodel_free(&h[1].model);
    for (int i = 0; i < 2; i++) gparser_free(h[i].parser);
    return ok;
}

int gdump_read(const char *source, const gparse_options *popt, const http_options *http, gmodel *m,
               char **message)
{
    *message = NULL;
    int64_t size = collect_is_url(source) ? -1 : collect_regular_file_size(source);
    if (size >= PARALLEL_MIN && popt->dump == 0 && read_parallel(source, (uint64_t)size, popt, m)) return 0;
    return read_sequential(source, popt, http, m, message);
}
