/* gclassify_int.h - what the classification files share: the rule table's
 * types, the facts gathered over the whole dump before any group is
 * classified, and the frame tables and phrases the rules use.  Not for
 * use outside src/analyze/g*.c. */
#ifndef REEF_ANALYZE_GCLASSIFY_INT_H
#define REEF_ANALYZE_GCLASSIFY_INT_H

#include "gclassify.h"
#include "../util/buf.h"

/* Waiters per Lock call site, summed over groups: a pile-up is often split
 * over many stacks that differ only above the Lock call. */
typedef struct glock_site {
    uint32_t file, line;
    uint64_t waiters;
    unsigned groups;
    int64_t wait_max;
} glock_site;

/* A group filed under a module: that of its innermost application frame,
 * or of its entry function (key is that frame's function name). */
typedef struct gpartner {
    const ggroup *g;
    const char *key;
} gpartner;

/* Facts about the whole dump that single groups are judged against. */
typedef struct gfacts {
    glock_site *sites;
    size_t nsites;
    uint64_t http_waiters;      /* requests waiting for a response */
    unsigned http_waiter_groups;
    const ggroup **readers;     /* groups reading a connection in application code */
    size_t nreaders;
    gpartner *partners;         /* groups in application code, waiting (not on
                                 * a lock or a pool, not sleeping), of at least
                                 * --leak-min goroutines: partners of
                                 * per-object loops, sorted by module and count */
    size_t npartners;
} gfacts;

void gfacts_collect(gfacts *f, const gmodel *m, uint64_t leak_min);
void gfacts_free(gfacts *f);
glock_site *gfacts_lock_site(const gfacts *f, const gframe *at);

/* What a rule sees of one group. */
typedef struct gctx {
    const gmodel *m;
    const ggroup *g;
    const gclassify_options *opt;
    const gfacts *facts;
    const char *state;   /* NULL in debug=1 */
    int app;             /* innermost application frame, or -1 */
    int where;           /* the frame that best says where the group is */
    const char *what;    /* what that frame means, when it is a known one */
    int hit;             /* the frame the matching rule found, or -1 */
    const ggroup *other; /* a related group the matching rule found */
} gctx;

typedef struct grule {
    const char *name;
    gclass cls;
    bool (*match)(gctx *c);              /* the evidence; may set hit and other */
    void (*say)(const gctx *c, buf *b);  /* the reason, from that evidence */
} grule;

/* The first rule whose evidence holds (the last rule always holds). */
const grule *grule_first(gctx *c);

/* Rewrites reasons two groups would share, adding what tells them apart. */
void gdistinct_reasons(gmodel *m);

/* Frame tables (gclassify.c). */
extern const char *const gpool_waits[];
extern const size_t gpool_nwaits;
extern const char *const gupstream_waits[];
extern const size_t gupstream_nwaits;
extern const char *const gclient_loops[];
extern const size_t gclient_nloops;
extern const char *const gnet_writes[];
extern const size_t gnet_nwrites;
extern const char *const gconn_reads[];
extern const size_t gconn_nreads;

/* True when func is name, or name vendored under ".../vendor/". */
bool gfunc_named(const char *func, const char *name);
/* Length of the package path at the start of a function name. */
size_t gfunc_pkg_len(const char *func);
/* Innermost frame whose function is one of names, or -1. */
int gframe_find(const gmodel *m, const ggroup *g, const char *const *names, size_t nnames);
/* Innermost frame of a known standard-library kind, with its meaning. */
int gtelling_frame(const gmodel *m, const ggroup *g, const char **what);

bool gstate_is(const gmodel *m, const ggroup *g, const char *s);
bool gstate_blocking(const char *s);
bool ggroup_is_running(const gmodel *m, const ggroup *g);

const char *gplural(uint64_t n);
void gwait_phrase(buf *b, const ggroup *g);
void gsite_phrase(buf *b, const gmodel *m, const ggroup *g, int frame);
void gcreator_phrase(buf *b, const gmodel *m, const ggroup *g);

#endif
