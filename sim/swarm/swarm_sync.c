/* sim/swarm/swarm_sync.c: synchronisation (the DiLoCo outer step) after a training phase.
 *
 * iota-butterfly (SPEC §3.2), through object storage, all stages in parallel:
 *   uploading  every peer with at least min_local_steps inner steps this cycle uploads
 *              its pseudo-gradient (stage params × pg bytes). The window closes when
 *              every upload has finished or failed, or upload_timeout_s after the
 *              upload quorum (a fraction of the expected uploads) has arrived; uploads
 *              still running then are cancelled and do not count.
 *   merging    a stage's parameters are cut into `partitions` contiguous partitions,
 *              each owned by `owners` peers (partition j: replicas j, j+1, ... mod R).
 *              An owner downloads its partition from every submitter, merges when at
 *              least merge_quorum of those downloads succeeded (a memory-bound GPU task:
 *              submitters × params × bytes / memory bandwidth), and uploads the merged
 *              weights (and the outer momentum if configured). A partition is available
 *              once its first owner's upload lands; every peer of the stage downloads
 *              every available partition. A partition whose owners all died is skipped
 *              (the stage keeps its local values there). The phase ends when every
 *              present peer has all partitions of its stage.
 * ring: per stage, a ring all-reduce among the stage's submitters: 2(n-1) rounds in
 *       which each member sends size/n bytes to the next; a failure ends that stage's
 *       ring (its peers keep their local weights). Recorded as a merging phase.
 * ddp:  every peer holds the whole model (one stage). Transport ring: the ring above
 *       over all peers. Transport storage (SparseLoCo-style): every peer uploads its
 *       compressed pseudo-gradient, then downloads every other submitter's and applies
 *       the average locally (a merge task); no merged weights travel.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/swarm/swarm_internal.h"
#include "sim/base/util.h"

static int64_t part_params(const swarm *sw, int stage, int j) {
    int64_t n = sw->stage_params[stage];
    int P = sw->cfg->partitions;
    int64_t base = n / P, rem = n % P;
    return base + (j < rem ? 1 : 0);
}

static partition *part_at(swarm *sw, int stage, int j) {
    return &sw->parts[stage * sw->cfg->partitions + j];
}

static void sync_end(swarm *sw);
static void begin_merging(swarm *sw);

/* Seconds of a merge over n_params parameters from n_sub submitters: each submitter's
 * pseudo-gradient is read (pg bytes per parameter) and scatter-added into an fp32
 * accumulator (read + write, 4x the bytes of a bf16 element, so 4x the pg bytes), then
 * one pass applies the outer step (merge_bytes_per_param: weights, momentum, average).
 * Compressed pseudo-gradients thus cost in proportion to their size. */
static double merge_seconds(const swarm *sw, const peer *p, double n_params, int n_sub) {
    double bytes =
        n_params * (n_sub * sw->cfg->pg_bytes_per_param * 5.0 + sw->cfg->merge_bytes_per_param);
    return bytes / (sw->cfg->peers[p->id].mem_bw * sw->cfg->merge_efficiency * p->speed_fault);
}

static void on_upload_timeout(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    swarm *sw = ctx;
    sw->upload_timer = 0;
    if (sw->phase == SWARM_PHASE_UPLOADING) begin_merging(sw);
}

static void check_uploads(swarm *sw) {
    if (sw->phase != SWARM_PHASE_UPLOADING) return;
    int settled = sw->uploads_done + sw->uploads_failed;
    if (settled >= sw->uploads_expected) {
        if (sw->upload_timer) nm_cancel(sw->sim, sw->upload_timer);
        sw->upload_timer = 0;
        begin_merging(sw);
        return;
    }
    if (!sw->quorum_reached &&
        sw->uploads_done >= (int)ceil(sw->cfg->upload_quorum * sw->uploads_expected - 1e-9)) {
        sw->quorum_reached = 1;
        sw->upload_timer =
            nm_schedule_in(sw->sim, nm_from_s(sw->cfg->upload_timeout_s), on_upload_timeout, sw, 0);
    }
}

