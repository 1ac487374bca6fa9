/* sim/flows/flows_file.c: loading and checking a flows file (format in flows_file.h). */
#include "sim/flows/flows_file.h"

#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel/net.h"
#include "sim/base/fsutil.h"
#include "sim/base/util.h"

#define MAX_LATENCY_MS 1e7 /* 2.8 hours: anything longer is not a network latency */
#define MAX_START_S 1e9    /* keeps every time well inside int64 nanoseconds */
#define MIN_MBPS 1e-6      /* 1 bit/s */
#define MAX_MBPS 1e7       /* 10 Tbit/s: no access link or shared link is faster */

typedef struct {
    const char *path;
    FILE *err;
} ctx;

/* "PATH:LINE: key: message"; returns EXIT_INPUT. A setting without a line (the root)
 * is reported at line 1. */
static int fail(const ctx *c, const config_setting_t *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const ctx *c, const config_setting_t *at, const char *key, const char *fmt, ...) {
    int line = at ? (int)config_setting_source_line(at) : 0;
    fprintf(c->err, "%s:%d: %s: ", c->path, line > 0 ? line : 1, key);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->err, fmt, ap);
    va_end(ap);
    fputc('\n', c->err);
    return EXIT_INPUT;
}

static const char *type_name(int type) {
    switch (type) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    }
    return "nothing";
}

static int is_sequence(const config_setting_t *s) {
    return config_setting_type(s) == CONFIG_TYPE_LIST ||
           config_setting_type(s) == CONFIG_TYPE_ARRAY;
}

/* ---- integer literals libconfig 1.5 would silently wrap ------------------------------ */

/* libconfig 1.5 stores an integer literal without the L suffix in a 32-bit int, wrapping
 * larger values without a word. Scan the text (skipping strings and comments) and report
 * the first such literal. Returns 0 if none. */
