/* sim/swarm/swarm_sync.c: what every synchronisation algorithm shares.
 *
 * A sync phase follows each training phase (the DiLoCo outer step). Its algorithms are
 * plug-ins (swarm_sync_butterfly.c, swarm_sync_ring.c, swarm_sync_storage.c); this file
 * holds their common ground:
 *   entering   every peer that trained (or still syncs) becomes SYNCING; the phase ends
 *              when each of them has finished (swarm_sync_peer_finished) or gone down,
 *              in an event of its own;
 *   uploading  (algorithms through storage) every peer with at least min_local_steps
 *              inner steps this cycle uploads its pseudo-gradient (stage params × pg
 *              bytes). The window closes when every upload has finished or failed, or
 *              upload_timeout_s after the upload quorum (a fraction of the expected
 *              uploads) has arrived; uploads still running then are cancelled and do not
 *              count. The algorithm's uploads_settled handler then starts its merging;
 *   the end    live mode's real outer step of every stage (submitters and merged
 *              partitions from the algorithm's live_stage), sync flows cancelled, and the
 *              schedule's exchange_done (sequential: the cycle done, the next training).
 * The exchange has its own state (sy.running, sy.state): under the sequential schedule
 * its steps are the run's phases; under the overlap schedule it may run hidden under a
 * training phase (sy.hidden), where its steps are not phases and its members (the peers
 * that entered it, p->sync.member) train meanwhile, so its GPU work (merges) waits for
 * swarm_sync_gpu_free.
 */
#include <math.h>
#include <stdlib.h>

#include "sim/base/util.h"
#include "sim/swarm/swarm_internal.h"

static void sync_end(swarm *sw);

static int sync_active(const swarm *sw) { return sw->sy.running; }

void swarm_sync_set_state(swarm *sw, swarm_phase phase) {
    sw->sy.state = phase;
    if (!sw->sy.hidden) swarm_phase_change(sw, phase);
}

int swarm_sync_gpu_free(const swarm *sw) { return !sw->sy.hidden; }

/* Seconds of a merge over n_params parameters from n_sub submitters: each submitter's
 * pseudo-gradient is read (pg bytes per parameter) and scatter-added into an fp32
 * accumulator (read + write, 4x the bytes of a bf16 element, so 4x the pg bytes), then
 * one pass applies the outer step (merge_bytes_per_param: weights, momentum, average).
 * Compressed pseudo-gradients thus cost in proportion to their size. */
double swarm_merge_seconds(const swarm *sw, const peer *p, double n_params, int n_sub) {
    double bytes = n_params * (n_sub * sw->cfg->outer.pg_bytes_per_param * 5.0 +
                               sw->cfg->compute.merge_bytes_per_param);
    return bytes /
           (sw->cfg->peers[p->id].mem_bw * sw->cfg->compute.merge_efficiency * p->speed_fault);
}

int swarm_sync_eligible(const swarm *sw, const peer *p) {
    return p->sync.member && p->state != PEER_DOWN &&
           p->steps_this_cycle >= sw->cfg->min_local_steps;
}

/* ---- the end of the phase ---- */

static void on_sync_end(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    swarm *sw = ctx;
    sw->ph.sync_end_pending = 0;
    if (sw->sy.peers_left <= 0) sync_end(sw);
}

/* The cycle ends in an event of its own, never under a caller iterating over peers. */
void swarm_sync_maybe_end(swarm *sw) {
    if (sw->sy.peers_left > 0 || sw->ph.sync_end_pending) return;
    sw->ph.sync_end_pending = 1;
    nm_schedule_in(sw->sim, 0, on_sync_end, sw, 0);
}

void swarm_sync_peer_finished(swarm *sw, peer *p) {
    if (p->sync.done) return;
    p->sync.done = 1;
    sw->sy.peers_left--;
    swarm_sync_maybe_end(sw);
}

void swarm_sync_peer_gone(swarm *sw, peer *p) {
    mbq_clear(&p->sync.merge_q);
    p->sync.member = p->sync.merge_ready = 0;
    if (!p->sync.done) {
        p->sync.done = 1;
        sw->sy.peers_left--;
    }
}

/* ---- entering ---- */

int swarm_sync_enter(swarm *sw, swarm_phase phase) {
    swarm_sync_set_state(sw, phase);
    sw->sy.running = 1;
    sw->sy.cycle = sw->ph.cycle;
    sw->sy.uploads_expected = sw->sy.uploads_done = sw->sy.uploads_failed = 0;
    sw->sy.quorum_reached = 0;
    sw->sy.peers_left = 0;
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        p->sync.uploaded = p->sync.upload_failed = 0;
        p->sync.done = 1;
        p->sync.member = p->sync.merge_ready = 0;
        p->sync.downloads_left = 0;
        mbq_clear(&p->sync.merge_q);
        if (p->state == PEER_TRAINING || p->state == PEER_SYNCING) {
            swarm_acct_leave(sw, p);
            p->state = PEER_SYNCING;
            swarm_acct_enter(sw, p);
            p->sync.done = 0;
            p->sync.member = 1;
            sw->sy.peers_left++;
        }
    }
    if (sw->sy.peers_left == 0) {
        swarm_sync_maybe_end(sw);
        return 0;
    }
    return 1;
}

