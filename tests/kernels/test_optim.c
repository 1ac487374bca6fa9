/* tests/kernels/test_optim.c: inner AdamW/NAdam against PyTorch's documented algorithms,
 * IOTA's per-stage beta1, clipping, partitions and the Nesterov outer step. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu_optim.h"
#include "kernels/optim.h"
#include "tests/check_main.h"

#define NP 4
#define STEPS 6

/* Gradients per step (rows) and element (columns): mixed signs and scales, a zero, a
 * sign flip of a large entry. */
static const double grads[STEPS][NP] = {
    {0.3, -1.7, 0.4, 2.5e-3}, {0.35, -1.2, 0.0, 3.0e-3}, {-0.1, -2.0, -0.1, 1.0e-3},
    {0.5, 1.5, 0.4, -4.0e-3}, {0.2, -0.3, -0.1, 2.0e-3}, {-0.6, 0.9, 0.25, 5.0e-4},
};

static const double p_init[NP] = {1.0, -0.5, 0.25, 2.0};

static void assert_rel(double got, double want, double tol, const char *what, int i, int t) {
    const double err = fabs(got - want) / fmax(fabs(want), 1e-30);
    ck_assert_msg(err <= tol, "%s[%d] after step %d: %.9g, want %.9g (rel %.2e)", what, i, t, got,
                  want, err);
}

/* PyTorch's AdamW, straight from its documented algorithm, in double. */
static void ref_adamw(double *p, double *m, double *v, const double *g, int t, double lr, double b1,
                      double b2, double eps, double wd) {
    for (int i = 0; i < NP; i++) {
        p[i] = p[i] - lr * wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const double mhat = m[i] / (1 - pow(b1, t));
        const double vhat = v[i] / (1 - pow(b2, t));
        p[i] = p[i] - lr * mhat / (sqrt(vhat) + eps);
    }
}

/* PyTorch's NAdam with decoupled weight decay, from its documented algorithm, in double.
 * prod holds prod_{i<t} mu_i on entry and prod_{i<=t} mu_i on return. */
static void ref_nadam(double *p, double *m, double *v, const double *g, int t, double *prod,
                      double lr, double b1, double b2, double eps, double wd, double psi) {
    const double mu = b1 * (1 - 0.5 * pow(0.96, t * psi));
    const double mu_next = b1 * (1 - 0.5 * pow(0.96, (t + 1) * psi));
    const double prod_t = *prod * mu, prod_next = prod_t * mu_next;
    for (int i = 0; i < NP; i++) {
        p[i] = p[i] - lr * wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const double mhat = mu_next * m[i] / (1 - prod_next) + (1 - mu) * g[i] / (1 - prod_t);
        const double vhat = v[i] / (1 - pow(b2, t));
        p[i] = p[i] - lr * mhat / (sqrt(vhat) + eps);
    }
    *prod = prod_t;
}

/* Runs STEPS steps of state st through kcpu_adam_step and the reference side by side.
 * kb_adam_coef carries b1 and b2 in fp32, and the host derives every scalar from those
 * (kernels/optim.h), so the reference is PyTorch given the fp32 betas (with b2 = 0.999,
 * 1 - fp32(b2) differs by 1.3e-5 relative from 1 - 0.999, more than the 1e-6 this test
 * demands). lr, eps and wd stay in double in the reference. */
static void compare_with_reference(ko_inner_state st) {
    float p[NP], m[NP] = {0}, v[NP] = {0}, g[NP];
    double rp[NP], rm[NP] = {0}, rv[NP] = {0}, rg[NP], prod = 1.0, mu_product = 1.0;
    const double b1 = (double)(float)st.beta1, b2 = (double)(float)st.beta2;
    for (int i = 0; i < NP; i++) p[i] = (float)(rp[i] = p_init[i]);
    for (int t = 1; t <= STEPS; t++) {
        for (int i = 0; i < NP; i++) {
            rg[i] = (double)(float)grads[t - 1][i]; /* both sides see the same fp32 gradient */
            g[i] = (float)rg[i];
        }
        kb_adam_coef c = ko_adam_next(&st);
        ck_assert_int_eq(st.step, t);
        kcpu_adam_step(NULL, p, g, m, v, NP, &c);
        if (st.kind == KO_NADAM)
            ref_nadam(rp, rm, rv, rg, t, &prod, st.lr, b1, b2, st.eps, st.weight_decay,
                      st.momentum_decay);
        else ref_adamw(rp, rm, rv, rg, t, st.lr, b1, b2, st.eps, st.weight_decay);
        for (int i = 0; i < NP; i++) {
            assert_rel(p[i], rp[i], 1e-6, "p", i, t);
            assert_rel(m[i], rm[i], 1e-6, "m", i, t);
            assert_rel(v[i], rv[i], 1e-6, "v", i, t);
        }
        /* the host keeps prod_{i<=t} mu_i in double */
        mu_product *= b1 * (1 - 0.5 * pow(0.96, t * st.momentum_decay));
        if (st.kind == KO_NADAM) assert_rel(st.mu_product, mu_product, 1e-15, "mu_product", 0, t);
    }
    /* the run moved the parameters far beyond the tolerance */
    ck_assert_double_gt(fabs(rp[0] - p_init[0]), 0.01);
}

