/* tests/netmodel/test_net.c: the flow-level network (netmodel/net.h) against closed forms, the
 * max-min certificate and an independent from-scratch water-filling. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel/net.h"
#include "tests/check_main.h"

#define MS 1000000LL /* ns */

/* ---- callback log ------------------------------------------------------------------ */

enum { MAXF = 3000 };

typedef struct {
    nm_flow_result r[MAXF];
    int calls[MAXF];
    int n_calls;
} results;

static void on_flow(nm_net *net, void *ctx, uint64_t arg, const nm_flow_result *r) {
    (void)net;
    results *rs = ctx;
    ck_assert_uint_lt(arg, MAXF);
    rs->r[arg] = *r;
    rs->calls[arg]++;
    rs->n_calls++;
}

static results *new_results(void) {
    results *rs = calloc(1, sizeof *rs);
    ck_assert_ptr_nonnull(rs);
    return rs;
}

/* A scheduled action: run fn(net, arg) at a given time. */
typedef struct {
    nm_net *net;
    void (*fn)(nm_net *net, uint64_t arg);
} action;

static void run_action(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    action *a = ctx;
    a->fn(a->net, arg);
}

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

/* ---- random workloads: certificate, reference water-filling, conservation ------------ */

typedef struct {
    nm_sim *sim;
    nm_net *net;
    results *rs;
    int n_nodes, n_links;
    int src[MAXF], dst[MAXF];
    uint64_t bytes[MAXF];
    nm_flow id[MAXF];
    int started[MAXF];
    int n_flows;
    int shared_out[64], shared_in[64]; /* shared link per node or -1 */
    double max_cap[256];               /* per link, for the capacity bound */
    double window;
} world;

static uint64_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static int path_of(const world *w, int i, int *links) {
    int n = 0;
    int cand[4] = {nm_net_node_uplink(w->net, w->src[i]), nm_net_node_downlink(w->net, w->dst[i]),
                   w->shared_out[w->src[i]], w->shared_in[w->dst[i]]};
    for (int k = 0; k < 4; k++) {
        if (cand[k] < 0) continue;
        int dup = 0;
        for (int j = 0; j < n; j++) dup |= links[j] == cand[k];
        if (!dup) links[n++] = cand[k];
    }
    return n;
}

static double cap_of(const world *w, int i) {
    nm_time lat = nm_net_latency(w->net, w->src[i], w->dst[i]);
    return w->window > 0 && lat > 0 ? w->window * 8e9 / (2.0 * (double)lat) : INFINITY;
}

/* Max-min rates of the transferring flows from scratch, by the textbook progressive
 * filling: raise every unfrozen flow together to the next level at which a link fills
 * up (or a flow reaches its cap); freeze the flows of every full link; repeat. */
static void reference_rates(const world *w, double *rate) {
    static int active[MAXF], frozen[MAXF], path[MAXF][4], plen[MAXF];
    static double used[256];
    static int unfrozen_on[256];
    int na = 0;
    for (int i = 0; i < w->n_flows; i++)
        if (w->started[i] && nm_net_flow_state(w->net, w->id[i]) == NM_FLOW_ACTIVE) {
            active[na++] = i;
            plen[i] = path_of(w, i, path[i]);
            frozen[i] = 0;
            rate[i] = 0;
        }
    double level = 0;
    for (;;) {
        for (int l = 0; l < w->n_links; l++) {
            used[l] = 0;
            unfrozen_on[l] = 0;
        }
        int left = 0;
        for (int k = 0; k < na; k++) {
            int i = active[k];
            for (int j = 0; j < plen[i]; j++) {
                used[path[i][j]] += frozen[i] ? rate[i] : 0;
                unfrozen_on[path[i][j]] += !frozen[i];
            }
            left += !frozen[i];
        }
        if (!left) break;
        double next = INFINITY;
        int argl = -1, argf = -1;
        for (int l = 0; l < w->n_links; l++)
            if (unfrozen_on[l]) {
                double lv = (nm_net_link_capacity(w->net, l) - used[l]) / unfrozen_on[l];
                if (lv < next) {
                    next = lv;
                    argl = l;
                }
            }
        for (int k = 0; k < na; k++)
            if (!frozen[active[k]] && cap_of(w, active[k]) < next) {
                next = cap_of(w, active[k]);
                argf = active[k];
                argl = -1;
            }
        level = next > level ? next : level;
        for (int k = 0; k < na; k++) {
            int i = active[k];
            if (frozen[i]) continue;
            int stop = i == argf || cap_of(w, i) <= level;
            for (int j = 0; j < plen[i] && !stop; j++) {
                int l = path[i][j];
                double cap = nm_net_link_capacity(w->net, l);
                stop = l == argl || used[l] + level * unfrozen_on[l] >= cap * (1 - 1e-12);
            }
            if (stop) {
                frozen[i] = 1;
                rate[i] = level;
            }
        }
    }
}

