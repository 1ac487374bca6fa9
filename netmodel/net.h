/* netmodel/net.h: flow-level network with latency and max-min fair bandwidth sharing.
 *
 * Model (the fluid model of SimGrid's CM02, without its TCP corrections):
 *  - A node has an uplink and a downlink, each a link with a capacity in bits/s, and
 *    belongs to a region. Regions have a directed one-way latency matrix; a per-pair
 *    override (symmetric) replaces the matrix entry for two particular nodes.
 *  - Shared links (a datacenter egress, an object-storage front end) are extra links a
 *    node can be attached to: its outgoing flows (NM_OUT) and/or its incoming flows
 *    (NM_IN) also cross them. A link crossed twice by one flow counts once.
 *  - A flow src->dst of B bytes first waits the one-way latency, then transfers at its
 *    max-min fair share of every link it crosses (src's uplink, dst's downlink, the
 *    attached shared links), optionally capped at window*8/RTT (RTT = 2 x one-way
 *    latency; no cap when the latency is 0). Shares change only when a flow starts
 *    transferring or ends or a capacity changes; between those instants every rate is
 *    constant. A flow's finish time is rounded UP to the next nanosecond, so it never
 *    finishes before bytes/rate.
 *  - `ideal` mode: zero latency, infinite bandwidth: every flow finishes at its start.
 *  - A flow from a node to itself crosses no link and finishes at its start.
 *  - A node's bandwidth factor multiplies its uplink and downlink capacities
 *    (stragglers); a capacity of 0 stalls the flows crossing the link until it is raised.
 *  - A node going down fails every flow touching it, waiting or transferring; a flow
 *    started from or to a down node fails at once.
 *
 * Callbacks. Every started flow gets exactly one callback, with its outcome
 * (NM_FLOW_DONE or the failure reason) and the bytes delivered. Callbacks always run
 * from an event handler of the sim, never from inside an nm_net_* call: a flow that
 * fails at start, is cancelled or is cut by a node going down leaves the network at
 * once (its bandwidth is freed immediately) and its callback is an event at the
 * current time. A callback may start, cancel or change anything.
 *
 * Max-min fairness is computed by progressive filling (water-filling), incrementally:
 * a change re-solves only the flows on the links it touched, holding the others at
 * their rates, then verifies the max-min certificate (every flow has a bottleneck: a
 * saturated link on which no flow is faster, or its window cap) on the links around
 * the re-solved set, and widens the set to any flow that fails it until none does.
 * Flows whose rate did not change are not touched: each flow keeps its rate, the time
 * of its last update and one completion timer in the event core, moved only when its
 * rate changes. See netmodel/README.md.
 *
 * Ids: nodes and links are small integers in creation order; flows are handles
 * (slot + generation, 0 never valid) that go stale when the flow's callback has run.
 * Arguments out of range (unknown node, negative capacity, ...) are caller bugs:
 * "netmodel: file:line: message" and abort().
 */
#ifndef NETMODEL_NET_H
#define NETMODEL_NET_H

#include <stdint.h>

#include "netmodel/event.h"

typedef struct nm_net nm_net;
typedef uint64_t nm_flow;

typedef enum nm_flow_status {
    NM_FLOW_DONE = 0,      /* every byte delivered */
    NM_FLOW_NODE_DOWN = 1, /* source or destination was or went down */
    NM_FLOW_CANCELLED = 2, /* nm_net_cancel_flow */
} nm_flow_status;

/* What a flow's callback receives. */
typedef struct nm_flow_result {
    nm_flow id;
    int src, dst;
    uint64_t bytes;         /* requested */
    double bytes_delivered; /* == bytes when done */
    nm_time t_start;        /* when nm_net_start_flow was called */
    nm_time t_transfer;     /* end of the latency wait; -1 if it never got there */
    nm_time t_end;          /* completion or failure */
    nm_flow_status status;
} nm_flow_result;

typedef void (*nm_flow_cb)(nm_net *net, void *ctx, uint64_t arg, const nm_flow_result *r);

enum { NM_OUT = 1, NM_IN = 2 };

/* Most shared links one node can be attached to per direction. */
#define NM_MAX_SHARED_PER_DIR 3

/* ---- building ---------------------------------------------------------------------- */

/* A network on sim with n_regions regions (latencies 0 until set). */
nm_net *nm_net_new(nm_sim *sim, int n_regions);
/* Free the network (before its sim): pending flows are dropped without callbacks. */
void nm_net_free(nm_net *net);
nm_sim *nm_net_sim(const nm_net *net);

