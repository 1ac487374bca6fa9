/* sim/scenario/scenario_peers.c: resolving the swarm: the device table, then every peer's device, region, access links
 * and price. Random placements use the scenario seed, one stream per purpose, so that
 * changing one setting (bandwidth, say) does not reshuffle the others. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario_fill.h"
#include "sim/base/util.h"

enum { STREAM_DEVICE = 1, STREAM_REGION = 2, STREAM_BW_CLASS = 3, STREAM_BW_DRAW = 4 };

typedef int (*lookup_fn)(sr_ctx *c, const sim_scenario *sc, const sn_node *n, const char *ip,
                         int *out);

static int device_lookup(sr_ctx *c, const sim_scenario *sc, const sn_node *n, const char *ip,
                         int *out) {
    *out = sim_devices_find(&sc->devices, n->s);
    if (*out >= 0) return 0;
    const char *sug = sim_devices_suggest(&sc->devices, n->s);
    if (sug)
        return sr_fail(c, n, ip, "device '%s' is not in the device table %s (did you mean '%s'?)",
                       n->s, sc->devices.path, sug);
    return sr_fail(c, n, ip, "device '%s' is not in the device table %s", n->s, sc->devices.path);
}

/* Fractions of a mix: they must sum to 1 and give every entry at least one peer. */
static int mix_counts(sr_ctx *c, sn_node *list, const char *key, const double *frac, int n,
                      int peers, int *count) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += frac[i];
    if (fabs(sum - 1.0) > 1e-6) return sr_fail(c, list, key, "fractions sum to %.9g, not 1", sum);
    sc_largest_remainder(frac, n, peers, count);
    for (int i = 0; i < n; i++)
        if (count[i] == 0) {
            char ip[256];
            snprintf(ip, sizeof ip, "%s[%d].fraction", key, i);
            return sr_fail(c, list->kids[i], ip, "%g of %d peers rounds to no peer", frac[i],
                           peers);
        }
    return 0;
}

