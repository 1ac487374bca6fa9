/* kernels/cuda/norm.cu: RMSNorm forward and backward.
 *
 *   rstd  = 1 / sqrt(mean_j x_j^2 + eps)           (one block per row)
 *   out_j = x_j * rstd * w_j
 * Backward, g_j = dout_j * w_j:
 *   dx_j += rstd * (g_j - x_j * rstd^2 * mean_i(g_i x_i))   (one block per row)
 *   dw_j += sum_r dout_rj * x_rj * rstd_r
 * Row sums are accumulated in fp32 per thread and combined in a fixed order (block
 * reduction), so results do not vary between runs. dw is a column reduction over all
 * rows, done without atomics in two kernels: the rows are cut into a number of chunks
 * that depends only on N; kernel 1 writes one partial sum per (chunk, column) to
 * scratch, kernel 2 adds the chunks of each column in order and adds the total into dw.
 */
#include "kernels/cuda/cuda_common.cuh"

#define KC_NORM_BLOCK 256
#define KC_DW_ROWS_PER_CHUNK 32
#define KC_DW_MAX_CHUNKS 256

/* ---- kernels ---- */

template <typename T>
__global__ void kc_rmsnorm_fwd_kernel(T *out, float *rstd, const T *x, const T *w, int d,
                                      float eps) {
    __shared__ float sh[32];
    const size_t r = blockIdx.x;
    const T *xr = x + r * d;
    T *orow = out + r * d;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        float v = kc_ld(xr + j);
        ss += v * v;
    }
    ss = kc_block_sum(ss, sh);
    const float rs = 1.0f / sqrtf(ss / (float)d + eps);
    if (threadIdx.x == 0) rstd[r] = rs;
    for (int j = threadIdx.x; j < d; j += blockDim.x)
        kc_st(orow + j, kc_ld(xr + j) * rs * kc_ld(w + j));
}

template <typename T>
__global__ void kc_rmsnorm_bwd_dx_kernel(T *dx, const T *dout, const T *x, const T *w,
                                         const float *rstd, int d) {
    __shared__ float sh[32];
    const size_t r = blockIdx.x;
    const T *xr = x + r * d, *gr = dout + r * d;
    T *dxr = dx + r * d;
    float dot = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x)
        dot += kc_ld(gr + j) * kc_ld(w + j) * kc_ld(xr + j);
    dot = kc_block_sum(dot, sh);
    const float rs = rstd[r];
    const float c = dot / (float)d * rs * rs;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        float g = kc_ld(gr + j) * kc_ld(w + j);
        kc_st(dxr + j, kc_ld(dxr + j) + rs * (g - kc_ld(xr + j) * c));
    }
}

/* grid (ceil(d / block), nchunks): partial[chunk * d + j] = sum over the chunk's rows. */
template <typename T>
__global__ void kc_rmsnorm_bwd_dw_partial_kernel(float *partial, const T *dout, const T *x,
                                                 const float *rstd, int N, int d, int rows_per) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= d) return;
    const int r0 = blockIdx.y * rows_per;
    const int r1 = min(N, r0 + rows_per);
    float acc = 0.0f;
    for (int r = r0; r < r1; r++) {
        size_t o = (size_t)r * d + j;
        acc += kc_ld(dout + o) * kc_ld(x + o) * rstd[r];
    }
    partial[(size_t)blockIdx.y * d + j] = acc;
}

__global__ void kc_rmsnorm_bwd_dw_sum_kernel(float *dw, const float *partial, int d, int nchunks) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= d) return;
    float acc = 0.0f;
    for (int c = 0; c < nchunks; c++) acc += partial[(size_t)c * d + j];
    dw[j] += acc;
}

/* ---- launchers ---- */

void kcu_rmsnorm_fwd(kb_backend *be, void *out, float *rstd, const void *x, const void *w, int N,
                     int d, float eps) {
    if (N <= 0 || d <= 0) return;
    KC_RANGE("kcu_rmsnorm_fwd");
    kc_impl *im = kc_enter(be);
    if (be->act == KB_BF16)
        kc_rmsnorm_fwd_kernel<<<N, KC_NORM_BLOCK, 0, im->stream>>>(
            (__nv_bfloat16 *)out, rstd, (const __nv_bfloat16 *)x, (const __nv_bfloat16 *)w, d, eps);
    else
        kc_rmsnorm_fwd_kernel<<<N, KC_NORM_BLOCK, 0, im->stream>>>(
            (float *)out, rstd, (const float *)x, (const float *)w, d, eps);
    kc_launch_check();
}

void kcu_rmsnorm_bwd(kb_backend *be, void *dx, float *dw, const void *dout, const void *x,
                     const void *w, const float *rstd, int N, int d) {
    if (N <= 0 || d <= 0) return;
    KC_RANGE("kcu_rmsnorm_bwd");
    kc_impl *im = kc_enter(be);
    int nchunks = (N + KC_DW_ROWS_PER_CHUNK - 1) / KC_DW_ROWS_PER_CHUNK;
    if (nchunks > KC_DW_MAX_CHUNKS) nchunks = KC_DW_MAX_CHUNKS;
    const int rows_per = (N + nchunks - 1) / nchunks;
    float *partial = (float *)kc_scratch(im, KC_SCR_REDUCE, (size_t)nchunks * d * sizeof(float));
    dim3 gp((unsigned)((d + KC_NORM_BLOCK - 1) / KC_NORM_BLOCK), (unsigned)nchunks);
    unsigned gs = (unsigned)((d + KC_NORM_BLOCK - 1) / KC_NORM_BLOCK);
    if (be->act == KB_BF16) {
        const __nv_bfloat16 *go = (const __nv_bfloat16 *)dout, *xs = (const __nv_bfloat16 *)x;
        kc_rmsnorm_bwd_dx_kernel<<<N, KC_NORM_BLOCK, 0, im->stream>>>(
            (__nv_bfloat16 *)dx, go, xs, (const __nv_bfloat16 *)w, rstd, d);
        kc_launch_check();
        kc_rmsnorm_bwd_dw_partial_kernel<<<gp, KC_NORM_BLOCK, 0, im->stream>>>(
            partial, go, xs, rstd, N, d, rows_per);
    } else {
        const float *go = (const float *)dout, *xs = (const float *)x;
        kc_rmsnorm_bwd_dx_kernel<<<N, KC_NORM_BLOCK, 0, im->stream>>>((float *)dx, go, xs,
                                                                      (const float *)w, rstd, d);
        kc_launch_check();
        kc_rmsnorm_bwd_dw_partial_kernel<<<gp, KC_NORM_BLOCK, 0, im->stream>>>(
            partial, go, xs, rstd, N, d, rows_per);
    }
    kc_launch_check();
    kc_rmsnorm_bwd_dw_sum_kernel<<<gs, KC_NORM_BLOCK, 0, im->stream>>>(dw, partial, d, nchunks);
    kc_launch_check();
}
