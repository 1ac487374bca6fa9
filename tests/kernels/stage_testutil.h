/* tests/kernels/stage_testutil.h: helpers for the stage tests (static, header only): tiny model
 * configurations, parameter randomisation, the finite-difference check of a whole stage
 * and a small pipeline driver.
 */
#ifndef TESTS_STAGE_TESTUTIL_H
#define TESTS_STAGE_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <string.h>

#include "kernels/backend.h"
#include "kernels/optim.h"
#include "kernels/stage.h"
#include "tests/kernels/gradcheck.h"

/* A tiny Llama: d 16, 2 heads of 8, 1 kv head, ffn 24, vocab 32, sequences of 6. */
static inline km_config st_tiny_model(int n_blocks) {
    km_config c = {.d_model = 16,
                   .n_blocks = n_blocks,
                   .n_heads = 2,
                   .n_kv_heads = 1,
                   .head_dim = 8,
                   .ffn = 24,
                   .vocab = 32,
                   .seq_len = 6,
                   .rope_theta = 10000.0,
                   .norm_eps = 1e-5,
                   .dtype_bytes = 2};
    return c;
}

static inline km_boundary st_none(void) {
    km_boundary b = {KM_COMP_NONE, 0, 0};
    return b;
}

static inline ks_stage *st_new(kb_backend *be, const ks_stage_config *cfg) {
    char err[256] = "";
    ks_stage *st = ks_stage_new(be, cfg, err, sizeof err);
    ck_assert_msg(st != NULL, "ks_stage_new: %s", err);
    return st;
}

/* Replaces every parameter by a random value of a scale that keeps activations O(1):
 * vectors 1 + N(0, 0.2), matrices N(0, 1/cols). Makes zero-initialised tensors
 * (the ResBM output projections) take part in the gradient check. */
static inline void st_randomize(ks_stage *st, uint64_t seed) {
    float *p = ks_stage_params(st);
    for (int i = 0; i < ks_stage_n_tensors(st); i++) {
        const ks_tensor *t = ks_stage_tensor(st, i);
        size_t n = (size_t)t->rows * t->cols;
        if (t->rows == 1) gc_fill_normal(p + t->offset, n, seed + (uint64_t)i, 1.0, 0.2);
        else gc_fill_normal(p + t->offset, n, seed + (uint64_t)i, 0.0, 1.0 / sqrt(t->cols));
    }
    ks_params_changed(st);
}

static inline int32_t *st_tokens(int n, int vocab, uint64_t seed) {
    int32_t *t = GC_CALLOC((size_t)n, sizeof(int32_t));
    kprng r;
    kprng_init(&r, seed);
    for (int i = 0; i < n; i++) t[i] = (int32_t)(kprng_next(&r) % (uint64_t)vocab);
    return t;
}

/* ---- finite differences over a whole stage ---- */

typedef struct {
    ks_stage *st;
    void *input; /* tokens (stage 0) or a float activation */
    const int32_t *targets;
    float *out, *R; /* non-last stage: output and the objective's weights */
    size_t nout;
} st_fd_ctx;

/* Last stage: the mean loss; other stages: sum(output * R). */
static inline double st_objective(void *p) {
    st_fd_ctx *c = p;
    ks_params_changed(c->st);
    if (ks_stage_get_config(c->st)->has_head) return ks_last_loss(c->st, c->input, c->targets);
    ks_forward(c->st, 0, c->input, c->out);
    return gc_dot(c->out, c->R, c->nout);
}

/* Aggregate bound on ||fd - an|| / ||an|| per tensor. The per-element tolerance must
 * allow for the fp32 noise of a whole stage's output divided by 2h (it dominates for
 * small gradient elements); the aggregate, dominated by the large elements, is
 * measured at <= 7e-4 for a correct stage, so 5e-3 still catches a 1% error. */
#define ST_FD_MAX_REL 5e-3

static inline int st_check_one(const char *name, float *p, const float *g, size_t n, st_fd_ctx *c,
                               double atol, double rtol, size_t max_checks) {
    double rel = 0.0;
    int bad = gc_check_stats(name, p, g, n, st_objective, c, 1e-2f, atol, rtol, max_checks, &rel);
    if (rel > ST_FD_MAX_REL) {
        fprintf(stderr, "%s: aggregate relative error %.3g\n", name, rel);
        bad++;
    }
    return bad;
}

/* Checks the gradients w.r.t. every parameter tensor (up to per_tensor elements each)
 * and, if the input is an activation, w.r.t. the input. Returns the mismatch count. */