static void on_sync_end(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    swarm *sw = ctx;
    sw->sync_end_pending = 0;
    if (sw->peers_sync_left <= 0) sync_end(sw);
}

/* The cycle ends in an event of its own, never under a caller iterating over peers. */
static void maybe_end(swarm *sw) {
    if (sw->peers_sync_left > 0 || sw->sync_end_pending) return;
    sw->sync_end_pending = 1;
    nm_schedule_in(sw->sim, 0, on_sync_end, sw, 0);
}

static void peer_sync_finished(swarm *sw, peer *p) {
    if (p->sync_done) return;
    p->sync_done = 1;
    sw->peers_sync_left--;
    maybe_end(sw);
}

/* ---- ring all-reduce ---- */

static void ring_round_start(swarm *sw, int s);

static void ring_stage_done(swarm *sw, int s, int ok) {
    sw->ring_round[s] = -1;
    sw->ring_ok[s] = ok;
    for (int i = 0; i < sw->R; i++) {
        peer *p = &sw->peers[sw->stage_peers[s * sw->R + i]];
        if (p->state == PEER_SYNCING) peer_sync_finished(sw, p);
    }
}

static void ring_round_start(swarm *sw, int s) {
    int n = sw->ring_n[s];
    int *m = &sw->ring_members[s * sw->R];
    int64_t bytes = (int64_t)ceil((double)sw->stage_params[s] * sw->cfg->pg_bytes_per_param / n);
    sw->ring_left[s] = n;
    for (int i = 0; i < n; i++) xfer_start(sw, XF_RING, m[i], m[(i + 1) % n], bytes, -1, s);
}

/* ---- phase start ---- */

void sync_begin(swarm *sw) {
    const int ring = sw->cfg->sync == SYNC_RING ||
                     (sw->cfg->sync == SYNC_DDP && sw->cfg->ddp_transport == DDP_TRANSPORT_RING);
    swarm_phase_change(sw, ring ? SWARM_PHASE_MERGING : SWARM_PHASE_UPLOADING);
    sw->uploads_expected = sw->uploads_done = sw->uploads_failed = 0;
    sw->quorum_reached = 0;
    sw->peers_sync_left = 0;
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        p->uploaded = p->upload_failed = 0;
        p->sync_done = 1;
        p->downloads_left = 0;
        mbq_clear(&p->merge_q);
        if (p->state == PEER_TRAINING || p->state == PEER_SYNCING) {
            swarm_acct_leave(sw, p);
            p->state = PEER_SYNCING;
            swarm_acct_enter(sw, p);
            p->sync_done = 0;
            sw->peers_sync_left++;
        }
    }
    if (sw->peers_sync_left == 0) {
        maybe_end(sw);
        return;
    }
    const int min_steps = sw->cfg->min_local_steps;
    if (ring) {
        for (int s = 0; s < sw->n_stages; s++) {
            int n = 0;
            for (int r = 0; r < sw->R; r++) {
                peer *p = &sw->peers[sw->stage_peers[s * sw->R + r]];
                if (p->state == PEER_SYNCING && p->steps_this_cycle >= min_steps)
                    sw->ring_members[s * sw->R + n++] = p->id;
            }
            sw->ring_n[s] = n;
            if (n < 2) {
                ring_stage_done(sw, s, 0);
                continue;
            }
            sw->ring_round[s] = 0;
            ring_round_start(sw, s);
        }
        return;
    }
    /* iota-butterfly: upload pseudo-gradients */
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->state != PEER_SYNCING || p->steps_this_cycle < min_steps) continue;
        sw->uploads_expected++;
        int64_t bytes =
            (int64_t)ceil((double)sw->stage_params[p->stage] * sw->cfg->pg_bytes_per_param);
        xfer_start(sw, XF_UPLOAD_PG, p->id, -2, bytes, -1, -1);
    }
    if (sw->uploads_expected == 0) {
        /* nobody trained enough: nothing to merge this cycle */
        for (int i = 0; i < sw->n_peers; i++) peer_sync_finished(sw, &sw->peers[i]);
        return;
    }
    check_uploads(sw);
}

/* ---- merging ---- */

