/* tests/sim/run/test_golden.c: the golden summary of scenarios/tiny.cfg, field by field.
 *
 * tests/golden/tiny.summary holds every figure of the run summary of tiny.cfg (seed as
 * in the file, co-located baseline on, as `orionsim run` does it), one "name value" line
 * each, values printed so that they read back exactly. A change that alters results
 * must do so knowingly: regenerate the file in the same commit and say why,
 *     ORIONSIM_GOLDEN_WRITE=1 build/tests/test_golden
 * Integers must match exactly, doubles within 1e-12 relative (NaN matches NaN); the
 * host time (wall_time_s) is not compared. A field missing from the file, or a line
 * naming no field, fails the test too. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/run/run.h"
#include "sim/scenario/scenario.h"
#include "sim/metrics/summary.h"
#include "tests/check_main.h"

#define GOLDEN_FILE "tests/golden/tiny.summary"
#define SCENARIO "scenarios/tiny.cfg"

static int skipped(const sim_field *f) { return !strcmp(f->name, "wall_time_s"); }

static void run_tiny(sim_summary *sum) {
    sim_scenario sc;
    char err[2048];
    ck_assert_msg(sim_scenario_load(SCENARIO, NULL, 0, &sc, err, sizeof err) == 0, "%s", err);
    sim_run_opts ro = {.scenario_path = SCENARIO, .colocated = 1};
    ck_assert_msg(sim_run_scenario(&sc, &ro, sum, err, sizeof err) == EXIT_OK, "%s", err);
    sim_scenario_free(&sc);
}

static void write_golden(const sim_summary *sum) {
    FILE *f = fopen(GOLDEN_FILE, "w");
    ck_assert_msg(f != NULL, "%s: cannot write", GOLDEN_FILE);
    fprintf(f, "# %s: run summary of %s (tests/sim/run/test_golden.c says how to renew it)\n",
            GOLDEN_FILE, SCENARIO);
    for (size_t i = 0; i < sim_summary_n_fields; i++) {
        const sim_field *fd = &sim_summary_fields[i];
        if (skipped(fd) || fd->type == SIM_FT_STR) continue;
        const double v = sim_summary_get(sum, fd);
        if (fd->type == SIM_FT_F64) fprintf(f, "%s %.17g\n", fd->name, v);
        else fprintf(f, "%s %.0f\n", fd->name, v);
    }
    ck_assert_int_eq(fclose(f), 0);
}

static int parse_value(const char *s, double *v) {
    if (!strcmp(s, "nan")) {
        *v = NAN;
        return 0;
    }
    return sim_parse_double(s, v);
}

/* Compare sum with the golden file at path: 0 when every field matches, else -1 with
 * the first difference in msg. */
static int golden_compare(const sim_summary *sum, const char *path, char *msg, size_t msglen) {
    FILE *f = fopen(path, "r");
    if (!f)
        return snprintf(msg, msglen, "%s: cannot open (run from the repository root)", path), -1;
    char line[512];
    int lineno = 0, rc = 0;
    char *done = calloc(sim_summary_n_fields, 1);
    ck_assert_ptr_nonnull(done);
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        char name[128], val[128];
        double want;
        const sim_field *fd = NULL;
        if (sscanf(line, "%127s %127s", name, val) != 2) {
            rc = -1, snprintf(msg, msglen, "%s:%d: expected 'name value'", path, lineno);
        } else if (!(fd = sim_summary_field(name))) {
            rc = -1, snprintf(msg, msglen, "%s:%d: '%s' is no summary field", path, lineno, name);
        } else if (parse_value(val, &want)) {
            rc = -1, snprintf(msg, msglen, "%s:%d: bad value '%s'", path, lineno, val);
        } else {
            const double got = sim_summary_get(sum, fd);
            const int same = fd->type == SIM_FT_F64
                                 ? (isnan(want) && isnan(got)) || want == got ||
                                       fabs(got - want) <= 1e-12 * fmax(fabs(want), fabs(got))
                                 : got == want;
            if (!same)
                rc = -1, snprintf(msg, msglen, "%s:%d: %s = %.17g, golden %.17g", path, lineno,
                                  name, got, want);
            done[fd - sim_summary_fields] = 1;
        }
    }
    fclose(f);
    for (size_t i = 0; rc == 0 && i < sim_summary_n_fields; i++) {
        const sim_field *fd = &sim_summary_fields[i];
        if (skipped(fd) || fd->type == SIM_FT_STR || done[i]) continue;
        rc = -1, snprintf(msg, msglen, "%s: no line for summary field '%s' (renew the file)", path,
                          fd->name);
    }
    free(done);
    return rc;
}

START_TEST(test_tiny_summary_matches_golden) {
    sim_summary sum;
    run_tiny(&sum);
    if (getenv("ORIONSIM_GOLDEN_WRITE")) {
        write_golden(&sum);
        return;
    }
    char msg[512] = "";
    ck_assert_msg(golden_compare(&sum, GOLDEN_FILE, msg, sizeof msg) == 0, "%s", msg);
}
END_TEST

/* The comparison can fail: the golden file with one value moved by 1e-9 relative, or
 * with a line missing, is caught, naming the field. */
START_TEST(test_perturbed_golden_is_caught) {
    sim_summary sum;
    run_tiny(&sum);
    char perturbed[] = "/tmp/orionsim-golden-XXXXXX", missing[] = "/tmp/orionsim-golden-XXXXXX";
    int fd1 = mkstemp(perturbed), fd2 = mkstemp(missing);
    ck_assert(fd1 >= 0 && fd2 >= 0);
    FILE *in = fopen(GOLDEN_FILE, "r"), *a = fdopen(fd1, "w"), *b = fdopen(fd2, "w");
    ck_assert(in && a && b);
    char line[512], name[128];
    double v;
    while (fgets(line, sizeof line, in)) {
        if (sscanf(line, "%127s %lf", name, &v) == 2 && !strcmp(name, "tokens_per_s")) {
            fprintf(a, "%s %.17g\n", name, v * (1 + 1e-9));
            continue; /* and left out of b */
        }
        fputs(line, a);
        fputs(line, b);
    }
    fclose(in), fclose(a), fclose(b);
    char msg[512] = "";
    ck_assert_int_eq(golden_compare(&sum, perturbed, msg, sizeof msg), -1);
    ck_assert_msg(strstr(msg, "tokens_per_s =") != NULL, "%s", msg);
    ck_assert_int_eq(golden_compare(&sum, missing, msg, sizeof msg), -1);
    ck_assert_msg(strstr(msg, "no line for summary field 'tokens_per_s'") != NULL, "%s", msg);
    unlink(perturbed), unlink(missing);
}
END_TEST

static Suite *golden_suite(void) {
    Suite *s = suite_create("golden");
    TCase *tc = tcase_create("tiny");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_tiny_summary_matches_golden);
    tcase_add_test(tc, test_perturbed_golden_is_caught);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = golden_suite)
