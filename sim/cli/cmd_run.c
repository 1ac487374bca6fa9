/* sim/cli/cmd_run.c: `orionsim run SCENARIO`: replay a scenario, write its trace.
 *
 * The run itself, co-located baseline included, is sim_run_scenario (sim/run/run.h), which
 * sweep workers share. SIGINT stops the run at the next safe point and closes the trace
 * marked incomplete.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/cli/commands.h"
#include "sim/run/run.h"
#include "sim/scenario/scenario.h"
#include "sim/metrics/summary.h"
#include "sim/base/util.h"

#define MAX_SETS 256

static volatile int interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: orionsim run SCENARIO [options]\n\n"
        "Replays SCENARIO (a .cfg file) and writes its HDF5 trace.\n\n"
        "  -o, --output FILE     trace path (default: output.trace, else results/<name>.h5)\n"
        "  --set KEY=VALUE       override a scenario key (repeatable), e.g. --set training.H=100\n"
        "  --seed N              override the scenario's seed\n"
        "  --profile FILE        kernel profile (from `orionsim calibrate`) for task efficiencies\n"
        "  --no-colocated        skip the co-located baseline run (speed_vs_colocated = NaN)\n"
        "  -q, --quiet           no progress bar, no summary line\n"
        "  -h, --help            this text\n\n"
        "Then: orionsim report TRACE\n");
}

static int ensure_parent_dir(const char *path) {
    char *d = xstrdup(path);
    char *slash = strrchr(d, '/');
    int rc = 0;
    if (slash && slash != d) {
        *slash = 0;
        if (mkdir(d, 0777) && errno != EEXIST) rc = -1;
    }
    free(d);
    return rc;
}

int cmd_run(int argc, char **argv) {
    const char *scen = NULL, *out = NULL, *profile = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0, quiet = 0, colocated = 1;
    char seedset[64];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--set") && i + 1 < argc) {
            if (n_sets == MAX_SETS)
                sim_die(EXIT_INPUT, "run: too many --set options (max %d)", MAX_SETS);
            sets[n_sets++] = argv[++i];
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            long v;
            if (sim_parse_long(argv[++i], &v) || v < 0)
                sim_die(EXIT_INPUT, "run: --seed: expected a non-negative integer, got '%s'",
                        argv[i]);
            if (n_sets == MAX_SETS)
                sim_die(EXIT_INPUT, "run: too many --set options (max %d)", MAX_SETS);
            snprintf(seedset, sizeof seedset, "seed=%ld", v);
            sets[n_sets++] = seedset;
        } else if (!strcmp(a, "--profile") && i + 1 < argc) {
            profile = argv[++i];
        } else if (!strcmp(a, "--no-colocated")) {
            colocated = 0;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "orionsim run: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return EXIT_INPUT;
        } else if (!scen) {
            scen = a;
        } else {
            fprintf(stderr, "orionsim run: more than one scenario given ('%s', '%s')\n", scen, a);
            return EXIT_INPUT;
        }
    }
    if (!scen) {
        usage(stderr);
        return EXIT_INPUT;
    }
    sim_scenario sc;
    char err[2048];
    int rc = sim_scenario_load(scen, sets, n_sets, &sc, err, sizeof err);
    if (rc) {
        fprintf(stderr, "orionsim: %s\n", err);
        return rc;
    }
    for (int i = 0; i < sc.n_notices; i++) fprintf(stderr, "orionsim: notice: %s\n", sc.notices[i]);
    char defpath[1024];
    if (!out) out = sc.output.trace;
    if (!out) {
        snprintf(defpath, sizeof defpath, "results/%s.h5", sc.name);
        out = defpath;
    }
    if (ensure_parent_dir(out)) {
        fprintf(stderr, "orionsim: %s: cannot create its directory: %s\n", out, strerror(errno));
        sim_scenario_free(&sc);
        return EXIT_RUN;
    }

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);

    sim_summary sum;
    sim_run_opts ro = {.scenario_path = scen,
                       .profile = profile,
                       .trace_path = out,
                       .colocated = colocated,
                       .progress = !quiet,
                       .stop_flag = &interrupted};
    rc = sim_run_scenario(&sc, &ro, &sum, err, sizeof err);
    sigaction(SIGINT, &old, NULL);

    if (rc != EXIT_OK) fprintf(stderr, "orionsim: %s: %s\n", scen, err);
    else if (interrupted) fprintf(stderr, "orionsim: interrupted; %s is marked incomplete\n", out);
    if (rc == EXIT_OK && !interrupted && !sum.complete && err[0])
        fprintf(stderr, "orionsim: %s: %s\n", scen, err);
    if (rc == EXIT_OK && !interrupted && !quiet)
        printf("%s: %.3g tokens in %.1f h simulated (%d cycles), MFU %.1f%%, utilisation %.1f%%, "
               "%.2f s wall -> %s\n",
               sc.name, sum.tokens_trained, sum.sim_time_s / 3600, sum.cycles,
               100 * sum.mfu_overall, 100 * sum.utilisation, sum.wall_time_s, out);
    sim_scenario_free(&sc);
    return rc != EXIT_OK ? rc : interrupted ? EXIT_RUN : EXIT_OK;
}
