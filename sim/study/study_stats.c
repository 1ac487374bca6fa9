/* sim/study/study_stats.c: mean, sd and Student-t intervals (study_stats.h). */
#include "sim/study/study_stats.h"

#include <math.h>

/* The continued fraction of I_x(a, b) (modified Lentz), valid for x < (a+1)/(a+b+2). */
static double betacf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-15;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 1000; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps) break;
    }
    return h;
}

double study_incbeta(double a, double b, double x) {
    if (!(a > 0) || !(b > 0) || isnan(x)) return NAN;
    if (x <= 0) return 0.0;
    if (x >= 1) return 1.0;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    double bt = exp(lbt);
    if (x < (a + 1.0) / (a + b + 2.0)) return bt * betacf(a, b, x) / a;
    return 1.0 - bt * betacf(b, a, 1.0 - x) / b;
}

double study_t_cdf(double t, double df) {
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return t > 0 ? 1.0 : 0.0;
    double tail = 0.5 * study_incbeta(0.5 * df, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t >= 0 ? 1.0 - tail : tail;
}

double study_t_quantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0)) return NAN;
    if (p == 0.5) return 0.0;
    if (p < 0.5) return -study_t_quantile(1.0 - p, df);
    double lo = 0.0, hi = 1.0;
    while (study_t_cdf(hi, df) < p && hi < 1e300) hi *= 2.0;
    for (int i = 0; i < 400 && hi - lo > 1e-12 * (1.0 + hi); i++) {
        double mid = 0.5 * (lo + hi);
        if (study_t_cdf(mid, df) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

void study_describe(const double *x, size_t n, double level, study_desc *d) {
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) {
            sum += x[i];
            k++;
        }
    d->n = k;
    d->mean = k ? sum / (double)k : NAN;
    d->sd = d->ci = d->lo = d->hi = NAN;
    d->significant = -1;
    if (k < 2) {
        if (k == 1) d->lo = d->hi = d->mean;
        return;
    }
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) ss += (x[i] - d->mean) * (x[i] - d->mean);
    d->sd = sqrt(ss / (double)(k - 1));
    d->ci = study_t_quantile(0.5 * (1.0 + level), (double)(k - 1)) * d->sd / sqrt((double)k);
    d->lo = d->mean - d->ci;
    d->hi = d->mean + d->ci;
    d->significant = d->lo > 0 || d->hi < 0;
}
