/* fuzz_gdump.c - libFuzzer harness for the goroutine-dump parser.
 *
 * The last byte picks a chunk size so that the line-carrying code between
 * feeds is exercised as well as the one-shot (mmap) path.  Whatever parses
 * is also classified and rendered, so the analyzer and the reporters see
 * every shape of model the parser can produce. */
#include "analyze/gclassify.h"
#include "model/goroutines.h"
#include "parse/gdump.h"
#include "report/greport.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    /* The last byte picks the chunk size but stays part of the input, so
     * seed files are read as they are. */
    size_t chunk = data[size - 1] ? data[size - 1] : size;

    gmodel m;
    gmodel_init(&m);
    gparse_options o = {.input_name = "fuzz", .max_line = 4096, .dump = chunk % 3};
    gparser *p = gparser_new(&m, &o);
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += chunk)
        rc = gparser_feed(p, (const char *)data + off, size - off < chunk ? size - off : chunk);
    if (rc == 0) rc = gparser_finish(p);
    gparser_free(p);
    if (rc == 0) {
        if (chunk & 1) gmodel_merge_similar(&m);
        else gmodel_sort(&m);
        gclassify_options co = {0};
        gclassify(&m, &co);
        const ggroup **list = malloc((m.ngroups ? m.ngroups : 1) * sizeof *list);
        for (size_t i = 0; i < m.ngroups; i++) list[i] = &m.groups[i];
        greport r = {.model = &m, .groups = list, .ngroups = m.ngroups, .source = "fuzz"};
        FILE *null = fopen("/dev/null", "w");
        greport_text(null, &r);
        greport_json(null, &r);
        greport_folded(null, &r);
        fclose(null);
        free(list);
    }
    gmodel_free(&m);
    return 0;
}
