/* whooks.c - run the hooks of reef watch on their own thread.
 *
 * whooks_fire copies what a hook needs (its configuration and the finding)
 * into a job and queues it without waiting: the target threads that fire
 * hooks must keep polling on time whatever a hook does.  The queue is
 * bounded (WHOOKS_QUEUE); a hook that does not fit is dropped and the drop
 * logged, since an agent that queued without bound would grow as long as
 * a hook hangs.
 *
 * A hook runs through posix_spawnp with its fixed argv (no shell: a
 * finding's title or a target's name can hold anything), in a process group
 * of its own so that the timeout kills what it started too.  The finding's
 * JSON goes to its standard input, which is then closed; standard output
 * and error share one pipe, of which the first WHOOKS_OUTPUT_KEEP bytes are
 * kept for the log and the rest read and counted (a hook blocked on a full
 * pipe would otherwise never finish). */
#include "whooks.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define WHOOKS_QUEUE 64
#define WHOOKS_OUTPUT_KEEP 4096
#define WHOOKS_KILL_AFTER 2.0      /* seconds between SIGTERM and SIGKILL */
#define WHOOKS_DEFAULT_TIMEOUT 10.0

typedef struct job {
    whook_conf hook;
    wfinding finding;
} job;

struct whooks {
    wevents *log;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *queue[WHOOKS_QUEUE];
    size_t head, n;
    bool stopping;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- environment -------------------------------------------------------- */

static const char *const reef_vars[] = {"REEF_TARGET", "REEF_RULE", "REEF_SEVERITY", "REEF_CHANGE",
                                        "REEF_TITLE", "REEF_PID", "REEF_URL", "REEF_CAPTURE"};
#define NREEF_VARS (sizeof reef_vars / sizeof *reef_vars)

/* True when entry ("NAME=value") sets one of the variables reef sets: the
 * agent's own value is left out rather than passed twice. */
static bool is_reef_var(const char *entry)
{
    for (size_t i = 0; i < NREEF_VARS; i++) {
        size_t n = strlen(reef_vars[i]);
        if (strncmp(entry, reef_vars[i], n) == 0 && entry[n] == '=') return true;
    }
    return false;
}

/* The agent's environment plus REEF_*: a NULL-terminated array whose
 * REEF_ strings (from the end, count NREEF_VARS) are malloc'd. */
static char **hook_env(const wfinding *f)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++) n++;
    char **env = calloc(n + NREEF_VARS + 1, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (!is_reef_var(*e)) env[k++] = *e;
    char pid[24] = "";
    if (f->pid > 0) snprintf(pid, sizeof pid, "%d", f->pid);
    const char *values[NREEF_VARS] = {f->target, f->rule, severity_name(f->sev), wchange_name(f->change),
                                      f->title, pid, f->url, f->capture};
    for (size_t i = 0; i < NREEF_VARS; i++) {
        buf b = {0};
        buf_printf(&b, "%s=%s", reef_vars[i], values[i]);
        buf_cstr(&b);
        env[k++] = b.data;
    }
    return env;
}

static void free_env(char **env)
{
    if (!env) return;
    size_t n = 0;
    while (env[n]) n++;
    for (size_t i = n - NREEF_VARS; i < n; i++) free(env[i]);
    free(env);
}

/* ---- one run ------------------------------------------------------------- */

typedef struct run {
    pid_t pid;
    int in, out;              /* our ends: its stdin, its stdout+stderr */
    const char *input;        /* the finding's JSON */
    size_t input_len, input_off;
    char kept[WHOOKS_OUTPUT_KEEP];
    size_t kept_len;
    uint64_t total;
    int status;
    bool exited, term_sent, kill_sent, timed_out;
    bool status_unknown;      /* reaped by someone else */
} run;

