/* sim/live/live_sync.c: live mode's outer step (sync_stage), rejoin, cycle ends and the
 * validation of the merged model. See live.h for the semantics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/live/live_internal.h"
#include "sim/base/util.h"

/* The receiver's weights on the partitions just merged, from the stage's global ones. */
static void copy_global(live *L, live_peer *p, const int *part_ok, int n_parts) {
    ks_stage *g = L->eval[p->stage];
    size_t n = ks_stage_param_count(g);
    for (int j = 0; j < n_parts; j++) {
        if (!part_ok[j]) continue;
        ko_range r = ko_partition(n, n_parts, j);
        live_move_f32(L, p->dev, ks_stage_params(p->st) + r.begin, 0, ks_stage_params(g) + r.begin,
                      r.end - r.begin);
    }
    ks_params_changed(p->st);
}

int live_peer_join(void *ctx, int peer) {
    live *L = ctx;
    double w0 = live_now();
    if (peer < 0 || peer >= L->n_peers) return live_fail(L, "live: join of unknown peer %d", peer);
    live_peer *p = &L->peers[peer];
    int all = 1;
    copy_global(L, p, &all, 1);
    kb_backend *be = L->dev[p->dev].be;
    size_t n = ks_stage_param_count(p->st);
    ks_zero_grad(p->st);
    /* inner-optimizer state: a copy of the stage's first live peer's, else fresh */
    live_peer *src = NULL;
    for (int i = 0; i < L->n_peers && !src; i++)
        if (i != peer && L->peers[i].up && L->peers[i].stage == p->stage) src = &L->peers[i];
    if (src) {
        live_move_f32(L, p->dev, ks_stage_adam_m(p->st), src->dev, ks_stage_adam_m(src->st), n);
        live_move_f32(L, p->dev, ks_stage_adam_v(p->st), src->dev, ks_stage_adam_v(src->st), n);
        p->opt = src->opt;
    } else {
        be->zero(be, ks_stage_adam_m(p->st), n * sizeof(float));
        be->zero(be, ks_stage_adam_v(p->st), n * sizeof(float));
        ko_inner_state fresh =
            ko_inner_init(p->opt.kind, p->opt.lr, p->opt.beta1, p->opt.beta2, p->opt.weight_decay);
        fresh.eps = p->opt.eps;
        fresh.momentum_decay = p->opt.momentum_decay;
        p->opt = fresh;
    }
    p->n_accum = 0;
    p->undo_mb = -1;
    p->loss_sum = 0;
    p->loss_n = 0;
    p->up = 1;
    be->synchronize(be);
    L->st.hook_wall_s += live_now() - w0;
    return 0;
}

int live_sync_stage(void *ctx, int stage, const int *submitters, int n_submitters,
                    const int *receivers, int n_receivers, const int *part_ok, int n_parts) {
    live *L = ctx;
    double w0 = live_now();
    if (stage < 0 || stage >= L->S) return live_fail(L, "live: sync of unknown stage %d", stage);
    if (n_parts < 1)
        return live_fail(L, "live: sync of stage %d with %d partitions", stage, n_parts);
    ks_stage *g = L->eval[stage];
    kb_backend *be0 = L->dev[0].be;
    const size_t n = ks_stage_param_count(g);
    const float **W = xcalloc((size_t)(n_submitters > 0 ? n_submitters : 1), sizeof *W);
    float **tmp = xcalloc((size_t)(n_submitters > 0 ? n_submitters : 1), sizeof *tmp);
    float **recv = xcalloc((size_t)(n_receivers > 0 ? n_receivers : 1), sizeof *recv);
    int ns = 0, nr = 0;
    for (int i = 0; i < n_submitters; i++) {
        int q = submitters[i];
        if (q < 0 || q >= L->n_peers || L->peers[q].stage != stage) {
            free(W);
            free(tmp);
            free(recv);
            return live_fail(L, "live: peer %d submitted to stage %d, which it does not serve", q,
                             stage);
        }
        live_peer *p = &L->peers[q];
        if (!p->up) continue;
        if (p->dev == 0) {
            W[ns++] = ks_stage_params(p->st);
        } else { /* pseudo-gradients from another GPU travel through the host */
            tmp[ns] = be0->alloc(be0, n * sizeof(float));
            live_move_f32(L, 0, tmp[ns], p->dev, ks_stage_params(p->st), n);
            W[ns] = tmp[ns];
            ns++;
        }
    }
    for (int i = 0; i < n_receivers; i++) {
        int q = receivers[i];
        if (q >= 0 && q < L->n_peers && L->peers[q].stage == stage && L->peers[q].up &&
            L->peers[q].dev == 0)
            recv[nr++] = ks_stage_params(L->peers[q].st);
    }
    const live_outer_opt *oo = &L->opt.outer;
    live_outer_kind kind = oo->kind;
    double start = isnan(oo->momentum_start) ? oo->momentum : oo->momentum_start;
    double mu =
        live_outer_momentum(oo->momentum, start, oo->momentum_warmup_cycles, L->merges[stage]);
    double k0 = live_now();
    int merged = live_merge(be0, n, ks_stage_params(g), L->mom[stage], ks_stage_grads(g), W, ns,
                            recv, nr, part_ok, n_parts, kind, oo->lr, mu);
    be0->synchronize(be0);
    if (merged > 0) {
        ks_params_changed(g);
        L->merges[stage]++;
        L->st.merges++;
    }
    for (int i = 0; i < ns; i++)
        if (tmp[i]) be0->free(be0, tmp[i]);
    /* receivers: merged partitions in (already done on device 0), a fresh accumulation;
     * the inner optimizer state stays (IOTA) */
    for (int i = 0; i < n_receivers; i++) {
        int q = receivers[i];
        if (q < 0 || q >= L->n_peers || L->peers[q].stage != stage || !L->peers[q].up) continue;
        live_peer *p = &L->peers[q];
        if (ns > 0) {
            if (p->dev != 0) copy_global(L, p, part_ok, n_parts);
            else ks_params_changed(p->st);
        }
        ks_zero_grad(p->st);
        p->n_accum = 0;
        p->undo_mb = -1;
        L->dev[p->dev].be->synchronize(L->dev[p->dev].be);
    }
    L->st.kernel_wall_s += live_now() - k0;
    free(W);
    free(tmp);
    free(recv);
    L->st.hook_wall_s += live_now() - w0;
    return 0;
}

