/* sim/live/live_merge.h: the DiLoCo outer step of one stage, on flat fp32 parameter vectors.
 *
 * For every partition j (ko_partition of the stage's flat vector into n_parts) with
 * part_ok[j] != 0 and at least one submitter:
 *     pg     = G - mean_i W_i                 (mean of the submitters' pseudo-gradients
 *                                              G - W_i, in fp32)
 *     G, mom <- outer step (kind, lr, mu) on pg:
 *         nesterov  mom = mu·mom + pg ; G -= lr·(pg + mu·mom)   (PyTorch SGD, nesterov)
 *         sgd       G -= lr·pg                                 (mom untouched)
 *         average   G -= pg, i.e. G = mean_i W_i               (mom untouched)
 *     every receiver's W[range] = G[range]
 * Partitions not merged keep G and every receiver's local values. All buffers are
 * memory of the one backend `be` (fp32); `pg` is scratch of the vector's length.
 * Returns the number of partitions merged.
 */
#ifndef SIM_LIVE_MERGE_H
#define SIM_LIVE_MERGE_H

#include <stddef.h>

#include "kernels/backend.h"

typedef enum { LIVE_OUTER_NESTEROV = 0, LIVE_OUTER_SGD, LIVE_OUTER_AVERAGE } live_outer_kind;

int live_merge(kb_backend *be, size_t n, float *G, float *mom, float *pg, const float *const *W,
               int n_sub, float *const *recv, int n_recv, const int *part_ok, int n_parts,
               live_outer_kind kind, double lr, double mu);

/* IOTA's momentum warm-up: start + (mu - start)·merge/warmup for merge < warmup. */
double live_outer_momentum(double mu, double start, int warmup, int merge);

#endif
