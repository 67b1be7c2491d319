/* preport_flame.c - folded stacks and the SVG flame graph of a profile.
 *
 * Both merge samples into stacks of function names (inlined frames
 * expanded, root first).  The SVG is one file with its own small script:
 * hover shows a frame's value and share, click zooms into it, and a reset
 * button zooms out; no network, no external files.  Frames too narrow to
 * be seen even when zoomed 100x are left out to keep huge profiles usable. */
#include "preport.h"
#include "../analyze/gclassify.h"
#include "../util/buf.h"
#include "../util/hash.h"
#include "../util/idmap.h"
#include "../util/intern.h"
#include "../util/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Calls fn(ctx, name) for each frame of sample s, root first. */
typedef void (*frame_fn)(void *ctx, const char *name);

/* Stacks are stored leaf first: each is decoded here, then walked
 * backwards; unnul holds a name rewritten by without_nul.  Both are
 * released at the end of each report. */
static uint32_t *locs;
static size_t locs_cap;
static buf unnul;

static void release_locs(void)
{
    buf_free(&unnul);
    free(locs);
    locs = NULL;
    locs_cap = 0;
}

/* A name with NUL bytes inside, with each shown as '_' (as folded shows
 * blanks), so that it is neither cut nor merged with another. */
static const char *without_nul(const char *name, size_t n)
{
    unnul.len = 0;
    for (size_t i = 0; i < n; i++) buf_putc(&unnul, name[i] ? name[i] : '_');
    return buf_cstr(&unnul);
}

static void each_frame_root_first(const profile *p, const psample *s, frame_fn fn, void *ctx)
{
    locs = xgrow(locs, &locs_cap, (size_t)s->nlocs + 1, sizeof *locs);
    const unsigned char *cur = pstack_begin(p, s);
    for (uint32_t i = 0; i < s->nlocs; i++) locs[i] = pstack_next(&cur);
    char unnamed[256];
    for (uint32_t i = s->nlocs; i-- > 0;) {
        const plocation *loc = &p->locations[locs[i]];
        if (loc->nlines == 0) {
            fn(ctx, profile_unnamed_frame(p, loc, unnamed, sizeof unnamed));
            continue;
        }
        /* Within a location the last line is the caller. */
        for (uint32_t j = loc->nlines; j-- > 0;) {
            const pline *ln = &p->lines[loc->first_line + j];
            const char *name = ln->func == UINT32_MAX ? "" : profile_str(p, p->functions[ln->func].name);
            size_t n = ln->func == UINT32_MAX ? 0 : profile_strlen(p, p->functions[ln->func].name);
            if (n && strlen(name) != n) name = without_nul(name, n);
            fn(ctx, n ? name : profile_unnamed_frame(p, loc, unnamed, sizeof unnamed));
        }
    }
}

/* ---- folded ---------------------------------------------------------------- */

static void fold_frame(void *ctx, const char *name)
{
    buf *b = ctx;
    if (b->len) buf_putc(b, ';');
    for (const char *c = name; *c; c++) buf_putc(b, *c == ';' || *c == ' ' || *c == '\n' ? '_' : *c);
}

typedef struct folded_line {
    const char *text;
    int64_t value;
} folded_line;

static int cmp_folded(const void *a, const void *b)
{
    return strcmp(((const folded_line *)a)->text, ((const folded_line *)b)->text);
}

