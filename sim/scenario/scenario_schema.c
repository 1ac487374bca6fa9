/* sim/scenario/scenario_schema.c: the scenario schema table: the one place where the scenario keys are documented. */
#include "sim/scenario/scenario_schema.h"

#include <math.h>
#include <string.h>

#define R SKF_REQUIRED
#define LO SKF_MIN_OPEN
#define HI SKF_MAX_OPEN
#define NOMAX INFINITY
#define NOMIN (-INFINITY)
#define MAXINT 2147483647.0

/* Physical ranges (issue 16): every time, rate and size fits int64 nanoseconds and bytes
 * with room to spare, and no value makes a run livelock at one instant. */
#define MIN_S 1e-3         /* 1 ms: the shortest timeout or period that means anything */
#define MAX_S 1e7          /* 116 days: the longest timeout or period (int64 ns: 292 years) */
#define MIN_H 1e-6         /* 3.6 ms, in hours (fault processes) */
#define MAX_H 1e6          /* 114 years of simulated time */
#define MIN_MBPS 1e-6      /* 1 bit/s */
#define MAX_MBPS 1e7       /* 10 Tbit/s */
#define MAX_LATENCY_MS 1e6 /* 1000 s one way */
#define MIN_EFF 1e-3       /* 0.1% of peak: slower is not a computation */
#define MAXDIM 1048576.0   /* model and batch widths: products stay inside int64 */

