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
 * The schedule (swarm_schedule.c) says how the two follow each other: "sequential" (the
 * next training phase waits for the sync) or "overlap" (DDP runs: the exchange of round
 * r runs while the peers train round r+1, applied at the end of round r+1).
 *
 * Durations of compute tasks come from a swarm_compute source: modeled (hardware FLOPs /
 * (peak × efficiency × speed)) or live (real kernels, sim/live/live.c). Everything the swarm
 * sees goes to a sink (swarm_sink below; sim/trace/trace_sink.c writes HDF5) and to the run
 * summary (sim/metrics/summary.h).
 */
#ifndef SIM_SWARM_H
#define SIM_SWARM_H

#include <stdint.h>

#include "kernels/model.h"
#include "netmodel/event.h"
#include "sim/metrics/summary.h"

typedef struct swarm_live_ops swarm_live_ops; /* below */

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

    struct { /* network */
        int n_regions;
        double *latency_s; /* n_regions × n_regions one-way latency */
        double storage_up_bps, storage_down_bps;
        int storage_region;
        double tcp_window_bytes; /* 0: no cap */
        int ideal_network;       /* co-located baseline: zero latency, infinite bandwidth */
    } net;

    struct {                              /* compute (modeled) */
        double efficiency[KM_TASK_KINDS]; /* fraction of peak per task kind; for the optimizer
                                             step, a fraction of memory bandwidth */
        double merge_efficiency;          /* merges: fraction of memory bandwidth */
        double opt_bytes_per_param;       /* memory traffic of one inner optimizer step */
        double merge_bytes_per_param;     /* memory traffic per parameter of the outer-step pass */
    } compute;

    /* training */
    int H;                        /* inner steps per cycle */
    int accum;                    /* microbatches per inner step per stage-0 peer */
    int cache_capacity;           /* activation cache slots per peer (IOTA: 16) */
    double activation_timeout_s;  /* iota rule: outbound-queue TTL; roundtrip: send to gradient */
    int timeout_roundtrip;        /* 1: the round-trip rule; 0: IOTA's (queue TTL + cache TTL) */
    double cache_ttl_s;           /* IOTA: a stage-s entry lives cache_ttl_s x (S - s); 0: no TTL */
    int slot_at_forward;          /* 1: slot taken at forward start (IOTA); 0: at routing */
    int forward_queue;            /* activations waiting for their forward, in flight included */
    int auto_max_cache;           /* the cache grows until 3 backwards, then freezes */
    int keep_cache_on_local_step; /* 0: the cache is wiped after each inner step (IOTA) */
    double cache_full_wait_s;     /* a forward finding the cache full retries after this */
    int phase_drain;              /* 1: drain in-flight work + one more step; 0: discard (IOTA) */
    double inject_period_s;       /* stage 0 starts at most one microbatch per period */
    double stage0_fetch_s, last_target_s, per_hop_s; /* added to task durations */
    int min_local_steps;   /* a contribution counts after this many steps (IOTA: 5) */
    const char *routing;   /* "iota" | "swarm" | "fixed" (swarm_route.c) */
    double swarm_ema;      /* EMA factor of measured throughput for ROUTE_SWARM */
    int64_t tokens_target; /* stop after this many tokens trained (0: use cycles) */
    int cycles_target;     /* stop after this many cycles (0: use tokens) */
    double max_sim_s;      /* safety stop on simulated time (0: none) */

    /* sync */
    const char *training; /* "pipeline" (IOTA) | "ddp" (every node the whole model) */
    const char *sync;     /* "iota-butterfly" | "ring" | "storage" (swarm_sync_*.c) */
    const char *schedule; /* "sequential" (NULL: the default) | "overlap" (swarm_schedule.c) */
    struct {              /* the outer step: what travels and who merges */
        double pg_bytes_per_param;     /* pseudo-gradient bytes per parameter on the wire */
        double weight_bytes_per_param; /* merged weights bytes per parameter */
        int upload_momentum;           /* owners also upload the outer momentum of a partition */
        int publish_update;            /* 0: owners publish merged weights (weight bytes, IOTA);
                                          1: the merged update, at pg_bytes_per_param */
        int partitions;                /* per stage (IOTA: 2 × replicas) */
        int owners;                    /* peers per partition (IOTA: 2) */
        double upload_quorum;          /* fraction of peers ready before the gate opens (0.8) */
        double merge_quorum;           /* fraction of a partition's downloads a merge needs (0.9) */
        double upload_timeout_s;       /* after the quorum uploaded, wait at most this long */
    } outer;

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

/* ---- what the engine reports: its own vocabulary, written out by a sink ---- */

