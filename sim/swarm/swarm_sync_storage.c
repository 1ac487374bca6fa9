/* sim/swarm/swarm_sync_storage.c: an all-gather of pseudo-gradients through object
 * storage, SparseLoCo-style (DDP comparison runs): every eligible peer uploads its
 * (compressed) pseudo-gradient, then downloads every other submitter's and applies the
 * average locally (a merge task); no merged weights travel. Under the overlap schedule a
 * member that has every update while it still trains applies them when the training
 * phase ends (resume). */
#include <math.h>

#include "sim/swarm/swarm_internal.h"

static void st_begin(swarm *sw) {
    if (swarm_sync_enter(sw, SWARM_PHASE_UPLOADING)) swarm_sync_upload_all(sw);
}

/* Apply the average of the updates (and its own): a memory-bound GPU task. */
static void start_apply(swarm *sw, peer *p) {
    p->sync.merge_ready = 0;
    swarm_start_gpu_task(
        sw, p, &swarm_sync_storage, TASK_MERGE, -1, 0,
        swarm_merge_seconds(sw, p, (double)sw->stage_params[0], p->sync.merge_part + 1));
    p->sync.merge_part = -1;
}

static void download_update_done(swarm *sw, const xfer *x, int ok) {
    (void)ok;
    peer *p = &sw->peers[x->dst];
    if (!p->sync.member || p->sync.done || --p->sync.downloads_left > 0) return;
    if (swarm_sync_gpu_free(sw) && p->task == TASK_NONE) start_apply(sw, p);
    else p->sync.merge_ready = 1; /* it trains: applied when the training phase ends */
}

static void st_resume(swarm *sw) {
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->sync.member && p->sync.merge_ready && !p->sync.done && p->task == TASK_NONE)
            start_apply(sw, p);
    }
}

static const swarm_xfer_kind XK_DOWNLOAD_UPDATE = {"download update", SWARM_EV_DOWNLOAD_PARTITION,
                                                   XG_SYNC, download_update_done};

/* Each peer fetches every other submitter's pseudo-gradient. */
static void st_uploads_settled(swarm *sw) {
    int64_t bytes = (int64_t)ceil((double)sw->stage_params[0] * sw->cfg->outer.pg_bytes_per_param);
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (!p->sync.member || p->sync.done) continue;
        p->sync.downloads_left = 0;
        for (int k = 0; k < sw->n_peers; k++)
            if (k != i && sw->peers[k].sync.uploaded) p->sync.downloads_left++;
        p->sync.merge_part = p->sync.downloads_left; /* the updates this merge averages */
        if (p->sync.downloads_left == 0) {
            swarm_sync_peer_finished(sw, p);
            continue;
        }
        for (int k = 0; k < sw->n_peers; k++)
            if (k != i && sw->peers[k].sync.uploaded)
                xfer_start(sw, &XK_DOWNLOAD_UPDATE, -2, i, bytes, k, -1);
    }
}

static void st_task_done(swarm *sw, peer *p) {
    nm_time t0 = p->task_start, t1 = nm_now(sw->sim);
    p->acct[ACCT_MERGE] += nm_to_s(t1 - t0);
    p->task = TASK_NONE;
    swarm_emit(sw, p->id, SWARM_OTHER_NONE, SWARM_EV_MERGE, -1, 0, 0, t0, t1);
    swarm_acct_enter(sw, p);
    swarm_sync_peer_finished(sw, p);
}

static void st_peer_down(swarm *sw, peer *p) {
    if (!swarm_sync_in_phase(sw)) return;
    swarm_sync_peer_gone(sw, p);
    swarm_sync_maybe_end(sw);
}

static void st_live_stage(swarm *sw, int s, int *subs, int *n_subs, int *part_ok, int *n_parts) {
    int ns = 0;
    for (int r = 0; r < sw->R; r++) {
        peer *p = &sw->peers[sw->stage_peers[s * sw->R + r]];
        if (p->sync.uploaded) subs[ns++] = p->id;
    }
    *n_subs = ns;
    *n_parts = 1;
    part_ok[0] = ns > 0;
}

const swarm_phase_ops swarm_sync_storage = {
    .name = "storage",
    .begin_phase = st_begin,
    .peer_down = st_peer_down,
    .task_done = st_task_done,
    .uploads_settled = st_uploads_settled,
    .live_stage = st_live_stage,
    .resume = st_resume,
};
