/* kernels/cuda/elementwise.cu: pointwise ops, type conversion and the token embedding.
 *
 * Pointwise ops (convert, swiglu, silu, add, add_cols, scale) are grid-stride loops, one
 * element per iteration, computing in fp32 and storing in the buffer's type:
 *   silu(x) = x * s,  silu'(x) = s * (1 + x * (1 - s)),  s = 1 / (1 + exp(-x))
 *   swiglu: out = silu(gate) * up over gu = [gate | up] (2f columns per row)
 * add may alias out with a or b (each element is read before it is written, by the same
 * thread), so nothing here is declared __restrict__.
 *
 * Embedding forward copies rows. Embedding backward is deterministic without atomics:
 *   1. keys[i] = (token_i << 32) | i for the N rows, padded to a power of two P with
 *      the largest key; the keys are distinct, so any correct sort gives one result;
 *   2. a bitonic sort over the P keys (one launch per compare-exchange stage);
 *   3. one block per sorted position; the block at the first position of a run of
 *      equal tokens sums that token's rows in increasing row order (thread per column)
 *      and adds the sum into dwte[token] -- the only writer of that row.
 * Negative token ids are the caller's bug (the CPU reference aborts); here the forward
 * writes a zero row and the backward skips them.
 */
#include "kernels/cuda/cuda_common.cuh"

/* ---- kernels ---- */

#define KC_GRID_STRIDE(i, n)                                                                       \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n);                        \
         i += (size_t)gridDim.x * blockDim.x)

__device__ __forceinline__ float kc_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

template <typename S, typename D>
__global__ void kc_convert_kernel(D *dst, const S *src, size_t n) {
    KC_GRID_STRIDE(i, n) kc_st(dst + i, kc_ld(src + i));
}

template <typename T> __global__ void kc_silu_fwd_kernel(T *out, const T *x, size_t n) {
    KC_GRID_STRIDE(i, n) {
        float v = kc_ld(x + i);
        kc_st(out + i, v * kc_sigmoid(v));
    }
}

template <typename T>
__global__ void kc_silu_bwd_kernel(T *dx, const T *dout, const T *x, size_t n) {
    KC_GRID_STRIDE(i, n) {
        float v = kc_ld(x + i), s = kc_sigmoid(v);
        kc_st(dx + i, kc_ld(dx + i) + kc_ld(dout + i) * s * (1.0f + v * (1.0f - s)));
    }
}

template <typename T> __global__ void kc_swiglu_fwd_kernel(T *out, const T *gu, int N, int f) {
    size_t total = (size_t)N * f;
    KC_GRID_STRIDE(i, total) {
        size_t r = i / f, j = i % f;
        const T *row = gu + r * 2 * f;
        float g = kc_ld(row + j), u = kc_ld(row + f + j);
        kc_st(out + i, g * kc_sigmoid(g) * u);
    }
}

template <typename T>
__global__ void kc_swiglu_bwd_kernel(T *dgu, const T *dout, const T *gu, int N, int f) {
    size_t total = (size_t)N * f;
    KC_GRID_STRIDE(i, total) {
        size_t r = i / f, j = i % f;
        const T *row = gu + r * 2 * f;
        T *drow = dgu + r * 2 * f;
        float g = kc_ld(row + j), u = kc_ld(row + f + j), go = kc_ld(dout + i);
        float s = kc_sigmoid(g);
        kc_st(drow + j, kc_ld(drow + j) + go * u * s * (1.0f + g * (1.0f - s)));
        kc_st(drow + f + j, kc_ld(drow + f + j) + go * g * s);
    }
}

template <typename T> __global__ void kc_add_kernel(T *out, const T *a, const T *b, size_t n) {
    KC_GRID_STRIDE(i, n) kc_st(out + i, kc_ld(a + i) + kc_ld(b + i));
}

template <typename T>
__global__ void kc_add_cols_kernel(T *dst, int ldd, const T *src, int lds, int N, int ncols) {
    size_t total = (size_t)N * ncols;
    KC_GRID_STRIDE(i, total) {
        size_t r = i / ncols, j = i % ncols;
        T *p = dst + r * ldd + j;
        kc_st(p, kc_ld(p) + kc_ld(src + r * lds + j));
    }
}

template <typename T> __global__ void kc_scale_kernel(T *x, size_t n, float s) {
    KC_GRID_STRIDE(i, n) kc_st(x + i, kc_ld(x + i) * s);
}

template <typename T>
__global__ void kc_embedding_fwd_kernel(T *out, const int32_t *tokens, const T *wte, int N, int d) {
    size_t total = (size_t)N * d;
    KC_GRID_STRIDE(i, total) {
        size_t r = i / d, j = i % d;
        int tok = tokens[r];
        kc_st(out + i, tok >= 0 ? kc_ld(wte + (size_t)tok * d + j) : 0.0f);
    }
}

