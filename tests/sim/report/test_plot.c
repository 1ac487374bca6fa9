/* tests/sim/report/test_plot.c: the Perfetto/Chrome JSON export (sim/report/perfetto.c, export-trace) and
 * the plot driver (sim/cli/cmd_plot.c with the gnuplot scripts of plots/).
 *
 * A small trace with known records is written with the trace writer: 2 stages x 2
 * replicas, compute and transfer events, phases, time series, loss rows, a published
 * utilisation. The JSON export must be well formed (balanced braces and brackets outside
 * strings), hold one complete event per events row with the exact ts/dur in
 * microseconds, and name every peer's track. The plot driver must turn the trace and a
 * sweep file into CSV files and valid PNG figures (signature, IHDR size, more than a few
 * KB); when gnuplot is not installed the rendering checks are skipped with a message.
 */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cli/commands.h"
#include "sim/report/perfetto.h"
#include "sim/report/plot.h"
#include "sim/report/plot_gp.h"
#include "sim/metrics/summary.h"
#include "sim/sweep/sweep_file.h"
#include "sim/trace/trace.h"
#include "sim/base/util.h"
#include "tests/check_main.h"

#define N_EV 400
static char tmpdir[64];
static char *trace_path, *sweep_path;

static char *tmp_path(const char *name) {
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", tmpdir, name);
    return p;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = xmalloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return buf;
}

/* Event i of the known trace: peers cycle through 4, kinds through compute, sends and
 * (every 50th) an upload; event 7 ends before it starts. */
static trace_event_rec make_event(int i) {
    trace_event_rec e;
    memset(&e, 0, sizeof e);
    e.peer = i % 4;
    e.stage = e.peer % 2;
    e.t_start_ns = (int64_t)i * 25000123LL;
    e.t_end_ns = e.t_start_ns + 20000000LL + (i % 5) * 1001;
    e.kind = i % 50 == 49 ? TRACE_EV_UPLOAD_PSEUDOGRAD : (int32_t)(i % 7);
    e.microbatch = i / 4;
    e.bytes = e.kind >= TRACE_EV_SEND_ACTIVATION ? 1000 + i : 0;
    e.flops = e.kind < TRACE_EV_SEND_ACTIVATION ? 1e12 * i : 0;
    e.other = e.kind >= TRACE_EV_SEND_ACTIVATION ? (e.peer + 1) % 4 : TRACE_OTHER_NONE;
    e.cycle = i / 200;
    e.inner_step = i % 3;
    if (e.kind == TRACE_EV_UPLOAD_PSEUDOGRAD)
        e.t_end_ns = e.t_start_ns + 1000000000LL * (1 + e.peer);
    if (i == 7) e.t_end_ns = e.t_start_ns - 5;
    return e;
}