static void partition_dead(swarm *sw, int s, int j) {
    partition *pt = part_at(sw, s, j);
    if (pt->available || pt->dead) return;
    pt->dead = 1;
    for (int r = 0; r < sw->R; r++) {
        peer *p = &sw->peers[sw->stage_peers[s * sw->R + r]];
        if (p->state == PEER_SYNCING && !p->sync_done && --p->downloads_left <= 0)
            peer_sync_finished(sw, p);
    }
}

static void owner_gone(swarm *sw, int s, int j, int o) {
    partition *pt = part_at(sw, s, j);
    if (!pt->owner_alive[o]) return;
    pt->owner_alive[o] = 0;
    for (int k = 0; k < pt->n_owners; k++)
        if (pt->owner_alive[k]) return;
    partition_dead(sw, s, j);
}

static void start_merges(swarm *sw, peer *p);

/* DDP through storage: each peer fetches every other submitter's pseudo-gradient. */
static void begin_merging_ddp(swarm *sw) {
    int64_t bytes = (int64_t)ceil((double)sw->stage_params[0] * sw->cfg->pg_bytes_per_param);
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->state != PEER_SYNCING || p->sync_done) continue;
        p->downloads_left = 0;
        for (int k = 0; k < sw->n_peers; k++)
            if (k != i && sw->peers[k].uploaded) p->downloads_left++;
        p->merge_part = p->downloads_left;
        if (p->downloads_left == 0) {
            peer_sync_finished(sw, p);
            continue;
        }
        for (int k = 0; k < sw->n_peers; k++)
            if (k != i && sw->peers[k].uploaded)
                xfer_start(sw, XF_DOWNLOAD_PART, -2, i, bytes, k, -1);
    }
}

static void ddp_download_done(swarm *sw, peer *p) {
    if (p->state != PEER_SYNCING || p->sync_done || --p->downloads_left > 0) return;
    swarm_start_gpu_task(sw, p, TASK_MERGE, -1, 0,
                         merge_seconds(sw, p, (double)sw->stage_params[0], p->merge_part + 1));
    p->merge_part = -1;
}

static void begin_merging(swarm *sw) {
    xfer_cancel_kind(sw, XF_UPLOAD_PG);
    swarm_phase_change(sw, SWARM_PHASE_MERGING);
    if (sw->cfg->sync == SYNC_DDP) {
        begin_merging_ddp(sw);
        return;
    }
    const int P = sw->cfg->partitions, R = sw->R;
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->state == PEER_SYNCING && !p->sync_done) p->downloads_left = P;
    }
    for (int s = 0; s < sw->n_stages; s++) {
        int subs[64], ns = 0;
        for (int r = 0; r < R; r++) {
            peer *p = &sw->peers[sw->stage_peers[s * R + r]];
            if (p->uploaded && ns < 64) subs[ns++] = p->id;
        }
        for (int j = 0; j < P; j++) {
            partition *pt = part_at(sw, s, j);
            memset(pt, 0, sizeof *pt);
            pt->merged_by = -1;
            pt->n_owners = sw->cfg->owners < R ? sw->cfg->owners : R;
            pt->n_submitters = ns;
            for (int o = 0; o < pt->n_owners; o++) {
                int q = sw->stage_peers[s * R + (j + o) % R];
                pt->owners[o] = q;
                pt->owner_alive[o] = sw->peers[q].state == PEER_SYNCING;
            }
        }
        for (int j = 0; j < P; j++) {
            partition *pt = part_at(sw, s, j);
            if (ns == 0) {
                partition_dead(sw, s, j);
                continue;
            }
            int64_t bytes =
                (int64_t)ceil((double)part_params(sw, s, j) * sw->cfg->pg_bytes_per_param);
            int any = 0;
            for (int o = 0; o < pt->n_owners; o++) {
                if (!pt->owner_alive[o]) continue;
                any = 1;
                pt->downloads_left[o] = ns;
                for (int k = 0; k < ns; k++)
                    xfer_start(sw, XF_DOWNLOAD_PART, -2, pt->owners[o], bytes, subs[k], j);
            }
            if (!any) partition_dead(sw, s, j);
        }
    }
}

static void merge_ready(swarm *sw, peer *p, int j) {
    mbq_push(&p->merge_q, j);
    start_merges(sw, p);
}

