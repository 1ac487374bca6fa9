/* tests/sim/trace/trace_testutil.h: what test_trace.c and test_trace_report.c share (helpers, records, set-up). */
#ifndef TESTS_SIM_TRACE_TRACE_TESTUTIL_H
#define TESTS_SIM_TRACE_TRACE_TESTUTIL_H

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

static inline char *tmp_path(const char *name) {
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", tmpdir, name);
    return p;
}

static inline char *slurp(const char *path) {
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

static inline trace_event_rec make_event(uint64_t i) {
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

static inline trace_peer_rec make_peer(int i) {
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

static inline trace_phase_rec make_phase(int i) {
    trace_phase_rec p = {.cycle = i / 4,
                         .phase = i % 4,
                         .t_start_ns = i * 1000000000LL,
                         .t_end_ns = (i + 1) * 1000000000LL - 1};
    return p;
}

static inline trace_sample_rec make_sample(int i) {
    trace_sample_rec s = {.t_ns = i * 60000000000LL,
                          .tokens_trained = i * 540000LL,
                          .tokens_per_s = 9000.0 + i / 7.0,
                          .mfu_window = 0.308 + i * 1e-4,
                          .active_peers = 48 - i % 3,
                          .phase = i % 4};
    return s;
}

static inline trace_loss_rec make_loss(int i) {
    trace_loss_rec l = {.t_ns = i * 1000LL,
                        .tokens = i * 8000LL,
                        .cycle = i / 10,
                        .inner_step = i % 10,
                        .replica = i % 3,
                        .kind = i % 2,
                        .loss = 11.0 / (1.0 + i)};
    return l;
}

static inline trace_boundary_rec make_boundary(int i) {
    trace_boundary_rec b = {
        .t_ns = i * 5LL, .cycle = i / 15, .boundary = i % 15, .recon_error = 0.01 * i};
    return b;
}

static inline trace_peer_share_rec make_share(int i) {
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

static inline sim_summary make_summary(int complete) {
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

static inline trace_meta test_meta(void) {
    trace_meta m = {.orionsim_version = "9.9.9-test",
                    .scenario_path = "scenarios/orion-100b.cfg",
                    .seed = UINT64_MAX - 1,
                    .mode = "modeled",
                    .created = "2026-06-01T12:00:00Z"};
    return m;
}

/* Write the full known trace to `path`. */
static inline void write_full(const char *path, int complete) {
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

static inline void setup_dir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/orionsim-trace-XXXXXX");
    if (!mkdtemp(tmpdir)) abort();
    full_path = tmp_path("full.h5");
    write_full(full_path, 1);
}

static inline void teardown_dir(void) {
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

static inline trace_peer_rec make_peer_z(size_t i) { return make_peer((int)i); }
static inline trace_phase_rec make_phase_z(size_t i) { return make_phase((int)i); }
static inline trace_sample_rec make_sample_z(size_t i) { return make_sample((int)i); }
static inline trace_loss_rec make_loss_z(size_t i) { return make_loss((int)i); }
static inline trace_boundary_rec make_boundary_z(size_t i) { return make_boundary((int)i); }
static inline trace_peer_share_rec make_share_z(size_t i) { return make_share((int)i); }

/* Open (4 Ki-row event blocks), write 10000 events and flush with a summary; then 5000
 * more: 4096 of them go to the file as a block, 904 stay buffered. */
static inline trace *write_partial(const char *path, sim_summary *flushed) {
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

static inline void kill_self(void *ctx) {
    (void)ctx;
    raise(SIGKILL);
}

/* A writer process that kills itself (SIGKILL) after write_partial: between write
 * windows (in_window 0: 10000 events flushed, 4096 more written by an early flush, 904
 * buffered and lost), or inside the window of one more trace_flush, after its H5Fflush
 * (in_window 1: every one of the 15000 events reached the file, which stays marked open
 * for writing). No timing is involved: the child dies at that exact point. */
static inline char *killed_trace(const char *name, int in_window) {
    char *path = tmp_path(name);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        sim_summary s;
        trace *t = write_partial(path, &s);
        free(path); /* (valgrind checks a child that kills itself for leaks too) */
        if (in_window) {
            trace_set_window_hook(t, kill_self, NULL);
            trace_flush(t, NULL);
        }
        raise(SIGKILL);
        _exit(1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    return path;
}

#endif
