/* sim/sweep/sweep.h: `orionsim sweep`: run a scenario over a grid of parameter values.
 *
 * sweep_run parses the --vary axes (sim/sweep/sweep_spec.h), loads the scenario once with the
 * --set overrides (a scenario that does not load is bad input), builds the grid, and
 * writes the sweep file (sim/sweep/sweep_file.h) with one row per point before anything runs:
 * rows of points already finished in an existing file are kept (resume), the others
 * say "pending". Pending points then run in worker processes (sim/sweep/sweep_pool.h): each
 * loads the scenario with the --set overrides plus KEY=VALUE of the point and runs it
 * (sim/run/run.h; no co-located baseline unless `colocated`), optionally writing its trace
 * to traces_dir; each row is written as soon as its point ends.
 *
 * Resume: a point is identified by its parameter values (numbers by value). An existing
 * file must come from the same scenario files (hash of their text), the same --set
 * arguments and the same --vary keys in the same order; its values may differ: points
 * of the new grid already finished are kept, the missing ones run, and finished rows
 * outside the new grid stay at the end of the table. Failed and pending rows run again.
 * With `force` an existing file is replaced instead.
 *
 * A point that fails (bad value for this point, run failure, worker crash) is recorded as
 * failed with its error and the others go on. A point that reaches the scenario's
 * training.max_sim_hours before its target (a collapsed pipeline, say) is "stopped": its
 * figures cover the part that ran, error says why, and it counts as finished. A point's result depends only on its
 * parameters (same scenario seed), never on the number of workers or their order.
 *
 * Shards (`--shard I/N`): the process runs the points g of the grid (row-major index)
 * with g mod N = I and writes them, in grid order, to its own file, a sweep file with
 * the root attributes shard_index, shard_count and grid_points; resume and failures work
 * as above, and a shard file resumes only as the same shard. sweep_merge
 * (sim/sweep/sweep_merge.h) joins the N files into the file one process would write.
 *
 * MPI (`--mpi`, under mpirun): every rank sets the sweep up; rank 0 resumes and writes
 * the file and hands the points to be run to ranks 1..N-1 one at a time as they become
 * idle (sim/sweep/sweep_mpi.h); each runs its point in a forked worker, so a point that
 * fails or crashes is recorded as failed and its rank goes on. The rows are the same as
 * without MPI. `jobs` is not used. Every rank returns the same exit code.
 */
#ifndef SIM_SWEEP_H
#define SIM_SWEEP_H

#include <stddef.h>

#include "sim/sweep/sweep_file.h"

typedef struct {
    const char *scenario;    /* scenario file */
    const char *const *vary; /* --vary arguments */
    size_t n_vary;
    const char *const *sets; /* --set arguments */
    size_t n_sets;
    const char *output;      /* the sweep file */
    const char *traces_dir;  /* NULL: no per-point traces */
    int jobs;                /* worker processes, >= 1 */
    int colocated;           /* also run each point's co-located baseline */
    int force;               /* replace an existing file that does not match */
    int progress;            /* progress on stderr */
    volatile int *stop_flag; /* SIGINT; may be NULL */
    int shard_index;         /* --shard I/N: only the points g with g mod N = I ... */
    int shard_count;         /* ... (0: the whole grid); see "Shards" above */
    int mpi;                 /* --mpi: the ranks of an MPI job share the points (sweep_mpi.h) */
} sweep_opts;

typedef struct {
    size_t points;  /* grid points */
    size_t kept;    /* finished points taken from the existing file */
    size_t ran;     /* points run now (finished, ok or failed) */
    size_t failed;  /* of those, failed */
    size_t stopped; /* of those, stopped at the max_sim limit (not failures) */
    size_t pending; /* grid points left pending (interrupted) */
    double wall_s;  /* wall time of the whole sweep */
    int rank;       /* MPI rank (0 without --mpi): only rank 0 writes the file and reports */
} sweep_stats;

/* EXIT_OK when every grid point is finished (ok or stopped); EXIT_RUN when some failed or the
 * sweep was interrupted (err says which); EXIT_INPUT for bad arguments, scenario or an
 * existing file that does not match (err names it). */
int sweep_run(const sweep_opts *o, sweep_stats *st, char *err, size_t errlen);

/* SPEC §5 "ResBM loss" across a grid: each finished point's resbm_loss_gap = its final
 * train loss minus that of its uncompressed baseline, the point with the same values of
 * every other key and compression.method = "none" (where the method is among `keys`) and
 * compression.ratio = 1 (where the ratio is). NaN where there is no such point or no
 * loss (modeled runs). Nothing changes when neither key is swept. changed[i] (n bytes)
 * says which rows got a new value; returns how many. sweep_run applies it to every sweep. */
size_t sweep_loss_gaps(sweep_point *pts, size_t n, char *const *keys, size_t n_keys,
                       unsigned char *changed);

/* The trace file name of a point: DIR/<scenario name>_<key>=<value>_....h5, characters
 * other than letters, digits and ._-+= replaced by '-'. Caller frees. */
char *sweep_trace_name(const char *dir, const char *scenario_name, char *const *keys,
                       char *const *values, size_t n);

#endif
