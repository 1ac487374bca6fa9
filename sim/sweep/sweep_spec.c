/* sim/sweep/sweep_spec.c: parsing --vary arguments and walking the grid (see sweep_spec.h). */
#include "sim/sweep/sweep_spec.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/base/fields.h"
#include "sim/scenario/scenario_schema.h"
#include "sim/base/util.h"

void sweep_value_set(sweep_value *v, const char *text) {
    v->text = xstrdup(text);
    v->numeric = sim_parse_double(text, &v->num) == 0;
    if (!v->numeric) v->num = NAN;
}

int sweep_value_eq(const sweep_value *a, const sweep_value *b) {
    if (a->numeric && b->numeric) return a->num == b->num;
    return strcmp(a->text, b->text) == 0;
}

void sweep_axis_free(sweep_axis *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) free(a->values[i].text);
    free(a->values);
    free(a->key);
    free(a->spec);
    memset(a, 0, sizeof *a);
}

static void add_value(sweep_axis *a, size_t *cap, const char *text) {
    if (a->n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        a->values = xrealloc(a->values, *cap * sizeof *a->values);
    }
    sweep_value_set(&a->values[a->n++], text);
}

/* Split `s` at commas that are outside brackets and quotes. Returns the number of parts
 * (each malloc'd in *parts), or -1 on unbalanced brackets or quotes. */
static int split_list(const char *s, char ***parts) {
    size_t cap = 8, n = 0;
    char **v = xmalloc(cap * sizeof *v);
    int depth = 0, quote = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        char c = *p;
        if (quote) {
            if (c == '\\' && p[1]) p++;
            else if (c == '"') quote = 0;
            else if (!c) break;
            continue;
        }
        if (c == '"') quote = 1;
        else if (c == '[' || c == '{' || c == '(') depth++;
        else if (c == ']' || c == '}' || c == ')') {
            if (--depth < 0) break;
        } else if (!c && depth) {
            break;
        } else if ((c == ',' && depth == 0) || !c) {
            if (n == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
            size_t len = (size_t)(p - start);
            v[n] = xmalloc(len + 1);
            memcpy(v[n], start, len);
            v[n++][len] = 0;
            start = p + 1;
            if (!c) {
                *parts = v;
                return (int)n;
            }
        }
    }
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
    return -1;
}

static void free_parts(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* 1 if s holds a ':' outside brackets and quotes. */
static int has_top_colon(const char *s) {
    int depth = 0, quote = 0;
    for (const char *p = s; *p; p++) {
        if (quote) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') quote = 0;
        } else if (*p == '"') quote = 1;
        else if (*p == '[' || *p == '{' || *p == '(') depth++;
        else if (*p == ']' || *p == '}' || *p == ')') depth--;
        else if (*p == ':' && depth == 0) return 1;
    }
    return 0;
}

static int fail(char *err, size_t errlen, const char *arg, const char *fmt, const char *a,
                const char *b) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    snprintf(err, errlen, "--vary %s: %s", arg, msg);
    return -1;
}

/* start:stop[:step]. 0 or -1. */
static int parse_range(const char *arg, const char *spec, sweep_axis *a, size_t *cap, char *err,
                       size_t errlen) {
    char *buf = xstrdup(spec);
    char *part[4] = {0};
    int np = 0;
    for (char *p = buf, *tok; np < 4 && (tok = strsep(&p, ":")) != NULL;) part[np++] = tok;
    int rc = 0;
    if (np < 2 || np > 3) {
        rc = fail(err, errlen, arg, "a range is START:STOP or START:STOP:STEP, got '%s'", spec,
                  NULL);
        goto out;
    }
    long li[3] = {0, 0, 1};
    int all_int = 1;
    double d[3] = {0, 0, 1};
    for (int i = 0; i < np; i++) {
        if (sim_parse_double(part[i], &d[i])) {
            static const char *const what[] = {"start", "stop", "step"};
            rc = fail(err, errlen, arg, "range %s '%s' is not a number", what[i], part[i]);
            goto out;
        }
        if (sim_parse_long(part[i], &li[i])) all_int = 0;
    }
    if (d[2] <= 0) {
        rc = fail(err, errlen, arg, "range step '%s' must be positive", part[2], NULL);
        goto out;
    }
    if (d[0] > d[1]) {
        rc = fail(err, errlen, arg, "range start %s is above its stop %s", part[0], part[1]);
        goto out;
    }
    double span = (d[1] - d[0]) / d[2];
    if (!(span < SWEEP_MAX_POINTS)) {
        rc = fail(err, errlen, arg, "range '%s' has too many values", spec, NULL);
        goto out;
    }
    char txt[64];
    long diff = 0;
    if (all_int && __builtin_sub_overflow(li[1], li[0], &diff)) {
        rc = fail(err, errlen, arg, "range '%s' spans more than a 64-bit integer", spec, NULL);
        goto out;
    }
    if (all_int) {
        long n = diff / li[2] + 1; /* li[0] + i * li[2] <= li[1]: no overflow */
        for (long i = 0; i < n; i++) {
            snprintf(txt, sizeof txt, "%ld", li[0] + i * li[2]);
            add_value(a, cap, txt);
        }
    } else {
        long n = (long)floor(span + 1e-9) + 1;
        for (long i = 0; i < n; i++) {
            double v = d[0] + (double)i * d[2];
            snprintf(txt, sizeof txt, "%.12g", v);
            double r = strtod(txt, NULL);
            if (r == 0) r = 0; /* no "-0" */
            sim_format_double(txt, sizeof txt, r);
            add_value(a, cap, txt);
        }
    }
out:
    free(buf);
    return rc;
}

