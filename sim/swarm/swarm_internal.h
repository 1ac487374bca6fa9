/* sim/swarm/swarm_internal.h: the swarm's private state, shared by the files of sim/swarm/ only.
 *
 * Peers are network nodes 0..n_peers-1; the object-storage node is node n_peers.
 * Microbatches live in one growing array indexed by id (never recycled: a 1.1B-token
 * Orion replay has ~140k of them, a few MB); their path through the stages is a flat
 * array of peer ids. A peer runs one GPU task at a time; backward work (and optimizer
 * steps) go before forwards.
 *
 * Plug-ins. The engine core (swarm.c, swarm_peer.c, swarm_metrics.c) knows no training
 * or synchronisation algorithm: it calls them through tables of handlers
 * (swarm_phase_ops), chosen by name when the run starts (swarm_registry.c):
 *   training   "pipeline" (IOTA's pipeline, swarm_train.c), "ddp" (swarm_ddp.c)
 *   sync       "iota-butterfly" (swarm_sync_butterfly.c), "ring" (swarm_sync_ring.c),
 *              "storage" (swarm_sync_storage.c); their shared part is swarm_sync.c
 *   routing    "iota", "swarm", "fixed" (swarm_route.c)
 *   schedule   "sequential", "overlap" (swarm_schedule.c): training and sync in turn, or
 *              the exchange of round r under round r+1's training
 * A GPU task remembers the table that started it, and a transfer its kind
 * (swarm_xfer_kind), which names the handler of its end: nothing in the core switches
 * on an algorithm, a task or a transfer. A new sync algorithm is a new file with its
 * table, plus one line in swarm_registry.c.
 */
#ifndef SIM_SWARM_INTERNAL_H
#define SIM_SWARM_INTERNAL_H

#include <stdint.h>

#include "netmodel/event.h"
#include "netmodel/faults.h"
#include "netmodel/net.h"
#include "netmodel/rng.h"
#include "sim/swarm/swarm.h"

typedef struct swarm swarm;
typedef struct peer peer;

/* Slots allocated per peer under auto_max_cache (the cache may grow up to this). */
#define SWARM_AUTO_CACHE_MAX 1024
typedef struct xfer xfer;

enum peer_state {
    PEER_DOWN = 0,
    PEER_JOINING,  /* downloading its stage's weights before it trains */
    PEER_TRAINING, /* takes work during a training phase */
    PEER_SYNCING,  /* in the synchronisation phases */
    PEER_WAITING   /* up, waiting for the next training phase */
};

enum task_kind {
    TASK_NONE = 0,
    TASK_FORWARD,
    TASK_BACKWARD, /* backward (with recompute if configured) */
    TASK_FUSED,    /* last stage forward + loss + backward */
    TASK_OPTIMIZER,
    TASK_MERGE,
    TASK_DDP_STEP /* DDP: one inner step of the whole model on a node */
};

/* GPU-time accounting buckets per peer (summary shares). */
enum acct {
    ACCT_COMPUTE = 0,
    ACCT_RECOMPUTE,
    ACCT_OPTIMIZER,
    ACCT_MERGE,
    ACCT_IDLE,
    ACCT_WAITING,
    ACCT_DOWN,
    ACCT_N
};

/* ---- plug-in tables ---- */

/* The handlers of one phase algorithm. A training algorithm provides begin_phase (a
 * training phase starts), peer_ready (a peer finished joining during it), peer_down and
 * task_done; a sync algorithm provides begin_phase (called by the trainer when training
 * ends), peer_down (a syncing peer went down), task_done (its merges), uploads_settled
 * (if it starts with swarm_sync_upload_all) and live_stage.
 * Handlers a module does not need are NULL. */
typedef struct swarm_phase_ops {
    const char *name;
    int pipelined; /* training: stages pass activations (else every node holds the model) */
    void (*init)(swarm *sw); /* allocate private state (after the peers exist) */
    void (*free)(swarm *sw); /* release it */
    void (*begin_phase)(swarm *sw);
    void (*peer_ready)(swarm *sw, peer *p);
    void (*peer_down)(swarm *sw, peer *p);
    void (*task_done)(swarm *sw, peer *p);
    /* Sync through uploads: every pseudo-gradient upload finished or failed, or the
     * upload window closed (swarm_sync.c); the algorithm starts its merging. */
    void (*uploads_settled)(swarm *sw);
    /* Live mode, at the end of a sync: stage s's submitters (*n_subs), and for each of
     * its *n_parts partitions whether it was merged (part_ok). Arrays hold R entries. */
    void (*live_stage)(swarm *sw, int s, int *subs, int *n_subs, int *part_ok, int *n_parts);
    /* Sync under the overlap schedule: the exchange stopped being hidden under a
     * training phase; start the GPU work (merges) it deferred while the peers trained. */
    void (*resume)(swarm *sw);
} swarm_phase_ops;

