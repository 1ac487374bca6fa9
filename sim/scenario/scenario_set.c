/* sim/scenario/scenario_set.c: `--set key.path=value`: parse the path and value, graft the value into the tree. */
#include "sim/scenario/scenario_set.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario_schema.h"
#include "sim/base/util.h"

#define MAX_COMPS 16

typedef struct {
    char name[96];
    int idx; /* -1: no index */
} comp;

static int parse_path(const char *key, comp *comps, int *n) {
    *n = 0;
    const char *p = key;
    if (!*p) return -1;
    while (*p) {
        if (*n == MAX_COMPS) return -1;
        comp *c = &comps[(*n)++];
        size_t len = 0;
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '-') {
            if (len + 1 >= sizeof c->name) return -1;
            c->name[len++] = *p++;
        }
        c->name[len] = '\0';
        if (!len) return -1;
        c->idx = -1;
        if (*p == '[') {
            p++;
            if (!isdigit((unsigned char)*p)) return -1;
            long v = 0;
            while (isdigit((unsigned char)*p)) {
                v = v * 10 + (*p++ - '0');
                if (v > 1000000) return -1;
            }
            if (*p++ != ']') return -1;
            c->idx = (int)v;
        }
        if (*p == '.') {
            p++;
            if (!*p) return -1;
        } else if (*p) {
            return -1;
        }
    }
    return 0;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