int preport_folded(FILE *out, const profile *p, int vi)
{
    intern_table stacks;
    intern_init(&stacks);
    int64_t *sum = NULL;
    size_t cap = 0;
    buf b = {0};
    for (size_t i = 0; i < p->nsamples; i++) {
        const psample *s = &p->samples[i];
        int64_t v = psample_value(p, s, vi);
        if (v == 0) continue;
        b.len = 0;
        each_frame_root_first(p, s, fold_frame, &b);
        uint32_t id = intern(&stacks, b.data ? b.data : "", b.len);
        size_t old = cap;
        sum = xgrow(sum, &cap, (size_t)id + 1, sizeof *sum);
        if (cap != old) memset(sum + old, 0, (cap - old) * sizeof *sum);
        sum[id] += v;
    }
    folded_line *lines = xmalloc((stacks.count ? stacks.count : 1) * sizeof *lines);
    size_t n = 0;
    for (size_t id = 1; id < stacks.count; id++)
        if (id < cap && sum[id]) lines[n++] = (folded_line){intern_str(&stacks, (uint32_t)id), sum[id]};
    qsort(lines, n, sizeof *lines, cmp_folded);
    for (size_t i = 0; i < n; i++) fprintf(out, "%s %" PRId64 "\n", lines[i].text, lines[i].value);
    free(lines);
    free(sum);
    buf_free(&b);
    intern_free(&stacks);
    release_locs();
    return 0;
}

/* ---- the flame graph tree ------------------------------------------------------ */

typedef struct fnode {
    uint32_t name;          /* in tree.names */
    uint32_t parent;
    uint32_t first_child, next_sibling; /* 0 = none (node 0 is the root) */
    int64_t value;
    int64_t self;
} fnode;

typedef struct tree {
    intern_table names;
    fnode *nodes;
    size_t n, cap;
    idmap children;         /* (parent, name) -> node */
    uint32_t cur;
    int64_t value;
    int depth, max_depth;
} tree;

static uint32_t child(tree *t, uint32_t parent, uint32_t name)
{
    bool added;
    uint64_t key = (((uint64_t)parent << 32) | name) + 1;
    uint32_t id = idmap_get_or_add(&t->children, key, &added);
    if (added) {
        /* idmap hands out indexes 0.. in order; node 0 is the root. */
        id += 1;
        t->nodes = xgrow(t->nodes, &t->cap, (size_t)id + 1, sizeof *t->nodes);
        fnode *nd = &t->nodes[id];
        memset(nd, 0, sizeof *nd);
        nd->name = name;
        nd->parent = parent;
        nd->next_sibling = t->nodes[parent].first_child;
        t->nodes[parent].first_child = id;
        t->n = (size_t)id + 1;
        return id;
    }
    return id + 1;
}

static void tree_frame(void *ctx, const char *name)
{
    tree *t = ctx;
    uint32_t nm = intern(&t->names, name, strlen(name));
    t->cur = child(t, t->cur, nm);
    t->nodes[t->cur].value += t->value;
    if (++t->depth > t->max_depth) t->max_depth = t->depth;
}

/* ---- SVG ---------------------------------------------------------------------- */

#define SVG_WIDTH 1200
#define FRAME_H 16
#define TOP_PAD 50
#define BOTTOM_PAD 40
#define MAX_SVG_FRAMES 200000

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*s >= 0x20) fputc(*s, out);
        }
    }
}

/* Warm colours for application code, cool for the runtime and standard
 * library, stable per name. */
static void frame_color(const char *name, char *out, size_t n)
{
    uint64_t h = hash_bytes(name, strlen(name), 7);
    if (gfunc_is_std(name)) snprintf(out, n, "rgb(%d,%d,%d)", 80 + (int)(h % 60), 140 + (int)((h >> 8) % 60), 190 + (int)((h >> 16) % 50));
    else snprintf(out, n, "rgb(%d,%d,%d)", 205 + (int)(h % 50), 90 + (int)((h >> 8) % 110), 40 + (int)((h >> 16) % 40));
}

