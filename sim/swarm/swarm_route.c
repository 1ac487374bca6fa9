/* sim/swarm/swarm_route.c: choosing the next-stage peer for an activation.
 *
 * Candidates are the peers of the next stage that are training, not under a reclaim
 * notice, and have a free cache slot.
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
    return q->state == PEER_TRAINING && !q->notice && q->cache_used < sw->cfg->cache_capacity;
}

int route_pick(swarm *sw, peer *from, int next_stage, int64_t mb) {
    (void)mb;
    const int R = sw->R;
    const int *ids = &sw->stage_peers[next_stage * R];
    if (sw->cfg->routing == ROUTE_FIXED) {
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
        if (sw->cfg->routing == ROUTE_IOTA) {
            int free_slots = sw->cfg->cache_capacity - q->cache_used;
            int queue = q->fwd_q.n + q->bwd_q.n + (q->task != TASK_NONE);
            w[n] = log((double)free_slots) + 1.0 / (1.0 + queue);
        } else {
            w[n] = q->ema_rate > 0 ? q->ema_rate : 1.0;
        }
        n++;
    }
    if (n == 0) return -1;
    if (n == 1) return idx[0];
    if (sw->cfg->routing == ROUTE_IOTA) {
        long k = nm_rng_choose(&from->rng, w, (size_t)n);
        return idx[k < 0 ? 0 : k];
    }
    /* smooth weighted round-robin over the candidates */
    double total = 0;
    int best = 0;
    for (int i = 0; i < n; i++) {
        peer *q = &sw->peers[idx[i]];
        q->swrr_current += w[i];
        total += w[i];
        if (q->swrr_current > sw->peers[idx[best]].swrr_current) best = i;
    }
    sw->peers[idx[best]].swrr_current -= total;
    return idx[best];
}

/* Throughput EMA for the swarm policy: effective FLOP/s of the peer's tasks (tasks of
 * different kinds differ in size; FLOP/s makes them comparable). */
void route_observe(swarm *sw, peer *p, double flops, double task_s) {
    if (task_s <= 0) return;
    double rate = flops / task_s;
    double a = sw->cfg->swarm_ema;
    p->ema_rate = p->ema_rate > 0 ? (1 - a) * p->ema_rate + a * rate : rate;
}