static int start(whook_conf *h, char **env, run *r, char *err, size_t errlen)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(out, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        close(in[0]);
        close(in[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDERR_FILENO);
    /* Its own process group (killed whole at the timeout), every signal
     * unblocked and SIGPIPE back to its default: the agent's thread masks
     * and an ignored SIGPIPE would otherwise be inherited. */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGHUP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[WCONFIG_MAX_ARGV + 1];
    size_t argc = h->argc < WCONFIG_MAX_ARGV ? h->argc : WCONFIG_MAX_ARGV;
    for (size_t i = 0; i < argc; i++) argv[i] = h->argv[i];
    argv[argc] = NULL;
    int rc = posix_spawnp(&r->pid, argv[0], &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        snprintf(err, errlen, "could not start: %s", strerror(rc));
        close(in[1]);
        close(out[0]);
        return -1;
    }
    r->in = in[1];
    r->out = out[0];
    fcntl(r->in, F_SETFL, O_NONBLOCK);
    fcntl(r->out, F_SETFL, O_NONBLOCK);
    return 0;
}

/* The thread blocks SIGPIPE, so a hook that exits without reading its
 * input makes write fail with EPIPE; the signal left pending is taken
 * here, or it would stay pending on the thread for good. */
static void clear_sigpipe(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, NULL, &zero) == SIGPIPE) {}
}

static void feed_input(run *r)
{
    while (r->in >= 0 && r->input_off < r->input_len) {
        ssize_t n = write(r->in, r->input + r->input_off, r->input_len - r->input_off);
        if (n > 0) {
            r->input_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n < 0 && errno == EPIPE) clear_sigpipe();
        break;                /* it closed its input: what it did not read is its business */
    }
    if (r->in >= 0) {
        close(r->in);
        r->in = -1;
    }
}

/* Reads what the pipe holds now.  Returns false at end of file. */
static bool drain_output(run *r)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(r->out, chunk, sizeof chunk);
        if (n > 0) {
            size_t room = sizeof r->kept - r->kept_len;
            size_t keep = (size_t)n < room ? (size_t)n : room;
            memcpy(r->kept + r->kept_len, chunk, keep);
            r->kept_len += keep;
            r->total += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && errno == EAGAIN;
    }
}

/* ECHILD: someone else reaped it (SIGCHLD ignored by whoever embeds the
 * agent, a waitpid(-1) elsewhere): it is gone, its status unknown. */
static void reap(run *r)
{
    if (r->exited) return;
    pid_t w = waitpid(r->pid, &r->status, WNOHANG);
    if (w == r->pid) {
        r->exited = true;
    } else if (w < 0 && errno == ECHILD) {
        r->exited = r->status_unknown = true;
        r->status = 0;
    }
}

/* SIGTERM to the group at the timeout, SIGKILL WHOOKS_KILL_AFTER later. */
static void enforce_timeout(run *r, double now, double deadline)
{
    if (r->exited || now < deadline) return;
    if (!r->term_sent) {
        kill(-r->pid, SIGTERM);
        r->term_sent = r->timed_out = true;
    } else if (!r->kill_sent && now >= deadline + WHOOKS_KILL_AFTER) {
        kill(-r->pid, SIGKILL);
        r->kill_sent = true;
    }
}

/* Runs until the hook has exited and its output is read (or, once it has
 * exited, what it left running holds the pipe: then what is there now). */
static void supervise(run *r, double timeout)
{
    double t0 = mono_now(), deadline = t0 + timeout;
    bool out_open = true;
    feed_input(r);
    while (!r->exited || out_open) {
        struct pollfd p[2];
        nfds_t np = 0;
        if (out_open) p[np++] = (struct pollfd){.fd = r->out, .events = POLLIN};
        if (r->in >= 0) p[np++] = (struct pollfd){.fd = r->in, .events = POLLOUT};
        poll(p, np, 50);
        if (out_open) out_open = drain_output(r);
        if (r->in >= 0) feed_input(r);
        reap(r);
        if (r->exited && out_open) {
            drain_output(r);
            out_open = false;
        }
        enforce_timeout(r, mono_now(), deadline);
    }
    if (r->in >= 0) close(r->in);
    close(r->out);
}

static void describe(const run *r, double timeout, char *out, size_t n)
{
    char how[64];
    if (r->status_unknown) snprintf(how, sizeof how, "ended, exit status unknown (reaped elsewhere)");
    else if (WIFEXITED(r->status)) snprintf(how, sizeof how, "exited %d", WEXITSTATUS(r->status));
    else snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(r->status));
    if (r->timed_out) snprintf(out, n, "timed out after %g s: %s", timeout, how);
    else snprintf(out, n, "%s", how);
}

