/* fuzz_pprof.c - libFuzzer harness for the pprof decoder.
 *
 * The last byte picks a chunk size (to exercise the field carry-over
 * between feeds); whatever decodes is run through top (by function and by
 * line, with the file's names and pprof's), diff against itself, folded and
 * SVG output.  Seeds: tests/captures/pprof, tests/bad/pprof and
 * fuzz/seeds/pprof (producers' shapes and legacy formats' first lines). */
#include "analyze/ptop.h"
#include "model/profile.h"
#include "parse/pprof.h"
#include "report/preport.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    /* The last byte picks the chunk size but stays part of the input, so
     * seed profiles (gzip) are read as they are. */
    size_t chunk = data[size - 1] ? (size_t)data[size - 1] * 7 : size;
    profile p;
    profile_init(&p);
    pparse_options o = {.input_name = "fuzz", .max_size = 32u << 20};
    pparser *pp = pparser_new(&p, &o);
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += chunk)
        rc = pparser_feed(pp, (const char *)data + off, size - off < chunk ? size - off : chunk);
    if (rc == 0) rc = pparser_finish(pp);
    pparser_free(pp);
    if (rc == 0) {
        FILE *null = fopen("/dev/null", "w");
        char err[256];
        for (int by_line = 0; by_line < 2; by_line++) {
            ptop_options to = {.by_line = by_line, .tag = by_line ? "bytes" : NULL,
                               .names = by_line ? PNAMES_PPROF : PNAMES_FILE};
            ptop t;
            if (ptop_compute(&p, &to, &t, err, sizeof err) == 0) {
                ptop_report r = {.top = &t, .source = "fuzz", .by_line = to.by_line};
                preport_top_text(null, &r);
                preport_top_json(null, &r);
            }
            ptop_free(&t);
        }
        ptop_options to = {0};
        ptop t;
        if (ptop_diff(&p, &p, &to, &t, err, sizeof err) == 0) {
            ptop_report r = {.top = &t, .source = "fuzz", .base = "fuzz"};
            preport_top_text(null, &r);
        }
        ptop_free(&t);
        int vi = profile_default_index(&p);
        if (vi >= 0) {
            preport_folded(null, &p, vi);
            preport_svg(null, &p, vi, "fuzz");
        }
        fclose(null);
    }
    profile_free(&p);
    return 0;
}
