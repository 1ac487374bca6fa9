/* sim/sweep/sweep_file.h: the HDF5 file of a sweep: one summary row per grid point.
 *
 * Layout (schema in results/README.md, "Sweep files"):
 *   /          attributes sweep_schema_version (= SWEEP_SCHEMA_VERSION), orionsim_version,
 *              created, scenario_path, scenario_name, scenario (the scenario file text,
 *              verbatim), scenario_hash (FNV-1a 64 of every source file read, hex), vary
 *              (the --vary arguments), vary_keys (their keys), sets (the --set
 *              arguments), points (rows), complete (1 when no row is pending); a shard
 *              file also shard_index, shard_count and grid_points (sweep_meta)
 *   /points    1-D compound table, one row per point: the varied keys as columns (named
 *              by the key; float64 when every value is a number, else a fixed string),
 *              then status ("ok", "stopped", "failed", "pending"; fixed string), error
 *              (fixed string: why it failed or stopped; for an "ok" row a
 *              "notice: ..." when the loader adjusted a value of the point, e.g.
 *              training.min_local_steps clamped to training.H; else ""), then every field
 *              of sim_summary (sim/metrics/summary.h) under its own name. Attributes units
 *              and definitions.
 * A pending or failed row holds NaN in its float summary fields and 0 in its integers.
 *
 * Writing: sweep_file_create writes every row at once (contiguous dataset, packed
 * records: numeric parameters, string parameters padded to a multiple of 8 bytes,
 * status, error, then the summary), and sweep_file_put rewrites one row in place and
 * flushes, so a sweep that is killed leaves a readable file whose unfinished rows say
 * "pending".
 *
 * Reading: sweep_file_read takes whatever summary fields the file has (a field missing
 * from an older file reads as NaN / 0), so files stay readable as the summary grows.
 */
#ifndef SIM_SWEEP_FILE_H
#define SIM_SWEEP_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/metrics/summary.h"
#include "sim/sweep/sweep_spec.h"

#define SWEEP_SCHEMA_VERSION 1
#define SWEEP_STATUS_LEN 8
#define SWEEP_ERROR_LEN 256

typedef struct {
    char *orionsim_version, *created;
    char *scenario_path, *scenario_name, *scenario_text, *scenario_hash;
    char **vary; /* the --vary arguments */
    char **keys; /* their keys (the parameter columns), n_keys of both */
    size_t n_keys;
    char **sets; /* the --set arguments */
    size_t n_sets;
    /* A shard file (`orionsim sweep --shard I/N`) holds the points g of the grid with
     * g mod N = I: shard_index I, shard_count N, grid_points the size of the whole grid
     * (root attributes of the same names). shard_count 0: a whole sweep, no attributes. */
    int shard_index, shard_count;
    int64_t grid_points;
} sweep_meta;

typedef struct {
    sweep_value *params;           /* one per key */
    char status[SWEEP_STATUS_LEN]; /* "ok", "stopped", "failed", "pending" */
    char error[SWEEP_ERROR_LEN];
    sim_summary sum;
} sweep_point;

/* A pending point: status "pending", NaN figures. params are left as they are. */
void sweep_point_pending(sweep_point *p);
void sweep_point_fail(sweep_point *p, const char *msg);
/* 1 for a row that holds a finished run: "ok", or "stopped" at the max_sim limit (its
 * figures cover the part that ran). */
int sweep_point_done(const sweep_point *p);

void sweep_meta_free(sweep_meta *m);
void sweep_points_free(sweep_point *p, size_t n, size_t n_keys);

/* 1 if path is an HDF5 file with the sweep_schema_version attribute, else 0. */
int sweep_file_probe(const char *path);

/* Read a sweep file. 0, or -1 with err (no path in it). */
int sweep_file_read(const char *path, sweep_meta *meta, sweep_point **pts, size_t *n, char *err,
                    size_t errlen);
/* The same for a sweep file image in memory (the fuzz target). */
int sweep_file_read_image(const void *buf, size_t len, sweep_meta *meta, sweep_point **pts,
                          size_t *n, char *err, size_t errlen);

typedef struct sweep_writer sweep_writer;

/* Create (truncate) path with these rows. NULL with err on failure (nothing is left open). */
sweep_writer *sweep_file_create(const char *path, const sweep_meta *meta, const sweep_point *pts,
                                size_t n, char *err, size_t errlen);
/* Rewrite row `row` and flush the file. */
int sweep_file_put(sweep_writer *w, size_t row, const sweep_point *p, char *err, size_t errlen);
/* Write the root attribute complete and close. w may be NULL. Returns 0 or -1 (freed anyway). */
int sweep_file_close(sweep_writer *w, int complete, char *err, size_t errlen);

/* Whether an existing file's metadata allows resuming a sweep with `now`: the same --vary
 * keys in the same order, the same scenario files (hash), the same --set arguments and
 * the same shard (I/N, or none). NULL if so, else why not (written to buf). The --vary
 * values may differ (a resumed sweep may extend its grid). */
const char *sweep_meta_mismatch(const sweep_meta *old, const sweep_meta *now, char *buf, size_t n);

/* FNV-1a 64 of a byte string, continuing from h (start with SWEEP_FNV_INIT). */
#define SWEEP_FNV_INIT 1469598103934665603ull
uint64_t sweep_fnv1a(uint64_t h, const void *data, size_t n);

#endif