/* The schema row of an instance key, and whether the key names one element of a list. */
static const sk_entry *schema_row(const char *key, int *element) {
    char norm[256];
    *element = 0;
    if (sk_normalize(key, norm, sizeof norm)) return NULL;
    const sk_entry *e = sk_find(norm);
    if (e) return e;
    size_t n = strlen(norm);
    if (n > 2 && !strcmp(norm + n - 2, "[]")) {
        norm[n - 2] = 0;
        e = sk_find(norm);
        if (e && (e->type == SK_INT_LIST || e->type == SK_FLOAT_LIST || e->type == SK_STRING_LIST ||
                  e->type == SK_FLOAT_MATRIX)) {
            *element = 1;
            return e;
        }
    }
    return NULL;
}

/* Type check a value against the key's schema row, where the text decides it. */
static int check_type(const char *arg, const sk_entry *e, int element, const sweep_value *v,
                      char *err, size_t errlen) {
    sk_type t = e->type;
    if (element) t = t == SK_INT_LIST ? SK_INT : t == SK_STRING_LIST ? SK_STRING : SK_FLOAT;
    long l;
    switch (t) {
    case SK_INT:
        if (sim_parse_long(v->text, &l))
            return fail(err, errlen, arg, "value '%s' is not an integer (%s is an integer key)",
                        v->text, e->path);
        break;
    case SK_FLOAT:
        if (!v->numeric)
            return fail(err, errlen, arg, "value '%s' is not a number (%s is a number key)",
                        v->text, e->path);
        break;
    case SK_BOOL:
        if (strcasecmp(v->text, "true") && strcasecmp(v->text, "false"))
            return fail(err, errlen, arg, "value '%s' is not true or false (%s is a boolean key)",
                        v->text, e->path);
        break;
    case SK_ENUM: {
        char *plain = xstrdup(v->text);
        size_t n = strlen(plain);
        if (n >= 2 && plain[0] == '"' && plain[n - 1] == '"') {
            memmove(plain, plain + 1, n - 2);
            plain[n - 2] = 0;
        }
        int ok = sk_enum_ok(e, plain);
        free(plain);
        if (!ok) {
            char msg[512];
            snprintf(msg, sizeof msg, "value '%s' is not one of %s (%s)", v->text, e->choices,
                     e->path);
            snprintf(err, errlen, "--vary %s: %s", arg, msg);
            return -1;
        }
        break;
    }
    default: break;
    }
    return 0;
}

static int check_key(const char *arg, const char *key, char *err, size_t errlen) {
    if (!*key) return fail(err, errlen, arg, "expected KEY=VALUES, the key is empty", NULL, NULL);
    for (const char *p = key; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '[' || *p == ']' ||
              *p == '-'))
            return fail(err, errlen, arg, "'%s' is not a scenario key path", key, NULL);
    return 0;
}

