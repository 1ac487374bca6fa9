/* sim/swarm/swarm_metrics.c: what the engine measures: events to the sink, the integral
 * of peak FLOP/s over time (MFU's denominator), the sampled time series and its best
 * window, the run summary and each peer's GPU-time shares (SPEC §5). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/swarm/swarm_internal.h"

void swarm_emit(swarm *sw, int peer_id, int other, swarm_event_kind kind, int64_t mb, int64_t bytes,
                double flops, nm_time t0, nm_time t1) {
    if (!sw->sink || !sw->sink->event) return;
    int cyc = sw->ph.cycle;
    if (sw->cfg->events_cycles >= 0 && cyc >= sw->cfg->events_cycles) {
        sw->m.events_dropped++;
        return;
    }
    const swarm_event e = {
        .t_start = t0,
        .t_end = t1,
        .microbatch = mb,
        .bytes = bytes,
        .flops = flops,
        .peer = peer_id,
        .other = other,
        .kind = kind,
        .stage = peer_id >= 0 ? sw->peers[peer_id].stage : -1,
        .cycle = cyc,
        .inner_step = peer_id >= 0 ? sw->peers[peer_id].steps_this_cycle : -1,
    };
    if (sw->sink->event(sw->sink->ctx, &e)) swarm_fail(sw, "writing the trace failed");
    sw->m.events_written++;
}

void swarm_peak_advance(swarm *sw) {
    nm_time now = nm_now(sw->sim);
    double dt = nm_to_s(now - sw->m.peak_t);
    sw->m.peak_integral += sw->m.peak_present * dt;
    if (sw->ph.phase == SWARM_PHASE_TRAINING)
        sw->m.peak_integral_training += sw->m.peak_present * dt;
    sw->m.peak_t = now;
}

/* ---- time series ---- */

void swarm_on_sample(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    swarm *sw = ctx;
    nm_time now = nm_now(sim);
    swarm_peak_advance(sw);
    if (sw->m.n_ts == sw->m.cap_ts) {
        sw->m.cap_ts = sw->m.cap_ts ? sw->m.cap_ts * 2 : 1024;
        sw->m.ts_t = xrealloc(sw->m.ts_t, sizeof *sw->m.ts_t * (size_t)sw->m.cap_ts);
        sw->m.ts_tokens = xrealloc(sw->m.ts_tokens, sizeof *sw->m.ts_tokens * (size_t)sw->m.cap_ts);
        sw->m.ts_peak = xrealloc(sw->m.ts_peak, sizeof *sw->m.ts_peak * (size_t)sw->m.cap_ts);
        sw->m.ts_peak_train =
            xrealloc(sw->m.ts_peak_train, sizeof *sw->m.ts_peak_train * (size_t)sw->m.cap_ts);
        sw->m.ts_downs = xrealloc(sw->m.ts_downs, sizeof *sw->m.ts_downs * (size_t)sw->m.cap_ts);
        sw->m.ts_allup = xrealloc(sw->m.ts_allup, sizeof *sw->m.ts_allup * (size_t)sw->m.cap_ts);
    }
    int i = sw->m.n_ts++;
    sw->m.ts_t[i] = nm_to_s(now);
    sw->m.ts_tokens[i] = (double)sw->count.tokens_trained;
    sw->m.ts_peak[i] = sw->m.peak_integral;
    sw->m.ts_peak_train[i] = sw->m.peak_integral_training;
    sw->m.ts_downs[i] = sw->m.down_events;
    int up = 1;
    for (int k = 0; k < sw->n_peers && up; k++) up = sw->peers[k].state != PEER_DOWN;
    sw->m.ts_allup[i] = (unsigned char)up;
    if (sw->sink && sw->sink->sample) {
        double W = sw->cfg->mfu_window_s;
        int j = i;
        while (j > 0 && sw->m.ts_t[i] - sw->m.ts_t[j - 1] <= W) j--;
        double dpeak = sw->m.ts_peak[i] - sw->m.ts_peak[j];
        int active = 0;
        for (int k = 0; k < sw->n_peers; k++) active += sw->peers[k].state != PEER_DOWN;
        double dt = nm_to_s(now - sw->m.last_sample_t);
        const swarm_sample r = {
            .t = now,
            .tokens_trained = sw->count.tokens_trained,
            .tokens_per_s =
                dt > 0 ? (double)(sw->count.tokens_trained - sw->m.last_sample_tokens) / dt : 0,
            .mfu_window =
                dpeak > 0 ? (sw->m.ts_tokens[i] - sw->m.ts_tokens[j]) * sw->m.fpt / dpeak : 0,
            .active_peers = active,
            .phase = sw->ph.phase,
        };
        if (sw->sink->sample(sw->sink->ctx, &r)) swarm_fail(sw, "writing the trace failed");
    }
    sw->m.last_sample_tokens = sw->count.tokens_trained;
    sw->m.last_sample_t = now;
    if (sw->cfg->progress && isatty(2)) {
        double frac = sw->cfg->tokens_target > 0
                          ? (double)sw->count.tokens_trained / (double)sw->cfg->tokens_target
                          : (double)sw->ph.cycles_done /
                                (sw->cfg->cycles_target ? sw->cfg->cycles_target : 1);
        int pct = (int)(100 * (frac > 1 ? 1 : frac));
        if (pct != sw->m.progress_last) {
            fprintf(stderr, "\r  [%-40.*s] %3d%%  cycle %d  t=%.1f h", pct * 40 / 100,
                    "########################################", pct, sw->ph.cycle,
                    nm_to_s(now) / 3600);
            sw->m.progress_last = pct;
        }
    }
    if (!sw->ph.finished)
        sw->m.sample_timer =
            nm_schedule_in(sim, nm_from_s(sw->cfg->sample_s), swarm_on_sample, sw, 0);
}

