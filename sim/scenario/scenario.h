/* sim/scenario/scenario.h: a scenario, loaded from a libconfig file and fully resolved.
 *
 * sim_scenario_load reads FILE (and the files it extends with `base = "..."` or pulls in
 * with @include), applies `--set key.path=value` overrides, validates everything against
 * the schema (sim/scenario/scenario_schema.c: the documented list of keys) and resolves it into
 * the plain struct below: no libconfig types, every string owned, units converted to
 * seconds, bytes and FLOP/s (the file speaks ms, Mbit/s, hours, TFLOP/s). Peer-level
 * settings are resolved per peer: device, region, access-link bandwidths (explicit
 * lists, lognormal draws or class tables, drawn with the scenario seed) and price.
 * Time-varying processes (churn, spot reclaims, stragglers, profile replay) are kept
 * as parameters for the fault engine; only the choice of spot peers is made here,
 * because it sets prices.
 *
 * Errors: "FILE:LINE: key.path: message" (exit code EXIT_INPUT); an override that is
 * wrong names the override ("--set training.H=x: training.H: expected an integer").
 *
 * Peer numbering: peer p serves stage p mod S of replica p / S.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/model.h"
#include "sim/scenario/devices.h"

typedef enum { SIM_ROUTE_IOTA = 0, SIM_ROUTE_SWARM, SIM_ROUTE_FIXED } sim_routing;
typedef enum { SIM_SYNC_IOTA_BUTTERFLY = 0, SIM_SYNC_RING, SIM_SYNC_DDP } sim_sync_algo;
typedef enum { SIM_DDP_RING = 0, SIM_DDP_STORAGE } sim_ddp_transport;
/* What butterfly owners publish after merging a partition (sync.publish). */
typedef enum { SIM_PUBLISH_WEIGHTS = 0, SIM_PUBLISH_UPDATE } sim_publish;
typedef enum { SIM_DTYPE_FP32 = 0, SIM_DTYPE_BF16, SIM_DTYPE_FP16, SIM_DTYPE_INT8 } sim_dtype;
typedef enum { SIM_OPT_NADAM = 0, SIM_OPT_ADAMW } sim_inner_opt;
typedef enum { SIM_BETA1_CONSTANT = 0, SIM_BETA1_IOTA } sim_beta1_rule;
typedef enum { SIM_OUTER_NESTEROV = 0, SIM_OUTER_SGD, SIM_OUTER_AVERAGE } sim_outer_opt;
typedef enum { SIM_NET_FLUID = 0, SIM_NET_IDEAL } sim_net_model;
typedef enum { SIM_BW_FIXED = 0, SIM_BW_LOGNORMAL, SIM_BW_TABLE, SIM_BW_LIST } sim_bw_kind;
typedef enum { SIM_COMPUTE_MODELED = 0, SIM_COMPUTE_LIVE } sim_compute_mode;
typedef enum { SIM_BACKEND_AUTO = 0, SIM_BACKEND_CPU, SIM_BACKEND_CUDA } sim_backend;
typedef enum {
    SIM_STRAGGLE_SPEED = 0,
    SIM_STRAGGLE_BANDWIDTH,
    SIM_STRAGGLE_BOTH
} sim_straggle_kind;
typedef enum { SIM_PROFILE_STATE = 0, SIM_PROFILE_SPEED, SIM_PROFILE_BANDWIDTH } sim_profile_kind;
typedef enum { SIM_EVENTS_ALL = 0, SIM_EVENTS_NONE, SIM_EVENTS_FIRST } sim_events_window;
typedef enum { SIM_FLUSH_PHASE = 0, SIM_FLUSH_CYCLE } sim_flush;
/* Task kinds of compute.efficiency. */
typedef enum {
    SIM_EFF_FORWARD = 0,
    SIM_EFF_BACKWARD,
    SIM_EFF_RECOMPUTE,
    SIM_EFF_OPTIMIZER,
    SIM_EFF_MERGE,
    SIM_EFF_KINDS
} sim_eff_kind;

int sim_dtype_bytes(sim_dtype d);
const char *sim_dtype_name(sim_dtype d);
const char *sim_eff_name(sim_eff_kind k);

typedef struct {
    int stage, replica;
    int device;              /* index into sim_scenario.devices */
    int region;              /* index into network.regions */
    double up_bytes_per_s;   /* access uplink */
    double down_bytes_per_s; /* access downlink */
    double price_per_hour; /* USD per peer-hour (all its GPUs, spot factor applied); NaN unknown */
    int spot;              /* runs on a spot instance (faults.spot) */
} sim_peer;

