/* netmodel/faults.c: churn, spot-reclaim, straggler and profile processes; see faults.h. */
#include "netmodel/faults.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel/nm_alloc.h"
#include "netmodel/rng.h"

/* Durations and times given in seconds must stay below 2^62 ns (about 146 years). */
#define SECONDS_LIMIT 4611686018.0

enum proc_type { P_PROFILE, P_CHURN, P_SPOT, P_STRAGGLER };
enum proc_state { PROC_PENDING, PROC_RUNNING, PROC_DONE };
enum { TRACK_STATE, TRACK_SPEED, TRACK_BANDWIDTH, N_TRACKS };
enum { SPOT_UP, SPOT_NOTICE, SPOT_DOWN };

struct process;

/* One (process, node) pair: its contribution, stream and pending events. Churn, spot
 * and straggler processes use timer[0]; profile processes one timer per track. */
typedef struct slot {
    struct process *proc;
    int node;
    int up;
    double speed, bandwidth;
    nm_rng rng;
    int phase;    /* churn: up 0 / down 1; spot: SPOT_*; straggler: normal 0 / slow 1 */
    int selected; /* straggler: this node straggles */
    nm_timer timer[N_TRACKS];
    const nm_profile *prof[N_TRACKS];
    nm_profile_cursor cur[N_TRACKS];
} slot;

typedef struct process {
    nm_faults *f;
    uint32_t id;
    enum proc_type type;
    enum proc_state state;
    nm_time start, stop; /* stop = NM_TIME_MAX: never */
    nm_timer start_timer, stop_timer;
    int n;
    slot *slots;
    nm_rng rng; /* process-level draws */
    union {
        nm_churn_params churn;
        nm_spot_params spot;
        nm_straggler_params strag;
    } p;
    nm_time notice_ns; /* spot: notice period */
} process;

typedef struct node_state {
    int up;
    double speed, bandwidth;
    slot **slots; /* contributions, in process order */
    int n_slots, cap_slots;
} node_state;

struct nm_faults {
    nm_sim *sim;
    int n_nodes;
    uint64_t seed;
    nm_fault_cb on_change;
    void *ctx;
    nm_fault_trace_cb trace;
    void *trace_ctx;
    process **procs;
    int n_procs, cap_procs;
    node_state *nodes;
};

const char *nm_fault_kind_name(nm_fault_kind kind) {
    switch (kind) {
    case NM_FAULT_UP: return "up";
    case NM_FAULT_DOWN: return "down";
    case NM_FAULT_SPEED: return "speed";
    case NM_FAULT_BANDWIDTH: return "bandwidth";
    case NM_FAULT_RECLAIM_NOTICE: return "reclaim-notice";
    }
    return "unknown";
}

/* ---- object ------------------------------------------------------------------------ */

nm_faults *nm_faults_new(nm_sim *sim, int n_nodes, uint64_t seed, nm_fault_cb on_change,
                         void *ctx) {
    if (!sim || n_nodes < 1) {
        fprintf(stderr, "netmodel: %s:%d: nm_faults_new: need a sim and n_nodes >= 1 (got %d)\n",
                __FILE__, __LINE__, n_nodes);
        return NULL;
    }
    nm_faults *f = nm_xcalloc(1, sizeof *f);
    f->sim = sim;
    f->n_nodes = n_nodes;
    f->seed = seed;
    f->on_change = on_change;
    f->ctx = ctx;
    f->nodes = nm_xcalloc((size_t)n_nodes, sizeof *f->nodes);
    for (int i = 0; i < n_nodes; i++) {
        f->nodes[i].up = 1;
        f->nodes[i].speed = 1.0;
        f->nodes[i].bandwidth = 1.0;
    }
    return f;
}

