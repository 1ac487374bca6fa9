/* sim/run/run_config.c: a resolved scenario -> the swarm's and live mode's configurations.
 *
 * The swarm engine (sim/swarm/) takes a plain swarm_config and live mode (sim/live/) a
 * live_config; this is the one place that knows the scenario and them. Task efficiencies combine per kind: a backward that recomputes is
 * one forward at the recompute efficiency plus two forwards' worth of backward work at
 * the backward efficiency, so its effective efficiency is 3 / (1/e_rc + 2/e_bw); the
 * last stage's fused step is 3 / (1/e_fw + 2/e_bw). Optimizer steps and merges are
 * memory-bound: their efficiency is a fraction of the device's memory bandwidth.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/run/run_config.h"
#include "sim/base/util.h"

/* Bytes of memory traffic per parameter of one fused AdamW/NAdam step: fp32 master
 * read+write (8), fp32 gradient read (4), m and v read+write (16), bf16 working copy
 * write (2). */
#define OPT_BYTES_PER_PARAM 30.0
/* Merge, the final pass of the outer step: read the fp32 average (4), read+write the
 * fp32 global weights (8) and outer momentum (8); the per-submitter reads are counted
 * from the pseudo-gradient size (sim/swarm/swarm_sync.c). */
#define MERGE_BYTES_PER_PARAM 20.0

static double harmonic3(double a, double b) { return 3.0 / (1.0 / a + 2.0 / b); }