START_TEST(adamw_matches_pytorch_algorithm) {
    ko_inner_state st = ko_inner_init(KO_ADAMW, 0.05, 0.9, 0.999, 0.1);
    ck_assert_int_eq(ko_inner_validate(&st, NULL, 0), 0);
    compare_with_reference(st);
}
END_TEST

START_TEST(nadam_matches_pytorch_algorithm) {
    ko_inner_state st = ko_inner_init(KO_NADAM, 0.05, 0.975, 0.95, 0.1);
    ck_assert_double_eq(st.momentum_decay, 0.004);
    ck_assert_double_eq(st.eps, 1e-8);
    compare_with_reference(st);
    /* heavier momentum decay, no weight decay */
    st = ko_inner_init(KO_NADAM, 0.02, 0.9, 0.999, 0.0);
    st.momentum_decay = 0.5;
    compare_with_reference(st);
}
END_TEST

START_TEST(adam_coefficients_first_step) {
    ko_inner_state st = ko_inner_init(KO_ADAMW, 1e-3, 0.9, 0.999, 0.1);
    kb_adam_coef c = ko_adam_coef(&st);
    ck_assert_int_eq(st.step, 0); /* ko_adam_coef does not advance */
    /* 1 / (1 - fp32(0.9)) = 9.99999762, 1 / (1 - fp32(0.999)) = 1000.01287 */
    ck_assert_float_eq_tol(c.c_m, 9.999997615814777f, 1e-5f);
    ck_assert_float_eq_tol(c.c_v, 1000.012874769029f, 1e-3f);
    ck_assert_float_eq(c.c_g, 0.0f);
    ck_assert_float_eq(c.lr, 1e-3f);
    ck_assert_float_eq(c.wd, 0.1f);
    ck_assert_float_eq(c.b1, 0.9f);
    ck_assert_float_eq(c.b2, 0.999f);
    ck_assert_float_eq(c.eps, 1e-8f);
    c = ko_adam_next(&st);
    c = ko_adam_coef(&st);
    ck_assert_int_eq(st.step, 1);
    ck_assert_double_eq(st.mu_product, 1.0); /* AdamW leaves it alone */
    /* t = 2: 1 / (1 - 0.9^2) = 5.263, 1 / (1 - 0.999^2) = 500.25 (fp32 betas) */
    ck_assert_float_eq_tol(c.c_m, (float)(1 / (1 - pow((double)0.9f, 2))), 1e-6f);
    ck_assert_float_eq_tol(c.c_v, (float)(1 / (1 - pow((double)0.999f, 2))), 1e-4f);

    /* NAdam with IOTA's stage-0 b1 = 0.984375 (exact in fp32), psi 0.004:
     * mu_1 = 0.984375·(1 - 0.5·0.96^0.004) = 0.49226786174048...,
     * mu_2 = 0.984375·(1 - 0.5·0.96^0.008) = 0.49234821035992...;
     * step 1: c_m = mu_2 / (1 - mu_1·mu_2) = 0.64985070715586..., c_g = 1. */
    st = ko_inner_init(KO_NADAM, 1e-3, 0.984375, 0.95, 0.1);
    const double mu1 = 0.49226786174048004, mu2 = 0.49234821035992543;
    ck_assert_double_eq_tol(ko_nadam_mu(&st, 1), mu1, 1e-15);
    ck_assert_double_eq_tol(ko_nadam_mu(&st, 2), mu2, 1e-15);
    c = ko_adam_next(&st);
    ck_assert_float_eq_tol(c.c_m, 0.6498507071558614f, 1e-7f);
    ck_assert_float_eq_tol(c.c_g, 1.0f, 1e-7f);
    ck_assert_double_eq_tol(st.mu_product, mu1, 1e-15);
    c = ko_adam_next(&st); /* step 2: c_g = (1 - mu_2) / (1 - mu_1·mu_2) */
    ck_assert_float_eq_tol(c.c_g, (float)((1 - mu2) / (1 - mu1 * mu2)), 1e-7f);
    ck_assert_double_eq_tol(st.mu_product, mu1 * mu2, 1e-15);
    /* after three steps: mu_1·mu_2·mu_3 = 0.11934852822744645 */
    ko_adam_next(&st);
    ck_assert_double_eq_tol(st.mu_product, 0.11934852822744645, 1e-15);
    ck_assert_int_eq(st.step, 3);
}
END_TEST

