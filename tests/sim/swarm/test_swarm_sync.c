/* tests/sim/swarm/test_swarm_sync.c: synchronisation against closed forms: what butterfly
 * owners publish (merged weights or the compressed update). */
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

static Suite *suite(void) {
    Suite *s = suite_create("swarm_sync");
    TCase *tc = tcase_create("publish");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_publish_weights_closed_form);
    tcase_add_test(tc, test_publish_update_closed_form);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
