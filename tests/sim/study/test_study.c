/* tests/sim/study/test_study.c: the seed study: its statistics against hand values and
 * published t quantiles, the boundary list, bad input (exit 2 with the reason), and a
 * tiny live study end to end: the tables agree with the runs, and a second invocation
 * resumes (runs nothing), a deleted trace runs again. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/model.h"
#include "sim/base/h5util.h"
#include "sim/base/util.h"
#include "sim/live/live_data.h"
#include "sim/study/study.h"
#include "sim/study/study_stats.h"
#include "sim/trace/trace_read.h"
#include "tests/check_main.h"

/* ---- statistics ------------------------------------------------------------------------ */

START_TEST(test_t_quantiles) {
    /* two-sided 95% critical values of Student's t (any statistics table) */
    ck_assert_double_eq_tol(study_t_quantile(0.975, 1), 12.7062047, 1e-6);
    ck_assert_double_eq_tol(study_t_quantile(0.975, 2), 4.3026527, 1e-6);
    ck_assert_double_eq_tol(study_t_quantile(0.975, 4), 2.7764451, 1e-6);
    ck_assert_double_eq_tol(study_t_quantile(0.975, 9), 2.2621572, 1e-6);
    ck_assert_double_eq_tol(study_t_quantile(0.995, 4), 4.6040949, 1e-6);
    ck_assert_double_eq_tol(study_t_quantile(0.975, 1e7), 1.9599640, 1e-5); /* the normal */
    ck_assert_double_eq_tol(study_t_quantile(0.025, 4), -2.7764451, 1e-6);
    ck_assert_double_eq(study_t_quantile(0.5, 3), 0.0);
    ck_assert(isnan(study_t_quantile(1.0, 3)));
    ck_assert(isnan(study_t_quantile(0.9, 0)));
    /* closed forms: t with 1 df is Cauchy, F(t) = 1/2 + atan(t)/pi; with 2 df,
     * F(t) = 1/2 + t / (2 sqrt(2 + t^2)) */
    for (double t = -5; t <= 5; t += 0.5) {
        ck_assert_double_eq_tol(study_t_cdf(t, 1), 0.5 + atan(t) / M_PI, 1e-12);
        ck_assert_double_eq_tol(study_t_cdf(t, 2), 0.5 + t / (2 * sqrt(2 + t * t)), 1e-12);
    }
    /* I_x(a, b) closed forms: I_x(1, 1) = x; I_0.5(2, 3) = 11/16 */
    ck_assert_double_eq_tol(study_incbeta(1, 1, 0.3), 0.3, 1e-14);
    ck_assert_double_eq_tol(study_incbeta(2, 3, 0.5), 11.0 / 16.0, 1e-14);
}
END_TEST

START_TEST(test_describe_hand_values) {
    /* 1..5: mean 3, sd sqrt(2.5), ci = t(0.975,4) sd / sqrt 5 = 2.7764451 x 0.70710678 */
    const double x[] = {1, 2, 3, 4, 5};
    study_desc d;
    study_describe(x, 5, 0.95, &d);
    ck_assert_uint_eq(d.n, 5);
    ck_assert_double_eq_tol(d.mean, 3.0, 1e-15);
    ck_assert_double_eq_tol(d.sd, sqrt(2.5), 1e-15);
    ck_assert_double_eq_tol(d.ci, 1.9632432, 1e-6);
    ck_assert_double_eq_tol(d.lo, 3.0 - 1.9632432, 1e-6);
    ck_assert_int_eq(d.significant, 1); /* [1.04, 4.96] excludes 0 */
    /* paired gaps -1, +1: mean 0, sd sqrt 2, ci = 12.7062047 (t with 1 df), not significant */
    const double g[] = {-1, 1};
    study_describe(g, 2, 0.95, &d);
    ck_assert_double_eq_tol(d.mean, 0.0, 1e-15);
    ck_assert_double_eq_tol(d.sd, sqrt(2.0), 1e-15);
    ck_assert_double_eq_tol(d.ci, 12.7062047, 1e-6);
    ck_assert_int_eq(d.significant, 0);
    /* NaN samples (runs not done) are left out: {0.10, NaN, 0.12, 0.14} = 3 samples,
     * mean 0.12, sd 0.02, ci = 4.3026527 x 0.02 / sqrt 3 = 0.0496828 */
    const double h[] = {0.10, NAN, 0.12, 0.14};
    study_describe(h, 4, 0.95, &d);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_double_eq_tol(d.mean, 0.12, 1e-15);
    ck_assert_double_eq_tol(d.sd, 0.02, 1e-15);
    ck_assert_double_eq_tol(d.ci, 0.0496828, 1e-6);
    ck_assert_int_eq(d.significant, 1);
    /* one sample: no spread, no test */
    study_describe(x, 1, 0.95, &d);
    ck_assert_double_eq(d.mean, 1.0);
    ck_assert(isnan(d.sd) && isnan(d.ci));
    ck_assert_int_eq(d.significant, -1);
}
END_TEST

