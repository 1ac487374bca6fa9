/* netmodel/event.h: the discrete-event core.
 *
 * Simulated time is integer nanoseconds (nm_time), never negative. Pending events sit
 * in a 4-ary heap ordered by (time, insertion sequence): two events at the same time
 * fire in the order they were scheduled (a rescheduled event counts as scheduled
 * anew), so a run is reproducible byte for byte. The heap array holds the key (time,
 * sequence) inline with the record's slot number, so sifting compares keys without
 * chasing pointers; each record remembers its heap position, which makes cancel and
 * reschedule O(log n) removals/moves instead of lazy tombstones.
 *
 * Event records (handler, context, argument) come from a pool that grows in blocks of
 * 1024 and recycles freed records through a free list; nothing is malloc'd per event
 * once the pool and heap have reached their high-water mark. A timer handle carries a
 * slot index and a generation that is bumped whenever the record is freed, so a stale
 * handle (its event already fired or cancelled) is recognised and cancelling it is a
 * harmless no-op. A record is freed before its handler runs: inside the handler its
 * own handle is already stale.
 *
 * Caller bugs (scheduling in the past, a negative delay, a NULL handler) print
 * "netmodel: file:line: message" and abort().
 *
 * The core knows nothing of the models that use it: an event is a handler, an opaque
 * context pointer and a 64-bit argument.
 */
#ifndef NETMODEL_EVENT_H
#define NETMODEL_EVENT_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t nm_time; /* simulated nanoseconds */

#define NM_NS_PER_S 1000000000LL
#define NM_TIME_MAX INT64_MAX

typedef struct nm_sim nm_sim;

/* Handler of an event: called once, at its time, with the values given at scheduling. */
typedef void (*nm_handler)(nm_sim *sim, void *ctx, uint64_t arg);

/* Handle of a scheduled event; 0 is never a valid handle. */
typedef uint64_t nm_timer;

nm_sim *nm_sim_new(void);
void nm_sim_free(nm_sim *sim);

/* Current simulated time (the time of the event being dispatched, or of the last one). */
nm_time nm_now(const nm_sim *sim);

/* Schedule h(sim, ctx, arg) at absolute time t (t >= nm_now, else the call aborts with
 * a file:line message, a logic error of the caller) or after a delay dt >= 0. */
nm_timer nm_schedule_at(nm_sim *sim, nm_time t, nm_handler h, void *ctx, uint64_t arg);
nm_timer nm_schedule_in(nm_sim *sim, nm_time dt, nm_handler h, void *ctx, uint64_t arg);

/* Cancel a pending event. Returns 1 if it was pending and is now cancelled, 0 if the
 * handle is stale (already fired or cancelled) or 0. */
int nm_cancel(nm_sim *sim, nm_timer t);

/* Move a pending event to absolute time t (t >= nm_now, else abort), keeping its
 * handle, handler and argument; it gets a new sequence number, i.e. it fires after
 * events already scheduled for the same time. Returns 1 if moved, 0 if stale. */
int nm_reschedule(nm_sim *sim, nm_timer t, nm_time when);

/* Time of a pending event, or -1 if the handle is stale. */
nm_time nm_timer_time(const nm_sim *sim, nm_timer t);

/* Dispatch the earliest pending event. Returns 0 when there was none. */
int nm_step(nm_sim *sim);

/* Dispatch events until none is left, nm_stop is called, or (run_until) the next event
 * is later than t_end; run_until then sets the clock to t_end (unless stopped; t_end
 * must be >= nm_now, else abort). Return the number of events dispatched. A stop
 * requested outside a run is forgotten when the next run starts. */
uint64_t nm_run(nm_sim *sim);
uint64_t nm_run_until(nm_sim *sim, nm_time t_end);

/* Dispatch the events earlier than t (t >= nm_now, else abort), then set the clock to t
 * (unless stopped) without dispatching any event at t: what the caller does next at t
 * comes before every event pending for t, as if it had been scheduled first. A driver
 * that feeds a long, sorted list of arrivals this way keeps them out of the heap. */
uint64_t nm_run_before(nm_sim *sim, nm_time t);

/* Ask nm_run / nm_run_until to return after the current handler. */
void nm_stop(nm_sim *sim);

/* Renumber the pending events' sequence numbers 0..n-1 in their current order. The
 * core does this by itself when its 32-bit sequence space runs out; calling it at any
 * time changes nothing observable. */
void nm_sim_renumber(nm_sim *sim);

size_t nm_pending(const nm_sim *sim);      /* events waiting */
uint64_t nm_dispatched(const nm_sim *sim); /* events dispatched since creation */

/* Conversions (rounding to the nearest nanosecond). */
static inline nm_time nm_from_s(double s) {
    double ns = s * 1e9;
    return (nm_time)(ns < 0 ? ns - 0.5 : ns + 0.5);
}
static inline double nm_to_s(nm_time t) { return (double)t * 1e-9; }

#endif
