/* sim/swarm/swarm_train.c: the training phase (IOTA's pipeline).
 *
 * Stage-0 peers inject microbatches when their GPU is free, their activation cache has
 * room and the fetch-loop period (inject_period_s) has passed. A forward at stage s
 * leaves its input cached, then the activation is routed to a stage s+1 peer
 * (swarm_route.c); when no stage s+1 peer can take it, it waits in the sender's outbound
 * queue (parked) until one can. The last stage runs forward + loss + backward in one
 * task and sends the gradient back to the peer that sent the activation; each stage
 * then runs its backward (recomputing the forward when configured) and passes the
 * gradient on, down to stage 0, where the microbatch counts as trained.
 *
 * Where the receiver's cache slot is taken (pipeline.slot_at):
 *   forward  (IOTA) when its forward starts; a receiver accepts at most forward_queue
 *            activations waiting for their forward (in flight included) and must show a
 *            free slot to be picked; a forward that finds the cache full is retried
 *            after cache_full_wait_s (IOTA sleeps 1 s);
 *   route    when the sender picks it, so a receiver never holds more than its capacity.
 * Timeouts (training.timeout_rule):
 *   iota       a cached input of stage s is dropped cache_ttl_s x (S - s) after it was
 *              cached (IOTA's cache cleanup), and an activation waiting in its sender's
 *              outbound queue longer than activation_timeout_s is dropped (IOTA's
 *              ACTIVATION_SEND_TTL); in-flight round trips have no limit of their own;
 *   roundtrip  an activation whose gradient is not back activation_timeout_s after it
 *              was sent is dropped (the engine before issue 12).
 * A dropped entry loses its microbatch. auto_max_cache lets a peer's cache take every
 * forward until it completed 3 backwards, then freezes it at max(capacity, entries).
 * Unless keep_cache_on_local_step, a peer's cache is wiped (its cached microbatches
 * lost) after each of its inner optimizer steps (IOTA's optimization_reset). A peer that
 * goes down loses its cache, its queued work and its running task; flows to and from it
 * fail. Per-microbatch overheads (stage0_fetch_s, last_target_s, per_hop_s) lengthen
 * the tasks they belong to.
 *
 * The phase ends when stage 0 has completed H x accum x replicas backwards (phase_end):
 *   discard  (IOTA) everything in flight is dropped at once, caches and queues cleared,
 *            partial accumulations discarded (no extra optimizer step);
 *   drain    every microbatch still in flight is resolved (trained or lost), then peers
 *            take a last optimizer step on any partial accumulation.
 * Synchronisation begins when every GPU is idle.
 */
#include <math.h>
#include <string.h>

#include "sim/swarm/swarm_internal.h"
#include "sim/base/util.h"

/* The two transfers of the training phase (their handlers are below). */
static const swarm_xfer_kind XK_ACTIVATION, XK_GRADIENT;

/* ---- microbatches ---- */

int64_t mb_new(swarm *sw, int cycle) {
    if (sw->mb.n == sw->mb.cap) {
        sw->mb.cap = sw->mb.cap ? sw->mb.cap * 2 : 4096;
        sw->mb.recs = xrealloc(sw->mb.recs, sizeof *sw->mb.recs * (size_t)sw->mb.cap);
        sw->mb.paths = xrealloc(sw->mb.paths,
                                sizeof *sw->mb.paths * (size_t)sw->mb.cap * (size_t)sw->n_stages);
    }
    int64_t id = sw->mb.n++;
    mb_rec *m = &sw->mb.recs[id];
    memset(m, 0, sizeof *m);
    m->id = id;
    m->cycle = cycle;
    for (int s = 0; s < sw->n_stages; s++) sw->mb.paths[id * sw->n_stages + s] = -1;
    sw->count.injected++;
    sw->count.in_flight++;
    return id;
}

static int *mb_path(swarm *sw, int64_t mb) { return &sw->mb.paths[mb * sw->n_stages]; }

static void check_drain(swarm *sw);

