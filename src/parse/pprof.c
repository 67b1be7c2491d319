/* pprof.c - streaming pprof decoder; see pprof.h.
 *
 * Layers: gzip (zlib, optional) -> a buffer of decoded protobuf -> one
 * top-level field at a time -> the model.  Field numbers are those of
 * google/pprof's proto/profile.proto:
 *
 *   Profile: 1 sample_type  2 sample  3 mapping  4 location  5 function
 *            6 string_table 7 drop_frames 8 keep_frames 9 time_nanos
 *            10 duration_nanos 11 period_type 12 period 13 comment
 *            14 default_sample_type  (unknown fields are skipped)
 *   Sample:  1 location_id (packed or not) 2 value (packed or not) 3 label
 *   Label:   1 key 2 str 3 num 4 num_unit
 *   Location: 1 id 2 mapping_id 3 address 4 line 5 is_folded
 *   Line:    1 function_id 2 line 3 column
 *   Function: 1 id 2 name 3 system_name 4 filename 5 start_line
 *   ValueType: 1 type 2 unit
 */
#include "pprof.h"
#include "../collect/collect.h"
#include "../util/buf.h"
#include "../util/xalloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

/* One top-level field larger than this is not a profile Go could write. */
#define MAX_FIELD ((size_t)256 << 20)
#define INFLATE_CHUNK ((size_t)32 << 10)

struct pparser {
    profile *p;
    pparse_options opt;
    char *error;

    unsigned char magic[2];
    size_t nmagic;
    bool gzip, decided, gzip_done;
    z_stream z;
    bool z_ready;

    buf pb;          /* decoded bytes not yet consumed */
    unsigned char head[64];  /* the first decoded bytes, to name a legacy format */
    size_t nhead;
    size_t pos;      /* consumed prefix of pb */
    size_t base;     /* decoded offset of pb.data[0] */
    size_t decoded;  /* total decoded bytes */

    /* gzip input is inflated by the caller's thread and decoded by a
     * worker, through a ring of RING slots: the two halves of the work
     * overlap on two cores. */
    bool threaded;
    pthread_t worker;
    pthread_mutex_t lock;       /* guards the ring counters, done, error */
    pthread_cond_t cv;
    unsigned char (*ring)[INFLATE_CHUNK];
    size_t ring_len[4];
    size_t produced, consumed;
    bool done, worker_failed;
};

#define RING 4

