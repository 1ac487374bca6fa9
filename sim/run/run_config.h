/* sim/run/run_config.h: the swarm's and live mode's configurations from a resolved scenario. */
#ifndef SIM_RUN_CONFIG_H
#define SIM_RUN_CONFIG_H

#include "sim/live/live.h"
#include "sim/scenario/scenario.h"
#include "sim/swarm/swarm.h"

/* Fill c from sc. eff_override (SIM_EFF_KINDS values) replaces the scenario's task
 * efficiencies (a kernel profile), or NULL. c borrows sc's latency matrix and profile
 * paths: free c (swarm_config_free) before sc. */
void scenario_to_swarm(const sim_scenario *sc, const double *eff_override, swarm_config *c);
void swarm_config_free(swarm_config *c);

/* Live mode's configuration from the scenario (compute.*, training.data, the optimizers,
 * the local device); callers may adjust it before live_open. */
void run_live_config(const sim_scenario *sc, live_config *o);

#endif
