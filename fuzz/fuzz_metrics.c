/* fuzz_metrics.c - libFuzzer harness for the runtime-figure parsers
 * (Prometheus text, expvar JSON, heap?debug=1 MemStats trailer).
 *
 * The first byte picks the parser, read as the seeds (tests/data/metrics,
 * whole captures) begin: "heap profile" -> the MemStats trailer, '{' ->
 * expvar, '#' or a letter -> Prometheus, any other byte by its value mod 3.
 * The selector stays part of the input, so a seed parses as it was
 * captured.  The last byte picks the chunk size of the streamed parsers (0:
 * the whole input at once).  Every sample is also folded into a gostats and
 * its label set looked up, as a caller would. */
#include "parse/metrics.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { PROM, EXPVAR, MEMSTATS };

static int pick(const uint8_t *data, size_t size)
{
    static const char heap[] = "heap profile";
    if (size >= sizeof heap - 1 && memcmp(data, heap, sizeof heap - 1) == 0) return MEMSTATS;
    if (data[0] == '{') return EXPVAR;
    int lower = data[0] | 0x20;
    if (data[0] == '#' || (lower >= 'a' && lower <= 'z')) return PROM;
    return data[0] % 3;
}

static void on_sample(void *ctx, const char *name, size_t name_len, const char *labels, size_t labels_len,
                      double value)
{
    char v[16];
    gostats_from_prom(ctx, name, name_len, labels, labels_len, value);
    prom_label(labels, labels_len, "le", v, sizeof v);
}

static void run_prom(const char *s, size_t size, size_t chunk, gostats *st)
{
    promparser *p = promparser_new("fuzz", on_sample, st);
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += chunk)
        rc = promparser_feed(p, s + off, size - off < chunk ? size - off : chunk);
    if (rc == 0) promparser_finish(p);
    promparser_free(p);
}

static void run_memstats(const char *s, size_t size, size_t chunk, gostats *st)
{
    memstats_parser *p = memstats_parser_new("fuzz", st);
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += chunk)
        rc = memstats_parser_feed(p, s + off, size - off < chunk ? size - off : chunk);
    if (rc == 0) memstats_parser_finish(p);
    memstats_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t chunk = data[size - 1] ? data[size - 1] : size;
    const char *s = (const char *)data;
    gostats st;
    gostats_init(&st);
    char err[256];
    switch (pick(data, size)) {
    case PROM: run_prom(s, size, chunk, &st); break;
    case EXPVAR: expvar_parse(s, size, "fuzz", &st, on_sample, &st, err, sizeof err); break;
    default: run_memstats(s, size, chunk, &st); break;
    }
    return 0;
}
