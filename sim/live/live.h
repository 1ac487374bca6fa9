/* sim/live/live.h: live mode -- the swarm's compute tasks run on real tensors (SPEC §4).
 *
 * live_open fills a swarm_live_ops table (sim/swarm/swarm.h); the swarm calls its hooks in
 * causal order and the model really learns:
 *   - every peer holds its own stage (kernels/stage.h): fp32 master weights, gradient
 *     accumulator, Adam moments and its own inner-optimizer state. On CUDA the peers
 *     are spread round-robin over the local GPUs (one backend instance per GPU); on
 *     the CPU they share the one CPU backend.
 *   - tensors travel for real: a forward's output wire buffer (tokens / activation /
 *     int8 + scales, ks_wire) is kept for its microbatch and boundary until the
 *     receiver's forward takes it as its cached input; that input is kept until the
 *     receiver's backward (IOTA recomputes the forward from it) or a drop; a backward's
 *     input gradient is kept until the sender's backward consumes it. Buffers come
 *     from per-device pools; at most 3 per activation-cache slot are alive at once
 *     (input held, output in transit, gradient in transit), so memory is bounded by
 *     the cache capacities (live_stats.buffers_peak <= buffers_bound).
 *   - data: microbatch m of stage 0 is a pure function of (seed, m) (sim/live/live_data.h).
 *
 * Inner optimizer (IOTA, SPEC §3.2): every optimizer task takes the gradients
 * accumulated since the peer's previous step -- exactly the backwards that ran to
 * completion at that peer, each a per-token mean loss -- divides by their count,
 * clips to training.grad_clip (global L2 norm of that mean), and takes one NAdam or
 * AdamW step (training.optimizer; beta1_rule "iota": b1 = beta1 + span·(S-(s+1))/S;
 * linear lr warm-up over warmup_steps). A backward that the swarm aborts (drop of the
 * microbatch that is running at that peer) is undone: the gradient buffer is restored
 * from a copy taken before it, so an aborted microbatch never reaches the optimizer.
 * NaN/Inf guard: every fused step's loss and every inner step's gradient norm are
 * checked; a non-finite one stops the run with an error naming peer, stage, replica,
 * cycle, inner step (and microbatch).
 *
 * Outer step (sync_stage; sim/live/live_merge.h for the arithmetic): per partition that was
 * merged, the submitters' pseudo-gradients (stage global weights - local weights) are
 * averaged in fp32 and the outer optimizer (sync.outer: Nesterov / SGD / average, with
 * IOTA's linear momentum warm-up over the stage's merges) updates the stage's global
 * weights; every receiver takes the merged partitions, and keeps its local values on
 * partitions that were not merged. With sync.publish = "update" a receiver adds the
 * published merged update to its copy of the previous global weights instead of
 * downloading the weights: the same numbers, since live mode averages the
 * pseudo-gradients exactly (sync.dtype and compression_ratio size the transfers only),
 * so the same code serves both (test_live.c, test_live_publish_update). As IOTA does
 * (macrocosm-os/iota,
 * base_neuron.download_and_set_global_weights -> set_model_weights_and_optimizer_state
 * with optimizer_state=None), receivers KEEP their inner optimizer state (moments and
 * step count) and start a fresh gradient accumulation. A peer that went down loses its
 * weights, optimizer state and cache; on rejoin it takes the stage's current global
 * weights and, like a new IOTA miner that downloads the stage's optimizer state
 * uploaded by its productive miners, a copy of the inner-optimizer state of the
 * stage's first live peer (fresh state when there is none).
 *
 * Durations (live_options.time):
 *   modeled   the swarm's FLOP formula: hardware FLOPs / (peak × GPUs × speed ×
 *             efficiency of the task kind); the optimizer step params × bytes per
 *             param / (memory bandwidth × efficiency). Only the losses are real; the
 *             order of events does not depend on the host, so runs are deterministic
 *             (the tests and the ResBM study use this rule).
 *   measured  the wall time of the task's kernels (monotonic clock, device
 *             synchronised) × a scale to the simulated device: with
 *             compute.local_device set, peak(local) / peak(simulated peer) -- the
 *             kernels' own efficiency carries over; otherwise (a CPU, or a GPU not in
 *             the device table) a per-stage factor calibrated once at open =
 *             modeled time / measured time of the stage's compute tasks (and of its
 *             optimizer step), so a CPU run reports timings at the scenario's
 *             efficiencies while the relative costs of task kinds and the
 *             task-to-task variation are measured.
 * What varies under the measured rule, and why: every task's duration is a fresh
 * wall-clock reading, so it moves with cache and memory state, OpenMP scheduling, CPU
 * frequency, GPU clocks and whatever else the host runs (the calibration at open is
 * itself such a reading). A shift of microseconds reorders events that are close in
 * simulated time: which peer's forward ends first, hence the routing draws, full-cache
 * refusals, timeouts and which microbatches reach an optimizer step before the phase
 * ends. So the tokens trained, the event table and the losses differ from run to run
 * (tiny-live.cfg twice: 16,128 vs 16,384 tokens, final loss 4.405 vs 4.381); the kernels
 * and the random streams are deterministic, the clock is not. Nothing else the engine
 * sees comes from the clock: given the same durations, the same scenario and build give
 * the same run.
 * Reproducible modes:
 *   - measured once, replayed: a measured run records every task's duration (its task
 *     log: the trace's /tasks, through live_sink.task; sim/live/live_ckpt.h), and
 *     `orionsim run SCENARIO --replay-times TRACE` runs the kernels for real while the
 *     clock advances by the recorded durations, checking that the engine asks for the
 *     recorded task each time. The replay has the recording's event order and trace;
 *     on the CPU backend (deterministic kernels for a fixed thread count) its losses
 *     equal the recording's bit for bit, and repeated replays are identical
 *     (tests/sim/run/test_replay.c).
 *   - calibrated, then modeled: `orionsim calibrate SCENARIO -o P` times the real kernels
 *     once and records each task kind's efficiency; compute.kernel_profile = P (or
 *     --profile P) with compute.live_time = "modeled" then schedules every task from
 *     those efficiencies (per-task variation is not kept), so repeated runs give
 *     identical traces (the same event order on any machine; the losses as far as its
 *     kernels round alike).
 * Most tests and the ResBM study use the modeled rule (test_replay.c: measured, replayed).
 * The swarm applies the fault processes' speed multipliers on top (the hook reports
 * the nominal-speed duration).
 *
 * Trace rows: one train-loss row per inner step of every last-stage peer (mean of its
 * fused steps' losses in that step); at every cycle end the validation loss of the
 * merged model (global weights of every stage) on the held-out microbatches, and the
 * mean relative reconstruction error of every boundary on them.
 *
 * Checkpoints and resume (at cycle ends; replay of the logged task durations):
 * sim/live/live_ckpt.h, which wraps the hooks live_open installs.
 */
