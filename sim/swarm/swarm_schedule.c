/* sim/swarm/swarm_schedule.c: how training phases and exchanges follow each other.
 *
 * sequential  (IOTA, INTELLECT-1; the default) the exchange of round r starts when its
 *             training phase ends and the next training phase starts when it is done:
 *             training r | sync r | training r+1 | sync r+1 ...
 * overlap     (DDP runs; the overlapped / one-round-delayed outer step of DiLoCo
 *             variants) the exchange of round r starts when its training phase ends,
 *             and round r+1's training starts at once, from the pre-merge weights, with
 *             the exchange running underneath (network and GPU are separate resources:
 *             its transfers compete only with each other). Its result is applied when
 *             both are done: at the end of training r+1, the peers wait for exchange r if
 *             it is still running, apply it (its GPU work, e.g. the merge, runs then), and
 *             only then hand off round r+1's pseudo-gradients and start round r+2. At most
 *             one exchange is in flight. After the last round (the target reached) its
 *             exchange runs alone and the run ends when it is applied:
 *               exchange <= training:  T = n x training + the last exchange
 *               exchange  > training:  each later round waits exchange - training more.
 *
 * Phases (SPEC 5): a training phase runs from its hand-off to the end of its inner steps;
 * an exchange hidden under it is training time (the GPUs compute), not idle and not
 * sync. The time the peers wait for an exchange (and apply it) is recorded as that
 * exchange's uploading / merging phase (whichever step it is in), labelled with its
 * round. So utilisation = training-phase time / total time as before, and the mean sync
 * phase = exposed exchange time per round = (uploading + merging time) / cycles.
 * A cycle is counted when its exchange is applied.
 */
#include "sim/swarm/swarm_internal.h"

/* ---- sequential ---- */

static void seq_training_done(swarm *sw) { sw->sync->begin_phase(sw); }

static void seq_exchange_done(swarm *sw) { swarm_cycle_done(sw); }

const swarm_schedule swarm_schedule_sequential = {
    .name = "sequential",
    .training_done = seq_training_done,
    .exchange_done = seq_exchange_done,
};

/* ---- overlap ---- */

static int target_reached(const swarm *sw) {
    const swarm_config *c = sw->cfg;
    return (c->tokens_target > 0 && sw->count.tokens_trained >= c->tokens_target) ||
           (c->cycles_target > 0 && sw->ph.cycle + 1 >= c->cycles_target);
}

/* Round ph.cycle is trained and no exchange is in flight: hand its pseudo-gradients off
 * and, unless it was the last round, start the next one. */
static void start_round(swarm *sw) {
    if (sw->ph.last_round) { /* the last exchange runs alone, as a phase of its own */
        sw->sy.hidden = 0;
        sw->sync->begin_phase(sw);
        return;
    }
    /* training round r ends here (or the wait for exchange r-1 does) */
    swarm_phase_change(sw, SWARM_PHASE_TRAINING);
    sw->sy.hidden = 1;
    sw->sync->begin_phase(sw);
    if (sw->failed) return;
    sw->ph.cycle++;
    swarm_rejoin_waiting(sw);
    sw->train->begin_phase(sw);
}

static void ov_training_done(swarm *sw) {
    sw->ph.last_round = target_reached(sw);
    if (!sw->sy.running) {
        start_round(sw);
        return;
    }
    /* exchange r-1 is still running: the peers wait for it, and it becomes a phase */
    sw->sy.hidden = 0;
    swarm_phase_change(sw, sw->sy.state);
    if (sw->sync->resume) sw->sync->resume(sw);
}

static void ov_exchange_done(swarm *sw) {
    nm_time now = nm_now(sw->sim);
    int hidden = sw->sy.hidden;
    swarm_cycle_count(sw, hidden ? 0.0 : nm_to_s(now - sw->ph.sync_start));
    sw->ph.sync_start = now; /* an exchange that follows at once counts from here */
    if (!hidden && sw->ph.last_round && sw->ph.cycle == sw->sy.cycle) { /* the last one */
        swarm_phase_change(sw, SWARM_PHASE_TRAINING);
        if (sw->sink && sw->sink->cycle_end && sw->sink->cycle_end(sw->sink->ctx))
            swarm_fail(sw, "flushing the trace failed");
        sw->ph.finished = 1;
        nm_stop(sw->sim);
        return;
    }
    if (sw->sink && sw->sink->cycle_end && sw->sink->cycle_end(sw->sink->ctx))
        swarm_fail(sw, "flushing the trace failed");
    if (hidden) return; /* round r+1 trains on; it hands off when it ends */
    if (sw->stop_flag && *sw->stop_flag) {
        nm_stop(sw->sim);
        return;
    }
    start_round(sw); /* the peers waited for it: round r+1's hand-off, round r+2 */
}

const swarm_schedule swarm_schedule_overlap = {
    .name = "overlap",
    .training_done = ov_training_done,
    .exchange_done = ov_exchange_done,
};
