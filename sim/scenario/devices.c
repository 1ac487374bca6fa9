/* sim/scenario/devices.c: the device table: load, find, suggest, free. */
#include "sim/scenario/devices.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario_text.h"
#include "sim/scenario/scenario_tree.h"
#include "sim/base/util.h"

static const char *const known_keys[] = {"name",          "bf16_tflops",    "memory_gb",
                                         "memory_bw_gbs", "price_per_hour", "price_source",
                                         "source"};
#define N_KNOWN ((int)(sizeof known_keys / sizeof known_keys[0]))

static int fail_at(char *err, size_t errlen, const sn_node *n, const char *key, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));
static int fail_at(char *err, size_t errlen, const sn_node *n, const char *key, const char *fmt,
                   ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n->line > 0) snprintf(err, errlen, "%s:%d: %s: %s", n->file, n->line, key, msg);
    else snprintf(err, errlen, "%s: %s: %s", n->file, key, msg);
    return EXIT_INPUT;
}

/* A positive finite number member. */
static int number(const sn_node *row, const char *name, const char *ip, int required, double *out,
                  char *err, size_t errlen) {
    sn_node *n = sn_member(row, name);
    char key[160];
    snprintf(key, sizeof key, "%s.%s", ip, name);
    if (!n) {
        if (!required) return 1;
        return fail_at(err, errlen, row, key, "missing required key");
    }
    if (n->type != SN_INT && n->type != SN_FLOAT)
        return fail_at(err, errlen, n, key, "expected a number, got %s", sn_type_desc(n->type));
    double v = n->type == SN_INT ? (double)n->i : n->f;
    if (!isfinite(v) || v < 0 || (v == 0 && strcmp(name, "price_per_hour")))
        return fail_at(err, errlen, n, key, "%g must be positive", v);
    *out = v;
    return 0;
}

static int string(const sn_node *row, const char *name, const char *ip, int required, char **out,
                  char *err, size_t errlen) {
    sn_node *n = sn_member(row, name);
    char key[160];
    snprintf(key, sizeof key, "%s.%s", ip, name);
    if (!n) {
        if (!required) return 1;
        return fail_at(err, errlen, row, key, "missing required key");
    }
    if (n->type != SN_STRING || !n->s[0])
        return fail_at(err, errlen, n, key, "expected a non-empty string, got %s",
                       n->type == SN_STRING ? "an empty one" : sn_type_desc(n->type));
    *out = xstrdup(n->s);
    return 0;
}

