/* tests/sim/run/test_resume.c: checkpoints of live runs and `run --resume`, end to end
 * through sim_run_scenario (sim/run/run_resume.h, sim/live/live_ckpt.h).
 *
 * A small live scenario (2 stages x 2 replicas, d 32, ResBM, churn so that peers go down
 * and rejoin, modeled timing) is run uninterrupted, then with checkpoints, then resumed
 * from a checkpoint; the summaries (wall time aside) and every table of the traces
 * (loss, boundaries, events, phases, samples, peers, ...) must be equal, bit for bit.
 * Then the refusals: another scenario, another schema version, an incomplete or
 * truncated file, a modeled scenario -- each EXIT_INPUT with its reason, and the trace
 * the resumed run would write is left as it was.
 */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/h5util.h"
#include "sim/live/live_ckpt.h"
#include "sim/live/live_data.h"
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

/* One run of cfg (with sets) through sim_run_scenario. */
static void run(const char *cfg, const char **sets, int n_sets, const char *trace_path,
                const char *ckpt, const char *resume, int request, run_out *o) {
    memset(o, 0, sizeof *o);
    sim_scenario sc;
    tu_load_ok(cfg, sets, n_sets, &sc);
    o->request = request;
    sim_run_opts ro = {.scenario_path = cfg,
                       .trace_path = trace_path,
                       .colocated = 0,
                       .stop_flag = &o->stop,
                       .checkpoint_path = ckpt,
                       .checkpoint_flag = &o->request,
                       .resume_path = resume,
                       .checkpoint_info = &o->info};
    o->rc = sim_run_scenario(&sc, &ro, &o->sum, o->err, sizeof o->err);
    sim_scenario_free(&sc);
}

/* Checkpoints every 3 cycles of a 4-cycle run, resumed from the one after cycle 3: the
 * same summary, losses and tables as the uninterrupted run, bit for bit. */
START_TEST(test_resume_bit_identical) {
    const char *cfg = rt_scenario("ident", "live", 4);
    const char *ta = rt_path("ident_a.h5"), *tb = rt_path("ident_b.h5"),
               *tc = rt_path("ident_c.h5"), *kb = rt_path("ident_b.ckpt.h5"),
               *kc = rt_path("ident_c.ckpt.h5");
    run_out a, b, c;
    run(cfg, NULL, 0, ta, NULL, NULL, 0, &a);
    ck_assert_msg(a.rc == 0, "%s", a.err);
    ck_assert_int_eq(a.sum.cycles, 4);
    ck_assert_int_eq(a.info.written, 0);
    const char *every[] = {"output.checkpoint_every=3"};
    run(cfg, every, 1, tb, kb, NULL, 0, &b);
    ck_assert_msg(b.rc == 0, "%s", b.err);
    ck_assert_int_eq(b.info.written, 1);
    ck_assert_int_eq(b.info.last_cycle, 2);
    rt_same_summary(&a.sum, &b.sum); /* writing checkpoints changes nothing */
    /* resumed without the output.* override: it is not part of the identity */
    run(cfg, NULL, 0, tc, kc, kb, 0, &c);
    ck_assert_msg(c.rc == 0, "%s", c.err);
    ck_assert_int_eq(c.info.resumed_cycle, 2);
    ck_assert_int_gt(c.info.tasks_replayed, 100);
    ck_assert_int_eq(c.sum.complete, 1);
    ck_assert_msg(memcmp(&a.sum.loss_final, &c.sum.loss_final, sizeof(double)) == 0 &&
                      memcmp(&a.sum.val_loss_final, &c.sum.val_loss_final, sizeof(double)) == 0,
                  "final losses %.17g / %.17g vs %.17g / %.17g", a.sum.loss_final,
                  a.sum.val_loss_final, c.sum.loss_final, c.sum.val_loss_final);
    ck_assert(isfinite(c.sum.loss_final));
    rt_same_summary(&a.sum, &c.sum);
    /* the churn did its part: peers went down (and rejoined) in the replayed cycles */
    trace_file *tf;
    char err[512];
    ck_assert_msg(trace_read_open(ta, &tf, err, sizeof err) == 0, "%s", err);
    void *recs;
    size_t n_ev;
    ck_assert_int_eq(trace_read_table(tf, "events", trace_event_fields, trace_event_n_fields,
                                      sizeof(trace_event_rec), &recs, &n_ev),
                     0);
    int downs = 0;
    for (size_t i = 0; i < n_ev; i++) downs += ((trace_event_rec *)recs)[i].kind == TRACE_EV_DOWN;
    ck_assert_msg(downs > 0, "no peer went down: churn is not exercised");
    free(recs);
    trace_read_close(tf);
    size_t rows = 0;
    rt_same_tables(ta, tb, NULL);
    rt_same_tables(ta, tc, &rows);
    ck_assert_uint_gt(rows, 20);
}
END_TEST