void scenario_to_swarm(const sim_scenario *sc, const double *eff_override, swarm_config *c) {
    memset(c, 0, sizeof *c);
    c->model = sc->model;
    c->split = sc->pipeline.split;
    c->boundary = sc->compression.boundary;
    c->microbatch_tokens = sc->training.microbatch_tokens;
    c->recompute = sc->pipeline.recompute;
    c->n_stages = sc->pipeline.split.n_stages;
    c->n_replicas = sc->swarm.replicas;
    c->n_peers = sc->swarm.n_peers;
    c->peers = xcalloc((size_t)c->n_peers, sizeof *c->peers);
    for (int i = 0; i < c->n_peers; i++) {
        const sim_peer *p = &sc->swarm.peers[i];
        const sim_device *d = &sc->devices.dev[p->device];
        swarm_peer_spec *s = &c->peers[i];
        s->stage = p->stage;
        s->replica = p->replica;
        s->region = p->region;
        snprintf(s->device, sizeof s->device, "%s", d->name);
        snprintf(s->region_name, sizeof s->region_name, "%s",
                 sc->network.regions ? sc->network.regions[p->region] : "");
        s->peak_flops = d->bf16_flops;
        s->gpus = sc->swarm.gpus_per_peer > 0 ? sc->swarm.gpus_per_peer : 1;
        s->up_bps = p->up_bytes_per_s * 8.0;
        s->down_bps = p->down_bytes_per_s * 8.0;
        s->price_per_h = isnan(p->price_per_hour) ? 0 : p->price_per_hour;
        s->speed = 1.0;
        s->mem_bw = d->memory_bw_bytes_per_s * s->gpus;
    }
    c->net.n_regions = sc->network.n_regions;
    c->net.latency_s = sc->network.latency_s;
    if (sc->network.have_storage) {
        c->net.storage_up_bps = sc->network.storage_up_bytes_per_s * 8.0;
        c->net.storage_down_bps = sc->network.storage_down_bytes_per_s * 8.0;
        c->net.storage_region = sc->network.storage_region;
    } else {
        c->net.storage_up_bps = c->net.storage_down_bps =
            1e15; /* no storage declared: not a bottleneck */
    }
    c->net.tcp_window_bytes = sc->network.tcp_window_bytes;
    c->net.ideal_network = sc->network.model == SIM_NET_IDEAL;

    const double *e = eff_override ? eff_override : sc->compute.efficiency;
    c->compute.efficiency[KM_TASK_FORWARD] = e[SIM_EFF_FORWARD];
    c->compute.efficiency[KM_TASK_BACKWARD] = e[SIM_EFF_BACKWARD];
    c->compute.efficiency[KM_TASK_BACKWARD_RECOMPUTE] =
        harmonic3(e[SIM_EFF_RECOMPUTE], e[SIM_EFF_BACKWARD]);
    c->compute.efficiency[KM_TASK_LAST_FUSED] = harmonic3(e[SIM_EFF_FORWARD], e[SIM_EFF_BACKWARD]);
    c->compute.efficiency[KM_TASK_OPTIMIZER] = e[SIM_EFF_OPTIMIZER];
    c->compute.merge_efficiency = e[SIM_EFF_MERGE];
    c->compute.opt_bytes_per_param = OPT_BYTES_PER_PARAM;
    c->compute.merge_bytes_per_param = MERGE_BYTES_PER_PARAM;

    c->H = sc->training.H;
    c->accum = sc->training.accum;
    c->cache_capacity = sc->pipeline.cache_capacity;
    c->activation_timeout_s = sc->training.activation_timeout_s;
    c->timeout_roundtrip = sc->training.timeout_roundtrip;
    c->phase_drain = sc->training.phase_drain;
    c->cache_ttl_s = sc->pipeline.cache_ttl_s;
    c->slot_at_forward = sc->pipeline.slot_at_forward;
    c->forward_queue = sc->pipeline.forward_queue;
    c->auto_max_cache = sc->pipeline.auto_max_cache;
    c->keep_cache_on_local_step = sc->pipeline.keep_cache_on_local_step;
    c->cache_full_wait_s = sc->pipeline.cache_full_wait_s;
    c->inject_period_s = sc->pipeline.inject_period_s;
    c->stage0_fetch_s = sc->pipeline.stage0_fetch_s;
    c->last_target_s = sc->pipeline.last_target_s;
    c->per_hop_s = sc->pipeline.per_hop_s;
    c->min_local_steps = sc->training.min_local_steps;
    static const char *const routing[] = {
        [SIM_ROUTE_IOTA] = "iota", [SIM_ROUTE_SWARM] = "swarm", [SIM_ROUTE_FIXED] = "fixed"};
    c->routing = routing[sc->pipeline.routing];
    c->swarm_ema = isnan(sc->pipeline.swarm_ema) ? 0.1 : sc->pipeline.swarm_ema;
    c->tokens_target = (int64_t)sc->training.tokens;
    c->cycles_target = sc->training.cycles;
    c->max_sim_s = sc->training.max_sim_s;

    /* The scenario's sync.algorithm "ddp" is DDP training, synchronised by the transport
     * sync.transport names: a ring, or an all-gather through storage. */
    const int ddp = sc->sync.algorithm == SIM_SYNC_DDP;
    c->training = ddp ? "ddp" : "pipeline";
    c->sync = sc->sync.algorithm == SIM_SYNC_RING     ? "ring"
              : !ddp                                  ? "iota-butterfly"
              : sc->sync.transport == SIM_DDP_STORAGE ? "storage"
                                                      : "ring";
    c->schedule = sc->sync.overlap ? "overlap" : "sequential";
    c->outer.pg_bytes_per_param = sc->sync.pg_bytes_per_param;
    c->outer.weight_bytes_per_param = sim_dtype_bytes(sc->sync.weights_dtype);
    c->outer.upload_momentum = sc->sync.upload_momentum;
    c->outer.publish_update = sc->sync.publish == SIM_PUBLISH_UPDATE;
    c->outer.partitions = sc->sync.partitions;
    c->outer.owners = sc->sync.owners;
    c->outer.upload_quorum = sc->sync.upload_quorum;
    c->outer.merge_quorum = sc->sync.merge_quorum;
    c->outer.upload_timeout_s = sc->sync.upload_timeout_s;

    swarm_faults *f = &c->faults;
    f->churn = sc->faults.churn.enabled;
    f->churn_mtbf_s = sc->faults.churn.mtbf_s;
    f->churn_mttr_s = sc->faults.churn.mttr_s;
    f->spot = sc->faults.spot.enabled;
    f->spot_interval_s = sc->faults.spot.interval_s;
    f->spot_notice_s = sc->faults.spot.notice_s;
    f->spot_restart_s = sc->faults.spot.restart_s;
    f->spot_restart_fixed = !sc->faults.spot.restart_exponential;
    if (f->spot) {
        f->spot_peers = xcalloc((size_t)c->n_peers, sizeof *f->spot_peers);
        for (int i = 0; i < c->n_peers; i++)
            if (sc->swarm.peers[i].spot) f->spot_peers[f->n_spot_peers++] = i;
    }
    f->stragglers = sc->faults.stragglers.enabled;
    f->straggler_fraction = sc->faults.stragglers.fraction;
    f->straggler_factor = sc->faults.stragglers.multiplier;
    f->straggler_slow_s = sc->faults.stragglers.permanent ? 1e18 : sc->faults.stragglers.slow_s;
    f->straggler_normal_s = sc->faults.stragglers.permanent ? 1e-9 : sc->faults.stragglers.normal_s;
    f->straggler_speed = sc->faults.stragglers.kind != SIM_STRAGGLE_BANDWIDTH;
    f->straggler_bandwidth = sc->faults.stragglers.kind != SIM_STRAGGLE_SPEED;
    if (sc->faults.n_profiles > 0) {
        const char ***lists[3] = {&f->state_profile, &f->speed_profile, &f->bandwidth_profile};
        for (int i = 0; i < sc->faults.n_profiles; i++) {
            const sim_profile_ref *r = &sc->faults.profiles[i];
            const char ***l = lists[r->kind];
            if (!*l) *l = xcalloc((size_t)c->n_peers, sizeof **l);
            (*l)[r->peer] = r->path;
        }
    }
    c->seed = sc->seed;
    c->mfu_window_s = sc->metrics.mfu_window_s;
    c->sample_s = sc->metrics.sample_s;
    c->events_cycles = sc->output.events == SIM_EVENTS_ALL    ? -1
                       : sc->output.events == SIM_EVENTS_NONE ? 0
                                                              : sc->output.events_cycles;
}