/* Feasibility plus the certificate of max-min fairness on every transferring flow;
 * comparison with the reference when `reference` is set. */
static void check_fair(const world *w, int reference) {
    static double load[256], maxr[256], ref[MAXF];
    int path[4];
    for (int l = 0; l < w->n_links; l++) load[l] = maxr[l] = 0;
    for (int i = 0; i < w->n_flows; i++) {
        if (!w->started[i] || nm_net_flow_state(w->net, w->id[i]) != NM_FLOW_ACTIVE) continue;
        double r = nm_net_flow_rate(w->net, w->id[i]);
        if (!(r >= 0)) ck_abort_msg("flow %d: negative rate %g", i, r);
        int n = path_of(w, i, path);
        for (int k = 0; k < n; k++) {
            load[path[k]] += r;
            if (r > maxr[path[k]]) maxr[path[k]] = r;
        }
    }
    for (int l = 0; l < w->n_links; l++)
        if (!(load[l] <= nm_net_link_capacity(w->net, l) * (1 + 1e-9) + 1e-6))
            ck_abort_msg("link %d overloaded: %g > %g", l, load[l],
                         nm_net_link_capacity(w->net, l));
    for (int i = 0; i < w->n_flows; i++) {
        if (!w->started[i] || nm_net_flow_state(w->net, w->id[i]) != NM_FLOW_ACTIVE) continue;
        double r = nm_net_flow_rate(w->net, w->id[i]);
        int ok = r >= cap_of(w, i) * (1 - 1e-9);
        int n = path_of(w, i, path);
        for (int k = 0; k < n && !ok; k++) {
            double cap = nm_net_link_capacity(w->net, path[k]);
            ok = load[path[k]] >= cap * (1 - 1e-8) - 1e-6 && r >= maxr[path[k]] * (1 - 1e-8) - 1e-6;
        }
        if (!ok) ck_abort_msg("flow %d (rate %g) has no bottleneck", i, r);
    }
    if (!reference) return;
    reference_rates(w, ref);
    for (int i = 0; i < w->n_flows; i++) {
        if (!w->started[i] || nm_net_flow_state(w->net, w->id[i]) != NM_FLOW_ACTIVE) continue;
        double r = nm_net_flow_rate(w->net, w->id[i]);
        if (!(fabs(r - ref[i]) <= 1e-7 * ref[i] + 1e-3))
            ck_abort_msg("flow %d: rate %.9g, reference %.9g", i, r, ref[i]);
    }
}

static void start_one(nm_sim *sim, void *ctx, uint64_t i) {
    (void)sim;
    world *w = ctx;
    w->id[i] = nm_net_start_flow(w->net, w->src[i], w->dst[i], w->bytes[i], on_flow, w->rs, i);
    w->started[i] = 1;
}

typedef struct {
    world *w;
    int kind; /* 0 factor, 1 down, 2 up, 3 shared capacity */
    int target;
    double value;
} change;

static void apply_change(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    change *c = ctx;
    switch (c->kind) {
    case 0: nm_net_set_node_bw_factor(c->w->net, c->target, c->value); break;
    case 1: nm_net_set_node_up(c->w->net, c->target, 0); break;
    case 2: nm_net_set_node_up(c->w->net, c->target, 1); break;
    default: nm_net_set_link_capacity(c->w->net, c->target, c->value); break;
    }
}

