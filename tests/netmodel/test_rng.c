/* tests/netmodel/test_rng.c: netmodel/rng — reference outputs, streams, distribution checks. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "netmodel/rng.h"
#include "tests/check_main.h"

/* ---- an independent, textbook re-derivation of the generator ---------------------- */

static uint64_t ref_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t ref_splitmix(uint64_t *x) { return ref_mix(*x += 0x9E3779B97F4A7C15ULL); }

static uint64_t ref_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t ref_xoshiro(uint64_t s[4]) {
    uint64_t r = ref_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 45);
    return r;
}

/* The documented seeding: h = mix(seed ^ gamma); h = mix(h + mix(stream ^ salt));
 * the state is four splitmix64 outputs from h. */
static void ref_init(uint64_t s[4], uint64_t seed, uint64_t stream) {
    uint64_t h = ref_mix(seed ^ 0x9E3779B97F4A7C15ULL);
    h = ref_mix(h + ref_mix(stream ^ 0xD1B54A32D192ED03ULL));
    for (int i = 0; i < 4; i++) s[i] = ref_splitmix(&h);
}

/* ---- reference outputs ------------------------------------------------------------- */

START_TEST(splitmix_published_vector) {
    /* splitmix64 from state 0: the published first outputs. */
    uint64_t x = 0;
    ck_assert_uint_eq(nm_splitmix64_next(&x), 0xE220A8397B1DCDAFULL);
    ck_assert_uint_eq(nm_splitmix64_next(&x), 0x6E789E6AA1B965F4ULL);
    ck_assert_uint_eq(nm_splitmix64_next(&x), 0x06C45D188009454FULL);
    ck_assert_uint_eq(nm_splitmix64_next(&x), 0xF88BB8A8724C81ECULL);
}
END_TEST

START_TEST(xoshiro_known_state_vector) {
    /* xoshiro256** from state {1,2,3,4} (values from a separate Python implementation). */
    static const uint64_t want[6] = {0x2d00ULL,
                                     0x0ULL,
                                     0x5a007080ULL,
                                     0x10e0000000009d80ULL,
                                     0x10e0b61ce1009d80ULL,
                                     0x0870021ce143ad00ULL};
    const uint64_t s[4] = {1, 2, 3, 4};
    nm_rng r;
    ck_assert_int_eq(nm_rng_set_state(&r, s), 0);
    for (int i = 0; i < 6; i++) ck_assert_uint_eq(nm_rng_next(&r), want[i]);
}
END_TEST

START_TEST(seeded_outputs_match_reference) {
    /* seed 42, stream 7: first outputs from a separate Python implementation. */
    static const uint64_t want[5] = {0x94698cb3d14f5695ULL, 0x5ea4eccc0e1670e5ULL,
                                     0xb2d24f8a6e28db4aULL, 0xc39f1463f91f4356ULL,
                                     0xa76221375bd6bc4aULL};
    nm_rng r;
    nm_rng_init(&r, 42, 7);
    for (int i = 0; i < 5; i++) ck_assert_uint_eq(nm_rng_next(&r), want[i]);
    nm_rng_init(&r, 42, 7);
    ck_assert_double_eq_tol(nm_rng_uniform(&r), 0.5797355593688824, 1e-16);
    ck_assert_double_eq_tol(nm_rng_uniform(&r), 0.36970405561268094, 1e-16);

    /* And the C re-derivation over a grid of seeds and streams. */
    const uint64_t seeds[] = {0, 1, 42, 0xFFFFFFFFFFFFFFFFULL};
    const uint64_t streams[] = {0, 1, nm_rng_stream_id(3, 17), 0x8000000000000000ULL};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            uint64_t s[4];
            ref_init(s, seeds[a], streams[b]);
            nm_rng_init(&r, seeds[a], streams[b]);
            for (int i = 0; i < 100; i++) ck_assert_uint_eq(nm_rng_next(&r), ref_xoshiro(s));
        }
}
END_TEST

START_TEST(stream_id_layout) {
    ck_assert_uint_eq(nm_rng_stream_id(3, 17), (3ULL << 32) | 17ULL);
    ck_assert_uint_eq(nm_rng_stream_id(0xFFFFFFFFu, 0), 0xFFFFFFFF00000000ULL);
}
END_TEST

