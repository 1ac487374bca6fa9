/* kernels/cpu_optim.c: CPU reference of the Adam-family and Nesterov updates. */
#include "kernels/cpu_optim.h"

#include <math.h>

/* Below this many elements one thread does the work (thread start-up would dominate). */
#define KCPU_OPTIM_PARALLEL_MIN 65536

void kcpu_adam_step(kb_backend *be, float *p, const float *g, float *m, float *v, size_t n,
                    const kb_adam_coef *c) {
    (void)be;
    const float decay = 1.0f - c->lr * c->wd;
    const float b1 = c->b1, b2 = c->b2, one_b1 = 1.0f - c->b1, one_b2 = 1.0f - c->b2;
    const float step_m = c->lr * c->c_m, step_g = c->lr * c->c_g;
    const float c_v = c->c_v, eps = c->eps;
    const long long count = (long long)n;
#pragma omp parallel for schedule(static) if (count >= KCPU_OPTIM_PARALLEL_MIN)
    for (long long i = 0; i < count; i++) {
        const float gi = g[i];
        const float mi = b1 * m[i] + one_b1 * gi;
        const float vi = b2 * v[i] + one_b2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi * c_v) + eps;
        p[i] = p[i] * decay - (step_m * mi + step_g * gi) / denom;
    }
}

void kcpu_nesterov_step(kb_backend *be, float *w, float *mom, const float *pg, size_t n, float lr,
                        float mu) {
    (void)be;
    const long long count = (long long)n;
#pragma omp parallel for schedule(static) if (count >= KCPU_OPTIM_PARALLEL_MIN)
    for (long long i = 0; i < count; i++) {
        const float b = mu * mom[i] + pg[i];
        mom[i] = b;
        w[i] -= lr * (pg[i] + mu * b);
    }
}
