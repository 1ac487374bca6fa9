/* tests/netmodel/test_net.c: the flow-level network (netmodel/net.h) against closed forms, the
 * max-min certificate and an independent from-scratch water-filling. */
#include "tests/netmodel/net_testutil.h"

/* ---- closed forms -------------------------------------------------------------------- */

START_TEST(test_single_flow) {
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 2);
    nm_net_set_region_latency(net, 0, 1, 10 * MS);
    nm_net_set_region_latency(net, 1, 0, 20 * MS);
    int a = nm_net_add_node(net, 0, 100e6, 200e6);
    int b = nm_net_add_node(net, 1, 100e6, 200e6);
    results *rs = new_results();
    nm_flow f0 = nm_net_start_flow(net, a, b, 1000000, on_flow, rs, 0);
    nm_net_start_flow(net, b, a, 1000000, on_flow, rs, 1);
    ck_assert_int_eq(nm_net_flow_state(net, f0), NM_FLOW_LATENCY);
    ck_assert_int_eq(nm_net_live_flows(net), 2);
    nm_run_until(sim, 15 * MS);
    ck_assert_int_eq(nm_net_flow_state(net, f0), NM_FLOW_ACTIVE);
    ck_assert_double_eq(nm_net_flow_rate(net, f0), 100e6);
    ck_assert_double_eq_tol(nm_net_flow_delivered(net, f0), 5 * MS * 100e6 / 8e9, 1e-6);
    nm_run(sim);
    /* latency + bytes*8/bandwidth, exact in ns */
    ck_assert_int_eq(rs->r[0].t_end, 10 * MS + 80 * MS);
    ck_assert_int_eq(rs->r[0].t_transfer, 10 * MS);
    ck_assert_int_eq(rs->r[1].t_end, 20 * MS + 80 * MS);
    ck_assert_int_eq(rs->r[0].status, NM_FLOW_DONE);
    ck_assert_double_eq(rs->r[0].bytes_delivered, 1e6);
    ck_assert_int_eq(rs->n_calls, 2);
    ck_assert_int_eq(nm_net_flow_state(net, f0), NM_FLOW_GONE);
    ck_assert_double_eq(nm_net_flow_rate(net, f0), -1);
    ck_assert_double_eq(nm_net_node_bytes_sent(net, a), 1e6);
    ck_assert_double_eq(nm_net_node_bytes_received(net, b), 1e6);
    ck_assert_double_eq(nm_net_link_bytes(net, nm_net_node_uplink(net, a)), 1e6);
    ck_assert_int_eq(nm_net_link_busy_ns(net, nm_net_node_uplink(net, a)), 80 * MS);
    ck_assert_int_eq(nm_net_live_flows(net), 0);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

START_TEST(test_share_one_uplink) {
    /* n equal flows on one uplink: each gets C/n, all end at n*B*8/C. */
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 1);
    int a = nm_net_add_node(net, 0, 100e6, 100e6);
    results *rs = new_results();
    nm_flow f[4];
    for (int i = 0; i < 4; i++) {
        int b = nm_net_add_node(net, 0, 1e9, 1e9);
        f[i] = nm_net_start_flow(net, a, b, 1000000, on_flow, rs, (uint64_t)i);
    }
    for (int i = 0; i < 4; i++) ck_assert_double_eq(nm_net_flow_rate(net, f[i]), 25e6);
    nm_run(sim);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(rs->r[i].t_end, 320 * MS);
    /* Sizes B, 2B, 3B: processor sharing, ends at 3B/(C/3), +B/(C/2), +B/C. */
    nm_time t0 = nm_now(sim);
    for (int i = 0; i < 3; i++)
        nm_net_start_flow(net, a, 1 + i, 1000000 * (uint64_t)(i + 1), on_flow, rs,
                          (uint64_t)(10 + i));
    nm_run(sim);
    ck_assert_int_eq(rs->r[10].t_end - t0, 240 * MS);
    ck_assert_int_eq(rs->r[11].t_end - t0, 400 * MS);
    ck_assert_int_eq(rs->r[12].t_end - t0, 480 * MS);
    ck_assert_int_eq(nm_net_link_busy_ns(net, nm_net_node_uplink(net, a)), 800 * MS);
    ck_assert_double_eq_tol(nm_net_link_bytes(net, nm_net_node_uplink(net, a)), 10e6, 1e-6);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

