/* sim/scenario/scenario_set.h: `--set key.path=value` overrides (loader internals).
 *
 * Path syntax: the dotted key path of the schema, with [i] to reach into a list:
 *   training.H=100            compression.ratio=16        metrics.colocated_baseline=false
 *   compression.method=resbm  (strings may be bare or "quoted")
 *   pipeline.split=[4,6,6,...]                 swarm.device_per_replica=[A100-80GB,H100-SXM]
 *   swarm.device_mix[1].fraction=0.25          swarm.device_per_replica[2]=H200
 *   swarm.bandwidth.classes=({fraction=1.0; up_mbps=100.0; down_mbps=200.0;})
 * Values are parsed as libconfig values, except that strings may be written bare and a
 * string list may be written [a, b] without quotes. The override is grafted into the
 * parsed tree before validation, so it is checked like any key of the file; its
 * location in messages is the argument itself ("--set training.H=abc: ...").
 */
#ifndef SIM_SCENARIO_SET_H
#define SIM_SCENARIO_SET_H

#include <stddef.h>

#include "sim/scenario/scenario_tree.h"

/* Apply one override to the tree. 0, or -1 with err filled (naming the argument). */
int sc_apply_set(sn_node *root, const char *arg, char *err, size_t errlen);

#endif
