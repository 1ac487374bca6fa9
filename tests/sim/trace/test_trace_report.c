/* tests/sim/trace/test_trace_report.c: the trace as CSV, the report command on good and bad files, h5dump reading it, and identical runs giving identical files. */
#include "tests/sim/trace/trace_testutil.h"

/* ---- CSV --------------------------------------------------------------------------- */

static char *csv_of_table(const char *path, const char *table) {
    trace_file *tf = NULL;
    char err[512];
    ck_assert_msg(trace_read_open(path, &tf, err, sizeof err) == 0, "%s", err);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_msg(trace_read_table_csv(tf, table, f) == 0, "%s", trace_read_error(tf));
    fclose(f);
    trace_read_close(tf);
    return buf;
}

START_TEST(test_csv_equals_records) {
    const char *path = full_path;

    /* events: the generic (HDF5-introspecting) export equals the field-table CSV */
    char *got = csv_of_table(path, "events");
    char *want = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&want, &len);
    sim_fields_csv_header(f, trace_event_fields, trace_event_n_fields, 0);
    fputc('\n', f);
    for (uint64_t i = 0; i < N_EVENTS; i++) {
        trace_event_rec e = make_event(i);
        sim_fields_csv_row(f, trace_event_fields, trace_event_n_fields, &e, 0);
        fputc('\n', f);
    }
    fclose(f);
    ck_assert_uint_eq(strlen(got), strlen(want));
    ck_assert(!strcmp(got, want));
    static const char head[] = "t_start_ns,t_end_ns,microbatch,bytes,flops,peer,other,kind,"
                               "stage,cycle,inner_step\n0,777,-1,0,0.1,0,-2,0,0,0,-1\n";
    ck_assert(!strncmp(got, head, strlen(head)));
    ck_assert_ptr_nonnull(
        strstr(got, "\n5000015,5005792,1,9223372036854775807,15707963000.1,5,-2,5,1,0,4\n"));
    ck_assert_ptr_nonnull(strstr(got, ",nan,7,"));
    free(got);
    free(want);

    /* peers: literal rows, strings quoted when needed */
    got = csv_of_table(path, "peers");
    ck_assert_str_eq(
        got,
        "peer,stage,replica,gpus,peak_flops,up_bps,down_bps,price_usd_per_h,device,region\n"
        "0,0,0,1,312000000000000,856000000,440666666.6666667,1.25,A100-80GB,us-east\n"
        "1,0,1,1,312000000000000,856000001,440666666.6666667,2.5,A100-80GB,us-east\n"
        "2,1,0,1,312000000000000,856000002,440666666.6666667,3.75,A100-80GB,\"us,east \"\"2\"\"\"\n"
        "3,1,1,1,312000000000000,856000003,440666666.6666667,5,A-device-name-of-23-chr,us-east\n"
        "4,2,0,8,312000000000000,856000004,440666666.6666667,6.25,A100-80GB,us-east\n");
    free(got);

    /* summary: one row equal to sim_summary_csv_row */
    got = csv_of_table(path, "summary");
    f = open_memstream(&want, &len);
    sim_summary fin = make_summary(1);
    sim_summary_csv_header(f);
    sim_summary_csv_row(f, &fin);
    fclose(f);
    ck_assert_str_eq(got, want);
    free(got);
    free(want);
}
END_TEST

/* ---- report ------------------------------------------------------------------------ */

/* Run cmd_report with stdout and stderr captured into files; returns its exit code. */
static int run_report(int argc, const char **argv, char **out, char **err) {
    char *po = tmp_path("report.out"), *pe = tmp_path("report.err");
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    int rc = cmd_report(argc, (char **)argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    close(fo);
    close(fe);
    *out = slurp(po);
    *err = slurp(pe);
    free(po);
    free(pe);
    return rc;
}

static void expect_bad(const char *path, const char *msg) {
    const char *argv[] = {"report", path};
    char *out, *err;
    ck_assert_int_eq(run_report(2, argv, &out, &err), EXIT_INPUT);
    char want[512];
    snprintf(want, sizeof want, "%s: %s\n", path, msg);
    ck_assert_str_eq(err, want);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
}

static void set_schema(const char *path, int version, const char *drop) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    if (version) {
        hid_t a = H5Aopen(f, "schema_version", H5P_DEFAULT);
        ck_assert_int_ge(a, 0);
        int32_t v = version;
        ck_assert_int_ge(H5Awrite(a, H5T_NATIVE_INT32, &v), 0);
        H5Aclose(a);
    }
    if (drop) ck_assert_int_ge(H5Ldelete(f, drop, H5P_DEFAULT), 0);
    H5Fclose(f);
}

