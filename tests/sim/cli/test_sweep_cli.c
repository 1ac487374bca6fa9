/* tests/sim/cli/test_sweep_cli.c: the command lines of `orionsim sweep --shard/--mpi` and
 * `orionsim sweep-merge`: shards and their merge end to end, and every bad argument
 * refused with exit 2 before anything is written. */
#include <check.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/cli/commands.h"
#include "sim/sweep/sweep_file.h"
#include "tests/check_main.h"
#include "tests/sim/sweep/sweep_testutil.h"

/* argv = {name, args..., NULL} */
static int cli(int (*fn)(int, char **), const char *name, const char *const *args) {
    char *argv[40];
    int argc = 0;
    argv[argc++] = (char *)name;
    for (; args[argc - 1]; argc++) argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    return fn(argc, argv);
}

START_TEST(test_shards_and_merge_end_to_end) {
    char *whole = su_path("whole.h5"), *a = su_path("a.h5"), *b = su_path("b.h5"),
         *c = su_path("c.h5"), *out = su_path("merged.h5");
    const char *w[] = {
        su_scen, "--vary", "training.H=2,3,4", "--vary", "compression.ratio=4,8", "-o", whole,
        "-q",    NULL};
    ck_assert_int_eq(cli(cmd_sweep, "sweep", w), EXIT_OK);
    const char *paths[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        char spec[16];
        snprintf(spec, sizeof spec, "%d/3", i);
        const char *s[] = {su_scen,
                           "--vary",
                           "training.H=2,3,4",
                           "--vary",
                           "compression.ratio=4,8",
                           "--shard",
                           spec,
                           "-o",
                           paths[i],
                           "-q",
                           "-j1",
                           NULL};
        ck_assert_int_eq(cli(cmd_sweep, "sweep", s), EXIT_OK);
    }
    const char *m[] = {out, c, a, b, "-q", NULL};
    ck_assert_int_eq(cli(cmd_sweep_merge, "sweep-merge", m), EXIT_OK);
    su_assert_same(whole, out);
    sweep_meta meta;
    sweep_point *p;
    size_t n;
    su_read(out, &meta, &p, &n);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(meta.shard_count, 0);
    ck_assert_double_eq(p[5].params[0].num, 4);
    ck_assert_double_eq(p[5].params[1].num, 8);
    ck_assert(p[5].sum.tokens_trained > 0);
    sweep_points_free(p, n, meta.n_keys);
    sweep_meta_free(&meta);
    /* bad merges: exit 2, OUT unchanged */
    size_t len0 = 0, len1 = 0;
    char *before = su_slurp(out, &len0);
    ck_assert_ptr_nonnull(before);
    const char *missing[] = {out, a, c, NULL};
    ck_assert_int_eq(cli(cmd_sweep_merge, "sweep-merge", missing), EXIT_INPUT);
    const char *self[] = {a, a, b, c, NULL};
    ck_assert_int_eq(cli(cmd_sweep_merge, "sweep-merge", self), EXIT_INPUT);
    const char *wholeshard[] = {out, a, b, c, whole, NULL};
    ck_assert_int_eq(cli(cmd_sweep_merge, "sweep-merge", wholeshard), EXIT_INPUT);
    char *after = su_slurp(out, &len1);
    ck_assert_ptr_nonnull(after);
    ck_assert_uint_eq(len0, len1);
    ck_assert(!memcmp(before, after, len0));
    free(before);
    free(after);
    free(whole);
    free(a);
    free(b);
    free(c);
    free(out);
}
END_TEST

START_TEST(test_bad_arguments) {
    char *out = su_path("never.h5");
    static const char *const bad_shards[] = {"3/2", "0/0", "2/2", "-1/2", "1", "x/y", "1/2/3"};
    for (size_t i = 0; i < sizeof bad_shards / sizeof bad_shards[0]; i++) {
        const char *s[] = {su_scen, "--vary", "training.H=2,3", "--shard", bad_shards[i], "-o", out,
                           "-q",    NULL};
        ck_assert_msg(cli(cmd_sweep, "sweep", s) == EXIT_INPUT, "--shard %s", bad_shards[i]);
    }
    const char *noshard[] = {su_scen, "--vary", "training.H=2", "-o", out, "--shard", NULL};
    ck_assert_int_eq(cli(cmd_sweep, "sweep", noshard), EXIT_INPUT);
    /* --mpi with -j: refused; --mpi where the MPI plugin cannot be found (a build without
     * MPI, or the plugin not beside the binary): refused */
    const char *mpij[] = {su_scen, "--vary", "training.H=2", "-o", out, "--mpi", "-j2", NULL};
    ck_assert_int_eq(cli(cmd_sweep, "sweep", mpij), EXIT_INPUT);
    const char *saved = getenv("ORIONSIM_PLUGIN_DIR");
    char *keep = saved ? xstrdup(saved) : NULL;
    setenv("ORIONSIM_PLUGIN_DIR", su_dir, 1);
    const char *mpi[] = {su_scen, "--vary", "training.H=2", "-o", out, "--mpi", "-q", NULL};
    ck_assert_int_eq(cli(cmd_sweep, "sweep", mpi), EXIT_INPUT);
    if (keep) setenv("ORIONSIM_PLUGIN_DIR", keep, 1);
    else unsetenv("ORIONSIM_PLUGIN_DIR");
    free(keep);
    ck_assert_int_eq(access(out, F_OK), -1);
    /* sweep-merge arguments */
    const char *none[] = {NULL};
    ck_assert_int_eq(cli(cmd_sweep_merge, "sweep-merge", none), EXIT_INPUT);
    const char *only_out[] = {out, NULL};
    ck_assert_int_eq(cli(cmd_sweep_merge, "sweep-merge", only_out), EXIT_INPUT);
    const char *unknown[] = {out, su_scen, "--fast", NULL};
    ck_assert_int_eq(cli(cmd_sweep_merge, "sweep-merge", unknown), EXIT_INPUT);
    const char *notsweep[] = {out, su_scen, NULL};
    ck_assert_int_eq(cli(cmd_sweep_merge, "sweep-merge", notsweep), EXIT_INPUT);
    const char *help[] = {"--help", NULL};
    ck_assert_int_eq(cli(cmd_sweep_merge, "sweep-merge", help), EXIT_OK);
    ck_assert_int_eq(access(out, F_OK), -1);
    free(out);
}
END_TEST

static Suite *sweep_cli_suite(void) {
    Suite *s = suite_create("sweep_cli");
    TCase *tc = tcase_create("sweep_cli");
    tcase_add_unchecked_fixture(tc, su_setup, su_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_shards_and_merge_end_to_end);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

static void h5_close(void) { H5close(); }

CHECK_MAIN(.suite = sweep_cli_suite, .teardown = h5_close)
