/* tests/netmodel/test_net_random.c: random workloads against a reference water-filling (max-min certificate, conservation), and caller bugs that must abort (netmodel/net.h). */
#include "tests/netmodel/net_testutil.h"

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

static Suite *net_more_suite(void) {
    Suite *s = suite_create("net-more");
    TCase *tc = tcase_create("closed forms");
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

CHECK_MAIN(.suite = net_more_suite)