void mb_lose(swarm *sw, int64_t mb) {
    mb_rec *m = &sw->mb.recs[mb];
    if (m->lost || m->trained) return;
    m->lost = 1;
    sw->count.lost++;
    sw->count.in_flight--;
    sw->count.wasted_flops += m->flops;
    swarm_emit(sw, mb_path(sw, mb)[0] >= 0 ? mb_path(sw, mb)[0] : 0, -1, SWARM_EV_DROPPED, mb, 0,
               m->flops, nm_now(sw->sim), nm_now(sw->sim));
    check_drain(sw);
}

static void mb_trained(swarm *sw, int64_t mb) {
    mb_rec *m = &sw->mb.recs[mb];
    m->trained = 1;
    sw->count.trained++;
    sw->count.in_flight--;
    sw->count.tokens_trained += sw->cfg->microbatch_tokens;
    sw->ph.done_this_phase++;
    if (!sw->ph.draining && sw->ph.done_this_phase >= sw->ph.target_mbs) sw->ph.draining = 1;
    check_drain(sw);
}

/* ---- the activation cache ---- */

static int cache_find(const peer *p, int64_t mb) {
    for (int i = 0; i < p->cache_n; i++)
        if (p->cache[i].mb == mb) return i;
    return -1;
}

/* Room for one more entry: below the capacity, or still growing (auto_max_cache). */
int swarm_cache_has_room(const swarm *sw, const peer *p) {
    if (sw->cfg->auto_max_cache && p->backwards_total < 3) return p->cache_used < p->cache_n;
    return p->cache_used < p->cache_cap;
}

static void arm_deadline(swarm *sw, peer *p, int slot, nm_time deadline);

static int cache_alloc(swarm *sw, peer *p, int64_t mb) {
    for (int i = 0; i < p->cache_n; i++)
        if (p->cache[i].mb < 0) {
            p->cache[i].mb = mb;
            p->cache[i].deadline = 0;
            p->cache[i].sent = 0;
            p->cache_used++;
            /* IOTA's cache TTL runs from the moment the input is cached */
            if (!sw->cfg->timeout_roundtrip && sw->cfg->cache_ttl_s > 0)
                arm_deadline(sw, p, i,
                             nm_now(sw->sim) +
                                 nm_from_s(sw->cfg->cache_ttl_s * (sw->n_stages - p->stage)));
            return i;
        }
    SIM_FAIL("peer %d: cache full (%d slots) at a reservation", p->id, p->cache_n);
}

static void unpark(swarm *sw, int stage);
static void train_kick(swarm *sw, peer *p);

/* Live mode: the peer lets go of a microbatch it will not run a backward for. */
static void live_drop(swarm *sw, peer *p, int64_t mb) {
    const swarm_live_ops *L = sw->cfg->live;
    if (L && L->drop) L->drop(L->ctx, p->id, mb);
}

static void cache_release(swarm *sw, peer *p, int slot) {
    p->cache[slot].deadline = 0;
    p->cache[slot].mb = -1;
    p->cache_used--;
    /* A freed slot lets a parked activation of the previous stage in, or stage 0 inject
     * (a forward waiting for a slot retries on its own timer when cache_full_wait_s > 0). */
    if (p->stage > 0) unpark(sw, p->stage - 1);
    if (p->stage == 0 || !sw->cfg->slot_at_forward || sw->cfg->cache_full_wait_s <= 0)
        train_kick(sw, p);
}

/* Deadlines. Every entry of a peer gets the same delay (the stage's cache TTL, or the
 * round-trip timeout), so its deadlines come in the order they are armed: one FIFO and
 * one timer per peer (for the earliest deadline) replace a timer per entry; an entry
 * that no longer needs one just clears its deadline. */