START_TEST(test_two_bottlenecks) {
    /* Textbook max-min: L1 = up(a) 10 Mb/s, L2 = down(c) 20 Mb/s; f0 a->c crosses both,
     * f1 a->d only L1, f2 b->c only L2: f0 = f1 = 5, f2 = 15 Mb/s. */
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 1);
    int a = nm_net_add_node(net, 0, 10e6, 1e9);
    int b = nm_net_add_node(net, 0, 1e9, 1e9);
    int c = nm_net_add_node(net, 0, 1e9, 20e6);
    int d = nm_net_add_node(net, 0, 1e9, 1e9);
    results *rs = new_results();
    nm_flow f0 = nm_net_start_flow(net, a, c, 1500000, on_flow, rs, 0);
    nm_flow f1 = nm_net_start_flow(net, a, d, 750000, on_flow, rs, 1);
    nm_flow f2 = nm_net_start_flow(net, b, c, 1500000, on_flow, rs, 2);
    ck_assert_double_eq(nm_net_flow_rate(net, f0), 5e6);
    ck_assert_double_eq(nm_net_flow_rate(net, f1), 5e6);
    ck_assert_double_eq(nm_net_flow_rate(net, f2), 15e6);
    nm_run(sim);
    /* f2: 12 Mb at 15 -> 0.8 s. f1: 6 Mb at 5 -> 1.2 s. f0: 6 Mb by 1.2 s, then alone on
     * L1 at 10 -> +0.6 s. */
    ck_assert_int_eq(rs->r[2].t_end, 800 * MS);
    ck_assert_int_eq(rs->r[1].t_end, 1200 * MS);
    ck_assert_int_eq(rs->r[0].t_end, 1800 * MS);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

START_TEST(test_rate_increase_propagates) {
    /* Chain: u1 = up(a) 10, d1 = down(x) 30. f0 a->x, f1 a->y (L: up a), f2 b->x, f3 c->x.
     * Max-min: f0 = f1 = 5 (up a), f2 = f3 = 12.5 (down x). When f1 ends, f0 rises to 10
     * and f2, f3 must fall to 10: the change reaches flows that share no link with f1. */
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 1);
    int a = nm_net_add_node(net, 0, 10e6, 1e9);
    int b = nm_net_add_node(net, 0, 1e9, 1e9);
    int c = nm_net_add_node(net, 0, 1e9, 1e9);
    int x = nm_net_add_node(net, 0, 1e9, 30e6);
    int y = nm_net_add_node(net, 0, 1e9, 1e9);
    results *rs = new_results();
    nm_flow f0 = nm_net_start_flow(net, a, x, 100000000, on_flow, rs, 0);
    nm_net_start_flow(net, a, y, 625000, on_flow, rs, 1); /* 5 Mb at 5 Mb/s = 1 s */
    nm_flow f2 = nm_net_start_flow(net, b, x, 100000000, on_flow, rs, 2);
    nm_flow f3 = nm_net_start_flow(net, c, x, 100000000, on_flow, rs, 3);
    ck_assert_double_eq(nm_net_flow_rate(net, f0), 5e6);
    ck_assert_double_eq(nm_net_flow_rate(net, f2), 12.5e6);
    nm_run_until(sim, 1000 * MS);
    ck_assert_int_eq(rs->calls[1], 1);
    ck_assert_int_eq(rs->r[1].t_end, 1000 * MS);
    ck_assert_double_eq_tol(nm_net_flow_rate(net, f0), 10e6, 1e-3);
    ck_assert_double_eq_tol(nm_net_flow_rate(net, f2), 10e6, 1e-3);
    ck_assert_double_eq_tol(nm_net_flow_rate(net, f3), 10e6, 1e-3);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

static void halve_uplink(nm_net *net, uint64_t node) {
    nm_net_set_link_capacity(net, nm_net_node_uplink(net, (int)node), 5e6);
}
static void factor_half(nm_net *net, uint64_t node) {
    nm_net_set_node_bw_factor(net, (int)node, 0.5);
}
static void factor_zero(nm_net *net, uint64_t node) {
    nm_net_set_node_bw_factor(net, (int)node, 0.0);
}
static void factor_one(nm_net *net, uint64_t node) {
    nm_net_set_node_bw_factor(net, (int)node, 1.0);
}

