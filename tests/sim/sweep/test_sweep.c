/* tests/sim/sweep/test_sweep.c: sim/sweep_spec (--vary parsing, grid), sim/sweep_file, sim/sweep
 * (worker processes, resume, failures) and `orionsim sweep`'s argument checks.
 *
 * Runs use a tiny scenario the test writes (2 stages x 2 replicas of a 4-block model,
 * one cycle: milliseconds per point). Re-runs are detected with the sweep's own
 * counters (points kept from the file vs points run), not with timing.
 */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cli/commands.h"
#include "sim/metrics/summary.h"
#include "sim/sweep/sweep.h"
#include "sim/sweep/sweep_file.h"
#include "sim/sweep/sweep_spec.h"
#include "sim/trace/trace_read.h"
#include "sim/base/util.h"
#include "tests/check_main.h"

static char tmpdir[64];
static char *scen; /* the tiny scenario */

static char *tmp_path(const char *name) {
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", tmpdir, name);
    return p;
}

static void write_scenario(const char *path) {
    char cwd[1024];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(
        f,
        "name = \"sweeptest\";\n"
        "seed = 7;\n"
        "model = { d_model = 128; n_blocks = 4; n_heads = 4; n_kv_heads = 2; ffn = 384; vocab = "
        "256; };\n"
        "pipeline = { stages = 2; split = [2, 2]; cache_capacity = 4; };\n"
        "compression = { method = \"resbm\"; ratio = 8; };\n"
        "training = { seq_len = 64; microbatch_seqs = 4; H = 4; accum = 2; cycles = 1;\n"
        "             activation_timeout_s = 10.0; min_local_steps = 1; };\n"
        "sync = { algorithm = \"iota-butterfly\"; partitions = 4; owners = 2; };\n"
        "network = { regions = [\"local\"]; latency_ms = ( [ 0.5 ] );\n"
        "            storage = { region = \"local\"; up_mbps = 10000.0; down_mbps = 10000.0; }; "
        "};\n"
        "swarm = { replicas = 2; device = \"A100-80GB\"; region = \"local\";\n"
        "          device_table = \"%s/scenarios/devices.cfg\";\n"
        "          bandwidth = { kind = \"fixed\"; up_mbps = 1000.0; down_mbps = 1000.0; }; };\n"
        "compute = { mode = \"modeled\"; efficiency = { forward = 0.5; backward = 0.5; recompute = "
        "0.5;\n"
        "            optimizer = 0.8; merge = 0.8; }; };\n"
        "metrics = { mfu_window_h = 0.01; sample_s = 1.0; };\n",
        cwd);
    ck_assert_int_eq(fclose(f), 0);
}

static void setup_dir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/orionsim-sweep-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    scen = tmp_path("tiny.cfg");
    write_scenario(scen);
}

static void teardown_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
    free(scen);
}

/* ---- --vary parsing ------------------------------------------------------------------ */

