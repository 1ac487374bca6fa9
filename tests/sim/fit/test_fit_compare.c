/* tests/sim/fit/test_fit_compare.c: published figures against like-for-like simulated ones:
 * the churn-free training window (closed form), the figure table, and the legacy names. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/run/run.h"
#include "sim/scenario/scenario.h"
#include "sim/fit/fit_compare.h"
#include "sim/trace/trace_read.h"
#include "tests/check_main.h"

/* 11 samples at t = 0..10 s; training at 10 tok/s in [0, 4], sync in [4, 6], training at
 * 20 tok/s in [6, 10]. */
static void make_run(trace_sample_rec *ts, trace_phase_rec *ph, int churn_at) {
    int64_t tok = 0;
    for (int t = 0; t <= 10; t++) {
        if (t > 0 && t <= 4) tok += 10;
        if (t > 6) tok += 20;
        ts[t] = (trace_sample_rec){.t_ns = (int64_t)t * 1000000000,
                                   .tokens_trained = tok,
                                   .active_peers = t == churn_at ? 1 : 2};
    }
    ph[0] =
        (trace_phase_rec){.phase = TRACE_PHASE_TRAINING, .t_start_ns = 0, .t_end_ns = 4000000000};
    ph[1] = (trace_phase_rec){
        .phase = TRACE_PHASE_UPLOADING, .t_start_ns = 4000000000, .t_end_ns = 6000000000};
    ph[2] = (trace_phase_rec){
        .phase = TRACE_PHASE_TRAINING, .t_start_ns = 6000000000, .t_end_ns = 10000000000};
}

START_TEST(best_window_counts_training_time_only) {
    trace_sample_rec ts[11];
    trace_phase_rec ph[3];
    make_run(ts, ph, -1);
    /* fpt 1, peak 10: MFU = tokens / (10 x training seconds). [4, 8] holds 40 tokens in 2 s
     * of training: 2.0, as [6, 10] (80 in 4 s); [0, 4] only 1.0. */
    ck_assert_double_eq_tol(fit_compare_best_window(ts, 11, ph, 3, 2, 1.0, 10.0, 4.0), 2.0, 1e-12);
    /* the whole run: 120 tokens in 8 s of training */
    ck_assert_double_eq_tol(fit_compare_best_window(ts, 11, ph, 3, 2, 1.0, 10.0, 10.0), 1.5, 1e-12);
    /* a window longer than the run shrinks to it */
    ck_assert_double_eq_tol(fit_compare_best_window(ts, 11, ph, 3, 2, 1.0, 10.0, 99.0), 1.5, 1e-12);
}
END_TEST

START_TEST(best_window_skips_stretches_with_churn) {
    trace_sample_rec ts[11];
    trace_phase_rec ph[3];
    make_run(ts, ph, 7);
    /* stretches [0, 6] and [8, 10]: 4-s windows fit only in the first, all at 1.0 */
    ck_assert_double_eq_tol(fit_compare_best_window(ts, 11, ph, 3, 2, 1.0, 10.0, 4.0), 1.0, 1e-12);
    ck_assert(isnan(fit_compare_best_window(ts, 1, ph, 3, 2, 1.0, 10.0, 4.0)));
}
END_TEST

START_TEST(figures_have_the_publications_definitions) {
    fit_compare_sim s;
    memset(&s, 0, sizeof s);
    s.sum.mfu_training = 0.30;
    s.sum.mfu_overall = 0.25;
    s.sum.mfu_colocated = 0.40;
    s.sum.mean_training_phase_s = 6012;
    s.sum.tokens_per_s_training = 9000;
    s.mfu_training_best_window = 0.36;
    ck_assert_double_eq(fit_compare_find("mfu")->simulated(&s), 0.30); /* not overall */
    ck_assert_double_eq(fit_compare_find("mfu_peak")->simulated(&s), 0.36);
    ck_assert_double_eq_tol(fit_compare_find("speed_vs_colocated")->simulated(&s), 0.75, 1e-12);
    ck_assert_double_eq_tol(fit_compare_find("speed_vs_colocated_peak")->simulated(&s), 0.9, 1e-12);
    ck_assert_double_eq_tol(fit_compare_find("training_phase_min")->simulated(&s), 100.2, 1e-9);
    ck_assert_double_eq(fit_compare_find("throughput_tok_s")->simulated(&s), 9000);
    ck_assert(isnan(fit_compare_find("params")->simulated(&s)));
    ck_assert_ptr_null(fit_compare_find("no_such"));
    /* every reference figure has a row */
    for (size_t i = 0; i < sim_reference_n_figs; i++)
        ck_assert_ptr_nonnull(fit_compare_find(sim_reference_figs[i].key));
}
END_TEST