static int read_row(const sn_node *row, int i, sim_device *d, char *err, size_t errlen) {
    char ip[64];
    snprintf(ip, sizeof ip, "devices[%d]", i);
    if (row->type != SN_GROUP)
        return fail_at(err, errlen, row, ip, "expected a group { ... }, got %s",
                       sn_type_desc(row->type));
    for (int k = 0; k < row->n_kids; k++) {
        const sn_node *m = row->kids[k];
        int ok = 0;
        for (int j = 0; j < N_KNOWN; j++) ok |= !strcmp(m->name, known_keys[j]);
        if (!ok) {
            char key[160];
            snprintf(key, sizeof key, "%s.%s", ip, m->name);
            const char *best = NULL;
            int best_d = 3;
            for (int j = 0; j < N_KNOWN; j++) {
                int dd = st_edit_distance(m->name, known_keys[j]);
                if (dd < best_d) {
                    best_d = dd;
                    best = known_keys[j];
                }
            }
            if (best) return fail_at(err, errlen, m, key, "unknown key (did you mean '%s'?)", best);
            return fail_at(err, errlen, m, key, "unknown key");
        }
    }
    int rc;
    double tflops = 0, gb = 0, bw = 0, price = NAN;
    if ((rc = string(row, "name", ip, 1, &d->name, err, errlen))) return rc;
    for (const char *p = d->name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return fail_at(err, errlen, sn_member(row, "name"), ip,
                           "name '%s': only letters, digits, '-', '_' and '.'", d->name);
    if ((rc = number(row, "bf16_tflops", ip, 1, &tflops, err, errlen))) return rc;
    if ((rc = number(row, "memory_gb", ip, 1, &gb, err, errlen))) return rc;
    if ((rc = number(row, "memory_bw_gbs", ip, 1, &bw, err, errlen))) return rc;
    if ((rc = string(row, "source", ip, 1, &d->source, err, errlen))) return rc;
    rc = number(row, "price_per_hour", ip, 0, &price, err, errlen);
    if (rc > 1) return rc;
    int has_price = rc == 0;
    rc = string(row, "price_source", ip, 0, &d->price_source, err, errlen);
    if (rc > 1) return rc;
    int has_price_source = rc == 0;
    if (has_price != has_price_source) {
        char key[160];
        snprintf(key, sizeof key, "%s.%s", ip, has_price ? "price_source" : "price_per_hour");
        return fail_at(err, errlen, row, key, "%s",
                       has_price ? "required with price_per_hour (where the price is published)"
                                 : "required with price_source");
    }
    d->bf16_flops = tflops * 1e12;
    d->memory_bytes = gb * 1e9;
    d->memory_bw_bytes_per_s = bw * 1e9;
    d->price_per_hour = has_price ? price : NAN;
    return 0;
}

int sim_devices_load(const char *path, sim_device_table *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    sn_node *root = sn_parse_file(path, NULL, err, errlen);
    if (!root) return EXIT_INPUT;
    int rc = 0;
    out->path = xstrdup(path);
    for (int k = 0; k < root->n_kids && !rc; k++)
        if (strcmp(root->kids[k]->name, "devices"))
            rc = fail_at(err, errlen, root->kids[k], root->kids[k]->name,
                         "unknown key (the table holds only 'devices')");
    sn_node *list = sn_member(root, "devices");
    if (!rc && !list) {
        snprintf(err, errlen, "%s: devices: missing (a list of device groups)", path);
        rc = EXIT_INPUT;
    }
    if (!rc && list->type != SN_LIST)
        rc = fail_at(err, errlen, list, "devices", "expected a list ( { ... }, ... ), got %s",
                     sn_type_desc(list->type));
    if (!rc && list->n_kids == 0) rc = fail_at(err, errlen, list, "devices", "empty table");
    if (!rc) {
        out->dev = xcalloc((size_t)list->n_kids, sizeof *out->dev);
        for (int i = 0; i < list->n_kids && !rc; i++) {
            out->n = i + 1;
            rc = read_row(list->kids[i], i, &out->dev[i], err, errlen);
            for (int j = 0; j < i && !rc; j++)
                if (!strcmp(out->dev[j].name, out->dev[i].name)) {
                    char key[64];
                    snprintf(key, sizeof key, "devices[%d].name", i);
                    rc = fail_at(err, errlen, sn_member(list->kids[i], "name"), key,
                                 "device '%s' is listed twice (also devices[%d])", out->dev[i].name,
                                 j);
                }
        }
    }
    sn_free(root);
    if (rc) {
        sim_devices_free(out);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

int sim_devices_find(const sim_device_table *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->dev[i].name, name)) return i;
    return -1;
}

const char *sim_devices_suggest(const sim_device_table *t, const char *name) {
    const char *best = NULL;
    int best_d = 4;
    for (int i = 0; i < t->n; i++) {
        int d = st_edit_distance(t->dev[i].name, name);
        /* a prefix counts as close: "A100" -> "A100-80GB" */
        if (!strncmp(t->dev[i].name, name, strlen(name)) && strlen(name) >= 3) d = 1;
        if (d < best_d) {
            best_d = d;
            best = t->dev[i].name;
        }
    }
    return best;
}

void sim_devices_free(sim_device_table *t) {
    if (!t) return;
    for (int i = 0; i < t->n; i++) {
        free(t->dev[i].name);
        free(t->dev[i].source);
        free(t->dev[i].price_source);
    }
    free(t->dev);
    free(t->path);
    memset(t, 0, sizeof *t);
}