static void expect_values(const char *arg, const char *const *want, size_t n, int numeric) {
    sweep_axis a;
    char err[512];
    int rc = sweep_axis_parse(arg, &a, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", arg, err);
    ck_assert_uint_eq(a.n, n);
    ck_assert_int_eq(a.numeric, numeric);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(a.values[i].text, want[i]);
    sweep_axis_free(&a);
}

START_TEST(test_vary_lists_and_ranges) {
    const char *h[] = {"1", "10", "100"};
    expect_values("training.H=1,10,100", h, 3, 1);
    const char *r[] = {"1", "2", "3", "4", "5"};
    expect_values("training.H=1:5", r, 5, 1);
    const char *r3[] = {"1", "4", "7", "10"};
    expect_values("training.H=1:10:3", r3, 4, 1);
    const char *f[] = {"0.1", "0.4", "0.7", "1"};
    expect_values("metrics.sample_s=0.1:1.0:0.3", f, 4, 1);
    const char *f2[] = {"0.5", "0.75"};
    expect_values("metrics.sample_s=0.5:0.9:0.25", f2, 2, 1);
    const char *m[] = {"none", "resbm"};
    expect_values("compression.method=none,resbm", m, 2, 0);
    const char *sp[] = {"[1,3]", "[2,2]"};
    expect_values("pipeline.split=[1,3],[2,2]", sp, 2, 0);
    const char *one[] = {"42"};
    expect_values("seed=42", one, 1, 1);
    const char *b[] = {"true", "false"};
    expect_values("pipeline.recompute=true,false", b, 2, 0);
    const char *e[] = {"4"};
    expect_values("pipeline.split[1]=4", e, 1, 1);

    sweep_axis a;
    char err[512];
    ck_assert_int_eq(sweep_axis_parse("compression.ratio=1,8", &a, err, sizeof err), 0);
    ck_assert_str_eq(a.key, "compression.ratio");
    ck_assert_str_eq(a.spec, "compression.ratio=1,8");
    ck_assert(a.values[1].numeric && a.values[1].num == 8.0);
    sweep_axis_free(&a);
}
END_TEST

static void expect_error(const char *arg, const char *needle) {
    sweep_axis a;
    char err[512] = "";
    int rc = sweep_axis_parse(arg, &a, err, sizeof err);
    ck_assert_msg(rc == -1, "%s: accepted", arg);
    ck_assert_msg(strstr(err, "--vary") && strstr(err, needle), "%s: message '%s' lacks '%s'", arg,
                  err, needle);
}

START_TEST(test_vary_errors) {
    expect_error("training.H", "KEY=VALUES");
    expect_error("=1,2", "key is empty");
    expect_error("training.H=", "empty");
    expect_error("training.H=1,,2", "empty");
    expect_error("training.H=1,2,", "empty");
    expect_error("nosuch.key=1", "unknown scenario key");
    expect_error("training.HH=1", "did you mean");
    expect_error("training.H=1.5", "not an integer");
    expect_error("training.H=ten", "not an integer");
    expect_error("metrics.sample_s=fast", "not a number");
    expect_error("training.H=5:1", "above its stop");
    expect_error("metrics.sample_s=0:1:0", "must be positive");
    expect_error("metrics.sample_s=0:1:-0.5", "must be positive");
    expect_error("training.H=1:x", "not a number");
    expect_error("training.H=1:2:3:4", "START:STOP");
    expect_error("training.H=1:1000000000", "too many");
    expect_error("training.H=1,1", "twice");
    expect_error("metrics.sample_s=1,1.0", "twice");
    expect_error("compression.method=zip", "not one of");
    expect_error("pipeline.recompute=maybe", "true or false");
    expect_error("pipeline.split=[1,2", "unbalanced");
    expect_error("training H=1", "not a scenario key");
}
END_TEST

START_TEST(test_grid_size_and_order) {
    sweep_axis ax[3];
    char err[512];
    ck_assert_int_eq(sweep_axis_parse("training.H=1,2", &ax[0], err, sizeof err), 0);
    ck_assert_int_eq(sweep_axis_parse("compression.ratio=1,8,16", &ax[1], err, sizeof err), 0);
    size_t n;
    ck_assert_int_eq(sweep_grid_size(ax, 2, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 6);
    /* first --vary slowest */
    static const size_t want[6][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}};
    for (size_t i = 0; i < 6; i++) {
        size_t v[2];
        sweep_grid_point(ax, 2, i, v);
        ck_assert_uint_eq(v[0], want[i][0]);
        ck_assert_uint_eq(v[1], want[i][1]);
    }
    ck_assert_int_eq(sweep_axes_check(ax, 2, NULL, 0, err, sizeof err), 0);
    const char *sets[] = {"seed=3", "training.H=5"};
    ck_assert_int_eq(sweep_axes_check(ax, 2, sets, 2, err, sizeof err), -1);
    ck_assert(strstr(err, "also fixed by --set training.H=5") != NULL);
    ck_assert_int_eq(sweep_axis_parse("training.H=3,4", &ax[2], err, sizeof err), 0);
    ck_assert_int_eq(sweep_axes_check(ax, 3, NULL, 0, err, sizeof err), -1);
    ck_assert(strstr(err, "already varied") != NULL);
    sweep_axis_free(&ax[2]);
    /* too many points */
    ck_assert_int_eq(sweep_axis_parse("seed=1:1000", &ax[2], err, sizeof err), 0);
    sweep_axis big[3] = {ax[2], ax[2], ax[2]};
    ck_assert_int_eq(sweep_grid_size(big, 3, &n, err, sizeof err), -1);
    ck_assert(strstr(err, "more than") != NULL);
    for (int i = 0; i < 3; i++) sweep_axis_free(&ax[i]);
}
END_TEST

/* ---- sweeps ------------------------------------------------------------------------ */

static int run_sweep(const char *out, const char *const *vary, size_t nv, const char *const *sets,
                     size_t ns, int jobs, int force, sweep_stats *st, char *err, size_t errlen) {
    sweep_opts o;
    memset(&o, 0, sizeof o);
    o.scenario = scen;
    o.vary = vary;
    o.n_vary = nv;
    o.sets = sets;
    o.n_sets = ns;
    o.output = out;
    o.jobs = jobs;
    o.force = force;
    return sweep_run(&o, st, err, errlen);
}

static void read_sweep(const char *path, sweep_meta *m, sweep_point **p, size_t *n) {
    char err[512];
    int rc = sweep_file_read(path, m, p, n, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", path, err);
}

START_TEST(test_resume_and_extend) {
    char *out = tmp_path("resume.h5");
    const char *vary[] = {"training.H=2,4", "compression.ratio=4,8"};
    sweep_stats st;
    char err[1024];
    ck_assert_msg(run_sweep(out, vary, 2, NULL, 0, 2, 0, &st, err, sizeof err) == EXIT_OK, "%s",
                  err);
    ck_assert_uint_eq(st.points, 4);
    ck_assert_uint_eq(st.ran, 4);
    ck_assert_uint_eq(st.kept, 0);
    ck_assert_uint_eq(st.failed, 0);

    /* the same command again: nothing runs */
    ck_assert_int_eq(run_sweep(out, vary, 2, NULL, 0, 2, 0, &st, err, sizeof err), EXIT_OK);
    ck_assert_uint_eq(st.ran, 0);
    ck_assert_uint_eq(st.kept, 4);

    /* one more H value: only its two points run */
    const char *more[] = {"training.H=2,4,6", "compression.ratio=4,8"};
    ck_assert_int_eq(run_sweep(out, more, 2, NULL, 0, 2, 0, &st, err, sizeof err), EXIT_OK);
    ck_assert_uint_eq(st.points, 6);
    ck_assert_uint_eq(st.ran, 2);
    ck_assert_uint_eq(st.kept, 4);

    sweep_meta m;
    sweep_point *p;
    size_t n;
    read_sweep(out, &m, &p, &n);
    ck_assert_uint_eq(n, 6);
    ck_assert_uint_eq(m.n_keys, 2);
    ck_assert_str_eq(m.keys[0], "training.H");
    ck_assert_str_eq(m.vary[0], "training.H=2,4,6");
    ck_assert_str_eq(m.scenario_name, "sweeptest");
    ck_assert(strstr(m.scenario_text, "name = \"sweeptest\"") != NULL);
    static const double H[6] = {2, 2, 4, 4, 6, 6}, R[6] = {4, 8, 4, 8, 4, 8};
    for (size_t i = 0; i < n; i++) {
        ck_assert(p[i].params[0].numeric && p[i].params[0].num == H[i]);
        ck_assert(p[i].params[1].numeric && p[i].params[1].num == R[i]);
        ck_assert_str_eq(p[i].status, "ok");
        ck_assert_str_eq(p[i].error, "");
        ck_assert_int_eq(p[i].sum.complete, 1);
        ck_assert_int_eq(p[i].sum.cycles, 1);
        ck_assert(p[i].sum.tokens_trained > 0);
        ck_assert(p[i].sum.utilisation > 0 && p[i].sum.utilisation < 1);
        ck_assert_double_eq(p[i].sum.compression_ratio, R[i]);
    }
    /* more inner steps: more tokens in the one cycle */
    ck_assert(p[4].sum.tokens_trained > p[2].sum.tokens_trained);
    ck_assert(p[2].sum.tokens_trained > p[0].sum.tokens_trained);
    sweep_points_free(p, n, m.n_keys);
    sweep_meta_free(&m);

    /* a value dropped from the grid: its rows stay, after the grid */
    const char *fewer[] = {"training.H=4", "compression.ratio=4,8"};
    ck_assert_int_eq(run_sweep(out, fewer, 2, NULL, 0, 1, 0, &st, err, sizeof err), EXIT_OK);
    ck_assert_uint_eq(st.ran, 0);
    ck_assert_uint_eq(st.kept, 2);
    read_sweep(out, &m, &p, &n);
    ck_assert_uint_eq(n, 6);
    ck_assert(p[0].params[0].num == 4 && p[1].params[0].num == 4);
    sweep_points_free(p, n, m.n_keys);
    sweep_meta_free(&m);

    /* another sweep into the same file: refused unless --force */
    const char *other[] = {"seed=1,2"};
    ck_assert_int_eq(run_sweep(out, other, 1, NULL, 0, 1, 0, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_msg(strstr(err, "--vary keys") && strstr(err, "--force"), "%s", err);
    const char *sets[] = {"training.accum=3"};
    ck_assert_int_eq(run_sweep(out, vary, 2, sets, 1, 1, 0, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_msg(strstr(err, "--set") && strstr(err, "--force"), "%s", err);
    ck_assert_int_eq(run_sweep(out, other, 1, NULL, 0, 2, 1, &st, err, sizeof err), EXIT_OK);
    ck_assert_uint_eq(st.ran, 2);
    ck_assert_uint_eq(st.kept, 0);
    read_sweep(out, &m, &p, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(m.keys[0], "seed");
    sweep_points_free(p, n, m.n_keys);
    sweep_meta_free(&m);
    free(out);
}
END_TEST

START_TEST(test_failed_point) {
    char *out = tmp_path("fail.h5");
    const char *vary[] = {"training.H=0,2,3"}; /* H = 0 is out of range */
    sweep_stats st;
    char err[1024];
    ck_assert_int_eq(run_sweep(out, vary, 1, NULL, 0, 2, 0, &st, err, sizeof err), EXIT_RUN);
    ck_assert_msg(strstr(err, "1 of 3 points failed"), "%s", err);
    ck_assert_uint_eq(st.ran, 3);
    ck_assert_uint_eq(st.failed, 1);
    sweep_meta m;
    sweep_point *p;
    size_t n;
    read_sweep(out, &m, &p, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(p[0].status, "failed");
    ck_assert_msg(strstr(p[0].error, "training.H"), "error: %s", p[0].error);
    ck_assert(isnan(p[0].sum.utilisation) && isnan(p[0].sum.tokens_per_s));
    ck_assert_str_eq(p[1].status, "ok");
    ck_assert_str_eq(p[2].status, "ok");
    ck_assert(p[1].sum.tokens_trained > 0);
    sweep_points_free(p, n, m.n_keys);
    sweep_meta_free(&m);
    /* resuming runs the failed point again, and only it */
    ck_assert_int_eq(run_sweep(out, vary, 1, NULL, 0, 2, 0, &st, err, sizeof err), EXIT_RUN);
    ck_assert_uint_eq(st.ran, 1);
    ck_assert_uint_eq(st.kept, 2);
    free(out);
}
END_TEST

/* A point that reaches training.max_sim_hours first is "stopped", not failed: its figures
 * (the part that ran) are kept, the sweep exits 0, and resuming keeps it. */
START_TEST(test_stopped_point) {
    char *out = tmp_path("stopped.h5");
    const char *vary[] = {"training.max_sim_hours=0.000001,100"}; /* 3.6 ms of simulated time */
    sweep_stats st;
    char err[1024];
    ck_assert_msg(run_sweep(out, vary, 1, NULL, 0, 2, 0, &st, err, sizeof err) == EXIT_OK, "%s",
                  err);
    ck_assert_uint_eq(st.ran, 2);
    ck_assert_uint_eq(st.failed, 0);
    ck_assert_uint_eq(st.stopped, 1);
    sweep_meta m;
    sweep_point *p;
    size_t n;
    read_sweep(out, &m, &p, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(p[0].status, "stopped");
    ck_assert_msg(strstr(p[0].error, "max_sim"), "error: %s", p[0].error);
    ck_assert_int_eq(p[0].sum.complete, 0);
    ck_assert_int_eq(p[0].sum.cycles, 0);
    ck_assert_double_eq_tol(p[0].sum.sim_time_s, 0.0036, 1e-9);
    ck_assert(isfinite(p[0].sum.utilisation));
    ck_assert_str_eq(p[1].status, "ok");
    ck_assert_str_eq(p[1].error, "");
    ck_assert_int_eq(p[1].sum.complete, 1);
    ck_assert(p[1].sum.sim_time_s > p[0].sum.sim_time_s);
    sweep_points_free(p, n, m.n_keys);
    sweep_meta_free(&m);
    ck_assert_int_eq(run_sweep(out, vary, 1, NULL, 0, 2, 0, &st, err, sizeof err), EXIT_OK);
    ck_assert_uint_eq(st.ran, 0);
    ck_assert_uint_eq(st.kept, 2);
    free(out);
}
END_TEST

/* sweep_loss_gaps: each point's gap to the point with method "none" (ratio 1) and the same
 * other values; NaN without a baseline or a loss; no change when nothing compressive is
 * swept. Synthetic rows: the rule, not a run. */
static void set_param(sweep_value *v, const char *text) {
    v->text = xstrdup(text);
    char *end;
    double x = strtod(text, &end);
    v->numeric = *text && !*end;
    v->num = v->numeric ? x : NAN;
}

START_TEST(test_loss_gaps) {
    /* keys: training.H x compression.method x compression.ratio */
    static const char *rows[][3] = {
        {"2", "none", "1"},    {"2", "resbm", "16"}, {"2", "resbm", "64"},
        {"4", "none", "1"},    {"4", "resbm", "16"}, {"6", "resbm", "16"}, /* H=6: no baseline */
        {"4", "linear", "16"},
    };
    static const double loss[] = {3.0, 3.25, 3.5, 2.5, 2.625, 2.0, NAN};
    enum { N = 7 };
    sweep_point pts[N];
    memset(pts, 0, sizeof pts);
    for (int i = 0; i < N; i++) {
        pts[i].params = xcalloc(3, sizeof *pts[i].params);
        for (int k = 0; k < 3; k++) set_param(&pts[i].params[k], rows[i][k]);
        snprintf(pts[i].status, sizeof pts[i].status, "%s", i == 2 ? "stopped" : "ok");
        sim_summary_init(&pts[i].sum);
        pts[i].sum.loss_final = loss[i];
    }
    char *keys[] = {"training.H", "compression.method", "compression.ratio"};
    unsigned char changed[N];
    ck_assert_uint_eq(sweep_loss_gaps(pts, N, keys, 3, changed), 5);
    ck_assert_double_eq(pts[0].sum.resbm_loss_gap, 0.0);
    ck_assert_double_eq(pts[1].sum.resbm_loss_gap, 0.25);
    ck_assert_double_eq(pts[2].sum.resbm_loss_gap, 0.5); /* a stopped point has its figures */
    ck_assert_double_eq(pts[3].sum.resbm_loss_gap, 0.0);
    ck_assert_double_eq(pts[4].sum.resbm_loss_gap, 0.125);
    ck_assert(isnan(pts[5].sum.resbm_loss_gap)); /* no H=6 baseline */
    ck_assert(isnan(pts[6].sum.resbm_loss_gap)); /* no loss: modeled */
    ck_assert(changed[0] && changed[1] && changed[2] && changed[3] && changed[4]);
    ck_assert(!changed[5] && !changed[6]);
    /* again: nothing changes */
    ck_assert_uint_eq(sweep_loss_gaps(pts, N, keys, 3, changed), 0);
    /* a failed baseline takes its dependents' gaps away */
    snprintf(pts[3].status, sizeof pts[3].status, "failed");
    ck_assert_uint_eq(sweep_loss_gaps(pts, N, keys, 3, changed), 1);
    ck_assert(isnan(pts[4].sum.resbm_loss_gap));
    /* only the ratio swept (the method fixed by the scenario): ratio 1 is the baseline */
    char *rkeys[] = {"training.H", "compression.ratio"};
    sweep_value *saved[N];
    for (int i = 0; i < N; i++) {
        saved[i] = pts[i].params;
        sweep_value *two = xcalloc(2, sizeof *two);
        two[0] = saved[i][0];
        two[1] = saved[i][2];
        pts[i].params = two;
    }
    snprintf(pts[3].status, sizeof pts[3].status, "ok");
    sweep_loss_gaps(pts, N, rkeys, 2, changed);
    ck_assert_double_eq(pts[4].sum.resbm_loss_gap, 0.125);
    ck_assert_double_eq(pts[2].sum.resbm_loss_gap, 0.5);
    /* neither compression key swept: untouched */
    pts[1].sum.resbm_loss_gap = 9.0;
    ck_assert_uint_eq(sweep_loss_gaps(pts, N, rkeys, 1, changed), 0);
    ck_assert_double_eq(pts[1].sum.resbm_loss_gap, 9.0);
    for (int i = 0; i < N; i++) {
        free(pts[i].params);
        pts[i].params = saved[i];
    }
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 3; k++) free(pts[i].params[k].text);
        free(pts[i].params);
    }
}
END_TEST

/* -j 1 and -j 2 give the same rows (wall time aside). */
START_TEST(test_jobs_do_not_change_results) {
    char *a = tmp_path("j1.h5"), *b = tmp_path("j2.h5");
    const char *vary[] = {"training.H=2,5", "compression.ratio=2,4,16"};
    sweep_stats st;
    char err[1024];
    ck_assert_int_eq(run_sweep(a, vary, 2, NULL, 0, 1, 0, &st, err, sizeof err), EXIT_OK);
    ck_assert_int_eq(run_sweep(b, vary, 2, NULL, 0, 2, 0, &st, err, sizeof err), EXIT_OK);
    sweep_meta ma, mb;
    sweep_point *pa, *pb;
    size_t na, nb;
    read_sweep(a, &ma, &pa, &na);
    read_sweep(b, &mb, &pb, &nb);
    ck_assert_uint_eq(na, 6);
    ck_assert_uint_eq(nb, 6);
    for (size_t i = 0; i < na; i++) {
        ck_assert_str_eq(pa[i].params[0].text, pb[i].params[0].text);
        ck_assert_str_eq(pa[i].params[1].text, pb[i].params[1].text);
        pa[i].sum.wall_time_s = pb[i].sum.wall_time_s = 0;
        ck_assert_msg(!memcmp(&pa[i].sum, &pb[i].sum, sizeof pa[i].sum), "point %zu differs", i);
    }
    ck_assert(pa[0].sum.utilisation != pa[3].sum.utilisation);
    sweep_points_free(pa, na, ma.n_keys);
    sweep_points_free(pb, nb, mb.n_keys);
    sweep_meta_free(&ma);
    sweep_meta_free(&mb);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_traces_and_interrupt) {
    char *out = tmp_path("tr.h5"), *dir = tmp_path("traces/sub");
    const char *vary[] = {"compression.ratio=4,8"};
    sweep_opts o;
    memset(&o, 0, sizeof o);
    o.scenario = scen;
    o.vary = vary;
    o.n_vary = 1;
    o.output = out;
    o.jobs = 2;
    o.traces_dir = dir;
    volatile int stop = 1; /* interrupted before anything starts */
    o.stop_flag = &stop;
    sweep_stats st;
    char err[1024];
    ck_assert_int_eq(sweep_run(&o, &st, err, sizeof err), EXIT_RUN);
    ck_assert_msg(strstr(err, "pending"), "%s", err);
    ck_assert_uint_eq(st.pending, 2);
    sweep_meta m;
    sweep_point *p;
    size_t n;
    read_sweep(out, &m, &p, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(p[0].status, "pending");
    ck_assert(isnan(p[1].sum.mfu_overall));
    sweep_points_free(p, n, m.n_keys);
    sweep_meta_free(&m);
    stop = 0;
    ck_assert_int_eq(sweep_run(&o, &st, err, sizeof err), EXIT_OK);
    ck_assert_uint_eq(st.ran, 2);
    char *keys[] = {"compression.ratio"}, *vals[] = {"8"};
    char *tp = sweep_trace_name(dir, "sweeptest", keys, vals, 1);
    size_t dl = strlen(dir);
    ck_assert_str_eq(tp + dl, "/sweeptest_compression.ratio=8.h5");
    trace_file *tf;
    ck_assert_msg(trace_read_open(tp, &tf, err, sizeof err) == 0, "%s: %s", tp, err);
    sim_summary s;
    ck_assert_int_eq(trace_read_summary(tf, &s), 0);
    ck_assert_int_eq(s.complete, 1);
    ck_assert_double_eq(s.compression_ratio, 8);
    trace_read_close(tf);
    char *odd[] = {"a[1].b"}, *ov[] = {"x y/\"z\""};
    char *tq = sweep_trace_name("d", "n", odd, ov, 1);
    ck_assert_str_eq(tq, "d/n_a-1-.b=x-y--z-.h5");
    free(tq);
    free(tp);
    free(out);
    free(dir);
}
END_TEST

START_TEST(test_sweep_file_errors) {
    char err[512];
    sweep_meta m;
    sweep_point *p;
    size_t n;
    char *none = tmp_path("missing.h5");
    ck_assert_int_eq(sweep_file_read(none, &m, &p, &n, err, sizeof err), -1);
    ck_assert(strstr(err, "No such file") != NULL);
    ck_assert_int_eq(sweep_file_probe(none), 0);
    ck_assert_int_eq(sweep_file_read(scen, &m, &p, &n, err, sizeof err), -1);
    ck_assert_str_eq(err, "not an HDF5 file");
    ck_assert_int_eq(sweep_file_probe(scen), 0);
    /* an HDF5 file that is not a sweep: refused, and not overwritten without --force */
    char *h5 = tmp_path("other.h5");
    hid_t f = H5Fcreate(h5, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(f >= 0);
    H5Fclose(f);
    ck_assert_int_eq(sweep_file_read(h5, &m, &p, &n, err, sizeof err), -1);
    ck_assert(strstr(err, "not an orionsim sweep file") != NULL);
    const char *vary[] = {"training.H=2"};
    sweep_stats st;
    char e2[1024];
    ck_assert_int_eq(run_sweep(h5, vary, 1, NULL, 0, 1, 0, &st, e2, sizeof e2), EXIT_INPUT);
    ck_assert_msg(strstr(e2, "cannot be resumed") && strstr(e2, "--force"), "%s", e2);
    ck_assert_int_eq(run_sweep(h5, vary, 1, NULL, 0, 1, 1, &st, e2, sizeof e2), EXIT_OK);
    ck_assert_int_eq(sweep_file_probe(h5), 1);
    /* bad scenario, bad --set: input errors before anything runs */
    char *bad = tmp_path("bad-out.h5");
    const char *badset[] = {"training.nosuch=1"};
    ck_assert_int_eq(run_sweep(bad, vary, 1, badset, 1, 1, 0, &st, e2, sizeof e2), EXIT_INPUT);
    ck_assert_msg(strstr(e2, "training.nosuch"), "%s", e2);
    ck_assert_int_eq(access(bad, F_OK), -1);
    free(none);
    free(h5);
    free(bad);
}
END_TEST

/* ---- the command line ------------------------------------------------------------------ */

static int sweep_cli(const char *const *args) {
    char *argv[32];
    int argc = 0;
    argv[argc++] = "sweep";
    for (; args[argc - 1]; argc++) argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    return cmd_sweep(argc, argv);
}

START_TEST(test_cli_errors) {
    char *out = tmp_path("cli.h5");
    const char *none[] = {NULL};
    ck_assert_int_eq(sweep_cli(none), EXIT_INPUT);
    const char *novary[] = {scen, "-o", out, NULL};
    ck_assert_int_eq(sweep_cli(novary), EXIT_INPUT);
    const char *noout[] = {scen, "--vary", "training.H=2", NULL};
    ck_assert_int_eq(sweep_cli(noout), EXIT_INPUT);
    const char *j0[] = {scen, "--vary", "training.H=2", "-o", out, "-j", "0", NULL};
    ck_assert_int_eq(sweep_cli(j0), EXIT_INPUT);
    const char *jx[] = {scen, "--vary", "training.H=2", "-o", out, "-jx", NULL};
    ck_assert_int_eq(sweep_cli(jx), EXIT_INPUT);
    const char *unk[] = {scen, "--vary", "training.H=2", "-o", out, "--fast", NULL};
    ck_assert_int_eq(sweep_cli(unk), EXIT_INPUT);
    const char *badv[] = {scen, "--vary", "training.H=2:1", "-o", out, NULL};
    ck_assert_int_eq(sweep_cli(badv), EXIT_INPUT);
    const char *nokey[] = {scen, "--vary", "x=1", "-o", out, NULL};
    ck_assert_int_eq(sweep_cli(nokey), EXIT_INPUT);
    const char *twice[] = {scen, scen, "--vary", "training.H=2", "-o", out, NULL};
    ck_assert_int_eq(sweep_cli(twice), EXIT_INPUT);
    const char *noscen[] = {"/nonexistent.cfg", "--vary", "training.H=2", "-o", out, NULL};
    ck_assert_int_eq(sweep_cli(noscen), EXIT_INPUT);
    ck_assert_int_eq(access(out, F_OK), -1);
    const char *ok[] = {scen, "--vary", "training.H=2,3", "-o", out, "-j2", "-q", NULL};
    ck_assert_int_eq(sweep_cli(ok), EXIT_OK);
    ck_assert_int_eq(sweep_file_probe(out), 1);
    free(out);
}
END_TEST

static Suite *sweep_suite(void) {
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("sweep");
    tcase_add_unchecked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_vary_lists_and_ranges);
    tcase_add_test(tc, test_vary_errors);
    tcase_add_test(tc, test_grid_size_and_order);
    tcase_add_test(tc, test_resume_and_extend);
    tcase_add_test(tc, test_failed_point);
    tcase_add_test(tc, test_stopped_point);
    tcase_add_test(tc, test_loss_gaps);
    tcase_add_test(tc, test_jobs_do_not_change_results);
    tcase_add_test(tc, test_traces_and_interrupt);
    tcase_add_test(tc, test_sweep_file_errors);
    tcase_add_test(tc, test_cli_errors);
    suite_add_tcase(s, tc);
    return s;
}

static void h5_close(void) { H5close(); }

CHECK_MAIN(.suite = sweep_suite, .teardown = h5_close)
