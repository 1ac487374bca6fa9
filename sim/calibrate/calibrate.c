/* sim/calibrate/calibrate.c: measure the stage kernels at a scenario's shapes -> kernel profile.
 *
 * A middle stage of the scenario's model (its blocks, with the scenario's boundary on
 * both sides) runs on the local backend: forward, backward with recompute, optimizer
 * step, and an outer Nesterov step as the merge's proxy. Efficiencies, as the swarm uses
 * them (sim/run/run_config.c):
 *   forward   = hardware FLOPs of the forward / (time x peak)
 *   recompute = the forward's (the same kernels run again)
 *   backward  = (FLOPs of backward-with-recompute - forward FLOPs) /
 *               ((its time - the forward's time) x peak)
 *   optimizer = params x 30 B / (time x memory bandwidth)
 *   merge     = params x 20 B / (time x memory bandwidth)   (the outer-step pass)
 * Peak and bandwidth come from the device table (--device or compute.local_device) or
 * --peak-tflops/--mem-gbs; on the CPU without them, from a measured large GEMM and a
 * measured copy of the same footprint (then the efficiency says how close the stage
 * gets to this CPU's own GEMM and copy rates). Fewer blocks and sequences than the scenario's (--blocks, --seqs) measure
 * the same per-FLOP efficiency at a fraction of the time; the shapes of every GEMM and
 * of attention are the scenario's.
 */
#include "sim/calibrate/calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/backend.h"
#include "kernels/model.h"
#include "kernels/optim.h"
#include "kernels/stage.h"
#include "sim/calibrate/kernel_profile.h"
#include "sim/base/util.h"

/* Memory traffic per parameter, as in sim/run/run_config.c. */
#define OPT_BYTES 30.0
#define MERGE_BYTES 20.0

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best of `reps` timings of one call (after one warm-up call). */
#define TIME_BEST(be, reps, out, call)                                                             \
    do {                                                                                           \
        call;                                                                                      \
        (be)->synchronize(be);                                                                     \
        double best_ = INFINITY;                                                                   \
        for (int r_ = 0; r_ < (reps); r_++) {                                                      \
            double t0_ = wall();                                                                   \
            call;                                                                                  \
            (be)->synchronize(be);                                                                 \
            double dt_ = wall() - t0_;                                                             \
            if (dt_ < best_) best_ = dt_;                                                          \
        }                                                                                          \
        (out) = best_;                                                                             \
    } while (0)

static double measure_gemm_peak(kb_backend *be, int n, int reps) {
    size_t bytes = (size_t)n * n * kb_dtype_size(be->act);
    void *a = be->alloc(be, bytes), *b = be->alloc(be, bytes), *c = be->alloc(be, bytes);
    double t;
    TIME_BEST(be, reps, t,
              be->gemm(be, 0, 0, n, n, n, 1.0f, a, be->act, n, b, be->act, n, 0.0f, c, be->act, n));
    be->free(be, a);
    be->free(be, b);
    be->free(be, c);
    return 2.0 * n * (double)n * n / t;
}

static double measure_mem_bw(kb_backend *be, size_t bytes, int reps) {
    void *a = be->alloc(be, bytes), *b = be->alloc(be, bytes);
    double t;
    TIME_BEST(be, reps, t, be->copy(be, b, a, bytes));
    be->free(be, a);
    be->free(be, b);
    return 2.0 * (double)bytes / t; /* read + write */
}