START_TEST(same_pair_same_sequence_and_streams_differ) {
    nm_rng a, b;
    nm_rng_init(&a, 1234, 5);
    nm_rng_init(&b, 1234, 5);
    for (int i = 0; i < 1000; i++) ck_assert_uint_eq(nm_rng_next(&a), nm_rng_next(&b));

    /* 64 streams and 2 seeds: first 16 outputs of each pair, no value shared anywhere
     * (a collision among 2048 random 64-bit words has probability ~1e-13). */
    enum { NS = 64, NO = 16 };
    uint64_t *v = malloc(sizeof(uint64_t) * 2 * NS * NO);
    ck_assert_ptr_nonnull(v);
    size_t k = 0;
    for (uint64_t seed = 1234; seed <= 1235; seed++)
        for (uint64_t st = 0; st < NS; st++) {
            nm_rng_init(&a, seed, st);
            for (int i = 0; i < NO; i++) v[k++] = nm_rng_next(&a);
        }
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++) ck_assert_uint_ne(v[i], v[j]);
    free(v);

    /* Adjacent streams are uncorrelated: sample correlation of uniforms near 0. */
    nm_rng_init(&a, 99, nm_rng_stream_id(1, 1));
    nm_rng_init(&b, 99, nm_rng_stream_id(1, 2));
    const int n = 100000;
    double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        double x = nm_rng_uniform(&a), y = nm_rng_uniform(&b);
        sx += x, sy += y, sxy += x * y, sxx += x * x, syy += y * y;
    }
    double cov = sxy / n - (sx / n) * (sy / n);
    double corr = cov / sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
    ck_assert_double_lt(fabs(corr), 5.0 / sqrt(n)); /* 5 standard errors */
}
END_TEST

START_TEST(set_state_rejects_zero) {
    nm_rng r;
    nm_rng_init(&r, 1, 1);
    uint64_t before = r.s[0];
    const uint64_t z[4] = {0, 0, 0, 0};
    ck_assert_int_eq(nm_rng_set_state(&r, z), -1);
    ck_assert_uint_eq(r.s[0], before);
}
END_TEST

/* ---- distributions ------------------------------------------------------------------ */

START_TEST(uniform_range_bits_and_moments) {
    nm_rng r;
    nm_rng_init(&r, 7, 0);
    const int n = 100000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) {
        double u = nm_rng_uniform(&r);
        ck_assert(u >= 0.0 && u < 1.0);
        double scaled = u * 0x1.0p53; /* exactly an integer: 53 bits */
        ck_assert_double_eq(scaled, floor(scaled));
        sum += u;
        sum2 += u * u;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    ck_assert_double_eq_tol(mean, 0.5, 5 * sqrt(1.0 / 12 / n));
    /* sd of the sample variance: sqrt((mu4 - sigma^4) / n) = sqrt(1 / (180 n)) */
    ck_assert_double_eq_tol(var, 1.0 / 12, 5 * sqrt(1.0 / 180 / n));
}
END_TEST

/* Pearson chi-square statistic of counts against equal expectations. */
static double chi_square_equal(const long *counts, int bins, long n) {
    double e = (double)n / bins, x2 = 0;
    for (int i = 0; i < bins; i++) x2 += (counts[i] - e) * (counts[i] - e) / e;
    return x2;
}

START_TEST(below_is_unbiased_chi_square) {
    nm_rng r;
    nm_rng_init(&r, 2024, 3);
    long counts[10] = {0};
    const long n = 100000;
    for (long i = 0; i < n; i++) {
        uint64_t v = nm_rng_below(&r, 10);
        ck_assert_uint_lt(v, 10);
        counts[v]++;
    }
    ck_assert_double_lt(chi_square_equal(counts, 10, n), 27.877); /* 9 dof, p = 0.001 */

    /* n = 3 * 2^62: plain x % n would put half the mass in [0, 2^62) (bins 1/2, 1/4,
     * 1/4, chi-square ~ 12500 here); rejection makes the three bins equal. */
    const uint64_t big = 3ULL << 62;
    long b3[3] = {0};
    for (long i = 0; i < n; i++) {
        uint64_t v = nm_rng_below(&r, big);
        ck_assert_uint_lt(v, big);
        b3[v >> 62]++;
    }
    ck_assert_double_lt(chi_square_equal(b3, 3, n), 13.816); /* 2 dof, p = 0.001 */

    for (int i = 0; i < 100; i++) ck_assert_uint_eq(nm_rng_below(&r, 1), 0);
}
END_TEST

START_TEST(exponential_mean_and_variance) {
    nm_rng r;
    nm_rng_init(&r, 5, 5);
    const int n = 100000;
    const double mean = 2.5;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double x = nm_rng_exponential(&r, mean);
        ck_assert(x >= 0 && isfinite(x));
        s += x;
        s2 += x * x;
    }
    double m = s / n, v = s2 / n - m * m;
    /* sd of the sample mean: mean/sqrt(n); of the sample variance: mean^2 sqrt(8/n). */
    ck_assert_double_eq_tol(m, mean, 5 * mean / sqrt(n));
    ck_assert_double_eq_tol(v, mean * mean, 5 * mean * mean * sqrt(8.0 / n));
}
END_TEST