/* Best MFU over any window of length W (or the whole run if shorter), from the samples. */
static double best_window_mfu(const swarm *sw, double W) {
    double best = 0;
    int n = sw->m.n_ts;
    if (n < 2) return NAN;
    if (sw->m.ts_t[n - 1] - sw->m.ts_t[0] < W) W = sw->m.ts_t[n - 1] - sw->m.ts_t[0];
    int j = 0;
    for (int i = 0; i < n; i++) {
        while (j < n && sw->m.ts_t[j] - sw->m.ts_t[i] < W - 1e-9) j++;
        if (j >= n) break;
        double dp = sw->m.ts_peak[j] - sw->m.ts_peak[i];
        if (dp <= 0) continue;
        double m = (sw->m.ts_tokens[j] - sw->m.ts_tokens[i]) * sw->m.fpt / dp;
        if (m > best) best = m;
    }
    return best;
}

/* The like-for-like peak (Orion's "38% ... over a 6-hour window without churn"): windows
 * of W (or the run, if shorter) with every peer up at the start and none going down
 * inside, MFU over the window's training-phase time (the peak integral over training
 * phases only, so sync time is left out of the denominator). NaN if none qualifies. */
static double best_training_window_mfu(const swarm *sw, double W) {
    double best = NAN;
    int n = sw->m.n_ts;
    if (n < 2) return NAN;
    if (sw->m.ts_t[n - 1] - sw->m.ts_t[0] < W) W = sw->m.ts_t[n - 1] - sw->m.ts_t[0];
    int j = 0;
    for (int i = 0; i < n; i++) {
        while (j < n && sw->m.ts_t[j] - sw->m.ts_t[i] < W - 1e-9) j++;
        if (j >= n) break;
        if (!sw->m.ts_allup[i] || sw->m.ts_downs[j] != sw->m.ts_downs[i]) continue;
        double dp = sw->m.ts_peak_train[j] - sw->m.ts_peak_train[i];
        if (dp <= 0) continue;
        double m = (sw->m.ts_tokens[j] - sw->m.ts_tokens[i]) * sw->m.fpt / dp;
        if (isnan(best) || m > best) best = m;
    }
    return best;
}

