/* kernels/cuda/cuda_common.cuh: what every file of the CUDA backend shares.
 *
 * Design. The plugin implements the kb_backend table of kernels/backend.h on one GPU
 * per instance. Each instance owns (kc_impl):
 *   - a compute stream (every op, every cuBLAS call) and a copy stream (uploads and
 *     downloads), ordered against each other with events;
 *   - a cuBLAS handle bound to the compute stream, with its own workspace;
 *   - device scratch buffers, one per purpose (kc_scratch_slot), used in compute-stream
 *     order only, grown on demand (growing synchronises the compute stream first);
 *   - pinned host staging buffers for uploads and downloads.
 * Every entry point starts with kc_enter(be), which makes the instance's GPU current,
 * so several instances on several GPUs can be driven from one host thread.
 *
 * Element types: ops on "A" buffers are templates over the storage type (float or
 * __nv_bfloat16); kernels load with kc_ld and store with kc_st, always computing in
 * fp32. Launchers dispatch on be->act.
 *
 * Errors: every CUDA / cuBLAS / allocation call goes through cudaCheck / cublasCheck /
 * kc_xmalloc, which print "file:line: call: error string" and abort (backend.h: a
 * failing backend call is a programming or device error). Launches are followed by
 * cudaCheck(cudaGetLastError()) (kc_launch_check). Each launcher opens an NVTX range
 * (KC_RANGE), which is closed when the launcher returns.
 *
 * This header also declares the launchers that kernels/cuda/backend_cuda.cu puts in
 * the table; each has exactly the signature of its table entry.
 */
#ifndef KERNELS_CUDA_CUDA_COMMON_CUH
#define KERNELS_CUDA_CUDA_COMMON_CUH

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <nvtx3/nvToolsExt.h>

#include "kernels/backend.h"

/* ---- error checking ---- */

static inline void kc_cuda_check(cudaError_t e, const char *call, const char *file, int line) {
    if (e != cudaSuccess) {
        fprintf(stderr, "%s:%d: %s: %s\n", file, line, call, cudaGetErrorString(e));
        fflush(stderr);
        abort();
    }
}

static inline void kc_cublas_check(cublasStatus_t s, const char *call, const char *file, int line) {
    if (s != CUBLAS_STATUS_SUCCESS) {
        fprintf(stderr, "%s:%d: %s: %s\n", file, line, call, cublasGetStatusString(s));
        fflush(stderr);
        abort();
    }
}

static inline void *kc_xmalloc_at(size_t bytes, const char *file, int line) {
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "%s:%d: calloc(%zu): out of memory\n", file, line, bytes);
        fflush(stderr);
        abort();
    }
    return p;
}

/* Aborts with file:line when a precondition of an op does not hold. */
static inline void kc_require_at(int ok, const char *what, const char *file, int line) {
    if (!ok) {
        fprintf(stderr, "%s:%d: %s\n", file, line, what);
        fflush(stderr);
        abort();
    }
}

#define cudaCheck(call) kc_cuda_check((call), #call, __FILE__, __LINE__)
#define cublasCheck(call) kc_cublas_check((call), #call, __FILE__, __LINE__)
#define kc_xmalloc(bytes) kc_xmalloc_at((bytes), __FILE__, __LINE__)
#define kc_require(cond, what) kc_require_at((cond) ? 1 : 0, (what), __FILE__, __LINE__)
#define kc_launch_check() cudaCheck(cudaGetLastError())

/* ---- NVTX: a range per launcher, closed at scope exit ---- */

struct kc_nvtx_range {
    explicit kc_nvtx_range(const char *name) { nvtxRangePushA(name); }
    ~kc_nvtx_range() { nvtxRangePop(); }
    kc_nvtx_range(const kc_nvtx_range &) = delete;
    kc_nvtx_range &operator=(const kc_nvtx_range &) = delete;
};
#define KC_RANGE(name) kc_nvtx_range kc_range_scope_(name)

/* ---- per-instance state ---- */

enum kc_scratch_slot {
    KC_SCR_GEMM_A = 0, /* fp32 copies of bf16 GEMM operands (mixed-type GEMMs) */
    KC_SCR_GEMM_B,
    KC_SCR_GEMM_C,
    KC_SCR_REDUCE, /* partial sums: sumsq, rmsnorm dw */
    KC_SCR_ATTN,   /* attention backward: D = rowsum(dout * out) */
    KC_SCR_SORT,   /* embedding backward: sorted (token, row) keys */
    KC_NSCRATCH
};

typedef struct {
    int device;
    int num_sms;
    cudaStream_t stream;    /* compute */
    cudaStream_t copy;      /* uploads / downloads */
    cudaEvent_t ev_compute; /* recorded on stream, waited on by copy */
    cublasHandle_t cublas;
    void *cublas_ws;
    size_t cublas_ws_bytes;
    void *scratch[KC_NSCRATCH];
    size_t scratch_bytes[KC_NSCRATCH];
    /* uploads: two pinned staging slots, each guarded by the event of its last copy */
    void *up_host[2];
    size_t up_bytes[2];
    cudaEvent_t up_done[2];
    int up_next;
    /* downloads: one pinned staging buffer (download synchronises) */
    void *down_host;
    size_t down_bytes;
    double *sumsq_host; /* pinned, one double */
} kc_impl;

static inline kc_impl *kc_im(kb_backend *be) { return (kc_impl *)be->impl; }

