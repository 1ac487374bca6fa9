/* sim/run/run.h: one run of a loaded scenario, as `orionsim run` and sweep workers do it.
 *
 * sim_run_scenario turns the scenario into the swarm's configuration (with a kernel
 * profile's efficiencies when one is named), writes the trace when asked (scenario text,
 * overrides, published reference figures, events window), runs the swarm, then, when
 * asked and the scenario's metrics.colocated_baseline is on, the co-located baseline:
 * the same engine with an ideal network (zero latency, infinite bandwidth) and no
 * faults for 2 cycles (its MFU is steady from the first cycle on); speed_vs_colocated is
 * mfu_overall / that MFU. Without the baseline both figures are NaN. wall_time_s covers
 * both runs. The trace is closed complete only when the run ended normally and
 * stop_flag was not raised. Live runs write checkpoints and resume from one as
 * sim/run/run_resume.h says; a bad checkpoint is refused before the trace is created.
 * Live runs with measured timing record their task log in the trace (/tasks) and can
 * replay another run's (replay_times_path: sim/run/run_replay.h), refused as bad input
 * before the trace is created too.
 */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stddef.h>

#include "sim/live/live_ckpt.h"
#include "sim/metrics/summary.h"
#include "sim/scenario/scenario.h"

typedef struct {
    const char *scenario_path; /* the trace's scenario_path attribute */
    const char *profile;       /* kernel profile overriding compute.kernel_profile, or NULL */
    const char *trace_path;    /* NULL: no trace */
    int colocated;             /* run the co-located baseline (if the scenario asks for it) */
    int progress;              /* progress bar on stderr */
    volatile int *stop_flag;   /* polled (SIGINT); may be NULL */
    /* live runs (sim/run/run_resume.h): */
    const char *checkpoint_path;     /* NULL: no checkpoints */
    volatile int *checkpoint_flag;   /* raised: checkpoint at the next cycle end, then stop
                                      (raises stop_flag); may be NULL */
    const char *resume_path;         /* continue from this checkpoint; NULL: from the start */
    live_ckpt_info *checkpoint_info; /* filled after the run when not NULL */
    const char *replay_times_path;   /* replay the durations of this trace's task log
                                        (sim/run/run_replay.h); NULL: measure */
} sim_run_opts;

/* Returns EXIT_OK (also when stopped by stop_flag: the summary says complete = 0),
 * EXIT_INPUT (live mode unavailable, bad kernel profile) or EXIT_RUN (the run or the
 * trace failed), with err filled. `sum` is filled in every case. */
int sim_run_scenario(const sim_scenario *sc, const sim_run_opts *o, sim_summary *sum, char *err,
                     size_t errlen);

#endif