#ifndef SIM_LIVE_H
#define SIM_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/optim.h"
#include "sim/live/live_merge.h"
#include "sim/metrics/summary.h"
#include "sim/swarm/swarm.h"

typedef enum { LIVE_TIME_MEASURED = 0, LIVE_TIME_MODELED } live_time_rule;

/* The inner optimizer of every peer (AdamW or NAdam; IOTA's per-stage beta1 when
 * beta1_iota: beta1 + beta1_span × (S − (s + 1)) / S for stage s). */
typedef struct {
    ko_inner_kind kind;
    double lr, beta1, beta1_span, beta2, weight_decay, eps, momentum_decay;
    int beta1_iota;
    int warmup_steps; /* linear learning-rate warm-up over the first inner steps */
    double grad_clip; /* global-norm clip (0: none) */
} live_inner_opt;

/* The outer step at every sync (momentum ramps from momentum_start over the first
 * momentum_warmup_cycles merges). */
typedef struct {
    live_outer_kind kind;
    double lr, momentum, momentum_start;
    int momentum_warmup_cycles;
} live_outer_opt;

/* Everything live mode needs besides the swarm's configuration; filled from a scenario
 * by sim/run/run_config.c (run_live_config), so live mode knows no scenario file. */
typedef struct {
    live_time_rule time;
    const char *backend;     /* "auto" | "cpu" | "cuda" */
    int gpus;                /* CUDA: device slots to spread peers over, round-robin (0: every
                             GPU found; more slots than GPUs share them in turn) */
    int val_microbatches;    /* validation microbatches at each cycle end (0: none) */
    double val_fraction;     /* held-out share when the data has no separate validation file */
    const char *data;        /* token data; NULL: data/brown_train.bin (tools/fetch-brown.sh) */
    int loss_window;         /* inner steps per last-stage peer averaged into loss_final */
    uint64_t seed;           /* initial weights and data order */
    double local_peak_flops; /* measured rule: this machine's device peak (bf16 FLOP/s) and */
    double local_mem_bw;     /* memory bandwidth, to scale measured times; 0: calibrate */
    live_inner_opt inner;
    live_outer_opt outer;
} live_config;

