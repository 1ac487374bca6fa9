/* sim/sweep/sweep_merge.h: joining the shard files of a sweep (`orionsim sweep-merge`).
 *
 * The shard files of one sweep (orionsim sweep --shard I/N, sim/sweep/sweep.h) become the
 * file one process would have written: the grid's rows in grid order, the rows a shard
 * kept from an earlier grid (resume) after them in shard order, the ResBM loss gaps
 * computed across the whole grid, the same root attributes (created: now), no shard
 * attributes.
 *
 * Bad input (EXIT_INPUT, err names the file and the reason; nothing is written): a file
 * that is not a readable sweep file or not a shard file; shards of different sweeps
 * (other --vary arguments, --set arguments or scenario files, another number of shards
 * or grid size); a shard given twice or missing; a shard whose rows are not its share of
 * the grid; an output that is one of the shards, or an existing file that is not a
 * merge of the same sweep (unless force). The output is written to a temporary file and
 * renamed over OUT, so it is whole or untouched.
 *
 * Then EXIT_OK when every grid point is finished (ok or stopped); EXIT_RUN when some are
 * failed or pending (the file is written all the same, err says how many: run those
 * shards again and merge again) or the file cannot be written.
 */
#ifndef SIM_SWEEP_MERGE_H
#define SIM_SWEEP_MERGE_H

#include <stddef.h>

typedef struct {
    size_t shards;  /* files merged */
    size_t points;  /* grid points */
    size_t rows;    /* rows written (grid points and rows kept from earlier grids) */
    size_t failed;  /* grid points failed */
    size_t pending; /* grid points pending */
} sweep_merge_stats;

int sweep_merge(const char *out, const char *const *shards, size_t n, int force,
                sweep_merge_stats *st, char *err, size_t errlen);

#endif
