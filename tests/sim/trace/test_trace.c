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
#include <check.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/cli/commands.h"
#include "sim/base/fields.h"
#include "sim/metrics/summary.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_read.h"
#include "sim/base/util.h"
#include "tests/check_main.h"

#define N_EVENTS (2 * 65536 + 1234)
#define N_PEERS 5

static char tmpdir[64];
static char *full_path; /* the known trace, written once by the fixture */

static char *tmp_path(const char *name) {
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", tmpdir, name);
    return p;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = xmalloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* ---- known records ----------------------------------------------------------------- */

static trace_event_rec make_event(uint64_t i) {
    trace_event_rec e;
    memset(&e, 0, sizeof e);
    e.t_start_ns = (int64_t)i * 1000003;
    e.t_end_ns = e.t_start_ns + 777 + (int64_t)(i % 13) * 1000;
    e.microbatch = i % 7 == 0 ? -1 : (int64_t)(i / 3);
    e.bytes = (int64_t)(i * 2303311u);
    e.flops = (double)i * 3.1415926e9 + 0.1;
    e.peer = (int32_t)(i % 48);
    e.other = i % 5 == 0   ? TRACE_OTHER_STORAGE
              : i % 5 == 1 ? TRACE_OTHER_NONE
                           : (int32_t)((i + 1) % 48);
    e.kind = (int32_t)(i % TRACE_EV_KINDS);
    e.stage = (int32_t)((i % 48) / 3);
    e.cycle = (int32_t)(i / 50000);
    e.inner_step = (int32_t)(i % 11) - 1;
    if (i == 5) e.bytes = INT64_MAX;
    if (i == 6) e.t_end_ns = INT64_MIN;
    if (i == 7) e.flops = NAN;
    if (i == 8) e.flops = -0.0;
    if (i == 9) e.flops = 1e-310; /* subnormal */
    return e;
}

static trace_peer_rec make_peer(int i) {
    trace_peer_rec p;
    memset(&p, 0, sizeof p);
    p.peer = i;
    p.stage = i / 2;
    p.replica = i % 2;
    p.gpus = i == 4 ? 8 : 1;
    p.peak_flops = 312e12;
    p.up_bps = 856e6 + i;
    p.down_bps = 1322e6 / 3.0;
    p.price_usd_per_h = 1.25 * (i + 1);
    snprintf(p.device, sizeof p.device, "%s", i == 3 ? "A-device-name-of-23-chr" : "A100-80GB");
    snprintf(p.region, sizeof p.region, "%s", i == 2 ? "us,east \"2\"" : "us-east");
    return p;
}

static trace_phase_rec make_phase(int i) {
    trace_phase_rec p = {.cycle = i / 4,
                         .phase = i % 4,
                         .t_start_ns = i * 1000000000LL,
                         .t_end_ns = (i + 1) * 1000000000LL - 1};
    return p;
}

static trace_sample_rec make_sample(int i) {
    trace_sample_rec s = {.t_ns = i * 60000000000LL,
                          .tokens_trained = i * 540000LL,
                          .tokens_per_s = 9000.0 + i / 7.0,
                          .mfu_window = 0.308 + i * 1e-4,
                          .active_peers = 48 - i % 3,
                          .phase = i % 4};
    return s;
}

static trace_loss_rec make_loss(int i) {
    trace_loss_rec l = {.t_ns = i * 1000LL,
                        .tokens = i * 8000LL,
                        .cycle = i / 10,
                        .inner_step = i % 10,
                        .replica = i % 3,
                        .kind = i % 2,
                        .loss = 11.0 / (1.0 + i)};
    return l;
}

static trace_boundary_rec make_boundary(int i) {
    trace_boundary_rec b = {
        .t_ns = i * 5LL, .cycle = i / 15, .boundary = i % 15, .recon_error = 0.01 * i};
    return b;
}

static trace_peer_share_rec make_share(int i) {
    trace_peer_share_rec s = {.peer = i,
                              .stage = i / 2,
                              .compute = 0.5,
                              .recompute = 0.125,
                              .optimizer = 0.0625,
                              .merge = 0.03125,
                              .idle = 0.1,
                              .waiting = 0.1 + i * 0.01,
                              .down = 0.08125 - i * 0.01};
    return s;
}

static sim_summary make_summary(int complete) {
    sim_summary s;
    sim_summary_init(&s);
    /* every field a distinct value */
    for (size_t i = 0; i < sim_summary_n_fields; i++) {
        const sim_field *f = &sim_summary_fields[i];
        char *p = (char *)&s + f->offset;
        if (f->type == SIM_FT_F64) {
            double v = 1.5 + (double)i / 3.0;
            memcpy(p, &v, sizeof v);
        } else {
            int32_t v = (int32_t)(100 + i);
            memcpy(p, &v, sizeof v);
        }
    }
    s.complete = complete;
    s.mfu_training = 0.301;
    s.utilisation = 0.83;
    s.tokens_per_s = 9100;
    s.loss_final = NAN;
    return s;
}

static const char scenario_text[] = "# Orion-100B\nmodel = { d_model = 9216; };\n"
                                    "name = \"quote \\\" and UTF-8: \xc3\xa9\xe2\x82\xac\";\n";
static const char *const overrides[] = {"training.H=100", "compression.k=\"144\""};
static const char *const ref_names[] = {"utilisation", "mfu_training", "tokens_per_s",
                                        "mfu_peak_6h_published_only"};
static const double ref_values[] = {0.818, 0.308, 9000, 0.38};
static const char ref_source[] = "Macrocosmos, Orion-100B report (June 2026)";

static trace_meta test_meta(void) {
    trace_meta m = {.orionsim_version = "9.9.9-test",
                    .scenario_path = "scenarios/orion-100b.cfg",
                    .seed = UINT64_MAX - 1,
                    .mode = "modeled",
                    .created = "2026-06-01T12:00:00Z"};
    return m;
}

/* Write the full known trace to `path`. */
static void write_full(const char *path, int complete) {
    trace_meta m = test_meta();
    trace *t = trace_open(path, &m);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(trace_write_scenario(t, scenario_text, overrides, 2), 0);
    trace_peer_rec peers[N_PEERS];
    for (int i = 0; i < N_PEERS; i++) peers[i] = make_peer(i);
    ck_assert_int_eq(trace_write_peers(t, peers, N_PEERS), 0);
    ck_assert_int_eq(trace_write_reference(t, ref_names, ref_values, 4, ref_source), 0);
    ck_assert_int_eq(trace_set_events_window(t, 3), 0);
    sim_summary mid = make_summary(0);
    for (uint64_t i = 0; i < N_EVENTS; i++) {
        trace_event_rec e = make_event(i);
        ck_assert_int_eq(trace_event(t, &e), 0);
        if (i == 70000) ck_assert_int_eq(trace_flush(t, &mid), 0); /* mid-block flush */
    }
    trace_count_dropped_events(t, 40);
    trace_count_dropped_events(t, 2);
    ck_assert_uint_eq(trace_events_written(t), N_EVENTS);
    for (int i = 0; i < 13; i++) {
        trace_phase_rec p = make_phase(i);
        ck_assert_int_eq(trace_phase(t, &p), 0);
    }
    for (int i = 0; i < 5000; i++) {
        trace_sample_rec s = make_sample(i);
        ck_assert_int_eq(trace_sample(t, &s), 0);
    }
    for (int i = 0; i < 101; i++) {
        trace_loss_rec l = make_loss(i);
        ck_assert_int_eq(trace_loss(t, &l), 0);
    }
    for (int i = 0; i < 30; i++) {
        trace_boundary_rec b = make_boundary(i);
        ck_assert_int_eq(trace_boundary(t, &b), 0);
    }
    trace_peer_share_rec sh[N_PEERS];
    for (int i = 0; i < N_PEERS; i++) sh[i] = make_share(i);
    ck_assert_int_eq(trace_write_peer_shares(t, sh, N_PEERS), 0);
    sim_summary fin = make_summary(1);
    ck_assert_int_eq(trace_close(t, &fin, complete), 0);
}

static void setup_dir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/orionsim-trace-XXXXXX");
    if (!mkdtemp(tmpdir)) abort();
    full_path = tmp_path("full.h5");
    write_full(full_path, 1);
}

