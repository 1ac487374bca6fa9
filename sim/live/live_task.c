/* sim/live/live_task.c: live mode's compute hooks -- forward, backward, fused last step,
 * inner optimizer step -- and the hooks that take tensors away (drop, peer down).
 * See live.h for the semantics and live_internal.h for the microbatch records. */
#include <math.h>
#include <string.h>

#include "sim/live/live_internal.h"
#include "sim/base/util.h"

static kb_backend *be_of(live *L, const live_peer *p) { return L->dev[p->dev].be; }

/* ---- activation slots (recompute = 0) ---- */

static int slot_take(live_peer *p, int64_t mb) {
    if (!p->n_slots) return 0;
    for (int k = 0; k < p->n_slots; k++)
        if (p->slot_mb[k] < 0) {
            p->slot_mb[k] = mb;
            return k;
        }
    return -1;
}

static int slot_find(const live_peer *p, int64_t mb) {
    if (!p->n_slots) return 0;
    for (int k = 0; k < p->n_slots; k++)
        if (p->slot_mb[k] == mb) return k;
    return -1;
}

static void slot_release(live_peer *p, int64_t mb) {
    for (int k = 0; k < p->n_slots; k++)
        if (p->slot_mb[k] == mb) p->slot_mb[k] = -1;
}

/* ---- tensors of a microbatch ---- */

/* Stage 0's input: the microbatch's tokens, a pure function of (seed, mb). */
static void make_tokens(live *L, live_peer *p, lmb *m, int64_t mb) {
    live_data_batch(&L->data, mb, L->host_in, L->host_tg);
    m->in[0] = live_buf_get(L, p->dev, live_in_bytes(L, 0));
    m->in_dev[0] = p->dev;
    m->n_bufs++;
    be_of(L, p)->upload_raw(be_of(L, p), m->in[0], L->host_in, (size_t)L->N * sizeof(int32_t));
}

/* The receiver takes the activation in transit as its cached input (moving it to its
 * device if the sender's is another). */
static int take_input(live *L, live_peer *p, lmb *m, int64_t mb, int s) {
    if (!m || !m->in[s])
        return live_fail(
            L,
            "live: peer %d (stage %d): microbatch %lld arrived without the activation of stage %d",
            p->id, s, (long long)mb, s - 1);
    if (m->held[s])
        return live_fail(
            L,
            "live: peer %d (stage %d): microbatch %lld's activation was already taken by peer %d",
            p->id, s, (long long)mb, m->owner[s]);
    if (m->in_dev[s] != p->dev) {
        size_t bytes = live_in_bytes(L, s);
        void *nb = live_buf_get(L, p->dev, bytes);
        live_move(L, p->dev, nb, m->in_dev[s], m->in[s], bytes);
        live_buf_put(L, m->in_dev[s], m->in[s], bytes);
        m->in[s] = nb;
        m->in_dev[s] = p->dev;
    }
    m->owner[s] = p->id;
    m->held[s] = 1;
    return 0;
}

static void *new_grad(live *L, live_peer *p, lmb *m, int s) {
    m->grad[s] = live_buf_get(L, p->dev, L->act_wire.mem_bytes);
    m->grad_dev[s] = p->dev;
    m->n_bufs++;
    return m->grad[s];
}

static void accum_push(live_peer *p, int64_t mb) {
    if (p->n_accum == p->cap_accum) {
        p->cap_accum = p->cap_accum ? 2 * p->cap_accum : 16;
        p->accum = xrealloc(p->accum, sizeof *p->accum * (size_t)p->cap_accum);
    }
    p->accum[p->n_accum++] = mb;
}

/* The gradient buffer before this backward, so that an aborted one can be undone. */
static void backup_grads(live *L, live_peer *p) {
    kb_backend *be = be_of(L, p);
    be->copy(be, p->grad_backup, ks_stage_grads(p->st),
             ks_stage_param_count(p->st) * sizeof(float));
}

/* ---- the tasks ---- */

