/* sim/cli/cmd_fit.c: `orionsim fit SCENARIO --free KEY=LO:HI[:log]... [--hold-out NAME...] -o FILE`.
 *
 * Command-line front of sim/fit/fit.h: parses the flags, catches SIGINT (the finished
 * points stay in FILE and the same command resumes), prints the best point, each
 * figure's residual and the range the consistent points span.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/cli/commands.h"
#include "sim/fit/fit.h"
#include "sim/fit/fit_file.h"

#define MAX_ARGS 256

static volatile int interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: orionsim fit SCENARIO --free KEY=LO:HI[:log] [--free ...] -o FILE [options]\n\n"
            "Finds the values of the free scenario keys whose replay best matches the published\n"
            "figures of the scenario's reference group (each within its reference.uncertainty):\n"
            "a scrambled Latin hypercube over the ranges, then a compass search from its best\n"
            "point. Deterministic for a seed; re-running the same command resumes.\n\n"
            "  --free KEY=LO:HI[:log]  a numeric scenario key and its range (log: sample in\n"
            "                          log space); repeatable\n"
            "  --hold-out NAME         a reference figure to predict, not fit (repeatable)\n"
            "  --set KEY=VALUE         fix a scenario key for every point (repeatable)\n"
            "  -o, --output FILE       the fit file (HDF5; e.g. results/orion-fit.h5)\n"
            "  -j, --jobs N, -jN      worker processes (default: the number of online cores)\n"
            "  --seed S                the design's seed (default 1)\n"
            "  --design N              design points (default 10 x keys, at least 8)\n"
            "  --starts S              refine from the S best design points that are at least\n"
            "                          two design cells apart (default 1)\n"
            "  --max-evals N           points in all (default design + 20 x keys x starts)\n"
            "  --force                 replace FILE when it holds another fit\n"
            "  -q, --quiet             no progress lines\n"
            "  -h, --help              this text\n\n"
            "Objective: sum of z^2 over the fitted figures, z = (replay - published) /\n"
            "(uncertainty x published); a point is consistent when every |z| <= 1.\n"
            "Then: orionsim plot FILE   (consistent region and residuals)\n"
            "exit codes: 0 done, 1 interrupted or failure, 2 bad input\n");
}

static int need_int(const char *opt, const char *v, long lo, long *out) {
    if (sim_parse_long(v, out) || *out < lo) {
        fprintf(stderr, "orionsim fit: %s: expected an integer >= %ld, got '%s'\n", opt, lo, v);
        return -1;
    }
    return 0;
}

static void print_result(const char *path) {
    fit_data d;
    char err[512];
    if (fit_file_read(path, &d, err, sizeof err)) {
        fprintf(stderr, "orionsim fit: %s: %s\n", path, err);
        return;
    }
    printf("fit: %s: %zu points", path, d.n_pts);
    if (d.meta.best_row >= 0)
        printf(", best chi2 %.4g (row %lld)", d.pts[d.meta.best_row].chi2,
               (long long)d.meta.best_row);
    printf("\n  %-34s %-12s %-12s %s\n", "free key", "best", "range", "consistent range");
    for (size_t k = 0; k < d.n_free; k++) {
        fit_free_rec *r = &d.free[k];
        char cons[64] = "none";
        if (r->n_consistent)
            snprintf(cons, sizeof cons, "%.4g .. %.4g (%lld points)", r->consistent_min,
                     r->consistent_max, (long long)r->n_consistent);
        char rng[48];
        snprintf(rng, sizeof rng, "%.4g:%.4g%s", r->lo, r->hi, r->log ? ":log" : "");
        printf("  %-34s %-12.6g %-12s %s\n", r->key, r->best, rng, cons);
    }
    printf("  %-26s %-10s %-12s %-12s %-10s %-8s %s\n", "figure", "role", "published", "best point",
           "residual", "z", "consistent points span");
    for (size_t i = 0; i < d.n_figs; i++) {
        fit_figure_rec *r = &d.figs[i];
        char span[64] = "";
        if (!isnan(r->consistent_min))
            snprintf(span, sizeof span, "%.4g .. %.4g", r->consistent_min, r->consistent_max);
        char z[16] = "";
        if (!isnan(r->z)) snprintf(z, sizeof z, "%+.2f", r->z);
        printf("  %-26s %-10s %-12.4g %-12.4g %-+10.3g %-8s %s\n", r->figure, r->role, r->published,
               r->best, r->residual, z, span);
    }
    fit_data_free(&d);
}

int cmd_fit(int argc, char **argv) {
    const char *frees[MAX_ARGS], *holds[MAX_ARGS], *sets[MAX_ARGS];
    size_t nf = 0, nh = 0, ns = 0;
    fit_opts o;
    memset(&o, 0, sizeof o);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = cores > 0 ? (int)cores : 1;
    o.progress = 1;
    o.seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        long v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if ((!strcmp(a, "--free") || !strcmp(a, "--hold-out") || !strcmp(a, "--set") ||
                    !strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "-j") ||
                    !strcmp(a, "--jobs") || !strcmp(a, "--seed") || !strcmp(a, "--design") ||
                    !strcmp(a, "--max-evals") || !strcmp(a, "--starts")) &&
                   !more) {
            fprintf(stderr, "orionsim fit: %s needs a value\n", a);
            return EXIT_INPUT;
        } else if (nf == MAX_ARGS || nh == MAX_ARGS || ns == MAX_ARGS) {
            fprintf(stderr, "orionsim fit: too many options (max %d of a kind)\n", MAX_ARGS);
            return EXIT_INPUT;
        } else if (!strcmp(a, "--free")) {
            frees[nf++] = argv[++i];
        } else if (!strcmp(a, "--hold-out")) {
            holds[nh++] = argv[++i];
        } else if (!strcmp(a, "--set")) {
            sets[ns++] = argv[++i];
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            o.output = argv[++i];
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs") || (!strncmp(a, "-j", 2) && a[2])) {
            const char *val = a[2] && strncmp(a, "--", 2) ? a + 2 : argv[++i];
            if (need_int("-j", val, 1, &v)) return EXIT_INPUT;
            o.jobs = (int)v;
        } else if (!strcmp(a, "--seed")) {
            if (need_int(a, argv[++i], 0, &v)) return EXIT_INPUT;
            o.seed = (uint64_t)v;
        } else if (!strcmp(a, "--design")) {
            if (need_int(a, argv[++i], 2, &v)) return EXIT_INPUT;
            o.design = (int)v;
        } else if (!strcmp(a, "--starts")) {
            if (need_int(a, argv[++i], 1, &v)) return EXIT_INPUT;
            o.starts = (int)v;
        } else if (!strcmp(a, "--max-evals")) {
            if (need_int(a, argv[++i], 1, &v)) return EXIT_INPUT;
            o.max_evals = (int)v;
        } else if (!strcmp(a, "--force")) {
            o.force = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o.progress = 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "orionsim fit: unknown option '%s'\n", a);
            usage(stderr);
            return EXIT_INPUT;
        } else if (o.scenario) {
            fprintf(stderr, "orionsim fit: more than one scenario ('%s', '%s')\n", o.scenario, a);
            return EXIT_INPUT;
        } else {
            o.scenario = a;
        }
    }
    if (!o.scenario || !o.output) {
        fprintf(stderr, "orionsim fit: %s\n\n", !o.scenario ? "no scenario given" : "no -o FILE");
        usage(stderr);
        return EXIT_INPUT;
    }
    o.free_args = frees;
    o.n_free = nf;
    o.hold_out = holds;
    o.n_hold = nh;
    o.sets = sets;
    o.n_sets = ns;
    o.stop_flag = &interrupted;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    fit_stats st;
    char err[4096] = "";
    int rc = fit_run(&o, &st, err, sizeof err);
    sigaction(SIGINT, &old, NULL);
    if (rc) {
        fprintf(stderr, "orionsim fit: %s\n", err);
        return rc;
    }
    fprintf(stderr,
            "fit: %zu points (%zu run now), %zu consistent, %zu refinement start%s, %.1f s wall\n",
            st.evaluated, st.ran, st.consistent, st.starts, st.starts == 1 ? "" : "s", st.wall_s);
    print_result(o.output);
    return EXIT_OK;
}
