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

/* A small Llama-shaped model: 8 blocks, d 512, seq 128. */
static km_config small_model(void) {
    km_config m = {.d_model = 512,
                   .n_blocks = 8,
                   .n_heads = 8,
                   .n_kv_heads = 2,
                   .head_dim = 64,
                   .ffn = 1536,
                   .vocab = 4096,
                   .seq_len = 128,
                   .rope_theta = 5e5,
                   .norm_eps = 1e-5,
                   .dtype_bytes = 2};
    return m;
}

typedef struct {
    swarm_config c;
    swarm_peer_spec peers[64];
    double lat[4];
} fixture;

/* S stages x R replicas of a 10 TFLOP/s device on 100/100 Mbit/s links, 1 region with a
 * 10 ms one-way latency, butterfly sync through a 10 Gbit/s storage node. */
static void make(fixture *f, int S, int R) {
    memset(f, 0, sizeof *f);
    swarm_config *c = &f->c;
    c->model = small_model();
    c->split.n_stages = S;
    for (int s = 0; s < S; s++) c->split.blocks[s] = c->model.n_blocks / S;
    c->boundary.method = KM_COMP_NONE;
    c->microbatch_tokens = 4 * 128;
    c->recompute = 1;
    c->n_stages = S;
    c->n_replicas = R;
    c->n_peers = S * R;
    c->peers = f->peers;
    for (int i = 0; i < S * R; i++) {
        swarm_peer_spec *p = &f->peers[i];
        p->stage = i % S;
        p->replica = i / S;
        snprintf(p->device, sizeof p->device, "test-gpu");
        p->peak_flops = 10e12;
        p->gpus = 1;
        p->up_bps = 100e6;
        p->down_bps = 100e6;
        p->price_per_h = 1.0;
        p->speed = 1.0;
        p->mem_bw = 1e12;
    }
    c->net.n_regions = 1;
    f->lat[0] = 0.010;
    c->net.latency_s = f->lat;
    c->net.storage_up_bps = c->net.storage_down_bps = 10e9;
    for (int k = 0; k < KM_TASK_KINDS; k++) c->compute.efficiency[k] = 0.5;
    c->compute.merge_efficiency = 0.5;
    c->compute.opt_bytes_per_param = 30;
    c->compute.merge_bytes_per_param = 10;
    c->H = 2;
    c->accum = 4;
    c->cache_capacity = 4;
    c->activation_timeout_s = 100;
    c->min_local_steps = 1;
    c->routing = "iota";
    c->swarm_ema = 0.2;
    c->cycles_target = 2;
    c->max_sim_s = 30 * 86400.0;
    c->training = "pipeline";
    c->sync = "iota-butterfly";
    c->outer.pg_bytes_per_param = 2;
    c->outer.weight_bytes_per_param = 2;
    c->outer.partitions = 2 * R;
    c->outer.owners = R < 2 ? R : 2;
    c->outer.upload_quorum = 0.8;
    c->outer.merge_quorum = 0.9;
    c->outer.upload_timeout_s = 600;
    c->seed = 42;
    c->mfu_window_s = 3600;
    c->sample_s = 10;
    c->events_cycles = -1;
}

static sim_summary run(const swarm_config *c, trace *tr) {
    sim_summary s;
    sim_summary_init(&s);
    char err[512];
    swarm_sink sink;
    if (tr) trace_sink_make(tr, &sink);
    int rc = swarm_run(c, tr ? &sink : NULL, &s, NULL, err, sizeof err);
    ck_assert_msg(rc == 0, "swarm_run failed: %s", err);
    return s;
}

static nm_time dur_ns(double flops, double rate) { return nm_from_s(flops / rate); }

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
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
