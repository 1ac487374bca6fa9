/* sim/study/study.h: `orionsim study`: the ResBM loss study as a measurement.
 *
 * A study runs a live scenario at every (model width, stage boundary, seed) and reports,
 * per width and boundary, the mean, standard deviation and 95% Student-t confidence
 * interval of the final training and validation loss over the seeds, and of the loss
 * gap to the uncompressed baseline paired by seed (boundary run of seed i minus the
 * "none" run of seed i, same width): significant when its interval excludes 0. Loss
 * curves get the same bands, point by point (inner step, cycle).
 *
 * Runs. Run (width W, boundary b, seed i) is the scenario with the --set overrides, then
 *   model.d_model=W  model.ffn=W*ffn/d_model   (the scenario's ffn-to-width ratio; with
 *                                              --widths only)
 *   compression.method=M  compression.ratio=R  (R = W / k for boundaries given by k)
 *   seed=S_i                                   S_i = the scenario's seed + i
 * The seed drives the initial weights, the data order and every routing draw, so seed i
 * gives every boundary and width the same tokens in the same order. Boundaries:
 *   none | int8 | resbm:RATIO | resbm:kK | linear:RATIO | linear:kK
 * (by ratio, or by bottleneck width k, the same k at every width). The uncompressed
 * baseline "none" joins the list when missing (the gaps need it).
 *
 * Files. Each run writes its trace to RUNS/d<W>_<boundary>_seed<S>.h5 (RUNS defaults to
 * the study file's path without .h5, plus "-runs"). A run whose trace is complete, with
 * the same scenario text and the same overrides, is not run again: an interrupted study
 * resumes where it stopped. The study file (schema: results/README.md, "Study files")
 * is rebuilt from the traces at the end of every invocation, also an interrupted one
 * (complete = 0 then):
 *   /            attributes study_schema_version, orionsim_version, created, scenario_path,
 *                scenario_name, seeds, seed_base, widths, boundaries, sets, level (0.95),
 *                runs, runs_done, complete, wall_time_s, platform_* (sim/base/platform.h)
 *   /scenario    the scenario text
 *   /runs        one row per run (study_run_rec)
 *   /stats       one row per (width, boundary) (study_stat_rec)
 *   /curves      one row per (width, boundary, kind, point) (study_curve_rec)
 *
 * Bad input (EXIT_INPUT, err says why): seeds < 1, an empty or malformed boundary list,
 * a width the model cannot split (heads, head_dim, ffn) or a boundary ratio / k that
 * does not divide a width, a scenario that is not live or does not load, missing data
 * shards, --set of a key the study sets itself.
 */
#ifndef SIM_STUDY_H
#define SIM_STUDY_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/fields.h"

#define STUDY_SCHEMA_VERSION 1
#define STUDY_NAME_LEN 24
#define STUDY_PATH_LEN 256

typedef struct {
    const char *scenario;
    const char *const *sets; /* --set arguments */
    size_t n_sets;
    int seeds;               /* seeds per boundary, >= 1 */
    const char *boundaries;  /* "none,resbm:16,..." */
    const char *widths;      /* "128,256,512"; NULL: the scenario's d_model */
    const char *output;      /* the study file */
    const char *runs_dir;    /* NULL: <output without .h5>-runs */
    int jobs;                /* worker processes */
    int progress;            /* progress lines on stderr */
    int print;               /* the table on stdout at the end */
    int collect_only;        /* run nothing: build the file from the complete traces there are */
    volatile int *stop_flag; /* SIGINT */
} study_opts;