static void cancel_process_events(process *pr) {
    nm_sim *sim = pr->f->sim;
    nm_cancel(sim, pr->start_timer);
    nm_cancel(sim, pr->stop_timer);
    pr->start_timer = pr->stop_timer = 0;
    for (int i = 0; i < pr->n; i++)
        for (int k = 0; k < N_TRACKS; k++) {
            nm_cancel(sim, pr->slots[i].timer[k]);
            pr->slots[i].timer[k] = 0;
        }
}

void nm_faults_free(nm_faults *f) {
    if (!f) return;
    for (int i = 0; i < f->n_procs; i++) {
        cancel_process_events(f->procs[i]);
        free(f->procs[i]->slots);
        free(f->procs[i]);
    }
    free(f->procs);
    for (int i = 0; i < f->n_nodes; i++) free(f->nodes[i].slots);
    free(f->nodes);
    free(f);
}

void nm_faults_set_trace(nm_faults *f, nm_fault_trace_cb trace, void *ctx) {
    f->trace = trace;
    f->trace_ctx = ctx;
}

int nm_faults_node_count(const nm_faults *f) { return f->n_nodes; }

int nm_faults_node_up(const nm_faults *f, int node) {
    NM_REQUIRE(node >= 0 && node < f->n_nodes, "nm_faults_node_up: no node %d", node);
    return f->nodes[node].up;
}

double nm_faults_node_speed(const nm_faults *f, int node) {
    NM_REQUIRE(node >= 0 && node < f->n_nodes, "nm_faults_node_speed: no node %d", node);
    return f->nodes[node].speed;
}

double nm_faults_node_bandwidth(const nm_faults *f, int node) {
    NM_REQUIRE(node >= 0 && node < f->n_nodes, "nm_faults_node_bandwidth: no node %d", node);
    return f->nodes[node].bandwidth;
}

/* ---- contributions and effective state --------------------------------------------- */

static void trace_change(process *pr, int node, nm_fault_kind kind, double value) {
    nm_faults *f = pr->f;
    if (f->trace) f->trace(f->trace_ctx, pr->id, node, kind, value, nm_now(f->sim));
}

/* Recompute a node's effective values from its contributions; report what changed. */
static void node_refresh(nm_faults *f, int node) {
    node_state *ns = &f->nodes[node];
    int up = 1;
    double speed = 1.0, bandwidth = 1.0;
    for (int i = 0; i < ns->n_slots; i++) {
        up &= ns->slots[i]->up;
        speed *= ns->slots[i]->speed;
        bandwidth *= ns->slots[i]->bandwidth;
    }
    nm_time t = nm_now(f->sim);
    if (up != ns->up) {
        ns->up = up;
        if (f->on_change)
            f->on_change(f->ctx, node, up ? NM_FAULT_UP : NM_FAULT_DOWN, up ? 1.0 : 0.0, t);
    }
    if (speed != ns->speed) {
        ns->speed = speed;
        if (f->on_change) f->on_change(f->ctx, node, NM_FAULT_SPEED, speed, t);
    }
    if (bandwidth != ns->bandwidth) {
        ns->bandwidth = bandwidth;
        if (f->on_change) f->on_change(f->ctx, node, NM_FAULT_BANDWIDTH, bandwidth, t);
    }
}

/* Set a slot's contribution (without reporting); trace each component that changed.
 * Returns 1 if anything changed. */
static int slot_set(slot *s, int up, double speed, double bandwidth) {
    int changed = 0;
    if (up != s->up) {
        s->up = up;
        trace_change(s->proc, s->node, up ? NM_FAULT_UP : NM_FAULT_DOWN, up ? 1.0 : 0.0);
        changed = 1;
    }
    if (speed != s->speed) {
        s->speed = speed;
        trace_change(s->proc, s->node, NM_FAULT_SPEED, speed);
        changed = 1;
    }
    if (bandwidth != s->bandwidth) {
        s->bandwidth = bandwidth;
        trace_change(s->proc, s->node, NM_FAULT_BANDWIDTH, bandwidth);
        changed = 1;
    }
    return changed;
}