int calibrate_run(const sim_scenario *sc, const calibrate_opts *o, calibrate_result *res, char *err,
                  size_t errlen) {
    memset(res, 0, sizeof *res);
    const char *which = o->backend ? o->backend : "auto";
    kb_backend *be = kb_open(which, o->gpu, KB_BF16, err, errlen);
    if (!be) return EXIT_RUN;
    int blocks = o->blocks > 0 ? o->blocks : 1;
    int seqs = o->seqs > 0 ? o->seqs : sc->training.microbatch_seqs;
    int reps = o->reps > 0 ? o->reps : 3;

    /* a three-stage model around the measured stage, so FLOPs come from km_task_flops */
    km_config m = sc->model;
    m.n_blocks = blocks + 2;
    km_split sp = {.n_stages = 3};
    sp.blocks[0] = 1;
    sp.blocks[1] = blocks;
    sp.blocks[2] = 1;
    const km_boundary *bd = &sc->compression.boundary;
    int64_t tokens = (int64_t)seqs * m.seq_len;
    double f_fwd = km_task_flops(&m, &sp, bd, 1, KM_TASK_FORWARD, tokens);
    double f_bwd = km_task_flops(&m, &sp, bd, 1, KM_TASK_BACKWARD_RECOMPUTE, tokens);

    ks_stage_config cfg = {.model = m,
                           .first_block = 1,
                           .n_blocks = blocks,
                           .in = *bd,
                           .out = *bd,
                           .batch = seqs,
                           .recompute = 1,
                           .slots = 1,
                           .seed = sc->seed};
    ks_stage *st = ks_stage_new(be, &cfg, err, errlen);
    if (!st) {
        kb_close(be);
        return EXIT_INPUT;
    }
    ks_wire wi = ks_stage_input_wire(st), wo = ks_stage_output_wire(st);
    void *in = be->alloc(be, wi.mem_bytes), *out = be->alloc(be, wo.mem_bytes);
    void *dout = be->alloc(be, wo.mem_bytes), *din = be->alloc(be, wi.mem_bytes);
    /* small random inputs and gradients (values do not change the timing) */
    size_t nin = wi.mem_bytes / kb_dtype_size(be->act),
           nout = wo.mem_bytes / kb_dtype_size(be->act);
    float *h = xmalloc(sizeof *h * (nin > nout ? nin : nout));
    uint64_t x = sc->seed * 2654435761u + 1;
    for (size_t i = 0; i < (nin > nout ? nin : nout); i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        h[i] = (float)((double)(x >> 40) / (double)(1ull << 24) - 0.5) * 0.1f;
    }
    be->upload(be, in, be->act, h, nin);
    be->upload(be, dout, be->act, h, nout);
    free(h);

    double t_fwd, t_bwd, t_opt, t_merge;
    TIME_BEST(be, reps, t_fwd, ks_forward(st, 0, in, out));
    TIME_BEST(be, reps, t_bwd, ks_backward(st, 0, in, dout, din));
    kb_adam_coef c = {.lr = 1e-6f,
                      .b1 = 0.9f,
                      .b2 = 0.95f,
                      .eps = 1e-8f,
                      .wd = 0.0f,
                      .c_m = 1,
                      .c_g = 0,
                      .c_v = 1};
    TIME_BEST(be, reps, t_opt, ks_optimizer_step(st, &c, 1.0f));
    size_t np = ks_stage_param_count(st);
    float *mom = be->alloc(be, np * sizeof(float));
    TIME_BEST(be, reps, t_merge,
              be->nesterov_step(be, ks_stage_params(st), mom, ks_stage_grads(st), np, 0.0f, 0.9f));
    be->free(be, mom);

    double peak = o->peak_flops, bw = o->mem_bw;
    res->peak_measured = res->bw_measured = 0;
    if (!(peak > 0)) {
        if (strcmp(be->name, "cpu")) {
            snprintf(err, errlen,
                     "calibrate: give the GPU's peak with --device NAME (device table) or "
                     "--peak-tflops");
            goto fail;
        }
        peak = measure_gemm_peak(be, 1024, reps);
        res->peak_measured = 1;
    }
    double bw_opt = bw, bw_merge = bw;
    if (!(bw > 0)) {
        if (strcmp(be->name, "cpu")) {
            snprintf(err, errlen,
                     "calibrate: give the GPU's memory bandwidth with --device NAME or --mem-gbs");
            goto fail;
        }
        /* a copy of the same footprint, so caches help both sides alike */
        bw = bw_opt = measure_mem_bw(be, (size_t)((double)np * OPT_BYTES / 2), reps);
        bw_merge = measure_mem_bw(be, (size_t)((double)np * MERGE_BYTES / 2), reps);
        res->bw_measured = 1;
    }
    if (!(t_bwd > t_fwd)) {
        snprintf(err, errlen,
                 "calibrate: the backward (%.3g s) did not take longer than the forward (%.3g s): "
                 "timings too noisy at this size; use more --seqs, --blocks or --reps",
                 t_bwd, t_fwd);
        goto fail;
    }
    res->peak_flops = peak;
    res->mem_bw = bw;
    res->t[SIM_EFF_FORWARD] = t_fwd;
    res->t[SIM_EFF_RECOMPUTE] = t_fwd;
    res->t[SIM_EFF_BACKWARD] = t_bwd;
    res->t[SIM_EFF_OPTIMIZER] = t_opt;
    res->t[SIM_EFF_MERGE] = t_merge;
    res->eff[SIM_EFF_FORWARD] = f_fwd / (t_fwd * peak);
    res->eff[SIM_EFF_RECOMPUTE] = res->eff[SIM_EFF_FORWARD];
    res->eff[SIM_EFF_BACKWARD] = t_bwd > t_fwd ? (f_bwd - f_fwd) / ((t_bwd - t_fwd) * peak) : NAN;
    res->eff[SIM_EFF_OPTIMIZER] = (double)np * OPT_BYTES / (t_opt * bw_opt);
    res->eff[SIM_EFF_MERGE] = (double)np * MERGE_BYTES / (t_merge * bw_merge);
    res->flops_forward = f_fwd;
    res->flops_backward = f_bwd;
    res->params = (double)np;
    res->tokens = (double)tokens;
    res->blocks = blocks;
    snprintf(res->backend, sizeof res->backend, "%s", be->name);
    for (int k = 0; k < SIM_EFF_KINDS; k++)
        if (!(res->eff[k] > 0 && res->eff[k] <= 1)) {
            snprintf(err, errlen,
                     "calibrate: %s efficiency came out as %.3f, outside (0, 1]: the peak or "
                     "bandwidth given is below "
                     "what the kernels reached (peak %.4g FLOP/s, memory %.4g B/s)",
                     sim_eff_name((sim_eff_kind)k), res->eff[k], peak, bw);
            goto fail;
        }
    be->free(be, in);
    be->free(be, out);
    be->free(be, dout);
    be->free(be, din);
    ks_stage_free(st);
    kb_close(be);
    return 0;
fail:
    be->free(be, in);
    be->free(be, out);
    be->free(be, dout);
    be->free(be, din);
    ks_stage_free(st);
    kb_close(be);
    return EXIT_RUN;
}
