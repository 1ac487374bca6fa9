/* tests/sim/run/resume_testutil.h: what the checkpoint/resume tests share: a small live
 * scenario with its own corpus, temporary paths, and bit-for-bit comparisons of summaries
 * and of every table of two traces. Include after tests/sim/scenario/scenario_testutil.h.
 */
#ifndef TESTS_RESUME_TESTUTIL_H
#define TESTS_RESUME_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/live/live_data.h"
#include "sim/metrics/summary.h"
#include "sim/trace/trace_read.h"
#include "tests/sim/scenario/scenario_testutil.h"

/* tmpdir/NAME_train.bin (+ _val.bin): bytes of a repetitive English text. */
static inline const char *rt_corpus(const char *name) {
    static const char *const words[] = {"the ",  "jury ", "said ", "that ", "a ",
                                        "vote ", "was ",  "held ", "in ",   "May. "};
    enum { N_TRAIN = 30000, N_VAL = 4000 };
    int32_t *tok = xmalloc(sizeof *tok * (N_TRAIN + N_VAL));
    uint64_t x = 7;
    for (int i = 0; i < N_TRAIN + N_VAL;) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        for (const char *w = words[(x >> 33) % 10]; *w && i < N_TRAIN + N_VAL; w++)
            tok[i++] = (unsigned char)*w;
    }
    char path[PATH_MAX + 64], err[512];
    snprintf(path, sizeof path, "%s/%s_val.bin", g_tmpdir, name);
    ck_assert_msg(live_tokens_write_bin(path, tok + N_TRAIN, N_VAL, err, sizeof err) == 0, "%s",
                  err);
    snprintf(path, sizeof path, "%s/%s_train.bin", g_tmpdir, name);
    ck_assert_msg(live_tokens_write_bin(path, tok, N_TRAIN, err, sizeof err) == 0, "%s", err);
    free(tok);
    g_files[g_n_files] = xstrdup(path);
    return g_files[g_n_files++];
}

/* The live scenario: 2 stages x 2 replicas, `cycles` cycles, churn (peers go down and
 * rejoin), modeled timing, the CPU backend; mode "modeled" for the refusal of a modeled one. */
static inline const char *rt_scenario(const char *name, const char *mode, int cycles) {
    const char *data = rt_corpus(name);
    char text[4096];
    snprintf(text, sizeof text,
             "name = \"%s\";\nseed = 5;\n"
             "model = { d_model = 32; n_blocks = 2; n_heads = 2; n_kv_heads = 1; ffn = 64; "
             "vocab = 256; };\n"
             "pipeline = { stages = 2; cache_capacity = 4; slot_at = \"route\"; };\n"
             "compression = { method = \"resbm\"; ratio = 4; };\n"
             "training = { seq_len = 16; microbatch_seqs = 2; H = 4; accum = 2; cycles = %d; "
             "min_local_steps = 1;\n"
             "  activation_timeout_s = 5.0; data = \"%s\"; grad_clip = 1.0;\n"
             "  optimizer = { kind = \"nadam\"; lr = 3e-3; beta1_rule = \"iota\"; }; };\n"
             "sync = { algorithm = \"iota-butterfly\"; };\n"
             "network = { regions = [\"a\"]; latency_ms = ( [1.0] );\n"
             "  storage = { region = \"a\"; up_mbps = 1000.0; down_mbps = 1000.0; }; };\n"
             "swarm = { replicas = 2; device = \"A100-80GB\"; region = \"a\"; device_table = "
             "\"%%DEV%%\";\n"
             "  bandwidth = { kind = \"fixed\"; up_mbps = 100.0; down_mbps = 100.0; }; };\n"
             "compute = { mode = \"%s\"; backend = \"cpu\"; live_time = \"modeled\"; "
             "val_microbatches = 4;\n"
             "  efficiency = { forward = 0.5; backward = 0.5; recompute = 0.5; optimizer = 0.8; "
             "merge = 0.8; }; };\n"
             "faults = { churn = { enabled = true; mtbf_h = 0.00002; mttr_h = 0.000004; }; };\n"
             "metrics = { colocated_baseline = false; sample_s = 0.01; mfu_window_h = 0.0001; "
             "};\n",
             name, cycles, data, mode);
    char fname[128];
    snprintf(fname, sizeof fname, "%s.cfg", name);
    return tu_write(fname, text);
}

static inline const char *rt_path(const char *name) {
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", g_tmpdir, name);
    g_files[g_n_files] = xstrdup(p);
    return g_files[g_n_files++];
}

/* Every field of the summaries but the wall time, bit for bit. */
static inline void rt_same_summary(const sim_summary *a, const sim_summary *b) {
    for (size_t i = 0; i < sim_summary_n_fields; i++) {
        const sim_field *f = &sim_summary_fields[i];
        if (!strcmp(f->name, "wall_time_s")) continue;
        ck_assert_msg(
            memcmp((const char *)a + f->offset, (const char *)b + f->offset, f->size) == 0,
            "summary %s: %.17g vs %.17g", f->name, sim_summary_get(a, f), sim_summary_get(b, f));
    }
}

static inline char *rt_table_csv(trace_file *tf, const char *table) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(trace_read_table_csv(tf, table, m), 0);
    fclose(m);
    return buf;
}

/* Every table of the two traces (summary: wall time aside, above), value for value. */
static inline void rt_same_tables(const char *pa, const char *pb, size_t *loss_rows) {
    trace_file *a, *b;
    char err[512];
    ck_assert_msg(trace_read_open(pa, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(trace_read_open(pb, &b, err, sizeof err) == 0, "%s", err);
    char **na, **nb;
    size_t n, m;
    ck_assert_int_eq(trace_read_tables(a, &na, &n), 0);
    ck_assert_int_eq(trace_read_tables(b, &nb, &m), 0);
    ck_assert_uint_eq(n, m);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(na[i], nb[i]);
        if (!strcmp(na[i], "summary")) continue;
        char *ta = rt_table_csv(a, na[i]), *tb = rt_table_csv(b, nb[i]);
        ck_assert_msg(!strcmp(ta, tb), "table %s differs between %s and %s", na[i], pa, pb);
        free(ta);
        free(tb);
    }
    sim_summary sa, sb;
    ck_assert_int_eq(trace_read_summary(a, &sa), 0);
    ck_assert_int_eq(trace_read_summary(b, &sb), 0);
    rt_same_summary(&sa, &sb);
    if (loss_rows) *loss_rows = (size_t)trace_read_rows(a, "loss");
    trace_read_free_names(na, n);
    trace_read_free_names(nb, m);
    trace_read_close(a);
    trace_read_close(b);
}

/* from -> to, at most limit bytes (-1: all). */
static inline void rt_copy_file(const char *from, const char *to, long limit) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    ck_assert(a && b);
    char buf[65536];
    long done = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0) {
        if (limit >= 0 && done + (long)n > limit) n = (size_t)(limit - done);
        ck_assert_uint_eq(fwrite(buf, 1, n, b), n);
        done += (long)n;
        if (limit >= 0 && done >= limit) break;
    }
    fclose(a);
    ck_assert_int_eq(fclose(b), 0);
}

/* The whole file (malloc'd), its length in *len. */
static inline char *rt_slurp(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = xmalloc((size_t)*len + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    return b;
}

#endif