START_TEST(test_capacity_change) {
    /* 10 Mb at 10 Mb/s; at 0.5 s the capacity halves: 5 Mb left at 5 Mb/s -> ends 1.5 s. */
    void (*change[2])(nm_net *, uint64_t) = {halve_uplink, factor_half};
    for (int v = 0; v < 2; v++) {
        nm_sim *sim = nm_sim_new();
        nm_net *net = nm_net_new(sim, 1);
        int a = nm_net_add_node(net, 0, 10e6, 1e9);
        int b = nm_net_add_node(net, 0, 1e9, 1e9);
        results *rs = new_results();
        action act = {net, change[v]};
        nm_net_start_flow(net, a, b, 1250000, on_flow, rs, 0);
        nm_schedule_at(sim, 500 * MS, run_action, &act, (uint64_t)a);
        nm_run(sim);
        ck_assert_int_eq(rs->r[0].t_end, 1500 * MS);
        ck_assert_double_eq(nm_net_link_capacity(net, nm_net_node_uplink(net, a)), 5e6);
        nm_net_free(net);
        nm_sim_free(sim);
        free(rs);
    }
}
END_TEST

START_TEST(test_stall_and_resume) {
    /* factor 0 at 0.5 s stalls the flow; factor 1 at 2 s resumes: 5 Mb left -> 2.5 s. */
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 1);
    int a = nm_net_add_node(net, 0, 10e6, 1e9);
    int b = nm_net_add_node(net, 0, 1e9, 1e9);
    results *rs = new_results();
    action stop = {net, factor_zero}, go = {net, factor_one};
    nm_flow f = nm_net_start_flow(net, a, b, 1250000, on_flow, rs, 0);
    nm_schedule_at(sim, 500 * MS, run_action, &stop, (uint64_t)a);
    nm_schedule_at(sim, 2000 * MS, run_action, &go, (uint64_t)a);
    nm_run_until(sim, 1000 * MS);
    ck_assert_double_eq(nm_net_flow_rate(net, f), 0);
    ck_assert_double_eq(nm_net_flow_delivered(net, f), 625000);
    nm_run(sim);
    ck_assert_int_eq(rs->r[0].t_end, 2500 * MS);
    /* The stalled link counts as busy: 2.5 s, and carried 10 Mb <= 10 Mb/s x 2.5 s. */
    ck_assert_int_eq(nm_net_link_busy_ns(net, nm_net_node_uplink(net, a)), 2500 * MS);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

START_TEST(test_tcp_window) {
    /* window 64 KiB, one-way 10 ms: RTT 20 ms, cap = 524288 bit / 0.02 s = 26214400 b/s.
     * 2621440 B = 20971520 bit -> 0.8 s after the 10 ms latency. */
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 2);
    nm_net_set_region_latency(net, 0, 1, 10 * MS);
    nm_net_set_tcp_window(net, 65536);
    int a = nm_net_add_node(net, 0, 1e9, 1e9);
    int b = nm_net_add_node(net, 1, 1e9, 1e9);
    int c = nm_net_add_node(net, 0, 1e9, 1e9);
    results *rs = new_results();
    nm_flow f = nm_net_start_flow(net, a, b, 2621440, on_flow, rs, 0);
    nm_flow g = nm_net_start_flow(net, c, a, 2621440, on_flow, rs, 1); /* 0 latency: no cap */
    ck_assert_double_eq(nm_net_flow_rate(net, g), 1e9);
    nm_run_until(sim, 10 * MS);
    ck_assert_double_eq(nm_net_flow_rate(net, f), 26214400.0);
    nm_run(sim);
    ck_assert_int_eq(rs->r[0].t_end, 810 * MS);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

static void node_down(nm_net *net, uint64_t node) { nm_net_set_node_up(net, (int)node, 0); }