/* Phases of a cycle (SPEC §5's breakdown). */
typedef enum {
    SWARM_PHASE_TRAINING = 0,
    SWARM_PHASE_UPLOADING,
    SWARM_PHASE_MERGING,
    SWARM_PHASE_OTHER,
    SWARM_PHASES
} swarm_phase;

/* What an event records: a GPU task, a transfer, or a microbatch dropped. */
typedef enum {
    SWARM_EV_FORWARD = 0,
    SWARM_EV_BACKWARD,
    SWARM_EV_RECOMPUTE_BACKWARD, /* backward that recomputes the forward first (IOTA) */
    SWARM_EV_LAST_FUSED,         /* last stage: forward + loss + backward in one task */
    SWARM_EV_OPTIMIZER,          /* inner optimizer step */
    SWARM_EV_SEND_ACTIVATION,
    SWARM_EV_SEND_GRADIENT,
    SWARM_EV_UPLOAD_PSEUDOGRAD,
    SWARM_EV_DOWNLOAD_PARTITION,
    SWARM_EV_MERGE,
    SWARM_EV_UPLOAD_MERGED,
    SWARM_EV_DOWNLOAD_MERGED,
    SWARM_EV_DOWNLOAD_WEIGHTS, /* a (re)joining peer fetches its stage's weights */
    SWARM_EV_IDLE,
    SWARM_EV_WAITING,
    SWARM_EV_DOWN,
    SWARM_EV_DROPPED, /* a microbatch dropped (timeout, loss, peer down) */
    SWARM_EV_KINDS
} swarm_event_kind;

#define SWARM_OTHER_NONE (-1)    /* `other`: no peer at the other end */
#define SWARM_OTHER_STORAGE (-2) /* `other`: object storage */

typedef struct {
    nm_time t_start, t_end;
    int64_t microbatch; /* -1 if none */
    int64_t bytes;      /* bytes moved (transfers), else 0 */
    double flops;       /* hardware FLOPs of the task (recompute included), else 0 */
    int peer;           /* the peer doing it (the sender of a transfer) */
    int other;          /* the peer at the other end, SWARM_OTHER_NONE / _STORAGE */
    swarm_event_kind kind;
    int stage, cycle;
    int inner_step; /* inner step of `peer` in the cycle, -1 if none */
} swarm_event;

typedef struct {
    nm_time t;
    int64_t tokens_trained; /* cumulative */
    double tokens_per_s;    /* over the sampling interval ending at t */
    double mfu_window;      /* MFU over the trailing window (cfg mfu_window_s) */
    int active_peers;       /* peers up at t */
    swarm_phase phase;
} swarm_sample;

/* A peer as the engine runs it (DDP runs put every node in stage 0). */
typedef struct {
    int peer, stage, replica;
    const swarm_peer_spec *spec;
} swarm_peer_row;

/* Each peer's GPU time by what it did, as fractions of the run (they sum to 1). */
typedef struct {
    int peer, stage;
    double compute, recompute, optimizer, merge, idle, waiting, down;
} swarm_peer_share;

/* Where the engine's observations go (sim/trace/trace_sink.c writes them to HDF5; tests
 * may keep them in memory). Every callback is optional; a non-zero return stops the run
 * as failed ("writing the trace failed"). Called in simulated-time order. */
typedef struct swarm_sink {
    void *ctx;
    int (*peers)(void *ctx, const swarm_peer_row *rows, int n); /* once, at start */
    int (*event)(void *ctx, const swarm_event *e);              /* events_cycles only */
    int (*phase)(void *ctx, int cycle, swarm_phase phase, nm_time t_start, nm_time t_end);
    int (*sample)(void *ctx, const swarm_sample *s);                      /* every sample_s */
    int (*cycle_end)(void *ctx);                                          /* a safe flush point */
    int (*peer_shares)(void *ctx, const swarm_peer_share *shares, int n); /* once, at the end */
    void (*events_dropped)(void *ctx, uint64_t n); /* events past events_cycles, at the end */
} swarm_sink;

extern const char *const swarm_phase_names[SWARM_PHASES];

/* Run the swarm to its target. The sink may be NULL. Reaching cfg->max_sim_s first is
 * not a failure: the run stops, out->complete = 0 and err says why (EXIT_OK). Fills the
 * summary (figures that need a second run, like speed vs co-located, are filled by
 * sim/run/run.c). Returns 0, or EXIT_RUN with err filled. `stop_flag`, when not NULL, is
 * polled (SIGINT) between chunks of simulated time and at every cycle end, after the live
 * cycle_end hook (live checkpoints raise it there to stop at that cycle end). */
int swarm_run(const swarm_config *cfg, const swarm_sink *sink, sim_summary *out,
              volatile int *stop_flag, char *err, size_t errlen);

#endif
