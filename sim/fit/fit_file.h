/* sim/fit/fit_file.h: the HDF5 file of a fit (`orionsim fit -o FIT.h5`).
 *
 * Layout (also in results/README.md, "Fit files"):
 *   /          attributes fit_schema_version (= FIT_SCHEMA_VERSION), orionsim_version,
 *              created, scenario_path, scenario_hash (FNV-1a 64 of every file the scenario
 *              read, hex), sets (the --set arguments), keys (the free keys), free (the
 *              --free arguments), hold_out (the --hold-out names), seed, complete (1 when
 *              the search ended normally), best_row (row of /points with the lowest chi2,
 *              -1 when none finished)
 *   /points    one row per evaluated point, in evaluation order: one float64 column per
 *              free key (named by the key), then sim_<figure> for every reference figure
 *              (the like-for-like simulated value in the published unit, NaN where there
 *              is none), chi2, consistent (1 when |z| <= 1 for every fitted figure),
 *              iteration (0 design, then the refinement step), stage ("design",
 *              "refine"), status ("ok", "failed"), error
 *   /figures   one row per published figure given: figure, role ("fitted", "held-out",
 *              "not fitted": no uncertainty or no simulated counterpart), published,
 *              uncertainty (fraction), best (simulated at the best point), residual (best
 *              - published), z (residual / (uncertainty x |published|)), consistent_min,
 *              consistent_max (the simulated figure's range over the consistent points)
 *   /free      one row per free key: key, lo, hi, log, integer, best, consistent_min,
 *              consistent_max (the key's range over the consistent points: what the
 *              published figures pin down, and what they leave free), n_consistent
 */
#ifndef SIM_FIT_FILE_H
#define SIM_FIT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/fit/fit.h"

#define FIT_SCHEMA_VERSION 1
#define FIT_ERROR_LEN 256
#define FIT_MAX_FIGS 32

typedef struct {
    double *values;           /* one per free key */
    double sim[FIT_MAX_FIGS]; /* by sim_reference_figs index */
    double chi2;
    int32_t consistent;
    int32_t iteration;
    char stage[8];
    char status[8];
    char error[FIT_ERROR_LEN];
} fit_point;

typedef struct {
    char figure[32];
    char role[16];
    double published, uncertainty, best, residual, z, consistent_min, consistent_max;
} fit_figure_rec;

typedef struct {
    char key[96];
    double lo, hi;
    int32_t log, integer;
    double best, consistent_min, consistent_max;
    int64_t n_consistent;
} fit_free_rec;

typedef struct {
    char *orionsim_version, *created, *scenario_path, *scenario_hash;
    char **sets, **keys, **free_args, **hold_out;
    size_t n_sets, n_keys, n_free_args, n_hold;
    uint64_t seed;
    int complete;
    int64_t best_row;
} fit_meta;

typedef struct {
    fit_meta meta;
    fit_point *pts;
    size_t n_pts;
    fit_figure_rec *figs;
    size_t n_figs;
    fit_free_rec *free;
    size_t n_free;
} fit_data;

/* 1 if path is an HDF5 file with the fit_schema_version attribute. */
int fit_file_probe(const char *path);

/* Write the whole file (to PATH.tmp, then renamed over PATH). 0, or -1 with err. */
int fit_file_write(const char *path, const fit_data *d, char *err, size_t errlen);

/* Read a fit file. 0, or -1 with err. Free with fit_data_free. */
int fit_file_read(const char *path, fit_data *d, char *err, size_t errlen);
void fit_data_free(fit_data *d);

#endif