void swarm_config_free(swarm_config *c) {
    free(c->peers);
    free(c->faults.spot_peers);
    free((void *)c->faults.state_profile);
    free((void *)c->faults.speed_profile);
    free((void *)c->faults.bandwidth_profile);
    memset(c, 0, sizeof *c);
}

void run_live_config(const sim_scenario *sc, live_config *o) {
    memset(o, 0, sizeof *o);
    o->time = sc->compute.live_time_modeled ? LIVE_TIME_MODELED : LIVE_TIME_MEASURED;
    static const char *const backends[] = {
        [SIM_BACKEND_AUTO] = "auto", [SIM_BACKEND_CPU] = "cpu", [SIM_BACKEND_CUDA] = "cuda"};
    o->backend = backends[sc->compute.backend];
    o->gpus = sc->compute.gpus;
    o->val_microbatches = sc->compute.val_microbatches;
    o->val_fraction = 0.1;
    o->data = sc->training.data;
    o->loss_window = sc->training.H > 0 ? sc->training.H : 1;
    o->seed = sc->seed;
    if (sc->compute.local_device >= 0 && sc->compute.local_device < sc->devices.n) {
        const sim_device *d = &sc->devices.dev[sc->compute.local_device];
        o->local_peak_flops = d->bf16_flops;
        o->local_mem_bw = d->memory_bw_bytes_per_s;
    }
    const sim_inner_optimizer *in = &sc->training.optimizer;
    o->inner = (live_inner_opt){.kind = in->kind == SIM_OPT_ADAMW ? KO_ADAMW : KO_NADAM,
                                .lr = in->lr,
                                .beta1 = in->beta1,
                                .beta1_span = in->beta1_span,
                                .beta1_iota = in->beta1_rule == SIM_BETA1_IOTA,
                                .beta2 = in->beta2,
                                .weight_decay = in->weight_decay,
                                .eps = in->eps,
                                .momentum_decay = in->momentum_decay,
                                .warmup_steps = in->warmup_steps,
                                .grad_clip = sc->training.grad_clip};
    static const live_outer_kind outer[] = {[SIM_OUTER_NESTEROV] = LIVE_OUTER_NESTEROV,
                                            [SIM_OUTER_SGD] = LIVE_OUTER_SGD,
                                            [SIM_OUTER_AVERAGE] = LIVE_OUTER_AVERAGE};
    const sim_outer_optimizer *out = &sc->sync.outer;
    o->outer = (live_outer_opt){.kind = outer[out->kind],
                                .lr = out->lr,
                                .momentum = out->momentum,
                                .momentum_start = out->momentum_start,
                                .momentum_warmup_cycles = out->momentum_warmup_cycles};
}
