/* kernels/backend.h: the operations a transformer stage is made of, behind one table.
 *
 * Design. A stage (kernels/stage.h) is a fixed composition of a few dozen operations:
 * GEMMs, RMSNorm, RoPE, causal grouped-query attention, SwiGLU, cross-entropy, the
 * ResBM boundary pieces, and the optimizer updates. The composition is written once, in
 * C, against this table; each backend fills the table:
 *   - "cpu"  (kernels/backend_cpu.c): the reference. fp32 everywhere, CBLAS GEMMs,
 *            plain C (OpenMP) for the rest. Pointers are host pointers.
 *   - "cuda" (kernels/cuda/, a plugin loaded with dlopen): cuBLAS GEMMs and own kernels.
 *            Activations and working weights in fp32 or bf16 (chosen at open);
 *            pointers are device pointers of the backend's GPU.
 * Tests compare the two op by op and stage by stage (tests/kernels/test_cuda_vs_cpu.c).
 *
 * Element types. Every buffer argument is documented with its type:
 *   A  = the backend's activation type (be->act: KB_F32 on the CPU, KB_F32 or KB_BF16 on CUDA)
 *   F  = always fp32 (statistics, master weights, gradients, optimizer state)
 *   I  = int32 (token ids), Q = int8 (quantised activations)
 * GEMM operands carry their type explicitly (A or F), so weight gradients can be
 * accumulated in fp32 from bf16 activations.
 *
 * Conventions.
 *   - Row-major. N = rows (tokens of a microbatch, B sequences × T positions, row r is
 *     position r % T of sequence r / T).
 *   - Backward ops ADD into every gradient output (+=); callers zero gradient buffers
 *     first. The one exception is rope_bwd, an in-place rotation of a gradient.
 *   - Ops are asynchronous on devices; download() and sumsq() synchronise.
 *   - A failing backend call prints "file:line: message" and aborts the process: these
 *     are programming or device errors, not bad input.
 *   - alloc() returns zeroed memory, or prints file:line and exits(1) if it cannot.
 */
#ifndef KERNELS_BACKEND_H
#define KERNELS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { KB_F32 = 0, KB_BF16 = 1 } kb_dtype;

static inline size_t kb_dtype_size(kb_dtype t) { return t == KB_BF16 ? 2 : 4; }

/* Coefficients of one Adam-family step, computed on the host by kernels/optim.c so one
 * device kernel serves AdamW and NAdam (decoupled weight decay in both):
 *   p    -= lr * wd * p
 *   m     = b1 * m + (1 - b1) * g
 *   v     = b2 * v + (1 - b2) * g^2
 *   p    -= lr * (c_m * m + c_g * g) / (sqrt(v * c_v) + eps)
 * AdamW: c_m = 1/(1-b1^t), c_g = 0, c_v = 1/(1-b2^t).
 * NAdam (PyTorch's, momentum decay psi): c_m = mu_{t+1}/(1-prod_{i<=t+1} mu_i),
 *        c_g = (1-mu_t)/(1-prod_{i<=t} mu_i), c_v = 1/(1-b2^t). */
typedef struct {
    float lr, b1, b2, eps, wd;
    float c_m, c_g, c_v;
} kb_adam_coef;

typedef struct kb_backend kb_backend;
/* The backend interface: one function pointer per op, so it is as wide as the op list
 * (the CPU reference and the CUDA plugin each fill every entry). */
struct kb_backend {
    const char *name; /* "cpu" or "cuda" */
    kb_dtype act;     /* activation / working-weight type */
    int device;       /* GPU ordinal, -1 for the CPU */
    void *impl;       /* backend private state */

    void (*close)(kb_backend *be);

    /* ---- memory ---- */
    void *(*alloc)(kb_backend *be, size_t bytes);
    void (*free)(kb_backend *be, void *p);
    void (*zero)(kb_backend *be, void *p, size_t bytes);
    void (*copy)(kb_backend *be, void *dst, const void *src, size_t bytes); /* device to device */
    /* host fp32 -> device buffer of type t (converting), and back */
    void (*upload)(kb_backend *be, void *dst, kb_dtype t, const float *src, size_t n);
    void (*download)(kb_backend *be, float *dst, const void *src, kb_dtype t, size_t n);
    void (*upload_raw)(kb_backend *be, void *dst, const void *src, size_t bytes); /* I, Q, bytes */
    void (*download_raw)(kb_backend *be, void *dst, const void *src, size_t bytes);
    /* dst (type dt) = src (type st), n elements: e.g. fp32 master -> bf16 working weights */
    void (*convert)(kb_backend *be, void *dst, kb_dtype dt, const void *src, kb_dtype st, size_t n);
    void (*synchronize)(kb_backend *be);

    /* ---- linear algebra ----
     * C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major, fp32 accumulation.
     * ta=0: A is stored M x K (lda >= K); ta=1: A is stored K x M (lda >= M). Same for B. */
    void (*gemm)(kb_backend *be, int ta, int tb, int M, int N, int K, float alpha, const void *A,
                 kb_dtype at, int lda, const void *B, kb_dtype bt, int ldb, float beta, void *C,
                 kb_dtype ct, int ldc);

