/* sim/swarm/swarm.c: setting up and running the swarm; faults, accounting, phases, metrics.
 * The training phase is in swarm_train.c, routing in swarm_route.c, synchronisation in
 * swarm_sync.c, DDP comparison runs in swarm_ddp.c, transfers in swarm_xfer.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/swarm/swarm_internal.h"
#include "sim/base/util.h"

const char *const swarm_phase_names[SWARM_PHASES] = {"training", "uploading", "merging", "other"};

/* Stream ids of the swarm's own random draws (the fault processes use theirs). */
#define STREAM_ROUTING 0x5157u

void swarm_fail(swarm *sw, const char *fmt, ...) {
    if (sw->failed) return;
    sw->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sw->err, sw->errlen, fmt, ap);
    va_end(ap);
    nm_stop(sw->sim);
}

double swarm_peer_peak(const swarm *sw, const peer *p) {
    const swarm_peer_spec *s = &sw->cfg->peers[p->id];
    return s->peak_flops * s->gpus * s->speed;
}

int swarm_peer_present(const peer *p) { return p->state != PEER_DOWN; }

void swarm_emit(swarm *sw, int peer_id, int other, swarm_event_kind kind, int64_t mb, int64_t bytes,
                double flops, nm_time t0, nm_time t1) {
    if (!sw->sink || !sw->sink->event) return;
    int cyc = sw->cycle;
    if (sw->cfg->events_cycles >= 0 && cyc >= sw->cfg->events_cycles) {
        sw->events_dropped++;
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
    sw->events_written++;
}

/* ---- GPU-time accounting ---- */

static void peak_advance(swarm *sw) {
    nm_time now = nm_now(sw->sim);
    double dt = nm_to_s(now - sw->peak_t);
    sw->peak_integral += sw->peak_present * dt;
    if (sw->phase == SWARM_PHASE_TRAINING) sw->peak_integral_training += sw->peak_present * dt;
    sw->peak_t = now;
}

void swarm_acct_enter(swarm *sw, peer *p) {
    if (p->acct_state >= 0 || p->task != TASK_NONE) return;
    p->acct_state = p->state == PEER_DOWN ? ACCT_DOWN
                    : (sw->phase == SWARM_PHASE_TRAINING && p->state == PEER_TRAINING)
                        ? ACCT_IDLE
                        : ACCT_WAITING;
    p->acct_since = nm_now(sw->sim);
}

void swarm_acct_leave(swarm *sw, peer *p) {
    if (p->acct_state < 0) return;
    p->acct[p->acct_state] += nm_to_s(nm_now(sw->sim) - p->acct_since);
    p->acct_state = -1;
}

static void rebucket_all(swarm *sw) {
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
    if (p->task == TASK_MERGE) sync_task_done(sw, p);
    else if (p->task == TASK_DDP_STEP) ddp_task_done(sw, p);
    else train_task_done(sw, p);
}

void swarm_start_gpu_task(swarm *sw, peer *p, enum task_kind kind, int64_t mb, double flops,
                          double secs) {
    swarm_acct_leave(sw, p);
    if (!(secs >= 0) || !isfinite(secs)) {
        swarm_fail(sw, "peer %d: task of %g FLOPs has no finite duration (efficiency or peak 0?)",
                   p->id, flops);
        secs = 0;
    }
    p->task = kind;
    p->task_mb = mb;
    p->task_flops = flops;
    p->task_start = nm_now(sw->sim);
    p->task_end = p->task_start + nm_from_s(secs);
    p->task_timer = nm_schedule_at(sw->sim, p->task_end, on_task_done, sw, (uint64_t)p->id);
}

static int any_task(const swarm *sw) {
    for (int i = 0; i < sw->n_peers; i++)
        if (sw->peers[i].task != TASK_NONE) return 1;
    return 0;
}

/* ---- faults ---- */

static void peer_down(swarm *sw, peer *p) {
    if (p->state == PEER_DOWN) return;
    peak_advance(sw);
    sw->peak_present -= swarm_peer_peak(sw, p);
    swarm_acct_leave(sw, p);
    if (sw->cfg->sync == SYNC_DDP) ddp_peer_down(sw, p);
    else train_peer_down(sw, p);
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
    if (was == PEER_SYNCING && sw->cfg->sync != SYNC_DDP) sync_peer_down(sw, p);
    swarm_acct_enter(sw, p);
}

static void peer_up(swarm *sw, peer *p) {
    if (p->state != PEER_DOWN) return;
    peak_advance(sw);
    sw->peak_present += swarm_peer_peak(sw, p);
    swarm_acct_leave(sw, p);
    swarm_emit(sw, p->id, SWARM_OTHER_NONE, SWARM_EV_DOWN, -1, 0, 0, p->down_since,
               nm_now(sw->sim));
    nm_net_set_node_up(sw->net, p->id, 1);
    p->stale = 1;
    if (sw->phase == SWARM_PHASE_TRAINING && !sw->finished) {
        p->state = PEER_JOINING;
        int64_t params =
            sw->cfg->sync == SYNC_DDP ? sw->stage_params[0] : sw->stage_params[p->stage];
        xfer_start(sw, XF_DOWNLOAD_JOIN, -2, p->id,
                   (int64_t)ceil((double)params * sw->cfg->weight_bytes_per_param), -1, -1);
    } else {
        p->state = PEER_WAITING;
    }
    swarm_acct_enter(sw, p);
}

void swarm_join_done(swarm *sw, xfer *x, int ok) {
    peer *p = &sw->peers[x->dst];
    if (!ok || p->state != PEER_JOINING) return;
    p->stale = 0;
    const swarm_live_ops *L = sw->cfg->live;
    if (L && L->peer_join && L->peer_join(L->ctx, p->id)) {
        swarm_fail(sw, "live: peer %d rejoin: %s", p->id, L->error ? L->error(L->ctx) : "failed");
        return;
    }
    swarm_acct_leave(sw, p);
    if (sw->phase == SWARM_PHASE_TRAINING) {
        p->state = PEER_TRAINING;
        swarm_acct_enter(sw, p);
        if (sw->cfg->sync == SYNC_DDP) ddp_begin_peer(sw, p);
        else train_peer_ready(sw, p);
    } else {
        p->state = PEER_WAITING;
        swarm_acct_enter(sw, p);
    }
}

static void on_fault(void *ctx, int node, nm_fault_kind kind, double value, nm_time t) {
    (void)t;
    swarm *sw = ctx;
    peer *p = &sw->peers[node];
    switch (kind) {
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

/* ---- phases ---- */

void swarm_phase_change(swarm *sw, int phase) {
    nm_time now = nm_now(sw->sim);
    peak_advance(sw);
    double dur = nm_to_s(now - sw->phase_start);
    sw->phase_time[sw->phase] += dur;
    if (sw->phase == SWARM_PHASE_TRAINING) {
        sw->n_training_phases++;
        sw->training_phase_sum += dur;
        sw->sync_start = now;
    }
    if (sw->sink && sw->sink->phase &&
        sw->sink->phase(sw->sink->ctx, sw->cycle, sw->phase, sw->phase_start, now))
        swarm_fail(sw, "writing the trace failed");
    sw->phase = phase;
    sw->phase_start = now;
    rebucket_all(sw);
}

static void check_finished(swarm *sw) {
    const swarm_config *c = sw->cfg;
    if ((c->tokens_target > 0 && sw->tokens_trained >= c->tokens_target) ||
        (c->cycles_target > 0 && sw->cycles_done >= c->cycles_target)) {
        sw->finished = 1;
        nm_stop(sw->sim);
    }
}

void swarm_cycle_done(swarm *sw) {
    nm_time now = nm_now(sw->sim);
    sw->n_sync_phases++;
    sw->sync_phase_sum += nm_to_s(now - sw->sync_start);
    sw->cycles_done++;
    const swarm_live_ops *L = sw->cfg->live;
    if (L && L->cycle_end && L->cycle_end(L->ctx, sw->cycle, now, sw->tokens_trained))
        swarm_fail(sw, "live: end of cycle %d: %s", sw->cycle,
                   L->error ? L->error(L->ctx) : "failed");
    swarm_phase_change(sw, SWARM_PHASE_TRAINING);
    if (sw->sink && sw->sink->cycle_end && sw->sink->cycle_end(sw->sink->ctx))
        swarm_fail(sw, "flushing the trace failed");
    check_finished(sw);
    if (sw->finished) return;
    sw->cycle++;
    /* peers that came back during the sync fetch the merged weights first */
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->state == PEER_WAITING && p->stale) {
            swarm_acct_leave(sw, p);
            p->state = PEER_JOINING;
            int64_t params =
                sw->cfg->sync == SYNC_DDP ? sw->stage_params[0] : sw->stage_params[p->stage];
            xfer_start(sw, XF_DOWNLOAD_JOIN, -2, p->id,
                       (int64_t)ceil((double)params * sw->cfg->weight_bytes_per_param), -1, -1);
            swarm_acct_enter(sw, p);
        }
    }
    if (sw->cfg->sync == SYNC_DDP) ddp_begin_phase(sw);
    else train_begin_phase(sw);
}

/* ---- time series ---- */

static void on_sample(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    swarm *sw = ctx;
    nm_time now = nm_now(sim);
    peak_advance(sw);
    if (sw->n_ts == sw->cap_ts) {
        sw->cap_ts = sw->cap_ts ? sw->cap_ts * 2 : 1024;
        sw->ts_t = xrealloc(sw->ts_t, sizeof *sw->ts_t * (size_t)sw->cap_ts);
        sw->ts_tokens = xrealloc(sw->ts_tokens, sizeof *sw->ts_tokens * (size_t)sw->cap_ts);
        sw->ts_peak = xrealloc(sw->ts_peak, sizeof *sw->ts_peak * (size_t)sw->cap_ts);
    }
    int i = sw->n_ts++;
    sw->ts_t[i] = nm_to_s(now);
    sw->ts_tokens[i] = (double)sw->tokens_trained;
    sw->ts_peak[i] = sw->peak_integral;
    if (sw->sink && sw->sink->sample) {
        double W = sw->cfg->mfu_window_s;
        int j = i;
        while (j > 0 && sw->ts_t[i] - sw->ts_t[j - 1] <= W) j--;
        double dpeak = sw->ts_peak[i] - sw->ts_peak[j];
        int active = 0;
        for (int k = 0; k < sw->n_peers; k++) active += sw->peers[k].state != PEER_DOWN;
        double dt = nm_to_s(now - sw->last_sample_t);
        const swarm_sample r = {
            .t = now,
            .tokens_trained = sw->tokens_trained,
            .tokens_per_s = dt > 0 ? (double)(sw->tokens_trained - sw->last_sample_tokens) / dt : 0,
            .mfu_window = dpeak > 0 ? (sw->ts_tokens[i] - sw->ts_tokens[j]) * sw->fpt / dpeak : 0,
            .active_peers = active,
            .phase = sw->phase,
        };
        if (sw->sink->sample(sw->sink->ctx, &r)) swarm_fail(sw, "writing the trace failed");
    }
    sw->last_sample_tokens = sw->tokens_trained;
    sw->last_sample_t = now;
    if (sw->cfg->progress && isatty(2)) {
        double frac =
            sw->cfg->tokens_target > 0
                ? (double)sw->tokens_trained / (double)sw->cfg->tokens_target
                : (double)sw->cycles_done / (sw->cfg->cycles_target ? sw->cfg->cycles_target : 1);
        int pct = (int)(100 * (frac > 1 ? 1 : frac));
        if (pct != sw->progress_last) {
            fprintf(stderr, "\r  [%-40.*s] %3d%%  cycle %d  t=%.1f h", pct * 40 / 100,
                    "########################################", pct, sw->cycle,
                    nm_to_s(now) / 3600);
            sw->progress_last = pct;
        }
    }
    if (!sw->finished)
        sw->sample_timer = nm_schedule_in(sim, nm_from_s(sw->cfg->sample_s), on_sample, sw, 0);
}

/* Best MFU over any window of length W (or the whole run if shorter), from the samples. */
static double best_window_mfu(const swarm *sw, double W) {
    double best = 0;
    int n = sw->n_ts;
    if (n < 2) return NAN;
    if (sw->ts_t[n - 1] - sw->ts_t[0] < W) W = sw->ts_t[n - 1] - sw->ts_t[0];
    int j = 0;
    for (int i = 0; i < n; i++) {
        while (j < n && sw->ts_t[j] - sw->ts_t[i] < W - 1e-9) j++;
        if (j >= n) break;
        double dp = sw->ts_peak[j] - sw->ts_peak[i];
        if (dp <= 0) continue;
        double m = (sw->ts_tokens[j] - sw->ts_tokens[i]) * sw->fpt / dp;
        if (m > best) best = m;
    }
    return best;
}

/* ---- set-up and the run ---- */

static int setup(swarm *sw) {
    const swarm_config *c = sw->cfg;
    int ddp = c->sync == SYNC_DDP;
    sw->n_peers = c->n_peers;
    sw->n_stages = ddp ? 1 : c->n_stages;
    sw->R = ddp ? c->n_peers : c->n_replicas;
    sw->last = sw->n_stages - 1;
    if (!ddp && c->n_peers != c->n_stages * c->n_replicas) {
        snprintf(sw->err, sw->errlen, "swarm: %d peers for %d stages x %d replicas", c->n_peers,
                 c->n_stages, c->n_replicas);
        return -1;
    }
    sw->sim = nm_sim_new();
    sw->net = nm_net_new(sw->sim, c->n_regions > 0 ? c->n_regions : 1);
    for (int a = 0; a < c->n_regions; a++)
        for (int b = 0; b < c->n_regions; b++)
            nm_net_set_region_latency(sw->net, a, b, nm_from_s(c->latency_s[a * c->n_regions + b]));
    for (int i = 0; i < c->n_peers; i++)
        nm_net_add_node(sw->net, c->peers[i].region, c->peers[i].up_bps, c->peers[i].down_bps);
    sw->storage =
        nm_net_add_node(sw->net, c->storage_region, c->storage_up_bps, c->storage_down_bps);
    if (c->tcp_window_bytes > 0) nm_net_set_tcp_window(sw->net, c->tcp_window_bytes);
    if (c->ideal_network) nm_net_set_ideal(sw->net, 1);

    /* per-stage parameters and task FLOPs */
    km_split one = {.n_stages = 1};
    one.blocks[0] = c->model.n_blocks;
    km_boundary none = {.method = KM_COMP_NONE};
    const km_split *sp = ddp ? &one : &c->split;
    const km_boundary *bd = ddp ? &none : &c->boundary;
    sw->stage_params = xcalloc((size_t)sw->n_stages, sizeof *sw->stage_params);
    sw->flops = xcalloc((size_t)sw->n_stages * KM_TASK_KINDS, sizeof *sw->flops);
    for (int s = 0; s < sw->n_stages; s++) {
        sw->stage_params[s] = km_params_stage(&c->model, sp, bd, s);
        for (int k = 0; k < KM_TASK_KINDS; k++)
            sw->flops[s * KM_TASK_KINDS + k] =
                km_task_flops(&c->model, sp, bd, s, (km_task)k, c->microbatch_tokens);
    }
    sw->fpt = km_model_flops_per_token(&c->model);

    sw->peers = xcalloc((size_t)sw->n_peers, sizeof *sw->peers);
    sw->stage_peers = xmalloc(sizeof *sw->stage_peers * (size_t)sw->n_stages * (size_t)sw->R);
    for (int i = 0; i < sw->n_stages * sw->R; i++) sw->stage_peers[i] = -1;
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        p->id = i;
        p->stage = ddp ? 0 : c->peers[i].stage;
        p->replica = ddp ? i : c->peers[i].replica;
        if (p->stage < 0 || p->stage >= sw->n_stages || p->replica < 0 || p->replica >= sw->R ||
            sw->stage_peers[p->stage * sw->R + p->replica] >= 0) {
            snprintf(sw->err, sw->errlen,
                     "swarm: peer %d has a bad or repeated (stage %d, replica %d)", i, p->stage,
                     p->replica);
            return -1;
        }
        sw->stage_peers[p->stage * sw->R + p->replica] = i;
        p->state = PEER_TRAINING;
        p->speed_fault = p->bw_fault = 1.0;
        p->task_mb = -1;
        p->acct_state = -1;
        p->cache =
            xmalloc(sizeof *p->cache * (size_t)(c->cache_capacity > 0 ? c->cache_capacity : 1));
        for (int k = 0; k < c->cache_capacity; k++) p->cache[k].mb = -1;
        mbq_init(&p->fwd_q, 32);
        mbq_init(&p->bwd_q, 32);
        mbq_init(&p->merge_q, 8);
        mbq_init(&p->to_q, 32);
        nm_rng_init(&p->rng, c->seed, nm_rng_stream_id(STREAM_ROUTING, (uint32_t)i));
        sw->peak_present += swarm_peer_peak(sw, p);
    }
    sw->parked = xcalloc((size_t)sw->n_stages, sizeof *sw->parked);
    for (int s = 0; s < sw->n_stages; s++) mbq_init(&sw->parked[s], 16);
    sw->parts = xcalloc((size_t)sw->n_stages * (size_t)(c->partitions > 0 ? c->partitions : 1),
                        sizeof *sw->parts);
    sw->ring_round = xcalloc((size_t)sw->n_stages, sizeof *sw->ring_round);
    sw->ring_left = xcalloc((size_t)sw->n_stages, sizeof *sw->ring_left);
    sw->ring_n = xcalloc((size_t)sw->n_stages, sizeof *sw->ring_n);
    sw->ring_ok = xcalloc((size_t)sw->n_stages, sizeof *sw->ring_ok);
    sw->ring_members = xcalloc((size_t)sw->n_stages * (size_t)sw->R, sizeof *sw->ring_members);
    sw->xf_free = -1;

    /* faults */
    const swarm_faults *f = &c->faults;
    sw->faults = nm_faults_new(sw->sim, sw->n_peers, c->seed, on_fault, sw);
    nm_fault_window w = {0, INFINITY};
    char ferr[512];
    if (f->churn) {
        nm_churn_params cp = {f->churn_mtbf_s, f->churn_mttr_s};
        if (nm_faults_add_churn(sw->faults, 1, &w, NULL, 0, &cp, ferr, sizeof ferr)) goto fault_err;
    }
    if (f->spot) {
        nm_spot_params spp = {f->spot_interval_s, f->spot_notice_s, f->spot_restart_s,
                              f->spot_restart_fixed};
        if (f->n_spot_peers > 0 && nm_faults_add_spot(sw->faults, 2, &w, f->spot_peers,
                                                      f->n_spot_peers, &spp, ferr, sizeof ferr))
            goto fault_err;
    }
    if (f->stragglers) {
        nm_straggler_params stp = {f->straggler_fraction, f->straggler_factor, f->straggler_slow_s,
                                   f->straggler_normal_s,
                                   (f->straggler_speed ? NM_STRAGGLE_SPEED : 0u) |
                                       (f->straggler_bandwidth ? NM_STRAGGLE_BANDWIDTH : 0u)};
        if (nm_faults_add_stragglers(sw->faults, 3, &w, NULL, 0, &stp, ferr, sizeof ferr))
            goto fault_err;
    }
    if (f->state_profile || f->speed_profile || f->bandwidth_profile) {
        int n = sw->n_peers;
        sw->profiles = xcalloc((size_t)n * 3, sizeof *sw->profiles);
        int *nodes = xmalloc(sizeof *nodes * (size_t)n);
        nm_value_range rs = nm_range_state(), rm = nm_range_multiplier();
        for (int i = 0; i < n; i++) {
            nodes[i] = i;
            const char *paths[3] = {f->state_profile ? f->state_profile[i] : NULL,
                                    f->speed_profile ? f->speed_profile[i] : NULL,
                                    f->bandwidth_profile ? f->bandwidth_profile[i] : NULL};
            for (int k = 0; k < 3; k++) {
                if (!paths[k]) continue;
                sw->profiles[k * n + i] =
                    nm_profile_parse_file(paths[k], k == 0 ? &rs : &rm, ferr, sizeof ferr);
                if (!sw->profiles[k * n + i]) {
                    free(nodes);
                    goto fault_err;
                }
            }
        }
        int rc = nm_faults_add_profiles(
            sw->faults, 4, &w, nodes, n, (const nm_profile *const *)sw->profiles,
            (const nm_profile *const *)sw->profiles + n,
            (const nm_profile *const *)sw->profiles + 2 * n, ferr, sizeof ferr);
        free(nodes);
        if (rc) goto fault_err;
    }
    return 0;
fault_err:
    snprintf(sw->err, sw->errlen, "faults: %s", ferr);
    return -1;
}

