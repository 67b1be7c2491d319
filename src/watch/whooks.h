/* whooks.h - the commands reef watch runs when a finding changes: how a
 * team pages, pauses traffic or stops a misbehaving plugin.
 *
 * A hook is a fixed argv (no shell, so nothing in a finding can inject a
 * command), run with the finding as JSON on standard input and in the
 * environment (REEF_TARGET, REEF_RULE, REEF_SEVERITY, REEF_CHANGE,
 * REEF_TITLE, REEF_PID, REEF_URL, REEF_CAPTURE), standard output and error
 * captured (the first 4 KiB kept), and killed at its timeout.  Its exit
 * status and output go to the event log (WEVENT_HOOK).
 *
 * Hooks run on their own thread from a bounded queue, so a slow hook never
 * delays polling; when the queue is full the finding's hook is dropped and
 * the drop is logged. */
#ifndef REEF_WATCH_WHOOKS_H
#define REEF_WATCH_WHOOKS_H

#include "watch.h"
#include "wconfig.h"
#include "wevents.h"

typedef struct whooks whooks;

whooks *whooks_start(wevents *log);
/* Waits for the running hook (up to its timeout) and stops the thread. */
void whooks_stop(whooks *h);
/* Queues every hook of hooks[0..n) that matches f (rule, severity,
 * resolve).  Returns how many were queued. */
size_t whooks_fire(whooks *h, const whook_conf *hooks, size_t n, const wfinding *f);

#endif
