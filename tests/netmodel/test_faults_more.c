/* tests/netmodel/test_faults_more.c: stragglers, fault windows, stopping and freeing with events pending, parameter errors and kind names (netmodel/faults.h). */
#include "tests/netmodel/faults_testutil.h"

/* ---- stragglers ---------------------------------------------------------------------- */

START_TEST(stragglers_fraction_and_slow_share) {
    const int n = 200;
    const double t_end = 2e4;
    nm_sim *sim = nm_sim_new();
    recs r = {0};
    nm_faults *f = nm_faults_new(sim, n, 12, on_change, &r);
    const nm_straggler_params p = {.fraction = 0.25,
                                   .multiplier = 0.3,
                                   .mean_slow_s = 20,
                                   .mean_normal_s = 80,
                                   .affects = NM_STRAGGLE_SPEED | NM_STRAGGLE_BANDWIDTH};
    const nm_fault_window w = {0, t_end};
    ck_assert_int_eq(nm_faults_add_stragglers(f, 5, &w, NULL, 0, &p, NULL, 0), 0);
    nm_run(sim);
    int touched = 0;
    double share = 0;
    for (int i = 0; i < n; i++) {
        long speed_ev = 0, bw_ev = 0;
        nm_time slow_since = -1, slow = 0;
        for (size_t k = 0; k < r.n; k++) {
            const rec *x = &r.v[k];
            if (x->node != i) continue;
            ck_assert(x->kind == NM_FAULT_SPEED || x->kind == NM_FAULT_BANDWIDTH);
            ck_assert(x->value == 0.3 || x->value == 1.0);
            if (x->kind == NM_FAULT_BANDWIDTH) {
                bw_ev++;
                continue;
            }
            speed_ev++;
            if (x->value < 1.0) slow_since = x->t;
            else {
                ck_assert_int_ge(slow_since, 0);
                slow += x->t - slow_since;
                slow_since = -1;
            }
        }
        ck_assert_int_eq(speed_ev, bw_ev); /* both multipliers move together */
        ck_assert_int_eq(slow_since, -1);  /* withdrawn at the stop time */
        if (speed_ev) {
            touched++;
            share += (double)slow / (double)S(t_end);
        }
    }
    /* Exactly round(0.25 * 200) nodes straggle; each has ~200 cycles, so all change. */
    ck_assert_int_eq(touched, 50);
    /* Slow share mean_slow / (mean_slow + mean_normal) = 0.2; standard error ~0.0023. */
    ck_assert_double_eq_tol(share / touched, 0.2, 0.012);
    nm_faults_free(f);
    nm_sim_free(sim);
    free(r.v);
}
END_TEST

START_TEST(stragglers_edge_fractions_and_speed_only) {
    for (int variant = 0; variant < 3; variant++) {
        nm_sim *sim = nm_sim_new();
        recs r = {0};
        nm_faults *f = nm_faults_new(sim, 10, 1, on_change, &r);
        nm_straggler_params p = {.fraction = variant == 0 ? 0.0 : 1.0,
                                 .multiplier = 0.5,
                                 .mean_slow_s = 5,
                                 .mean_normal_s = 5,
                                 .affects = NM_STRAGGLE_SPEED};
        if (variant == 2) p.multiplier = 1.0; /* a factor of 1 changes nothing */
        ck_assert_int_eq(nm_faults_add_stragglers(f, 1, &ALWAYS, NULL, 0, &p, NULL, 0), 0);
        nm_run_until(sim, S(1000));
        int seen[10] = {0};
        for (size_t k = 0; k < r.n; k++) {
            ck_assert_int_eq(r.v[k].kind, NM_FAULT_SPEED);
            seen[r.v[k].node] = 1;
        }
        for (int i = 0; i < 10; i++) ck_assert_int_eq(seen[i], variant == 1);
        nm_faults_free(f);
        nm_sim_free(sim);
        free(r.v);
    }
}
END_TEST

/* ---- windows, stop, free --------------------------------------------------------------- */

START_TEST(window_respected) {
    nm_sim *sim = nm_sim_new();
    recs r = {0};
    nm_faults *f = nm_faults_new(sim, 30, 4, on_change, &r);
    const nm_churn_params p = {.mtbf_s = 10, .mttr_s = 10};
    const nm_fault_window w = {100, 1000};
    ck_assert_int_eq(nm_faults_add_churn(f, 1, &w, NULL, 0, &p, NULL, 0), 0);
    nm_run(sim);
    ck_assert_uint_gt(r.n, 1000);
    int ups_at_stop = 0;
    for (size_t k = 0; k < r.n; k++) {
        ck_assert_int_ge(r.v[k].t, S(100));
        ck_assert_int_le(r.v[k].t, S(1000));
        if (r.v[k].t == S(1000)) {
            ck_assert_int_eq(r.v[k].kind, NM_FAULT_UP);
            ups_at_stop++;
        }
    }
    /* Half the time down: some of the 30 nodes are down at the stop and come back then. */
    ck_assert_int_gt(ups_at_stop, 0);
    for (int i = 0; i < 30; i++) ck_assert_int_eq(nm_faults_node_up(f, i), 1);
    ck_assert_uint_eq(nm_pending(sim), 0);
    ck_assert_int_eq(nm_now(sim), S(1000));
    nm_faults_free(f);
    nm_sim_free(sim);
    free(r.v);
}
END_TEST