static void start_merges(swarm *sw, peer *p) {
    if (p->task != TASK_NONE || p->state != PEER_SYNCING || !p->merge_q.n) return;
    int j = (int)mbq_pop(&p->merge_q);
    partition *pt = part_at(sw, p->stage, j);
    int o = 0;
    while (o < pt->n_owners && pt->owners[o] != p->id) o++;
    swarm_start_gpu_task(
        sw, p, TASK_MERGE, -1, 0,
        merge_seconds(sw, p, (double)part_params(sw, p->stage, j), pt->downloads_ok[o]));
    p->merge_part = j;
}

void sync_task_done(swarm *sw, peer *p) {
    int j = p->merge_part;
    nm_time t0 = p->task_start, t1 = nm_now(sw->sim);
    p->acct[ACCT_MERGE] += nm_to_s(t1 - t0);
    p->task = TASK_NONE;
    swarm_emit(sw, p->id, SWARM_OTHER_NONE, SWARM_EV_MERGE, -1, 0, 0, t0, t1);
    if (sw->cfg->sync == SYNC_DDP) {
        swarm_acct_enter(sw, p);
        peer_sync_finished(sw, p);
        return;
    }
    partition *pt = part_at(sw, p->stage, j);
    if (!pt->available && !pt->dead) {
        double mult = 1.0 + (sw->cfg->upload_momentum ? 1.0 : 0.0);
        int64_t bytes = (int64_t)ceil((double)part_params(sw, p->stage, j) *
                                      sw->cfg->weight_bytes_per_param * mult);
        xfer_start(sw, XF_UPLOAD_MERGED, p->id, -2, bytes, -1, j);
    }
    swarm_acct_enter(sw, p);
    start_merges(sw, p);
}

static void partition_available(swarm *sw, int s, int j, int by) {
    partition *pt = part_at(sw, s, j);
    if (pt->available || pt->dead) return;
    pt->available = 1;
    pt->merged_by = by;
    int64_t bytes = (int64_t)ceil((double)part_params(sw, s, j) * sw->cfg->weight_bytes_per_param);
    for (int r = 0; r < sw->R; r++) {
        peer *p = &sw->peers[sw->stage_peers[s * sw->R + r]];
        if (p->state == PEER_SYNCING && !p->sync_done)
            xfer_start(sw, XF_DOWNLOAD_MERGED, -2, p->id, bytes, -1, j);
    }
}

void sync_xfer_done(swarm *sw, xfer *x, int ok) {
    switch (x->kind) {
    case XF_UPLOAD_PG: {
        peer *p = &sw->peers[x->src];
        if (ok) {
            p->uploaded = 1;
            sw->uploads_done++;
        } else {
            p->upload_failed = 1;
            sw->uploads_failed++;
        }
        check_uploads(sw);
        break;
    }
    case XF_DOWNLOAD_PART: {
        peer *p = &sw->peers[x->dst];
        if (sw->cfg->sync == SYNC_DDP) {
            ddp_download_done(sw, p);
            break;
        }
        partition *pt = part_at(sw, p->stage, x->part);
        int o = 0;
        while (o < pt->n_owners && pt->owners[o] != p->id) o++;
        if (o == pt->n_owners || !pt->owner_alive[o]) break;
        if (ok) pt->downloads_ok[o]++;
        if (--pt->downloads_left[o] == 0) {
            if (pt->downloads_ok[o] >= (int)ceil(sw->cfg->merge_quorum * pt->n_submitters - 1e-9) &&
                pt->downloads_ok[o] > 0)
                merge_ready(sw, p, x->part);
            else owner_gone(sw, p->stage, x->part, o);
        }
        break;
    }
    case XF_UPLOAD_MERGED:
        if (ok) partition_available(sw, sw->peers[x->src].stage, x->part, x->src);
        else {
            peer *p = &sw->peers[x->src];
            partition *pt = part_at(sw, p->stage, x->part);
            for (int o = 0; o < pt->n_owners; o++)
                if (pt->owners[o] == p->id) owner_gone(sw, p->stage, x->part, o);
        }
        break;
    case XF_DOWNLOAD_MERGED: {
        peer *p = &sw->peers[x->dst];
        if (ok && p->state == PEER_SYNCING && !p->sync_done && --p->downloads_left <= 0)
            peer_sync_finished(sw, p);
        break;
    }
    case XF_RING: {
        int s = x->part;
        if (sw->ring_round[s] < 0) break;
        if (!ok) {
            ring_stage_done(sw, s, 0);
            break;
        }
        if (--sw->ring_left[s] == 0) {
            if (++sw->ring_round[s] >= 2 * (sw->ring_n[s] - 1)) ring_stage_done(sw, s, 1);
            else ring_round_start(sw, s);
        }
        break;
    }
    default: break;
    }
}

