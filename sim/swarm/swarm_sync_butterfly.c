/* sim/swarm/swarm_sync_butterfly.c: IOTA's butterfly all-reduce through object storage
 * (SPEC §3.2), all stages in parallel.
 *   uploading  every eligible peer uploads its pseudo-gradient (swarm_sync.c).
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
 *   publishing what an owner uploads after its merge (outer.publish_update):
 *              weights  the merged weights of the partition (IOTA), weight bytes;
 *              update   the merged outer update (new minus previous global weights),
 *                       compressed like the pseudo-gradients (pg bytes per parameter);
 *                       every peer adds it to its own copy of the previous global weights.
 *              With upload_momentum the owner's upload also carries the partition's outer
 *              momentum, in weight bytes, either way (peers do not download it).
 *
 * Bytes of one sync of a stage of P parameters, R replicas, p partitions of P/p each,
 * o owners per partition, n submitters, pseudo-gradient bytes g per parameter, weight
 * bytes w, m = 1 with upload_momentum, u = w (weights) or g (update):
 *   every submitter uploads               P g
 *   an owner of k partitions downloads    k n (P/p) g         (k = p o / R when R | p o)
 *   and uploads                           k (P/p) (u + m w)
 *   every peer of the stage downloads     P u
 * (IOTA: p = 2R, o = 2, so k = 4 and an owner moves 4 n P g / 2R down, 4 P (u + m w) / 2R
 * up). With each peer's links the only bottleneck and merges free, the phase is the
 * slowest stage's four steps in sequence, each latency + bytes x 8 / bandwidth.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"
#include "sim/swarm/swarm_internal.h"

typedef struct {
    int owners[8]; /* peers owning the partition (n = cfg->outer.owners) */
    int n_owners;
    int downloads_left[8]; /* per owner: downloads still to finish */
    int downloads_ok[8];
    int owner_alive[8]; /* the owner may still produce the partition */
    int n_submitters;
    int merged_by; /* first owner whose upload completed, -1 */
    int available; /* merged partition on storage */
    int dead;      /* no owner can merge it: skipped */
} partition;

static int64_t part_params(const swarm *sw, int stage, int j) {
    int64_t n = sw->stage_params[stage];
    int P = sw->cfg->outer.partitions;
    int64_t base = n / P, rem = n % P;
    return base + (j < rem ? 1 : 0);
}

/* Bytes per parameter of what owners publish and every peer downloads. */
static double published_bytes_per_param(const swarm *sw) {
    return sw->cfg->outer.publish_update ? sw->cfg->outer.pg_bytes_per_param
                                         : sw->cfg->outer.weight_bytes_per_param;
}

static partition *part_at(swarm *sw, int stage, int j) {
    partition *parts = sw->sy.priv;
    return &parts[stage * sw->cfg->outer.partitions + j];
}

static void bf_init(swarm *sw) {
    sw->sy.priv =
        xcalloc((size_t)sw->n_stages *
                    (size_t)(sw->cfg->outer.partitions > 0 ? sw->cfg->outer.partitions : 1),
                sizeof(partition));
}

static void bf_free(swarm *sw) {
    free(sw->sy.priv);
    sw->sy.priv = NULL;
}

static void bf_begin(swarm *sw) {
    if (swarm_sync_enter(sw, SWARM_PHASE_UPLOADING)) swarm_sync_upload_all(sw);
}

/* ---- merging ---- */

