/* sim/live/live_merge.c: the outer step of one stage (see live_merge.h). */
#include "sim/live/live_merge.h"

#include "kernels/optim.h"

int live_merge(kb_backend *be, size_t n, float *G, float *mom, float *pg, const float *const *W,
               int n_sub, float *const *recv, int n_recv, const int *part_ok, int n_parts,
               live_outer_kind kind, double lr, double mu) {
    if (n_sub < 1) return 0;
    int merged = 0;
    for (int j = 0; j < n_parts; j++) {
        if (!part_ok[j]) continue;
        ko_range r = ko_partition(n, n_parts, j);
        size_t len = r.end - r.begin;
        if (len == 0) {
            merged++;
            continue;
        }
        float *p = pg + r.begin;
        be->zero(be, p, len * sizeof *p);
        for (int i = 0; i < n_sub; i++) be->add(be, p, p, W[i] + r.begin, len);
        be->scale(be, p, KB_F32, len, (float)(-1.0 / n_sub));
        be->add(be, p, p, G + r.begin, len); /* pg = G - mean W */
        switch (kind) {
        case LIVE_OUTER_NESTEROV:
            be->nesterov_step(be, G + r.begin, mom + r.begin, p, len, (float)lr, (float)mu);
            break;
        case LIVE_OUTER_SGD:
            be->scale(be, p, KB_F32, len, (float)-lr);
            be->add(be, G + r.begin, G + r.begin, p, len);
            break;
        case LIVE_OUTER_AVERAGE:
            be->scale(be, p, KB_F32, len, -1.0f);
            be->add(be, G + r.begin, G + r.begin, p, len);
            break;
        }
        for (int k = 0; k < n_recv; k++)
            be->copy(be, recv[k] + r.begin, G + r.begin, len * sizeof(float));
        merged++;
    }
    return merged;
}

double live_outer_momentum(double mu, double start, int warmup, int merge) {
    if (warmup <= 0 || merge >= warmup) return mu;
    return start + (mu - start) * (double)merge / (double)warmup;
}
