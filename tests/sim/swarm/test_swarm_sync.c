/* tests/sim/swarm/test_swarm_sync.c: synchronisation against closed forms: what butterfly
 * owners publish (merged weights or the compressed update), and the exchange overlapped
 * with the next training phase (the overlap schedule). */
#include <check.h>
#include <math.h>

#include "tests/check_main.h"
#include "tests/sim/swarm/swarm_testutil.h"

/* Seconds a flow of `bytes` takes alone on a 100 Mbit/s link after its 10 ms latency. */
static double hop_s(double bytes) { return 0.010 + bytes * 8.0 / 100e6; }

/* The fixture as 2 stages x 2 replicas, one cycle, free merges (memory bandwidth
 * unbounded): the butterfly's four steps run back to back, each bound by one link. */
static void make_sync(fixture *f) {
    make(f, 2, 2);
    f->c.cycles_target = 1;
    for (int i = 0; i < 4; i++) f->peers[i].mem_bw = 1e30;
    f->c.outer.pg_bytes_per_param = 2.0 / 4; /* bf16 pseudo-gradients compressed 4x */
    f->c.outer.weight_bytes_per_param = 2.0;
}

/* The butterfly's closed form (swarm_sync_butterfly.c) for R = 2, p = 4 partitions, o = 2
 * owners: every peer owns the 4 partitions of its stage and both replicas submit.
 * Uploading: each peer sends P g up, the slowest stage sets the window. Merging, per
 * stage: each owner downloads 4 partitions from 2 submitters (2 P g), uploads the 4
 * merged results (P (u + m w)), then downloads the 4 published ones (P u); the phase
 * ends with the slowest stage. */
static void expect_sync(const swarm_config *c, double u, double *up_s, double *merge_s) {
    double g = c->outer.pg_bytes_per_param, w = c->outer.weight_bytes_per_param;
    double m = c->outer.upload_momentum ? 1 : 0;
    *up_s = *merge_s = 0;
    for (int s = 0; s < 2; s++) {
        double P = (double)km_params_stage(&c->model, &c->split, &c->boundary, s);
        double up = hop_s(P * g);
        double merge = hop_s(2 * P * g) + hop_s(P * (u + m * w)) + hop_s(P * u);
        if (up > *up_s) *up_s = up;
        if (merge > *merge_s) *merge_s = merge;
    }
}

static void check_sync(const sim_summary *s, double up, double merge) {
    /* each flow's bytes and nanoseconds are rounded up: a few ns per step */
    ck_assert_msg(fabs(s->time_uploading_s - up) < 1e-6, "uploading %.9f s, closed form %.9f s",
                  s->time_uploading_s, up);
    ck_assert_msg(fabs(s->time_merging_s - merge) < 1e-6, "merging %.9f s, closed form %.9f s",
                  s->time_merging_s, merge);
    ck_assert_msg(fabs(s->mean_sync_phase_s - (up + merge)) < 2e-6, "sync %.9f s, expected %.9f s",
                  s->mean_sync_phase_s, up + merge);
}

/* publish = weights (IOTA): owners upload merged weights + momentum (2 + 2 B per
 * parameter), every peer downloads the weights (2 B). */
START_TEST(test_publish_weights_closed_form) {
    fixture f;
    make_sync(&f);
    f.c.outer.upload_momentum = 1;
    sim_summary s = run(&f.c, NULL);
    double up, merge;
    expect_sync(&f.c, f.c.outer.weight_bytes_per_param, &up, &merge);
    check_sync(&s, up, merge);
}
END_TEST

/* publish = update: owners upload the compressed update (0.5 B per parameter, + 2 B of
 * momentum when uploaded), every peer downloads 0.5 B per parameter; the uploading
 * window is unchanged, the merging phase shorter by P (1.5 + 1.5) B x 8 / 100 Mbit/s. */
START_TEST(test_publish_update_closed_form) {
    for (int mom = 0; mom <= 1; mom++) {
        fixture f;
        make_sync(&f);
        f.c.outer.upload_momentum = mom;
        sim_summary weights = run(&f.c, NULL);
        f.c.outer.publish_update = 1;
        sim_summary update = run(&f.c, NULL);
        double up, merge;
        expect_sync(&f.c, f.c.outer.pg_bytes_per_param, &up, &merge);
        check_sync(&update, up, merge);
        ck_assert_double_eq_tol(update.time_uploading_s, weights.time_uploading_s, 1e-9);
        double saved = 0; /* the slowest stage of both: stage 0 holds the embedding */
        for (int st = 0; st < 2; st++) {
            double P = (double)km_params_stage(&f.c.model, &f.c.split, &f.c.boundary, st);
            double d = P * (2.0 - 0.5) * 2 * 8 / 100e6;
            if (d > saved) saved = d;
        }
        ck_assert_msg(fabs(weights.time_merging_s - update.time_merging_s - saved) < 2e-6,
                      "update saves %.9f s of merging, closed form %.9f s",
                      weights.time_merging_s - update.time_merging_s, saved);
        /* the same training: only the sync is shorter */
        ck_assert_double_eq(update.tokens_trained, weights.tokens_trained);
        ck_assert_double_eq_tol(update.time_training_s, weights.time_training_s, 1e-9);
    }
}
END_TEST

