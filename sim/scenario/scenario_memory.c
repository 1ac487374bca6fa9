/* sim/scenario/scenario_memory.c: what a run will need, checked before it starts: the memory
 * it will allocate, and the longest compute task it can schedule.
 *
 * Modeled runs hold, per peer, its state, queues and network node (a few KiB, measured:
 * under 16 KiB per peer with 2,000 peers) and one record per activation-cache slot. Live
 * runs also hold, per peer, its stage's fp32 weights, gradients, two optimizer moments
 * and the outer-step copies (about 6 x 4 bytes per parameter), and an fp32 input per
 * cache slot (microbatch tokens x d_model). The figures are upper-end estimates: the
 * point is to refuse at once a run that cannot fit, not to predict RSS to the byte. */
#include "sim/scenario/scenario.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#define PEER_BYTES 16384.0    /* peer state, queues, network node, per-peer records */
#define SLOT_BYTES 32.0       /* one activation-cache record (modeled) */
#define PROCESS_BYTES 64.0e6  /* the binary, libraries, HDF5 buffers */
#define LIVE_PARAM_BYTES 24.0 /* fp32 weights, grads, 2 moments, outer weights + momentum */

sim_memory_estimate sim_scenario_memory(const sim_scenario *sc) {
    sim_memory_estimate m = {0, 0};
    int S = sc->pipeline.split.n_stages > 0 ? sc->pipeline.split.n_stages : 1;
    double slots = sc->pipeline.cache_capacity > 0 ? sc->pipeline.cache_capacity : 1;
    double per_stage_max = 0, total = 0;
    for (int s = 0; s < S; s++) {
        double b = PEER_BYTES + slots * SLOT_BYTES;
        if (sc->compute.mode == SIM_COMPUTE_LIVE) {
            double params = (double)km_params_stage(&sc->model, &sc->pipeline.split,
                                                    &sc->compression.boundary, s);
            b += params * LIVE_PARAM_BYTES;
            b += slots * (double)sc->training.microbatch_tokens * sc->model.d_model * 4.0;
        }
        if (b > per_stage_max) per_stage_max = b;
        total += b;
    }
    double replicas = sc->swarm.n_peers > 0 ? (double)sc->swarm.n_peers / S : 1;
    m.per_peer_bytes = per_stage_max;
    m.total_bytes = PROCESS_BYTES + total * replicas;
    return m;
}

double sim_scenario_longest_task_s(const sim_scenario *sc) {
    int S = sc->pipeline.split.n_stages;
    if (S <= 0 || sc->swarm.n_peers <= 0 || !sc->swarm.peers) return 0;
    double min_peak = INFINITY;
    for (int p = 0; p < sc->swarm.n_peers; p++) {
        int d = sc->swarm.peers[p].device;
        if (d < 0 || d >= sc->devices.n) continue;
        double peak = sc->devices.dev[d].bf16_flops *
                      (sc->swarm.gpus_per_peer > 0 ? sc->swarm.gpus_per_peer : 1);
        if (peak < min_peak) min_peak = peak;
    }
    double min_eff = 1;
    for (int k = 0; k < SIM_EFF_KINDS; k++)
        if (k != SIM_EFF_OPTIMIZER && k != SIM_EFF_MERGE && sc->compute.efficiency[k] < min_eff)
            min_eff = sc->compute.efficiency[k]; /* NaN (a kernel profile) is skipped */
    if (sc->faults.stragglers.enabled && sc->faults.stragglers.multiplier > 0)
        min_eff *= sc->faults.stragglers.multiplier;
    if (!(min_peak > 0) || !isfinite(min_peak)) return 0;
    double worst = 0;
    for (int s = 0; s < S; s++)
        for (int k = 0; k < KM_TASK_OPTIMIZER; k++) {
            double fl = km_task_flops(&sc->model, &sc->pipeline.split, &sc->compression.boundary, s,
                                      (km_task)k, sc->training.microbatch_tokens);
            if (fl > 0 && fl / (min_peak * min_eff) > worst) worst = fl / (min_peak * min_eff);
        }
    return worst;
}

int sim_scenario_memory_check(const sim_scenario *sc, char *err, size_t errlen) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    double phys = pages > 0 && size > 0 ? (double)pages * (double)size : 0;
    sim_memory_estimate m = sim_scenario_memory(sc);
    if (phys <= 0 || m.total_bytes <= phys) return 0;
    snprintf(err, errlen,
             "the run needs about %.3g GB (%.3g MB per peer x %d peers), more than this "
             "machine's %.3g GB of memory (pipeline.cache_capacity, swarm.replicas, model size)",
             m.total_bytes / 1e9, m.per_peer_bytes / 1e6, sc->swarm.n_peers, phys / 1e9);
    return -1;
}