static void teardown_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    free(full_path);
    full_path = NULL;
}

/* Read table `name` and compare with n records from make(i), byte for byte. */
#define CHECK_TABLE(tf, name, T, fields, nfields, n, make)                                         \
    do {                                                                                           \
        void *recs_ = NULL;                                                                        \
        size_t rows_ = 0;                                                                          \
        ck_assert_msg(trace_read_table(tf, name, fields, nfields, sizeof(T), &recs_, &rows_) == 0, \
                      "%s", trace_read_error(tf));                                                 \
        ck_assert_uint_eq(rows_, (size_t)(n));                                                     \
        for (size_t i_ = 0; i_ < rows_; i_++) {                                                    \
            T want_ = make(i_);                                                                    \
            ck_assert_msg(!memcmp(&want_, (T *)recs_ + i_, sizeof(T)), "%s row %zu differs", name, \
                          i_);                                                                     \
        }                                                                                          \
        free(recs_);                                                                               \
    } while (0)

static trace_peer_rec make_peer_z(size_t i) { return make_peer((int)i); }
static trace_phase_rec make_phase_z(size_t i) { return make_phase((int)i); }
static trace_sample_rec make_sample_z(size_t i) { return make_sample((int)i); }
static trace_loss_rec make_loss_z(size_t i) { return make_loss((int)i); }
static trace_boundary_rec make_boundary_z(size_t i) { return make_boundary((int)i); }
static trace_peer_share_rec make_share_z(size_t i) { return make_share((int)i); }

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

/* Open (4 Ki-row event blocks), write 10000 events and flush with a summary; then 5000
 * more: 4096 of them go to the file as a block, 904 stay buffered. */
static trace *write_partial(const char *path, sim_summary *flushed) {
    trace_meta m = test_meta();
    m.event_block_rows = 4096;
    trace *t = trace_open(path, &m);
    ck_assert_ptr_nonnull(t);
    for (uint64_t i = 0; i < 10000; i++) {
        trace_event_rec e = make_event(i);
        ck_assert_int_eq(trace_event(t, &e), 0);
    }
    *flushed = make_summary(1); /* a flush stores complete = 0 whatever it is given */
    ck_assert_int_eq(trace_flush(t, flushed), 0);
    flushed->complete = 0;
    for (uint64_t i = 0; i < 5000; i++) {
        trace_event_rec e = make_event(i);
        ck_assert_int_eq(trace_event(t, &e), 0);
    }
    return t;
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

/* A writer process killed (SIGKILL) after write_partial: the file it leaves. */
static char *killed_trace(const char *name) {
    char *path = tmp_path(name);
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* the writer: flush, say so, then wait to be killed */
        close(fd[0]);
        sim_summary s;
        write_partial(path, &s);
        if (write(fd[1], "F", 1) != 1) _exit(1);
        for (;;) pause();
    }
    close(fd[1]);
    char c = 0;
    ck_assert_int_eq(read(fd[0], &c, 1), 1);
    close(fd[0]);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    return path;
}

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

    /* a killed run's file: incomplete, and still marked open for writing */
    char *killed = killed_trace("killed-report.h5");
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

CHECK_MAIN(.suite = trace_suite, .teardown = h5_close)
