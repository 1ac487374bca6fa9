/* sim/scenario/scenario_keys.c: lookups over the scenario schema: find, normalise paths, suggest, print, self-check. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario_schema.h"
#include "sim/scenario/scenario_text.h"
#include "sim/base/util.h"

const sk_entry *sk_find(const char *schema_path) {
    for (int i = 0; i < sk_schema_len; i++)
        if (!strcmp(sk_schema[i].path, schema_path)) return &sk_schema[i];
    return NULL;
}

int sk_normalize(const char *in, char *out, size_t len) {
    size_t o = 0;
    for (const char *p = in; *p; p++) {
        if (o + 3 >= len) return -1;
        if (*p == '[') {
            out[o++] = '[';
            while (*p && *p != ']') p++;
            if (!*p) return -1;
            out[o++] = ']';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return 0;
}

const sk_alternative *sk_alternative_of(const char *group, const char *leaf) {
    for (int i = 0; i < sk_alternatives_len; i++) {
        if (strcmp(sk_alternatives[i].group, group)) continue;
        for (int k = 0; sk_alternatives[i].keys[k]; k++)
            if (!strcmp(sk_alternatives[i].keys[k], leaf)) return &sk_alternatives[i];
    }
    return NULL;
}

const char *sk_type_name(sk_type t) {
    switch (t) {
    case SK_GROUP: return "group";
    case SK_GROUP_LIST: return "group-list";
    case SK_INT: return "int";
    case SK_FLOAT: return "float";
    case SK_BOOL: return "bool";
    case SK_STRING: return "string";
    case SK_ENUM: return "enum";
    case SK_PATH: return "path";
    case SK_INT_LIST: return "int-list";
    case SK_FLOAT_LIST: return "float-list";
    case SK_STRING_LIST: return "string-list";
    case SK_FLOAT_MATRIX: return "float-matrix";
    }
    return "?";
}

int sk_enum_ok(const sk_entry *e, const char *value) {
    if (!e->choices) return 0;
    size_t n = strlen(value);
    const char *p = e->choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, value, n)) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

/* Split a schema path into parent and leaf (parent "" at top level). */
static void split_path(const char *path, char *parent, size_t plen, const char **leaf) {
    const char *dot = strrchr(path, '.');
    if (!dot) {
        snprintf(parent, plen, "%s", "");
        *leaf = path;
        return;
    }
    size_t n = (size_t)(dot - path);
    if (n >= plen) n = plen - 1;
    memcpy(parent, path, n);
    parent[n] = '\0';
    *leaf = dot + 1;
}

const char *sk_suggest(const char *schema_path) {
    char parent[256], p2[256];
    const char *leaf, *leaf2;
    split_path(schema_path, parent, sizeof parent, &leaf);
    int limit = (int)strlen(leaf) / 3;
    if (limit < 2) limit = 2;
    const char *best = NULL;
    int best_d = limit + 1;
    for (int i = 0; i < sk_schema_len; i++) {
        split_path(sk_schema[i].path, p2, sizeof p2, &leaf2);
        if (strcmp(parent, p2)) continue;
        int d = st_edit_distance(leaf, leaf2);
        if (d < best_d) {
            best_d = d;
            best = sk_schema[i].path;
        }
    }
    if (best) return best;
    /* The same key under another group (training.cache_capacity -> pipeline...). */
    for (int i = 0; i < sk_schema_len; i++) {
        split_path(sk_schema[i].path, p2, sizeof p2, &leaf2);
        if (!strcmp(leaf, leaf2)) return sk_schema[i].path;
    }
    return NULL;
}

