/* kernels/cpu_ops_attention.c: RoPE and causal grouped-query attention on the CPU.
 *
 * Layout (backend.h): a row of qkv holds nh query heads, then nkv key heads, then nkv
 * value heads, hd values each. Row r is position t = r % T of sequence b = r / T.
 *
 * RoPE, rotate-half: for i < hd/2 the pair (x_i, x_{i+hd/2}) of every q and k head is
 * rotated by the angle t * theta^(-2i/hd) (angles in double, then cos/sin to float):
 *   x_i'        = x_i cos - x_{i+hd/2} sin
 *   x_{i+hd/2}' = x_{i+hd/2} cos + x_i sin
 * The backward applies the transposed (inverse) rotation to the gradient.
 *
 * Attention, for query head h (kv head g = h / (nh/nkv)) at position t:
 *   s_j = q_t . k_j / sqrt(hd) for j <= t,  lse_t = log sum_j exp(s_j),
 *   p_j = exp(s_j - lse_t),  out_t = sum_j p_j v_j.
 * Backward from the definition, with D_t = dout_t . out_t (= sum_j p_j dp_j):
 *   dp_j = dout_t . v_j,  ds_j = p_j (dp_j - D_t),
 *   dq_t += sum_j ds_j k_j / sqrt(hd),  dk_j += sum_t ds_j q_t / sqrt(hd),
 *   dv_j += sum_t p_j dout_t.
 * lse is indexed [b][h][t].
 *
 * Both directions run as GEMMs (cblas_sgemm) over tiles of score rows. A task is one
 * sequence b and kv head g; it walks the positions in tiles of tq = ATT_ROWS / group
 * (at least 1), and a tile's rows are the group's query heads at those positions (row
 * i * group + hl: position t0 + i, head g * group + hl), so the heads sharing k_g and v_g
 * go through one GEMM. A tile [t0, t1) uses the keys 0..t1-1 only: the causal part of
 * the score matrix plus the masked upper triangle of its diagonal block (at most tq - 1
 * wasted scores a row).
 *   forward:  S = Q K^T / sqrt(hd); E = exp(S - rowmax), 0 where masked;
 *             out = (E V) / rowsum(E); lse = rowmax + log rowsum(E)
 *   backward: P = exp(Q K^T / sqrt(hd) - lse), 0 where masked; dS = P (dout V^T - D);
 *             dV += P^T dout; dK += dS^T Q / sqrt(hd) (the GEMM sums the group's heads);
 *             dQ += dS K / sqrt(hd)
 * Scratch, allocated once per call and thread: one [rows][T] block in the forward, two
 * in the backward (rows = group * tq <= ATT_ROWS: 16 MB at T = 8000), plus [rows][hd]
 * packs. Each task writes disjoint outputs (dq of the group's heads, dk and dv of kv
 * head g, tiles in order) with a fixed summation order, so results do not depend on the
 * number of threads. The GEMMs run on OpenBLAS's threads; the tasks run on the OpenMP
 * team (one thread unless OMP_NUM_THREADS says otherwise, backend_cpu.c) when OpenBLAS is
 * on one thread (att_parallel). The exponentials are a vectorised polynomial (att_exp).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "kernels/cpu_ops.h"

/* ---- RoPE ---- */

/* cos/sin tables [T][hd/2]; returns a block of 2 * T * hd/2 floats (cos first). */
static float *rope_table(int T, int hd, float theta) {
    int half = hd / 2;
    float *tab = malloc((size_t)2 * T * half * sizeof(float) + 1);
    KCPU_CHECK(tab != NULL, "rope: out of memory");
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double ang = (double)t * pow((double)theta, -2.0 * i / hd);
            tab[(size_t)t * half + i] = (float)cos(ang);
            tab[(size_t)T * half + (size_t)t * half + i] = (float)sin(ang);
        }
    return tab;
}