/* One-way latency from region a to region b (directed). */
void nm_net_set_region_latency(nm_net *net, int ra, int rb, nm_time one_way);
/* Override for the node pair (a, b), both directions. */
void nm_net_set_pair_latency(nm_net *net, int a, int b, nm_time one_way);

/* Add a node (up) with the given capacities (bits/s, > 0 and finite). Returns its id. */
int nm_net_add_node(nm_net *net, int region, double up_bps, double down_bps);
/* Add a shared link of capacity bps (>= 0, finite). Returns its link id. */
int nm_net_add_link(nm_net *net, double bps);
/* Make node's outgoing (NM_OUT) and/or incoming (NM_IN) flows cross link. */
void nm_net_attach(nm_net *net, int node, int link, int dirs);

/* TCP window cap in bytes (0 = none, the default). Applies to flows that start
 * transferring afterwards. */
void nm_net_set_tcp_window(nm_net *net, double window_bytes);
/* Ideal network (zero latency, infinite bandwidth) for flows started afterwards. */
void nm_net_set_ideal(nm_net *net, int ideal);

int nm_net_n_nodes(const nm_net *net);
int nm_net_n_links(const nm_net *net);
int nm_net_node_uplink(const nm_net *net, int node);
int nm_net_node_downlink(const nm_net *net, int node);
/* One-way latency from node a to node b (override, else region matrix; 0 if ideal). */
nm_time nm_net_latency(const nm_net *net, int a, int b);

/* ---- flows --------------------------------------------------------------------------- */

/* Start a flow of `bytes` from src to dst now; cb(net, ctx, arg, result) runs exactly
 * once when it ends. */
nm_flow nm_net_start_flow(nm_net *net, int src, int dst, uint64_t bytes, nm_flow_cb cb, void *ctx,
                          uint64_t arg);
/* Cancel a live flow: it leaves the network now; its callback (NM_FLOW_CANCELLED, bytes
 * so far) is an event at the current time. Returns 1, or 0 if the handle is stale or
 * the flow has already ended. */
int nm_net_cancel_flow(nm_net *net, nm_flow f);

typedef enum nm_flow_state {
    NM_FLOW_GONE = 0,    /* stale handle: callback has run */
    NM_FLOW_LATENCY = 1, /* waiting its one-way latency */
    NM_FLOW_ACTIVE = 2,  /* transferring */
    NM_FLOW_ENDING = 3,  /* ended, callback pending */
} nm_flow_state;

nm_flow_state nm_net_flow_state(const nm_net *net, nm_flow f);
/* Current rate in bits/s of a transferring flow; -1 otherwise. */
double nm_net_flow_rate(const nm_net *net, nm_flow f);
/* Bytes delivered so far (exact at the current time); -1 for a stale handle. */
double nm_net_flow_delivered(const nm_net *net, nm_flow f);
/* Flows waiting or transferring. */
int nm_net_live_flows(const nm_net *net);

/* ---- capacity and state changes (churn, stragglers) --------------------------------- */

void nm_net_set_node_up(nm_net *net, int node, int up);
int nm_net_node_is_up(const nm_net *net, int node);
/* Multiply node's uplink and downlink capacities by factor (>= 0, finite; 1 = nominal). */
void nm_net_set_node_bw_factor(nm_net *net, int node, double factor);
/* Set a link's nominal capacity (bits/s, >= 0, finite); for a node's link the node's
 * factor still applies on top. */
void nm_net_set_link_capacity(nm_net *net, int link, double bps);
/* Effective capacity (nominal x factor). */
double nm_net_link_capacity(const nm_net *net, int link);

/* ---- counters ------------------------------------------------------------------------ */

/* Bytes carried by a link so far, flows in progress included (exact at now). */
double nm_net_link_bytes(const nm_net *net, int link);
/* Total time the link has had at least one transferring flow. */
nm_time nm_net_link_busy_ns(const nm_net *net, int link);
double nm_net_node_bytes_sent(const nm_net *net, int node);
double nm_net_node_bytes_received(const nm_net *net, int node);

/* Work counters of the sharing solver, for benchmarks. */
typedef struct nm_net_stats {
    uint64_t solves;       /* re-solves (one per start/end/capacity change) */
    uint64_t flows_solved; /* sum over solves of flows re-solved */
    uint64_t widenings;    /* times a solve had to widen its set */
    uint64_t rate_changes; /* flows whose rate changed (timer moved) */
    uint64_t completions;  /* flows done */
    uint64_t failures;     /* flows failed or cancelled */
} nm_net_stats;
nm_net_stats nm_net_get_stats(const nm_net *net);

#endif
