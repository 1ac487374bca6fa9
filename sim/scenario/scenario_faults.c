/* sim/scenario/scenario_faults.c: resolving faults (churn, spot, stragglers, profile files) and compute. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario_fill.h"
#include "sim/base/util.h"

enum { STREAM_SPOT = 5 };

/* Every key of a process that is required once the process is enabled. */
static int require_all(sr_ctx *c, const char *const *keys, int n, const char *why) {
    for (int i = 0; i < n; i++) SC_TRY(sr_require(c, NULL, keys[i], why));
    return 0;
}

static int fill_churn(sr_ctx *c, sim_scenario *sc) {
    SC_TRY(sr_bool(c, NULL, "faults.churn.enabled", &sc->faults.churn.enabled));
    if (!sc->faults.churn.enabled) return 0;
    static const char *const keys[] = {"faults.churn.mtbf_h", "faults.churn.mttr_h"};
    SC_TRY(require_all(c, keys, 2, "faults.churn.enabled = true"));
    double mtbf = 0, mttr = 0;
    SC_TRY(sr_float(c, NULL, keys[0], &mtbf));
    SC_TRY(sr_float(c, NULL, keys[1], &mttr));
    sc->faults.churn.mtbf_s = mtbf * 3600.0;
    sc->faults.churn.mttr_s = mttr * 3600.0;
    return 0;
}

static int fill_spot(sr_ctx *c, sim_scenario *sc) {
    int enabled = 0;
    SC_TRY(sr_bool(c, NULL, "faults.spot.enabled", &enabled));
    sc->faults.spot.enabled = enabled;
    if (!enabled) return 0;
    static const char *const keys[] = {"faults.spot.reclaim_interval_h", "faults.spot.notice_s",
                                       "faults.spot.restart_s"};
    SC_TRY(require_all(c, keys, 3, "faults.spot.enabled = true"));
    double interval_h = 0;
    SC_TRY(sr_float(c, NULL, keys[0], &interval_h));
    sc->faults.spot.interval_s = interval_h * 3600.0;
    SC_TRY(sr_float(c, NULL, keys[1], &sc->faults.spot.notice_s));
    SC_TRY(sr_float(c, NULL, keys[2], &sc->faults.spot.restart_s));
    SC_TRY(
        sr_bool(c, NULL, "faults.spot.restart_exponential", &sc->faults.spot.restart_exponential));
    SC_TRY(sr_float(c, NULL, "faults.spot.fraction", &sc->faults.spot.fraction));
    SC_TRY(sr_float(c, NULL, "faults.spot.price_factor", &sc->faults.spot.price_factor));
    int P = sc->swarm.n_peers;
    int n_spot = (int)lround(sc->faults.spot.fraction * P);
    if (n_spot == 0) {
        sn_node *n = sr_node(c, NULL, "faults.spot.fraction");
        return sr_fail(c, n ? n : sr_node(c, NULL, "faults.spot"), "faults.spot.fraction",
                       "%g of %d peers rounds to no spot peer", sc->faults.spot.fraction, P);
    }
    int *perm = xcalloc((size_t)P, sizeof *perm);
    sc_rng rng = sc_rng_make(sc->seed, STREAM_SPOT);
    sc_rng_permutation(&rng, perm, P);
    for (int i = 0; i < n_spot; i++) {
        sim_peer *pe = &sc->swarm.peers[perm[i]];
        pe->spot = 1;
        pe->price_per_hour *= sc->faults.spot.price_factor;
    }
    free(perm);
    return 0;
}

static int fill_stragglers(sr_ctx *c, sim_scenario *sc) {
    int enabled = 0;
    SC_TRY(sr_bool(c, NULL, "faults.stragglers.enabled", &enabled));
    sc->faults.stragglers.enabled = enabled;
    if (!enabled) return 0;
    static const char *const keys[] = {"faults.stragglers.fraction",
                                       "faults.stragglers.multiplier"};
    SC_TRY(require_all(c, keys, 2, "faults.stragglers.enabled = true"));
    SC_TRY(sr_float(c, NULL, keys[0], &sc->faults.stragglers.fraction));
    SC_TRY(sr_float(c, NULL, keys[1], &sc->faults.stragglers.multiplier));
    int kind = 0;
    SC_TRY(sr_enum(c, NULL, "faults.stragglers.kind", &kind));
    sc->faults.stragglers.kind = (sim_straggle_kind)kind;
    SC_TRY(sr_bool(c, NULL, "faults.stragglers.permanent", &sc->faults.stragglers.permanent));
    static const char *const periods[] = {"faults.stragglers.slow_s", "faults.stragglers.normal_s"};
    if (sc->faults.stragglers.permanent) {
        for (int i = 0; i < 2; i++)
            SC_TRY(sr_refuse(c, NULL, periods[i], "faults.stragglers.permanent = true"));
        sc->faults.stragglers.slow_s = sc->faults.stragglers.normal_s = 0;
    } else {
        SC_TRY(require_all(c, periods, 2, "stragglers are enabled and not permanent"));
        SC_TRY(sr_float(c, NULL, periods[0], &sc->faults.stragglers.slow_s));
        SC_TRY(sr_float(c, NULL, periods[1], &sc->faults.stragglers.normal_s));
    }
    if (lround(sc->faults.stragglers.fraction * sc->swarm.n_peers) == 0)
        return sr_fail(c, sr_node(c, NULL, keys[0]), keys[0],
                       "%g of %d peers rounds to no straggler", sc->faults.stragglers.fraction,
                       sc->swarm.n_peers);
    return 0;
}

