/* sim/calibrate/kernel_profile.h: kernel profiles, the measured efficiency of each task kind.
 *
 * Written by `orionsim calibrate` from timings of the real stage kernels, read by
 * `orionsim run --profile` (or compute.kernel_profile) in place of the scenario's
 * assumed efficiencies. libconfig format:
 *   device = "H100-SXM";               # what it was measured on
 *   backend = "cuda";
 *   efficiency = { forward = 0.61; backward = 0.58; recompute = 0.61;
 *                  optimizer = 0.72; merge = 0.70; };
 * forward/backward/recompute are fractions of the device's dense bf16 peak FLOP/s;
 * optimizer and merge (memory-bound) are fractions of its memory bandwidth.
 */
#ifndef SIM_KERNEL_PROFILE_H
#define SIM_KERNEL_PROFILE_H

#include <stddef.h>

/* eff: SIM_EFF_KINDS values (sim/scenario/scenario.h order). 0, or EXIT_INPUT with err filled. */
int kernel_profile_load(const char *path, double *eff, char *err, size_t errlen);
/* 0, or EXIT_RUN with err filled. */
int kernel_profile_save(const char *path, const char *device, const char *backend,
                        const double *eff, char *err, size_t errlen);

#endif