    /* ---- elementwise and row ops (A unless noted) ---- */
    /* out[N,d] = wte[tokens[r], :]   (tokens I[N], wte A[V,d]) */
    void (*embedding_fwd)(kb_backend *be, void *out, const int32_t *tokens, const void *wte, int N,
                          int d);
    /* dwte F[V,d] += scatter of dout[N,d] by tokens */
    void (*embedding_bwd)(kb_backend *be, float *dwte, const int32_t *tokens, const void *dout,
                          int N, int d);
    /* out[N,d] = x * rstd * w, rstd F[N] = 1/sqrt(mean(x^2) + eps), w A[d] */
    void (*rmsnorm_fwd)(kb_backend *be, void *out, float *rstd, const void *x, const void *w, int N,
                        int d, float eps);
    /* dx A[N,d] += ..., dw F[d] += ... */
    void (*rmsnorm_bwd)(kb_backend *be, void *dx, float *dw, const void *dout, const void *x,
                        const void *w, const float *rstd, int N, int d);
    /* In-place rotary embedding of the q and k heads of a fused qkv[N, (nh+2*nkv)*hd]
     * buffer (q heads first, then k heads, then v heads), position r % T, rotate-half
     * pairing (i, i + hd/2), frequency theta^(-2i/hd). rope_bwd applies the inverse
     * rotation to a gradient of the same layout. */
    void (*rope_fwd)(kb_backend *be, void *qkv, int N, int T, int nh, int nkv, int hd, float theta);
    void (*rope_bwd)(kb_backend *be, void *dqkv, int N, int T, int nh, int nkv, int hd,
                     float theta);
    /* Causal grouped-query attention, scale 1/sqrt(hd); query head h uses kv head
     * h / (nh/nkv). out A[N, nh*hd]; lse F[B*nh*T] = log-sum-exp of each score row
     * (kept for the backward). */
    void (*attention_fwd)(kb_backend *be, void *out, float *lse, const void *qkv, int B, int T,
                          int nh, int nkv, int hd);
    /* dqkv A[N,(nh+2nkv)*hd] += ... */
    void (*attention_bwd)(kb_backend *be, void *dqkv, const void *dout, const void *qkv,
                          const void *out, const float *lse, int B, int T, int nh, int nkv, int hd);
    /* gu[N, 2f] holds gate (columns 0..f-1) then up (f..2f-1); out[N,f] = silu(gate) * up */
    void (*swiglu_fwd)(kb_backend *be, void *out, const void *gu, int N, int f);
    void (*swiglu_bwd)(kb_backend *be, void *dgu, const void *dout, const void *gu, int N, int f);
    /* out[n] = silu(x) ; dx += dout * silu'(x) */
    void (*silu_fwd)(kb_backend *be, void *out, const void *x, size_t n);
    void (*silu_bwd)(kb_backend *be, void *dx, const void *dout, const void *x, size_t n);
    /* out[n] = a + b (out may alias a or b) */
    void (*add)(kb_backend *be, void *out, const void *a, const void *b, size_t n);
    /* dst[r, 0..ncols-1] += src[r, 0..ncols-1] for r < N, with row strides ldd, lds.
     * (ResBM's identity paths: first k channels of x; y zero-padded to d.) */
    void (*add_cols)(kb_backend *be, void *dst, int ldd, const void *src, int lds, int N,
                     int ncols);
    /* x[n] *= s (type t) */
    void (*scale)(kb_backend *be, void *x, kb_dtype t, size_t n, float s);
    /* sum of squares of x (type t), returned to the host in double (synchronises) */
    double (*sumsq)(kb_backend *be, const void *x, kb_dtype t, size_t n);

    /* Fused softmax + cross-entropy over logits A[N,V] with targets I[N]:
     * losses F[N] = -log softmax(logits)[target]; if dlogits is not NULL,
     * dlogits A[N,V] = dscale * (softmax - onehot(target)) (written, may alias logits). */
    void (*crossentropy)(kb_backend *be, float *losses, void *dlogits, const void *logits,
                         const int32_t *targets, int N, int V, float dscale);

    /* int8 activation quantisation, symmetric per row: scale F[N] = max|x_r| / 127,
     * q Q[N,d] = round(x / scale); dequant: x = q * scale. */
    void (*quant_int8)(kb_backend *be, int8_t *q, float *scale, const void *x, int N, int d);
    void (*dequant_int8)(kb_backend *be, void *x, const int8_t *q, const float *scale, int N,
                         int d);

    /* ---- optimizers (F buffers, n elements) ---- */
    /* One Adam-family step on master weights p with gradient g (see kb_adam_coef). */
    void (*adam_step)(kb_backend *be, float *p, const float *g, float *m, float *v, size_t n,
                      const kb_adam_coef *c);
    /* Outer step, SGD with Nesterov momentum on a pseudo-gradient pg (PyTorch's form):
     *   mom = mu * mom + pg ;  w -= lr * (pg + mu * mom) */
    void (*nesterov_step)(kb_backend *be, float *w, float *mom, const float *pg, size_t n, float lr,
                          float mu);
};

/* ---- opening a backend (kernels/backend_load.c) ----
 * which: "cpu", "cuda" or "auto" (CUDA if the plugin loads and a GPU is present, else
 * CPU with a one-line notice on stderr). The plugin, build/liborionsim-cuda.so, is looked
 * for in $ORIONSIM_PLUGIN_DIR, then beside the executable. Returns NULL and fills err on
 * failure (e.g. "cuda" requested, no GPU). */
kb_backend *kb_open(const char *which, int device, kb_dtype act, char *err, size_t errlen);
void kb_close(kb_backend *be);

/* The CPU backend directly (always available). */
kb_backend *kb_cpu_open(void);

/* Symbol the CUDA plugin exports (C linkage):
 *   kb_backend *orionsim_cuda_open(int device, kb_dtype act, char *err, size_t errlen);
 * plus int orionsim_cuda_device_count(void). */
typedef kb_backend *(*kb_cuda_open_fn)(int device, kb_dtype act, char *err, size_t errlen);
typedef int (*kb_cuda_count_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