static int do_forward(live *L, live_peer *p, const swarm_task_info *t, double *ks) {
    const int s = p->stage;
    const int64_t mb = t->microbatch;
    if (s == L->S - 1) return live_fail(L, "live: peer %d: a forward at the last stage", p->id);
    lmb *m = live_mb(L, mb, 1);
    if (s == 0) {
        if (m->in[0])
            return live_fail(L, "live: microbatch %lld injected twice (peer %d)", (long long)mb,
                             p->id);
        make_tokens(L, p, m, mb);
        m->owner[0] = p->id;
        m->held[0] = 1;
    } else if (take_input(L, p, m, mb, s)) {
        return -1;
    }
    int slot = slot_take(p, mb);
    if (slot < 0)
        return live_fail(L,
                         "live: peer %d: more microbatches in flight than its %d activation slots",
                         p->id, p->n_slots);
    if (m->in[s + 1])
        return live_fail(L, "live: peer %d: microbatch %lld forwarded twice at stage %d", p->id,
                         (long long)mb, s);
    m->in[s + 1] = live_buf_get(L, p->dev, L->act_wire.mem_bytes);
    m->in_dev[s + 1] = p->dev;
    m->owner[s + 1] = p->id;
    m->held[s + 1] = 0;
    m->n_bufs++;
    kb_backend *be = be_of(L, p);
    double k0 = live_now();
    ks_forward(p->st, slot, m->in[s], m->in[s + 1]);
    be->synchronize(be);
    *ks = live_now() - k0;
    return 0;
}

static int do_backward(live *L, live_peer *p, const swarm_task_info *t, double *ks) {
    const int s = p->stage;
    const int64_t mb = t->microbatch;
    lmb *m = live_mb(L, mb, 0);
    if (!m || !m->in[s] || !m->held[s] || m->owner[s] != p->id)
        return live_fail(
            L,
            "live: peer %d (stage %d): backward of microbatch %lld, whose input it does not hold",
            p->id, s, (long long)mb);
    if (!m->grad[s])
        return live_fail(
            L, "live: peer %d (stage %d): backward of microbatch %lld without its output gradient",
            p->id, s, (long long)mb);
    if (m->grad_dev[s] != p->dev) {
        void *nb = live_buf_get(L, p->dev, L->act_wire.mem_bytes);
        live_move(L, p->dev, nb, m->grad_dev[s], m->grad[s], L->act_wire.mem_bytes);
        live_buf_put(L, m->grad_dev[s], m->grad[s], L->act_wire.mem_bytes);
        m->grad[s] = nb;
        m->grad_dev[s] = p->dev;
    }
    int slot = slot_find(p, mb);
    if (slot < 0)
        return live_fail(L, "live: peer %d: microbatch %lld has no activation slot", p->id,
                         (long long)mb);
    void *din = NULL;
    if (s > 0) {
        if (m->grad[s - 1])
            return live_fail(L, "live: microbatch %lld: two gradients for stage %d", (long long)mb,
                             s - 1);
        din = new_grad(L, p, m, s - 1);
    }
    backup_grads(L, p);
    kb_backend *be = be_of(L, p);
    double k0 = live_now();
    ks_backward(p->st, slot, m->in[s], m->grad[s], din);
    be->synchronize(be);
    *ks = live_now() - k0;
    live_free_in(L, m, s);
    live_free_grad(L, m, s);
    slot_release(p, mb);
    accum_push(p, mb);
    p->undo_mb = mb;
    if (s == 0) L->st.stage0_backwards++;
    live_mb_release(L, mb);
    return 0;
}

static int do_fused(live *L, live_peer *p, const swarm_task_info *t, double *ks) {
    const int s = p->stage;
    const int64_t mb = t->microbatch;
    lmb *m = live_mb(L, mb, s == 0);
    if (s == 0) {
        if (m->in[0])
            return live_fail(L, "live: microbatch %lld injected twice (peer %d)", (long long)mb,
                             p->id);
        make_tokens(L, p, m, mb);
        m->owner[0] = p->id;
        m->held[0] = 1;
    } else if (take_input(L, p, m, mb, s)) {
        return -1;
    }
    kb_backend *be = be_of(L, p);
    live_data_batch(&L->data, mb, L->host_in, L->host_tg);
    be->upload_raw(be, p->targets_dev, L->host_tg, (size_t)L->N * sizeof(int32_t));
    void *din = NULL;
    if (s > 0) {
        if (m->grad[s - 1])
            return live_fail(L, "live: microbatch %lld: two gradients for stage %d", (long long)mb,
                             s - 1);
        din = new_grad(L, p, m, s - 1);
    }
    backup_grads(L, p);
    float loss = NAN;
    double k0 = live_now();
    ks_last_step(p->st, m->in[s], p->targets_dev, &loss, din);
    be->synchronize(be);
    *ks = live_now() - k0;
    if (!isfinite(loss))
        return live_fail(L,
                         "live: non-finite loss (%g) at peer %d (stage %d, replica %d), cycle %d, "
                         "inner step %d, "
                         "microbatch %lld: the weights or activations hold NaN/Inf; stopping",
                         (double)loss, p->id, s, p->replica, t->cycle, t->inner_step,
                         (long long)mb);
    live_free_in(L, m, s);
    accum_push(p, mb);
    p->undo_mb = mb;
    p->undo_loss = loss;
    p->loss_sum += loss;
    p->loss_n++;
    if (s == 0) L->st.stage0_backwards++;
    live_mb_release(L, mb);
    return 0;
}

