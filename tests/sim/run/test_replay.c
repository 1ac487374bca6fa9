/* tests/sim/run/test_replay.c: `run --replay-times`: a live run with measured timing records
 * its task log in its trace (/tasks), and a replay of it runs the kernels for real with the
 * recorded durations (sim/run/run_replay.h, sim/live/live_ckpt.h), end to end through
 * sim_run_scenario.
 *
 * The scenario is resume_testutil.h's small live one (2 stages x 2 replicas, ResBM, churn,
 * the CPU backend) with compute.live_time = "measured". Its measured run is not
 * reproducible (the clock decides the event order); two replays of it are identical to
 * each other and to the recording: every table (events, phases, samples, losses,
 * boundaries, the task log), the summary but its wall time, the losses bit for bit (the
 * CPU kernels are deterministic for a given thread count). Then the refusals, each
 * EXIT_INPUT naming the trace: a modeled run's trace, a live run's without a task log,
 * another scenario or overrides, a modeled scenario, a record out of range (before
 * anything is written), a log that ends early and one that differs from what the engine
 * asks for (naming the task index).
 */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/h5util.h"
#include "sim/live/live_ckpt.h"
#include "sim/run/run.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_read.h"
#include "tests/sim/run/resume_testutil.h"
#include "tests/sim/scenario/scenario_testutil.h"
#include "tests/check_main.h"

typedef struct {
    int rc;
    char err[2048];
    sim_summary sum;
    live_ckpt_info info;
    volatile int stop, request;
} run_out;

static const char *measured[] = {"compute.live_time=\"measured\""};

/* One run of cfg (with sets) through sim_run_scenario, replaying `replay` when not NULL. */
static void run(const char *cfg, const char **sets, int n_sets, const char *trace_path,
                const char *replay, run_out *o) {
    memset(o, 0, sizeof *o);
    sim_scenario sc;
    tu_load_ok(cfg, sets, n_sets, &sc);
    sim_run_opts ro = {.scenario_path = cfg,
                       .trace_path = trace_path,
                       .colocated = 0,
                       .stop_flag = &o->stop,
                       .checkpoint_flag = &o->request,
                       .checkpoint_info = &o->info,
                       .replay_times_path = replay};
    o->rc = sim_run_scenario(&sc, &ro, &o->sum, o->err, sizeof o->err);
    sim_scenario_free(&sc);
}

/* The recording's /tasks (rows malloc'd) and its scenario_identity attribute. */
static trace_task_rec *read_tasks(const char *path, size_t *n) {
    trace_file *tf;
    char err[512];
    ck_assert_msg(trace_read_open(path, &tf, err, sizeof err) == 0, "%s", err);
    void *recs = NULL;
    ck_assert_msg(trace_read_table(tf, "tasks", trace_task_fields, trace_task_n_fields,
                                   sizeof(trace_task_rec), &recs, n) == 0,
                  "%s", trace_read_error(tf));
    char *ident = NULL;
    ck_assert_int_eq(trace_read_table_attr(tf, "tasks", "scenario_identity", &ident), 0);
    ck_assert_ptr_nonnull(strstr(ident, "compute.live_time=\"measured\""));
    free(ident);
    trace_read_close(tf);
    return recs;
}

