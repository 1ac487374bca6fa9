/* sim/fit/fit_compare.h: each published figure beside the simulated figure with the same
 * definition (issue 12, item 4).
 *
 * A publication's figures are not always the summary's: Orion's "average training MFU"
 * is the MFU over the training phases (mfu_training), not over the whole wall-clock; its
 * "38% peak sustained over a 6-hour window without churn" is the best window of
 * training-phase MFU inside a stretch with every peer up (sync time left out of the
 * window's denominator, since one training phase is shorter than 6 h); its "65% (82% at
 * peak) of the speed of the same GPUs co-located" is training MFU (peak window MFU) over
 * the co-located MFU (30.8 / 0.65 = 47.4% and 38 / 0.82 = 46.3%: the same co-located MFU
 * both ways). fit_compare_figs is the one table of these mappings, keyed by the
 * scenario's reference keys (sim/scenario/scenario.h, sim_reference_figs); `report`
 * prints it and `fit` fits it, so both use the same definitions.
 *
 * The figures that need more than the summary (the churn-free training window) are
 * computed from a trace's /timeseries and /phases tables (fit_compare_read).
 */
#ifndef SIM_FIT_COMPARE_H
#define SIM_FIT_COMPARE_H

#include <stddef.h>

#include "sim/metrics/summary.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_read.h"

/* What a run gives for the comparison. */
typedef struct {
    sim_summary sum;
    /* best MFU over a window of sum.mfu_window_s in which every peer was up, counting only
     * the training-phase time of the window; NaN when not computed */
    double mfu_training_best_window;
    int n_peers, n_replicas;
} fit_compare_sim;

typedef struct {
    const char *key;        /* reference key (sim_reference_figs) */
    const char *sim_name;   /* the simulated figure, as printed */
    const char *definition; /* how it is computed */
    /* the simulated value in the published figure's unit; NaN where there is none */
    double (*simulated)(const fit_compare_sim *s);
} fit_compare_fig;

extern const fit_compare_fig fit_compare_figs[];
extern const size_t fit_compare_n_figs;

/* The row of a reference key, or NULL. */
const fit_compare_fig *fit_compare_find(const char *key);

/* The best window of training-phase MFU (see fit_compare_sim): over maximal stretches
 * of samples with active_peers == n_peers, windows [t_i, t_j] of at least window_s
 * (shortened to the longest stretch when none is that long); MFU = tokens trained in the
 * window x flops_per_token / (training-phase seconds in the window (from the phases
 * table, exact) x peak_total). NaN when there are fewer than 2 samples or no training
 * time. */
double fit_compare_best_window(const trace_sample_rec *ts, size_t n_ts, const trace_phase_rec *ph,
                               size_t n_ph, int n_peers, double flops_per_token, double peak_total,
                               double window_s);

/* Fill *out from an open trace (summary, peers, timeseries, phases). 0, or -1 with the
 * reason in err. */
int fit_compare_read(trace_file *tf, fit_compare_sim *out, char *err, size_t errlen);

/* The published figures a trace's /reference group holds, by reference key: pub[i] for
 * sim_reference_figs[i] (NaN when absent). The trace names them after the summary fields
 * they were written beside (sim/run/run.c); this maps them back. */
void fit_compare_published(const trace_reference *ref, double *pub);

#endif