static void loss_row(live *L, live_peer *p, const swarm_task_info *t, double loss) {
    L->recent.loss[L->recent.head] = loss;
    L->recent.head = (L->recent.head + 1) % L->recent.cap;
    if (L->recent.n < L->recent.cap) L->recent.n++;
    double sum = 0;
    for (int i = 0; i < L->recent.n; i++) sum += L->recent.loss[i];
    L->st.loss_final = sum / L->recent.n;
    if (!L->sink.loss) return;
    const live_loss_row r = {.t = t->t_start, /* the step that took this loss started then */
                             .tokens = L->st.stage0_backwards * (int64_t)L->N,
                             .cycle = t->cycle,
                             .inner_step = t->inner_step,
                             .replica = p->replica,
                             .kind = LIVE_LOSS_TRAIN,
                             .loss = loss};
    if (L->sink.loss(L->sink.ctx, &r)) live_fail(L, "live: writing a loss row to the trace failed");
}

static int do_optimizer(live *L, live_peer *p, const swarm_task_info *t, double *ks) {
    const int n = p->n_accum;
    if (L->step_fn) L->step_fn(L->step_ctx, p->id, p->steps, p->accum, n);
    if (n == 0) { /* every gradient of this step was undone: nothing to apply */
        L->st.empty_steps++;
        *ks = 0;
        return 0;
    }
    kb_backend *be = be_of(L, p);
    double k0 = live_now();
    double norm = ks_grad_norm(p->st);
    if (!isfinite(norm))
        return live_fail(
            L,
            "live: non-finite gradient norm (%g) at peer %d (stage %d, replica %d), cycle %d, "
            "inner step %d: stopping before it reaches the weights",
            norm, p->id, p->stage, p->replica, t->cycle, t->inner_step);
    double clip = ko_clip_scale(norm / n, L->opt.inner.grad_clip);
    kb_adam_coef c = ko_adam_next(&p->opt);
    int warm = L->opt.inner.warmup_steps;
    if (warm > 0 && p->opt.step < warm) c.lr = (float)((double)c.lr * (double)p->opt.step / warm);
    ks_optimizer_step(p->st, &c, (float)(clip / n));
    ks_zero_grad(p->st);
    be->synchronize(be);
    *ks = live_now() - k0;
    p->n_accum = 0;
    p->undo_mb = -1;
    p->steps++;
    L->st.optimizer_steps++;
    if (p->stage == L->S - 1 && p->loss_n > 0) {
        loss_row(L, p, t, p->loss_sum / p->loss_n);
        p->loss_sum = 0;
        p->loss_n = 0;
    }
    return L->err[0] ? -1 : 0;
}

/* ---- durations ---- */

static double duration(live *L, const live_peer *p, const swarm_task_info *t, double kernel_s) {
    const swarm_config *c = L->cfg;
    const swarm_peer_spec *ps = &c->peers[p->id];
    if (t->kind == KM_TASK_OPTIMIZER) {
        double bw = ps->mem_bw;
        if (L->opt.time == LIVE_TIME_MODELED) {
            double bytes = (double)km_params_stage(&c->model, &c->split, &c->boundary, p->stage) *
                           c->compute.opt_bytes_per_param;
            return bytes / (bw * c->compute.efficiency[KM_TASK_OPTIMIZER]);
        }
        if (L->local_peak > 0) {
            return kernel_s * L->opt.local_mem_bw / bw;
        }
        return kernel_s * L->scale_opt[p->stage] / bw;
    }
    double peak = ps->peak_flops * ps->gpus * ps->speed;
    if (L->opt.time == LIVE_TIME_MODELED) return t->flops / (peak * c->compute.efficiency[t->kind]);
    if (L->local_peak > 0) return kernel_s * L->local_peak / peak;
    return kernel_s * L->scale_compute[p->stage] / peak;
}

