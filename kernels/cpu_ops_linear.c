/* kernels/cpu_ops_linear.c: GEMM on the CPU through CBLAS (OpenBLAS). */
#include <cblas.h>

#include "kernels/cpu_ops.h"

/* C[M,N] = alpha * op(A) * op(B) + beta * C, row-major (backend.h). beta = 0 does not
 * read C (BLAS semantics), so C may hold garbage. */
void kcpu_gemm(kb_backend *be, int ta, int tb, int M, int N, int K, float alpha, const void *A,
               kb_dtype at, int lda, const void *B, kb_dtype bt, int ldb, float beta, void *C,
               kb_dtype ct, int ldc) {
    (void)be;
    KCPU_REQUIRE_F32(at);
    KCPU_REQUIRE_F32(bt);
    KCPU_REQUIRE_F32(ct);
    KCPU_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm: negative dimension");
    KCPU_CHECK(lda >= (ta ? M : K) && ldb >= (tb ? K : N) && ldc >= N,
               "gemm: leading dimension too small");
    if (M == 0 || N == 0) return;
    float *c = C;
    if (K == 0) { /* op(A) op(B) is empty: C = beta * C */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
                K, alpha, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, beta, c, ldc);
}
