/* sim/report/plot.h: the figures of `orionsim plot` (data preparation; gnuplot draws).
 *
 * Each figure function writes the CSV files its script reads into ctx->datadir (tables
 * exported as they are with trace_read_table_csv, plus small derived tables computed
 * here: a timeline window, per-peer upload times, heat-map cells), then renders
 * plots/<figure>.gp to ctx->outdir as PNG and SVG (sim/report/plot_gp.h). A figure that has
 * no data (no loss rows, no events in the window) is skipped with a notice on stderr and
 * is not an error. Figure files are named after the input's stem:
 *   utilisation.{png,svg}                 (a) every trace side by side
 *   <trace>-mfu, <trace>-timeline, <trace>-uploads          (b) (c) (d)
 *   loss                                  (e) every trace with loss rows
 *   <sweep>-heat-<metric>[-<key>=<value>...]                (f)
 *   <study>-loss, <study>-gap                               (g) study files (orionsim study)
 *   <fit>-fit[-<i>-<j>]                   (g) residuals and the consistent region
 */
#ifndef SIM_PLOT_H
#define SIM_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/report/plot_gp.h"
#include "sim/metrics/summary.h"
#include "sim/trace/trace.h"

typedef struct {
    const gp_env *gp;
    const char *outdir;   /* figures */
    const char *datadir;  /* CSV files */
    int quiet;            /* no "wrote" lines */
    double timeline_min;  /* training panel length, minutes of simulated time */
    int have_window;      /* --window given: one timeline panel */
    double window_min[2]; /* its start and end, minutes of simulated time */
    size_t made;          /* figures written */
    size_t skipped;       /* figures skipped for want of data */
} plot_ctx;

typedef struct {
    char *path; /* the trace file */
    char *name; /* its stem, reduced to [A-Za-z0-9._-] */
    sim_summary sum;
    double published_utilisation; /* NaN when /reference has none */
    trace_peer_rec *peers;
    size_t n_peers;
    trace_phase_rec *phases;
    size_t n_phases;
    int stages, replicas;
    int64_t loss_rows, event_rows;
} plot_trace;

/* The stem of a path ("results/orion-100b.h5" -> "orion-100b"), reduced to
 * [A-Za-z0-9._-]. Caller frees. */
char *plot_stem(const char *path);

int plot_trace_load(const char *path, plot_trace *t, char *err, size_t errlen);
void plot_trace_free(plot_trace *t);

/* "plot: wrote DIR/stem.png, .svg" (unless quiet), and count it. */
void plot_made(plot_ctx *c, const char *outstem);
/* "plot: NAME: skipped: why" on stderr, and count it. */
void plot_skip(plot_ctx *c, const char *name, const char *why);
/* DIR/NAME (malloc'd). */
char *plot_path(const char *dir, const char *name);

/* The figures. 0, or -1 with err (a failure, not a skip). */
int plot_utilisation(plot_ctx *c, const plot_trace *t, size_t n, char *err, size_t errlen);
int plot_mfu(plot_ctx *c, const plot_trace *t, char *err, size_t errlen);
int plot_loss(plot_ctx *c, const plot_trace *t, size_t n, char *err, size_t errlen);
int plot_timeline(plot_ctx *c, const plot_trace *t, char *err, size_t errlen);
int plot_uploads(plot_ctx *c, const plot_trace *t, char *err, size_t errlen);
int plot_sweep(plot_ctx *c, const char *path, char *err, size_t errlen);
int plot_study(plot_ctx *c, const char *path, char *err, size_t errlen);
int plot_fit(plot_ctx *c, const char *path, char *err, size_t errlen);

#endif
