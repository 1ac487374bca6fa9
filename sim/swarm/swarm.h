/* sim/swarm/swarm.h: IOTA's swarm over the network model: peers, phases, routing, sync.
 *
 * The swarm joins netmodel/ (event core, flows, faults) and kernels/ (model accounting,
 * and in live mode the real stage kernels). It is configured by a plain struct
 * (swarm_config), filled from a scenario by sim/run/run_config.c, so the engine does not
 * depend on the scenario file format.
 *
 * One cycle = a training phase, then synchronisation:
 *   training   stage-0 peers inject microbatches while the stage-0 counter of completed
 *              backwards is below H × accum × (stage-0 peers); activations are routed
 *              forward (policy iota / swarm / fixed), gradients return to the sender
 *              (it holds the cached input); backward has priority over forward; every
 *              `accum` backwards a peer takes an inner optimizer step. When the target is
 *              reached, injection stops and in-flight work drains (or times out).
 *   uploading  each peer with enough local steps uploads its pseudo-gradient; the gate
 *              opens at the upload quorum (iota-butterfly).
 *   merging    owners of each partition download it from every submitter, merge (outer
 *              Nesterov step), upload the merged partition; every peer then downloads
 *              its stage's merged weights.  (ring: a ring all-reduce per stage; ddp:
 *              every peer holds the whole model and all-reduces with every other.)
 *
 * Durations of compute tasks come from a swarm_compute source: modeled (hardware FLOPs /
 * (peak × efficiency × speed)) or live (real kernels, sim/live/live.c). Everything the swarm
 * sees goes to the trace (sim/trace/trace.h) and to the run summary (sim/trace/summary.h).
 */
#ifndef SIM_SWARM_H
#define SIM_SWARM_H

#include <stdint.h>

#include "kernels/model.h"
#include "netmodel/event.h"
#include "sim/trace/summary.h"

typedef struct swarm_live_ops swarm_live_ops; /* below */

typedef enum { ROUTE_IOTA = 0, ROUTE_SWARM, ROUTE_FIXED } swarm_routing;
typedef enum { SYNC_IOTA_BUTTERFLY = 0, SYNC_RING, SYNC_DDP } swarm_sync_algo;
typedef enum { DDP_TRANSPORT_RING = 0, DDP_TRANSPORT_STORAGE } swarm_ddp_transport;

typedef struct {
    int stage, replica;
    int region;
    char device[24];
    char region_name[16];
    double peak_flops; /* bf16 dense peak of one GPU, FLOP/s */
    int gpus;          /* GPUs per peer (DDP nodes: 8) */
    double up_bps, down_bps;
    double price_per_h; /* USD per peer-hour */
    double speed;       /* static compute-speed multiplier (1 = nominal) */
    double mem_bw;      /* bytes/s of device memory, for the merge (memory-bound) */
} swarm_peer_spec;

/* Fault processes, handed to netmodel/faults (all optional). */
typedef struct {
    int churn;
    double churn_mtbf_s, churn_mttr_s;
    int spot;
    double spot_interval_s, spot_notice_s, spot_restart_s;
    int spot_restart_fixed;
    int *spot_peers, n_spot_peers; /* the peers on spot instances */
    int stragglers;
    double straggler_fraction, straggler_factor;
    double straggler_slow_s, straggler_normal_s;
    int straggler_speed, straggler_bandwidth; /* which multiplier the slowdown applies to */
    const char **state_profile;               /* per peer, NULL or a path (SimGrid profile) */
    const char **speed_profile;
    const char **bandwidth_profile;
} swarm_faults;