/* The request flag (SIGINT/SIGTERM in `orionsim run`): a checkpoint at the next cycle
 * end, then the run stops there; resumed, it ends as the uninterrupted run. */
START_TEST(test_resume_after_request) {
    const char *cfg = rt_scenario("req", "live", 4);
    const char *ta = rt_path("req_a.h5"), *tb = rt_path("req_b.h5"), *tc = rt_path("req_c.h5"),
               *kb = rt_path("req_b.ckpt.h5");
    run_out a, b, c;
    run(cfg, NULL, 0, ta, NULL, NULL, 0, &a);
    ck_assert_msg(a.rc == 0, "%s", a.err);
    run(cfg, NULL, 0, tb, kb, NULL, 1, &b);
    ck_assert_msg(b.rc == 0, "%s", b.err);
    ck_assert_int_eq(b.info.stopped, 1);
    ck_assert_int_eq(b.info.written, 1);
    ck_assert_int_eq(b.info.last_cycle, 0);
    ck_assert_int_eq(b.stop, 1);
    ck_assert_int_eq(b.sum.complete, 0);
    ck_assert_int_eq(b.sum.cycles, 1);
    /* the resumed run checkpoints in turn (every cycle: after cycles 2, 3 and 4) */
    const char *kc = rt_path("req_c.ckpt.h5"), *td = rt_path("req_d.h5");
    const char *every[] = {"output.checkpoint_every=1"};
    run(cfg, every, 1, tc, kc, kb, 0, &c);
    ck_assert_msg(c.rc == 0, "%s", c.err);
    ck_assert_int_eq(c.info.resumed_cycle, 0);
    ck_assert_int_eq(c.info.written, 3);
    ck_assert_int_eq(c.info.last_cycle, 3);
    rt_same_summary(&a.sum, &c.sum);
    rt_same_tables(ta, tc, NULL);
    /* and resuming from the checkpoint of the last cycle end just ends the run */
    run_out d;
    run(cfg, NULL, 0, td, NULL, kc, 0, &d);
    ck_assert_msg(d.rc == 0, "%s", d.err);
    ck_assert_int_eq(d.info.resumed_cycle, 3);
    rt_same_summary(&a.sum, &d.sum);
    rt_same_tables(ta, td, NULL);
}
END_TEST

/* The layout results/README.md documents: per peer and stage a flat fp32 vector whose
 * tensor table tiles it; the attributes a reader needs. */
START_TEST(test_checkpoint_layout) {
    const char *cfg = rt_scenario("lay", "live", 4);
    const char *t = rt_path("lay.h5"), *k = rt_path("lay.ckpt.h5");
    run_out o;
    const char *every[] = {"output.checkpoint_every=2"};
    run(cfg, every, 1, t, k, NULL, 0, &o);
    ck_assert_msg(o.rc == 0, "%s", o.err);
    ck_assert_int_eq(o.info.written, 2);
    h5u_quiet();
    hid_t f = H5Fopen(k, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    char err[512], *kind = NULL;
    int64_t v;
    ck_assert_int_eq(h5u_read_attr_str(f, "kind", &kind, err, sizeof err), 0);
    ck_assert_str_eq(kind, LIVE_CKPT_KIND);
    free(kind);
    ck_assert_int_eq(h5u_read_attr_i64(f, "checkpoint_schema_version", &v, err, sizeof err), 0);
    ck_assert_int_eq(v, LIVE_CKPT_SCHEMA_VERSION);
    ck_assert_int_eq(h5u_read_attr_i64(f, "cycles_done", &v, err, sizeof err), 0);
    ck_assert_int_eq(v, 4);
    for (int s = 0; s < 2; s++) {
        typedef struct {
            char name[48];
            int64_t offset;
            int32_t rows, cols;
        } trow;
        static const sim_field tf[] = {
            SIM_STR(trow, name, "", NULL, ""), SIM_I64(trow, offset, "1", NULL, ""),
            SIM_I32(trow, rows, "1", NULL, ""), SIM_I32(trow, cols, "1", NULL, "")};
        char name[64];
        snprintf(name, sizeof name, "stages/%d/tensors", s);
        void *recs;
        size_t n;
        ck_assert_msg(h5u_table_read(f, name, tf, 4, sizeof(trow), &recs, &n, err, sizeof err) == 0,
                      "%s", err);
        const trow *r = recs;
        int64_t total = 0;
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_eq(r[i].offset, total); /* contiguous, in order */
            total += (int64_t)r[i].rows * r[i].cols;
        }
        ck_assert(n > 3);
        free(recs);
        for (int p = 0; p < 4; p++) {
            int64_t stage = -1;
            snprintf(name, sizeof name, "peers/%d", p);
            hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
            ck_assert_int_ge(g, 0);
            ck_assert_int_eq(h5u_read_attr_i64(g, "stage", &stage, err, sizeof err), 0);
            H5Gclose(g);
            if (stage != s) continue;
            const char *what[] = {"params", "grads", "adam_m", "adam_v"};
            for (int w = 0; w < 4; w++) {
                snprintf(name, sizeof name, "peers/%d/%s", p, what[w]);
                hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
                ck_assert_msg(d >= 0, "no %s", name);
                hid_t sp = H5Dget_space(d);
                hsize_t dims[1];
                ck_assert_int_eq(H5Sget_simple_extent_ndims(sp), 1);
                H5Sget_simple_extent_dims(sp, dims, NULL);
                ck_assert_int_eq((int64_t)dims[0], total);
                H5Sclose(sp);
                H5Dclose(d);
            }
        }
    }
    H5Fclose(f);
}
END_TEST