/* One of swarm.<what>, <what>_per_replica, <what>_per_peer, <what>_mix -> out[peer]. */
static int assign(sr_ctx *c, sim_scenario *sc, const char *what, lookup_fn lookup, int *out,
                  uint64_t stream) {
    int S = sc->pipeline.split.n_stages, R = sc->swarm.replicas, P = sc->swarm.n_peers;
    char keys[4][64];
    snprintf(keys[0], sizeof keys[0], "swarm.%s", what);
    snprintf(keys[1], sizeof keys[1], "swarm.%s_per_replica", what);
    snprintf(keys[2], sizeof keys[2], "swarm.%s_per_peer", what);
    snprintf(keys[3], sizeof keys[3], "swarm.%s_mix", what);
    int which = -1;
    for (int k = 0; k < 4; k++) {
        sn_node *n = sr_node(c, NULL, keys[k]);
        if (!n) continue;
        if (which >= 0)
            return sr_fail(c, n, keys[k], "give only one of %s, %s, %s, %s (%s is given too)",
                           keys[0], keys[1], keys[2], keys[3], keys[which]);
        which = k;
    }
    sn_node *swarm = sr_node(c, NULL, "swarm");
    if (which < 0)
        return sr_fail(c, swarm, keys[0], "one of %s, %s, %s, %s is required", keys[0], keys[1],
                       keys[2], keys[3]);
    sn_node *n = sr_node(c, NULL, keys[which]);
    char ip[256];
    if (which == 0) {
        int v;
        SC_TRY(lookup(c, sc, n, keys[0], &v));
        for (int p = 0; p < P; p++) out[p] = v;
        return 0;
    }
    if (which == 1 || which == 2) {
        int want = which == 1 ? R : P;
        if (n->n_kids != want) {
            if (which == 1)
                return sr_fail(c, n, keys[1], "%d entries, swarm.replicas is %d", n->n_kids, R);
            return sr_fail(c, n, keys[2],
                           "%d entries, swarm.replicas x pipeline.stages = %d x %d = %d peers",
                           n->n_kids, R, S, P);
        }
        for (int i = 0; i < want; i++) {
            int v;
            snprintf(ip, sizeof ip, "%s[%d]", keys[which], i);
            SC_TRY(lookup(c, sc, n->kids[i], ip, &v));
            if (which == 2) {
                out[i] = v;
            } else {
                for (int s = 0; s < S; s++) out[i * S + s] = v;
            }
        }
        return 0;
    }
    /* a mix */
    int k = n->n_kids;
    if (k == 0) return sr_fail(c, n, keys[3], "empty mix");
    double *frac = xcalloc((size_t)k, sizeof *frac);
    int *idx = xcalloc((size_t)k, sizeof *idx), *count = xcalloc((size_t)k, sizeof *count);
    int *perm = xcalloc((size_t)P, sizeof *perm);
    int rc = 0;
    char fkey[96];
    snprintf(fkey, sizeof fkey, "%s[].fraction", keys[3]);
    char nkey[96];
    snprintf(nkey, sizeof nkey, "%s[].%s", keys[3], what);
    for (int i = 0; i < k && rc == 0; i++) {
        sn_node *e = n->kids[i];
        snprintf(ip, sizeof ip, "%s[%d].%s", keys[3], i, what);
        if (sr_float(c, e, fkey, &frac[i]) < 0) rc = -1;
        else {
            sn_node *name = sr_need(c, e, nkey);
            rc = name ? lookup(c, sc, name, ip, &idx[i]) : -1;
        }
    }
    if (rc == 0) rc = mix_counts(c, n, keys[3], frac, k, P, count);
    if (rc == 0) {
        sc_rng rng = sc_rng_make(sc->seed, stream);
        sc_rng_permutation(&rng, perm, P);
        int pos = 0;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < count[i]; j++) out[perm[pos++]] = idx[i];
    }
    free(frac);
    free(idx);
    free(count);
    free(perm);
    return rc;
}

