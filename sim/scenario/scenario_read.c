/* sim/scenario/scenario_read.c: schema-checked access to a scenario tree: the whole-tree check and typed getters. */
#include "sim/scenario/scenario_read.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario_text.h"
#include "sim/base/util.h"

int sr_fail(sr_ctx *c, const sn_node *at, const char *path, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *file = at && at->file ? at->file : c->main_path;
    if (at && at->line > 0) snprintf(c->err, c->errlen, "%s:%d: %s: %s", file, at->line, path, msg);
    else snprintf(c->err, c->errlen, "%s: %s: %s", file, path, msg);
    return -1;
}

/* ---- value checks ---- */

static void bound_text(const sk_entry *e, char *buf, size_t len) {
    int has_min = isfinite(e->min), has_max = isfinite(e->max) && e->max < 2147483647.0;
    if (has_min && has_max)
        snprintf(buf, len, "in %s%g, %g%s", (e->flags & SKF_MIN_OPEN) ? "(" : "[", e->min, e->max,
                 (e->flags & SKF_MAX_OPEN) ? ")" : "]");
    else if (has_min) snprintf(buf, len, "%s %g", (e->flags & SKF_MIN_OPEN) ? ">" : ">=", e->min);
    else snprintf(buf, len, "%s %g", (e->flags & SKF_MAX_OPEN) ? "<" : "<=", e->max);
}

static int in_range(const sk_entry *e, double v) {
    if (v < e->min || v > e->max) return 0;
    if ((e->flags & SKF_MIN_OPEN) && v <= e->min) return 0;
    if ((e->flags & SKF_MAX_OPEN) && v >= e->max) return 0;
    return 1;
}

/* Check a scalar node against the element type of e. */
static int check_scalar(sr_ctx *c, const sk_entry *e, sk_type t, const sn_node *n, const char *ip) {
    char b[96];
    switch (t) {
    case SK_INT:
        if (n->type != SN_INT)
            return sr_fail(c, n, ip, "expected an integer, got %s", sn_type_desc(n->type));
        if (!in_range(e, (double)n->i)) {
            bound_text(e, b, sizeof b);
            return sr_fail(c, n, ip, "%lld is out of range (must be %s%s%s)", n->i, b,
                           e->units[0] ? " " : "", e->units);
        }
        return 0;
    case SK_FLOAT: {
        if (n->type != SN_INT && n->type != SN_FLOAT)
            return sr_fail(c, n, ip, "expected a number, got %s", sn_type_desc(n->type));
        double v = n->type == SN_INT ? (double)n->i : n->f;
        if (!isfinite(v)) return sr_fail(c, n, ip, "not a finite number");
        if (!in_range(e, v)) {
            bound_text(e, b, sizeof b);
            return sr_fail(c, n, ip, "%g is out of range (must be %s%s%s)", v, b,
                           e->units[0] ? " " : "", e->units);
        }
        return 0;
    }
    case SK_BOOL:
        if (n->type != SN_BOOL)
            return sr_fail(c, n, ip, "expected true or false, got %s", sn_type_desc(n->type));
        return 0;
    case SK_STRING:
    case SK_PATH:
        if (n->type != SN_STRING)
            return sr_fail(c, n, ip, "expected a string, got %s", sn_type_desc(n->type));
        if (t == SK_PATH && !n->s[0]) return sr_fail(c, n, ip, "empty path");
        return 0;
    case SK_ENUM:
        if (n->type != SN_STRING)
            return sr_fail(c, n, ip, "expected a string (one of %s), got %s", e->choices,
                           sn_type_desc(n->type));
        if (!sk_enum_ok(e, n->s)) {
            /* suggest the closest choice */
            char best[64] = "";
            int best_d = 3;
            const char *p = e->choices;
            while (*p) {
                const char *bar = strchr(p, '|');
                size_t len = bar ? (size_t)(bar - p) : strlen(p);
                char ch[64];
                snprintf(ch, sizeof ch, "%.*s", (int)len, p);
                int d = st_edit_distance(ch, n->s);
                if (d < best_d) {
                    best_d = d;
                    snprintf(best, sizeof best, "%s", ch);
                }
                if (!bar) break;
                p = bar + 1;
            }
            if (best[0])
                return sr_fail(c, n, ip, "'%s' is not one of %s (did you mean '%s'?)", n->s,
                               e->choices, best);
            return sr_fail(c, n, ip, "'%s' is not one of %s", n->s, e->choices);
        }
        return 0;
    default: return sr_fail(c, n, ip, "internal: not a scalar type");
    }
}

