/* sim/trace/trace_events.h: reading a trace's /events table a block at a time.
 *
 * Event tables of long runs hold millions of rows; exports and plots stream them in
 * blocks of records (trace_event_rec, sim/trace/trace.h) instead of loading the table whole.
 * The file is opened read-only without HDF5 file locking, so a trace that a run is still
 * writing can be read (up to its last flush). Callers validate the file first with
 * trace_read_open (sim/trace/trace_read.h).
 */
#ifndef SIM_TRACE_EVENTS_H
#define SIM_TRACE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "sim/trace/trace.h"

typedef struct trace_events trace_events;

/* Open path's /events. 0, or -1 with err. */
int trace_events_open(const char *path, trace_events **out, char *err, size_t errlen);
/* Rows in the table. */
uint64_t trace_events_rows(const trace_events *r);
/* The next up to `cap` rows into buf: the number read (0 at the end), or -1 with err. */
int64_t trace_events_next(trace_events *r, trace_event_rec *buf, size_t cap, char *err,
                          size_t errlen);
/* Start again from the first row. */
void trace_events_rewind(trace_events *r);
void trace_events_close(trace_events *r);

/* Name of an event kind, "kind_N" for kinds this build does not know (buf: 16 bytes). */
const char *trace_events_kind_name(int32_t kind, char *buf, size_t n);

#endif