/* A measured run, replayed twice: the same tables and losses, bit for bit. */
START_TEST(test_replay_identical) {
    const char *cfg = rt_scenario("rec", "live", 3);
    const char *ta = rt_path("rec_a.h5"), *tb = rt_path("rec_b.h5"), *tc = rt_path("rec_c.h5");
    run_out a, b, c;
    run(cfg, measured, 1, ta, NULL, &a);
    ck_assert_msg(a.rc == 0, "%s", a.err);
    ck_assert_int_eq(a.sum.cycles, 3);
    size_t n = 0;
    trace_task_rec *tasks = read_tasks(ta, &n);
    ck_assert_uint_gt(n, 100);
    int kinds[KM_TASK_KINDS] = {0};
    for (size_t i = 0; i < n; i++) {
        ck_assert(tasks[i].duration_s > 0 && isfinite(tasks[i].duration_s));
        ck_assert(tasks[i].kind >= 0 && tasks[i].kind < KM_TASK_KINDS);
        kinds[tasks[i].kind]++;
        if (i) ck_assert_int_ge(tasks[i].t_start_ns, tasks[i - 1].t_start_ns); /* causal order */
    }
    ck_assert(kinds[KM_TASK_FORWARD] > 0 && kinds[KM_TASK_LAST_FUSED] > 0 &&
              kinds[KM_TASK_OPTIMIZER] > 0);
    free(tasks);

    run(cfg, measured, 1, tb, ta, &b);
    ck_assert_msg(b.rc == 0, "%s", b.err);
    ck_assert_int_eq(b.info.times_recorded, (int64_t)n);
    ck_assert_int_eq(b.info.times_used, (int64_t)n);
    run(cfg, measured, 1, tc, ta, &c);
    ck_assert_msg(c.rc == 0, "%s", c.err);
    ck_assert_int_eq(c.info.times_used, (int64_t)n);

    /* every table, the summary but its wall time: replay = replay = the recording */
    size_t loss_rows = 0;
    rt_same_tables(tb, tc, NULL);
    rt_same_tables(ta, tb, &loss_rows);
    ck_assert_uint_gt(loss_rows, 10);
    ck_assert(isfinite(a.sum.loss_final) && isfinite(a.sum.val_loss_final));
    ck_assert_msg(memcmp(&a.sum.loss_final, &b.sum.loss_final, sizeof(double)) == 0 &&
                      memcmp(&a.sum.val_loss_final, &c.sum.val_loss_final, sizeof(double)) == 0,
                  "final losses %.17g / %.17g vs %.17g / %.17g", a.sum.loss_final,
                  a.sum.val_loss_final, b.sum.loss_final, c.sum.val_loss_final);
    rt_same_summary(&a.sum, &c.sum);
}
END_TEST

/* A replay that must be refused before it starts: EXIT_INPUT naming the trace and the
 * reason, and nothing written at the trace path. */
static void refused(const char *cfg, const char **sets, int n_sets, const char *recording,
                    const char *reason) {
    const char *out = rt_path("refused.h5");
    unlink(out);
    run_out o;
    run(cfg, sets, n_sets, out, recording, &o);
    ck_assert_int_eq(o.rc, EXIT_INPUT);
    ck_assert_msg(strstr(o.err, reason) != NULL, "expected '%s' in: %s", reason, o.err);
    ck_assert_msg(strstr(o.err, recording) != NULL || strstr(o.err, "--replay-times"),
                  "no trace in: %s", o.err);
    ck_assert_msg(access(out, F_OK) != 0, "%s was written", out);
}