static int is_seq(const sn_node *n) { return n->type == SN_ARRAY || n->type == SN_LIST; }

int sr_check_value(sr_ctx *c, const sk_entry *e, const sn_node *n) {
    char ip[512], ep[560];
    sn_path(n, ip, sizeof ip);
    switch (e->type) {
    case SK_GROUP:
        if (n->type != SN_GROUP)
            return sr_fail(c, n, ip, "expected a group { ... }, got %s", sn_type_desc(n->type));
        return 0;
    case SK_GROUP_LIST:
        if (!is_seq(n) || (n->type == SN_ARRAY && n->n_kids > 0))
            return sr_fail(c, n, ip, "expected a list of groups ( { ... }, ... ), got %s",
                           sn_type_desc(n->type));
        for (int i = 0; i < n->n_kids; i++)
            if (n->kids[i]->type != SN_GROUP) {
                snprintf(ep, sizeof ep, "%s[%d]", ip, i);
                return sr_fail(c, n->kids[i], ep, "expected a group { ... }, got %s",
                               sn_type_desc(n->kids[i]->type));
            }
        return 0;
    case SK_INT_LIST:
    case SK_FLOAT_LIST:
    case SK_STRING_LIST: {
        if (!is_seq(n))
            return sr_fail(c, n, ip, "expected a list [ ... ], got %s", sn_type_desc(n->type));
        sk_type t = e->type == SK_INT_LIST     ? SK_INT
                    : e->type == SK_FLOAT_LIST ? SK_FLOAT
                                               : SK_STRING;
        for (int i = 0; i < n->n_kids; i++) {
            snprintf(ep, sizeof ep, "%s[%d]", ip, i);
            if (check_scalar(c, e, t, n->kids[i], ep)) return -1;
        }
        return 0;
    }
    case SK_FLOAT_MATRIX:
        if (!is_seq(n))
            return sr_fail(c, n, ip, "expected a list of rows ( [ ... ], ... ), got %s",
                           sn_type_desc(n->type));
        for (int i = 0; i < n->n_kids; i++) {
            const sn_node *row = n->kids[i];
            snprintf(ep, sizeof ep, "%s[%d]", ip, i);
            if (!is_seq(row))
                return sr_fail(c, row, ep, "expected a row [ ... ], got %s",
                               sn_type_desc(row->type));
            for (int j = 0; j < row->n_kids; j++) {
                char xp[600];
                snprintf(xp, sizeof xp, "%s[%d]", ep, j);
                if (check_scalar(c, e, SK_FLOAT, row->kids[j], xp)) return -1;
            }
        }
        return 0;
    default: return check_scalar(c, e, e->type, n, ip);
    }
}

static int walk(sr_ctx *c, sn_node *g, const char *prefix) {
    for (int i = 0; i < g->n_kids; i++) {
        sn_node *k = g->kids[i];
        char sp[512], ip[512];
        snprintf(sp, sizeof sp, "%s%s%s", prefix, prefix[0] ? "." : "", k->name);
        const sk_entry *e = sk_find(sp);
        if (!e) {
            sn_path(k, ip, sizeof ip);
            const char *sug = sk_suggest(sp);
            if (sug) return sr_fail(c, k, ip, "unknown key (did you mean '%s'?)", sug);
            return sr_fail(c, k, ip, "unknown key (`orionsim check --keys` lists them all)");
        }
        if (sr_check_value(c, e, k)) return -1;
        if (e->type == SK_GROUP) {
            if (walk(c, k, sp)) return -1;
        } else if (e->type == SK_GROUP_LIST) {
            char lp[520];
            snprintf(lp, sizeof lp, "%s[]", sp);
            for (int j = 0; j < k->n_kids; j++)
                if (walk(c, k->kids[j], lp)) return -1;
        }
    }
    return 0;
}

