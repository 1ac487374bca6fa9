/* kernels/cuda/attention.cu: causal grouped-query attention, forward and backward.
 *
 * Shapes (backend.h): qkv A[B*T, (nh+2nkv)*hd] holds the nh query heads, then the nkv
 * key heads, then the nkv value heads of each row; query head h reads kv head
 * g = h / (nh/nkv); out A[B*T, nh*hd]; lse F indexed [b][h][t]; scale 1/sqrt(hd).
 *
 * Forward (flash-attention style, one block per (64-query tile, head, sequence)):
 * the query tile stays in shared memory while 64-key tiles of K and V stream through
 * (only tiles at or below the diagonal); scores S = Q K^T * scale are masked (key > query
 * or past T) and folded into a running row max m and row sum l (online softmax):
 *   m' = max(m, rowmax S),  alpha = exp(m - m'),  P = exp(S - m'),
 *   l' = alpha l + rowsum P,  O' = alpha O + P V,
 * and at the end out = O / l, lse = m + log l. Memory is O(T * hd) per block, never
 * O(T^2): at Orion's shape (T=800, hd=128) the score tile is 64 x 64.
 *
 * Backward, from lse (P is recomputed, nothing quadratic is stored), with
 * D_i = dout_i . out_i (a small first kernel):
 *   P_ij = exp(S_ij - lse_i),  dP_ij = dout_i . v_j,  dS_ij = P_ij (dP_ij - D_i)
 *   dv_j += sum_i P_ij dout_i,  dk_j += scale sum_i dS_ij q_i,  dq_i += scale sum_j dS_ij k_j
 * Two kernels, so that every gradient element has exactly one writer and the result is
 * deterministic without atomics:
 *   dkv: one block per (64-key tile, kv head, sequence); loops over the group's query
 *        heads and the query tiles at or below the diagonal, accumulating dk, dv in
 *        registers, then adds them into dqkv;
 *   dq:  one block per (64-query tile, query head, sequence); loops over key tiles.
 *
 * Work split inside a block (256 threads, ty = tid / 16, tx = tid % 16): a 64 x 64 score
 * tile gives each thread rows ty + 16a and columns tx + 16b (a, b < 4); a 64 x hd output
 * tile gives each thread rows ty + 16a and head-dim columns tx + 16c (c < hd/16). All
 * shared tiles are fp32 (bf16 inputs are widened when loaded) with row stride hd + 1
 * (odd: the 16 rows read together fall in 16 different banks); score tiles use 65.
 * Accumulation is fp32 throughout. hd <= 128.
 *
 * Shared memory per block at hd = 128: forward 114 KiB, dkv 162 KiB, dq 146 KiB
 * (opted in with cudaFuncAttributeMaxDynamicSharedMemorySize; sm_90 allows 227 KiB).
 */
#include <math.h>

#include "kernels/cuda/cuda_common.cuh"

#define KC_ATT_TILE 64 /* query and key tile rows */
#define KC_ATT_THREADS 256
#define KC_ATT_HDMAX 128
#define KC_ATT_HC (KC_ATT_HDMAX / 16) /* head-dim columns per thread */
#define KC_ATT_PLD (KC_ATT_TILE + 1)  /* row stride of score tiles */

/* ---- kernels ---- */

/* dst[r * ld + c] = src[(t0 + r) * stride + c] for r < 64, c < hd; rows at or past T are 0. */
template <typename T>
__device__ __forceinline__ void kc_att_load(float *dst, int ld, const T *src, size_t stride, int t0,
                                            int T_, int hd) {
    const int n = KC_ATT_TILE * hd;
    for (int idx = threadIdx.x; idx < n; idx += blockDim.x) {
        const int r = idx / hd, c = idx - r * hd, t = t0 + r;
        dst[r * ld + c] = t < T_ ? kc_ld(src + (size_t)t * stride + c) : 0.0f;
    }
}

