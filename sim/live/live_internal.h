/* sim/live/live_internal.h: live mode's private state, shared by sim/live*.c only.
 *
 * Devices: dev[0..n_dev-1], one backend each (the CPU backend alone, or one CUDA
 * backend per GPU). Peer p lives on dev[p % n_dev]; the stages' global weights, their
 * outer momentum and the evaluation pipeline live on dev[0].
 *
 * Microbatch records (lmb) are indexed by id in a growing table of pointers; a record
 * exists while any of its buffers does. For boundary/stage s:
 *   in[s]    the input of stage s (tokens for s = 0), produced by the forward at s-1;
 *            owner[s] = the peer responsible for it: its sender while in transit
 *            (held[s] = 0), the receiver once that one's forward took it (held[s] = 1)
 *   grad[s]  the gradient of stage s's output, produced by the backward (or fused
 *            step) at s+1, consumed by the backward at s (whose peer is owner[s]).
 */
#ifndef SIM_LIVE_INTERNAL_H
#define SIM_LIVE_INTERNAL_H

#include <stdint.h>

#include "kernels/optim.h"
#include "kernels/stage.h"
#include "sim/live/live.h"
#include "sim/live/live_data.h"
#include "sim/live/live_merge.h"

#define LIVE_MAX_DEV 16

typedef struct {
    size_t bytes;
    void **free;
    int n, cap;
} live_pool;

typedef struct {
    kb_backend *be;
    int owned; /* close at the end */
    live_pool pools[4];
    int n_pools;
} live_dev;

typedef struct {
    int id, stage, replica, dev;
    int up;
    ks_stage *st;
    ko_inner_state opt;
    float *grad_backup; /* the gradient before the last backward (undo) */
    int64_t undo_mb;    /* microbatch of the last task if it was a backward, else -1 */
    float undo_loss;    /* its loss (last stage) */
    int64_t *accum;     /* microbatches accumulated since the last step */
    int n_accum, cap_accum;
    int64_t *slot_mb; /* recompute = 0: microbatch in each activation slot (-1 free) */
    int n_slots;
    int32_t *targets_dev; /* last stage: targets of the running step (device) */
    double loss_sum;      /* last stage: fused losses of the current inner step */
    int loss_n;
    int64_t steps; /* inner steps taken */
} live_peer;

typedef struct {
    void **in, **grad;
    int *owner, *held, *in_dev, *grad_dev;
    int n_bufs;
} lmb;

typedef struct {
    double sum;
    int n;
} live_acc;

/* Live mode's whole context, one per run, in groups by concern (devices, shapes, peers,
 * global weights, microbatches, timing, statistics). */
typedef struct live {
    const swarm_config *cfg;
    live_sink sink; /* ctx NULL, callbacks NULL: no rows recorded */
    live_config opt;
    char err[512];

    live_dev dev[LIVE_MAX_DEV];
    int n_dev;
    int S, R, n_peers, B, T, N;
    ks_wire in_wire0, act_wire; /* stage 0's token input; the boundary wire */
    live_peer *peers;
    live_data data;
    int32_t *host_in, *host_tg; /* N tokens each */

    /* stages: global weights (the eval stage's parameters), outer momentum */
    ks_stage **eval; /* per stage, on dev[0] */
    float **mom;
    int *merges;       /* per stage */
    void *eval_buf[2]; /* eval activations, dev[0] */
    int32_t *eval_tok, *eval_tg;

    /* microbatches */
    lmb **mbs;
    int64_t cap_mbs, lo_mbs;

    /* timing */
    double scale_compute[256], scale_opt[256]; /* per stage, measured rule */
    double local_peak;                         /* compute.local_device's peak, 0 if none */

    /* statistics */
    live_stats st;
    struct {
        double *loss; /* ring of the last loss rows (loss_final) */
        int n, cap, head;
    } recent;
    nm_time last_t;
    live_step_fn step_fn;
    void *step_ctx;
    struct live_ckpt *ck; /* checkpoints and resume (live_ckpt.c), NULL when not attached */
} live;

/* sim/live/live.c */
double live_now(void);
int live_fail(live *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *live_buf_get(live *L, int dev, size_t bytes);
void live_buf_put(live *L, int dev, void *p, size_t bytes);
lmb *live_mb(live *L, int64_t id, int create);
void live_mb_release(live *L, int64_t id); /* frees the record if it holds no buffer */
void live_free_in(live *L, lmb *m, int s);
void live_free_grad(live *L, lmb *m, int s);
/* Copy between devices (raw bytes). */
void live_move(live *L, int dst_dev, void *dst, int src_dev, const void *src, size_t bytes);
void live_move_f32(live *L, int dst_dev, float *dst, int src_dev, const float *src, size_t n);
size_t live_in_bytes(const live *L, int s);

/* sim/live/live_ckpt.c */
void live_ckpt_free(live *L);

/* sim/live/live_task.c */
double live_task(void *ctx, const swarm_task_info *t);
void live_drop(void *ctx, int peer, int64_t mb);
void live_peer_down(void *ctx, int peer);

/* sim/live/live_sync.c */
int live_peer_join(void *ctx, int peer);
int live_sync_stage(void *ctx, int stage, const int *submitters, int n_submitters,
                    const int *receivers, int n_receivers, const int *part_ok, int n_parts);
int live_cycle_end(void *ctx, int cycle, nm_time now, int64_t tokens_trained);
/* Validation loss of the merged model (mean over the validation microbatches); the
 * boundaries' mean reconstruction errors go to recon[S-1] when not NULL. */
double live_validate(live *L, double *recon);

#endif
