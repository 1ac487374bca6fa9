/* tests/kernels/gradcheck.h: small helpers shared by the gradient tests (static, header only).
 *
 * The gradient check: a scalar objective f (usually sum(out * R) with a fixed random R,
 * accumulated in double) is evaluated at p_i + h and p_i - h; the central difference
 * (f+ - f-) / 2h is compared with the analytic gradient as
 *     |fd - an| <= atol + rtol * max(|fd|, |an|).
 * The ops under test run in fp32, so h is large (1e-2 typically): the truncation error
 * is O(h^2 f''') and the fp32 rounding of f contributes O(1e-7 |f| / h).
 */
#ifndef TESTS_GRADCHECK_H
#define TESTS_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/prng.h"

typedef double (*gc_objective)(void *ctx);

static inline void *gc_calloc(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "%s:%d: out of memory\n", file, line);
        exit(1);
    }
    return p;
}
#define GC_CALLOC(n, size) gc_calloc((n), (size), __FILE__, __LINE__)

static inline void gc_fill_normal(float *x, size_t n, uint64_t seed, double mean, double std) {
    kprng r;
    kprng_init(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = (float)(mean + std * kprng_normal(&r));
}

static inline double gc_dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Checks the analytic gradient an[] of f with respect to p[] at up to max_checks
 * evenly spaced indices (all of them when n <= max_checks). Prints the first few
 * mismatches prefixed by `what`; returns the number of mismatches. If rel_l2 is not
 * NULL it receives the aggregate error ||fd - an|| / ||an|| over the checked indices
 * (0 when the analytic gradient is zero there). */
static inline int gc_check_stats(const char *what, float *p, const float *an, size_t n,
                                 gc_objective f, void *ctx, float h, double atol, double rtol,
                                 size_t max_checks, double *rel_l2) {
    int bad = 0;
    double err2 = 0.0, an2 = 0.0;
    size_t stride = n > max_checks ? (n + max_checks - 1) / max_checks : 1;
    for (size_t i = 0; i < n; i += stride) {
        float orig = p[i];
        p[i] = orig + h;
        double fp = f(ctx);
        p[i] = orig - h;
        double fm = f(ctx);
        p[i] = orig;
        double fd = (fp - fm) / (2.0 * (double)h);
        double tol = atol + rtol * fmax(fabs(fd), fabs((double)an[i]));
        err2 += (fd - an[i]) * (fd - an[i]);
        an2 += (double)an[i] * an[i];
        if (!(fabs(fd - an[i]) <= tol)) {
            if (bad < 5)
                fprintf(stderr, "%s[%zu]: finite difference %.6g, analytic %.6g\n", what, i, fd,
                        (double)an[i]);
            bad++;
        }
    }
    if (rel_l2) *rel_l2 = an2 > 0.0 ? sqrt(err2 / an2) : 0.0;
    return bad;
}

static inline int gc_check(const char *what, float *p, const float *an, size_t n, gc_objective f,
                           void *ctx, float h, double atol, double rtol, size_t max_checks) {
    return gc_check_stats(what, p, an, n, f, ctx, h, atol, rtol, max_checks, NULL);
}

#endif