template <typename T>
__global__ void __launch_bounds__(KC_ATT_THREADS)
    kc_attn_fwd_kernel(T *out, float *lse, const T *qkv, int T_, int nh, int nkv, int hd,
                       float scale) {
    extern __shared__ float sm[];
    const int ld = hd + 1;
    float *Qs = sm, *Ks = Qs + KC_ATT_TILE * ld, *Vs = Ks + KC_ATT_TILE * ld;
    float *Ps = Vs + KC_ATT_TILE * ld;
    float *mrow = Ps + KC_ATT_TILE * KC_ATT_PLD, *lrow = mrow + KC_ATT_TILE,
          *arow = lrow + KC_ATT_TILE;

    const int q0 = blockIdx.x * KC_ATT_TILE, h = blockIdx.y, b = blockIdx.z;
    const int g = h / (nh / nkv);
    const size_t W = (size_t)(nh + 2 * nkv) * hd;
    const T *base = qkv + (size_t)b * T_ * W;
    const int tid = threadIdx.x, ty = tid >> 4, tx = tid & 15;

    kc_att_load(Qs, ld, base + (size_t)h * hd, W, q0, T_, hd);
    if (tid < KC_ATT_TILE) {
        mrow[tid] = -INFINITY;
        lrow[tid] = 0.0f;
    }
    float o[4][KC_ATT_HC];
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int c = 0; c < KC_ATT_HC; c++) o[a][c] = 0.0f;

    const int kend = min(T_, q0 + KC_ATT_TILE);
    for (int k0 = 0; k0 < kend; k0 += KC_ATT_TILE) {
        __syncthreads(); /* previous tile fully consumed */
        kc_att_load(Ks, ld, base + (size_t)(nh + g) * hd, W, k0, T_, hd);
        kc_att_load(Vs, ld, base + (size_t)(nh + nkv + g) * hd, W, k0, T_, hd);
        __syncthreads();

        /* S = Q K^T * scale, masked */
        float s[4][4];
#pragma unroll
        for (int a = 0; a < 4; a++)
#pragma unroll
            for (int bb = 0; bb < 4; bb++) s[a][bb] = 0.0f;
        for (int k = 0; k < hd; k++) {
            float qa[4], kb[4];
#pragma unroll
            for (int a = 0; a < 4; a++) qa[a] = Qs[(ty + 16 * a) * ld + k];
#pragma unroll
            for (int bb = 0; bb < 4; bb++) kb[bb] = Ks[(tx + 16 * bb) * ld + k];
#pragma unroll
            for (int a = 0; a < 4; a++)
#pragma unroll
                for (int bb = 0; bb < 4; bb++) s[a][bb] += qa[a] * kb[bb];
        }
#pragma unroll
        for (int a = 0; a < 4; a++)
#pragma unroll
            for (int bb = 0; bb < 4; bb++) {
                const int il = ty + 16 * a, jl = tx + 16 * bb;
                const int i = q0 + il, j = k0 + jl;
                Ps[il * KC_ATT_PLD + jl] = (j <= i && j < T_) ? s[a][bb] * scale : -INFINITY;
            }
        __syncthreads();

        /* online softmax: 4 threads per row, 16 columns each */
        {
            const int row = tid >> 2, part = tid & 3;
            float *pr = Ps + row * KC_ATT_PLD + part * 16;
            float mx = -INFINITY;
#pragma unroll
            for (int c = 0; c < 16; c++) mx = fmaxf(mx, pr[c]);
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float m_old = mrow[row];
            const float m_new = fmaxf(m_old, mx);
            float sum = 0.0f;
#pragma unroll
            for (int c = 0; c < 16; c++) {
                const float x = pr[c];
                const float p = x == -INFINITY ? 0.0f : expf(x - m_new);
                pr[c] = p;
                sum += p;
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            __syncwarp();
            if (part == 0) {
                const float al = m_old == -INFINITY ? 0.0f : expf(m_old - m_new);
                arow[row] = al;
                lrow[row] = lrow[row] * al + sum;
                mrow[row] = m_new;
            }
        }
        __syncthreads();

        /* O = alpha O + P V */
#pragma unroll
        for (int a = 0; a < 4; a++) {
            const float al = arow[ty + 16 * a];
#pragma unroll
            for (int c = 0; c < KC_ATT_HC; c++) o[a][c] *= al;
        }
        for (int j = 0; j < KC_ATT_TILE; j++) {
            float pa[4];
#pragma unroll
            for (int a = 0; a < 4; a++) pa[a] = Ps[(ty + 16 * a) * KC_ATT_PLD + j];
#pragma unroll
            for (int c = 0; c < KC_ATT_HC; c++) {
                const int cc = tx + 16 * c;
                if (cc < hd) {
                    const float v = Vs[j * ld + cc];
#pragma unroll
                    for (int a = 0; a < 4; a++) o[a][c] += pa[a] * v;
                }
            }
        }
    }

    /* out = O / l, lse = m + log l (mrow, lrow final since the last barrier) */
    const size_t OW = (size_t)nh * hd;
#pragma unroll
    for (int a = 0; a < 4; a++) {
        const int il = ty + 16 * a, i = q0 + il;
        if (i >= T_) continue;
        const float l = lrow[il];
        const float inv = 1.0f / l;
        T *orow = out + ((size_t)b * T_ + i) * OW + (size_t)h * hd;
#pragma unroll
        for (int c = 0; c < KC_ATT_HC; c++) {
            const int cc = tx + 16 * c;
            if (cc < hd) kc_st(orow + cc, o[a][c] * inv);
        }
        if (tx == 0) lse[((size_t)b * nh + h) * T_ + i] = mrow[il] + logf(l);
    }
}

