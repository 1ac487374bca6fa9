/* tests/sim/sweep/sweep_testutil.h: helpers shared by the shard, merge and sweep CLI tests.
 *
 * A temporary directory, a tiny scenario written into it (2 stages x 2 replicas of a
 * 4-block model, one cycle: milliseconds per point), a sweep run through sweep_run, and
 * a row-by-row comparison of two sweep files (wall time aside, the one figure that
 * depends on the machine's load). Tests run from the repository root (make test does).
 */
#ifndef TESTS_SWEEP_TESTUTIL_H
#define TESTS_SWEEP_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/sweep/sweep.h"
#include "sim/sweep/sweep_file.h"

static char su_dir[64];
static char *su_scen;

static inline char *su_path(const char *name) {
    size_t n = strlen(su_dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", su_dir, name);
    return p;
}

/* The tiny scenario, with `seed` (another seed: other scenario text, another hash). */
static inline void su_write_scenario(const char *path, int seed) {
    char cwd[1024];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "name = \"sweeptest\";\n"
            "seed = %d;\n"
            "model = { d_model = 128; n_blocks = 4; n_heads = 4; n_kv_heads = 2; ffn = 384; "
            "vocab = 256; };\n"
            "pipeline = { stages = 2; split = [2, 2]; cache_capacity = 4; };\n"
            "compression = { method = \"resbm\"; ratio = 8; };\n"
            "training = { seq_len = 64; microbatch_seqs = 4; H = 4; accum = 2; cycles = 1;\n"
            "             activation_timeout_s = 10.0; min_local_steps = 1; };\n"
            "sync = { algorithm = \"iota-butterfly\"; partitions = 4; owners = 2; };\n"
            "network = { regions = [\"local\"]; latency_ms = ( [ 0.5 ] );\n"
            "            storage = { region = \"local\"; up_mbps = 10000.0; down_mbps = "
            "10000.0; }; };\n"
            "swarm = { replicas = 2; device = \"A100-80GB\"; region = \"local\";\n"
            "          device_table = \"%s/scenarios/devices.cfg\";\n"
            "          bandwidth = { kind = \"fixed\"; up_mbps = 1000.0; down_mbps = 1000.0; "
            "}; };\n"
            "compute = { mode = \"modeled\"; efficiency = { forward = 0.5; backward = 0.5; "
            "recompute = 0.5;\n"
            "            optimizer = 0.8; merge = 0.8; }; };\n"
            "metrics = { mfu_window_h = 0.01; sample_s = 1.0; };\n",
            seed, cwd);
    ck_assert_int_eq(fclose(f), 0);
}

static inline void su_setup(void) {
    snprintf(su_dir, sizeof su_dir, "/tmp/orionsim-shard-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(su_dir));
    su_scen = su_path("tiny.cfg");
    su_write_scenario(su_scen, 7);
}

static inline void su_teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", su_dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", su_dir);
    free(su_scen);
}

/* sweep_run on `scen` (NULL: the tiny scenario) with shard I/N (count 0: none). */
static inline int su_sweep(const char *scen, const char *out, const char *const *vary, size_t nv,
                           const char *const *sets, size_t ns, int shard_index, int shard_count,
                           sweep_stats *st, char *err, size_t errlen) {
    sweep_opts o;
    memset(&o, 0, sizeof o);
    o.scenario = scen ? scen : su_scen;
    o.vary = vary;
    o.n_vary = nv;
    o.sets = sets;
    o.n_sets = ns;
    o.output = out;
    o.jobs = 2;
    o.shard_index = shard_index;
    o.shard_count = shard_count;
    return sweep_run(&o, st, err, errlen);
}

static inline void su_read(const char *path, sweep_meta *m, sweep_point **p, size_t *n) {
    char err[512];
    int rc = sweep_file_read(path, m, p, n, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", path, err);
}

/* Two sweep files hold the same sweep: attributes (created and orionsim_version aside)
 * and rows (wall_time_s aside), value for value. */
static inline void su_assert_same(const char *a, const char *b) {
    sweep_meta ma, mb;
    sweep_point *pa, *pb;
    size_t na, nb;
    su_read(a, &ma, &pa, &na);
    su_read(b, &mb, &pb, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_str_eq(ma.scenario_path, mb.scenario_path);
    ck_assert_str_eq(ma.scenario_name, mb.scenario_name);
    ck_assert_str_eq(ma.scenario_text, mb.scenario_text);
    ck_assert_str_eq(ma.scenario_hash, mb.scenario_hash);
    ck_assert_uint_eq(ma.n_keys, mb.n_keys);
    ck_assert_uint_eq(ma.n_sets, mb.n_sets);
    ck_assert_int_eq(ma.shard_count, mb.shard_count);
    for (size_t k = 0; k < ma.n_keys; k++) {
        ck_assert_str_eq(ma.vary[k], mb.vary[k]);
        ck_assert_str_eq(ma.keys[k], mb.keys[k]);
    }
    for (size_t i = 0; i < ma.n_sets; i++) ck_assert_str_eq(ma.sets[i], mb.sets[i]);
    for (size_t i = 0; i < na; i++) {
        for (size_t k = 0; k < ma.n_keys; k++)
            ck_assert_str_eq(pa[i].params[k].text, pb[i].params[k].text);
        ck_assert_str_eq(pa[i].status, pb[i].status);
        ck_assert_str_eq(pa[i].error, pb[i].error);
        pa[i].sum.wall_time_s = pb[i].sum.wall_time_s = 0;
        ck_assert_msg(!memcmp(&pa[i].sum, &pb[i].sum, sizeof pa[i].sum), "row %zu differs", i);
    }
    sweep_points_free(pa, na, ma.n_keys);
    sweep_points_free(pb, nb, mb.n_keys);
    sweep_meta_free(&ma);
    sweep_meta_free(&mb);
}

/* The bytes of a file (NULL if it cannot be read); caller frees. */
static inline char *su_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat sb;
    ck_assert_int_eq(fstat(fileno(f), &sb), 0);
    char *b = xmalloc((size_t)sb.st_size + 1);
    *len = fread(b, 1, (size_t)sb.st_size, f);
    fclose(f);
    return b;
}

#endif
