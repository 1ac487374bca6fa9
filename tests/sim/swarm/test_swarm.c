/* tests/sim/swarm/test_swarm.c: the swarm engine against closed forms and conservation laws. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/model.h"
#include "sim/metrics/summary.h"
#include "sim/swarm/swarm.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_sink.h"
#include "sim/trace/trace_read.h"
#include "tests/check_main.h"
#include "tests/sim/swarm/swarm_testutil.h"

static nm_time dur_ns(double flops, double rate) { return nm_from_s(flops / rate); }

/* Durations of the 2-stage x 1-replica fixture: stage-0 forward, stage-0 backward (with
 * recompute), stage-1 fused step, one hop, as the engine rounds them. */
typedef struct {
    nm_time f0, b0, l1, hop;
} two_stage;

static two_stage two_stage_times(const swarm_config *c) {
    const double rate = 10e12 * 0.5;
    two_stage t;
    t.f0 = dur_ns(
        km_task_flops(&c->model, &c->split, &c->boundary, 0, KM_TASK_FORWARD, c->microbatch_tokens),
        rate);
    t.b0 = dur_ns(km_task_flops(&c->model, &c->split, &c->boundary, 0, KM_TASK_BACKWARD_RECOMPUTE,
                                c->microbatch_tokens),
                  rate);
    t.l1 = dur_ns(km_task_flops(&c->model, &c->split, &c->boundary, 1, KM_TASK_LAST_FUSED,
                                c->microbatch_tokens),
                  rate);
    int64_t bytes = km_activation_bytes(&c->model, &c->boundary, c->microbatch_tokens);
    t.hop = nm_from_s(0.010) + (nm_time)ceil((double)bytes * 8.0 / 100e6 * 1e9 - 1e-6);
    return t;
}

/* The fixture as a 2 x 1 pipeline whose microbatches run one at a time (cache 1), with
 * free optimizer steps and no sync (ring over one peer per stage), 1 cycle. */
static void make_serial(fixture *f) {
    make(f, 2, 1);
    swarm_config *c = &f->c;
    c->cache_capacity = 1;
    c->compute.opt_bytes_per_param = 0;
    c->sync = "ring";
    c->cycles_target = 1;
    c->H = 3;
    c->accum = 5;
}

/* 2 stages x 1 replica, cache of 1 at every peer, optimizer and sync free: each
 * microbatch runs alone, so the phase lasts N x (F0 + hop + L1 + hop + B0) where a hop is
 * latency + bytes*8/bw, each rounded as the engine rounds it. */
START_TEST(test_two_stage_closed_form) {
    fixture f;
    make(&f, 2, 1);
    swarm_config *c = &f.c;
    c->cache_capacity = 1;
    c->compute.opt_bytes_per_param = 0;
    c->sync = "ring"; /* one peer per stage: nothing to reduce */
    c->cycles_target = 1;
    c->H = 3;
    c->accum = 5;
    sim_summary s = run(c, NULL);
    const double rate = 10e12 * 0.5;
    double f0 =
        km_task_flops(&c->model, &c->split, &c->boundary, 0, KM_TASK_FORWARD, c->microbatch_tokens);
    double b0 = km_task_flops(&c->model, &c->split, &c->boundary, 0, KM_TASK_BACKWARD_RECOMPUTE,
                              c->microbatch_tokens);
    double l1 = km_task_flops(&c->model, &c->split, &c->boundary, 1, KM_TASK_LAST_FUSED,
                              c->microbatch_tokens);
    int64_t bytes = km_activation_bytes(&c->model, &c->boundary, c->microbatch_tokens);
    /* transfer time rounded up to the next ns, latency exact */
    nm_time hop = nm_from_s(0.010) + (nm_time)ceil((double)bytes * 8.0 / 100e6 * 1e9 - 1e-6);
    nm_time per_mb = dur_ns(f0, rate) + hop + dur_ns(l1, rate) + hop + dur_ns(b0, rate);
    int64_t n = (int64_t)c->H * c->accum;
    ck_assert_int_eq((int64_t)s.microbatches_trained, n);
    ck_assert_int_eq((int64_t)s.tokens_trained, n * c->microbatch_tokens);
    double expect = nm_to_s(per_mb * n);
    ck_assert_msg(fabs(s.time_training_s - expect) <= 1e-9 * (double)n * 4 + 1e-9,
                  "training phase %.9f s, closed form %.9f s", s.time_training_s, expect);
    ck_assert_double_eq_tol(s.utilisation, 1.0, 1e-12);
}
END_TEST