/* D[b][h][t] = dout . out over the head's hd values; one warp per (b, h, t). */
template <typename T>
__global__ void kc_attn_bwd_d_kernel(float *D, const T *dout, const T *out, int B, int T_, int nh,
                                     int hd) {
    const size_t gw = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    const size_t total = (size_t)B * nh * T_;
    if (gw >= total) return; /* whole warps */
    const int t = (int)(gw % T_);
    const size_t bh = gw / T_;
    const int h = (int)(bh % nh), b = (int)(bh / nh);
    const size_t off = ((size_t)b * T_ + t) * nh * hd + (size_t)h * hd;
    float s = 0.0f;
    for (int c = lane; c < hd; c += 32) s += kc_ld(dout + off + c) * kc_ld(out + off + c);
    s = kc_warp_sum(s);
    if (lane == 0) D[gw] = s;
}

/* Score and score-gradient micro tiles for rows ty+16a (queries) x cols tx+16b (keys):
 * s = Q K^T, dp = dO V^T over the head dimension. */
__device__ __forceinline__ void kc_att_sdp(float s[4][4], float dp[4][4], const float *Qs,
                                           const float *dOs, const float *Ks, const float *Vs,
                                           int ld, int hd, int ty, int tx) {
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int bb = 0; bb < 4; bb++) {
            s[a][bb] = 0.0f;
            dp[a][bb] = 0.0f;
        }
    for (int k = 0; k < hd; k++) {
        float qa[4], da[4], kb[4], vb[4];
#pragma unroll
        for (int a = 0; a < 4; a++) {
            qa[a] = Qs[(ty + 16 * a) * ld + k];
            da[a] = dOs[(ty + 16 * a) * ld + k];
        }
#pragma unroll
        for (int bb = 0; bb < 4; bb++) {
            kb[bb] = Ks[(tx + 16 * bb) * ld + k];
            vb[bb] = Vs[(tx + 16 * bb) * ld + k];
        }
#pragma unroll
        for (int a = 0; a < 4; a++)
#pragma unroll
            for (int bb = 0; bb < 4; bb++) {
                s[a][bb] += qa[a] * kb[bb];
                dp[a][bb] += da[a] * vb[bb];
            }
    }
}

