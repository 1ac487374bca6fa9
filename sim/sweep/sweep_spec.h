/* sim/sweep/sweep_spec.h: the axes of a sweep (`--vary KEY=VALUES`) and the grid they span.
 *
 * KEY is a scenario key in the `--set` path syntax (training.H, compression.ratio,
 * swarm.device_mix[1].fraction). VALUES is one of
 *   a list    1,10,100   none,resbm   [4,6,6,4],[5,5,5,5]   (commas inside [], {}, ()
 *             or quotes do not split; every value is used verbatim in `--set KEY=VALUE`)
 *   a range   1:5        integers from 1 to 5 inclusive (step 1)
 *             0.1:1.0:0.3  start:stop:step, step > 0, stop included when reached (to
 *             1e-9 of a step); generated values are rounded to 12 significant digits
 *             so that 0.1 + 2 × 0.3 is written 0.7, not 0.7000000000000001.
 * A value is numeric when the whole text is a finite number (strtod); a column of a
 * sweep table is numeric when all its values are.
 *
 * The grid is every combination, in row-major order: the first --vary is the slowest
 * axis, the last the fastest (like nested loops in the order given). A point's identity
 * is its values: numeric values compare as numbers, others as text.
 *
 * Parsing checks syntax only, plus what the schema says about the key (known key, not a
 * group, values of the key's type where that is decidable from the text: integers for
 * integer keys, numbers for float keys, true/false for booleans, a listed choice for
 * enums). Ranges of values are left to the scenario loader, so a value out of range
 * fails its point, not the sweep.
 */
#ifndef SIM_SWEEP_SPEC_H
#define SIM_SWEEP_SPEC_H

#include <stddef.h>

typedef struct {
    char *text;  /* as it goes into --set */
    int numeric; /* the text is a finite number */
    double num;  /* its value when numeric, else NaN */
} sweep_value;

typedef struct {
    char *key;           /* e.g. "training.H" */
    char *spec;          /* the --vary argument, verbatim */
    sweep_value *values; /* n >= 1, no duplicates */
    size_t n;
    int numeric; /* every value is numeric */
} sweep_axis;

/* Largest grid accepted. */
#define SWEEP_MAX_POINTS 1000000

/* Parse one --vary argument. 0, or -1 with err naming the argument ("--vary X: ..."). */
int sweep_axis_parse(const char *arg, sweep_axis *out, char *err, size_t errlen);
void sweep_axis_free(sweep_axis *a);

/* Check a set of axes together: no key twice, and no key also given with --set
 * (sets: "key=value" strings). 0, or -1 with err. */
int sweep_axes_check(const sweep_axis *ax, size_t n_ax, const char *const *sets, size_t n_sets,
                     char *err, size_t errlen);

/* Number of points (product of the axes' sizes). 0, or -1 with err when it exceeds
 * SWEEP_MAX_POINTS. */
int sweep_grid_size(const sweep_axis *ax, size_t n_ax, size_t *points, char *err, size_t errlen);

/* Value indices of grid point `index` (one per axis; first axis slowest). */
void sweep_grid_point(const sweep_axis *ax, size_t n_ax, size_t index, size_t *vidx);

/* `--shard I/N`: the share of the grid one process runs, the points g with g mod N = I
 * (round robin, so every shard gets a like mix of cheap and expensive points).
 * 0 <= I < N <= SWEEP_MAX_POINTS, both written as plain decimal integers. 0, or -1 with
 * err naming the argument and the rule it breaks. */
int sweep_shard_parse(const char *arg, int *index, int *count, char *err, size_t errlen);

/* 1 if two values are the same parameter value (numbers by value, else text). */
int sweep_value_eq(const sweep_value *a, const sweep_value *b);

/* Fill a value from text (numeric detection included). The text is copied. */
void sweep_value_set(sweep_value *v, const char *text);

#endif