static int check_int_literals(const ctx *c, const char *text) {
    int line = 1;
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            line++;
            p++;
        } else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
            while (*p && *p != '\n') p++;
        } else if (p[0] == '/' && p[1] == '*') {
            for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
                if (*p == '\n') line++;
            if (*p) p += 2;
        } else if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) p++;
                if (*p == '\n') line++;
            }
            if (*p) p++;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '*' || *p == '_') {
            while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '*' || *p == '_' || *p == '-')
                p++;
        } else if (*p >= '0' && *p <= '9') {
            const char *start = p;
            int hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
            if (hex) p += 2;
            while ((*p >= '0' && *p <= '9') ||
                   (hex && ((*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'))))
                p++;
            if (!hex && (*p == '.' || *p == 'e' || *p == 'E')) { /* a float: skip it */
                while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' ||
                       *p == '+' || *p == '-')
                    p++;
                continue;
            }
            if (*p == 'L') {
                p++;
                continue;
            }
            errno = 0;
            unsigned long long v = strtoull(start, NULL, hex ? 16 : 10);
            if (errno == ERANGE || v > 2147483647ULL) {
                fprintf(c->err,
                        "%s:%d: integer %.*s does not fit in 32 bits: write it as %.*sL "
                        "(a 64-bit integer)\n",
                        c->path, line, (int)(p - start), start, (int)(p - start), start);
                return EXIT_INPUT;
            }
        } else {
            p++;
        }
    }
    return 0;
}

static char *read_text(const ctx *c) {
    char why[768];
    char *buf = sim_file_read(c->path, SIM_FILE_MAX_TEXT, NULL, why, sizeof why);
    if (!buf) {
        fprintf(c->err, "%s\n", why);
        return NULL;
    }
    /* libconfig opens @include files relative to the working directory here */
    if (sim_file_check_includes(buf, c->path, NULL, why, sizeof why)) {
        fprintf(c->err, "%s\n", why);
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- typed access ------------------------------------------------------------------- */

/* Every member of group g must be one of `allowed` (NULL-terminated). */
static int check_keys(const ctx *c, const config_setting_t *g, const char *prefix,
                      const char *const *allowed) {
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = !strcmp(*a, name);
        if (!ok) {
            char key[256];
            snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", name);
            return fail(c, m, key, "unknown key");
        }
    }
    return 0;
}

/* Member `name` of group g: *out = the setting or NULL if absent (then an error if
 * required). `key` receives its path for messages. */
static int member(const ctx *c, const config_setting_t *g, const char *prefix, const char *name,
                  int required, const config_setting_t **out, char *key, size_t keylen) {
    snprintf(key, keylen, "%s%s%s", prefix, *prefix ? "." : "", name);
    *out = config_setting_get_member(g, name);
    if (!*out && required) return fail(c, g, key, "missing (required)");
    return 0;
}

static int number_of(const ctx *c, const config_setting_t *s, const char *key, double *out) {
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: *out = config_setting_get_int(s); break;
    case CONFIG_TYPE_INT64: *out = (double)config_setting_get_int64(s); break;
    case CONFIG_TYPE_FLOAT: *out = config_setting_get_float(s); break;
    default: return fail(c, s, key, "must be a number, not %s", type_name(config_setting_type(s)));
    }
    if (!isfinite(*out)) return fail(c, s, key, "must be finite");
    return 0;
}

/* Number member; `lo_open`: the value must be > lo, else >= lo; and <= hi. */
static int get_number(const ctx *c, const config_setting_t *g, const char *prefix, const char *name,
                      int required, double lo, int lo_open, double hi, double *out) {
    char key[256];
    const config_setting_t *s;
    int rc = member(c, g, prefix, name, required, &s, key, sizeof key);
    if (rc || !s) return rc;
    if ((rc = number_of(c, s, key, out))) return rc;
    if (lo_open ? !(*out > lo) : !(*out >= lo))
        return fail(c, s, key, "must be %s %g (got %g)", lo_open ? ">" : ">=", lo, *out);
    if (*out > hi) return fail(c, s, key, "must be <= %g (got %g)", hi, *out);
    return 0;
}

/* A bandwidth member in Mbit/s: in [1 bit/s, 10 Tbit/s], so bit/s stay finite and a
 * transfer ends in finite time. */
static int get_mbps(const ctx *c, const config_setting_t *g, const char *prefix, const char *name,
                    double *out) {
    int rc = get_number(c, g, prefix, name, 1, 0, 1, INFINITY, out);
    if (rc || (*out >= MIN_MBPS && *out <= MAX_MBPS)) return rc;
    char key[256];
    snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", name);
    return fail(c, config_setting_get_member(g, name), key,
                "%g Mbit/s is out of range (must be in [%g, %g] Mbit/s)", *out, MIN_MBPS, MAX_MBPS);
}

static int get_string(const ctx *c, const config_setting_t *g, const char *prefix, const char *name,
                      const config_setting_t **at, const char **out) {
    char key[256];
    int rc = member(c, g, prefix, name, 1, at, key, sizeof key);
    if (rc) return rc;
    if (config_setting_type(*at) != CONFIG_TYPE_STRING)
        return fail(c, *at, key, "must be a string, not %s", type_name(config_setting_type(*at)));
    *out = config_setting_get_string(*at);
    return 0;
}

/* A name that can go into a CSV cell unquoted: printable, no space, comma or quote. */
static int plain_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == ',' || *s == '"') return 0;
    return 1;
}

static int find_name(char *const *names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}

static int find_node(const flows_spec *sp, const char *name) {
    for (int i = 0; i < sp->n_nodes; i++)
        if (!strcmp(sp->nodes[i].name, name)) return i;
    return -1;
}

/* Node named by string member `name` of g. */
static int get_node_ref(const ctx *c, const flows_spec *sp, const config_setting_t *g,
                        const char *prefix, const char *name, int *out) {
    const config_setting_t *at;
    const char *s;
    int rc = get_string(c, g, prefix, name, &at, &s);
    if (rc) return rc;
    *out = find_node(sp, s);
    if (*out < 0) {
        char key[128];
        snprintf(key, sizeof key, "%s.%s", prefix, name);
        return fail(c, at, key, "unknown node \"%s\"", s);
    }
    return 0;
}

