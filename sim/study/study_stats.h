/* sim/study/study_stats.h: the statistics of a seed study: mean, standard deviation and
 * Student-t confidence intervals of small samples.
 *
 * For n independent samples x_1..x_n (one per seed) with mean m and sample standard
 * deviation s (divisor n - 1), the two-sided confidence interval at level c is
 *   m ± t_{(1+c)/2, n-1} · s / sqrt(n),
 * t_{p,ν} the p-quantile of Student's t with ν degrees of freedom. A paired difference
 * (a compressed run minus its uncompressed baseline of the same seed) is one such sample;
 * it is significant at level c when its interval excludes 0 (the paired t-test).
 *
 * The t distribution function comes from the regularised incomplete beta function
 * (continued fraction, Lentz's method): P(T <= t) = 1 - I_{ν/(ν+t²)}(ν/2, 1/2) / 2 for
 * t >= 0; the quantile is found by bisection to 1e-12. Known values: t_{0.975,1} =
 * 12.7062, t_{0.975,4} = 2.7764, t_{0.975,∞} -> 1.95996.
 */
#ifndef SIM_STUDY_STATS_H
#define SIM_STUDY_STATS_H

#include <stddef.h>

typedef struct {
    size_t n;        /* samples (NaN samples are left out) */
    double mean;     /* NaN when n = 0 */
    double sd;       /* sample standard deviation (n - 1); NaN when n < 2 */
    double ci;       /* half-width of the confidence interval; NaN when n < 2 */
    double lo, hi;   /* mean -+ ci */
    int significant; /* 1 when the interval excludes 0, 0 when it holds 0, -1 when n < 2 */
} study_desc;

/* Regularised incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1. */
double study_incbeta(double a, double b, double x);
/* P(T <= t) for Student's t with df > 0 degrees of freedom. */
double study_t_cdf(double t, double df);
/* The p-quantile of Student's t (0 < p < 1, df > 0). */
double study_t_quantile(double p, double df);
/* Describe x[0..n) (NaN entries skipped) with a two-sided interval at `level` (0.95). */
void study_describe(const double *x, size_t n, double level, study_desc *d);

#endif