START_TEST(stop_by_call_and_free_with_pending_events) {
    nm_sim *sim = nm_sim_new();
    recs r = {0};
    nm_faults *f = nm_faults_new(sim, 5, 4, on_change, &r);
    const nm_churn_params p = {.mtbf_s = 10, .mttr_s = 10};
    ck_assert_int_eq(nm_faults_add_churn(f, 1, &ALWAYS, NULL, 0, &p, NULL, 0), 0);
    const nm_fault_window later = {500, INFINITY};
    ck_assert_int_eq(nm_faults_add_churn(f, 2, &later, NULL, 0, &p, NULL, 0), 0);
    nm_run_until(sim, S(300));
    ck_assert_int_eq(nm_faults_stop(f, 2), 1); /* still pending: never starts */
    ck_assert_int_eq(nm_faults_stop(f, 1), 1);
    ck_assert_int_eq(nm_faults_stop(f, 1), 0);
    ck_assert_int_eq(nm_faults_stop(f, 9), -1);
    size_t n_at_stop = r.n;
    for (size_t k = 0; k < r.n; k++) ck_assert_int_le(r.v[k].t, S(300));
    for (int i = 0; i < 5; i++) ck_assert_int_eq(nm_faults_node_up(f, i), 1);
    ck_assert_uint_eq(nm_pending(sim), 0);
    nm_run(sim);
    ck_assert_uint_eq(r.n, n_at_stop);

    /* Freeing with events pending cancels them: the sim runs on without calling back. */
    const nm_spot_params sp = {
        .mean_interval_s = 5, .notice_s = 1, .restart_s = 1, .restart_fixed = 1};
    ck_assert_int_eq(nm_faults_add_spot(f, 3, &later, NULL, 0, &sp, NULL, 0), 0);
    nm_run_until(sim, S(600));
    ck_assert_uint_gt(nm_pending(sim), 0);
    nm_faults_free(f);
    ck_assert_uint_eq(nm_pending(sim), 0);
    size_t n_at_free = r.n;
    nm_run(sim);
    ck_assert_uint_eq(r.n, n_at_free);
    nm_sim_free(sim);
    free(r.v);
}
END_TEST