static void build_world(world *w, uint64_t seed, int n_nodes, int n_flows, int n_shared,
                        double window, double span_s) {
    memset(w, 0, sizeof *w);
    w->sim = nm_sim_new();
    w->net = nm_net_new(w->sim, 3);
    w->rs = new_results();
    w->window = window;
    nm_net_set_tcp_window(w->net, window);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            nm_net_set_region_latency(w->net, a, b, a == b ? 0 : (nm_time)(1 + a + 2 * b) * MS);
    uint64_t s = seed;
    int shared[8];
    for (int k = 0; k < n_shared; k++) {
        double cap = (double)(20 + lcg(&s) % 100) * 1e6;
        shared[k] = nm_net_add_link(w->net, cap);
        w->max_cap[shared[k]] = cap;
    }
    for (int n = 0; n < n_nodes; n++) {
        double up = (double)(1 + lcg(&s) % 100) * 1e6, down = (double)(1 + lcg(&s) % 100) * 1e6;
        int id = nm_net_add_node(w->net, (int)(lcg(&s) % 3), up, down);
        w->max_cap[nm_net_node_uplink(w->net, id)] = up;
        w->max_cap[nm_net_node_downlink(w->net, id)] = down;
        w->shared_out[id] = w->shared_in[id] = -1;
        if (n_shared && lcg(&s) % 3 == 0) {
            w->shared_out[id] = shared[lcg(&s) % (uint64_t)n_shared];
            nm_net_attach(w->net, id, w->shared_out[id], NM_OUT);
        }
        if (n_shared && lcg(&s) % 3 == 0) {
            w->shared_in[id] = shared[lcg(&s) % (uint64_t)n_shared];
            nm_net_attach(w->net, id, w->shared_in[id], NM_IN);
        }
    }
    w->n_nodes = n_nodes;
    w->n_links = nm_net_n_links(w->net);
    ck_assert_int_le(w->n_links, 256);
    w->n_flows = n_flows;
    for (int i = 0; i < n_flows; i++) {
        w->src[i] = (int)(lcg(&s) % (uint64_t)n_nodes);
        do w->dst[i] = (int)(lcg(&s) % (uint64_t)n_nodes);
        while (w->dst[i] == w->src[i]);
        w->bytes[i] = 1000 + lcg(&s) % 2000000;
        nm_time t = (nm_time)((double)(lcg(&s) % 1000000) / 1e6 * span_s * 1e9);
        nm_schedule_at(w->sim, t, start_one, w, (uint64_t)i);
    }
}

static void free_world(world *w) {
    nm_net_free(w->net);
    nm_sim_free(w->sim);
    free(w->rs);
}

/* End-of-run conservation: one callback per flow; bytes delivered add up on every node
 * and link; no link carried more than its capacity times its busy time. */
static void check_conservation(const world *w) {
    static double link_sum[256];
    double sent[64] = {0}, recv[64] = {0}, total = 0;
    int path[4];
    for (int l = 0; l < w->n_links; l++) link_sum[l] = 0;
    for (int i = 0; i < w->n_flows; i++) {
        if (w->rs->calls[i] != 1) ck_abort_msg("flow %d: %d callbacks", i, w->rs->calls[i]);
        const nm_flow_result *r = &w->rs->r[i];
        if (!(r->bytes_delivered >= 0 && r->bytes_delivered <= (double)w->bytes[i]))
            ck_abort_msg("flow %d: delivered %g of %llu", i, r->bytes_delivered,
                         (unsigned long long)w->bytes[i]);
        if (r->status == NM_FLOW_DONE) {
            if (r->bytes_delivered != (double)w->bytes[i]) ck_abort_msg("flow %d: done short", i);
            /* never faster than the fastest link capacity on its path allows */
            int n = path_of(w, i, path);
            double cmin = INFINITY;
            for (int k = 0; k < n; k++) cmin = fmin(cmin, w->max_cap[path[k]]);
            if (!((double)(r->t_end - r->t_transfer) >=
                  (double)w->bytes[i] * 8e9 / cmin * (1 - 1e-9) - 1))
                ck_abort_msg("flow %d: faster than its slowest link", i);
        }
        sent[w->src[i]] += r->bytes_delivered;
        recv[w->dst[i]] += r->bytes_delivered;
        total += r->bytes_delivered;
        if (r->t_transfer >= 0) {
            int n = path_of(w, i, path);
            for (int k = 0; k < n; k++) link_sum[path[k]] += r->bytes_delivered;
        }
    }
    double tot_sent = 0, tot_recv = 0;
    for (int n = 0; n < w->n_nodes; n++) {
        ck_assert_double_eq_tol(nm_net_node_bytes_sent(w->net, n), sent[n], 1e-6 * (1 + sent[n]));
        ck_assert_double_eq_tol(nm_net_node_bytes_received(w->net, n), recv[n],
                                1e-6 * (1 + recv[n]));
        tot_sent += nm_net_node_bytes_sent(w->net, n);
        tot_recv += nm_net_node_bytes_received(w->net, n);
    }
    ck_assert_double_eq_tol(tot_sent, total, 1e-6 * total);
    ck_assert_double_eq_tol(tot_recv, total, 1e-6 * total);
    for (int l = 0; l < w->n_links; l++) {
        double b = nm_net_link_bytes(w->net, l);
        ck_assert_double_eq_tol(b, link_sum[l], 1e-6 * (1 + b));
        double bound = w->max_cap[l] / 8 * (double)nm_net_link_busy_ns(w->net, l) / 1e9;
        ck_assert_msg(b <= bound * (1 + 1e-9) + 1e-6, "link %d: %g bytes > %g", l, b, bound);
    }
    ck_assert_int_eq(nm_net_live_flows(w->net), 0);
}