/* [a, b, c] without quotes -> array of strings. */
static sn_node *bare_string_list(const char *value, const char *origin) {
    size_t n = strlen(value);
    char *inner = xmalloc(n);
    memcpy(inner, value + 1, n - 2);
    inner[n - 2] = '\0';
    sn_node *arr = sn_new(SN_ARRAY, NULL, origin, 0);
    char *t = trim(inner);
    if (*t) {
        char *save = NULL;
        for (char *tok = strtok_r(t, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            sn_node *s = sn_new(SN_STRING, NULL, origin, 0);
            s->s = xstrdup(trim(tok));
            sn_add(arr, s);
        }
    }
    free(inner);
    return arr;
}

static sk_type element_type(sk_type t) {
    switch (t) {
    case SK_INT_LIST: return SK_INT;
    case SK_FLOAT_LIST: return SK_FLOAT;
    case SK_STRING_LIST: return SK_STRING;
    case SK_GROUP_LIST: return SK_GROUP;
    case SK_FLOAT_MATRIX: return SK_FLOAT_LIST;
    default: return t;
    }
}

static int is_list_type(sk_type t) {
    return t == SK_INT_LIST || t == SK_FLOAT_LIST || t == SK_STRING_LIST || t == SK_GROUP_LIST ||
           t == SK_FLOAT_MATRIX;
}

/* Build the value node for type t. NULL with msg filled on a parse error. */
static sn_node *make_value(sk_type t, const char *value, const char *origin, char *msg,
                           size_t len) {
    if ((t == SK_STRING || t == SK_ENUM || t == SK_PATH) && value[0] != '"') {
        sn_node *v = sn_new(SN_STRING, NULL, origin, 0);
        v->s = xstrdup(value);
        return v;
    }
    size_t n = strlen(value);
    if (t == SK_STRING_LIST && n >= 2 && value[0] == '[' && value[n - 1] == ']' &&
        !strchr(value, '"'))
        return bare_string_list(value, origin);
    sn_node *v = sn_parse_value(value, origin, msg, len);
    if (!v && (t == SK_INT || t == SK_FLOAT || t == SK_BOOL) && !strstr(msg, "32 bits"))
        snprintf(msg, len, "expected %s, got '%s'",
                 t == SK_INT     ? "an integer"
                 : t == SK_FLOAT ? "a number"
                                 : "true or false",
                 value);
    return v;
}

int sc_apply_set(sn_node *root, const char *arg, char *err, size_t errlen) {
    const char *eq = strchr(arg, '=');
    if (!eq) {
        snprintf(err, errlen, "--set %s: expected key.path=value", arg);
        return -1;
    }
    char *keybuf = xmalloc((size_t)(eq - arg) + 1);
    memcpy(keybuf, arg, (size_t)(eq - arg));
    keybuf[eq - arg] = '\0';
    char *valbuf = xstrdup(eq + 1);
    char *key = trim(keybuf), *value = trim(valbuf);
    size_t olen = strlen(arg) + 8;
    char *origin = xmalloc(olen);
    snprintf(origin, olen, "--set %s", arg);
    int rc = -1;
    comp comps[MAX_COMPS];
    int n = 0;
    char spath[2048] = "";
    sn_node *v = NULL;
    if (parse_path(key, comps, &n)) {
        snprintf(err, errlen,
                 "%s: '%s' is not a key path (like training.H or swarm.device_mix[1].fraction)",
                 origin, key);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        size_t l = strlen(spath);
        snprintf(spath + l, sizeof spath - l, "%s%s%s", i ? "." : "", comps[i].name,
                 comps[i].idx >= 0 ? "[]" : "");
    }
    if (!strcmp(spath, "base")) {
        snprintf(err, errlen, "%s: base: the base file cannot be overridden (write a new scenario)",
                 origin);
        goto out;
    }
    const sk_entry *e = sk_find(spath);
    int elem = 0;
    if (!e && comps[n - 1].idx >= 0) {
        char list_path[2048];
        snprintf(list_path, sizeof list_path, "%.*s", (int)strlen(spath) - 2, spath);
        const sk_entry *le = sk_find(list_path);
        if (le && is_list_type(le->type)) {
            e = le;
            elem = 1;
        }
    }
    if (!e || (comps[n - 1].idx >= 0 && !elem)) {
        const char *sug = sk_suggest(spath);
        if (sug)
            snprintf(err, errlen, "%s: %s: unknown key (did you mean '%s'?)", origin, key, sug);
        else
            snprintf(err, errlen, "%s: %s: unknown key (`orionsim check --keys` lists them all)",
                     origin, key);
        goto out;
    }
    char msg[512];
    v = make_value(elem ? element_type(e->type) : e->type, value, origin, msg, sizeof msg);
    if (!v) {
        snprintf(err, errlen, "%s: %s: %s", origin, key, msg);
        goto out;
    }
    /* walk to the parent of the last component, creating groups on the way */
    sn_node *cur = root;
    char prefix[2048] = "";
    for (int i = 0; i < n - 1; i++) {
        size_t l = strlen(prefix);
        snprintf(prefix + l, sizeof prefix - l, "%s%s", i ? "." : "", comps[i].name);
        sn_node *child = sn_member(cur, comps[i].name);
        if (!child) {
            if (comps[i].idx >= 0) {
                snprintf(err, errlen, "%s: %s: not in the scenario, so [%d] cannot be set", origin,
                         prefix, comps[i].idx);
                goto out;
            }
            child = sn_new(SN_GROUP, comps[i].name, origin, 0);
            sn_add(cur, child);
        }
        if (comps[i].idx >= 0) {
            if ((child->type != SN_LIST && child->type != SN_ARRAY) ||
                comps[i].idx >= child->n_kids) {
                snprintf(err, errlen, "%s: %s: has %d element%s, no [%d]", origin, prefix,
                         child->n_kids, child->n_kids == 1 ? "" : "s", comps[i].idx);
                goto out;
            }
            child = child->kids[comps[i].idx];
            l = strlen(prefix);
            snprintf(prefix + l, sizeof prefix - l, "[%d]", comps[i].idx);
        }
        if (child->type != SN_GROUP) {
            snprintf(err, errlen, "%s: %s: is %s in the scenario, not a group", origin, prefix,
                     sn_type_desc(child->type));
            goto out;
        }
        cur = child;
    }
    const comp *last = &comps[n - 1];
    if (elem) {
        sn_node *list = sn_member(cur, last->name);
        if (!list) {
            snprintf(err, errlen, "%s: %s: %s is not in the scenario, so [%d] cannot be set",
                     origin, key, last->name, last->idx);
            goto out;
        }
        if ((list->type != SN_LIST && list->type != SN_ARRAY) || last->idx >= list->n_kids) {
            snprintf(err, errlen, "%s: %s: the list has %d element%s, no [%d]", origin, key,
                     list->n_kids, list->n_kids == 1 ? "" : "s", last->idx);
            goto out;
        }
        free(v->name);
        v->name = NULL;
        sn_replace(list, last->idx, v);
    } else {
        free(v->name);
        v->name = xstrdup(last->name);
        /* setting one of a set of alternatives drops the others */
        char group[2048];
        snprintf(group, sizeof group, "%.*s", (int)(strlen(spath) - strlen(last->name) - (n > 1)),
                 spath);
        const sk_alternative *alt = sk_alternative_of(group, last->name);
        for (int k = 0; alt && alt->keys[k]; k++)
            if (strcmp(alt->keys[k], last->name)) sn_remove(cur, alt->keys[k]);
        /* a key that only applies under another value of this one goes too */
        for (int k = 0; k < sk_dependents_len; k++) {
            const sk_dependent *d = &sk_dependents[k];
            if (!strcmp(d->group, group) && !strcmp(d->key, last->name) &&
                !(v->type == SN_STRING && !strcmp(v->s, d->value)))
                sn_remove(cur, d->dependent);
        }
        int j = sn_member_index(cur, last->name);
        if (j >= 0) sn_replace(cur, j, v);
        else sn_add(cur, v);
    }
    v = NULL;
    rc = 0;
out:
    sn_free(v);
    free(keybuf);
    free(valbuf);
    free(origin);
    return rc;
}
