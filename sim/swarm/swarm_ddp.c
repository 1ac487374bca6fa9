/* sim/swarm/swarm_ddp.c: the training phase of DDP comparison runs (INTELLECT-1, Covenant-72B).
 *
 * Every peer (a node of `gpus` GPUs) holds the whole model and trains H inner steps on
 * its own data, each step `accum` microbatches of forward + backward; no activation
 * crosses the network. The phase ends when every present peer has done its H steps
 * (synchronous DiLoCo: the slowest peer sets the pace); a peer that joins mid-phase
 * waits for the next one. A peer lost in a sync phase is the sync algorithm's business
 * (the engine calls its peer_down).
 */
#include "sim/swarm/swarm_internal.h"

static void start_step(swarm *sw, peer *p) {
    double flops = (double)sw->cfg->accum * sw->flops[KM_TASK_LAST_FUSED];
    double rate =
        swarm_peer_peak(sw, p) * sw->cfg->compute.efficiency[KM_TASK_LAST_FUSED] * p->speed_fault;
    swarm_start_gpu_task(sw, p, &swarm_train_ddp, TASK_DDP_STEP, -1, flops, flops / rate);
}

static int phase_done(const swarm *sw) {
    for (int i = 0; i < sw->n_peers; i++)
        if (sw->peers[i].state == PEER_TRAINING) return 0;
    return 1;
}

static void on_check(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    swarm *sw = ctx;
    sw->ph.check_pending = 0;
    if (sw->ph.phase == SWARM_PHASE_TRAINING && phase_done(sw)) sw->sched->training_done(sw);
}

static void check(swarm *sw) {
    if (sw->ph.check_pending) return;
    sw->ph.check_pending = 1;
    nm_schedule_in(sw->sim, 0, on_check, sw, 0);
}

static void ddp_begin_phase(swarm *sw) {
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        p->steps_this_cycle = 0;
        if (p->state == PEER_TRAINING || p->state == PEER_SYNCING ||
            (p->state == PEER_WAITING && !p->stale)) {
            swarm_acct_leave(sw, p);
            p->state = PEER_TRAINING;
            start_step(sw, p);
        }
    }
    check(sw);
}

/* A peer that finished joining mid-phase waits for the next phase. */
static void ddp_begin_peer(swarm *sw, peer *p) {
    swarm_acct_leave(sw, p);
    p->state = PEER_WAITING;
    swarm_acct_enter(sw, p);
}

static void ddp_task_done(swarm *sw, peer *p) {
    nm_time t0 = p->task_start, t1 = nm_now(sw->sim);
    double secs = nm_to_s(t1 - t0);
    p->acct[ACCT_COMPUTE] += secs;
    p->task = TASK_NONE;
    swarm_emit(sw, p->id, SWARM_OTHER_NONE, SWARM_EV_LAST_FUSED, -1, 0, p->task_flops, t0, t1);
    int64_t n = sw->cfg->accum;
    sw->count.injected += n;
    sw->count.trained += n;
    sw->count.tokens_trained += n * sw->cfg->microbatch_tokens;
    p->steps_this_cycle++;
    if (p->steps_this_cycle < sw->cfg->H) {
        start_step(sw, p);
        return;
    }
    p->state = PEER_SYNCING;
    swarm_acct_enter(sw, p);
    check(sw);
}

static void ddp_peer_down(swarm *sw, peer *p) {
    if (p->task == TASK_DDP_STEP) {
        double frac = p->task_end > p->task_start ? (double)(nm_now(sw->sim) - p->task_start) /
                                                        (double)(p->task_end - p->task_start)
                                                  : 1;
        sw->count.wasted_flops += p->task_flops * frac;
        sw->count.injected += sw->cfg->accum;
        sw->count.lost += sw->cfg->accum;
        p->acct[ACCT_COMPUTE] += nm_to_s(nm_now(sw->sim) - p->task_start);
        if (p->task_timer) nm_cancel(sw->sim, p->task_timer);
        p->task_timer = 0;
        p->task = TASK_NONE;
    }
    if (sw->ph.phase == SWARM_PHASE_TRAINING) check(sw);
}

const swarm_phase_ops swarm_train_ddp = {
    .name = "ddp",
    .pipelined = 0,
    .begin_phase = ddp_begin_phase,
    .peer_ready = ddp_begin_peer,
    .peer_down = ddp_peer_down,
    .task_done = ddp_task_done,
};
