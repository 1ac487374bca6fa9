/* sim/calibrate/calibrate.h: `orionsim calibrate`, measuring the real stage kernels at a
 * scenario's shapes and writing the efficiencies as a kernel profile. */
#ifndef SIM_CALIBRATE_H
#define SIM_CALIBRATE_H

#include <stddef.h>

#include "sim/scenario/scenario.h"

typedef struct {
    const char *backend; /* "auto", "cpu", "cuda" (NULL: auto) */
    int gpu;             /* GPU ordinal */
    int blocks, seqs;    /* stage size measured (0: 1 block, the scenario's sequences) */
    int reps;            /* timed repetitions, best kept (0: 3) */
    double peak_flops;   /* device peak, FLOP/s (0: device table or measured on the CPU) */
    double mem_bw;       /* device memory bandwidth, B/s (0: likewise) */
} calibrate_opts;

typedef struct {
    double eff[SIM_EFF_KINDS];
    double t[SIM_EFF_KINDS]; /* seconds per call */
    double peak_flops, mem_bw;
    int peak_measured, bw_measured;
    double flops_forward, flops_backward, params, tokens;
    int blocks;
    char backend[16];
} calibrate_result;

/* 0, or EXIT_RUN / EXIT_INPUT with err filled. */
int calibrate_run(const sim_scenario *sc, const calibrate_opts *o, calibrate_result *res, char *err,
                  size_t errlen);

#endif
