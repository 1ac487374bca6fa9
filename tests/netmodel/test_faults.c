/* tests/netmodel/test_faults.c: netmodel/faults — profile replay, churn, spot reclaim, stragglers,
 * windows, stream independence, combination of processes and parameter checks. */
#include "tests/netmodel/faults_testutil.h"

/* ---- profile replay ------------------------------------------------------------------ */

static nm_profile *prof(const char *text, nm_value_range r) {
    char err[256];
    nm_profile *p = nm_profile_parse_string(text, "test", &r, err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    return p;
}

START_TEST(profile_replay_with_loopafter) {
    /* Node 0 state: down at 5, up at 10, loop length 15 s. Node 1 speed: 0.5 at 0, 1 at
     * 2, 0.25 at 4, loop length 5 s; node 1 bandwidth: 0.1 at 1.5 (no loop). */
    nm_profile *st = prof("5 0\n10 1\nLOOPAFTER 5\n", nm_range_state());
    nm_profile *sp = prof("0 0.5\n2 1\n4 0.25\nLOOPAFTER 1\n", nm_range_multiplier());
    nm_profile *bw = prof("1.5 0.1\n", nm_range_multiplier());
    nm_sim *sim = nm_sim_new();
    recs r = {0}, tr = {0};
    nm_faults *f = nm_faults_new(sim, 2, 1, on_change, &r);
    nm_faults_set_trace(f, on_trace, &tr);
    const int nodes[2] = {0, 1};
    const nm_profile *states[2] = {st, NULL}, *speeds[2] = {NULL, sp}, *bws[2] = {NULL, bw};
    char err[256];
    ck_assert_int_eq(
        nm_faults_add_profiles(f, 7, &ALWAYS, nodes, 2, states, speeds, bws, err, sizeof err), 0);
    nm_run_until(sim, S(31));

    recs n0 = filter(&r, 0, 0, 1), n1 = filter(&r, 0, 1, 2);
    /* Node 0: DOWN 5, UP 10, DOWN 20, UP 25 (then DOWN 35 is past 31 s). */
    ck_assert_uint_eq(n0.n, 4);
    const nm_time t0[4] = {S(5), S(10), S(20), S(25)};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(n0.v[i].t, t0[i]);
        ck_assert_int_eq(n0.v[i].kind, i % 2 ? NM_FAULT_UP : NM_FAULT_DOWN);
    }
    /* Node 1: speed at 5k + {0, 2, 4} for k = 0..6 (30 is the last <= 31), bandwidth 0.1 at
     * 1.5; in time order. */
    size_t j = 0;
    for (int k = 0; k <= 6; k++)
        for (int e = 0; e < 3; e++) {
            nm_time t = S(5 * k + 2 * e);
            if (t > S(31)) continue;
            if (k == 0 && e == 1) { /* the bandwidth change at 1.5 s comes first */
                ck_assert_int_eq(n1.v[j].kind, NM_FAULT_BANDWIDTH);
                ck_assert_int_eq(n1.v[j].t, S(1.5));
                ck_assert_double_eq(n1.v[j].value, 0.1);
                j++;
            }
            ck_assert_int_eq(n1.v[j].kind, NM_FAULT_SPEED);
            ck_assert_int_eq(n1.v[j].t, t);
            ck_assert_double_eq(n1.v[j].value, e == 0 ? 0.5 : e == 1 ? 1.0 : 0.25);
            j++;
        }
    ck_assert_uint_eq(j, n1.n);
    /* One process only: the trace holds the same changes, tagged with its id. */
    ck_assert_uint_eq(tr.n, r.n);
    for (size_t i = 0; i < tr.n; i++) ck_assert_uint_eq(tr.v[i].pid, 7);

    nm_faults_free(f);
    nm_sim_free(sim);
    nm_profile_free(st);
    nm_profile_free(sp);
    nm_profile_free(bw);
    free(r.v), free(tr.v), free(n0.v), free(n1.v);
}
END_TEST