static void partition_dead(swarm *sw, int s, int j) {
    partition *pt = part_at(sw, s, j);
    if (pt->available || pt->dead) return;
    pt->dead = 1;
    for (int r = 0; r < sw->R; r++) {
        peer *p = &sw->peers[sw->stage_peers[s * sw->R + r]];
        if (p->state == PEER_SYNCING && !p->sync.done && --p->sync.downloads_left <= 0)
            swarm_sync_peer_finished(sw, p);
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

static void start_merges(swarm *sw, peer *p) {
    if (p->task != TASK_NONE || p->state != PEER_SYNCING || !p->sync.merge_q.n) return;
    int j = (int)mbq_pop(&p->sync.merge_q);
    partition *pt = part_at(sw, p->stage, j);
    int o = 0;
    while (o < pt->n_owners && pt->owners[o] != p->id) o++;
    swarm_start_gpu_task(
        sw, p, &swarm_sync_butterfly, TASK_MERGE, -1, 0,
        swarm_merge_seconds(sw, p, (double)part_params(sw, p->stage, j), pt->downloads_ok[o]));
    p->sync.merge_part = j;
}

static void merge_ready(swarm *sw, peer *p, int j) {
    mbq_push(&p->sync.merge_q, j);
    start_merges(sw, p);
}

static void download_part_done(swarm *sw, const xfer *x, int ok) {
    peer *p = &sw->peers[x->dst];
    partition *pt = part_at(sw, p->stage, x->part);
    int o = 0;
    while (o < pt->n_owners && pt->owners[o] != p->id) o++;
    if (o == pt->n_owners || !pt->owner_alive[o]) return;
    if (ok) pt->downloads_ok[o]++;
    if (--pt->downloads_left[o] == 0) {
        if (pt->downloads_ok[o] >=
                (int)ceil(sw->cfg->outer.merge_quorum * pt->n_submitters - 1e-9) &&
            pt->downloads_ok[o] > 0)
            merge_ready(sw, p, x->part);
        else owner_gone(sw, p->stage, x->part, o);
    }
}

static const swarm_xfer_kind XK_DOWNLOAD_PART = {"download partition", SWARM_EV_DOWNLOAD_PARTITION,
                                                 XG_SYNC, download_part_done};

static void bf_uploads_settled(swarm *sw) {
    const int P = sw->cfg->outer.partitions, R = sw->R;
    for (int i = 0; i < sw->n_peers; i++) {
        peer *p = &sw->peers[i];
        if (p->state == PEER_SYNCING && !p->sync.done) p->sync.downloads_left = P;
    }
    for (int s = 0; s < sw->n_stages; s++) {
        int subs[64], ns = 0;
        for (int r = 0; r < R; r++) {
            peer *p = &sw->peers[sw->stage_peers[s * R + r]];
            if (p->sync.uploaded && ns < 64) subs[ns++] = p->id;
        }
        for (int j = 0; j < P; j++) {
            partition *pt = part_at(sw, s, j);
            memset(pt, 0, sizeof *pt);
            pt->merged_by = -1;
            pt->n_owners = sw->cfg->outer.owners < R ? sw->cfg->outer.owners : R;
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
                (int64_t)ceil((double)part_params(sw, s, j) * sw->cfg->outer.pg_bytes_per_param);
            int any = 0;
            for (int o = 0; o < pt->n_owners; o++) {
                if (!pt->owner_alive[o]) continue;
                any = 1;
                pt->downloads_left[o] = ns;
                for (int k = 0; k < ns; k++)
                    xfer_start(sw, &XK_DOWNLOAD_PART, -2, pt->owners[o], bytes, subs[k], j);
            }
            if (!any) partition_dead(sw, s, j);
        }
    }
}

/* ---- merged partitions: upload, then every peer of the stage downloads ---- */

static void download_merged_done(swarm *sw, const xfer *x, int ok) {
    peer *p = &sw->peers[x->dst];
    if (ok && p->state == PEER_SYNCING && !p->sync.done && --p->sync.downloads_left <= 0)
        swarm_sync_peer_finished(sw, p);
}

static const swarm_xfer_kind XK_DOWNLOAD_MERGED = {"download merged", SWARM_EV_DOWNLOAD_MERGED,
                                                   XG_SYNC, download_merged_done};

static void partition_available(swarm *sw, int s, int j, int by) {
    partition *pt = part_at(sw, s, j);
    if (pt->available || pt->dead) return;
    pt->available = 1;
    pt->merged_by = by;
    int64_t bytes = (int64_t)ceil((double)part_params(sw, s, j) * published_bytes_per_param(sw));
    for (int r = 0; r < sw->R; r++) {
        peer *p = &sw->peers[sw->stage_peers[s * sw->R + r]];
        if (p->state == PEER_SYNCING && !p->sync.done)
            xfer_start(sw, &XK_DOWNLOAD_MERGED, -2, p->id, bytes, -1, j);
    }
}

static void upload_merged_done(swarm *sw, const xfer *x, int ok) {
    if (ok) {
        partition_available(sw, sw->peers[x->src].stage, x->part, x->src);
        return;
    }
    peer *p = &sw->peers[x->src];
    partition *pt = part_at(sw, p->stage, x->part);
    for (int o = 0; o < pt->n_owners; o++)
        if (pt->owners[o] == p->id) owner_gone(sw, p->stage, x->part, o);
}

static const swarm_xfer_kind XK_UPLOAD_MERGED = {"upload merged", SWARM_EV_UPLOAD_MERGED, XG_SYNC,
                                                 upload_merged_done};

static void bf_task_done(swarm *sw, peer *p) {
    int j = p->sync.merge_part;
    nm_time t0 = p->task_start, t1 = nm_now(sw->sim);
    p->acct[ACCT_MERGE] += nm_to_s(t1 - t0);
    p->task = TASK_NONE;
    swarm_emit(sw, p->id, SWARM_OTHER_NONE, SWARM_EV_MERGE, -1, 0, 0, t0, t1);
    partition *pt = part_at(sw, p->stage, j);
    if (!pt->available && !pt->dead) {
        double per_param =
            published_bytes_per_param(sw) +
            (sw->cfg->outer.upload_momentum ? sw->cfg->outer.weight_bytes_per_param : 0.0);
        int64_t bytes = (int64_t)ceil((double)part_params(sw, p->stage, j) * per_param);
        xfer_start(sw, &XK_UPLOAD_MERGED, p->id, -2, bytes, -1, j);
    }
    swarm_acct_enter(sw, p);
    start_merges(sw, p);
}

static void bf_peer_down(swarm *sw, peer *p) {
    if (!swarm_sync_in_phase(sw)) return;
    mbq_clear(&p->sync.merge_q);
    if (sw->sy.state == SWARM_PHASE_MERGING) {
        for (int j = 0; j < sw->cfg->outer.partitions; j++) {
            partition *pt = part_at(sw, p->stage, j);
            for (int o = 0; o < pt->n_owners; o++)
                if (pt->owners[o] == p->id) owner_gone(sw, p->stage, j, o);
        }
    }
    swarm_sync_peer_gone(sw, p);
    swarm_sync_maybe_end(sw);
}

static void bf_live_stage(swarm *sw, int s, int *subs, int *n_subs, int *part_ok, int *n_parts) {
    int ns = 0;
    for (int r = 0; r < sw->R; r++) {
        peer *p = &sw->peers[sw->stage_peers[s * sw->R + r]];
        if (p->sync.uploaded) subs[ns++] = p->id;
    }
    *n_subs = ns;
    *n_parts = sw->cfg->outer.partitions;
    for (int j = 0; j < *n_parts; j++) part_ok[j] = part_at(sw, s, j)->available;
}

const swarm_phase_ops swarm_sync_butterfly = {
    .name = "iota-butterfly",
    .init = bf_init,
    .free = bf_free,
    .begin_phase = bf_begin,
    .peer_down = bf_peer_down,
    .task_done = bf_task_done,
    .uploads_settled = bf_uploads_settled,
    .live_stage = bf_live_stage,
};