static void on_timeout(nm_sim *sim, void *ctx, uint64_t arg) {
    swarm *sw = ctx;
    peer *p = &sw->peers[arg];
    nm_time now = nm_now(sim);
    p->to_timer = 0;
    while (p->to_q.n) {
        int64_t mb = p->to_q.v[p->to_q.head];
        int slot = cache_find(p, mb);
        if (slot < 0 || p->cache[slot].deadline == 0) {
            mbq_pop(&p->to_q);
            continue;
        }
        if (p->cache[slot].deadline > now) {
            p->to_timer =
                nm_schedule_at(sim, p->cache[slot].deadline, on_timeout, sw, (uint64_t)p->id);
            return;
        }
        mbq_pop(&p->to_q);
        cache_release(sw, p, slot);
        live_drop(sw, p, mb);
        mb_lose(sw, mb);
    }
}

static void arm_deadline(swarm *sw, peer *p, int slot, nm_time deadline) {
    p->cache[slot].deadline = deadline;
    mbq_push(&p->to_q, p->cache[slot].mb);
    if (!p->to_timer)
        p->to_timer = nm_schedule_at(sw->sim, deadline, on_timeout, sw, (uint64_t)p->id);
}

static void timeouts_clear(swarm *sw, peer *p) {
    if (p->to_timer) nm_cancel(sw->sim, p->to_timer);
    p->to_timer = 0;
    mbq_clear(&p->to_q);
}

/* ---- sending activations and gradients ---- */

/* The outbound TTL (IOTA's ACTIVATION_SEND_TTL): parked activations of a stage wait in
 * park order, so one timer per stage watches the oldest. */
static void on_park_timeout(nm_sim *sim, void *ctx, uint64_t arg) {
    swarm *sw = ctx;
    int stage = (int)arg;
    mbq *q = &sw->mb.parked[stage];
    nm_time now = nm_now(sim), ttl = nm_from_s(sw->cfg->activation_timeout_s);
    sw->mb.park_timer[stage] = 0;
    while (q->n) {
        int64_t mb = q->v[q->head];
        mb_rec *m = &sw->mb.recs[mb];
        int sender = mb_path(sw, mb)[stage];
        peer *p = &sw->peers[sender];
        int slot = cache_find(p, mb);
        if (m->lost || slot < 0) { /* gone meanwhile */
            mbq_pop(q);
            continue;
        }
        if (m->parked_at + ttl > now) {
            sw->mb.park_timer[stage] =
                nm_schedule_at(sim, m->parked_at + ttl, on_park_timeout, sw, (uint64_t)stage);
            return;
        }
        mbq_pop(q);
        cache_release(sw, p, slot);
        live_drop(sw, p, mb);
        mb_lose(sw, mb);
    }
}

static void park(swarm *sw, peer *p, int64_t mb) {
    mbq_push(&sw->mb.parked[p->stage], mb);
    if (sw->cfg->timeout_roundtrip) return;
    mb_rec *m = &sw->mb.recs[mb];
    if (!m->parked_at) m->parked_at = nm_now(sw->sim) ? nm_now(sw->sim) : 1;
    if (!sw->mb.park_timer[p->stage])
        sw->mb.park_timer[p->stage] =
            nm_schedule_at(sw->sim, m->parked_at + nm_from_s(sw->cfg->activation_timeout_s),
                           on_park_timeout, sw, (uint64_t)p->stage);
}

static void send_activation(swarm *sw, peer *p, int64_t mb) {
    int next = p->stage + 1;
    int q = route_pick(sw, p, next, mb);
    if (q < 0) {
        park(sw, p, mb);
        return;
    }
    peer *pq = &sw->peers[q];
    if (sw->cfg->slot_at_forward) pq->fwd_incoming++;
    else cache_alloc(sw, pq, mb);
    sw->mb.recs[mb].parked_at = 0;
    mb_path(sw, mb)[next] = q;
    int slot = cache_find(p, mb);
    p->cache[slot].sent = 1;
    if (sw->cfg->timeout_roundtrip)
        arm_deadline(sw, p, slot, nm_now(sw->sim) + nm_from_s(sw->cfg->activation_timeout_s));
    int64_t bytes =
        km_activation_bytes(&sw->cfg->model, &sw->cfg->boundary, sw->cfg->microbatch_tokens);
    xfer_start(sw, &XK_ACTIVATION, p->id, q, bytes, mb, -1);
}

