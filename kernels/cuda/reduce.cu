/* kernels/cuda/reduce.cu: sum of squares, returned to the host in double.
 *
 * Deterministic two-pass reduction: pass 1 runs a grid whose size depends only on n;
 * each thread accumulates x^2 in double over a grid-stride range, each block reduces
 * its threads in a fixed order and writes one partial; pass 2 (one block) reduces the
 * partials in a fixed order. The same input gives the same bits on every run. The
 * result is copied to pinned host memory on the compute stream, which is then
 * synchronised (backend.h: sumsq synchronises).
 */
#include "kernels/cuda/cuda_common.cuh"

#define KC_SS_BLOCK 256
#define KC_SS_MAX_BLOCKS 1024 /* = the block size of pass 2 */

/* ---- kernels ---- */

template <typename T>
__global__ void __launch_bounds__(KC_SS_BLOCK)
    kc_sumsq_partial_kernel(double *partial, const T *x, size_t n) {
    __shared__ double sh[32];
    double acc = 0.0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        const double v = (double)kc_ld(x + i);
        acc += v * v;
    }
    acc = kc_block_sum(acc, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

__global__ void __launch_bounds__(KC_SS_MAX_BLOCKS)
    kc_sumsq_final_kernel(double *result, const double *partial, int nparts) {
    __shared__ double sh[32];
    double v = (int)threadIdx.x < nparts ? partial[threadIdx.x] : 0.0;
    v = kc_block_sum(v, sh);
    if (threadIdx.x == 0) *result = v;
}

/* ---- launchers ---- */

double kcu_sumsq(kb_backend *be, const void *x, kb_dtype t, size_t n) {
    if (n == 0) return 0.0;
    KC_RANGE("kcu_sumsq");
    kc_impl *im = kc_enter(be);
    size_t nb = (n + (size_t)KC_SS_BLOCK * 8 - 1) / ((size_t)KC_SS_BLOCK * 8);
    if (nb > KC_SS_MAX_BLOCKS) nb = KC_SS_MAX_BLOCKS;
    if (nb < 1) nb = 1;
    double *buf = (double *)kc_scratch(im, KC_SCR_REDUCE, (KC_SS_MAX_BLOCKS + 1) * sizeof(double));
    double *result = buf + KC_SS_MAX_BLOCKS;
    if (t == KB_BF16)
        kc_sumsq_partial_kernel<<<(unsigned)nb, KC_SS_BLOCK, 0, im->stream>>>(
            buf, (const __nv_bfloat16 *)x, n);
    else
        kc_sumsq_partial_kernel<<<(unsigned)nb, KC_SS_BLOCK, 0, im->stream>>>(buf, (const float *)x,
                                                                              n);
    kc_launch_check();
    kc_sumsq_final_kernel<<<1, KC_SS_MAX_BLOCKS, 0, im->stream>>>(result, buf, (int)nb);
    kc_launch_check();
    cudaCheck(cudaMemcpyAsync(im->sumsq_host, result, sizeof(double), cudaMemcpyDeviceToHost,
                              im->stream));
    cudaCheck(cudaStreamSynchronize(im->stream));
    return *im->sumsq_host;
}
