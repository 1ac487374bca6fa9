/* tests/sim/live/test_live.c: live mode -- real kernels through the simulated swarm.
 *
 * Every swarm run here uses the `modeled` timing rule (live_options.time), so the order
 * of events does not depend on how fast this machine runs the kernels: the runs are
 * deterministic and comparable bit for bit. Data: a small English text the tests write
 * themselves as an llm.c shard.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "sim/live/live.h"
#include "sim/live/live_data.h"
#include "sim/live/live_merge.h"
#include "sim/run/run_config.h"
#include "sim/trace/trace_read.h"
#include "sim/trace/trace_sink.h"
#include "tests/sim/scenario/scenario_testutil.h"
#include "tests/check_main.h"

/* ---- data -------------------------------------------------------------------------- */

static const char *const SENTENCES[] = {
    "The jury said the election was conducted with care. ",
    "A small town held its vote on a quiet Friday in May. ",
    "The committee praised the city for the manner of the count. ",
    "Reports of irregularities were few, and none were found true. ",
    "The mayor thanked the workers who kept the polls open late. ",
    "In the evening the results were read aloud at the hall. ",
};

/* A text of n bytes made of the sentences above in a fixed pseudo-random order. */
static char *make_text(size_t n) {
    char *t = xmalloc(n + 1);
    size_t len = 0;
    uint64_t x = 12345;
    while (len < n) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const char *s = SENTENCES[(x >> 33) % (sizeof SENTENCES / sizeof SENTENCES[0])];
        size_t k = strlen(s);
        if (len + k > n) k = n - len;
        memcpy(t + len, s, k);
        len += k;
    }
    t[n] = 0;
    return t;
}

/* tmpdir/<name>_train.bin and _val.bin from the text; returns the train path. */
static const char *write_corpus(const char *name, size_t n_train, size_t n_val) {
    char *text = make_text(n_train + n_val);
    int32_t *tok = xmalloc(sizeof *tok * (n_train + n_val));
    for (size_t i = 0; i < n_train + n_val; i++) tok[i] = (unsigned char)text[i];
    char path[PATH_MAX + 64], err[512];
    snprintf(path, sizeof path, "%s/%s_val.bin", g_tmpdir, name);
    ck_assert_msg(live_tokens_write_bin(path, tok + n_train, (int64_t)n_val, err, sizeof err) == 0,
                  "%s", err);
    snprintf(path, sizeof path, "%s/%s_train.bin", g_tmpdir, name);
    ck_assert_msg(live_tokens_write_bin(path, tok, (int64_t)n_train, err, sizeof err) == 0, "%s",
                  err);
    free(text);
    free(tok);
    ck_assert_int_lt(g_n_files, 256);
    g_files[g_n_files] = xstrdup(path);
    return g_files[g_n_files++];
}

/* ---- the .bin loader ----------------------------------------------------------------- */

