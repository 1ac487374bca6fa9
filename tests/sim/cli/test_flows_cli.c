/* tests/sim/cli/test_flows_cli.c: `orionsim flows FILE` end to end: files written to a temporary
 * directory, the CSV checked against hand-computed times, and every kind of bad input
 * checked for its exit code and its "FILE:LINE: key: message". */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/flows/flows_file.h"
#include "sim/base/util.h"
#include "tests/check_main.h"

static char dir[64];
static char path[128];

/* The base file; variants replace one line (1-based) by other text. */
static const char *const base[] = {
    "regions = (\"r0\", \"r1\");",
    "latency_ms = ( (0.5, 20.0), (20.0, 0.5) );",
    "nodes = (",
    "  { name = \"a\"; region = \"r0\"; up_mbps = 100.0; down_mbps = 200.0; },",
    "  { name = \"b\"; region = \"r1\"; up_mbps = 100.0; down_mbps = 200.0; },",
    "  { name = \"c\"; region = \"r0\"; up_mbps = 100.0; down_mbps = 200.0; }",
    ");",
    "flows = (",
    "  { src = \"a\"; dst = \"b\"; bytes = 1000000; start_s = 0.0; },",
    "  { src = \"b\"; dst = \"a\"; bytes = 1000000; start_s = 0.1; },",
    "  { src = \"a\"; dst = \"c\"; bytes = 500000; start_s = 0.0; }",
    ");",
};
enum { BASE_LINES = sizeof base / sizeof base[0] };

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/orionsim-flows-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/net.cfg", dir);
}

static void teardown(void) {
    unlink(path);
    rmdir(dir);
}

static void write_text(const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Base file with line `line` replaced by `repl` (line 0: no change), plus `extra`
 * appended at the end. */
static void write_variant(int line, const char *repl, const char *extra) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 1; i <= BASE_LINES; i++) fprintf(f, "%s\n", i == line ? repl : base[i - 1]);
    if (extra) fprintf(f, "%s\n", extra);
    ck_assert_int_eq(fclose(f), 0);
}

