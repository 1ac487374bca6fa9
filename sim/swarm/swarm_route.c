/* sim/swarm/swarm_route.c: choosing the next-stage peer for an activation.
 *
 * Candidates are the peers of the next stage that are training, not under a reclaim
 * notice, and have a free cache slot (and, with pipeline.slot_at = "forward", fewer than
 * forward_queue activations waiting for their forward).
 *   iota   IOTA's stochastic pathfinding: a random pick weighted by
 *          ln(capacity - used) + 1 / (1 + queue length)           (SPEC §3.2)
 *   swarm  SWARM's interleaved weighted round-robin by measured throughput: each
 *          peer's weight is an EMA of its microbatches per second, and the smooth
 *          weighted round-robin (current += weight; pick the largest; subtract the
 *          total) hands out picks in proportion to the weights.
 *   fixed  static replica paths: replica r's stage s+1 peer, or nothing (the activation
 *          waits for it).
 * Draws use the sending peer's own random stream, so routing is reproducible.
 */
#include <math.h>

#include "sim/swarm/swarm_internal.h"

static int candidate(const swarm *sw, const peer *q) {
    if (q->state != PEER_TRAINING || q->notice || !swarm_cache_has_room(sw, q)) return 0;
    /* slot_at = forward: at most forward_queue activations wait for their forward */
    return !sw->cfg->slot_at_forward || q->fwd_q.n + q->fwd_incoming < sw->cfg->forward_queue;
}

int route_pick(swarm *sw, peer *from, int next_stage, int64_t mb) {
    (void)mb;
    const swarm_router *rt = sw->router;
    const int R = sw->R;
    const int *ids = &sw->stage_peers[next_stage * R];
    if (!rt->weight) { /* the fixed replica path */
        peer *q = &sw->peers[ids[from->replica]];
        return candidate(sw, q) ? q->id : -1;
    }
    double w[64];
    int idx[64];
    int n = 0;
    for (int r = 0; r < R && n < 64; r++) {
        peer *q = &sw->peers[ids[r]];
        if (!candidate(sw, q)) continue;
        idx[n] = q->id;
        w[n] = rt->weight(sw, q);
        n++;
    }
    if (n == 0) return -1;
    if (n == 1) return idx[0];
    return rt->choose(sw, from, idx, w, n);
}

/* iota: ln(free slots) + 1 / (1 + queue), a random pick in proportion. */
static double iota_weight(const swarm *sw, const peer *q) {
    int cap = sw->cfg->auto_max_cache && q->backwards_total < 3 ? q->cache_n : q->cache_cap;
    int free_slots = cap - q->cache_used;
    int queue = q->fwd_q.n + q->bwd_q.n + (q->task != TASK_NONE);
    return log((double)free_slots) + 1.0 / (1.0 + queue);
}

static int iota_choose(swarm *sw, peer *from, const int *idx, const double *w, int n) {
    (void)sw;
    long k = nm_rng_choose(&from->route.rng, w, (size_t)n);
    return idx[k < 0 ? 0 : k];
}

/* swarm: measured throughput, smooth weighted round-robin over the candidates. */
static double swarm_weight(const swarm *sw, const peer *q) {
    (void)sw;
    return q->route.ema_rate > 0 ? q->route.ema_rate : 1.0;
}

static int swarm_choose(swarm *sw, peer *from, const int *idx, const double *w, int n) {
    (void)from;
    double total = 0;
    int best = 0;
    for (int i = 0; i < n; i++) {
        peer *q = &sw->peers[idx[i]];
        q->route.swrr_current += w[i];
        total += w[i];
        if (q->route.swrr_current > sw->peers[idx[best]].route.swrr_current) best = i;
    }
    sw->peers[idx[best]].route.swrr_current -= total;
    return idx[best];
}

const swarm_router swarm_route_iota = {"iota", iota_weight, iota_choose};
const swarm_router swarm_route_swarm = {"swarm", swarm_weight, swarm_choose};
const swarm_router swarm_route_fixed = {"fixed", NULL, NULL};

/* Throughput EMA for the swarm policy: effective FLOP/s of the peer's tasks (tasks of
 * different kinds differ in size; FLOP/s makes them comparable). */
void route_observe(swarm *sw, peer *p, double flops, double task_s) {
    if (task_s <= 0) return;
    double rate = flops / task_s;
    double a = sw->cfg->swarm_ema;
    p->route.ema_rate = p->route.ema_rate > 0 ? (1 - a) * p->route.ema_rate + a * rate : rate;
}