static void teardown(swarm *sw) {
    nm_faults_free(sw->faults);
    if (sw->profiles) {
        for (int i = 0; i < 3 * sw->n_peers; i++) nm_profile_free(sw->profiles[i]);
        free(sw->profiles);
    }
    nm_net_free(sw->net);
    nm_sim_free(sw->sim);
    if (sw->peers)
        for (int i = 0; i < sw->n_peers; i++) {
            free(sw->peers[i].cache);
            mbq_free(&sw->peers[i].fwd_q);
            mbq_free(&sw->peers[i].bwd_q);
            mbq_free(&sw->peers[i].merge_q);
            mbq_free(&sw->peers[i].to_q);
        }
    if (sw->parked)
        for (int s = 0; s < sw->n_stages; s++) mbq_free(&sw->parked[s]);
    free(sw->parked);
    free(sw->peers);
    free(sw->stage_peers);
    free(sw->stage_params);
    free(sw->flops);
    free(sw->mbs);
    free(sw->paths);
    free(sw->xf);
    free(sw->parts);
    free(sw->ring_round);
    free(sw->ring_left);
    free(sw->ring_n);
    free(sw->ring_ok);
    free(sw->ring_members);
    free(sw->ts_t);
    free(sw->ts_tokens);
    free(sw->ts_peak);
}

