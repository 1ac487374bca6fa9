/* sim/run/run_resume.h: checkpoints and resume of live runs, as sim_run_scenario does them.
 *
 * The scenario's identity, what a checkpoint must match to be resumed: the text of every
 * file the scenario was read from, in order (not their paths, so that a run resumed from
 * another directory matches), followed by the --set overrides, output.* excepted (where the trace and checkpoints go, how often, does not
 * change the run). The checkpoint itself, and the replay that resumes it, are live
 * mode's (sim/live/live_ckpt.h).
 *
 * Order matters for "nothing overwritten": run_resume_prepare reads and checks the
 * checkpoint before the trace is created; run_resume_attach wraps live mode's hooks once
 * it is open; run_resume_finish checks that a resumed run reached its checkpoint.
 */
#ifndef SIM_RUN_RESUME_H
#define SIM_RUN_RESUME_H

#include <stddef.h>

#include "sim/live/live_ckpt.h"
#include "sim/run/run.h"
#include "sim/scenario/scenario.h"
#include "sim/swarm/swarm.h"

typedef struct {
    char *identity;
    live_ckpt_file *resume; /* until attached */
    int resuming, attached;
    live_task_row *times; /* --replay-times: the recorded task log (sim/run/run_replay.h) */
    size_t n_times;
} run_resume;

/* The identity text (caller frees). */
char *run_scenario_identity(const sim_scenario *sc);

/* With o->resume_path: refuse a modeled scenario, a trace or checkpoint path that is
 * the checkpoint itself, and a checkpoint that does not fit (live_ckpt_load). With
 * o->replay_times_path: refuse it together with a resume, as the trace path (it would
 * be overwritten), and a recording that does not fit (run_replay_load). 0, or
 * EXIT_INPUT with err filled. */
int run_resume_prepare(const sim_scenario *sc, const sim_run_opts *o, const swarm_config *cfg,
                       run_resume *rr, char *err, size_t errlen);
/* After live_open: checkpoints every output.checkpoint_every cycles and on
 * o->checkpoint_flag to o->checkpoint_path (when set), and the replay when resuming. */
int run_resume_attach(const sim_scenario *sc, const sim_run_opts *o, run_resume *rr,
                      swarm_live_ops *ops, char *err, size_t errlen);
/* After the run (rc its status): EXIT_RUN when a resumed run ended before its checkpoint;
 * EXIT_INPUT when a replay of recorded durations diverged from the recording, ran out of
 * records, or ended before using them all (err filled); fills o->checkpoint_info when
 * set. */
int run_resume_finish(const sim_run_opts *o, run_resume *rr, const swarm_live_ops *ops, int rc,
                      char *err, size_t errlen);
void run_resume_free(run_resume *rr);

#endif