/* ---- boundaries ----------------------------------------------------------------------- */

START_TEST(test_boundaries) {
    study_boundary *b;
    size_t n;
    char err[512];
    ck_assert_int_eq(
        study_boundaries_parse("none,resbm:16,resbm:k8,linear:64,int8", &b, &n, err, sizeof err),
        0);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(b[1].spec, "resbm:16");
    ck_assert_int_eq(b[1].method, KM_COMP_RESBM);
    ck_assert_int_eq(b[1].ratio, 16);
    ck_assert_int_eq(b[2].k, 8);
    ck_assert_int_eq(b[3].method, KM_COMP_LINEAR);
    ck_assert_int_eq(b[4].method, KM_COMP_INT8);
    int r, k;
    ck_assert_int_eq(study_boundary_at(&b[2], 128, &r, &k, err, sizeof err), 0);
    ck_assert_int_eq(r, 16);
    ck_assert_int_eq(k, 8);
    ck_assert_int_eq(study_boundary_at(&b[2], 512, &r, &k, err, sizeof err), 0);
    ck_assert_int_eq(r, 64); /* the same k at another width: another ratio */
    ck_assert_int_eq(study_boundary_at(&b[1], 128, &r, &k, err, sizeof err), 0);
    ck_assert_int_eq(k, 8);
    ck_assert_int_eq(study_boundary_at(&b[4], 128, &r, &k, err, sizeof err), 0);
    ck_assert_int_eq(r, 1);
    ck_assert_int_eq(k, 128);
    ck_assert_int_eq(study_boundary_at(&b[1], 72, &r, &k, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "does not divide d_model = 72"), "%s", err);
    free(b);
    /* the baseline joins first when missing */
    ck_assert_int_eq(study_boundaries_parse("resbm:k2", &b, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(b[0].spec, "none");
    ck_assert_int_eq(study_boundary_at(&b[1], 96, &r, &k, err, sizeof err), 0);
    ck_assert_int_eq(r, 48);
    free(b);
    /* a fixed ResBM hidden width: resbm only, a positive integer after ":h" */
    ck_assert_int_eq(
        study_boundaries_parse("resbm:k8,resbm:k8:h24,resbm:16:h8", &b, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(b[1].hidden, 0);
    ck_assert_str_eq(b[2].spec, "resbm:k8:h24");
    ck_assert_int_eq(b[2].k, 8);
    ck_assert_int_eq(b[2].hidden, 24);
    ck_assert_int_eq(b[3].ratio, 16);
    ck_assert_int_eq(b[3].hidden, 8);
    ck_assert_int_eq(study_spec_hidden(b[2].spec), 24);
    ck_assert_int_eq(study_spec_hidden(b[1].spec), 0);
    ck_assert_int_eq(study_spec_hidden("none"), 0);
    free(b);
    ck_assert_int_eq(study_boundaries_parse("resbm:k8:hffn", &b, &n, err, sizeof err), 0);
    ck_assert_str_eq(b[1].spec, "resbm:k8:hffn");
    ck_assert_int_eq(b[1].hidden, STUDY_HIDDEN_FFN);
    ck_assert_int_eq(study_spec_hidden(b[1].spec), STUDY_HIDDEN_FFN);
    free(b);
    const char *bad[] = {"",
                         "foo",
                         "resbm",
                         "int8:4",
                         "resbm:0",
                         "resbm:k0",
                         "none:1",
                         "resbm:16,resbm:16",
                         "resbm:x",
                         "resbm:16,",
                         "linear:64:h8",
                         "resbm:k8:x4",
                         "resbm:k8:h0",
                         "resbm:k8:h",
                         "int8:h4",
                         "resbm:k8:h4:h4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        ck_assert_msg(study_boundaries_parse(bad[i], &b, &n, err, sizeof err) == -1,
                      "'%s' accepted", bad[i]);
        ck_assert_msg(strstr(err, "--boundaries"), "'%s': %s", bad[i], err);
    }
}
END_TEST

/* ---- studies -------------------------------------------------------------------------- */

static char tmpdir[64];
static char scen[128], modeled[128], nodata[128], data[128];

/* 2 stages x 2 replicas of a 2-block d-32 byte model, H 4 x accum 2, 1 cycle. */
static void write_scenario(const char *path, const char *mode, const char *datapath) {
    char cwd[1024];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "name = \"studytest\";\nseed = 5;\n"
            "model = { d_model = 32; n_blocks = 2; n_heads = 2; n_kv_heads = 1; ffn = 64; vocab "
            "= 256; };\n"
            "pipeline = { stages = 2; cache_capacity = 4; routing = \"fixed\"; slot_at = "
            "\"route\"; };\n"
            "compression = { method = \"none\"; };\n"
            "training = { seq_len = 16; microbatch_seqs = 2; H = 4; accum = 2; cycles = 1; "
            "min_local_steps = 1;\n"
            "  activation_timeout_s = 5.0; data = \"%s\"; grad_clip = 1.0;\n"
            "  optimizer = { kind = \"adamw\"; lr = 3e-3; }; };\n"
            "sync = { algorithm = \"iota-butterfly\"; };\n"
            "network = { regions = [\"a\"]; latency_ms = ( [1.0] );\n"
            "  storage = { region = \"a\"; up_mbps = 1000.0; down_mbps = 1000.0; }; };\n"
            "swarm = { replicas = 2; device = \"A100-80GB\"; region = \"a\"; device_table = "
            "\"%s/scenarios/devices.cfg\";\n"
            "  bandwidth = { kind = \"fixed\"; up_mbps = 100.0; down_mbps = 100.0; }; };\n"
            "compute = { mode = \"%s\"; backend = \"cpu\"; live_time = \"modeled\";\n"
            "  efficiency = { forward = 0.5; backward = 0.5; recompute = 0.5; optimizer = 0.8; "
            "merge = 0.8; }; };\n"
            "metrics = { colocated_baseline = false; sample_s = 0.01; mfu_window_h = 0.0001; };\n",
            datapath, cwd, mode);
    ck_assert_int_eq(fclose(f), 0);
}

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/orionsim-study-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    /* a corpus: a few sentences over and over, as train and val shards */
    const char *text = "The jury said the election was conducted with care. A small town held "
                       "its vote on a quiet Friday in May. ";
    size_t n = 24000, tl = strlen(text);
    int32_t *tok = xmalloc(n * sizeof *tok);
    for (size_t i = 0; i < n; i++) tok[i] = (unsigned char)text[(i * 7 + i / tl) % tl];
    char err[512], val[128];
    snprintf(data, sizeof data, "%s/c_train.bin", tmpdir);
    snprintf(val, sizeof val, "%s/c_val.bin", tmpdir);
    ck_assert_int_eq(live_tokens_write_bin(data, tok, 20000, err, sizeof err), 0);
    ck_assert_int_eq(live_tokens_write_bin(val, tok + 20000, 4000, err, sizeof err), 0);
    free(tok);
    snprintf(scen, sizeof scen, "%s/live.cfg", tmpdir);
    write_scenario(scen, "live", data);
    snprintf(modeled, sizeof modeled, "%s/modeled.cfg", tmpdir);
    write_scenario(modeled, "modeled", data);
    snprintf(nodata, sizeof nodata, "%s/nodata.cfg", tmpdir);
    write_scenario(nodata, "live", "/nonexistent/shard_train.bin");
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
}

static study_opts opts(const char *scenario, const char *out) {
    study_opts o;
    memset(&o, 0, sizeof o);
    o.scenario = scenario;
    o.seeds = 2;
    o.boundaries = "resbm:4";
    o.output = out;
    o.jobs = 2;
    return o;
}

/* study_run must refuse o with EXIT_INPUT and `why` in its message, and run nothing. */
static void expect_input(study_opts o, const char *why) {
    study_stats_count st;
    char err[4096] = "";
    int rc = study_run(&o, &st, err, sizeof err);
    ck_assert_msg(rc == EXIT_INPUT, "exit %d (%s), want 2 with \"%s\"", rc, err, why);
    ck_assert_msg(strstr(err, why), "want \"%s\" in: %s", why, err);
    ck_assert_uint_eq(st.ran, 0);
}

START_TEST(test_bad_input) {
    char out[128];
    snprintf(out, sizeof out, "%s/bad.h5", tmpdir);
    study_opts o = opts(scen, out);
    o.seeds = 0;
    expect_input(o, "--seeds 0: a study needs at least 1 seed");
    o.seeds = -3;
    expect_input(o, "--seeds -3");
    o = opts(scen, out);
    o.boundaries = "";
    expect_input(o, "--boundaries: the list is empty");
    o.boundaries = "resbm:7";
    expect_input(o, "the ratio 7 does not divide d_model = 32");
    o = opts(scen, out);
    o.widths = "32,34"; /* 2 heads: head_dim 17 is odd */
    expect_input(o, "cannot be split at width 34");
    o.widths = "33";
    expect_input(o, "cannot be split at width 33");
    o.widths = "32,48"; /* 48 / 4 = 12: fine; resbm:k5 does not divide 48 */
    o.boundaries = "resbm:k5";
    expect_input(o, "k = 5 does not divide d_model = 32");
    o.widths = "32,x";
    o.boundaries = "resbm:4";
    expect_input(o, "--widths 32,x");
    o = opts(nodata, out);
    expect_input(o, "/nonexistent/shard_train.bin");
    o = opts(modeled, out);
    expect_input(o, "a loss study needs live runs");
    o = opts(scen, out);
    const char *sets[] = {"seed=9"};
    o.sets = sets;
    o.n_sets = 1;
    expect_input(o, "the study sets seed itself");
    const char *hsets[] = {"compression.hidden=16"};
    o.sets = hsets;
    expect_input(o, "use --boundaries resbm:kK:hH");
    ck_assert_int_ne(access(out, F_OK), 0); /* nothing written */
}
END_TEST

/* resbm:k8:h4 runs with compression.hidden = 4 (fewer boundary parameters than the
 * default hidden = k = 8), the baseline and resbm:k8 without it. */
START_TEST(test_study_fixed_hidden) {
    char out[128], err[4096] = "";
    snprintf(out, sizeof out, "%s/h.h5", tmpdir);
    study_opts o = opts(scen, out);
    o.seeds = 1;
    o.boundaries = "resbm:k8,resbm:k8:h4,resbm:k8:hffn";
    study_stats_count st;
    int rc = study_run(&o, &st, err, sizeof err);
    ck_assert_msg(rc == EXIT_OK, "exit %d: %s", rc, err);
    ck_assert_uint_eq(st.ran, 4);
    study_stat_rec *s;
    study_curve_rec *cv;
    size_t ns, nc;
    ck_assert_int_eq(study_file_read(out, &s, &ns, &cv, &nc, err, sizeof err), 0);
    ck_assert_uint_eq(ns, 4);
    ck_assert_str_eq(s[3].boundary, "resbm:k8:hffn");
    ck_assert_str_eq(s[1].boundary, "resbm:k8");
    ck_assert_str_eq(s[2].boundary, "resbm:k8:h4");
    ck_assert_int_eq(s[2].k, 8);
    ck_assert_double_eq(s[2].ratio, 4.0);
    ck_assert(isfinite(s[1].loss_mean) && isfinite(s[2].loss_mean));
    ck_assert(s[1].loss_mean != s[2].loss_mean); /* another boundary MLP, another loss */
    free(s);
    free(cv);
    /* the run's trace records the width it ran with */
    char tpath[256];
    snprintf(tpath, sizeof tpath, "%s/h-runs/d32_resbm-k8-h4_seed5.h5", tmpdir);
    trace_file *tf = NULL;
    ck_assert_msg(trace_read_open(tpath, &tf, err, sizeof err) == 0, "%s", err);
    char **ovr;
    size_t n_ovr;
    ck_assert_int_eq(trace_read_overrides(tf, &ovr, &n_ovr), 0);
    int seen = 0;
    for (size_t i = 0; i < n_ovr; i++) seen += !strcmp(ovr[i], "compression.hidden=4");
    ck_assert_int_eq(seen, 1);
    trace_read_free_names(ovr, n_ovr);
    trace_read_close(tf);
    /* hffn: the model's ffn (64 in this scenario) */
    snprintf(tpath, sizeof tpath, "%s/h-runs/d32_resbm-k8-hffn_seed5.h5", tmpdir);
    ck_assert_msg(trace_read_open(tpath, &tf, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(trace_read_overrides(tf, &ovr, &n_ovr), 0);
    seen = 0;
    for (size_t i = 0; i < n_ovr; i++) seen += !strcmp(ovr[i], "compression.hidden=64");
    ck_assert_int_eq(seen, 1);
    trace_read_free_names(ovr, n_ovr);
    trace_read_close(tf);
}
END_TEST

START_TEST(test_study_end_to_end) {
    char out[128], err[4096] = "";
    snprintf(out, sizeof out, "%s/s.h5", tmpdir);
    study_opts o = opts(scen, out);
    study_stats_count st;
    int rc = study_run(&o, &st, err, sizeof err);
    ck_assert_msg(rc == EXIT_OK, "exit %d: %s", rc, err);
    ck_assert_uint_eq(st.runs, 4);
    ck_assert_uint_eq(st.ran, 4);
    ck_assert_uint_eq(st.kept, 0);
    ck_assert(study_file_probe(out));
    study_stat_rec *s;
    study_curve_rec *cv;
    size_t ns, nc;
    ck_assert_int_eq(study_file_read(out, &s, &ns, &cv, &nc, err, sizeof err), 0);
    ck_assert_uint_eq(ns, 2);
    ck_assert_str_eq(s[0].boundary, "none");
    ck_assert_str_eq(s[1].boundary, "resbm:4");
    ck_assert_int_eq(s[1].k, 8);
    ck_assert_int_eq(s[1].n, 2);
    ck_assert_int_eq(s[1].n_pairs, 2);
    ck_assert_double_eq(s[0].gap_mean, 0.0); /* the baseline against itself */
    /* the /runs table: the stats are the t statistics of its rows */
    hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    study_run_rec *r;
    size_t nr;
    ck_assert_int_eq(h5u_table_read(f, "runs", study_run_fields, study_run_n_fields, sizeof *r,
                                    (void **)&r, &nr, err, sizeof err),
                     0);
    H5Fclose(f);
    ck_assert_uint_eq(nr, 4); /* seed-major: none s0, resbm s0, none s1, resbm s1 */
    ck_assert_str_eq(r[1].boundary, "resbm:4");
    ck_assert_int_eq(r[1].seed, 5);
    ck_assert_int_eq(r[3].seed, 6);
    for (size_t i = 0; i < nr; i++) {
        ck_assert_int_eq(r[i].done, 1);
        ck_assert(isfinite(r[i].loss_final) && r[i].loss_final > 0 && r[i].loss_final < 6);
    }
    double g0 = r[1].loss_final - r[0].loss_final, g1 = r[3].loss_final - r[2].loss_final;
    ck_assert_double_eq(r[1].gap, g0);
    ck_assert_double_eq(r[3].gap, g1);
    ck_assert_double_eq_tol(s[1].gap_mean, (g0 + g1) / 2, 1e-15);
    ck_assert_double_eq_tol(s[1].gap_sd, fabs(g0 - g1) / sqrt(2.0), 1e-12);
    ck_assert_double_eq_tol(s[1].gap_ci, 12.7062047 * fabs(g0 - g1) / 2, 1e-6);
    ck_assert_double_eq_tol(s[1].loss_mean, (r[1].loss_final + r[3].loss_final) / 2, 1e-15);
    ck_assert_int_eq(s[1].gap_significant, fabs(s[1].gap_mean) > s[1].gap_ci);
    /* curves: at least H = 4 inner steps of training (replicas may take more while the
     * sync waits) and 1 validation point per boundary, each a mean over the seeds */
    size_t train = 0, val = 0;
    for (size_t i = 0; i < nc; i++) {
        ck_assert(cv[i].n == 1 || cv[i].n == 2);
        if (cv[i].kind) {
            val++;
            ck_assert_int_eq(cv[i].n, 2);
            ck_assert_int_eq(cv[i].cycle, 0);
            ck_assert_int_eq(cv[i].inner_step, -1);
        } else train += cv[i].n == 2 && cv[i].inner_step < 4;
    }
    ck_assert_uint_eq(val, 2);
    ck_assert_uint_eq(train, 8);
    free(s);
    free(cv);
    free(r);
    /* the same study again: every run is kept */
    rc = study_run(&o, &st, err, sizeof err);
    ck_assert_msg(rc == EXIT_OK, "exit %d: %s", rc, err);
    ck_assert_uint_eq(st.kept, 4);
    ck_assert_uint_eq(st.ran, 0);
    /* a lost trace runs again, alone */
    char tpath[256];
    snprintf(tpath, sizeof tpath, "%s/s-runs/d32_resbm-4_seed6.h5", tmpdir);
    ck_assert_int_eq(unlink(tpath), 0);
    rc = study_run(&o, &st, err, sizeof err);
    ck_assert_msg(rc == EXIT_OK, "exit %d: %s", rc, err);
    ck_assert_uint_eq(st.kept, 3);
    ck_assert_uint_eq(st.ran, 1);
    /* --collect runs nothing: 4 seeds asked, 2 done */
    o.seeds = 4;
    o.collect_only = 1;
    rc = study_run(&o, &st, err, sizeof err);
    ck_assert_int_eq(rc, EXIT_RUN);
    ck_assert_msg(strstr(err, "4 of 8 runs done"), "%s", err);
    ck_assert_uint_eq(st.ran, 0);
    ck_assert_uint_eq(st.kept, 4);
    ck_assert(study_file_probe(out));
    o.collect_only = 0;
    /* another seed count is another study for the new seeds only */
    o.seeds = 3;
    rc = study_run(&o, &st, err, sizeof err);
    ck_assert_msg(rc == EXIT_OK, "exit %d: %s", rc, err);
    ck_assert_uint_eq(st.kept, 4);
    ck_assert_uint_eq(st.ran, 2);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("study");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_t_quantiles);
    tcase_add_test(tc, test_describe_hand_values);
    tcase_add_test(tc, test_boundaries);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_study_end_to_end);
    tcase_add_test(tc, test_study_fixed_hidden);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
