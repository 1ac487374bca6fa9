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

START_TEST(test_killed_writer_is_incomplete) {
    char *path = killed_trace("killed.h5");
    sim_summary want = make_summary(0);
    check_incomplete(path, 14096, &want, 1);
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
    tcase_add_test(tc, test_closed_incomplete);
    suite_add_tcase(s, tc);
    return s;
}

static void h5_close(void) { H5close(); }

CHECK_MAIN(.suite = trace_suite, .teardown = h5_close)
