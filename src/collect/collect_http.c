/* collect_http.c - HTTP(S) through libcurl.
 *
 * reef reads from production services, so every request is bounded: a
 * connect timeout, a total timeout, a body-size cap, and no retries.  The
 * body is streamed into the sink as it arrives.
 *
 * libcurl is loaded with dlopen() the first time a URL is fetched: it
 * brings some thirty shared libraries (TLS, Kerberos, LDAP, ...) whose
 * loading alone costs about 6 MB of resident memory, and commands reading
 * files should not pay for them. */
#include "collect.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The few libcurl functions reef uses, resolved at first use. */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} api;

/* Loaded once for the process (reef watch fetches from one thread per
 * target); the outcome is kept, so a failure is reported at every call. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_loaded;
static char curl_error[sizeof ((collect_error *)0)->msg];

static bool load_curl_once(collect_error *err);

static void load_curl_at_first_use(void)
{
    collect_error e = {.http_status = 0};
    curl_loaded = load_curl_once(&e);
    if (!curl_loaded) memcpy(curl_error, e.msg, sizeof curl_error);
}

static bool load_curl(collect_error *err)
{
    pthread_once(&curl_once, load_curl_at_first_use);
    if (!curl_loaded) memcpy(err->msg, curl_error, sizeof err->msg);
    return curl_loaded;
}

static bool load_curl_once(collect_error *err)
{
    /* Debian's OpenSSL flavour first, then the GnuTLS one. */
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err->msg, sizeof err->msg, "cannot fetch URLs: libcurl is not installed (%s)", dlerror());
        return false;
    }
#define SYM(field, name)                                                                     \
    do {                                                                                     \
        *(void **)&api.field = dlsym(h, name);                                               \
        if (!api.field) {                                                                    \
            snprintf(err->msg, sizeof err->msg, "cannot fetch URLs: libcurl lacks %s", name); \
            return false;                                                                    \
        }                                                                                    \
    } while (0)
    SYM(global_init, "curl_global_init");
    SYM(easy_init, "curl_easy_init");
    SYM(easy_setopt, "curl_easy_setopt");
    SYM(easy_perform, "curl_easy_perform");
    SYM(easy_getinfo, "curl_easy_getinfo");
    SYM(easy_strerror, "curl_easy_strerror");
    SYM(easy_cleanup, "curl_easy_cleanup");
    SYM(slist_append, "curl_slist_append");
    SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
    api.global_init(CURL_GLOBAL_DEFAULT);
    return true;
}

typedef struct transfer {
    collect_sink sink;
    void *ctx;
    size_t received, max_bytes;
    bool too_big, sink_stopped;
    long status;
    CURL *curl;
    char first_line[160]; /* of an error body, for the message */
    size_t first_len;
} transfer;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    transfer *t = arg;
    size_t n = size * nmemb;
    if (!t->status) api.easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);
    if (t->status < 200 || t->status > 299) {
        /* Keep the start of an error body to explain the status. */
        while (t->first_len + 1 < sizeof t->first_line && t->first_len < n &&
               data[t->first_len] != '\n')
            t->first_line[t->first_len] = data[t->first_len], t->first_len++;
        t->first_line[t->first_len] = '\0';
        return 0;
    }
    t->received += n;
    if (t->received > t->max_bytes) {
        t->too_big = true;
        return 0;
    }
    if (t->sink(t->ctx, data, n)) {
        t->sink_stopped = true;
        return 0;
    }
    return n;
}

int collect_http(const char *url, const http_options *opt, collect_sink sink, void *ctx, collect_error *err)
{
    if (!load_curl(err)) return COLLECT_UNREACHABLE;
    CURL *c = api.easy_init();
    if (!c) {
        snprintf(err->msg, sizeof err->msg, "%s: cannot start an HTTP client", url);
        return COLLECT_UNREACHABLE;
    }
    transfer t = {.sink = sink, .ctx = ctx, .curl = c};
    t.max_bytes = opt && opt->max_bytes ? opt->max_bytes : (size_t)512 << 20;
    struct curl_slist *hdrs = NULL;
    if (opt && opt->headers)
        for (const char *const *h = opt->headers; *h; h++) hdrs = api.slist_append(hdrs, *h);

    api.easy_setopt(c, CURLOPT_URL, url);
    api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opt && opt->connect_timeout_ms ? opt->connect_timeout_ms : 3000L);
    api.easy_setopt(c, CURLOPT_TIMEOUT_MS, opt && opt->timeout_ms ? opt->timeout_ms : 60000L);
    api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    api.easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    api.easy_setopt(c, CURLOPT_USERAGENT, opt && opt->user_agent ? opt->user_agent : "reef");
    api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    api.easy_setopt(c, CURLOPT_WRITEDATA, &t);
    if (hdrs) api.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (opt && opt->insecure) {
        api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    CURLcode rc = api.easy_perform(c);
    if (!t.status) api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.status);
    err->http_status = 0;
    err->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    int result = COLLECT_OK;
    if (t.sink_stopped) {
        result = COLLECT_SINK_STOPPED;
    } else if (t.too_big) {
        snprintf(err->msg, sizeof err->msg, "%s: response larger than %zu bytes (raise --max-bytes)", url, t.max_bytes);
        result = COLLECT_BAD_INPUT;
    } else if (t.status && (t.status < 200 || t.status > 299)) {
        const char *hint = t.status == 404 ? " (is net/http/pprof imported and served here?)"
                           : t.status == 429 || t.status == 503 ? " (the endpoint is busy; reef does not retry)"
                           : t.status == 401 || t.status == 403 ? " (pass credentials with -H)"
                           : "";
        snprintf(err->msg, sizeof err->msg, "%s: HTTP %ld%s%s%s", url, t.status, t.first_len ? ": " : "",
                 t.first_line, hint);
        err->http_status = t.status;
        result = COLLECT_UNREACHABLE;
    } else if (rc != CURLE_OK) {
        snprintf(err->msg, sizeof err->msg, "%s: %s", url, api.easy_strerror(rc));
        result = COLLECT_UNREACHABLE;
    }
    api.slist_free_all(hdrs);
    api.easy_cleanup(c);
    return result;
}