__global__ void kc_embed_keys_kernel(unsigned long long *keys, const int32_t *tokens, int N,
                                     size_t P) {
    KC_GRID_STRIDE(i, P) {
        keys[i] = i < (size_t)N
                      ? ((unsigned long long)(uint32_t)tokens[i] << 32) | (unsigned long long)i
                      : ~0ull;
    }
}

/* One compare-exchange stage (k, j) of a bitonic sort of P keys, ascending. */
__global__ void kc_bitonic_step_kernel(unsigned long long *keys, size_t P, size_t j, size_t k) {
    KC_GRID_STRIDE(i, P) {
        size_t l = i ^ j;
        if (l > i) {
            unsigned long long a = keys[i], b = keys[l];
            int up = (i & k) == 0;
            if ((a > b) == (up != 0)) {
                keys[i] = b;
                keys[l] = a;
            }
        }
    }
}

template <typename T>
__global__ void kc_embedding_bwd_kernel(float *dwte, const unsigned long long *keys, const T *dout,
                                        int N, int d) {
    const int p = blockIdx.x;
    const uint32_t tok = (uint32_t)(keys[p] >> 32);
    if (p > 0 && (uint32_t)(keys[p - 1] >> 32) == tok) return; /* not the run's head */
    if ((int32_t)tok < 0) return;
    int end = p + 1;
    while (end < N && (uint32_t)(keys[end] >> 32) == tok) end++;
    float *dst = dwte + (size_t)tok * d;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        float acc = 0.0f;
        for (int q = p; q < end; q++) {
            size_t row = (size_t)(keys[q] & 0xffffffffull);
            acc += kc_ld(dout + row * d + j);
        }
        dst[j] += acc;
    }
}

/* ---- launchers ---- */

#define KC_BLOCK 256

void kcu_convert(kb_backend *be, void *dst, kb_dtype dt, const void *src, kb_dtype st, size_t n) {
    if (n == 0) return;
    KC_RANGE("kcu_convert");
    kc_impl *im = kc_enter(be);
    if (dt == st) {
        if (dst != src)
            cudaCheck(cudaMemcpyAsync(dst, src, n * kb_dtype_size(dt), cudaMemcpyDeviceToDevice,
                                      im->stream));
        return;
    }
    if (dt == KB_BF16)
        kc_convert_kernel<float, __nv_bfloat16><<<kc_grid(n, KC_BLOCK), KC_BLOCK, 0, im->stream>>>(
            (__nv_bfloat16 *)dst, (const float *)src, n);
    else
        kc_convert_kernel<__nv_bfloat16, float><<<kc_grid(n, KC_BLOCK), KC_BLOCK, 0, im->stream>>>(
            (float *)dst, (const __nv_bfloat16 *)src, n);
    kc_launch_check();
}

void kcu_silu_fwd(kb_backend *be, void *out, const void *x, size_t n) {
    if (n == 0) return;
    KC_RANGE("kcu_silu_fwd");
    kc_impl *im = kc_enter(be);
    unsigned g = kc_grid(n, KC_BLOCK);
    if (be->act == KB_BF16)
        kc_silu_fwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>((__nv_bfloat16 *)out,
                                                           (const __nv_bfloat16 *)x, n);
    else kc_silu_fwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>((float *)out, (const float *)x, n);
    kc_launch_check();
}

void kcu_silu_bwd(kb_backend *be, void *dx, const void *dout, const void *x, size_t n) {
    if (n == 0) return;
    KC_RANGE("kcu_silu_bwd");
    kc_impl *im = kc_enter(be);
    unsigned g = kc_grid(n, KC_BLOCK);
    if (be->act == KB_BF16)
        kc_silu_bwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>(
            (__nv_bfloat16 *)dx, (const __nv_bfloat16 *)dout, (const __nv_bfloat16 *)x, n);
    else
        kc_silu_bwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>((float *)dx, (const float *)dout,
                                                           (const float *)x, n);
    kc_launch_check();
}

void kcu_swiglu_fwd(kb_backend *be, void *out, const void *gu, int N, int f) {
    if (N <= 0 || f <= 0) return;
    KC_RANGE("kcu_swiglu_fwd");
    kc_impl *im = kc_enter(be);
    unsigned g = kc_grid((size_t)N * f, KC_BLOCK);
    if (be->act == KB_BF16)
        kc_swiglu_fwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>((__nv_bfloat16 *)out,
                                                             (const __nv_bfloat16 *)gu, N, f);
    else
        kc_swiglu_fwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>((float *)out, (const float *)gu, N, f);
    kc_launch_check();
}

