/* sim/trace/trace_sink.h: the HDF5 trace as the engine's sink (sim/swarm/swarm.h).
 *
 * trace_sink_make fills a swarm_sink whose callbacks write the engine's observations
 * (peers, events, phases, samples, per-peer shares) into the trace's tables, flushing at
 * every cycle end; trace_live_sink_make does the same for live mode's loss and boundary
 * rows. The engine's enums map one to one onto the trace's published codes
 * (results/README.md); the mapping is spelt out in trace_sink.c and checked at compile
 * time, so either side can grow without silently renumbering the other. */
#ifndef SIM_TRACE_SINK_H
#define SIM_TRACE_SINK_H

#include "sim/live/live.h"
#include "sim/swarm/swarm.h"
#include "sim/trace/trace.h"

/* A sink writing into t (which must outlive the run). */
void trace_sink_make(trace *t, swarm_sink *out);

/* A sink for live mode's rows: the loss and boundaries tables of t, and the task log
 * (/tasks, which t must have when live mode runs under the measured rule). */
void trace_live_sink_make(trace *t, live_sink *out);

#endif
