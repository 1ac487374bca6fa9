/* tests/sim/fit/test_fit.c: `orionsim fit`: free-key parsing, the Latin hypercube, recovery
 * of known values from a reference the simulator itself produced on tiny.cfg (with a
 * held-out figure predicted), resume, and bad input (exit 2 naming key and file:line). */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/fit/fit.h"
#include "sim/fit/fit_file.h"
#include "sim/run/run.h"
#include "sim/scenario/scenario.h"
#include "sim/fit/fit_compare.h"
#include "sim/trace/trace_read.h"
#include "tests/check_main.h"

static char g_dir[PATH_MAX];

static int setup(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/orionsim-fit-XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    return access("scenarios/tiny.cfg", R_OK) ? 1 : 0;
}

static void teardown(void) {
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) fprintf(stderr, "cannot remove %s\n", g_dir);
}

START_TEST(free_keys_parse_and_refuse) {
    fit_free f;
    char err[512];
    ck_assert_int_eq(fit_free_parse("swarm.bandwidth.up_mbps=100:1000:log", &f, err, sizeof err),
                     0);
    ck_assert_str_eq(f.key, "swarm.bandwidth.up_mbps");
    ck_assert_double_eq(f.lo, 100);
    ck_assert_double_eq(f.hi, 1000);
    ck_assert(f.log && !f.integer);
    char t[32];
    ck_assert_double_eq_tol(fit_free_value(&f, 0.5, t, sizeof t), 316.228, 1e-3);
    ck_assert_str_eq(t, "316.228");
    fit_free_clear(&f);
    ck_assert_int_eq(fit_free_parse("pipeline.cache_capacity=16:128", &f, err, sizeof err), 0);
    ck_assert(f.integer);
    ck_assert_double_eq(fit_free_value(&f, 0.5, t, sizeof t), 72);
    ck_assert_str_eq(t, "72");
    fit_free_clear(&f);
    ck_assert_int_eq(fit_free_parse("pipeline.keep_cache_on_local_step=0:1", &f, err, sizeof err),
                     0);
    ck_assert(f.boolean);
    ck_assert_double_eq(fit_free_value(&f, 0.7, t, sizeof t), 1);
    ck_assert_str_eq(t, "true");
    ck_assert_double_eq(fit_free_value(&f, 0.2, t, sizeof t), 0);
    ck_assert_str_eq(t, "false");
    fit_free_clear(&f);
    ck_assert_int_eq(
        fit_free_parse("compute.efficiency.forward,compute.efficiency.backward=0.3:0.9", &f, err,
                       sizeof err),
        0);
    ck_assert_uint_eq(f.n_keys, 2);
    ck_assert_str_eq(f.keys[1], "compute.efficiency.backward");
    fit_free_clear(&f);
    static const struct {
        const char *arg, *needle;
    } bad[] = {
        {"training.Hx=1:2", "unknown scenario key 'training.Hx' (did you mean training.H?)"},
        {"training.H=10:1", "training.H: the range is inverted"},
        {"training.H=5:5", "training.H: the range is empty"},
        {"training.H=0:5:log", "a log range needs LO > 0"},
        {"training.H=1:x", "expected LO:HI or LO:HI:log"},
        {"name=1:2", "name is not a number or boolean key"},
        {"pipeline.auto_max_cache=0:2", "is a boolean key: its range is 0:1"},
        {"training.H,compute.efficiency.forward=1:2", "must all be integers or all floats"},
        {"training.H", "expected KEY=LO:HI"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(fit_free_parse(bad[i].arg, &f, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].needle), "'%s' lacks '%s'", err, bad[i].needle);
    }
}
END_TEST

START_TEST(latin_hypercube_fills_every_cell_once) {
    enum { N = 12, D = 3 };
    double x[N * D], y[N * D];
    fit_design_lhs(N, D, 7, x);
    fit_design_lhs(N, D, 7, y);
    ck_assert_int_eq(memcmp(x, y, sizeof x), 0); /* deterministic for a seed */
    for (int k = 0; k < D; k++) {
        int seen[N] = {0};
        for (int i = 0; i < N; i++) {
            double v = x[i * D + k];
            ck_assert(v >= 0 && v < 1);
            seen[(int)(v * N)]++;
        }
        for (int c = 0; c < N; c++) ck_assert_int_eq(seen[c], 1);
    }
    fit_design_lhs(N, D, 8, y);
    ck_assert_int_ne(memcmp(x, y, sizeof x), 0);
}
END_TEST