/* Makes the instance's GPU current; returns its state. Call first in every entry point. */
static inline kc_impl *kc_enter(kb_backend *be) {
    kc_impl *im = kc_im(be);
    cudaCheck(cudaSetDevice(im->device));
    return im;
}

/* A device scratch buffer of at least `bytes` for `slot`, valid in compute-stream order
 * until the next kc_scratch call on the same slot (backend_cuda.cu). */
void *kc_scratch(kc_impl *im, int slot, size_t bytes);

/* ---- element access ---- */

__device__ __forceinline__ float kc_ld(const float *p) { return *p; }
__device__ __forceinline__ float kc_ld(const __nv_bfloat16 *p) { return __bfloat162float(*p); }
__device__ __forceinline__ void kc_st(float *p, float v) { *p = v; }
__device__ __forceinline__ void kc_st(__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn(v); }

/* ---- reductions (deterministic: fixed combination order) ----
 * Block reductions need blockDim.x to be a multiple of 32 (at most 1024) and a shared
 * array of at least 32 elements; every thread of the block must call them, and every
 * thread gets the result. */

template <typename V> __device__ __forceinline__ V kc_warp_sum(V v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float kc_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

template <typename V> __device__ __forceinline__ V kc_block_sum(V v, V *sh) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = kc_warp_sum(v);
    __syncthreads(); /* sh may still be read by a previous reduction */
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    V s = 0;
    for (int i = 0; i < nw; i++) s += sh[i];
    return s;
}

__device__ __forceinline__ float kc_block_max(float v, float *sh) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = kc_warp_max(v);
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    float m = sh[0];
    for (int i = 1; i < nw; i++) m = fmaxf(m, sh[i]);
    return m;
}

/* ---- launch geometry ---- */

/* Blocks for a grid-stride loop over n elements (capped; the kernels loop). */
static inline unsigned kc_grid(size_t n, int block) {
    size_t g = (n + (size_t)block - 1) / (size_t)block;
    if (g < 1) g = 1;
    if (g > 65536) g = 65536;
    return (unsigned)g;
}

/* ---- launchers (one file per family) ---- */

/* gemm.cu */
void kcu_gemm(kb_backend *be, int ta, int tb, int M, int N, int K, float alpha, const void *A,
              kb_dtype at, int lda, const void *B, kb_dtype bt, int ldb, float beta, void *C,
              kb_dtype ct, int ldc);

/* elementwise.cu */
void kcu_convert(kb_backend *be, void *dst, kb_dtype dt, const void *src, kb_dtype st, size_t n);
void kcu_embedding_fwd(kb_backend *be, void *out, const int32_t *tokens, const void *wte, int N,
                       int d);
void kcu_embedding_bwd(kb_backend *be, float *dwte, const int32_t *tokens, const void *dout, int N,
                       int d);
void kcu_swiglu_fwd(kb_backend *be, void *out, const void *gu, int N, int f);
void kcu_swiglu_bwd(kb_backend *be, void *dgu, const void *dout, const void *gu, int N, int f);
void kcu_silu_fwd(kb_backend *be, void *out, const void *x, size_t n);
void kcu_silu_bwd(kb_backend *be, void *dx, const void *dout, const void *x, size_t n);
void kcu_add(kb_backend *be, void *out, const void *a, const void *b, size_t n);
void kcu_add_cols(kb_backend *be, void *dst, int ldd, const void *src, int lds, int N, int ncols);
void kcu_scale(kb_backend *be, void *x, kb_dtype t, size_t n, float s);

/* norm.cu */
void kcu_rmsnorm_fwd(kb_backend *be, void *out, float *rstd, const void *x, const void *w, int N,
                     int d, float eps);
void kcu_rmsnorm_bwd(kb_backend *be, void *dx, float *dw, const void *dout, const void *x,
                     const void *w, const float *rstd, int N, int d);

/* rope.cu */
void kcu_rope_fwd(kb_backend *be, void *qkv, int N, int T, int nh, int nkv, int hd, float theta);
void kcu_rope_bwd(kb_backend *be, void *dqkv, int N, int T, int nh, int nkv, int hd, float theta);

/* attention.cu */
void kcu_attention_fwd(kb_backend *be, void *out, float *lse, const void *qkv, int B, int T, int nh,
                       int nkv, int hd);
void kcu_attention_bwd(kb_backend *be, void *dqkv, const void *dout, const void *qkv,
                       const void *out, const float *lse, int B, int T, int nh, int nkv, int hd);

/* loss.cu */
void kcu_crossentropy(kb_backend *be, float *losses, void *dlogits, const void *logits,
                      const int32_t *targets, int N, int V, float dscale);

/* quant.cu */
void kcu_quant_int8(kb_backend *be, int8_t *q, float *scale, const void *x, int N, int d);
void kcu_dequant_int8(kb_backend *be, void *x, const int8_t *q, const float *scale, int N, int d);

/* optim.cu */
void kcu_adam_step(kb_backend *be, float *p, const float *g, float *m, float *v, size_t n,
                   const kb_adam_coef *c);
void kcu_nesterov_step(kb_backend *be, float *w, float *mom, const float *pg, size_t n, float lr,
                       float mu);

/* reduce.cu */
double kcu_sumsq(kb_backend *be, const void *x, kb_dtype t, size_t n);

#endif