template <typename T>
__global__ void __launch_bounds__(KC_ATT_THREADS)
    kc_attn_bwd_dkv_kernel(T *dqkv, const T *dout, const T *qkv, const float *lse, const float *D,
                           int T_, int nh, int nkv, int hd, float scale) {
    extern __shared__ float sm[];
    const int ld = hd + 1;
    float *Ks = sm, *Vs = Ks + KC_ATT_TILE * ld, *Qs = Vs + KC_ATT_TILE * ld;
    float *dOs = Qs + KC_ATT_TILE * ld, *Ps = dOs + KC_ATT_TILE * ld;
    float *dSs = Ps + KC_ATT_TILE * KC_ATT_PLD;
    float *ls = dSs + KC_ATT_TILE * KC_ATT_PLD, *Ds = ls + KC_ATT_TILE;

    const int k0 = blockIdx.x * KC_ATT_TILE, g = blockIdx.y, b = blockIdx.z;
    const int group = nh / nkv;
    const size_t W = (size_t)(nh + 2 * nkv) * hd, OW = (size_t)nh * hd;
    const T *base = qkv + (size_t)b * T_ * W;
    const T *gbase = dout + (size_t)b * T_ * OW;
    const int tid = threadIdx.x, ty = tid >> 4, tx = tid & 15;

    kc_att_load(Ks, ld, base + (size_t)(nh + g) * hd, W, k0, T_, hd);
    kc_att_load(Vs, ld, base + (size_t)(nh + nkv + g) * hd, W, k0, T_, hd);

    float dk[4][KC_ATT_HC], dv[4][KC_ATT_HC];
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int c = 0; c < KC_ATT_HC; c++) {
            dk[a][c] = 0.0f;
            dv[a][c] = 0.0f;
        }

    for (int hh = 0; hh < group; hh++) {
        const int h = g * group + hh;
        const float *lse_h = lse + ((size_t)b * nh + h) * T_;
        const float *D_h = D + ((size_t)b * nh + h) * T_;
        /* query tiles at or below the diagonal: q0 >= k0 (tiles are aligned) */
        for (int q0 = k0; q0 < T_; q0 += KC_ATT_TILE) {
            __syncthreads(); /* previous tile fully consumed */
            kc_att_load(Qs, ld, base + (size_t)h * hd, W, q0, T_, hd);
            kc_att_load(dOs, ld, gbase + (size_t)h * hd, OW, q0, T_, hd);
            if (tid < KC_ATT_TILE) {
                const int i = q0 + tid;
                ls[tid] = i < T_ ? lse_h[i] : 0.0f;
                Ds[tid] = i < T_ ? D_h[i] : 0.0f;
            }
            __syncthreads();

            float s[4][4], dp[4][4];
            kc_att_sdp(s, dp, Qs, dOs, Ks, Vs, ld, hd, ty, tx);
#pragma unroll
            for (int a = 0; a < 4; a++)
#pragma unroll
                for (int bb = 0; bb < 4; bb++) {
                    const int il = ty + 16 * a, jl = tx + 16 * bb;
                    const int i = q0 + il, j = k0 + jl;
                    const float p =
                        (i < T_ && j < T_ && j <= i) ? expf(s[a][bb] * scale - ls[il]) : 0.0f;
                    Ps[il * KC_ATT_PLD + jl] = p;
                    dSs[il * KC_ATT_PLD + jl] = p * (dp[a][bb] - Ds[il]);
                }
            __syncthreads();

            /* rows of this thread are keys ty+16a: dv += P^T dO, dk += dS^T Q */
            for (int i = 0; i < KC_ATT_TILE; i++) {
                float pa[4], sa[4];
#pragma unroll
                for (int a = 0; a < 4; a++) {
                    pa[a] = Ps[i * KC_ATT_PLD + ty + 16 * a];
                    sa[a] = dSs[i * KC_ATT_PLD + ty + 16 * a];
                }
#pragma unroll
                for (int c = 0; c < KC_ATT_HC; c++) {
                    const int cc = tx + 16 * c;
                    if (cc < hd) {
                        const float gv = dOs[i * ld + cc], qv = Qs[i * ld + cc];
#pragma unroll
                        for (int a = 0; a < 4; a++) {
                            dv[a][c] += pa[a] * gv;
                            dk[a][c] += sa[a] * qv;
                        }
                    }
                }
            }
        }
    }

#pragma unroll
    for (int a = 0; a < 4; a++) {
        const int j = k0 + ty + 16 * a;
        if (j >= T_) continue;
        T *row = dqkv + ((size_t)b * T_ + j) * W;
        T *krow = row + (size_t)(nh + g) * hd, *vrow = row + (size_t)(nh + nkv + g) * hd;
#pragma unroll
        for (int c = 0; c < KC_ATT_HC; c++) {
            const int cc = tx + 16 * c;
            if (cc < hd) {
                kc_st(krow + cc, kc_ld(krow + cc) + scale * dk[a][c]);
                kc_st(vrow + cc, kc_ld(vrow + cc) + dv[a][c]);
            }
        }
    }
}

