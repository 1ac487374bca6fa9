/* tests/sim/scenario/scenario_testutil.h: helpers shared by the scenario tests.
 *
 * A temporary directory for scenario files written by the tests, the absolute path of
 * the shipped device table, and MINI: a small valid scenario, one setting group per
 * line, so that a test can replace line N by a bad one and expect "FILE:N: key" in the
 * error. Tests run from the repository root (make test does).
 */
#ifndef TESTS_SCENARIO_TESTUTIL_H
#define TESTS_SCENARIO_TESTUTIL_H

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/scenario/scenario.h"
#include "sim/base/util.h"

static char g_tmpdir[PATH_MAX];
static char g_devices[PATH_MAX];
static char *g_files[256];
static int g_n_files;

static inline void tu_setup_dirs(void) {
    snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/orionsim-scenario-XXXXXX");
    if (!mkdtemp(g_tmpdir)) {
        perror("mkdtemp");
        exit(1);
    }
    if (!realpath("scenarios/devices.cfg", g_devices)) {
        fprintf(stderr, "run the tests from the repository root (scenarios/devices.cfg)\n");
        exit(1);
    }
}

/* tu_setup_dirs as a CHECK_MAIN set-up. */
static inline int tu_setup(void) {
    tu_setup_dirs();
    return 0;
}

/* Remove every file of the temporary directory (tests in forked children write files
 * the parent does not know of), then the directory. */
static inline void tu_cleanup_dirs(void) {
    for (int i = 0; i < g_n_files; i++) free(g_files[i]);
    g_n_files = 0;
    DIR *d = opendir(g_tmpdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char path[PATH_MAX + 260];
            snprintf(path, sizeof path, "%s/%s", g_tmpdir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(g_tmpdir);
}

/* Write text to tmpdir/name (the tests' device-table marker %DEV% is replaced by the
 * absolute path of scenarios/devices.cfg). Returns the path (static storage per call
 * site is not needed: the path is kept for cleanup and returned from there). */
static inline const char *tu_write(const char *name, const char *text) {
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s", g_tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    for (const char *p = text; *p; p++) {
        if (!strncmp(p, "%DEV%", 5)) {
            fputs(g_devices, f);
            p += 4;
        } else {
            fputc(*p, f);
        }
    }
    ck_assert_int_eq(fclose(f), 0);
    for (int i = 0; i < g_n_files; i++)
        if (!strcmp(g_files[i], path)) return g_files[i];
    ck_assert_int_lt(g_n_files, 256);
    g_files[g_n_files] = xstrdup(path);
    return g_files[g_n_files++];
}

/* The small valid scenario, one line per group (line numbers are part of the tests). */
static const char *const MINI[] = {
    /* 1 */ "name = \"mini\";",
    /* 2 */
    "model = { d_model = 64; n_blocks = 4; n_heads = 4; n_kv_heads = 2; ffn = 128; vocab = 256; };",
    /* 3 */ "pipeline = { stages = 2; };",
    /* 4 */ "compression = { method = \"resbm\"; ratio = 4; };",
    /* 5 */ "training = { seq_len = 16; microbatch_seqs = 2; H = 10; accum = 2; cycles = 1; };",
    /* 6 */ "sync = { algorithm = \"iota-butterfly\"; };",
    /* 7 */ "network = { regions = [\"a\", \"b\"]; latency_ms = ( [1.0, 2.0], [2.0, 1.0] );",
    /* 8 */ "  storage = { region = \"a\"; up_mbps = 1000.0; down_mbps = 1000.0; }; };",
    /* 9 */ "swarm = { replicas = 2; device = \"A100-80GB\"; region = \"a\";",
    /* 10 */ "  device_table = \"%DEV%\";",
    /* 11 */ "  bandwidth = { kind = \"fixed\"; up_mbps = 100.0; down_mbps = 200.0; }; };",
    /* 12 */
    "compute = { efficiency = { forward = 0.5; backward = 0.5; recompute = 0.5; optimizer = 0.8; "
    "merge = 0.8; }; };",
};
#define MINI_LINES ((int)(sizeof MINI / sizeof MINI[0]))

/* MINI with line `line` (1-based; 0 = none) replaced by `repl` (NULL deletes it) and
 * `append` added at the end (after line 12). Written to tmpdir/name. */
static inline const char *tu_mini(const char *name, int line, const char *repl,
                                  const char *append) {
    size_t cap = 8192;
    char *text = xmalloc(cap);
    text[0] = '\0';
    for (int i = 1; i <= MINI_LINES; i++) {
        const char *l = i == line ? repl : MINI[i - 1];
        if (i == line && !repl) l = "";
        strncat(text, l, cap - strlen(text) - 2);
        strcat(text, "\n");
    }
    if (append) strncat(text, append, cap - strlen(text) - 1);
    const char *p = tu_write(name, text);
    free(text);
    return p;
}

/* Load and expect failure with exit code 2 and every needle in the message. */
static inline void tu_expect_error(const char *path, const char **sets, int n_sets, const char *n1,
                                   const char *n2) {
    sim_scenario sc;
    char err[2048] = "";
    int rc = sim_scenario_load(path, sets, n_sets, &sc, err, sizeof err);
    if (getenv("ORIONSIM_TEST_VERBOSE")) fprintf(stderr, "%s\n", err);
    ck_assert_msg(rc == EXIT_INPUT, "%s: expected exit code 2, got %d (%s)", path, rc, err);
    ck_assert_msg(n1 == NULL || strstr(err, n1), "error '%s' lacks '%s'", err, n1);
    ck_assert_msg(n2 == NULL || strstr(err, n2), "error '%s' lacks '%s'", err, n2);
    sim_scenario_free(&sc); /* harmless on a failed load */
}

/* Load and expect success. */
static inline void tu_load_ok(const char *path, const char **sets, int n_sets, sim_scenario *sc) {
    char err[2048] = "";
    int rc = sim_scenario_load(path, sets, n_sets, sc, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", path, err);
}

#endif