START_TEST(parameter_errors) {
    nm_sim *sim = nm_sim_new();
    nm_faults *f = nm_faults_new(sim, 4, 1, NULL, NULL);
    char err[256];
    const nm_churn_params cp = {.mtbf_s = 10, .mttr_s = 5};
    ck_assert_int_eq(nm_faults_add_churn(f, 1, &ALWAYS, NULL, 0, &cp, err, sizeof err), 0);

#define EXPECT(call, msg)                                                                          \
    do {                                                                                           \
        ck_assert_int_eq((call), -1);                                                              \
        ck_assert_str_eq(err, msg);                                                                \
    } while (0)
    EXPECT(nm_faults_add_churn(f, 1, &ALWAYS, NULL, 0, &cp, err, sizeof err),
           "churn process 1: id already used");
    const int bad_node[2] = {0, 4}, dup[3] = {1, 2, 1};
    EXPECT(nm_faults_add_churn(f, 2, &ALWAYS, bad_node, 2, &cp, err, sizeof err),
           "churn process 2: node 4 does not exist (nodes 0..3)");
    EXPECT(nm_faults_add_churn(f, 2, &ALWAYS, dup, 3, &cp, err, sizeof err),
           "churn process 2: node 1 listed twice");
    EXPECT(nm_faults_add_churn(f, 2, &ALWAYS, NULL, 3, &cp, err, sizeof err),
           "churn process 2: 3 nodes announced but no list given");
    EXPECT(nm_faults_add_churn(f, 2, &ALWAYS, dup, 0, &cp, err, sizeof err),
           "churn process 2: empty node list");
    const nm_churn_params zero = {.mtbf_s = 0, .mttr_s = 5}, nan_p = {.mtbf_s = 1, .mttr_s = NAN};
    EXPECT(nm_faults_add_churn(f, 2, &ALWAYS, NULL, 0, &zero, err, sizeof err),
           "churn process 2: mtbf 0 s must be finite and > 0");
    EXPECT(nm_faults_add_churn(f, 2, &ALWAYS, NULL, 0, &nan_p, err, sizeof err),
           "churn process 2: mttr nan s must be finite and > 0");
    const nm_fault_window backwards = {10, 5}, unset = {0, 0}, neg = {-1, 5};
    EXPECT(nm_faults_add_churn(f, 2, &backwards, NULL, 0, &cp, err, sizeof err),
           "churn process 2: stop 5 s must be after start 10 s (INFINITY: never) and below "
           "4611686018 s");
    EXPECT(nm_faults_add_churn(f, 2, &unset, NULL, 0, &cp, err, sizeof err),
           "churn process 2: stop 0 s must be after start 0 s (INFINITY: never) and below "
           "4611686018 s");
    EXPECT(nm_faults_add_churn(f, 2, &neg, NULL, 0, &cp, err, sizeof err),
           "churn process 2: start -1 s must be finite, >= 0 and < 4611686018");

    const nm_spot_params s_fix = {
        .mean_interval_s = 10, .notice_s = 1, .restart_s = 1, .restart_fixed = 2};
    EXPECT(nm_faults_add_spot(f, 2, &ALWAYS, NULL, 0, &s_fix, err, sizeof err),
           "spot process 2: restart_fixed must be 0 or 1, got 2");
    const nm_spot_params s_exp0 = {.mean_interval_s = 10, .notice_s = 1, .restart_s = 0};
    EXPECT(nm_faults_add_spot(f, 2, &ALWAYS, NULL, 0, &s_exp0, err, sizeof err),
           "spot process 2: restart 0 s must be finite and > 0 (exponential mean)");
    const nm_spot_params s_neg = {.mean_interval_s = 10, .notice_s = -1, .restart_s = 1};
    EXPECT(nm_faults_add_spot(f, 2, &ALWAYS, NULL, 0, &s_neg, err, sizeof err),
           "spot process 2: notice -1 s must be finite and >= 0");

    nm_straggler_params sp = {.fraction = 1.5,
                              .multiplier = 0.5,
                              .mean_slow_s = 1,
                              .mean_normal_s = 1,
                              .affects = NM_STRAGGLE_SPEED};
    EXPECT(nm_faults_add_stragglers(f, 2, &ALWAYS, NULL, 0, &sp, err, sizeof err),
           "straggler process 2: fraction 1.5 must lie in [0, 1]");
    sp.fraction = 0.5;
    sp.affects = 0;
    EXPECT(nm_faults_add_stragglers(f, 2, &ALWAYS, NULL, 0, &sp, err, sizeof err),
           "straggler process 2: affects must be a non-empty combination of "
           "NM_STRAGGLE_SPEED and NM_STRAGGLE_BANDWIDTH, got 0");
    sp.affects = NM_STRAGGLE_BANDWIDTH;
    sp.multiplier = 0;
    EXPECT(nm_faults_add_stragglers(f, 2, &ALWAYS, NULL, 0, &sp, err, sizeof err),
           "straggler process 2: multiplier 0 must be finite and > 0");

    nm_run_until(sim, S(50));
    const nm_fault_window past = {10, INFINITY};
    EXPECT(nm_faults_add_churn(f, 2, &past, NULL, 0, &cp, err, sizeof err),
           "churn process 2: start 10 s lies in the past (now 50 s)");
#undef EXPECT
    nm_faults_free(f);
    nm_sim_free(sim);
}
END_TEST

START_TEST(kind_names) {
    ck_assert_str_eq(nm_fault_kind_name(NM_FAULT_UP), "up");
    ck_assert_str_eq(nm_fault_kind_name(NM_FAULT_DOWN), "down");
    ck_assert_str_eq(nm_fault_kind_name(NM_FAULT_SPEED), "speed");
    ck_assert_str_eq(nm_fault_kind_name(NM_FAULT_BANDWIDTH), "bandwidth");
    ck_assert_str_eq(nm_fault_kind_name(NM_FAULT_RECLAIM_NOTICE), "reclaim-notice");
}
END_TEST

static Suite *faults_more_suite(void) {
    Suite *s = suite_create("faults-more");
    TCase *tc = tcase_create("processes");
    tcase_add_test(tc, stragglers_fraction_and_slow_share);
    tcase_add_test(tc, stragglers_edge_fractions_and_speed_only);
    tcase_add_test(tc, window_respected);
    tcase_add_test(tc, stop_by_call_and_free_with_pending_events);
    tcase_add_test(tc, parameter_errors);
    tcase_add_test(tc, kind_names);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = faults_more_suite)
