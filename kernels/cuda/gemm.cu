/* kernels/cuda/gemm.cu: row-major GEMM through cuBLAS.
 *
 * backend.h: C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major.
 * cuBLAS is column-major. A row-major matrix with leading dimension ld is, read
 * column-major, its transpose with the same ld. So the row-major product is computed as
 * the column-major product C^T[N,M] = op(B)^T op(A)^T: cuBLAS gets (B, A) swapped, the
 * same transpose flags, m = N, n = M, and the same leading dimensions.
 *
 * Types, all with CUBLAS_COMPUTE_32F (fp32 accumulation) and CUBLAS_DEFAULT_MATH, so
 * fp32 GEMMs are true fp32 (no TF32) and match the CPU reference to ~1e-6:
 *   bf16 x bf16 -> bf16 or fp32 C    one cublasGemmEx call
 *   fp32 x fp32 -> fp32 C            one cublasGemmEx call
 *   any other mix                    bf16 operands (and a bf16 C) are widened to fp32
 *                                    in scratch, an fp32 GEMM runs, C is narrowed back.
 * The widening copies a strided matrix as one span of (rows-1)*ld + cols elements, so
 * the gaps between rows round-trip exactly (bf16 -> fp32 -> bf16 is the identity).
 * K = 0 is handled here (C = beta * C, C not read when beta = 0, as BLAS does).
 * cuBLAS results are bitwise reproducible run to run on one GPU with a per-handle
 * workspace and a single stream, which is how the handle is set up.
 */
#include "kernels/cuda/cuda_common.cuh"

/* ---- kernels ---- */

template <typename S, typename D>
__global__ void kc_gemm_cvt_kernel(D *dst, const S *src, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        kc_st(dst + i, kc_ld(src + i));
}

/* C = beta * C over an M x N row-major matrix (beta = 0 writes zeros without reading). */
template <typename T> __global__ void kc_gemm_beta_kernel(T *C, int M, int N, int ldc, float beta) {
    size_t total = (size_t)M * N;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / N, c = i % N;
        T *p = C + r * ldc + c;
        kc_st(p, beta == 0.0f ? 0.0f : beta * kc_ld(p));
    }
}

/* ---- launchers ---- */

static size_t kc_span(int rows, int cols, int ld) {
    return rows <= 0 || cols <= 0 ? 0 : (size_t)(rows - 1) * ld + cols;
}

static void kc_widen(kc_impl *im, float *dst, const void *src, size_t n) {
    if (n == 0) return;
    kc_gemm_cvt_kernel<__nv_bfloat16, float>
        <<<kc_grid(n, 256), 256, 0, im->stream>>>(dst, (const __nv_bfloat16 *)src, n);
    kc_launch_check();
}

static void kc_narrow(kc_impl *im, void *dst, const float *src, size_t n) {
    if (n == 0) return;
    kc_gemm_cvt_kernel<float, __nv_bfloat16>
        <<<kc_grid(n, 256), 256, 0, im->stream>>>((__nv_bfloat16 *)dst, src, n);
    kc_launch_check();
}

static cudaDataType_t kc_cuda_type(kb_dtype t) { return t == KB_BF16 ? CUDA_R_16BF : CUDA_R_32F; }

void kcu_gemm(kb_backend *be, int ta, int tb, int M, int N, int K, float alpha, const void *A,
              kb_dtype at, int lda, const void *B, kb_dtype bt, int ldb, float beta, void *C,
              kb_dtype ct, int ldc) {
    KC_RANGE("kcu_gemm");
    kc_require(M >= 0 && N >= 0 && K >= 0, "gemm: negative dimension");
    kc_require(ldc >= N && ldc >= 1, "gemm: ldc too small");
    if (M == 0 || N == 0) return;
    kc_impl *im = kc_enter(be);

    if (K == 0) {
        size_t total = (size_t)M * N;
        if (ct == KB_BF16)
            kc_gemm_beta_kernel<__nv_bfloat16>
                <<<kc_grid(total, 256), 256, 0, im->stream>>>((__nv_bfloat16 *)C, M, N, ldc, beta);
        else
            kc_gemm_beta_kernel<float>
                <<<kc_grid(total, 256), 256, 0, im->stream>>>((float *)C, M, N, ldc, beta);
        kc_launch_check();
        return;
    }
    kc_require(lda >= (ta ? M : K) && ldb >= (tb ? K : N), "gemm: leading dimension too small");

    const int arows = ta ? K : M, acols = ta ? M : K;
    const int brows = tb ? N : K, bcols = tb ? K : N;
    const int direct = (at == bt) && (at == KB_BF16 || ct == KB_F32);

    const void *a = A, *b = B;
    void *c = C;
    kb_dtype a_t = at, b_t = bt, c_t = ct;
    size_t cspan = kc_span(M, N, ldc);
    if (!direct) {
        if (at == KB_BF16) {
            size_t n = kc_span(arows, acols, lda);
            float *w = (float *)kc_scratch(im, KC_SCR_GEMM_A, n * sizeof(float));
            kc_widen(im, w, A, n);
            a = w;
            a_t = KB_F32;
        }
        if (bt == KB_BF16) {
            size_t n = kc_span(brows, bcols, ldb);
            float *w = (float *)kc_scratch(im, KC_SCR_GEMM_B, n * sizeof(float));
            kc_widen(im, w, B, n);
            b = w;
            b_t = KB_F32;
        }
        if (ct == KB_BF16) {
            float *w = (float *)kc_scratch(im, KC_SCR_GEMM_C, cspan * sizeof(float));
            kc_widen(im, w, C, cspan);
            c = w;
            c_t = KB_F32;
        }
    }

    cublasCheck(cublasGemmEx(im->cublas, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                             ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, b, kc_cuda_type(b_t),
                             ldb, a, kc_cuda_type(a_t), lda, &beta, c, kc_cuda_type(c_t), ldc,
                             CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));

    if (c != C) kc_narrow(im, C, (const float *)c, cspan);
}