double live_task(void *ctx, const swarm_task_info *t) {
    live *L = ctx;
    double w0 = live_now();
    if (t->peer < 0 || t->peer >= L->n_peers) {
        live_fail(L, "live: task for unknown peer %d", t->peer);
        return -1;
    }
    live_peer *p = &L->peers[t->peer];
    if (!p->up) {
        live_fail(L, "live: a %s task for peer %d, which is down", km_task_name(t->kind), p->id);
        return -1;
    }
    p->undo_mb = -1;
    double ks = 0;
    int rc;
    switch (t->kind) {
    case KM_TASK_FORWARD: rc = do_forward(L, p, t, &ks); break;
    case KM_TASK_BACKWARD:
    case KM_TASK_BACKWARD_RECOMPUTE: rc = do_backward(L, p, t, &ks); break;
    case KM_TASK_LAST_FUSED: rc = do_fused(L, p, t, &ks); break;
    case KM_TASK_OPTIMIZER: rc = do_optimizer(L, p, t, &ks); break;
    default: rc = live_fail(L, "live: unknown task kind %d", (int)t->kind); break;
    }
    if (rc) return -1;
    L->st.tasks[t->kind]++;
    L->st.kernel_wall_s += ks;
    double d = duration(L, p, t, ks);
    L->st.hook_wall_s += live_now() - w0;
    return d;
}

/* ---- tensors going away ---- */

void live_drop(void *ctx, int peer, int64_t mb) {
    live *L = ctx;
    double w0 = live_now();
    if (peer < 0 || peer >= L->n_peers) return;
    live_peer *p = &L->peers[peer];
    const int s = p->stage;
    if (p->undo_mb == mb && p->n_accum > 0 && p->accum[p->n_accum - 1] == mb) {
        /* the backward running at this peer was aborted: its gradient never counts */
        kb_backend *be = be_of(L, p);
        be->copy(be, ks_stage_grads(p->st), p->grad_backup,
                 ks_stage_param_count(p->st) * sizeof(float));
        p->n_accum--;
        if (s == L->S - 1) {
            p->loss_sum -= p->undo_loss;
            p->loss_n--;
        }
        if (s == 0) L->st.stage0_backwards--;
        p->undo_mb = -1;
        L->st.backwards_undone++;
    }
    slot_release(p, mb);
    lmb *m = live_mb(L, mb, 0);
    if (m) {
        if (m->in[s] && (m->owner[s] == p->id || !m->held[s])) {
            live_free_in(L, m, s);
            live_free_grad(L, m, s);
        }
        if (s + 1 < L->S && m->in[s + 1] && !m->held[s + 1] && m->owner[s + 1] == p->id)
            live_free_in(L, m, s + 1);
        live_mb_release(L, mb);
    }
    L->st.hook_wall_s += live_now() - w0;
}

void live_peer_down(void *ctx, int peer) {
    live *L = ctx;
    double w0 = live_now();
    if (peer < 0 || peer >= L->n_peers) return;
    live_peer *p = &L->peers[peer];
    p->up = 0;
    for (int64_t i = L->lo_mbs; i < L->cap_mbs; i++) {
        lmb *m = L->mbs[i];
        if (!m) continue;
        for (int s = 0; s < L->S; s++)
            if (m->in[s] && m->owner[s] == p->id) {
                if (m->held[s]) live_free_grad(L, m, s);
                live_free_in(L, m, s);
            }
        live_mb_release(L, i);
    }
    p->n_accum = 0;
    p->undo_mb = -1;
    p->loss_sum = 0;
    p->loss_n = 0;
    for (int k = 0; k < p->n_slots; k++) p->slot_mb[k] = -1;
    L->st.hook_wall_s += live_now() - w0;
}
