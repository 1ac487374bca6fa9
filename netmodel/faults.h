/* netmodel/faults.h: fault processes — churn, spot reclaims, stragglers, profile replay.
 *
 * An nm_faults object drives the availability (up/down), compute-speed multiplier and
 * bandwidth multiplier of nodes 0..n_nodes-1 by scheduling events on an nm_sim. It knows
 * nothing of networks or compute: every change is reported through a callback, which
 * the simulator wires to the network (nm_net_set_node_up, nm_net_set_node_bw_factor)
 * and to its compute model.
 *
 * Processes. Any number, each with a caller-chosen id (unique within the object), a
 * set of nodes and an active window [start, stop):
 *   - profile replay: per node, optional state (0/1), speed and bandwidth profiles
 *     (profile.h, LOOPAFTER included), replayed in absolute simulated time. At start,
 *     the value in force from events before `start` is applied; later events fire at
 *     their times.
 *   - churn: each node alternates up periods ~ Exp(mean mtbf) and down periods
 *     ~ Exp(mean mttr), starting up at `start`. Long-run share of time down:
 *     mttr / (mtbf + mttr).
 *   - spot reclaim: while a node is up, reclaims arrive as a Poisson process of mean
 *     interval `mean_interval` (the up time until the next notice is exponential). A
 *     reclaim first reports NM_FAULT_RECLAIM_NOTICE (value = notice seconds); exactly
 *     `notice` later (to the nanosecond) the node goes down; it comes back after a
 *     restart delay, fixed or exponential. A notice is given only if its down falls
 *     before `stop`, so every notice is followed by its down.
 *   - stragglers: round(fraction x |nodes|) nodes are chosen once, at start, with the
 *     process's own stream (a partial Fisher-Yates shuffle). Each chosen node alternates
 *     slow periods ~ Exp(mean_slow) and normal periods ~ Exp(mean_normal); while slow its
 *     speed and/or bandwidth (per `affects`) is multiplied by `multiplier`. The first
 *     period is drawn from the stationary law (slow with probability
 *     mean_slow / (mean_slow + mean_normal)), so the slow share holds from the start.
 *
 * Combination. Each (process, node) pair holds a contribution: up or down, a speed and
 * a bandwidth multiplier. A node is up when every contribution says up; its multipliers
 * are the products of the contributions (taken in process order, so results are
 * bit-for-bit reproducible). on_change reports the node's effective values, and only
 * when they change: NM_FAULT_DOWN / NM_FAULT_UP (value 0 / 1), NM_FAULT_SPEED and
 * NM_FAULT_BANDWIDTH (value = new multiplier). Reclaim notices are always reported. At
 * creation every node is up with multipliers 1, and nothing is reported for that.
 * An optional trace callback sees each process's own contribution changes and notices,
 * tagged with the process id (for traces and tests); it runs before on_change.
 *
 * Stop. At `stop` (or when nm_faults_stop is called) a process cancels its pending
 * events and withdraws its contributions (up, x1), which may report changes at that
 * instant; nothing of it happens at or after `stop`. nm_faults_free cancels every
 * pending event of the object, so free it before the sim.
 *
 * Randomness. The pair (process id, node) has its own stream nm_rng_stream_id(id,
 * node + 1); the process-level draws (straggler choice) use nm_rng_stream_id(id, 0).
 * Adding a process or a node therefore never shifts another pair's draws, and the same
 * seed and set-up give the same events, bit for bit. Durations are drawn in seconds
 * and rounded to the nearest nanosecond; a period whose end would not fit in nm_time
 * lasts forever.
 *
 * Callbacks run inside event handlers; they must not call nm_faults_stop or
 * nm_faults_free (schedule an event that does so instead).
 */
#ifndef NETMODEL_FAULTS_H
#define NETMODEL_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "netmodel/event.h"
#include "netmodel/profile.h"

typedef enum nm_fault_kind {
    NM_FAULT_UP,             /* value 1 */
    NM_FAULT_DOWN,           /* value 0 */
    NM_FAULT_SPEED,          /* compute-speed multiplier */
    NM_FAULT_BANDWIDTH,      /* bandwidth multiplier */
    NM_FAULT_RECLAIM_NOTICE, /* value = seconds until the node goes down */
} nm_fault_kind;