static void range_text(const sk_entry *e, char *buf, size_t len) {
    buf[0] = '\0';
    int numeric = e->type == SK_INT || e->type == SK_FLOAT || e->type == SK_INT_LIST ||
                  e->type == SK_FLOAT_LIST || e->type == SK_FLOAT_MATRIX;
    if (!numeric) return;
    int has_min = isfinite(e->min), has_max = isfinite(e->max) && e->max < 2147483647.0;
    if (!has_min && !has_max) return;
    char lo[32] = "-inf", hi[32] = "inf";
    if (has_min) snprintf(lo, sizeof lo, "%g", e->min);
    if (has_max) snprintf(hi, sizeof hi, "%g", e->max);
    snprintf(buf, len, "%s%s, %s%s", (e->flags & SKF_MIN_OPEN) || !has_min ? "(" : "[", lo, hi,
             (e->flags & SKF_MAX_OPEN) || !has_max ? ")" : "]");
}

void sk_print(FILE *f) {
    fprintf(f, "%-38s %-12s %-21s %-12s %-26s %s\n", "KEY", "TYPE", "DEFAULT", "UNITS",
            "RANGE / CHOICES", "DOC");
    for (int i = 0; i < sk_schema_len; i++) {
        const sk_entry *e = &sk_schema[i];
        char range[96];
        if (e->type == SK_ENUM) snprintf(range, sizeof range, "%s", e->choices);
        else range_text(e, range, sizeof range);
        const char *dflt = e->dflt ? e->dflt : (e->flags & SKF_REQUIRED) ? "required" : "-";
        fprintf(f, "%-38s %-12s %-21s %-12s %-26s %s\n", e->path, sk_type_name(e->type), dflt,
                e->units[0] ? e->units : "-", range[0] ? range : "-", e->doc);
    }
}

static int default_ok(const sk_entry *e) {
    const char *d = e->dflt;
    if (!d || d[0] == '(') return 1;
    switch (e->type) {
    case SK_INT: {
        long v;
        return sim_parse_long(d, &v) == 0 && v >= e->min && v <= e->max;
    }
    case SK_FLOAT: {
        double v;
        if (sim_parse_double(d, &v)) return 0;
        if (v < e->min || v > e->max) return 0;
        if ((e->flags & SKF_MIN_OPEN) && v == e->min) return 0;
        if ((e->flags & SKF_MAX_OPEN) && v == e->max) return 0;
        return 1;
    }
    case SK_BOOL: return !strcmp(d, "true") || !strcmp(d, "false");
    case SK_STRING:
    case SK_PATH:
    case SK_ENUM: {
        size_t n = strlen(d);
        if (n < 2 || d[0] != '"' || d[n - 1] != '"') return 0;
        if (e->type != SK_ENUM) return 1;
        char v[128];
        snprintf(v, sizeof v, "%.*s", (int)(n - 2), d + 1);
        return sk_enum_ok(e, v);
    }
    default: return 0; /* lists and groups take no textual default */
    }
}

int sk_self_check(char *err, size_t errlen) {
    for (int i = 0; i < sk_schema_len; i++) {
        const sk_entry *e = &sk_schema[i];
        if (!e->doc || !e->doc[0]) {
            snprintf(err, errlen, "%s: no doc", e->path);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(sk_schema[j].path, e->path)) {
                snprintf(err, errlen, "%s: listed twice", e->path);
                return -1;
            }
        if (e->type == SK_ENUM && (!e->choices || !e->choices[0])) {
            snprintf(err, errlen, "%s: enum without choices", e->path);
            return -1;
        }
        if (!default_ok(e)) {
            snprintf(err, errlen, "%s: default '%s' is not a valid %s", e->path, e->dflt,
                     sk_type_name(e->type));
            return -1;
        }
        if (e->min > e->max) {
            snprintf(err, errlen, "%s: min > max", e->path);
            return -1;
        }
        char parent[256];
        const char *leaf;
        split_path(e->path, parent, sizeof parent, &leaf);
        if (!parent[0]) continue;
        size_t n = strlen(parent);
        int in_list = n > 2 && !strcmp(parent + n - 2, "[]");
        if (in_list) parent[n - 2] = '\0';
        const sk_entry *p = sk_find(parent);
        if (!p || p->type != (in_list ? SK_GROUP_LIST : SK_GROUP)) {
            snprintf(err, errlen, "%s: parent %s is not a %s row", e->path, parent,
                     in_list ? "group-list" : "group");
            return -1;
        }
    }
    return 0;
}
