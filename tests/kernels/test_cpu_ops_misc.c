/* tests/kernels/test_cpu_ops_misc.c: the CPU reference's add/add_cols/scale/sumsq and int8 ops against closed forms and finite differences, and thread-count independence of GEMM and attention. */
#include "tests/kernels/cpu_ops_testutil.h"

/* ---- thread-count control ---- */

/* The larger thread count the determinism checks compare against one thread: 3, unless
 * OMP_NUM_THREADS is set, which is then honoured (valgrind runs set it to 1, and the
 * comparison becomes 1 against 1). */
static int many_threads(void) {
    const char *e = getenv("OMP_NUM_THREADS");
    return e && *e ? omp_get_max_threads() : 3;
}

/* ---- add, add_cols, scale, sumsq ---- */

typedef struct {
    kb_backend *be;
    int N, ldd, lds, ncols;
    float *dst0, *dst, *src, *R;
} cols_ctx;

static double cols_objective(void *p) {
    cols_ctx *c = p;
    memcpy(c->dst, c->dst0, (size_t)c->N * c->ldd * 4);
    c->be->add_cols(c->be, c->dst, c->ldd, c->src, c->lds, c->N, c->ncols);
    return gc_dot(c->dst, c->R, (size_t)c->N * c->ldd);
}

START_TEST(test_add_cols) {
    kb_backend *be = kb_cpu_open();
    /* the ResBM shapes: a k-wide source into a d-wide destination and back */
    const int N = 3, d = 7, k = 3;
    cols_ctx c = {be,
                  N,
                  d,
                  k,
                  k,
                  GC_CALLOC((size_t)N * d, 4),
                  GC_CALLOC((size_t)N * d, 4),
                  GC_CALLOC((size_t)N * k, 4),
                  GC_CALLOC((size_t)N * d, 4)};
    gc_fill_normal(c.dst0, (size_t)N * d, 1, 0, 1);
    gc_fill_normal(c.src, (size_t)N * k, 2, 0, 1);
    gc_fill_normal(c.R, (size_t)N * d, 3, 0, 1);
    cols_objective(&c);
    for (int r = 0; r < N; r++)
        for (int j = 0; j < d; j++)
            ck_assert(c.dst[r * d + j] ==
                      (j < k ? c.dst0[r * d + j] + c.src[r * k + j] : c.dst0[r * d + j]));
    /* adjoint: the gradient w.r.t. src is add_cols of R the other way round */
    float *dsrc = GC_CALLOC((size_t)N * k, 4);
    be->add_cols(be, dsrc, k, c.R, d, N, k);
    ck_assert_int_eq(gc_check("add_cols dsrc", c.src, dsrc, (size_t)N * k, cols_objective, &c, FD_H,
                              FD_ATOL, FD_RTOL, 1000),
                     0);
    free(c.dst0);
    free(c.dst);
    free(c.src);
    free(c.R);
    free(dsrc);
    be->close(be);
}
END_TEST

START_TEST(test_add_scale_sumsq) {
    kb_backend *be = kb_cpu_open();
    const size_t n = 200003; /* several sumsq chunks, ragged end */
    float *a = GC_CALLOC(n, 4), *b = GC_CALLOC(n, 4), *o = GC_CALLOC(n, 4);
    gc_fill_normal(a, n, 1, 0, 1);
    gc_fill_normal(b, n, 2, 0, 1);
    be->add(be, o, a, b, n);
    for (size_t i = 0; i < n; i += 997) ck_assert(o[i] == a[i] + b[i]);
    be->add(be, a, a, b, n); /* out aliasing a */
    ck_assert(memcmp(a, o, n * 4) == 0);
    be->scale(be, o, KB_F32, n, -2.0f);
    ck_assert(o[5] == -2.0f * a[5]);
    double ref = 0;
    for (size_t i = 0; i < n; i++) ref += (double)o[i] * o[i];
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    double s1 = be->sumsq(be, o, KB_F32, n);
    omp_set_num_threads(many_threads());
    double s3 = be->sumsq(be, o, KB_F32, n);
    omp_set_num_threads(threads); /* for the tests that follow */
    ck_assert(fabs(s1 - ref) <= 1e-12 * ref);
    ck_assert(memcmp(&s1, &s3, sizeof s1) == 0); /* independent of the thread count */
    free(a);
    free(b);
    free(o);
    be->close(be);
}
END_TEST

