/* kernels/cuda/optim.cu: the optimizer updates, on fp32 master weights and state.
 *
 * adam_step (AdamW and NAdam through kb_adam_coef, backend.h), per element:
 *   p = p (1 - lr wd) - lr (c_m m' + c_g g) / (sqrt(v' c_v) + eps)
 *   with m' = b1 m + (1 - b1) g,  v' = b2 v + (1 - b2) g^2
 * nesterov_step (PyTorch's SGD with Nesterov momentum on a pseudo-gradient):
 *   mom = mu mom + pg;  w -= lr (pg + mu mom)
 * The scalar products (1 - lr wd, lr c_m, lr c_g) are formed once on the host, as the
 * CPU reference does, so both compute the same expression per element. Grid-stride
 * loops, one thread per element, no reductions.
 */
#include <math.h>

#include "kernels/cuda/cuda_common.cuh"

#define KC_OPT_BLOCK 256

/* ---- kernels ---- */

__global__ void kc_adam_kernel(float *__restrict__ p, const float *__restrict__ g,
                               float *__restrict__ m, float *__restrict__ v, size_t n, float decay,
                               float b1, float one_b1, float b2, float one_b2, float step_m,
                               float step_g, float c_v, float eps) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        const float gi = g[i];
        const float mi = b1 * m[i] + one_b1 * gi;
        const float vi = b2 * v[i] + one_b2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi * c_v) + eps;
        p[i] = p[i] * decay - (step_m * mi + step_g * gi) / denom;
    }
}

__global__ void kc_nesterov_kernel(float *__restrict__ w, float *__restrict__ mom,
                                   const float *__restrict__ pg, size_t n, float lr, float mu) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        const float b = mu * mom[i] + pg[i];
        mom[i] = b;
        w[i] -= lr * (pg[i] + mu * b);
    }
}

/* ---- launchers ---- */

void kcu_adam_step(kb_backend *be, float *p, const float *g, float *m, float *v, size_t n,
                   const kb_adam_coef *c) {
    if (n == 0) return;
    KC_RANGE("kcu_adam_step");
    kc_impl *im = kc_enter(be);
    kc_adam_kernel<<<kc_grid(n, KC_OPT_BLOCK), KC_OPT_BLOCK, 0, im->stream>>>(
        p, g, m, v, n, 1.0f - c->lr * c->wd, c->b1, 1.0f - c->b1, c->b2, 1.0f - c->b2,
        c->lr * c->c_m, c->lr * c->c_g, c->c_v, c->eps);
    kc_launch_check();
}

void kcu_nesterov_step(kb_backend *be, float *w, float *mom, const float *pg, size_t n, float lr,
                       float mu) {
    if (n == 0) return;
    KC_RANGE("kcu_nesterov_step");
    kc_impl *im = kc_enter(be);
    kc_nesterov_kernel<<<kc_grid(n, KC_OPT_BLOCK), KC_OPT_BLOCK, 0, im->stream>>>(w, mom, pg, n, lr,
                                                                                  mu);
    kc_launch_check();
}