int sr_check_tree(sr_ctx *c) { return walk(c, c->root, ""); }

/* ---- lookups ---- */

static const char *leaf_of(const char *spath) {
    const char *dot = strrchr(spath, '.');
    return dot ? dot + 1 : spath;
}

const char *sr_ipath(sn_node *base, const char *spath, char *buf, size_t len) {
    if (!base) {
        snprintf(buf, len, "%s", spath);
        return buf;
    }
    char bp[512];
    sn_path(base, bp, sizeof bp);
    snprintf(buf, len, "%s.%s", bp, leaf_of(spath));
    return buf;
}

/* Walk from the root; *deepest gets the last node that exists on the way and *depth
 * the number of components found. */
static sn_node *walk_path(sr_ctx *c, const char *spath, sn_node **deepest, int *depth) {
    if (strchr(spath, '[')) SIM_FAIL("scenario getter needs a base for %s", spath);
    sn_node *n = c->root;
    *depth = 0;
    const char *p = spath;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char comp[128];
        snprintf(comp, sizeof comp, "%.*s", (int)len, p);
        sn_node *next = n->type == SN_GROUP ? sn_member(n, comp) : NULL;
        if (!next) {
            *deepest = n;
            return NULL;
        }
        n = next;
        (*depth)++;
        p = dot ? dot + 1 : p + len;
    }
    *deepest = n;
    return n;
}

sn_node *sr_node(sr_ctx *c, sn_node *base, const char *spath) {
    if (base) return sn_member(base, leaf_of(spath));
    sn_node *deepest;
    int depth;
    return walk_path(c, spath, &deepest, &depth);
}

/* Absent key: error if it is required and every group between the deepest existing
 * ancestor and it is required too. Returns -1 on error, 0 otherwise. */
static int absent(sr_ctx *c, sn_node *base, const char *spath, const sk_entry *e) {
    if (!(e->flags & SKF_REQUIRED)) return 0;
    char ip[512];
    if (base) return sr_fail(c, base, sr_ipath(base, spath, ip, sizeof ip), "missing required key");
    sn_node *deepest;
    int depth;
    walk_path(c, spath, &deepest, &depth);
    /* the first missing component: spath cut after depth + 1 components */
    size_t i;
    int comps = 0;
    for (i = 0; spath[i]; i++)
        if (spath[i] == '.' && ++comps == depth + 1) break;
    char first[512];
    snprintf(first, sizeof first, "%.*s", (int)i, spath);
    if (!spath[i]) return sr_fail(c, deepest, spath, "missing required key");
    for (size_t j = i; spath[j]; j++) {
        if (spath[j] != '.') continue;
        char g[512];
        snprintf(g, sizeof g, "%.*s", (int)j, spath);
        const sk_entry *ge = sk_find(g);
        if (!ge || !(ge->flags & SKF_REQUIRED)) return 0;
    }
    return sr_fail(c, deepest, first, "missing required group (it holds %s)", spath);
}

static const sk_entry *entry(const char *spath) {
    const sk_entry *e = sk_find(spath);
    if (!e) SIM_FAIL("scenario getter for unknown key %s", spath);
    return e;
}

/* Common start of the getters: 1 present (*n set), 2 default text, 0 absent, -1 error. */
static int find(sr_ctx *c, sn_node *base, const char *spath, const sk_entry **e, sn_node **n) {
    *e = entry(spath);
    *n = sr_node(c, base, spath);
    if (*n) return 1;
    if ((*e)->dflt && (*e)->dflt[0] != '(') return 2;
    return absent(c, base, spath, *e) ? -1 : 0;
}

int sr_int(sr_ctx *c, sn_node *base, const char *spath, long long *out) {
    const sk_entry *e;
    sn_node *n;
    int st = find(c, base, spath, &e, &n);
    if (st == 1) *out = n->i;
    if (st == 2) {
        long v = 0;
        if (sim_parse_long(e->dflt, &v)) SIM_FAIL("bad default of %s", spath);
        *out = v;
    }
    return st > 0 ? 1 : st;
}

