/* sim/base/version.h: the one version string of orionsim (CLI, traces, sweep files). */
#ifndef SIM_BASE_VERSION_H
#define SIM_BASE_VERSION_H

#define ORIONSIM_VERSION "0.1.0"

#endif