START_TEST(iota_stage_beta1) {
    ck_assert_double_eq_tol(ko_iota_beta1(0, 16), 0.984375, 1e-15);
    ck_assert_double_eq_tol(ko_iota_beta1(15, 16), 0.9, 1e-15);
    ck_assert_double_eq_tol(ko_iota_beta1(7, 16), 0.945, 1e-15);
    for (int s = 1; s < 16; s++)
        ck_assert_double_lt(ko_iota_beta1(s, 16), ko_iota_beta1(s - 1, 16));
    ko_inner_state st = ko_inner_iota(3, 16);
    ck_assert_int_eq(st.kind, KO_NADAM);
    ck_assert_double_eq(st.lr, 2e-4);
    ck_assert_double_eq(st.beta2, 0.95);
    ck_assert_double_eq(st.weight_decay, 0.1);
    ck_assert_double_eq_tol(st.beta1, 0.9 + 0.09 * 12 / 16, 1e-15);
    ck_assert_int_eq(st.step, 0);
    ck_assert_double_eq(st.mu_product, 1.0);
    ck_assert_int_eq(ko_inner_validate(&st, NULL, 0), 0);
}
END_TEST

START_TEST(inner_validation_names_the_field) {
    char msg[128] = "";
    ko_inner_state st = ko_inner_iota(0, 16);
    st.beta1 = 1.0;
    ck_assert_int_eq(ko_inner_validate(&st, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "beta1"));
    st = ko_inner_iota(0, 16);
    st.beta2 = -0.1;
    ck_assert_int_eq(ko_inner_validate(&st, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "beta2"));
    st = ko_inner_iota(0, 16);
    st.lr = NAN;
    ck_assert_int_eq(ko_inner_validate(&st, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "lr"));
    st = ko_inner_iota(0, 16);
    st.weight_decay = -1;
    ck_assert_int_eq(ko_inner_validate(&st, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "weight_decay"));
}
END_TEST

START_TEST(clip_scale) {
    ck_assert_double_eq(ko_clip_scale(0.0, 1.0), 1.0);
    ck_assert_double_eq(ko_clip_scale(0.5, 1.0), 1.0);
    ck_assert_double_eq(ko_clip_scale(4.0, 1.0), 1.0 / (4.0 + 1e-6));
    ck_assert_double_eq(ko_clip_scale(1.0, 1.0), 1.0 / (1.0 + 1e-6)); /* just below 1 */
    ck_assert_double_eq(ko_clip_scale(1e6, 0.0), 1.0);                /* disabled */
    ck_assert_double_eq(ko_clip_scale(INFINITY, 1.0), 0.0);
    ck_assert(isnan(ko_clip_scale(NAN, 1.0)));
}
END_TEST

START_TEST(partitions_cover_exactly_once) {
    static const size_t ns[] = {0, 1, 2, 5, 6, 7, 11, 12, 13, 100, 1001, 99615863808ULL};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        const size_t n = ns[k];
        for (int P = 1; P <= 17; P++) {
            size_t next = 0, lo = (size_t)-1, hi = 0;
            for (int i = 0; i < P; i++) {
                ko_range r = ko_partition(n, P, i);
                ck_assert_uint_eq(r.begin, next); /* contiguous, in order, no overlap */
                ck_assert_uint_ge(r.end, r.begin);
                const size_t len = r.end - r.begin;
                lo = len < lo ? len : lo;
                hi = len > hi ? len : hi;
                next = r.end;
            }
            ck_assert_uint_eq(next, n);    /* covers [0, n) */
            ck_assert_uint_le(hi - lo, 1); /* balanced */
            ck_assert_uint_eq(hi, (n + (size_t)P - 1) / (size_t)P);
        }
    }
    /* 10 over 6 (Orion's 2 × 3 replicas): sizes 2,2,2,2,1,1 */
    const size_t want[7] = {0, 2, 4, 6, 8, 9, 10};
    for (int i = 0; i < 6; i++) {
        ko_range r = ko_partition(10, 6, i);
        ck_assert_uint_eq(r.begin, want[i]);
        ck_assert_uint_eq(r.end, want[i + 1]);
    }
    ko_range bad = ko_partition(10, 0, 0);
    ck_assert_uint_eq(bad.begin, 0);
    ck_assert_uint_eq(bad.end, 0);
    bad = ko_partition(10, 3, 3);
    ck_assert_uint_eq(bad.end, 0);
    bad = ko_partition(10, 3, -1);
    ck_assert_uint_eq(bad.end, 0);
}
END_TEST

