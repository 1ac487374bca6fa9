/* sim/cli/cmd_run.c: `orionsim run SCENARIO`: replay a scenario, write its trace.
 *
 * The run itself, co-located baseline included, is sim_run_scenario (sim/run/run.h), which
 * sweep workers share. SIGINT or SIGTERM (sim/base/interrupt.h) stops the run at the next
 * safe point and closes the trace marked incomplete; a live run first finishes its cycle
 * and writes a checkpoint (a second signal stops it at once), which --resume continues
 * (sim/run/run_resume.h).
 *
 * Before anything is allocated: the memory the run needs is estimated from the scenario
 * (sim_scenario_memory) and a run that cannot fit in this machine's memory is refused
 * with the estimate. The trace path: -o as given; output.trace from the scenario is
 * confined to the working directory (no absolute path and no "..": the loader's exit 2
 * at the setting's file:line; no symbolic link out of it: checked here, before and after
 * its directory is created, with the same file:line). An existing file there that is not an orionsim trace or sweep file is never
 * overwritten without --force; the same holds for the checkpoint path of a live run (an
 * existing file there must be an orionsim checkpoint).
 */
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cli/commands.h"
#include "sim/live/live_ckpt.h"
#include "sim/run/run.h"
#include "sim/scenario/scenario.h"
#include "sim/metrics/summary.h"
#include "sim/sweep/sweep_file.h"
#include "sim/trace/trace_read.h"
#include "sim/base/interrupt.h"
#include "sim/base/util.h"

#define MAX_SETS 256

/* The default checkpoint path: TRACE with .h5 replaced by .ckpt.h5. */
static void checkpoint_path_of(const char *tpath, char *out, size_t len) {
    size_t n = strlen(tpath);
    if (n > 3 && !strcmp(tpath + n - 3, ".h5")) n -= 3;
    snprintf(out, len, "%.*s.ckpt.h5", (int)n, tpath);
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
        "  --force               overwrite an existing file that is not an orionsim trace\n"
        "                        (or, at the checkpoint path, not an orionsim checkpoint)\n"
        "  --resume CKPT         live runs: continue from a checkpoint of this same scenario\n"
        "                        (same --set overrides); bit-identical with live_time = modeled\n"
        "  --checkpoint FILE     live runs: where checkpoints go (default: the trace path with\n"
        "                        .ckpt.h5 for .h5), every output.checkpoint_every cycles and\n"
        "                        at the cycle end after SIGINT/SIGTERM\n"
        "  --replay-times TRACE  live runs with compute.live_time = \"measured\": run the kernels\n"
        "                        for real but advance the clock by the durations TRACE recorded\n"
        "                        (its /tasks table; same scenario and --set options): the same\n"
        "                        event order as that run, so repeated replays give the same\n"
        "                        trace (and, on the CPU backend, the same losses bit for bit)\n"
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

/* output.trace from a scenario stays inside the working directory. The loader refused an
 * absolute path and ".." (exit 2 at its file:line); here, once its directory exists, that
 * directory must resolve inside the working directory (no symbolic link out of it). The
 * message names where output.trace was set (`where`: FILE:LINE, or the --set). */
static int out_confined(const char *out, const char *where, char *why, size_t len) {
    char cwd[PATH_MAX], dir[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return 0;
    char *d = xstrdup(out);
    char *slash = strrchr(d, '/');
    const char *parent = slash ? (*slash = 0, d[0] ? d : "/") : ".";
    int bad = 0;
    if (realpath(parent, dir)) {
        size_t n = strlen(cwd);
        if (strncmp(dir, cwd, n) || (dir[n] && dir[n] != '/' && strcmp(cwd, "/"))) bad = 1;
    }
    free(d);
    if (bad)
        snprintf(why, len,
                 "%.300s: output.trace: '%.300s' leaves the working directory (its directory "
                 "resolves to %.300s, outside %.300s: a symbolic link); a scenario may only name "
                 "a trace inside it (give -o FILE to write elsewhere)",
                 where ? where : "scenario", out, dir, cwd);
    return bad ? -1 : 0;
}

/* An existing file at out may be replaced only when it is an orionsim trace or sweep
 * file (or with --force); never when it is not a regular file. */
static int out_replaceable(const char *out, int force, char *why, size_t len) {
    struct stat st;
    if (lstat(out, &st)) return 0;                       /* nothing there */
    if (S_ISLNK(st.st_mode) && stat(out, &st)) return 0; /* a dangling link: created anew */
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, len, "%.400s exists and is not a regular file; not overwritten", out);
        return -1;
    }
    if (force || st.st_size == 0) return 0;
    char err[512];
    trace_file *tf;
    if (!trace_read_open(out, &tf, err, sizeof err)) {
        trace_read_close(tf);
        return 0;
    }
    if (sweep_file_probe(out)) return 0;
    snprintf(why, len,
             "%.400s exists and is not an orionsim trace (%.400s); not overwritten (--force "
             "replaces it)",
             out, err);
    return -1;
}

