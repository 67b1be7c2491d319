/* wconfig.h - reef watch's configuration: a YAML file (libyaml) and/or the
 * command line, validated on load.  docs/watch.md documents every key.
 *
 * A bad file is refused whole with a message naming the file, the line and
 * the key ("watch.yaml:12: targets[1].interval: wants a duration such as
 * 15s, not \"fast\"").  Durations are "500ms", "15s", "2m", "1h" or plain
 * seconds; sizes "512", "64KiB", "10MiB", "1GiB"; percentages "30%". */
#ifndef REEF_WATCH_WCONFIG_H
#define REEF_WATCH_WCONFIG_H

#include "watch.h"
#include "../collect/collect.h"

#define WCONFIG_MAX_TARGETS 128
#define WCONFIG_MAX_RULES 24      /* overrides per scope (a target, or the global one) */
#define WCONFIG_MAX_HOOKS 16
#define WCONFIG_MAX_ARGV 16
#define WCONFIG_MAX_HEADERS 8
#define WCONFIG_MAX_MATCH 16

/* Overrides of one rule's defaults (wrules.h has the table).  NAN (or -1
 * for enabled) means "not set here": the next scope's value, then the
 * rule's default, applies.  The meaning of warn/crit depends on the rule's
 * kind: a fraction above the baseline (0.3 for "30%") for a level rule,
 * a rise per minute for a rate rule, a rise between two polls for a burst
 * rule, a value (or a fraction of a limit) for a cap rule. */
typedef struct wrule_conf {
    char rule[WATCH_NAME_MAX];
    int enabled;              /* -1 unset, 0 off, 1 on */
    double warn, crit;        /* thresholds */
    double warn_for, crit_for;/* seconds the condition must hold */
    double clear_for;         /* seconds clear before it resolves */
} wrule_conf;

/* A command run when a finding changes: a fixed argv, no shell. */
typedef struct whook_conf {
    char rule[WATCH_NAME_MAX];/* a rule id, or "*" */
    severity min_sev;         /* runs at this severity or above */
    bool on_resolve;          /* also when the finding resolves */
    char argv[WCONFIG_MAX_ARGV][WATCH_PATH_MAX];
    size_t argc;
    double timeout;           /* seconds; default 10 */
    int line;                 /* where it was declared in the file */
} whook_conf;

typedef struct wtarget_conf {
    char name[WATCH_NAME_MAX];/* "" until named: the executable's name and the port */
    char url[WATCH_PATH_MAX]; /* base URL, "" for none */
    int pid;                  /* 0 for none */
    double interval;          /* seconds; NAN: the global one */
    uint64_t full_cap;        /* debug=2 in captures only at or below; UINT64_MAX: global */
    wrule_conf rules[WCONFIG_MAX_RULES];
    size_t nrules;
    int line;                 /* where it was declared in the file, 0 from the command line */
} wtarget_conf;

typedef struct wcapture_conf {
    char dir[WATCH_PATH_MAX]; /* default ./reef-captures */
    uint64_t max_bytes;       /* all captures together; default 1 GiB */
    double target_every;      /* at most one capture per target per this; default 10m */
    double global_every;      /* and one for all targets per this; default 1m */
    double heap_gap;          /* seconds between the two heap profiles; default 5 */
    double cpu_profile;       /* seconds of CPU profile, 0 = off (default) */
    double trace;             /* seconds of execution trace, 0 = off (default) */
    double series_span;       /* series written around the event; default 1h */
    bool enabled;             /* default true */
} wcapture_conf;

typedef struct wdiscover_conf {
    bool enabled;
    char match[WCONFIG_MAX_MATCH][WATCH_NAME_MAX]; /* fnmatch patterns on name, module or exe path */
    size_t nmatch;
    double every;             /* seconds between looks for new processes; default 30 */
} wdiscover_conf;

typedef struct wconfig {
    char file[WATCH_PATH_MAX];/* "" when from the command line only */
    double interval;          /* default 15 */
    double learn;             /* baseline learning period; default 10m */
    double baseline_window;   /* span the rolling baseline looks at; default 1h */
    uint64_t full_cap;        /* default 5000 (as scan) */
    char events[WATCH_PATH_MAX]; /* event log: "-" for stdout (default) or a file */
    wcapture_conf captures;
    wdiscover_conf discover;
    wrule_conf rules[WCONFIG_MAX_RULES]; /* global overrides */
    size_t nrules;
    whook_conf hooks[WCONFIG_MAX_HOOKS];
    size_t nhooks;
    wtarget_conf targets[WCONFIG_MAX_TARGETS];
    size_t ntargets;
    /* requests to the targets */
    long timeout_ms;          /* per request; default 10000 */
    long connect_timeout_ms;  /* default 2000 */
    uint64_t max_bytes;       /* per response; default 64 MiB */
    char headers[WCONFIG_MAX_HEADERS][WATCH_PATH_MAX];
    size_t nheaders;
} wconfig;

/* The defaults above, no target. */
void wconfig_defaults(wconfig *c);
/* Reads and validates path into c (which wconfig_defaults filled).
 * Returns 0, or -1 with err ("FILE:LINE: KEY: problem"). */
int wconfig_load(const char *path, wconfig *c, char *err, size_t errlen);
/* The same on a file's contents already in memory (name for messages);
 * data need not end with a NUL.  On error c is left as it was. */
int wconfig_load_buffer(const char *name, const char *data, size_t len, wconfig *c, char *err, size_t errlen);
/* Checks what the file cannot check alone (after the command line added
 * its targets): at least one target or discovery, unique names, hooks'
 * programs executable.  Returns 0, or -1 with err. */
int wconfig_validate(const wconfig *c, char *err, size_t errlen);
/* A target from the command line: "http://host:port" or a pid. */
int wconfig_add_target(wconfig *c, const char *arg, char *err, size_t errlen);

/* The value of a rule setting for a target: the target's override, else
 * the global one, else NAN/-1 (the rule's default applies).  field is one
 * of the wrule_conf members, read through these: */
const wrule_conf *wconfig_rule(const wconfig *c, const wtarget_conf *t, const char *rule, wrule_conf *merged);

/* "15s", "2m", "500ms", "1h", "90" -> seconds; -1 if unreadable. */
double wconfig_duration(const char *s);

#endif