START_TEST(nesterov_two_steps_by_hand) {
    ko_outer_params o = ko_outer_diloco();
    ck_assert_double_eq(o.lr, 0.7);
    ck_assert_double_eq(o.momentum, 0.9);
    float w[2] = {1.0f, -2.0f}, mom[2] = {0.0f, 0.0f};
    /* step 1, pg = (0.5, 1): mom = pg; w -= 0.7·(pg + 0.9·pg)
     *   w0 = 1 - 0.7·0.95 = 0.335,  w1 = -2 - 0.7·1.9 = -3.33 */
    const float pg1[2] = {0.5f, 1.0f};
    kcpu_nesterov_step(NULL, w, mom, pg1, 2, (float)o.lr, (float)o.momentum);
    ck_assert_float_eq_tol(mom[0], 0.5f, 1e-7f);
    ck_assert_float_eq_tol(mom[1], 1.0f, 1e-7f);
    ck_assert_float_eq_tol(w[0], 0.335f, 1e-6f);
    ck_assert_float_eq_tol(w[1], -3.33f, 1e-6f);
    /* step 2, pg = (-0.2, 0): mom = (0.45 - 0.2, 0.9) = (0.25, 0.9);
     *   w0 = 0.335 - 0.7·(-0.2 + 0.225) = 0.3175,  w1 = -3.33 - 0.7·0.81 = -3.897 */
    const float pg2[2] = {-0.2f, 0.0f};
    kcpu_nesterov_step(NULL, w, mom, pg2, 2, (float)o.lr, (float)o.momentum);
    ck_assert_float_eq_tol(mom[0], 0.25f, 1e-7f);
    ck_assert_float_eq_tol(mom[1], 0.9f, 1e-7f);
    ck_assert_float_eq_tol(w[0], 0.3175f, 1e-6f);
    ck_assert_float_eq_tol(w[1], -3.897f, 1e-6f);
}
END_TEST

/* The multi-threaded path (large n) gives bit-identical results to the single-threaded
 * one on the same elements. */
START_TEST(large_vectors_match_small) {
    const size_t n = 100003, head = 257;
    float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g);
    float *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v), *mom = calloc(n, sizeof *mom);
    float sp[257], sm[257] = {0}, sv[257] = {0}, smom[257] = {0};
    ck_assert_msg(p && g && m && v && mom, "%s:%d: out of memory", __FILE__, __LINE__);
    for (size_t i = 0; i < n; i++) {
        p[i] = (float)sin((double)i);
        g[i] = (float)cos(0.37 * (double)i);
    }
    memcpy(sp, p, head * sizeof *p);
    ko_inner_state st = ko_inner_iota(0, 16);
    for (int t = 0; t < 3; t++) {
        kb_adam_coef c = ko_adam_next(&st);
        kcpu_adam_step(NULL, p, g, m, v, n, &c);
        kcpu_adam_step(NULL, sp, g, sm, sv, head, &c);
    }
    ck_assert_int_eq(memcmp(p, sp, head * sizeof *p), 0);
    ck_assert_int_eq(memcmp(m, sm, head * sizeof *m), 0);
    ck_assert_int_eq(memcmp(v, sv, head * sizeof *v), 0);
    kcpu_nesterov_step(NULL, p, mom, g, n, 0.7f, 0.9f);
    kcpu_nesterov_step(NULL, sp, smom, g, head, 0.7f, 0.9f);
    ck_assert_int_eq(memcmp(p, sp, head * sizeof *p), 0);
    ck_assert_int_eq(memcmp(mom, smom, head * sizeof *mom), 0);
    free(p);
    free(g);
    free(m);
    free(v);
    free(mom);
}
END_TEST

static Suite *optim_suite(void) {
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optimizers");
    tcase_add_test(tc, adamw_matches_pytorch_algorithm);
    tcase_add_test(tc, nadam_matches_pytorch_algorithm);
    tcase_add_test(tc, adam_coefficients_first_step);
    tcase_add_test(tc, iota_stage_beta1);
    tcase_add_test(tc, inner_validation_names_the_field);
    tcase_add_test(tc, clip_scale);
    tcase_add_test(tc, partitions_cover_exactly_once);
    tcase_add_test(tc, nesterov_two_steps_by_hand);
    tcase_add_test(tc, large_vectors_match_small);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = optim_suite)