START_TEST(test_random_against_reference) {
    static world w;
    for (int variant = 0; variant < 2; variant++) {
        build_world(&w, 1234 + (uint64_t)variant, 24, 800, 3, variant ? 256 * 1024 : 0, 4.0);
        static change ch[40];
        uint64_t s = 99 + (uint64_t)variant;
        for (int k = 0; k < 40; k++) {
            ch[k].w = &w;
            ch[k].kind = (int)(lcg(&s) % 4);
            ch[k].target = (int)(lcg(&s) % 24);
            if (ch[k].kind == 0) ch[k].value = (double)(lcg(&s) % 3) / 2; /* 0, 0.5, 1 */
            if (ch[k].kind == 3) {
                ch[k].target = (int)(lcg(&s) % 3); /* the shared links are 0..2 */
                ch[k].value = (double)(lcg(&s) % 3) * w.max_cap[ch[k].target] / 2;
            }
            nm_schedule_at(w.sim, (nm_time)(lcg(&s) % 4000) * MS, apply_change, &ch[k], 0);
        }
        /* and, at the end, everything back to nominal so every flow can finish */
        static change reset[32];
        for (int n = 0; n < 24; n++) {
            reset[n] = (change){&w, 0, n, 1.0};
            nm_schedule_at(w.sim, 4001 * MS, apply_change, &reset[n], 0);
        }
        for (int k = 0; k < 3; k++) {
            reset[24 + k] = (change){&w, 3, k, w.max_cap[k]};
            nm_schedule_at(w.sim, 4001 * MS, apply_change, &reset[24 + k], 0);
        }
        long steps = 0;
        while (nm_step(w.sim)) {
            check_fair(&w, steps % 5 == 0);
            steps++;
        }
        nm_net_stats st = nm_net_get_stats(w.net);
        ck_assert_uint_gt(st.widenings, 0); /* the widening path was exercised */
        ck_assert_uint_eq(st.completions + st.failures, (uint64_t)w.n_flows);
        check_conservation(&w);
        free_world(&w);
    }
}
END_TEST

START_TEST(test_many_flows_conserve) {
    static world w;
    build_world(&w, 777, 60, 3000, 4, 0, 10.0);
    static change ch[30];
    uint64_t s = 5;
    for (int k = 0; k < 30; k++) {
        ch[k] = (change){&w, 1 + k % 2, (int)(lcg(&s) % 60), 0};
        nm_schedule_at(w.sim, (nm_time)(lcg(&s) % 10000) * MS, apply_change, &ch[k], 0);
    }
    nm_run(w.sim);
    check_conservation(&w);
    /* determinism: the same inputs give the same times, bit for bit */
    static nm_time first[MAXF];
    for (int i = 0; i < w.n_flows; i++) first[i] = w.rs->r[i].t_end;
    free_world(&w);
    build_world(&w, 777, 60, 3000, 4, 0, 10.0);
    s = 5;
    for (int k = 0; k < 30; k++) {
        ch[k] = (change){&w, 1 + k % 2, (int)(lcg(&s) % 60), 0};
        nm_schedule_at(w.sim, (nm_time)(lcg(&s) % 10000) * MS, apply_change, &ch[k], 0);
    }
    nm_run(w.sim);
    for (int i = 0; i < w.n_flows; i++)
        if (w.rs->r[i].t_end != first[i]) ck_abort_msg("flow %d: not deterministic", i);
    free_world(&w);
}
END_TEST

/* ---- caller bugs ---------------------------------------------------------------------- */

START_TEST(test_bad_node_aborts) {
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 1);
    nm_net_add_node(net, 0, 1e6, 1e6);
    nm_net_set_node_bw_factor(net, 3, 1.0);
}
END_TEST

START_TEST(test_bad_capacity_aborts) {
    nm_sim *sim = nm_sim_new();
    nm_net *net = nm_net_new(sim, 1);
    nm_net_add_node(net, 0, -1.0, 1e6);
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
    if (!fork || strcmp(fork, "no") != 0) {
        tcase_add_test_raise_signal(tc, test_bad_node_aborts, SIGABRT);
        tcase_add_test_raise_signal(tc, test_bad_capacity_aborts, SIGABRT);
    }
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("random");
    tcase_add_test(tr, test_random_against_reference);
    tcase_add_test(tr, test_many_flows_conserve);
    tcase_set_timeout(tr, 300);
    suite_add_tcase(s, tr);
    return s;
}

CHECK_MAIN(.suite = net_suite)