static void write_trace(const char *path) {
    trace_meta m = {.orionsim_version = "test",
                    .scenario_path = "t.cfg",
                    .seed = 1,
                    .mode = "live",
                    .created = "2026-01-01T00:00:00Z"};
    trace *t = trace_open(path, &m);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(trace_write_scenario(t, "name = \"t\";\n", NULL, 0), 0);
    trace_peer_rec peers[4];
    memset(peers, 0, sizeof peers);
    for (int i = 0; i < 4; i++) {
        peers[i].peer = i;
        peers[i].stage = i % 2;
        peers[i].replica = i / 2;
        peers[i].gpus = 1;
        peers[i].peak_flops = 312e12;
        peers[i].up_bps = 856e6 / (1 + i);
        peers[i].down_bps = 1322e6;
        snprintf(peers[i].device, sizeof peers[i].device, "A100-80GB");
        snprintf(peers[i].region, sizeof peers[i].region, "us-east");
    }
    ck_assert_int_eq(trace_write_peers(t, peers, 4), 0);
    const char *rn[] = {"utilisation"};
    double rv[] = {0.818};
    ck_assert_int_eq(trace_write_reference(t, rn, rv, 1, "test source"), 0);
    for (int i = 0; i < N_EV; i++) {
        trace_event_rec e = make_event(i);
        ck_assert_int_eq(trace_event(t, &e), 0);
    }
    /* cycle c: training [10c, 10c+6) s, uploading [10c+6, 10c+8), merging [10c+8, 10c+10) */
    for (int c = 0; c < 2; c++) {
        int64_t s = 10000000000LL * c;
        trace_phase_rec p[3] = {{c, TRACE_PHASE_TRAINING, s, s + 6000000000LL},
                                {c, TRACE_PHASE_UPLOADING, s + 6000000000LL, s + 8000000000LL},
                                {c, TRACE_PHASE_MERGING, s + 8000000000LL, s + 10000000000LL}};
        for (int j = 0; j < 3; j++) ck_assert_int_eq(trace_phase(t, &p[j]), 0);
    }
    for (int i = 0; i <= 20; i++) {
        trace_sample_rec s = {.t_ns = i * 1000000000LL,
                              .tokens_trained = i * 1000,
                              .tokens_per_s = (i % 10) < 6 ? 1000.0 : 0.0,
                              .mfu_window = 0.2 + 0.001 * i,
                              .active_peers = 4,
                              .phase = (i % 10) < 6 ? 0 : 1};
        ck_assert_int_eq(trace_sample(t, &s), 0);
    }
    for (int i = 0; i < 24; i++) {
        /* steps 2k and 2k+1 end at the same token count (one stage-0 backward apart) */
        trace_loss_rec l = {.t_ns = (i / 2) * 1000000000LL,
                            .tokens = (i / 4) * 1000,
                            .cycle = i / 12,
                            .inner_step = (i / 2) % 6,
                            .replica = i % 2,
                            .kind = i % 12 == 11,
                            .loss = 5.5 - 0.1 * i};
        ck_assert_int_eq(trace_loss(t, &l), 0);
    }
    sim_summary s;
    sim_summary_init(&s);
    s.complete = 1;
    s.cycles = 2;
    s.sim_time_s = 20;
    s.time_training_s = 12;
    s.time_uploading_s = 4;
    s.time_merging_s = 4;
    s.utilisation = 0.6;
    s.peak_flops_total = 4 * 312e12;
    s.model_flops_per_token = 1e11;
    s.mfu_training = 0.25;
    s.mfu_best_window = 0.22;
    s.mfu_window_s = 5;
    s.compression_ratio = 64;
    ck_assert_int_eq(trace_close(t, &s, 1), 0);
}

static void write_sweep(const char *path) {
    sweep_meta m;
    memset(&m, 0, sizeof m);
    char *vary[] = {"training.H=1,10", "compression.ratio=1,64"};
    char *keys[] = {"training.H", "compression.ratio"};
    m.scenario_path = "s.cfg";
    m.scenario_name = "orion-test";
    m.scenario_text = "name = \"orion-test\";";
    m.scenario_hash = "0";
    m.vary = vary;
    m.keys = keys;
    m.n_keys = 2;
    sweep_point p[4];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 4; i++) {
        p[i].params = xcalloc(2, sizeof *p[i].params);
        sweep_value_set(&p[i].params[0], i < 2 ? "1" : "10");
        sweep_value_set(&p[i].params[1], i % 2 ? "64" : "1");
        sweep_point_pending(&p[i]);
        if (i == 1) {
            sweep_point_fail(&p[i], "--set training.H=1: something");
            continue;
        }
        snprintf(p[i].status, sizeof p[i].status, "ok");
        p[i].sum.utilisation = 0.5 + 0.1 * i;
        p[i].sum.mfu_overall = 0.2 + 0.01 * i;
        p[i].sum.tokens_per_s = 1000.0 * (i + 1);
    }
    char err[512];
    sweep_writer *w = sweep_file_create(path, &m, p, 4, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    ck_assert_int_eq(sweep_file_close(w, 1, err, sizeof err), 0);
    for (int i = 0; i < 4; i++) {
        free(p[i].params[0].text);
        free(p[i].params[1].text);
        free(p[i].params);
    }
}

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/orionsim-plot-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    trace_path = tmp_path("small.h5");
    sweep_path = tmp_path("grid.h5");
    write_trace(trace_path);
    write_sweep(sweep_path);
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
    free(trace_path);
    free(sweep_path);
}

/* ---- JSON export -------------------------------------------------------------------- */

/* Depth of {} and [] outside strings never negative and back to 0; escapes respected. */
static void check_balanced(const char *s) {
    int brace = 0, bracket = 0, in_str = 0;
    for (const char *p = s; *p; p++) {
        if (in_str) {
            if (*p == '\\') {
                ck_assert(p[1] != 0);
                p++;
            } else if (*p == '"') {
                in_str = 0;
            }
            continue;
        }
        if (*p == '"') in_str = 1;
        else if (*p == '{') brace++;
        else if (*p == '}') brace--;
        else if (*p == '[') bracket++;
        else if (*p == ']') bracket--;
        ck_assert(brace >= 0 && bracket >= 0);
    }
    ck_assert_int_eq(in_str, 0);
    ck_assert_int_eq(brace, 0);
    ck_assert_int_eq(bracket, 0);
}

