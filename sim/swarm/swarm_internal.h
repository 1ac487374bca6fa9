/* sim/swarm/swarm_internal.h: the swarm's private state, shared by sim/swarm*.c only.
 *
 * Peers are network nodes 0..n_peers-1; the object-storage node is node n_peers.
 * Microbatches live in one growing array indexed by id (never recycled: a 1.1B-token
 * Orion replay has ~140k of them, a few MB); their path through the stages is a flat
 * array of peer ids. A peer runs one GPU task at a time; backward work (and optimizer
 * steps) go before forwards.
 */
#ifndef SIM_SWARM_INTERNAL_H
#define SIM_SWARM_INTERNAL_H

#include <stdint.h>

#include "netmodel/event.h"
#include "netmodel/faults.h"
#include "netmodel/net.h"
#include "netmodel/rng.h"
#include "sim/swarm/swarm.h"

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

enum xfer_kind {
    XF_ACTIVATION = 0,
    XF_GRADIENT,
    XF_UPLOAD_PG,
    XF_DOWNLOAD_PART,
    XF_UPLOAD_MERGED,
    XF_DOWNLOAD_MERGED,
    XF_DOWNLOAD_JOIN,
    XF_RING
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

typedef struct {
    int64_t id;
    int cycle;
    uint8_t lost, trained;
    double flops; /* hardware FLOPs spent on it so far */
} mb_rec;

typedef struct {
    int64_t mb;       /* -1: free */
    nm_time deadline; /* activation timeout while waiting for the gradient; 0: none */
    int sent;         /* its activation left this peer */
} cache_slot;

/* A FIFO ring of microbatch ids. */
typedef struct {
    int64_t *v;
    int cap, head, n;
} mbq;

typedef struct {
    int id, stage, replica;
    enum peer_state state;
    int notice;                   /* a spot reclaim is announced */
    double speed_fault, bw_fault; /* multipliers from the fault processes */
    /* GPU */
    enum task_kind task;
    int64_t task_mb;
    nm_time task_start, task_end;
    double task_flops;
    nm_timer task_timer;
    mbq fwd_q, bwd_q;
    int opt_pending; /* optimizer steps owed */
    mbq merge_q;     /* partitions to merge (sync) */
    int merge_part;  /* partition of the running merge */
    int stale;       /* came back up: must download weights before training */
    nm_time down_since;
    /* cache */
    cache_slot *cache;
    int cache_used;
    mbq to_q;          /* sent activations in send order (deadlines ascend) */
    nm_timer to_timer; /* one timer: the earliest deadline in to_q */
    /* accounting */
    int backwards_since_step;
    int steps_this_cycle;
    double acct[ACCT_N];
    nm_time acct_since; /* start of the current idle/waiting/down interval */
    int acct_state;     /* bucket of that interval, or -1 while busy */
    /* routing */
    double ema_rate;     /* microbatches per second (ROUTE_SWARM) */
    double swrr_current; /* smooth weighted round robin state */
    nm_rng rng;
    /* sync */
    int uploaded, upload_failed;
    int downloads_left; /* merged partitions still to download */
    int sync_done;
    int ring_pending;
} peer;

typedef struct {
    enum xfer_kind kind;
    int src, dst; /* peers; -2 = storage */
    int64_t mb;
    int part; /* partition (sync) */
    int cycle;
    int64_t bytes;
    nm_time t_start;
    nm_flow flow;
    int live, cancelled;
    int next_free;
} xfer;

typedef struct {
    int owners[8]; /* peers owning the partition (n = cfg->owners) */
    int n_owners;
    int downloads_left[8]; /* per owner: downloads still to finish */
    int downloads_ok[8];
    int owner_alive[8]; /* the owner may still produce the partition */
    int n_submitters;
    int merged_by; /* first owner whose upload completed, -1 */
    int available; /* merged partition on storage */
    int dead;      /* no owner can merge it: skipped */
} partition;

typedef struct swarm {
    const swarm_config *cfg;
    nm_sim *sim;
    nm_net *net;
    nm_faults *faults;
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

    /* microbatches */
    mb_rec *mbs;
    int *paths; /* n_stages per microbatch: the peer at each stage */
    int64_t n_mbs, cap_mbs;
    mbq *parked; /* per stage: activations waiting for a slot downstream */

    /* transfers */
    xfer *xf;
    int n_xf, cap_xf, xf_free;

    /* phases */
    int cycle;
    swarm_phase phase;
    nm_time phase_start;
    int64_t target_mbs; /* stage-0 completions that end this training phase */
    int64_t done_this_phase;
    int64_t in_flight;
    int draining;
    int drain_check_pending, sync_end_pending;
    int finished;
    int64_t tokens_trained;
    int64_t mbs_injected, mbs_trained, mbs_lost;
    double wasted_flops;
    double phase_time[4];
    int n_training_phases, n_sync_phases;
    double training_phase_sum, sync_phase_sum;
    double training_tokens_time; /* tokens trained during training phases */
    int64_t tokens_in_training;

    /* sync */
    partition *parts; /* n_stages × partitions */
    int uploads_expected, uploads_done, uploads_failed;
    nm_timer upload_timer;
    int quorum_reached;
    int peers_sync_left;
    int *ring_round;   /* per stage: ring round in progress (-1 done) */
    int *ring_left;    /* per stage: flows of the round still running */
    int *ring_members; /* per stage × R: ring order */
    int *ring_n;
    int *ring_ok; /* per stage: the last ring completed */

    /* DDP */
    int ddp_steps_left;

    /* metrics */
    double fpt;                    /* model FLOPs per token */
    double peak_present;           /* Σ peak FLOP/s of the peers up now */
    double peak_integral;          /* ∫ peak_present dt over the run */
    double peak_integral_training; /* ... over the training phases */
    nm_time peak_t;                /* time the integrals were last advanced to */
    nm_time sync_start;
    int cycles_done;
    nm_profile **profiles; /* 3 × n_peers: state, speed, bandwidth */
    nm_timer sample_timer;
    double *ts_t, *ts_tokens, *ts_peak;
    int n_ts, cap_ts;
    int64_t last_sample_tokens;
    nm_time last_sample_t;
    uint64_t events_written, events_dropped;
    int progress_last;
} swarm;

/* sim/swarm/swarm_queue.c */
void mbq_init(mbq *q, int cap);
void mbq_free(mbq *q);
void mbq_push(mbq *q, int64_t v);
int64_t mbq_pop(mbq *q);
void mbq_clear(mbq *q);

/* sim/swarm/swarm.c */
double swarm_peer_peak(const swarm *sw, const peer *p);
int swarm_peer_present(const peer *p);
void swarm_emit(swarm *sw, int peer, int other, swarm_event_kind kind, int64_t mb, int64_t bytes,
                double flops, nm_time t0, nm_time t1);
void swarm_acct_enter(swarm *sw, peer *p); /* close the busy interval, open idle/waiting */
void swarm_acct_leave(swarm *sw, peer *p); /* close the idle/waiting/down interval */
void swarm_fail(swarm *sw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void swarm_phase_change(swarm *sw, int phase);
void swarm_cycle_done(swarm *sw);
void swarm_start_gpu_task(swarm *sw, peer *p, enum task_kind kind, int64_t mb, double flops,
                          double secs);
void swarm_join_done(swarm *sw, xfer *x, int ok);

/* sim/swarm/swarm_train.c */
void train_begin_phase(swarm *sw);
void train_kick(swarm *sw, peer *p); /* start the next GPU task if idle */
void train_peer_down(swarm *sw, peer *p);
void train_peer_ready(swarm *sw, peer *p); /* a peer became TRAINING */
void train_task_done(swarm *sw, peer *p);
void train_xfer_done(swarm *sw, xfer *x, int ok);
int64_t mb_new(swarm *sw, int cycle);
void mb_lose(swarm *sw, int64_t mb);

/* sim/swarm/swarm_route.c */
int route_pick(swarm *sw, peer *from, int next_stage, int64_t mb);
void route_observe(swarm *sw, peer *p, double flops, double task_s);

/* sim/swarm/swarm_sync.c */
void sync_begin(swarm *sw);
void sync_task_done(swarm *sw, peer *p);
void sync_xfer_done(swarm *sw, xfer *x, int ok);
void sync_peer_down(swarm *sw, peer *p);

/* sim/swarm/swarm_xfer.c */
int xfer_start(swarm *sw, enum xfer_kind kind, int src, int dst, int64_t bytes, int64_t mb,
               int part);
void xfer_cancel_training(swarm *sw); /* cancel activation/gradient flows in flight */
void xfer_cancel_kind(swarm *sw, enum xfer_kind kind);
void xfer_cancel_sync(swarm *sw); /* every flow of the sync phases */

/* sim/swarm/swarm_ddp.c */
void ddp_begin_phase(swarm *sw);
void ddp_begin_peer(swarm *sw, peer *p);
void ddp_task_done(swarm *sw, peer *p);
void ddp_peer_down(swarm *sw, peer *p);

#endif
