/* sim/swarm/swarm_xfer.c: the swarm's transfers over the network model.
 *
 * Each transfer is a record (its kind, for which microbatch or partition) in a pool,
 * plus one netmodel flow. When the flow ends, the record is copied out and freed before
 * the kind's handler runs, so handlers may start new transfers freely.
 */
#include <string.h>

#include "sim/base/util.h"
#include "sim/swarm/swarm_internal.h"

static int node_of(const swarm *sw, int who) { return who == -2 ? sw->storage : who; }

static void on_flow(nm_net *net, void *ctx, uint64_t arg, const nm_flow_result *r) {
    (void)net;
    swarm *sw = ctx;
    int id = (int)arg;
    xfer x = sw->xf.v[id];
    sw->xf.v[id].live = 0;
    sw->xf.v[id].next_free = sw->xf.free_head;
    sw->xf.free_head = id;
    int ok = r->status == NM_FLOW_DONE;
    /* the peer doing it: the sender, or the receiver of a download from storage */
    int who = x.src == -2 ? x.dst : x.src;
    int other = x.src == -2 ? SWARM_OTHER_STORAGE : x.dst == -2 ? SWARM_OTHER_STORAGE : x.dst;
    if (ok || r->bytes_delivered > 0)
        swarm_emit(sw, who, other, x.kind->event, x.mb, (int64_t)r->bytes_delivered, 0, r->t_start,
                   r->t_end);
    if (x.cancelled) return; /* abandoned on purpose at a phase boundary */
    x.kind->done(sw, &x, ok);
}

int xfer_start(swarm *sw, const swarm_xfer_kind *kind, int src, int dst, int64_t bytes, int64_t mb,
               int part) {
    if (sw->xf.free_head < 0) {
        int old = sw->xf.cap;
        sw->xf.cap = old ? old * 2 : 256;
        sw->xf.v = xrealloc(sw->xf.v, sizeof *sw->xf.v * (size_t)sw->xf.cap);
        for (int i = sw->xf.cap - 1; i >= old; i--) {
            sw->xf.v[i].live = 0;
            sw->xf.v[i].next_free = sw->xf.free_head;
            sw->xf.free_head = i;
        }
    }
    int id = sw->xf.free_head;
    xfer *x = &sw->xf.v[id];
    sw->xf.free_head = x->next_free;
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->src = src;
    x->dst = dst;
    x->mb = mb;
    x->part = part;
    x->cycle = sw->ph.cycle;
    x->bytes = bytes;
    x->t_start = nm_now(sw->sim);
    x->live = 1;
    x->flow = nm_net_start_flow(sw->net, node_of(sw, src), node_of(sw, dst), (uint64_t)bytes,
                                on_flow, sw, (uint64_t)id);
    return id;
}

static void cancel(swarm *sw, xfer *x) {
    x->cancelled = 1;
    nm_net_cancel_flow(sw->net, x->flow);
}

void xfer_cancel_group(swarm *sw, enum xfer_group group) {
    for (int i = 0; i < sw->xf.cap; i++)
        if (sw->xf.v[i].live && sw->xf.v[i].kind->group == group) cancel(sw, &sw->xf.v[i]);
}

void xfer_cancel_kind(swarm *sw, const swarm_xfer_kind *kind) {
    for (int i = 0; i < sw->xf.cap; i++)
        if (sw->xf.v[i].live && sw->xf.v[i].kind == kind) cancel(sw, &sw->xf.v[i]);
}
