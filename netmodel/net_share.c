/* netmodel/net_share.c: incremental max-min fair sharing.
 *
 * A change seeds the solve set S: a capacity change, every flow on the link; a flow
 * joining, itself and the flows on those of its links that were full; a flow leaving,
 * the flows on those of its links that were full (a link with spare capacity is no
 * flow's bottleneck, so a flow leaving it changes no one's share by itself). Then,
 * repeatedly:
 *
 *  1. Progressive filling over S alone, the other flows held at their rates: each link
 *     crossed by S offers res = capacity - (rates of non-S flows on it) to its cnt
 *     unfrozen S flows; the link with the smallest res/cnt saturates first, its
 *     unfrozen flows are frozen at that share and charged to their other links; a flow
 *     whose window cap is below the next share is frozen at its cap. Until all of S is
 *     frozen.
 *  2. The max-min certificate on every link around S: a flow is fairly served iff it
 *     is at its window cap or crosses a saturated link on which no flow is faster (its
 *     bottleneck). Flows whose stored bottleneck lies outside the links of S are
 *     untouched by the change and keep it. A flow of S that fails brings in the faster
 *     non-S flows on its links; a non-S flow that fails joins S itself.
 *  3. If anything joined, go to 1 with the wider S; else done.
 *
 * S only grows and is bounded by the connected component, so this ends; when it ends
 * every flow holds a certificate, i.e. the allocation is the max-min fair one (within
 * a relative tolerance of 1e-9). Only the flows of S whose rate changed by more than
 * 1e-12 (relative) are advanced to now and have their completion timer moved.
 */
#include <math.h>

#include "netmodel/net_internal.h"
#include "netmodel/nm_alloc.h"

#define TOL NM_TOL
#define ABS_TOL NM_ABS_TOL
#define SAME_RATE 1e-12 /* a relative change below this leaves the flow untouched */

static void add_to_set(nm_net *net, uint32_t slot) {
    nm_flow_rec *f = &net->flows[slot];
    if (f->mark == net->epoch) return;
    f->mark = net->epoch;
    nm_idvec_push(&net->set, slot);
    for (int k = 0; k < f->n_links; k++) {
        nm_link *l = &net->links[f->links[k]];
        if (l->mark != net->epoch) {
            l->mark = net->epoch;
            nm_idvec_push(&net->lset, f->links[k]);
        }
    }
}

static void charge(nm_net *net, nm_flow_rec *f, double rate) {
    f->frozen = 1;
    f->new_rate = rate;
    for (int k = 0; k < f->n_links; k++) {
        nm_link *l = &net->links[f->links[k]];
        l->res -= rate;
        if (l->res < 0) l->res = 0;
        l->cnt--;
        l->load += rate;
        if (rate > l->maxr) l->maxr = rate;
    }
}

/* Step 1: progressive filling of the solve set. */
static void fill(nm_net *net) {
    uint64_t ep = net->epoch;
    const uint32_t *ls = net->lset.v;
    size_t nls = net->lset.n;
    for (size_t i = 0; i < nls; i++) {
        nm_link *l = &net->links[ls[i]];
        double other = 0, maxr = 0; /* load and top rate of the flows outside S */
        uint32_t cnt = 0;
        for (uint32_t j = 0; j < l->n_flows; j++) {
            const nm_flow_rec *g = &net->flows[l->flows[j]];
            if (g->mark == ep) {
                cnt++;
            } else {
                other += g->rate;
                if (g->rate > maxr) maxr = g->rate;
            }
        }
        l->res = l->cap > other ? l->cap - other : 0;
        l->cnt = cnt;
        l->load = other; /* charge() adds the rates of S as they freeze */
        l->maxr = maxr;
    }
    size_t n_free = net->set.n, n_capped = 0;
    for (size_t i = 0; i < net->set.n; i++) {
        nm_flow_rec *f = &net->flows[net->set.v[i]];
        f->frozen = 0;
        if (f->cap_rate < INFINITY) n_capped++;
    }
    while (n_free > 0) {
        int best = -1;
        double share = INFINITY;
        for (size_t i = 0; i < nls; i++) {
            const nm_link *l = &net->links[ls[i]];
            if (l->cnt && l->res / l->cnt < share) {
                share = l->res / l->cnt;
                best = (int)ls[i];
            }
        }
        if (n_capped) {
            nm_flow_rec *low = NULL;
            for (size_t i = 0; i < net->set.n; i++) {
                nm_flow_rec *f = &net->flows[net->set.v[i]];
                if (!f->frozen && f->cap_rate < INFINITY && (!low || f->cap_rate < low->cap_rate))
                    low = f;
            }
            if (low && low->cap_rate <= share) {
                charge(net, low, low->cap_rate);
                low->bneck = NM_BNECK_CAP;
                n_capped--;
                n_free--;
                continue;
            }
        }
        if (best < 0) NM_FATAL("max-min filling: %zu flows left without a link", n_free);
        nm_link *l = &net->links[best];
        for (uint32_t j = 0; j < l->n_flows; j++) {
            nm_flow_rec *f = &net->flows[l->flows[j]];
            if (f->mark != ep || f->frozen) continue;
            charge(net, f, share);
            f->bneck = best;
            if (f->cap_rate < INFINITY) n_capped--;
            n_free--;
        }
    }
}

