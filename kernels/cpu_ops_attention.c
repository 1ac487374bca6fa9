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
 * It runs in two passes so that every gradient element has exactly one writer: a
 * query pass (dq; parallel over b, h, t) and a key pass (dk, dv; parallel over b, g, j,
 * looping over the query heads of the group and the positions t >= j in order).
 * lse is indexed [b][h][t].
 */
#include <math.h>
#include <stdlib.h>

#include "kernels/cpu_ops.h"

/* ---- RoPE ---- */

/* cos/sin tables [T][hd/2]; returns a block of 2 * T * hd/2 floats (cos first). */
static float *rope_table(int T, int hd, float theta)
{
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
static void rope_apply(void *qkv, int N, int T, int nh, int nkv, int hd, float theta, int dir)
{
    KCPU_CHECK(hd % 2 == 0 && T > 0 && N % T == 0, "rope: bad shape");
    int half = hd / 2, width = (nh + 2 * nkv) * hd, nrot = nh + nkv;
    float *tab = rope_table(T, hd, theta);
    const float *cs = tab, *sn = tab + (size_t)T * half;
    float *x = qkv;
    #pragma omp parallel for schedule(static) if((size_t)N * nrot * hd >= KCPU_PAR_MIN)
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

void kcpu_rope_fwd(kb_backend *be, void *qkv, int N, int T, int nh, int nkv, int hd, float theta)
{
    (void)be;
    rope_apply(qkv, N, T, nh, nkv, hd, theta, +1);
}

void kcpu_rope_bwd(kb_backend *be, void *dqkv, int N, int T, int nh, int nkv, int hd, float theta)
{
    (void)be;
    rope_apply(dqkv, N, T, nh, nkv, hd, theta, -1);
}

/* ---- attention ---- */

static float dotf(const float *a, const float *b, int n)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void kcpu_attention_fwd(kb_backend *be, void *out, float *lse, const void *qkv, int B, int T,
                        int nh, int nkv, int hd)
{
    (void)be;
    KCPU_CHECK(nkv > 0 && nh % nkv == 0, "attention: nh must be a multiple of nkv");
    int width = (nh + 2 * nkv) * hd, group = nh / nkv, ow = nh * hd;
    float scale = 1.0f / sqrtf((float)hd);
    const float *x = qkv;
    float *o = out;
    #pragma omp parallel if((size_t)B * nh * T * T * hd / 2 >= KCPU_PAR_MIN)
    {
        float *s = malloc((size_t)T * sizeof(float) + 1);
        KCPU_CHECK(s != NULL, "attention: out of memory");
        #pragma omp for schedule(static)
        for (int i = 0; i < B * nh * T; i++) {
            int bh = i / T, t = i % T, b = bh / nh, h = bh % nh, g = h / group;
            const float *q = x + (size_t)(b * T + t) * width + (size_t)h * hd;
            float mx = -INFINITY;
            for (int j = 0; j <= t; j++) {
                const float *k = x + (size_t)(b * T + j) * width + (size_t)(nh + g) * hd;
                s[j] = dotf(q, k, hd) * scale;
                if (s[j] > mx) mx = s[j];
            }
            double sum = 0.0;
            for (int j = 0; j <= t; j++) {
                s[j] = expf(s[j] - mx);
                sum += s[j];
            }
            float inv = (float)(1.0 / sum);
            float *orow = o + (size_t)(b * T + t) * ow + (size_t)h * hd;
            for (int c = 0; c < hd; c++) orow[c] = 0.0f;
            for (int j = 0; j <= t; j++) {
                const float *v = x + (size_t)(b * T + j) * width + (size_t)(nh + nkv + g) * hd;
                float p = s[j] * inv;
                for (int c = 0; c < hd; c++) orow[c] += p * v[c];
            }
            lse[i] = mx + (float)log(sum);
        }
        free(s);
    }
}

void kcpu_attention_bwd(kb_backend *be, void *dqkv, const void *dout, const void *qkv,
                        const void *out, const float *lse, int B, int T, int nh, int nkv, int hd)
{
    (void)be;
    KCPU_CHECK(nkv > 0 && nh % nkv == 0, "attention: nh must be a multiple of nkv");
    int width = (nh + 2 * nkv) * hd, group = nh / nkv, ow = nh * hd;
    float scale = 1.0f / sqrtf((float)hd);
    const float *x = qkv, *go = dout, *o = out;
    float *dx = dqkv;
    float *D = malloc((size_t)B * nh * T * sizeof(float) + 1);
    KCPU_CHECK(D != NULL, "attention: out of memory");

    /* D[b][h][t] = dout_t . out_t */
    #pragma omp parallel for schedule(static) if((size_t)B * nh * T * hd >= KCPU_PAR_MIN)
    for (int i = 0; i < B * nh * T; i++) {
        int bh = i / T, t = i % T, b = bh / nh, h = bh % nh;
        size_t off = (size_t)(b * T + t) * ow + (size_t)h * hd;
        D[i] = dotf(go + off, o + off, hd);
    }

    /* Query pass: dq_t += scale * sum_{j<=t} ds_tj k_j. */
    #pragma omp parallel for schedule(static) if((size_t)B * nh * T * T * hd / 2 >= KCPU_PAR_MIN)
    for (int i = 0; i < B * nh * T; i++) {
        int bh = i / T, t = i % T, b = bh / nh, h = bh % nh, g = h / group;
        size_t qoff = (size_t)(b * T + t) * width + (size_t)h * hd;
        const float *q = x + qoff;
        const float *gr = go + (size_t)(b * T + t) * ow + (size_t)h * hd;
        float *dq = dx + qoff;
        float l = lse[i], Dt = D[i];
        for (int j = 0; j <= t; j++) {
            const float *k = x + (size_t)(b * T + j) * width + (size_t)(nh + g) * hd;
            const float *v = x + (size_t)(b * T + j) * width + (size_t)(nh + nkv + g) * hd;
            float p = expf(dotf(q, k, hd) * scale - l);
            float ds = p * (dotf(gr, v, hd) - Dt) * scale;
            for (int c = 0; c < hd; c++) dq[c] += ds * k[c];
        }
    }

    /* Key pass: dk_j, dv_j, summing the group's query heads and positions t >= j. */
    #pragma omp parallel for schedule(static) if((size_t)B * nh * T * T * hd / 2 >= KCPU_PAR_MIN)
    for (int i = 0; i < B * nkv * T; i++) {
        int bg = i / T, j = i % T, b = bg / nkv, g = bg % nkv;
        size_t krow = (size_t)(b * T + j) * width;
        const float *k = x + krow + (size_t)(nh + g) * hd;
        const float *v = x + krow + (size_t)(nh + nkv + g) * hd;
        float *dk = dx + krow + (size_t)(nh + g) * hd;
        float *dv = dx + krow + (size_t)(nh + nkv + g) * hd;
        for (int h = g * group; h < (g + 1) * group; h++) {
            for (int t = j; t < T; t++) {
                size_t li = ((size_t)b * nh + h) * T + t;
                const float *q = x + (size_t)(b * T + t) * width + (size_t)h * hd;
                const float *gr = go + (size_t)(b * T + t) * ow + (size_t)h * hd;
                float p = expf(dotf(q, k, hd) * scale - lse[li]);
                float ds = p * (dotf(gr, v, hd) - D[li]) * scale;
                for (int c = 0; c < hd; c++) {
                    dk[c] += ds * q[c];
                    dv[c] += p * gr[c];
                }
            }
        }
    }
    free(D);
}