/* dir = +1 rotates forward, -1 applies the inverse rotation. */
static void rope_apply(void *qkv, int N, int T, int nh, int nkv, int hd, float theta, int dir) {
    KCPU_CHECK(hd % 2 == 0 && T > 0 && N % T == 0, "rope: bad shape");
    int half = hd / 2, width = (nh + 2 * nkv) * hd, nrot = nh + nkv;
    float *tab = rope_table(T, hd, theta);
    const float *cs = tab, *sn = tab + (size_t)T * half;
    float *x = qkv;
#pragma omp parallel for schedule(static) if ((size_t)N * nrot * hd >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        int t = r % T;
        const float *c = cs + (size_t)t * half, *s = sn + (size_t)t * half;
        for (int h = 0; h < nrot; h++) {
            float *v = x + (size_t)r * width + (size_t)h * hd;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half], si = dir > 0 ? s[i] : -s[i];
                v[i] = a * c[i] - b * si;
                v[i + half] = b * c[i] + a * si;
            }
        }
    }
    free(tab);
}

void kcpu_rope_fwd(kb_backend *be, void *qkv, int N, int T, int nh, int nkv, int hd, float theta) {
    (void)be;
    rope_apply(qkv, N, T, nh, nkv, hd, theta, +1);
}

void kcpu_rope_bwd(kb_backend *be, void *dqkv, int N, int T, int nh, int nkv, int hd, float theta) {
    (void)be;
    rope_apply(dqkv, N, T, nh, nkv, hd, theta, -1);
}

/* ---- attention ---- */

/* Score rows per tile (the group's query heads x a block of positions). */
#define ATT_ROWS 256

/* The row loops (the exponentials) are also compiled for AVX-512 and AVX2, chosen at load
 * time. Each lane rounds like the scalar code (ISO C mode: no FMA contraction); only the
 * order of the softmax row sum follows the vector width. */
#if defined(__x86_64__) && defined(__GNUC__)
#define ATT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ATT_CLONES
#endif

/* Bitwise select: a where mask is all ones, b where it is 0. */
static inline int32_t att_blend(int32_t mask, int32_t a, int32_t b) {
    return (a & mask) | (b & ~mask);
}

/* exp(x) for the softmax, written so that the compiler vectorises it (Cephes' expf):
 * Cody-Waite reduction x = n ln2 + r with |r| <= ln2/2, a degree-6 polynomial for exp(r),
 * and 2^n through the exponent bits. The magic constant 1.5 * 2^23 rounds x / ln2 to the
 * integer n and leaves it in t's low mantissa bits. Every branch is an integer select
 * (a float compare would keep GCC's -ftrapping-math from vectorising the loop).
 * Within 1.5 ulp of exp wherever that is a normal float (-87.3 <= x <= 88.3; the softmax
 * has x <= 0); 0 below x = -87.7 (n < -126), +inf above 88.4 (n > 127); NaN stays NaN. */
static inline float att_exp(float x) {
    const int32_t mid = 0x4B400000, lo = mid - 126, hi = mid + 127;
    float t = x * 1.44269504088896341f + 12582912.0f;
    int32_t tb;
    memcpy(&tb, &t, sizeof tb);
    int32_t tc = tb < lo ? lo : tb > hi ? hi : tb;
    float fn = (float)(tc - mid);
    float r = x - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t eb = (tc - mid + 127) << 23;
    float pow2n;
    memcpy(&pow2n, &eb, sizeof pow2n);
    y *= pow2n;
    int32_t yb;
    memcpy(&yb, &y, sizeof yb);
    yb = att_blend(-(int32_t)(tb < lo), 0, yb);
    yb = att_blend(-(int32_t)(tb > hi), 0x7F800000, yb);
    yb = att_blend(-(int32_t)((tb & 0x7FFFFFFF) > 0x7F800000), tb, yb);
    memcpy(&y, &yb, sizeof y);
    return y;
}

/* Forward softmax of one score row of n: row[j] = exp(row[j] - max) for j < len (the
 * causal part), 0 after. Returns the sum of the exponentials (in double), *mx the max. */
ATT_CLONES static double att_softmax_row(float *row, int len, int n, float *mx) {
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int j = 0; j < len; j++) m = row[j] > m ? row[j] : m;
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < len; j++) {
        float e = att_exp(row[j] - m);
        row[j] = e;
        sum += e;
    }
    for (int j = len; j < n; j++) row[j] = 0.0f;
    *mx = m;
    return sum;
}

