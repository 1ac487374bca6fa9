/* sim/metrics/summary.h: the run summary, every figure of SPEC §5 for one run.
 *
 * sim_summary is a flat record (two int32 then doubles, no padding) described by ONE
 * field table, sim_summary_fields: name, offset, type, unit, report group and a one-line
 * definition. That table is the single source for the HDF5 compound type of /summary
 * (sim/trace/trace.c), the report (sim/cli/cmd_report.c), CSV export and sweep tables. Field names
 * are published (results/README.md): add fields, never rename or reuse one.
 *
 * Conventions: times in seconds (simulated unless the name says wall), shares, MFU and
 * utilisation as fractions in [0, 1] (the report prints them as %), FLOPs as FLOPs,
 * bytes as bytes. Counts that can exceed 2^31 are doubles (exact up to 2^53). A figure
 * that does not apply to a run is NaN (loss figures of a modeled run, for example);
 * sim_summary_init sets those to NaN and everything else to 0.
 */
#ifndef SIM_METRICS_SUMMARY_H
#define SIM_METRICS_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/base/fields.h"

/* One field per published figure (SPEC §5), so the record is wide on purpose: it is the
 * summary table of the trace and a row of every sweep file, written byte for byte. */
typedef struct {
    /* run and accounting */
    int32_t complete; /* 1 if the run ended normally */
    int32_t cycles;   /* completed cycles (training + sync) */
    double sim_time_s;
    double wall_time_s;
    double tokens_trained;
    double microbatches_injected;
    double microbatches_trained;
    double microbatches_lost;
    double microbatches_in_flight;
    double wasted_flops;
    /* throughput and MFU */
    double tokens_per_s;
    double tokens_per_s_training;
    double model_flops_per_token;
    double peak_flops_total;
    double mfu_training;
    double mfu_overall;
    double mfu_best_window;
    double mfu_window_s;
    double mfu_colocated;
    double speed_vs_colocated;
    /* utilisation and phases */
    double utilisation;
    double time_training_s;
    double time_uploading_s;
    double time_merging_s;
    double time_other_s;
    double mean_training_phase_s;
    double mean_sync_phase_s;
    /* fleet GPU-time shares */
    double share_compute;
    double share_recompute;
    double share_optimizer;
    double share_merge;
    double share_idle;
    double share_waiting;
    double share_down;
    /* network and compression */
    double activation_bytes_raw;
    double activation_bytes_wire;
    double compression_ratio;
    /* cost */
    double cost_usd;
    double usd_per_hour;
    double usd_per_mtok;
    /* loss (live runs) */
    double loss_final;
    double val_loss_final;
    double resbm_loss_gap;
    double boundary_recon_error;
    /* like-for-like figures (issue 12; appended: names are published, order is not) */
    double mfu_best_training_window;
    double speed_vs_colocated_training;
} sim_summary;

/* Report groups, in print order; every field's `group` is one of these pointers. */
extern const char *const sim_summary_groups[];
extern const size_t sim_summary_n_groups;

extern const sim_field sim_summary_fields[];
extern const size_t sim_summary_n_fields;

/* Zero every figure; NaN for the figures that are NaN unless set (loss_final,
 * val_loss_final, resbm_loss_gap, boundary_recon_error, mfu_best_training_window,
 * speed_vs_colocated_training). */
void sim_summary_init(sim_summary *s);

/* The field named `name`, or NULL. */
const sim_field *sim_summary_field(const char *name);

/* A figure by its field, as a double. */
double sim_summary_get(const sim_summary *s, const sim_field *f);

/* CSV: the header line and one row (each ended with '\n'). */
void sim_summary_csv_header(FILE *out);
void sim_summary_csv_row(FILE *out, const sim_summary *s);

#endif