typedef struct {
    /* model and pipeline */
    km_config model;
    km_split split;
    km_boundary boundary;
    int64_t microbatch_tokens; /* tokens per microbatch (sequences × seq_len) */
    int recompute;             /* backward recomputes the forward (IOTA) */
    int n_stages, n_replicas;
    int n_peers;
    swarm_peer_spec *peers; /* n_peers */

    /* network */
    int n_regions;
    double *latency_s; /* n_regions × n_regions one-way latency */
    double storage_up_bps, storage_down_bps;
    int storage_region;
    double tcp_window_bytes; /* 0: no cap */
    int ideal_network;       /* co-located baseline: zero latency, infinite bandwidth */

    /* compute (modeled) */
    double efficiency[KM_TASK_KINDS]; /* fraction of peak per task kind; for the optimizer
                                         step, a fraction of memory bandwidth */
    double merge_efficiency;          /* merges: fraction of memory bandwidth */
    double opt_bytes_per_param;       /* memory traffic of one inner optimizer step */
    double merge_bytes_per_param;     /* memory traffic per parameter of the outer-step pass */

    /* training */
    int H;                       /* inner steps per cycle */
    int accum;                   /* microbatches per inner step per stage-0 peer */
    int cache_capacity;          /* activation cache slots per peer (IOTA: 16) */
    double activation_timeout_s; /* unanswered activations dropped (IOTA: 100 s) */
    int min_local_steps;         /* a contribution counts after this many steps (IOTA: 5) */
    swarm_routing routing;
    double swarm_ema;      /* EMA factor of measured throughput for ROUTE_SWARM */
    int64_t tokens_target; /* stop after this many tokens trained (0: use cycles) */
    int cycles_target;     /* stop after this many cycles (0: use tokens) */
    double max_sim_s;      /* safety stop on simulated time (0: none) */

    /* sync */
    swarm_sync_algo sync;
    swarm_ddp_transport ddp_transport;
    double pg_bytes_per_param;     /* pseudo-gradient bytes per parameter on the wire */
    double weight_bytes_per_param; /* merged weights bytes per parameter */
    int upload_momentum;           /* owners also upload the outer momentum of a partition */
    int partitions;                /* per stage (IOTA: 2 × replicas) */
    int owners;                    /* peers per partition (IOTA: 2) */
    double upload_quorum;          /* fraction of peers ready before the gate opens (0.8) */
    double merge_quorum;           /* fraction of a partition's downloads a merge needs (0.9) */
    double upload_timeout_s;       /* after the quorum uploaded, wait at most this long */

    /* faults */
    swarm_faults faults;
    uint64_t seed;

    /* metrics and output */
    double mfu_window_s; /* best sustained window (Orion: 6 h) */
    double sample_s;     /* time-series sampling interval */
    int events_cycles;   /* events table covers the first N cycles (-1: all) */
    int progress;        /* progress bar on stderr */

    const swarm_live_ops *live; /* NULL: modeled durations */
} swarm_config;

/* A compute task, as the swarm hands it to a live-mode hook. */
typedef struct swarm_task_info {
    int peer, stage;
    km_task kind;          /* forward, backward(_recompute), last_fused, optimizer */
    int64_t microbatch;    /* -1 for optimizer steps */
    int from_peer;         /* forward: the peer that sent the activation (-1 at stage 0);
                               backward: the peer that sent the gradient (stage + 1) */
    int cycle, inner_step; /* the peer's inner step in this cycle */
    nm_time t_start;       /* simulated time the task starts */
    double speed;          /* the peer's compute-speed multiplier now (stragglers) */
    int64_t tokens;
    double flops; /* hardware FLOPs (modeled) */
} swarm_task_info;

/* Live mode (sim/live/live.c): the real kernels run every task and the real tensors move.
 * The swarm calls these hooks in causal order of simulated time; each hook may fail by
 * returning a negative value / non-zero, which stops the run (the hook fills its own
 * message, read back with `error`). Any hook may be NULL. */
struct swarm_live_ops {
    void *ctx;
    /* Run the task now; return its duration in simulated seconds on the nominal
     * simulated device (measured and scaled, or modeled), or < 0 on failure. The swarm
     * divides it by t->speed (stragglers). */
    double (*task)(void *ctx, const swarm_task_info *t);
    /* A microbatch left a peer without a backward (timeout, loss, peer down): its cached
     * input and in-flight tensors at that peer can go. */
    void (*drop)(void *ctx, int peer, int64_t mb);
    /* The peer went down: it loses weights, optimizer state and cache. */
    void (*peer_down)(void *ctx, int peer);
    /* The peer finished downloading its stage's current weights (rejoin). */
    int (*peer_join)(void *ctx, int peer);
    /* The outer step of one stage at the end of a sync: the submitters' pseudo-gradients
     * are averaged partition by partition (part_ok[j] = 0: partition j was not merged,
     * peers keep their local values there), the outer optimizer updates the stage's
     * global weights, and every receiver takes them. */
    int (*sync_stage)(void *ctx, int stage, const int *submitters, int n_submitters,
                      const int *receivers, int n_receivers, const int *part_ok, int n_parts);
    /* End of a cycle (validation loss, boundary diagnostics, trace rows). */
    int (*cycle_end)(void *ctx, int cycle, nm_time now, int64_t tokens_trained);
    const char *(*error)(void *ctx);
};

typedef struct trace trace; /* sim/trace/trace.h */

/* Run the swarm to its target. The trace may be NULL. Reaching cfg->max_sim_s first is
 * not a failure: the run stops, out->complete = 0 and err says why (EXIT_OK). Fills the summary (figures that
 * need a second run, like speed vs co-located, are filled by sim/run/run.c). Returns 0, or
 * EXIT_RUN with err filled. `stop_flag`, when not NULL, is polled (SIGINT). */
int swarm_run(const swarm_config *cfg, trace *tr, sim_summary *out, volatile int *stop_flag,
              char *err, int errlen);

#endif
