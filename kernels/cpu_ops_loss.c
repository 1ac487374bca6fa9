/* kernels/cpu_ops_loss.c: fused softmax + cross-entropy on the CPU.
 *
 *   loss_r     = logsumexp(logits_r) - logits_r[target_r]
 *   dlogits_r  = dscale * (softmax(logits_r) - onehot(target_r))
 * The row's maximum and exponential sum are computed (sum in double) before anything
 * is written, so dlogits may alias logits.
 */
#include <math.h>

#include "kernels/cpu_ops.h"

void kcpu_crossentropy(kb_backend *be, float *losses, void *dlogits, const void *logits,
                       const int32_t *targets, int N, int V, float dscale) {
    (void)be;
    const float *z = logits;
    float *dz = dlogits;
#pragma omp parallel for schedule(static) if ((size_t)N * V >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *zr = z + (size_t)r * V;
        int tgt = targets[r];
        KCPU_CHECK(tgt >= 0 && tgt < V, "crossentropy: target out of range");
        float mx = -INFINITY;
        for (int j = 0; j < V; j++)
            if (zr[j] > mx) mx = zr[j];
        double sum = 0.0;
        for (int j = 0; j < V; j++) sum += exp((double)zr[j] - mx);
        double lse = mx + log(sum);
        losses[r] = (float)(lse - zr[tgt]);
        if (dz) {
            float *dr = dz + (size_t)r * V;
            for (int j = 0; j < V; j++) {
                float p = (float)exp((double)zr[j] - lse);
                dr[j] = dscale * (p - (j == tgt ? 1.0f : 0.0f));
            }
        }
    }
}