static void write_raw(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_bin_good) {
    char path[PATH_MAX + 64], err[512] = "";
    int32_t tok[5] = {72, 105, 0, 255, 33};
    snprintf(path, sizeof path, "%s/good.bin", g_tmpdir);
    ck_assert_int_eq(live_tokens_write_bin(path, tok, 5, err, sizeof err), 0);
    live_tokens t;
    ck_assert_msg(live_tokens_load(path, 256, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.n, 5);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(t.tok[i], tok[i]);
    live_tokens_free(&t);
    /* the header llm.c writes: magic 20240520, version 1, count; uint16 tokens */
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    int32_t hdr[3];
    ck_assert_uint_eq(fread(hdr, sizeof hdr[0], 3, f), 3);
    fclose(f);
    ck_assert_int_eq(hdr[0], 20240520);
    ck_assert_int_eq(hdr[1], 1);
    ck_assert_int_eq(hdr[2], 5);
    /* llama-3 layout: uint32 tokens */
    int32_t wide[3] = {70000, 5, 128000};
    ck_assert_int_eq(live_tokens_write_bin(path, wide, 3, err, sizeof err), 0);
    ck_assert_msg(live_tokens_load(path, 128256, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.n, 3);
    ck_assert_int_eq(t.tok[0], 70000);
    ck_assert_int_eq(t.tok[2], 128000);
    live_tokens_free(&t);
    /* a text file: one byte per token */
    snprintf(path, sizeof path, "%s/plain.txt", g_tmpdir);
    write_raw(path, "abc", 3);
    ck_assert_int_eq(live_tokens_load(path, 256, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.n, 3);
    ck_assert_int_eq(t.tok[1], 'b');
    live_tokens_free(&t);
}
END_TEST

static void expect_bad(const char *path, int vocab, const char *needle) {
    live_tokens t;
    char err[512] = "";
    ck_assert_int_eq(live_tokens_load(path, vocab, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, path) != NULL, "error '%s' does not name the file", err);
    ck_assert_msg(strstr(err, needle) != NULL, "error '%s' lacks '%s'", err, needle);
    ck_assert_ptr_null(t.tok);
}

START_TEST(test_bin_bad) {
    char path[PATH_MAX + 64], err[512] = "";
    unsigned char buf[1024 + 8];
    memset(buf, 0, sizeof buf);
    int32_t hdr[3] = {20240520, 1, 4};
    memcpy(buf, hdr, sizeof hdr);
    snprintf(path, sizeof path, "%s/bad.bin", g_tmpdir);
    /* wrong magic */
    int32_t wrong = 12345;
    memcpy(buf, &wrong, 4);
    write_raw(path, buf, sizeof buf);
    expect_bad(path, 256, "magic 12345");
    memcpy(buf, hdr, sizeof hdr);
    /* wrong version */
    int32_t v2 = 2;
    memcpy(buf + 4, &v2, 4);
    write_raw(path, buf, sizeof buf);
    expect_bad(path, 256, "version 2");
    memcpy(buf, hdr, sizeof hdr);
    /* truncated header */
    write_raw(path, buf, 100);
    expect_bad(path, 256, "truncated");
    /* truncated tokens: 4 announced, 3 present */
    write_raw(path, buf, 1024 + 6);
    expect_bad(path, 256, "truncated");
    /* trailing bytes */
    unsigned char big[1024 + 10];
    memset(big, 0, sizeof big);
    memcpy(big, hdr, sizeof hdr);
    write_raw(path, big, sizeof big);
    expect_bad(path, 256, "after the 4 tokens");
    /* a token outside the vocabulary */
    uint16_t t300 = 300;
    memcpy(buf + 1024 + 2, &t300, 2);
    write_raw(path, buf, sizeof buf);
    expect_bad(path, 256, "token 300 at index 1");
    /* missing file */
    snprintf(path, sizeof path, "%s/none.bin", g_tmpdir);
    expect_bad(path, 256, "cannot read: No such file");
    /* a FIFO: refused at once, never waited on */
    snprintf(path, sizeof path, "%s/fifo.bin", g_tmpdir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    expect_bad(path, 256, "a FIFO, not a regular file");
    /* too little data for one microbatch */
    int32_t few[4] = {1, 2, 3, 4};
    snprintf(path, sizeof path, "%s/few.bin", g_tmpdir);
    ck_assert_int_eq(live_tokens_write_bin(path, few, 4, err, sizeof err), 0);
    live_data d;
    ck_assert_int_eq(live_data_open(path, 0.5, 1, 256, 1, 16, 1, &d, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "few.bin") != NULL, "%s", err);
}
END_TEST

/* Microbatch m is a pure function of (seed, m). */
START_TEST(test_data_pure) {
    const char *train = write_corpus("pure", 20000, 4000);
    live_data a, b;
    char err[512] = "";
    ck_assert_msg(live_data_open(train, 0.1, 4, 256, 2, 16, 7, &a, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_msg(live_data_open(train, 0.1, 4, 256, 2, 16, 7, &b, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_int_eq(a.val.n, 4000); /* the _val.bin beside it */
    ck_assert_int_eq(a.n_val_batches, 4);
    int32_t i1[32], t1[32], i2[32], t2[32];
    live_data_batch(&a, 41, i1, t1);
    live_data_batch(&b, 7, i2, t2); /* another order of calls */
    live_data_batch(&b, 41, i2, t2);
    ck_assert_mem_eq(i1, i2, sizeof i1);
    ck_assert_mem_eq(t1, t2, sizeof t1);
    for (int k = 0; k < 15; k++) ck_assert_int_eq(t1[k], i1[k + 1]); /* targets shifted by one */
    live_data_batch(&a, 42, i2, t2);
    ck_assert(memcmp(i1, i2, sizeof i1) != 0);
    live_data_close(&a);
    live_data_close(&b);
}
END_TEST

/* ---- the merge, by hand -------------------------------------------------------------- */

START_TEST(test_merge_hand) {
    kb_backend *be = kb_cpu_open();
    /* 7 parameters in 3 partitions: [0,3) [3,5) [5,7); partition 1 was not merged */
    float G[7] = {1, 2, 3, 4, 5, 6, 7};
    float W1[7] = {0.5f, 2.5f, 3, 3, 5, 6.5f, 6};
    float W2[7] = {1.5f, 1.5f, 2, 5, 4, 5.5f, 7};
    float mom[7] = {0}, pg[7];
    float R1[7], R2[7];
    memcpy(R1, W1, sizeof R1);
    memcpy(R2, W2, sizeof R2);
    const float *W[2] = {W1, W2};
    float *recv[2] = {R1, R2};
    int ok[3] = {1, 0, 1};
    int merged = live_merge(be, 7, G, mom, pg, W, 2, recv, 2, ok, 3, LIVE_OUTER_NESTEROV, 0.7, 0.9);
    ck_assert_int_eq(merged, 2);
    /* by hand: pg = G - (W1 + W2)/2; mom = pg; G' = G - 0.7 (pg + 0.9 pg) */
    const float G0[7] = {1, 2, 3, 4, 5, 6, 7};
    for (int i = 0; i < 7; i++) {
        int dead = i == 3 || i == 4;
        double p = G0[i] - 0.5 * ((double)W1[i] + W2[i]);
        double want = dead ? G0[i] : G0[i] - 0.7 * (p + 0.9 * p);
        ck_assert_msg(fabs(G[i] - want) < 1e-6, "G[%d] = %g, want %g", i, G[i], want);
        ck_assert(fabs(mom[i] - (dead ? 0.0 : p)) < 1e-6);
        ck_assert(R1[i] == (dead ? W1[i] : G[i]));
        ck_assert(R2[i] == (dead ? W2[i] : G[i]));
    }
    /* second merge: the momentum carries (mom = 0.9 mom + pg) */
    float Gb[7], momb[7];
    memcpy(Gb, G, sizeof Gb);
    memcpy(momb, mom, sizeof momb);
    const float *W1only[1] = {W1};
    int all[3] = {1, 1, 1};
    live_merge(be, 7, G, mom, pg, W1only, 1, NULL, 0, all, 3, LIVE_OUTER_NESTEROV, 0.7, 0.9);
    for (int i = 0; i < 7; i++) {
        double p = (double)Gb[i] - W1[i];
        double m = 0.9 * momb[i] + p;
        ck_assert(fabs(mom[i] - m) < 1e-5);
        ck_assert(fabs(G[i] - (Gb[i] - 0.7 * (p + 0.9 * m))) < 1e-5);
    }
    /* average: G = mean W; sgd: G -= lr pg */
    float Ga[7] = {1, 2, 3, 4, 5, 6, 7};
    live_merge(be, 7, Ga, mom, pg, W, 2, NULL, 0, all, 3, LIVE_OUTER_AVERAGE, 0.7, 0.9);
    for (int i = 0; i < 7; i++) ck_assert(fabs(Ga[i] - 0.5 * ((double)W1[i] + W2[i])) < 1e-6);
    float Gs[7] = {1, 2, 3, 4, 5, 6, 7};
    live_merge(be, 7, Gs, mom, pg, W, 2, NULL, 0, all, 3, LIVE_OUTER_SGD, 0.5, 0.9);
    for (int i = 0; i < 7; i++) {
        double p = G0[i] - 0.5 * ((double)W1[i] + W2[i]);
        ck_assert(fabs(Gs[i] - (G0[i] - 0.5 * p)) < 1e-6);
    }
    ck_assert(fabs(live_outer_momentum(0.9, 0.5, 4, 0) - 0.5) < 1e-12);
    ck_assert(fabs(live_outer_momentum(0.9, 0.5, 4, 2) - 0.7) < 1e-12);
    ck_assert(fabs(live_outer_momentum(0.9, 0.5, 4, 9) - 0.9) < 1e-12);
    kb_close(be);
}
END_TEST

/* ---- swarm runs ---------------------------------------------------------------------- */

/* 2 stages x 2 replicas of a 2-block d-32 byte model, ResBM 4x, H 4 x accum 2. IOTA's
 * pipeline rules, except those live mode or the invariants below cannot hold under: the
 * slot reserved at routing (live mode's tensor bookkeeping), no fetch period (0.51 s
 * would outlast the churn test's 72-ms peers), no cache wipe per step and the drain
 * phase end (every completed backward then belongs to some inner step). */
/* sync: the scenario's sync group, or NULL for the butterfly's defaults. */
static const char *live_scenario_sync(const char *name, const char *data, int cycles, int churn,
                                      uint64_t seed, const char *sync) {
    char text[4096];
    snprintf(
        text, sizeof text,
        "name = \"%s\";\nseed = %llu;\n"
        "model = { d_model = 32; n_blocks = 2; n_heads = 2; n_kv_heads = 1; ffn = 64; vocab = 256; "
        "};\n"
        "pipeline = { stages = 2; cache_capacity = 4; slot_at = \"route\";\n"
        "  keep_cache_on_local_step = true; overhead = { inject_period_s = 0.0; }; };\n"
        "compression = { method = \"resbm\"; ratio = 4; };\n"
        "training = { seq_len = 16; microbatch_seqs = 2; H = 4; accum = 2; cycles = %d; "
        "min_local_steps = 1;\n"
        "  activation_timeout_s = 5.0; data = \"%s\"; grad_clip = 1.0; phase_end = \"drain\";\n"
        "  optimizer = { kind = \"adamw\"; lr = 3e-3; beta1_rule = \"iota\"; }; };\n"
        "%s\n"
        "network = { regions = [\"a\"]; latency_ms = ( [1.0] );\n"
        "  storage = { region = \"a\"; up_mbps = 1000.0; down_mbps = 1000.0; }; };\n"
        "swarm = { replicas = 2; device = \"A100-80GB\"; region = \"a\"; device_table = "
        "\"%%DEV%%\";\n"
        "  bandwidth = { kind = \"fixed\"; up_mbps = 100.0; down_mbps = 100.0; }; };\n"
        "compute = { mode = \"live\"; backend = \"cpu\";\n"
        "  efficiency = { forward = 0.5; backward = 0.5; recompute = 0.5; optimizer = 0.8; merge = "
        "0.8; }; };\n"
        "metrics = { colocated_baseline = false; sample_s = 0.01; mfu_window_h = 0.0001; };\n"
        "%s",
        name, (unsigned long long)seed, cycles, data,
        sync ? sync : "sync = { algorithm = \"iota-butterfly\"; };",
        churn ? "faults = { churn = { enabled = true; mtbf_h = 0.00002; mttr_h = 0.000004; }; };\n"
              : "");
    char fname[128];
    snprintf(fname, sizeof fname, "%s.cfg", name);
    return tu_write(fname, text);
}

static const char *live_scenario(const char *name, const char *data, int cycles, int churn,
                                 uint64_t seed) {
    return live_scenario_sync(name, data, cycles, churn, seed, NULL);
}

typedef struct {
    int64_t *mbs[8];
    int n[8], cap[8];
    int64_t steps[8];
} step_log;

static void on_step(void *ctx, int peer, int64_t step, const int64_t *mbs, int n) {
    step_log *lg = ctx;
    (void)step;
    ck_assert_int_lt(peer, 8);
    lg->steps[peer]++;
    for (int i = 0; i < n; i++) {
        if (lg->n[peer] == lg->cap[peer]) {
            lg->cap[peer] = lg->cap[peer] ? 2 * lg->cap[peer] : 64;
            lg->mbs[peer] = xrealloc(lg->mbs[peer], sizeof(int64_t) * (size_t)lg->cap[peer]);
        }
        lg->mbs[peer][lg->n[peer]++] = mbs[i];
    }
}

typedef struct {
    int rc;
    char err[1024];
    sim_summary sum;
    live_stats st;
    trace_loss_rec *loss;
    size_t n_loss;
    trace_event_rec *ev;
    size_t n_ev;
} run_out;

/* Load the scenario, open live mode (modeled timing), run the swarm with a trace,
 * read the trace back. poison >= 0: make that peer's weights NaN first. */
static void run_live(const char *cfgpath, step_log *lg, int poison, run_out *o) {
    memset(o, 0, sizeof *o);
    sim_scenario sc;
    tu_load_ok(cfgpath, NULL, 0, &sc);
    swarm_config cfg;
    scenario_to_swarm(&sc, NULL, &cfg);
    cfg.progress = 0;
    live_config lo;
    run_live_config(&sc, &lo);
    lo.time = LIVE_TIME_MODELED;
    lo.val_microbatches = 4;
    char tpath[PATH_MAX + 64];
    snprintf(tpath, sizeof tpath, "%s/%s.h5", g_tmpdir, sc.name);
    trace_meta meta = {.seed = sc.seed, .mode = "live", .created = "2026-01-01T00:00:00Z"};
    trace *tr = trace_open(tpath, &meta);
    ck_assert_ptr_nonnull(tr);
    swarm_live_ops ops;
    char err[1024] = "";
    live_sink ls;
    trace_live_sink_make(tr, &ls);
    ck_assert_msg(live_open(&lo, &cfg, &ls, &ops, err, sizeof err) == 0, "live_open: %s", err);
    if (lg) live_set_step_observer(&ops, on_step, lg);
    if (poison >= 0) live_poison(&ops, poison);
    cfg.live = &ops;
    sim_summary_init(&o->sum);
    swarm_sink sink;
    if (tr) trace_sink_make(tr, &sink);
    o->rc = swarm_run(&cfg, tr ? &sink : NULL, &o->sum, NULL, o->err, sizeof o->err);
    live_fill_summary(&ops, &o->sum);
    live_get_stats(&ops, &o->st);
    ck_assert_int_eq(trace_close(tr, &o->sum, o->rc == 0), 0);
    live_close(&ops);
    swarm_config_free(&cfg);
    sim_scenario_free(&sc);
    trace_file *tf;
    ck_assert_msg(trace_read_open(tpath, &tf, err, sizeof err) == 0, "%s", err);
    void *recs = NULL;
    size_t rows = 0;
    if (trace_read_rows(tf, "loss") > 0) {
        ck_assert_int_eq(trace_read_table(tf, "loss", trace_loss_fields, trace_loss_n_fields,
                                          sizeof(trace_loss_rec), &recs, &rows),
                         0);
        o->loss = recs;
        o->n_loss = rows;
    }
    if (trace_read_rows(tf, "events") > 0) {
        ck_assert_int_eq(trace_read_table(tf, "events", trace_event_fields, trace_event_n_fields,
                                          sizeof(trace_event_rec), &recs, &rows),
                         0);
        o->ev = recs;
        o->n_ev = rows;
    }
    trace_read_close(tf);
    if (getenv("ORIONSIM_TEST_VERBOSE"))
        fprintf(stderr,
                "%s: rc %d trained %.0f lost %.0f steps %lld undone %lld merges %lld val %.4f -> "
                "%.4f train %.4f "
                "bufs peak %lld/%lld leaked %lld sim %.3fs\n",
                cfgpath, o->rc, o->sum.microbatches_trained, o->sum.microbatches_lost,
                (long long)o->st.optimizer_steps, (long long)o->st.backwards_undone,
                (long long)o->st.merges, o->st.val_loss_initial, o->st.val_loss_final,
                o->st.loss_final, (long long)o->st.buffers_peak, (long long)o->st.buffers_bound,
                (long long)o->st.buffers_leaked, o->sum.sim_time_s);
}

static void run_free(run_out *o) {
    free(o->loss);
    free(o->ev);
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int is_backward_event(int kind) {
    return kind == TRACE_EV_BACKWARD || kind == TRACE_EV_RECOMPUTE_BACKWARD ||
           kind == TRACE_EV_LAST_FUSED;
}

/* Without faults: every inner step used exactly the microbatches whose backward
 * completed at that peer (the trace's events), each once; tokens add up. */
START_TEST(test_live_conservation) {
    const char *data = write_corpus("cons", 30000, 4000);
    const char *cfg = live_scenario("cons", data, 2, 0, 3);
    step_log lg;
    memset(&lg, 0, sizeof lg);
    run_out o;
    run_live(cfg, &lg, -1, &o);
    ck_assert_msg(o.rc == 0, "run failed: %s", o.err);
    ck_assert_int_eq(o.sum.cycles, 2);
    ck_assert(o.sum.microbatches_trained > 0);
    ck_assert(o.sum.tokens_trained == o.sum.microbatches_trained * 32);
    ck_assert(o.sum.microbatches_injected ==
              o.sum.microbatches_trained + o.sum.microbatches_lost + o.sum.microbatches_in_flight);
    ck_assert_int_eq(o.st.stage0_backwards, (int64_t)o.sum.microbatches_trained);
    ck_assert_int_le(o.st.buffers_peak, o.st.buffers_bound);
    ck_assert_int_eq(o.st.buffers_leaked, 0);
    ck_assert_int_eq(o.st.buffers_live, 0);
    for (int p = 0; p < 4; p++) {
        int64_t *done = xmalloc(sizeof(int64_t) * (o.n_ev + 1));
        int nd = 0;
        for (size_t i = 0; i < o.n_ev; i++)
            if (o.ev[i].peer == p && is_backward_event(o.ev[i].kind))
                done[nd++] = o.ev[i].microbatch;
        ck_assert_int_eq(nd, lg.n[p]);
        qsort(done, (size_t)nd, sizeof *done, cmp64);
        qsort(lg.mbs[p], (size_t)lg.n[p], sizeof(int64_t), cmp64);
        for (int i = 0; i < nd; i++) {
            ck_assert_int_eq(done[i], lg.mbs[p][i]);
            if (i) ck_assert_int_ne(done[i], done[i - 1]); /* nothing twice */
        }
        ck_assert(lg.steps[p] >= 4); /* H = 4 per cycle at least */
        free(done);
        free(lg.mbs[p]);
    }
    /* stage-0 completions are the trained microbatches */
    int64_t s0 = 0;
    for (size_t i = 0; i < o.n_ev; i++) s0 += is_backward_event(o.ev[i].kind) && o.ev[i].stage == 0;
    ck_assert_int_eq(s0, (int64_t)o.sum.microbatches_trained);
    run_free(&o);
}
END_TEST

/* Same seed: the same losses, bit for bit (CPU backend, modeled timing). */
START_TEST(test_live_determinism) {
    const char *data = write_corpus("det", 30000, 4000);
    const char *c1 = live_scenario("det1", data, 2, 1, 11);
    const char *c2 = live_scenario("det2", data, 2, 1, 11);
    run_out a, b;
    run_live(c1, NULL, -1, &a);
    run_live(c2, NULL, -1, &b);
    ck_assert_msg(a.rc == 0, "%s", a.err);
    ck_assert_msg(b.rc == 0, "%s", b.err);
    ck_assert_uint_gt(a.n_loss, 4);
    ck_assert_uint_eq(a.n_loss, b.n_loss);
    for (size_t i = 0; i < a.n_loss; i++) {
        ck_assert_int_eq(a.loss[i].kind, b.loss[i].kind);
        ck_assert_msg(memcmp(&a.loss[i].loss, &b.loss[i].loss, sizeof(double)) == 0,
                      "row %zu: %.17g vs %.17g", i, a.loss[i].loss, b.loss[i].loss);
    }
    ck_assert(memcmp(&a.st.val_loss_final, &b.st.val_loss_final, sizeof(double)) == 0);
    run_free(&a);
    run_free(&b);
}
END_TEST

/* Through churn and merges the model learns; no inner step uses a microbatch twice or
 * one whose backward did not complete at that peer. */
START_TEST(test_live_learns_through_churn) {
    const char *data = write_corpus("churn", 60000, 4000);
    const char *cfg = live_scenario("churn", data, 6, 1, 5);
    step_log lg;
    memset(&lg, 0, sizeof lg);
    run_out o;
    run_live(cfg, &lg, -1, &o);
    ck_assert_msg(o.rc == 0, "run failed: %s", o.err);
    int downs = 0;
    for (size_t i = 0; i < o.n_ev; i++) downs += o.ev[i].kind == TRACE_EV_DOWN;
    ck_assert_msg(downs > 0, "no peer went down: the churn test tests nothing");
    ck_assert(o.st.merges > 0);
    ck_assert_msg(o.st.val_loss_final < o.st.val_loss_initial - 1.0, "validation loss %g -> %g",
                  o.st.val_loss_initial, o.st.val_loss_final);
    ck_assert_msg(o.st.loss_final < log(256.0) - 1.0, "train loss %g", o.st.loss_final);
    ck_assert_int_le(o.st.buffers_peak, o.st.buffers_bound);
    for (int p = 0; p < 4; p++) {
        qsort(lg.mbs[p], (size_t)lg.n[p], sizeof(int64_t), cmp64);
        for (int i = 0; i < lg.n[p]; i++) {
            if (i) ck_assert_int_ne(lg.mbs[p][i], lg.mbs[p][i - 1]);
            int found = 0;
            for (size_t k = 0; k < o.n_ev && !found; k++)
                found = o.ev[k].peer == p && is_backward_event(o.ev[k].kind) &&
                        o.ev[k].microbatch == lg.mbs[p][i];
            ck_assert_msg(found, "peer %d stepped on microbatch %lld without a completed backward",
                          p, (long long)lg.mbs[p][i]);
        }
        free(lg.mbs[p]);
    }
    run_free(&o);
}
END_TEST

/* sync.publish = "update": every peer adds the published merged update to its copy of
 * the previous global weights, which gives the merged weights themselves (live mode
 * averages pseudo-gradients exactly; compression only sizes the transfers). The same
 * losses bit for bit, in a shorter sync. */
START_TEST(test_live_publish_update) {
    const char *data = write_corpus("pub", 30000, 4000);
    const char *cw = live_scenario_sync(
        "pubw", data, 2, 0, 7, "sync = { compression_ratio = 4.0; publish = \"weights\"; };");
    const char *cu = live_scenario_sync(
        "pubu", data, 2, 0, 7, "sync = { compression_ratio = 4.0; publish = \"update\"; };");
    run_out w, u;
    run_live(cw, NULL, -1, &w);
    run_live(cu, NULL, -1, &u);
    ck_assert_msg(w.rc == 0, "%s", w.err);
    ck_assert_msg(u.rc == 0, "%s", u.err);
    ck_assert_int_gt(u.st.merges, 0);
    ck_assert_uint_gt(w.n_loss, 4);
    ck_assert_uint_eq(w.n_loss, u.n_loss);
    for (size_t i = 0; i < w.n_loss; i++)
        ck_assert_msg(memcmp(&w.loss[i].loss, &u.loss[i].loss, sizeof(double)) == 0,
                      "row %zu: %.17g vs %.17g", i, w.loss[i].loss, u.loss[i].loss);
    ck_assert(memcmp(&w.st.val_loss_final, &u.st.val_loss_final, sizeof(double)) == 0);
    ck_assert_double_lt(u.sum.time_merging_s, w.sum.time_merging_s);
    run_free(&w);
    run_free(&u);
}
END_TEST

/* A NaN in the weights stops the run with an error naming peer, stage and step. */
START_TEST(test_live_nan_guard) {
    const char *data = write_corpus("nan", 30000, 4000);
    const char *cfg = live_scenario("nan", data, 2, 0, 3);
    run_out o;
    run_live(cfg, NULL, 0, &o);
    ck_assert_int_ne(o.rc, 0);
    ck_assert_msg(strstr(o.err, "non-finite") && strstr(o.err, "peer") && strstr(o.err, "stage") &&
                      strstr(o.err, "inner step"),
                  "error: %s", o.err);
    run_free(&o);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("live");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, tu_setup_dirs, tu_cleanup_dirs);
    tcase_add_test(tc, test_bin_good);
    tcase_add_test(tc, test_bin_bad);
    tcase_add_test(tc, test_data_pure);
    tcase_add_test(tc, test_merge_hand);
    tcase_add_test(tc, test_live_conservation);
    tcase_add_test(tc, test_live_determinism);
    tcase_add_test(tc, test_live_learns_through_churn);
    tcase_add_test(tc, test_live_nan_guard);
    tcase_add_test(tc, test_live_publish_update);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