static const char svg_script[] =
    "var W=" "1200" ",FH=16,frames=[],zx=0,zw=1,total=1,details,unz;\n"
    "function init(e){details=document.getElementById('details');unz=document.getElementById('unzoom');\n"
    " var gs=document.getElementById('frames').children;total=+document.documentElement.getAttribute('data-total');\n"
    " for(var i=0;i<gs.length;i++){var g=gs[i],r=g.children[1];frames.push({g:g,r:r,t:g.children[2],\n"
    "  x:+r.getAttribute('data-x'),w:+r.getAttribute('data-w'),name:g.getAttribute('data-n')});\n"
    "  g.onclick=zoomer(frames[i]);g.onmouseover=shower(frames[i]);g.onmouseout=function(){details.textContent=' '};}\n"
    " zw=total;layout();}\n"
    "function zoomer(f){return function(){zx=f.x;zw=f.w;unz.style.opacity=1;layout();}}\n"
    "function shower(f){return function(){details.textContent=f.g.children[0].textContent;}}\n"
    "function unzoom(){zx=0;zw=total;unz.style.opacity=0.3;layout();}\n"
    "function layout(){var s=(W-20)/zw;for(var i=0;i<frames.length;i++){var f=frames[i],\n"
    " x=(f.x-zx)*s+10,w=f.w*s;if(x+w<10||x>W-10||w<0.1){f.g.style.display='none';continue;}\n"
    " f.g.style.display='';if(x<10){w-=10-x;x=10;}if(x+w>W-10)w=W-10-x;\n"
    " f.r.setAttribute('x',x.toFixed(2));f.r.setAttribute('width',Math.max(w-0.5,0.1).toFixed(2));\n"
    " f.t.setAttribute('x',(x+3).toFixed(2));var c=Math.floor((w-6)/7);\n"
    " f.t.textContent=c<3?'':(f.name.length<=c?f.name:f.name.substring(0,c-2)+'..');}}\n";

typedef struct svg_ctx {
    FILE *out;
    tree *t;
    const char *unit;
    int64_t total;
    int64_t min_value;
    size_t emitted, skipped;
    int height;
} svg_ctx;

/* Emits node id at depth d with its left edge at x (value units), then its
 * children left to right. */
static void emit(svg_ctx *c, uint32_t id, int d, int64_t x)
{
    const fnode *nd = &c->t->nodes[id];
    if (id != 0) {
        if (nd->value < c->min_value || c->emitted >= MAX_SVG_FRAMES) {
            c->skipped++;
            return;
        }
        const char *name = intern_str(&c->t->names, nd->name);
        char val[64], color[40];
        pformat_value(val, sizeof val, nd->value, c->unit);
        frame_color(name, color, sizeof color);
        int y = c->height - BOTTOM_PAD - d * FRAME_H;
        fputs("<g data-n=\"", c->out);
        xml_text(c->out, name);
        fputs("\"><title>", c->out);
        xml_text(c->out, name);
        /* The unzoomed picture is laid out here, so the file shows without
         * its script too; the script only redoes it when zooming. */
        double scale = (double)(SVG_WIDTH - 20) / (double)(c->total > 0 ? c->total : 1);
        double px = 10 + (double)x * scale, pw = (double)nd->value * scale;
        fprintf(c->out, " (%s, %.2f%%)</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
                        "rx=\"2\" data-x=\"%" PRId64 "\" data-w=\"%" PRId64 "\"/><text x=\"%.2f\" y=\"%d\">",
                val, c->total ? 100.0 * (double)nd->value / (double)c->total : 0, px, y, pw > 0.6 ? pw - 0.5 : 0.1,
                FRAME_H - 1, color, x, nd->value, px + 3, y + FRAME_H - 4);
        int fit = (int)((pw - 6) / 7);
        if (fit >= 3) {
            size_t len = strlen(name);
            if ((int)len <= fit) {
                xml_text(c->out, name);
            } else {
                char cut[512];
                snprintf(cut, sizeof cut, "%.*s..", fit - 2 < 500 ? fit - 2 : 500, name);
                xml_text(c->out, cut);
            }
        }
        fputs("</text></g>\n", c->out);
        c->emitted++;
    }
    int64_t cx = x;
    for (uint32_t ch = nd->first_child; ch; ch = c->t->nodes[ch].next_sibling) {
        emit(c, ch, d + 1, cx);
        cx += c->t->nodes[ch].value;
    }
}

/* Children were linked newest first; order them by name for a stable,
 * readable picture (as flamegraph.pl does). */
