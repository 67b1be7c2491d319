/* goroutines.h - the in-memory model of a goroutine dump.
 *
 * A dump is reduced, while it is read, to groups: goroutines with the same
 * stack (function and file:line of every frame, arguments ignored), the same
 * creation site and the same state share one group.  Per goroutine only
 * aggregates are kept (count, wait-time range, a few ids), so memory grows
 * with the number of distinct groups, not with the number of goroutines.
 *
 * The parsers fill the model through gmodel_add(); analyzers and reporters
 * only read it. */
#ifndef REEF_MODEL_GOROUTINES_H
#define REEF_MODEL_GOROUTINES_H

#include "../util/arena.h"
#include "../util/intern.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One frame of a stack.  func and file are ids in gmodel.strings. */
typedef struct gframe {
    uint32_t func;
    uint32_t file;
    uint32_t line;
} gframe;

/* Where a dump came from; it decides what a group can tell. */
typedef enum gdump_format {
    GDUMP_UNKNOWN = 0,
    GDUMP_TRACEBACK, /* debug=2, panics, SIGQUIT: one block per goroutine */
    GDUMP_COUNTS,    /* debug=1: one block per distinct stack, with a count */
} gdump_format;

typedef enum gclass {
    GCLASS_OTHER = 0,
    GCLASS_LEAK,       /* leak suspect */
    GCLASS_PILEUP,     /* lock pile-up */
    GCLASS_POOL_WAIT,  /* waiting for a pooled connection */
    GCLASS_IO_WAIT,    /* network poller or a system call */
    GCLASS_IDLE,       /* idle runtime or standard-library goroutine */
    GCLASS_RUNNING,    /* running or runnable */
    GCLASS_UPSTREAM_WAIT, /* outbound HTTP request waiting for a response */
    GCLASS_NET_WRITE,  /* blocked writing to a peer (slow consumer, flow control) */
    GCLASS_DEADLOCKED, /* blocked for good: the dump says all goroutines are asleep */
    GCLASS_COUNT
} gclass;

const char *gclass_name(gclass c);

#define GGROUP_MAX_PARENTS 8
#define GGROUP_MAX_IDS 4
#define GGROUP_MAX_LABELS 4

/* The per-goroutine facts a parser extracts; gmodel_add() folds them in. */
typedef struct ggoroutine {
    uint64_t id;          /* goroutine id; for debug=1 blocks, 0 */
    uint64_t count;       /* 1 for a traceback, the block count for debug=1 */
    const char *state;    /* as printed; NULL when the format has none */
    size_t state_len;
    int64_t wait_minutes; /* -1 when the format has no wait times */
    uint64_t parent_id;   /* from "created by ... in goroutine N"; 0 if none */
    bool locked;          /* ", locked to thread" */
    bool leaked;          /* " (leaked)" (Go 1.26+ leak detection) */
    bool unavailable;     /* "goroutine running on other thread" */
    uint32_t labels;      /* interned canonical label set, 0 = none */
    /* The group key: frames and creation site, built by the parser. */
    const char *key;
    size_t key_len;
} ggoroutine;

typedef struct ggroup {
    uint64_t hash;
    const char *key;          /* arena copy of the parser's key */
    uint32_t key_len;
    uint32_t state;           /* interned; 0 when unknown (debug=1) */
    gframe *frames;           /* innermost first */
    uint32_t nframes;
    uint32_t elided_at;       /* frames before the elision mark */
    int64_t elided;           /* frames elided; 0 none, -1 count unknown */
    bool has_created_by;
    gframe created_by;
    bool unavailable;

    uint64_t count;
    int64_t wait_min, wait_max; /* minutes; -1 when unknown */
    uint64_t locked, leaked;
    uint64_t parents[GGROUP_MAX_PARENTS];
    uint32_t nparents;
    bool parents_truncated;   /* more distinct parents than kept */
    uint64_t ids[GGROUP_MAX_IDS];
    uint32_t nids;
    uint64_t id_min, id_max;  /* smallest and largest goroutine id; 0 when
                               * none (debug=1): ids are handed out in
                               * creation order, so their spread says
                               * whether the group was created at once */
    uint64_t id_batches[4];   /* which 16-id batches (runtime goid caches)
                               * the ids fall in, hashed to 128 bits: [0..1]
                               * every batch, [2..3] one batch in 16, for
                               * groups too large for the first */
    uint32_t labels[GGROUP_MAX_LABELS];
    uint64_t label_counts[GGROUP_MAX_LABELS];
    uint32_t nlabels;
    bool labels_truncated;

    /* Set by the analyzer. */
    gclass cls;
    char *reason;
    const char *rule;         /* static name of the rule that chose cls */
} ggroup;

