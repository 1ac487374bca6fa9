/* sim/run/run_config.h: filling the swarm's configuration from a resolved scenario. */
#ifndef SIM_SCENARIO_SWARM_H
#define SIM_SCENARIO_SWARM_H

#include "sim/scenario/scenario.h"
#include "sim/swarm/swarm.h"

/* Fill c from sc. eff_override (SIM_EFF_KINDS values) replaces the scenario's task
 * efficiencies (a kernel profile), or NULL. c borrows sc's latency matrix and profile
 * paths: free c (swarm_config_free) before sc. */
void scenario_to_swarm(const sim_scenario *sc, const double *eff_override, swarm_config *c);
void swarm_config_free(swarm_config *c);

#endif
