/* tests/sim/scenario/test_scenario.c: the scenario loader on good input.
 *
 * Every shipped scenario loads; the Orion-100B values resolve as SPEC 3.1 says; the
 * variants inherit from their base; defaults; `--set` of every value type; the
 * k = d_model / ratio rule; the device table; the schema's own consistency; `check`.
 * Bad input is covered by tests/sim/scenario/test_scenario_errors.c.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>

#include "kernels/model.h"
#include "tests/sim/scenario/scenario_testutil.h"
#include "sim/cli/commands.h"
#include "sim/scenario/devices.h"
#include "sim/scenario/scenario_schema.h"
#include "sim/scenario/scenario_text.h"
#include "tests/check_main.h"

static int find_peer_device(const sim_scenario *sc, const char *name) {
    return sim_devices_find(&sc->devices, name);
}

/* ---- shipped scenarios ---- */

START_TEST(every_shipped_scenario_loads) {
    DIR *d = opendir("scenarios");
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".cfg") || !strcmp(e->d_name, "devices.cfg"))
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "scenarios/%s", e->d_name);
        sim_scenario sc;
        tu_load_ok(path, NULL, 0, &sc);
        /* the name is the file's stem */
        ck_assert_int_eq((int)strlen(sc.name), (int)len - 4);
        ck_assert(!strncmp(sc.name, e->d_name, len - 4));
        /* the scenario text is kept verbatim */
        char err[256];
        char *text = st_read_file(path, err, sizeof err);
        ck_assert_ptr_nonnull(text);
        ck_assert_str_eq(sc.sources[0].path, path);
        ck_assert_str_eq(sc.sources[0].text, text);
        free(text);
        ck_assert_int_gt(sc.swarm.n_peers, 0);
        ck_assert_int_eq(sc.swarm.n_peers, sc.swarm.replicas * sc.pipeline.split.n_stages);
        sim_scenario_free(&sc);
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 9);
}
END_TEST

