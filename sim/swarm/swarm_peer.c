/* sim/swarm/swarm_peer.c: peers over time: their GPU, the fault processes acting on them
 * (down, up, slow, reclaim notice), rejoining, and the accounting of their GPU time.
 * What a peer's loss means for training or sync is the algorithms' business: the core
 * calls their peer_down and peer_ready handlers. */
#include <math.h>

#include "sim/swarm/swarm_internal.h"

double swarm_peer_peak(const swarm *sw, const peer *p) {
    const swarm_peer_spec *s = &sw->cfg->peers[p->id];
    return s->peak_flops * s->gpus * s->speed;
}

/* ---- GPU-time accounting ---- */

void swarm_acct_enter(swarm *sw, peer *p) {
    if (p->acct_state >= 0 || p->task != TASK_NONE) return;
    p->acct_state = p->state == PEER_DOWN ? ACCT_DOWN
                    : (sw->ph.phase == SWARM_PHASE_TRAINING && p->state == PEER_TRAINING)
                        ? ACCT_IDLE
                        : ACCT_WAITING;
    p->acct_since = nm_now(sw->sim);
}

void swarm_acct_leave(swarm *sw, peer *p) {
    if (p->acct_state < 0) return;
    p->acct[p->acct_state] += nm_to_s(nm_now(sw->sim) - p->acct_since);
    p->acct_state = -1;
}

void swarm_acct_rebucket(swarm *sw) {
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->acct_state < 0) continue;
        swarm_acct_leave(sw, p);
        swarm_acct_enter(sw, p);
    }
}

/* ---- GPU tasks ---- */

static void on_task_done(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    swarm *sw = ctx;
    peer *p = &sw->peers[arg];
    p->task_timer = 0;
    p->task_owner->task_done(sw, p);
}

void swarm_start_gpu_task(swarm *sw, peer *p, const swarm_phase_ops *owner, enum task_kind kind,
                          int64_t mb, double flops, double secs) {
    swarm_acct_leave(sw, p);
    if (!(secs >= 0) || !isfinite(secs)) {
        swarm_fail(sw, "peer %d: task of %g FLOPs has no finite duration (efficiency or peak 0?)",
                   p->id, flops);
        secs = 0;
    }
    p->task = kind;
    p->task_owner = owner;
    p->task_mb = mb;
    p->task_flops = flops;
    p->task_start = nm_now(sw->sim);
    p->task_end = p->task_start + nm_from_s(secs);
    p->task_timer = nm_schedule_at(sw->sim, p->task_end, on_task_done, sw, (uint64_t)p->id);
}

int swarm_any_task(const swarm *sw) {
    for (int i = 0; i < sw->n_peers; i++)
        if (sw->peers[i].task != TASK_NONE) return 1;
    return 0;
}

/* ---- joining ---- */

static void join_done(swarm *sw, const xfer *x, int ok) {
    peer *p = &sw->peers[x->dst];
    if (!ok || p->state != PEER_JOINING) return;
    p->stale = 0;
    const swarm_live_ops *L = sw->cfg->live;
    if (L && L->peer_join && L->peer_join(L->ctx, p->id)) {
        swarm_fail(sw, "live: peer %d rejoin: %s", p->id, L->error ? L->error(L->ctx) : "failed");
        return;
    }
    swarm_acct_leave(sw, p);
    if (sw->ph.phase == SWARM_PHASE_TRAINING) {
        p->state = PEER_TRAINING;
        swarm_acct_enter(sw, p);
        sw->train->peer_ready(sw, p);
    } else {
        p->state = PEER_WAITING;
        swarm_acct_enter(sw, p);
    }
}

static const swarm_xfer_kind XK_JOIN = {"download weights", SWARM_EV_DOWNLOAD_WEIGHTS, XG_JOIN,
                                        join_done};

void swarm_rejoin(swarm *sw, peer *p) {
    p->state = PEER_JOINING;
    xfer_start(
        sw, &XK_JOIN, -2, p->id,
        (int64_t)ceil((double)sw->stage_params[p->stage] * sw->cfg->outer.weight_bytes_per_param),
        -1, -1);
}

/* ---- faults ---- */

static void peer_down(swarm *sw, peer *p) {
    if (p->state == PEER_DOWN) return;
    swarm_peak_advance(sw);
    sw->m.down_events++;
    sw->m.peak_present -= swarm_peer_peak(sw, p);
    swarm_acct_leave(sw, p);
    sw->train->peer_down(sw, p);
    /* a task may still be marked running by a sync merge: abort it too */
    if (p->task != TASK_NONE) {
        double secs = nm_to_s(nm_now(sw->sim) - p->task_start);
        p->acct[p->task == TASK_MERGE ? ACCT_MERGE : ACCT_COMPUTE] += secs;
        if (p->task_timer) nm_cancel(sw->sim, p->task_timer);
        p->task_timer = 0;
        p->task = TASK_NONE;
    }
    enum peer_state was = p->state;
    if (sw->cfg->live && sw->cfg->live->peer_down)
        sw->cfg->live->peer_down(sw->cfg->live->ctx, p->id);
    p->state = PEER_DOWN;
    p->notice = 0;
    p->down_since = nm_now(sw->sim);
    nm_net_set_node_up(sw->net, p->id, 0);
    if (was == PEER_SYNCING || p->sync.member) sw->sync->peer_down(sw, p);
    swarm_acct_enter(sw, p);
}

static void peer_up(swarm *sw, peer *p) {
    if (p->state != PEER_DOWN) return;
    swarm_peak_advance(sw);
    sw->m.peak_present += swarm_peer_peak(sw, p);
    swarm_acct_leave(sw, p);
    swarm_emit(sw, p->id, SWARM_OTHER_NONE, SWARM_EV_DOWN, -1, 0, 0, p->down_since,
               nm_now(sw->sim));
    nm_net_set_node_up(sw->net, p->id, 1);
    p->stale = 1;
    if (sw->ph.phase == SWARM_PHASE_TRAINING && !sw->ph.finished) swarm_rejoin(sw, p);
    else p->state = PEER_WAITING;
    swarm_acct_enter(sw, p);
}

void swarm_on_fault(void *ctx, int node, nm_fault_kind kind, double value, nm_time t) {
    (void)t;
    swarm *sw = ctx;
    peer *p = &sw->peers[node];
    switch (kind) { /* netmodel's fault kinds, not an algorithm */
    case NM_FAULT_DOWN: peer_down(sw, p); break;
    case NM_FAULT_UP: peer_up(sw, p); break;
    case NM_FAULT_SPEED: p->speed_fault = value; break;
    case NM_FAULT_BANDWIDTH:
        p->bw_fault = value;
        nm_net_set_node_bw_factor(sw->net, node, value);
        break;
    case NM_FAULT_RECLAIM_NOTICE: p->notice = 1; break;
    }
}
