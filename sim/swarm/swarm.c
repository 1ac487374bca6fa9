/* sim/swarm/swarm.c: the engine core: set-up, the run loop, phases and cycles.
 * Peers, faults and accounting are in swarm_peer.c, measurements in swarm_metrics.c,
 * transfers in swarm_xfer.c; the algorithms plug in through swarm_registry.c. */
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

/* ---- phases ---- */

void swarm_phase_change(swarm *sw, swarm_phase phase) {
    nm_time now = nm_now(sw->sim);
    swarm_peak_advance(sw);
    double dur = nm_to_s(now - sw->ph.phase_start);
    sw->ph.phase_time[sw->ph.phase] += dur;
    if (sw->ph.phase == SWARM_PHASE_TRAINING) {
        sw->ph.n_training_phases++;
        sw->ph.training_phase_sum += dur;
        sw->ph.sync_start = now;
    }
    /* a sync phase belongs to the round it exchanges (overlap: the round before) */
    int sync = sw->ph.phase == SWARM_PHASE_UPLOADING || sw->ph.phase == SWARM_PHASE_MERGING;
    int cycle = sync ? sw->sy.cycle : sw->ph.cycle;
    if (sw->sink && sw->sink->phase &&
        sw->sink->phase(sw->sink->ctx, cycle, sw->ph.phase, sw->ph.phase_start, now))
        swarm_fail(sw, "writing the trace failed");
    sw->ph.phase = phase;
    sw->ph.phase_start = now;
    swarm_acct_rebucket(sw);
}

int swarm_check_finished(swarm *sw) {
    const swarm_config *c = sw->cfg;
    if ((c->tokens_target > 0 && sw->count.tokens_trained >= c->tokens_target) ||
        (c->cycles_target > 0 && sw->ph.cycles_done >= c->cycles_target)) {
        sw->ph.finished = 1;
        nm_stop(sw->sim);
    }
    return sw->ph.finished;
}

void swarm_cycle_count(swarm *sw, double exposed_s) {
    sw->ph.n_sync_phases++;
    sw->ph.sync_phase_sum += exposed_s;
    sw->ph.cycles_done++;
    const swarm_live_ops *L = sw->cfg->live;
    if (L && L->cycle_end &&
        L->cycle_end(L->ctx, sw->ph.cycle, nm_now(sw->sim), sw->count.tokens_trained))
        swarm_fail(sw, "live: end of cycle %d: %s", sw->ph.cycle,
                   L->error ? L->error(L->ctx) : "failed");
}

void swarm_rejoin_waiting(swarm *sw) {
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->state == PEER_WAITING && p->stale) {
            swarm_acct_leave(sw, p);
            swarm_rejoin(sw, p);
            swarm_acct_enter(sw, p);
        }
    }
}

/* The sequential schedule's end of an exchange: the next training phase. */
void swarm_cycle_done(swarm *sw) {
    swarm_cycle_count(sw, nm_to_s(nm_now(sw->sim) - sw->ph.sync_start));
    swarm_phase_change(sw, SWARM_PHASE_TRAINING);
    if (sw->sink && sw->sink->cycle_end && sw->sink->cycle_end(sw->sink->ctx))
        swarm_fail(sw, "flushing the trace failed");
    if (swarm_check_finished(sw)) return;
    if (sw->stop_flag && *sw->stop_flag) { /* stopped (e.g. after a live checkpoint): here */
        nm_stop(sw->sim);
        return;
    }
    sw->ph.cycle++;
    swarm_rejoin_waiting(sw); /* peers that came back during the sync fetch the merged weights */
    sw->train->begin_phase(sw);
}

/* ---- set-up and the run ---- */

/* The algorithms the configuration names. */
static int choose_algorithms(swarm *sw) {
    const swarm_config *c = sw->cfg;
    sw->train = swarm_training_find(c->training);
    sw->sync = swarm_sync_find(c->sync);
    sw->router = swarm_router_find(c->routing);
    const char *sched = c->schedule ? c->schedule : "sequential";
    sw->sched = swarm_schedule_find(sched);
    const char *what = !sw->train    ? "training"
                       : !sw->sync   ? "sync"
                       : !sw->router ? "routing"
                       : !sw->sched  ? "schedule"
                                     : NULL;
    if (what) {
        const char *name = !sw->train    ? c->training
                           : !sw->sync   ? c->sync
                           : !sw->router ? c->routing
                                         : sched;
        snprintf(sw->err, sw->errlen, "swarm: unknown %s algorithm '%s'", what,
                 name ? name : "(none)");
        return -1;
    }
    if (sw->sched == &swarm_schedule_overlap && sw->train->pipelined) {
        snprintf(sw->err, sw->errlen,
                 "swarm: the overlap schedule needs a data-parallel trainer (training '%s' "
                 "stops for its sync)",
                 c->training);
        return -1;
    }
    return 0;
}