/* Root-level sequence `name`: *out NULL if absent and optional. */
static int get_sequence(const ctx *c, const config_setting_t *root, const char *name, int required,
                        const char *what, const config_setting_t **out) {
    char key[64];
    int rc = member(c, root, "", name, required, out, key, sizeof key);
    if (rc || !*out) return rc;
    if (!is_sequence(*out))
        return fail(c, *out, name, "must be a list of %s, not %s", what,
                    type_name(config_setting_type(*out)));
    return 0;
}

/* ---- sections ----------------------------------------------------------------------- */

static int load_regions(const ctx *c, const config_setting_t *root, flows_spec *sp) {
    const config_setting_t *list;
    int rc = get_sequence(c, root, "regions", 1, "strings", &list);
    if (rc) return rc;
    int n = config_setting_length(list);
    if (n == 0) return fail(c, list, "regions", "must name at least one region");
    sp->regions = xcalloc((size_t)n, sizeof *sp->regions);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        char key[64];
        snprintf(key, sizeof key, "regions[%d]", i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail(c, e, key, "must be a string, not %s", type_name(config_setting_type(e)));
        const char *name = config_setting_get_string(e);
        if (!plain_name(name))
            return fail(c, e, key,
                        "\"%s\": names must be non-empty, without spaces, commas or quotes", name);
        if (find_name(sp->regions, sp->n_regions, name) >= 0)
            return fail(c, e, key, "duplicate region \"%s\"", name);
        sp->regions[sp->n_regions++] = xstrdup(name);
    }
    return 0;
}

static int load_latency(const ctx *c, const config_setting_t *root, flows_spec *sp) {
    const config_setting_t *m;
    int rc = get_sequence(c, root, "latency_ms", 1, "rows", &m);
    if (rc) return rc;
    int n = sp->n_regions;
    if (config_setting_length(m) != n)
        return fail(c, m, "latency_ms", "must have %d rows (one per region), has %d", n,
                    config_setting_length(m));
    sp->latency = xcalloc((size_t)n * (size_t)n, sizeof *sp->latency);
    for (int i = 0; i < n; i++) {
        const config_setting_t *row = config_setting_get_elem(m, (unsigned)i);
        char key[64];
        snprintf(key, sizeof key, "latency_ms[%d]", i);
        if (!is_sequence(row))
            return fail(c, row, key, "must be a list of %d numbers, not %s", n,
                        type_name(config_setting_type(row)));
        if (config_setting_length(row) != n)
            return fail(c, row, key, "must have %d entries (the matrix is square), has %d", n,
                        config_setting_length(row));
        for (int j = 0; j < n; j++) {
            const config_setting_t *e = config_setting_get_elem(row, (unsigned)j);
            snprintf(key, sizeof key, "latency_ms[%d][%d]", i, j);
            double ms;
            if ((rc = number_of(c, e, key, &ms))) return rc;
            if (ms < 0 || ms > MAX_LATENCY_MS)
                return fail(c, e, key, "latency %g ms is out of [0, %g]", ms, MAX_LATENCY_MS);
            sp->latency[i * n + j] = (nm_time)llround(ms * 1e6);
        }
    }
    return 0;
}

