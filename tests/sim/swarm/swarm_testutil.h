/* tests/sim/swarm/swarm_testutil.h: the swarm fixture shared by the swarm test programs.
 *
 * S stages x R replicas of a 10 TFLOP/s device on 100/100 Mbit/s links in one region
 * (10 ms one way), butterfly sync through a 10 Gbit/s storage node, the engine's rules
 * before issue 12 (tests switch IOTA's rules on one by one), and a run helper that
 * fails the test when the engine fails.
 */
#ifndef TESTS_SWARM_TESTUTIL_H
#define TESTS_SWARM_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "kernels/model.h"
#include "sim/metrics/summary.h"
#include "sim/swarm/swarm.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_sink.h"

/* A small Llama-shaped model: 8 blocks, d 512, seq 128. */
static inline km_config small_model(void) {
    km_config m = {.d_model = 512,
                   .n_blocks = 8,
                   .n_heads = 8,
                   .n_kv_heads = 2,
                   .head_dim = 64,
                   .ffn = 1536,
                   .vocab = 4096,
                   .seq_len = 128,
                   .rope_theta = 5e5,
                   .norm_eps = 1e-5,
                   .dtype_bytes = 2};
    return m;
}

typedef struct {
    swarm_config c;
    swarm_peer_spec peers[64];
    double lat[4];
} fixture;

/* S stages x R replicas of a 10 TFLOP/s device on 100/100 Mbit/s links, 1 region with a
 * 10 ms one-way latency, butterfly sync through a 10 Gbit/s storage node. */
static inline void make(fixture *f, int S, int R) {
    memset(f, 0, sizeof *f);
    swarm_config *c = &f->c;
    c->model = small_model();
    c->split.n_stages = S;
    for (int s = 0; s < S; s++) c->split.blocks[s] = c->model.n_blocks / S;
    c->boundary.method = KM_COMP_NONE;
    c->microbatch_tokens = 4 * 128;
    c->recompute = 1;
    c->n_stages = S;
    c->n_replicas = R;
    c->n_peers = S * R;
    c->peers = f->peers;
    for (int i = 0; i < S * R; i++) {
        swarm_peer_spec *p = &f->peers[i];
        p->stage = i % S;
        p->replica = i / S;
        snprintf(p->device, sizeof p->device, "test-gpu");
        p->peak_flops = 10e12;
        p->gpus = 1;
        p->up_bps = 100e6;
        p->down_bps = 100e6;
        p->price_per_h = 1.0;
        p->speed = 1.0;
        p->mem_bw = 1e12;
    }
    c->net.n_regions = 1;
    f->lat[0] = 0.010;
    c->net.latency_s = f->lat;
    c->net.storage_up_bps = c->net.storage_down_bps = 10e9;
    for (int k = 0; k < KM_TASK_KINDS; k++) c->compute.efficiency[k] = 0.5;
    c->compute.merge_efficiency = 0.5;
    c->compute.opt_bytes_per_param = 30;
    c->compute.merge_bytes_per_param = 10;
    c->H = 2;
    c->accum = 4;
    c->cache_capacity = 4;
    c->activation_timeout_s = 100;
    c->min_local_steps = 1;
    c->routing = "iota";
    c->swarm_ema = 0.2;
    c->cycles_target = 2;
    c->max_sim_s = 30 * 86400.0;
    c->training = "pipeline";
    c->sync = "iota-butterfly";
    c->outer.pg_bytes_per_param = 2;
    c->outer.weight_bytes_per_param = 2;
    c->outer.partitions = 2 * R;
    c->outer.owners = R < 2 ? R : 2;
    c->outer.upload_quorum = 0.8;
    c->outer.merge_quorum = 0.9;
    c->outer.upload_timeout_s = 600;
    c->seed = 42;
    c->mfu_window_s = 3600;
    c->sample_s = 10;
    c->events_cycles = -1;
    /* the engine's rules before issue 12; the IOTA rules are switched on test by test */
    c->timeout_roundtrip = 1;
    c->phase_drain = 1;
    c->keep_cache_on_local_step = 1;
    c->forward_queue = 2;
}

static inline sim_summary run(const swarm_config *c, trace *tr) {
    sim_summary s;
    sim_summary_init(&s);
    char err[512];
    swarm_sink sink;
    if (tr) trace_sink_make(tr, &sink);
    int rc = swarm_run(c, tr ? &sink : NULL, &s, NULL, err, sizeof err);
    ck_assert_msg(rc == 0, "swarm_run failed: %s", err);
    return s;
}

#endif