/* clang-format off */
const sk_entry sk_schema[] = {
/* ---- top level ---- */
{"name", SK_STRING, R, 0, 0, NULL, "", NULL,
 "short name of the scenario (letters, digits, '.', '_', '-'); names output files"},
{"description", SK_STRING, 0, 0, 0, "\"\"", "", NULL, "one-line description"},
{"base", SK_PATH, 0, 0, 0, NULL, "", NULL,
 "scenario file this one extends (relative to this file): its keys are defaults, overridden key by key (lists whole); its reference group is not inherited"},
{"seed", SK_INT, 0, 0, MAXINT, "1", "", NULL,
 "seed of every random choice (peer placement, bandwidth draws, fault processes)"},

/* ---- model ---- */
{"model", SK_GROUP, R, 0, 0, NULL, "", NULL, "the transformer (Llama-3.2 family, kernels/model.h)"},
{"model.d_model", SK_INT, R, 1, MAXDIM, NULL, "", NULL, "residual stream width d"},
{"model.n_blocks", SK_INT, R, 1, 100000, NULL, "", NULL, "transformer blocks"},
{"model.n_heads", SK_INT, R, 1, 65536, NULL, "", NULL, "attention (query) heads"},
{"model.n_kv_heads", SK_INT, R, 1, 65536, NULL, "", NULL, "key/value heads (grouped-query attention); divides n_heads"},
{"model.head_dim", SK_INT, 0, 1, 65536, "(d_model / n_heads)", "", NULL, "width of one head"},
{"model.ffn", SK_INT, R, 1, MAXDIM, NULL, "", NULL, "SwiGLU hidden width"},
{"model.vocab", SK_INT, R, 1, 16777216, NULL, "tokens", NULL, "vocabulary size (untied embedding and LM head)"},
{"model.rope_theta", SK_FLOAT, LO, 0, NOMAX, "500000", "", NULL, "RoPE base theta (Llama 3: 500000)"},
{"model.norm_eps", SK_FLOAT, LO, 0, 1, "1e-5", "", NULL, "RMSNorm epsilon"},
{"model.dtype", SK_ENUM, 0, 0, 0, "\"bf16\"", "", "bf16|fp32", "dtype of weights and of activations on the wire"},

/* ---- pipeline ---- */
{"pipeline", SK_GROUP, R, 0, 0, NULL, "", NULL, "pipeline parallelism"},
{"pipeline.stages", SK_INT, R, 1, 256, NULL, "", NULL, "pipeline stages S (peers per replica)"},
{"pipeline.split", SK_INT_LIST, 0, 1, MAXINT, "(balanced)", "blocks", NULL,
 "blocks per stage, first to last; S entries summing to model.n_blocks; default IOTA's balancer shape (km_split_balanced)"},
{"pipeline.recompute", SK_BOOL, 0, 0, 0, "true", "", NULL, "backward recomputes the forward (IOTA keeps no intermediates)"},
{"pipeline.cache_capacity", SK_INT, 0, 1, 65536, "16", "microbatches", NULL,
 "activation cache slots per peer; a full cache refuses new forwards (IOTA MAX_ACTIVATION_CACHE_SIZE)"},
{"pipeline.routing", SK_ENUM, 0, 0, 0, "\"iota\"", "", "iota|swarm|fixed",
 "next-stage choice: iota = random weighted by ln(free cache) + 1/(1+queue); swarm = throughput-proportional (EMA); fixed = same replica"},
{"pipeline.swarm_ema", SK_FLOAT, LO, 0, 1, NULL, "", NULL,
 "EMA factor of measured peer throughput; required with routing = \"swarm\", refused otherwise"},

/* ---- compression ---- */
{"compression", SK_GROUP, 0, 0, 0, NULL, "", NULL, "activation compression at every stage boundary"},
{"compression.method", SK_ENUM, 0, 0, 0, "\"none\"", "", "none|resbm|linear|int8",
 "resbm = identity path + SiLU MLPs (arXiv:2604.11947); linear = plain bottleneck; int8 = per-row quantisation"},
{"compression.ratio", SK_INT, 0, 1, MAXDIM, "1", "x", NULL,
 "r: bottleneck k = d_model / r (must divide d_model); resbm and linear only, 1 otherwise"},
{"compression.hidden", SK_INT, 0, 1, MAXDIM, "(k)", "", NULL, "hidden width of ResBM's SiLU MLPs (resbm only)"},

/* ---- training ---- */
{"training", SK_GROUP, R, 0, 0, NULL, "", NULL, "the training phase and the inner optimizer"},
{"training.seq_len", SK_INT, R, 1, MAXDIM, NULL, "tokens", NULL, "tokens per sequence"},
{"training.microbatch_seqs", SK_INT, R, 1, MAXDIM, NULL, "sequences", NULL,
 "sequences per microbatch; microbatch tokens = microbatch_seqs x seq_len"},
{"training.H", SK_INT, R, 1, 1000000, NULL, "steps", NULL, "inner optimizer steps per cycle (DiLoCo H)"},
{"training.accum", SK_INT, R, 1, 1000000, NULL, "microbatches", NULL,
 "microbatches (backwards) per inner optimizer step per peer"},
{"training.tokens", SK_FLOAT, LO, 0, 1e16, NULL, "tokens", NULL,
 "stop after this many tokens trained; exactly one of tokens and cycles"},
{"training.cycles", SK_INT, 0, 1, 1000000, NULL, "cycles", NULL,
 "stop after this many cycles (training + sync); exactly one of tokens and cycles"},
{"training.max_sim_hours", SK_FLOAT, LO, 0, MAX_H, NULL, "h", NULL,
 "safety stop on simulated time (absent: none)"},
{"training.activation_timeout_s", SK_FLOAT, 0, MIN_S, MAX_S, "100", "s", NULL,
 "an activation not answered within this time is dropped (IOTA ACTIVATION_TIMEOUT_SEC)"},
{"training.min_local_steps", SK_INT, 0, 0, MAXINT, "5", "steps", NULL,
 "a peer's pseudo-gradient counts only after this many local optimizer steps (IOTA)"},
{"training.grad_clip", SK_FLOAT, 0, 0, NOMAX, "1.0", "", NULL, "gradient norm clip before each inner step; 0 = off (IOTA GRAD_CLIP_NORM)"},
{"training.data", SK_PATH, 0, 0, 0, NULL, "", NULL,
 "token data for live runs (llm.c .bin shard or text corpus), relative to this file; absent: the built-in corpus"},
{"training.optimizer", SK_GROUP, 0, 0, 0, NULL, "", NULL, "inner optimizer (defaults: IOTA's)"},
{"training.optimizer.kind", SK_ENUM, 0, 0, 0, "\"nadam\"", "", "nadam|adamw", "inner optimizer"},
{"training.optimizer.lr", SK_FLOAT, LO, 0, NOMAX, "2e-4", "", NULL, "learning rate (IOTA LEARNING_RATE)"},
{"training.optimizer.beta1", SK_FLOAT, HI, 0, 1, "0.9", "", NULL, "beta1 (the base value under beta1_rule = \"iota\")"},
{"training.optimizer.beta1_rule", SK_ENUM, 0, 0, 0, "\"constant\"", "", "constant|iota",
 "iota: beta1(s) = beta1 + beta1_span x (S - (s+1)) / S for stage s of S"},
{"training.optimizer.beta1_span", SK_FLOAT, HI, 0, 1, "0.09", "", NULL,
 "stage spread of beta1 under beta1_rule = \"iota\" (IOTA: 0.09); beta1 + beta1_span < 1"},
{"training.optimizer.beta2", SK_FLOAT, HI, 0, 1, "0.95", "", NULL, "beta2 (IOTA BETAS)"},
{"training.optimizer.eps", SK_FLOAT, LO, 0, 1, "1e-8", "", NULL, "epsilon (IOTA EPS)"},
{"training.optimizer.weight_decay", SK_FLOAT, 0, 0, 1, "0.1", "", NULL, "decoupled weight decay (IOTA WEIGHT_DECAY)"},
{"training.optimizer.momentum_decay", SK_FLOAT, 0, 0, NOMAX, "0.004", "", NULL, "NAdam momentum decay psi (PyTorch default 0.004)"},
{"training.optimizer.warmup_steps", SK_INT, 0, 0, MAXINT, "0", "steps", NULL, "linear learning-rate warm-up"},

/* ---- sync ---- */
{"sync", SK_GROUP, 0, 0, 0, NULL, "", NULL, "synchronisation (DiLoCo outer step)"},
{"sync.algorithm", SK_ENUM, 0, 0, 0, "\"iota-butterfly\"", "", "iota-butterfly|ring|ddp",
 "iota-butterfly = per-stage partitions merged by owners via storage; ring = ring all-reduce per stage; ddp = whole-model all-reduce (needs pipeline.stages = 1)"},
{"sync.transport", SK_ENUM, 0, 0, 0, "\"ring\"", "", "ring|storage",
 "ddp only: ring all-reduce peer to peer, or through storage (each peer uploads, each downloads the others')"},
{"sync.dtype", SK_ENUM, 0, 0, 0, "\"bf16\"", "", "fp32|bf16|fp16|int8", "pseudo-gradient dtype on the wire"},
{"sync.compression_ratio", SK_FLOAT, 0, 1, 1e6, "1", "x", NULL,
 "further pseudo-gradient compression: wire bytes per parameter = bytes(dtype) / ratio"},
{"sync.weights_dtype", SK_ENUM, 0, 0, 0, "\"bf16\"", "", "fp32|bf16|fp16", "dtype of merged weights (and momentum) uploaded and downloaded"},
{"sync.partitions", SK_INT, 0, 1, 65536, "(2 x swarm.replicas)", "", NULL, "partitions per stage (iota-butterfly)"},
{"sync.owners", SK_INT, 0, 1, 65536, "2", "peers", NULL, "peers that merge each partition (iota-butterfly); at most swarm.replicas"},
{"sync.upload_quorum", SK_FLOAT, LO, 0, 1, "0.8", "", NULL, "share of peers ready before uploading opens (IOTA)"},
{"sync.merge_quorum", SK_FLOAT, LO, 0, 1, "0.9", "", NULL,
 "share of a partition's downloads a merger needs (IOTA MIN_PARTITION_DOWNLOAD_SUCCESS_PCT)"},
{"sync.upload_timeout_s", SK_FLOAT, 0, MIN_S, MAX_S, "300", "s", NULL,
 "after the quorum has uploaded, wait at most this long for the rest (IOTA S3_UPLOAD_TIMEOUT)"},
{"sync.upload_momentum", SK_BOOL, 0, 0, 0, "true", "", NULL, "owners upload the outer momentum with the merged weights (IOTA)"},
{"sync.outer", SK_GROUP, 0, 0, 0, NULL, "", NULL, "outer optimizer applied to the averaged pseudo-gradient"},
{"sync.outer.kind", SK_ENUM, 0, 0, 0, "\"nesterov\"", "", "nesterov|sgd|average",
 "nesterov = SGD with Nesterov momentum (DiLoCo); sgd = plain; average = take the average"},
{"sync.outer.lr", SK_FLOAT, LO, 0, NOMAX, "0.7", "", NULL, "outer learning rate (IOTA NESTEROV_LEARNING_RATE)"},
{"sync.outer.momentum", SK_FLOAT, HI, 0, 1, "0.9", "", NULL, "outer momentum (IOTA NESTEROV_MOMENTUM)"},
{"sync.outer.momentum_start", SK_FLOAT, HI, 0, 1, "(momentum)", "", NULL, "momentum at the first cycle, raised linearly to momentum"},
{"sync.outer.momentum_warmup_cycles", SK_INT, 0, 0, MAXINT, "0", "cycles", NULL, "cycles of the momentum warm-up"},

/* ---- network ---- */
{"network", SK_GROUP, R, 0, 0, NULL, "", NULL, "regions, latencies, storage"},
{"network.model", SK_ENUM, 0, 0, 0, "\"fluid\"", "", "fluid|ideal",
 "fluid = max-min fair flows with latency (SPEC 4); ideal = zero latency, unlimited bandwidth"},
{"network.regions", SK_STRING_LIST, R, 0, 0, NULL, "", NULL, "region names (unique)"},
{"network.latency_ms", SK_FLOAT_MATRIX, R, 0, MAX_LATENCY_MS, NULL, "ms", NULL,
 "one-way latency between regions, row = from, column = to (the diagonal is within a region)"},
{"network.tcp_window_bytes", SK_FLOAT, 0, 0, 1e12, "0", "B", NULL, "TCP window cap: rate <= window / RTT; 0 = no cap"},
{"network.storage", SK_GROUP, 0, 0, 0, NULL, "", NULL,
 "object storage node (S3/R2-like); required by iota-butterfly and ddp over storage"},
{"network.storage.region", SK_STRING, R, 0, 0, NULL, "", NULL, "region of the storage node (one of network.regions)"},
{"network.storage.up_mbps", SK_FLOAT, R, MIN_MBPS, MAX_MBPS, NULL, "Mbit/s", NULL, "aggregate bandwidth out of storage (downloads)"},
{"network.storage.down_mbps", SK_FLOAT, R, MIN_MBPS, MAX_MBPS, NULL, "Mbit/s", NULL, "aggregate bandwidth into storage (uploads)"},

/* ---- swarm ---- */
{"swarm", SK_GROUP, R, 0, 0, NULL, "", NULL, "the peers: replicas, devices, regions, links, prices"},
{"swarm.replicas", SK_INT, R, 1, 100000, NULL, "", NULL,
 "replicas R; peers = R x pipeline.stages, peer p serves stage p mod S of replica p / S"},
{"swarm.gpus_per_peer", SK_INT, 0, 1, 1024, "1", "GPUs", NULL, "GPUs per peer (DDP nodes: 8); peak and price scale with it"},
{"swarm.device_table", SK_PATH, 0, 0, 0, "\"devices.cfg\"", "", NULL, "device table file, relative to the file that sets it (default: beside the scenario)"},
{"swarm.device", SK_STRING, 0, 0, 0, NULL, "", NULL, "one device for every peer; exactly one of device, device_per_replica, device_per_peer, device_mix"},
{"swarm.device_per_replica", SK_STRING_LIST, 0, 0, 0, NULL, "", NULL, "device of each replica (R entries)"},
{"swarm.device_per_peer", SK_STRING_LIST, 0, 0, 0, NULL, "", NULL, "device of each peer (R x S entries)"},
{"swarm.device_mix", SK_GROUP_LIST, 0, 0, 0, NULL, "", NULL,
 "fleet mix: counts by largest remainder of fraction x peers, placed on peers at random (seed)"},
{"swarm.device_mix[].device", SK_STRING, R, 0, 0, NULL, "", NULL, "device name (devices table)"},
{"swarm.device_mix[].fraction", SK_FLOAT, R | LO, 0, 1, NULL, "", NULL, "share of peers; the shares sum to 1"},
{"swarm.region", SK_STRING, 0, 0, 0, NULL, "", NULL, "one region for every peer; exactly one of region, region_per_replica, region_per_peer, region_mix"},
{"swarm.region_per_replica", SK_STRING_LIST, 0, 0, 0, NULL, "", NULL, "region of each replica (R entries)"},
{"swarm.region_per_peer", SK_STRING_LIST, 0, 0, 0, NULL, "", NULL, "region of each peer (R x S entries)"},
{"swarm.region_mix", SK_GROUP_LIST, 0, 0, 0, NULL, "", NULL,
 "regional mix: counts by largest remainder of fraction x peers, placed on peers at random (seed)"},
{"swarm.region_mix[].region", SK_STRING, R, 0, 0, NULL, "", NULL, "region name (network.regions)"},
{"swarm.region_mix[].fraction", SK_FLOAT, R | LO, 0, 1, NULL, "", NULL, "share of peers; the shares sum to 1"},
{"swarm.prices", SK_GROUP_LIST, 0, 0, 0, NULL, "", NULL, "price overrides per device (default: the device table's price)"},
{"swarm.prices[].device", SK_STRING, R, 0, 0, NULL, "", NULL, "device name (devices table)"},
{"swarm.prices[].per_hour", SK_FLOAT, R, 0, 1e6, NULL, "USD/GPU-h", NULL, "price of one GPU-hour"},
{"swarm.bandwidth", SK_GROUP, R, 0, 0, NULL, "", NULL, "per-peer access links (uplink, downlink)"},
{"swarm.bandwidth.kind", SK_ENUM, R, 0, 0, NULL, "", "fixed|lognormal|table|list",
 "fixed = up/down for all; lognormal = medians + sigma; table = classes; list = one value per peer"},
{"swarm.bandwidth.up_mbps", SK_FLOAT, 0, MIN_MBPS, MAX_MBPS, NULL, "Mbit/s", NULL, "uplink (fixed) or its median (lognormal)"},
{"swarm.bandwidth.down_mbps", SK_FLOAT, 0, MIN_MBPS, MAX_MBPS, NULL, "Mbit/s", NULL, "downlink (fixed) or its median (lognormal)"},
{"swarm.bandwidth.sigma", SK_FLOAT, 0, 0, 5, NULL, "", NULL, "lognormal: standard deviation of ln(bandwidth)"},
{"swarm.bandwidth.correlated", SK_BOOL, 0, 0, 0, "true", "", NULL,
 "lognormal and table: one draw scales a peer's uplink and downlink together"},
{"swarm.bandwidth.classes", SK_GROUP_LIST, 0, 0, 0, NULL, "", NULL,
 "table: classes of peers, counts by largest remainder of fraction x peers, placed at random (seed)"},
{"swarm.bandwidth.classes[].fraction", SK_FLOAT, R | LO, 0, 1, NULL, "", NULL, "share of peers; the shares sum to 1"},
{"swarm.bandwidth.classes[].up_mbps", SK_FLOAT, R, MIN_MBPS, MAX_MBPS, NULL, "Mbit/s", NULL, "uplink (median when sigma > 0)"},
{"swarm.bandwidth.classes[].down_mbps", SK_FLOAT, R, MIN_MBPS, MAX_MBPS, NULL, "Mbit/s", NULL, "downlink (median when sigma > 0)"},
{"swarm.bandwidth.classes[].sigma", SK_FLOAT, 0, 0, 5, "0", "", NULL, "lognormal spread within the class"},
{"swarm.bandwidth.up_list_mbps", SK_FLOAT_LIST, 0, MIN_MBPS, MAX_MBPS, NULL, "Mbit/s", NULL, "list: uplink of each peer (R x S entries)"},
{"swarm.bandwidth.down_list_mbps", SK_FLOAT_LIST, 0, MIN_MBPS, MAX_MBPS, NULL, "Mbit/s", NULL, "list: downlink of each peer (R x S entries)"},

/* ---- faults ---- */
{"faults", SK_GROUP, 0, 0, 0, NULL, "", NULL, "churn, spot reclaims, stragglers, profile files"},
{"faults.churn", SK_GROUP, 0, 0, 0, NULL, "", NULL, "every peer alternates up ~ Exp(mtbf) and down ~ Exp(mttr)"},
{"faults.churn.enabled", SK_BOOL, 0, 0, 0, "false", "", NULL, "turn the process on"},
{"faults.churn.mtbf_h", SK_FLOAT, 0, MIN_H, MAX_H, NULL, "h", NULL, "mean up time (required when enabled)"},
{"faults.churn.mttr_h", SK_FLOAT, 0, MIN_H, MAX_H, NULL, "h", NULL, "mean down time (required when enabled)"},
{"faults.spot", SK_GROUP, 0, 0, 0, NULL, "", NULL, "spot instances: reclaimed with notice, restarted later"},
{"faults.spot.enabled", SK_BOOL, 0, 0, 0, "false", "", NULL, "turn the process on"},
{"faults.spot.fraction", SK_FLOAT, LO, 0, 1, "1", "", NULL, "share of peers on spot instances (chosen at random, seed)"},
{"faults.spot.reclaim_interval_h", SK_FLOAT, 0, MIN_H, MAX_H, NULL, "h", NULL, "mean up time between reclaims of one instance (required when enabled)"},
{"faults.spot.notice_s", SK_FLOAT, 0, 0, MAX_S, NULL, "s", NULL, "warning before the instance goes down (required when enabled)"},
{"faults.spot.restart_s", SK_FLOAT, 0, 0, MAX_S, NULL, "s", NULL, "delay until a replacement rejoins (required when enabled)"},
{"faults.spot.restart_exponential", SK_BOOL, 0, 0, 0, "false", "", NULL, "restart delay ~ Exp(restart_s) instead of fixed"},
{"faults.spot.price_factor", SK_FLOAT, LO, 0, 1, "1", "", NULL, "spot price / on-demand price of spot peers"},
{"faults.stragglers", SK_GROUP, 0, 0, 0, NULL, "", NULL, "a share of peers alternates slow and normal periods"},
{"faults.stragglers.enabled", SK_BOOL, 0, 0, 0, "false", "", NULL, "turn the process on"},
{"faults.stragglers.fraction", SK_FLOAT, LO, 0, 1, NULL, "", NULL, "share of peers that straggle (required when enabled)"},
{"faults.stragglers.kind", SK_ENUM, 0, 0, 0, "\"speed\"", "", "speed|bandwidth|both", "what a slow period slows"},
{"faults.stragglers.multiplier", SK_FLOAT, LO | HI, 0, 1, NULL, "", NULL, "speed/bandwidth multiplier while slow, 0.25 = 4x slower (required when enabled)"},
{"faults.stragglers.slow_s", SK_FLOAT, 0, MIN_S, MAX_S, NULL, "s", NULL, "mean slow period (required when enabled and not permanent)"},
{"faults.stragglers.normal_s", SK_FLOAT, 0, MIN_S, MAX_S, NULL, "s", NULL, "mean normal period between slow ones (required when enabled and not permanent)"},
{"faults.stragglers.permanent", SK_BOOL, 0, 0, 0, "false", "", NULL, "stragglers are slow all the time (slow_s and normal_s refused)"},
{"faults.profiles", SK_GROUP_LIST, 0, 0, 0, NULL, "", NULL, "per-peer profile files (SimGrid style 'time value' lines, LOOPAFTER)"},
{"faults.profiles[].peer", SK_INT, R, 0, 100000000, NULL, "", NULL, "peer index (replica x S + stage)"},
{"faults.profiles[].kind", SK_ENUM, R, 0, 0, NULL, "", "state|speed|bandwidth", "state = up (1) / down (0); speed and bandwidth = multipliers"},
{"faults.profiles[].file", SK_PATH, R, 0, 0, NULL, "", NULL, "profile file, relative to the file that names it"},

/* ---- compute ---- */
{"compute", SK_GROUP, 0, 0, 0, NULL, "", NULL, "how compute-task durations are obtained"},
{"compute.mode", SK_ENUM, 0, 0, 0, "\"modeled\"", "", "modeled|live",
 "modeled = hardware FLOPs / (peak x efficiency x speed); live = real kernels on real tensors"},
{"compute.kernel_profile", SK_PATH, 0, 0, 0, NULL, "", NULL,
 "kernel profile written by `orionsim calibrate` (efficiency per task kind), relative to this file"},
{"compute.efficiency", SK_GROUP, 0, 0, 0, NULL, "", NULL,
 "achieved fraction of the device's peak per task kind; required in modeled mode without a kernel profile (a profile overrides the kinds it measures)"},
{"compute.efficiency.forward", SK_FLOAT, 0, MIN_EFF, 1, NULL, "", NULL, "stage forward: fraction of bf16 peak FLOP/s"},
{"compute.efficiency.backward", SK_FLOAT, 0, MIN_EFF, 1, NULL, "", NULL, "backward work (also in the last stage's fused step): fraction of bf16 peak"},
{"compute.efficiency.recompute", SK_FLOAT, 0, MIN_EFF, 1, NULL, "", NULL, "forward recomputed inside a backward: fraction of bf16 peak"},
{"compute.efficiency.optimizer", SK_FLOAT, 0, MIN_EFF, 1, NULL, "", NULL, "inner optimizer step (memory-bound): fraction of peak memory bandwidth"},
{"compute.efficiency.merge", SK_FLOAT, 0, MIN_EFF, 1, NULL, "", NULL, "outer merge of a partition (memory-bound): fraction of peak memory bandwidth"},
{"compute.backend", SK_ENUM, 0, 0, 0, "\"auto\"", "", "auto|cpu|cuda", "live mode: kernel backend"},
{"compute.live_time", SK_ENUM, 0, 0, 0, "\"measured\"", "", "measured|modeled",
 "live mode: task durations from the kernels' measured time (scaled to the simulated device; varies run to run with the host's timing) or from the FLOP model (deterministic event order; losses still real); modeled with compute.kernel_profile from `orionsim calibrate` replays once-measured kernel efficiencies reproducibly"},
{"compute.gpus", SK_INT, 0, 0, 1024, "0", "", NULL, "live mode on CUDA: GPUs to spread the peers over, round-robin (0: every GPU found)"},
{"compute.val_microbatches", SK_INT, 0, 0, 65536, "8", "", NULL, "live mode: held-out microbatches for the validation loss at each cycle end"},
{"compute.local_device", SK_STRING, 0, 0, 0, NULL, "", NULL,
 "live mode: device-table name of the local GPU, to scale measured times to the simulated device"},

/* ---- metrics ---- */
{"metrics", SK_GROUP, 0, 0, 0, NULL, "", NULL, "what the run measures"},
{"metrics.mfu_window_h", SK_FLOAT, LO, 0, MAX_H, "6", "h", NULL, "length of the best sustained MFU window (Orion report: 6 h)"},
{"metrics.colocated_baseline", SK_BOOL, 0, 0, 0, "true", "", NULL, "also run the same GPUs on an ideal network for speed vs co-located"},
{"metrics.sample_s", SK_FLOAT, 0, MIN_S, MAX_S, "60", "s", NULL, "sampling interval of the time series"},

/* ---- output ---- */
{"output", SK_GROUP, 0, 0, 0, NULL, "", NULL, "the trace"},
{"output.trace", SK_STRING, 0, 0, 0, NULL, "", NULL, "trace path, relative to the working directory and inside it (no absolute path, no ..; -o writes anywhere); an existing non-orionsim file is not replaced without run --force (absent: results/<name>.h5)"},
{"output.events", SK_ENUM, 0, 0, 0, "\"all\"", "", "all|none|first", "events table: every event, none, or the first events_cycles cycles"},
{"output.events_cycles", SK_INT, 0, 1, 1000000, NULL, "cycles", NULL, "cycles kept in the events table (events = \"first\" only)"},
{"output.flush", SK_ENUM, 0, 0, 0, "\"phase\"", "", "phase|cycle", "flush the trace after every phase or every cycle"},

/* ---- reference ---- */
{"reference", SK_GROUP, 0, 0, 0, NULL, "", NULL, "published figures of the run: the check, never an input (not inherited through base)"},
{"reference.source", SK_STRING, 0, 0, 0, NULL, "", NULL, "title of the publication (required when any figure is given)"},
{"reference.url", SK_STRING, 0, 0, 0, NULL, "", NULL, "where it is published (required when any figure is given)"},
{"reference.extra_sources", SK_STRING_LIST, 0, 0, 0, NULL, "", NULL, "further sources of figures, 'title <url>' each"},
{"reference.notes", SK_STRING, 0, 0, 0, NULL, "", NULL, "how the figures are to be read"},
{"reference.utilisation", SK_FLOAT, 0, 0, 1, NULL, "", NULL, "training time / total time"},
{"reference.training_phase_min", SK_FLOAT, LO, 0, NOMAX, NULL, "min", NULL, "mean training phase"},
{"reference.sync_phase_min", SK_FLOAT, LO, 0, NOMAX, NULL, "min", NULL, "mean synchronisation phase"},
{"reference.mfu", SK_FLOAT, 0, 0, 1, NULL, "", NULL, "average MFU (over training)"},
{"reference.mfu_peak", SK_FLOAT, 0, 0, 1, NULL, "", NULL, "best sustained MFU"},
{"reference.mfu_peak_window_h", SK_FLOAT, LO, 0, NOMAX, NULL, "h", NULL, "window of mfu_peak"},
{"reference.throughput_tok_s", SK_FLOAT, LO, 0, NOMAX, NULL, "tokens/s", NULL, "average system throughput"},
{"reference.speed_vs_colocated", SK_FLOAT, LO, 0, NOMAX, NULL, "", NULL, "average speed relative to co-located GPUs"},
{"reference.speed_vs_colocated_peak", SK_FLOAT, LO, 0, NOMAX, NULL, "", NULL, "peak speed relative to co-located GPUs"},
{"reference.tokens", SK_FLOAT, LO, 0, NOMAX, NULL, "tokens", NULL, "tokens trained"},
{"reference.duration_h", SK_FLOAT, LO, 0, NOMAX, NULL, "h", NULL, "wall-clock duration"},
{"reference.cycles", SK_FLOAT, LO, 0, NOMAX, NULL, "cycles", NULL, "cycles reported"},
{"reference.cost_per_peer_hour", SK_FLOAT, 0, 0, NOMAX, NULL, "USD/h", NULL, "price of one peer-hour"},
{"reference.cost_per_replica_hour", SK_FLOAT, 0, 0, NOMAX, NULL, "USD/h", NULL, "price of one replica-hour"},
{"reference.activation_mib_raw", SK_FLOAT, LO, 0, NOMAX, NULL, "MiB", NULL, "activation per hop, uncompressed"},
{"reference.activation_mib_compressed", SK_FLOAT, LO, 0, NOMAX, NULL, "MiB", NULL, "activation per hop, compressed"},
{"reference.params", SK_FLOAT, LO, 0, NOMAX, NULL, "", NULL, "parameter count"},
};
/* clang-format on */

const int sk_schema_len = (int)(sizeof sk_schema / sizeof sk_schema[0]);

const sk_alternative sk_alternatives[] = {
    {"swarm", {"device", "device_per_replica", "device_per_peer", "device_mix", NULL}},
    {"swarm", {"region", "region_per_replica", "region_per_peer", "region_mix", NULL}},
    {"training", {"tokens", "cycles", NULL, NULL, NULL}},
};
const int sk_alternatives_len = (int)(sizeof sk_alternatives / sizeof sk_alternatives[0]);

const sk_dependent sk_dependents[] = {
    {"output", "events", "first", "events_cycles"},
};
const int sk_dependents_len = (int)(sizeof sk_dependents / sizeof sk_dependents[0]);