static int fill_bandwidth(sr_ctx *c, sim_scenario *sc, double *up, double *down) {
    sim_bandwidth *bw = &sc->swarm.bandwidth;
    int P = sc->swarm.n_peers, kind = 0;
    SC_TRY(sr_enum(c, NULL, "swarm.bandwidth.kind", &kind));
    bw->kind = (sim_bw_kind)kind;
    static const char *const names[] = {"fixed", "lognormal", "table", "list"};
    char why[64];
    snprintf(why, sizeof why, "swarm.bandwidth.kind = \"%s\"", names[kind]);
    int uses_medians = bw->kind == SIM_BW_FIXED || bw->kind == SIM_BW_LOGNORMAL;
    static const char *const all[] = {
        "swarm.bandwidth.up_mbps",      "swarm.bandwidth.down_mbps",
        "swarm.bandwidth.sigma",        "swarm.bandwidth.classes",
        "swarm.bandwidth.up_list_mbps", "swarm.bandwidth.down_list_mbps",
        "swarm.bandwidth.correlated"};
    int used[7] = {uses_medians,
                   uses_medians,
                   bw->kind == SIM_BW_LOGNORMAL,
                   bw->kind == SIM_BW_TABLE,
                   bw->kind == SIM_BW_LIST,
                   bw->kind == SIM_BW_LIST,
                   bw->kind == SIM_BW_LOGNORMAL || bw->kind == SIM_BW_TABLE};
    for (int i = 0; i < 7; i++) {
        if (used[i] && i < 6) SC_TRY(sr_require(c, NULL, all[i], why));
        if (!used[i]) SC_TRY(sr_refuse(c, NULL, all[i], why));
    }
    SC_TRY(sr_bool(c, NULL, "swarm.bandwidth.correlated", &bw->correlated));
    sc_rng draw = sc_rng_make(sc->seed, STREAM_BW_DRAW);
    if (uses_medians) {
        SC_TRY(sr_float(c, NULL, "swarm.bandwidth.up_mbps", &bw->up_mbps));
        SC_TRY(sr_float(c, NULL, "swarm.bandwidth.down_mbps", &bw->down_mbps));
        bw->sigma = 0;
        if (bw->kind == SIM_BW_LOGNORMAL)
            SC_TRY(sr_float(c, NULL, "swarm.bandwidth.sigma", &bw->sigma));
        for (int p = 0; p < P; p++) {
            double zu = bw->sigma > 0 ? sc_rng_normal(&draw) : 0;
            double zd = bw->correlated || bw->sigma == 0 ? zu : sc_rng_normal(&draw);
            up[p] = bw->up_mbps * exp(bw->sigma * zu);
            down[p] = bw->down_mbps * exp(bw->sigma * zd);
        }
        return 0;
    }
    if (bw->kind == SIM_BW_LIST) {
        static const char *const lists[] = {"swarm.bandwidth.up_list_mbps",
                                            "swarm.bandwidth.down_list_mbps"};
        for (int l = 0; l < 2; l++) {
            sn_node *n = sr_list(c, NULL, lists[l]);
            if (n->n_kids != P)
                return sr_fail(c, n, lists[l],
                               "%d entries, swarm.replicas x pipeline.stages = %d peers", n->n_kids,
                               P);
            for (int p = 0; p < P; p++) (l ? down : up)[p] = sr_num(n->kids[p]);
        }
        return 0;
    }
    /* table of classes */
    sn_node *list = sr_list(c, NULL, "swarm.bandwidth.classes");
    int k = list->n_kids;
    if (k == 0) return sr_fail(c, list, "swarm.bandwidth.classes", "no classes");
    bw->classes = xcalloc((size_t)k, sizeof *bw->classes);
    bw->n_classes = k;
    double *frac = xcalloc((size_t)k, sizeof *frac);
    int *count = xcalloc((size_t)k, sizeof *count), *perm = xcalloc((size_t)P, sizeof *perm);
    int rc = 0;
    for (int i = 0; i < k && rc == 0; i++) {
        sn_node *e = list->kids[i];
        sim_bw_class *cl = &bw->classes[i];
        if (sr_float(c, e, "swarm.bandwidth.classes[].fraction", &cl->fraction) < 0 ||
            sr_float(c, e, "swarm.bandwidth.classes[].up_mbps", &cl->up_mbps) < 0 ||
            sr_float(c, e, "swarm.bandwidth.classes[].down_mbps", &cl->down_mbps) < 0 ||
            sr_float(c, e, "swarm.bandwidth.classes[].sigma", &cl->sigma) < 0)
            rc = -1;
        frac[i] = cl->fraction;
    }
    if (rc == 0) rc = mix_counts(c, list, "swarm.bandwidth.classes", frac, k, P, count);
    if (rc == 0) {
        sc_rng place = sc_rng_make(sc->seed, STREAM_BW_CLASS);
        sc_rng_permutation(&place, perm, P);
        int pos = 0;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < count[i]; j++) {
                int p = perm[pos++];
                const sim_bw_class *cl = &bw->classes[i];
                double zu = cl->sigma > 0 ? sc_rng_normal(&draw) : 0;
                double zd = bw->correlated || cl->sigma == 0 ? zu : sc_rng_normal(&draw);
                up[p] = cl->up_mbps * exp(cl->sigma * zu);
                down[p] = cl->down_mbps * exp(cl->sigma * zd);
            }
    }
    free(frac);
    free(count);
    free(perm);
    return rc;
}

