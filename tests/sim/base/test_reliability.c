/* tests/sim/base/test_reliability.c: inputs that must be refused at once: non-regular and
 * oversized files, @include of a directory, out-of-range scenario values (message with
 * file:line, key, range and unit), too few tokens, the memory estimate, SIGTERM as a stop
 * request, and a trace whose /peers are out of range. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cli/commands.h"
#include "sim/base/fsutil.h"
#include "sim/base/interrupt.h"
#include "sim/scenario/scenario.h"
#include "sim/trace/trace_read.h"
#include "sim/base/util.h"
#include "tests/check_main.h"

static char dir[64];

static const char *path_in(const char *name) {
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *name, const char *text) {
    FILE *f = fopen(path_in(name), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_file_read_refuses) {
    char err[512];
    ck_assert_ptr_null(sim_file_read("/dev/zero", 1024, NULL, err, sizeof err));
    ck_assert_str_eq(err, "/dev/zero: cannot read: a character device, not a regular file");
    ck_assert_int_eq(mkfifo(path_in("fifo"), 0600), 0);
    ck_assert_ptr_null(sim_file_open(path_in("fifo"), err, sizeof err)); /* never blocks */
    ck_assert_ptr_nonnull(strstr(err, "a FIFO, not a regular file"));
    ck_assert_ptr_null(sim_file_read(dir, 1024, NULL, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "a directory, not a regular file"));
    write_text("big.txt", "0123456789abcdef0123456789");
    ck_assert_ptr_null(sim_file_read(path_in("big.txt"), 16, NULL, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "larger than 16 bytes"));
    size_t n = 0;
    char *t = sim_file_read(path_in("big.txt"), 26, &n, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(n, 26);
    ck_assert_str_eq(t, "0123456789abcdef0123456789");
    free(t);
}
END_TEST

START_TEST(test_include_checked) {
    char err[512];
    const char *text = "a = 1;\n  @include \".\"\n";
    ck_assert_int_eq(sim_file_check_includes(text, "s.cfg", dir, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "s.cfg:2: @include \".\": "));
    ck_assert_ptr_nonnull(strstr(err, "a directory, not a regular file"));
    write_text("inc.cfg", "b = 2;\n");
    ck_assert_int_eq(
        sim_file_check_includes("@include \"inc.cfg\"\n", "s.cfg", dir, err, sizeof err), 0);
    write_text("self.cfg", "@include \"self.cfg\"\n"); /* endless recursion: bounded */
    ck_assert_int_eq(
        sim_file_check_includes("@include \"self.cfg\"\n", "s.cfg", dir, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "nested deeper than 10"));
}
END_TEST

/* tiny.cfg with one --set: 0 or the loader's message. */
static int load_tiny(const char *set, sim_scenario *sc, char *err, size_t errlen) {
    const char *sets[1] = {set};
    return sim_scenario_load("scenarios/tiny.cfg", sets, set ? 1 : 0, sc, err, errlen);
}

START_TEST(test_ranges_named) {
    sim_scenario sc;
    char err[2048];
    ck_assert_int_eq(load_tiny("training.activation_timeout_s=1e-300", &sc, err, sizeof err),
                     EXIT_INPUT);
    ck_assert_str_eq(err, "--set training.activation_timeout_s=1e-300: "
                          "training.activation_timeout_s: 1e-300 is out of range (must be in "
                          "[0.001, 1e+07] s)");
    ck_assert_int_eq(load_tiny("swarm.bandwidth.up_mbps=1e308", &sc, err, sizeof err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "(must be in [1e-06, 1e+07] Mbit/s)"));
    ck_assert_int_eq(load_tiny("network.latency_ms=([1e300])", &sc, err, sizeof err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "(must be in [0, 1e+06] ms)"));
    ck_assert_int_eq(load_tiny("training.max_sim_hours=1e300", &sc, err, sizeof err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "(must be in (0, 1e+06] h)"));
    ck_assert_int_eq(load_tiny("compute.efficiency.forward=1e-300", &sc, err, sizeof err),
                     EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "(must be in [0.001, 1])"));
}
END_TEST

