/* kernels/cpu_ops_norm.c: RMSNorm forward and backward on the CPU.
 *
 *   rstd   = 1 / sqrt(mean_j x_j^2 + eps)
 *   out_j  = x_j * rstd * w_j
 * Backward, with g_j = dout_j * w_j:
 *   dx_j  += rstd * (g_j - x_j * rstd^2 * mean_i(g_i * x_i))
 *   dw_j  += sum over rows of dout_j * x_j * rstd
 * Row statistics are accumulated in double.
 */
#include <math.h>

#include "kernels/cpu_ops.h"

void kcpu_rmsnorm_fwd(kb_backend *be, void *out, float *rstd, const void *x, const void *w, int N,
                      int d, float eps) {
    (void)be;
    float *o = out;
    const float *xs = x, *ws = w;
#pragma omp parallel for schedule(static) if ((size_t)N * d >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *xr = xs + (size_t)r * d;
        float *orow = o + (size_t)r * d;
        double ss = 0.0;
        for (int j = 0; j < d; j++) ss += (double)xr[j] * xr[j];
        float rs = (float)(1.0 / sqrt(ss / d + (double)eps));
        rstd[r] = rs;
        for (int j = 0; j < d; j++) orow[j] = xr[j] * rs * ws[j];
    }
}

void kcpu_rmsnorm_bwd(kb_backend *be, void *dx, float *dw, const void *dout, const void *x,
                      const void *w, const float *rstd, int N, int d) {
    (void)be;
    float *dxs = dx;
    const float *go = dout, *xs = x, *ws = w;
#pragma omp parallel for schedule(static) if ((size_t)N * d >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *xr = xs + (size_t)r * d, *gr = go + (size_t)r * d;
        float *dxr = dxs + (size_t)r * d;
        float rs = rstd[r];
        double dot = 0.0;
        for (int j = 0; j < d; j++) dot += (double)gr[j] * ws[j] * xr[j];
        float c = (float)(dot / d) * rs * rs;
        for (int j = 0; j < d; j++) dxr[j] += rs * (gr[j] * ws[j] - xr[j] * c);
    }
/* dw: one column per iteration, rows summed in order (deterministic). */
#pragma omp parallel for schedule(static) if ((size_t)N * d >= KCPU_PAR_MIN)
    for (int j = 0; j < d; j++) {
        double acc = 0.0;
        for (int r = 0; r < N; r++)
            acc += (double)go[(size_t)r * d + j] * xs[(size_t)r * d + j] * rstd[r];
        dw[j] += (float)acc;
    }
}
