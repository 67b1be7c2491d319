/* fuzz_expect.c - libFuzzer harness for the expectations-file parser and
 * the label matcher it feeds. */
#include "parse/expect.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    expectations x;
    char err[256];
    if (expect_parse((const char *)data, size, "fuzz", &x, err, sizeof err) == 0) {
        for (size_t i = 0; i < x.n; i++) {
            /* Each parsed label set must match itself and the empty set. */
            if (!expect_labels_match(x.items[i].labels, x.items[i].labels)) __builtin_trap();
            if (!expect_labels_match(x.items[i].labels, "")) __builtin_trap();
            (void)expect_compare(x.items[i].op, 1.0, x.items[i].bound);
            /* "from NAME" names a source declared above. */
            if (x.items[i].source >= (int)x.nsources) __builtin_trap();
            char bound[128];
            expect_bound_text(&x.items[i], bound, sizeof bound);
        }
        for (size_t i = 0; i < x.nsources; i++)
            if (!x.sources[i].name[0] || strncmp(x.sources[i].url, "http", 4) != 0) __builtin_trap();
        expectations_free(&x);
    } else if (!memchr(err, ':', strlen(err))) {
        __builtin_trap(); /* every error names the input and line */
    }
    return 0;
}