/* The dump's own headline: what the program said before the goroutines
 * (a panic, a fatal error, a test timeout, a signal).  Filled by the parser
 * from the text around the selected dump; reporters print it first. */
typedef enum gheadline_kind {
    GHEAD_NONE = 0,
    GHEAD_DEADLOCK,       /* fatal error: all goroutines are asleep - deadlock! */
    GHEAD_TEST_TIMEOUT,   /* panic: test timed out after D (go test -timeout) */
    GHEAD_CONCURRENT_MAP, /* fatal error: concurrent map writes (and its read/iteration forms) */
    GHEAD_PANIC,          /* panic: MESSAGE (any other panic) */
    GHEAD_FATAL,          /* fatal error: MESSAGE (any other runtime throw) */
    GHEAD_SIGNAL,         /* SIGQUIT: quit, SIGABRT: abort, ... with no panic line */
} gheadline_kind;

typedef struct gheadline {
    gheadline_kind kind;
    const char *message;       /* arena copy, NUL-terminated: the text after
                                * "panic: " / "fatal error: " or the signal
                                * line; NULL when none */
    uint64_t goroutine;        /* the goroutine that panicked or threw (the
                                * first goroutine printed after the headline);
                                * 0 when unknown */
    const char *running_tests; /* test timeout only: the "running tests:"
                                * entries, one "Name (duration)" a line,
                                * arena copy; NULL when absent */
    unsigned long long line;   /* input line of the headline; 0 when none */
    unsigned count;            /* headlines of this kind in the input (three
                                * concurrent fatal errors: 3) */
} gheadline;

typedef struct gmodel {
    intern_table strings;
    arena mem;
    ggroup *groups;
    size_t ngroups, cap;
    uint32_t *slots;          /* hash table of group index + 1 */
    size_t nslots;

    gdump_format format;
    uint64_t total;           /* goroutines seen */
    uint64_t declared_total;  /* "goroutine profile: total N", 0 if absent */
    bool leak_profile;        /* the dump is Go's goroutineleak profile */
    unsigned dumps;           /* dumps seen in the input */
    unsigned selected_dump;   /* the one the groups come from, 1-based */
    unsigned long long truncated_line; /* input cut here inside a goroutine (partial reads), else 0 */
    uint64_t truncated_goroutine;
    gheadline headline;       /* GHEAD_NONE when the input has none */
    /* Untidy input the parser read past, in the selected dump; the CLI
     * says so on stderr. */
    uint64_t signal_threads;  /* "goroutine 0" blocks: the signal thread, not counted */
    uint64_t duplicates;      /* goroutines printed again under an id already read, counted once */
    uint64_t damaged;         /* lines inside goroutines that are not Go's, left out */
    unsigned long long damaged_line; /* the first of them */
} gmodel;

void gmodel_init(gmodel *m);
void gmodel_free(gmodel *m);
/* Drops every group, keeping the string table: a new dump starts. */
void gmodel_reset(gmodel *m);
/* Folds one goroutine (or debug=1 block) into its group. */
ggroup *gmodel_add(gmodel *m, const ggoroutine *g);

/* Decodes a group key back into frames (done once per new group). */
const char *gmodel_str(const gmodel *m, uint32_t id);

/* Sorts groups largest first (count, then first frame name), stable. */
void gmodel_sort(gmodel *m);

/* --similar: merges groups whose stacks differ only in line numbers
 * inside the same functions (and share state and creating function). */
void gmodel_merge_similar(gmodel *m);

/* Folds every group of src into dst (used to join models built in
 * parallel from parts of one dump). */
void gmodel_absorb(gmodel *dst, const gmodel *src);

/* Bytes held by the model, for the benchmark and memory caps. */
size_t gmodel_bytes(const gmodel *m);

/* Key encoding shared by parsers and the model: per frame
 *   func KEY_SEP file ':' line '\n'
 * then optionally KEY_ELIDED count '\n' and KEY_CREATED func KEY_SEP file ':' line '\n'. */
#define KEY_SEP '\x01'
#define KEY_ELIDED '\x02'
#define KEY_CREATED '\x03'
#define KEY_UNAVAILABLE '\x04'

#endif
