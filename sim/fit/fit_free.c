/* sim/fit/fit_free.c: the free keys of a fit (KEY=LO:HI[:log], tied keys) and its
 * space-filling design (a scrambled Latin hypercube); see fit.h. */
#include "sim/fit/fit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel/rng.h"
#include "sim/base/util.h"
#include "sim/scenario/scenario_schema.h"

/* ---- free keys ------------------------------------------------------------------------ */

int fit_free_parse(const char *arg, fit_free *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        snprintf(err, errlen, "--free %s: expected KEY=LO:HI[:log]", arg);
        return -1;
    }
    out->key = xmalloc((size_t)(eq - arg) + 1);
    memcpy(out->key, arg, (size_t)(eq - arg));
    out->key[eq - arg] = 0;
    char *list = xstrdup(out->key);
    int kind = -1;
    for (char *p = list, *tok; (tok = strsep(&p, ","));) {
        char norm[256];
        const sk_entry *e = !tok[0] || sk_normalize(tok, norm, sizeof norm) ? NULL : sk_find(norm);
        if (!e) {
            const char *sug =
                !tok[0] || sk_normalize(tok, norm, sizeof norm) ? NULL : sk_suggest(norm);
            snprintf(err, errlen, "--free %s: unknown scenario key '%s'%s%s%s", arg, tok,
                     sug ? " (did you mean " : "", sug ? sug : "", sug ? "?)" : "");
        } else if (e->type != SK_INT && e->type != SK_FLOAT && e->type != SK_BOOL) {
            snprintf(err, errlen, "--free %s: %s is not a number or boolean key (%s)", arg, tok,
                     sk_type_name(e->type));
            e = NULL;
        } else if (kind >= 0 && (kind == 2) != (e->type == SK_BOOL)) {
            snprintf(err, errlen, "--free %s: %s: tied keys must all be booleans or none", arg,
                     tok);
            e = NULL;
        } else if (kind >= 0 && kind != 2 && kind != (e->type == SK_INT)) {
            snprintf(err, errlen, "--free %s: %s: tied keys must all be integers or all floats",
                     arg, tok);
            e = NULL;
        }
        if (!e) {
            free(list);
            fit_free_clear(out);
            return -1;
        }
        kind = e->type == SK_BOOL ? 2 : e->type == SK_INT;
        out->keys = xrealloc(out->keys, sizeof *out->keys * (out->n_keys + 1));
        out->keys[out->n_keys++] = xstrdup(tok);
    }
    free(list);
    out->integer = kind >= 1;
    out->boolean = kind == 2;
    char *spec = xstrdup(eq + 1);
    char *parts[4] = {0};
    int np = 0;
    for (char *p = spec, *tok; np < 4 && (tok = strsep(&p, ":"));) parts[np++] = tok;
    int bad = np < 2 || np > 3 || sim_parse_double(parts[0], &out->lo) ||
              sim_parse_double(parts[1], &out->hi) || !isfinite(out->lo) || !isfinite(out->hi);
    if (!bad && np == 3) {
        if (!strcmp(parts[2], "log")) out->log = 1;
        else bad = 1;
    }
    free(spec);
    if (bad) {
        snprintf(err, errlen, "--free %s: %s: expected LO:HI or LO:HI:log with numbers", arg,
                 out->key);
        fit_free_clear(out);
        return -1;
    }
    if (out->boolean && (out->lo != 0 || out->hi != 1 || out->log)) {
        snprintf(err, errlen, "--free %s: %s is a boolean key: its range is 0:1 (false, true)", arg,
                 out->key);
        fit_free_clear(out);
        return -1;
    }
    if (!(out->hi > out->lo)) {
        snprintf(err, errlen, "--free %s: %s: the range is %s (LO %g, HI %g)", arg, out->key,
                 out->hi == out->lo ? "empty" : "inverted", out->lo, out->hi);
        fit_free_clear(out);
        return -1;
    }
    if (out->log && !(out->lo > 0)) {
        snprintf(err, errlen, "--free %s: %s: a log range needs LO > 0", arg, out->key);
        fit_free_clear(out);
        return -1;
    }
    return 0;
}

void fit_free_clear(fit_free *f) {
    free(f->key);
    for (size_t i = 0; i < f->n_keys; i++) free(f->keys[i]);
    free(f->keys);
    memset(f, 0, sizeof *f);
}

double fit_free_value(const fit_free *f, double x, char *text, size_t n) {
    if (x < 0) x = 0;
    if (x > 1) x = 1;
    double v =
        f->log ? exp(log(f->lo) + x * (log(f->hi) - log(f->lo))) : f->lo + x * (f->hi - f->lo);
    if (v < f->lo) v = f->lo;
    if (v > f->hi) v = f->hi;
    if (f->boolean) {
        v = x >= 0.5 ? 1 : 0;
        snprintf(text, n, "%s", v ? "true" : "false");
    } else if (f->integer) {
        v = floor(v + 0.5);
        snprintf(text, n, "%.0f", v);
    } else {
        snprintf(text, n, "%.6g", v);
        v = strtod(text, NULL);
    }
    return v;
}

/* ---- design --------------------------------------------------------------------------- */

void fit_design_lhs(size_t n, size_t d, uint64_t seed, double *x) {
    nm_rng rng;
    nm_rng_init(&rng, seed, nm_rng_stream_id(0x66697400u /* "fit" */, 1));
    size_t *perm = xcalloc(n ? n : 1, sizeof *perm);
    for (size_t k = 0; k < d; k++) {
        for (size_t i = 0; i < n; i++) perm[i] = i;
        for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)nm_rng_below(&rng, i);
            size_t t = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = t;
        }
        for (size_t i = 0; i < n; i++)
            x[i * d + k] = ((double)perm[i] + nm_rng_uniform(&rng)) / (double)n;
    }
    free(perm);
}