static const tree *sort_tree;

static int cmp_child(const void *a, const void *b)
{
    const fnode *x = &sort_tree->nodes[*(const uint32_t *)a], *y = &sort_tree->nodes[*(const uint32_t *)b];
    return strcmp(intern_str(&sort_tree->names, x->name), intern_str(&sort_tree->names, y->name));
}

static void sort_children(tree *t)
{
    uint32_t *kids = NULL;
    size_t cap = 0;
    sort_tree = t;
    for (size_t id = 0; id < t->n; id++) {
        size_t k = 0;
        for (uint32_t ch = t->nodes[id].first_child; ch; ch = t->nodes[ch].next_sibling) {
            kids = xgrow(kids, &cap, k + 1, sizeof *kids);
            kids[k++] = ch;
        }
        if (k < 2) continue;
        qsort(kids, k, sizeof *kids, cmp_child);
        t->nodes[id].first_child = kids[0];
        for (size_t i = 0; i + 1 < k; i++) t->nodes[kids[i]].next_sibling = kids[i + 1];
        t->nodes[kids[k - 1]].next_sibling = 0;
    }
    sort_tree = NULL;
    free(kids);
}

int preport_svg(FILE *out, const profile *p, int vi, const char *title)
{
    tree t;
    memset(&t, 0, sizeof t);
    intern_init(&t.names);
    t.nodes = xcalloc(1, sizeof *t.nodes);
    t.cap = t.n = 1;
    int64_t total = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const psample *s = &p->samples[i];
        int64_t v = psample_value(p, s, vi);
        if (v <= 0) continue; /* a flame graph shows positive weights */
        total += v;
        t.cur = 0;
        t.value = v;
        t.depth = 0;
        each_frame_root_first(p, s, tree_frame, &t);
    }
    t.nodes[0].value = total;
    sort_children(&t);

    const char *unit = profile_str(p, p->sample_types[vi].unit);
    const char *type = profile_str(p, p->sample_types[vi].type);
    svg_ctx c = {.out = out, .t = &t, .unit = unit, .total = total, .min_value = total / 100000 + 1};
    c.height = TOP_PAD + BOTTOM_PAD + (t.max_depth + 1) * FRAME_H;
    char tot[64];
    pformat_value(tot, sizeof tot, total, unit);
    fprintf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
                 "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" onload=\"init(evt)\" "
                 "data-total=\"%" PRId64 "\" xmlns=\"http://www.w3.org/2000/svg\">\n",
            SVG_WIDTH, c.height, SVG_WIDTH, c.height, total > 0 ? total : 1);
    fputs("<style>text{font-family:monospace;font-size:12px;fill:#000}#frames g:hover rect{stroke:#000;"
          "stroke-width:0.5}#frames g{cursor:pointer}#unzoom{cursor:pointer}</style>\n<script><![CDATA[\n",
          out);
    fputs(svg_script, out);
    fputs("]]></script>\n<rect width=\"100%\" height=\"100%\" fill=\"#fdfdf8\"/>\n<text x=\"10\" y=\"24\" "
          "style=\"font-size:17px\">",
          out);
    xml_text(out, title);
    fprintf(out, " — %s, total %s</text>\n", type, tot);
    fprintf(out, "<text id=\"unzoom\" x=\"10\" y=\"42\" style=\"opacity:0.3\" onclick=\"unzoom()\">Reset zoom</text>\n");
    fprintf(out, "<text id=\"details\" x=\"10\" y=\"%d\"> </text>\n<g id=\"frames\">\n", c.height - 14);
    emit(&c, 0, -1, 0);
    fputs("</g>\n", out);
    if (c.skipped)
        fprintf(out, "<!-- %zu frames narrower than 1/100000 of the total left out -->\n", c.skipped);
    fputs("</svg>\n", out);
    free(t.nodes);
    idmap_free(&t.children);
    intern_free(&t.names);
    release_locs();
    return 0;
}