/* Conservation with churn: injected = trained + lost + in flight, tokens counted once,
 * and the run reaches its cycles (churn never deadlocks the phase machine). */
START_TEST(test_conservation_under_churn) {
    fixture f;
    make(&f, 4, 3);
    swarm_config *c = &f.c;
    c->faults.churn = 1;
    c->faults.churn_mtbf_s = 60;
    c->faults.churn_mttr_s = 20;
    c->activation_timeout_s = 20;
    c->H = 10;
    c->accum = 10;
    c->cycles_target = 4;
    sim_summary s = run(c, NULL);
    ck_assert_int_eq(s.complete, 1);
    ck_assert_int_eq(s.cycles, 4);
    ck_assert_double_eq(s.microbatches_injected,
                        s.microbatches_trained + s.microbatches_lost + s.microbatches_in_flight);
    ck_assert_double_eq(s.tokens_trained, s.microbatches_trained * (double)c->microbatch_tokens);
    ck_assert_msg(s.microbatches_lost > 0, "churn this heavy must lose microbatches");
    ck_assert_msg(s.share_down > 0.05, "down share %.3f", s.share_down);
    ck_assert(s.wasted_flops > 0);
    double shares = s.share_compute + s.share_recompute + s.share_optimizer + s.share_merge +
                    s.share_idle + s.share_waiting + s.share_down;
    ck_assert_double_eq_tol(shares, 1.0, 1e-9);
}
END_TEST

/* A heavy spot/churn mix on every stage: the phase machine still finishes its cycles. */
START_TEST(test_no_deadlock_spot_and_churn) {
    for (uint64_t seed = 1; seed <= 5; seed++) {
        fixture f;
        make(&f, 3, 2);
        swarm_config *c = &f.c;
        c->seed = seed;
        c->faults.churn = 1;
        c->faults.churn_mtbf_s = 120;
        c->faults.churn_mttr_s = 120;
        int spot[6] = {0, 1, 2, 3, 4, 5};
        c->faults.spot = 1;
        c->faults.spot_peers = spot;
        c->faults.n_spot_peers = 6;
        c->faults.spot_interval_s = 200;
        c->faults.spot_notice_s = 30;
        c->faults.spot_restart_s = 60;
        c->activation_timeout_s = 15;
        c->cycles_target = 3;
        sim_summary s = run(c, NULL);
        ck_assert_int_eq(s.cycles, 3);
        ck_assert_double_eq(s.microbatches_injected, s.microbatches_trained + s.microbatches_lost +
                                                         s.microbatches_in_flight);
    }
}
END_TEST

static int64_t count_kind_for_peer(const char *path, int kind, int peer) {
    trace_file *tf;
    char err[256];
    ck_assert_msg(trace_read_open(path, &tf, err, sizeof err) == 0, "%s", err);
    void *recs = NULL;
    size_t rows = 0;
    ck_assert_int_eq(trace_read_table(tf, "events", trace_event_fields, trace_event_n_fields,
                                      sizeof(trace_event_rec), &recs, &rows),
                     0);
    trace_event_rec *e = recs;
    int64_t n = 0;
    for (size_t i = 0; i < rows; i++) n += e[i].kind == kind && e[i].peer == peer;
    free(e);
    trace_read_close(tf);
    return n;
}

/* Under `swarm` routing each last-stage peer gets work in proportion to its speed. */
START_TEST(test_swarm_routing_proportional) {
    fixture f;
    make(&f, 2, 3);
    swarm_config *c = &f.c;
    c->routing = "swarm";
    c->cycles_target = 1;
    c->H = 10;
    c->accum = 40;
    c->cache_capacity = 8;
    /* stage 0 fast, the last stage the bottleneck with speeds 1, 2, 3 */
    for (int r = 0; r < 3; r++) {
        f.peers[r * 2].speed = 20.0;
        f.peers[r * 2 + 1].speed = 1.0 + r;
        f.peers[r * 2].up_bps = f.peers[r * 2].down_bps = 10e9;
        f.peers[r * 2 + 1].up_bps = f.peers[r * 2 + 1].down_bps = 10e9;
    }
    char path[] = "/tmp/orionsim-test-swarm-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    trace_meta meta = {.seed = c->seed, .mode = "modeled"};
    trace *tr = trace_open(path, &meta);
    ck_assert_ptr_nonnull(tr);
    sim_summary s = run(c, tr);
    ck_assert_int_eq(trace_close(tr, &s, 1), 0);
    double n[3], tot = 0;
    for (int r = 0; r < 3; r++)
        tot += n[r] = (double)count_kind_for_peer(path, TRACE_EV_LAST_FUSED, r * 2 + 1);
    for (int r = 0; r < 3; r++) {
        double share = n[r] / tot, want = (1.0 + r) / 6.0;
        ck_assert_msg(fabs(share - want) < 0.05, "peer %d share %.3f, expected %.3f", r * 2 + 1,
                      share, want);
    }
    unlink(path);
}
END_TEST