static void slot_update(slot *s, int up, double speed, double bandwidth) {
    if (slot_set(s, up, speed, bandwidth)) node_refresh(s->proc->f, s->node);
}

/* ---- scheduling helpers ------------------------------------------------------------ */

/* Schedule h(slot, track) after dt_s seconds, provided that the event time plus
 * `margin` ns falls before the process's stop. Returns 1 if scheduled. */
static int slot_schedule_in(slot *s, int track, double dt_s, nm_time margin, nm_handler h) {
    process *pr = s->proc;
    nm_sim *sim = pr->f->sim;
    nm_time now = nm_now(sim);
    const nm_time room = pr->stop - now;        /* > 0: the process is running */
    if (!(dt_s * 1e9 < (double)room)) return 0; /* also keeps nm_from_s within int64 */
    const nm_time dt = nm_from_s(dt_s);
    if (dt >= room || margin >= room - dt) return 0;
    const nm_time t = now + dt;
    s->timer[track] = nm_schedule_at(sim, t, h, s, (uint64_t)track);
    return 1;
}

/* ---- churn ------------------------------------------------------------------------- */

static void churn_event(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    slot *s = ctx;
    const nm_churn_params *p = &s->proc->p.churn;
    s->timer[0] = 0;
    s->phase = !s->phase;
    double dt = nm_rng_exponential(&s->rng, s->phase ? p->mttr_s : p->mtbf_s);
    slot_schedule_in(s, 0, dt, 0, churn_event);
    slot_update(s, !s->phase, 1.0, 1.0);
}

static void churn_start(process *pr) {
    for (int i = 0; i < pr->n; i++) {
        slot *s = &pr->slots[i];
        s->phase = 0;
        slot_schedule_in(s, 0, nm_rng_exponential(&s->rng, pr->p.churn.mtbf_s), 0, churn_event);
    }
}

/* ---- spot reclaim ------------------------------------------------------------------- */

static void spot_event(nm_sim *sim, void *ctx, uint64_t arg);

static void spot_schedule_notice(slot *s) {
    process *pr = s->proc;
    double dt = nm_rng_exponential(&s->rng, pr->p.spot.mean_interval_s);
    slot_schedule_in(s, 0, dt, pr->notice_ns, spot_event);
}

static void spot_event(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    slot *s = ctx;
    process *pr = s->proc;
    const nm_spot_params *p = &pr->p.spot;
    s->timer[0] = 0;
    switch (s->phase) {
    case SPOT_UP: /* a reclaim arrives: give notice, go down after it */
        s->phase = SPOT_NOTICE;
        s->timer[0] = nm_schedule_at(sim, nm_now(sim) + pr->notice_ns, spot_event, s, 0);
        trace_change(pr, s->node, NM_FAULT_RECLAIM_NOTICE, p->notice_s);
        if (pr->f->on_change)
            pr->f->on_change(pr->f->ctx, s->node, NM_FAULT_RECLAIM_NOTICE, p->notice_s,
                             nm_now(sim));
        break;
    case SPOT_NOTICE: { /* reclaimed: down until the restart */
        s->phase = SPOT_DOWN;
        double dt = p->restart_fixed ? p->restart_s : nm_rng_exponential(&s->rng, p->restart_s);
        slot_schedule_in(s, 0, dt, 0, spot_event);
        slot_update(s, 0, 1.0, 1.0);
        break;
    }
    default: /* restarted */
        s->phase = SPOT_UP;
        spot_schedule_notice(s);
        slot_update(s, 1, 1.0, 1.0);
        break;
    }
}

static void spot_start(process *pr) {
    for (int i = 0; i < pr->n; i++) {
        pr->slots[i].phase = SPOT_UP;
        spot_schedule_notice(&pr->slots[i]);
    }
}

/* ---- stragglers --------------------------------------------------------------------- */