/* ---- uploading ---- */

/* The window closed: uploads still running do not count; the algorithm merges. */
static void begin_merging(swarm *sw);

static void on_upload_timeout(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    swarm *sw = ctx;
    sw->sy.upload_timer = 0;
    if (sw->sy.running && sw->sy.state == SWARM_PHASE_UPLOADING) begin_merging(sw);
}

static void check_uploads(swarm *sw) {
    if (!sw->sy.running || sw->sy.state != SWARM_PHASE_UPLOADING) return;
    int settled = sw->sy.uploads_done + sw->sy.uploads_failed;
    if (settled >= sw->sy.uploads_expected) {
        if (sw->sy.upload_timer) nm_cancel(sw->sim, sw->sy.upload_timer);
        sw->sy.upload_timer = 0;
        begin_merging(sw);
        return;
    }
    if (!sw->sy.quorum_reached &&
        sw->sy.uploads_done >=
            (int)ceil(sw->cfg->outer.upload_quorum * sw->sy.uploads_expected - 1e-9)) {
        sw->sy.quorum_reached = 1;
        sw->sy.upload_timer = nm_schedule_in(sw->sim, nm_from_s(sw->cfg->outer.upload_timeout_s),
                                             on_upload_timeout, sw, 0);
    }
}

static void upload_done(swarm *sw, const xfer *x, int ok) {
    peer *p = &sw->peers[x->src];
    if (ok) {
        p->sync.uploaded = 1;
        sw->sy.uploads_done++;
    } else {
        p->sync.upload_failed = 1;
        sw->sy.uploads_failed++;
    }
    check_uploads(sw);
}

static const swarm_xfer_kind XK_UPLOAD_PG = {"upload pseudo-gradient", SWARM_EV_UPLOAD_PSEUDOGRAD,
                                             XG_SYNC, upload_done};

static void begin_merging(swarm *sw) {
    xfer_cancel_kind(sw, &XK_UPLOAD_PG);
    swarm_sync_set_state(sw, SWARM_PHASE_MERGING);
    sw->sync->uploads_settled(sw);
}

void swarm_sync_upload_all(swarm *sw) {
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (!swarm_sync_eligible(sw, p)) continue;
        sw->sy.uploads_expected++;
        int64_t bytes =
            (int64_t)ceil((double)sw->stage_params[p->stage] * sw->cfg->outer.pg_bytes_per_param);
        xfer_start(sw, &XK_UPLOAD_PG, p->id, -2, bytes, -1, -1);
    }
    if (sw->sy.uploads_expected == 0) {
        /* nobody trained enough: nothing to merge this cycle */
        for (int i = 0; i < sw->n_peers; i++) swarm_sync_peer_finished(sw, &sw->peers[i]);
        return;
    }
    check_uploads(sw);
}

/* ---- the end of the cycle ---- */

/* Live mode: the real outer step of every stage, with who submitted and who received. */
static void live_merge(swarm *sw) {
    const swarm_live_ops *L = sw->cfg->live;
    if (!L || !L->sync_stage) return;
    const int R = sw->R, P = sw->cfg->outer.partitions > 0 ? sw->cfg->outer.partitions : 1;
    int *subs = xmalloc(sizeof *subs * (size_t)R), *recv = xmalloc(sizeof *recv * (size_t)R);
    int *ok = xmalloc(sizeof *ok * (size_t)P);
    for (int s = 0; s < sw->n_stages && !sw->failed; s++) {
        int ns = 0, nr = 0, np = 1;
        sw->sync->live_stage(sw, s, subs, &ns, ok, &np);
        for (int r = 0; r < R; r++) {
            peer *p = &sw->peers[sw->stage_peers[s * R + r]];
            if (p->state == PEER_SYNCING) recv[nr++] = p->id;
        }
        if (L->sync_stage(L->ctx, s, subs, ns, recv, nr, ok, np))
            swarm_fail(sw, "live merge of stage %d: %s", s, L->error ? L->error(L->ctx) : "failed");
    }
    free(subs);
    free(recv);
    free(ok);
}

static void sync_end(swarm *sw) {
    if (!sync_active(sw)) return;
    if (sw->sy.upload_timer) nm_cancel(sw->sim, sw->sy.upload_timer);
    sw->sy.upload_timer = 0;
    live_merge(sw);
    xfer_cancel_group(sw, XG_SYNC);
    sw->sy.running = 0;
    for (int i = 0; i < sw->n_peers; i++)
        sw->peers[i].sync.member = sw->peers[i].sync.merge_ready = 0;
    sw->sched->exchange_done(sw);
}

int swarm_sync_in_phase(const swarm *sw) { return sync_active(sw); }
