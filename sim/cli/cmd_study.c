/* sim/cli/cmd_study.c: `orionsim study SCENARIO [--seeds N] [--boundaries LIST] [--widths LIST] -o FILE`.
 *
 * Command-line front of sim/study/study.h: parses the flags, catches SIGINT (running runs
 * end at their next safe point; the same command resumes), prints the statistics table
 * and the wall time.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/cli/commands.h"
#include "sim/study/study.h"

#define MAX_SETS 256

static volatile int interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: orionsim study SCENARIO -o FILE [--seeds N] [--boundaries LIST] [--widths LIST]\n"
        "                      [options]\n\n"
        "The ResBM loss study: runs the live SCENARIO at every model width x stage boundary\n"
        "x seed and writes, per width and boundary, the mean, standard deviation and 95%%\n"
        "Student-t interval of the final training and validation loss and of the loss gap\n"
        "to the uncompressed baseline paired by seed (significant when its interval\n"
        "excludes 0), with loss curves and their bands, to FILE (HDF5, h5py reads it).\n"
        "Seed i is the scenario's seed + i: it changes the initial weights, the data order\n"
        "and the routing draws. Re-running the same command resumes: complete runs are kept.\n\n"
        "  --seeds N           seeds per boundary (default 5)\n"
        "  --boundaries LIST   comma-separated: none, int8, resbm:RATIO, resbm:kK,\n"
        "                      linear:RATIO, linear:kK (k = bottleneck width, the same at\n"
        "                      every width); resbm:...:hH fixes ResBM's MLP hidden width at\n"
        "                      H at every width, resbm:...:hffn at the model's ffn (IOTA's\n"
        "                      choice) (default: compression.hidden, else k); none\n"
        "                      is added when missing (default\n"
        "                      none,resbm:16,resbm:64,resbm:128,linear:64,int8)\n"
        "  --widths LIST       model widths d_model (default: the scenario's); ffn keeps the\n"
        "                      scenario's ffn / d_model, heads stay\n"
        "  --set KEY=VALUE     fix a scenario key for every run (repeatable)\n"
        "  -o, --output FILE   the study file (e.g. results/resbm-study.h5)\n"
        "  --runs DIR          the runs' traces (default: FILE without .h5, plus -runs)\n"
        "  -j, --jobs N, -jN  worker processes (default: the number of online cores)\n"
        "  --collect           run nothing: write FILE from the complete runs in RUNS (a\n"
        "                      look at a study that runs elsewhere, or one cut short)\n"
        "  -q, --quiet         no progress lines, no table\n"
        "  -h, --help          this text\n\n"
        "Then: orionsim plot FILE   (loss curves with bands; the gap vs k and vs ratio)\n"
        "The backend is the scenario's (compute.backend; auto uses a GPU when there is one).\n"
        "exit codes: 0 every run done, 1 some run failed or interrupted, 2 bad input\n");
}

int cmd_study(int argc, char **argv) {
    const char *sets[MAX_SETS];
    size_t n_sets = 0;
    study_opts o;
    memset(&o, 0, sizeof o);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = cores > 0 ? (int)cores : 1;
    o.progress = o.print = 1;
    o.seeds = 5;
    o.boundaries = "none,resbm:16,resbm:64,resbm:128,linear:64,int8";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "--set")) {
            if (!more || !strchr(argv[i + 1], '=')) {
                fprintf(stderr, "orionsim study: --set needs KEY=VALUE\n");
                return EXIT_INPUT;
            }
            if (n_sets == MAX_SETS) {
                fprintf(stderr, "orionsim study: too many --set options (max %d)\n", MAX_SETS);
                return EXIT_INPUT;
            }
            sets[n_sets++] = argv[++i];
        } else if (!strcmp(a, "--seeds")) {
            long v;
            const char *num = more ? argv[++i] : "";
            if (sim_parse_long(num, &v) || v < 1 || v > 10000) {
                fprintf(stderr,
                        "orionsim study: --seeds '%s': expected a number of seeds from 1 to "
                        "10000\n",
                        num);
                return EXIT_INPUT;
            }
            o.seeds = (int)v;
        } else if (!strcmp(a, "--boundaries") || !strcmp(a, "--widths") || !strcmp(a, "--runs") ||
                   !strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!more) {
                fprintf(stderr, "orionsim study: %s needs a value\n", a);
                return EXIT_INPUT;
            }
            const char *v = argv[++i];
            if (a[2] == 'b') o.boundaries = v;
            else if (a[2] == 'w') o.widths = v;
            else if (a[2] == 'r') o.runs_dir = v;
            else o.output = v;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs") || (!strncmp(a, "-j", 2) && a[2])) {
            const char *num = a[2] && a[1] == 'j' ? a + 2 : more ? argv[++i] : "";
            long v;
            if (sim_parse_long(num, &v) || v < 1 || v > 1024) {
                fprintf(stderr,
                        "orionsim study: -j: expected a number of workers from 1 to 1024, got "
                        "'%s'\n",
                        num);
                return EXIT_INPUT;
            }
            o.jobs = (int)v;
        } else if (!strcmp(a, "--collect")) {
            o.collect_only = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o.progress = o.print = 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "orionsim study: unknown option '%s'\n", a);
            usage(stderr);
            return EXIT_INPUT;
        } else if (!o.scenario) {
            o.scenario = a;
        } else {
            fprintf(stderr, "orionsim study: more than one scenario given ('%s', '%s')\n",
                    o.scenario, a);
            return EXIT_INPUT;
        }
    }
    if (!o.scenario || !o.output) {
        fprintf(stderr, "orionsim study: %s\n",
                !o.scenario ? "no scenario given" : "no -o FILE given");
        usage(stderr);
        return EXIT_INPUT;
    }
    o.sets = sets;
    o.n_sets = n_sets;
    o.stop_flag = &interrupted;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    study_stats_count st;
    char err[4096] = "";
    int rc = study_run(&o, &st, err, sizeof err);
    sigaction(SIGINT, &old, NULL);
    if (rc == EXIT_INPUT) {
        fprintf(stderr, "orionsim study: %s\n", err);
        return rc;
    }
    if (o.progress || rc)
        fprintf(stderr, "study: %zu runs (%zu kept, %zu run, %zu failed) in %.1f s wall -> %s\n",
                st.runs, st.kept, st.ran, st.failed, st.wall_s, o.output);
    if (rc) fprintf(stderr, "orionsim study: %s\n", err);
    return rc;
}
