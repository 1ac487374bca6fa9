/* sim/cli/cmd_sweep.c: `orionsim sweep SCENARIO --vary KEY=VALUES... -o FILE`.
 *
 * Command-line front of sim/sweep/sweep.h: parses the flags, catches SIGINT and SIGTERM (running points
 * end at their next safe point and stay pending, so the same command resumes), prints
 * the wall time of the sweep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli/commands.h"
#include "sim/sweep/sweep.h"
#include "sim/sweep/sweep_spec.h"
#include "sim/base/interrupt.h"
#include "sim/base/util.h"

#define MAX_ARGS 256

static void usage(FILE *f) {
    fprintf(f,
            "usage: orionsim sweep SCENARIO --vary KEY=VALUES [--vary ...] -o FILE [options]\n\n"
            "Runs SCENARIO at every combination of the --vary values, in parallel worker\n"
            "processes, and writes one summary row per point to FILE's /points table.\n"
            "Re-running the same command resumes: finished points are kept, missing ones run.\n\n"
            "  --vary KEY=VALUES   a scenario key (the --set path syntax) and its values:\n"
            "                      a list 1,10,100 | none,resbm, or a range 1:5 (integers,\n"
            "                      inclusive) | 0.1:1.0:0.3 (start:stop:step); repeatable,\n"
            "                      the first --vary is the slowest-changing axis\n"
            "  --set KEY=VALUE     fix a scenario key for every point (repeatable)\n"
            "  -o, --output FILE   the sweep file (e.g. results/orion-sweep.h5)\n"
            "  -j, --jobs N, -jN  worker processes (default: the number of online cores)\n"
            "  --traces DIR        also write each point's full trace to DIR\n"
            "  --colocated         also run each point's co-located baseline (speed_vs_colocated)\n"
            "  --force             replace FILE when it holds a different sweep\n"
            "  --shard I/N         run only shard I of N (0 <= I < N): the points g of the grid\n"
            "                      with g mod N = I, into FILE of their own; join the N files\n"
            "                      with orionsim sweep-merge (tools/slurm-sweep.sh: Slurm arrays)\n"
            "  --mpi               under mpirun: rank 0 writes FILE, the other ranks run the\n"
            "                      points one at a time as they become free (needs the MPI\n"
            "                      plugin, built when mpicc is found); not with -j\n"
            "  -q, --quiet         no progress lines\n"
            "  -h, --help          this text\n\n"
            "Then: orionsim plot FILE   (heat maps)\n"
            "A point that reaches the scenario's training.max_sim_hours first is \"stopped\":\n"
            "its figures cover the part that ran, and it counts as finished.\n"
            "exit codes: 0 every point ok or stopped, 1 some point failed or interrupted,\n"
            "2 bad input\n");
}

int cmd_sweep(int argc, char **argv) {
    const char *vary[MAX_ARGS], *sets[MAX_ARGS];
    size_t n_vary = 0, n_sets = 0;
    sweep_opts o;
    memset(&o, 0, sizeof o);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = cores > 0 ? (int)cores : 1;
    o.progress = 1;
    const char *jobs_given = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "--vary") || !strcmp(a, "--set")) {
            if (!more) {
                fprintf(stderr, "orionsim sweep: %s needs KEY=VALUE%s\n", a,
                        a[2] == 'v' ? "S" : "");
                return EXIT_INPUT;
            }
            int is_vary = a[2] == 'v';
            size_t *n = is_vary ? &n_vary : &n_sets;
            if (*n == MAX_ARGS) {
                fprintf(stderr, "orionsim sweep: too many %s options (max %d)\n", a, MAX_ARGS);
                return EXIT_INPUT;
            }
            if (!strchr(argv[i + 1], '=')) {
                fprintf(stderr, "orionsim sweep: %s %s: expected KEY=VALUE%s\n", a, argv[i + 1],
                        is_vary ? "S" : "");
                return EXIT_INPUT;
            }
            (is_vary ? vary : sets)[(*n)++] = argv[++i];
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!more) {
                fprintf(stderr, "orionsim sweep: %s needs a file name\n", a);
                return EXIT_INPUT;
            }
            o.output = argv[++i];
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs") || (!strncmp(a, "-j", 2) && a[2])) {
            const char *num = a[2] && a[1] == 'j' ? a + 2 : more ? argv[++i] : "";
            long v;
            if (sim_parse_long(num, &v) || v < 1 || v > 1024) {
                fprintf(
                    stderr,
                    "orionsim sweep: -j: expected a number of workers from 1 to 1024, got '%s'\n",
                    num);
                return EXIT_INPUT;
            }
            o.jobs = (int)v;
            jobs_given = a;
        } else if (!strcmp(a, "--traces")) {
            if (!more) {
                fprintf(stderr, "orionsim sweep: --traces needs a directory\n");
                return EXIT_INPUT;
            }
            o.traces_dir = argv[++i];
        } else if (!strcmp(a, "--colocated")) {
            o.colocated = 1;
        } else if (!strcmp(a, "--force")) {
            o.force = 1;
        } else if (!strcmp(a, "--shard")) {
            char serr[256];
            if (!more) {
                fprintf(stderr, "orionsim sweep: --shard needs I/N (e.g. 0/4)\n");
                return EXIT_INPUT;
            }
            if (sweep_shard_parse(argv[++i], &o.shard_index, &o.shard_count, serr, sizeof serr)) {
                fprintf(stderr, "orionsim sweep: %s\n", serr);
                return EXIT_INPUT;
            }
        } else if (!strcmp(a, "--mpi")) {
            o.mpi = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o.progress = 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "orionsim sweep: unknown option '%s'\n", a);
            usage(stderr);
            return EXIT_INPUT;
        } else if (!o.scenario) {
            o.scenario = a;
        } else {
            fprintf(stderr, "orionsim sweep: more than one scenario given ('%s', '%s')\n",
                    o.scenario, a);
            return EXIT_INPUT;
        }
    }
    if (!o.scenario || !n_vary || !o.output) {
        fprintf(stderr, "orionsim sweep: %s\n",
                !o.scenario ? "no scenario given"
                : !n_vary   ? "no --vary given"
                            : "no -o FILE given");
        usage(stderr);
        return EXIT_INPUT;
    }
    if (o.mpi && jobs_given) {
        fprintf(stderr,
                "orionsim sweep: %s with --mpi: each MPI rank runs one point at a time; "
                "start more ranks (mpirun -n N) instead\n",
                jobs_given);
        return EXIT_INPUT;
    }
    o.vary = vary;
    o.n_vary = n_vary;
    o.sets = sets;
    o.n_sets = n_sets;
    o.stop_flag = sim_interrupt_install();
    sweep_stats st;
    char err[2048] = "";
    int rc = sweep_run(&o, &st, err, sizeof err);
    sim_interrupt_restore();
    if (st.rank > 0) return rc; /* --mpi: rank 0 reports for every rank */
    if (rc == EXIT_INPUT) {
        fprintf(stderr, "orionsim sweep: %s\n", err);
        return rc;
    }
    if (o.progress || rc)
        fprintf(stderr, "sweep: %zu points (%zu kept, %zu run, %zu failed) in %.2f s wall -> %s\n",
                st.points, st.kept, st.ran, st.failed, st.wall_s, o.output);
    if (st.stopped)
        fprintf(stderr,
                "sweep: %zu point%s stopped at the scenario's max_sim limit before reaching "
                "the target (status \"stopped\"; the figures cover the part that ran)\n",
                st.stopped, st.stopped == 1 ? "" : "s");
    if (rc) fprintf(stderr, "orionsim sweep: %s\n", err);
    return rc;
}
