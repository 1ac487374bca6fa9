/* netmodel/net_internal.h: the network's data structures, shared by net.c (building,
 * flow life cycle, counters) and net_share.c (the incremental max-min solver). Not
 * for use outside netmodel/net*.c.
 *
 * Flows live in a pool (array + free list, indexed by slot). A transferring flow is
 * listed in every link it crosses (link->flows holds slots; flow->lpos[k] is its index
 * in the list of its k-th link, for O(1) swap-removal). The solver's per-solve scratch
 * (marks, residuals, new rates) sits in the records themselves, stamped with an epoch
 * so nothing has to be cleared between solves.
 */
#ifndef NETMODEL_NET_INTERNAL_H
#define NETMODEL_NET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "netmodel/net.h"

#define NM_PATH_MAX (2 + 2 * NM_MAX_SHARED_PER_DIR)
#define NM_NO_SLOT UINT32_MAX

/* flow->bneck when the flow is held by its window cap rather than a link */
#define NM_BNECK_CAP (-1)
#define NM_BNECK_NONE (-2)

typedef struct nm_link {
    /* what the solver touches, first */
    uint64_t mark;     /* == net->epoch: in the solve's link set */
    double cap;        /* effective: nominal x owner's factor */
    double res;        /* solver: capacity left for the unfrozen flows of the solve set */
    double load, maxr; /* solver: sum and max of the rates on it */
    uint32_t cnt;      /* solver: unfrozen flows of the solve set crossing this link */
    uint32_t n_flows;
    uint32_t *flows; /* slots of the transferring flows crossing it */
    /* the rest */
    uint32_t flows_cap;
    int node;          /* owning node, or -1 for a shared link */
    double nominal;    /* bits/s as set */
    double bytes_done; /* bytes of flows that have left the link */
    nm_time busy_since, busy_ns;
} nm_link;

typedef struct nm_node {
    int region;
    int up_link, down_link;
    int is_up;
    double factor;
    int n_out, n_in;
    int out[NM_MAX_SHARED_PER_DIR], in[NM_MAX_SHARED_PER_DIR];
    double sent_done, recv_done; /* bytes of flows that have ended off-link */
} nm_node;

typedef struct nm_flow_rec {
    /* what the solver touches first, in the first cache line */
    uint64_t mark, chk; /* solver stamps */
    double rate;        /* bits/s since t_last */
    double new_rate;    /* solver scratch */
    double cap_rate;    /* window cap, INFINITY if none */
    int bneck;          /* link id of its bottleneck, NM_BNECK_CAP or NM_BNECK_NONE */
    uint8_t frozen;     /* solver scratch */
    uint8_t n_links;    /* links it is listed in (0 unless transferring on links) */
    uint8_t state;      /* nm_flow_state; NM_FLOW_GONE while free */
    uint8_t status;     /* outcome once ENDING */
    uint32_t links[NM_PATH_MAX];
    uint32_t lpos[NM_PATH_MAX];
    /* life cycle */
    uint32_t gen; /* bumped when the slot is freed */
    uint32_t next_free;
    int src, dst;
    uint64_t bytes;
    double bits; /* bytes x 8 */
    double rem;  /* bits left at t_last */
    nm_time t_last, t_start, t_transfer, t_end;
    double delivered; /* bytes, set when it ends */
    nm_timer timer;   /* latency, completion or ending event; 0 if none */
    nm_flow_cb cb;
    void *ctx;
    uint64_t arg;
} nm_flow_rec;

/* Growable array of 32-bit ids. */
typedef struct nm_idvec {
    uint32_t *v;
    size_t n, cap;
} nm_idvec;

struct nm_net {
    nm_sim *sim;
    int n_regions;
    nm_time *lat; /* n_regions x n_regions, [from * n + to] */
    nm_node *nodes;
    int n_nodes, nodes_cap;
    nm_link *links;
    int n_links, links_cap;
    nm_flow_rec *flows;
    uint32_t n_slots, slots_cap, free_head;
    int live;
    /* pair latency overrides: open addressing, key (min << 32 | max) + 1, 0 = empty */
    uint64_t *pair_key;
    nm_time *pair_lat;
    size_t pair_cap, pair_n;
    double window_bytes;
    int ideal;
    /* solver */
    nm_idvec seeds;      /* links whose flows must be re-solved */
    nm_idvec seed_flows; /* flows that must be re-solved */
    nm_idvec set;        /* flows of the solve set */
    nm_idvec lset;       /* links crossed by the solve set */
    nm_idvec viol;       /* flows failing the certificate */
    nm_idvec tmp;
    uint64_t epoch, chk_epoch;
    nm_net_stats stats;
};

void nm_idvec_push(nm_idvec *v, uint32_t id);
void nm_idvec_free(nm_idvec *v);

/* Tolerances of the max-min certificate (net_share.c, net.c). */
#define NM_TOL 1e-9     /* relative: saturation, "no flow faster" */
#define NM_ABS_TOL 1e-6 /* bits/s, for rates near zero */

/* Re-solve the flows on the links of net->seeds and the flows of net->seed_flows (both
 * then cleared) and move the timers of the flows whose rate changed (net_share.c). */
void nm_net_solve(nm_net *net);

/* Whether the flows on link l fill it (within NM_TOL), at their current rates. */
int nm_link_full(const nm_net *net, const nm_link *l);

/* Bring f's remaining bits up to now at its current rate (net.c). */
void nm_flow_advance(nm_net *net, nm_flow_rec *f);
/* Give f a new rate from now on and move its completion timer (net.c). */
void nm_flow_set_rate(nm_net *net, nm_flow_rec *f, double rate);

#endif