static int setup(swarm *sw) {
    const swarm_config *c = sw->cfg;
    if (choose_algorithms(sw)) return -1;
    int ddp = !sw->train->pipelined; /* every node holds the whole model: one stage */
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
    sw->net = nm_net_new(sw->sim, c->net.n_regions > 0 ? c->net.n_regions : 1);
    for (int a = 0; a < c->net.n_regions; a++)
        for (int b = 0; b < c->net.n_regions; b++)
            nm_net_set_region_latency(sw->net, a, b,
                                      nm_from_s(c->net.latency_s[a * c->net.n_regions + b]));
    for (int i = 0; i < c->n_peers; i++)
        nm_net_add_node(sw->net, c->peers[i].region, c->peers[i].up_bps, c->peers[i].down_bps);
    sw->storage = nm_net_add_node(sw->net, c->net.storage_region, c->net.storage_up_bps,
                                  c->net.storage_down_bps);
    if (c->net.tcp_window_bytes > 0) nm_net_set_tcp_window(sw->net, c->net.tcp_window_bytes);
    if (c->net.ideal_network) nm_net_set_ideal(sw->net, 1);

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
    sw->m.fpt = km_model_flops_per_token(&c->model);

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
        /* auto_max_cache lets the cache grow past its capacity until it freezes */
        p->cache_cap = c->cache_capacity > 0 ? c->cache_capacity : 1;
        p->cache_n = c->auto_max_cache && p->cache_cap < SWARM_AUTO_CACHE_MAX ? SWARM_AUTO_CACHE_MAX
                                                                              : p->cache_cap;
        p->cache = xmalloc(sizeof *p->cache * (size_t)p->cache_n);
        for (int k = 0; k < p->cache_n; k++) p->cache[k].mb = -1;
        mbq_init(&p->fwd_q, 32);
        mbq_init(&p->bwd_q, 32);
        mbq_init(&p->sync.merge_q, 8);
        mbq_init(&p->to_q, 32);
        nm_rng_init(&p->route.rng, c->seed, nm_rng_stream_id(STREAM_ROUTING, (uint32_t)i));
        sw->m.peak_present += swarm_peer_peak(sw, p);
    }
    sw->mb.parked = xcalloc((size_t)sw->n_stages, sizeof *sw->mb.parked);
    for (int s = 0; s < sw->n_stages; s++) mbq_init(&sw->mb.parked[s], 16);
    sw->mb.park_timer = xcalloc((size_t)sw->n_stages, sizeof *sw->mb.park_timer);
    sw->xf.free_head = -1;
    if (sw->train->init) sw->train->init(sw);
    if (sw->sync->init) sw->sync->init(sw);

    /* faults */
    const swarm_faults *f = &c->faults;
    sw->faults = nm_faults_new(sw->sim, sw->n_peers, c->seed, swarm_on_fault, sw);
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
            mbq_free(&sw->peers[i].sync.merge_q);
            mbq_free(&sw->peers[i].to_q);
        }
    if (sw->mb.parked)
        for (int s = 0; s < sw->n_stages; s++) mbq_free(&sw->mb.parked[s]);
    free(sw->mb.parked);
    free(sw->mb.park_timer);
    free(sw->peers);
    free(sw->stage_peers);
    free(sw->stage_params);
    free(sw->flops);
    free(sw->mb.recs);
    free(sw->mb.paths);
    free(sw->xf.v);
    if (sw->sync && sw->sync->free) sw->sync->free(sw);
    if (sw->train && sw->train->free) sw->train->free(sw);
    free(sw->m.ts_t);
    free(sw->m.ts_tokens);
    free(sw->m.ts_peak);
    free(sw->m.ts_peak_train);
    free(sw->m.ts_downs);
    free(sw->m.ts_allup);
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
    sw.m.progress_last = -1;
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
    sw.ph.phase = SWARM_PHASE_TRAINING;
    for (int i = 0; i < sw.n_peers; i++) swarm_acct_enter(&sw, &sw.peers[i]);
    swarm_on_sample(sw.sim, &sw, 0);
    sw.train->begin_phase(&sw);

    const nm_time chunk = nm_from_s(600);
    const nm_time limit = cfg->max_sim_s > 0 ? nm_from_s(cfg->max_sim_s) : NM_TIME_MAX;
    int interrupted = 0, hit_limit = 0;
    while (!sw.ph.finished && !sw.failed) {
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
        if (stop_flag && *stop_flag) continue; /* stopped at a cycle end: not a stall */
        if (!sw.ph.finished && !sw.failed && nm_pending(sw.sim) <= 1 && sw.m.sample_timer &&
            nm_timer_time(sw.sim, sw.m.sample_timer) >= 0 && nm_net_live_flows(sw.net) == 0 &&
            !swarm_any_task(&sw)) {
            if (getenv("ORIONSIM_DEBUG"))
                fprintf(stderr,
                        "injected %lld trained %lld lost %lld in_flight %lld draining %d done %lld "
                        "target %lld pending %zu\n",
                        (long long)sw.count.injected, (long long)sw.count.trained,
                        (long long)sw.count.lost, (long long)sw.count.in_flight, sw.ph.draining,
                        (long long)sw.ph.done_this_phase, (long long)sw.ph.target_mbs,
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
                nm_to_s(nm_now(sw.sim)), sw.ph.cycle, swarm_phase_names[sw.ph.phase]);
        }
    }
    if (cfg->progress && isatty(2)) fputc('\n', stderr);
    if (sw.m.events_dropped && sink && sink->events_dropped)
        sink->events_dropped(sink->ctx, sw.m.events_dropped);
    swarm_fill_summary(&sw, out);
    out->complete = sw.ph.finished && !interrupted && !sw.failed && !hit_limit;
    if (sink && sink->peer_shares && swarm_write_peer_shares(&sw, out->sim_time_s))
        swarm_fail(&sw, "writing the trace failed");
    int failed = sw.failed;
    teardown(&sw);
    return failed ? EXIT_RUN : EXIT_OK;
}