const char *nm_fault_kind_name(nm_fault_kind kind);

typedef void (*nm_fault_cb)(void *ctx, int node, nm_fault_kind kind, double value, nm_time t);
typedef void (*nm_fault_trace_cb)(void *ctx, uint32_t process_id, int node, nm_fault_kind kind,
                                  double value, nm_time t);

typedef struct nm_faults nm_faults;

/* Active window in seconds of simulated time: 0 <= start_s < stop_s; stop_s may be
 * INFINITY (never stops). start_s must not lie before the sim's current time. */
typedef struct nm_fault_window {
    double start_s, stop_s;
} nm_fault_window;

typedef struct nm_churn_params {
    double mtbf_s; /* mean up time until a failure, > 0 */
    double mttr_s; /* mean down time until repair, > 0 */
} nm_churn_params;

typedef struct nm_spot_params {
    double mean_interval_s; /* mean up time until the next reclaim notice, > 0 */
    double notice_s;        /* notice before the node goes down, >= 0 */
    double restart_s;       /* restart delay (fixed) or its mean (exponential), >= 0;
                               > 0 when exponential */
    int restart_fixed;      /* 1: restart after exactly restart_s; 0: exponential */
} nm_spot_params;

enum { NM_STRAGGLE_SPEED = 1, NM_STRAGGLE_BANDWIDTH = 2 };

typedef struct nm_straggler_params {
    double fraction;      /* share of the process's nodes that straggle, in [0, 1] */
    double multiplier;    /* factor while slow, finite and > 0 (e.g. 0.25) */
    double mean_slow_s;   /* mean slow period, > 0 */
    double mean_normal_s; /* mean normal period, > 0 */
    unsigned affects;     /* NM_STRAGGLE_SPEED and/or NM_STRAGGLE_BANDWIDTH, not 0 */
} nm_straggler_params;

/* New object for nodes 0..n_nodes-1 on sim; on_change may be NULL. n_nodes < 1 or a NULL
 * sim is a caller's logic error: NULL with a file:line message on stderr. */
nm_faults *nm_faults_new(nm_sim *sim, int n_nodes, uint64_t seed, nm_fault_cb on_change, void *ctx);
/* Cancels every pending event of the object and frees it (NULL is fine). */
void nm_faults_free(nm_faults *f);
void nm_faults_set_trace(nm_faults *f, nm_fault_trace_cb trace, void *ctx);

/* Add a process. `nodes` lists `count` distinct node ids; nodes = NULL with count = 0
 * means every node. Returns 0, or -1 with a message in err (bad parameters, unknown or
 * repeated node, id already used), adding nothing. The process's start and stop are
 * scheduled at once. */
int nm_faults_add_churn(nm_faults *f, uint32_t id, const nm_fault_window *w, const int *nodes,
                        int count, const nm_churn_params *p, char *err, size_t errlen);
int nm_faults_add_spot(nm_faults *f, uint32_t id, const nm_fault_window *w, const int *nodes,
                       int count, const nm_spot_params *p, char *err, size_t errlen);
int nm_faults_add_stragglers(nm_faults *f, uint32_t id, const nm_fault_window *w, const int *nodes,
                             int count, const nm_straggler_params *p, char *err, size_t errlen);
/* Profiles per node: state[i], speed[i], bandwidth[i] belong to nodes[i] (node i when
 * nodes = NULL); any array may be NULL and any entry NULL (nothing of that kind). State
 * profiles must hold 0/1 values, speed and bandwidth profiles values > 0. Profiles are
 * borrowed: they must outlive f. */
int nm_faults_add_profiles(nm_faults *f, uint32_t id, const nm_fault_window *w, const int *nodes,
                           int count, const nm_profile *const *state,
                           const nm_profile *const *speed, const nm_profile *const *bandwidth,
                           char *err, size_t errlen);

/* Stop process `id` now (see Stop above). Returns 1 if it was pending or running, 0 if
 * it had already stopped, -1 if no process has that id. */
int nm_faults_stop(nm_faults *f, uint32_t id);

/* Effective state of a node. */
int nm_faults_node_up(const nm_faults *f, int node);
double nm_faults_node_speed(const nm_faults *f, int node);
double nm_faults_node_bandwidth(const nm_faults *f, int node);
int nm_faults_node_count(const nm_faults *f);

#endif