/* Backward of one score row: p[j] = exp(s[j] - lse), dp[j] = p[j] (dp[j] - D) for j < len,
 * both 0 after. */
ATT_CLONES static void att_grad_row(float *p, float *dp, int len, int n, float lse, float D) {
#pragma omp simd
    for (int j = 0; j < len; j++) {
        float e = att_exp(p[j] - lse);
        p[j] = e;
        dp[j] = e * (dp[j] - D);
    }
    for (int j = len; j < n; j++) p[j] = dp[j] = 0.0f;
}

static float dotf(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Positions per tile: ATT_ROWS / group, at least 1, at most T. */
static int att_tile_len(int T, int group) {
    int tq = ATT_ROWS / group;
    if (tq < 1) tq = 1;
    return tq < T ? tq : T;
}

/* Whether a call runs its tasks on the OpenMP team: only with more than one task, enough
 * work, and OpenBLAS on one thread. Every task's GEMMs on a threaded OpenBLAS as well
 * would put two pools on the same cores (measured 2x slower than one task at a time). */
static int att_parallel(int B, int T, int nh, int nkv, int hd) {
#ifdef OPENBLAS_VERSION
    if (openblas_get_num_threads() > 1) return 0;
#endif
    return B * nkv > 1 && (size_t)B * nh * T * T * hd / 2 >= KCPU_PAR_MIN;
}

static float *att_scratch(size_t n) {
    float *p = malloc(n * sizeof(float));
    KCPU_CHECK(p != NULL, "attention: out of memory");
    return p;
}

void kcpu_attention_fwd(kb_backend *be, void *out, float *lse, const void *qkv, int B, int T,
                        int nh, int nkv, int hd) {
    (void)be;
    KCPU_CHECK(nkv > 0 && nh % nkv == 0, "attention: nh must be a multiple of nkv");
    KCPU_CHECK(B >= 0 && T >= 0 && hd > 0, "attention: bad shape");
    if (B == 0 || T == 0 || nh == 0) return;
    const int width = (nh + 2 * nkv) * hd, group = nh / nkv, ow = nh * hd, gw = group * hd;
    const int tq = att_tile_len(T, group);
    const size_t rmax = (size_t)group * tq;
    const float scale = 1.0f / sqrtf((float)hd);
    const float *x = qkv;
    float *o = out;
#pragma omp parallel if (att_parallel(B, T, nh, nkv, hd))
    {
        /* scores [rows][t1]; packed q, then out [rows][hd]; 1/sum [rows] */
        float *s = att_scratch(rmax * T + rmax * hd + rmax);
        float *qp = s + rmax * T, *inv = qp + rmax * hd;
#pragma omp for schedule(static)
        for (int task = 0; task < B * nkv; task++) {
            const int b = task / nkv, g = task % nkv;
            const float *xb = x + (size_t)b * T * width;
            const float *k = xb + (size_t)(nh + g) * hd, *v = xb + (size_t)(nh + nkv + g) * hd;
            for (int t0 = 0; t0 < T; t0 += tq) {
                const int n = tq < T - t0 ? tq : T - t0, t1 = t0 + n, rows = group * n;
                for (int i = 0; i < n; i++)
                    memcpy(qp + (size_t)i * gw, xb + (size_t)(t0 + i) * width + (size_t)g * gw,
                           (size_t)gw * sizeof(float));
                /* S = Q K^T / sqrt(hd) over keys 0..t1-1 */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, t1, hd, scale, qp, hd, k,
                            width, 0.0f, s, t1);
                for (int r = 0; r < rows; r++) {
                    const int t = t0 + r / group, h = g * group + r % group;
                    float mx;
                    double sum = att_softmax_row(s + (size_t)r * t1, t + 1, t1, &mx);
                    inv[r] = (float)(1.0 / sum);
                    lse[((size_t)b * nh + h) * T + t] = mx + (float)log(sum);
                }
                /* out = exp(S - max) V / sum */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, t1, 1.0f, s, t1, v,
                            width, 0.0f, qp, hd);
                for (int r = 0; r < rows; r++) {
                    float *orow = o + (size_t)(b * T + t0 + r / group) * ow +
                                  (size_t)(g * group + r % group) * hd;
                    const float *src = qp + (size_t)r * hd;
                    for (int c = 0; c < hd; c++) orow[c] = src[c] * inv[r];
                }
            }
        }
        free(s);
    }
}