void kcu_swiglu_bwd(kb_backend *be, void *dgu, const void *dout, const void *gu, int N, int f) {
    if (N <= 0 || f <= 0) return;
    KC_RANGE("kcu_swiglu_bwd");
    kc_impl *im = kc_enter(be);
    unsigned g = kc_grid((size_t)N * f, KC_BLOCK);
    if (be->act == KB_BF16)
        kc_swiglu_bwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>(
            (__nv_bfloat16 *)dgu, (const __nv_bfloat16 *)dout, (const __nv_bfloat16 *)gu, N, f);
    else
        kc_swiglu_bwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>((float *)dgu, (const float *)dout,
                                                             (const float *)gu, N, f);
    kc_launch_check();
}

void kcu_add(kb_backend *be, void *out, const void *a, const void *b, size_t n) {
    if (n == 0) return;
    KC_RANGE("kcu_add");
    kc_impl *im = kc_enter(be);
    unsigned g = kc_grid(n, KC_BLOCK);
    if (be->act == KB_BF16)
        kc_add_kernel<<<g, KC_BLOCK, 0, im->stream>>>(
            (__nv_bfloat16 *)out, (const __nv_bfloat16 *)a, (const __nv_bfloat16 *)b, n);
    else
        kc_add_kernel<<<g, KC_BLOCK, 0, im->stream>>>((float *)out, (const float *)a,
                                                      (const float *)b, n);
    kc_launch_check();
}

void kcu_add_cols(kb_backend *be, void *dst, int ldd, const void *src, int lds, int N, int ncols) {
    if (N <= 0 || ncols <= 0) return;
    KC_RANGE("kcu_add_cols");
    kc_require(ncols <= ldd && ncols <= lds, "add_cols: ncols exceeds a row stride");
    kc_impl *im = kc_enter(be);
    unsigned g = kc_grid((size_t)N * ncols, KC_BLOCK);
    if (be->act == KB_BF16)
        kc_add_cols_kernel<<<g, KC_BLOCK, 0, im->stream>>>(
            (__nv_bfloat16 *)dst, ldd, (const __nv_bfloat16 *)src, lds, N, ncols);
    else
        kc_add_cols_kernel<<<g, KC_BLOCK, 0, im->stream>>>((float *)dst, ldd, (const float *)src,
                                                           lds, N, ncols);
    kc_launch_check();
}

void kcu_scale(kb_backend *be, void *x, kb_dtype t, size_t n, float s) {
    if (n == 0) return;
    KC_RANGE("kcu_scale");
    kc_impl *im = kc_enter(be);
    unsigned g = kc_grid(n, KC_BLOCK);
    if (t == KB_BF16) kc_scale_kernel<<<g, KC_BLOCK, 0, im->stream>>>((__nv_bfloat16 *)x, n, s);
    else kc_scale_kernel<<<g, KC_BLOCK, 0, im->stream>>>((float *)x, n, s);
    kc_launch_check();
}

void kcu_embedding_fwd(kb_backend *be, void *out, const int32_t *tokens, const void *wte, int N,
                       int d) {
    if (N <= 0 || d <= 0) return;
    KC_RANGE("kcu_embedding_fwd");
    kc_impl *im = kc_enter(be);
    unsigned g = kc_grid((size_t)N * d, KC_BLOCK);
    if (be->act == KB_BF16)
        kc_embedding_fwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>((__nv_bfloat16 *)out, tokens,
                                                                (const __nv_bfloat16 *)wte, N, d);
    else
        kc_embedding_fwd_kernel<<<g, KC_BLOCK, 0, im->stream>>>((float *)out, tokens,
                                                                (const float *)wte, N, d);
    kc_launch_check();
}

void kcu_embedding_bwd(kb_backend *be, float *dwte, const int32_t *tokens, const void *dout, int N,
                       int d) {
    if (N <= 0 || d <= 0) return;
    KC_RANGE("kcu_embedding_bwd");
    kc_impl *im = kc_enter(be);
    size_t P = 1;
    while (P < (size_t)N) P <<= 1;
    unsigned long long *keys =
        (unsigned long long *)kc_scratch(im, KC_SCR_SORT, P * sizeof(unsigned long long));
    unsigned g = kc_grid(P, KC_BLOCK);
    kc_embed_keys_kernel<<<g, KC_BLOCK, 0, im->stream>>>(keys, tokens, N, P);
    kc_launch_check();
    for (size_t k = 2; k <= P; k <<= 1)
        for (size_t j = k >> 1; j > 0; j >>= 1) {
            kc_bitonic_step_kernel<<<g, KC_BLOCK, 0, im->stream>>>(keys, P, j, k);
            kc_launch_check();
        }
    if (be->act == KB_BF16)
        kc_embedding_bwd_kernel<<<N, KC_BLOCK, 0, im->stream>>>(dwte, keys,
                                                                (const __nv_bfloat16 *)dout, N, d);
    else
        kc_embedding_bwd_kernel<<<N, KC_BLOCK, 0, im->stream>>>(dwte, keys, (const float *)dout, N,
                                                                d);
    kc_launch_check();
}