START_TEST(published_figures_map_back_from_trace_names) {
    char *names[] = {"mfu_overall", "mean_training_phase_s", "activation_bytes_wire", "cycles"};
    double vals[] = {0.308, 6012, 2306867.2, 28};
    trace_reference ref = {.n = 4, .names = names, .values = vals, .source = "x"};
    double pub[64];
    fit_compare_published(&ref, pub);
    ck_assert_double_eq(pub[sim_reference_find("mfu")], 0.308);
    ck_assert_double_eq_tol(pub[sim_reference_find("training_phase_min")], 100.2, 1e-9);
    ck_assert_double_eq_tol(pub[sim_reference_find("activation_mib_compressed")], 2.2, 1e-6);
    ck_assert_double_eq(pub[sim_reference_find("cycles")], 28);
    ck_assert(isnan(pub[sim_reference_find("utilisation")]));
}
END_TEST

/* A run's trace keeps the loader's notices (min_local_steps clamped to H, issue 12 item 7)
 * and the published figures under their reference keys with their uncertainties. */
START_TEST(trace_keeps_notices_and_uncertainties) {
    const char *sets[] = {"training.H=1", "training.min_local_steps=3", "output.events=none"};
    sim_scenario sc;
    char err[2048];
    ck_assert_msg(sim_scenario_load("scenarios/orion-100b.cfg", sets, 3, &sc, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(sc.training.min_local_steps, 1);
    /* run tiny, but with Orion's reference and notices: a trace of seconds */
    sim_scenario tiny;
    ck_assert_int_eq(sim_scenario_load("scenarios/tiny.cfg", sets, 3, &tiny, err, sizeof err), 0);
    sim_reference keep = tiny.reference;
    tiny.reference = sc.reference;
    char path[64];
    snprintf(path, sizeof path, "/tmp/orionsim-tc-%d.h5", (int)getpid());
    sim_run_opts ro = {.scenario_path = "scenarios/tiny.cfg", .trace_path = path};
    sim_summary sum;
    ck_assert_int_eq(sim_run_scenario(&tiny, &ro, &sum, err, sizeof err), 0);
    tiny.reference = keep;
    trace_file *tf;
    ck_assert_int_eq(trace_read_open(path, &tf, err, sizeof err), 0);
    char **notes;
    size_t nn;
    ck_assert_int_eq(trace_read_notices(tf, &notes, &nn), 0);
    ck_assert_uint_eq(nn, 1);
    ck_assert_ptr_nonnull(
        strstr(notes[0], "training.min_local_steps: 3 > training.H = 1, clamped to 1"));
    trace_read_free_names(notes, nn);
    trace_reference ref;
    ck_assert_int_eq(trace_read_reference(tf, &ref), 0);
    double pub[64];
    fit_compare_published(&ref, pub);
    ck_assert_double_eq(pub[sim_reference_find("mfu")], 0.308);
    int found = 0;
    for (size_t i = 0; i < ref.n; i++)
        if (!strcmp(ref.names[i], "uncertainty_throughput_tok_s")) {
            found = 1;
            ck_assert_double_eq(ref.values[i], 0.274);
        }
    ck_assert(found);
    trace_reference_free(&ref);
    trace_read_close(tf);
    unlink(path);
    sim_scenario_free(&tiny);
    sim_scenario_free(&sc);
}
END_TEST

static Suite *fit_compare_suite(void) {
    Suite *s = suite_create("trace compare");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, best_window_counts_training_time_only);
    tcase_add_test(tc, best_window_skips_stretches_with_churn);
    tcase_add_test(tc, figures_have_the_publications_definitions);
    tcase_add_test(tc, published_figures_map_back_from_trace_names);
    tcase_add_test(tc, trace_keeps_notices_and_uncertainties);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = fit_compare_suite)
