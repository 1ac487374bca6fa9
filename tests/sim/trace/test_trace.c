/* tests/sim/trace/test_trace.c: sim/trace (writer), sim/trace_read, sim/summary and `report`.
 *
 * A trace with known records (peers, >64 Ki events so several blocks are appended,
 * phases, samples, loss rows, boundaries, shares, summary, reference) is written, closed
 * and read back; every record must come back bit for bit. Also: interrupted traces
 * (abandoned after a flush, and a writer process that dies after a flush) read as
 * incomplete with what was flushed; CSV export equals the records; `report` on bad files
 * exits 2 with "FILE: message"; h5dump reads the file; identical runs give identical
 * files.
 */
#include "sim/base/h5util.h"
#include "tests/sim/trace/trace_testutil.h"

/* ---- layouts ----------------------------------------------------------------------- */

START_TEST(test_layouts) {
    char msg[200];
    ck_assert_int_eq(sim_fields_check(sim_summary_fields, sim_summary_n_fields, sizeof(sim_summary),
                                      msg, sizeof msg),
                     0);
    ck_assert_int_eq(sim_fields_check(trace_event_fields, trace_event_n_fields,
                                      sizeof(trace_event_rec), msg, sizeof msg),
                     0);
    ck_assert_int_eq(sim_fields_check(trace_peer_fields, trace_peer_n_fields,
                                      sizeof(trace_peer_rec), msg, sizeof msg),
                     0);
    ck_assert_int_eq(sim_fields_check(trace_phase_fields, trace_phase_n_fields,
                                      sizeof(trace_phase_rec), msg, sizeof msg),
                     0);
    ck_assert_int_eq(sim_fields_check(trace_sample_fields, trace_sample_n_fields,
                                      sizeof(trace_sample_rec), msg, sizeof msg),
                     0);
    ck_assert_int_eq(sim_fields_check(trace_loss_fields, trace_loss_n_fields,
                                      sizeof(trace_loss_rec), msg, sizeof msg),
                     0);
    ck_assert_int_eq(sim_fields_check(trace_boundary_fields, trace_boundary_n_fields,
                                      sizeof(trace_boundary_rec), msg, sizeof msg),
                     0);
    ck_assert_int_eq(sim_fields_check(trace_peer_share_fields, trace_peer_share_n_fields,
                                      sizeof(trace_peer_share_rec), msg, sizeof msg),
                     0);
    /* a table that leaves out a field (a gap) or misses trailing bytes is refused */
    ck_assert_int_eq(sim_fields_check(trace_event_fields + 1, trace_event_n_fields - 1,
                                      sizeof(trace_event_rec), msg, sizeof msg),
                     -1);
    ck_assert_ptr_nonnull(strstr(msg, "t_end_ns"));
    ck_assert_int_eq(sim_fields_check(trace_event_fields, trace_event_n_fields - 1,
                                      sizeof(trace_event_rec), msg, sizeof msg),
                     -1);
    ck_assert_ptr_nonnull(strstr(msg, "padding"));
    /* every summary field has a unit, a group and a definition */
    for (size_t i = 0; i < sim_summary_n_fields; i++) {
        const sim_field *f = &sim_summary_fields[i];
        ck_assert_msg(f->unit && f->group && f->def && f->def[0], "%s", f->name);
        ck_assert_ptr_eq(sim_summary_field(f->name), f);
    }
    ck_assert_ptr_null(sim_summary_field("no_such_field"));
    ck_assert_uint_eq(sim_summary_n_fields, 46);
    ck_assert_str_eq(trace_event_kind_names[TRACE_EV_DOWNLOAD_WEIGHTS], "download_weights");
    ck_assert_str_eq(trace_event_kind_names[TRACE_EV_DROPPED], "dropped");
}
END_TEST