START_TEST(profile_window_applies_value_in_force_and_stops) {
    /* Same state profile, window [7, 37): at 7 the value in force (0, from the event at
     * 5) applies; UP 10, DOWN 20, UP 25, DOWN 35; at 37 the process withdraws: UP. */
    nm_profile *st = prof("5 0\n10 1\nLOOPAFTER 5\n", nm_range_state());
    nm_sim *sim = nm_sim_new();
    recs r = {0};
    nm_faults *f = nm_faults_new(sim, 1, 1, on_change, &r);
    const nm_fault_window w = {7, 37};
    const nm_profile *states[1] = {st};
    ck_assert_int_eq(nm_faults_add_profiles(f, 1, &w, NULL, 0, states, NULL, NULL, NULL, 0), 0);
    nm_run(sim);
    const nm_time want[6] = {S(7), S(10), S(20), S(25), S(35), S(37)};
    ck_assert_uint_eq(r.n, 6);
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(r.v[i].t, want[i]);
        ck_assert_int_eq(r.v[i].kind, i % 2 ? NM_FAULT_UP : NM_FAULT_DOWN);
    }
    ck_assert_uint_eq(nm_pending(sim), 0); /* nothing is left once stopped */
    ck_assert_int_eq(nm_faults_node_up(f, 0), 1);
    nm_faults_free(f);
    nm_sim_free(sim);
    nm_profile_free(st);
    free(r.v);
}
END_TEST

