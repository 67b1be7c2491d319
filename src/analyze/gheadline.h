/* gheadline.h - what the dump's own headline (a deadlock, a test timeout, a
 * panic, a fatal error, a signal; parsed into gmodel.headline) means for
 * the goroutines below it, in words and in the order they are shown. */
#ifndef REEF_ANALYZE_GHEADLINE_H
#define REEF_ANALYZE_GHEADLINE_H

#include "../model/goroutines.h"
#include "../util/buf.h"

#include <stddef.h>

/* JSON name of a headline kind: "deadlock", "test-timeout", ... */
const char *gheadline_kind_name(gheadline_kind k);

/* The group holding the goroutine the headline names (the one that
 * panicked or threw), or NULL when the dump does not show it. */
const ggroup *gheadline_culprit(const gmodel *m);

/* After a test timeout, the group whose stack runs the first test listed
 * under "running tests:", or NULL. */
const ggroup *gheadline_test_group(const gmodel *m);

/* Reorders groups for the headline: after a test timeout, the groups in
 * application code blocked longest come first (stable otherwise). */
void gheadline_order(const gmodel *m, const ggroup **groups, size_t n);

/* Lines that explain the headline, each ending in '\n' and indented by
 * two spaces; nothing when the dump has no headline. */
void gheadline_explain(const gmodel *m, buf *b);

#endif
