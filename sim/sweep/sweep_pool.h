/* sim/sweep/sweep_pool.h: running independent jobs in worker processes.
 *
 * Each job runs in its own forked process (at most `workers` at a time), which computes
 * a fixed-size result and writes it to a pipe before it _exits; the parent collects
 * results with poll() and hands each to a callback as it arrives. A worker that dies
 * (signal, exit without a full result) gives its job a failure with the reason, and the
 * other jobs go on. Processes isolate jobs completely: a crash, a leak or global state
 * in one run cannot touch another, and a job's result depends only on the job.
 *
 * Jobs start in the order given; results arrive in completion order. When *stop becomes
 * nonzero (SIGINT) no new job starts; running workers are sent SIGINT once and waited
 * for (they see the same stop flag, inherited with the handler, and end at their next
 * safe point).
 */
#ifndef SIM_SWEEP_POOL_H
#define SIM_SWEEP_POOL_H

#include <stddef.h>

/* In the worker: compute job `job` into `result` (result_size bytes, zeroed). */
typedef void (*sweep_job_fn)(size_t job, void *ctx, void *result);
/* In the parent: job `job` ended. ok = 1 with its result, or ok = 0 with `why`. */
typedef void (*sweep_done_fn)(size_t job, int ok, const void *result, const char *why, void *ctx);

/* Run jobs[0..n) on up to `workers` processes. 0, or -1 with err when a process could
 * not be started (the jobs already running are waited for first). */
int sweep_pool_run(const size_t *jobs, size_t n, int workers, size_t result_size, sweep_job_fn run,
                   sweep_done_fn done, void *ctx, volatile int *stop, char *err, size_t errlen);

#endif
