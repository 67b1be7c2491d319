/* collect.h - collectors: fetch evidence from a file, stdin or a URL and
 * hand it to a parser in chunks, without holding the whole input.
 *
 * Files are mapped (no copy at all); pipes and HTTP bodies are passed on in
 * the chunks they arrive in.  A sink returning non-zero stops the transfer:
 * that is how a parse error ends a download early. */
#ifndef REEF_COLLECT_H
#define REEF_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int (*collect_sink)(void *ctx, const char *data, size_t len);

/* Exit-status classes of a failed collection. */
enum {
    COLLECT_OK = 0,
    COLLECT_SINK_STOPPED = 1, /* the sink returned non-zero */
    COLLECT_BAD_INPUT = 2,    /* unreadable file, refused body */
    COLLECT_UNREACHABLE = 3,  /* connect, timeout, HTTP error status */
};

typedef struct collect_error {
    char msg[512];
    long http_status;  /* the HTTP status of a failed request, 0 if none */
    bool timed_out;    /* the request hit its time limit */
} collect_error;

/* path "-" reads stdin. */
int collect_file(const char *path, collect_sink sink, void *ctx, collect_error *err);

/* Bytes [start, end) of a regular file, mapped a window at a time. */
int collect_file_range(const char *path, uint64_t start, uint64_t end, collect_sink sink, void *ctx,
                       collect_error *err);
/* Size of a regular file, or -1 for anything else (stdin, pipes, ...). */
int64_t collect_regular_file_size(const char *path);

typedef struct http_options {
    long connect_timeout_ms;   /* default 3000 */
    long timeout_ms;           /* whole transfer, default 60000 */
    size_t max_bytes;          /* body cap, default 512 MiB */
    const char *const *headers;/* "Name: value" strings, NULL-terminated */
    bool insecure;             /* skip TLS verification */
    const char *user_agent;
} http_options;

/* Fetches url and streams the body to sink.  A non-2xx status is an error
 * (COLLECT_UNREACHABLE) whose message includes the status and the first
 * line of the body. */
int collect_http(const char *url, const http_options *opt, collect_sink sink, void *ctx, collect_error *err);

bool collect_is_url(const char *s);

/* A base URL names a service, not an endpoint: "http://host:port[/]" or
 * ".../debug/pprof[/]".  Commands pick the endpoint themselves. */
bool collect_is_base_url(const char *url);
/* The port a URL names, the scheme's default (80, 443) when it names none;
 * 0 when the URL cannot be read. */
unsigned collect_url_port(const char *url);
/* base (a base URL) + "/debug/pprof/" + path; malloc'd. */
char *collect_endpoint(const char *base, const char *path);
/* base (a base URL) + path, where path starts at the service's root
 * ("/metrics"); malloc'd. */
char *collect_service_url(const char *base, const char *path);

/* Reads source: a URL through collect_http, "-" or a path through
 * collect_file. */
int collect_source(const char *source, const http_options *http, collect_sink sink, void *ctx, collect_error *err);

#endif