/* ---- overlap ---- */

/* n DDP peers on 1 Gbit/s links, storage unbounded, cycles rounds of H inner steps. */
static void make_ddp(fixture *f, int n, int H, int cycles, const char *sync) {
    make(f, 1, n);
    swarm_config *c = &f->c;
    c->split.n_stages = 1;
    c->split.blocks[0] = c->model.n_blocks;
    c->n_stages = 1;
    c->training = "ddp";
    c->sync = sync;
    c->H = H;
    c->cycles_target = cycles;
    c->net.storage_up_bps = c->net.storage_down_bps = 1e15;
    for (int i = 0; i < n; i++) f->peers[i].up_bps = f->peers[i].down_bps = 1e9;
}

/* One training phase: H inner steps of accum microbatches (test_swarm.c, DDP). */
static double ddp_phase_s(const swarm_config *c) {
    km_split one = {.n_stages = 1};
    one.blocks[0] = c->model.n_blocks;
    km_boundary none = {.method = KM_COMP_NONE};
    double fl = km_task_flops(&c->model, &one, &none, 0, KM_TASK_LAST_FUSED, c->microbatch_tokens) *
                c->accum;
    return c->H * nm_to_s(nm_from_s(fl / (10e12 * 0.5)));
}

/* A ring all-reduce of 2 peers: 2 rounds of P g / 2 bytes over 1 Gbit/s, 10 ms each. */
static double ring2_s(const swarm_config *c) {
    double P = (double)km_params_total(&c->model);
    return 2 * (0.010 + ceil(P * c->outer.pg_bytes_per_param / 2) * 8 / 1e9);
}

/* Exchange E shorter than a training phase T: every exchange but the last hides under
 * the next round, so n rounds take n T + E (sequential: n (T + E)); the mean sync phase
 * is the exposed E / n, the training phases stay T, no GPU time is idle, and the peers
 * wait only for the last exchange. */
START_TEST(test_overlap_short_exchange) {
    const int n = 3;
    fixture f;
    make_ddp(&f, 2, 40, n, "ring");
    double T = ddp_phase_s(&f.c), E = ring2_s(&f.c);
    ck_assert_msg(E < T, "the case needs E (%g s) < T (%g s)", E, T);
    sim_summary seq = run(&f.c, NULL);
    f.c.schedule = "overlap";
    sim_summary ov = run(&f.c, NULL);
    ck_assert_msg(fabs(seq.sim_time_s - n * (T + E)) < 1e-5,
                  "sequential %.9f s, closed form %.9f s", seq.sim_time_s, n * (T + E));
    ck_assert_msg(fabs(ov.sim_time_s - (n * T + E)) < 1e-5, "overlap %.9f s, closed form %.9f s",
                  ov.sim_time_s, n * T + E);
    ck_assert_int_eq(ov.cycles, n);
    ck_assert_double_eq(ov.tokens_trained, seq.tokens_trained);
    ck_assert_double_eq_tol(ov.time_training_s, n * T, 1e-6);
    ck_assert_double_eq_tol(ov.mean_training_phase_s, T, 1e-6);
    ck_assert_double_eq_tol(ov.time_merging_s, E, 1e-5);
    ck_assert_double_eq_tol(ov.mean_sync_phase_s, E / n, 1e-5);
    ck_assert_double_eq_tol(ov.utilisation, n * T / (n * T + E), 1e-6);
    ck_assert_double_eq(ov.share_idle, 0);
    ck_assert_double_eq_tol(ov.share_waiting, E / (n * T + E), 1e-6);
}
END_TEST

/* Exchange E longer than T: round r+1 ends while exchange r runs, and the peers wait
 * E - T for it before handing off; the last exchange runs alone: T + n E in all. */
