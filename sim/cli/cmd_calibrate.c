/* sim/cli/cmd_calibrate.c: `orionsim calibrate SCENARIO -o PROFILE`. */
#include <stdio.h>
#include <string.h>

#include "sim/calibrate/calibrate.h"
#include "sim/cli/commands.h"
#include "sim/calibrate/kernel_profile.h"
#include "sim/base/util.h"

#define MAX_SETS 64

static void usage(FILE *f) {
    fprintf(f,
            "usage: orionsim calibrate SCENARIO -o PROFILE [options]\n\n"
            "Times the real stage kernels at SCENARIO's shapes (a middle stage with its\n"
            "compression boundaries) and writes the efficiency of each task kind as a kernel\n"
            "profile for `orionsim run --profile PROFILE` (or compute.kernel_profile).\n\n"
            "  -o FILE              the profile to write\n"
            "  --backend B          auto (default), cpu or cuda\n"
            "  --gpu N              GPU ordinal (default 0)\n"
            "  --device NAME        the local device's row of the device table (peak, bandwidth)\n"
            "  --peak-tflops X      the local device's dense peak instead\n"
            "  --mem-gbs X          ... and its memory bandwidth (GB/s)\n"
            "  --blocks N           blocks in the measured stage (default 1)\n"
            "  --seqs N             sequences per microbatch (default: the scenario's)\n"
            "  --reps N             timed repetitions, the best kept (default 3)\n"
            "  --set KEY=VALUE      scenario override (repeatable)\n\n"
            "On the CPU without --device/--peak-tflops the peak is a measured large GEMM and the\n"
            "bandwidth a measured copy.\n");
}

static int num(const char *opt, const char *s, double *v) {
    if (sim_parse_double(s, v) || !(*v > 0)) {
        fprintf(stderr, "orionsim calibrate: %s: expected a positive number, got '%s'\n", opt, s);
        return -1;
    }
    return 0;
}

int cmd_calibrate(int argc, char **argv) {
    const char *scen = NULL, *out = NULL, *device = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0;
    calibrate_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        double v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "-o") && more) out = argv[++i];
        else if (!strcmp(a, "--backend") && more) o.backend = argv[++i];
        else if (!strcmp(a, "--device") && more) device = argv[++i];
        else if (!strcmp(a, "--set") && more && n_sets < MAX_SETS) sets[n_sets++] = argv[++i];
        else if ((!strcmp(a, "--peak-tflops") || !strcmp(a, "--mem-gbs")) && more) {
            if (num(a, argv[++i], &v)) return EXIT_INPUT;
            if (a[2] == 'p') o.peak_flops = v * 1e12;
            else o.mem_bw = v * 1e9;
        } else if ((!strcmp(a, "--gpu") || !strcmp(a, "--blocks") || !strcmp(a, "--seqs") ||
                    !strcmp(a, "--reps")) &&
                   more) {
            long n;
            if (sim_parse_long(argv[++i], &n) || n < 0 || n > 100000 ||
                (n == 0 && strcmp(a, "--gpu"))) {
                fprintf(stderr, "orionsim calibrate: %s: expected a positive integer, got '%s'\n",
                        a, argv[i]);
                return EXIT_INPUT;
            }
            if (!strcmp(a, "--gpu")) o.gpu = (int)n;
            else if (!strcmp(a, "--blocks")) o.blocks = (int)n;
            else if (!strcmp(a, "--seqs")) o.seqs = (int)n;
            else o.reps = (int)n;
        } else if (a[0] == '-') {
            fprintf(stderr, "orionsim calibrate: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return EXIT_INPUT;
        } else if (!scen) scen = a;
        else {
            fprintf(stderr, "orionsim calibrate: more than one scenario given\n");
            return EXIT_INPUT;
        }
    }
    if (!scen || !out) {
        usage(stderr);
        return EXIT_INPUT;
    }
    if (o.backend && strcmp(o.backend, "auto") && strcmp(o.backend, "cpu") &&
        strcmp(o.backend, "cuda")) {
        fprintf(stderr, "orionsim calibrate: --backend: expected auto, cpu or cuda, got '%s'\n",
                o.backend);
        return EXIT_INPUT;
    }
    sim_scenario sc;
    char err[1024];
    int rc = sim_scenario_load(scen, sets, n_sets, &sc, err, sizeof err);
    if (rc) {
        fprintf(stderr, "orionsim: %s\n", err);
        return rc;
    }
    const char *dev = device                         ? device
                      : sc.compute.local_device >= 0 ? sc.devices.dev[sc.compute.local_device].name
                                                     : NULL;
    if (dev) {
        int k = sim_devices_find(&sc.devices, dev);
        if (k < 0) {
            const char *s = sim_devices_suggest(&sc.devices, dev);
            fprintf(stderr, "orionsim calibrate: --device: '%s' is not in %s%s%s%s\n", dev,
                    sc.devices.path, s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
            sim_scenario_free(&sc);
            return EXIT_INPUT;
        }
        if (!(o.peak_flops > 0)) o.peak_flops = sc.devices.dev[k].bf16_flops;
        if (!(o.mem_bw > 0)) o.mem_bw = sc.devices.dev[k].memory_bw_bytes_per_s;
    }
    calibrate_result r;
    rc = calibrate_run(&sc, &o, &r, err, sizeof err);
    if (rc) {
        fprintf(stderr, "orionsim: %s\n", err);
        sim_scenario_free(&sc);
        return rc;
    }
    printf("calibrate %s: %s backend, %d block(s) of d %d, %.0f tokens, %.4g parameters\n", scen,
           r.backend, r.blocks, sc.model.d_model, r.tokens, r.params);
    printf("  peak %.4g TFLOP/s%s, memory %.4g GB/s%s\n", r.peak_flops / 1e12,
           r.peak_measured ? " (measured GEMM)" : "", r.mem_bw / 1e9,
           r.bw_measured ? " (measured copy)" : "");
    for (int k = 0; k < SIM_EFF_KINDS; k++)
        printf("  %-10s %10.4f s   efficiency %.3f\n", sim_eff_name((sim_eff_kind)k), r.t[k],
               r.eff[k]);
    rc = kernel_profile_save(out,
                             dev               ? dev
                             : r.peak_measured ? "local-cpu"
                                               : "local",
                             r.backend, r.eff, err, sizeof err);
    if (rc) fprintf(stderr, "orionsim: %s\n", err);
    else printf("wrote %s\n", out);
    sim_scenario_free(&sc);
    return rc;
}