static void send_gradient(swarm *sw, peer *p, int64_t mb) {
    int up = mb_path(sw, mb)[p->stage - 1];
    int64_t bytes =
        km_activation_bytes(&sw->cfg->model, &sw->cfg->boundary, sw->cfg->microbatch_tokens);
    xfer_start(sw, &XK_GRADIENT, p->id, up, bytes, mb, -1);
}

/* Parked activations of `stage` try again to find a slot downstream. */
static void unpark(swarm *sw, int stage) {
    mbq *q = &sw->mb.parked[stage];
    int n = q->n;
    for (int i = 0; i < n; i++) {
        int64_t mb = mbq_pop(q);
        int sender = mb_path(sw, mb)[stage];
        peer *p = &sw->peers[sender];
        if (sw->mb.recs[mb].lost || p->state != PEER_TRAINING || cache_find(p, mb) < 0)
            continue; /* gone: the sender lost it */
        int before = q->n;
        send_activation(sw, p, mb);
        if (q->n > before) { /* parked again at the back, keeping its parked_at */
            /* still no room: keep the rest in order behind it */
            for (int j = i + 1; j < n; j++) mbq_push(q, mbq_pop(q));
            return;
        }
    }
}

/* ---- GPU tasks ---- */

static km_task km_kind_of(const swarm *sw, enum task_kind k) {
    static const km_task kinds[] = {
        [TASK_NONE] = KM_TASK_OPTIMIZER,      [TASK_FORWARD] = KM_TASK_FORWARD,
        [TASK_BACKWARD] = KM_TASK_BACKWARD,   [TASK_FUSED] = KM_TASK_LAST_FUSED,
        [TASK_OPTIMIZER] = KM_TASK_OPTIMIZER, [TASK_MERGE] = KM_TASK_OPTIMIZER,
        [TASK_DDP_STEP] = KM_TASK_OPTIMIZER};
    if (k == TASK_BACKWARD && sw->cfg->recompute) return KM_TASK_BACKWARD_RECOMPUTE;
    return kinds[k];
}

static void start_task(swarm *sw, peer *p, enum task_kind kind, int64_t mb) {
    km_task kk = km_kind_of(sw, kind);
    double flops = sw->flops[p->stage * KM_TASK_KINDS + kk];
    double secs;
    const swarm_live_ops *L = sw->cfg->live;
    if (L && L->task) { /* live: run the real kernels now; they tell how long it took */
        swarm_task_info t = {.peer = p->id,
                             .stage = p->stage,
                             .kind = kk,
                             .microbatch = mb,
                             .from_peer = -1,
                             .cycle = sw->ph.cycle,
                             .inner_step = p->steps_this_cycle,
                             .tokens = sw->cfg->microbatch_tokens,
                             .flops = flops,
                             .t_start = nm_now(sw->sim),
                             .speed = p->speed_fault};
        if (mb >= 0 && kind == TASK_BACKWARD) t.from_peer = mb_path(sw, mb)[p->stage + 1];
        else if (mb >= 0 && p->stage > 0) t.from_peer = mb_path(sw, mb)[p->stage - 1];
        secs = L->task(L->ctx, &t);
        if (secs >= 0) secs /= p->speed_fault;
        if (secs < 0) {
            swarm_fail(sw, "live: peer %d stage %d %s of microbatch %lld: %s", p->id, p->stage,
                       km_task_name(kk), (long long)mb, L->error ? L->error(L->ctx) : "failed");
            secs = 0;
        }
    } else if (kind == TASK_OPTIMIZER) { /* memory-bound: bytes / (memory bandwidth x efficiency) */
        double bytes = (double)sw->stage_params[p->stage] * sw->cfg->compute.opt_bytes_per_param;
        secs = bytes /
               (sw->cfg->peers[p->id].mem_bw * sw->cfg->compute.efficiency[kk] * p->speed_fault);
    } else {
        secs = flops / (swarm_peer_peak(sw, p) * sw->cfg->compute.efficiency[kk] * p->speed_fault);
    }
    /* IOTA's per-microbatch costs besides the kernels (pipeline.overhead) */
    if (kind == TASK_FORWARD || kind == TASK_FUSED) {
        if (p->stage == 0) secs += sw->cfg->stage0_fetch_s;
        if (kind == TASK_FUSED) secs += sw->cfg->last_target_s;
    }
    if ((kind == TASK_FORWARD && p->stage < sw->last) || (kind == TASK_BACKWARD && p->stage > 0) ||
        (kind == TASK_FUSED && p->stage > 0))
        secs += sw->cfg->per_hop_s;
    swarm_start_gpu_task(sw, p, &swarm_train_pipeline, kind, mb, flops, secs);
}