static void fill_summary(swarm *sw, sim_summary *s) {
    const swarm_config *c = sw->cfg;
    nm_time now = nm_now(sw->sim);
    peak_advance(sw);
    /* close open intervals */
    double T = nm_to_s(now);
    double cur = nm_to_s(now - sw->phase_start);
    double ptime[4];
    memcpy(ptime, sw->phase_time, sizeof ptime);
    ptime[sw->phase] += cur;
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        swarm_acct_leave(sw, p);
        if (p->task != TASK_NONE) {
            p->acct[ACCT_COMPUTE] += nm_to_s(now - p->task_start);
            p->task = TASK_NONE;
        }
    }
    s->cycles = sw->cycles_done;
    s->sim_time_s = T;
    s->tokens_trained = (double)sw->tokens_trained;
    s->microbatches_injected = (double)sw->mbs_injected;
    s->microbatches_trained = (double)sw->mbs_trained;
    s->microbatches_lost = (double)sw->mbs_lost;
    s->microbatches_in_flight = (double)sw->in_flight;
    s->wasted_flops = sw->wasted_flops;
    s->tokens_per_s = T > 0 ? s->tokens_trained / T : 0;
    s->tokens_per_s_training = ptime[0] > 0 ? s->tokens_trained / ptime[0] : 0;
    s->model_flops_per_token = sw->fpt;
    double peak_nominal = 0;
    for (int i = 0; i < sw->n_peers; i++) peak_nominal += swarm_peer_peak(sw, &sw->peers[i]);
    s->peak_flops_total = peak_nominal;
    s->mfu_training = sw->peak_integral_training > 0
                          ? s->tokens_trained * sw->fpt / sw->peak_integral_training
                          : 0;
    s->mfu_overall = sw->peak_integral > 0 ? s->tokens_trained * sw->fpt / sw->peak_integral : 0;
    s->mfu_window_s = c->mfu_window_s;
    s->mfu_best_window = best_window_mfu(sw, c->mfu_window_s);
    s->utilisation = T > 0 ? ptime[SWARM_PHASE_TRAINING] / T : 0;
    s->time_training_s = ptime[SWARM_PHASE_TRAINING];
    s->time_uploading_s = ptime[SWARM_PHASE_UPLOADING];
    s->time_merging_s = ptime[SWARM_PHASE_MERGING];
    s->time_other_s = ptime[SWARM_PHASE_OTHER];
    s->mean_training_phase_s =
        sw->n_training_phases ? sw->training_phase_sum / sw->n_training_phases : 0;
    s->mean_sync_phase_s = sw->n_sync_phases ? sw->sync_phase_sum / sw->n_sync_phases : 0;
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
    if (c->sync != SYNC_DDP) {
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

static int write_peer_shares(swarm *sw, double T) {
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

int swarm_run(const swarm_config *cfg, const swarm_sink *sink, sim_summary *out,
              volatile int *stop_flag, char *err, size_t errlen) {
    swarm sw;
    memset(&sw, 0, sizeof sw);
    sw.cfg = cfg;
    sw.sink = sink;
    sw.err = err;
    sw.errlen = errlen;
    sw.stop_flag = stop_flag;
    sw.progress_last = -1;
    err[0] = 0;
    if (setup(&sw)) {
        teardown(&sw);
        return EXIT_RUN;
    }
    if (sink && sink->peers) {
        swarm_peer_row *pr = xcalloc((size_t)sw.n_peers, sizeof *pr);
        for (int i = 0; i < sw.n_peers; i++)
            pr[i] = (swarm_peer_row){.peer = i,
                                     .stage = sw.peers[i].stage,
                                     .replica = sw.peers[i].replica,
                                     .spec = &cfg->peers[i]};
        int rc = sink->peers(sink->ctx, pr, sw.n_peers);
        free(pr);
        if (rc) {
            snprintf(err, errlen, "writing the peers table failed");
            teardown(&sw);
            return EXIT_RUN;
        }
    }
    sw.phase = SWARM_PHASE_TRAINING;
    for (int i = 0; i < sw.n_peers; i++) swarm_acct_enter(&sw, &sw.peers[i]);
    on_sample(sw.sim, &sw, 0);
    if (cfg->sync == SYNC_DDP) ddp_begin_phase(&sw);
    else train_begin_phase(&sw);

    const nm_time chunk = nm_from_s(600);
    const nm_time limit = cfg->max_sim_s > 0 ? nm_from_s(cfg->max_sim_s) : NM_TIME_MAX;
    int interrupted = 0, hit_limit = 0;
    while (!sw.finished && !sw.failed) {
        if (stop_flag && *stop_flag) {
            interrupted = 1;
            break;
        }
        nm_time now = nm_now(sw.sim);
        if (now >= limit) { /* a safety stop, not a failure: the figures so far are kept */
            snprintf(
                err, errlen,
                "stopped at the max_sim limit (%.0f simulated hours) before reaching its target; "
                "the figures cover the run so far and the trace is marked incomplete",
                cfg->max_sim_s / 3600);
            hit_limit = 1;
            break;
        }
        nm_time until = now + chunk < limit ? now + chunk : limit;
        nm_run_until(sw.sim, until);
        if (!sw.finished && !sw.failed && nm_pending(sw.sim) <= 1 && sw.sample_timer &&
            nm_timer_time(sw.sim, sw.sample_timer) >= 0 && nm_net_live_flows(sw.net) == 0 &&
            !any_task(&sw)) {
            if (getenv("ORIONSIM_DEBUG"))
                fprintf(stderr,
                        "injected %lld trained %lld lost %lld in_flight %lld draining %d done %lld "
                        "target %lld pending %zu\n",
                        (long long)sw.mbs_injected, (long long)sw.mbs_trained,
                        (long long)sw.mbs_lost, (long long)sw.in_flight, sw.draining,
                        (long long)sw.done_this_phase, (long long)sw.target_mbs,
                        nm_pending(sw.sim));
            if (getenv("ORIONSIM_DEBUG"))
                for (int i = 0; i < sw.n_peers; i++) {
                    peer *p = &sw.peers[i];
                    fprintf(stderr,
                            "peer %d stage %d state %d task %d cache %d fwd %d bwd %d opt %d\n", i,
                            p->stage, p->state, p->task, p->cache_used, p->fwd_q.n, p->bwd_q.n,
                            p->opt_pending);
                }
            swarm_fail(
                &sw,
                "the swarm stalled at t = %.3f s in cycle %d (phase %s): no peer can make progress",
                nm_to_s(nm_now(sw.sim)), sw.cycle, swarm_phase_names[sw.phase]);
        }
    }
    if (cfg->progress && isatty(2)) fputc('\n', stderr);
    if (sw.events_dropped && sink && sink->events_dropped)
        sink->events_dropped(sink->ctx, sw.events_dropped);
    fill_summary(&sw, out);
    out->complete = sw.finished && !interrupted && !sw.failed && !hit_limit;
    if (sink && sink->peer_shares && write_peer_shares(&sw, out->sim_time_s))
        swarm_fail(&sw, "writing the trace failed");
    int failed = sw.failed;
    teardown(&sw);
    return failed ? EXIT_RUN : EXIT_OK;
}
