/* sim/live/live_ckpt.h: checkpoints of live runs, and the replay that resumes one bit for bit.
 *
 * When. A checkpoint is taken at the end of a cycle only (after the outer step and the
 * validation of the merged model): then no microbatch is in flight, every activation
 * cache is empty and the phase machine is at its boundary, so the live state is small
 * and well defined. Every `every` cycles, and at the first cycle end after `request`
 * was raised (SIGINT/SIGTERM), after which live mode raises `stop` and the engine stops
 * there (sim/swarm/swarm.c polls it at every cycle end).
 *
 * What. Every peer's stage (fp32 master weights, gradient accumulator, inner-optimizer
 * moments m and v, the optimizer's step count and NAdam product, its accumulation
 * list and partial losses), each stage's global weights and outer momentum and merge
 * count, live mode's statistics (counts, the loss window behind loss_final, the
 * validation figures, the measured-time scales), every loss and boundary row written
 * so far, the data cursor (the next microbatch id: the data order is a pure function of
 * (seed, microbatch id), sim/live/live_data.h), a fingerprint of the token data, and
 * the task log: (t_start, peer, kind, microbatch, duration) of every compute task the
 * engine asked for, in order. The layout is documented in results/README.md.
 *
 * How a run resumes. The engine's own state (the event queue with its callbacks, the
 * flows, the fault processes and the routing RNGs, the microbatch records) is not
 * serialised: the engine is re-run from the start of the scenario, with live mode in
 * replay, where every compute hook returns the logged duration without running a
 * kernel (and checks that the engine asks for the same task: peer, kind, microbatch,
 * start time) and the other hooks do nothing. Since the engine is deterministic given
 * the durations (same scenario, same seed, same binary), it reaches the checkpointed
 * cycle end in the same state, its RNGs included; there live mode loads the tensors and
 * statistics of the checkpoint, hands the stored loss rows to the sink, and continues
 * with the real kernels. The trace of the resumed run is thus the uninterrupted run's,
 * row for row. With compute.live_time = "modeled" the continuation is also the same as
 * the uninterrupted run's, bit for bit; with "measured" the replay is exact up to the
 * checkpoint and what follows is measured anew (as any measured run, it depends on the
 * machine's timing), with the checkpoint's time scales.
 *
 * Replay of recorded durations (live_ckpt_config.times; `orionsim run --replay-times
 * TRACE`). The same check as the resume's replay, with the kernels running: every
 * compute task runs for real, the engine must ask for the task the record names (peer,
 * kind, microbatch, start time), and the hook answers the recorded duration instead of
 * the measured one. So the engine's clock, hence the event order, the routing and every
 * drop and timeout, are those of the recorded run, and the losses are its losses
 * wherever the kernels are deterministic (the CPU backend with the same thread count:
 * bit for bit). A task the records do not match, or more tasks than recorded: the run
 * stops with the trace and the task index (info.replay_failed; `run` exits 2).
 *
 * Under the measured rule every task of the log also goes to the sink (live_sink.task),
 * in order (after a resume: the checkpoint's first), so a measured run's trace holds its
 * task log (its /tasks table), which is what a replay reads.
 *
 * Refused (EXIT_INPUT, with the reason): a file that is not a checkpoint, truncated or
 * unreadable; another checkpoint schema version; another scenario (the scenario text
 * and --set overrides, output.* excepted, are stored and compared: the first differing
 * line is named); other token data; other shapes (peers, stages, parameter counts).
 */
#ifndef SIM_LIVE_CKPT_H
#define SIM_LIVE_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/live/live.h"
#include "sim/swarm/swarm.h"

#define LIVE_CKPT_SCHEMA_VERSION 1
#define LIVE_CKPT_KIND "orionsim live checkpoint"

typedef struct {
    const char *path;      /* where checkpoints go (NULL: none); written to PATH.tmp, renamed */
    int every;             /* cycles between checkpoints (0: only on request) */
    const char *identity;  /* the scenario as run: text and overrides (see above) */
    const char *version;   /* orionsim version, stored for the reader */
    volatile int *request; /* may be NULL: raised, checkpoint at the next cycle end... */
    volatile int *stop;    /* ...then raise this (the engine's stop flag); may be NULL */
    const live_task_row *times; /* replay these recorded durations (NULL: none); copied */
    size_t n_times;
    const char *times_source; /* where they come from (a trace path), for messages */
} live_ckpt_config;

/* A checkpoint read into memory (host copies of every tensor). */
typedef struct live_ckpt_file live_ckpt_file;

/* Read and check a checkpoint against the run about to start (identity, data, peers and
 * stages). 0, or EXIT_INPUT with the reason in err (nothing else happens). */
int live_ckpt_load(const char *path, const char *identity, const live_config *lc,
                   const swarm_config *cfg, live_ckpt_file **out, char *err, size_t errlen);
void live_ckpt_file_free(live_ckpt_file *f);
/* 1 when path is an orionsim live checkpoint (any schema version), else 0. */
int live_ckpt_probe(const char *path);
/* The cycle (0-based) at whose end the checkpoint was taken. */
int live_ckpt_file_cycle(const live_ckpt_file *f);

/* After live_open, before the swarm runs: wrap the hooks of `ops` to log tasks and write
 * checkpoints as `cc` says, and, when `resume` is not NULL (taken over: freed by
 * live_close), replay up to its cycle end and continue from there. 0, or EXIT_INPUT
 * (shapes differ) with err filled. */
int live_ckpt_attach(swarm_live_ops *ops, const live_ckpt_config *cc, live_ckpt_file *resume,
                     char *err, size_t errlen);

typedef struct {
    int written;        /* checkpoints written */
    int last_cycle;     /* cycle of the last one (-1: none) */
    int stopped;        /* the run stopped after a requested checkpoint */
    int resumed_cycle;  /* cycle the run resumed after (-1: not resumed) */
    int replay_pending; /* resuming, and the checkpointed cycle end was not reached */
    int64_t tasks_replayed;
    /* replay of recorded durations: */
    int64_t times_used, times_recorded; /* records the run consumed, records given */
    int replay_failed; /* the engine asked for a task the records do not match, or more */
} live_ckpt_info;
void live_ckpt_get_info(const swarm_live_ops *ops, live_ckpt_info *info);

#endif
