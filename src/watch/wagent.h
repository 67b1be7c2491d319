/* wagent.h - the agent: the targets' threads, the shared outputs, signals.
 *
 * The main thread starts one wtarget per configured target (and per
 * process discovery finds), then waits for signals: SIGHUP reloads the
 * configuration (targets keep their series, baselines and open findings;
 * new ones start, removed ones stop; a configuration that does not load
 * is refused and the old one stays), SIGTERM and SIGINT stop cleanly (each
 * target finishes the poll in progress, hooks finish or time out). */
#ifndef REEF_WATCH_WAGENT_H
#define REEF_WATCH_WAGENT_H

#include "wconfig.h"

/* Makes the configuration: defaults, the file, the command line on top.
 * Called at start and at every SIGHUP.  Returns 0, or -1 with err. */
typedef int (*wagent_loader)(void *ctx, wconfig *out, char *err, size_t errlen);

typedef struct wagent_options {
    wagent_loader load;
    void *load_ctx;
    double duration;          /* stop after this many seconds; 0: until a signal */
    const char *proc_root;    /* NULL: /proc (tests point it elsewhere) */
    const char *sysfs_root;   /* NULL: the machine's cgroup mounts */
} wagent_options;

/* Runs the agent until a signal or the duration.  Returns 0, or 2 with err
 * when it cannot start (configuration, event log, capture directory). */
int wagent_run(const wagent_options *o, char *err, size_t errlen);

#endif
