/* sim/fit/fit_search.c: the fit's search strategy: a Latin-hypercube design, then a
 * compass search from one or several of its best points (see fit.h); it knows nothing of
 * scenarios or runs: points are evaluated through a callback. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"
#include "sim/fit/fit.h"

/* Design points by chi2 (NaN and inf last), ties by index: deterministic. */
typedef struct {
    double chi2;
    size_t i;
} by_chi2;

static int cmp_chi2(const void *a, const void *b) {
    const by_chi2 *x = a, *y = b;
    int xf = isfinite(x->chi2) ? 0 : 1, yf = isfinite(y->chi2) ? 0 : 1;
    if (xf != yf) return xf - yf;
    if (!xf && x->chi2 != y->chi2) return x->chi2 < y->chi2 ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* The starts of the refinement: the best design point, then the next best ones that lie
 * at least `sep` (max-norm, unit cube) from every start taken. Returns how many. */
static size_t pick_starts(const double *x, const double *f, size_t n0, size_t d, size_t want,
                          double sep, double *starts, double *fs) {
    by_chi2 *ord = xcalloc(n0, sizeof *ord);
    size_t ns = 0;
    for (size_t i = 0; i < n0; i++) ord[i] = (by_chi2){f[i], i};
    qsort(ord, n0, sizeof *ord, cmp_chi2);
    for (size_t i = 0; i < n0 && ns < want; i++) {
        const double *p = x + ord[i].i * d;
        if (!isfinite(ord[i].chi2)) break;
        int near = 0;
        for (size_t s = 0; s < ns && !near; s++) {
            double m = 0;
            for (size_t k = 0; k < d; k++) m = fmax(m, fabs(p[k] - starts[s * d + k]));
            near = m < sep;
        }
        if (near) continue;
        memcpy(starts + ns * d, p, d * sizeof *p);
        fs[ns++] = ord[i].chi2;
    }
    free(ord);
    return ns;
}

int fit_search(const fit_opts *o, size_t d, fit_eval_fn eval, void *ctx, fit_stats *st, char *err,
               size_t errlen) {
    size_t n0 = o->design > 0 ? (size_t)o->design : (10 * d < 8 ? 8 : 10 * d);
    size_t want = o->starts > 0 ? (size_t)o->starts : 1;
    size_t budget = o->max_evals > 0 ? (size_t)o->max_evals : n0 + 20 * d * want;
    double *x = xcalloc(n0 * d, sizeof *x);
    double *f = xcalloc(n0, sizeof *f);
    fit_design_lhs(n0, d, o->seed, x);
    int rc = eval(ctx, "design", 0, x, n0, f, err, errlen);
    size_t used = n0;
    /* the design's cell size: the first step, and how far apart two starts must be */
    double h0 = 0.5 / pow((double)n0, 1.0 / (double)d);
    double *cen = xcalloc(want * d, sizeof *cen), *fc = xcalloc(want, sizeof *fc),
           *h = xcalloc(want, sizeof *h);
    size_t ns = rc ? 0 : pick_starts(x, f, n0, d, want, 2 * h0, cen, fc);
    for (size_t s = 0; s < ns; s++) h[s] = h0;
    double *y = xcalloc(2 * d * d * want, sizeof *y);
    double *fy = xcalloc(2 * d * want, sizeof *fy);
    size_t *owner = xcalloc(2 * d * want, sizeof *owner);
    int iter = 0;
    /* every start still moving polls its 2 x keys neighbours; the polls of all starts are
     * one batch (so -j workers stay busy); each start then moves or halves its step */
    while (!rc && used < budget) {
        size_t m = 0;
        for (size_t s = 0; s < ns; s++) {
            if (!isfinite(fc[s]) || h[s] < 1.0 / 256) continue;
            for (size_t k = 0; k < d; k++)
                for (int sg = -1; sg <= 1; sg += 2) {
                    double v = cen[s * d + k] + sg * h[s];
                    v = v < 0 ? 0 : v > 1 ? 1 : v;
                    if (v == cen[s * d + k]) continue;
                    memcpy(y + m * d, cen + s * d, d * sizeof *cen);
                    y[m * d + k] = v;
                    owner[m++] = s;
                }
        }
        if (used + m > budget) m = budget - used;
        if (!m) break;
        rc = eval(ctx, "refine", ++iter, y, m, fy, err, errlen);
        used += m;
        for (size_t s = 0; s < ns && !rc; s++) {
            size_t bi = m;
            int polled = 0;
            for (size_t i = 0; i < m; i++)
                if (owner[i] == s) {
                    polled = 1;
                    if (bi == m || fy[i] < fy[bi]) bi = i;
                }
            if (!polled) continue;
            if (fy[bi] < fc[s] - 1e-12 * (1 + fc[s])) {
                fc[s] = fy[bi];
                memcpy(cen + s * d, y + bi * d, d * sizeof *cen);
            } else {
                h[s] /= 2;
            }
        }
    }
    double best = INFINITY;
    for (size_t i = 0; i < n0; i++) best = fmin(best, f[i]);
    for (size_t s = 0; s < ns; s++) best = fmin(best, fc[s]);
    free(x);
    free(f);
    free(cen);
    free(fc);
    free(h);
    free(y);
    free(fy);
    free(owner);
    if (rc) return rc;
    st->best_chi2 = best;
    st->starts = ns;
    return 0;
}
