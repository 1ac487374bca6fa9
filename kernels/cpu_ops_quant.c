/* kernels/cpu_ops_quant.c: symmetric per-row int8 quantisation on the CPU.
 *
 *   scale_r = max_j |x_rj| / 127,   q_rj = round(x_rj / scale_r) in [-127, 127]
 *   dequant: x_rj = q_rj * scale_r
 * Rounding is half away from zero (roundf). A row of zeros gets scale 0 and q = 0.
 */
#include <math.h>

#include "kernels/cpu_ops.h"

void kcpu_quant_int8(kb_backend *be, int8_t *q, float *scale, const void *x, int N, int d) {
    (void)be;
    const float *xs = x;
#pragma omp parallel for schedule(static) if ((size_t)N * d >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *xr = xs + (size_t)r * d;
        int8_t *qr = q + (size_t)r * d;
        float amax = 0.0f;
        for (int j = 0; j < d; j++) amax = fmaxf(amax, fabsf(xr[j]));
        float s = amax / 127.0f;
        scale[r] = s;
        for (int j = 0; j < d; j++) {
            float v = s > 0.0f ? roundf(xr[j] / s) : 0.0f;
            if (v > 127.0f) v = 127.0f;
            if (v < -127.0f) v = -127.0f;
            qr[j] = (int8_t)v;
        }
    }
}

void kcpu_dequant_int8(kb_backend *be, void *x, const int8_t *q, const float *scale, int N, int d) {
    (void)be;
    float *xs = x;
#pragma omp parallel for schedule(static) if ((size_t)N * d >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++)
        for (int j = 0; j < d; j++) xs[(size_t)r * d + j] = (float)q[(size_t)r * d + j] * scale[r];
}
