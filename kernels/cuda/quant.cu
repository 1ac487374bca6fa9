/* kernels/cuda/quant.cu: symmetric per-row int8 quantisation of activations.
 *
 *   scale_r = max_j |x_rj| / 127,   q_rj = round(x_rj / scale_r) clamped to [-127, 127]
 *   dequant: x_rj = q_rj * scale_r
 * Rounding is half away from zero (roundf) and the division is IEEE (no fast math), the
 * same operations as the CPU reference, so q and scale match it bit for bit. A row of
 * zeros gets scale 0 and q = 0. One block per row for quant (block max, then the row);
 * dequant is a grid-stride loop.
 */
#include <math.h>

#include "kernels/cuda/cuda_common.cuh"

#define KC_Q_BLOCK 256

/* ---- kernels ---- */

template <typename T>
__global__ void kc_quant_int8_kernel(int8_t *q, float *scale, const T *x, int d) {
    __shared__ float sh[32];
    const size_t r = blockIdx.x;
    const T *xr = x + r * d;
    int8_t *qr = q + r * d;
    float amax = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) amax = fmaxf(amax, fabsf(kc_ld(xr + j)));
    amax = kc_block_max(amax, sh);
    const float s = amax / 127.0f;
    if (threadIdx.x == 0) scale[r] = s;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        float v = s > 0.0f ? roundf(kc_ld(xr + j) / s) : 0.0f;
        v = fminf(fmaxf(v, -127.0f), 127.0f);
        qr[j] = (int8_t)v;
    }
}

template <typename T>
__global__ void kc_dequant_int8_kernel(T *x, const int8_t *q, const float *scale, int N, int d) {
    const size_t total = (size_t)N * d;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x)
        kc_st(x + i, (float)q[i] * scale[i / d]);
}

/* ---- launchers ---- */

void kcu_quant_int8(kb_backend *be, int8_t *q, float *scale, const void *x, int N, int d) {
    if (N <= 0 || d <= 0) return;
    KC_RANGE("kcu_quant_int8");
    kc_impl *im = kc_enter(be);
    if (be->act == KB_BF16)
        kc_quant_int8_kernel<<<N, KC_Q_BLOCK, 0, im->stream>>>(q, scale, (const __nv_bfloat16 *)x,
                                                               d);
    else kc_quant_int8_kernel<<<N, KC_Q_BLOCK, 0, im->stream>>>(q, scale, (const float *)x, d);
    kc_launch_check();
}

void kcu_dequant_int8(kb_backend *be, void *x, const int8_t *q, const float *scale, int N, int d) {
    if (N <= 0 || d <= 0) return;
    KC_RANGE("kcu_dequant_int8");
    kc_impl *im = kc_enter(be);
    const unsigned g = kc_grid((size_t)N * d, KC_Q_BLOCK);
    if (be->act == KB_BF16)
        kc_dequant_int8_kernel<<<g, KC_Q_BLOCK, 0, im->stream>>>((__nv_bfloat16 *)x, q, scale, N,
                                                                 d);
    else kc_dequant_int8_kernel<<<g, KC_Q_BLOCK, 0, im->stream>>>((float *)x, q, scale, N, d);
    kc_launch_check();
}
