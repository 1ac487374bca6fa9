/* sim/run/run_replay.h: `run --replay-times TRACE`: the task log of a measured live run,
 * read back to be replayed (sim/live/live_ckpt.h, "Replay of recorded durations").
 *
 * A live run with compute.live_time = "measured" records every compute task (peer, kind,
 * microbatch, start time, duration) in its trace's /tasks table, with the scenario as
 * run (run_scenario_identity) as the table's attribute scenario_identity. run_replay_load
 * reads it for a run about to start and refuses, with EXIT_INPUT and the reason naming
 * the trace: a scenario that is not live with measured timing; a file that is not a
 * trace; a modeled run's trace (root attribute mode = "modeled"); a trace without the
 * table (a live run with live_time = "modeled"); another scenario or other --set
 * overrides (output.* aside; the first differing line is named); a record out of range
 * (peer outside the scenario's peers, an unknown kind, a microbatch below -1, a start
 * time below 0, a duration that is not finite or outside [0, SIM_MAX_TASK_S]); an empty
 * log.
 */
#ifndef SIM_RUN_REPLAY_H
#define SIM_RUN_REPLAY_H

#include <stddef.h>

#include "sim/live/live.h"
#include "sim/scenario/scenario.h"
#include "sim/swarm/swarm.h"

/* The records of path's /tasks into *out (malloc'd, *n rows). 0, or EXIT_INPUT with err. */
int run_replay_load(const char *path, const sim_scenario *sc, const char *identity,
                    const swarm_config *cfg, live_task_row **out, size_t *n, char *err,
                    size_t errlen);

#endif
