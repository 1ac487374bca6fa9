/* tools/bench_live.c: live-mode benchmark and study runner.
 *
 *   build/bench_live [--time modeled|measured] [--backend auto|cpu|cuda] [--gpus N]
 *                    [--val N] [--trace DIR] [--set key=value]... SCENARIO...
 *
 * Runs each scenario in live mode (real kernels, real tokens) through the swarm and
 * prints, per run: tokens trained, wall time, tokens per wall second, the share of wall
 * time inside the stage kernels and outside them (the simulator's own overhead:
 * event engine, network model, bookkeeping, data, buffer moves), the final train loss
 * (mean over the last H inner steps of the last-stage peers), the validation loss of
 * the merged model and the boundaries' reconstruction error; then each run's gap to
 * the FIRST scenario (the uncompressed baseline of a ResBM study: SPEC §5 "ResBM
 * loss"). One machine-readable line per run starts with "RESULT ".
 * Exit code: 0, 1 if a run failed, 2 on bad input.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/base/fsutil.h"
#include "sim/live/live.h"
#include "sim/run/run_config.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_sink.h"
#include "sim/base/util.h"

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *method_name(km_compression m) {
    switch (m) {
    case KM_COMP_RESBM: return "resbm";
    case KM_COMP_LINEAR: return "linear";
    case KM_COMP_INT8: return "int8";
    default: return "none";
    }
}

static void usage(FILE *f) {
    fprintf(f, "usage: bench_live [--time modeled|measured] [--backend auto|cpu|cuda] [--gpus N] "
               "[--val N]\n"
               "                  [--trace DIR] [--set key=value]... SCENARIO...\n");
}

int main(int argc, char **argv) {
    const char *time_rule = "measured", *backend = NULL, *trace_dir = NULL;
    int gpus = -1, val = -1; /* -1: the scenario's compute.gpus */
    const char *sets[64];
    int n_sets = 0;
    const char *files[64];
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        int has = i + 1 < argc;
        long v;
        if (!strcmp(a, "--time") && has) time_rule = argv[++i];
        else if (!strcmp(a, "--backend") && has) backend = argv[++i];
        else if (!strcmp(a, "--trace") && has) trace_dir = argv[++i];
        else if (!strcmp(a, "--gpus") && has && !sim_parse_long(argv[i + 1], &v) && v >= 0)
            gpus = (int)v, i++;
        else if (!strcmp(a, "--val") && has && !sim_parse_long(argv[i + 1], &v) && v >= 0)
            val = (int)v, i++;
        else if (!strcmp(a, "--set") && has && n_sets < 64) sets[n_sets++] = argv[++i];
        else if (a[0] != '-' && n_files < 64) files[n_files++] = a;
        else {
            fprintf(stderr, "bench_live: bad argument '%s'\n", a);
            usage(stderr);
            return EXIT_INPUT;
        }
    }
    if (strcmp(time_rule, "modeled") && strcmp(time_rule, "measured")) {
        fprintf(stderr, "bench_live: --time: modeled or measured, not '%s'\n", time_rule);
        return EXIT_INPUT;
    }
    if (trace_dir && sim_mkdir_p(trace_dir)) {
        fprintf(stderr, "bench_live: --trace %s: cannot create the directory: %s\n", trace_dir,
                strerror(errno));
        return EXIT_RUN;
    }
    if (n_files == 0) {
        usage(stderr);
        return EXIT_INPUT;
    }
    double base_loss = NAN, base_val = NAN;
    int failed = 0;
    printf("%-22s %-7s %5s %10s %8s %9s %8s %8s %8s %8s %8s %9s\n", "run", "method", "ratio",
           "tokens", "wall_s", "tok/s", "kernel%", "other%", "loss", "val", "gap", "recon");
    for (int f = 0; f < n_files; f++) {
        sim_scenario sc;
        char err[2048] = "";
        int rc = sim_scenario_load(files[f], sets, n_sets, &sc, err, sizeof err);
        if (rc) {
            fprintf(stderr, "bench_live: %s\n", err);
            return rc;
        }
        swarm_config cfg;
        scenario_to_swarm(&sc, NULL, &cfg);
        cfg.progress = 0;
        live_config lo;
        run_live_config(&sc, &lo);
        lo.time = strcmp(time_rule, "modeled") ? LIVE_TIME_MEASURED : LIVE_TIME_MODELED;
        if (backend) lo.backend = backend;
        if (gpus >= 0) lo.gpus = gpus;
        if (val >= 0) lo.val_microbatches = val;
        trace *tr = NULL;
        if (trace_dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.h5", trace_dir, sc.name);
            trace_meta meta = {.scenario_path = files[f], .seed = sc.seed, .mode = "live"};
            tr = trace_open(path, &meta);
            if (!tr ||
                trace_write_scenario(tr, sc.sources[0].text, (const char *const *)sc.sets,
                                     (size_t)sc.n_sets) ||
                trace_set_events_window(tr, cfg.events_cycles)) {
                fprintf(stderr, "bench_live: %s: cannot write the trace\n", path);
                if (tr) trace_abandon(tr);
                swarm_config_free(&cfg);
                sim_scenario_free(&sc);
                return EXIT_RUN;
            }
        }
        swarm_live_ops ops;
        live_sink ls;
        if (tr) trace_live_sink_make(tr, &ls);
        rc = live_open(&lo, &cfg, tr ? &ls : NULL, &ops, err, sizeof err);
        if (rc) {
            fprintf(stderr, "bench_live: %s: %s\n", files[f], err);
            if (tr) trace_abandon(tr);
            swarm_config_free(&cfg);
            sim_scenario_free(&sc);
            return rc;
        }
        cfg.live = &ops;
        sim_summary sum;
        sim_summary_init(&sum);
        double t0 = wall();
        swarm_sink sink;
        if (tr) trace_sink_make(tr, &sink);
        rc = swarm_run(&cfg, tr ? &sink : NULL, &sum, NULL, err, sizeof err);
        double w = wall() - t0;
        sum.wall_time_s = w;
        live_fill_summary(&ops, &sum);
        live_stats st;
        live_get_stats(&ops, &st);
        if (f == 0) {
            base_loss = sum.loss_final;
            base_val = sum.val_loss_final;
        }
        sum.resbm_loss_gap = sum.loss_final - base_loss;
        if (tr && trace_close(tr, &sum, rc == 0) && rc == 0) rc = EXIT_RUN;
        if (rc) {
            fprintf(stderr, "bench_live: %s: %s\n", files[f], err);
            failed = 1;
        }
        double kshare = w > 0 ? st.kernel_wall_s / w : 0;
        printf("%-22s %-7s %5d %10.0f %8.1f %9.0f %7.1f%% %7.1f%% %8.4f %8.4f %+8.4f %9.4f\n",
               sc.name, method_name(sc.compression.boundary.method), sc.compression.ratio,
               sum.tokens_trained, w, w > 0 ? sum.tokens_trained / w : 0, 100 * kshare,
               100 * (1 - kshare), sum.loss_final, sum.val_loss_final, sum.loss_final - base_loss,
               sum.boundary_recon_error);
        printf("RESULT name=%s method=%s ratio=%d ok=%d tokens=%.0f wall_s=%.3f tokens_per_s=%.1f "
               "kernel_share=%.4f "
               "overhead_share=%.4f loss_final=%.6f val_loss_final=%.6f val_loss_initial=%.6f "
               "gap=%.6f val_gap=%.6f "
               "recon=%.6f sim_s=%.3f undone=%lld leaked=%lld buffers_peak=%lld buffers_bound=%lld "
               "devices=%d\n",
               sc.name, method_name(sc.compression.boundary.method), sc.compression.ratio, rc == 0,
               sum.tokens_trained, w, w > 0 ? sum.tokens_trained / w : 0, kshare, 1 - kshare,
               sum.loss_final, sum.val_loss_final, st.val_loss_initial, sum.loss_final - base_loss,
               sum.val_loss_final - base_val, sum.boundary_recon_error, sum.sim_time_s,
               (long long)st.backwards_undone, (long long)st.buffers_leaked,
               (long long)st.buffers_peak, (long long)st.buffers_bound, st.n_devices);
        fflush(stdout);
        live_close(&ops);
        swarm_config_free(&cfg);
        sim_scenario_free(&sc);
    }
    return failed ? EXIT_RUN : 0;
}
