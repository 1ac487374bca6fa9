/* sim/scenario/scenario_memory.c: the memory a run will need, estimated before it allocates.
 *
 * Modeled runs hold, per peer, its state, queues and network node (a few KiB, measured:
 * under 16 KiB per peer with 2,000 peers) and one record per activation-cache slot. Live
 * runs also hold, per peer, its stage's fp32 weights, gradients, two optimizer moments
 * and the outer-step copies (about 6 x 4 bytes per parameter), and an fp32 input per
 * cache slot (microbatch tokens x d_model). The figures are upper-end estimates: the
 * point is to refuse at once a run that cannot fit, not to predict RSS to the byte. */
#include "sim/scenario/scenario.h"

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
