/* sim/report/perfetto.h: a trace's events as Chrome trace-event JSON (ui.perfetto.dev,
 * chrome://tracing).
 *
 * Format: {"displayTimeUnit":"ms","otherData":{...},"traceEvents":[ ... ]} with
 *   - metadata events ("ph":"M"): process_name "stage S" per stage (pid = S), and
 *     thread_name "peer P (stage S, replica R)" per peer (tid = P);
 *   - one complete event ("ph":"X") per /events row, in table order, one per line:
 *     name = the event kind (forward, recompute_backward, upload_pseudograd, ...),
 *     cat = compute | network | sync | state, pid = stage (0 when the row has none),
 *     tid = peer, ts and dur in microseconds of simulated time (exact: ns / 1000 with
 *     three decimals), args = microbatch, bytes, flops, other, cycle, inner_step.
 * A row whose end precedes its start gets dur 0 and is counted in *bad_rows; so is a row
 * whose peer is not in /peers or whose stage is no stage of /peers (not written). With
 * cycles > 0 only the rows of the first `cycles` cycles are written (full traces of long
 * runs hold millions of events; the Perfetto UI is happiest below a few hundred MB).
 */
#ifndef SIM_PERFETTO_H
#define SIM_PERFETTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Write the JSON of trace `path` to out (cycles <= 0: every row). 0, or -1 with err.
 * *events and *bad_rows (may be NULL) get the number of events written and of rows with
 * a negative duration. */
int perfetto_write(const char *path, int32_t cycles, FILE *out, uint64_t *events,
                   uint64_t *bad_rows, char *err, size_t errlen);

#endif