START_TEST(profile_values_checked_per_kind) {
    nm_profile *any = prof("0 2\n", nm_range_any());
    nm_sim *sim = nm_sim_new();
    nm_faults *f = nm_faults_new(sim, 2, 1, NULL, NULL);
    const int nodes[1] = {1};
    const nm_profile *tr[1] = {any};
    char err[256];
    ck_assert_int_eq(
        nm_faults_add_profiles(f, 3, &ALWAYS, nodes, 1, tr, NULL, NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "profile process 3: state profile 'test' of node 1 has values that "
                          "are not a state (0 or 1)");
    ck_assert_uint_eq(nm_pending(sim), 0); /* nothing added */
    nm_profile *neg = prof("0 -1\n", nm_range_any());
    const nm_profile *tn[1] = {neg};
    ck_assert_int_eq(
        nm_faults_add_profiles(f, 3, &ALWAYS, nodes, 1, NULL, NULL, tn, err, sizeof err), -1);
    ck_assert_str_eq(err, "profile process 3: bandwidth profile 'test' of node 1 has values "
                          "that are not a multiplier (finite, > 0)");
    nm_faults_free(f);
    nm_sim_free(sim);
    nm_profile_free(any);
    nm_profile_free(neg);
}
END_TEST

/* ---- churn ----------------------------------------------------------------------------- */

static recs run_churn(uint64_t seed, int n_nodes, double t_end_s) {
    nm_sim *sim = nm_sim_new();
    recs r = {0};
    nm_faults *f = nm_faults_new(sim, n_nodes, seed, on_change, &r);
    const nm_churn_params p = {.mtbf_s = 100, .mttr_s = 25};
    const nm_fault_window w = {0, t_end_s};
    ck_assert_int_eq(nm_faults_add_churn(f, 1, &w, NULL, 0, &p, NULL, 0), 0);
    nm_run(sim);
    nm_faults_free(f);
    nm_sim_free(sim);
    return r;
}

START_TEST(churn_long_run_down_fraction) {
    const int n = 50;
    const double t_end = 1e5;
    recs r = run_churn(2024, n, t_end);
    /* Down share: mttr / (mtbf + mttr) = 0.2. Over ~40000 cycles its standard error is
     * ~0.0011 (alternating renewal process); tolerance 5 sigma. */
    double down = 0;
    for (int i = 0; i < n; i++) down += share_of_time(&r, i, NM_FAULT_DOWN, NM_FAULT_UP, S(t_end));
    ck_assert_double_eq_tol(down / n, 0.2, 0.0056);
    /* Mean completed up period ~ mtbf = 100 s (standard error ~0.5 s). */
    double up_sum = 0;
    long up_n = 0;
    for (int i = 0; i < n; i++) {
        nm_time last_up = 0;
        for (size_t k = 0; k < r.n; k++) {
            if (r.v[k].node != i) continue;
            if (r.v[k].kind == NM_FAULT_DOWN) {
                up_sum += nm_to_s(r.v[k].t - last_up);
                up_n++;
            } else {
                last_up = r.v[k].t;
            }
        }
    }
    ck_assert_int_gt(up_n, 30000);
    ck_assert_double_eq_tol(up_sum / up_n, 100.0, 3.0);
    /* Alternation: per node, DOWN and UP strictly alternate, starting with DOWN. */
    for (int i = 0; i < n; i++) {
        int expect_down = 1;
        for (size_t k = 0; k < r.n; k++) {
            if (r.v[k].node != i) continue;
            ck_assert_int_eq(r.v[k].kind, expect_down ? NM_FAULT_DOWN : NM_FAULT_UP);
            expect_down = !expect_down;
        }
    }
    free(r.v);
}
END_TEST

START_TEST(churn_same_seed_same_events) {
    recs a = run_churn(5, 8, 5000), b = run_churn(5, 8, 5000), c = run_churn(6, 8, 5000);
    ck_assert_uint_gt(a.n, 100);
    assert_same(&a, &b);
    int differ = a.n != c.n;
    for (size_t i = 0; !differ && i < a.n; i++) differ = a.v[i].t != c.v[i].t;
    ck_assert_msg(differ, "another seed gave the same events");
    free(a.v), free(b.v), free(c.v);
}
END_TEST

/* Trace of process 1 (churn on the n1 nodes listed), for nodes 0..7, optionally beside
 * process 2 (churn on every node) and 3 (stragglers). */
static recs trace_of_first(const int *nodes1, int n1, int with_others) {
    nm_sim *sim = nm_sim_new();
    recs tr = {0};
    nm_faults *f = nm_faults_new(sim, 16, 77, NULL, NULL);
    nm_faults_set_trace(f, on_trace, &tr);
    const nm_churn_params p1 = {.mtbf_s = 50, .mttr_s = 10}, p2 = {.mtbf_s = 20, .mttr_s = 5};
    const nm_straggler_params ps = {.fraction = 0.5,
                                    .multiplier = 0.5,
                                    .mean_slow_s = 10,
                                    .mean_normal_s = 30,
                                    .affects = NM_STRAGGLE_SPEED};
    if (with_others) /* added first: the order of addition does not matter either */
        ck_assert_int_eq(nm_faults_add_churn(f, 2, &ALWAYS, NULL, 0, &p2, NULL, 0), 0);
    ck_assert_int_eq(nm_faults_add_churn(f, 1, &ALWAYS, nodes1, n1, &p1, NULL, 0), 0);
    if (with_others)
        ck_assert_int_eq(nm_faults_add_stragglers(f, 3, &ALWAYS, NULL, 0, &ps, NULL, 0), 0);
    nm_run_until(sim, S(2000));
    nm_faults_free(f);
    nm_sim_free(sim);
    recs out = filter(&tr, 1, 0, 8);
    free(tr.v);
    return out;
}

START_TEST(processes_and_nodes_do_not_shift_each_others_draws) {
    const int eight[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    /* Nodes 0..7 again, in another order, among added nodes. */
    const int eleven[11] = {12, 9, 7, 6, 5, 4, 3, 2, 1, 0, 14};
    recs alone = trace_of_first(eight, 8, 0);
    recs more_nodes = trace_of_first(eleven, 11, 0);
    recs beside_others = trace_of_first(eight, 8, 1);
    ck_assert_uint_gt(alone.n, 200);
    assert_same(&alone, &more_nodes);
    assert_same(&alone, &beside_others);
    free(alone.v), free(more_nodes.v), free(beside_others.v);
}
END_TEST

/* ---- combination of processes ---------------------------------------------------------- */

typedef struct combo {
    int up[4][2]; /* [pid][node] */
    double speed[4][2];
    recs expected, actual;
} combo;

static void combo_trace(void *ctx, uint32_t pid, int node, nm_fault_kind kind, double value,
                        nm_time t) {
    combo *c = ctx;
    int old_up = c->up[1][node] & c->up[2][node] & c->up[3][node];
    double old_speed = c->speed[1][node] * c->speed[2][node] * c->speed[3][node];
    if (kind == NM_FAULT_UP || kind == NM_FAULT_DOWN) c->up[pid][node] = kind == NM_FAULT_UP;
    if (kind == NM_FAULT_SPEED) c->speed[pid][node] = value;
    int up = c->up[1][node] & c->up[2][node] & c->up[3][node];
    double speed = c->speed[1][node] * c->speed[2][node] * c->speed[3][node];
    if (up != old_up)
        push(&c->expected,
             (rec){.node = node, .kind = up ? NM_FAULT_UP : NM_FAULT_DOWN, .value = up, .t = t});
    if (speed != old_speed)
        push(&c->expected, (rec){.node = node, .kind = NM_FAULT_SPEED, .value = speed, .t = t});
}

static void combo_change(void *ctx, int node, nm_fault_kind kind, double value, nm_time t) {
    combo *c = ctx;
    push(&c->actual, (rec){.node = node, .kind = kind, .value = value, .t = t});
}

START_TEST(effective_state_combines_processes) {
    combo c = {0};
    for (int p = 0; p < 4; p++)
        for (int n = 0; n < 2; n++) c.up[p][n] = 1, c.speed[p][n] = 1.0;
    nm_sim *sim = nm_sim_new();
    nm_faults *f = nm_faults_new(sim, 2, 3, combo_change, &c);
    nm_faults_set_trace(f, combo_trace, &c);
    const nm_churn_params p1 = {.mtbf_s = 30, .mttr_s = 20}, p2 = {.mtbf_s = 40, .mttr_s = 15};
    const nm_straggler_params ps = {.fraction = 1,
                                    .multiplier = 0.25,
                                    .mean_slow_s = 10,
                                    .mean_normal_s = 10,
                                    .affects = NM_STRAGGLE_SPEED};
    ck_assert_int_eq(nm_faults_add_churn(f, 1, &ALWAYS, NULL, 0, &p1, NULL, 0), 0);
    ck_assert_int_eq(nm_faults_add_churn(f, 2, &ALWAYS, NULL, 0, &p2, NULL, 0), 0);
    ck_assert_int_eq(nm_faults_add_stragglers(f, 3, &ALWAYS, NULL, 0, &ps, NULL, 0), 0);
    nm_run_until(sim, S(5000));
    /* Reported changes are exactly the changes of AND(up) and PRODUCT(speed). */
    ck_assert_uint_gt(c.actual.n, 300);
    assert_same(&c.expected, &c.actual);
    for (int n = 0; n < 2; n++) {
        ck_assert_int_eq(nm_faults_node_up(f, n), c.up[1][n] & c.up[2][n] & c.up[3][n]);
        ck_assert_double_eq(nm_faults_node_speed(f, n), c.speed[3][n]);
        ck_assert_double_eq(nm_faults_node_bandwidth(f, n), 1.0);
    }
    nm_faults_free(f);
    nm_sim_free(sim);
    free(c.expected.v), free(c.actual.v);
}
END_TEST

/* ---- spot reclaim ------------------------------------------------------------------------ */

START_TEST(spot_notice_precedes_every_down) {
    const int n = 20;
    const double t_end = 2e5;
    nm_sim *sim = nm_sim_new();
    recs r = {0};
    nm_faults *f = nm_faults_new(sim, n, 9, on_change, &r);
    const nm_spot_params p = {
        .mean_interval_s = 500, .notice_s = 30, .restart_s = 60, .restart_fixed = 1};
    const nm_fault_window w = {0, t_end};
    ck_assert_int_eq(nm_faults_add_spot(f, 4, &w, NULL, 0, &p, NULL, 0), 0);
    nm_run(sim);
    long reclaims = 0;
    for (int i = 0; i < n; i++) {
        nm_time notice = -1, down = -1;
        for (size_t k = 0; k < r.n; k++) {
            const rec *x = &r.v[k];
            if (x->node != i) continue;
            switch (x->kind) {
            case NM_FAULT_RECLAIM_NOTICE:
                ck_assert_int_eq(notice, -1); /* no second notice before the down */
                ck_assert_double_eq(x->value, 30.0);
                notice = x->t;
                break;
            case NM_FAULT_DOWN:
                ck_assert_int_ge(notice, 0);
                ck_assert_int_eq(x->t - notice, S(30)); /* exactly the notice period */
                notice = -1;
                down = x->t;
                reclaims++;
                break;
            case NM_FAULT_UP:
                ck_assert_int_ge(down, 0);
                /* fixed restart, or withdrawn at the stop time */
                ck_assert(x->t - down == S(60) || x->t == S(t_end));
                down = -1;
                break;
            default: ck_abort_msg("unexpected kind %d", x->kind);
            }
        }
        ck_assert_int_eq(notice, -1); /* every notice got its down */
    }
    /* Cycle: Exp(500) up + 30 notice + 60 down. Expected reclaims 20 * 2e5 / 590 = 6780,
     * standard deviation ~70; tolerance 5 sigma. */
    ck_assert_double_eq_tol((double)reclaims, n * t_end / 590.0, 350.0);
    nm_faults_free(f);
    nm_sim_free(sim);
    free(r.v);
}
END_TEST

START_TEST(spot_exponential_restart_mean) {
    nm_sim *sim = nm_sim_new();
    recs r = {0};
    nm_faults *f = nm_faults_new(sim, 10, 10, on_change, &r);
    const nm_spot_params p = {
        .mean_interval_s = 100, .notice_s = 0, .restart_s = 40, .restart_fixed = 0};
    ck_assert_int_eq(nm_faults_add_spot(f, 4, &ALWAYS, NULL, 0, &p, NULL, 0), 0);
    nm_run_until(sim, S(1e5));
    double sum = 0;
    long cnt = 0;
    for (int i = 0; i < 10; i++) {
        nm_time down = -1, notice = -1;
        for (size_t k = 0; k < r.n; k++) {
            if (r.v[k].node != i) continue;
            if (r.v[k].kind == NM_FAULT_RECLAIM_NOTICE) notice = r.v[k].t;
            if (r.v[k].kind == NM_FAULT_DOWN) {
                ck_assert_int_eq(r.v[k].t, notice); /* zero notice: same instant */
                down = r.v[k].t;
            }
            if (r.v[k].kind == NM_FAULT_UP && down >= 0) {
                sum += nm_to_s(r.v[k].t - down);
                cnt++;
            }
        }
    }
    ck_assert_int_gt(cnt, 6000); /* ~ 10 * 1e5 / 140 = 7140 */
    ck_assert_double_eq_tol(sum / cnt, 40.0, 5 * 40.0 / sqrt((double)cnt));
    nm_faults_free(f);
    nm_sim_free(sim);
    free(r.v);
}
END_TEST

static Suite *faults_suite(void) {
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("processes");
    tcase_add_test(tc, profile_replay_with_loopafter);
    tcase_add_test(tc, profile_window_applies_value_in_force_and_stops);
    tcase_add_test(tc, profile_values_checked_per_kind);
    tcase_add_test(tc, churn_long_run_down_fraction);
    tcase_add_test(tc, churn_same_seed_same_events);
    tcase_add_test(tc, processes_and_nodes_do_not_shift_each_others_draws);
    tcase_add_test(tc, effective_state_combines_processes);
    tcase_add_test(tc, spot_notice_precedes_every_down);
    tcase_add_test(tc, spot_exponential_restart_mean);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = faults_suite)