template <typename T>
__global__ void __launch_bounds__(KC_ATT_THREADS)
    kc_attn_bwd_dq_kernel(T *dqkv, const T *dout, const T *qkv, const float *lse, const float *D,
                          int T_, int nh, int nkv, int hd, float scale) {
    extern __shared__ float sm[];
    const int ld = hd + 1;
    float *Qs = sm, *dOs = Qs + KC_ATT_TILE * ld, *Ks = dOs + KC_ATT_TILE * ld;
    float *Vs = Ks + KC_ATT_TILE * ld, *dSs = Vs + KC_ATT_TILE * ld;
    float *ls = dSs + KC_ATT_TILE * KC_ATT_PLD, *Ds = ls + KC_ATT_TILE;

    const int q0 = blockIdx.x * KC_ATT_TILE, h = blockIdx.y, b = blockIdx.z;
    const int g = h / (nh / nkv);
    const size_t W = (size_t)(nh + 2 * nkv) * hd, OW = (size_t)nh * hd;
    const T *base = qkv + (size_t)b * T_ * W;
    const int tid = threadIdx.x, ty = tid >> 4, tx = tid & 15;

    kc_att_load(Qs, ld, base + (size_t)h * hd, W, q0, T_, hd);
    kc_att_load(dOs, ld, dout + (size_t)b * T_ * OW + (size_t)h * hd, OW, q0, T_, hd);
    if (tid < KC_ATT_TILE) {
        const int i = q0 + tid;
        const size_t li = ((size_t)b * nh + h) * T_ + i;
        ls[tid] = i < T_ ? lse[li] : 0.0f;
        Ds[tid] = i < T_ ? D[li] : 0.0f;
    }

    float dq[4][KC_ATT_HC];
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int c = 0; c < KC_ATT_HC; c++) dq[a][c] = 0.0f;

    const int kend = min(T_, q0 + KC_ATT_TILE);
    for (int k0 = 0; k0 < kend; k0 += KC_ATT_TILE) {
        __syncthreads();
        kc_att_load(Ks, ld, base + (size_t)(nh + g) * hd, W, k0, T_, hd);
        kc_att_load(Vs, ld, base + (size_t)(nh + nkv + g) * hd, W, k0, T_, hd);
        __syncthreads();

        float s[4][4], dp[4][4];
        kc_att_sdp(s, dp, Qs, dOs, Ks, Vs, ld, hd, ty, tx);
#pragma unroll
        for (int a = 0; a < 4; a++)
#pragma unroll
            for (int bb = 0; bb < 4; bb++) {
                const int il = ty + 16 * a, jl = tx + 16 * bb;
                const int i = q0 + il, j = k0 + jl;
                const float p =
                    (i < T_ && j < T_ && j <= i) ? expf(s[a][bb] * scale - ls[il]) : 0.0f;
                dSs[il * KC_ATT_PLD + jl] = p * (dp[a][bb] - Ds[il]);
            }
        __syncthreads();

        for (int j = 0; j < KC_ATT_TILE; j++) {
            float sa[4];
#pragma unroll
            for (int a = 0; a < 4; a++) sa[a] = dSs[(ty + 16 * a) * KC_ATT_PLD + j];
#pragma unroll
            for (int c = 0; c < KC_ATT_HC; c++) {
                const int cc = tx + 16 * c;
                if (cc < hd) {
                    const float kv = Ks[j * ld + cc];
#pragma unroll
                    for (int a = 0; a < 4; a++) dq[a][c] += sa[a] * kv;
                }
            }
        }
    }

#pragma unroll
    for (int a = 0; a < 4; a++) {
        const int i = q0 + ty + 16 * a;
        if (i >= T_) continue;
        T *qrow = dqkv + ((size_t)b * T_ + i) * W + (size_t)h * hd;
#pragma unroll
        for (int c = 0; c < KC_ATT_HC; c++) {
            const int cc = tx + 16 * c;
            if (cc < hd) kc_st(qrow + cc, kc_ld(qrow + cc) + scale * dq[a][c]);
        }
    }
}

/* ---- launchers ---- */

static size_t kc_att_smem_fwd(int hd) {
    return sizeof(float) *
           ((size_t)3 * KC_ATT_TILE * (hd + 1) + KC_ATT_TILE * KC_ATT_PLD + 3 * KC_ATT_TILE);
}

static size_t kc_att_smem_dkv(int hd) {
    return sizeof(float) *
           ((size_t)4 * KC_ATT_TILE * (hd + 1) + 2 * KC_ATT_TILE * KC_ATT_PLD + 2 * KC_ATT_TILE);
}

static size_t kc_att_smem_dq(int hd) {
    return sizeof(float) *
           ((size_t)4 * KC_ATT_TILE * (hd + 1) + KC_ATT_TILE * KC_ATT_PLD + 2 * KC_ATT_TILE);
}

