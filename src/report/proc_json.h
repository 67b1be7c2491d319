/* proc_json.h - what /proc and the cgroups say about a process, as JSON:
 * the fields of `reef proc --json`, which the proc.json of a reef watch
 * capture holds too, so that one reader serves both. */
#ifndef REEF_REPORT_PROC_JSON_H
#define REEF_REPORT_PROC_JSON_H

#include "../collect/collect_cgroup.h"
#include "../collect/collect_proc.h"
#include "../util/json.h"

/* Writes the fields into the object the caller opened; c may be NULL (no
 * cgroup read): "cgroup" is then null.  A figure that could not be read
 * is null. */
void proc_json_fields(json_writer *w, const proc_snapshot *s, const cgroup_limits *c);

#endif
