/* tests/sim/cli/test_flows_csv.c: `orionsim flows NET.cfg FLOWS.csv [-o OUT]`, the CSV fast path
 * (sim/flows/flows_csv.h): hand-computed finish times, the same bytes as the libconfig
 * path, every bad row refused as "FILE:LINE: column: message" with exit 2, and an existing
 * OUT left as it was when the input is bad. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/flows/flows_csv.h"
#include "sim/flows/flows_file.h"
#include "tests/check_main.h"

static char dir[64];

static const char net_text[] =
    "regions = (\"r0\", \"r1\");\n"
    "latency_ms = ( (0.5, 20.0), (20.0, 0.5) );\n"
    "nodes = (\n"
    "  { name = \"a\"; region = \"r0\"; up_mbps = 100.0; down_mbps = 200.0; },\n"
    "  { name = \"b\"; region = \"r1\"; up_mbps = 100.0; down_mbps = 200.0; },\n"
    "  { name = \"c\"; region = \"r0\"; up_mbps = 100.0; down_mbps = 200.0; }\n"
    ");\n";

static char *path_of(const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *write_file(const char *name, const char *text) {
    char *p = path_of(name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

static char *read_file(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    char *buf = xcalloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

typedef struct {
    int rc;
    char *out, *err;
} result;

/* flows_main with args (NULL-terminated), stdout and stderr captured. */
static result run(const char *const *args) {
    char *argv[16];
    int argc = 0;
    argv[argc++] = "flows";
    for (; args[argc - 1]; argc++) argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    result r;
    size_t no, ne;
    FILE *out = open_memstream(&r.out, &no), *err = open_memstream(&r.err, &ne);
    r.rc = flows_main(argc, argv, out, err);
    fclose(out);
    fclose(err);
    return r;
}

static void result_free(result *r) {
    free(r->out);
    free(r->err);
}

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/orionsim-flowscsv-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

START_TEST(test_csv_hand_values_and_same_as_libconfig) {
    char *net = write_file("net.cfg", net_text);
    /* a -> c: 4e6 bits at 100 Mbit/s after 0.5 ms; b -> a: 8e6 bits at 100 Mbit/s (b's
     * uplink) after 20 ms; a -> b (20 ms) and a -> c (0.5 ms) both begin at 3.020 and
     * share a's uplink, 2e6 bits each at 50 Mbit/s; 0 bytes: the latency alone */
    char *csv = write_file("flows.csv", "flow,src,dst,bytes,start_s\r\n"
                                        "0,a,c,500000,0.0\r\n"
                                        "1,b,a,1000000,1.5\r\n"
                                        "2,a,b,250000,3\r\n"
                                        "3,a,c,250000,3.0195\r\n"
                                        "4,c,a,0,1e-3");
    const char *args[] = {net, csv, NULL};
    result r = run(args);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "flow,src,dst,bytes,start_s,finish_s\n"
                            "0,a,c,500000,0.000000000,0.040500000\n"
                            "1,b,a,1000000,1.500000000,1.600000000\n"
                            "2,a,b,250000,3.000000000,3.060000000\n"
                            "3,a,c,250000,3.019500000,3.060000000\n"
                            "4,c,a,0,0.001000000,0.001500000\n");
    /* the same flows in one libconfig file: the same bytes */
    char cfg[4096];
    snprintf(cfg, sizeof cfg,
             "%sflows = (\n"
             "  { src = \"a\"; dst = \"c\"; bytes = 500000; start_s = 0.0; },\n"
             "  { src = \"b\"; dst = \"a\"; bytes = 1000000; start_s = 1.5; },\n"
             "  { src = \"a\"; dst = \"b\"; bytes = 250000; start_s = 3.0; },\n"
             "  { src = \"a\"; dst = \"c\"; bytes = 250000; start_s = 3.0195; },\n"
             "  { src = \"c\"; dst = \"a\"; bytes = 0; start_s = 1e-3; }\n);\n",
             net_text);
    char *mix = write_file("mix.cfg", cfg);
    const char *margs[] = {mix, NULL};
    result m = run(margs);
    ck_assert_int_eq(m.rc, 0);
    ck_assert_str_eq(m.out, r.out);
    /* -o: the same text in the file, nothing on stdout */
    char *out = path_of("out.csv");
    const char *oargs[] = {net, "-o", out, csv, NULL};
    result o = run(oargs);
    ck_assert_int_eq(o.rc, 0);
    ck_assert_str_eq(o.out, "");
    char *got = read_file(out);
    ck_assert_str_eq(got, r.out);
    free(got);
    result_free(&r);
    result_free(&m);
    result_free(&o);
    free(net);
    free(csv);
    free(mix);
    free(out);
}
END_TEST