static int fail(pparser *pp, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(pparser *pp, size_t at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf b = {0};
    /* A profile in a format older than profile.proto fails as protobuf;
     * saying which format it is helps more than the protobuf error. */
    char legacy[512];
    if (pprof_legacy_message(pp->head, pp->nhead, pp->opt.input_name, legacy, sizeof legacy))
        buf_printf(&b, "%s: %s", pp->opt.input_name, legacy);
    else if (at == SIZE_MAX) buf_printf(&b, "%s: %s", pp->opt.input_name, msg);
    else buf_printf(&b, "%s: byte %zu of the decoded profile: %s", pp->opt.input_name, at, msg);
    /* Both threads may fail; the first message stands. */
    if (pp->threaded) pthread_mutex_lock(&pp->lock);
    if (!pp->error) pp->error = xstrdup(buf_cstr(&b));
    if (pp->threaded) pthread_mutex_unlock(&pp->lock);
    buf_free(&b);
    return -1;
}

const char *pparser_error(const pparser *pp) { return pp->error; }

/* ---- a bounded protobuf reader ------------------------------------------------ */

typedef struct pbr {
    const unsigned char *p, *end;
} pbr;

/* Returns false on a truncated or over-long varint. */
static bool read_varint(pbr *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) return false;
        unsigned char c = *r->p++;
        if (shift == 63 && c > 1) return false;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

typedef struct pbfield {
    uint32_t num;
    int wt;
    uint64_t v;                    /* varint and fixed values */
    const unsigned char *data;     /* length-delimited payload */
    size_t len;
} pbfield;

/* Reads one field; returns 1, 0 at the end, -1 on malformed input. */
static int next_field(pbr *r, pbfield *f)
{
    if (r->p >= r->end) return 0;
    uint64_t key;
    if (!read_varint(r, &key) || (key >> 3) == 0 || (key >> 3) > UINT32_MAX) return -1;
    f->num = (uint32_t)(key >> 3);
    f->wt = (int)(key & 7);
    switch (f->wt) {
    case 0:
        return read_varint(r, &f->v) ? 1 : -1;
    case 1:
        if (r->end - r->p < 8) return -1;
        memcpy(&f->v, r->p, 8);
        r->p += 8;
        return 1;
    case 5: {
        if (r->end - r->p < 4) return -1;
        uint32_t v;
        memcpy(&v, r->p, 4);
        f->v = v;
        r->p += 4;
        return 1;
    }
    case 2: {
        uint64_t len;
        if (!read_varint(r, &len) || len > (uint64_t)(r->end - r->p)) return -1;
        f->data = r->p;
        f->len = (size_t)len;
        r->p += len;
        return 1;
    }
    default:
        return -1; /* groups (3, 4) are not used by profile.proto */
    }
}

/* A repeated integer field arrives packed (wire type 2) or one per field. */
typedef bool (*int_sink)(pparser *pp, void *ctx, uint64_t v);

static bool each_int(pparser *pp, const pbfield *f, int_sink sink, void *ctx)
{
    if (f->wt == 0) return sink(pp, ctx, f->v);
    if (f->wt != 2) return false;
    pbr r = {f->data, f->data + f->len};
    while (r.p < r.end) {
        uint64_t v;
        if (!read_varint(&r, &v) || !sink(pp, ctx, v)) return false;
    }
    return true;
}

/* ---- messages -------------------------------------------------------------------- */

#define GROW(arr, n, cap) ((arr) = xgrow((arr), &(cap), (n) + 1, sizeof *(arr)))

static int bad(pparser *pp, size_t at, const char *what)
{
    return fail(pp, at, "malformed %s", what);
}

static int value_type(pparser *pp, const pbfield *f, pvaluetype *vt, size_t at)
{
    pbr r = {f->data, f->data + f->len};
    pbfield g;
    int rc;
    memset(vt, 0, sizeof *vt);
    while ((rc = next_field(&r, &g)) > 0) {
        if (g.wt != 0) continue;
        if (g.num == 1) vt->type = (int64_t)g.v;
        else if (g.num == 2) vt->unit = (int64_t)g.v;
    }
    return rc < 0 ? bad(pp, at, "value type") : 0;
}

static uint32_t location_index(pparser *pp, uint64_t id)
{
    profile *p = pp->p;
    bool added;
    uint32_t i = idmap_get_or_add(&p->location_ids, id, &added);
    if (added) {
        GROW(p->locations, p->nlocations, p->cap_locations);
        memset(&p->locations[i], 0, sizeof p->locations[i]);
        p->nlocations++;
    }
    return i;
}

static uint32_t function_index(pparser *pp, uint64_t id)
{
    profile *p = pp->p;
    bool added;
    uint32_t i = idmap_get_or_add(&p->function_ids, id, &added);
    if (added) {
        GROW(p->functions, p->nfunctions, p->cap_functions);
        memset(&p->functions[i], 0, sizeof p->functions[i]);
        p->functions[i].id = id;
        p->nfunctions++;
    }
    return i;
}

/* The arrays are indexed with 32 bits (see psample). */
#define MAX_ENTRIES ((size_t)UINT32_MAX - 1)

/* ctx counts the sample's locations. */
static bool add_sample_loc(pparser *pp, void *ctx, uint64_t id)
{
    profile *p = pp->p;
    if (id == 0 || p->nsample_locs + 5 >= MAX_ENTRIES) return false;
    uint32_t v = location_index(pp, id);
    p->sample_locs = xgrow(p->sample_locs, &p->cap_sample_locs, p->nsample_locs + 5, 1);
    while (v >= 0x80) {
        p->sample_locs[p->nsample_locs++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p->sample_locs[p->nsample_locs++] = (unsigned char)v;
    ++*(uint32_t *)ctx;
    return true;
}

/* ctx counts the sample's values. */
static bool add_sample_value(pparser *pp, void *ctx, uint64_t v)
{
    profile *p = pp->p;
    if (p->nvalues + 10 >= MAX_ENTRIES) return false;
    p->values = xgrow(p->values, &p->cap_values, p->nvalues + 10, 1);
    while (v >= 0x80) {
        p->values[p->nvalues++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p->values[p->nvalues++] = (unsigned char)v;
    ++*(uint32_t *)ctx;
    return true;
}

static int sample(pparser *pp, const pbfield *f, size_t at)
{
    profile *p = pp->p;
    GROW(p->samples, p->nsamples, p->cap_samples);
    psample *s = &p->samples[p->nsamples];
    memset(s, 0, sizeof *s);
    if (p->nlabels >= MAX_ENTRIES || p->nlines >= MAX_ENTRIES) return fail(pp, at, "profile too large for reef");
    s->first_loc = (uint32_t)p->nsample_locs;
    uint32_t nlocs = 0, nvalues = 0;
    s->first_value = (uint32_t)p->nvalues;
    s->first_label = (uint32_t)p->nlabels;
    s->where = at;
    pbr r = {f->data, f->data + f->len};
    pbfield g;
    int rc;
    while ((rc = next_field(&r, &g)) > 0) {
        if (g.num == 1) {
            if (!each_int(pp, &g, add_sample_loc, &nlocs)) return fail(pp, at, "sample has a bad location id (0?), or too many");
        } else if (g.num == 2) {
            if (!each_int(pp, &g, add_sample_value, &nvalues)) return bad(pp, at, "sample values");
        } else if (g.num == 3 && g.wt == 2) {
            GROW(p->labels, p->nlabels, p->cap_labels);
            plabel *l = &p->labels[p->nlabels++];
            memset(l, 0, sizeof *l);
            pbr lr = {g.data, g.data + g.len};
            pbfield h;
            int lrc;
            while ((lrc = next_field(&lr, &h)) > 0) {
                if (h.wt != 0) continue;
                uint32_t idx = h.v < PSTR_INVALID ? (uint32_t)h.v : PSTR_INVALID;
                if (h.num == 1) l->key = idx;
                else if (h.num == 2) l->str = idx;
                else if (h.num == 3) l->num = (int64_t)h.v;
                else if (h.num == 4) l->num_unit = idx;
            }
            if (lrc < 0) return bad(pp, at, "label");
        }
    }
    if (rc < 0) return bad(pp, at, "sample");
    s->nlocs = nlocs;
    s->nvalues = nvalues;
    s->nlabels = (uint32_t)(p->nlabels - s->first_label);
    p->nsamples++;
    return 0;
}

static int location(pparser *pp, const pbfield *f, size_t at)
{
    profile *p = pp->p;
    pbr r = {f->data, f->data + f->len};
    pbfield g;
    int rc;
    uint64_t id = 0, mapping = 0, address = 0;
    uint32_t first_line = (uint32_t)p->nlines;
    while ((rc = next_field(&r, &g)) > 0) {
        if (g.num == 1 && g.wt == 0) id = g.v;
        else if (g.num == 2 && g.wt == 0) mapping = g.v;
        else if (g.num == 3 && g.wt == 0) address = g.v;
        else if (g.num == 4 && g.wt == 2) {
            pbr lr = {g.data, g.data + g.len};
            pbfield h;
            int lrc;
            uint64_t fid = 0;
            int64_t line = 0;
            while ((lrc = next_field(&lr, &h)) > 0) {
                if (h.wt != 0) continue;
                if (h.num == 1) fid = h.v;
                else if (h.num == 2) line = (int64_t)h.v;
            }
            if (lrc < 0) return bad(pp, at, "location line");
            GROW(p->lines, p->nlines, p->cap_lines);
            /* Function 0 means "no function": keep the line, no name. */
            p->lines[p->nlines].func = fid ? function_index(pp, fid) : UINT32_MAX;
            p->lines[p->nlines].line = line > INT32_MAX ? INT32_MAX : line < INT32_MIN ? INT32_MIN : (int32_t)line;
            p->nlines++;
        }
    }
    if (rc < 0) return bad(pp, at, "location");
    if (id == 0) return fail(pp, at, "location with id 0");
    uint32_t i = location_index(pp, id);
    plocation *l = &p->locations[i];
    if (l->defined) return fail(pp, at, "location id %llu defined twice", (unsigned long long)id);
    if (p->nlines - first_line > 0x7fffffff) return fail(pp, at, "location with too many lines");
    l->defined = 1;
    l->address = address;
    l->mapping_id = mapping;
    l->first_line = first_line;
    l->nlines = (uint32_t)(p->nlines - first_line) & 0x7fffffff;
    return 0;
}

static int function(pparser *pp, const pbfield *f, size_t at)
{
    pbr r = {f->data, f->data + f->len};
    pbfield g;
    int rc;
    pfunction fn = {0};
    while ((rc = next_field(&r, &g)) > 0) {
        if (g.wt != 0) continue;
        switch (g.num) {
        case 1: fn.id = g.v; break;
        case 2: fn.name = (int64_t)g.v; break;
        case 3: fn.system_name = (int64_t)g.v; break;
        case 4: fn.filename = (int64_t)g.v; break;
        case 5: fn.start_line = (int64_t)g.v; break;
        default: break;
        }
    }
    if (rc < 0) return bad(pp, at, "function");
    if (fn.id == 0) return fail(pp, at, "function with id 0");
    uint32_t i = function_index(pp, fn.id);
    pfunction *dst = &pp->p->functions[i];
    if (dst->defined) return fail(pp, at, "function id %llu defined twice", (unsigned long long)fn.id);
    fn.defined = true;
    *dst = fn;
    return 0;
}

static int mapping(pparser *pp, const pbfield *f, size_t at)
{
    profile *p = pp->p;
    pbr r = {f->data, f->data + f->len};
    pbfield g;
    int rc;
    pmapping m = {0};
    while ((rc = next_field(&r, &g)) > 0) {
        if (g.wt != 0) continue;
        if (g.num == 1) m.id = g.v;
        else if (g.num == 5) m.filename = (int64_t)g.v;
    }
    if (rc < 0) return bad(pp, at, "mapping");
    GROW(p->mappings, p->nmappings, p->cap_mappings);
    p->mappings[p->nmappings++] = m;
    return 0;
}

static void add_string(pparser *pp, const unsigned char *s, size_t n)
{
    profile *p = pp->p;
    if (!p->str_off) {
        p->str_off = xmalloc(64 * sizeof *p->str_off);
        p->cap_strings = 63;
        p->str_off[0] = 0;
    }
    if (p->nstrings + 1 > p->cap_strings) {
        size_t cap = p->cap_strings + 1;
        p->str_off = xgrow(p->str_off, &cap, p->nstrings + 2, sizeof *p->str_off);
        p->cap_strings = cap - 1;
    }
    p->strbuf = xgrow(p->strbuf, &p->strbuf_cap, p->strbuf_len + n + 1, 1);
    memcpy(p->strbuf + p->strbuf_len, s, n);
    p->strbuf_len += n;
    p->strbuf[p->strbuf_len++] = '\0';
    p->nstrings++;
    p->str_off[p->nstrings] = p->strbuf_len;
}

static bool add_comment(pparser *pp, void *ctx, uint64_t v)
{
    (void)ctx;
    profile *p = pp->p;
    GROW(p->comments, p->ncomments, p->cap_comments);
    p->comments[p->ncomments++] = (int64_t)v;
    return true;
}

static int top_field(pparser *pp, const pbfield *f, size_t at)
{
    profile *p = pp->p;
    /* Each known field has one wire type; anything else is damage. */
    static const signed char want[15] = {-1, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 0, -2, 0};
    if (f->num < 15 && want[f->num] >= 0 && f->wt != want[f->num])
        return fail(pp, at, "field %u has wire type %d, expected %d", f->num, f->wt, want[f->num]);
    switch (f->num) {
    case 1:
        GROW(p->sample_types, p->nsample_types, p->cap_sample_types);
        return value_type(pp, f, &p->sample_types[p->nsample_types++], at);
    case 2: return sample(pp, f, at);
    case 3: return mapping(pp, f, at);
    case 4: return location(pp, f, at);
    case 5: return function(pp, f, at);
    case 6: add_string(pp, f->data, f->len); return 0;
    case 7: p->drop_frames = (int64_t)f->v; return 0;
    case 8: p->keep_frames = (int64_t)f->v; return 0;
    case 9: p->time_nanos = (int64_t)f->v; return 0;
    case 10: p->duration_nanos = (int64_t)f->v; return 0;
    case 11: return value_type(pp, f, &p->period_type, at);
    case 12: p->period = (int64_t)f->v; return 0;
    case 13: return each_int(pp, f, add_comment, NULL) ? 0 : bad(pp, at, "comment list");
    case 14: p->default_sample_type = (int64_t)f->v; return 0;
    default: return 0; /* fields of later profile.proto versions */
    }
}

/* Decodes every complete top-level field in the buffer. */
static int drain(pparser *pp, bool at_end)
{
    while (pp->pos < pp->pb.len) {
        pbr r = {(const unsigned char *)pp->pb.data + pp->pos, (const unsigned char *)pp->pb.data + pp->pb.len};
        size_t at = pp->base + pp->pos;
        /* A field is complete once its key, its length and its bytes are in. */
        pbr probe = r;
        uint64_t key, len = 0;
        if (!read_varint(&probe, &key)) goto incomplete;
        int wt = (int)(key & 7);
        if (wt == 2) {
            if (!read_varint(&probe, &len)) goto incomplete;
            if (len > MAX_FIELD) return fail(pp, at, "field of %llu bytes (limit %zu)", (unsigned long long)len, MAX_FIELD);
            if (len > (uint64_t)(probe.end - probe.p)) goto incomplete;
        } else if (wt == 0) {
            uint64_t v;
            if (!read_varint(&probe, &v)) goto incomplete;
        } else if ((wt == 1 && probe.end - probe.p < 8) || (wt == 5 && probe.end - probe.p < 4)) {
            goto incomplete;
        }
        pbfield f;
        if (next_field(&r, &f) < 0) return fail(pp, at, "malformed protobuf field (not a pprof profile?)");
        if (top_field(pp, &f, at) < 0) return -1;
        pp->pos = (size_t)(r.p - (const unsigned char *)pp->pb.data);
        continue;
    incomplete:
        if (at_end) return fail(pp, at, "profile ends inside a field (truncated?)");
        break;
    }
    /* Drop what was consumed once it is most of the buffer. */
    if (pp->pos > 0 && pp->pos * 2 >= pp->pb.len) {
        memmove(pp->pb.data, pp->pb.data + pp->pos, pp->pb.len - pp->pos);
        pp->pb.len -= pp->pos;
        pp->base += pp->pos;
        pp->pos = 0;
    }
    return 0;
}

/* Tiny inputs are decoded at the end: by then the head holds enough bytes
 * to recognise a legacy format whatever error the protobuf reader finds. */
#define HEAD_BEFORE_DECODING 64

static int decoded(pparser *pp, const void *data, size_t len)
{
    size_t take = len < sizeof pp->head - pp->nhead ? len : sizeof pp->head - pp->nhead;
    memcpy(pp->head + pp->nhead, data, take);
    pp->nhead += take;
    pp->decoded += len;
    if (pp->decoded > pp->opt.max_size)
        return fail(pp, SIZE_MAX, "decodes to more than %zu bytes (a gzip bomb?); raise --max-size to read it",
                    pp->opt.max_size);
    buf_append(&pp->pb, data, len);
    return pp->decoded < HEAD_BEFORE_DECODING ? 0 : drain(pp, false);
}

/* ---- the inflate/decode pipeline ------------------------------------------- */

static void *decode_worker(void *arg)
{
    pparser *pp = arg;
    for (;;) {
        pthread_mutex_lock(&pp->lock);
        while (pp->consumed == pp->produced && !pp->done) pthread_cond_wait(&pp->cv, &pp->lock);
        if (pp->consumed == pp->produced) {
            pthread_mutex_unlock(&pp->lock);
            return NULL;
        }
        size_t slot = pp->consumed % RING;
        pthread_mutex_unlock(&pp->lock);
        int rc = decoded(pp, pp->ring[slot], pp->ring_len[slot]);
        pthread_mutex_lock(&pp->lock);
        pp->consumed++;
        if (rc < 0) pp->worker_failed = true;
        pthread_cond_broadcast(&pp->cv);
        pthread_mutex_unlock(&pp->lock);
        if (rc < 0) return NULL;
    }
}

/* A free slot to inflate into, or NULL once the worker has failed. */
static unsigned char *free_slot(pparser *pp)
{
    pthread_mutex_lock(&pp->lock);
    while (pp->produced - pp->consumed == RING && !pp->worker_failed) pthread_cond_wait(&pp->cv, &pp->lock);
    unsigned char *out = pp->worker_failed ? NULL : pp->ring[pp->produced % RING];
    pthread_mutex_unlock(&pp->lock);
    return out;
}

static void publish(pparser *pp, size_t n)
{
    pthread_mutex_lock(&pp->lock);
    pp->ring_len[pp->produced % RING] = n;
    pp->produced++;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->lock);
}

/* Waits for the worker to decode everything published; -1 if it failed. */
static int stop_worker(pparser *pp)
{
    if (!pp->threaded) return pp->error ? -1 : 0;
    pthread_mutex_lock(&pp->lock);
    pp->done = true;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->lock);
    pthread_join(pp->worker, NULL);
    pp->threaded = false;
    return pp->worker_failed || pp->error ? -1 : 0;
}

static int inflate_chunk(pparser *pp, const unsigned char *data, size_t len)
{
    pp->z.next_in = (unsigned char *)(uintptr_t)data;
    pp->z.avail_in = (uInt)len;
    while (pp->z.avail_in > 0) {
        if (pp->gzip_done) {
            /* Concatenated gzip members are one stream (gzip(1) semantics);
             * trailing zero padding is tolerated. */
            if (*pp->z.next_in == 0) {
                pp->z.next_in++;
                pp->z.avail_in--;
                continue;
            }
            if (inflateReset(&pp->z) != Z_OK) return fail(pp, SIZE_MAX, "gzip: cannot restart");
            pp->gzip_done = false;
        }
        unsigned char *out = pp->threaded ? free_slot(pp) : pp->ring[0];
        if (!out) return -1;
        pp->z.next_out = out;
        pp->z.avail_out = INFLATE_CHUNK;
        int rc = inflate(&pp->z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return fail(pp, SIZE_MAX, "gzip: %s at compressed byte %lu", pp->z.msg ? pp->z.msg : "corrupt data",
                        pp->z.total_in);
        size_t n = INFLATE_CHUNK - pp->z.avail_out;
        if (n) {
            if (pp->threaded) publish(pp, n);
            else if (decoded(pp, out, n) < 0) return -1;
        }
        if (rc == Z_STREAM_END) pp->gzip_done = true;
        if (rc == Z_BUF_ERROR && n == 0) break;
    }
    return 0;
}

/* ---- formats older than profile.proto ------------------------------------------
 *
 * go tool pprof still reads them (its profile/legacy_profile.go and
 * legacy_java_profile.go); reef reads only profile.proto and says which
 * format a file is, and how to convert it, instead of a protobuf error that
 * reads like corruption.  The signatures are the first line of each text
 * format and the header words of the binary CPU format. */

typedef struct legacy_text {
    const char *prefix;      /* the first line starts so */
    const char *what;
} legacy_text;

static const legacy_text texts[] = {
    {"heap profile:", "a legacy heap profile (text: Go's heap?debug=1, or gperftools' heapz or growthz)"},
    {"--- heapz", "a legacy heapz profile (text, gperftools or Java)"},
    {"--- contentionz", "a legacy contention profile (text, gperftools or Java)"},
    {"--- contention", "a legacy contention profile (text, gperftools or Java)"},
    {"--- threadz", "a legacy thread profile (text, threadz)"},
    {"--- profilez", "a legacy CPU profile (text, Java profilez)"},
};

/* "NAME profile: total N": Go's debug=1 text of a count profile. */
static bool go_count_text(const char *s, size_t n)
{
    const char *colon = memmem(s, n, " profile: total ", 16);
    if (!colon || colon == s) return false;
    for (const char *c = s; c < colon; c++)
        if (*c == ' ' || *c == '\n') return false;
    return true;
}

/* The binary CPU profile (gperftools' profilez) starts with the words 0,
 * 3 (the header's length), then 0 for C++ or 1 for Java, in 32 or 64 bits,
 * in either byte order. */
static uint64_t word(const unsigned char *h, size_t w, bool big)
{
    uint64_t v = 0;
    for (size_t i = 0; i < w; i++) v |= (uint64_t)h[big ? w - 1 - i : i] << (8 * i);
    return v;
}

static bool binary_cpu(const unsigned char *h, size_t n)
{
    for (size_t w = 4; w <= 8; w += 4)
        for (int big = 0; big < 2 && n >= 3 * w; big++)
            if (word(h, w, big) == 0 && word(h + w, w, big) == 3 && word(h + 2 * w, w, big) <= 1) return true;
    return false;
}

bool pprof_legacy_message(const unsigned char *head, size_t n, const char *input, char *out, size_t outlen)
{
    const char *s = (const char *)head;
    const char *what = NULL;
    if (n >= 8 && memcmp(s, "heap_v2/", 8) == 0) {
        snprintf(out, outlen,
                 "a jemalloc heap_v2 profile, not a pprof profile: neither reef nor go tool pprof reads it "
                 "(jemalloc's jeprof does)");
        return true;
    }
    for (size_t i = 0; i < sizeof texts / sizeof *texts && !what; i++) {
        size_t len = strlen(texts[i].prefix);
        if (n >= len && memcmp(s, texts[i].prefix, len) == 0) what = texts[i].what;
    }
    if (!what && go_count_text(s, n)) {
        /* reef goroutines reads this one as it is. */
        if (n >= 9 && memcmp(s, "goroutine", 9) == 0) {
            snprintf(out, outlen,
                     "a goroutine profile in text (debug=1), not profile.proto: read it with `reef goroutines %s`",
                     input);
            return true;
        }
        what = "a legacy Go count profile (text, debug=1)";
    }
    if (!what && binary_cpu(head, n)) what = "a legacy binary CPU profile (gperftools or Java profilez, or Go's before 1.9)";
    if (!what) return false;
    snprintf(out, outlen,
             "%s, not profile.proto: reef reads only profile.proto; convert it with "
             "`go tool pprof -proto %s > converted.pb.gz`",
             what, input);
    return true;
}

/* ---- public entry points --------------------------------------------------------------- */

pparser *pparser_new(profile *p, const pparse_options *opt)
{
    pparser *pp = xcalloc(1, sizeof *pp);
    pp->p = p;
    pp->opt = *opt;
    if (!pp->opt.input_name) pp->opt.input_name = "<input>";
    if (!pp->opt.max_size) pp->opt.max_size = PPARSE_DEFAULT_MAX_SIZE;
    return pp;
}

void pparser_free(pparser *pp)
{
    if (!pp) return;
    stop_worker(pp);
    if (pp->ring) {
        pthread_mutex_destroy(&pp->lock);
        pthread_cond_destroy(&pp->cv);
        free(pp->ring);
    }
    if (pp->z_ready) inflateEnd(&pp->z);
    buf_free(&pp->pb);
    free(pp->error);
    free(pp);
}

static int start(pparser *pp)
{
    pp->decided = true;
    pp->gzip = pp->nmagic == 2 && pp->magic[0] == 0x1f && pp->magic[1] == 0x8b;
    if (pp->gzip) {
        if (inflateInit2(&pp->z, 16 + MAX_WBITS) != Z_OK) return fail(pp, SIZE_MAX, "gzip: cannot start zlib");
        pp->z_ready = true;
        pp->ring = xmalloc(RING * sizeof *pp->ring);
        pthread_mutex_init(&pp->lock, NULL);
        pthread_cond_init(&pp->cv, NULL);
        pp->threaded = pthread_create(&pp->worker, NULL, decode_worker, pp) == 0;
        return inflate_chunk(pp, pp->magic, 2);
    }
    return decoded(pp, pp->magic, pp->nmagic);
}

int pparser_feed(pparser *pp, const char *data, size_t len)
{
    if (pp->threaded) {
        pthread_mutex_lock(&pp->lock);
        bool failed = pp->error != NULL;
        pthread_mutex_unlock(&pp->lock);
        if (failed) return -1;
    } else if (pp->error) {
        return -1;
    }
    const unsigned char *d = (const unsigned char *)data;
    while (!pp->decided && len) {
        pp->magic[pp->nmagic++] = *d++;
        len--;
        if (pp->nmagic == 2 && start(pp) < 0) return -1;
    }
    if (!len) return 0;
    return pp->gzip ? inflate_chunk(pp, d, len) : decoded(pp, d, len);
}

/* Every index and id can be checked only now. */
static int validate(pparser *pp)
{
    profile *p = pp->p;
    if (p->nstrings == 0 || profile_strlen(p, 0) != 0)
        return fail(pp, SIZE_MAX, "the string table %s", p->nstrings ? "does not start with \"\"" : "is missing");
#define STR_OK(i) ((i) >= 0 && (uint64_t)(i) < p->nstrings)
    if (p->nsample_types == 0) return fail(pp, SIZE_MAX, "no sample types");
    for (size_t i = 0; i < p->nsample_types; i++)
        if (!STR_OK(p->sample_types[i].type) || !STR_OK(p->sample_types[i].unit))
            return fail(pp, SIZE_MAX, "sample type %zu names string %lld of %zu", i,
                        (long long)(STR_OK(p->sample_types[i].type) ? p->sample_types[i].unit : p->sample_types[i].type),
                        p->nstrings);
    if (!STR_OK(p->period_type.type) || !STR_OK(p->period_type.unit) || !STR_OK(p->default_sample_type) ||
        !STR_OK(p->drop_frames) || !STR_OK(p->keep_frames))
        return fail(pp, SIZE_MAX, "a profile field names a string past the table's %zu", p->nstrings);
    for (size_t i = 0; i < p->ncomments; i++)
        if (!STR_OK(p->comments[i])) return fail(pp, SIZE_MAX, "comment names string %lld of %zu", (long long)p->comments[i], p->nstrings);
    for (size_t i = 0; i < p->nsamples; i++) {
        const psample *s = &p->samples[i];
        if (s->nvalues != p->nsample_types)
            return fail(pp, s->where, "sample has %u values, the profile has %zu sample types", s->nvalues,
                        p->nsample_types);
        for (uint32_t k = 0; k < s->nlabels; k++) {
            const plabel *l = &p->labels[s->first_label + k];
            if (!STR_OK((int64_t)l->key) || !STR_OK((int64_t)l->str) || !STR_OK((int64_t)l->num_unit))
                return fail(pp, s->where, "sample label names a string past the table's %zu", p->nstrings);
        }
    }
    for (size_t i = 0; i < p->nmappings; i++)
        if (!STR_OK(p->mappings[i].filename))
            return fail(pp, SIZE_MAX, "mapping %llu names string %lld of %zu", (unsigned long long)p->mappings[i].id,
                        (long long)p->mappings[i].filename, p->nstrings);
    for (size_t i = 0; i < p->nlocations; i++)
        if (!p->locations[i].defined)
            return fail(pp, SIZE_MAX, "location id %llu is used but never defined",
                        (unsigned long long)idmap_key_of(&p->location_ids, (uint32_t)i));
    for (size_t i = 0; i < p->nfunctions; i++) {
        const pfunction *f = &p->functions[i];
        if (!f->defined)
            return fail(pp, SIZE_MAX, "function id %llu is used but never defined", (unsigned long long)f->id);
        if (!STR_OK(f->name) || !STR_OK(f->system_name) || !STR_OK(f->filename))
            return fail(pp, SIZE_MAX, "function id %llu names a string past the table's %zu", (unsigned long long)f->id,
                        p->nstrings);
    }
#undef STR_OK
    return 0;
}

int pparser_finish(pparser *pp)
{
    if (!pp->decided) {
        if (pp->nmagic == 0) return fail(pp, SIZE_MAX, "empty input: not a profile");
        if (start(pp) < 0) return -1;
    }
    if (stop_worker(pp) < 0) return -1;
    if (pp->gzip && !pp->gzip_done)
        return fail(pp, SIZE_MAX, "gzip stream ends early (truncated?) after %lu compressed bytes", pp->z.total_in);
    if (drain(pp, true) < 0) return -1;
    pp->p->inflated_bytes = pp->decoded;
    if (validate(pp) < 0) return -1;
    profile_drop_frames(pp->p);
    return 0;
}

static int feed(void *ctx, const char *data, size_t len) { return pparser_feed(ctx, data, len) != 0; }

int pprof_read(const char *source, const pparse_options *opt, const http_options *http, profile *p, char **message)
{
    *message = NULL;
    pparser *pp = pparser_new(p, opt);
    collect_error err = {.msg = {0}};
    int rc = collect_source(source, http, feed, pp, &err);
    int status = 0;
    if (rc == COLLECT_OK) {
        if (pparser_finish(pp) < 0) status = 2;
    } else if (rc == COLLECT_SINK_STOPPED) {
        status = 2;
    } else {
        status = rc == COLLECT_UNREACHABLE ? 3 : 2;
        *message = xstrdup(err.msg);
    }
    if (status && !*message) *message = xstrdup(pparser_error(pp) ? pparser_error(pp) : "unknown error");
    pparser_free(pp);
    return status;
}