double live_validate(live *L, double *recon) {
    kb_backend *be = L->dev[0].be;
    const int S = L->S;
    double sum = 0;
    for (int b = 0; b + 1 < S && recon; b++) recon[b] = 0;
    for (int i = 0; i < L->data.n_val_batches; i++) {
        live_data_val_batch(&L->data, i, L->host_in, L->host_tg);
        be->upload_raw(be, L->eval_tok, L->host_in, (size_t)L->N * sizeof(int32_t));
        be->upload_raw(be, L->eval_tg, L->host_tg, (size_t)L->N * sizeof(int32_t));
        const void *x = L->eval_tok;
        for (int s = 0; s < S - 1; s++) {
            void *out = L->eval_buf[s % 2];
            ks_forward(L->eval[s], 0, x, out);
            if (s > 0 && recon)
                recon[s - 1] += ks_recon_error(L->eval[s], 0, ks_residual_out(L->eval[s - 1], 0));
            x = out;
        }
        sum += ks_last_loss(L->eval[S - 1], x, L->eval_tg);
        if (S > 1 && recon)
            recon[S - 2] += ks_recon_error(L->eval[S - 1], 0, ks_residual_out(L->eval[S - 2], 0));
    }
    int nb = L->data.n_val_batches;
    for (int b = 0; b + 1 < S && recon; b++) recon[b] /= nb;
    L->st.validations++;
    return nb > 0 ? sum / nb : NAN;
}

int live_cycle_end(void *ctx, int cycle, nm_time now, int64_t tokens_trained) {
    live *L = ctx;
    double w0 = live_now();
    L->last_t = now;
    /* every microbatch of the training phase is resolved by now: whatever a drop did not
     * release goes back to the pools (counted: the engine should have dropped it) */
    for (int64_t i = L->lo_mbs; i < L->cap_mbs; i++) {
        lmb *m = L->mbs[i];
        if (!m) continue;
        for (int s = 0; s < L->S; s++) {
            if (m->in[s]) L->st.buffers_leaked++;
            if (m->grad[s]) L->st.buffers_leaked++;
            live_free_in(L, m, s);
            live_free_grad(L, m, s);
        }
        live_mb_release(L, i);
    }
    for (int i = 0; i < L->n_peers; i++)
        for (int k = 0; k < L->peers[i].n_slots; k++) L->peers[i].slot_mb[k] = -1;
    if (L->data.n_val_batches > 0) {
        double recon[256];
        double k0 = live_now();
        double v = live_validate(L, recon);
        L->st.kernel_wall_s += live_now() - k0;
        if (!isfinite(v)) {
            L->st.hook_wall_s += live_now() - w0;
            return live_fail(
                L, "live: non-finite validation loss (%g) of the merged model after cycle %d", v,
                cycle);
        }
        L->st.val_loss_final = v;
        double rsum = 0;
        for (int b = 0; b + 1 < L->S; b++) rsum += recon[b];
        L->st.recon_error_final = L->S > 1 ? rsum / (L->S - 1) : NAN;
        if (L->sink.loss) {
            const live_loss_row r = {.t = now,
                                     .tokens = tokens_trained,
                                     .cycle = cycle,
                                     .inner_step = -1,
                                     .replica = -1,
                                     .kind = LIVE_LOSS_VALIDATION,
                                     .loss = v};
            int bad = L->sink.loss(L->sink.ctx, &r) != 0;
            for (int b = 0; b + 1 < L->S && L->sink.boundary; b++) {
                const live_boundary_row br = {
                    .t = now, .cycle = cycle, .boundary = b, .recon_error = recon[b]};
                bad |= L->sink.boundary(L->sink.ctx, &br) != 0;
            }
            if (bad) {
                L->st.hook_wall_s += live_now() - w0;
                return live_fail(L, "live: writing the loss table of the trace failed");
            }
        }
    }
    L->st.hook_wall_s += live_now() - w0;
    return 0;
}