static void on_retry(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    swarm *sw = ctx;
    peer *p = &sw->peers[arg];
    p->retry_timer = 0;
    train_kick(sw, p);
}

static void retry_at(swarm *sw, peer *p, nm_time t) {
    if (p->retry_timer) return;
    p->retry_timer = nm_schedule_at(sw->sim, t, on_retry, sw, (uint64_t)p->id);
}

static void train_kick(swarm *sw, peer *p) {
    if (p->task != TASK_NONE || p->state != PEER_TRAINING) return;
    if (p->opt_pending > 0) {
        p->opt_pending--;
        start_task(sw, p, TASK_OPTIMIZER, -1);
        return;
    }
    while (p->bwd_q.n) {
        int64_t mb = mbq_pop(&p->bwd_q);
        if (cache_find(p, mb) < 0) continue; /* timed out meanwhile */
        start_task(sw, p, TASK_BACKWARD, mb);
        return;
    }
    enum task_kind fwd = p->stage == sw->last ? TASK_FUSED : TASK_FORWARD;
    if (sw->cfg->slot_at_forward) {
        /* IOTA: the slot is taken when the forward starts */
        while (p->fwd_q.n) {
            int64_t mb = p->fwd_q.v[p->fwd_q.head];
            if (sw->mb.recs[mb].lost) {
                mbq_pop(&p->fwd_q);
                continue;
            }
            if (!swarm_cache_has_room(sw, p)) {
                if (sw->cfg->cache_full_wait_s > 0)
                    retry_at(sw, p, nm_now(sw->sim) + nm_from_s(sw->cfg->cache_full_wait_s));
                break; /* the forward waits; stage 0 cannot inject either */
            }
            mbq_pop(&p->fwd_q);
            cache_alloc(sw, p, mb);
            start_task(sw, p, fwd, mb);
            if (p->stage > 0) unpark(sw, p->stage - 1); /* a queue place freed */
            return;
        }
    } else {
        while (p->fwd_q.n) {
            int64_t mb = mbq_pop(&p->fwd_q);
            if (cache_find(p, mb) < 0) continue;
            start_task(sw, p, fwd, mb);
            return;
        }
    }
    if (p->stage == 0 && !sw->ph.draining && !p->notice && swarm_cache_has_room(sw, p) &&
        sw->ph.phase == SWARM_PHASE_TRAINING && !sw->ph.finished) {
        nm_time now = nm_now(sw->sim);
        if (now < p->next_inject) { /* IOTA's layer-0 fetch loop period */
            retry_at(sw, p, p->next_inject);
        } else {
            p->next_inject = now + nm_from_s(sw->cfg->inject_period_s);
            int64_t mb = mb_new(sw, sw->ph.cycle);
            mb_path(sw, mb)[0] = p->id;
            cache_alloc(sw, p, mb);
            start_task(sw, p, sw->last == 0 ? TASK_FUSED : TASK_FORWARD, mb);
            return;
        }
    }
    swarm_acct_enter(sw, p);
}

/* IOTA's optimization_reset: after an inner step the cache is wiped and its
 * microbatches are lost (unless keep_cache_on_local_step). */