int sr_float(sr_ctx *c, sn_node *base, const char *spath, double *out) {
    const sk_entry *e;
    sn_node *n;
    int st = find(c, base, spath, &e, &n);
    if (st == 1) *out = sr_num(n);
    if (st == 2 && sim_parse_double(e->dflt, out)) SIM_FAIL("bad default of %s", spath);
    return st > 0 ? 1 : st;
}

int sr_bool(sr_ctx *c, sn_node *base, const char *spath, int *out) {
    const sk_entry *e;
    sn_node *n;
    int st = find(c, base, spath, &e, &n);
    if (st == 1) *out = n->b;
    if (st == 2) *out = !strcmp(e->dflt, "true");
    return st > 0 ? 1 : st;
}

int sr_string(sr_ctx *c, sn_node *base, const char *spath, char **out) {
    const sk_entry *e;
    sn_node *n;
    int st = find(c, base, spath, &e, &n);
    if (st == 1) *out = xstrdup(n->s);
    if (st == 2) {
        size_t len = strlen(e->dflt);
        *out = xmalloc(len);
        memcpy(*out, e->dflt + 1, len - 2);
        (*out)[len - 2] = '\0';
    }
    return st > 0 ? 1 : st;
}

int sr_enum(sr_ctx *c, sn_node *base, const char *spath, int *out) {
    char *v = NULL;
    int st = sr_string(c, base, spath, &v);
    if (st <= 0) return st;
    const sk_entry *e = entry(spath);
    int idx = 0;
    const char *p = e->choices;
    size_t n = strlen(v);
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) break;
        if (!bar) SIM_FAIL("%s: value '%s' escaped the schema check", spath, v);
        p = bar + 1;
        idx++;
    }
    free(v);
    *out = idx;
    return 1;
}

int sr_path(sr_ctx *c, sn_node *base, const char *spath, char **out) {
    const sk_entry *e;
    sn_node *n;
    int st = find(c, base, spath, &e, &n);
    if (st == 1) {
        if (n->line == 0 && !strncmp(n->file, "--set", 5)) {
            *out = xstrdup(n->s);
        } else {
            char *dir = st_dirname(n->file);
            *out = st_join_path(dir, n->s);
            free(dir);
        }
    } else if (st == 2) {
        char *v = NULL;
        sr_string(c, base, spath, &v);
        *out = st_join_path(c->main_dir, v);
        free(v);
    }
    return st > 0 ? 1 : st;
}

sn_node *sr_list(sr_ctx *c, sn_node *base, const char *spath) {
    (void)entry(spath);
    return sr_node(c, base, spath);
}

double sr_num(const sn_node *n) { return n->type == SN_INT ? (double)n->i : n->f; }

sn_node *sr_need(sr_ctx *c, sn_node *base, const char *spath) {
    sn_node *n = sr_node(c, base, spath);
    if (n) return n;
    char ip[512];
    sn_node *at = base;
    if (!at) {
        sn_node *deepest;
        int depth;
        walk_path(c, spath, &deepest, &depth);
        at = deepest;
    }
    sr_fail(c, at, sr_ipath(base, spath, ip, sizeof ip), "missing required key");
    return NULL;
}

int sr_refuse(sr_ctx *c, sn_node *base, const char *spath, const char *why) {
    sn_node *n = sr_node(c, base, spath);
    if (!n) return 0;
    char ip[512];
    return sr_fail(c, n, sr_ipath(base, spath, ip, sizeof ip), "not used when %s; remove it", why);
}

int sr_require(sr_ctx *c, sn_node *base, const char *spath, const char *why) {
    if (sr_node(c, base, spath)) return 0;
    char ip[512];
    sn_node *at = base;
    if (!at) {
        /* the deepest enclosing group that exists */
        sn_node *deepest;
        int depth;
        walk_path(c, spath, &deepest, &depth);
        at = deepest;
    }
    return sr_fail(c, at, sr_ipath(base, spath, ip, sizeof ip), "required when %s", why);
}