static char *slurp(FILE *f) {
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Run `orionsim flows ARGS...`; returns the exit code; stdout and stderr go to *out, *err. */
static int run_args(int argc, char **argv, char **out, char **err) {
    FILE *o = tmpfile(), *e = tmpfile();
    ck_assert_ptr_nonnull(o);
    ck_assert_ptr_nonnull(e);
    int rc = flows_main(argc, argv, o, e);
    *out = slurp(o);
    *err = slurp(e);
    return rc;
}

static int run_file(char **out, char **err) {
    char *argv[] = {"flows", path, NULL};
    return run_args(2, argv, out, err);
}

/* The file must be rejected with exit 2 and "PATH:LINE: what" on stderr. */
static void expect_error(int line, const char *what) {
    char *out, *err, want[512];
    int rc = run_file(&out, &err);
    snprintf(want, sizeof want, "%s:%d: %s", path, line, what);
    ck_assert_msg(rc == EXIT_INPUT, "exit %d, stderr: %s", rc, err);
    ck_assert_msg(strstr(err, want) != NULL, "want \"%s\" in stderr: %s", want, err);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
}

START_TEST(test_good_file) {
    /* a->c starts at 0.5 ms alone on up(a) (100 Mb/s); a->b joins at 20 ms: both 50 Mb/s.
     * a->c: 1.95 Mb by 20 ms, 2.05 Mb more at 50 -> 61 ms. a->b: 2.05 Mb by 61 ms, then
     * 5.95 Mb at 100 -> 120.5 ms. b->a: 0.1 s + 20 ms + 8 Mb / 100 Mb/s = 0.2 s. */
    write_variant(0, NULL, NULL);
    char *out, *err;
    ck_assert_int_eq(run_file(&out, &err), 0);
    ck_assert_str_eq(out, "flow,src,dst,bytes,start_s,finish_s\n"
                          "0,a,b,1000000,0.000000000,0.120500000\n"
                          "1,b,a,1000000,0.100000000,0.200000000\n"
                          "2,a,c,500000,0.000000000,0.061000000\n");
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
}
END_TEST

START_TEST(test_optional_keys) {
    /* A 10 Mb/s storage front end on c's incoming flows, an override a<->b of 3 ms,
     * a 64-bit byte count. a->c (5e9 B = 40 Gb) alone on the front end at 10 Mb/s. */
    write_variant(
        11, "  { src = \"a\"; dst = \"c\"; bytes = 5000000000L; start_s = 0.0; }",
        "links = ( { name = \"fe\"; mbps = 10.0; nodes_in = (\"c\"); nodes_out = (); } );\n"
        "pair_latency_ms = ( { a = \"b\"; b = \"a\"; ms = 3.0; } );\n"
        "tcp_window_bytes = 0;\n"
        "ideal = false;");
    char *out, *err;
    ck_assert_int_eq(run_file(&out, &err), 0);
    /* b->a: 0.1 + 0.003 + 0.08; a->b from 3 ms: shares up(a) (100) with a->c, which the
     * front end holds at 10: a->b gets 90 Mb/s -> 8e6/90e6 s = 88888888.9 ns, rounded up. */
    ck_assert_str_eq(out, "flow,src,dst,bytes,start_s,finish_s\n"
                          "0,a,b,1000000,0.000000000,0.091888889\n"
                          "1,b,a,1000000,0.100000000,0.183000000\n"
                          "2,a,c,5000000000,0.000000000,4000.000500000\n");
    free(out);
    free(err);
}
END_TEST

START_TEST(test_ideal_and_window) {
    write_variant(0, NULL, "ideal = true;");
    char *out, *err;
    ck_assert_int_eq(run_file(&out, &err), 0);
    ck_assert_str_eq(out, "flow,src,dst,bytes,start_s,finish_s\n"
                          "0,a,b,1000000,0.000000000,0.000000000\n"
                          "1,b,a,1000000,0.100000000,0.100000000\n"
                          "2,a,c,500000,0.000000000,0.000000000\n");
    free(out);
    free(err);
    /* window 100000 B over RTT 40 ms: 20 Mb/s cap for a<->b; 1 ms RTT for a->c: 800 Mb/s. */
    write_variant(0, NULL, "tcp_window_bytes = 100000;");
    ck_assert_int_eq(run_file(&out, &err), 0);
    /* a->c alone from 0.5 ms at 100 (its cap is 800): 1.95 Mb by 20 ms; then a->b joins at
     * its cap of 20 and a->c gets 80: 2.05 Mb / 80 Mb/s = 25.625 ms -> 45.625 ms. a->b:
     * 8 Mb at 20 Mb/s = 0.4 s -> 0.42 s. b->a: 0.12 s + 0.4 s. */
    ck_assert_str_eq(out, "flow,src,dst,bytes,start_s,finish_s\n"
                          "0,a,b,1000000,0.000000000,0.420000000\n"
                          "1,b,a,1000000,0.100000000,0.520000000\n"
                          "2,a,c,500000,0.000000000,0.045625000\n");
    free(out);
    free(err);
}
END_TEST

START_TEST(test_bad_inputs) {
    /* syntax */
    write_variant(2, "latency_ms = ( (0.5, 20.0), (20.0, 0.5) ", NULL);
    expect_error(3, "syntax error");
    /* unknown keys, at the root and in a group */
    write_variant(0, NULL, "colour = \"blue\";");
    expect_error(13, "colour: unknown key");
    write_variant(
        5, "  { name = \"b\"; region = \"r1\"; up_mbps = 100.0; down_mbps = 200.0; colour = 1; },",
        NULL);
    expect_error(5, "nodes[1].colour: unknown key");
    /* wrong types */
    write_variant(4, "  { name = \"a\"; region = \"r0\"; up_mbps = \"fast\"; down_mbps = 200.0; },",
                  NULL);
    expect_error(4, "nodes[0].up_mbps: must be a number");
    write_variant(1, "regions = \"r0\";", NULL);
    expect_error(1, "regions: must be a list of strings");
    write_variant(9, "  { src = \"a\"; dst = \"b\"; bytes = 1e6; start_s = 0.0; },", NULL);
    expect_error(9, "flows[0].bytes: must be an integer");
    write_variant(0, NULL, "ideal = 1;");
    expect_error(13, "ideal: must be true or false");
    /* missing keys */
    write_variant(5, "  { name = \"b\"; region = \"r1\"; up_mbps = 100.0; },", NULL);
    expect_error(5, "nodes[1].down_mbps: missing");
    write_variant(10, "  { src = \"b\"; dst = \"a\"; bytes = 1000000; },", NULL);
    expect_error(10, "flows[1].start_s: missing");
    write_text("regions = (\"r0\");\nlatency_ms = ((1.0));\n"
               "nodes = ({ name = \"a\"; region = \"r0\"; up_mbps = 1.0; down_mbps = 1.0; });\n");
    expect_error(1, "flows: missing");
    /* capacities */
    write_variant(4, "  { name = \"a\"; region = \"r0\"; up_mbps = 0; down_mbps = 200.0; },", NULL);
    expect_error(4, "nodes[0].up_mbps: must be > 0");
    write_variant(6, "  { name = \"c\"; region = \"r0\"; up_mbps = 100.0; down_mbps = -5.0; }",
                  NULL);
    expect_error(6, "nodes[2].down_mbps: must be > 0");
    /* the latency matrix */
    write_variant(2, "latency_ms = ( (0.5, 20.0), (20.0, 0.5, 3.0) );", NULL);
    expect_error(2, "latency_ms[1]: must have 2 entries");
    write_variant(2, "latency_ms = ( (0.5, 20.0) );", NULL);
    expect_error(2, "latency_ms: must have 2 rows");
    write_variant(2, "latency_ms = ( (0.5, -20.0), (20.0, 0.5) );", NULL);
    expect_error(2, "latency_ms[0][1]: latency -20 ms is out of");
    /* names */
    write_variant(5, "  { name = \"b\"; region = \"r9\"; up_mbps = 100.0; down_mbps = 200.0; },",
                  NULL);
    expect_error(5, "nodes[1].region: unknown region \"r9\"");
    write_variant(6, "  { name = \"a\"; region = \"r0\"; up_mbps = 100.0; down_mbps = 200.0; }",
                  NULL);
    expect_error(6, "nodes[2].name: duplicate node name \"a\"");
    write_variant(1, "regions = (\"r0\", \"r0\");", NULL);
    expect_error(1, "regions[1]: duplicate region");
    write_variant(11, "  { src = \"q\"; dst = \"c\"; bytes = 500000; start_s = 0.0; }", NULL);
    expect_error(11, "flows[2].src: unknown node \"q\"");
    write_variant(11, "  { src = \"c\"; dst = \"c\"; bytes = 500000; start_s = 0.0; }", NULL);
    expect_error(11, "flows[2].dst: same node as src");
    /* flows */
    write_variant(9, "  { src = \"a\"; dst = \"b\"; bytes = -1; start_s = 0.0; },", NULL);
    expect_error(9, "flows[0].bytes: must be >= 0");
    write_variant(10, "  { src = \"b\"; dst = \"a\"; bytes = 1000000; start_s = -0.5; },", NULL);
    expect_error(10, "flows[1].start_s: must be >= 0");
    write_variant(9, "  { src = \"a\"; dst = \"b\"; bytes = 12000000000; start_s = 0.0; },", NULL);
    expect_error(9, "integer 12000000000 does not fit in 32 bits");
    /* optional sections */
    write_variant(0, NULL, "links = ( { name = \"fe\"; mbps = 0.0; } );");
    expect_error(13, "links[0].mbps: must be > 0");
    write_variant(0, NULL,
                  "links = ( { name = \"fe\"; mbps = 10.0; nodes_out = (\"a\", \"z\"); } );");
    expect_error(13, "links[0].nodes_out[1]: unknown node \"z\"");
    write_variant(0, NULL, "pair_latency_ms = ( { a = \"a\"; b = \"a\"; ms = 1.0; } );");
    expect_error(13, "pair_latency_ms[0]: a and b are the same node");
    write_variant(0, NULL, "pair_latency_ms = ( { a = \"a\"; b = \"b\"; ms = -1.0; } );");
    expect_error(13, "pair_latency_ms[0].ms: must be >= 0");
    write_variant(0, NULL, "tcp_window_bytes = -1;");
    expect_error(13, "tcp_window_bytes: must be >= 0");
}
END_TEST

START_TEST(test_command_line) {
    char *out, *err;
    char *help[] = {"flows", "--help", NULL};
    ck_assert_int_eq(run_args(2, help, &out, &err), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: orionsim flows FILE"));
    free(out);
    free(err);
    char *none[] = {"flows", NULL};
    ck_assert_int_eq(run_args(1, none, &out, &err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "usage:"));
    free(out);
    free(err);
    char *bad[] = {"flows", "--fast", path, NULL};
    ck_assert_int_eq(run_args(3, bad, &out, &err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "unknown option '--fast'"));
    free(out);
    free(err);
    char *two[] = {"flows", path, path, NULL};
    ck_assert_int_eq(run_args(3, two, &out, &err), EXIT_INPUT);
    free(out);
    free(err);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/absent.cfg", dir);
    char *gone[] = {"flows", missing, NULL};
    ck_assert_int_eq(run_args(2, gone, &out, &err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, missing));
    ck_assert_ptr_nonnull(strstr(err, "cannot read"));
    free(out);
    free(err);
}
END_TEST

static Suite *flows_cli_suite(void) {
    Suite *s = suite_create("flows_cli");
    TCase *tc = tcase_create("flows");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_good_file);
    tcase_add_test(tc, test_optional_keys);
    tcase_add_test(tc, test_ideal_and_window);
    tcase_add_test(tc, test_bad_inputs);
    tcase_add_test(tc, test_command_line);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = flows_cli_suite)