static size_t count(const char *s, const char *needle) {
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

START_TEST(test_perfetto_json) {
    char *json = tmp_path("small.json");
    FILE *f = fopen(json, "w");
    ck_assert_ptr_nonnull(f);
    uint64_t n = 0, bad = 0;
    char err[512];
    ck_assert_msg(perfetto_write(trace_path, 0, f, &n, &bad, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_uint_eq(n, N_EV);
    ck_assert_uint_eq(bad, 1);
    char *s = slurp(json, NULL);
    ck_assert(s[0] == '{');
    ck_assert(strstr(s, "\"traceEvents\":[") != NULL);
    check_balanced(s);
    ck_assert_uint_eq(count(s, "\"ph\":\"X\""), N_EV);
    ck_assert_uint_eq(count(s, "\"name\":\"thread_name\""), 4);
    ck_assert_uint_eq(count(s, "\"name\":\"process_name\""), 2);
    ck_assert(strstr(s, "\"args\":{\"name\":\"peer 3 (stage 1, replica 1)\"}") != NULL);
    /* one event per line after the metadata: check each one's exact fields */
    char *line = strstr(s, "\"ph\":\"X\"");
    line = line ? line - 1 : NULL;
    while (line && line > s && line[-1] != '\n') line--;
    for (int i = 0; i < N_EV; i++) {
        ck_assert_ptr_nonnull(line);
        char *end = strchr(line, '\n');
        ck_assert_ptr_nonnull(end);
        *end = 0;
        trace_event_rec e = make_event(i);
        char want[256];
        int64_t dur = e.t_end_ns >= e.t_start_ns ? e.t_end_ns - e.t_start_ns : 0;
        snprintf(want, sizeof want,
                 "{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%lld.%"
                 "03lld,\"dur\":%lld.%03lld,",
                 trace_event_kind_names[e.kind],
                 e.kind == TRACE_EV_UPLOAD_PSEUDOGRAD ? "sync"
                 : e.kind >= TRACE_EV_SEND_ACTIVATION ? "network"
                                                      : "compute",
                 e.stage, e.peer, (long long)(e.t_start_ns / 1000),
                 (long long)(e.t_start_ns % 1000), (long long)(dur / 1000),
                 (long long)(dur % 1000));
        ck_assert_msg(strstr(line, want) != NULL, "event %d: '%s' lacks '%s'", i, line, want);
        snprintf(want, sizeof want, "\"microbatch\":%lld,", (long long)e.microbatch);
        ck_assert(strstr(line, want) != NULL);
        snprintf(want, sizeof want, "\"cycle\":%d,\"inner_step\":%d}}", e.cycle, e.inner_step);
        ck_assert(strstr(line, want) != NULL);
        line = end + 1;
    }
    ck_assert_str_eq(line, "]}\n");
    free(s);
    free(json);
}
END_TEST

static int run_cmd(int (*fn)(int, char **), const char *name, const char *const *args) {
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)name;
    while (args[argc - 1]) {
        argv[argc] = (char *)args[argc - 1];
        argc++;
    }
    argv[argc] = NULL;
    return fn(argc, argv);
}

START_TEST(test_export_trace_cli) {
    char *json = tmp_path("cli.json");
    const char *ok[] = {trace_path, "-o", json, NULL};
    ck_assert_int_eq(run_cmd(cmd_export_trace, "export-trace", ok), EXIT_OK);
    struct stat st;
    ck_assert_int_eq(stat(json, &st), 0);
    ck_assert(st.st_size > 1000);
    /* --cycles 1: the 200 events of cycle 0 */
    const char *one[] = {trace_path, "-o", json, "--cycles", "1", NULL};
    ck_assert_int_eq(run_cmd(cmd_export_trace, "export-trace", one), EXIT_OK);
    char *s = slurp(json, NULL);
    ck_assert_uint_eq(count(s, "\"ph\":\"X\""), 200);
    ck_assert(strstr(s, "\"cycle\":1,") == NULL);
    check_balanced(s);
    free(s);
    const char *bad[] = {trace_path, "-o", json, "--cycles", "0", NULL};
    ck_assert_int_eq(run_cmd(cmd_export_trace, "export-trace", bad), EXIT_INPUT);
    const char *none[] = {NULL};
    ck_assert_int_eq(run_cmd(cmd_export_trace, "export-trace", none), EXIT_INPUT);
    const char *noout[] = {trace_path, NULL};
    ck_assert_int_eq(run_cmd(cmd_export_trace, "export-trace", noout), EXIT_INPUT);
    const char *missing[] = {"/nonexistent.h5", "-o", json, NULL};
    ck_assert_int_eq(run_cmd(cmd_export_trace, "export-trace", missing), EXIT_INPUT);
    const char *sweep[] = {sweep_path, "-o", json, NULL};
    ck_assert_int_eq(run_cmd(cmd_export_trace, "export-trace", sweep), EXIT_INPUT);
    const char *unk[] = {trace_path, "-o", json, "--pretty", NULL};
    ck_assert_int_eq(run_cmd(cmd_export_trace, "export-trace", unk), EXIT_INPUT);
    const char *nodir[] = {trace_path, "-o", "/nonexistent-dir/x.json", NULL};
    ck_assert_int_eq(run_cmd(cmd_export_trace, "export-trace", nodir), EXIT_RUN);
    free(json);
}
END_TEST

/* ---- plots ------------------------------------------------------------------------- */

/* A PNG: signature, IHDR first with plausible dimensions, and more than min_bytes. */
static void check_png(const char *path, long min_bytes) {
    size_t n;
    char *b = slurp(path, &n);
    const unsigned char *u = (const unsigned char *)b;
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    ck_assert_msg(n > 24 && !memcmp(u, sig, 8), "%s: not a PNG", path);
    ck_assert_msg(!memcmp(u + 12, "IHDR", 4), "%s: no IHDR", path);
    uint32_t w = (uint32_t)u[16] << 24 | (uint32_t)u[17] << 16 | (uint32_t)u[18] << 8 | u[19];
    uint32_t h = (uint32_t)u[20] << 24 | (uint32_t)u[21] << 16 | (uint32_t)u[22] << 8 | u[23];
    ck_assert_msg(w >= 400 && w <= 4000 && h >= 300 && h <= 4000, "%s: %ux%u", path, w, h);
    ck_assert_msg((long)n > min_bytes, "%s: only %zu bytes", path, n);
    free(b);
}

static void check_file_has(const char *path, const char *needle) {
    char *s = slurp(path, NULL);
    ck_assert_msg(strstr(s, needle) != NULL, "%s lacks '%s'", path, needle);
    free(s);
}

START_TEST(test_plot_figures) {
    if (!gp_available()) {
        fprintf(stderr, "test_plot: gnuplot is not installed: skipping the rendering checks\n");
        return;
    }
    char *dir = tmp_path("figs");
    const char *args[] = {trace_path, sweep_path, "-o", dir, "-q", NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", args), EXIT_OK);
    static const char *const figs[] = {
        "utilisation",           "small-mfu",     "small-timeline",  "small-uploads", "loss",
        "grid-heat-utilisation", "grid-heat-mfu", "grid-heat-tokens"};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "figs/%s.png", figs[i]);
        char *p = tmp_path(name);
        check_png(p, 8000);
        free(p);
        snprintf(name, sizeof name, "figs/%s.svg", figs[i]);
        p = tmp_path(name);
        check_file_has(p, "<svg");
        free(p);
    }
    /* no ResBM loss figures in the grid: the file has none */
    char *gap = tmp_path("figs/grid-heat-resbm-loss.png");
    ck_assert_int_eq(access(gap, F_OK), -1);
    free(gap);
    /* the CSV files behind them */
    char *u = tmp_path("figs/data/utilisation.csv");
    check_file_has(u, "run,training,uploading,merging,other,published\nsmall,60,20,20,0,81.8");
    free(u);
    char *pts = tmp_path("figs/data/grid-points.csv");
    check_file_has(pts, "training.H,compression.ratio,status,error,complete,cycles,");
    check_file_has(pts, "failed,--set training.H=1: something");
    free(pts);
    char *heat = tmp_path("figs/data/grid-heat.csv");
    check_file_has(heat, "\n1,0,nan,failed,nan,failed,");
    check_file_has(heat, "\n0,1,70,70.0%,");
    free(heat);
    char *ts = tmp_path("figs/data/small-timeseries.csv");
    check_file_has(
        ts, "t_ns,tokens_trained,tokens_per_s,mfu_window,active_peers,phase\n0,0,1000,0.2,4,0\n");
    free(ts);
    char *loss = tmp_path("figs/data/small-loss.csv");
    /* one row per token count: steps 0 and 1 (replica means 5.45 and 5.25) share 0 tokens */
    check_file_has(loss, "mtokens,time,loss,kind\n0,");
    FILE *lf = fopen(loss, "r");
    ck_assert_ptr_nonnull(lf);
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, lf));
    int train_rows = 0, val_rows = 0;
    double first_loss = NAN, last_tokens = -1;
    while (fgets(line, sizeof line, lf)) {
        double mt, tm, lo;
        int kind;
        ck_assert_int_eq(sscanf(line, "%lf,%lf,%lf,%d", &mt, &tm, &lo, &kind), 4);
        if (kind == 1) {
            val_rows++;
            continue;
        }
        if (!train_rows) first_loss = lo;
        ck_assert_msg(mt > last_tokens, "training rows share a token count: %s", line);
        last_tokens = mt;
        train_rows++;
    }
    fclose(lf);
    ck_assert_int_eq(train_rows, 6);
    ck_assert_int_eq(val_rows, 2);
    ck_assert_double_eq_tol(first_loss, 5.35, 1e-12);
    free(loss);
    char *tl = tmp_path("figs/data/small-timeline-2.csv");
    check_file_has(tl, "xlo,xhi,ylo,yhi,g\n");
    free(tl);
    /* one timeline panel over a chosen window */
    const char *win[] = {trace_path, "-o",     dir,  "--only", "timeline",
                         "--window", "0:0.05", "-q", NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", win), EXIT_OK);
    char *tl1 = tmp_path("figs/data/small-timeline-1.csv");
    size_t n;
    char *s = slurp(tl1, &n);
    ck_assert(count(s, "\n") > 10); /* header + events of the first 3 s */
    free(s);
    free(tl1);
    char *png = tmp_path("figs/small-timeline.png");
    check_png(png, 8000);
    free(png);
    free(dir);
}
END_TEST