START_TEST(test_tokens_one_microbatch) {
    sim_scenario sc;
    char err[2048];
    /* tiny: 4 x 64 = 256 tokens per microbatch; tokens replaces the base's cycles */
    char text[1024];
    char cwd[256];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text,
             "base = \"%s/scenarios/tiny.cfg\";\nname = \"t\";\ntraining = { tokens = 255.0; };\n",
             cwd);
    write_text("t.cfg", text);
    ck_assert_int_eq(sim_scenario_load(path_in("t.cfg"), NULL, 0, &sc, err, sizeof err),
                     EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "t.cfg:3: training.tokens: 255 is less than one microbatch "
                                      "(256 tokens = microbatch_seqs x seq_len)"));
    snprintf(text, sizeof text,
             "base = \"%s/scenarios/tiny.cfg\";\nname = \"t\";\ntraining = { tokens = 256.0; };\n"
             "swarm = { device_table = \"%s/scenarios/devices.cfg\"; };\n",
             cwd, cwd);
    write_text("t.cfg", text);
    ck_assert_int_eq(sim_scenario_load(path_in("t.cfg"), NULL, 0, &sc, err, sizeof err), 0);
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(test_memory_estimate) {
    sim_scenario sc;
    char err[2048];
    ck_assert_int_eq(load_tiny(NULL, &sc, err, sizeof err), 0);
    sim_memory_estimate m = sim_scenario_memory(&sc);
    /* modeled: 16 KiB per peer + 4 cache slots x 32 B; 4 peers + 64 MB for the process */
    ck_assert_double_eq(m.per_peer_bytes, 16384.0 + 4 * 32.0);
    ck_assert_double_eq(m.total_bytes, 64.0e6 + 4 * (16384.0 + 4 * 32.0));
    sim_scenario_free(&sc);
    const char *sets[2] = {"swarm.replicas=100000", "pipeline.cache_capacity=65536"};
    ck_assert_int_eq(sim_scenario_load("scenarios/tiny.cfg", sets, 2, &sc, err, sizeof err), 0);
    m = sim_scenario_memory(&sc);
    ck_assert_double_gt(m.total_bytes, 4.0e11); /* 2e5 peers x 2.1 MB: refused by `run` */
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(test_sigterm_stops) {
    volatile int *flag = sim_interrupt_install();
    ck_assert_int_eq(*flag, 0);
    raise(SIGTERM);
    ck_assert_int_eq(*flag, 1);
    ck_assert_int_eq(sim_interrupt_signal(), SIGTERM);
    ck_assert_str_eq(sim_interrupt_name(), "SIGTERM");
    sim_interrupt_restore();
    flag = sim_interrupt_install();
    raise(SIGINT);
    ck_assert_str_eq(sim_interrupt_name(), "SIGINT");
    sim_interrupt_restore();
}
END_TEST

START_TEST(test_peers_validated) {
    trace_file *tf;
    char err[1024];
    ck_assert_int_eq(trace_read_open("tests/reliability/plot-timeline-rowtics-heap-overflow.h5",
                                     &tf, err, sizeof err),
                     0);
    trace_peer_rec *p = NULL;
    size_t n = 0;
    ck_assert_int_eq(trace_read_peers(tf, &p, &n), -1);
    ck_assert_str_eq(trace_read_error(tf),
                     "table /peers row 0: stage -1000000000 is out of range (peer = row, stage "
                     "and replica in [0, 10))");
    trace_read_close(tf);
    ck_assert_int_eq(
        trace_read_open("tests/reliability/report-segv-corrupt-2.h5", &tf, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "corrupt HDF5 file"));
}
END_TEST

/* run never replaces a file that is not an orionsim trace without --force */
START_TEST(test_run_keeps_foreign_file) {
    write_text("notes.txt", "my notes\n");
    char out[256];
    snprintf(out, sizeof out, "%s", path_in("notes.txt"));
    char *plain[] = {"run", "scenarios/tiny.cfg", "-q", "--no-colocated", "-o", out, NULL};
    ck_assert_int_eq(cmd_run(6, plain), EXIT_INPUT);
    char *t = sim_file_read(out, 1024, NULL, (char[256]){0}, 256);
    ck_assert_str_eq(t, "my notes\n");
    free(t);
    char *forced[] = {"run", "scenarios/tiny.cfg", "-q", "--no-colocated", "--force", "-o", out,
                      NULL};
    ck_assert_int_eq(cmd_run(7, forced), EXIT_OK);
    ck_assert_int_eq(cmd_run(6, plain), EXIT_OK); /* now an orionsim trace: replaced */
    char *set[] = {"run",   "scenarios/tiny.cfg",
                   "-q",    "--no-colocated",
                   "--set", "output.trace=\"/tmp/orionsim-escaped.h5\"",
                   NULL};
    ck_assert_int_eq(cmd_run(6, set), EXIT_INPUT); /* confined to the working directory */
    ck_assert_int_ne(access("/tmp/orionsim-escaped.h5", F_OK), 0);
}
END_TEST

/* The stderr of cmd_run(argv) (the test runs in a child of its own: fd 2 is ours). */
static int run_capture(int argc, char **argv, char *out, size_t len) {
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path_in("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 2);
    close(fd);
    int rc = cmd_run(argc, argv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char err[256];
    char *t = sim_file_read(path_in("stderr.txt"), 1 << 16, NULL, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    snprintf(out, len, "%s", t);
    free(t);
    return rc;
}

/* output.trace leaving the working directory: an absolute path or ".." is refused when
 * the scenario loads (exit 2, its file:line and key), a symbolic link out of it when run
 * creates the trace (exit 2, the same file:line); the default and -o are not confined */
START_TEST(test_output_trace_where) {
    char cwd[1024], base[1200], text[1400], err[2048], msg[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(base, sizeof base, "%s/scenarios/tiny.cfg", cwd);
    /* the base's device table is found beside the scenario that names the base */
    char *dev = sim_file_read("scenarios/devices.cfg", 1 << 20, NULL, err, sizeof err);
    ck_assert_ptr_nonnull(dev);
    ck_assert_int_eq(mkdir(path_in("work"), 0700), 0);
    write_text("devices.cfg", dev);
    write_text("work/devices.cfg", dev);
    free(dev);
    static const char *const bad[] = {"/tmp/orionsim-escaped.h5", "../x.h5", "a/../../x.h5", "..",
                                      "a//../../b/x.h5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "base = \"%s\";\n\noutput = { trace = \"%s\"; };\n", base,
                 bad[i]);
        write_text("escape.cfg", text);
        sim_scenario sc;
        ck_assert_int_eq(sim_scenario_load(path_in("escape.cfg"), NULL, 0, &sc, err, sizeof err),
                         EXIT_INPUT);
        char want[512];
        snprintf(want, sizeof want, "%s:3: output.trace: '%s' leaves the working directory",
                 path_in("escape.cfg"), bad[i]);
        ck_assert_msg(strstr(err, want) != NULL, "%s", err);
    }
    static const char *const good[] = {"x.h5", "a/b/x.h5", "./x..h5", "a/..b/x.h5"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(text, sizeof text, "base = \"%s\";\noutput = { trace = \"%s\"; };\n", base,
                 good[i]);
        write_text("inside.cfg", text);
        sim_scenario sc;
        ck_assert_msg(sim_scenario_load(path_in("inside.cfg"), NULL, 0, &sc, err, sizeof err) == 0,
                      "%s: %s", good[i], err);
        ck_assert_str_eq(sc.output.trace, good[i]);
        snprintf(msg, sizeof msg, "%s:2", path_in("inside.cfg"));
        ck_assert_str_eq(sc.output.trace_where, msg);
        sim_scenario_free(&sc);
    }
    /* an override is named as such */
    const char *set[] = {"output.trace=\"../up.h5\""};
    sim_scenario sc;
    ck_assert_int_eq(sim_scenario_load("scenarios/tiny.cfg", set, 1, &sc, err, sizeof err),
                     EXIT_INPUT);
    ck_assert_msg(strstr(err, "--set output.trace=\"../up.h5\": output.trace: '../up.h5' leaves "
                              "the working directory") != NULL,
                  "%s", err);
    /* a symbolic link out of the working directory: refused by run with the file:line */
    ck_assert_int_eq(mkdir(path_in("elsewhere"), 0700), 0);
    char target[512];
    snprintf(target, sizeof target, "%s", path_in("elsewhere"));
    ck_assert_int_eq(symlink(target, path_in("work/out")), 0);
    snprintf(text, sizeof text,
             "base = \"%s\";\n# the trace\noutput = { trace = \"out/t.h5\"; };\n", base);
    write_text("work/link.cfg", text);
    ck_assert_int_eq(chdir(path_in("work")), 0);
    char *argv[] = {"run", "link.cfg", "-q", "--no-colocated", NULL};
    ck_assert_int_eq(run_capture(4, argv, msg, sizeof msg), EXIT_INPUT);
    ck_assert_msg(strstr(msg, "orionsim: link.cfg:3: output.trace: 'out/t.h5' leaves the working "
                              "directory") != NULL,
                  "%s", msg);
    ck_assert_ptr_nonnull(strstr(msg, "a symbolic link"));
    ck_assert_int_ne(access(path_in("elsewhere/t.h5"), F_OK), 0);
    /* -o writes anywhere, the scenario's output.trace aside */
    char o[512];
    snprintf(o, sizeof o, "%s", path_in("elsewhere/given.h5"));
    char *argv2[] = {"run", "link.cfg", "-q", "--no-colocated", "-o", o, NULL};
    ck_assert_int_eq(run_capture(6, argv2, msg, sizeof msg), EXIT_OK);
    ck_assert_int_eq(access(o, F_OK), 0);
    ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

static int setup(void) {
    snprintf(dir, sizeof dir, "/tmp/orionsim-rel-XXXXXX");
    return mkdtemp(dir) ? 0 : 1;
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
}

static Suite *reliability_suite(void) {
    Suite *s = suite_create("reliability");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_file_read_refuses);
    tcase_add_test(tc, test_include_checked);
    tcase_add_test(tc, test_ranges_named);
    tcase_add_test(tc, test_tokens_one_microbatch);
    tcase_add_test(tc, test_memory_estimate);
    tcase_add_test(tc, test_sigterm_stops);
    tcase_add_test(tc, test_peers_validated);
    tcase_add_test(tc, test_run_keeps_foreign_file);
    tcase_add_test(tc, test_output_trace_where);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = reliability_suite, .setup = setup, .teardown = teardown)