static int load_devices(sr_ctx *c, sim_scenario *sc) {
    char *path = NULL;
    SC_TRY(sr_path(c, NULL, "swarm.device_table", &path));
    char derr[1024];
    int rc = sim_devices_load(path, &sc->devices, derr, sizeof derr);
    if (rc) {
        size_t n = strlen(path);
        /* unreadable table: point at the key that named it; bad content: at the table */
        if (!strncmp(derr, path, n) && !strncmp(derr + n, ": cannot read", 13)) {
            sn_node *k = sr_node(c, NULL, "swarm.device_table");
            sr_fail(c, k ? k : sr_node(c, NULL, "swarm"), "swarm.device_table", "%s", derr);
        } else {
            snprintf(c->err, c->errlen, "%s", derr);
        }
    }
    free(path);
    return rc ? -1 : 0;
}

static int fill_prices(sr_ctx *c, sim_scenario *sc, double *price) {
    for (int d = 0; d < sc->devices.n; d++) price[d] = sc->devices.dev[d].price_per_hour;
    sn_node *list = sr_list(c, NULL, "swarm.prices");
    if (!list) return 0;
    int *seen = xcalloc((size_t)sc->devices.n, sizeof *seen);
    int rc = 0;
    for (int i = 0; i < list->n_kids && rc == 0; i++) {
        sn_node *e = list->kids[i];
        char ip[96];
        snprintf(ip, sizeof ip, "swarm.prices[%d].device", i);
        sn_node *name = sr_need(c, e, "swarm.prices[].device");
        int d = -1;
        double v = 0;
        if (!name) rc = -1;
        else if (device_lookup(c, sc, name, ip, &d)) rc = -1;
        else if (seen[d]) rc = sr_fail(c, name, ip, "price of '%s' given twice", name->s);
        else if (sr_float(c, e, "swarm.prices[].per_hour", &v) < 0) rc = -1;
        else {
            seen[d] = 1;
            price[d] = v;
        }
    }
    free(seen);
    return rc;
}

int sc_fill_swarm(sr_ctx *c, sim_scenario *sc) {
    sim_swarm *sw = &sc->swarm;
    int S = sc->pipeline.split.n_stages;
    SC_TRY(sc_get_int(c, NULL, "swarm.replicas", &sw->replicas));
    SC_TRY(sc_get_int(c, NULL, "swarm.gpus_per_peer", &sw->gpus_per_peer));
    if ((long long)sw->replicas * S > 1000000)
        return sr_fail(c, sr_node(c, NULL, "swarm.replicas"), "swarm.replicas",
                       "%d replicas x %d stages is more than 10^6 peers", sw->replicas, S);
    sw->n_peers = sw->replicas * S;
    SC_TRY(load_devices(c, sc));
    int P = sw->n_peers;
    sw->peers = xcalloc((size_t)P, sizeof *sw->peers);
    int *dev = xcalloc((size_t)P, sizeof *dev), *reg = xcalloc((size_t)P, sizeof *reg);
    double *up = xcalloc((size_t)P, sizeof *up), *down = xcalloc((size_t)P, sizeof *down);
    double *price = xcalloc((size_t)(sc->devices.n ? sc->devices.n : 1), sizeof *price);
    int rc = assign(c, sc, "device", device_lookup, dev, STREAM_DEVICE);
    if (rc == 0) rc = assign(c, sc, "region", sc_region_lookup, reg, STREAM_REGION);
    if (rc == 0) rc = fill_bandwidth(c, sc, up, down);
    if (rc == 0) rc = fill_prices(c, sc, price);
    if (rc == 0) {
        for (int p = 0; p < P; p++) {
            sim_peer *pe = &sw->peers[p];
            pe->stage = p % S;
            pe->replica = p / S;
            pe->device = dev[p];
            pe->region = reg[p];
            pe->up_bytes_per_s = up[p] * 1e6 / 8.0;
            pe->down_bytes_per_s = down[p] * 1e6 / 8.0;
            pe->price_per_hour = price[dev[p]] * sw->gpus_per_peer; /* NaN stays NaN */
            pe->spot = 0;
        }
    }
    free(dev);
    free(reg);
    free(up);
    free(down);
    free(price);
    return rc;
}
