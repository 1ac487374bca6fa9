/* kernels/cpu_ops.h: the CPU reference implementations of the backend ops.
 *
 * Each function has exactly the signature of its kb_backend table entry (backend.h
 * documents the semantics; this header only adds what is CPU specific), so
 * kernels/backend_cpu.c can put them in the table and tests can also call them directly.
 *
 * The CPU backend is fp32 only: every buffer is float (A = F), pointers are host
 * pointers, and an op handed a KB_BF16 type aborts. Files, by family:
 *   cpu_ops_linear.c     gemm (cblas_sgemm)
 *   cpu_ops_norm.c       rmsnorm
 *   cpu_ops_attention.c  rope, causal grouped-query attention
 *   cpu_ops_pointwise.c  embedding, swiglu, silu, add, add_cols, scale, sumsq
 *   cpu_ops_loss.c       cross-entropy
 *   cpu_ops_quant.c      int8 quantisation
 * Optimizer steps are in kernels/cpu_optim.c.
 *
 * Determinism: loops are parallelised with OpenMP over rows (or columns) so that each
 * output element is written by exactly one iteration, always summing in the same order.
 * The only reduction, sumsq, sums fixed-size chunks (independent of the thread count)
 * and adds the chunk totals in index order. Results do not depend on OMP_NUM_THREADS.
 *
 * Loops with less than KCPU_PAR_MIN elements (or multiply-adds) of work run on one thread:
 * below that, waking the thread pool costs more than the loop.
 *
 * Layouts not fixed by backend.h: attention's lse is indexed [b][h][t]
 * (b * nh * T + h * T + t).
 */
#ifndef KERNELS_CPU_OPS_H
#define KERNELS_CPU_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/backend.h"
#include "kernels/kcheck.h"

#define KCPU_PAR_MIN ((size_t)1 << 15)

/* Prints "file:line: message" and aborts: a programming error reached a backend op. */
#define KCPU_CHECK(cond, msg)                                                                      \
    do {                                                                                           \
        if (!(cond)) k_abort_at(__FILE__, __LINE__, (msg));                                        \
    } while (0)
#define KCPU_REQUIRE_F32(t) KCPU_CHECK((t) == KB_F32, "the CPU backend is fp32 only")

/* ---- linear algebra (cpu_ops_linear.c) ---- */
void kcpu_gemm(kb_backend *be, int ta, int tb, int M, int N, int K, float alpha, const void *A,
               kb_dtype at, int lda, const void *B, kb_dtype bt, int ldb, float beta, void *C,
               kb_dtype ct, int ldc);

/* ---- normalisation (cpu_ops_norm.c) ---- */
void kcpu_rmsnorm_fwd(kb_backend *be, void *out, float *rstd, const void *x, const void *w, int N,
                      int d, float eps);
void kcpu_rmsnorm_bwd(kb_backend *be, void *dx, float *dw, const void *dout, const void *x,
                      const void *w, const float *rstd, int N, int d);

/* ---- attention (cpu_ops_attention.c) ---- */
void kcpu_rope_fwd(kb_backend *be, void *qkv, int N, int T, int nh, int nkv, int hd, float theta);
void kcpu_rope_bwd(kb_backend *be, void *dqkv, int N, int T, int nh, int nkv, int hd, float theta);
void kcpu_attention_fwd(kb_backend *be, void *out, float *lse, const void *qkv, int B, int T,
                        int nh, int nkv, int hd);
void kcpu_attention_bwd(kb_backend *be, void *dqkv, const void *dout, const void *qkv,
                        const void *out, const float *lse, int B, int T, int nh, int nkv, int hd);

/* ---- pointwise and row ops (cpu_ops_pointwise.c) ---- */
void kcpu_embedding_fwd(kb_backend *be, void *out, const int32_t *tokens, const void *wte, int N,
                        int d);
void kcpu_embedding_bwd(kb_backend *be, float *dwte, const int32_t *tokens, const void *dout, int N,
                        int d);
void kcpu_swiglu_fwd(kb_backend *be, void *out, const void *gu, int N, int f);
void kcpu_swiglu_bwd(kb_backend *be, void *dgu, const void *dout, const void *gu, int N, int f);
void kcpu_silu_fwd(kb_backend *be, void *out, const void *x, size_t n);
void kcpu_silu_bwd(kb_backend *be, void *dx, const void *dout, const void *x, size_t n);
void kcpu_add(kb_backend *be, void *out, const void *a, const void *b, size_t n);
void kcpu_add_cols(kb_backend *be, void *dst, int ldd, const void *src, int lds, int N, int ncols);
void kcpu_scale(kb_backend *be, void *x, kb_dtype t, size_t n, float s);
double kcpu_sumsq(kb_backend *be, const void *x, kb_dtype t, size_t n);

/* ---- loss (cpu_ops_loss.c) ---- */
void kcpu_crossentropy(kb_backend *be, float *losses, void *dlogits, const void *logits,
                       const int32_t *targets, int N, int V, float dscale);

/* ---- int8 quantisation (cpu_ops_quant.c) ----
 * q = round-half-away-from-zero(x / scale), clamped to [-127, 127]; a row of zeros has
 * scale 0 and dequantises to zeros. Round trip: |dequant(quant(x)) - x| <= scale / 2
 * (up to fp32 rounding of the division and the product). */
void kcpu_quant_int8(kb_backend *be, int8_t *q, float *scale, const void *x, int N, int d);
void kcpu_dequant_int8(kb_backend *be, void *x, const int8_t *q, const float *scale, int N, int d);

#endif