/* ---- int8 ---- */

START_TEST(test_quant_int8) {
    kb_backend *be = kb_cpu_open();
    const int N = 5, d = 33;
    float *x = GC_CALLOC((size_t)N * d, 4), *y = GC_CALLOC((size_t)N * d, 4);
    float *scale = GC_CALLOC((size_t)N, 4);
    int8_t *q = GC_CALLOC((size_t)N * d, 1);
    gc_fill_normal(x, (size_t)N * d, 4, 0, 1);
    for (int j = 0; j < d; j++) x[1 * d + j] *= 1e3f;  /* large row */
    for (int j = 0; j < d; j++) x[2 * d + j] = 0.0f;   /* zero row */
    for (int j = 0; j < d; j++) x[3 * d + j] *= 1e-4f; /* small row */
    x[4 * d + 7] = -50.0f;                             /* one outlier */
    be->quant_int8(be, q, scale, x, N, d);
    be->dequant_int8(be, y, q, scale, N, d);
    for (int r = 0; r < N; r++) {
        float amax = 0;
        for (int j = 0; j < d; j++) amax = fmaxf(amax, fabsf(x[r * d + j]));
        ck_assert(scale[r] == amax / 127.0f);
        int hit = 0;
        for (int j = 0; j < d; j++) {
            ck_assert(q[r * d + j] >= -127 && q[r * d + j] <= 127);
            ck_assert_msg(fabsf(y[r * d + j] - x[r * d + j]) <= 0.5f * scale[r] * (1 + 1e-5f),
                          "row %d col %d: |%g - %g| > scale/2 = %g", r, j, (double)y[r * d + j],
                          (double)x[r * d + j], 0.5 * scale[r]);
            if (amax > 0 && fabsf(x[r * d + j]) == amax) hit |= abs(q[r * d + j]) == 127;
        }
        ck_assert(amax == 0 || hit);
    }
    for (int j = 0; j < d; j++) ck_assert(q[2 * d + j] == 0 && y[2 * d + j] == 0.0f);
    ck_assert_int_eq(q[4 * d + 7], -127);
    free(x);
    free(y);
    free(scale);
    free(q);
    be->close(be);
}
END_TEST

/* ---- thread-count independence ---- */