/* Live mode's rows, written out by a sink (sim/trace/trace_sink.c writes the trace's
 * loss and boundaries tables). Callbacks may be NULL; non-zero stops the run. */
typedef enum { LIVE_LOSS_TRAIN = 0, LIVE_LOSS_VALIDATION = 1 } live_loss_kind;
typedef struct {
    nm_time t;
    int64_t tokens; /* tokens trained when the loss was taken */
    int cycle, inner_step, replica;
    live_loss_kind kind;
    double loss; /* nats per token */
} live_loss_row;
typedef struct {
    nm_time t;
    int cycle, boundary; /* boundary b sits between stage b and b+1 */
    double recon_error;  /* ||x - dec(enc(x))|| / ||x|| */
} live_boundary_row;
/* One compute task as the engine asked for it, and the duration live mode answered (s
 * at nominal speed, before the swarm's speed multipliers): the task log. */
typedef struct {
    int64_t t_start;    /* simulated ns */
    int64_t microbatch; /* -1: optimizer step */
    double duration;    /* s on the nominal simulated device */
    int32_t peer, kind; /* kind: km_task */
} live_task_row;
typedef struct {
    void *ctx;
    int (*loss)(void *ctx, const live_loss_row *r);
    int (*boundary)(void *ctx, const live_boundary_row *r);
    /* measured rule only: every task of the log, in order (sim/live/live_ckpt.h) */
    int (*task)(void *ctx, const live_task_row *r);
} live_sink;

/* Set up every peer's stage and fill `ops` (ops->ctx owns everything). The sink may be
 * NULL. 0, or EXIT_INPUT (bad data, bad configuration) / EXIT_RUN with err filled. */
int live_open(const live_config *lc, const swarm_config *cfg, const live_sink *sink,
              swarm_live_ops *ops, char *err, size_t errlen);
void live_close(swarm_live_ops *ops);

typedef struct {
    double kernel_wall_s;      /* wall time inside the stage kernels (tasks, merges, validation) */
    double hook_wall_s;        /* wall time inside the hooks, kernels included */
    double calibration_wall_s; /* wall time of the calibration at open (measured rule) */
    int64_t tasks[KM_TASK_KINDS];
    int64_t backwards_undone; /* aborted backwards rolled back */
    int64_t optimizer_steps, empty_steps;
    int64_t stage0_backwards; /* microbatches whose stage-0 backward ran */
    int64_t merges, validations;
    double loss_final;        /* mean train loss over the last loss_window inner steps */
    double val_loss_initial;  /* merged model before training */
    double val_loss_final;    /* at the last cycle end */
    double recon_error_final; /* mean over boundaries at the last cycle end */
    int64_t buffers_live, buffers_peak, buffers_bound;
    int64_t buffers_leaked; /* buffers no drop released, freed at a cycle end (0 expected) */
    double time_scale[2];   /* measured rule: scale of compute tasks / optimizer (stage 0) */
    int n_devices;
} live_stats;

void live_get_stats(const swarm_live_ops *ops, live_stats *s);
/* loss_final, val_loss_final, boundary_recon_error of the summary. */
void live_fill_summary(const swarm_live_ops *ops, sim_summary *s);

/* Observer of inner steps (tests: conservation): called at every optimizer task with
 * the microbatches whose gradients the step used. */
typedef void (*live_step_fn)(void *ctx, int peer, int64_t step, const int64_t *mbs, int n_mbs);
void live_set_step_observer(swarm_live_ops *ops, live_step_fn fn, void *ctx);

/* Fault injection (tests): makes one weight of the peer's stage NaN. */
void live_poison(swarm_live_ops *ops, int peer);

#endif
