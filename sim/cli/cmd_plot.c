/* sim/cli/cmd_plot.c: `orionsim plot TRACE_OR_SWEEP_OR_STUDY... [-o DIR]`.
 *
 * Renders the figures of SPEC §6 with the gnuplot scripts in plots/ (sim/report/plot.h): for
 * traces (a) the utilisation breakdown of every trace side by side, (b) MFU over time,
 * (c) the pipeline timeline, (d) per-peer upload times, (e) loss curves of the traces
 * that have loss rows; for sweep files (f) heat maps; for study files (g) loss curves
 * with bands and the loss gap against k and the ratio. Figures go to DIR (default
 * results/<stem of the first file>/) as PNG and SVG; the CSV files that feed them stay
 * in DIR/data/ for anyone who wants the numbers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/commands.h"
#include "sim/base/fsutil.h"
#include "sim/report/plot.h"
#include "sim/study/study.h"
#include "sim/fit/fit_file.h"
#include "sim/sweep/sweep_file.h"
#include "sim/trace/trace_read.h"
#include "sim/base/util.h"

enum {
    F_UTIL = 1,
    F_MFU = 2,
    F_TIMELINE = 4,
    F_UPLOADS = 8,
    F_LOSS = 16,
    F_HEAT = 32,
    F_STUDY = 64,
    F_FIT = 128,
    F_ALL = 255
};
static const struct {
    const char *name;
    int bit;
} figure_names[] = {{"utilisation", F_UTIL}, {"mfu", F_MFU},   {"timeline", F_TIMELINE},
                    {"uploads", F_UPLOADS},  {"loss", F_LOSS}, {"heat", F_HEAT},
                    {"study", F_STUDY},
                    {"fit", F_FIT}};

static void usage(FILE *f) {
    fprintf(f,
            "usage: orionsim plot FILE... [-o DIR] [options]\n\n"
            "Draws the figures of traces (orionsim run), sweep files (orionsim sweep) and fit\n"
            "files (orionsim fit) with\n"
            "gnuplot, as PNG and SVG in DIR (default results/<first file's stem>/):\n"
            "  utilisation            training/uploading/merging/other shares, every trace\n"
            "                         side by side, published utilisation marked\n"
            "  <trace>-mfu            MFU and tokens/s over time, best sustained window\n"
            "  <trace>-timeline       peers x time, events coloured by kind\n"
            "  <trace>-uploads        per-peer pseudo-gradient upload times in the syncs\n"
            "  loss                   loss vs tokens and vs time (traces with loss rows)\n"
            "  <sweep>-heat-<metric>  heat maps of the first two --vary keys\n"
            "  <study>-loss           study files (orionsim study): loss curves with 95%% bands\n"
            "  <study>-gap            the loss gap to the baseline vs k and vs the ratio\n"
            "  <fit>-fit[-i-j]        a fit file (orionsim fit): each figure's residual at the\n"
            "                         best point; evaluated, consistent and best points\n"
            "The CSV files behind them are left in DIR/data/.\n\n"
            "  -o, --output DIR     where the figures go\n"
            "  --only LIST          comma-separated subset of: utilisation, mfu, timeline,\n"
            "                       uploads, loss, heat, study, fit\n"
            "  --minutes N          timeline: length of the training-phase panel (default 5)\n"
            "  --window A:B         timeline: one panel, minutes A to B of simulated time\n"
            "  --scripts DIR        the gnuplot scripts (default: ./plots, or $ORIONSIM_PLOTS)\n"
            "  -q, --quiet          no \"wrote\" lines\n"
            "  -h, --help           this text\n\n"
            "Chrome/Perfetto JSON of a trace's events: orionsim export-trace TRACE -o FILE.json\n"
            "exit codes: 0 ok, 1 gnuplot or writing failed, 2 bad arguments or input file\n");
}

static int parse_only(const char *s, int *mask) {
    *mask = 0;
    char *buf = xstrdup(s);
    int rc = 0;
    for (char *p = buf, *tok; (tok = strsep(&p, ",")) != NULL;) {
        int bit = 0;
        for (size_t i = 0; i < sizeof figure_names / sizeof figure_names[0]; i++)
            if (!strcmp(tok, figure_names[i].name)) bit = figure_names[i].bit;
        if (!bit) {
            fprintf(stderr,
                    "orionsim plot: --only %s: unknown figure '%s' (utilisation, mfu, "
                    "timeline, uploads, loss, heat, study)\n",
                    s, tok);
            rc = -1;
            break;
        }
        *mask |= bit;
    }
    free(buf);
    return rc;
}

static int parse_window(const char *s, double w[2]) {
    char *colon = strchr(s, ':');
    if (!colon) return -1;
    char *a = xstrdup(s);
    a[colon - s] = 0;
    int rc = sim_parse_double(a, &w[0]) || sim_parse_double(colon + 1, &w[1]) || w[0] < 0 ||
             w[1] <= w[0];
    free(a);
    return rc ? -1 : 0;
}

int cmd_plot(int argc, char **argv) {
    const char *outdir = NULL, *scripts = NULL;
    const char **files = xcalloc((size_t)argc, sizeof *files);
    size_t nf = 0;
    int mask = F_ALL, quiet = 0;
    plot_ctx c;
    memset(&c, 0, sizeof c);
    c.timeline_min = 5;
    int rc = EXIT_OK;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(files);
            return EXIT_OK;
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--only") ||
                    !strcmp(a, "--minutes") || !strcmp(a, "--window") || !strcmp(a, "--scripts")) &&
                   !more) {
            fprintf(stderr, "orionsim plot: %s needs a value\n", a);
            rc = EXIT_INPUT;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            outdir = argv[++i];
        } else if (!strcmp(a, "--scripts")) {
            scripts = argv[++i];
        } else if (!strcmp(a, "--only")) {
            if (parse_only(argv[++i], &mask)) rc = EXIT_INPUT;
        } else if (!strcmp(a, "--minutes")) {
            if (sim_parse_double(argv[++i], &c.timeline_min) || !(c.timeline_min > 0)) {
                fprintf(stderr,
                        "orionsim plot: --minutes %s: expected a positive number of minutes\n",
                        argv[i]);
                rc = EXIT_INPUT;
            }
        } else if (!strcmp(a, "--window")) {
            if (parse_window(argv[++i], c.window_min)) {
                fprintf(
                    stderr,
                    "orionsim plot: --window %s: expected START:END in minutes, 0 <= START < END\n",
                    argv[i]);
                rc = EXIT_INPUT;
            }
            c.have_window = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "orionsim plot: unknown option '%s'\n", a);
            usage(stderr);
            rc = EXIT_INPUT;
        } else {
            files[nf++] = a;
        }
    }
    if (!rc && !nf) {
        fprintf(stderr, "orionsim plot: no trace or sweep file given\n");
        usage(stderr);
        rc = EXIT_INPUT;
    }
    /* Classify and load every input before drawing anything. */
    plot_trace *tr = xcalloc(nf ? nf : 1, sizeof *tr);
    const char **sweeps = xcalloc(nf ? nf : 1, sizeof *sweeps);
    const char **studies = xcalloc(nf ? nf : 1, sizeof *studies);
    const char **fits = xcalloc(nf ? nf : 1, sizeof *fits);
    size_t nt = 0, ns = 0, nst = 0, nfit = 0;
    char err[2048];
    for (size_t i = 0; i < nf && !rc; i++) {
        /* every probe below opens the file: a FIFO or a device is refused first */
        if (sim_file_check(files[i], err, sizeof err)) {
            fprintf(stderr, "orionsim: %s\n", err);
            rc = EXIT_INPUT;
        } else if (sweep_file_probe(files[i])) {
            /* read it whole now: a bad sweep file is bad input, refused before drawing */
            sweep_meta m;
            sweep_point *pts = NULL;
            size_t n = 0;
            if (sweep_file_read(files[i], &m, &pts, &n, err, sizeof err)) {
                fprintf(stderr, "orionsim: %s: %s\n", files[i], err);
                rc = EXIT_INPUT;
            } else {
                sweep_points_free(pts, n, m.n_keys);
                sweep_meta_free(&m);
                sweeps[ns++] = files[i];
            }
        } else if (study_file_probe(files[i])) {
            studies[nst++] = files[i];
        } else if (fit_file_probe(files[i])) {
            fits[nfit++] = files[i];
        } else if (plot_trace_load(files[i], &tr[nt], err, sizeof err)) {
            fprintf(stderr, "orionsim: %s: %s\n", files[i], err);
            rc = EXIT_INPUT;
        } else {
            nt++;
        }
    }
    char *defdir = NULL, *datadir = NULL;
    gp_env gp;
    if (!rc) {
        if (!outdir) {
            char *stem = plot_stem(files[0]);
            defdir = plot_path("results", stem);
            free(stem);
            outdir = defdir;
        }
        datadir = plot_path(outdir, "data");
        if (sim_mkdir_p(datadir)) {
            fprintf(stderr, "orionsim plot: %s: cannot create the directory: %s\n", datadir,
                    strerror(errno));
            rc = EXIT_RUN;
        } else if (gp_init(&gp, scripts, err, sizeof err)) {
            fprintf(stderr, "orionsim plot: %s\n", err);
            rc = scripts ? EXIT_INPUT : EXIT_RUN;
        }
    }
    if (!rc) {
        c.gp = &gp;
        c.outdir = outdir;
        c.datadir = datadir;
        c.quiet = quiet;
        int fail = 0;
        if (!fail && nt && (mask & F_UTIL)) fail = plot_utilisation(&c, tr, nt, err, sizeof err);
        for (size_t i = 0; i < nt && !fail; i++) {
            if (!fail && (mask & F_MFU)) fail = plot_mfu(&c, &tr[i], err, sizeof err);
            if (!fail && (mask & F_TIMELINE)) fail = plot_timeline(&c, &tr[i], err, sizeof err);
            if (!fail && (mask & F_UPLOADS)) fail = plot_uploads(&c, &tr[i], err, sizeof err);
        }
        if (!fail && nt && (mask & F_LOSS)) fail = plot_loss(&c, tr, nt, err, sizeof err);
        for (size_t i = 0; i < ns && !fail; i++)
            if (mask & F_HEAT) fail = plot_sweep(&c, sweeps[i], err, sizeof err);
        for (size_t i = 0; i < nst && !fail; i++)
            if (mask & F_STUDY) fail = plot_study(&c, studies[i], err, sizeof err);
        for (size_t i = 0; i < nfit && !fail; i++)
            if (mask & F_FIT) fail = plot_fit(&c, fits[i], err, sizeof err);
        if (fail) {
            fprintf(stderr, "orionsim plot: %s\n", err);
            rc = EXIT_RUN;
        } else {
            fprintf(stderr, "plot: %zu figure%s in %s/ (%zu skipped)%s\n", c.made,
                    c.made == 1 ? "" : "s", outdir, c.skipped,
                    gp.svg ? "" : "; gnuplot has no svg terminal: PNG only");
        }
    }
    for (size_t i = 0; i < nt; i++) plot_trace_free(&tr[i]);
    free(tr);
    free(sweeps);
    free(studies);
    free(fits);
    free(files);
    free(defdir);
    free(datadir);
    return rc;
}