static int load_nodes(const ctx *c, const config_setting_t *root, flows_spec *sp) {
    static const char *const keys[] = {"name", "region", "up_mbps", "down_mbps", NULL};
    const config_setting_t *list;
    int rc = get_sequence(c, root, "nodes", 1, "groups", &list);
    if (rc) return rc;
    int n = config_setting_length(list);
    if (n == 0) return fail(c, list, "nodes", "must list at least one node");
    sp->nodes = xcalloc((size_t)n, sizeof *sp->nodes);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i), *at;
        char prefix[64], key[96];
        snprintf(prefix, sizeof prefix, "nodes[%d]", i);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP)
            return fail(c, g, prefix, "must be a group { name = ...; ... }, not %s",
                        type_name(config_setting_type(g)));
        if ((rc = check_keys(c, g, prefix, keys))) return rc;
        flows_node *nd = &sp->nodes[i];
        const char *name, *region;
        if ((rc = get_string(c, g, prefix, "name", &at, &name))) return rc;
        snprintf(key, sizeof key, "%s.name", prefix);
        if (!plain_name(name))
            return fail(c, at, key,
                        "\"%s\": names must be non-empty, without spaces, commas or quotes", name);
        if (find_node(sp, name) >= 0) return fail(c, at, key, "duplicate node name \"%s\"", name);
        if ((rc = get_string(c, g, prefix, "region", &at, &region))) return rc;
        nd->region = find_name(sp->regions, sp->n_regions, region);
        snprintf(key, sizeof key, "%s.region", prefix);
        if (nd->region < 0) return fail(c, at, key, "unknown region \"%s\"", region);
        if ((rc = get_mbps(c, g, prefix, "up_mbps", &nd->up_bps))) return rc;
        if ((rc = get_mbps(c, g, prefix, "down_mbps", &nd->down_bps))) return rc;
        nd->up_bps *= 1e6;
        nd->down_bps *= 1e6;
        nd->name = xstrdup(name);
        sp->n_nodes++;
    }
    return 0;
}

/* nodes_out / nodes_in of links[i]: a list of node names, each at most once. */
static int load_link_nodes(const ctx *c, const flows_spec *sp, const config_setting_t *g,
                           const char *prefix, const char *name, int **out, int *n_out) {
    char key[96];
    const config_setting_t *list;
    int rc = member(c, g, prefix, name, 0, &list, key, sizeof key);
    if (rc || !list) return rc;
    if (!is_sequence(list))
        return fail(c, list, key, "must be a list of node names, not %s",
                    type_name(config_setting_type(list)));
    int n = config_setting_length(list);
    *out = xcalloc((size_t)n, sizeof **out);
    for (int j = 0; j < n; j++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)j);
        char ekey[128];
        snprintf(ekey, sizeof ekey, "%s[%d]", key, j);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail(c, e, ekey, "must be a node name, not %s",
                        type_name(config_setting_type(e)));
        const char *s = config_setting_get_string(e);
        int node = find_node(sp, s);
        if (node < 0) return fail(c, e, ekey, "unknown node \"%s\"", s);
        for (int k = 0; k < *n_out; k++)
            if ((*out)[k] == node) return fail(c, e, ekey, "node \"%s\" listed twice", s);
        (*out)[(*n_out)++] = node;
    }
    return 0;
}