/* tiny.cfg's like-for-like figures at swarm.bandwidth.up_mbps = 300, as a reference. */
static const char *synthetic_reference(void) {
    const char *sets[] = {"swarm.bandwidth.up_mbps=300", "output.events=none"};
    sim_scenario sc;
    char err[2048];
    ck_assert_msg(sim_scenario_load("scenarios/tiny.cfg", sets, 2, &sc, err, sizeof err) == 0, "%s",
                  err);
    static char tpath[PATH_MAX + 32], cfg[PATH_MAX + 32];
    snprintf(tpath, sizeof tpath, "%s/ref.h5", g_dir);
    sim_run_opts ro = {.scenario_path = "scenarios/tiny.cfg", .trace_path = tpath, .colocated = 1};
    sim_summary sum;
    ck_assert_int_eq(sim_run_scenario(&sc, &ro, &sum, err, sizeof err), 0);
    sim_scenario_free(&sc);
    trace_file *tf;
    fit_compare_sim cs;
    ck_assert_int_eq(trace_read_open(tpath, &tf, err, sizeof err), 0);
    ck_assert_int_eq(fit_compare_read(tf, &cs, err, sizeof err), 0);
    trace_read_close(tf);
    char here[PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(here, sizeof here));
    snprintf(cfg, sizeof cfg, "%s/tinyref.cfg", g_dir);
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "base = \"%s/scenarios/tiny.cfg\";\n"
            "swarm = { device_table = \"%s/scenarios/devices.cfg\"; };\n"
            "reference = {\n  source = \"synthetic\"; url = \"none\";\n"
            "  throughput_tok_s = %.17g;\n  training_phase_min = %.17g;\n"
            "  sync_phase_min = %.17g;\n  utilisation = %.17g;\n"
            "  uncertainty = { throughput_tok_s = 0.02; training_phase_min = 0.02; "
            "sync_phase_min = 0.02; utilisation = 0.02; };\n};\n",
            here, here, fit_compare_find("throughput_tok_s")->simulated(&cs),
            fit_compare_find("training_phase_min")->simulated(&cs),
            fit_compare_find("sync_phase_min")->simulated(&cs),
            fit_compare_find("utilisation")->simulated(&cs));
    ck_assert_int_eq(fclose(f), 0);
    return cfg;
}

START_TEST(fit_recovers_a_known_value_and_predicts_a_held_out_figure) {
    const char *cfg = synthetic_reference();
    char out[PATH_MAX + 32];
    snprintf(out, sizeof out, "%s/fit.h5", g_dir);
    const char *frees[] = {"swarm.bandwidth.up_mbps=100:1000:log"};
    const char *holds[] = {"utilisation"};
    fit_opts o = {.scenario = cfg,
                  .free_args = frees,
                  .n_free = 1,
                  .hold_out = holds,
                  .n_hold = 1,
                  .output = out,
                  .jobs = 2,
                  .seed = 1};
    fit_stats st;
    char err[4096] = "";
    ck_assert_msg(fit_run(&o, &st, err, sizeof err) == EXIT_OK, "%s", err);
    ck_assert_uint_gt(st.ran, 10);
    ck_assert_uint_gt(st.consistent, 0);
    fit_data d;
    ck_assert_int_eq(fit_file_read(out, &d, err, sizeof err), 0);
    ck_assert_int_eq(d.meta.complete, 1);
    ck_assert_int_ge(d.meta.best_row, 0);
    double best = d.pts[d.meta.best_row].values[0];
    ck_assert_msg(fabs(best - 300) < 0.03 * 300, "best up_mbps %g, truth 300", best);
    /* the consistent region holds the truth */
    ck_assert_uint_eq(d.n_free, 1);
    ck_assert(d.free[0].consistent_min <= 300 && d.free[0].consistent_max >= 300);
    int held = 0, fitted = 0;
    for (size_t i = 0; i < d.n_figs; i++) {
        if (!strcmp(d.figs[i].role, "held-out")) {
            held++;
            ck_assert_str_eq(d.figs[i].figure, "utilisation");
            ck_assert(!isnan(d.figs[i].best));
            ck_assert_msg(fabs(d.figs[i].z) < 1, "held-out z %g", d.figs[i].z);
        } else if (!strcmp(d.figs[i].role, "fitted")) {
            fitted++;
            ck_assert_msg(fabs(d.figs[i].z) <= 1, "%s z %g", d.figs[i].figure, d.figs[i].z);
        }
    }
    ck_assert_int_eq(held, 1);
    ck_assert_int_eq(fitted, 3);
    size_t n0 = d.n_pts;
    double chi = d.pts[d.meta.best_row].chi2;
    fit_data_free(&d);
    /* the same command again: everything is taken from the file, nothing runs */
    o.jobs = 1;
    ck_assert_int_eq(fit_run(&o, &st, err, sizeof err), EXIT_OK);
    ck_assert_uint_eq(st.ran, 0);
    ck_assert_uint_eq(st.evaluated, n0);
    ck_assert_double_eq(st.best_chi2, chi);
}
END_TEST

/* Two basins in the unit square: a wide, shallow one at (0.25, 0.25) (minimum 1) and a
 * narrow, deep one at (0.8, 0.7) (minimum 0). Counts evaluations. */