START_TEST(test_report_bad_files) {
    char *missing = tmp_path("missing.h5");
    expect_bad(missing, "No such file or directory");
    free(missing);

    char *text = tmp_path("text.h5");
    FILE *f = fopen(text, "w");
    fputs("this is not HDF5\n", f);
    fclose(f);
    expect_bad(text, "not an HDF5 file");
    free(text);

    char *empty = tmp_path("empty.h5");
    f = fopen(empty, "w");
    fclose(f);
    expect_bad(empty, "not an HDF5 file");
    free(empty);

    expect_bad(tmpdir, "is a directory, not an HDF5 file");

    char *plain = tmp_path("plain.h5");
    hid_t h = H5Fcreate(plain, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(h, 0);
    H5Fclose(h);
    expect_bad(plain, "not an orionsim trace (no schema_version attribute)");
    free(plain);

    char *v2 = tmp_path("v2.h5");
    trace_meta m = test_meta();
    ck_assert_int_eq(trace_close(trace_open(v2, &m), NULL, 1), 0);
    set_schema(v2, 2, NULL);
    expect_bad(v2, "trace schema_version 2 is not supported (this orionsim reads 1)");
    free(v2);

    char *nopeers = tmp_path("nopeers.h5");
    ck_assert_int_eq(trace_close(trace_open(nopeers, &m), NULL, 1), 0);
    set_schema(nopeers, 0, "peers");
    expect_bad(nopeers, "not a complete orionsim trace: table /peers is missing");
    free(nopeers);

    /* bad arguments */
    const char *argv[] = {"report", "--bogus"};
    char *out, *err;
    ck_assert_int_eq(run_report(2, argv, &out, &err), EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "unknown option '--bogus'"));
    free(out);
    free(err);
    const char *argv2[] = {"report", "--help"};
    ck_assert_int_eq(run_report(2, argv2, &out, &err), EXIT_OK);
    ck_assert_ptr_nonnull(strstr(out, "usage: orionsim report FILE"));
    free(out);
    free(err);
}
END_TEST

START_TEST(test_writer_bad_path) {
    char *path = tmp_path("no/such/dir/x.h5");
    fflush(stderr);
    int se = dup(2);
    char *pe = tmp_path("open.err");
    int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fe, 2);
    trace *t = trace_open(path, NULL);
    fflush(stderr);
    dup2(se, 2);
    close(se);
    close(fe);
    ck_assert_ptr_null(t);
    char *err = slurp(pe);
    char want[256];
    snprintf(want, sizeof want, "orionsim: %s: sim/trace/trace.c:", path);
    ck_assert_msg(!strncmp(err, want, strlen(want)), "%s", err);
    ck_assert_ptr_nonnull(strstr(err, "cannot create trace file"));
    ck_assert_ptr_nonnull(strstr(err, "(hdf5: "));
    free(err);
    free(pe);
    free(path);
}
END_TEST

START_TEST(test_report_text_json_csv) {
    const char *path = full_path;
    const char *argv[] = {"report", path};
    char *out, *err;
    ck_assert_int_eq(run_report(2, argv, &out, &err), EXIT_OK);
    ck_assert_str_eq(err, "");
    ck_assert_ptr_null(strstr(out, "INCOMPLETE"));
    ck_assert_ptr_nonnull(strstr(out, "--set     training.H=100\n"));
    ck_assert_ptr_nonnull(strstr(out, "seed 18446744073709551614, mode modeled"));
    ck_assert_ptr_nonnull(strstr(out, "published figures: Macrocosmos, Orion-100B report"));
    ck_assert_ptr_nonnull(strstr(out, "\nThroughput & MFU\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nGPU shares\n"));
    ck_assert_ptr_nonnull(
        strstr(out, "  mfu_training             30.10 %                  published 30.80 %  "
                    "(-0.70 pp, -2.3 %)\n"));
    ck_assert_ptr_nonnull(
        strstr(out, "  utilisation              83.00 %                  published 81.80 %  "
                    "(+1.20 pp, +1.5 %)\n"));
    ck_assert_ptr_nonnull(strstr(out, "published 9000 tokens/s  (+100 tokens/s, +1.1 %)\n"));
    ck_assert_ptr_nonnull(strstr(out, "6*N + 12*L*heads*head_dim*seq (PaLM App. B)"));
    ck_assert_ptr_nonnull(strstr(out, "  mfu_peak_6h_published_only 0.38\n"));
    ck_assert_ptr_nonnull(strstr(out, "events 132306,"));
    free(out);
    free(err);

    char *dir = tmp_path("csv");
    const char *argv2[] = {"report", path, "--json", "--csv", dir};
    ck_assert_int_eq(run_report(5, argv2, &out, &err), EXIT_OK);
    ck_assert(!strncmp(out, "{\"file\": ", 9));
    ck_assert_ptr_nonnull(strstr(out, "\"complete\": true"));
    ck_assert_ptr_nonnull(strstr(out, "\"mfu_training\": 0.301,"));
    ck_assert_ptr_nonnull(strstr(out, "\"loss_final\": null"));
    ck_assert_ptr_nonnull(strstr(out, "\"values\": {\"mfu_peak_6h_published_only\": 0.38, "));
    ck_assert_ptr_nonnull(strstr(err, "wrote 8 tables"));
    free(out);
    free(err);
    static const char *const tables[] = {"boundaries", "events", "loss",    "peer_shares",
                                         "peers",      "phases", "summary", "timeseries"};
    for (size_t i = 0; i < 8; i++) {
        char name[64];
        snprintf(name, sizeof name, "csv/%s.csv", tables[i]);
        char *p = tmp_path(name);
        char *csv = slurp(p);
        char *want = csv_of_table(path, tables[i]);
        ck_assert_str_eq(csv, want);
        free(csv);
        free(want);
        free(p);
    }
    free(dir);

    /* an incomplete trace is marked loudly */
    char *inc = tmp_path("inc.h5");
    sim_summary s;
    trace_abandon(write_partial(inc, &s));
    const char *argv3[] = {"report", inc};
    ck_assert_int_eq(run_report(2, argv3, &out, &err), EXIT_OK);
    ck_assert(!strncmp(strchr(out, '\n') + 1, "!!! INCOMPLETE TRACE", 20));
    ck_assert_ptr_null(strstr(out, "h5clear"));
    free(out);
    free(err);
    free(inc);

    /* a run killed between write windows: incomplete, a clean file (no SWMR notice) */
    char *between = killed_trace("killed-between.h5", 0);
    const char *argv5[] = {"report", between};
    ck_assert_int_eq(run_report(2, argv5, &out, &err), EXIT_OK);
    ck_assert(!strncmp(strchr(out, '\n') + 1, "!!! INCOMPLETE TRACE", 20));
    ck_assert_ptr_null(strstr(out, "swmr=True"));
    free(out);
    free(err);
    free(between);

    /* a run killed inside a write window: incomplete, and still marked open for writing */
    char *killed = killed_trace("killed-report.h5", 1);
    const char *argv4[] = {"report", killed};
    ck_assert_int_eq(run_report(2, argv4, &out, &err), EXIT_OK);
    ck_assert(!strncmp(strchr(out, '\n') + 1, "!!! INCOMPLETE TRACE", 20));
    ck_assert_ptr_nonnull(strstr(out, "swmr=True"));
    ck_assert_ptr_nonnull(strstr(out, "h5clear -s"));
    free(out);
    free(err);
    free(killed);
}
END_TEST

