/* sim/trace/trace_sink.c: the engine's observations written into an HDF5 trace. */
#include "sim/trace/trace_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"

/* Engine event kind -> trace event code (the published numbering). */
static const int32_t event_code[SWARM_EV_KINDS] = {
    [SWARM_EV_FORWARD] = TRACE_EV_FORWARD,
    [SWARM_EV_BACKWARD] = TRACE_EV_BACKWARD,
    [SWARM_EV_RECOMPUTE_BACKWARD] = TRACE_EV_RECOMPUTE_BACKWARD,
    [SWARM_EV_LAST_FUSED] = TRACE_EV_LAST_FUSED,
    [SWARM_EV_OPTIMIZER] = TRACE_EV_OPTIMIZER,
    [SWARM_EV_SEND_ACTIVATION] = TRACE_EV_SEND_ACTIVATION,
    [SWARM_EV_SEND_GRADIENT] = TRACE_EV_SEND_GRADIENT,
    [SWARM_EV_UPLOAD_PSEUDOGRAD] = TRACE_EV_UPLOAD_PSEUDOGRAD,
    [SWARM_EV_DOWNLOAD_PARTITION] = TRACE_EV_DOWNLOAD_PARTITION,
    [SWARM_EV_MERGE] = TRACE_EV_MERGE,
    [SWARM_EV_UPLOAD_MERGED] = TRACE_EV_UPLOAD_MERGED,
    [SWARM_EV_DOWNLOAD_MERGED] = TRACE_EV_DOWNLOAD_MERGED,
    [SWARM_EV_DOWNLOAD_WEIGHTS] = TRACE_EV_DOWNLOAD_WEIGHTS,
    [SWARM_EV_IDLE] = TRACE_EV_IDLE,
    [SWARM_EV_WAITING] = TRACE_EV_WAITING,
    [SWARM_EV_DOWN] = TRACE_EV_DOWN,
    [SWARM_EV_DROPPED] = TRACE_EV_DROPPED,
};
_Static_assert((int)SWARM_EV_KINDS == (int)TRACE_EV_KINDS,
               "every engine event kind has a trace code");

static const int32_t phase_code[SWARM_PHASES] = {
    [SWARM_PHASE_TRAINING] = TRACE_PHASE_TRAINING,
    [SWARM_PHASE_UPLOADING] = TRACE_PHASE_UPLOADING,
    [SWARM_PHASE_MERGING] = TRACE_PHASE_MERGING,
    [SWARM_PHASE_OTHER] = TRACE_PHASE_OTHER,
};
_Static_assert((int)SWARM_PHASES == (int)TRACE_PHASES, "every engine phase has a trace code");
_Static_assert(SWARM_OTHER_NONE == TRACE_OTHER_NONE && SWARM_OTHER_STORAGE == TRACE_OTHER_STORAGE,
               "`other` codes agree");

static int on_peers(void *ctx, const swarm_peer_row *rows, int n) {
    trace_peer_rec *pr = xcalloc((size_t)n, sizeof *pr);
    for (int i = 0; i < n; i++) {
        const swarm_peer_spec *s = rows[i].spec;
        pr[i].peer = rows[i].peer;
        pr[i].stage = rows[i].stage;
        pr[i].replica = rows[i].replica;
        pr[i].gpus = s->gpus;
        pr[i].peak_flops = s->peak_flops;
        pr[i].up_bps = s->up_bps;
        pr[i].down_bps = s->down_bps;
        pr[i].price_usd_per_h = s->price_per_h;
        snprintf(pr[i].device, sizeof pr[i].device, "%s", s->device);
        snprintf(pr[i].region, sizeof pr[i].region, "%s", s->region_name);
    }
    int rc = trace_write_peers(ctx, pr, (size_t)n);
    free(pr);
    return rc;
}