static void cache_wipe(swarm *sw, peer *p) {
    for (int i = 0; i < p->cache_n; i++) {
        int64_t mb = p->cache[i].mb;
        if (mb < 0) continue;
        p->cache[i].deadline = 0;
        p->cache[i].mb = -1;
        p->cache_used--;
        live_drop(sw, p, mb);
        mb_lose(sw, mb);
    }
    mbq_clear(&p->to_q);
    if (p->to_timer) nm_cancel(sw->sim, p->to_timer);
    p->to_timer = 0;
    if (p->stage > 0) unpark(sw, p->stage - 1);
}

static void count_backward(swarm *sw, peer *p) {
    if (++p->backwards_since_step >= sw->cfg->accum) {
        p->backwards_since_step = 0;
        p->opt_pending++;
    }
}

static void train_task_done(swarm *sw, peer *p) {
    enum task_kind kind = p->task;
    int64_t mb = p->task_mb;
    nm_time t0 = p->task_start, t1 = nm_now(sw->sim);
    double flops = p->task_flops;
    km_task kk = km_kind_of(sw, kind);
    double secs = nm_to_s(t1 - t0);
    /* busy-time accounting: the recompute share of a recomputing backward is its forward */
    if (kind == TASK_OPTIMIZER) p->acct[ACCT_OPTIMIZER] += secs;
    else if (kk == KM_TASK_BACKWARD_RECOMPUTE) {
        double f_fwd = sw->flops[p->stage * KM_TASK_KINDS + KM_TASK_FORWARD];
        double share = flops > 0 ? f_fwd / flops : 0;
        p->acct[ACCT_RECOMPUTE] += secs * share;
        p->acct[ACCT_COMPUTE] += secs * (1 - share);
    } else p->acct[ACCT_COMPUTE] += secs;
    p->task = TASK_NONE;
    p->task_mb = -1;

    int ev = kind == TASK_FORWARD     ? SWARM_EV_FORWARD
             : kind == TASK_FUSED     ? SWARM_EV_LAST_FUSED
             : kind == TASK_OPTIMIZER ? SWARM_EV_OPTIMIZER
             : sw->cfg->recompute     ? SWARM_EV_RECOMPUTE_BACKWARD
                                      : SWARM_EV_BACKWARD;
    swarm_emit(sw, p->id, -1, ev, mb, 0, flops, t0, t1);

    if (kind == TASK_OPTIMIZER) {
        p->steps_this_cycle++;
        if (!sw->cfg->keep_cache_on_local_step) cache_wipe(sw, p);
    } else {
        mb_rec *m = &sw->mb.recs[mb];
        if (m->lost) sw->count.wasted_flops += flops;
        else m->flops += flops;
        route_observe(sw, p, flops, secs);
        int slot = cache_find(p, mb);
        if (kind != TASK_FORWARD && ++p->backwards_total == 3 && sw->cfg->auto_max_cache &&
            p->cache_used > p->cache_cap)
            p->cache_cap = p->cache_used; /* auto_max_cache freezes here */
        if (kind == TASK_FORWARD) {
            if (m->lost) {
                if (slot >= 0) cache_release(sw, p, slot);
                live_drop(sw, p, mb);
            } else {
                send_activation(sw, p, mb);
            }
        } else { /* backward or fused: the microbatch leaves this peer */
            count_backward(sw, p);
            if (!m->lost) {
                if (p->stage > 0) send_gradient(sw, p, mb);
                else mb_trained(sw, mb); /* before the slot frees: no injection past the target */
            }
            if (slot >= 0) cache_release(sw, p, slot);
        }
    }
    train_kick(sw, p);
    check_drain(sw);
}

/* ---- transfers of the training phase ---- */