/* ---- h5dump and determinism -------------------------------------------------------- */

START_TEST(test_h5dump_reads_it) {
    if (system("command -v h5dump >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_trace: h5dump not installed, skipping the h5dump check\n");
        return;
    }
    const char *path = full_path;
    char *out = tmp_path("dump.txt");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "h5dump -d /peers '%s' > '%s' 2>&1", path, out);
    ck_assert_int_eq(system(cmd), 0);
    char *txt = slurp(out);
    ck_assert_ptr_nonnull(strstr(txt, "\"A-device-name-of-23-chr\""));
    ck_assert_ptr_nonnull(strstr(txt, "H5T_STD_I32LE \"peer\";"));
    free(txt);
    snprintf(cmd, sizeof cmd, "h5dump -H '%s' > '%s' 2>&1", path, out);
    ck_assert_int_eq(system(cmd), 0);
    txt = slurp(out);
    ck_assert_ptr_nonnull(strstr(txt, "ATTRIBUTE \"schema_version\""));
    ck_assert_ptr_nonnull(strstr(txt, "DATASET \"events\""));
    ck_assert_ptr_nonnull(strstr(txt, "( 132306 ) / ( H5S_UNLIMITED )"));
    free(txt);
    snprintf(cmd, sizeof cmd, "h5dump -d /events -s 132305 -c 1 '%s' > /dev/null 2>&1", path);
    ck_assert_int_eq(system(cmd), 0);
    free(out);
}
END_TEST

START_TEST(test_identical_runs_identical_files) {
    char *b = tmp_path("again.h5");
    write_full(b, 1);
    FILE *fa = fopen(full_path, "rb"), *fb = fopen(b, "rb");
    ck_assert(fa && fb);
    fseek(fa, 0, SEEK_END);
    fseek(fb, 0, SEEK_END);
    size_t na = (size_t)ftell(fa), nb = (size_t)ftell(fb);
    fclose(fa);
    fclose(fb);
    ck_assert_uint_eq(na, nb);
    char *x = slurp(full_path), *y = slurp(b);
    ck_assert(!memcmp(x, y, na));
    free(x);
    free(y);
    free(b);
}
END_TEST

static Suite *trace_more_suite(void) {
    Suite *s = suite_create("trace-more");
    TCase *tc = tcase_create("trace");
    tcase_add_unchecked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_csv_equals_records);
    tcase_add_test(tc, test_report_bad_files);
    tcase_add_test(tc, test_writer_bad_path);
    tcase_add_test(tc, test_report_text_json_csv);
    tcase_add_test(tc, test_h5dump_reads_it);
    tcase_add_test(tc, test_identical_runs_identical_files);
    suite_add_tcase(s, tc);
    return s;
}

static void h5_close(void) { H5close(); }

CHECK_MAIN(.suite = trace_more_suite, .teardown = h5_close)