START_TEST(orion_resolves_as_published) {
    sim_scenario sc;
    tu_load_ok("scenarios/orion-100b.cfg", NULL, 0, &sc);
    ck_assert_int_eq(km_params_total(&sc.model), 99615863808LL);
    ck_assert_int_eq(sc.model.head_dim, 128);
    ck_assert_int_eq(sc.model.seq_len, 800);
    ck_assert_int_eq(sc.pipeline.split.n_stages, 16);
    static const int split[16] = {4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 4};
    for (int s = 0; s < 16; s++) ck_assert_int_eq(sc.pipeline.split.blocks[s], split[s]);
    ck_assert_int_eq(sc.swarm.replicas, 3);
    ck_assert_int_eq(sc.swarm.n_peers, 48);
    ck_assert_int_eq(sc.compression.boundary.method, KM_COMP_RESBM);
    ck_assert_int_eq(sc.compression.boundary.k, 144);
    ck_assert_int_eq(sc.training.microbatch_tokens, 8000);
    ck_assert_int_eq(km_activation_bytes_raw(&sc.model, 8000), 147456000LL);
    ck_assert_int_eq(km_activation_bytes(&sc.model, &sc.compression.boundary, 8000), 2304000LL);
    ck_assert_int_eq(sc.training.H, 10);
    ck_assert_double_eq(sc.training.tokens, 1.1e9);
    ck_assert_int_eq(sc.training.cycles, 0);
    ck_assert_int_eq(sc.pipeline.cache_capacity, 16);
    ck_assert_double_eq(sc.training.activation_timeout_s, 100.0);
    ck_assert_int_eq(sc.sync.partitions, 6);
    ck_assert_int_eq(sc.sync.owners, 2);
    ck_assert_double_eq(sc.sync.upload_quorum, 0.8);
    ck_assert_double_eq(sc.sync.merge_quorum, 0.9);
    ck_assert_double_eq(sc.sync.pg_bytes_per_param, 2.0);
    ck_assert_double_eq(sc.sync.outer.lr, 0.7);
    ck_assert_double_eq(sc.metrics.mfu_window_s, 6 * 3600.0);
    /* every peer an A100-80GB at $1.25/h; 48 x 312 TFLOP/s */
    int a100 = find_peer_device(&sc, "A100-80GB");
    for (int p = 0; p < 48; p++) {
        ck_assert_int_eq(sc.swarm.peers[p].device, a100);
        ck_assert_int_eq(sc.swarm.peers[p].stage, p % 16);
        ck_assert_int_eq(sc.swarm.peers[p].replica, p / 16);
        ck_assert_double_eq(sc.swarm.peers[p].price_per_hour, 1.25);
        ck_assert(sc.swarm.peers[p].up_bytes_per_s > 0 && sc.swarm.peers[p].down_bytes_per_s > 0);
    }
    ck_assert_double_eq_tol(sim_scenario_peak_flops(&sc), 48 * 312e12, 1);
    /* five regions, 10/10/10/9/9 peers; one-way latency us-east -> us-west 36.1 ms */
    ck_assert_int_eq(sc.network.n_regions, 5);
    int count[5] = {0};
    for (int p = 0; p < 48; p++) count[sc.swarm.peers[p].region]++;
    ck_assert_int_eq(count[0] + count[1] + count[2] + count[3] + count[4], 48);
    for (int r = 0; r < 5; r++) ck_assert(count[r] == 9 || count[r] == 10);
    ck_assert_double_eq_tol(sc.network.latency_s[0 * 5 + 3], 0.0361, 1e-12);
    ck_assert_double_eq_tol(sc.network.storage_up_bytes_per_s, 100000e6 / 8, 1e-3);
    /* the published figures */
    ck_assert(sc.reference.present);
    ck_assert_double_eq(sc.reference.utilisation, 0.818);
    ck_assert_double_eq(sc.reference.mfu, 0.308);
    ck_assert_double_eq(sc.reference.params, 99615863808.0);
    ck_assert_ptr_nonnull(strstr(sc.reference.source, "Orion-100B"));
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(orion_link_spread_sigma_zero_is_the_median) {
    const char *sets[] = {"swarm.bandwidth.classes[0].sigma=0"};
    sim_scenario sc;
    tu_load_ok("scenarios/orion-100b.cfg", sets, 1, &sc);
    for (int p = 0; p < sc.swarm.n_peers; p++) {
        ck_assert_double_eq_tol(sc.swarm.peers[p].up_bytes_per_s, 856e6 / 8, 1e-6);
        ck_assert_double_eq_tol(sc.swarm.peers[p].down_bytes_per_s, 1322e6 / 8, 1e-6);
    }
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(loading_is_deterministic_and_follows_the_seed) {
    sim_scenario a, b, c;
    const char *seed2[] = {"seed=2"};
    tu_load_ok("scenarios/orion-100b.cfg", NULL, 0, &a);
    tu_load_ok("scenarios/orion-100b.cfg", NULL, 0, &b);
    tu_load_ok("scenarios/orion-100b.cfg", seed2, 1, &c);
    ck_assert_int_eq(memcmp(a.swarm.peers, b.swarm.peers, 48 * sizeof *a.swarm.peers), 0);
    ck_assert_int_ne(memcmp(a.swarm.peers, c.swarm.peers, 48 * sizeof *a.swarm.peers), 0);
    sim_scenario_free(&a);
    sim_scenario_free(&b);
    sim_scenario_free(&c);
}
END_TEST

START_TEST(variants_inherit_their_base) {
    sim_scenario base, v;
    tu_load_ok("scenarios/orion-100b.cfg", NULL, 0, &base);
    tu_load_ok("scenarios/orion-100b-inner100.cfg", NULL, 0, &v);
    ck_assert_str_eq(v.name, "orion-100b-inner100");
    ck_assert_int_eq(v.training.H, 100);
    ck_assert_int_eq(v.training.accum, base.training.accum);
    ck_assert_int_eq(v.compression.boundary.k, 144);
    /* variant -> the fitted replay -> the literal one */
    ck_assert_int_eq(v.n_sources, 3);
    ck_assert_str_eq(v.sources[1].path, "scenarios/orion-100b-fit.cfg");
    ck_assert_str_eq(v.sources[2].path, "scenarios/orion-100b.cfg");
    ck_assert_int_eq(v.pipeline.cache_capacity, 22);
    /* published figures are not inherited */
    ck_assert(!v.reference.present);
    ck_assert(isnan(v.reference.mfu));
    sim_scenario_free(&v);

    tu_load_ok("scenarios/orion-100b-uncompressed.cfg", NULL, 0, &v);
    ck_assert_int_eq(v.compression.boundary.method, KM_COMP_NONE);
    ck_assert_int_eq(km_activation_bytes(&v.model, &v.compression.boundary, 8000), 147456000LL);
    sim_scenario_free(&v);

    tu_load_ok("scenarios/orion-100b-hetero.cfg", NULL, 0, &v);
    int n[3] = {0}, ids[3] = {find_peer_device(&v, "A100-80GB"), find_peer_device(&v, "H100-SXM"),
                              find_peer_device(&v, "RTX-4090")};
    for (int p = 0; p < v.swarm.n_peers; p++)
        for (int k = 0; k < 3; k++)
            if (v.swarm.peers[p].device == ids[k]) n[k]++;
    ck_assert_int_eq(n[0], 24);
    ck_assert_int_eq(n[1], 12);
    ck_assert_int_eq(n[2], 12);
    for (int p = 0; p < v.swarm.n_peers; p++)
        ck_assert(v.swarm.peers[p].device == ids[0] ? !isnan(v.swarm.peers[p].price_per_hour)
                                                    : isnan(v.swarm.peers[p].price_per_hour));
    sim_scenario_free(&v);

    tu_load_ok("scenarios/orion-100b-slowlinks.cfg", NULL, 0, &v);
    int slow = 0;
    for (int p = 0; p < v.swarm.n_peers; p++)
        if (fabs(v.swarm.peers[p].up_bytes_per_s - 100e6 / 8) < 1e-6) slow++;
    ck_assert_int_eq(slow, 4);
    sim_scenario_free(&v);

    tu_load_ok("scenarios/orion-100b-spot.cfg", NULL, 0, &v);
    ck_assert(v.faults.spot.enabled);
    ck_assert_double_eq(v.faults.spot.notice_s, 120.0);
    ck_assert_double_eq(v.faults.spot.interval_s, 24 * 3600.0);
    for (int p = 0; p < v.swarm.n_peers; p++) {
        ck_assert(v.swarm.peers[p].spot);
        ck_assert_double_eq_tol(v.swarm.peers[p].price_per_hour, 1.25 * 0.3, 1e-12);
    }
    sim_scenario_free(&v);
    sim_scenario_free(&base);
}
END_TEST

START_TEST(comparison_runs) {
    sim_scenario sc;
    tu_load_ok("scenarios/intellect-1.cfg", NULL, 0, &sc);
    ck_assert_int_eq(sc.sync.algorithm, SIM_SYNC_DDP);
    ck_assert_int_eq(sc.sync.transport, SIM_DDP_RING);
    ck_assert_double_eq(sc.sync.pg_bytes_per_param, 1.0); /* int8: 4x below fp32 */
    ck_assert_int_eq(sc.swarm.n_peers, 14);
    ck_assert_int_eq(sc.swarm.gpus_per_peer, 8);
    ck_assert_double_eq_tol(sim_scenario_peak_flops(&sc), 112 * 989e12, 1);
    ck_assert_double_eq(sc.reference.utilisation, 0.83);
    sim_scenario_free(&sc);
    tu_load_ok("scenarios/orion-100b-pgcomp4-update.cfg", NULL, 0, &sc);
    ck_assert_int_eq(sc.sync.publish, SIM_PUBLISH_UPDATE);
    ck_assert(!sc.sync.upload_momentum);
    ck_assert_double_eq(sc.sync.pg_bytes_per_param, 0.5); /* bf16 / 4 */
    sim_scenario_free(&sc);
    tu_load_ok("scenarios/covenant-72b.cfg", NULL, 0, &sc);
    ck_assert(!sc.sync.overlap); /* the sources show no overlap (covenant-72b.cfg) */
    sim_scenario_free(&sc);
    const char *ov[] = {"sync.overlap=true"};
    tu_load_ok("scenarios/covenant-72b.cfg", ov, 1, &sc);
    ck_assert(sc.sync.overlap);
    sim_scenario_free(&sc);
    /* live runs refuse it, naming the key and why */
    const char *live[] = {"sync.overlap=true", "compute.mode=live"};
    tu_expect_error("scenarios/covenant-72b.cfg", live, 2, "sync.overlap",
                    "not supported with compute.mode = \"live\"");
    tu_load_ok("scenarios/covenant-72b.cfg", NULL, 0, &sc);
    ck_assert_int_eq(sc.sync.transport, SIM_DDP_STORAGE);
    ck_assert_double_eq_tol(sc.sync.pg_bytes_per_param, 4.0 / 146, 1e-12);
    ck_assert_int_eq(sc.training.H, 30);
    ck_assert_double_eq(sc.swarm.peers[0].price_per_hour, 50.0); /* 8 x $6.25 */
    ck_assert(llabs(km_params_total(&sc.model) - 72700000000LL) < 100000000LL);
    sim_scenario_free(&sc);
}
END_TEST

/* ---- defaults ---- */

START_TEST(defaults) {
    const char *path = tu_mini("defaults.cfg", 0, NULL, NULL);
    sim_scenario sc;
    tu_load_ok(path, NULL, 0, &sc);
    ck_assert_uint_eq(sc.seed, 1);
    ck_assert_str_eq(sc.description, "");
    ck_assert_int_eq(sc.model.head_dim, 16);
    ck_assert_int_eq(sc.model.dtype_bytes, 2);
    ck_assert_double_eq(sc.model.rope_theta, 500000.0);
    ck_assert_double_eq(sc.model.norm_eps, 1e-5);
    ck_assert(!sc.pipeline.split_explicit);
    ck_assert_int_eq(sc.pipeline.split.blocks[0] + sc.pipeline.split.blocks[1], 4);
    ck_assert(sc.pipeline.recompute);
    ck_assert_int_eq(sc.pipeline.cache_capacity, 16);
    ck_assert_int_eq(sc.pipeline.routing, SIM_ROUTE_IOTA);
    ck_assert(isnan(sc.pipeline.swarm_ema));
    ck_assert_int_eq(sc.compression.boundary.k, 16);
    ck_assert_int_eq(sc.compression.boundary.hidden, 16); /* default hidden = k */
    ck_assert_double_eq(sc.training.activation_timeout_s, 100.0);
    ck_assert_int_eq(sc.training.min_local_steps, 5);
    ck_assert_double_eq(sc.training.grad_clip, 1.0);
    ck_assert_ptr_null(sc.training.data);
    ck_assert_double_eq(sc.training.max_sim_s, 0.0);
    ck_assert_int_eq(sc.training.optimizer.kind, SIM_OPT_NADAM);
    ck_assert_double_eq(sc.training.optimizer.lr, 2e-4);
    ck_assert_double_eq(sc.training.optimizer.beta2, 0.95);
    ck_assert_int_eq(sc.training.optimizer.beta1_rule, SIM_BETA1_CONSTANT);
    ck_assert_int_eq(sc.sync.partitions, 4); /* 2 x replicas */
    ck_assert_int_eq(sc.sync.owners, 2);
    ck_assert_int_eq(sc.sync.dtype, SIM_DTYPE_BF16);
    ck_assert_double_eq(sc.sync.compression_ratio, 1.0);
    ck_assert_double_eq(sc.sync.upload_timeout_s, 300.0);
    ck_assert(sc.sync.upload_momentum);
    ck_assert_int_eq(sc.sync.publish, SIM_PUBLISH_WEIGHTS); /* IOTA: owners publish weights */
    ck_assert_double_eq(sc.sync.outer.momentum, 0.9);
    ck_assert_double_eq(sc.sync.outer.momentum_start, 0.9); /* defaults to momentum */
    ck_assert_int_eq(sc.network.model, SIM_NET_FLUID);
    ck_assert_double_eq(sc.network.tcp_window_bytes, 0.0);
    ck_assert_int_eq(sc.swarm.gpus_per_peer, 1);
    ck_assert_double_eq(sc.swarm.peers[0].up_bytes_per_s, 100e6 / 8);
    ck_assert_double_eq(sc.swarm.peers[0].down_bytes_per_s, 200e6 / 8);
    ck_assert(!sc.faults.churn.enabled && !sc.faults.spot.enabled && !sc.faults.stragglers.enabled);
    ck_assert_int_eq(sc.compute.mode, SIM_COMPUTE_MODELED);
    ck_assert_int_eq(sc.compute.local_device, -1);
    ck_assert_ptr_null(sc.compute.kernel_profile);
    ck_assert(sc.metrics.colocated_baseline);
    ck_assert_double_eq(sc.metrics.sample_s, 60.0);
    ck_assert_ptr_null(sc.output.trace);
    ck_assert_int_eq(sc.output.events, SIM_EVENTS_ALL);
    ck_assert_int_eq(sc.output.flush, SIM_FLUSH_PHASE);
    ck_assert(!sc.reference.present);
    ck_assert_int_eq(sc.n_sets, 0);
    sim_scenario_free(&sc);
}
END_TEST

/* ---- --set ---- */

START_TEST(set_scalars) {
    const char *path = tu_mini("set_scalars.cfg", 0, NULL, NULL);
    const char *sets[] = {"training.H=7",
                          "training.tokens=1e6", /* drops cycles: alternatives */
                          "pipeline.recompute=false",
                          "name=renamed",
                          "description=\"quoted text\"",
                          "sync.dtype=int8",
                          "compression.ratio=8",
                          "model.rope_theta=10000", /* an int for a float key */
                          " metrics.mfu_window_h = 2.5 "};
    sim_scenario sc;
    tu_load_ok(path, sets, 9, &sc);
    ck_assert_int_eq(sc.training.H, 7);
    ck_assert_double_eq(sc.training.tokens, 1e6);
    ck_assert_int_eq(sc.training.cycles, 0);
    ck_assert(!sc.pipeline.recompute);
    ck_assert_str_eq(sc.name, "renamed");
    ck_assert_str_eq(sc.description, "quoted text");
    ck_assert_double_eq(sc.sync.pg_bytes_per_param, 1.0);
    ck_assert_int_eq(sc.compression.boundary.k, 8);
    ck_assert_double_eq(sc.model.rope_theta, 10000.0);
    ck_assert_double_eq(sc.metrics.mfu_window_s, 2.5 * 3600);
    ck_assert_int_eq(sc.n_sets, 9);
    ck_assert_str_eq(sc.sets[0], "training.H=7");
    ck_assert_str_eq(sc.sets[8], " metrics.mfu_window_h = 2.5 ");
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(set_lists_groups_and_paths) {
    const char *path = tu_mini("set_lists.cfg", 0, NULL, NULL);
    const char *prof = tu_write("set_lists.profile", "0 1.0\n");
    char prof_set[PATH_MAX + 64];
    snprintf(prof_set, sizeof prof_set, "compute.kernel_profile=%s", prof);
    const char *sets[] = {
        "pipeline.split=[1,3]",
        "swarm.device_per_replica=[A100-80GB, H100-SXM]", /* bare strings; drops swarm.device */
        "swarm.device_per_replica[1]=H200",
        "network.latency_ms=([5.0, 6.0], [7.0, 8.0])",
        "swarm.bandwidth={kind=\"lognormal\"; up_mbps=50.0; down_mbps=60.0; sigma=0.0;}",
        "faults.churn.enabled=true", /* creates faults and faults.churn */
        "faults.churn.mtbf_h=10",
        "faults.churn.mttr_h=0.5",
        prof_set,
        "swarm.region_mix=({region=\"a\"; fraction=0.5;}, {region=\"b\"; fraction=0.5;})",
        "swarm.region_mix[1].fraction=0.5",
    };
    sim_scenario sc;
    tu_load_ok(path, sets, 11, &sc);
    ck_assert_int_eq(sc.pipeline.split.blocks[0], 1);
    ck_assert_int_eq(sc.pipeline.split.blocks[1], 3);
    ck_assert(sc.pipeline.split_explicit);
    ck_assert_int_eq(sc.swarm.peers[0].device, find_peer_device(&sc, "A100-80GB"));
    ck_assert_int_eq(sc.swarm.peers[2].device, find_peer_device(&sc, "H200"));
    ck_assert_double_eq_tol(sc.network.latency_s[1], 6e-3, 1e-15);
    ck_assert_double_eq_tol(sc.network.latency_s[2], 7e-3, 1e-15);
    ck_assert_int_eq(sc.swarm.bandwidth.kind, SIM_BW_LOGNORMAL);
    ck_assert_double_eq(sc.swarm.peers[3].up_bytes_per_s, 50e6 / 8);
    ck_assert(sc.faults.churn.enabled);
    ck_assert_double_eq(sc.faults.churn.mtbf_s, 36000.0);
    ck_assert_double_eq(sc.faults.churn.mttr_s, 1800.0);
    ck_assert_str_eq(sc.compute.kernel_profile, prof); /* an override's path: as given */
    int in_a = 0;
    for (int p = 0; p < 4; p++) in_a += sc.swarm.peers[p].region == 0;
    ck_assert_int_eq(in_a, 2);
    sim_scenario_free(&sc);
}
END_TEST

/* output.events_cycles applies only under output.events = "first": a --set that changes
 * events drops it (so the override works on a file that says both), while a file that
 * gives events_cycles with another events value is an error naming the key. */
START_TEST(set_drops_dependent_keys) {
    const char *path = tu_mini("set_dependent.cfg", 0, NULL,
                               "output = { events = \"first\"; events_cycles = 3; };\n");
    sim_scenario sc;
    tu_load_ok(path, NULL, 0, &sc);
    ck_assert_int_eq(sc.output.events, SIM_EVENTS_FIRST);
    ck_assert_int_eq(sc.output.events_cycles, 3);
    sim_scenario_free(&sc);

    const char *all[] = {"output.events=all"};
    tu_load_ok(path, all, 1, &sc);
    ck_assert_int_eq(sc.output.events, SIM_EVENTS_ALL);
    ck_assert_int_eq(sc.output.events_cycles, 0);
    sim_scenario_free(&sc);

    const char *first[] = {"output.events=first", "output.events_cycles=5"};
    tu_load_ok(path, first, 2, &sc);
    ck_assert_int_eq(sc.output.events, SIM_EVENTS_FIRST);
    ck_assert_int_eq(sc.output.events_cycles, 5);
    sim_scenario_free(&sc);

    const char *bad = tu_mini("set_dependent_bad.cfg", 0, NULL,
                              "output = { events = \"none\"; events_cycles = 3; };\n");
    tu_expect_error(bad, NULL, 0, "output.events_cycles", "set_dependent_bad.cfg:13");
    /* and a --set that gives the dependent key alone, under another value, too */
    const char *cyc[] = {"output.events=none", "output.events_cycles=2"};
    tu_expect_error(path, cyc, 2, "output.events_cycles", NULL);
}
END_TEST

/* pipeline.forward_queue and cache_full_wait_s apply only with slot_at = "forward": the
 * engine's previous rule (slot_at = "route") can be asked for with --set, or by a variant
 * file, over a base that gives them; a file that gives them under "route" is refused. */
START_TEST(slot_at_route_drops_the_forward_queue) {
    sim_scenario sc;
    tu_load_ok("scenarios/orion-100b.cfg", NULL, 0, &sc);
    ck_assert_int_eq(sc.pipeline.forward_queue, 2);
    sim_scenario_free(&sc);
    const char *route[] = {"pipeline.slot_at=route"};
    tu_load_ok("scenarios/orion-100b.cfg", route, 1, &sc);
    ck_assert(!sc.pipeline.slot_at_forward);
    sim_scenario_free(&sc);
    const char *route_q[] = {"pipeline.slot_at=route", "pipeline.forward_queue=2"};
    tu_expect_error("scenarios/orion-100b.cfg", route_q, 2, "pipeline.forward_queue", NULL);
    /* a variant file */
    char orion[PATH_MAX];
    ck_assert_ptr_nonnull(realpath("scenarios/orion-100b.cfg", orion));
    char text[PATH_MAX + 128];
    /* (the device table defaults to beside the variant: name the checkout's) */
    snprintf(text, sizeof text,
             "base = \"%s\";\npipeline = { slot_at = \"route\"; };\n"
             "swarm = { device_table = \"%%DEV%%\"; };\n",
             orion);
    tu_load_ok(tu_write("fq_route.cfg", text), NULL, 0, &sc);
    ck_assert(!sc.pipeline.slot_at_forward);
    sim_scenario_free(&sc);
    snprintf(text, sizeof text,
             "base = \"%s\";\npipeline = { slot_at = \"route\"; forward_queue = 4; };\n"
             "swarm = { device_table = \"%%DEV%%\"; };\n",
             orion);
    tu_expect_error(tu_write("fq_route_bad.cfg", text), NULL, 0, "pipeline.forward_queue",
                    "fq_route_bad.cfg:2");
}
END_TEST

/* ---- the k = d_model / ratio rule ---- */

START_TEST(k_is_d_model_over_ratio) {
    const char *path = tu_mini("k_rule.cfg", 0, NULL, NULL);
    static struct {
        const char *set;
        int k;
    } ok[] = {{"compression.ratio=1", 64},
              {"compression.ratio=2", 32},
              {"compression.ratio=16", 4},
              {"compression.ratio=64", 1}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sim_scenario sc;
        tu_load_ok(path, &ok[i].set, 1, &sc);
        ck_assert_int_eq(sc.compression.boundary.k, ok[i].k);
        ck_assert_int_eq(sc.compression.ratio, 64 / ok[i].k);
        sim_scenario_free(&sc);
    }
    const char *bad3[] = {"compression.ratio=3"}, *bad128[] = {"compression.ratio=128"};
    tu_expect_error(path, bad3, 1, "--set compression.ratio=3: compression.ratio",
                    "does not divide model.d_model = 64");
    tu_expect_error(path, bad128, 1, "compression.ratio", "does not divide");
    /* Orion: 64 -> 144, 16 -> 576, 128 -> 72 */
    static struct {
        const char *set;
        int k;
    } orion[] = {{"compression.ratio=64", 144},
                 {"compression.ratio=16", 576},
                 {"compression.ratio=128", 72}};
    for (size_t i = 0; i < 3; i++) {
        sim_scenario sc;
        tu_load_ok("scenarios/orion-100b.cfg", &orion[i].set, 1, &sc);
        ck_assert_int_eq(sc.compression.boundary.k, orion[i].k);
        sim_scenario_free(&sc);
    }
    const char *linear[] = {"compression.method=linear", "compression.ratio=32"};
    sim_scenario sc;
    tu_load_ok(path, linear, 2, &sc);
    ck_assert_int_eq(sc.compression.boundary.method, KM_COMP_LINEAR);
    ck_assert_int_eq(sc.compression.boundary.k, 2);
    sim_scenario_free(&sc);
}
END_TEST

/* ---- includes ---- */

START_TEST(include_and_base_in_same_directory) {
    tu_write("inc_net.cfg",
             "network = { regions = [\"a\"]; latency_ms = ( [1.0] );\n"
             "  storage = { region = \"a\"; up_mbps = 1.0; down_mbps = 1.0; }; };\n");
    /* MINI with its network group (lines 7 and 8) pulled in from the included file */
    char text[4096] = "";
    for (int i = 1; i <= MINI_LINES; i++) {
        if (i == 7) strcat(text, "@include \"inc_net.cfg\"\n");
        else if (i == 8) strcat(text, "\n");
        else {
            strcat(text, MINI[i - 1]);
            strcat(text, "\n");
        }
    }
    const char *path = tu_write("include_main.cfg", text);
    sim_scenario sc;
    tu_load_ok(path, NULL, 0, &sc);
    ck_assert_int_eq(sc.network.n_regions, 1);
    ck_assert_int_eq(sc.n_sources, 2);
    ck_assert_ptr_nonnull(strstr(sc.sources[1].path, "inc_net.cfg"));
    ck_assert_ptr_nonnull(strstr(sc.sources[1].text, "regions"));
    sim_scenario_free(&sc);
    /* an error inside the included file names that file and its line */
    tu_write("inc_net.cfg",
             "network = { regions = [\"a\"]; latency_ms = ( [1.0] );\n"
             "  storage = { region = \"a\"; up_mbps = -1.0; down_mbps = 1.0; }; };\n");
    tu_expect_error(path, NULL, 0, "/inc_net.cfg:2: network.storage.up_mbps", "out of range");
}
END_TEST

/* ---- the device table ---- */

START_TEST(device_table) {
    sim_device_table t;
    char err[1024];
    ck_assert_int_eq(sim_devices_load("scenarios/devices.cfg", &t, err, sizeof err), 0);
    ck_assert_int_ge(t.n, 8);
    int a100 = sim_devices_find(&t, "A100-80GB"), h100 = sim_devices_find(&t, "H100-SXM");
    int b200 = sim_devices_find(&t, "B200"), rtx = sim_devices_find(&t, "RTX-4090");
    int l40s = sim_devices_find(&t, "L40S"), h200 = sim_devices_find(&t, "H200");
    ck_assert(a100 >= 0 && h100 >= 0 && b200 >= 0 && rtx >= 0 && l40s >= 0 && h200 >= 0);
    ck_assert_double_eq(t.dev[a100].bf16_flops, 312e12);
    ck_assert_double_eq(t.dev[h100].bf16_flops, 989e12); /* dense, not the sparse 1979 */
    ck_assert_double_eq(t.dev[h200].bf16_flops, 989e12);
    ck_assert_double_eq(t.dev[b200].bf16_flops, 2250e12);
    ck_assert_double_eq_tol(t.dev[rtx].bf16_flops, 165.2e12, 1);
    ck_assert_double_eq_tol(t.dev[l40s].bf16_flops, 362.05e12, 1);
    ck_assert_double_eq(t.dev[a100].memory_bytes, 80e9);
    ck_assert_double_eq(t.dev[a100].price_per_hour, 1.25);
    ck_assert(isnan(t.dev[h100].price_per_hour));
    ck_assert_ptr_null(t.dev[h100].price_source);
    for (int i = 0; i < t.n; i++) ck_assert(t.dev[i].source && t.dev[i].source[0]);
    ck_assert_int_eq(sim_devices_find(&t, "A100"), -1);
    ck_assert_str_eq(sim_devices_suggest(&t, "A100"), "A100-80GB");
    ck_assert_str_eq(sim_devices_suggest(&t, "H100-SMX"), "H100-SXM");
    ck_assert_ptr_null(sim_devices_suggest(&t, "TPU-v5"));
    sim_devices_free(&t);
}
END_TEST

/* ---- the schema itself ---- */

START_TEST(schema_is_consistent) {
    char err[512] = "";
    ck_assert_msg(sk_self_check(err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < sk_schema_len; i++) {
        ck_assert_msg(sk_schema[i].doc && strlen(sk_schema[i].doc) > 5, "%s: no doc",
                      sk_schema[i].path);
        for (int j = i + 1; j < sk_schema_len; j++)
            ck_assert_msg(strcmp(sk_schema[i].path, sk_schema[j].path), "%s twice",
                          sk_schema[i].path);
    }
    ck_assert_ptr_nonnull(sk_find("training.H"));
    ck_assert_ptr_nonnull(sk_find("swarm.device_mix[].fraction"));
    ck_assert_ptr_null(sk_find("training.h"));
    char norm[128];
    ck_assert_int_eq(sk_normalize("swarm.device_mix[12].fraction", norm, sizeof norm), 0);
    ck_assert_str_eq(norm, "swarm.device_mix[].fraction");
    ck_assert_str_eq(sk_suggest("training.Hx"), "training.H");
    ck_assert_str_eq(sk_suggest("training.cache_capacity"), "pipeline.cache_capacity");
    ck_assert_ptr_null(sk_suggest("zzzzzzzz.qqqqqqqq"));
    /* --keys prints every key */
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    sk_print(f);
    long size = ftell(f);
    ck_assert_int_gt(size, 1000);
    rewind(f);
    char *buf = xcalloc((size_t)size + 1, 1);
    ck_assert_int_eq((long)fread(buf, 1, (size_t)size, f), size);
    fclose(f);
    for (int i = 0; i < sk_schema_len; i++)
        ck_assert_msg(strstr(buf, sk_schema[i].path), "%s not printed", sk_schema[i].path);
    free(buf);
}
END_TEST

/* ---- the command ---- */

static int run_check(int argc, char **argv) {
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), errfd = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    int rc = cmd_check(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(errfd, 2);
    close(out);
    close(errfd);
    close(null);
    return rc;
}

START_TEST(check_command) {
    char *ok[] = {"check", "scenarios/orion-100b.cfg"};
    char *with_set[] = {"check", "scenarios/orion-100b.cfg", "--set", "training.H=100",
                        "--set=compression.ratio=16"};
    char *bad_set[] = {"check", "scenarios/orion-100b.cfg", "--set", "training.Hx=1"};
    char *keys[] = {"check", "--keys"};
    char *none[] = {"check"};
    char *two[] = {"check", "a.cfg", "b.cfg"};
    char *opt[] = {"check", "--frobnicate", "scenarios/orion-100b.cfg"};
    char *missing[] = {"check", "scenarios/no-such-file.cfg"};
    char *dangling[] = {"check", "scenarios/orion-100b.cfg", "--set"};
    char *help[] = {"check", "--help"};
    ck_assert_int_eq(run_check(2, ok), EXIT_OK);
    ck_assert_int_eq(run_check(5, with_set), EXIT_OK);
    ck_assert_int_eq(run_check(4, bad_set), EXIT_INPUT);
    ck_assert_int_eq(run_check(2, keys), EXIT_OK);
    ck_assert_int_eq(run_check(1, none), EXIT_INPUT);
    ck_assert_int_eq(run_check(3, two), EXIT_INPUT);
    ck_assert_int_eq(run_check(3, opt), EXIT_INPUT);
    ck_assert_int_eq(run_check(2, missing), EXIT_INPUT);
    ck_assert_int_eq(run_check(3, dangling), EXIT_INPUT);
    ck_assert_int_eq(run_check(2, help), EXIT_OK);
}
END_TEST

/* A threshold above H is clamped to H with a notice naming the key's file:line, so a
 * sweep over H needs no --set (issue 12, item 7). */
START_TEST(min_local_steps_above_h_is_clamped_with_a_notice) {
    const char *path = tu_mini("clamp.cfg", 5,
                               "training = { seq_len = 16; microbatch_seqs = 2; H = 3; accum = 2; "
                               "cycles = 1; min_local_steps = 5; };",
                               NULL);
    sim_scenario sc;
    char err[2048] = "";
    ck_assert_int_eq(sim_scenario_load(path, NULL, 0, &sc, err, sizeof err), 0);
    ck_assert_int_eq(sc.training.min_local_steps, 3);
    ck_assert_int_eq(sc.n_notices, 1);
    ck_assert_ptr_nonnull(strstr(sc.notices[0], "clamp.cfg:5: training.min_local_steps: 5 > "
                                                "training.H = 3, clamped to 3"));
    sim_scenario_free(&sc);
    /* at or below H: untouched, no notice */
    const char *sets[] = {"training.H=5"};
    ck_assert_int_eq(sim_scenario_load(path, sets, 1, &sc, err, sizeof err), 0);
    ck_assert_int_eq(sc.training.min_local_steps, 5);
    ck_assert_int_eq(sc.n_notices, 0);
    sim_scenario_free(&sc);
}
END_TEST

/* reference.uncertainty.<figure>: a fraction per published figure, NaN when absent; the
 * reference group's file:line is kept for messages. */
START_TEST(reference_uncertainty_is_read_per_figure) {
    const char *path = tu_mini("unc.cfg", 0, NULL,
                               "reference = { source = \"s\"; url = \"u\"; utilisation = 0.8; "
                               "mfu = 0.3;\n  uncertainty = { mfu = 0.17; }; };\n");
    sim_scenario sc;
    char err[2048] = "";
    ck_assert_msg(sim_scenario_load(path, NULL, 0, &sc, err, sizeof err) == 0, "%s", err);
    int i = sim_reference_find("mfu"), u = sim_reference_find("utilisation");
    ck_assert_int_ge(i, 0);
    ck_assert_double_eq(sim_reference_value(&sc.reference, (size_t)i), 0.3);
    ck_assert_double_eq(sc.reference.uncertainty[i], 0.17);
    ck_assert(isnan(sc.reference.uncertainty[u]));
    ck_assert_ptr_nonnull(strstr(sc.reference.where, "unc.cfg:13"));
    ck_assert_int_eq(sim_reference_find("no_such_figure"), -1);
    sim_scenario_free(&sc);
    /* an uncertainty without its figure is refused */
    path = tu_mini("unc2.cfg", 0, NULL,
                   "reference = { source = \"s\"; url = \"u\"; mfu = 0.3;\n"
                   "  uncertainty = { utilisation = 0.1; }; };\n");
    tu_expect_error(path, NULL, 0, ":14: reference.uncertainty.utilisation",
                    "figure that is not given");
}
END_TEST

static Suite *scenario_suite(void) {
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("good input");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_shipped_scenario_loads);
    tcase_add_test(tc, orion_resolves_as_published);
    tcase_add_test(tc, orion_link_spread_sigma_zero_is_the_median);
    tcase_add_test(tc, loading_is_deterministic_and_follows_the_seed);
    tcase_add_test(tc, variants_inherit_their_base);
    tcase_add_test(tc, comparison_runs);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, set_scalars);
    tcase_add_test(tc, set_lists_groups_and_paths);
    tcase_add_test(tc, set_drops_dependent_keys);
    tcase_add_test(tc, slot_at_route_drops_the_forward_queue);
    tcase_add_test(tc, k_is_d_model_over_ratio);
    tcase_add_test(tc, include_and_base_in_same_directory);
    tcase_add_test(tc, device_table);
    tcase_add_test(tc, schema_is_consistent);
    tcase_add_test(tc, check_command);
    tcase_add_test(tc, min_local_steps_above_h_is_clamped_with_a_notice);
    tcase_add_test(tc, reference_uncertainty_is_read_per_figure);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = scenario_suite, .setup = tu_setup, .teardown = tu_cleanup_dirs)
