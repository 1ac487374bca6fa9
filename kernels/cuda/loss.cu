/* kernels/cuda/loss.cu: fused softmax + cross-entropy.
 *
 *   loss_r    = lse(logits_r) - logits_r[target_r]
 *   dlogits_r = dscale * (softmax(logits_r) - onehot(target_r))   (if dlogits != NULL)
 *
 * One block per row. Pass 1: each thread keeps an online (max, sum of exp) pair over its
 * strided columns -- on a larger value the sum is rescaled, sum = sum * exp(m - x) + 1 --
 * and the block combines the pairs in a fixed order (warp butterflies, then the warps
 * in index order), so the result is deterministic. Pass 2 writes the gradient. dlogits
 * may alias logits: the target logit is read before the first barrier, and in pass 2
 * each element is read and then written by the same thread.
 * A target outside [0, V) is a caller bug (the CPU reference aborts); here it gives a
 * NaN loss and no one-hot term.
 */
#include <math.h>

#include "kernels/cuda/cuda_common.cuh"

#define KC_CE_BLOCK 512

/* ---- kernels ---- */

/* Merges (m2, s2) into (m, s): two partial (max, sum of exp(x - max)) pairs. */
__device__ __forceinline__ void kc_lse_merge(float &m, float &s, float m2, float s2) {
    const float mn = fmaxf(m, m2);
    if (mn == -INFINITY) return; /* both empty */
    s = (m == -INFINITY ? 0.0f : s * expf(m - mn)) + (m2 == -INFINITY ? 0.0f : s2 * expf(m2 - mn));
    m = mn;
}

template <typename T>
__global__ void __launch_bounds__(KC_CE_BLOCK)
    kc_crossentropy_kernel(float *losses, T *dlogits, const T *logits, const int32_t *targets,
                           int V, float dscale) {
    __shared__ float shm[32], shs[32];
    const size_t r = blockIdx.x;
    const T *z = logits + r * V;
    const int tgt = targets[r];
    const int valid = tgt >= 0 && tgt < V;
    const float zt = (threadIdx.x == 0 && valid) ? kc_ld(z + tgt) : 0.0f;

    float m = -INFINITY, s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        const float x = kc_ld(z + j);
        if (x > m) {
            s = (m == -INFINITY ? 0.0f : s * expf(m - x)) + 1.0f;
            m = x;
        } else {
            s += expf(x - m);
        }
    }
    for (int o = 16; o > 0; o >>= 1) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, o);
        const float s2 = __shfl_xor_sync(0xffffffffu, s, o);
        kc_lse_merge(m, s, m2, s2);
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    if (lane == 0) {
        shm[warp] = m;
        shs[warp] = s;
    }
    __syncthreads();
    m = shm[0];
    s = shs[0];
    for (int w = 1; w < nw; w++) kc_lse_merge(m, s, shm[w], shs[w]);
    const float lse = m + logf(s);

    if (threadIdx.x == 0) losses[r] = valid ? lse - zt : __int_as_float(0x7fc00000);
    if (dlogits) {
        T *dz = dlogits + r * V;
        for (int j = threadIdx.x; j < V; j += blockDim.x) {
            const float p = expf(kc_ld(z + j) - lse);
            kc_st(dz + j, dscale * (p - (j == tgt ? 1.0f : 0.0f)));
        }
    }
}

/* ---- launchers ---- */

void kcu_crossentropy(kb_backend *be, float *losses, void *dlogits, const void *logits,
                      const int32_t *targets, int N, int V, float dscale) {
    if (N <= 0) return;
    KC_RANGE("kcu_crossentropy");
    kc_require(V > 0, "crossentropy: V must be positive");
    kc_impl *im = kc_enter(be);
    if (be->act == KB_BF16)
        kc_crossentropy_kernel<<<N, KC_CE_BLOCK, 0, im->stream>>>(
            losses, (__nv_bfloat16 *)dlogits, (const __nv_bfloat16 *)logits, targets, V, dscale);
    else
        kc_crossentropy_kernel<<<N, KC_CE_BLOCK, 0, im->stream>>>(
            losses, (float *)dlogits, (const float *)logits, targets, V, dscale);
    kc_launch_check();
}