static void activation_done(swarm *sw, const xfer *x, int ok) {
    int64_t mb = x->mb;
    peer *q = &sw->peers[x->dst];
    int qslot = sw->cfg->slot_at_forward ? -1 : cache_find(q, mb);
    if (sw->cfg->slot_at_forward && q->fwd_incoming > 0) q->fwd_incoming--;
    if (!ok) {
        /* the receiver or the sender went down: the sender drops its cached input */
        peer *p = &sw->peers[x->src];
        int ps = cache_find(p, mb);
        if (ps >= 0) {
            cache_release(sw, p, ps);
            live_drop(sw, p, mb);
        }
        if (qslot >= 0) {
            cache_release(sw, q, qslot);
            live_drop(sw, q, mb);
        }
        mb_lose(sw, mb);
        if (sw->cfg->slot_at_forward && q->stage > 0) unpark(sw, q->stage - 1);
        return;
    }
    if (sw->cfg->slot_at_forward) {
        if (sw->mb.recs[mb].lost || q->state != PEER_TRAINING) {
            live_drop(sw, q, mb);
            if (q->stage > 0) unpark(sw, q->stage - 1);
            return;
        }
        mbq_push(&q->fwd_q, mb);
        train_kick(sw, q);
        return;
    }
    if (qslot < 0) return; /* the receiver went down and lost its reservation */
    if (sw->mb.recs[mb].lost || q->state != PEER_TRAINING) {
        cache_release(sw, q, qslot);
        live_drop(sw, q, mb);
        return;
    }
    mbq_push(&q->fwd_q, mb);
    train_kick(sw, q);
}

static void gradient_done(swarm *sw, const xfer *x, int ok) {
    int64_t mb = x->mb;
    if (!ok) {
        mb_lose(sw, mb);
        return;
    }
    peer *p = &sw->peers[x->dst];
    int slot = cache_find(p, mb);
    if (slot < 0) return;        /* timed out: the microbatch is already lost */
    p->cache[slot].deadline = 0; /* answered: its backward runs next */
    mbq_push(&p->bwd_q, mb);
    train_kick(sw, p);
}

static const swarm_xfer_kind XK_ACTIVATION = {"activation", SWARM_EV_SEND_ACTIVATION, XG_TRAINING,
                                              activation_done};
static const swarm_xfer_kind XK_GRADIENT = {"gradient", SWARM_EV_SEND_GRADIENT, XG_TRAINING,
                                            gradient_done};

/* ---- peers coming and going ---- */

static void abort_task(swarm *sw, peer *p) {
    if (p->task == TASK_NONE) return;
    nm_time now = nm_now(sw->sim);
    double secs = nm_to_s(now - p->task_start);
    double frac = p->task_end > p->task_start
                      ? (double)(now - p->task_start) / (double)(p->task_end - p->task_start)
                      : 1;
    if (p->task == TASK_OPTIMIZER) p->acct[ACCT_OPTIMIZER] += secs;
    else if (p->task == TASK_MERGE) p->acct[ACCT_MERGE] += secs;
    else {
        p->acct[ACCT_COMPUTE] += secs;
        sw->count.wasted_flops += p->task_flops * frac;
    }
    if (p->task_timer) nm_cancel(sw->sim, p->task_timer);
    p->task_timer = 0;
    p->task = TASK_NONE;
    p->task_mb = -1;
}

static void train_peer_down(swarm *sw, peer *p) {
    abort_task(sw, p);
    if (p->retry_timer) nm_cancel(sw->sim, p->retry_timer);
    p->retry_timer = 0;
    /* slot_at = forward: activations waiting for their forward hold no slot here */
    while (p->fwd_q.n) mb_lose(sw, mbq_pop(&p->fwd_q));
    for (int i = 0; i < p->cache_n; i++) {
        int64_t mb = p->cache[i].mb;
        if (mb < 0) continue;
        p->cache[i].deadline = 0;
        p->cache[i].mb = -1;
        p->cache_used--;
        mb_lose(sw, mb);
    }
    mbq_clear(&p->fwd_q);
    mbq_clear(&p->bwd_q);
    timeouts_clear(sw, p);
    p->opt_pending = 0;
    p->backwards_since_step = 0;
    if (p->stage > 0) unpark(sw, p->stage - 1);
}

static void train_peer_ready(swarm *sw, peer *p) {
    if (p->stage > 0) unpark(sw, p->stage - 1);
    train_kick(sw, p);
}

