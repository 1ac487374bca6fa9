/* kernels/optim.h: host-side optimizer logic (inner AdamW/NAdam, clipping, outer step).
 *
 * Design. The element-wise updates run in a backend (kb_backend.adam_step and
 * .nesterov_step; CPU reference in kernels/cpu_optim.c). Everything scalar lives here,
 * on the host, in double: the step counter, bias corrections and NAdam's running
 * momentum product. One inner step is
 *     kb_adam_coef c = ko_adam_next(&state);   (coefficients of step t+1, then t += 1)
 *     be->adam_step(be, p, g, m, v, n, &c);
 * so one device kernel serves AdamW and NAdam (see kb_adam_coef in kernels/backend.h).
 *
 * Semantics match PyTorch exactly: torch.optim.AdamW, and torch.optim.NAdam with
 * decoupled_weight_decay=True, whose documented algorithm for step t is
 *     p   <- p - lr·wd·p
 *     mu_t = b1·(1 - 0.5·0.96^(t·psi)),  mu_{t+1} likewise
 *     m   <- b1·m + (1-b1)·g ;  v <- b2·v + (1-b2)·g²
 *     m^   = mu_{t+1}·m / (1 - prod_{i<=t+1} mu_i) + (1-mu_t)·g / (1 - prod_{i<=t} mu_i)
 *     v^   = v / (1 - b2^t)
 *     p   <- p - lr·m^ / (sqrt(v^) + eps)
 * and for AdamW m^ = m / (1 - b1^t) instead. kb_adam_coef hands b1 and b2 to the
 * kernels in fp32, so every host scalar (bias corrections, mu_t, the mu product) is
 * computed in double from those fp32 betas: the result is PyTorch's algorithm run with
 * the betas rounded to fp32 (0.999 becomes 0.99900001287), self-consistent, within
 * fp32 rounding of the true algorithm.
 *
 * IOTA's settings (SPEC §3.2): NAdam, lr 2e-4, b2 0.95, wd 0.1, and a per-stage
 * b1 = 0.9 + 0.09·(S-(s+1))/S, so early stages (whose gradients arrive staler) carry
 * more momentum. eps and psi are PyTorch's defaults (1e-8, 0.004). Gradients are
 * clipped to a maximum global norm before each step (PyTorch's clip_grad_norm_).
 *
 * The outer step (DiLoCo) is SGD with Nesterov momentum on the pseudo-gradient, lr 0.7,
 * momentum 0.9, applied partition by partition: ko_partition cuts a flat parameter
 * vector into contiguous ranges so that each merger owns one.
 */
#ifndef KERNELS_OPTIM_H
#define KERNELS_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/backend.h"

typedef enum { KO_ADAMW = 0, KO_NADAM = 1 } ko_inner_kind;

/* State of one inner optimizer (the per-element moments live with the backend). */
typedef struct {
    ko_inner_kind kind;
    double lr, beta1, beta2, eps, weight_decay;
    double momentum_decay; /* NAdam's psi; unused by AdamW */
    int64_t step;          /* steps taken so far (t of the last step; 0 before the first) */
    double mu_product;     /* NAdam: prod_{i<=step} mu_i; 1 before the first step */
} ko_inner_state;

/* A fresh state (step 0) with PyTorch's defaults for eps (1e-8) and psi (0.004). */
ko_inner_state ko_inner_init(ko_inner_kind kind, double lr, double beta1, double beta2,
                             double weight_decay);
/* IOTA's inner optimizer for stage s of n_stages: NAdam, lr 2e-4, b1 per stage, b2 0.95,
 * wd 0.1. */
ko_inner_state ko_inner_iota(int stage, int n_stages);
/* IOTA's per-stage b1 = 0.9 + 0.09·(S-(s+1))/S. */
double ko_iota_beta1(int stage, int n_stages);

/* 0 if usable (lr >= 0, 0 <= b1, b2 < 1, eps >= 0, wd >= 0, psi >= 0, known kind);
 * otherwise fills msg (may be NULL) naming the field and returns -1. */
int ko_inner_validate(const ko_inner_state *s, char *msg, size_t msglen);

/* NAdam's mu_t = b1·(1 - 0.5·0.96^(t·psi)), b1 rounded to fp32 as the kernels see it. */
double ko_nadam_mu(const ko_inner_state *s, int64_t t);
/* Coefficients of the next step (t = s->step + 1); does not change s. */
kb_adam_coef ko_adam_coef(const ko_inner_state *s);
/* Record that the next step was taken: step += 1, mu_product *= mu_step. */
void ko_inner_advance(ko_inner_state *s);
/* ko_adam_coef then ko_inner_advance. */
kb_adam_coef ko_adam_next(ko_inner_state *s);

/* Gradient clipping (PyTorch clip_grad_norm_): the factor to multiply every gradient by,
 * given their global L2 norm: min(1, max_norm / (norm + 1e-6)). max_norm <= 0 disables
 * clipping (1). An infinite norm gives 0, a NaN norm NaN, as in PyTorch. */
double ko_clip_scale(double norm, double max_norm);

/* ---- outer optimizer ---- */
typedef struct {
    double lr;
    double momentum;
} ko_outer_params;

/* DiLoCo's outer SGD-Nesterov: lr 0.7, momentum 0.9. */
ko_outer_params ko_outer_diloco(void);

/* Contiguous range [begin, end) of partition i of a flat vector of n elements cut into
 * n_parts parts: the first n % n_parts parts have n / n_parts + 1 elements, the others
 * n / n_parts (so sizes differ by at most 1, some empty when n < n_parts). An invalid
 * n_parts (< 1) or i (outside [0, n_parts)) gives the empty range {0, 0}. */
typedef struct {
    size_t begin, end;
} ko_range;
ko_range ko_partition(size_t n, int n_parts, int i);

#endif
