/* tests/sim/cli/test_run_cli.c: `orionsim run` stopped by a real SIGINT or SIGTERM in the
 * middle of a live run, then `--resume`d: the stopped run exits 1 with a checkpoint at
 * the default path beside its trace, and the resumed run's trace equals the
 * uninterrupted run's, table for table. Bad checkpoints given to `--resume` exit 2.
 *
 * The signal comes from a thread that waits for the trace file to appear (the handler
 * is installed before it is created), so it always lands in the live run.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim/cli/commands.h"
#include "tests/sim/run/resume_testutil.h"
#include "tests/sim/scenario/scenario_testutil.h"
#include "tests/check_main.h"

typedef struct {
    const char *wait_for;
    int sig;
} signal_job;

static void *send_signal(void *arg) {
    const signal_job *j = arg;
    struct stat st;
    for (int i = 0; i < 20000 && stat(j->wait_for, &st) != 0; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    struct timespec ts = {0, 20000000}; /* into the first cycle */
    nanosleep(&ts, NULL);
    kill(getpid(), j->sig);
    return NULL;
}

static int run_cli(const char **args, int n) {
    char *argv[16];
    ck_assert_int_lt(n, 16);
    for (int i = 0; i < n; i++) argv[i] = (char *)args[i];
    argv[n] = NULL;
    return cmd_run(n, argv);
}

/* An 8-cycle live run stopped by `sig`, resumed, compared with the uninterrupted run. */
static void stop_and_resume(const char *name, int sig) {
    char cname[64], ta[64], tb[64], tc[64], kb[64];
    snprintf(cname, sizeof cname, "%s", name);
    snprintf(ta, sizeof ta, "%s_a.h5", name);
    snprintf(tb, sizeof tb, "%s_b.h5", name);
    snprintf(tc, sizeof tc, "%s_c.h5", name);
    snprintf(kb, sizeof kb, "%s_b.ckpt.h5", name);
    const char *cfg = rt_scenario(cname, "live", 8);
    const char *pa = rt_path(ta), *pb = rt_path(tb), *pc = rt_path(tc), *pk = rt_path(kb);
    const char *full[] = {"run", cfg, "-q", "--no-colocated", "-o", pa};
    ck_assert_int_eq(run_cli(full, 6), EXIT_OK);

    signal_job job = {pb, sig};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, send_signal, &job), 0);
    const char *stopped[] = {"run", cfg, "-q", "--no-colocated", "-o", pb};
    int rc = run_cli(stopped, 6);
    pthread_join(th, NULL);
    ck_assert_msg(rc == EXIT_RUN, "the stopped run exited %d", rc);
    struct stat st;
    ck_assert_msg(stat(pk, &st) == 0, "no checkpoint at %s", pk);
    sim_summary sb;
    trace_file *tf;
    char err[512];
    ck_assert_msg(trace_read_open(pb, &tf, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(trace_read_summary(tf, &sb), 0);
    /* the trace says why it is incomplete */
    ck_assert_msg(strstr(trace_read_info(tf)->end, "interrupt"), "end: '%s'",
                  trace_read_info(tf)->end);
    trace_read_close(tf);
    ck_assert_int_eq(sb.complete, 0);
    ck_assert_msg(sb.cycles >= 1 && sb.cycles < 8, "stopped after %d cycles", sb.cycles);

    const char *resumed[] = {"run", cfg, "-q", "--no-colocated", "-o", pc, "--resume", pk};
    ck_assert_int_eq(run_cli(resumed, 8), EXIT_OK);
    size_t rows = 0;
    rt_same_tables(pa, pc, &rows);
    ck_assert_uint_gt(rows, 30);
}

/* A run that reaches its max_sim limit says so in the trace (root attribute end). */
START_TEST(test_max_sim_stop_is_recorded) {
    const char *out = rt_path("maxsim.h5");
    const char *args[] = {"run", "scenarios/tiny.cfg", "-q", "--no-colocated",
                          "--set", "training.max_sim_hours=0.000001", "-o", out};
    ck_assert_int_eq(run_cli(args, 8), EXIT_OK);
    trace_file *tf;
    char err[512];
    ck_assert_msg(trace_read_open(out, &tf, err, sizeof err) == 0, "%s", err);
    const trace_info *in = trace_read_info(tf);
    ck_assert_int_eq(in->complete, 0);
    ck_assert_msg(strstr(in->end, "stopped at the max_sim limit"), "end: '%s'", in->end);
    trace_read_close(tf);
    /* a complete run has none */
    const char *full[] = {"run", "scenarios/tiny.cfg", "-q", "--no-colocated", "-o", out};
    ck_assert_int_eq(run_cli(full, 6), EXIT_OK);
    ck_assert_msg(trace_read_open(out, &tf, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(trace_read_info(tf)->complete, 1);
    ck_assert_str_eq(trace_read_info(tf)->end, "");
    trace_read_close(tf);
}
END_TEST

START_TEST(test_sigint_then_resume) { stop_and_resume("sigint", SIGINT); }
END_TEST

START_TEST(test_sigterm_then_resume) { stop_and_resume("sigterm", SIGTERM); }
END_TEST

/* --resume refusals through the command line: exit 2. */
START_TEST(test_resume_bad_input) {
    const char *cfg = rt_scenario("clibad", "live", 2);
    const char *t = rt_path("clibad.h5"), *k = rt_path("clibad.ckpt.h5"),
               *x = rt_path("clibad_x.h5");
    const char *first[] = {"run", cfg, "-q",    "--no-colocated",
                           "-o",  t,   "--set", "output.checkpoint_every=1"};
    ck_assert_int_eq(run_cli(first, 8), EXIT_OK);
    const char *other[] = {"run", cfg,     "-q",           "--no-colocated", "-o",
                           x,     "--set", "training.H=3", "--resume",       k};
    ck_assert_int_eq(run_cli(other, 10), EXIT_INPUT);
    const char *missing[] = {"run", cfg, "-q", "-o", x, "--resume", rt_path("nope.ckpt.h5")};
    ck_assert_int_eq(run_cli(missing, 7), EXIT_INPUT);
    const char *itself[] = {"run", cfg, "-q", "-o", k, "--resume", k};
    ck_assert_int_eq(run_cli(itself, 7), EXIT_INPUT);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("run_cli");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_unchecked_fixture(tc, tu_setup_dirs, tu_cleanup_dirs);
    tcase_add_test(tc, test_sigint_then_resume);
    tcase_add_test(tc, test_max_sim_stop_is_recorded);
    tcase_add_test(tc, test_sigterm_then_resume);
    tcase_add_test(tc, test_resume_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