/* ---- phase boundaries ---- */

static int any_gpu_busy(const swarm *sw) {
    for (int i = 0; i < sw->n_peers; i++)
        if (sw->peers[i].task != TASK_NONE || sw->peers[i].opt_pending) return 1;
    return 0;
}

/* After the last microbatch resolved: abort work on lost microbatches, flush partial
 * accumulations into a last optimizer step, and start synchronisation when all is idle.
 * Runs as its own event (at the current time) so that it never changes the swarm under
 * a caller that is iterating over it. */
static void on_check_drain(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    swarm *sw = ctx;
    sw->ph.check_pending = 0;
    const int drain = sw->cfg->phase_drain;
    if (!sw->ph.draining || (drain && sw->count.in_flight > 0) ||
        sw->ph.phase != SWARM_PHASE_TRAINING)
        return;
    if (!drain) {
        /* IOTA: the orchestrator changes the layer state; whatever is in flight is lost */
        sw->ph.check_pending = 1; /* no re-entry from mb_lose */
        for (int64_t mb = sw->ph.phase_first_mb; mb < sw->mb.n; mb++) mb_lose(sw, mb);
        sw->ph.check_pending = 0;
    }
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->task == TASK_FORWARD || p->task == TASK_BACKWARD || p->task == TASK_FUSED) {
            abort_task(sw, p);
            swarm_acct_enter(sw, p);
        }
        if (p->retry_timer) nm_cancel(sw->sim, p->retry_timer);
        p->retry_timer = 0;
        p->fwd_incoming = 0;
        for (int s = 0; s < p->cache_n; s++) {
            if (p->cache[s].mb < 0) continue;
            live_drop(sw, p, p->cache[s].mb);
            p->cache[s].deadline = 0;
            p->cache[s].mb = -1;
        }
        p->cache_used = 0;
        mbq_clear(&p->fwd_q);
        mbq_clear(&p->bwd_q);
        timeouts_clear(sw, p);
        if (drain && p->state == PEER_TRAINING && p->backwards_since_step > 0)
            p->opt_pending++; /* drain: a partial accumulation takes one more step */
        p->backwards_since_step = 0;
    }
    for (int s = 0; s < sw->n_stages; s++) {
        mbq_clear(&sw->mb.parked[s]);
        if (sw->mb.park_timer[s]) nm_cancel(sw->sim, sw->mb.park_timer[s]);
        sw->mb.park_timer[s] = 0;
    }
    xfer_cancel_group(sw, XG_TRAINING);
    for (int i = 0; i < sw->n_peers; i++) train_kick(sw, &sw->peers[i]);
    if (any_gpu_busy(sw)) return;
    sw->sched->training_done(sw);
}

static void check_drain(swarm *sw) {
    if (!sw->ph.draining || (sw->cfg->phase_drain && sw->count.in_flight > 0) ||
        sw->ph.phase != SWARM_PHASE_TRAINING || sw->ph.check_pending)
        return;
    sw->ph.check_pending = 1;
    nm_schedule_in(sw->sim, 0, on_check_drain, sw, 0);
}

static void train_begin_phase(swarm *sw) {
    sw->ph.target_mbs = (int64_t)sw->cfg->H * sw->cfg->accum * sw->R;
    sw->ph.phase_first_mb = sw->mb.n;
    sw->ph.done_this_phase = 0;
    sw->ph.draining = 0;
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        p->steps_this_cycle = 0;
        p->backwards_since_step = 0;
    }
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->state == PEER_WAITING || p->state == PEER_SYNCING || p->state == PEER_TRAINING) {
            swarm_acct_leave(sw, p);
            p->state = PEER_TRAINING;
            swarm_acct_enter(sw, p);
            train_peer_ready(sw, p);
        }
    }
}

const swarm_phase_ops swarm_train_pipeline = {
    .name = "pipeline",
    .pipelined = 1,
    .begin_phase = train_begin_phase,
    .peer_ready = train_peer_ready,
    .peer_down = train_peer_down,
    .task_done = train_task_done,
};
