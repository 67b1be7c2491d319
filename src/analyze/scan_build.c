/* scan_build.c - build-risk and pprof-exposed: what the binary was built
 * with, and who can reach its debug endpoint. */
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The newest Go 1.N released by `now`.  Go ships a major release every
 * February and August (Go 1.22 in February 2024) and supports the two
 * newest; a release date is taken as the 15th of its month. */
static int newest_go_minor(time_t now)
{
    struct tm tm;
    gmtime_r(&now, &tm);
    int months = (tm.tm_year + 1900 - 2024) * 12 + tm.tm_mon - 1; /* since February 2024 */
    if (tm.tm_mday < 15) months--;
    if (months < 0) return 22;
    return 22 + months / 6;
}

static int go_minor(const char *v)
{
    if (!v || strncmp(v, "go1.", 4) != 0) return -1;
    return atoi(v + 4);
}

static void support_check(const scan_evidence *e, const scan_config *cfg, report *r)
{
    int minor = go_minor(e->go_version);
    if (minor < 0) return;
    int newest = newest_go_minor(cfg->now ? cfg->now : time(NULL));
    if (minor >= newest - 1) return;
    finding *f = report_finding(r, "build-risk", SEV_WARN, "built with %s, out of support since Go 1.%d", e->go_version,
                                minor + 2);
    finding_evidence(f, "Go supports the two newest major releases (1.%d and 1.%d as of today)", newest - 1, newest);
    finding_advice(f, "Security fixes stop when a release leaves support.  Rebuild with a supported Go; the go "
                      "line of go.mod may stay as it is.");
}

static void setting_checks(const scan_evidence *e, report *r)
{
    const buildinfo *bi = e->build;
    const char *race = buildinfo_setting_value(bi, "-race");
    if (race && strcmp(race, "true") == 0) {
        finding *f = report_finding(r, "build-risk", SEV_WARN, "built with the race detector (-race)");
        finding_evidence(f, "build setting -race=true");
        finding_advice(f, "The race detector costs 5-10x memory and 2-20x CPU and caps goroutines at 8128.  Use it "
                          "in tests and canaries, not in the fleet.");
    }
    static const char *const sanitizers[] = {"-asan", "-msan"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = buildinfo_setting_value(bi, sanitizers[i]);
        if (v && strcmp(v, "true") == 0) {
            finding *f = report_finding(r, "build-risk", SEV_WARN, "built with %s", sanitizers[i]);
            finding_advice(f, "A sanitizer build is slower and larger; ship a normal build.");
        }
    }
    const char *gcflags = buildinfo_setting_value(bi, "-gcflags");
    if (gcflags && (strstr(gcflags, "-N") || strstr(gcflags, "-l"))) {
        finding *f = report_finding(r, "build-risk", SEV_WARN, "built with optimizations or inlining off (-gcflags=%s)",
                                    gcflags);
        finding_advice(f, "-N -l is for debuggers: the code runs markedly slower and allocates more.  Ship the "
                          "default build.");
    }
    const char *modified = buildinfo_setting_value(bi, "vcs.modified");
    if (modified && strcmp(modified, "true") == 0) {
        finding *f = report_finding(r, "build-risk", SEV_INFO, "built from a working tree with uncommitted changes");
        const char *rev = buildinfo_setting_value(bi, "vcs.revision");
        finding_evidence(f, "vcs.revision %s, vcs.modified=true", rev ? rev : "?");
        finding_advice(f, "The running code is not any commit: build releases from a clean checkout.");
    }
}

void rule_build_risk(const scan_evidence *e, const scan_config *cfg, report *r)
{
    if (!e->build && !e->go_version) {
        report_skip(r, "build-risk", "%s", e->build_missing ? e->build_missing
                                           : e->pid ? "no build info"
                                                    : "needs --pid (build info of the executable) or go_info in /metrics");
        return;
    }
    support_check(e, cfg, r);
    if (e->build) setting_checks(e, r);
    else report_check_note(r, "build-risk", "Go version from /metrics only; --pid reads the build settings");
    if (e->build) {
        const char *cgo = buildinfo_setting_value(e->build, "CGO_ENABLED");
        report_check_note(r, "build-risk", "%s, %s%s", e->build->go_version ? e->build->go_version : "?",
                          e->build->main.path ? e->build->main.path : "?", cgo && strcmp(cgo, "1") == 0 ? ", cgo" : "");
    }
}

/* Host and port of a URL ("http://[::1]:6060/x" -> "::1", 6060). */
static bool url_host_port(const char *url, char *host, size_t hostlen, unsigned *port)
{
    const char *p = strstr(url, "://");
    if (!p) return false;
    p += 3;
    const char *end;
    if (*p == '[') {
        end = strchr(p, ']');
        if (!end) return false;
        snprintf(host, hostlen, "%.*s", (int)(end - p - 1), p + 1);
        end++;
    } else {
        end = p + strcspn(p, ":/");
        snprintf(host, hostlen, "%.*s", (int)(end - p), p);
    }
    *port = *end == ':' ? (unsigned)atoi(end + 1) : strncmp(url, "https", 5) == 0 ? 443 : 80;
    return true;
}

static bool host_is_loopback(const char *h)
{
    return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 || strcmp(h, "localhost") == 0;
}

void rule_pprof_exposed(const scan_evidence *e, const scan_config *cfg, report *r)
{
    (void)cfg;
    char host[256];
    unsigned port;
    if (!e->url || !e->has_pprof || !url_host_port(e->url, host, sizeof host, &port)) {
        report_skip(r, "pprof-exposed", "no pprof endpoint found");
        return;
    }
    const scan_sample *last = evidence_last(e);
    if (last && last->has_proc) {
        for (int i = 0; i < last->proc.nlisten; i++) {
            const proc_listen *l = &last->proc.listen[i];
            if (l->port != port) continue;
            if (l->loopback) {
                report_check_note(r, "pprof-exposed", "pprof listens on %s:%u only", l->addr, port);
                continue;
            }
            bool v6 = strchr(l->addr, ':') != NULL;
            finding *f = report_finding(r, "pprof-exposed", SEV_WARN, "the pprof endpoint listens on %s%s%s:%u, not on loopback",
                                        v6 ? "[" : "", l->addr, v6 ? "]" : "", port);
            finding_evidence(f, "pid %d has a listening socket on %s port %u serving /debug/pprof/", e->pid, l->addr, port);
            finding_advice(f, "Anyone who reaches this port can read heap profiles (secrets in memory), stop the world "
                              "with goroutine?debug=2 and keep the CPU profiler busy.  Serve net/http/pprof on a "
                              "separate 127.0.0.1 listener (or behind authentication), not on the public mux.");
            return;
        }
        return;
    }
    if (host_is_loopback(host)) {
        report_check_note(r, "pprof-exposed", "reached on %s; --pid tells which addresses it listens on", host);
        return;
    }
    finding *f = report_finding(r, "pprof-exposed", SEV_WARN, "the pprof endpoint answers on %s:%u", host, port);
    finding_evidence(f, "reef reached %s/debug/pprof/ from another host address", e->url);
    finding_advice(f, "Serve net/http/pprof on a separate 127.0.0.1 listener, or behind authentication.");
}