/* The same for the checkpoint path: only an orionsim checkpoint is replaced (or --force). */
static int ckpt_replaceable(const char *path, int force, char *why, size_t len) {
    struct stat st;
    if (lstat(path, &st)) return 0;
    if (S_ISLNK(st.st_mode) && stat(path, &st)) return 0;
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, len, "%.400s exists and is not a regular file; not overwritten", path);
        return -1;
    }
    if (force || st.st_size == 0 || live_ckpt_probe(path)) return 0;
    snprintf(why, len,
             "%.400s exists and is not an orionsim checkpoint; not overwritten (--checkpoint "
             "FILE elsewhere, or --force replaces it)",
             path);
    return -1;
}

int cmd_run(int argc, char **argv) {
    const char *scen = NULL, *out = NULL, *profile = NULL, *resume = NULL, *ckpt = NULL,
               *replay = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0, quiet = 0, colocated = 1, force = 0;
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
        } else if (!strcmp(a, "--resume") && i + 1 < argc) {
            resume = argv[++i];
        } else if (!strcmp(a, "--checkpoint") && i + 1 < argc) {
            ckpt = argv[++i];
        } else if (!strcmp(a, "--replay-times") && i + 1 < argc) {
            replay = argv[++i];
        } else if (!strcmp(a, "--no-colocated")) {
            colocated = 0;
        } else if (!strcmp(a, "--force")) {
            force = 1;
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
    if (sim_scenario_memory_check(&sc, err, sizeof err)) {
        fprintf(stderr, "orionsim: %s: %s\n", scen, err);
        sim_scenario_free(&sc);
        return EXIT_INPUT;
    }
    for (int i = 0; i < sc.n_notices; i++) fprintf(stderr, "orionsim: notice: %s\n", sc.notices[i]);
    char defpath[1024];
    int from_scenario = !out;
    if (!out) out = sc.output.trace;
    if (!out) {
        snprintf(defpath, sizeof defpath, "results/%s.h5", sc.name);
        out = defpath;
    }
    char why[2048];
    from_scenario = from_scenario && sc.output.trace; /* results/<name>.h5 is ours */
    if (from_scenario && out_confined(out, sc.output.trace_where, why, sizeof why)) {
        fprintf(stderr, "orionsim: %s\n", why); /* before creating anything */
        sim_scenario_free(&sc);
        return EXIT_INPUT;
    }
    if (ensure_parent_dir(out)) {
        fprintf(stderr, "orionsim: %s: cannot create its directory: %s\n", out, strerror(errno));
        sim_scenario_free(&sc);
        return EXIT_RUN;
    }
    if ((from_scenario && out_confined(out, sc.output.trace_where, why, sizeof why)) ||
        out_replaceable(out, force, why, sizeof why)) {
        fprintf(stderr, "orionsim: %s\n", why);
        sim_scenario_free(&sc);
        return EXIT_INPUT;
    }

    const int live = sc.compute.mode == SIM_COMPUTE_LIVE;
    char ckpt_def[1024];
    if (live && !ckpt) {
        checkpoint_path_of(out, ckpt_def, sizeof ckpt_def);
        ckpt = ckpt_def;
    }
    if (!live && (ckpt || sc.output.checkpoint_every > 0))
        fprintf(stderr,
                "orionsim: note: checkpoints are for live runs; %s is modeled (no "
                "checkpoint written)\n",
                scen);
    if (live && ckpt_replaceable(ckpt, force, why, sizeof why)) {
        fprintf(stderr, "orionsim: %s\n", why);
        sim_scenario_free(&sc);
        return EXIT_INPUT;
    }

    /* live: the first signal asks for a checkpoint at the next cycle end (live mode then
     * raises the stop flag), a second one stops at once; otherwise the first stops */
    volatile int *interrupted = sim_interrupt_install();
    volatile int *stop = live ? sim_interrupt_again() : interrupted;
    if (live)
        sim_interrupt_set_notice("orionsim: stopping at the end of this cycle to write a "
                                 "checkpoint (signal again to stop now, without one)");

    sim_summary sum;
    live_ckpt_info ck;
    memset(&ck, 0, sizeof ck);
    ck.last_cycle = ck.resumed_cycle = -1;
    sim_run_opts ro = {.scenario_path = scen,
                       .profile = profile,
                       .trace_path = out,
                       .colocated = colocated,
                       .progress = !quiet,
                       .stop_flag = stop,
                       .checkpoint_path = live ? ckpt : NULL,
                       .checkpoint_flag = live ? interrupted : NULL,
                       .resume_path = resume,
                       .checkpoint_info = &ck,
                       .replay_times_path = replay};
    rc = sim_run_scenario(&sc, &ro, &sum, err, sizeof err);
    sim_interrupt_restore();
    int stopped = *stop;

    if (rc != EXIT_OK) fprintf(stderr, "orionsim: %s: %s\n", scen, err);
    else if (stopped && ck.stopped)
        fprintf(stderr,
                "orionsim: stopped (%s) after cycle %d; %s is marked incomplete; checkpoint %s "
                "(continue: orionsim run %s --resume %s, with the same --set options)\n",
                sim_interrupt_name(), ck.last_cycle + 1, out, ckpt, scen, ckpt);
    else if (stopped) {
        fprintf(stderr, "orionsim: interrupted (%s); %s is marked incomplete\n",
                sim_interrupt_name(), out);
        if (ck.written > 0)
            fprintf(stderr, "orionsim: the last checkpoint, after cycle %d, is %s (--resume %s)\n",
                    ck.last_cycle + 1, ckpt, ckpt);
    }
    if (rc == EXIT_OK && replay && !quiet)
        fprintf(stderr, "orionsim: replayed the %lld recorded task durations of %s\n",
                (long long)ck.times_used, replay);
    if (rc == EXIT_OK && ck.resumed_cycle >= 0 && !quiet)
        fprintf(stderr, "orionsim: resumed after cycle %d of %s (%lld tasks replayed)\n",
                ck.resumed_cycle + 1, resume, (long long)ck.tasks_replayed);
    if (rc == EXIT_OK && !stopped && !sum.complete && err[0])
        fprintf(stderr, "orionsim: %s: %s\n", scen, err);
    if (rc == EXIT_OK && !stopped && !quiet)
        printf("%s: %.3g tokens in %.1f h simulated (%d cycles), MFU %.1f%%, utilisation %.1f%%, "
               "%.2f s wall -> %s\n",
               sc.name, sum.tokens_trained, sum.sim_time_s / 3600, sum.cycles,
               100 * sum.mfu_overall, 100 * sum.utilisation, sum.wall_time_s, out);
    sim_scenario_free(&sc);
    return rc != EXIT_OK ? rc : stopped ? EXIT_RUN : EXIT_OK;
}