void sync_peer_down(swarm *sw, peer *p) {
    if (sw->phase != SWARM_PHASE_UPLOADING && sw->phase != SWARM_PHASE_MERGING) return;
    mbq_clear(&p->merge_q);
    if (sw->phase == SWARM_PHASE_MERGING && sw->cfg->sync == SYNC_IOTA_BUTTERFLY) {
        for (int j = 0; j < sw->cfg->partitions; j++) {
            partition *pt = part_at(sw, p->stage, j);
            for (int o = 0; o < pt->n_owners; o++)
                if (pt->owners[o] == p->id) owner_gone(sw, p->stage, j, o);
        }
    }
    if (!p->sync_done) {
        p->sync_done = 1;
        sw->peers_sync_left--;
    }
    if (sw->ring_round[p->stage] >= 0 && sw->ring_n[p->stage] > 0) {
        for (int i = 0; i < sw->ring_n[p->stage]; i++)
            if (sw->ring_members[p->stage * sw->R + i] == p->id) ring_stage_done(sw, p->stage, 0);
    }
    maybe_end(sw);
}

/* ---- end of the cycle ---- */

/* Live mode: the real outer step of every stage, with who submitted and who received. */
static void live_merge(swarm *sw) {
    const swarm_live_ops *L = sw->cfg->live;
    if (!L || !L->sync_stage) return;
    const int R = sw->R, P = sw->cfg->partitions > 0 ? sw->cfg->partitions : 1;
    const int ring = sw->cfg->sync == SYNC_RING ||
                     (sw->cfg->sync == SYNC_DDP && sw->cfg->ddp_transport == DDP_TRANSPORT_RING);
    int *subs = xmalloc(sizeof *subs * (size_t)R), *recv = xmalloc(sizeof *recv * (size_t)R);
    int *ok = xmalloc(sizeof *ok * (size_t)P);
    for (int s = 0; s < sw->n_stages && !sw->failed; s++) {
        int ns = 0, nr = 0, np = ring || sw->cfg->sync == SYNC_DDP ? 1 : P;
        for (int r = 0; r < R; r++) {
            peer *p = &sw->peers[sw->stage_peers[s * R + r]];
            int submitted = ring ? 0 : p->uploaded;
            if (ring)
                for (int i = 0; i < sw->ring_n[s]; i++)
                    submitted |= sw->ring_members[s * R + i] == p->id;
            if (submitted) subs[ns++] = p->id;
            if (p->state == PEER_SYNCING) recv[nr++] = p->id;
        }
        for (int j = 0; j < np; j++)
            ok[j] = ring                        ? sw->ring_ok[s]
                    : sw->cfg->sync == SYNC_DDP ? ns > 0
                                                : part_at(sw, s, j)->available;
        if (L->sync_stage(L->ctx, s, subs, ns, recv, nr, ok, np))
            swarm_fail(sw, "live merge of stage %d: %s", s, L->error ? L->error(L->ctx) : "failed");
    }
    free(subs);
    free(recv);
    free(ok);
}

static void sync_end(swarm *sw) {
    if (sw->phase != SWARM_PHASE_UPLOADING && sw->phase != SWARM_PHASE_MERGING) return;
    if (sw->upload_timer) nm_cancel(sw->sim, sw->upload_timer);
    sw->upload_timer = 0;
    live_merge(sw);
    xfer_cancel_sync(sw);
    swarm_cycle_done(sw);
}
