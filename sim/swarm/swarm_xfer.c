/* sim/swarm/swarm_xfer.c: the swarm's transfers over the network model.
 *
 * Each transfer is a record (what it carries, for which microbatch or partition) in a
 * pool, plus one netmodel flow. When the flow ends, the record is copied out and freed
 * before the owner's handler runs, so handlers may start new transfers freely.
 */
#include <string.h>

#include "sim/swarm/swarm_internal.h"
#include "sim/base/util.h"

static int node_of(const swarm *sw, int who) { return who == -2 ? sw->storage : who; }

static int event_kind(enum xfer_kind k) {
    switch (k) {
    case XF_ACTIVATION: return SWARM_EV_SEND_ACTIVATION;
    case XF_GRADIENT: return SWARM_EV_SEND_GRADIENT;
    case XF_UPLOAD_PG: return SWARM_EV_UPLOAD_PSEUDOGRAD;
    case XF_DOWNLOAD_PART: return SWARM_EV_DOWNLOAD_PARTITION;
    case XF_UPLOAD_MERGED: return SWARM_EV_UPLOAD_MERGED;
    case XF_DOWNLOAD_MERGED: return SWARM_EV_DOWNLOAD_MERGED;
    case XF_DOWNLOAD_JOIN: return SWARM_EV_DOWNLOAD_WEIGHTS;
    case XF_RING: return SWARM_EV_UPLOAD_PSEUDOGRAD;
    }
    return SWARM_EV_SEND_ACTIVATION;
}

static void on_flow(nm_net *net, void *ctx, uint64_t arg, const nm_flow_result *r) {
    (void)net;
    swarm *sw = ctx;
    int id = (int)arg;
    xfer x = sw->xf[id];
    sw->xf[id].live = 0;
    sw->xf[id].next_free = sw->xf_free;
    sw->xf_free = id;
    int ok = r->status == NM_FLOW_DONE;
    /* the peer doing it: the sender, or the receiver of a download from storage */
    int who = x.src == -2 ? x.dst : x.src;
    int other = x.src == -2 ? SWARM_OTHER_STORAGE : x.dst == -2 ? SWARM_OTHER_STORAGE : x.dst;
    if (ok || r->bytes_delivered > 0)
        swarm_emit(sw, who, other, event_kind(x.kind), x.mb, (int64_t)r->bytes_delivered, 0,
                   r->t_start, r->t_end);
    if (x.cancelled) return; /* abandoned on purpose at a phase boundary */
    switch (x.kind) {
    case XF_ACTIVATION:
    case XF_GRADIENT: train_xfer_done(sw, &x, ok); break;
    case XF_DOWNLOAD_JOIN: swarm_join_done(sw, &x, ok); break;
    default: sync_xfer_done(sw, &x, ok); break;
    }
}

int xfer_start(swarm *sw, enum xfer_kind kind, int src, int dst, int64_t bytes, int64_t mb,
               int part) {
    if (sw->xf_free < 0) {
        int old = sw->cap_xf;
        sw->cap_xf = old ? old * 2 : 256;
        sw->xf = xrealloc(sw->xf, sizeof *sw->xf * (size_t)sw->cap_xf);
        for (int i = sw->cap_xf - 1; i >= old; i--) {
            sw->xf[i].live = 0;
            sw->xf[i].next_free = sw->xf_free;
            sw->xf_free = i;
        }
    }
    int id = sw->xf_free;
    xfer *x = &sw->xf[id];
    sw->xf_free = x->next_free;
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->src = src;
    x->dst = dst;
    x->mb = mb;
    x->part = part;
    x->cycle = sw->cycle;
    x->bytes = bytes;
    x->t_start = nm_now(sw->sim);
    x->live = 1;
    x->flow = nm_net_start_flow(sw->net, node_of(sw, src), node_of(sw, dst), (uint64_t)bytes,
                                on_flow, sw, (uint64_t)id);
    return id;
}

static void cancel_where(swarm *sw, int (*match)(const xfer *, int), int arg) {
    for (int i = 0; i < sw->cap_xf; i++)
        if (sw->xf[i].live && match(&sw->xf[i], arg)) {
            sw->xf[i].cancelled = 1;
            nm_net_cancel_flow(sw->net, sw->xf[i].flow);
        }
}

static int is_training(const xfer *x, int arg) {
    (void)arg;
    return x->kind == XF_ACTIVATION || x->kind == XF_GRADIENT;
}
static int is_kind(const xfer *x, int arg) { return (int)x->kind == arg; }
static int is_sync(const xfer *x, int arg) {
    (void)arg;
    return x->kind != XF_ACTIVATION && x->kind != XF_GRADIENT && x->kind != XF_DOWNLOAD_JOIN;
}

void xfer_cancel_training(swarm *sw) { cancel_where(sw, is_training, 0); }
void xfer_cancel_kind(swarm *sw, enum xfer_kind kind) { cancel_where(sw, is_kind, (int)kind); }
void xfer_cancel_sync(swarm *sw) { cancel_where(sw, is_sync, 0); }