static void straggler_apply(slot *s) {
    const nm_straggler_params *p = &s->proc->p.strag;
    double m = s->phase ? p->multiplier : 1.0;
    slot_update(s, 1, (p->affects & NM_STRAGGLE_SPEED) ? m : 1.0,
                (p->affects & NM_STRAGGLE_BANDWIDTH) ? m : 1.0);
}

static void straggler_event(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    slot *s = ctx;
    const nm_straggler_params *p = &s->proc->p.strag;
    s->timer[0] = 0;
    s->phase = !s->phase;
    double dt = nm_rng_exponential(&s->rng, s->phase ? p->mean_slow_s : p->mean_normal_s);
    slot_schedule_in(s, 0, dt, 0, straggler_event);
    straggler_apply(s);
}

static void straggler_start(process *pr) {
    const nm_straggler_params *p = &pr->p.strag;
    int k = (int)lround(p->fraction * pr->n);
    int *idx = nm_xcalloc((size_t)pr->n, sizeof *idx);
    for (int i = 0; i < pr->n; i++) idx[i] = i;
    for (int i = 0; i < k; i++) { /* partial Fisher-Yates: idx[0..k) is a uniform k-subset */
        int j = i + (int)nm_rng_below(&pr->rng, (uint64_t)(pr->n - i));
        int tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
        pr->slots[idx[i]].selected = 1;
    }
    free(idx);
    const double p_slow = p->mean_slow_s / (p->mean_slow_s + p->mean_normal_s);
    for (int i = 0; i < pr->n; i++) { /* in node-list order, each from its own stream */
        slot *s = &pr->slots[i];
        if (!s->selected) continue;
        s->phase = nm_rng_uniform(&s->rng) < p_slow;
        double dt = nm_rng_exponential(&s->rng, s->phase ? p->mean_slow_s : p->mean_normal_s);
        slot_schedule_in(s, 0, dt, 0, straggler_event);
        straggler_apply(s);
    }
}

/* ---- profile replay ----------------------------------------------------------------- */

static void track_apply(slot *s, int track, double v) {
    int up = s->up;
    double speed = s->speed, bandwidth = s->bandwidth;
    if (track == TRACK_STATE) up = v != 0.0;
    else if (track == TRACK_SPEED) speed = v;
    else bandwidth = v;
    slot_update(s, up, speed, bandwidth);
}

static void profile_event(nm_sim *sim, void *ctx, uint64_t arg);

static void track_schedule_next(slot *s, int track) {
    process *pr = s->proc;
    nm_time t;
    if (nm_profile_peek(s->prof[track], &s->cur[track], &t, NULL) && t < pr->stop)
        s->timer[track] = nm_schedule_at(pr->f->sim, t, profile_event, s, (uint64_t)track);
}

static void profile_event(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    slot *s = ctx;
    int track = (int)arg;
    double v = 0.0;
    s->timer[track] = 0;
    if (!nm_profile_peek(s->prof[track], &s->cur[track], NULL, &v)) return;
    nm_profile_advance(s->prof[track], &s->cur[track]);
    track_schedule_next(s, track);
    track_apply(s, track, v);
}

static void profile_start(process *pr) {
    nm_time now = nm_now(pr->f->sim);
    for (int i = 0; i < pr->n; i++) {
        slot *s = &pr->slots[i];
        int up = 1;
        double mult[N_TRACKS] = {1.0, 1.0, 1.0};
        for (int k = 0; k < N_TRACKS; k++) {
            if (!s->prof[k]) continue;
            /* The value in force from events strictly before the start. */
            double v = now > 0 ? nm_profile_value_at(s->prof[k], now - 1, NAN) : NAN;
            if (!isnan(v)) {
                if (k == TRACK_STATE) up = v != 0.0;
                else mult[k] = v;
            }
            nm_profile_seek(s->prof[k], now, &s->cur[k]);
            track_schedule_next(s, k);
        }
        slot_update(s, up, mult[TRACK_SPEED], mult[TRACK_BANDWIDTH]);
    }
}