void swarm_fill_summary(swarm *sw, sim_summary *s) {
    const swarm_config *c = sw->cfg;
    nm_time now = nm_now(sw->sim);
    swarm_peak_advance(sw);
    /* close open intervals */
    double T = nm_to_s(now);
    double cur = nm_to_s(now - sw->ph.phase_start);
    double ptime[4];
    memcpy(ptime, sw->ph.phase_time, sizeof ptime);
    ptime[sw->ph.phase] += cur;
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        swarm_acct_leave(sw, p);
        if (p->task != TASK_NONE) {
            p->acct[ACCT_COMPUTE] += nm_to_s(now - p->task_start);
            p->task = TASK_NONE;
        }
    }
    s->cycles = sw->ph.cycles_done;
    s->sim_time_s = T;
    s->tokens_trained = (double)sw->count.tokens_trained;
    s->microbatches_injected = (double)sw->count.injected;
    s->microbatches_trained = (double)sw->count.trained;
    s->microbatches_lost = (double)sw->count.lost;
    s->microbatches_in_flight = (double)sw->count.in_flight;
    s->wasted_flops = sw->count.wasted_flops;
    s->tokens_per_s = T > 0 ? s->tokens_trained / T : 0;
    s->tokens_per_s_training = ptime[0] > 0 ? s->tokens_trained / ptime[0] : 0;
    s->model_flops_per_token = sw->m.fpt;
    double peak_nominal = 0;
    for (int i = 0; i < sw->n_peers; i++) peak_nominal += swarm_peer_peak(sw, &sw->peers[i]);
    s->peak_flops_total = peak_nominal;
    s->mfu_training = sw->m.peak_integral_training > 0
                          ? s->tokens_trained * sw->m.fpt / sw->m.peak_integral_training
                          : 0;
    s->mfu_overall =
        sw->m.peak_integral > 0 ? s->tokens_trained * sw->m.fpt / sw->m.peak_integral : 0;
    s->mfu_window_s = c->mfu_window_s;
    s->mfu_best_window = best_window_mfu(sw, c->mfu_window_s);
    s->mfu_best_training_window = best_training_window_mfu(sw, c->mfu_window_s);
    s->utilisation = T > 0 ? ptime[SWARM_PHASE_TRAINING] / T : 0;
    s->time_training_s = ptime[SWARM_PHASE_TRAINING];
    s->time_uploading_s = ptime[SWARM_PHASE_UPLOADING];
    s->time_merging_s = ptime[SWARM_PHASE_MERGING];
    s->time_other_s = ptime[SWARM_PHASE_OTHER];
    s->mean_training_phase_s =
        sw->ph.n_training_phases ? sw->ph.training_phase_sum / sw->ph.n_training_phases : 0;
    s->mean_sync_phase_s = sw->ph.n_sync_phases ? sw->ph.sync_phase_sum / sw->ph.n_sync_phases : 0;
    double acct[ACCT_N] = {0};
    for (int i = 0; i < sw->n_peers; i++)
        for (int k = 0; k < ACCT_N; k++) acct[k] += sw->peers[i].acct[k];
    double tot = T * sw->n_peers;
    if (tot > 0) {
        s->share_compute = acct[ACCT_COMPUTE] / tot;
        s->share_recompute = acct[ACCT_RECOMPUTE] / tot;
        s->share_optimizer = acct[ACCT_OPTIMIZER] / tot;
        s->share_merge = acct[ACCT_MERGE] / tot;
        s->share_idle = acct[ACCT_IDLE] / tot;
        s->share_waiting = acct[ACCT_WAITING] / tot;
        s->share_down = acct[ACCT_DOWN] / tot;
    }
    if (sw->train->pipelined) {
        s->activation_bytes_raw = (double)km_activation_bytes_raw(&c->model, c->microbatch_tokens);
        s->activation_bytes_wire =
            (double)km_activation_bytes(&c->model, &c->boundary, c->microbatch_tokens);
        s->compression_ratio =
            s->activation_bytes_wire > 0 ? s->activation_bytes_raw / s->activation_bytes_wire : 0;
    }
    double usd_h = 0;
    for (int i = 0; i < sw->n_peers; i++) usd_h += c->peers[i].price_per_h;
    s->usd_per_hour = usd_h;
    s->cost_usd = usd_h * T / 3600.0;
    s->usd_per_mtok = s->tokens_trained > 0 ? s->cost_usd / (s->tokens_trained / 1e6) : NAN;
}

int swarm_write_peer_shares(swarm *sw, double T) {
    swarm_peer_share *r = xcalloc((size_t)sw->n_peers, sizeof *r);
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        r[i].peer = i;
        r[i].stage = p->stage;
        if (T > 0) {
            r[i].compute = p->acct[ACCT_COMPUTE] / T;
            r[i].recompute = p->acct[ACCT_RECOMPUTE] / T;
            r[i].optimizer = p->acct[ACCT_OPTIMIZER] / T;
            r[i].merge = p->acct[ACCT_MERGE] / T;
            r[i].idle = p->acct[ACCT_IDLE] / T;
            r[i].waiting = p->acct[ACCT_WAITING] / T;
            r[i].down = p->acct[ACCT_DOWN] / T;
        }
    }
    int rc = sw->sink->peer_shares(sw->sink->ctx, r, sw->n_peers);
    free(r);
    return rc;
}