static size_t g_evals;
static double two_basins(const double *p) {
    double a = (p[0] - 0.25) * (p[0] - 0.25) + (p[1] - 0.25) * (p[1] - 0.25);
    double b = (p[0] - 0.8) * (p[0] - 0.8) + (p[1] - 0.7) * (p[1] - 0.7);
    return fmin(1 + 4 * a, 40 * b + (b > 0.02 ? 1.5 : 0));
}
static int eval_two_basins(void *ctx, const char *stage, int iter, const double *x, size_t n,
                           double *chi2, char *err, size_t errlen) {
    (void)ctx, (void)iter, (void)err, (void)errlen;
    ck_assert(!strcmp(stage, "design") || !strcmp(stage, "refine"));
    for (size_t i = 0; i < n; i++) chi2[i] = two_basins(x + 2 * i);
    g_evals += n;
    return 0;
}

START_TEST(search_starts_find_the_other_basin) {
    /* a coarse design (6 points): its best point lies in the wide basin, so one start
     * converges there (chi2 -> 1); a second, separated start reaches the deep one (-> 0) */
    fit_opts o = {.design = 6, .seed = 3, .starts = 1};
    fit_stats one, three;
    char err[256];
    g_evals = 0;
    ck_assert_int_eq(fit_search(&o, 2, eval_two_basins, NULL, &one, err, sizeof err), 0);
    size_t evals_one = g_evals;
    ck_assert_uint_eq(one.starts, 1);
    ck_assert_uint_le(evals_one, 6 + 20 * 2); /* the default budget */
    ck_assert_msg(fabs(one.best_chi2 - 1) < 1e-3, "one start: chi2 %g", one.best_chi2);
    o.starts = 3;
    g_evals = 0;
    ck_assert_int_eq(fit_search(&o, 2, eval_two_basins, NULL, &three, err, sizeof err), 0);
    ck_assert_uint_ge(three.starts, 2);
    ck_assert_uint_le(g_evals, 6 + 20 * 2 * 3);
    ck_assert_msg(three.best_chi2 < 1e-3, "three starts: chi2 %g", three.best_chi2);
    /* deterministic */
    fit_stats again;
    ck_assert_int_eq(fit_search(&o, 2, eval_two_basins, NULL, &again, err, sizeof err), 0);
    ck_assert_double_eq(again.best_chi2, three.best_chi2);
}
END_TEST

START_TEST(fit_bad_input_exits_2_naming_the_key) {
    const char *cfg = synthetic_reference();
    char out[PATH_MAX + 32], err[4096];
    snprintf(out, sizeof out, "%s/bad.h5", g_dir);
    const char *frees[] = {"swarm.bandwidth.up_mbps=100:1000"};
    fit_stats st;
    /* no reference group */
    fit_opts o = {.scenario = "scenarios/tiny.cfg",
                  .free_args = frees,
                  .n_free = 1,
                  .output = out,
                  .jobs = 1};
    ck_assert_int_eq(fit_run(&o, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "scenarios/tiny.cfg: no reference group"));
    /* a hold-out that is not in it: the reference group's file:line */
    const char *holds[] = {"mfu"};
    o.scenario = cfg;
    o.hold_out = holds;
    o.n_hold = 1;
    ck_assert_int_eq(fit_run(&o, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_msg(strstr(err, "tinyref.cfg:3: --hold-out mfu: not a figure"), "%s", err);
    /* an unknown key, an inverted range */
    o.n_hold = 0;
    const char *bad1[] = {"swarm.bandwith.up_mbps=1:2"};
    o.free_args = bad1;
    ck_assert_int_eq(fit_run(&o, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "unknown scenario key 'swarm.bandwith.up_mbps'"));
    const char *bad2[] = {"swarm.bandwidth.up_mbps=1000:100"};
    o.free_args = bad2;
    ck_assert_int_eq(fit_run(&o, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "swarm.bandwidth.up_mbps: the range is inverted"));
    /* a range whose end the schema refuses */
    const char *bad3[] = {"compute.efficiency.forward=0.5:1.5"};
    o.free_args = bad3;
    ck_assert_int_eq(fit_run(&o, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_msg(strstr(err, "upper end of the range does not load") &&
                      strstr(err, "compute.efficiency.forward"),
                  "%s", err);
    /* more starts than design points, a design too large */
    o.free_args = frees;
    o.starts = 9;
    o.design = 8;
    ck_assert_int_eq(fit_run(&o, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_msg(strstr(err, "--starts 9: at most the 8 design points"), "%s", err);
    o.starts = 0;
    o.design = 200000;
    ck_assert_int_eq(fit_run(&o, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_msg(strstr(err, "--design 200000: at most 100000"), "%s", err);
    ck_assert_int_ne(access(out, F_OK), 0); /* nothing written */
}
END_TEST

static Suite *fit_suite(void) {
    Suite *s = suite_create("fit");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, free_keys_parse_and_refuse);
    tcase_add_test(tc, latin_hypercube_fills_every_cell_once);
    tcase_add_test(tc, fit_recovers_a_known_value_and_predicts_a_held_out_figure);
    tcase_add_test(tc, fit_bad_input_exits_2_naming_the_key);
    tcase_add_test(tc, search_starts_find_the_other_basin);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = fit_suite, .setup = setup, .teardown = teardown)