static void log_result(wevents *log, const job *j, const char *result, const run *r, double seconds)
{
    wevent_hook ev = {
        .program = j->hook.argc ? j->hook.argv[0] : "",
        .result = result,
        .exit_status = r && r->exited && !r->status_unknown && WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1,
        .signal = r && r->exited && !r->status_unknown && WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0,
        .timed_out = r && r->timed_out,
        .seconds = seconds,
        .output = r ? r->kept : NULL,
        .output_len = r ? r->kept_len : 0,
        .output_total = r ? r->total : 0,
    };
    wevents_hook(log, &j->finding, &ev);
}

static void run_job(wevents *log, job *j)
{
    if (j->hook.argc == 0) {
        log_result(log, j, "could not start: empty argv", NULL, NAN);
        return;
    }
    double timeout = j->hook.timeout > 0 ? j->hook.timeout : WHOOKS_DEFAULT_TIMEOUT;
    buf input = {0};
    wfinding_json(&j->finding, &input);
    buf_putc(&input, '\n');
    char **env = hook_env(&j->finding);
    run *r = calloc(1, sizeof *r);
    char err[256];
    if (!env || !r) {
        log_result(log, j, "could not start: out of memory", NULL, NAN);
    } else {
        r->input = input.data;
        r->input_len = input.len;
        double t0 = mono_now();
        if (start(&j->hook, env, r, err, sizeof err) != 0) {
            log_result(log, j, err, NULL, NAN);
        } else {
            supervise(r, timeout);
            char result[128];
            describe(r, timeout, result, sizeof result);
            log_result(log, j, result, r, mono_now() - t0);
        }
    }
    free(r);
    free_env(env);
    buf_free(&input);
}

/* ---- the thread and its queue ---------------------------------------------- */

static job *next_job(whooks *h)
{
    pthread_mutex_lock(&h->mu);
    while (h->n == 0 && !h->stopping) pthread_cond_wait(&h->cv, &h->mu);
    job *j = NULL;
    if (h->n > 0 && !h->stopping) {
        j = h->queue[h->head];
        h->head = (h->head + 1) % WHOOKS_QUEUE;
        h->n--;
    }
    pthread_mutex_unlock(&h->mu);
    return j;
}

static void *hook_thread(void *arg)
{
    whooks *h = arg;
    job *j;
    while ((j = next_job(h)) != NULL) {
        run_job(h->log, j);
        free(j);
    }
    return NULL;
}

whooks *whooks_start(wevents *log)
{
    whooks *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->log = log;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    /* Every signal blocked on the hook thread: SIGTERM and SIGHUP are the
     * agent's to take, and SIGPIPE becomes EPIPE (see clear_sigpipe). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&h->thread, NULL, hook_thread, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    return h;
}

/* Hooks still queued when the agent stops are not run (the agent is going
 * away; a hook started now could outlive it): each is logged as dropped. */
void whooks_stop(whooks *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    while (h->n > 0) {
        job *j = h->queue[h->head];
        h->head = (h->head + 1) % WHOOKS_QUEUE;
        h->n--;
        log_result(h->log, j, "dropped: the agent stopped before it ran", NULL, NAN);
        free(j);
    }
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static bool hook_matches(const whook_conf *c, const wfinding *f)
{
    if (strcmp(c->rule, "*") != 0 && strcmp(c->rule, f->rule) != 0) return false;
    if (f->sev < c->min_sev) return false;
    return f->change != WCHANGE_RESOLVED || c->on_resolve;
}

/* Queues j, or returns false when the queue is full or stopping. */
static bool enqueue(whooks *h, job *j)
{
    bool ok = false;
    pthread_mutex_lock(&h->mu);
    if (h->n < WHOOKS_QUEUE && !h->stopping) {
        h->queue[(h->head + h->n) % WHOOKS_QUEUE] = j;
        h->n++;
        ok = true;
        pthread_cond_signal(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return ok;
}

size_t whooks_fire(whooks *h, const whook_conf *hooks, size_t n, const wfinding *f)
{
    size_t queued = 0;
    for (size_t i = 0; h && i < n; i++) {
        if (!hook_matches(&hooks[i], f)) continue;
        job *j = xmalloc(sizeof *j);
        j->hook = hooks[i];
        j->finding = *f;
        if (enqueue(h, j)) {
            queued++;
            continue;
        }
        char why[96];
        snprintf(why, sizeof why, "dropped: the hook queue is full (%d waiting)", WHOOKS_QUEUE);
        log_result(h->log, j, why, NULL, NAN);
        free(j);
    }
    return queued;
}