START_TEST(test_summary_init_and_csv) {
    sim_summary s;
    sim_summary_init(&s);
    ck_assert(isnan(s.loss_final) && isnan(s.val_loss_final) && isnan(s.resbm_loss_gap) &&
              isnan(s.boundary_recon_error));
    ck_assert_int_eq(s.complete, 0);
    ck_assert(s.mfu_training == 0.0);
    s.cycles = 28;
    s.utilisation = 0.1;
    s.mfu_training = 1.0 / 3.0;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sim_summary_csv_header(f);
    sim_summary_csv_row(f, &s);
    fclose(f);
    ck_assert(!strncmp(buf, "complete,cycles,sim_time_s,", 27));
    char *row = strchr(buf, '\n') + 1;
    ck_assert(!strncmp(row, "0,28,0,", 7));
    ck_assert_ptr_nonnull(strstr(row, ",0.1,"));
    ck_assert_ptr_nonnull(strstr(row, ",0.3333333333333333,"));
    ck_assert_ptr_nonnull(strstr(row, ",nan,nan,nan,nan\n"));
    free(buf);
    char d[40];
    ck_assert_str_eq(sim_format_double(d, sizeof d, 0.1), "0.1");
    ck_assert(strtod(sim_format_double(d, sizeof d, 1e-310), NULL) == 1e-310); /* subnormal */
    ck_assert_str_eq(sim_format_double(d, sizeof d, -INFINITY), "-inf");
    ck_assert(strtod(sim_format_double(d, sizeof d, 2.0 / 3.0), NULL) == 2.0 / 3.0);
}
END_TEST

/* ---- round trip -------------------------------------------------------------------- */

START_TEST(test_roundtrip) {
    const char *path = full_path;

    trace_file *tf = NULL;
    char err[512];
    ck_assert_msg(trace_read_open(path, &tf, err, sizeof err) == 0, "%s", err);
    const trace_info *in = trace_read_info(tf);
    ck_assert_int_eq(in->schema_version, 1);
    ck_assert_int_eq(in->complete, 1);
    ck_assert_int_eq(in->swmr, 0);
    ck_assert_str_eq(in->orionsim_version, "9.9.9-test");
    ck_assert_str_eq(in->scenario_path, "scenarios/orion-100b.cfg");
    ck_assert_str_eq(in->mode, "modeled");
    ck_assert_str_eq(in->created, "2026-06-01T12:00:00Z");
    ck_assert(in->seed == UINT64_MAX - 1);
    ck_assert_int_eq(in->events_window_cycles, 3);
    ck_assert_int_eq(in->events_dropped, 42);

    sim_summary got, want = make_summary(1);
    ck_assert_int_eq(trace_read_summary(tf, &got), 0);
    ck_assert(!memcmp(&got, &want, sizeof got));

    CHECK_TABLE(tf, "events", trace_event_rec, trace_event_fields, trace_event_n_fields, N_EVENTS,
                make_event);
    CHECK_TABLE(tf, "peers", trace_peer_rec, trace_peer_fields, trace_peer_n_fields, N_PEERS,
                make_peer_z);
    CHECK_TABLE(tf, "phases", trace_phase_rec, trace_phase_fields, trace_phase_n_fields, 13,
                make_phase_z);
    CHECK_TABLE(tf, "timeseries", trace_sample_rec, trace_sample_fields, trace_sample_n_fields,
                5000, make_sample_z);
    CHECK_TABLE(tf, "loss", trace_loss_rec, trace_loss_fields, trace_loss_n_fields, 101,
                make_loss_z);
    CHECK_TABLE(tf, "boundaries", trace_boundary_rec, trace_boundary_fields,
                trace_boundary_n_fields, 30, make_boundary_z);
    CHECK_TABLE(tf, "peer_shares", trace_peer_share_rec, trace_peer_share_fields,
                trace_peer_share_n_fields, N_PEERS, make_share_z);

    trace_reference ref;
    ck_assert_int_eq(trace_read_reference(tf, &ref), 0);
    ck_assert_uint_eq(ref.n, 4);
    ck_assert_str_eq(ref.source, ref_source);
    for (size_t i = 0; i < 4; i++) {
        int found = 0;
        for (size_t j = 0; j < ref.n; j++)
            if (!strcmp(ref.names[j], ref_names[i])) {
                ck_assert(ref.values[j] == ref_values[i]);
                found = 1;
            }
        ck_assert_msg(found, "%s", ref_names[i]);
    }
    trace_reference_free(&ref);

    char *text = NULL;
    ck_assert_int_eq(trace_read_scenario(tf, &text), 0);
    ck_assert_str_eq(text, scenario_text);
    free(text);
    char **ov = NULL;
    size_t nov = 0;
    ck_assert_int_eq(trace_read_overrides(tf, &ov, &nov), 0);
    ck_assert_uint_eq(nov, 2);
    ck_assert_str_eq(ov[0], overrides[0]);
    ck_assert_str_eq(ov[1], overrides[1]);
    trace_read_free_names(ov, nov);

    char **names = NULL;
    size_t nt = 0;
    ck_assert_int_eq(trace_read_tables(tf, &names, &nt), 0);
    static const char *const want_tables[] = {"boundaries", "events", "loss",    "peer_shares",
                                              "peers",      "phases", "summary", "timeseries"};
    ck_assert_uint_eq(nt, 8);
    for (size_t i = 0; i < nt; i++) ck_assert_str_eq(names[i], want_tables[i]);
    trace_read_free_names(names, nt);
    ck_assert_int_eq(trace_read_rows(tf, "events"), N_EVENTS);
    trace_read_close(tf);
}
END_TEST