typedef struct {
    double fraction, up_mbps, down_mbps, sigma;
} sim_bw_class;

typedef struct {
    int peer;
    sim_profile_kind kind;
    char *path; /* resolved against the file that named it */
} sim_profile_ref;

typedef struct {
    char *path; /* as read (the first is the scenario file itself) */
    char *text; /* verbatim */
} sim_source;

/* Published figures (NaN when not given). */
typedef struct {
    int present; /* at least one figure */
    char *source, *url, *notes;
    char **extra_sources;
    int n_extra_sources;
    double utilisation, training_phase_min, sync_phase_min, mfu, mfu_peak, mfu_peak_window_h;
    double throughput_tok_s, speed_vs_colocated, speed_vs_colocated_peak, tokens, duration_h;
    double cycles, cost_per_peer_hour, cost_per_replica_hour;
    double activation_mib_raw, activation_mib_compressed, params;
    /* reference.uncertainty.<figure>, as a fraction of the figure (NaN when not given),
     * indexed like sim_reference_figs */
    double *uncertainty;
    char *where; /* "FILE:LINE" of the reference group; NULL when there is none */
} sim_reference;

/* The published figures of sim_reference, in the schema's order: key (reference.<key>),
 * where its value lives in the struct and its unit. */
typedef struct {
    const char *key;
    size_t offset;
    const char *unit;
} sim_reference_fig;
extern const sim_reference_fig sim_reference_figs[];
extern const size_t sim_reference_n_figs;
/* Figure i of r (NaN when not given). */
double sim_reference_value(const sim_reference *r, size_t i);
/* Index of a figure by key ("mfu"), or -1. */
int sim_reference_find(const char *key);

typedef struct {
    km_split split;
    int split_explicit; /* 1 if pipeline.split was given, 0 if balanced */
    int recompute;
    int cache_capacity;
    sim_routing routing;
    double swarm_ema; /* NaN unless routing = swarm */
    double cache_ttl_s;
    int slot_at_forward; /* pipeline.slot_at = "forward" */
    int forward_queue;
    int auto_max_cache, keep_cache_on_local_step;
    double cache_full_wait_s;
    double inject_period_s, stage0_fetch_s, last_target_s, per_hop_s; /* pipeline.overhead */
} sim_pipeline;

typedef struct {
    km_boundary boundary; /* method, k = d_model / ratio, hidden */
    int ratio;
} sim_compression;

typedef struct {
    sim_inner_opt kind;
    double lr, beta1, beta1_span, beta2, eps, weight_decay, momentum_decay;
    sim_beta1_rule beta1_rule;
    int warmup_steps;
} sim_inner_optimizer;

typedef struct {
    int seq_len, microbatch_seqs;
    int64_t microbatch_tokens;
    int H, accum;
    double tokens;    /* stop target; 0 when cycles is used */
    int cycles;       /* stop target; 0 when tokens is used */
    double max_sim_s; /* 0: none */
    double activation_timeout_s;
    int timeout_roundtrip; /* training.timeout_rule = "roundtrip" */
    int phase_drain;       /* training.phase_end = "drain" */
    int min_local_steps;
    double grad_clip;
    char *data; /* resolved path, NULL: built-in corpus */
    sim_inner_optimizer optimizer;
} sim_training;

typedef struct {
    sim_outer_opt kind;
    double lr, momentum, momentum_start;
    int momentum_warmup_cycles;
} sim_outer_optimizer;

typedef struct {
    sim_sync_algo algorithm;
    sim_ddp_transport transport;
    sim_dtype dtype;
    double compression_ratio;
    double pg_bytes_per_param; /* bytes(dtype) / compression_ratio */
    sim_dtype weights_dtype;
    sim_publish publish; /* owners publish merged weights (IOTA) or the compressed update */
    int overlap;         /* ddp: the exchange of round r runs under round r+1's training */
    int partitions, owners;
    double upload_quorum, merge_quorum, upload_timeout_s;
    int upload_momentum;
    sim_outer_optimizer outer;
} sim_sync;

typedef struct {
    sim_net_model model;
    int n_regions;
    char **regions;
    double *latency_s;       /* n_regions × n_regions, row = from */
    double tcp_window_bytes; /* 0: no cap */
    int have_storage;
    int storage_region;
    double storage_up_bytes_per_s, storage_down_bytes_per_s;
} sim_network;

