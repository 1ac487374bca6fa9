/* sim/fit/fit.h: `orionsim fit`: the values of unpublished scenario keys that best match the
 * published figures of the scenario's `reference` group.
 *
 * Inputs. The scenario's reference group gives each published figure and, in
 * reference.uncertainty, its uncertainty u as a fraction of the figure (derived from
 * the publication's own inconsistencies; see scenarios/orion-100b.cfg). Every figure
 * with an uncertainty and a simulated counterpart (sim/fit/fit_compare.h: the same
 * definitions `report` uses) is fitted, except those named by --hold-out, which are
 * predicted at the best point and never enter the objective. Each --free KEY=LO:HI[:log]
 * names a numeric scenario key and its range (log: sampled uniformly in log space; an
 * integer key is rounded; a boolean key takes 0:1, false below 0.5); several keys joined
 * by commas share one value.
 *
 * Objective. chi2 = sum over fitted figures of z^2, z = (simulated - published) /
 * (u x |published|). A point is consistent when |z| <= 1 for every fitted figure.
 *
 * Search, deterministic for a seed (and independent of -j: each batch of points is
 * evaluated in full before the search looks at it):
 *   1. design: a scrambled Latin hypercube of N points in the unit cube of the free keys
 *      (one random permutation per key and a random offset inside each cell, drawn from
 *      netmodel's RNG, stream "fit"), N = 10 x keys (at least 8) unless --design;
 *   2. refinement: a compass (pattern) search from each of the --starts S best design
 *      points that lie at least two cells (2 x the first step, max-norm) from every
 *      better start (default S = 1: the best design point alone): the 2 x keys points at
 *      +-step along each key, the polls of all starts evaluated together as one batch;
 *      each start moves to its best poll if it improves its chi2, else halves its step;
 *      from step 1/(2 N^(1/keys)) down to 1/256 of the range, or until --max-evals points
 *      have been evaluated (default design + 20 x keys x S). The search is local around
 *      each start; more starts guard against a basin the best design point misses.
 * A point is identified by the text of its values (%.6g; integers exactly); two points
 * with the same text are one evaluation.
 *
 * Evaluation: each point runs the scenario with the --set overrides plus KEY=VALUE per
 * free key in a worker process (sim/sweep/sweep_pool.h), with the co-located baseline,
 * writing a small trace (no events) to a temporary file that is read back for the
 * like-for-like figures and removed.
 *
 * Output and resume: FIT.h5 (layout in sim/fit/fit_file.h) is rewritten after every
 * finished point, so a killed fit leaves a readable file; running the same command
 * again reuses every finished point of a file made from the same scenario text, --set
 * arguments and free keys (ranges, seed and budgets may differ) and runs only what is
 * missing.
 */
#ifndef SIM_FIT_H
#define SIM_FIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *scenario;
    const char *const *sets; /* --set arguments */
    size_t n_sets;
    const char *const *free_args; /* --free arguments */
    size_t n_free;
    const char *const *hold_out; /* --hold-out names (reference keys) */
    size_t n_hold;
    const char *output;
    int jobs;
    uint64_t seed;
    int design;    /* design points; 0: 10 x keys, at least 8 */
    int max_evals; /* 0: design + 20 x keys x starts */
    int starts;    /* refinement starts; 0: 1 */
    int force;     /* replace an output that comes from another fit */
    int progress;
    volatile int *stop_flag;
} fit_opts;

typedef struct {
    size_t evaluated; /* points in the file */
    size_t ran;       /* run now */
    size_t consistent;
    double best_chi2;
    size_t starts; /* refinement starts used (fewer than asked when the design has fewer
                      separated finite points) */
    double wall_s;
} fit_stats;

/* Evaluate n points x (n x d, unit cube) as one batch: chi2[i] of each (INFINITY for a
 * point that failed). stage is "design" or "refine", iter the refinement step. 0, or an
 * exit code with err. */
typedef int (*fit_eval_fn)(void *ctx, const char *stage, int iter, const double *x, size_t n,
                           double *chi2, char *err, size_t errlen);
/* The search of step 1 and 2 above over d free keys; sets st->best_chi2 and st->starts. */
int fit_search(const fit_opts *o, size_t d, fit_eval_fn eval, void *ctx, fit_stats *st, char *err,
               size_t errlen);

/* EXIT_OK; EXIT_INPUT for bad arguments or scenario (err names the key, and file:line
 * where there is one); EXIT_RUN when interrupted or the file cannot be written. */
int fit_run(const fit_opts *o, fit_stats *st, char *err, size_t errlen);

/* ---- pieces, exposed for tests -------------------------------------------------------- */

typedef struct {
    char *key;   /* as given: one key, or several joined by commas (one value for all) */
    char **keys; /* the keys */
    size_t n_keys;
    double lo, hi;
    int log;     /* sample in log space */
    int integer; /* an integer key: values rounded */
    int boolean; /* a boolean key: range 0:1, x < 0.5 false, else true */
} fit_free;

/* Parse "KEY[,KEY...]=LO:HI[:log]" and check each KEY against the scenario schema (a
 * numeric key; tied keys all integer or all float). Tied keys take the same value at
 * every point (compute.efficiency.forward,compute.efficiency.backward=0.3:0.9). 0, or -1
 * with err naming the key. */
int fit_free_parse(const char *arg, fit_free *out, char *err, size_t errlen);
void fit_free_clear(fit_free *f);

/* The value of unit coordinate x in [0, 1] and its text (buf of 32 bytes). */
double fit_free_value(const fit_free *f, double x, char *text, size_t n);

/* n points of a scrambled Latin hypercube in [0,1)^d, row-major into x (n x d). */
void fit_design_lhs(size_t n, size_t d, uint64_t seed, double *x);

#endif