int sweep_axis_parse(const char *arg, sweep_axis *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *eq = strchr(arg, '=');
    if (!eq)
        return fail(err, errlen, arg, "expected KEY=VALUES (e.g. training.H=1,10,100)", NULL, NULL);
    size_t klen = (size_t)(eq - arg);
    char *key = xmalloc(klen + 1);
    memcpy(key, arg, klen);
    key[klen] = 0;
    if (check_key(arg, key, err, errlen)) {
        free(key);
        return -1;
    }
    int element;
    const sk_entry *row = schema_row(key, &element);
    if (!row) {
        char norm[256];
        const char *sug = sk_normalize(key, norm, sizeof norm) ? NULL : sk_suggest(norm);
        fail(err, errlen, arg, "unknown scenario key '%s'", key, NULL);
        if (sug) {
            size_t l = strlen(err);
            snprintf(err + l, errlen > l ? errlen - l : 0, " (did you mean %s?)", sug);
        }
        free(key);
        return -1;
    }
    out->key = key;
    out->spec = xstrdup(arg);
    const char *vals = eq + 1;
    size_t cap = 0;
    char **parts = NULL;
    int np = split_list(vals, &parts);
    if (np < 0) {
        fail(err, errlen, arg, "unbalanced brackets or quotes in '%s'", vals, NULL);
        sweep_axis_free(out);
        return -1;
    }
    int rc = 0;
    if (np == 1 && has_top_colon(parts[0]) && strchr(parts[0], ':') != parts[0]) {
        rc = parse_range(arg, parts[0], out, &cap, err, errlen);
    } else {
        for (int i = 0; i < np && !rc; i++) {
            if (!parts[i][0])
                rc = fail(err, errlen, arg, "value %s of the list is empty",
                          i == 0        ? "1"
                          : i == np - 1 ? "at the end"
                                        : "in the middle",
                          NULL);
            else add_value(out, &cap, parts[i]);
        }
    }
    free_parts(parts, np);
    for (size_t i = 0; i < out->n && !rc; i++) {
        rc = check_type(arg, row, element, &out->values[i], err, errlen);
        for (size_t j = 0; j < i && !rc; j++)
            if (sweep_value_eq(&out->values[i], &out->values[j]))
                rc = fail(err, errlen, arg, "value '%s' appears twice (as '%s')",
                          out->values[i].text, out->values[j].text);
    }
    if (rc) {
        sweep_axis_free(out);
        return -1;
    }
    out->numeric = 1;
    for (size_t i = 0; i < out->n; i++) out->numeric &= out->values[i].numeric;
    return 0;
}

int sweep_axes_check(const sweep_axis *ax, size_t n_ax, const char *const *sets, size_t n_sets,
                     char *err, size_t errlen) {
    for (size_t i = 0; i < n_ax; i++) {
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ax[i].key, ax[j].key)) {
                snprintf(err, errlen, "--vary %s: key %s is already varied by --vary %s",
                         ax[i].spec, ax[i].key, ax[j].spec);
                return -1;
            }
        size_t kl = strlen(ax[i].key);
        for (size_t s = 0; s < n_sets; s++)
            if (!strncmp(sets[s], ax[i].key, kl) && sets[s][kl] == '=') {
                snprintf(err, errlen, "--vary %s: key %s is also fixed by --set %s", ax[i].spec,
                         ax[i].key, sets[s]);
                return -1;
            }
    }
    return 0;
}

int sweep_grid_size(const sweep_axis *ax, size_t n_ax, size_t *points, char *err, size_t errlen) {
    size_t n = 1;
    for (size_t i = 0; i < n_ax; i++) {
        if (ax[i].n == 0 || n > SWEEP_MAX_POINTS / ax[i].n) {
            snprintf(err, errlen, "the grid has more than %d points (at --vary %s)",
                     SWEEP_MAX_POINTS, ax[i].spec);
            return -1;
        }
        n *= ax[i].n;
    }
    *points = n;
    return 0;
}

void sweep_grid_point(const sweep_axis *ax, size_t n_ax, size_t index, size_t *vidx) {
    for (size_t i = n_ax; i-- > 0;) {
        vidx[i] = index % ax[i].n;
        index /= ax[i].n;
    }
}

/* A plain decimal integer (digits only, no sign or spaces) up to SWEEP_MAX_POINTS. */
static int shard_number(const char *s, size_t len, long *out) {
    if (len == 0 || len > 9) return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int sweep_shard_parse(const char *arg, int *index, int *count, char *err, size_t errlen) {
    const char *slash = strchr(arg, '/');
    long i, n;
    if (!slash || shard_number(arg, (size_t)(slash - arg), &i) ||
        shard_number(slash + 1, strlen(slash + 1), &n)) {
        snprintf(err, errlen,
                 "--shard %s: expected I/N, two integers (shard I of N, numbered from 0), e.g. 0/4",
                 arg);
        return -1;
    }
    if (n < 1) {
        snprintf(err, errlen, "--shard %s: the number of shards N must be at least 1", arg);
        return -1;
    }
    if (n > SWEEP_MAX_POINTS) {
        snprintf(err, errlen, "--shard %s: more than %d shards", arg, SWEEP_MAX_POINTS);
        return -1;
    }
    if (i >= n) {
        snprintf(err, errlen,
                 "--shard %s: shard %ld does not exist; the shards of %ld are numbered 0 to %ld",
                 arg, i, n, n - 1);
        return -1;
    }
    *index = (int)i;
    *count = (int)n;
    return 0;
}