typedef struct {
    sim_bw_kind kind;
    double up_mbps, down_mbps; /* fixed values or lognormal medians */
    double sigma;
    int correlated;
    sim_bw_class *classes;
    int n_classes;
} sim_bandwidth;

typedef struct {
    int replicas, n_peers, gpus_per_peer;
    sim_peer *peers; /* n_peers, peer p = replica × S + stage */
    sim_bandwidth bandwidth;
} sim_swarm;

typedef struct {
    struct {
        int enabled;
        double mtbf_s, mttr_s;
    } churn;
    struct {
        int enabled;
        double fraction, interval_s, notice_s, restart_s, price_factor;
        int restart_exponential;
    } spot;
    struct {
        int enabled;
        double fraction, multiplier, slow_s, normal_s; /* slow_s, normal_s: 0 if permanent */
        int permanent;
        sim_straggle_kind kind;
    } stragglers;
    sim_profile_ref *profiles;
    int n_profiles;
} sim_faults;

typedef struct {
    sim_compute_mode mode;
    char *kernel_profile; /* resolved path or NULL */
    int have_efficiency;
    double efficiency[SIM_EFF_KINDS]; /* NaN where not given */
    sim_backend backend;
    int live_time_modeled;      /* compute.live_time = "modeled" */
    int gpus, val_microbatches; /* live mode */
    int local_device;           /* index into devices, -1 if not given */
} sim_compute;

typedef struct {
    double mfu_window_s;
    int colocated_baseline;
    double sample_s;
} sim_metrics;

typedef struct {
    char *trace;       /* NULL: results/<name>.h5; relative, without "..", checked at load */
    char *trace_where; /* "FILE:LINE" of the output.trace setting (or the --set naming it) */
    sim_events_window events;
    int events_cycles; /* events = first only, else 0 */
    sim_flush flush;
    int checkpoint_every; /* live runs: cycles between checkpoints (0: none) */
} sim_output;

typedef struct {
    char *name;
    char *description;
    uint64_t seed;
    char *path; /* the scenario file as given */

    sim_source *sources; /* every file read: the scenario, its @includes, its bases */
    int n_sources;
    char **sets; /* the --set overrides applied, verbatim, in order */
    int n_sets;
    /* One line each: values the loader adjusted (e.g. training.min_local_steps clamped to
     * training.H), with the file:line of the key. Printed by `run`, kept by the trace. */
    char **notices;
    int n_notices;

    km_config model; /* model.seq_len = training.seq_len */
    sim_pipeline pipeline;
    sim_compression compression;
    sim_training training;
    sim_sync sync;
    sim_network network;
    sim_device_table devices; /* the whole table read */
    sim_swarm swarm;
    sim_faults faults;
    sim_compute compute;
    sim_metrics metrics;
    sim_output output;
    sim_reference reference;
} sim_scenario;

/* Load, override, validate and resolve. `sets` are "key.path=value" strings. Returns 0,
 * or EXIT_INPUT with err filled (out is then left empty: nothing to free, though
 * calling sim_scenario_free on it is harmless). */
int sim_scenario_load(const char *path, const char **sets, int n_sets, sim_scenario *out, char *err,
                      size_t errlen);
void sim_scenario_free(sim_scenario *sc);

/* What a run of the scenario will hold in memory, estimated from its shapes before
 * anything is allocated (modeled runs: peer state and cache slots; live runs also the
 * stage weights, gradients, optimizer state and cached activations of every peer). */
typedef struct {
    double per_peer_bytes; /* the largest peer */
    double total_bytes;    /* every peer, plus a fixed allowance for the process */
} sim_memory_estimate;
sim_memory_estimate sim_scenario_memory(const sim_scenario *sc);
/* 0 when the estimate fits in this machine's physical memory; else -1 with the estimate in
 * err (`run` refuses with exit 2, a sweep point fails). */
int sim_scenario_memory_check(const sim_scenario *sc, char *err, size_t errlen);
/* Seconds of the longest compute task at nominal speed (slowest device, lowest compute
 * efficiency, straggler multiplier): the load refuses more than SIM_MAX_TASK_S, which
 * keeps every compute duration well inside int64 nanoseconds. 0 when unknown. */
#define SIM_MAX_TASK_S 1e7
double sim_scenario_longest_task_s(const sim_scenario *sc);

/* Σ peak FLOP/s of every GPU of every peer. */
double sim_scenario_peak_flops(const sim_scenario *sc);

#endif