START_TEST(test_overlap_long_exchange) {
    const int n = 3;
    fixture f;
    make_ddp(&f, 2, 2, n, "ring");
    f.c.schedule = "overlap";
    double T = ddp_phase_s(&f.c), E = ring2_s(&f.c);
    ck_assert_msg(E > T, "the case needs E (%g s) > T (%g s)", E, T);
    sim_summary ov = run(&f.c, NULL);
    ck_assert_msg(fabs(ov.sim_time_s - (T + n * E)) < 1e-5, "overlap %.9f s, closed form %.9f s",
                  ov.sim_time_s, T + n * E);
    ck_assert_int_eq(ov.cycles, n);
    ck_assert_double_eq_tol(ov.time_training_s, n * T, 1e-6);
    /* exposed: E - T at the end of rounds 1 .. n-1, then the last exchange */
    double exposed = (n - 1) * (E - T) + E;
    ck_assert_double_eq_tol(ov.time_merging_s, exposed, 1e-5);
    ck_assert_double_eq_tol(ov.mean_sync_phase_s, exposed / n, 1e-5);
}
END_TEST

/* Through storage (SparseLoCo): each peer uploads P g, downloads the other's P g and
 * applies the average on its GPU (M seconds). Overlapped, the transfers hide under the
 * next round but the apply waits for its end (the GPU trains until then): n rounds take
 * n T + n M + the last exchange's transfers. */
START_TEST(test_overlap_storage_applies_after_training) {
    const int n = 3;
    fixture f;
    make_ddp(&f, 2, 40, n, "storage");
    f.c.schedule = "overlap";
    double P = (double)km_params_total(&f.c.model), g = f.c.outer.pg_bytes_per_param;
    double T = ddp_phase_s(&f.c), X = 2 * (0.010 + ceil(P * g) * 8 / 1e9);
    double M = nm_to_s(nm_from_s(P * (2 * g * 5 + f.c.compute.merge_bytes_per_param) /
                                 (1e12 * f.c.compute.merge_efficiency)));
    ck_assert_msg(X + M < T, "the case needs X + M (%g s) < T (%g s)", X + M, T);
    sim_summary ov = run(&f.c, NULL);
    double expect = n * T + n * M + X;
    ck_assert_msg(fabs(ov.sim_time_s - expect) < 1e-5, "overlap %.9f s, closed form %.9f s",
                  ov.sim_time_s, expect);
    ck_assert_double_eq_tol(ov.time_uploading_s + ov.time_merging_s, n * M + X, 1e-5);
    ck_assert_double_eq_tol(ov.share_merge, n * M / expect, 1e-6);
}
END_TEST

/* Churn through overlapped exchanges (peers lost while they train and exchange, back
 * mid-round): the run reaches its cycles, every microbatch is accounted for once, and
 * training, uploading and merging phases tile the run. */
START_TEST(test_overlap_under_churn) {
    const char *syncs[] = {"ring", "storage"};
    for (int k = 0; k < 2; k++) {
        fixture f;
        make_ddp(&f, 6, 40, 12, syncs[k]);
        f.c.schedule = "overlap";
        f.c.faults.churn = 1;
        f.c.faults.churn_mtbf_s = 6;
        f.c.faults.churn_mttr_s = 2;
        sim_summary s = run(&f.c, NULL);
        ck_assert_int_eq(s.complete, 1);
        ck_assert_int_eq(s.cycles, 12);
        ck_assert_msg(s.share_down > 0.05, "%s: down share %.3f", syncs[k], s.share_down);
        ck_assert(s.microbatches_lost > 0);
        ck_assert_double_eq(s.microbatches_injected, s.microbatches_trained + s.microbatches_lost +
                                                         s.microbatches_in_flight);
        ck_assert_double_eq(s.tokens_trained,
                            s.microbatches_trained * (double)f.c.microbatch_tokens);
        double phases = s.time_training_s + s.time_uploading_s + s.time_merging_s + s.time_other_s;
        ck_assert_double_eq_tol(phases, s.sim_time_s, 1e-6);
        double shares = s.share_compute + s.share_recompute + s.share_optimizer + s.share_merge +
                        s.share_idle + s.share_waiting + s.share_down;
        ck_assert_double_eq_tol(shares, 1.0, 1e-9);
    }
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("swarm_sync");
    TCase *tc = tcase_create("publish");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_publish_weights_closed_form);
    tcase_add_test(tc, test_publish_update_closed_form);
    suite_add_tcase(s, tc);
    TCase *ov = tcase_create("overlap");
    tcase_set_timeout(ov, 120);
    tcase_add_test(ov, test_overlap_short_exchange);
    tcase_add_test(ov, test_overlap_long_exchange);
    tcase_add_test(ov, test_overlap_storage_applies_after_training);
    tcase_add_test(ov, test_overlap_under_churn);
    suite_add_tcase(s, ov);
    return s;
}

CHECK_MAIN(.suite = suite)
