/* tests/sim/sweep/test_sweep_shard.c: `--shard I/N` (sim/sweep/sweep_spec, sim/sweep/sweep) and
 * the merge of shard files (sim/sweep/sweep_merge): the merged file equals the file of one
 * process row for row; resume and failures per shard; every kind of bad merge refused
 * with its reason and nothing written. */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/sweep/sweep.h"
#include "sim/sweep/sweep_file.h"
#include "sim/sweep/sweep_merge.h"
#include "sim/sweep/sweep_spec.h"
#include "tests/check_main.h"
#include "tests/sim/sweep/sweep_testutil.h"

/* ---- --shard parsing ------------------------------------------------------------------ */

START_TEST(test_shard_parse) {
    int i = -1, n = -1;
    char err[256];
    ck_assert_int_eq(sweep_shard_parse("0/1", &i, &n, err, sizeof err), 0);
    ck_assert_int_eq(i, 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(sweep_shard_parse("3/4", &i, &n, err, sizeof err), 0);
    ck_assert_int_eq(i, 3);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(sweep_shard_parse("999/1000", &i, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 1000);
    static const struct {
        const char *arg, *why;
    } bad[] = {
        {"3/2", "shard 3 does not exist; the shards of 2 are numbered 0 to 1"},
        {"2/2", "numbered 0 to 1"},
        {"0/0", "must be at least 1"},
        {"1/0", "must be at least 1"},
        {"-1/2", "expected I/N"},
        {"1/-2", "expected I/N"},
        {"1", "expected I/N"},
        {"1/", "expected I/N"},
        {"/2", "expected I/N"},
        {"1/2/3", "expected I/N"},
        {" 1/2", "expected I/N"},
        {"a/b", "expected I/N"},
        {"1.0/2", "expected I/N"},
        {"0/2000000", "more than 1000000 shards"},
        {"0/99999999999", "expected I/N"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        i = n = -7;
        err[0] = 0;
        ck_assert_msg(sweep_shard_parse(bad[k].arg, &i, &n, err, sizeof err) == -1, "%s accepted",
                      bad[k].arg);
        ck_assert_msg(strstr(err, bad[k].why) && strstr(err, "--shard"), "%s: '%s' lacks '%s'",
                      bad[k].arg, err, bad[k].why);
        ck_assert_int_eq(i, -7); /* untouched */
        ck_assert_int_eq(n, -7);
    }
}
END_TEST

/* ---- shards and their merge -------------------------------------------------------------- */

static const char *const grid2x3[] = {"training.H=2,4", "compression.ratio=2,4,16"};

/* Shards i of n of the 2 x 3 grid into shard-<i>.h5; returns their paths. */
static char **run_shards(int n, const char *const *vary, size_t nv) {
    char **paths = xcalloc((size_t)n, sizeof *paths);
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "shard-%d-of-%d.h5", i, n);
        paths[i] = su_path(name);
        sweep_stats st;
        char err[1024];
        int rc = su_sweep(NULL, paths[i], vary, nv, NULL, 0, i, n, &st, err, sizeof err);
        ck_assert_msg(rc == EXIT_OK, "shard %d/%d: %s", i, n, err);
    }
    return paths;
}

static void free_paths(char **p, int n) {
    for (int i = 0; i < n; i++) free(p[i]);
    free(p);
}

START_TEST(test_shards_merge_to_the_single_process_file) {
    char *whole = su_path("whole.h5");
    sweep_stats st;
    char err[1024];
    ck_assert_int_eq(su_sweep(NULL, whole, grid2x3, 2, NULL, 0, 0, 0, &st, err, sizeof err),
                     EXIT_OK);
    ck_assert_uint_eq(st.points, 6);

    /* 4 shards of 6 points: 2, 2, 1, 1 points, round robin */
    char **sh = run_shards(4, grid2x3, 2);
    static const size_t share[4] = {2, 2, 1, 1};
    static const double H[6] = {2, 2, 2, 4, 4, 4}, R[6] = {2, 4, 16, 2, 4, 16};
    for (int i = 0; i < 4; i++) {
        sweep_meta m;
        sweep_point *p;
        size_t n;
        su_read(sh[i], &m, &p, &n);
        ck_assert_uint_eq(n, share[i]);
        ck_assert_int_eq(m.shard_index, i);
        ck_assert_int_eq(m.shard_count, 4);
        ck_assert_int_eq(m.grid_points, 6);
        for (size_t r = 0; r < n; r++) { /* row r of shard i is grid point i + 4 r */
            ck_assert_double_eq(p[r].params[0].num, H[(size_t)i + 4 * r]);
            ck_assert_double_eq(p[r].params[1].num, R[(size_t)i + 4 * r]);
            ck_assert_str_eq(p[r].status, "ok");
        }
        sweep_points_free(p, n, m.n_keys);
        sweep_meta_free(&m);
    }
    /* any order of the shard files */
    char *merged = su_path("merged.h5");
    const char *order[4] = {sh[2], sh[0], sh[3], sh[1]};
    sweep_merge_stats ms;
    ck_assert_msg(sweep_merge(merged, order, 4, 0, &ms, err, sizeof err) == EXIT_OK, "%s", err);
    ck_assert_uint_eq(ms.shards, 4);
    ck_assert_uint_eq(ms.points, 6);
    ck_assert_uint_eq(ms.rows, 6);
    ck_assert_uint_eq(ms.failed, 0);
    su_assert_same(whole, merged);
    ck_assert_int_eq(sweep_file_probe(merged), 1);
    /* merging again replaces the merged file */
    ck_assert_int_eq(sweep_merge(merged, order, 4, 0, &ms, err, sizeof err), EXIT_OK);
    su_assert_same(whole, merged);
    /* the merged file resumes as the whole sweep: nothing runs */
    ck_assert_int_eq(su_sweep(NULL, merged, grid2x3, 2, NULL, 0, 0, 0, &st, err, sizeof err),
                     EXIT_OK);
    ck_assert_uint_eq(st.kept, 6);
    ck_assert_uint_eq(st.ran, 0);

    /* more shards than points: the extra shards are empty files and merge all the same */
    char **many = run_shards(8, grid2x3, 2);
    sweep_meta m;
    sweep_point *p;
    size_t n;
    su_read(many[7], &m, &p, &n);
    ck_assert_uint_eq(n, 0);
    sweep_points_free(p, n, m.n_keys);
    sweep_meta_free(&m);
    char *merged8 = su_path("merged8.h5");
    ck_assert_msg(sweep_merge(merged8, (const char *const *)many, 8, 0, &ms, err, sizeof err) ==
                      EXIT_OK,
                  "%s", err);
    su_assert_same(whole, merged8);
    /* one shard of one: the whole grid */
    char **one = run_shards(1, grid2x3, 2);
    char *merged1 = su_path("merged1.h5");
    ck_assert_int_eq(sweep_merge(merged1, (const char *const *)one, 1, 0, &ms, err, sizeof err),
                     EXIT_OK);
    su_assert_same(whole, merged1);
    free_paths(sh, 4);
    free_paths(many, 8);
    free_paths(one, 1);
    free(whole);
    free(merged);
    free(merged8);
    free(merged1);
}
END_TEST

START_TEST(test_shard_resume_and_failures) {
    const char *vary[] = {"training.H=0,2,3,5"}; /* H = 0 is out of range: fails */
    char *s0 = su_path("f0.h5"), *s1 = su_path("f1.h5");
    sweep_stats st;
    char err[1024];
    ck_assert_int_eq(su_sweep(NULL, s0, vary, 1, NULL, 0, 0, 2, &st, err, sizeof err), EXIT_RUN);
    ck_assert_msg(strstr(err, "1 of 2 points failed"), "%s", err);
    ck_assert_uint_eq(st.points, 2);
    ck_assert_uint_eq(st.failed, 1);
    ck_assert_int_eq(su_sweep(NULL, s1, vary, 1, NULL, 0, 1, 2, &st, err, sizeof err), EXIT_OK);
    /* the same shard again: its failed point runs again, its finished one is kept */
    ck_assert_int_eq(su_sweep(NULL, s0, vary, 1, NULL, 0, 0, 2, &st, err, sizeof err), EXIT_RUN);
    ck_assert_uint_eq(st.ran, 1);
    ck_assert_uint_eq(st.kept, 1);
    /* a shard file resumes only as the same shard, a whole sweep's file not as a shard */
    ck_assert_int_eq(su_sweep(NULL, s0, vary, 1, NULL, 0, 1, 2, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_msg(strstr(err, "it holds shard 0/2, now shard 1/2") && strstr(err, "--force"), "%s",
                  err);
    ck_assert_int_eq(su_sweep(NULL, s0, vary, 1, NULL, 0, 0, 0, &st, err, sizeof err), EXIT_INPUT);
    ck_assert_msg(strstr(err, "it holds shard 0/2, now the whole grid"), "%s", err);
    /* the merge: written, but exit 1 and the failed point named */
    char *out = su_path("fmerged.h5");
    const char *both[] = {s0, s1};
    sweep_merge_stats ms;
    ck_assert_int_eq(sweep_merge(out, both, 2, 0, &ms, err, sizeof err), EXIT_RUN);
    ck_assert_msg(strstr(err, "1 of 4 points failed and 0 pending"), "%s", err);
    ck_assert_uint_eq(ms.failed, 1);
    sweep_meta m;
    sweep_point *p;
    size_t n;
    su_read(out, &m, &p, &n);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(p[0].status, "failed");
    ck_assert_msg(strstr(p[0].error, "training.H"), "%s", p[0].error);
    ck_assert(isnan(p[0].sum.utilisation));
    for (int i = 1; i < 4; i++) ck_assert_str_eq(p[i].status, "ok");
    ck_assert_double_eq(p[1].params[0].num, 2);
    ck_assert_double_eq(p[2].params[0].num, 3);
    ck_assert(p[3].sum.tokens_trained > p[1].sum.tokens_trained); /* H = 5 vs 2 */
    sweep_points_free(p, n, m.n_keys);
    sweep_meta_free(&m);
    free(s0);
    free(s1);
    free(out);
}
END_TEST

/* A grid narrowed on resume: the rows of dropped values stay after the grid, in the
 * shards as in the single-process file, and the merge puts them where one process does. */
START_TEST(test_merge_keeps_rows_of_an_earlier_grid) {
    const char *wide[] = {"training.H=2,4,6"}, *narrow[] = {"training.H=2,4"};
    char *whole = su_path("narrow-whole.h5"), *s0 = su_path("narrow-0.h5"),
         *s1 = su_path("narrow-1.h5"), *out = su_path("narrow-merged.h5");
    sweep_stats st;
    char err[1024];
    ck_assert_int_eq(su_sweep(NULL, whole, wide, 1, NULL, 0, 0, 0, &st, err, sizeof err), EXIT_OK);
    ck_assert_int_eq(su_sweep(NULL, whole, narrow, 1, NULL, 0, 0, 0, &st, err, sizeof err),
                     EXIT_OK);
    ck_assert_uint_eq(st.kept, 2);
    for (int i = 0; i < 2; i++) {
        const char *p = i ? s1 : s0;
        ck_assert_int_eq(su_sweep(NULL, p, wide, 1, NULL, 0, i, 2, &st, err, sizeof err), EXIT_OK);
        ck_assert_int_eq(su_sweep(NULL, p, narrow, 1, NULL, 0, i, 2, &st, err, sizeof err),
                         EXIT_OK);
        ck_assert_uint_eq(st.ran, 0);
    }
    const char *both[] = {s1, s0};
    sweep_merge_stats ms;
    ck_assert_msg(sweep_merge(out, both, 2, 0, &ms, err, sizeof err) == EXIT_OK, "%s", err);
    ck_assert_uint_eq(ms.points, 2);
    ck_assert_uint_eq(ms.rows, 3);
    su_assert_same(whole, out);
    sweep_meta m;
    sweep_point *p;
    size_t n;
    su_read(out, &m, &p, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq(p[0].params[0].num, 2);
    ck_assert_double_eq(p[1].params[0].num, 4);
    ck_assert_double_eq(p[2].params[0].num, 6);
    ck_assert_str_eq(p[2].status, "ok");
    sweep_points_free(p, n, m.n_keys);
    sweep_meta_free(&m);
    free(whole);
    free(s0);
    free(s1);
    free(out);
}
END_TEST

/* sweep_merge refuses with `why` and leaves OUT as it was (absent, or these bytes). */
static void expect_refused(const char *out, const char *const *sh, size_t n, const char *why) {
    size_t len0 = 0, len1 = 0;
    char *before = su_slurp(out, &len0);
    sweep_merge_stats ms;
    char err[2048] = "";
    ck_assert_int_eq(sweep_merge(out, sh, n, 0, &ms, err, sizeof err), EXIT_INPUT);
    ck_assert_msg(strstr(err, why), "'%s' lacks '%s'", err, why);
    char *after = su_slurp(out, &len1);
    if (!before) {
        ck_assert_ptr_null(after);
    } else {
        ck_assert_ptr_nonnull(after);
        ck_assert_uint_eq(len0, len1);
        ck_assert(!memcmp(before, after, len0));
    }
    free(before);
    free(after);
}

START_TEST(test_merge_refuses_bad_input) {
    char **sh = run_shards(3, grid2x3, 2);
    char *out = su_path("bad-out.h5");
    /* another grid: other --vary values, other keys */
    const char *other_values[] = {"training.H=2,6", "compression.ratio=2,4,16"};
    char *g = su_path("grid.h5");
    sweep_stats st;
    char err[1024];
    ck_assert_int_eq(su_sweep(NULL, g, other_values, 2, NULL, 0, 1, 3, &st, err, sizeof err),
                     EXIT_OK);
    const char *mix1[] = {sh[0], g, sh[2]};
    expect_refused(out, mix1, 3, "another grid: its --vary arguments are");
    expect_refused(out, mix1, 3, "are shards of different sweeps");
    const char *other_keys[] = {"seed=1,2,3"};
    char *k = su_path("keys.h5");
    ck_assert_int_eq(su_sweep(NULL, k, other_keys, 1, NULL, 0, 1, 3, &st, err, sizeof err),
                     EXIT_OK);
    const char *mix2[] = {sh[0], k, sh[2]};
    expect_refused(out, mix2, 3, "its --vary keys are (seed), now (training.H, compression.ratio)");
    /* other --set arguments */
    const char *sets[] = {"training.accum=3"};
    char *s = su_path("sets.h5");
    ck_assert_int_eq(su_sweep(NULL, s, grid2x3, 2, sets, 1, 1, 3, &st, err, sizeof err), EXIT_OK);
    const char *mix3[] = {sh[0], s, sh[2]};
    expect_refused(out, mix3, 3, "its --set arguments were [training.accum=3], now []");
    /* another scenario (other text: another hash) */
    char *scen2 = su_path("tiny2.cfg");
    su_write_scenario(scen2, 8);
    char *o = su_path("scen.h5");
    ck_assert_int_eq(su_sweep(scen2, o, grid2x3, 2, NULL, 0, 1, 3, &st, err, sizeof err), EXIT_OK);
    const char *mix4[] = {sh[0], o, sh[2]};
    expect_refused(out, mix4, 3, "it was made from other scenario files");
    /* another number of shards */
    char **two = run_shards(2, grid2x3, 2);
    const char *mix5[] = {sh[0], two[1], sh[2]};
    expect_refused(out, mix5, 3, "it is shard 1/2, a sweep cut into 2 shards, not 3");
    /* missing, twice */
    const char *missing[] = {sh[0], sh[2]};
    expect_refused(out, missing, 2, "1 of 3 shards missing: 1/3");
    const char *twice[] = {sh[0], sh[1], sh[1]};
    expect_refused(out, twice, 3, "shard 1/3 given twice");
    const char *four[] = {sh[0], sh[1], sh[2], sh[0]};
    expect_refused(out, four, 4, "shard 0/3 given twice");
    /* not a shard, not a sweep file, not there */
    char *whole = su_path("whole-bad.h5");
    ck_assert_int_eq(su_sweep(NULL, whole, grid2x3, 2, NULL, 0, 0, 0, &st, err, sizeof err),
                     EXIT_OK);
    const char *notshard[] = {sh[0], whole, sh[2]};
    expect_refused(out, notshard, 3, "is not a shard file");
    const char *notsweep[] = {sh[0], su_scen, sh[2]};
    expect_refused(out, notsweep, 3, "not an HDF5 file");
    char *gone = su_path("nonexistent.h5");
    const char *absent[] = {sh[0], gone, sh[2]};
    expect_refused(out, absent, 3, "No such file");
    expect_refused(out, NULL, 0, "no shard files given");
    /* the output: one of the shards, another file, a shard file, another sweep */
    const char *all[] = {sh[0], sh[1], sh[2]};
    expect_refused(sh[1], all, 3, "is the shard file");
    expect_refused(su_scen, all, 3, "exists and is not a merge of this sweep: it is not a sweep");
    expect_refused(two[0], all, 3, "it is a shard file (shard 0/2)");
    char *otherw = su_path("other-whole.h5");
    ck_assert_int_eq(su_sweep(NULL, otherw, other_keys, 1, NULL, 0, 0, 0, &st, err, sizeof err),
                     EXIT_OK);
    expect_refused(otherw, all, 3, "its --vary keys are (seed)");
    /* ... which --force replaces */
    sweep_merge_stats ms;
    ck_assert_int_eq(sweep_merge(otherw, all, 3, 1, &ms, err, sizeof err), EXIT_OK);
    su_assert_same(whole, otherw);
    ck_assert_int_eq(access(out, F_OK), -1);
    free_paths(sh, 3);
    free_paths(two, 2);
    free(out);
    free(g);
    free(k);
    free(s);
    free(scen2);
    free(o);
    free(whole);
    free(gone);
    free(otherw);
}
END_TEST

static Suite *shard_suite(void) {
    Suite *s = suite_create("sweep_shard");
    TCase *tc = tcase_create("shard");
    tcase_add_unchecked_fixture(tc, su_setup, su_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_shard_parse);
    tcase_add_test(tc, test_shards_merge_to_the_single_process_file);
    tcase_add_test(tc, test_shard_resume_and_failures);
    tcase_add_test(tc, test_merge_keeps_rows_of_an_earlier_grid);
    tcase_add_test(tc, test_merge_refuses_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

static void h5_close(void) { H5close(); }

CHECK_MAIN(.suite = shard_suite, .teardown = h5_close)