START_TEST(test_node_down) {
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 1);
    int a = nm_net_add_node(net, 0, 10e6, 1e9);
    int b = nm_net_add_node(net, 0, 1e9, 1e9);
    int c = nm_net_add_node(net, 0, 1e9, 1e9);
    int d = nm_net_add_node(net, 0, 1e9, 1e9);
    nm_net_set_pair_latency(net, b, c, 1000 * MS);
    ck_assert_int_eq(nm_net_latency(net, c, b), 1000 * MS);
    ck_assert_int_eq(nm_net_latency(net, a, b), 0);
    results *rs = new_results();
    action down = {net, node_down};
    nm_net_start_flow(net, a, b, 1250000, on_flow, rs, 0); /* transferring at 5 Mb/s */
    nm_net_start_flow(net, c, b, 1250000, on_flow, rs, 1); /* in its 1 s latency */
    nm_net_start_flow(net, a, d, 1250000, on_flow, rs, 2); /* shares up(a) with flow 0 */
    nm_schedule_at(sim, 300 * MS, run_action, &down, (uint64_t)b);
    nm_run_until(sim, 300 * MS);
    ck_assert_int_eq(rs->calls[0], 1);
    ck_assert_int_eq(rs->r[0].status, NM_FLOW_NODE_DOWN);
    ck_assert_double_eq(rs->r[0].bytes_delivered, 187500);
    ck_assert_int_eq(rs->r[0].t_end, 300 * MS);
    ck_assert_int_eq(rs->r[1].status, NM_FLOW_NODE_DOWN);
    ck_assert_double_eq(rs->r[1].bytes_delivered, 0);
    ck_assert_int_eq(rs->r[1].t_transfer, -1);
    ck_assert_int_eq(nm_net_node_is_up(net, b), 0);
    /* Starting a flow to a down node fails it, by an event, not re-entrantly. */
    nm_flow late = nm_net_start_flow(net, d, b, 1000, on_flow, rs, 3);
    ck_assert_int_eq(rs->calls[3], 0);
    ck_assert_int_eq(nm_net_flow_state(net, late), NM_FLOW_ENDING);
    ck_assert_int_eq(nm_net_cancel_flow(net, late), 0);
    nm_run(sim);
    ck_assert_int_eq(rs->calls[3], 1);
    ck_assert_int_eq(rs->r[3].status, NM_FLOW_NODE_DOWN);
    ck_assert_int_eq(rs->r[3].t_end, 300 * MS);
    /* Flow 2: 1.5 Mb by 0.3 s, then 8.5 Mb alone at 10 Mb/s -> 1.15 s. */
    ck_assert_int_eq(rs->r[2].status, NM_FLOW_DONE);
    ck_assert_int_eq(rs->r[2].t_end, 1150 * MS);
    /* Back up: flows work again. */
    nm_net_set_node_up(net, b, 1);
    nm_net_start_flow(net, a, b, 125000, on_flow, rs, 4);
    nm_run(sim);
    ck_assert_int_eq(rs->r[4].status, NM_FLOW_DONE);
    ck_assert_int_eq(rs->r[4].t_end, 1150 * MS + 100 * MS);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(rs->calls[i], 1);
    ck_assert_double_eq(nm_net_node_bytes_received(net, b), 187500 + 125000);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

static void cancel_it(nm_net *net, uint64_t h) {
    ck_assert_int_eq(nm_net_cancel_flow(net, h), 1);
    ck_assert_int_eq(nm_net_cancel_flow(net, h), 0);
}

START_TEST(test_cancel) {
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 1);
    int a = nm_net_add_node(net, 0, 10e6, 1e9);
    int b = nm_net_add_node(net, 0, 1e9, 1e9);
    int c = nm_net_add_node(net, 0, 1e9, 1e9);
    results *rs = new_results();
    action act = {net, cancel_it};
    nm_flow f0 = nm_net_start_flow(net, a, b, 1250000, on_flow, rs, 0);
    nm_net_start_flow(net, a, c, 1250000, on_flow, rs, 1);
    nm_schedule_at(sim, 400 * MS, run_action, &act, f0);
    nm_run(sim);
    ck_assert_int_eq(rs->r[0].status, NM_FLOW_CANCELLED);
    ck_assert_double_eq(rs->r[0].bytes_delivered, 250000);
    ck_assert_int_eq(rs->r[0].t_end, 400 * MS);
    ck_assert_int_eq(rs->r[1].t_end, 1200 * MS);
    ck_assert_int_eq(nm_net_cancel_flow(net, f0), 0);
    nm_net_stats st = nm_net_get_stats(net);
    ck_assert_uint_eq(st.completions, 1);
    ck_assert_uint_eq(st.failures, 1);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