/* Row `row` of x's /tasks rewritten by fn. */
static void patch_row(const char *x, size_t row, void (*fn)(trace_task_rec *r)) {
    hid_t f = H5Fopen(x, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t d = H5Dopen2(f, "tasks", H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    hid_t mt =
        h5u_compound(trace_task_fields, trace_task_n_fields, sizeof(trace_task_rec), H5U_MEM);
    hid_t fs = H5Dget_space(d);
    hsize_t start[1] = {row}, count[1] = {1};
    hid_t ms = H5Screate_simple(1, count, NULL);
    ck_assert_int_ge(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL), 0);
    trace_task_rec r;
    ck_assert_int_ge(H5Dread(d, mt, ms, fs, H5P_DEFAULT, &r), 0);
    fn(&r);
    ck_assert_int_ge(H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, &r), 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Tclose(mt);
    H5Dclose(d);
    ck_assert_int_ge(H5Fclose(f), 0);
}

static void other_microbatch(trace_task_rec *r) { r->microbatch += 1000; }
static void nan_duration(trace_task_rec *r) { r->duration_s = NAN; }
static void bad_peer(trace_task_rec *r) { r->peer = 99; }

START_TEST(test_replay_refused) {
    const char *cfg = rt_scenario("ref", "live", 2);
    const char *ta = rt_path("ref_a.h5"), *x = rt_path("ref_x.h5");
    run_out o;
    run(cfg, measured, 1, ta, NULL, &o);
    ck_assert_msg(o.rc == 0, "%s", o.err);
    size_t n = 0;
    free(read_tasks(ta, &n));
    ck_assert_uint_gt(n, 40);

    /* a modeled run's trace; a live run's with modeled timing (no task log) */
    const char *modeled = rt_scenario("ref_m", "modeled", 2), *tm = rt_path("ref_m.h5");
    run(modeled, NULL, 0, tm, NULL, &o);
    ck_assert_msg(o.rc == 0, "%s", o.err);
    refused(cfg, measured, 1, tm, "the trace of a modeled run");
    const char *tl = rt_path("ref_l.h5");
    run(cfg, NULL, 0, tl, NULL, &o);
    ck_assert_msg(o.rc == 0, "%s", o.err);
    refused(cfg, measured, 1, tl, "no task log");
    /* another scenario: an override, or another file; a scenario without measured timing */
    const char *seed[] = {"compute.live_time=\"measured\"", "seed=6"};
    refused(cfg, seed, 2, ta, "another scenario");
    const char *other = rt_scenario("ref_o", "live", 2);
    refused(other, measured, 1, ta, "another scenario");
    refused(cfg, NULL, 0, ta, "not a live scenario with measured timing");
    refused(modeled, NULL, 0, ta, "not a live scenario with measured timing");
    /* not a trace at all; the output is the recording itself */
    refused(cfg, measured, 1, cfg, "--replay-times");
    run(cfg, measured, 1, ta, ta, &o);
    ck_assert_int_eq(o.rc, EXIT_INPUT);
    ck_assert_msg(strstr(o.err, "would overwrite"), "%s", o.err);
    /* records out of range: refused before anything runs, naming the row */
    rt_copy_file(ta, x, -1);
    patch_row(x, 5, nan_duration);
    refused(cfg, measured, 1, x, "/tasks row 5 is out of range in duration_s");
    rt_copy_file(ta, x, -1);
    patch_row(x, 7, bad_peer);
    refused(cfg, measured, 1, x, "/tasks row 7 is out of range in peer");

    /* a log that differs from what the engine asks for: stops at that task */
    rt_copy_file(ta, x, -1);
    patch_row(x, 10, other_microbatch);
    const char *tx = rt_path("ref_out.h5");
    run(cfg, measured, 1, tx, x, &o);
    ck_assert_int_eq(o.rc, EXIT_INPUT);
    ck_assert_int_eq(o.info.replay_failed, 1);
    ck_assert_msg(strstr(o.err, "diverged at task 10: the recording logged") != NULL &&
                      strstr(o.err, x) != NULL,
                  "%s", o.err);
    /* a log that ends early (its second half cut off): runs out at that task */
    rt_copy_file(ta, x, -1);
    hid_t f = H5Fopen(x, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t d = H5Dopen2(f, "tasks", H5P_DEFAULT);
    hsize_t half[1] = {n / 2};
    ck_assert_int_ge(H5Dset_extent(d, half), 0);
    H5Dclose(d);
    H5Fclose(f);
    run(cfg, measured, 1, tx, x, &o);
    ck_assert_int_eq(o.rc, EXIT_INPUT);
    char want[128];
    snprintf(want, sizeof want, "asked for task %zu", n / 2);
    ck_assert_msg(strstr(o.err, want) != NULL && strstr(o.err, "the recording ends after") &&
                      strstr(o.err, x) != NULL,
                  "%s", o.err);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, tu_setup_dirs, tu_cleanup_dirs);
    tcase_add_test(tc, test_replay_identical);
    tcase_add_test(tc, test_replay_refused);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