static int on_event(void *ctx, const swarm_event *e) {
    trace_event_rec r;
    memset(&r, 0, sizeof r);
    r.t_start_ns = e->t_start;
    r.t_end_ns = e->t_end;
    r.microbatch = e->microbatch;
    r.bytes = e->bytes;
    r.flops = e->flops;
    r.peer = e->peer;
    r.other = e->other;
    r.kind = event_code[e->kind];
    r.stage = e->stage;
    r.cycle = e->cycle;
    r.inner_step = e->inner_step;
    return trace_event(ctx, &r);
}

static int on_phase(void *ctx, int cycle, swarm_phase phase, nm_time t0, nm_time t1) {
    const trace_phase_rec r = {
        .cycle = cycle, .phase = phase_code[phase], .t_start_ns = t0, .t_end_ns = t1};
    return trace_phase(ctx, &r);
}

static int on_sample(void *ctx, const swarm_sample *s) {
    const trace_sample_rec r = {.t_ns = s->t,
                                .tokens_trained = s->tokens_trained,
                                .tokens_per_s = s->tokens_per_s,
                                .mfu_window = s->mfu_window,
                                .active_peers = s->active_peers,
                                .phase = phase_code[s->phase]};
    return trace_sample(ctx, &r);
}

static int on_cycle_end(void *ctx) { return trace_flush(ctx, NULL); }

static int on_peer_shares(void *ctx, const swarm_peer_share *s, int n) {
    trace_peer_share_rec *r = xcalloc((size_t)n, sizeof *r);
    for (int i = 0; i < n; i++)
        r[i] = (trace_peer_share_rec){.peer = s[i].peer,
                                      .stage = s[i].stage,
                                      .compute = s[i].compute,
                                      .recompute = s[i].recompute,
                                      .optimizer = s[i].optimizer,
                                      .merge = s[i].merge,
                                      .idle = s[i].idle,
                                      .waiting = s[i].waiting,
                                      .down = s[i].down};
    int rc = trace_write_peer_shares(ctx, r, (size_t)n);
    free(r);
    return rc;
}

static void on_events_dropped(void *ctx, uint64_t n) { trace_count_dropped_events(ctx, n); }

void trace_sink_make(trace *t, swarm_sink *out) {
    *out = (swarm_sink){.ctx = t,
                        .peers = on_peers,
                        .event = on_event,
                        .phase = on_phase,
                        .sample = on_sample,
                        .cycle_end = on_cycle_end,
                        .peer_shares = on_peer_shares,
                        .events_dropped = on_events_dropped};
}

/* ---- live mode's rows ---- */

static const int32_t loss_code[] = {
    [LIVE_LOSS_TRAIN] = TRACE_LOSS_TRAIN, [LIVE_LOSS_VALIDATION] = TRACE_LOSS_VALIDATION};

static int on_loss(void *ctx, const live_loss_row *l) {
    trace_loss_rec r;
    memset(&r, 0, sizeof r);
    r.t_ns = l->t;
    r.tokens = l->tokens;
    r.cycle = l->cycle;
    r.inner_step = l->inner_step;
    r.replica = l->replica;
    r.kind = loss_code[l->kind];
    r.loss = l->loss;
    return trace_loss(ctx, &r);
}

static int on_boundary(void *ctx, const live_boundary_row *b) {
    trace_boundary_rec r;
    memset(&r, 0, sizeof r);
    r.t_ns = b->t;
    r.cycle = b->cycle;
    r.boundary = b->boundary;
    r.recon_error = b->recon_error;
    return trace_boundary(ctx, &r);
}

static int on_task(void *ctx, const live_task_row *k) {
    trace_task_rec r;
    memset(&r, 0, sizeof r);
    r.t_start_ns = k->t_start;
    r.microbatch = k->microbatch;
    r.duration_s = k->duration;
    r.peer = k->peer;
    r.kind = k->kind;
    return trace_task(ctx, &r);
}

void trace_live_sink_make(trace *t, live_sink *out) {
    *out = (live_sink){.ctx = t, .loss = on_loss, .boundary = on_boundary, .task = on_task};
}
