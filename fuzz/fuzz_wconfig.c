/* fuzz_wconfig.c - libFuzzer harness for reef watch's configuration file
 * (wconfig_load_buffer), and the invariants a loaded file must keep. */
#include "watch/wconfig.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What any accepted file guarantees to the agent. */
static void check_loaded(const wconfig *c)
{
    if (!(c->interval >= 0.1) || !(c->learn > 0) || !(c->baseline_window > 0)) __builtin_trap();
    if (c->ntargets > WCONFIG_MAX_TARGETS || c->nhooks > WCONFIG_MAX_HOOKS || c->nrules > WCONFIG_MAX_RULES)
        __builtin_trap();
    if (c->nheaders > WCONFIG_MAX_HEADERS || c->discover.nmatch > WCONFIG_MAX_MATCH) __builtin_trap();
    if (c->timeout_ms <= 0 || c->connect_timeout_ms <= 0 || c->connect_timeout_ms > c->timeout_ms) __builtin_trap();
    for (size_t i = 0; i < c->ntargets; i++) {
        const wtarget_conf *t = &c->targets[i];
        if (!t->url[0] && t->pid <= 0) __builtin_trap();
        if (!isnan(t->interval) && t->interval < 0.1) __builtin_trap();
        if (t->nrules > WCONFIG_MAX_RULES || !memchr(t->name, 0, sizeof t->name)) __builtin_trap();
        wrule_conf m;
        for (size_t r = 0; r < t->nrules; r++)
            if (wconfig_rule(c, t, t->rules[r].rule, &m) != &m || strcmp(m.rule, t->rules[r].rule) != 0)
                __builtin_trap();
    }
    for (size_t i = 0; i < c->nhooks; i++)
        if (c->hooks[i].argc == 0 || c->hooks[i].argc > WCONFIG_MAX_ARGV || !c->hooks[i].argv[0][0]) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wconfig c, before;
    wconfig_defaults(&c);
    before = c;
    char err[512];
    if (wconfig_load_buffer("fuzz.yaml", (const char *)data, size, &c, err, sizeof err) == 0) {
        check_loaded(&c);
        (void)wconfig_validate(&c, err, sizeof err);
    } else {
        /* Every refusal names the input, and leaves the configuration as it was. */
        if (strncmp(err, "fuzz.yaml", 9) != 0) __builtin_trap();
        if (memcmp(&c, &before, sizeof c) != 0) __builtin_trap();
    }
    return 0;
}