static void kc_att_check_shape(int B, int T, int nh, int nkv, int hd) {
    kc_require(B > 0 && T > 0 && nh > 0 && nkv > 0 && hd > 0, "attention: bad shape");
    kc_require(nh % nkv == 0, "attention: nh must be a multiple of nkv");
    kc_require(hd <= KC_ATT_HDMAX, "attention: head_dim above 128 is not supported");
    kc_require(nh <= 65535 && nkv <= 65535 && B <= 65535, "attention: grid too large");
}

template <typename K> static void kc_att_smem_optin(K kernel, size_t bytes) {
    cudaCheck(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
}

template <typename T>
static void kc_att_fwd(kc_impl *im, T *out, float *lse, const T *qkv, int B, int T_, int nh,
                       int nkv, int hd) {
    const size_t smem = kc_att_smem_fwd(hd);
    kc_att_smem_optin(kc_attn_fwd_kernel<T>, smem);
    dim3 grid((unsigned)((T_ + KC_ATT_TILE - 1) / KC_ATT_TILE), (unsigned)nh, (unsigned)B);
    kc_attn_fwd_kernel<T><<<grid, KC_ATT_THREADS, smem, im->stream>>>(out, lse, qkv, T_, nh, nkv,
                                                                      hd, 1.0f / sqrtf((float)hd));
    kc_launch_check();
}

template <typename T>
static void kc_att_bwd(kc_impl *im, T *dqkv, const T *dout, const T *qkv, const T *out,
                       const float *lse, int B, int T_, int nh, int nkv, int hd) {
    const float scale = 1.0f / sqrtf((float)hd);
    const size_t rows = (size_t)B * nh * T_;
    float *D = (float *)kc_scratch(im, KC_SCR_ATTN, rows * sizeof(float));
    const size_t threads = rows * 32;
    kc_attn_bwd_d_kernel<T>
        <<<(unsigned)((threads + 255) / 256), 256, 0, im->stream>>>(D, dout, out, B, T_, nh, hd);
    kc_launch_check();

    const unsigned ntiles = (unsigned)((T_ + KC_ATT_TILE - 1) / KC_ATT_TILE);
    const size_t smem_kv = kc_att_smem_dkv(hd);
    kc_att_smem_optin(kc_attn_bwd_dkv_kernel<T>, smem_kv);
    kc_attn_bwd_dkv_kernel<T>
        <<<dim3(ntiles, (unsigned)nkv, (unsigned)B), KC_ATT_THREADS, smem_kv, im->stream>>>(
            dqkv, dout, qkv, lse, D, T_, nh, nkv, hd, scale);
    kc_launch_check();

    const size_t smem_q = kc_att_smem_dq(hd);
    kc_att_smem_optin(kc_attn_bwd_dq_kernel<T>, smem_q);
    kc_attn_bwd_dq_kernel<T>
        <<<dim3(ntiles, (unsigned)nh, (unsigned)B), KC_ATT_THREADS, smem_q, im->stream>>>(
            dqkv, dout, qkv, lse, D, T_, nh, nkv, hd, scale);
    kc_launch_check();
}

void kcu_attention_fwd(kb_backend *be, void *out, float *lse, const void *qkv, int B, int T, int nh,
                       int nkv, int hd) {
    KC_RANGE("kcu_attention_fwd");
    kc_att_check_shape(B, T, nh, nkv, hd);
    kc_impl *im = kc_enter(be);
    if (be->act == KB_BF16)
        kc_att_fwd(im, (__nv_bfloat16 *)out, lse, (const __nv_bfloat16 *)qkv, B, T, nh, nkv, hd);
    else kc_att_fwd(im, (float *)out, lse, (const float *)qkv, B, T, nh, nkv, hd);
}

void kcu_attention_bwd(kb_backend *be, void *dqkv, const void *dout, const void *qkv,
                       const void *out, const float *lse, int B, int T, int nh, int nkv, int hd) {
    KC_RANGE("kcu_attention_bwd");
    kc_att_check_shape(B, T, nh, nkv, hd);
    kc_impl *im = kc_enter(be);
    if (be->act == KB_BF16)
        kc_att_bwd(im, (__nv_bfloat16 *)dqkv, (const __nv_bfloat16 *)dout,
                   (const __nv_bfloat16 *)qkv, (const __nv_bfloat16 *)out, lse, B, T, nh, nkv, hd);
    else
        kc_att_bwd(im, (float *)dqkv, (const float *)dout, (const float *)qkv, (const float *)out,
                   lse, B, T, nh, nkv, hd);
}