static int load_links(const ctx *c, const config_setting_t *root, flows_spec *sp) {
    static const char *const keys[] = {"name", "mbps", "nodes_out", "nodes_in", NULL};
    const config_setting_t *list;
    int rc = get_sequence(c, root, "links", 0, "groups", &list);
    if (rc || !list) return rc;
    int n = config_setting_length(list);
    sp->links = xcalloc((size_t)n, sizeof *sp->links);
    int *n_out = xcalloc((size_t)sp->n_nodes, sizeof *n_out);
    int *n_in = xcalloc((size_t)sp->n_nodes, sizeof *n_in);
    for (int i = 0; i < n && !rc; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i), *at;
        char prefix[64], key[96];
        snprintf(prefix, sizeof prefix, "links[%d]", i);
        flows_link *lk = &sp->links[i];
        sp->n_links++;
        const char *name;
        if (config_setting_type(g) != CONFIG_TYPE_GROUP)
            rc = fail(c, g, prefix, "must be a group { name = ...; ... }, not %s",
                      type_name(config_setting_type(g)));
        else if (!(rc = check_keys(c, g, prefix, keys)) &&
                 !(rc = get_string(c, g, prefix, "name", &at, &name))) {
            snprintf(key, sizeof key, "%s.name", prefix);
            for (int k = 0; k < i && !rc; k++)
                if (!strcmp(sp->links[k].name, name))
                    rc = fail(c, at, key, "duplicate link name \"%s\"", name);
            lk->name = xstrdup(name);
        }
        if (!rc) rc = get_mbps(c, g, prefix, "mbps", &lk->bps);
        lk->bps *= 1e6;
        if (!rc) rc = load_link_nodes(c, sp, g, prefix, "nodes_out", &lk->out, &lk->n_out);
        if (!rc) rc = load_link_nodes(c, sp, g, prefix, "nodes_in", &lk->in, &lk->n_in);
        for (int k = 0; k < lk->n_out && !rc; k++)
            if (++n_out[lk->out[k]] > NM_MAX_SHARED_PER_DIR)
                rc = fail(c, g, prefix, "node \"%s\" is in nodes_out of more than %d links",
                          sp->nodes[lk->out[k]].name, NM_MAX_SHARED_PER_DIR);
        for (int k = 0; k < lk->n_in && !rc; k++)
            if (++n_in[lk->in[k]] > NM_MAX_SHARED_PER_DIR)
                rc = fail(c, g, prefix, "node \"%s\" is in nodes_in of more than %d links",
                          sp->nodes[lk->in[k]].name, NM_MAX_SHARED_PER_DIR);
    }
    free(n_out);
    free(n_in);
    return rc;
}

static int load_pairs(const ctx *c, const config_setting_t *root, flows_spec *sp) {
    static const char *const keys[] = {"a", "b", "ms", NULL};
    const config_setting_t *list;
    int rc = get_sequence(c, root, "pair_latency_ms", 0, "groups", &list);
    if (rc || !list) return rc;
    int n = config_setting_length(list);
    sp->pairs = xcalloc((size_t)n, sizeof *sp->pairs);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "pair_latency_ms[%d]", i);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP)
            return fail(c, g, prefix, "must be a group { a = ...; b = ...; ms = ...; }, not %s",
                        type_name(config_setting_type(g)));
        flows_pair *pr = &sp->pairs[i];
        double ms;
        if ((rc = check_keys(c, g, prefix, keys)) ||
            (rc = get_node_ref(c, sp, g, prefix, "a", &pr->a)) ||
            (rc = get_node_ref(c, sp, g, prefix, "b", &pr->b)) ||
            (rc = get_number(c, g, prefix, "ms", 1, 0, 0, MAX_LATENCY_MS, &ms)))
            return rc;
        if (pr->a == pr->b) return fail(c, g, prefix, "a and b are the same node");
        pr->one_way = (nm_time)llround(ms * 1e6);
        sp->n_pairs++;
    }
    return 0;
}

static int load_flows(const ctx *c, const config_setting_t *root, flows_spec *sp, int required) {
    static const char *const keys[] = {"src", "dst", "bytes", "start_s", NULL};
    const config_setting_t *list;
    int rc = get_sequence(c, root, "flows", required, "groups", &list);
    if (rc || !list) return rc;
    int n = config_setting_length(list);
    sp->flows = xcalloc((size_t)n, sizeof *sp->flows);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i), *at;
        char prefix[64], key[96];
        snprintf(prefix, sizeof prefix, "flows[%d]", i);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP)
            return fail(c, g, prefix, "must be a group { src = ...; ... }, not %s",
                        type_name(config_setting_type(g)));
        flows_flow *fl = &sp->flows[i];
        double start_s;
        if ((rc = check_keys(c, g, prefix, keys)) ||
            (rc = get_node_ref(c, sp, g, prefix, "src", &fl->src)) ||
            (rc = get_node_ref(c, sp, g, prefix, "dst", &fl->dst)))
            return rc;
        snprintf(key, sizeof key, "%s.dst", prefix);
        if (fl->src == fl->dst)
            return fail(c, config_setting_get_member(g, "dst"), key, "same node as src (\"%s\")",
                        sp->nodes[fl->src].name);
        if ((rc = member(c, g, prefix, "bytes", 1, &at, key, sizeof key))) return rc;
        int t = config_setting_type(at);
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
            return fail(c, at, key, "must be an integer number of bytes, not %s", type_name(t));
        long long b = config_setting_get_int64(at);
        if (b < 0) return fail(c, at, key, "must be >= 0 (got %lld)", b);
        if (b >= (1LL << 53)) return fail(c, at, key, "%lld bytes is too large (max 2^53 - 1)", b);
        fl->bytes = (uint64_t)b;
        if ((rc = get_number(c, g, prefix, "start_s", 1, 0, 0, MAX_START_S, &start_s))) return rc;
        fl->start = nm_from_s(start_s);
        sp->n_flows++;
    }
    return 0;
}