/* A resume that must be refused: EXIT_INPUT, the reason, the trace left as it was. */
static void refused(const char *cfg, const char **sets, int n_sets, const char *ckpt,
                    const char *tpath, const char *reason) {
    long n0, n1;
    char *before = rt_slurp(tpath, &n0);
    run_out o;
    run(cfg, sets, n_sets, tpath, NULL, ckpt, 0, &o);
    ck_assert_int_eq(o.rc, EXIT_INPUT);
    ck_assert_msg(strstr(o.err, reason) != NULL, "expected '%s' in: %s", reason, o.err);
    ck_assert_msg(strstr(o.err, ckpt) != NULL || strstr(o.err, "--resume"), "no path in: %s",
                  o.err);
    char *after = rt_slurp(tpath, &n1);
    ck_assert_msg(n0 == n1 && memcmp(before, after, (size_t)n0) == 0, "%s was overwritten", tpath);
    free(before);
    free(after);
}

START_TEST(test_resume_refused) {
    const char *cfg = rt_scenario("bad", "live", 4);
    const char *t = rt_path("bad.h5"), *k = rt_path("bad.ckpt.h5"), *x = rt_path("bad_x.h5");
    run_out o;
    const char *every[] = {"output.checkpoint_every=1"};
    run(cfg, every, 1, t, k, NULL, 0, &o);
    ck_assert_msg(o.rc == 0, "%s", o.err);
    /* another scenario: an override, or another file */
    const char *seed[] = {"seed=6"};
    refused(cfg, seed, 1, k, t, "another scenario");
    const char *other = rt_scenario("bad2", "live", 4);
    refused(other, NULL, 0, k, t, "another scenario");
    /* a modeled scenario has no checkpoints */
    const char *modeled = rt_scenario("bad3", "modeled", 4);
    refused(modeled, NULL, 0, k, t, "modeled");
    /* truncated: half of the file, or its first kilobyte */
    long len;
    free(rt_slurp(k, &len));
    rt_copy_file(k, x, len / 2);
    refused(cfg, NULL, 0, x, t, "truncated");
    rt_copy_file(k, x, 1024);
    refused(cfg, NULL, 0, x, t, "truncated");
    /* not HDF5 at all, a missing file */
    rt_copy_file(cfg, x, -1);
    refused(cfg, NULL, 0, x, t, "not an HDF5 file");
    refused(cfg, NULL, 0, rt_path("none.h5"), t, "cannot read");
    /* another schema version; a file whose writing was cut short (no `complete`) */
    char err[512];
    rt_copy_file(k, x, -1);
    hid_t f = H5Fopen(x, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    ck_assert_int_eq(h5u_attr_i64(f, "checkpoint_schema_version", 99, err, sizeof err), 0);
    H5Fclose(f);
    refused(cfg, NULL, 0, x, t, "schema version 99");
    rt_copy_file(k, x, -1);
    f = H5Fopen(x, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(H5Adelete(f, "complete"), 0);
    H5Fclose(f);
    refused(cfg, NULL, 0, x, t, "incomplete");
    /* a damaged tensor: one dataset gone */
    rt_copy_file(k, x, -1);
    f = H5Fopen(x, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(H5Ldelete(f, "peers/1/adam_v", H5P_DEFAULT), 0);
    H5Fclose(f);
    refused(cfg, NULL, 0, x, t, "peers/1/adam_v");
    /* the trace path is the checkpoint itself */
    run(cfg, NULL, 0, k, NULL, k, 0, &o);
    ck_assert_int_eq(o.rc, EXIT_INPUT);
    ck_assert_msg(strstr(o.err, "would overwrite"), "%s", o.err);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("resume");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, tu_setup_dirs, tu_cleanup_dirs);
    tcase_add_test(tc, test_resume_bit_identical);
    tcase_add_test(tc, test_resume_after_request);
    tcase_add_test(tc, test_checkpoint_layout);
    tcase_add_test(tc, test_resume_refused);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
