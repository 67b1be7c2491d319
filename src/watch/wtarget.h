/* wtarget.h - one watched service: its own thread, polling on its own
 * schedule, so that a slow, hung or dead target never delays the others.
 *
 * Every poll: is the process still there (or did it restart: same
 * executable and arguments, new pid)?  One sample through the target's
 * scan_collector (the cheap endpoints only), the sample's numbers into the
 * target's wdetect, and what changed out to the shared outputs: a capture
 * when a finding opens or escalates, the event log, the hooks.  Busy
 * answers (timeouts, 429, 5xx) stretch the interval (back-off) until a
 * clean poll brings it back. */
#ifndef REEF_WATCH_WTARGET_H
#define REEF_WATCH_WTARGET_H

#include "wcapture.h"
#include "wconfig.h"
#include "wevents.h"
#include "whooks.h"
#include "../collect/collect_ps.h"

#include <pthread.h>

/* The configuration in force, shared by every target's thread: a reload
 * swaps in a new one, and the old one is freed when the last poll that
 * uses it ends. */
typedef struct wconf_ref {
    wconfig conf;
    int refs;
} wconf_ref;

/* What the agent shares with its targets. */
typedef struct wshared {
    pthread_mutex_t lock;     /* guards current */
    wconf_ref *current;
    wevents *events;
    wcapture_store *captures; /* NULL when captures are off */
    whooks *hooks;
    const char *proc_root;    /* NULL: /proc */
    const char *sysfs_root;   /* NULL: the machine's cgroup mounts */
} wshared;

/* Takes a reference to the configuration in force; give it back with
 * wshared_release. */
wconf_ref *wshared_acquire(wshared *s);
void wshared_release(wshared *s, wconf_ref *r);

typedef struct wtarget wtarget;

/* Starts watching: tc gives the name, URL and pid (copied); found is the
 * process discovery found, or NULL.  NULL if the thread cannot start. */
wtarget *wtarget_start(wshared *s, const wtarget_conf *tc, const goproc *found);
/* Stops the thread (after the poll in progress) and frees the target. */
void wtarget_stop(wtarget *t);
/* Asks a running target to stop without waiting for it (many at once). */
void wtarget_signal_stop(wtarget *t);

/* The name given in the configuration, or the one made when the thread
 * starts (the executable's name and the port; "" until then).  Stable for
 * the target's life. */
void wtarget_name(wtarget *t, char *out, size_t outlen);
/* The key the configuration knows a target by: its name when it has one,
 * else its URL and pid ("url=...;pid=N"): a target given on the command
 * line keeps its key across reloads whatever pid it has since restarted
 * under. */
void wtarget_conf_key(const wtarget_conf *tc, char *out, size_t outlen);
/* The target's key, "" for one discovery started. */
const char *wtarget_key(const wtarget *t);
/* The process identity, false before one was read. */
bool wtarget_identity(wtarget *t, goproc *out);
/* The thread ended by itself (a discovered process gone for good): the
 * agent frees it with wtarget_stop. */
bool wtarget_finished(wtarget *t);
/* Polls done so far. */
uint64_t wtarget_polls(wtarget *t);

#endif