START_TEST(test_ideal_and_trivial) {
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 2);
    nm_net_set_region_latency(net, 0, 1, 10 * MS);
    int a = nm_net_add_node(net, 0, 1e6, 1e6);
    int b = nm_net_add_node(net, 1, 1e6, 1e6);
    results *rs = new_results();
    nm_net_start_flow(net, a, b, 0, on_flow, rs, 0);       /* empty: ends after latency */
    nm_net_start_flow(net, a, a, 5000000, on_flow, rs, 1); /* to itself: at once */
    ck_assert_int_eq(rs->n_calls, 0);
    nm_run(sim);
    ck_assert_int_eq(rs->r[0].t_end, 10 * MS);
    ck_assert_int_eq(rs->r[1].t_end, 0);
    nm_net_set_ideal(net, 1);
    ck_assert_int_eq(nm_net_latency(net, a, b), 0);
    nm_run_until(sim, 250 * MS);
    nm_net_start_flow(net, a, b, 12000000000ULL, on_flow, rs, 2);
    ck_assert_int_eq(rs->calls[2], 0);
    nm_run(sim);
    ck_assert_int_eq(rs->r[2].status, NM_FLOW_DONE);
    ck_assert_int_eq(rs->r[2].t_start, 250 * MS);
    ck_assert_int_eq(rs->r[2].t_transfer, 250 * MS);
    ck_assert_int_eq(rs->r[2].t_end, 250 * MS);
    ck_assert_double_eq(rs->r[2].bytes_delivered, 12e9);
    ck_assert_double_eq(nm_net_node_bytes_received(net, b), 12e9);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

START_TEST(test_shared_link) {
    /* Storage front end of 10 Mb/s crossed by a's and b's outgoing flows and c's incoming
     * flows; a->c crosses it once. Three flows on it: 10/3 each. */
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 1);
    int fe = nm_net_add_link(net, 10e6);
    int a = nm_net_add_node(net, 0, 100e6, 100e6);
    int b = nm_net_add_node(net, 0, 100e6, 100e6);
    int c = nm_net_add_node(net, 0, 100e6, 100e6);
    int s = nm_net_add_node(net, 0, 1e9, 1e9);
    nm_net_attach(net, a, fe, NM_OUT);
    nm_net_attach(net, b, fe, NM_OUT);
    nm_net_attach(net, c, fe, NM_IN);
    results *rs = new_results();
    nm_flow f0 = nm_net_start_flow(net, a, s, 1250000, on_flow, rs, 0);
    nm_flow f1 = nm_net_start_flow(net, b, s, 1250000, on_flow, rs, 1);
    ck_assert_double_eq(nm_net_flow_rate(net, f0), 5e6);
    nm_flow f2 = nm_net_start_flow(net, a, c, 1250000, on_flow, rs, 2);
    nm_flow f3 = nm_net_start_flow(net, s, b, 1250000, on_flow, rs, 3); /* not attached */
    ck_assert_double_eq_tol(nm_net_flow_rate(net, f0), 10e6 / 3, 1e-6);
    ck_assert_double_eq_tol(nm_net_flow_rate(net, f1), 10e6 / 3, 1e-6);
    ck_assert_double_eq_tol(nm_net_flow_rate(net, f2), 10e6 / 3, 1e-6);
    ck_assert_double_eq(nm_net_flow_rate(net, f3), 100e6);
    nm_run(sim);
    /* All three of the front end end together: 30 Mb through 10 Mb/s = 3 s. */
    for (int i = 0; i < 3; i++) ck_assert_int_eq(rs->r[i].t_end, 3000 * MS);
    ck_assert_double_eq_tol(nm_net_link_bytes(net, fe), 3 * 1250000, 1e-6);
    ck_assert_int_eq(nm_net_link_busy_ns(net, fe), 3000 * MS);
    nm_net_free(net);
    nm_sim_free(sim);
    free(rs);
}
END_TEST

static Suite *net_suite(void) {
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("closed forms");
    tcase_add_test(tc, test_single_flow);
    tcase_add_test(tc, test_share_one_uplink);
    tcase_add_test(tc, test_two_bottlenecks);
    tcase_add_test(tc, test_rate_increase_propagates);
    tcase_add_test(tc, test_capacity_change);
    tcase_add_test(tc, test_stall_and_resume);
    tcase_add_test(tc, test_tcp_window);
    tcase_add_test(tc, test_node_down);
    tcase_add_test(tc, test_cancel);
    tcase_add_test(tc, test_ideal_and_trivial);
    tcase_add_test(tc, test_shared_link);
    const char *fork = getenv("CK_FORK");
    if (!fork || strcmp(fork, "no") != 0) {}
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("random");
    tcase_set_timeout(tr, 300);
    suite_add_tcase(s, tr);
    return s;
}

CHECK_MAIN(.suite = net_suite)