/* How training phases and exchanges follow each other (swarm_schedule.c). */
typedef struct swarm_schedule {
    const char *name;
    /* every peer finished the training phase of round ph.cycle (the trainers call it) */
    void (*training_done)(swarm *sw);
    /* the running exchange ended: every member has what it needs (swarm_sync.c calls it) */
    void (*exchange_done)(swarm *sw);
} swarm_schedule;

/* Routing of activations to the next stage (swarm_route.c). */
typedef struct swarm_router {
    const char *name;
    /* Weight of candidate q (> 0), or NULL: the fixed replica path. */
    double (*weight)(const swarm *sw, const peer *q);
    /* Pick one of n candidates idx[] with weights w[]; from draws from its own stream. */
    int (*choose)(swarm *sw, peer *from, const int *idx, const double *w, int n);
} swarm_router;

/* Groups of transfers, cancelled together at phase boundaries. */
enum xfer_group { XG_TRAINING = 0, XG_SYNC, XG_JOIN };

/* A kind of transfer: its trace event, its group and the handler of its end. */
typedef struct swarm_xfer_kind {
    const char *name;
    swarm_event_kind event;
    enum xfer_group group;
    void (*done)(swarm *sw, const xfer *x, int ok);
} swarm_xfer_kind;

/* Registries (swarm_registry.c): the table of the given name, or NULL. */
const swarm_phase_ops *swarm_training_find(const char *name);
const swarm_phase_ops *swarm_sync_find(const char *name);
const swarm_router *swarm_router_find(const char *name);
const swarm_schedule *swarm_schedule_find(const char *name);

extern const swarm_phase_ops swarm_train_pipeline, swarm_train_ddp;
extern const swarm_phase_ops swarm_sync_butterfly, swarm_sync_ring, swarm_sync_storage;
extern const swarm_router swarm_route_iota, swarm_route_swarm, swarm_route_fixed;
extern const swarm_schedule swarm_schedule_sequential, swarm_schedule_overlap;

/* ---- state ---- */

typedef struct {
    int64_t id;
    int cycle;
    uint8_t lost, trained;
    double flops;      /* hardware FLOPs spent on it so far */
    nm_time parked_at; /* when it entered its sender's outbound queue (parked) */
} mb_rec;

typedef struct {
    int64_t mb;       /* -1: free */
    nm_time deadline; /* when the entry is dropped (cache TTL or round-trip timeout); 0: none */
    int sent;         /* its activation left this peer */
} cache_slot;

/* A FIFO ring of microbatch ids. */
typedef struct {
    int64_t *v;
    int cap, head, n;
} mbq;

struct peer {
    int id, stage, replica;
    enum peer_state state;
    int notice;                   /* a spot reclaim is announced */
    double speed_fault, bw_fault; /* multipliers from the fault processes */
    int stale;                    /* came back up: must download weights before training */
    nm_time down_since;
    /* GPU */
    enum task_kind task;
    const swarm_phase_ops *task_owner; /* the algorithm whose task_done ends it */
    int64_t task_mb;
    nm_time task_start, task_end;
    double task_flops;
    nm_timer task_timer;
    mbq fwd_q, bwd_q;
    int opt_pending; /* optimizer steps owed */
    /* cache */
    cache_slot *cache;
    int cache_used;
    int cache_n;             /* slots allocated */
    int cache_cap;           /* slots usable now (auto_max_cache grows and then freezes it) */
    int64_t backwards_total; /* backwards completed (auto_max_cache freezes after 3) */
    int fwd_incoming;        /* activations in flight to this peer (slot_at = forward) */
    mbq to_q;                /* entries with a deadline, in the order they were armed (ascending) */
    nm_timer to_timer;       /* one timer: the earliest deadline in to_q */
    nm_timer retry_timer;    /* a forward waiting for a free slot, or the next injection */
    nm_time next_inject;     /* stage 0: no injection before this (inject_period_s) */
    /* accounting */
    int backwards_since_step;
    int steps_this_cycle;
    double acct[ACCT_N];
    nm_time acct_since; /* start of the current idle/waiting/down interval */
    int acct_state;     /* bucket of that interval, or -1 while busy */
    struct {
        double ema_rate;     /* microbatches per second (the swarm router) */
        double swrr_current; /* smooth weighted round robin state */
        nm_rng rng;
    } route;
    struct {
        int uploaded, upload_failed;
        int downloads_left; /* merged partitions (or peers' updates) still to download */
        int done;
        int member;      /* takes part in the running exchange (until done or down) */
        int merge_ready; /* overlap: its merge waits for the end of the training phase */
        mbq merge_q;     /* partitions to merge */
        int merge_part;  /* partition of the running merge */
    } sync;
};