static int fill_profiles(sr_ctx *c, sim_scenario *sc) {
    sn_node *list = sr_list(c, NULL, "faults.profiles");
    if (!list || list->n_kids == 0) return 0;
    int n = list->n_kids, P = sc->swarm.n_peers;
    sc->faults.profiles = xcalloc((size_t)n, sizeof *sc->faults.profiles);
    for (int i = 0; i < n; i++) {
        sn_node *e = list->kids[i];
        sim_profile_ref *r = &sc->faults.profiles[i];
        sc->faults.n_profiles = i + 1;
        char ip[96];
        snprintf(ip, sizeof ip, "faults.profiles[%d].peer", i);
        long long peer = 0;
        int kind = 0;
        SC_TRY(sr_int(c, e, "faults.profiles[].peer", &peer));
        SC_TRY(sr_enum(c, e, "faults.profiles[].kind", &kind));
        SC_TRY(sr_path(c, e, "faults.profiles[].file", &r->path));
        sn_node *pn = sr_node(c, e, "faults.profiles[].peer");
        if (peer >= P)
            return sr_fail(c, pn, ip, "peer %lld, but the swarm has %d peers (0..%d)", peer, P,
                           P - 1);
        r->peer = (int)peer;
        r->kind = (sim_profile_kind)kind;
        for (int j = 0; j < i; j++)
            if (sc->faults.profiles[j].peer == r->peer && sc->faults.profiles[j].kind == r->kind)
                return sr_fail(c, pn, ip, "peer %d already has a profile of this kind (entry %d)",
                               r->peer, j);
        SC_TRY(sc_check_readable(c, e, "faults.profiles[].file", r->path));
    }
    return 0;
}

int sc_fill_faults(sr_ctx *c, sim_scenario *sc) {
    SC_TRY(fill_churn(c, sc));
    SC_TRY(fill_spot(c, sc));
    SC_TRY(fill_stragglers(c, sc));
    SC_TRY(fill_profiles(c, sc));
    return 0;
}

int sc_fill_compute(sr_ctx *c, sim_scenario *sc) {
    sim_compute *cp = &sc->compute;
    int mode = 0, backend = 0;
    SC_TRY(sr_enum(c, NULL, "compute.mode", &mode));
    cp->mode = (sim_compute_mode)mode;
    if (cp->mode == SIM_COMPUTE_LIVE && sc->pipeline.slot_at_forward &&
        sc->pipeline.split.n_stages > 1) {
        sn_node *n = sr_node(c, NULL, "pipeline.slot_at");
        return sr_fail(c, n ? n : sr_node(c, NULL, "compute.mode"), "pipeline.slot_at",
                       "\"forward\" (the default) is not supported with compute.mode = \"live\": "
                       "live runs keep the slot reserved at routing; set pipeline.slot_at = "
                       "\"route\"");
    }
    if (cp->mode == SIM_COMPUTE_LIVE && sc->sync.overlap) {
        sn_node *n = sr_node(c, NULL, "sync.overlap");
        return sr_fail(c, n ? n : sr_node(c, NULL, "compute.mode"), "sync.overlap",
                       "is not supported with compute.mode = \"live\": live runs apply each outer "
                       "step when its own exchange ends, before the next round trains; the "
                       "one-round-delayed outer step of an overlapped exchange is modeled only "
                       "(compute.mode = \"modeled\")");
    }
    int st = sr_path(c, NULL, "compute.kernel_profile", &cp->kernel_profile);
    SC_TRY(st);
    if (st == 1) SC_TRY(sc_check_readable(c, NULL, "compute.kernel_profile", cp->kernel_profile));
    static const char *const keys[SIM_EFF_KINDS] = {
        "compute.efficiency.forward", "compute.efficiency.backward", "compute.efficiency.recompute",
        "compute.efficiency.optimizer", "compute.efficiency.merge"};
    int need = cp->mode == SIM_COMPUTE_MODELED && !cp->kernel_profile;
    cp->have_efficiency = 1;
    for (int k = 0; k < SIM_EFF_KINDS; k++) {
        cp->efficiency[k] = NAN;
        if (need)
            SC_TRY(sr_require(c, NULL, keys[k],
                              "compute.mode = \"modeled\" and no compute.kernel_profile is given"));
        if (sr_float(c, NULL, keys[k], &cp->efficiency[k]) != 1) cp->have_efficiency = 0;
    }
    SC_TRY(sr_enum(c, NULL, "compute.backend", &backend));
    cp->backend = (sim_backend)backend;
    int lt = 0;
    long long n = 0;
    SC_TRY(sr_enum(c, NULL, "compute.live_time", &lt));
    cp->live_time_modeled = lt == 1;
    SC_TRY(sr_int(c, NULL, "compute.gpus", &n));
    cp->gpus = (int)n;
    SC_TRY(sr_int(c, NULL, "compute.val_microbatches", &n));
    cp->val_microbatches = (int)n;
    cp->local_device = -1;
    sn_node *ld = sr_node(c, NULL, "compute.local_device");
    if (ld) {
        cp->local_device = sim_devices_find(&sc->devices, ld->s);
        if (cp->local_device < 0) {
            const char *sug = sim_devices_suggest(&sc->devices, ld->s);
            if (sug)
                return sr_fail(c, ld, "compute.local_device",
                               "device '%s' is not in the device table (did you mean '%s'?)", ld->s,
                               sug);
            return sr_fail(c, ld, "compute.local_device", "device '%s' is not in the device table",
                           ld->s);
        }
    }
    return 0;
}