/* /runs: one row per run. */
typedef struct {
    double ratio;          /* compression ratio (d_model / k; 1 for none, int8) */
    double loss_final;     /* training loss, mean over the final window (nats/token) */
    double val_loss_final; /* validation loss after the last cycle */
    double gap;            /* loss_final - that of the "none" run of the same seed and width */
    double val_gap;        /* the same for val_loss_final */
    double wall_time_s;    /* wall time of the run */
    int64_t seed;
    int32_t width; /* d_model */
    int32_t k;     /* bottleneck width (d_model for none and int8) */
    int32_t seed_index;
    int32_t done; /* 1: a complete trace */
    char boundary[STUDY_NAME_LEN];
    char method[8];
    char trace[STUDY_PATH_LEN];
} study_run_rec;

/* /stats: one row per (width, boundary). ci = half-width of the 95% interval. */
typedef struct {
    double ratio;
    double loss_mean, loss_sd, loss_ci;
    double val_mean, val_sd, val_ci;
    double gap_mean, gap_sd, gap_ci;
    double val_gap_mean, val_gap_sd, val_gap_ci;
    int32_t width, k;
    int32_t n;                   /* runs done */
    int32_t n_pairs;             /* of those, with a baseline run of the same seed */
    int32_t gap_significant;     /* 1 yes, 0 no, -1 fewer than two pairs */
    int32_t val_gap_significant; /* the same for the validation gap */
    char boundary[STUDY_NAME_LEN];
    char method[8];
} study_stat_rec;

/* /curves: loss curves, one row per point. */
typedef struct {
    double tokens; /* tokens trained at the point, mean over the seeds */
    double mean, sd, ci;
    int32_t width, k;
    int32_t kind;       /* 0 training (mean over replicas and microbatches), 1 validation */
    int32_t cycle;      /* 0-based */
    int32_t inner_step; /* the replicas' inner step (may pass H while a cycle's sync waits for
                           the slower peers); -1 for validation */
    int32_t n;          /* seeds with this point */
    char boundary[STUDY_NAME_LEN];
} study_curve_rec;

extern const sim_field study_run_fields[], study_stat_fields[], study_curve_fields[];
extern const size_t study_run_n_fields, study_stat_n_fields, study_curve_n_fields;

typedef struct {
    size_t runs, kept, ran, failed, pending;
    double wall_s;
} study_stats_count;

/* EXIT_OK when every run is done, EXIT_RUN when some failed or the study was interrupted,
 * EXIT_INPUT for bad input (err says why). */
int study_run(const study_opts *o, study_stats_count *st, char *err, size_t errlen);

/* 1 if path is an HDF5 file with the study_schema_version attribute. */
int study_file_probe(const char *path);

/* Read a study file's tables (malloc'd; free them). 0, or -1 with err. */
int study_file_read(const char *path, study_stat_rec **stats, size_t *n_stats,
                    study_curve_rec **curves, size_t *n_curves, char *err, size_t errlen);

/* The parsed boundary list. */
typedef struct {
    char spec[STUDY_NAME_LEN]; /* as given: "resbm:16", "resbm:k16", "none" */
    int method;                /* km_compression */
    int ratio;                 /* > 0 when given by ratio */
    int k;                     /* > 0 when given by k */
    int hidden;                /* ResBM MLP hidden width fixed at every model width (":hH"),
                                  STUDY_HIDDEN_FFN (":hffn": the run's ffn, IOTA's choice);
                                  0: the scenario's rule (compression.hidden, default k) */
} study_boundary;

#define STUDY_HIDDEN_FFN (-1)

/* The hidden width a boundary spec names ("resbm:k64:h256" -> 256, "resbm:k8:hffn" ->
 * STUDY_HIDDEN_FFN), 0 if none. */
int study_spec_hidden(const char *spec);

/* Parse "none,resbm:16,resbm:k8:h256,...". 0, or -1 with err. *out malloc'd, "none" added first when
 * missing. */
int study_boundaries_parse(const char *s, study_boundary **out, size_t *n, char *err,
                           size_t errlen);
/* The ratio and k of a boundary at width d. 0, or -1 with err (does not divide). */
int study_boundary_at(const study_boundary *b, int d, int *ratio, int *k, char *err, size_t errlen);

#endif