/* ---- start and stop ------------------------------------------------------------------ */

static void process_start(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    process *pr = ctx;
    pr->start_timer = 0;
    pr->state = PROC_RUNNING;
    switch (pr->type) {
    case P_CHURN: churn_start(pr); break;
    case P_SPOT: spot_start(pr); break;
    case P_STRAGGLER: straggler_start(pr); break;
    case P_PROFILE: profile_start(pr); break;
    }
}

/* Cancel everything pending and withdraw the contributions. */
static int process_halt(process *pr) {
    if (pr->state == PROC_DONE) return 0;
    int was_running = pr->state == PROC_RUNNING;
    pr->state = PROC_DONE;
    cancel_process_events(pr);
    if (was_running)
        for (int i = 0; i < pr->n; i++) slot_update(&pr->slots[i], 1, 1.0, 1.0);
    return 1;
}

static void process_stop_event(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    process *pr = ctx;
    pr->stop_timer = 0;
    process_halt(pr);
}

int nm_faults_stop(nm_faults *f, uint32_t id) {
    for (int i = 0; i < f->n_procs; i++)
        if (f->procs[i]->id == id) return process_halt(f->procs[i]);
    return -1;
}

/* ---- adding processes ------------------------------------------------------------ */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int positive_seconds(double v) { return isfinite(v) && v > 0 && v < SECONDS_LIMIT; }
static int nonneg_seconds(double v) { return isfinite(v) && v >= 0 && v < SECONDS_LIMIT; }

/* Checks shared by every process kind. */
static int check_common(const nm_faults *f, const char *what, uint32_t id, const nm_fault_window *w,
                        const int *nodes, int count, nm_time *start, nm_time *stop, char *err,
                        size_t errlen) {
    for (int i = 0; i < f->n_procs; i++)
        if (f->procs[i]->id == id)
            return fail(err, errlen, "%s process %u: id already used", what, id);
    if (!w) return fail(err, errlen, "%s process %u: no window", what, id);
    if (!nonneg_seconds(w->start_s))
        return fail(err, errlen, "%s process %u: start %g s must be finite, >= 0 and < %.0f", what,
                    id, w->start_s, SECONDS_LIMIT);
    if (!(w->stop_s > w->start_s) || isnan(w->stop_s) ||
        (isfinite(w->stop_s) && w->stop_s >= SECONDS_LIMIT))
        return fail(err, errlen,
                    "%s process %u: stop %g s must be after start %g s (INFINITY: never) "
                    "and below %.0f s",
                    what, id, w->stop_s, w->start_s, SECONDS_LIMIT);
    *start = nm_from_s(w->start_s);
    *stop = isinf(w->stop_s) ? NM_TIME_MAX : nm_from_s(w->stop_s);
    if (*stop <= *start)
        return fail(err, errlen, "%s process %u: stop %g s is within 1 ns of start %g s", what, id,
                    w->stop_s, w->start_s);
    nm_time now = nm_now(f->sim);
    if (*start < now)
        return fail(err, errlen, "%s process %u: start %g s lies in the past (now %.9g s)", what,
                    id, w->start_s, nm_to_s(now));
    if (nodes == NULL && count != 0)
        return fail(err, errlen, "%s process %u: %d nodes announced but no list given", what, id,
                    count);
    if (nodes != NULL && count < 1)
        return fail(err, errlen, "%s process %u: empty node list", what, id);
    if (nodes) {
        unsigned char *seen = nm_xcalloc((size_t)f->n_nodes, 1);
        for (int i = 0; i < count; i++) {
            int nd = nodes[i];
            if (nd < 0 || nd >= f->n_nodes) {
                free(seen);
                return fail(err, errlen, "%s process %u: node %d does not exist (nodes 0..%d)",
                            what, id, nd, f->n_nodes - 1);
            }
            if (seen[nd]) {
                free(seen);
                return fail(err, errlen, "%s process %u: node %d listed twice", what, id, nd);
            }
            seen[nd] = 1;
        }
        free(seen);
    }
    return 0;
}