/* ---- interrupted traces ------------------------------------------------------------ */

static void check_incomplete(const char *path, int64_t events, const sim_summary *want,
                             int killed) {
    trace_file *tf = NULL;
    char err[512];
    ck_assert_msg(trace_read_open(path, &tf, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(trace_read_info(tf)->complete, 0);
    ck_assert_int_eq(trace_read_info(tf)->swmr, killed); /* still marked open for writing */
    ck_assert_int_eq(trace_read_rows(tf, "events"), events);
    sim_summary got;
    ck_assert_int_eq(trace_read_summary(tf, &got), 0);
    ck_assert(!memcmp(&got, want, sizeof got));
    ck_assert_int_eq(got.complete, 0);
    trace_read_close(tf);
}

START_TEST(test_abandoned_is_incomplete) {
    char *path = tmp_path("abandoned.h5");
    sim_summary s;
    trace *t = write_partial(path, &s);
    trace_abandon(t);
    check_incomplete(path, 14096, &s, 0);
    free(path);
}
END_TEST

/* Killed between windows: a closed file, opened by plain HDF5 (no SWMR flag) */
START_TEST(test_killed_writer_is_incomplete) {
    char *path = killed_trace("killed.h5", 0);
    sim_summary want = make_summary(0);
    check_incomplete(path, 14096, &want, 0);
    free(path);
}
END_TEST

/* Killed inside a write window, after its H5Fflush: still marked open for writing (a
 * plain open fails), read with SWMR as the flush left it: all 15000 events */
START_TEST(test_killed_in_window_is_readable) {
    char *path = killed_trace("killed-window.h5", 1);
    sim_summary want = make_summary(0);
    check_incomplete(path, 15000, &want, 1);
    H5E_BEGIN_TRY { ck_assert_int_lt(H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), 0); }
    H5E_END_TRY;
    free(path);
}
END_TEST

/* The child writes through the real writer: 10000 events, 7 loss rows and a flush, then
 * 3000 events and 2 loss rows that are never flushed, and kills itself. The parent opens
 * the file with plain H5Fopen (read-only, no SWMR flag, default file access): the
 * flushed rows and summary are there, the later rows are not, the file says incomplete. */
START_TEST(test_sigkill_plain_open) {
    char *path = tmp_path("plain.h5");
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        trace_meta m = test_meta();
        trace *t = trace_open(path, &m);
        if (!t || trace_write_scenario(t, scenario_text, overrides, 2)) _exit(1);
        for (uint64_t i = 0; i < 10000; i++) {
            trace_event_rec e = make_event(i);
            if (trace_event(t, &e)) _exit(1);
        }
        for (int i = 0; i < 7; i++) {
            trace_loss_rec l = make_loss(i);
            if (trace_loss(t, &l)) _exit(1);
        }
        sim_summary s = make_summary(1);
        if (trace_flush(t, &s)) _exit(1);
        for (uint64_t i = 10000; i < 13000; i++) {
            trace_event_rec e = make_event(i);
            if (trace_event(t, &e)) _exit(1);
        }
        for (int i = 7; i < 9; i++) {
            trace_loss_rec l = make_loss(i);
            if (trace_loss(t, &l)) _exit(1);
        }
        free(path); /* (valgrind checks a child that kills itself for leaks too) */
        raise(SIGKILL);
        _exit(1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t a = H5Aopen(f, "complete", H5P_DEFAULT);
    int32_t complete = -1;
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_INT32, &complete), 0);
    H5Aclose(a);
    ck_assert_int_eq(complete, 0);
    void *recs = NULL;
    size_t n = 0;
    char err[512];
    ck_assert_msg(h5u_table_read(f, "events", trace_event_fields, trace_event_n_fields,
                                 sizeof(trace_event_rec), &recs, &n, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_uint_eq(n, 10000);
    for (size_t i = 0; i < n; i++) {
        trace_event_rec want = make_event(i);
        ck_assert_msg(!memcmp(&want, (trace_event_rec *)recs + i, sizeof want), "event %zu", i);
    }
    free(recs);
    ck_assert_int_eq(h5u_table_read(f, "loss", trace_loss_fields, trace_loss_n_fields,
                                    sizeof(trace_loss_rec), &recs, &n, err, sizeof err),
                     0);
    ck_assert_uint_eq(n, 7);
    for (size_t i = 0; i < n; i++) {
        trace_loss_rec want = make_loss((int)i);
        ck_assert(!memcmp(&want, (trace_loss_rec *)recs + i, sizeof want));
    }
    free(recs);
    ck_assert_int_eq(h5u_table_read(f, "summary", sim_summary_fields, sim_summary_n_fields,
                                    sizeof(sim_summary), &recs, &n, err, sizeof err),
                     0);
    ck_assert_uint_eq(n, 1);
    sim_summary want = make_summary(1);
    want.complete = 0;
    ck_assert(!memcmp(&want, recs, sizeof want));
    free(recs);
    ck_assert_int_ge(H5Fclose(f), 0);
    /* and our reader: not SWMR, the same rows */
    check_incomplete(path, 10000, &want, 0);
    free(path);
}
END_TEST

START_TEST(test_closed_incomplete) {
    char *path = tmp_path("stopped.h5");
    sim_summary s;
    trace *t = write_partial(path, &s);
    sim_summary fin = make_summary(1);
    ck_assert_int_eq(trace_close(t, &fin, 0), 0); /* SIGINT path: close at a safe point */
    fin.complete = 0;
    check_incomplete(path, 15000, &fin, 0);
    free(path);
}
END_TEST

static Suite *trace_suite(void) {
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");
    tcase_add_unchecked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_layouts);
    tcase_add_test(tc, test_summary_init_and_csv);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_abandoned_is_incomplete);
    tcase_add_test(tc, test_killed_writer_is_incomplete);
    tcase_add_test(tc, test_killed_in_window_is_readable);
    tcase_add_test(tc, test_sigkill_plain_open);
    tcase_add_test(tc, test_closed_incomplete);
    suite_add_tcase(s, tc);
    return s;
}

static void h5_close(void) { H5close(); }

CHECK_MAIN(.suite = trace_suite, .teardown = h5_close)
