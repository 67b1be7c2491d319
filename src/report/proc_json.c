/* proc_json.c - a /proc snapshot and its cgroup limits as JSON fields
 * (moved from cmd_proc.c so that reef watch's captures write the same). */
#include "proc_json.h"

static void j_int(json_writer *w, const char *key, int64_t v)
{
    json_key(w, key);
    if (v < 0) json_null(w);
    else json_int(w, v);
}

static void j_str(json_writer *w, const char *key, const char *v)
{
    json_key(w, key);
    if (*v) json_cstring(w, v);
    else json_null(w);
}

static void j_double(json_writer *w, const char *key, double v, double none_below)
{
    json_key(w, key);
    if (v < none_below) json_null(w);
    else json_double(w, v);
}

static void json_process(json_writer *w, const proc_snapshot *s)
{
    j_int(w, "pid", s->pid);
    j_str(w, "comm", s->comm);
    j_str(w, "exe", s->exe);
    json_key(w, "starttime_ticks");
    json_uint(w, s->starttime_ticks);
    j_double(w, "uptime_seconds", s->uptime_seconds, 0);
    j_double(w, "utime", s->utime, 0);
    j_double(w, "stime", s->stime, 0);
    j_int(w, "vm_rss", s->vm_rss);
    j_int(w, "vm_hwm", s->vm_hwm);
    j_int(w, "vm_size", s->vm_size);
    j_int(w, "rss_anon", s->rss_anon);
    j_int(w, "rss_file", s->rss_file);
    j_int(w, "threads", s->threads);
    j_str(w, "cpus_allowed_list", s->cpus_allowed_list);
    j_int(w, "ncpus_allowed", s->ncpus_allowed);
    j_int(w, "online_cpus", proc_online_cpus());
    j_int(w, "open_fds", s->open_fds);
    j_int(w, "socket_fds", s->socket_fds);
    j_int(w, "nofile_soft", s->nofile_soft);
    j_int(w, "nofile_hard", s->nofile_hard);
    j_int(w, "mapped_so", s->mapped_so);
    j_int(w, "maps_lines", s->maps_lines);
}

static void json_env(json_writer *w, const proc_snapshot *s)
{
    json_key(w, "environ_readable");
    json_bool(w, s->environ_readable);
    json_key(w, "env");
    json_begin_object(w);
    j_str(w, "GOMAXPROCS", s->gomaxprocs);
    j_str(w, "GOGC", s->gogc);
    j_str(w, "GOMEMLIMIT", s->gomemlimit);
    j_str(w, "GODEBUG", s->godebug);
    j_str(w, "GOTRACEBACK", s->gotraceback);
    json_end_object(w);
}

static void json_net(json_writer *w, const proc_snapshot *s)
{
    json_key(w, "cgroups");
    json_begin_array(w);
    for (int i = 0; i < s->ncgroups; i++) {
        json_begin_object(w);
        j_int(w, "hierarchy", s->cgroups[i].hierarchy);
        json_key(w, "controllers");
        json_cstring(w, s->cgroups[i].controllers);
        json_key(w, "path");
        json_cstring(w, s->cgroups[i].path);
        json_end_object(w);
    }
    json_end_array(w);
    json_key(w, "net_readable");
    json_bool(w, s->net_readable);
    j_int(w, "nlisten_total", s->nlisten_total);
    json_key(w, "listen");
    json_begin_array(w);
    for (int i = 0; i < s->nlisten; i++) {
        json_begin_object(w);
        j_str(w, "addr", s->listen[i].addr);
        j_int(w, "port", s->listen[i].port);
        json_key(w, "loopback");
        json_bool(w, s->listen[i].loopback);
        json_end_object(w);
    }
    json_end_array(w);
}

static void json_limits(json_writer *w, const cgroup_limits *c)
{
    json_key(w, "cgroup");
    json_begin_object(w);
    j_int(w, "version", c->version);
    j_int(w, "memory_version", c->memory_version);
    j_int(w, "cpu_version", c->cpu_version);
    j_str(w, "memory_path", c->memory_path);
    json_key(w, "memory_fallback");
    json_bool(w, c->memory_fallback);
    j_int(w, "memory_limit", c->memory_limit);
    j_str(w, "memory_limit_at", c->memory_limit_at);
    j_int(w, "memory_high", c->memory_high);
    j_int(w, "memory_usage", c->memory_usage);
    j_int(w, "oom_kills", c->oom_kills);
    j_int(w, "oom_events", c->oom_events);
    j_str(w, "cpu_path", c->cpu_path);
    json_key(w, "cpu_fallback");
    json_bool(w, c->cpu_fallback);
    j_int(w, "cpu_quota_us", c->cpu_quota_us);
    j_int(w, "cpu_period_us", c->cpu_period_us);
    j_double(w, "cpu_limit", c->cpu_limit > 0 ? c->cpu_limit : -1, 0);
    j_str(w, "cpu_limit_at", c->cpu_limit_at);
    j_double(w, "cpu_limit_leaf", c->cpu_limit_leaf > 0 ? c->cpu_limit_leaf : -1, 0);
    j_int(w, "nr_periods", c->nr_periods);
    j_int(w, "nr_throttled", c->nr_throttled);
    j_double(w, "throttled_seconds", c->throttled_seconds, 0);
    json_end_object(w);
}

void proc_json_fields(json_writer *w, const proc_snapshot *s, const cgroup_limits *c)
{
    json_process(w, s);
    json_env(w, s);
    json_net(w, s);
    if (c) {
        json_limits(w, c);
    } else {
        json_key(w, "cgroup");
        json_null(w);
    }
}