/* Shapes above KCPU_PAR_MIN, so that the loops really run on several threads. */
START_TEST(test_deterministic_across_threads) {
    kb_backend *be = kb_cpu_open();
    const int B = 2, T = 64, nh = 4, nkv = 2, hd = 16, w = (nh + 2 * nkv) * hd;
    const size_t nq = (size_t)B * T * w, no = (size_t)B * T * nh * hd;
    ck_assert((size_t)B * nh * T * T * hd / 2 >= KCPU_PAR_MIN);
    float *qkv = GC_CALLOC(nq, 4), *out = GC_CALLOC(no, 4), *lse = GC_CALLOC((size_t)B * nh * T, 4);
    float *dout = GC_CALLOC(no, 4), *d1 = GC_CALLOC(nq, 4), *d3 = GC_CALLOC(nq, 4);
    gc_fill_normal(qkv, nq, 1, 0, 1);
    gc_fill_normal(dout, no, 2, 0, 1);
    be->attention_fwd(be, out, lse, qkv, B, T, nh, nkv, hd);
    const int N = 4096, d = 16;
    const size_t nx = (size_t)N * d;
    ck_assert(nx >= KCPU_PAR_MIN);
    float *x = GC_CALLOC(nx, 4), *y = GC_CALLOC(nx, 4), *g = GC_CALLOC(nx, 4),
          *rs = GC_CALLOC((size_t)N, 4);
    float *w8 = GC_CALLOC((size_t)d, 4), *dx1 = GC_CALLOC(nx, 4), *dx3 = GC_CALLOC(nx, 4);
    float *dw1 = GC_CALLOC((size_t)d, 4), *dw3 = GC_CALLOC((size_t)d, 4);
    gc_fill_normal(x, nx, 3, 0, 1);
    gc_fill_normal(g, nx, 4, 0, 1);
    gc_fill_normal(w8, (size_t)d, 5, 1, 0.2);
    be->rmsnorm_fwd(be, y, rs, x, w8, N, d, 1e-5f);

    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    be->attention_bwd(be, d1, dout, qkv, out, lse, B, T, nh, nkv, hd);
    be->rmsnorm_bwd(be, dx1, dw1, g, x, w8, rs, N, d);
    omp_set_num_threads(many_threads());
    be->attention_bwd(be, d3, dout, qkv, out, lse, B, T, nh, nkv, hd);
    be->rmsnorm_bwd(be, dx3, dw3, g, x, w8, rs, N, d);
    omp_set_num_threads(threads); /* for the tests that follow */
    ck_assert(memcmp(d1, d3, nq * 4) == 0);
    ck_assert(memcmp(dx1, dx3, nx * 4) == 0);
    ck_assert(memcmp(dw1, dw3, (size_t)d * 4) == 0);
    free(qkv);
    free(out);
    free(lse);
    free(dout);
    free(d1);
    free(d3);
    free(x);
    free(y);
    free(g);
    free(rs);
    free(w8);
    free(dx1);
    free(dx3);
    free(dw1);
    free(dw3);
    be->close(be);
}
END_TEST

/* The attention's tasks run on the OpenMP team only while OpenBLAS is on one thread
 * (cpu_ops_attention.c): with OpenBLAS on one thread, one OpenMP thread and several give
 * the same bits. */
START_TEST(test_attention_team_deterministic) {
#ifdef OPENBLAS_VERSION
    kb_backend *be = kb_cpu_open();
    const int B = 2, T = 100, nh = 4, nkv = 2, hd = 16, w = (nh + 2 * nkv) * hd;
    const size_t nq = (size_t)B * T * w, no = (size_t)B * T * nh * hd, nl = (size_t)B * nh * T;
    float *qkv = GC_CALLOC(nq, 4), *dout = GC_CALLOC(no, 4);
    float *out[2], *lse[2], *d[2];
    gc_fill_normal(qkv, nq, 11, 0, 1);
    gc_fill_normal(dout, no, 12, 0, 1);
    const int threads = omp_get_max_threads(), blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (int k = 0; k < 2; k++) {
        out[k] = GC_CALLOC(no, 4);
        lse[k] = GC_CALLOC(nl, 4);
        d[k] = GC_CALLOC(nq, 4);
        omp_set_num_threads(k == 0 ? 1 : many_threads());
        be->attention_fwd(be, out[k], lse[k], qkv, B, T, nh, nkv, hd);
        be->attention_bwd(be, d[k], dout, qkv, out[k], lse[k], B, T, nh, nkv, hd);
    }
    openblas_set_num_threads(blas);
    omp_set_num_threads(threads);
    ck_assert(memcmp(out[0], out[1], no * 4) == 0);
    ck_assert(memcmp(lse[0], lse[1], nl * 4) == 0);
    ck_assert(memcmp(d[0], d[1], nq * 4) == 0);
    for (int k = 0; k < 2; k++) {
        free(out[k]);
        free(lse[k]);
        free(d[k]);
    }
    free(qkv);
    free(dout);
    be->close(be);
#endif
}
END_TEST

static Suite *cpu_ops_more_suite(void) {
    Suite *s = suite_create("cpu_ops-more");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_add_cols);
    tcase_add_test(tc, test_add_scale_sumsq);
    tcase_add_test(tc, test_quant_int8);
    tcase_add_test(tc, test_deterministic_across_threads);
    tcase_add_test(tc, test_attention_team_deterministic);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = cpu_ops_more_suite)