static int saturated(const nm_link *l) { return l->load >= l->cap * (1 - TOL) - ABS_TOL; }

int nm_link_full(const nm_net *net, const nm_link *l) {
    double load = 0;
    for (uint32_t j = 0; j < l->n_flows; j++) load += net->flows[l->flows[j]].rate;
    return load >= l->cap * (1 - TOL) - ABS_TOL;
}

/* f (rate r) is fastest, within tolerance, on saturated link l. */
static int bottleneck_ok(const nm_link *l, double r) {
    return saturated(l) && r >= l->maxr * (1 - TOL) - ABS_TOL;
}

static void add_violator(nm_net *net, uint32_t slot) {
    nm_flow_rec *g = &net->flows[slot];
    if (g->chk == net->chk_epoch) return;
    g->chk = net->chk_epoch;
    nm_idvec_push(&net->viol, slot);
}

/* Step 2: check the certificate around the solve set; returns the number of flows
 * that failed it (collected in net->viol). */
static size_t verify(nm_net *net) {
    uint64_t ep = net->epoch;
    const uint32_t *ls = net->lset.v;
    size_t nls = net->lset.n;
    net->chk_epoch++;
    net->viol.n = 0;
    /* link->load and ->maxr were completed by fill(). */
    /* Flows of S. */
    for (size_t i = 0; i < net->set.n; i++) {
        nm_flow_rec *f = &net->flows[net->set.v[i]];
        if (f->bneck == NM_BNECK_CAP) continue;
        if (f->bneck >= 0 && bottleneck_ok(&net->links[f->bneck], f->new_rate)) continue;
        int found = 0;
        for (int k = 0; k < f->n_links && !found; k++)
            if (bottleneck_ok(&net->links[f->links[k]], f->new_rate)) {
                f->bneck = (int)f->links[k];
                found = 1;
            }
        if (found) continue;
        double limit = f->new_rate * (1 + TOL) + ABS_TOL;
        for (int k = 0; k < f->n_links; k++) {
            const nm_link *l = &net->links[f->links[k]];
            for (uint32_t j = 0; j < l->n_flows; j++) {
                const nm_flow_rec *g = &net->flows[l->flows[j]];
                if (g->mark != ep && g->rate > limit) add_violator(net, l->flows[j]);
            }
        }
    }
    /* Non-S flows on the links of S: each is checked once (chk stamp). */
    for (size_t i = 0; i < nls; i++) {
        const nm_link *l = &net->links[ls[i]];
        for (uint32_t j = 0; j < l->n_flows; j++) {
            uint32_t slot = l->flows[j];
            nm_flow_rec *g = &net->flows[slot];
            if (g->mark == ep || g->chk == net->chk_epoch) continue;
            g->chk = net->chk_epoch;
            if (g->bneck == NM_BNECK_CAP) continue;
            if (g->bneck >= 0 && net->links[g->bneck].mark != ep) continue;
            int found = 0;
            for (int k = 0; k < g->n_links && !found; k++) {
                const nm_link *m = &net->links[g->links[k]];
                if (m->mark == ep && bottleneck_ok(m, g->rate)) {
                    g->bneck = (int)g->links[k];
                    found = 1;
                }
            }
            if (!found) nm_idvec_push(&net->viol, slot);
        }
    }
    return net->viol.n;
}

void nm_net_solve(nm_net *net) {
    if (net->seeds.n == 0 && net->seed_flows.n == 0) return;
    net->epoch++;
    net->set.n = 0;
    net->lset.n = 0;
    for (size_t i = 0; i < net->seeds.n; i++) {
        uint32_t id = net->seeds.v[i];
        nm_link *l = &net->links[id];
        if (l->mark != net->epoch) {
            l->mark = net->epoch;
            nm_idvec_push(&net->lset, id);
        }
        for (uint32_t j = 0; j < l->n_flows; j++) add_to_set(net, l->flows[j]);
    }
    for (size_t i = 0; i < net->seed_flows.n; i++) add_to_set(net, net->seed_flows.v[i]);
    net->seeds.n = 0;
    net->seed_flows.n = 0;
    if (net->set.n == 0) return;
    net->stats.solves++;
    for (;;) {
        fill(net);
        size_t nv = verify(net);
        if (nv == 0) break;
        net->stats.widenings++;
        for (size_t i = 0; i < nv; i++) add_to_set(net, net->viol.v[i]);
    }
    net->stats.flows_solved += net->set.n;
    for (size_t i = 0; i < net->set.n; i++) {
        nm_flow_rec *f = &net->flows[net->set.v[i]];
        double r = f->new_rate;
        if (f->timer && fabs(r - f->rate) <= SAME_RATE * f->rate) continue;
        if (!f->timer && r == f->rate) continue;
        net->stats.rate_changes++;
        nm_flow_set_rate(net, f, r);
    }
}