/* Create and register a validated process; schedule its start and stop. */
static process *process_add(nm_faults *f, enum proc_type type, uint32_t id, nm_time start,
                            nm_time stop, const int *nodes, int count) {
    process *pr = nm_xcalloc(1, sizeof *pr);
    pr->f = f;
    pr->id = id;
    pr->type = type;
    pr->state = PROC_PENDING;
    pr->start = start;
    pr->stop = stop;
    pr->n = nodes ? count : f->n_nodes;
    pr->slots = nm_xcalloc((size_t)pr->n, sizeof *pr->slots);
    nm_rng_init(&pr->rng, f->seed, nm_rng_stream_id(id, 0));
    for (int i = 0; i < pr->n; i++) {
        slot *s = &pr->slots[i];
        s->proc = pr;
        s->node = nodes ? nodes[i] : i;
        s->up = 1;
        s->speed = s->bandwidth = 1.0;
        nm_rng_init(&s->rng, f->seed, nm_rng_stream_id(id, (uint32_t)s->node + 1u));
        node_state *ns = &f->nodes[s->node];
        if (ns->n_slots == ns->cap_slots) {
            ns->cap_slots = ns->cap_slots ? 2 * ns->cap_slots : 4;
            ns->slots = nm_xrealloc(ns->slots, (size_t)ns->cap_slots * sizeof *ns->slots);
        }
        ns->slots[ns->n_slots++] = s;
    }
    if (f->n_procs == f->cap_procs) {
        f->cap_procs = f->cap_procs ? 2 * f->cap_procs : 8;
        f->procs = nm_xrealloc(f->procs, (size_t)f->cap_procs * sizeof *f->procs);
    }
    f->procs[f->n_procs++] = pr;
    pr->start_timer = nm_schedule_at(f->sim, start, process_start, pr, 0);
    if (stop != NM_TIME_MAX)
        pr->stop_timer = nm_schedule_at(f->sim, stop, process_stop_event, pr, 0);
    return pr;
}

int nm_faults_add_churn(nm_faults *f, uint32_t id, const nm_fault_window *w, const int *nodes,
                        int count, const nm_churn_params *p, char *err, size_t errlen) {
    nm_time start, stop;
    if (check_common(f, "churn", id, w, nodes, count, &start, &stop, err, errlen)) return -1;
    if (!p) return fail(err, errlen, "churn process %u: no parameters", id);
    if (!positive_seconds(p->mtbf_s))
        return fail(err, errlen, "churn process %u: mtbf %g s must be finite and > 0", id,
                    p->mtbf_s);
    if (!positive_seconds(p->mttr_s))
        return fail(err, errlen, "churn process %u: mttr %g s must be finite and > 0", id,
                    p->mttr_s);
    process *pr = process_add(f, P_CHURN, id, start, stop, nodes, count);
    pr->p.churn = *p;
    return 0;
}

int nm_faults_add_spot(nm_faults *f, uint32_t id, const nm_fault_window *w, const int *nodes,
                       int count, const nm_spot_params *p, char *err, size_t errlen) {
    nm_time start, stop;
    if (check_common(f, "spot", id, w, nodes, count, &start, &stop, err, errlen)) return -1;
    if (!p) return fail(err, errlen, "spot process %u: no parameters", id);
    if (!positive_seconds(p->mean_interval_s))
        return fail(err, errlen, "spot process %u: mean interval %g s must be finite and > 0", id,
                    p->mean_interval_s);
    if (!nonneg_seconds(p->notice_s))
        return fail(err, errlen, "spot process %u: notice %g s must be finite and >= 0", id,
                    p->notice_s);
    if (p->restart_fixed != 0 && p->restart_fixed != 1)
        return fail(err, errlen, "spot process %u: restart_fixed must be 0 or 1, got %d", id,
                    p->restart_fixed);
    if (p->restart_fixed ? !nonneg_seconds(p->restart_s) : !positive_seconds(p->restart_s))
        return fail(err, errlen, "spot process %u: restart %g s must be finite and %s", id,
                    p->restart_s, p->restart_fixed ? ">= 0" : "> 0 (exponential mean)");
    process *pr = process_add(f, P_SPOT, id, start, stop, nodes, count);
    pr->p.spot = *p;
    pr->notice_ns = nm_from_s(p->notice_s);
    return 0;
}