/* A CSV with `text` is refused: exit 2, message "FILE:LINE: column: ..." containing want. */
static void expect_bad(const char *text, int line, const char *col, const char *want) {
    char *net = write_file("net.cfg", net_text);
    char *csv = write_file("bad.csv", text);
    char *out = write_file("keep.csv", "precious\n");
    const char *args[] = {net, csv, "-o", out, NULL};
    result r = run(args);
    ck_assert_msg(r.rc == EXIT_INPUT, "accepted: %s", text);
    char head[256];
    snprintf(head, sizeof head, "%s:%d: %s: ", csv, line, col);
    ck_assert_msg(!strncmp(r.err, head, strlen(head)) && strstr(r.err, want),
                  "message '%s' is not '%s...%s'", r.err, head, want);
    char *kept = read_file(out);
    ck_assert_str_eq(kept, "precious\n");
    free(kept);
    result_free(&r);
    free(net);
    free(csv);
    free(out);
}

START_TEST(test_csv_bad_rows) {
    const char *H = "flow,src,dst,bytes,start_s\n";
    char t[512];
    expect_bad("", 1, "header", "the file is empty");
    expect_bad("flow,src,dst,bytes\n0,a,b,1,0\n", 1, "header", "expected \"flow,src,dst");
    expect_bad("src,dst,bytes,start_s,flow\n", 1, "header", "found \"src,dst");
#define BAD(row, line, col, want)                                                                  \
    do {                                                                                           \
        snprintf(t, sizeof t, "%s%s", H, row);                                                     \
        expect_bad(t, line, col, want);                                                            \
    } while (0)
    BAD("0,a,b,1\n", 2, "line", "expected 5 columns (flow,src,dst,bytes,start_s), found 4");
    BAD("0,a,b,1,0,9\n", 2, "line", "found 6");
    BAD("0,a,b,1,0\n\n1,a,b,1,0\n", 3, "line", "empty line");
    BAD("1,a,b,1,0\n", 2, "flow", "expected 0 (flows are numbered 0, 1, 2, ... in order)");
    BAD("0,a,b,1,0\n0,a,b,1,0\n", 3, "flow", "expected 1");
    BAD("x,a,b,1,0\n", 2, "flow", "got \"x\"");
    BAD("0,z,b,1,0\n", 2, "src", "unknown node \"z\"");
    BAD("0,a,,1,0\n", 2, "dst", "unknown node \"\"");
    BAD("0,\"a\",b,1,0\n", 2, "src", "unknown node \"\"a\"\"");
    BAD("0,a,a,1,0\n", 2, "dst", "same node as src (\"a\")");
    BAD("0,a,b,-5,0\n", 2, "bytes", "\"-5\" is not an integer number of bytes >= 0");
    BAD("0,a,b,1.5,0\n", 2, "bytes", "not an integer");
    BAD("0,a,b,,0\n", 2, "bytes", "not an integer");
    BAD("0,a,b,9007199254740992,0\n", 2, "bytes", "too large (max 2^53 - 1)");
    BAD("0,a,b,99999999999999999999,0\n", 2, "bytes", "not an integer");
    BAD("0,a,b,1,abc\n", 2, "start_s", "\"abc\" is not a finite number of seconds");
    BAD("0,a,b,1,\n", 2, "start_s", "is not a finite number");
    BAD("0,a,b,1,1.5s\n", 2, "start_s", "is not a finite number");
    BAD("0,a,b,1,inf\n", 2, "start_s", "is not a finite number");
    BAD("0,a,b,1,nan\n", 2, "start_s", "is not a finite number");
    BAD("0,a,b,1,-1\n", 2, "start_s", "must be in [0, 1e+09] (got -1)");
    BAD("0,a,b,1,1e10\n", 2, "start_s", "must be in [0, 1e+09]");
    BAD("0,a,b,1,1\n1,b,a,1,2\n2,c,q,1,3\n", 4, "dst", "unknown node \"q\"");
#undef BAD
    /* a NUL byte inside a name: an unknown node, not "a" */
    {
        char *net0 = write_file("net.cfg", net_text);
        char *nul = path_of("nul.csv");
        FILE *f = fopen(nul, "wb");
        ck_assert_ptr_nonnull(f);
        static const char row[] = "flow,src,dst,bytes,start_s\n0,a\0,b,1,0\n";
        ck_assert_uint_eq(fwrite(row, 1, sizeof row - 1, f), sizeof row - 1);
        ck_assert_int_eq(fclose(f), 0);
        const char *an[] = {net0, nul, NULL};
        result rn = run(an);
        ck_assert_int_eq(rn.rc, EXIT_INPUT);
        ck_assert_msg(strstr(rn.err, ":2: src: unknown node \"a?\""), "%s", rn.err);
        result_free(&rn);
        free(net0);
        free(nul);
    }
    /* missing files, and flows given twice */
    char *net = write_file("net.cfg", net_text);
    char *none = path_of("none.csv");
    const char *a1[] = {net, none, NULL};
    result r = run(a1);
    ck_assert_int_eq(r.rc, EXIT_INPUT);
    ck_assert_msg(strstr(r.err, "none.csv: cannot open"), "%s", r.err);
    result_free(&r);
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "%sflows = ( { src = \"a\"; dst = \"b\"; bytes = 1; start_s = 0.0; } );\n", net_text);
    char *mix = write_file("mix.cfg", cfg);
    char *csv = write_file("ok.csv", "flow,src,dst,bytes,start_s\n0,a,b,1,0\n");
    const char *a2[] = {mix, csv, NULL};
    r = run(a2);
    ck_assert_int_eq(r.rc, EXIT_INPUT);
    ck_assert_msg(strstr(r.err, "flows: 1 flows here and a CSV flow list"), "%s", r.err);
    result_free(&r);
    /* a network file without flows needs the CSV */
    const char *a3[] = {net, NULL};
    r = run(a3);
    ck_assert_int_eq(r.rc, EXIT_INPUT);
    ck_assert_msg(strstr(r.err, "flows: missing (required)"), "%s", r.err);
    result_free(&r);
    const char *a4[] = {net, csv, csv, NULL};
    r = run(a4);
    ck_assert_int_eq(r.rc, EXIT_INPUT);
    result_free(&r);
    const char *a5[] = {net, csv, "-o", NULL};
    r = run(a5);
    ck_assert_int_eq(r.rc, EXIT_INPUT);
    result_free(&r);
    free(net);
    free(none);
    free(mix);
    free(csv);
}
END_TEST

