/* sim/swarm/swarm_sync_ring.c: a ring all-reduce per stage among its eligible peers
 * (DDP runs: one ring over every node). 2(n-1) rounds in which each member sends
 * size/n bytes to the next; a failed transfer or a member going down ends that stage's
 * ring, and its peers keep their local weights. Recorded as a merging phase. */
#include <math.h>
#include <stdlib.h>

#include "sim/base/util.h"
#include "sim/swarm/swarm_internal.h"

typedef struct {
    int *round;   /* per stage: ring round in progress (-1 done) */
    int *left;    /* per stage: flows of the round still running */
    int *members; /* per stage × R: ring order */
    int *n;       /* per stage: members */
    int *ok;      /* per stage: the last ring completed */
} ring_state;

static ring_state *state(swarm *sw) { return sw->sy.priv; }

static void ring_init(swarm *sw) {
    ring_state *r = xcalloc(1, sizeof *r);
    r->round = xcalloc((size_t)sw->n_stages, sizeof *r->round);
    r->left = xcalloc((size_t)sw->n_stages, sizeof *r->left);
    r->n = xcalloc((size_t)sw->n_stages, sizeof *r->n);
    r->ok = xcalloc((size_t)sw->n_stages, sizeof *r->ok);
    r->members = xcalloc((size_t)sw->n_stages * (size_t)sw->R, sizeof *r->members);
    sw->sy.priv = r;
}

static void ring_free(swarm *sw) {
    ring_state *r = state(sw);
    if (!r) return;
    free(r->round);
    free(r->left);
    free(r->n);
    free(r->ok);
    free(r->members);
    free(r);
    sw->sy.priv = NULL;
}

static void stage_done(swarm *sw, int s, int ok) {
    ring_state *r = state(sw);
    r->round[s] = -1;
    r->ok[s] = ok;
    for (int i = 0; i < sw->R; i++) {
        peer *p = &sw->peers[sw->stage_peers[s * sw->R + i]];
        if (p->sync.member) swarm_sync_peer_finished(sw, p);
    }
}

static void round_start(swarm *sw, int s);

static void ring_xfer_done(swarm *sw, const xfer *x, int ok) {
    ring_state *r = state(sw);
    int s = x->part;
    if (r->round[s] < 0) return;
    if (!ok) {
        stage_done(sw, s, 0);
        return;
    }
    if (--r->left[s] == 0) {
        if (++r->round[s] >= 2 * (r->n[s] - 1)) stage_done(sw, s, 1);
        else round_start(sw, s);
    }
}

static const swarm_xfer_kind XK_RING = {"ring", SWARM_EV_UPLOAD_PSEUDOGRAD, XG_SYNC,
                                        ring_xfer_done};

static void round_start(swarm *sw, int s) {
    ring_state *r = state(sw);
    int n = r->n[s];
    int *m = &r->members[s * sw->R];
    int64_t bytes =
        (int64_t)ceil((double)sw->stage_params[s] * sw->cfg->outer.pg_bytes_per_param / n);
    r->left[s] = n;
    for (int i = 0; i < n; i++) xfer_start(sw, &XK_RING, m[i], m[(i + 1) % n], bytes, -1, s);
}

static void ring_begin(swarm *sw) {
    if (!swarm_sync_enter(sw, SWARM_PHASE_MERGING)) return;
    ring_state *r = state(sw);
    for (int s = 0; s < sw->n_stages; s++) {
        int n = 0;
        for (int k = 0; k < sw->R; k++) {
            peer *p = &sw->peers[sw->stage_peers[s * sw->R + k]];
            if (swarm_sync_eligible(sw, p)) r->members[s * sw->R + n++] = p->id;
        }
        r->n[s] = n;
        if (n < 2) {
            stage_done(sw, s, 0);
            continue;
        }
        r->round[s] = 0;
        round_start(sw, s);
    }
}

static void ring_peer_down(swarm *sw, peer *p) {
    if (!swarm_sync_in_phase(sw)) return;
    ring_state *r = state(sw);
    swarm_sync_peer_gone(sw, p);
    if (r->round[p->stage] >= 0 && r->n[p->stage] > 0) {
        for (int i = 0; i < r->n[p->stage]; i++)
            if (r->members[p->stage * sw->R + i] == p->id) stage_done(sw, p->stage, 0);
    }
    swarm_sync_maybe_end(sw);
}

static void ring_live_stage(swarm *sw, int s, int *subs, int *n_subs, int *part_ok, int *n_parts) {
    ring_state *r = state(sw);
    int ns = 0;
    for (int k = 0; k < sw->R; k++) {
        peer *p = &sw->peers[sw->stage_peers[s * sw->R + k]];
        int submitted = 0;
        for (int i = 0; i < r->n[s]; i++) submitted |= r->members[s * sw->R + i] == p->id;
        if (submitted) subs[ns++] = p->id;
    }
    *n_subs = ns;
    *n_parts = 1;
    part_ok[0] = r->ok[s];
}

const swarm_phase_ops swarm_sync_ring = {
    .name = "ring",
    .init = ring_init,
    .free = ring_free,
    .begin_phase = ring_begin,
    .peer_down = ring_peer_down,
    .live_stage = ring_live_stage,
};