START_TEST(normal_and_lognormal_moments) {
    nm_rng r;
    nm_rng_init(&r, 11, 0);
    const int n = 100000;
    double s = 0, s2 = 0;
    int within = 0;
    for (int i = 0; i < n; i++) {
        double x = nm_rng_normal(&r, 3.0, 2.0);
        s += x;
        s2 += x * x;
        within += fabs(x - 3.0) < 2.0;
    }
    double m = s / n, v = s2 / n - m * m;
    ck_assert_double_eq_tol(m, 3.0, 5 * 2.0 / sqrt(n));
    ck_assert_double_eq_tol(v, 4.0, 5 * 4.0 * sqrt(2.0 / n));
    double p1 = 0.6826894921370859; /* P(|Z| < 1) */
    ck_assert_double_eq_tol((double)within / n, p1, 5 * sqrt(p1 * (1 - p1) / n));

    double sl = 0, sx = 0;
    for (int i = 0; i < n; i++) {
        double x = nm_rng_lognormal(&r, -1.0, 0.5);
        ck_assert(x > 0);
        sl += log(x);
        sx += x;
    }
    ck_assert_double_eq_tol(sl / n, -1.0, 5 * 0.5 / sqrt(n));
    double ex = exp(-1.0 + 0.125);           /* E[X] = exp(mu + sigma^2/2) */
    double sdx = ex * sqrt(exp(0.25) - 1.0); /* sd of X */
    ck_assert_double_eq_tol(sx / n, ex, 5 * sdx / sqrt(n));
}
END_TEST

START_TEST(choose_follows_weights) {
    nm_rng r;
    nm_rng_init(&r, 77, 1);
    const double w[4] = {1.0, 0.0, 3.0, 6.0};
    long c[4] = {0};
    const long n = 100000;
    for (long i = 0; i < n; i++) {
        long k = nm_rng_choose(&r, w, 4);
        ck_assert(k >= 0 && k < 4);
        c[k]++;
    }
    ck_assert_int_eq(c[1], 0);
    double x2 = 0;
    for (int i = 0; i < 4; i++) {
        if (w[i] == 0) continue;
        double e = n * w[i] / 10.0;
        x2 += (c[i] - e) * (c[i] - e) / e;
    }
    ck_assert_double_lt(x2, 13.816); /* 2 dof, p = 0.001 */
}
END_TEST

START_TEST(choose_rejects_bad_weights) {
    nm_rng r, r0;
    nm_rng_init(&r, 1, 2);
    r0 = r;
    const double zero[3] = {0, 0, 0}, neg[2] = {1, -1}, nan_w[2] = {1, NAN},
                 inf_w[2] = {1, INFINITY};
    ck_assert_int_eq(nm_rng_choose(&r, zero, 3), -1);
    ck_assert_int_eq(nm_rng_choose(&r, neg, 2), -1);
    ck_assert_int_eq(nm_rng_choose(&r, nan_w, 2), -1);
    ck_assert_int_eq(nm_rng_choose(&r, inf_w, 2), -1);
    ck_assert_int_eq(nm_rng_choose(&r, zero, 0), -1);
    /* Nothing was drawn. */
    ck_assert_uint_eq(nm_rng_next(&r), nm_rng_next(&r0));
    const double one[3] = {0, 5, 0};
    for (int i = 0; i < 50; i++) ck_assert_int_eq(nm_rng_choose(&r, one, 3), 1);
}
END_TEST

static Suite *rng_suite(void) {
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, splitmix_published_vector);
    tcase_add_test(tc, xoshiro_known_state_vector);
    tcase_add_test(tc, seeded_outputs_match_reference);
    tcase_add_test(tc, stream_id_layout);
    tcase_add_test(tc, same_pair_same_sequence_and_streams_differ);
    tcase_add_test(tc, set_state_rejects_zero);
    tcase_add_test(tc, uniform_range_bits_and_moments);
    tcase_add_test(tc, below_is_unbiased_chi_square);
    tcase_add_test(tc, exponential_mean_and_variance);
    tcase_add_test(tc, normal_and_lognormal_moments);
    tcase_add_test(tc, choose_follows_weights);
    tcase_add_test(tc, choose_rejects_bad_weights);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = rng_suite)