/* Equal start times keep input order; a start at the same nanosecond as another flow's
 * latency timer comes first (the order of start events all scheduled up front). */
START_TEST(test_csv_ties_and_order) {
    char *net = write_file("net.cfg", net_text);
    char *csv = write_file("ties.csv", "flow,src,dst,bytes,start_s\n"
                                       "0,a,c,250000,0.0195\n"
                                       "1,a,b,250000,0\n"
                                       "2,a,c,250000,0.0195\n"
                                       "3,c,b,0,0.02");
    const char *args[] = {net, csv, NULL};
    result r = run(args);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    /* a's uplink (100 Mbit/s) shared by 3 flows from 20 ms: 2e6 bits each */
    ck_assert_str_eq(r.out, "flow,src,dst,bytes,start_s,finish_s\n"
                            "0,a,c,250000,0.019500000,0.080000000\n"
                            "1,a,b,250000,0.000000000,0.080000000\n"
                            "2,a,c,250000,0.019500000,0.080000000\n"
                            "3,c,b,0,0.020000000,0.040000000\n");
    result_free(&r);
    free(net);
    free(csv);
}
END_TEST

static Suite *flows_csv_suite(void) {
    Suite *s = suite_create("flows_csv");
    TCase *tc = tcase_create("flows_csv");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_csv_hand_values_and_same_as_libconfig);
    tcase_add_test(tc, test_csv_bad_rows);
    tcase_add_test(tc, test_csv_ties_and_order);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = flows_csv_suite)