static inline int st_fd_check(ks_stage *st, void *input, const int32_t *targets, int per_tensor,
                              double atol, double rtol) {
    const ks_stage_config *cfg = ks_stage_get_config(st);
    ks_wire iw = ks_stage_input_wire(st), ow = ks_stage_output_wire(st);
    st_fd_ctx c = {st, input, targets, NULL, NULL, 0};
    float *dinput = NULL;
    if (iw.kind == KS_WIRE_ACT) dinput = GC_CALLOC(iw.mem_bytes, 1);
    ks_zero_grad(st);
    if (cfg->has_head) {
        float loss;
        ks_last_step(st, input, targets, &loss, dinput);
    } else {
        c.nout = (size_t)ow.rows * ow.width;
        c.out = GC_CALLOC(c.nout, sizeof(float));
        c.R = GC_CALLOC(c.nout, sizeof(float));
        gc_fill_normal(c.R, c.nout, 99, 0, 1);
        ks_forward(st, 0, input, c.out);
        ks_backward(st, 0, input, c.R, dinput);
    }
    int bad = 0;
    float *p = ks_stage_params(st);
    const float *g = ks_stage_grads(st);
    for (int i = 0; i < ks_stage_n_tensors(st); i++) {
        const ks_tensor *t = ks_stage_tensor(st, i);
        bad += st_check_one(t->name, p + t->offset, g + t->offset, (size_t)t->rows * t->cols, &c,
                            atol, rtol, (size_t)per_tensor);
    }
    if (dinput)
        bad += st_check_one("input", input, dinput, (size_t)iw.rows * iw.width, &c, atol, rtol,
                            (size_t)per_tensor * 4);
    free(dinput);
    free(c.out);
    free(c.R);
    return bad;
}

/* ---- a pipeline of stages, run on one microbatch ---- */

typedef struct {
    int n;
    ks_stage *st[8];
    void *act[8];  /* act[s]: output of stage s (input of s+1) */
    void *grad[8]; /* grad[s]: gradient of act[s] */
} st_pipeline;

/* Stages of one block each over a model of n blocks, all boundaries b. */
static inline void st_pipeline_init(st_pipeline *pl, kb_backend *be, const km_config *m,
                                    const km_boundary *b, int batch, uint64_t seed) {
    memset(pl, 0, sizeof *pl);
    pl->n = m->n_blocks;
    ck_assert(pl->n >= 2 && pl->n <= 8);
    for (int s = 0; s < pl->n; s++) {
        ks_stage_config cfg = {.model = *m,
                               .first_block = s,
                               .n_blocks = 1,
                               .has_embedding = s == 0,
                               .has_head = s == pl->n - 1,
                               .in = s == 0 ? st_none() : *b,
                               .out = s == pl->n - 1 ? st_none() : *b,
                               .batch = batch,
                               .recompute = 1,
                               .slots = 1,
                               .seed = seed};
        pl->st[s] = st_new(be, &cfg);
        if (s < pl->n - 1) {
            ks_wire w = ks_stage_output_wire(pl->st[s]);
            pl->act[s] = GC_CALLOC(w.mem_bytes, 1);
            pl->grad[s] = GC_CALLOC(w.mem_bytes, 1);
        }
    }
}

static inline void st_pipeline_free(st_pipeline *pl) {
    for (int s = 0; s < pl->n; s++) {
        ks_stage_free(pl->st[s]);
        free(pl->act[s]);
        free(pl->grad[s]);
    }
}

/* Forward and backward of one microbatch through every stage; returns the loss. */
static inline float st_pipeline_step(st_pipeline *pl, const int32_t *tokens,
                                     const int32_t *targets) {
    const int L = pl->n - 1;
    for (int s = 0; s < L; s++)
        ks_forward(pl->st[s], 0, s == 0 ? (const void *)tokens : pl->act[s - 1], pl->act[s]);
    float loss = 0.0f;
    ks_last_step(pl->st[L], pl->act[L - 1], targets, &loss, pl->grad[L - 1]);
    for (int s = L - 1; s >= 0; s--)
        ks_backward(pl->st[s], 0, s == 0 ? (const void *)tokens : pl->act[s - 1], pl->grad[s],
                    s == 0 ? NULL : pl->grad[s - 1]);
    return loss;
}

/* Trains on one fixed batch with AdamW (lr, no weight decay, clipping at norm 1);
 * returns the loss of the last step. */
static inline float st_pipeline_train(st_pipeline *pl, const int32_t *tokens,
                                      const int32_t *targets, int steps, double lr,
                                      float *first_loss) {
    ko_inner_state opt[8];
    for (int s = 0; s < pl->n; s++) opt[s] = ko_inner_init(KO_ADAMW, lr, 0.9, 0.95, 0.0);
    float loss = 0.0f;
    for (int it = 0; it < steps; it++) {
        for (int s = 0; s < pl->n; s++) ks_zero_grad(pl->st[s]);
        loss = st_pipeline_step(pl, tokens, targets);
        if (it == 0 && first_loss) *first_loss = loss;
        for (int s = 0; s < pl->n; s++) {
            kb_adam_coef c = ko_adam_next(&opt[s]);
            float clip = (float)ko_clip_scale(ks_grad_norm(pl->st[s]), 1.0);
            ks_optimizer_step(pl->st[s], &c, clip);
        }
    }
    return loss;
}

#endif