struct xfer {
    const swarm_xfer_kind *kind;
    int src, dst; /* peers; -2 = storage */
    int64_t mb;
    int part; /* partition (sync) */
    int cycle;
    int64_t bytes;
    nm_time t_start;
    nm_flow flow;
    int live, cancelled;
    int next_free;
};

/* The engine. Grouped by concern; each group is touched by the files named beside it. */
struct swarm {
    const swarm_config *cfg;
    const swarm_phase_ops *train, *sync; /* the chosen algorithms */
    const swarm_router *router;
    const swarm_schedule *sched;
    nm_sim *sim;
    nm_net *net;
    nm_faults *faults;
    nm_profile **profiles;  /* 3 × n_peers: state, speed, bandwidth */
    const swarm_sink *sink; /* NULL: nothing recorded */
    sim_summary *sum;
    volatile int *stop_flag;
    char *err;
    size_t errlen;
    int failed;

    int n_peers, n_stages, R, last;
    int storage; /* net node id of the storage */
    peer *peers;
    int *stage_peers;      /* n_stages × R: peer ids by (stage, replica) */
    int64_t *stage_params; /* parameters held by each stage */
    double *flops;         /* per stage × KM_TASK_KINDS, for one microbatch */

    struct { /* microbatches (swarm_train.c) */
        mb_rec *recs;
        int *paths; /* n_stages per microbatch: the peer at each stage */
        int64_t n, cap;
        mbq *parked;          /* per stage: activations waiting for a slot downstream */
        nm_timer *park_timer; /* per stage: the outbound TTL of the oldest parked one */
    } mb;

    struct { /* transfers (swarm_xfer.c) */
        xfer *v;
        int cap, free_head;
    } xf;

    struct { /* phases and cycles (swarm.c, the trainers) */
        int cycle;
        swarm_phase phase;
        nm_time phase_start;
        int64_t target_mbs;     /* stage-0 completions that end this training phase */
        int64_t phase_first_mb; /* first microbatch id of this training phase */
        int64_t done_this_phase;
        int draining;
        int check_pending, sync_end_pending;
        int finished;
        int cycles_done;
        double phase_time[SWARM_PHASES];
        int n_training_phases, n_sync_phases;
        double training_phase_sum, sync_phase_sum;
        nm_time sync_start; /* start of the sync time counted for the next exchange */
        int last_round;     /* overlap: the target is reached, no training round follows */
    } ph;

    struct { /* what was trained (swarm_train.c, swarm_ddp.c) */
        int64_t tokens_trained;
        int64_t injected, trained, lost, in_flight;
        double wasted_flops;
    } count;

    struct {               /* synchronisation shared by the sync algorithms (swarm_sync.c) */
        int running;       /* an exchange is under way */
        swarm_phase state; /* its step: uploading or merging */
        int hidden;        /* it runs under a training phase (overlap): no phase of its own */
        int cycle;         /* the round whose pseudo-gradients it exchanges */
        int uploads_expected, uploads_done, uploads_failed;
        nm_timer upload_timer;
        int quorum_reached;
        int peers_left;
        void *priv; /* the algorithm's own state */
    } sy;

    struct {                           /* metrics (swarm_metrics.c) */
        double fpt;                    /* model FLOPs per token */
        double peak_present;           /* Σ peak FLOP/s of the peers up now */
        double peak_integral;          /* ∫ peak_present dt over the run */
        double peak_integral_training; /* ... over the training phases */
        nm_time peak_t;                /* time the integrals were last advanced to */
        nm_timer sample_timer;
        double *ts_t, *ts_tokens, *ts_peak;
        double *ts_peak_train;   /* peak_integral_training at each sample */
        int64_t *ts_downs;       /* down_events at each sample */
        unsigned char *ts_allup; /* every peer up at the sample */
        int64_t down_events;     /* peers that went down so far */
        int n_ts, cap_ts;
        int64_t last_sample_tokens;
        nm_time last_sample_t;
        uint64_t events_written, events_dropped;
        int progress_last;
    } m;
};

