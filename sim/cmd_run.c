/* sim/cmd_run.c: `orionsim run SCENARIO`: replay a scenario, write its trace.
 *
 * The run itself is the swarm (sim/swarm.h) on the scenario's configuration. Speed vs
 * co-located needs a second run of the same engine: the same scenario with an ideal
 * network (zero latency, infinite bandwidth) and no faults, for `colocated_cycles`
 * cycles (its MFU is steady from the first cycle on); the ratio of the two MFUs over the
 * whole run is the figure. SIGINT stops the run at the next safe point and closes the
 * trace marked incomplete.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sim/commands.h"
#include "sim/kernel_profile.h"
#include "sim/scenario.h"
#include "sim/scenario_swarm.h"
#include "sim/summary.h"
#include "sim/swarm.h"
#include "sim/trace.h"
#include "sim/util.h"

#define ORIONSIM_VERSION "0.1.0"
#define MAX_SETS 256

static volatile int interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f) {
    fprintf(f,
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

static double now_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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

/* Published figures of the scenario, named as the summary fields they stand beside. */
static int write_reference(trace *tr, const sim_reference *r) {
    if (!r->present) return 0;
    const char *names[16];
    double vals[16];
    size_t n = 0;
#define REF(field, value)                                   \
    do {                                                    \
        if (!isnan(value)) {                                \
            names[n] = field;                               \
            vals[n++] = (value);                            \
        }                                                   \
    } while (0)
    REF("utilisation", r->utilisation);
    REF("mean_training_phase_s", r->training_phase_min * 60.0);
    REF("mean_sync_phase_s", r->sync_phase_min * 60.0);
    REF("mfu_overall", r->mfu);
    REF("mfu_best_window", r->mfu_peak);
    REF("tokens_per_s_training", r->throughput_tok_s);
    REF("speed_vs_colocated", r->speed_vs_colocated);
    REF("tokens_trained", r->tokens);
    REF("activation_bytes_raw", r->activation_mib_raw * 1048576.0);
    REF("activation_bytes_wire", r->activation_mib_compressed * 1048576.0);
    REF("cycles", r->cycles);
#undef REF
    char src[1024];
    snprintf(src, sizeof src, "%s%s%s", r->source ? r->source : "", r->url ? " " : "", r->url ? r->url : "");
    return trace_write_reference(tr, names, vals, n, src);
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
            if (n_sets == MAX_SETS) sim_die(EXIT_INPUT, "run: too many --set options (max %d)", MAX_SETS);
            sets[n_sets++] = argv[++i];
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            long v;
            if (sim_parse_long(argv[++i], &v) || v < 0) sim_die(EXIT_INPUT, "run: --seed: expected a non-negative integer, got '%s'", argv[i]);
            if (n_sets == MAX_SETS) sim_die(EXIT_INPUT, "run: too many --set options (max %d)", MAX_SETS);
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
    if (sc.compute.mode == SIM_COMPUTE_LIVE) {
        fprintf(stderr, "orionsim: %s: compute.mode = \"live\" is not available in this build; use \"modeled\"\n", scen);
        sim_scenario_free(&sc);
        return EXIT_INPUT;
    }
    double eff[SIM_EFF_KINDS];
    const double *effp = NULL;
    const char *prof = profile ? profile : sc.compute.kernel_profile;
    if (prof) {
        if (kernel_profile_load(prof, eff, err, sizeof err)) {
            fprintf(stderr, "orionsim: %s\n", err);
            sim_scenario_free(&sc);
            return EXIT_INPUT;
        }
        effp = eff;
    }
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

    swarm_config cfg;
    scenario_to_swarm(&sc, effp, &cfg);
    cfg.progress = !quiet;
    trace_meta meta = {.orionsim_version = ORIONSIM_VERSION, .scenario_path = scen, .seed = sc.seed,
                       .mode = "modeled"};
    trace *tr = trace_open(out, &meta);
    if (!tr) {
        swarm_config_free(&cfg);
        sim_scenario_free(&sc);
        return EXIT_RUN;
    }
    if (trace_write_scenario(tr, sc.sources[0].text, (const char *const *)sc.sets, (size_t)sc.n_sets) ||
        write_reference(tr, &sc.reference) || trace_set_events_window(tr, cfg.events_cycles)) {
        trace_abandon(tr);
        swarm_config_free(&cfg);
        sim_scenario_free(&sc);
        return EXIT_RUN;
    }

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);

    double t0 = now_wall();
    sim_summary sum;
    sim_summary_init(&sum);
    rc = swarm_run(&cfg, tr, &sum, &interrupted, err, sizeof err);
    if (rc == EXIT_OK && !interrupted && colocated && sc.metrics.colocated_baseline) {
        swarm_config base = cfg;
        base.ideal_network = 1;
        memset(&base.faults, 0, sizeof base.faults);
        base.tokens_target = 0;
        base.cycles_target = 2;
        base.progress = 0;
        sim_summary bs;
        sim_summary_init(&bs);
        char berr[512];
        if (swarm_run(&base, NULL, &bs, &interrupted, berr, sizeof berr) == EXIT_OK && bs.mfu_overall > 0) {
            sum.mfu_colocated = bs.mfu_overall;
            sum.speed_vs_colocated = sum.mfu_overall / bs.mfu_overall;
        } else {
            fprintf(stderr, "orionsim: co-located baseline failed: %s\n", berr);
        }
    } else {
        sum.mfu_colocated = NAN;
        sum.speed_vs_colocated = NAN;
    }
    sum.wall_time_s = now_wall() - t0;
    sigaction(SIGINT, &old, NULL);

    int complete = rc == EXIT_OK && !interrupted && sum.complete;
    if (trace_close(tr, &sum, complete)) rc = EXIT_RUN;
    if (rc != EXIT_OK) fprintf(stderr, "orionsim: %s: %s\n", scen, err[0] ? err : "the run failed");
    else if (interrupted) fprintf(stderr, "orionsim: interrupted; %s is marked incomplete\n", out);
    else if (!quiet)
        printf("%s: %.3g tokens in %.1f h simulated (%d cycles), MFU %.1f%%, utilisation %.1f%%, "
               "%.2f s wall -> %s\n",
               sc.name, sum.tokens_trained, sum.sim_time_s / 3600, sum.cycles, 100 * sum.mfu_overall,
               100 * sum.utilisation, sum.wall_time_s, out);
    swarm_config_free(&cfg);
    sim_scenario_free(&sc);
    return rc != EXIT_OK ? rc : interrupted ? EXIT_RUN : EXIT_OK;
}