void kcpu_attention_bwd(kb_backend *be, void *dqkv, const void *dout, const void *qkv,
                        const void *out, const float *lse, int B, int T, int nh, int nkv, int hd) {
    (void)be;
    KCPU_CHECK(nkv > 0 && nh % nkv == 0, "attention: nh must be a multiple of nkv");
    KCPU_CHECK(B >= 0 && T >= 0 && hd > 0, "attention: bad shape");
    if (B == 0 || T == 0 || nh == 0) return;
    const int width = (nh + 2 * nkv) * hd, group = nh / nkv, ow = nh * hd, gw = group * hd;
    const int tq = att_tile_len(T, group);
    const size_t rmax = (size_t)group * tq;
    const float scale = 1.0f / sqrtf((float)hd);
    const float *x = qkv, *go = dout, *o = out;
    float *dx = dqkv;
#pragma omp parallel if (att_parallel(B, T, nh, nkv, hd))
    {
        /* P and dP, then dS [rows][t1]; packed q (then dq) and dout [rows][hd]; lse, D [rows] */
        float *p = att_scratch(2 * rmax * T + 2 * rmax * hd + 2 * rmax);
        float *dp = p + rmax * T, *qp = dp + rmax * T, *gp = qp + rmax * hd;
        float *L = gp + rmax * hd, *D = L + rmax;
#pragma omp for schedule(static)
        for (int task = 0; task < B * nkv; task++) {
            const int b = task / nkv, g = task % nkv;
            const size_t kcol = (size_t)(nh + g) * hd, vcol = (size_t)(nh + nkv + g) * hd;
            const float *xb = x + (size_t)b * T * width, *k = xb + kcol, *v = xb + vcol;
            float *dxb = dx + (size_t)b * T * width;
            for (int t0 = 0; t0 < T; t0 += tq) {
                const int n = tq < T - t0 ? tq : T - t0, t1 = t0 + n, rows = group * n;
                for (int i = 0; i < n; i++) {
                    const size_t row = (size_t)b * T + t0 + i;
                    memcpy(qp + (size_t)i * gw, x + row * width + (size_t)g * gw,
                           (size_t)gw * sizeof(float));
                    memcpy(gp + (size_t)i * gw, go + row * ow + (size_t)g * gw,
                           (size_t)gw * sizeof(float));
                }
                for (int r = 0; r < rows; r++) {
                    const int t = t0 + r / group, h = g * group + r % group;
                    L[r] = lse[((size_t)b * nh + h) * T + t];
                    D[r] = dotf(gp + (size_t)r * hd, o + ((size_t)b * T + t) * ow + (size_t)h * hd,
                                hd); /* D = dout . out */
                }
                /* P = exp(Q K^T / sqrt(hd) - lse); dP = dout V^T; dS = P (dP - D) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, t1, hd, scale, qp, hd, k,
                            width, 0.0f, p, t1);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, t1, hd, 1.0f, gp, hd, v,
                            width, 0.0f, dp, t1);
                for (int r = 0; r < rows; r++)
                    att_grad_row(p + (size_t)r * t1, dp + (size_t)r * t1, t0 + r / group + 1, t1,
                                 L[r], D[r]);
                /* dV += P^T dout; dK += dS^T Q / sqrt(hd) (summing over the group's heads) */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t1, hd, rows, 1.0f, p, t1, gp,
                            hd, 1.0f, dxb + vcol, width);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t1, hd, rows, scale, dp, t1,
                            qp, hd, 1.0f, dxb + kcol, width);
                /* dQ += dS K / sqrt(hd) (into qp, then added to the group's q columns) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, t1, scale, dp, t1,
                            k, width, 0.0f, qp, hd);
                for (int i = 0; i < n; i++) {
                    float *dq = dxb + (size_t)(t0 + i) * width + (size_t)g * gw;
                    const float *src = qp + (size_t)i * gw;
                    for (int c = 0; c < gw; c++) dq[c] += src[c];
                }
            }
        }
        free(p);
    }
}