START_TEST(test_plot_cli_errors) {
    char *dir = tmp_path("bad");
    const char *none[] = {NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", none), EXIT_INPUT);
    const char *missing[] = {"/nonexistent.h5", "-o", dir, NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", missing), EXIT_INPUT);
    const char *only[] = {trace_path, "-o", dir, "--only", "mfu,pie", NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", only), EXIT_INPUT);
    const char *win[] = {trace_path, "-o", dir, "--window", "5:1", NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", win), EXIT_INPUT);
    const char *win2[] = {trace_path, "-o", dir, "--window", "5", NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", win2), EXIT_INPUT);
    const char *mins[] = {trace_path, "-o", dir, "--minutes", "-1", NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", mins), EXIT_INPUT);
    const char *noval[] = {trace_path, "-o", NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", noval), EXIT_INPUT);
    const char *unk[] = {trace_path, "--colour", NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", unk), EXIT_INPUT);
    char *cfg = tmp_path("not-a-trace.txt");
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fputs("hello\n", f);
    fclose(f);
    const char *notrace[] = {cfg, "-o", dir, NULL};
    ck_assert_int_eq(run_cmd(cmd_plot, "plot", notrace), EXIT_INPUT);
    if (gp_available()) {
        const char *scripts[] = {trace_path, "-o", dir, "--scripts", "/nonexistent", NULL};
        ck_assert_int_eq(run_cmd(cmd_plot, "plot", scripts), EXIT_INPUT);
    }
    char *stem = plot_stem("results/orion 100b.h5");
    ck_assert_str_eq(stem, "orion-100b");
    free(stem);
    stem = plot_stem("x/.h5");
    ck_assert_str_eq(stem, "trace");
    free(stem);
    char *q = gp_quote("it's");
    ck_assert_str_eq(q, "'it''s'");
    free(q);
    free(cfg);
    free(dir);
}
END_TEST

static Suite *plot_suite(void) {
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_perfetto_json);
    tcase_add_test(tc, test_export_trace_cli);
    tcase_add_test(tc, test_plot_figures);
    tcase_add_test(tc, test_plot_cli_errors);
    suite_add_tcase(s, tc);
    return s;
}

static void h5_close(void) { H5close(); }

CHECK_MAIN(.suite = plot_suite, .teardown = h5_close)
