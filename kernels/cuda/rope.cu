/* kernels/cuda/rope.cu: rotary position embedding, in place on the fused qkv buffer.
 *
 * backend.h: rotate-half pairing (i, i + hd/2) for i < hd/2, position t = r % T, angle
 * t * theta^(-2i/hd), applied to the nh query heads and the nkv key heads of each row
 * (value heads untouched):
 *   x_i'        = x_i cos - x_{i+hd/2} sin
 *   x_{i+hd/2}' = x_{i+hd/2} cos + x_i sin
 * The backward applies the inverse rotation (sin -> -sin) to a gradient.
 *
 * One thread per (row, pair): the angle is computed in double (t reaches thousands of
 * radians, where an fp32 angle would be off by ~1e-4), its cos and sin rounded to
 * float -- the CPU reference does the same -- and the thread then rotates that pair in
 * every q and k head of the row. Consecutive threads take consecutive pairs, so the
 * loads of one head are coalesced.
 */
#include "kernels/cuda/cuda_common.cuh"

/* ---- kernels ---- */

template <typename T>
__global__ void kc_rope_kernel(T *qkv, int N, int T_, int nh, int nkv, int hd, double theta,
                               float dir) {
    const int half = hd / 2;
    const size_t total = (size_t)N * half;
    const size_t width = (size_t)(nh + 2 * nkv) * hd;
    const int nrot = nh + nkv;
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        const size_t r = idx / half;
        const int i = (int)(idx % half);
        const int t = (int)(r % (size_t)T_);
        const double ang = (double)t * pow(theta, -2.0 * i / hd);
        const float c = (float)cos(ang);
        const float s = dir * (float)sin(ang);
        T *row = qkv + r * width;
        for (int h = 0; h < nrot; h++) {
            T *v = row + (size_t)h * hd;
            const float a = kc_ld(v + i), b = kc_ld(v + i + half);
            kc_st(v + i, a * c - b * s);
            kc_st(v + i + half, b * c + a * s);
        }
    }
}

/* ---- launchers ---- */

static void kc_rope(kb_backend *be, void *qkv, int N, int T, int nh, int nkv, int hd, float theta,
                    float dir) {
    kc_require(hd % 2 == 0 && T > 0 && N % T == 0, "rope: bad shape");
    if (N <= 0 || hd <= 0 || nh + nkv <= 0) return;
    kc_impl *im = kc_enter(be);
    const size_t total = (size_t)N * (hd / 2);
    const unsigned g = kc_grid(total, 256);
    if (be->act == KB_BF16)
        kc_rope_kernel<<<g, 256, 0, im->stream>>>((__nv_bfloat16 *)qkv, N, T, nh, nkv, hd,
                                                  (double)theta, dir);
    else
        kc_rope_kernel<<<g, 256, 0, im->stream>>>((float *)qkv, N, T, nh, nkv, hd, (double)theta,
                                                  dir);
    kc_launch_check();
}

void kcu_rope_fwd(kb_backend *be, void *qkv, int N, int T, int nh, int nkv, int hd, float theta) {
    KC_RANGE("kcu_rope_fwd");
    kc_rope(be, qkv, N, T, nh, nkv, hd, theta, 1.0f);
}

void kcu_rope_bwd(kb_backend *be, void *dqkv, int N, int T, int nh, int nkv, int hd, float theta) {
    KC_RANGE("kcu_rope_bwd");
    kc_rope(be, dqkv, N, T, nh, nkv, hd, theta, -1.0f);
}