/* sim/swarm/swarm_queue.c */
void mbq_init(mbq *q, int cap);
void mbq_free(mbq *q);
void mbq_push(mbq *q, int64_t v);
int64_t mbq_pop(mbq *q);
void mbq_clear(mbq *q);

/* sim/swarm/swarm.c: phases and cycles */
void swarm_fail(swarm *sw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void swarm_phase_change(swarm *sw, swarm_phase phase);
void swarm_cycle_done(swarm *sw);
/* An exchange ended: count the cycle, exposed_s of it spent outside training phases
 * (sequential: the whole sync); the live and sink end-of-cycle hooks. */
void swarm_cycle_count(swarm *sw, double exposed_s);
int swarm_check_finished(swarm *sw);  /* the target is reached: stop (1) */
void swarm_rejoin_waiting(swarm *sw); /* peers back during the sync fetch the weights */

/* sim/swarm/swarm_peer.c: peers, their GPU, faults and accounting */
double swarm_peer_peak(const swarm *sw, const peer *p);
void swarm_acct_enter(swarm *sw, peer *p); /* close the busy interval, open idle/waiting */
void swarm_acct_leave(swarm *sw, peer *p); /* close the idle/waiting/down interval */
void swarm_acct_rebucket(swarm *sw);       /* the phase changed: re-open every interval */
/* Start a GPU task of `secs` on p; owner->task_done runs when it ends. */
void swarm_start_gpu_task(swarm *sw, peer *p, const swarm_phase_ops *owner, enum task_kind kind,
                          int64_t mb, double flops, double secs);
int swarm_any_task(const swarm *sw);
/* p fetches its stage's current weights from storage before it trains again. */
void swarm_rejoin(swarm *sw, peer *p);
void swarm_on_fault(void *ctx, int node, nm_fault_kind kind, double value, nm_time t);

/* sim/swarm/swarm_metrics.c */
void swarm_emit(swarm *sw, int peer, int other, swarm_event_kind kind, int64_t mb, int64_t bytes,
                double flops, nm_time t0, nm_time t1);
void swarm_peak_advance(swarm *sw);
void swarm_on_sample(nm_sim *sim, void *ctx, uint64_t arg);
void swarm_fill_summary(swarm *sw, sim_summary *s);
int swarm_write_peer_shares(swarm *sw, double T);

/* sim/swarm/swarm_train.c (the pipeline trainer) */
int64_t mb_new(swarm *sw, int cycle);
void mb_lose(swarm *sw, int64_t mb);

/* 1 if p's cache takes one more entry (its capacity, or still growing under
 * auto_max_cache). */
int swarm_cache_has_room(const swarm *sw, const peer *p);

/* sim/swarm/swarm_route.c */
int route_pick(swarm *sw, peer *from, int next_stage, int64_t mb);
void route_observe(swarm *sw, peer *p, double flops, double task_s);

/* sim/swarm/swarm_sync.c: the part every sync algorithm shares */
/* The phase starts: trained peers -> SYNCING; 0 if nobody is left to sync (the phase
 * then ends by itself). */
int swarm_sync_enter(swarm *sw, swarm_phase phase);
int swarm_sync_in_phase(const swarm *sw); /* an exchange is running (uploading or merging) */
/* The exchange moves to `phase` (uploading, merging); recorded as a phase unless hidden. */
void swarm_sync_set_state(swarm *sw, swarm_phase phase);
/* 1 if a member may use its GPU for the exchange now (not while it trains: overlap). */
int swarm_sync_gpu_free(const swarm *sw);
void swarm_sync_peer_finished(swarm *sw, peer *p);
void swarm_sync_maybe_end(swarm *sw);
void swarm_sync_upload_all(swarm *sw); /* every eligible peer uploads its pseudo-gradient */
int swarm_sync_eligible(const swarm *sw, const peer *p);
/* A syncing peer went down: it no longer counts (the caller then calls maybe_end). */
void swarm_sync_peer_gone(swarm *sw, peer *p);
/* Seconds of a merge over n_params parameters from n_sub submitters on p. */
double swarm_merge_seconds(const swarm *sw, const peer *p, double n_params, int n_sub);

/* sim/swarm/swarm_xfer.c */
int xfer_start(swarm *sw, const swarm_xfer_kind *kind, int src, int dst, int64_t bytes, int64_t mb,
               int part);
void xfer_cancel_group(swarm *sw, enum xfer_group group);
void xfer_cancel_kind(swarm *sw, const swarm_xfer_kind *kind);

#endif
