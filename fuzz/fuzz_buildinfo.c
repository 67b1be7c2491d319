/* fuzz_buildinfo.c - libFuzzer harness for the Go build info reader.
 *
 * The same bytes are read twice: as a .go.buildinfo blob (the header, the
 * varints, the module info text and its quoting) and as an ELF image
 * (libelf, the section lookup, the segment scan).  The seeds in
 * tests/data/buildinfo are both kinds.  Whatever parses is printed in
 * `go version -m`'s format. */
#include "parse/buildinfo.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *null;
    if (!null) null = fopen("/dev/null", "w");
    char err[512];
    buildinfo bi;
    if (buildinfo_parse(data, size, "fuzz", &bi, err, sizeof err) == 0) {
        buildinfo_print(&bi, null);
        buildinfo_setting_value(&bi, "GOARCH");
    }
    buildinfo_free(&bi);
    if (buildinfo_read_image(data, size, "fuzz", &bi, err, sizeof err) == 0) buildinfo_print(&bi, null);
    buildinfo_free(&bi);
    return 0;
}