int nm_faults_add_stragglers(nm_faults *f, uint32_t id, const nm_fault_window *w, const int *nodes,
                             int count, const nm_straggler_params *p, char *err, size_t errlen) {
    nm_time start, stop;
    if (check_common(f, "straggler", id, w, nodes, count, &start, &stop, err, errlen)) return -1;
    if (!p) return fail(err, errlen, "straggler process %u: no parameters", id);
    if (!(p->fraction >= 0 && p->fraction <= 1))
        return fail(err, errlen, "straggler process %u: fraction %g must lie in [0, 1]", id,
                    p->fraction);
    if (!(isfinite(p->multiplier) && p->multiplier > 0))
        return fail(err, errlen, "straggler process %u: multiplier %g must be finite and > 0", id,
                    p->multiplier);
    if (!positive_seconds(p->mean_slow_s))
        return fail(err, errlen,
                    "straggler process %u: mean slow period %g s must be finite "
                    "and > 0",
                    id, p->mean_slow_s);
    if (!positive_seconds(p->mean_normal_s))
        return fail(err, errlen,
                    "straggler process %u: mean normal period %g s must be finite "
                    "and > 0",
                    id, p->mean_normal_s);
    if (p->affects == 0 || (p->affects & ~(unsigned)(NM_STRAGGLE_SPEED | NM_STRAGGLE_BANDWIDTH)))
        return fail(err, errlen,
                    "straggler process %u: affects must be a non-empty combination "
                    "of NM_STRAGGLE_SPEED and NM_STRAGGLE_BANDWIDTH, got %u",
                    id, p->affects);
    process *pr = process_add(f, P_STRAGGLER, id, start, stop, nodes, count);
    pr->p.strag = *p;
    return 0;
}

int nm_faults_add_profiles(nm_faults *f, uint32_t id, const nm_fault_window *w, const int *nodes,
                           int count, const nm_profile *const *state,
                           const nm_profile *const *speed, const nm_profile *const *bandwidth,
                           char *err, size_t errlen) {
    nm_time start, stop;
    if (check_common(f, "profile", id, w, nodes, count, &start, &stop, err, errlen)) return -1;
    int n = nodes ? count : f->n_nodes;
    const nm_profile *const *tracks[N_TRACKS] = {state, speed, bandwidth};
    const nm_value_range ranges[N_TRACKS] = {nm_range_state(), nm_range_multiplier(),
                                             nm_range_multiplier()};
    static const char *const track_names[N_TRACKS] = {"state", "speed", "bandwidth"};
    for (int k = 0; k < N_TRACKS; k++) {
        if (!tracks[k]) continue;
        for (int i = 0; i < n; i++) {
            const nm_profile *prof = tracks[k][i];
            if (prof && !nm_profile_values_in(prof, &ranges[k]))
                return fail(err, errlen,
                            "profile process %u: %s profile '%s' of node %d has "
                            "values that are not %s",
                            id, track_names[k], nm_profile_name(prof), nodes ? nodes[i] : i,
                            ranges[k].what);
        }
    }
    process *pr = process_add(f, P_PROFILE, id, start, stop, nodes, count);
    for (int k = 0; k < N_TRACKS; k++)
        if (tracks[k])
            for (int i = 0; i < n; i++) pr->slots[i].prof[k] = tracks[k][i];
    return 0;
}