static int load_options(const ctx *c, const config_setting_t *root, flows_spec *sp) {
    int rc = get_number(c, root, "", "tcp_window_bytes", 0, 0, 0, 1e15, &sp->tcp_window_bytes);
    if (rc) return rc;
    const config_setting_t *s = config_setting_get_member(root, "ideal");
    if (s) {
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
            return fail(c, s, "ideal", "must be true or false, not %s",
                        type_name(config_setting_type(s)));
        sp->ideal = config_setting_get_bool(s);
    }
    return 0;
}

static int load_tree(const ctx *c, const config_setting_t *root, flows_spec *sp,
                     int flows_required) {
    static const char *const keys[] = {
        "regions", "latency_ms",      "nodes", "flows", "tcp_window_bytes",
        "links",   "pair_latency_ms", "ideal", NULL};
    int rc;
    if ((rc = check_keys(c, root, "", keys)) || (rc = load_regions(c, root, sp)) ||
        (rc = load_latency(c, root, sp)) || (rc = load_nodes(c, root, sp)) ||
        (rc = load_links(c, root, sp)) || (rc = load_pairs(c, root, sp)) ||
        (rc = load_flows(c, root, sp, flows_required)) || (rc = load_options(c, root, sp)))
        return rc;
    return 0;
}

/* flows_spec_load, and flows_net_load when flows_required is 0. */
static int load_file(const char *path, flows_spec *sp, FILE *err, int flows_required) {
    memset(sp, 0, sizeof *sp);
    ctx c = {path, err};
    char *text = read_text(&c);
    if (!text) return EXIT_INPUT;
    int rc = check_int_literals(&c, text);
    free(text);
    if (rc) return rc;
    config_t cfg;
    config_init(&cfg);
    if (!config_read_file(&cfg, path)) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            fprintf(err, "%s: cannot read: %s\n", path, config_error_text(&cfg));
        else
            fprintf(err, "%s:%d: syntax error: %s\n",
                    config_error_file(&cfg) ? config_error_file(&cfg) : path,
                    config_error_line(&cfg), config_error_text(&cfg));
        config_destroy(&cfg);
        return EXIT_INPUT;
    }
    rc = load_tree(&c, config_root_setting(&cfg), sp, flows_required);
    config_destroy(&cfg);
    if (rc) flows_spec_free(sp);
    return rc;
}

int flows_spec_load(const char *path, flows_spec *sp, FILE *err) {
    return load_file(path, sp, err, 1);
}

int flows_net_load(const char *path, flows_spec *sp, FILE *err) {
    return load_file(path, sp, err, 0);
}

void flows_spec_free(flows_spec *sp) {
    for (int i = 0; i < sp->n_regions; i++) free(sp->regions[i]);
    free(sp->regions);
    free(sp->latency);
    for (int i = 0; i < sp->n_nodes; i++) free(sp->nodes[i].name);
    free(sp->nodes);
    for (int i = 0; i < sp->n_links; i++) {
        free(sp->links[i].name);
        free(sp->links[i].out);
        free(sp->links[i].in);
    }
    free(sp->links);
    free(sp->pairs);
    free(sp->flows);
    memset(sp, 0, sizeof *sp);
}