/* Same scenario + same seed = the same events, byte for byte; another seed differs. */
static char *events_csv(const swarm_config *c) {
    char path[] = "/tmp/orionsim-test-det-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    trace_meta meta = {.seed = c->seed, .mode = "modeled", .created = "2026-01-01T00:00:00Z"};
    trace *tr = trace_open(path, &meta);
    sim_summary s = run(c, tr);
    ck_assert_int_eq(trace_close(tr, &s, 1), 0);
    trace_file *tf;
    char err[256];
    ck_assert_int_eq(trace_read_open(path, &tf, err, sizeof err), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ck_assert_int_eq(trace_read_table_csv(tf, "events", m), 0);
    fclose(m);
    trace_read_close(tf);
    unlink(path);
    return buf;
}

START_TEST(test_determinism) {
    fixture f;
    make(&f, 3, 3);
    f.c.faults.churn = 1;
    f.c.faults.churn_mtbf_s = 600;
    f.c.faults.churn_mttr_s = 60;
    f.c.faults.stragglers = 1;
    f.c.faults.straggler_fraction = 0.3;
    f.c.faults.straggler_factor = 0.3;
    f.c.faults.straggler_slow_s = 100;
    f.c.faults.straggler_normal_s = 300;
    f.c.faults.straggler_speed = 1;
    f.c.faults.straggler_bandwidth = 1;
    char *a = events_csv(&f.c);
    char *b = events_csv(&f.c);
    ck_assert_msg(strlen(a) > 1000, "events table too small");
    ck_assert_str_eq(a, b);
    f.c.seed = 43;
    char *d = events_csv(&f.c);
    ck_assert_str_ne(a, d);
    free(a);
    free(b);
    free(d);
}
END_TEST

/* Compression: the same swarm with 64x ResBM moves 1/64 of the activation bytes; with
 * slow links uncompressed it trains slower. */
START_TEST(test_compression_bytes_and_speed) {
    fixture f;
    make(&f, 2, 2);
    f.c.cycles_target = 1;
    for (int i = 0; i < 4; i++) f.peers[i].up_bps = f.peers[i].down_bps = 20e6;
    sim_summary raw = run(&f.c, NULL);
    f.c.boundary.method = KM_COMP_RESBM;
    f.c.boundary.k = 512 / 64;
    f.c.boundary.hidden = 64;
    sim_summary comp = run(&f.c, NULL);
    ck_assert_double_eq(raw.activation_bytes_raw, comp.activation_bytes_raw);
    ck_assert_double_eq(comp.activation_bytes_wire * 64, comp.activation_bytes_raw);
    ck_assert_msg(comp.tokens_per_s_training > 1.5 * raw.tokens_per_s_training,
                  "compressed %.1f vs raw %.1f tok/s", comp.tokens_per_s_training,
                  raw.tokens_per_s_training);
}
END_TEST

/* DDP: n peers, no network in training; the phase is H steps of accum microbatches. */
START_TEST(test_ddp_closed_form) {
    fixture f;
    make(&f, 1, 4);
    swarm_config *c = &f.c;
    c->split.n_stages = 1;
    c->split.blocks[0] = c->model.n_blocks;
    c->n_stages = 1;
    c->training = "ddp";
    c->sync = "ring";
    c->cycles_target = 1;
    sim_summary s = run(c, NULL);
    km_split one = {.n_stages = 1};
    one.blocks[0] = c->model.n_blocks;
    km_boundary none = {.method = KM_COMP_NONE};
    double fl = km_task_flops(&c->model, &one, &none, 0, KM_TASK_LAST_FUSED, c->microbatch_tokens) *
                c->accum;
    double expect = c->H * nm_to_s(dur_ns(fl, 10e12 * 0.5));
    ck_assert_double_eq_tol(s.time_training_s, expect, 1e-8);
    ck_assert_double_eq(s.tokens_trained, 4.0 * c->H * c->accum * (double)c->microbatch_tokens);
    /* ring: 2(n-1) rounds of params*2/n bytes over 100 Mbit/s links, 10 ms each */
    double params = (double)km_params_total(&c->model);
    double round = 0.010 + ceil(params * 2 / 4) * 8 / 100e6;
    ck_assert_double_eq_tol(s.time_merging_s, 6 * round, 1e-6 * 6);
}
END_TEST

/* IOTA's cache TTL: a stage-s entry lives cache_ttl_s x (S - s). With microbatches run
 * one at a time, stage 0 holds each input for R = F0 + hop + L1 + hop + B0's start, i.e.
 * F0 + 2 hop + L1 before its gradient is back; stage 1 holds its input for L1. With
 * cache_ttl_s = 0.45 R (> L1) stage 0's 0.9 R runs out first and every microbatch is
 * lost; with 0.55 R (1.1 R at stage 0) none is. A single TTL for all stages would lose
 * them at 0.55 R too. */
START_TEST(test_iota_cache_ttl_per_stage) {
    fixture f;
    make_serial(&f);
    swarm_config *c = &f.c;
    two_stage t = two_stage_times(c);
    double R = nm_to_s(t.f0 + 2 * t.hop + t.l1);
    ck_assert(nm_to_s(t.l1) < 0.45 * R);
    c->timeout_roundtrip = 0;
    c->activation_timeout_s = 1e6; /* the outbound TTL plays no part */
    c->cache_ttl_s = 0.55 * R;
    sim_summary ok = run(c, NULL);
    ck_assert_int_eq((int64_t)ok.microbatches_lost, 0);
    ck_assert_int_eq((int64_t)ok.microbatches_trained, (int64_t)c->H * c->accum);
    c->cache_ttl_s = 0.45 * R;
    c->max_sim_s = 200 * R;
    sim_summary bad = run(c, NULL);
    ck_assert_int_eq((int64_t)bad.microbatches_trained, 0);
    ck_assert_int_gt((int64_t)bad.microbatches_lost, 0);
    ck_assert_int_eq(bad.complete, 0);
    ck_assert_double_eq(bad.microbatches_injected,
                        bad.microbatches_lost + bad.microbatches_in_flight);
}
END_TEST

/* IOTA's outbound TTL bounds only the wait in the sender's queue, not the round trip: a
 * round trip far longer than activation_timeout_s loses nothing under the iota rule and
 * everything under the round-trip rule. */
START_TEST(test_iota_outbound_ttl_is_not_a_round_trip_limit) {
    fixture f;
    make_serial(&f);
    swarm_config *c = &f.c;
    two_stage t = two_stage_times(c);
    double R = nm_to_s(t.f0 + 2 * t.hop + t.l1);
    c->activation_timeout_s = 0.5 * R;
    c->max_sim_s = 200 * R;
    c->timeout_roundtrip = 0;
    c->cache_ttl_s = 0;
    sim_summary iota = run(c, NULL);
    ck_assert_int_eq((int64_t)iota.microbatches_lost, 0);
    ck_assert_int_eq((int64_t)iota.microbatches_trained, (int64_t)c->H * c->accum);
    c->timeout_roundtrip = 1;
    sim_summary rt = run(c, NULL);
    ck_assert_int_eq((int64_t)rt.microbatches_trained, 0);
    ck_assert_int_gt((int64_t)rt.microbatches_lost, 0);
}
END_TEST

/* The outbound TTL drops activations parked in their sender's queue. With slot_at =
 * forward, a forward queue of 1 and a stage 1 that is 50x slower than stage 0, stage 0's
 * third microbatch waits for stage 1 to start its second: about one stage-1 forward.
 * A TTL of a tenth of that loses parked ones; a TTL of 100 of them loses none. */
START_TEST(test_iota_outbound_ttl_drops_parked) {
    fixture f;
    make(&f, 3, 1);
    swarm_config *c = &f.c;
    f.peers[1].peak_flops = 10e12 / 50;
    c->cache_capacity = 3;
    c->slot_at_forward = 1;
    c->forward_queue = 1;
    c->cache_full_wait_s = 0;
    c->timeout_roundtrip = 0;
    c->cache_ttl_s = 0;
    c->compute.opt_bytes_per_param = 0;
    c->sync = "ring";
    c->cycles_target = 1;
    double f1 = km_task_flops(&c->model, &c->split, &c->boundary, 1, KM_TASK_FORWARD,
                              c->microbatch_tokens) /
                (10e12 / 50 * 0.5);
    c->activation_timeout_s = 100 * f1;
    sim_summary ok = run(c, NULL);
    ck_assert_int_eq((int64_t)ok.microbatches_lost, 0);
    ck_assert_int_ge((int64_t)ok.microbatches_trained, (int64_t)c->H * c->accum); /* drain */
    c->activation_timeout_s = 0.1 * f1;
    sim_summary bad = run(c, NULL);
    ck_assert_int_gt((int64_t)bad.microbatches_lost, 0);
    ck_assert_int_eq(bad.complete, 1); /* lost ones are replaced: the phase still ends */
    ck_assert_double_eq(bad.microbatches_injected, bad.microbatches_trained +
                                                       bad.microbatches_lost +
                                                       bad.microbatches_in_flight);
}
END_TEST

/* slot_at = forward with microbatches one at a time gives the same closed form as a
 * reservation at routing (nothing waits), and with more in flight the receivers never
 * refuse work forever (no deadlock: the run completes, nothing lost). */
START_TEST(test_iota_slot_at_forward) {
    fixture f;
    make_serial(&f);
    swarm_config *c = &f.c;
    two_stage t = two_stage_times(c);
    c->slot_at_forward = 1;
    sim_summary s = run(c, NULL);
    int64_t n = (int64_t)c->H * c->accum;
    double expect = nm_to_s((t.f0 + t.hop + t.l1 + t.hop + t.b0) * n);
    ck_assert_msg(fabs(s.time_training_s - expect) <= 1e-9 * (double)n * 4 + 1e-9,
                  "training phase %.9f s, closed form %.9f s", s.time_training_s, expect);
    fixture g;
    make(&g, 4, 2);
    g.c.slot_at_forward = 1;
    g.c.cache_full_wait_s = 1.0;
    sim_summary m = run(&g.c, NULL);
    ck_assert_int_eq(m.complete, 1);
    ck_assert_int_eq((int64_t)m.microbatches_lost, 0);
    ck_assert_int_eq(m.cycles, 2);
}
END_TEST

/* Unless keep_cache_on_local_step, an inner step wipes the peer's cache: with 4 in
 * flight and steps every 2 backwards, microbatches are lost; with the flag none are. */
START_TEST(test_iota_cache_wipe_on_local_step) {
    fixture f;
    make(&f, 2, 1);
    swarm_config *c = &f.c;
    c->accum = 2;
    c->sync = "ring";
    c->keep_cache_on_local_step = 1;
    sim_summary keep = run(c, NULL);
    ck_assert_int_eq((int64_t)keep.microbatches_lost, 0);
    c->keep_cache_on_local_step = 0;
    sim_summary wipe = run(c, NULL);
    ck_assert_int_gt((int64_t)wipe.microbatches_lost, 0);
    ck_assert_int_eq(wipe.complete, 1);
    ck_assert_double_eq(wipe.microbatches_injected, wipe.microbatches_trained +
                                                        wipe.microbatches_lost +
                                                        wipe.microbatches_in_flight);
    ck_assert_int_ge((int64_t)wipe.microbatches_trained, (int64_t)c->H * c->accum * 2);
}
END_TEST

/* Phase end: drain resolves every microbatch in flight (more than the target trained,
 * none lost); discard (IOTA) drops them: exactly the target trained, the rest lost. */
START_TEST(test_iota_phase_end_discard) {
    fixture f;
    make(&f, 2, 1);
    swarm_config *c = &f.c;
    c->sync = "ring";
    c->cycles_target = 1;
    sim_summary drain = run(c, NULL);
    int64_t target = (int64_t)c->H * c->accum;
    ck_assert_int_gt((int64_t)drain.microbatches_trained, target);
    ck_assert_int_eq((int64_t)drain.microbatches_lost, 0);
    c->phase_drain = 0;
    sim_summary disc = run(c, NULL);
    ck_assert_int_eq((int64_t)disc.microbatches_trained, target);
    ck_assert_int_eq((int64_t)disc.microbatches_lost, (int64_t)disc.microbatches_injected - target);
    ck_assert_int_gt((int64_t)disc.microbatches_lost, 0);
    ck_assert_double_lt(disc.time_training_s, drain.time_training_s);
}
END_TEST

/* The layer-0 fetch period: on one fused stage whose task takes d < P, microbatches start
 * P apart, so the phase lasts (N - 1) P + d; per-microbatch overheads add their time to
 * each task (two stages: fetch + target + 2 hops of serialisation per microbatch). */
START_TEST(test_iota_overheads) {
    fixture f;
    make(&f, 1, 1);
    swarm_config *c = &f.c;
    c->split.n_stages = 1;
    c->split.blocks[0] = c->model.n_blocks;
    c->compute.opt_bytes_per_param = 0;
    c->sync = "ring";
    c->cycles_target = 1;
    double d = nm_to_s(dur_ns(km_task_flops(&c->model, &c->split, &c->boundary, 0,
                                            KM_TASK_LAST_FUSED, c->microbatch_tokens),
                              10e12 * 0.5));
    c->inject_period_s = 3 * d;
    sim_summary s = run(c, NULL);
    int64_t n = (int64_t)c->H * c->accum;
    ck_assert_double_eq_tol(s.time_training_s, (double)(n - 1) * 3 * d + d, 1e-6);

    make_serial(&f);
    two_stage t = two_stage_times(c);
    c->stage0_fetch_s = 0.25;
    c->last_target_s = 0.5;
    c->per_hop_s = 0.125;
    sim_summary o = run(c, NULL);
    n = (int64_t)c->H * c->accum;
    double expect = nm_to_s((t.f0 + t.hop + t.l1 + t.hop + t.b0) * n) + n * (0.25 + 0.5 + 0.25);
    ck_assert_double_eq_tol(o.time_training_s, expect, 1e-6);
}
END_TEST

/* auto_max_cache: a cache of 1 that may grow until 3 backwards. Stage 0 starts one
 * microbatch per fetch period P = R / 4 (R the round trip) until its third backward:
 * several in flight instead of 1, so the target is reached sooner; the cache then stays
 * at that size, and under discard what is in flight at the end is lost. (With P near 0
 * it would take ~1024 at once and their transfers would share the links: slower.) */
START_TEST(test_iota_auto_max_cache) {
    fixture f;
    make_serial(&f);
    swarm_config *c = &f.c;
    two_stage t = two_stage_times(c);
    c->phase_drain = 0;
    c->inject_period_s = nm_to_s(t.f0 + 2 * t.hop + t.l1) / 4;
    sim_summary fixed = run(c, NULL);
    ck_assert_int_eq((int64_t)fixed.microbatches_lost, 0);
    c->auto_max_cache = 1;
    sim_summary grown = run(c, NULL);
    ck_assert_int_eq(grown.complete, 1);
    ck_assert_int_eq((int64_t)grown.microbatches_trained, (int64_t)c->H * c->accum);
    ck_assert_int_gt((int64_t)grown.microbatches_lost, 0);
    ck_assert_double_lt(grown.time_training_s, fixed.time_training_s);
}
END_TEST

/* The like-for-like peak window: over the same window, leaving the sync time out of the
 * denominator can only raise the MFU; with churn, a window must hold no outage. */
START_TEST(test_best_training_window) {
    fixture f;
    make(&f, 2, 2);
    f.c.mfu_window_s = 0.5;
    sim_summary s = run(&f.c, NULL);
    ck_assert(!isnan(s.mfu_best_training_window));
    ck_assert_double_ge(s.mfu_best_training_window, s.mfu_best_window - 1e-12);
    ck_assert_double_le(s.mfu_best_training_window, 1.0);
    ck_assert_double_gt(s.time_uploading_s + s.time_merging_s, 0); /* there was sync time */
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("swarm");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_two_stage_closed_form);
    tcase_add_test(tc, test_conservation_under_churn);
    tcase_add_test(tc, test_no_deadlock_spot_and_churn);
    tcase_add_test(tc, test_swarm_routing_proportional);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_compression_bytes_and_speed);
    tcase_add_test(tc, test_ddp_closed_form);
    tcase_add_test(tc, test_iota_cache_ttl_per_stage);
    tcase_add_test(tc, test_iota_outbound_ttl_is_not_a_round_trip_limit);
    tcase_add_test(tc, test_iota_outbound_ttl_drops_parked);
    tcase_add_test(tc, test_iota_slot_at_forward);
    tcase_add_test(tc, test_iota_cache_wipe_on_local_step);
    tcase_add_test(tc, test_iota_phase_end_discard);
    tcase_add_test(tc, test_iota_overheads);
    tcase_add_test(tc, test_iota_auto_max_cache);
    tcase_add_test(tc, test_best_training_window);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
