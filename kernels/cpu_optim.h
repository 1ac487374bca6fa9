/* kernels/cpu_optim.h: CPU reference of the two optimizer updates of the backend table.
 *
 * Both have exactly the signatures of kb_backend.adam_step and .nesterov_step and the
 * semantics documented there; the CPU backend puts them in its table. They work on host
 * fp32 buffers in place, compute in fp32 (the scalars arrive precomputed in
 * kb_adam_coef), use OpenMP for large n, and never touch `be` (it may be NULL).
 */
#ifndef KERNELS_CPU_OPTIM_H
#define KERNELS_CPU_OPTIM_H

#include <stddef.h>

#include "kernels/backend.h"

/* p -= lr·wd·p; m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²;
 * p -= lr·(c_m·m + c_g·g) / (sqrt(v·c_v) + eps). */
void kcpu_adam_step(kb_backend *be, float *p, const float *g, float *m, float *v, size_t n,
                    const kb_adam_coef *c);

/* mom = mu·mom + pg; w -= lr·(pg + mu·mom). */
void kcpu_nesterov_step(kb_backend *be, float *w, float *mom, const float *pg, size_t n, float lr,
                        float mu);

#endif
