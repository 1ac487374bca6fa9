/* netmodel/net.c: building the network, the life cycle of a flow (latency wait,
 * transfer, end), capacity and node-state changes, counters. The rate solver is in
 * net_share.c; the data structures in net_internal.h. */
#include "netmodel/net.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel/net_internal.h"
#include "netmodel/nm_alloc.h"

/* ---- small helpers ------------------------------------------------------------------ */

void nm_idvec_push(nm_idvec *v, uint32_t id) {
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 64;
        v->v = nm_xrealloc(v->v, v->cap * sizeof *v->v);
    }
    v->v[v->n++] = id;
}

void nm_idvec_free(nm_idvec *v) {
    free(v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

static void check_node(const nm_net *net, int node, const char *what) {
    if (node < 0 || node >= net->n_nodes)
        NM_FATAL("%s: no node %d (the network has %d)", what, node, net->n_nodes);
}

static void check_link(const nm_net *net, int link, const char *what) {
    if (link < 0 || link >= net->n_links)
        NM_FATAL("%s: no link %d (the network has %d)", what, link, net->n_links);
}

static void check_rate(double bps, int allow_zero, const char *what) {
    if (!isfinite(bps) || bps < 0 || (!allow_zero && bps == 0))
        NM_FATAL("%s: capacity %g bit/s is not %s", what, bps,
                 allow_zero ? "finite and >= 0" : "finite and > 0");
}

static nm_flow handle_of(const nm_net *net, uint32_t slot) {
    return ((nm_flow)net->flows[slot].gen << 32) | slot;
}

/* Slot of the flow named by handle h, or NM_NO_SLOT if stale. */
static uint32_t slot_of(const nm_net *net, nm_flow h) {
    uint32_t slot = (uint32_t)(h & 0xffffffffu), gen = (uint32_t)(h >> 32);
    if (gen == 0 || slot >= net->n_slots) return NM_NO_SLOT;
    const nm_flow_rec *f = &net->flows[slot];
    if (f->gen != gen || f->state == NM_FLOW_GONE) return NM_NO_SLOT;
    return slot;
}

/* ---- building ---------------------------------------------------------------------- */

nm_net *nm_net_new(nm_sim *sim, int n_regions) {
    NM_REQUIRE(sim != NULL, "nm_net_new: NULL sim");
    NM_REQUIRE(n_regions >= 1 && n_regions <= 65536, "nm_net_new: %d regions", n_regions);
    nm_net *net = nm_xcalloc(1, sizeof *net);
    net->sim = sim;
    net->n_regions = n_regions;
    net->lat = nm_xcalloc((size_t)n_regions * (size_t)n_regions, sizeof *net->lat);
    net->free_head = NM_NO_SLOT;
    return net;
}

void nm_net_free(nm_net *net) {
    if (!net) return;
    for (uint32_t i = 0; i < net->n_slots; i++)
        if (net->flows[i].state != NM_FLOW_GONE) nm_cancel(net->sim, net->flows[i].timer);
    for (int l = 0; l < net->n_links; l++) free(net->links[l].flows);
    free(net->links);
    free(net->nodes);
    free(net->flows);
    free(net->lat);
    free(net->pair_key);
    free(net->pair_lat);
    nm_idvec_free(&net->seeds);
    nm_idvec_free(&net->seed_flows);
    nm_idvec_free(&net->set);
    nm_idvec_free(&net->lset);
    nm_idvec_free(&net->viol);
    nm_idvec_free(&net->tmp);
    free(net);
}

nm_sim *nm_net_sim(const nm_net *net) { return net->sim; }

void nm_net_set_region_latency(nm_net *net, int ra, int rb, nm_time one_way) {
    NM_REQUIRE(ra >= 0 && ra < net->n_regions && rb >= 0 && rb < net->n_regions,
               "region latency: regions (%d, %d) out of 0..%d", ra, rb, net->n_regions - 1);
    NM_REQUIRE(one_way >= 0, "region latency: negative latency %lld ns", (long long)one_way);
    net->lat[(size_t)ra * (size_t)net->n_regions + (size_t)rb] = one_way;
}

static uint64_t pair_key(int a, int b) {
    uint64_t lo = (uint64_t)(a < b ? a : b), hi = (uint64_t)(a < b ? b : a);
    return ((lo << 32) | hi) + 1;
}

static size_t pair_hash(uint64_t key, size_t cap) {
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

static void pair_insert(nm_net *net, uint64_t key, nm_time lat) {
    size_t i = pair_hash(key, net->pair_cap);
    while (net->pair_key[i] && net->pair_key[i] != key) i = (i + 1) & (net->pair_cap - 1);
    if (!net->pair_key[i]) net->pair_n++;
    net->pair_key[i] = key;
    net->pair_lat[i] = lat;
}

void nm_net_set_pair_latency(nm_net *net, int a, int b, nm_time one_way) {
    check_node(net, a, "pair latency");
    check_node(net, b, "pair latency");
    NM_REQUIRE(a != b, "pair latency: a node paired with itself (%d)", a);
    NM_REQUIRE(one_way >= 0, "pair latency: negative latency %lld ns", (long long)one_way);
    if (2 * (net->pair_n + 1) > net->pair_cap) {
        size_t old_cap = net->pair_cap;
        uint64_t *old_key = net->pair_key;
        nm_time *old_lat = net->pair_lat;
        net->pair_cap = old_cap ? 2 * old_cap : 16;
        net->pair_key = nm_xcalloc(net->pair_cap, sizeof *net->pair_key);
        net->pair_lat = nm_xcalloc(net->pair_cap, sizeof *net->pair_lat);
        net->pair_n = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old_key[i]) pair_insert(net, old_key[i], old_lat[i]);
        free(old_key);
        free(old_lat);
    }
    pair_insert(net, pair_key(a, b), one_way);
}

static int new_link(nm_net *net, double bps, int node) {
    NM_REQUIRE(net->n_links < INT32_MAX, "too many links");
    if (net->n_links == net->links_cap) {
        net->links_cap = net->links_cap ? 2 * net->links_cap : 64;
        net->links = nm_xrealloc(net->links, (size_t)net->links_cap * sizeof *net->links);
    }
    nm_link *l = &net->links[net->n_links];
    memset(l, 0, sizeof *l);
    l->nominal = l->cap = bps;
    l->node = node;
    return net->n_links++;
}

int nm_net_add_node(nm_net *net, int region, double up_bps, double down_bps) {
    NM_REQUIRE(region >= 0 && region < net->n_regions, "add node: region %d out of 0..%d", region,
               net->n_regions - 1);
    check_rate(up_bps, 0, "add node: uplink");
    check_rate(down_bps, 0, "add node: downlink");
    if (net->n_nodes == net->nodes_cap) {
        net->nodes_cap = net->nodes_cap ? 2 * net->nodes_cap : 64;
        net->nodes = nm_xrealloc(net->nodes, (size_t)net->nodes_cap * sizeof *net->nodes);
    }
    int id = net->n_nodes++;
    nm_node *n = &net->nodes[id];
    memset(n, 0, sizeof *n);
    n->region = region;
    n->is_up = 1;
    n->factor = 1.0;
    n->up_link = new_link(net, up_bps, id);
    n->down_link = new_link(net, down_bps, id);
    return id;
}

int nm_net_add_link(nm_net *net, double bps) {
    check_rate(bps, 1, "add link");
    return new_link(net, bps, -1);
}

void nm_net_attach(nm_net *net, int node, int link, int dirs) {
    check_node(net, node, "attach");
    check_link(net, link, "attach");
    NM_REQUIRE(net->links[link].node < 0, "attach: link %d is a node's own link", link);
    NM_REQUIRE(dirs > 0 && (dirs & ~(NM_OUT | NM_IN)) == 0, "attach: bad directions %d", dirs);
    nm_node *n = &net->nodes[node];
    if (dirs & NM_OUT) {
        NM_REQUIRE(n->n_out < NM_MAX_SHARED_PER_DIR,
                   "attach: node %d already has %d outgoing "
                   "shared links",
                   node, NM_MAX_SHARED_PER_DIR);
        n->out[n->n_out++] = link;
    }
    if (dirs & NM_IN) {
        NM_REQUIRE(n->n_in < NM_MAX_SHARED_PER_DIR,
                   "attach: node %d already has %d incoming "
                   "shared links",
                   node, NM_MAX_SHARED_PER_DIR);
        n->in[n->n_in++] = link;
    }
}

void nm_net_set_tcp_window(nm_net *net, double window_bytes) {
    NM_REQUIRE(isfinite(window_bytes) && window_bytes >= 0, "tcp window %g bytes", window_bytes);
    net->window_bytes = window_bytes;
}

void nm_net_set_ideal(nm_net *net, int ideal) { net->ideal = ideal != 0; }

int nm_net_n_nodes(const nm_net *net) { return net->n_nodes; }
int nm_net_n_links(const nm_net *net) { return net->n_links; }

int nm_net_node_uplink(const nm_net *net, int node) {
    check_node(net, node, "uplink");
    return net->nodes[node].up_link;
}

int nm_net_node_downlink(const nm_net *net, int node) {
    check_node(net, node, "downlink");
    return net->nodes[node].down_link;
}

nm_time nm_net_latency(const nm_net *net, int a, int b) {
    check_node(net, a, "latency");
    check_node(net, b, "latency");
    if (net->ideal || a == b) return 0;
    if (net->pair_n) {
        uint64_t key = pair_key(a, b);
        for (size_t i = pair_hash(key, net->pair_cap); net->pair_key[i];
             i = (i + 1) & (net->pair_cap - 1))
            if (net->pair_key[i] == key) return net->pair_lat[i];
    }
    return net
        ->lat[(size_t)net->nodes[a].region * (size_t)net->n_regions + (size_t)net->nodes[b].region];
}

/* ---- flow records ------------------------------------------------------------------ */

static uint32_t alloc_flow(nm_net *net) {
    if (net->free_head == NM_NO_SLOT) {
        NM_REQUIRE(net->n_slots < NM_NO_SLOT - 1, "too many live flows");
        if (net->n_slots == net->slots_cap) {
            net->slots_cap = net->slots_cap ? 2 * net->slots_cap : 256;
            net->flows = nm_xrealloc(net->flows, (size_t)net->slots_cap * sizeof *net->flows);
        }
        nm_flow_rec *f = &net->flows[net->n_slots];
        memset(f, 0, sizeof *f);
        f->gen = 1;
        f->next_free = NM_NO_SLOT;
        net->free_head = net->n_slots++;
    }
    uint32_t slot = net->free_head;
    net->free_head = net->flows[slot].next_free;
    return slot;
}

static void free_flow(nm_net *net, uint32_t slot) {
    nm_flow_rec *f = &net->flows[slot];
    f->state = NM_FLOW_GONE;
    f->gen = f->gen == UINT32_MAX ? 1 : f->gen + 1;
    f->next_free = net->free_head;
    net->free_head = slot;
}

/* Remaining bits of f at time t, at its current rate. */
static double rem_at(const nm_flow_rec *f, nm_time t) {
    double r = f->rem - f->rate * (double)(t - f->t_last) / 1e9;
    return r > 0 ? r : 0;
}

static double delivered_now(const nm_net *net, const nm_flow_rec *f) {
    if (f->state != NM_FLOW_ACTIVE || f->n_links == 0)
        return f->state == NM_FLOW_ENDING ? f->delivered : 0;
    return (f->bits - rem_at(f, nm_now(net->sim))) / 8.0;
}

void nm_flow_advance(nm_net *net, nm_flow_rec *f) {
    nm_time now = nm_now(net->sim);
    f->rem = rem_at(f, now);
    f->t_last = now;
}

static void on_complete(nm_sim *sim, void *ctx, uint64_t arg);

/* Nanoseconds to send `bits` at `rate`, rounded up (with a few ulps of slack so an exact
 * quotient is not pushed to the next ns by rounding); -1 if it would take more than a
 * century (treated as stalled). */
static nm_time transfer_ns(double bits, double rate) {
    if (bits <= 0) return 0;
    double x = bits * 1e9 / rate;
    if (!(x < 3.2e18)) return -1;
    return (nm_time)ceil(x * (1.0 - 4 * DBL_EPSILON));
}

void nm_flow_set_rate(nm_net *net, nm_flow_rec *f, double rate) {
    nm_flow_advance(net, f);
    f->rate = rate;
    nm_time dt = rate > 0 ? transfer_ns(f->rem, rate) : -1;
    if (dt < 0) {
        nm_cancel(net->sim, f->timer);
        f->timer = 0;
        return;
    }
    nm_time when = nm_now(net->sim) + dt;
    if (!f->timer || !nm_reschedule(net->sim, f->timer, when))
        f->timer = nm_schedule_at(net->sim, when, on_complete, net,
                                  handle_of(net, (uint32_t)(f - net->flows)));
}

/* ---- link membership ---------------------------------------------------------------- */

static void link_add_flow(nm_net *net, uint32_t link, uint32_t slot, int k) {
    nm_link *l = &net->links[link];
    if (l->n_flows == l->flows_cap) {
        l->flows_cap = l->flows_cap ? 2 * l->flows_cap : 8;
        l->flows = nm_xrealloc(l->flows, (size_t)l->flows_cap * sizeof *l->flows);
    }
    if (l->n_flows == 0) l->busy_since = nm_now(net->sim);
    net->flows[slot].lpos[k] = l->n_flows;
    l->flows[l->n_flows++] = slot;
}

/* Take f off its links, crediting `bytes` to each, and seed those that were full for
 * a re-solve (the others bottleneck no one). */
static void detach(nm_net *net, nm_flow_rec *f, double bytes) {
    nm_time now = nm_now(net->sim);
    for (int k = 0; k < f->n_links; k++) {
        nm_link *l = &net->links[f->links[k]];
        if (nm_link_full(net, l)) nm_idvec_push(&net->seeds, f->links[k]);
        uint32_t pos = f->lpos[k];
        uint32_t moved = l->flows[--l->n_flows];
        if (pos < l->n_flows) {
            l->flows[pos] = moved;
            nm_flow_rec *g = &net->flows[moved];
            for (int j = 0; j < g->n_links; j++)
                if (g->links[j] == f->links[k]) {
                    g->lpos[j] = pos;
                    break;
                }
        }
        l->bytes_done += bytes;
        if (l->n_flows == 0) l->busy_ns += now - l->busy_since;
    }
    f->n_links = 0;
}

static void add_path_link(nm_flow_rec *f, int link) {
    for (int k = 0; k < f->n_links; k++)
        if (f->links[k] == (uint32_t)link) return;
    f->links[f->n_links++] = (uint32_t)link;
}

/* ---- flow life cycle ---------------------------------------------------------------- */

/* Run f's callback and free its record. */
static void deliver(nm_net *net, uint32_t slot) {
    nm_flow_rec *f = &net->flows[slot];
    nm_flow_result r = {
        .id = handle_of(net, slot),
        .src = f->src,
        .dst = f->dst,
        .bytes = f->bytes,
        .bytes_delivered = f->delivered,
        .t_start = f->t_start,
        .t_transfer = f->t_transfer,
        .t_end = f->t_end,
        .status = (nm_flow_status)f->status,
    };
    nm_flow_cb cb = f->cb;
    void *ctx = f->ctx;
    uint64_t arg = f->arg;
    free_flow(net, slot);
    cb(net, ctx, arg, &r);
}

static nm_flow_rec *flow_of_event(nm_net *net, uint64_t arg, const char *what) {
    uint32_t slot = slot_of(net, arg);
    if (slot == NM_NO_SLOT) NM_FATAL("%s event for a stale flow", what);
    return &net->flows[slot];
}

static void on_complete(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    nm_net *net = ctx;
    nm_flow_rec *f = flow_of_event(net, arg, "completion");
    uint32_t slot = (uint32_t)(f - net->flows);
    f->timer = 0;
    f->delivered = (double)f->bytes;
    f->t_end = nm_now(net->sim);
    f->status = NM_FLOW_DONE;
    if (f->n_links) {
        f->rem = 0;
        detach(net, f, f->delivered); /* judges fullness with f's rate still counted */
        f->rate = 0;
        nm_net_solve(net);
        f = &net->flows[slot];
    } else {
        net->nodes[f->src].sent_done += f->delivered;
        net->nodes[f->dst].recv_done += f->delivered;
    }
    net->live--;
    net->stats.completions++;
    deliver(net, slot);
}

static void on_ended(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    nm_net *net = ctx;
    nm_flow_rec *f = flow_of_event(net, arg, "ending");
    deliver(net, (uint32_t)(f - net->flows));
}

/* f stops now with `status`: off the network at once (links seeded, the caller
 * solves), callback as an event at the current time. */
static void end_flow(nm_net *net, uint32_t slot, nm_flow_status status) {
    nm_flow_rec *f = &net->flows[slot];
    f->delivered = delivered_now(net, f);
    nm_cancel(net->sim, f->timer);
    if (f->n_links) {
        nm_flow_advance(net, f);
        detach(net, f, f->delivered);
        f->rate = 0;
    } else {
        net->nodes[f->src].sent_done += f->delivered;
        net->nodes[f->dst].recv_done += f->delivered;
    }
    f->state = NM_FLOW_ENDING;
    f->status = (uint8_t)status;
    f->t_end = nm_now(net->sim);
    net->live--;
    net->stats.failures++;
    f->timer = nm_schedule_at(net->sim, f->t_end, on_ended, net, handle_of(net, slot));
}

/* Latency over: join the links and take a share (or finish at once if empty). */
static void activate(nm_net *net, uint32_t slot) {
    nm_flow_rec *f = &net->flows[slot];
    nm_time now = nm_now(net->sim);
    f->state = NM_FLOW_ACTIVE;
    f->t_transfer = now;
    f->t_last = now;
    f->rate = 0;
    f->bneck = NM_BNECK_NONE;
    f->timer = 0;
    if (f->bytes == 0) {
        f->timer = nm_schedule_at(net->sim, now, on_complete, net, handle_of(net, slot));
        return;
    }
    nm_time lat = nm_net_latency(net, f->src, f->dst);
    f->cap_rate = net->window_bytes > 0 && lat > 0
                      ? net->window_bytes * 8.0 * 1e9 / (2.0 * (double)lat)
                      : INFINITY;
    const nm_node *s = &net->nodes[f->src], *d = &net->nodes[f->dst];
    f->n_links = 0;
    add_path_link(f, s->up_link);
    add_path_link(f, d->down_link);
    for (int i = 0; i < s->n_out; i++) add_path_link(f, s->out[i]);
    for (int i = 0; i < d->n_in; i++) add_path_link(f, d->in[i]);
    for (int k = 0; k < f->n_links; k++) {
        if (nm_link_full(net, &net->links[f->links[k]])) nm_idvec_push(&net->seeds, f->links[k]);
        link_add_flow(net, f->links[k], slot, k);
    }
    nm_idvec_push(&net->seed_flows, slot);
    nm_net_solve(net);
}

static void on_latency(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    nm_net *net = ctx;
    nm_flow_rec *f = flow_of_event(net, arg, "latency");
    activate(net, (uint32_t)(f - net->flows));
}

nm_flow nm_net_start_flow(nm_net *net, int src, int dst, uint64_t bytes, nm_flow_cb cb, void *ctx,
                          uint64_t arg) {
    check_node(net, src, "start flow: source");
    check_node(net, dst, "start flow: destination");
    NM_REQUIRE(cb != NULL, "start flow: NULL callback");
    NM_REQUIRE(bytes < (UINT64_C(1) << 53), "start flow: %llu bytes is too large",
               (unsigned long long)bytes);
    uint32_t slot = alloc_flow(net);
    nm_flow_rec *f = &net->flows[slot];
    nm_time now = nm_now(net->sim);
    f->state = NM_FLOW_LATENCY;
    f->status = NM_FLOW_DONE;
    f->n_links = 0;
    f->src = src;
    f->dst = dst;
    f->bytes = bytes;
    f->bits = (double)bytes * 8.0;
    f->rem = f->bits;
    f->rate = 0;
    f->cap_rate = INFINITY;
    f->t_start = now;
    f->t_last = now;
    f->t_transfer = -1;
    f->t_end = -1;
    f->delivered = 0;
    f->timer = 0;
    f->bneck = NM_BNECK_NONE;
    f->mark = f->chk = 0;
    f->cb = cb;
    f->ctx = ctx;
    f->arg = arg;
    net->live++;
    nm_flow h = handle_of(net, slot);
    if (!net->nodes[src].is_up || !net->nodes[dst].is_up) {
        end_flow(net, slot, NM_FLOW_NODE_DOWN);
    } else if (net->ideal || src == dst) {
        f->state = NM_FLOW_ACTIVE;
        f->t_transfer = now;
        f->rate = INFINITY;
        f->timer = nm_schedule_at(net->sim, now, on_complete, net, h);
    } else {
        nm_time lat = nm_net_latency(net, src, dst);
        if (lat > 0) f->timer = nm_schedule_at(net->sim, now + lat, on_latency, net, h);
        else activate(net, slot);
    }
    return h;
}

int nm_net_cancel_flow(nm_net *net, nm_flow h) {
    uint32_t slot = slot_of(net, h);
    if (slot == NM_NO_SLOT || net->flows[slot].state == NM_FLOW_ENDING) return 0;
    end_flow(net, slot, NM_FLOW_CANCELLED);
    nm_net_solve(net);
    return 1;
}

nm_flow_state nm_net_flow_state(const nm_net *net, nm_flow h) {
    uint32_t slot = slot_of(net, h);
    return slot == NM_NO_SLOT ? NM_FLOW_GONE : (nm_flow_state)net->flows[slot].state;
}

double nm_net_flow_rate(const nm_net *net, nm_flow h) {
    uint32_t slot = slot_of(net, h);
    if (slot == NM_NO_SLOT || net->flows[slot].state != NM_FLOW_ACTIVE) return -1;
    return net->flows[slot].rate;
}

double nm_net_flow_delivered(const nm_net *net, nm_flow h) {
    uint32_t slot = slot_of(net, h);
    return slot == NM_NO_SLOT ? -1 : delivered_now(net, &net->flows[slot]);
}

int nm_net_live_flows(const nm_net *net) { return net->live; }

/* ---- changes ------------------------------------------------------------------------ */

void nm_net_set_node_up(nm_net *net, int node, int up) {
    check_node(net, node, "set node up");
    nm_node *n = &net->nodes[node];
    up = up != 0;
    if (n->is_up == up) return;
    n->is_up = up;
    if (up) return;
    /* Every live flow touching the node, in slot order (deterministic). */
    for (uint32_t slot = 0; slot < net->n_slots; slot++) {
        const nm_flow_rec *f = &net->flows[slot];
        if ((f->state == NM_FLOW_LATENCY || f->state == NM_FLOW_ACTIVE) &&
            (f->src == node || f->dst == node))
            end_flow(net, slot, NM_FLOW_NODE_DOWN);
    }
    nm_net_solve(net);
}

int nm_net_node_is_up(const nm_net *net, int node) {
    check_node(net, node, "node is up");
    return net->nodes[node].is_up;
}

static void set_cap(nm_net *net, int link) {
    nm_link *l = &net->links[link];
    double cap = l->nominal * (l->node >= 0 ? net->nodes[l->node].factor : 1.0);
    if (cap == l->cap) return;
    l->cap = cap;
    nm_idvec_push(&net->seeds, (uint32_t)link);
}

void nm_net_set_node_bw_factor(nm_net *net, int node, double factor) {
    check_node(net, node, "bandwidth factor");
    NM_REQUIRE(isfinite(factor) && factor >= 0, "bandwidth factor %g for node %d", factor, node);
    nm_node *n = &net->nodes[node];
    n->factor = factor;
    set_cap(net, n->up_link);
    set_cap(net, n->down_link);
    nm_net_solve(net);
}

void nm_net_set_link_capacity(nm_net *net, int link, double bps) {
    check_link(net, link, "set link capacity");
    check_rate(bps, 1, "set link capacity");
    net->links[link].nominal = bps;
    set_cap(net, link);
    nm_net_solve(net);
}

double nm_net_link_capacity(const nm_net *net, int link) {
    check_link(net, link, "link capacity");
    return net->links[link].cap;
}

/* ---- counters ----------------------------------------------------------------------- */

double nm_net_link_bytes(const nm_net *net, int link) {
    check_link(net, link, "link bytes");
    const nm_link *l = &net->links[link];
    double b = l->bytes_done;
    for (uint32_t i = 0; i < l->n_flows; i++) b += delivered_now(net, &net->flows[l->flows[i]]);
    return b;
}

nm_time nm_net_link_busy_ns(const nm_net *net, int link) {
    check_link(net, link, "link busy time");
    const nm_link *l = &net->links[link];
    return l->busy_ns + (l->n_flows ? nm_now(net->sim) - l->busy_since : 0);
}

double nm_net_node_bytes_sent(const nm_net *net, int node) {
    check_node(net, node, "bytes sent");
    return net->nodes[node].sent_done + nm_net_link_bytes(net, net->nodes[node].up_link);
}

double nm_net_node_bytes_received(const nm_net *net, int node) {
    check_node(net, node, "bytes received");
    return net->nodes[node].recv_done + nm_net_link_bytes(net, net->nodes[node].down_link);
}

nm_net_stats nm_net_get_stats(const nm_net *net) { return net->stats; }
