/* tests/kernels/test_cpu_ops.c: the CPU reference ops: forward values against closed forms or
 * double-precision references, every backward against central finite differences, and
 * thread-count independence. */
#include "tests/kernels/cpu_ops_testutil.h"

/* ---- gemm ---- */

typedef struct {
    kb_backend *be;
    int ta, tb, M, N, K, lda, ldb;
    float *A, *B, *C, *R;
} gemm_ctx;

static double gemm_objective(void *p) {
    gemm_ctx *c = p;
    c->be->gemm(c->be, c->ta, c->tb, c->M, c->N, c->K, 1.0f, c->A, KB_F32, c->lda, c->B, KB_F32,
                c->ldb, 0.0f, c->C, KB_F32, c->N);
    return gc_dot(c->C, c->R, (size_t)c->M * c->N);
}

START_TEST(test_gemm_values_all_transposes) {
    kb_backend *be = kb_cpu_open();
    const int M = 5, N = 6, K = 4;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
            const int arows = ta ? K : M, brows = tb ? N : K;
            float *A = GC_CALLOC((size_t)arows * lda, sizeof(float));
            float *B = GC_CALLOC((size_t)brows * ldb, sizeof(float));
            float *C = GC_CALLOC((size_t)M * ldc, sizeof(float));
            gc_fill_normal(A, (size_t)arows * lda, 1, 0, 1);
            gc_fill_normal(B, (size_t)brows * ldb, 2, 0, 1);
            gc_fill_normal(C, (size_t)M * ldc, 3, 0, 1);
            float *C0 = GC_CALLOC((size_t)M * ldc, sizeof(float));
            memcpy(C0, C, (size_t)M * ldc * sizeof(float));
            const float alpha = 1.5f, beta = 0.5f;
            be->gemm(be, ta, tb, M, N, K, alpha, A, KB_F32, lda, B, KB_F32, ldb, beta, C, KB_F32,
                     ldc);
            for (int i = 0; i < M; i++) {
                for (int j = 0; j < N; j++) {
                    double s = 0.0;
                    for (int k = 0; k < K; k++) {
                        double a = ta ? A[k * lda + i] : A[i * lda + k];
                        double b = tb ? B[j * ldb + k] : B[k * ldb + j];
                        s += a * b;
                    }
                    double ref = alpha * s + beta * C0[i * ldc + j];
                    ck_assert_msg(fabs(C[i * ldc + j] - ref) <= 1e-5 * (1 + fabs(ref)),
                                  "gemm ta=%d tb=%d C[%d,%d] = %g, reference %g", ta, tb, i, j,
                                  (double)C[i * ldc + j], ref);
                }
                for (int j = N; j < ldc; j++) /* padding untouched */
                    ck_assert(C[i * ldc + j] == C0[i * ldc + j]);
            }
            /* beta = 0 must not read C (garbage, even NaN, is overwritten) */
            for (int i = 0; i < M * ldc; i++) C[i] = NAN;
            be->gemm(be, ta, tb, M, N, K, 1.0f, A, KB_F32, lda, B, KB_F32, ldb, 0.0f, C, KB_F32,
                     ldc);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) ck_assert(isfinite(C[i * ldc + j]));
            free(A);
            free(B);
            free(C);
            free(C0);
        }
    be->close(be);
}
END_TEST

/* The backward of C = op(A) op(B) is two more GEMMs with transposes; checked against
 * finite differences for every (ta, tb). */
START_TEST(test_gemm_gradients_all_transposes) {
    kb_backend *be = kb_cpu_open();
    const int M = 4, N = 5, K = 3;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            gemm_ctx c = {be, ta, tb, M, N, K, ta ? M : K, tb ? K : N, NULL, NULL, NULL, NULL};
            const size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
            c.A = GC_CALLOC(na, sizeof(float));
            c.B = GC_CALLOC(nb, sizeof(float));
            c.C = GC_CALLOC(nc, sizeof(float));
            c.R = GC_CALLOC(nc, sizeof(float));
            float *dA = GC_CALLOC(na, sizeof(float)), *dB = GC_CALLOC(nb, sizeof(float));
            gc_fill_normal(c.A, na, 10 + ta, 0, 1);
            gc_fill_normal(c.B, nb, 20 + tb, 0, 1);
            gc_fill_normal(c.R, nc, 30, 0, 1);
            /* dop(A) = dC op(B)^T, dop(B) = op(A)^T dC, written in A's and B's storage */
            if (!ta)
                be->gemm(be, 0, !tb, M, K, N, 1.0f, c.R, KB_F32, N, c.B, KB_F32, c.ldb, 0.0f, dA,
                         KB_F32, K);
            else
                be->gemm(be, tb, 1, K, M, N, 1.0f, c.B, KB_F32, c.ldb, c.R, KB_F32, N, 0.0f, dA,
                         KB_F32, M);
            if (!tb)
                be->gemm(be, !ta, 0, K, N, M, 1.0f, c.A, KB_F32, c.lda, c.R, KB_F32, N, 0.0f, dB,
                         KB_F32, N);
            else
                be->gemm(be, 1, ta, N, K, M, 1.0f, c.R, KB_F32, N, c.A, KB_F32, c.lda, 0.0f, dB,
                         KB_F32, K);
            ck_assert_int_eq(
                gc_check("gemm dA", c.A, dA, na, gemm_objective, &c, FD_H, FD_ATOL, FD_RTOL, 1000),
                0);
            ck_assert_int_eq(
                gc_check("gemm dB", c.B, dB, nb, gemm_objective, &c, FD_H, FD_ATOL, FD_RTOL, 1000),
                0);
            free(c.A);
            free(c.B);
            free(c.C);
            free(c.R);
            free(dA);
            free(dB);
        }
    be->close(be);
}
END_TEST

/* ---- embedding ---- */

typedef struct {
    kb_backend *be;
    int N, d;
    const int32_t *tok;
    float *wte, *out, *R;
} emb_ctx;

static double emb_objective(void *p) {
    emb_ctx *c = p;
    c->be->embedding_fwd(c->be, c->out, c->tok, c->wte, c->N, c->d);
    return gc_dot(c->out, c->R, (size_t)c->N * c->d);
}

START_TEST(test_embedding) {
    kb_backend *be = kb_cpu_open();
    const int V = 7, d = 5, N = 6;
    const int32_t tok[6] = {3, 0, 6, 3, 3, 1}; /* repeats accumulate */
    emb_ctx c = {be,
                 N,
                 d,
                 tok,
                 GC_CALLOC((size_t)V * d, 4),
                 GC_CALLOC((size_t)N * d, 4),
                 GC_CALLOC((size_t)N * d, 4)};
    gc_fill_normal(c.wte, (size_t)V * d, 1, 0, 1);
    gc_fill_normal(c.R, (size_t)N * d, 2, 0, 1);
    emb_objective(&c);
    for (int r = 0; r < N; r++)
        for (int j = 0; j < d; j++) ck_assert(c.out[r * d + j] == c.wte[tok[r] * d + j]);
    float *dw = GC_CALLOC((size_t)V * d, 4);
    be->embedding_bwd(be, dw, tok, c.R, N, d);
    ck_assert_int_eq(gc_check("embedding dwte", c.wte, dw, (size_t)V * d, emb_objective, &c, FD_H,
                              FD_ATOL, FD_RTOL, 1000),
                     0);
    for (int j = 0; j < d; j++) ck_assert(dw[2 * d + j] == 0.0f); /* token 2 unused */
    free(c.wte);
    free(c.out);
    free(c.R);
    free(dw);
    be->close(be);
}
END_TEST

/* ---- rmsnorm ---- */

typedef struct {
    kb_backend *be;
    int N, d;
    float *x, *w, *out, *rstd, *R;
} norm_ctx;

static double norm_objective(void *p) {
    norm_ctx *c = p;
    c->be->rmsnorm_fwd(c->be, c->out, c->rstd, c->x, c->w, c->N, c->d, 1e-5f);
    return gc_dot(c->out, c->R, (size_t)c->N * c->d);
}

START_TEST(test_rmsnorm) {
    kb_backend *be = kb_cpu_open();
    const int N = 4, d = 8;
    const size_t n = (size_t)N * d;
    norm_ctx c = {be,
                  N,
                  d,
                  GC_CALLOC(n, 4),
                  GC_CALLOC((size_t)d, 4),
                  GC_CALLOC(n, 4),
                  GC_CALLOC((size_t)N, 4),
                  GC_CALLOC(n, 4)};
    gc_fill_normal(c.x, n, 1, 0, 1);
    gc_fill_normal(c.w, (size_t)d, 2, 1, 0.3);
    gc_fill_normal(c.R, n, 3, 0, 1);
    norm_objective(&c);
    for (int r = 0; r < N; r++) {
        double ss = 0;
        for (int j = 0; j < d; j++) ss += (double)c.x[r * d + j] * c.x[r * d + j];
        double rs = 1.0 / sqrt(ss / d + 1e-5);
        ck_assert(fabs(c.rstd[r] - rs) <= 1e-6 * rs);
        for (int j = 0; j < d; j++)
            ck_assert(fabs(c.out[r * d + j] - c.x[r * d + j] * rs * c.w[j]) <= 1e-5);
    }
    float *dx = GC_CALLOC(n, 4), *dw = GC_CALLOC((size_t)d, 4);
    norm_objective(&c);
    be->rmsnorm_bwd(be, dx, dw, c.R, c.x, c.w, c.rstd, N, d);
    ck_assert_int_eq(
        gc_check("rmsnorm dx", c.x, dx, n, norm_objective, &c, FD_H, FD_ATOL, FD_RTOL, 1000), 0);
    ck_assert_int_eq(gc_check("rmsnorm dw", c.w, dw, (size_t)d, norm_objective, &c, FD_H, FD_ATOL,
                              FD_RTOL, 1000),
                     0);
    /* backward accumulates */
    float *dx2 = GC_CALLOC(n, 4);
    memcpy(dx2, dx, n * 4);
    be->rmsnorm_bwd(be, dx2, dw, c.R, c.x, c.w, c.rstd, N, d);
    for (size_t i = 0; i < n; i++)
        ck_assert(fabsf(dx2[i] - 2 * dx[i]) <= 1e-6f * (1 + fabsf(dx[i])));
    free(c.x);
    free(c.w);
    free(c.out);
    free(c.rstd);
    free(c.R);
    free(dx);
    free(dw);
    free(dx2);
    be->close(be);
}
END_TEST

/* ---- rope ---- */

typedef struct {
    kb_backend *be;
    int N, T, nh, nkv, hd;
    float *x, *y, *R;
} rope_ctx;

static double rope_objective(void *p) {
    rope_ctx *c = p;
    const size_t n = (size_t)c->N * (c->nh + 2 * c->nkv) * c->hd;
    memcpy(c->y, c->x, n * 4);
    c->be->rope_fwd(c->be, c->y, c->N, c->T, c->nh, c->nkv, c->hd, 10000.0f);
    return gc_dot(c->y, c->R, n);
}

START_TEST(test_rope) {
    kb_backend *be = kb_cpu_open();
    const int T = 5, N = 10, nh = 2, nkv = 1, hd = 8, w = (nh + 2 * nkv) * hd, half = hd / 2;
    const size_t n = (size_t)N * w;
    rope_ctx c = {be, N, T, nh, nkv, hd, GC_CALLOC(n, 4), GC_CALLOC(n, 4), GC_CALLOC(n, 4)};
    gc_fill_normal(c.x, n, 1, 0, 1);
    gc_fill_normal(c.R, n, 2, 0, 1);
    rope_objective(&c);
    /* closed form: pair (i, i+hd/2) of q and k heads rotated by t·theta^(-2i/hd); v untouched */
    for (int r = 0; r < N; r++) {
        int t = r % T;
        for (int h = 0; h < nh + 2 * nkv; h++)
            for (int i = 0; i < half; i++) {
                size_t a = (size_t)r * w + h * hd + i, b = a + half;
                double ang = h < nh + nkv ? t * pow(10000.0, -2.0 * i / hd) : 0.0;
                double ya = c.x[a] * cos(ang) - c.x[b] * sin(ang);
                double yb = c.x[b] * cos(ang) + c.x[a] * sin(ang);
                ck_assert_msg(fabs(c.y[a] - ya) <= 1e-5 && fabs(c.y[b] - yb) <= 1e-5,
                              "rope row %d head %d pair %d", r, h, i);
            }
    }
    /* backward is the inverse rotation: bwd(fwd(x)) == x */
    float *z = GC_CALLOC(n, 4);
    memcpy(z, c.y, n * 4);
    be->rope_bwd(be, z, N, T, nh, nkv, hd, 10000.0f);
    for (size_t i = 0; i < n; i++) ck_assert(fabsf(z[i] - c.x[i]) <= 1e-5f);
    /* and the gradient of sum(rope(x) * R) is rope_bwd(R) */
    memcpy(z, c.R, n * 4);
    be->rope_bwd(be, z, N, T, nh, nkv, hd, 10000.0f);
    ck_assert_int_eq(
        gc_check("rope dx", c.x, z, n, rope_objective, &c, FD_H, FD_ATOL, FD_RTOL, 1000), 0);
    free(c.x);
    free(c.y);
    free(c.R);
    free(z);
    be->close(be);
}
END_TEST

/* ---- attention ---- */

typedef struct {
    kb_backend *be;
    int B, T, nh, nkv, hd;
    float *qkv, *out, *lse, *R;
} att_ctx;

static double att_objective(void *p) {
    att_ctx *c = p;
    c->be->attention_fwd(c->be, c->out, c->lse, c->qkv, c->B, c->T, c->nh, c->nkv, c->hd);
    return gc_dot(c->out, c->R, (size_t)c->B * c->T * c->nh * c->hd);
}

/* Double-precision reference of the forward: out and lse. */
static void att_reference(const att_ctx *c, double *out, double *lse) {
    const int w = (c->nh + 2 * c->nkv) * c->hd, group = c->nh / c->nkv, T = c->T, hd = c->hd;
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->nh; h++)
            for (int t = 0; t < T; t++) {
                int g = h / group;
                double s[64], mx = -INFINITY, sum = 0;
                for (int j = 0; j <= t; j++) {
                    s[j] = 0;
                    for (int i = 0; i < hd; i++)
                        s[j] += (double)c->qkv[(b * T + t) * w + h * hd + i] *
                                c->qkv[(b * T + j) * w + (c->nh + g) * hd + i];
                    s[j] /= sqrt((double)hd);
                    mx = fmax(mx, s[j]);
                }
                for (int j = 0; j <= t; j++) sum += exp(s[j] - mx);
                lse[(b * c->nh + h) * T + t] = mx + log(sum);
                for (int i = 0; i < hd; i++) {
                    double o = 0;
                    for (int j = 0; j <= t; j++)
                        o += exp(s[j] - mx) / sum *
                             c->qkv[(b * T + j) * w + (c->nh + c->nkv + g) * hd + i];
                    out[(b * T + t) * c->nh * hd + h * hd + i] = o;
                }
            }
}

static void check_attention(int B, int T, int nh, int nkv, int hd) {
    kb_backend *be = kb_cpu_open();
    const int w = (nh + 2 * nkv) * hd;
    const size_t nq = (size_t)B * T * w, no = (size_t)B * T * nh * hd, nl = (size_t)B * nh * T;
    att_ctx c = {be,
                 B,
                 T,
                 nh,
                 nkv,
                 hd,
                 GC_CALLOC(nq, 4),
                 GC_CALLOC(no, 4),
                 GC_CALLOC(nl, 4),
                 GC_CALLOC(no, 4)};
    gc_fill_normal(c.qkv, nq, 100 + nh * 10 + nkv, 0, 1);
    gc_fill_normal(c.R, no, 7, 0, 1);
    att_objective(&c);
    double *ro = GC_CALLOC(no, sizeof(double)), *rl = GC_CALLOC(nl, sizeof(double));
    att_reference(&c, ro, rl);
    for (size_t i = 0; i < no; i++) ck_assert(fabs(c.out[i] - ro[i]) <= 1e-5 * (1 + fabs(ro[i])));
    for (size_t i = 0; i < nl; i++) ck_assert(fabs(c.lse[i] - rl[i]) <= 1e-5 * (1 + fabs(rl[i])));
    /* position 0 attends only to itself: out = v_0 exactly (p = 1) */
    for (int h = 0; h < nh; h++)
        for (int i = 0; i < hd; i++)
            ck_assert(fabsf(c.out[h * hd + i] - c.qkv[(nh + nkv + h / (nh / nkv)) * hd + i]) <=
                      1e-6f);
    float *dqkv = GC_CALLOC(nq, 4);
    be->attention_bwd(be, dqkv, c.R, c.qkv, c.out, c.lse, B, T, nh, nkv, hd);
    ck_assert_int_eq(gc_check("attention dqkv", c.qkv, dqkv, nq, att_objective, &c, FD_H, FD_ATOL,
                              FD_RTOL, 2000),
                     0);
    free(c.qkv);
    free(c.out);
    free(c.lse);
    free(c.R);
    free(ro);
    free(rl);
    free(dqkv);
    be->close(be);
}

START_TEST(test_attention_mha) { check_attention(2, 5, 2, 2, 4); }
END_TEST
START_TEST(test_attention_gqa2) { check_attention(2, 5, 4, 2, 4); }
END_TEST
START_TEST(test_attention_gqa4) { check_attention(1, 6, 4, 1, 6); }
END_TEST

/* The tiled GEMM attention (cpu_ops_attention.c) against naive loops written from the
 * definition in double: out, lse, and the gradient of sum(out * dout) with respect to
 * every q, k and v element, over shapes that split T into tiles (ATT_ROWS / group
 * positions) with a partial last tile, single positions, and groups of 1 to 8 heads.
 * Tolerance: |got - ref| <= tol (1 + |ref|), tol = 2e-5 qstd for out and lse, 1e-4 qstd
 * for the gradients: fp32 scores carry a rounding error proportional to their size, which
 * grows with the query scale qstd. Observed errors are 30-400x below. */
static void att_naive(const float *qkv, const float *dout, int B, int T, int nh, int nkv, int hd,
                      double *out, double *lse, double *dqkv) {
    const int w = (nh + 2 * nkv) * hd, group = nh / nkv, ow = nh * hd;
    const double sc = 1.0 / sqrt((double)hd);
    double *p = GC_CALLOC((size_t)T, sizeof(double)), *o = GC_CALLOC((size_t)hd, sizeof(double));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < nh; h++)
            for (int t = 0; t < T; t++) {
                const int g = h / group;
                const float *q = qkv + (size_t)(b * T + t) * w + h * hd;
                const float *dy = dout + (size_t)(b * T + t) * ow + h * hd;
                double *dq = dqkv + (size_t)(b * T + t) * w + h * hd;
                double mx = -INFINITY, sum = 0, D = 0;
                for (int j = 0; j <= t; j++) {
                    const float *k = qkv + (size_t)(b * T + j) * w + (nh + g) * hd;
                    double s = 0;
                    for (int i = 0; i < hd; i++) s += (double)q[i] * k[i];
                    p[j] = s * sc;
                    mx = fmax(mx, p[j]);
                }
                for (int j = 0; j <= t; j++) sum += exp(p[j] - mx);
                for (int j = 0; j <= t; j++) p[j] = exp(p[j] - mx) / sum;
                lse[((size_t)b * nh + h) * T + t] = mx + log(sum);
                for (int i = 0; i < hd; i++) {
                    o[i] = 0;
                    for (int j = 0; j <= t; j++)
                        o[i] += p[j] * qkv[(size_t)(b * T + j) * w + (nh + nkv + g) * hd + i];
                    out[(size_t)(b * T + t) * ow + h * hd + i] = o[i];
                    D += dy[i] * o[i];
                }
                for (int j = 0; j <= t; j++) {
                    const size_t krow = (size_t)(b * T + j) * w;
                    const float *k = qkv + krow + (nh + g) * hd, *v = k + nkv * hd;
                    double dp = 0;
                    for (int i = 0; i < hd; i++) dp += (double)dy[i] * v[i];
                    const double ds = p[j] * (dp - D);
                    for (int i = 0; i < hd; i++) {
                        dq[i] += sc * ds * k[i];
                        dqkv[krow + (nh + g) * hd + i] += sc * ds * q[i];
                        dqkv[krow + (nh + nkv + g) * hd + i] += p[j] * dy[i];
                    }
                }
            }
    free(p);
    free(o);
}

static void att_err(const float *got, const double *ref, size_t n, double tol, const char *what) {
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - ref[i]) <= tol * (1 + fabs(ref[i])),
                      "%s[%zu] = %.9g, reference %.9g", what, i, (double)got[i], ref[i]);
}

/* qstd scales the queries: large values give score ranges far beyond exp's (underflow). */
static void check_attention_naive(int B, int T, int nh, int nkv, int hd, double qstd) {
    kb_backend *be = kb_cpu_open();
    const int w = (nh + 2 * nkv) * hd;
    const size_t nq = (size_t)B * T * w, no = (size_t)B * T * nh * hd, nl = (size_t)B * nh * T;
    float *qkv = GC_CALLOC(nq, 4), *out = GC_CALLOC(no, 4), *lse = GC_CALLOC(nl, 4);
    float *dout = GC_CALLOC(no, 4), *dqkv = GC_CALLOC(nq, 4);
    double *ro = GC_CALLOC(no, sizeof(double)), *rl = GC_CALLOC(nl, sizeof(double));
    double *rd = GC_CALLOC(nq, sizeof(double));
    gc_fill_normal(qkv, nq, 1000 + T, 0, 1);
    for (int r = 0; r < B * T; r++)
        for (int i = 0; i < nh * hd; i++) qkv[(size_t)r * w + i] *= (float)qstd;
    gc_fill_normal(dout, no, 2000 + T, 0, 1);
    gc_fill_normal(dqkv, nq, 3000 + T, 0, 1); /* the backward adds to it */
    for (size_t i = 0; i < nq; i++) rd[i] = dqkv[i];
    att_naive(qkv, dout, B, T, nh, nkv, hd, ro, rl, rd);
    be->attention_fwd(be, out, lse, qkv, B, T, nh, nkv, hd);
    be->attention_bwd(be, dqkv, dout, qkv, out, lse, B, T, nh, nkv, hd);
    att_err(out, ro, no, 2e-5 * qstd, "attention out");
    att_err(lse, rl, nl, 2e-5 * qstd, "attention lse");
    att_err(dqkv, rd, nq, 1e-4 * qstd, "attention dqkv");
    free(qkv);
    free(out);
    free(lse);
    free(dout);
    free(dqkv);
    free(ro);
    free(rl);
    free(rd);
    be->close(be);
}

START_TEST(test_attention_vs_naive) {
    check_attention_naive(1, 1, 4, 2, 8, 1); /* T = 1: p = 1, out = v */
    check_attention_naive(2, 1, 1, 1, 4, 1);
    check_attention_naive(2, 37, 2, 2, 8, 1);  /* MHA, one partial tile */
    check_attention_naive(1, 300, 2, 1, 8, 1); /* group 2: tiles of 128, last 44 */
    check_attention_naive(2, 300, 1, 1, 8, 1); /* group 1: tiles of 256, last 44 */
    check_attention_naive(2, 70, 4, 1, 16, 1); /* group 4: tiles of 64, last 6 */
    check_attention_naive(1, 45, 16, 2, 8, 1); /* group 8: tiles of 32, last 13 */
    check_attention_naive(1, 90, 8, 2, 8, 12); /* scores spanning hundreds: exp underflow */
}
END_TEST

/* ---- swiglu, silu ---- */

typedef struct {
    kb_backend *be;
    int N, f;
    float *x, *out, *R;
} pw_ctx;

static double swiglu_objective(void *p) {
    pw_ctx *c = p;
    c->be->swiglu_fwd(c->be, c->out, c->x, c->N, c->f);
    return gc_dot(c->out, c->R, (size_t)c->N * c->f);
}

static double silu_objective(void *p) {
    pw_ctx *c = p;
    c->be->silu_fwd(c->be, c->out, c->x, (size_t)c->N * c->f);
    return gc_dot(c->out, c->R, (size_t)c->N * c->f);
}

START_TEST(test_swiglu_silu) {
    kb_backend *be = kb_cpu_open();
    const int N = 3, f = 6;
    pw_ctx c = {be,
                N,
                f,
                GC_CALLOC((size_t)N * 2 * f, 4),
                GC_CALLOC((size_t)N * f, 4),
                GC_CALLOC((size_t)N * f, 4)};
    gc_fill_normal(c.x, (size_t)N * 2 * f, 1, 0, 1.5);
    gc_fill_normal(c.R, (size_t)N * f, 2, 0, 1);
    swiglu_objective(&c);
    for (int r = 0; r < N; r++)
        for (int j = 0; j < f; j++) {
            double g = c.x[r * 2 * f + j], u = c.x[r * 2 * f + f + j];
            ck_assert(fabs(c.out[r * f + j] - g / (1 + exp(-g)) * u) <= 1e-6);
        }
    float *dx = GC_CALLOC((size_t)N * 2 * f, 4);
    be->swiglu_bwd(be, dx, c.R, c.x, N, f);
    ck_assert_int_eq(gc_check("swiglu dgu", c.x, dx, (size_t)N * 2 * f, swiglu_objective, &c, FD_H,
                              FD_ATOL, FD_RTOL, 1000),
                     0);

    memset(dx, 0, (size_t)N * 2 * f * 4);
    silu_objective(&c);
    ck_assert(fabs(c.out[0] - c.x[0] / (1 + exp(-c.x[0]))) <= 1e-6);
    be->silu_bwd(be, dx, c.R, c.x, (size_t)N * f);
    ck_assert_int_eq(gc_check("silu dx", c.x, dx, (size_t)N * f, silu_objective, &c, FD_H, FD_ATOL,
                              FD_RTOL, 1000),
                     0);
    free(c.x);
    free(c.out);
    free(c.R);
    free(dx);
    be->close(be);
}
END_TEST

/* ---- cross-entropy ---- */

typedef struct {
    kb_backend *be;
    int N, V;
    const int32_t *tgt;
    float *logits, *losses;
    float dscale;
} ce_ctx;

static double ce_objective(void *p) {
    ce_ctx *c = p;
    c->be->crossentropy(c->be, c->losses, NULL, c->logits, c->tgt, c->N, c->V, 1.0f);
    double s = 0;
    for (int r = 0; r < c->N; r++) s += c->losses[r];
    return c->dscale * s;
}

START_TEST(test_crossentropy) {
    kb_backend *be = kb_cpu_open();
    const int N = 4, V = 9;
    const int32_t tgt[4] = {0, 8, 3, 3};
    ce_ctx c = {be, N, V, tgt, GC_CALLOC((size_t)N * V, 4), GC_CALLOC((size_t)N, 4), 0.25f};
    /* uniform logits: loss = ln V exactly */
    for (int i = 0; i < N * V; i++) c.logits[i] = 0.7f;
    be->crossentropy(be, c.losses, NULL, c.logits, tgt, N, V, 1.0f);
    for (int r = 0; r < N; r++) ck_assert(fabs(c.losses[r] - log((double)V)) <= 1e-6);
    gc_fill_normal(c.logits, (size_t)N * V, 3, 0, 2);
    /* closed form for one row */
    double mx = -INFINITY, sum = 0;
    for (int j = 0; j < V; j++) mx = fmax(mx, c.logits[V + j]);
    for (int j = 0; j < V; j++) sum += exp(c.logits[V + j] - mx);
    be->crossentropy(be, c.losses, NULL, c.logits, tgt, N, V, 1.0f);
    ck_assert(fabs(c.losses[1] - (mx + log(sum) - c.logits[V + 8])) <= 1e-5);
    /* gradient, written into a separate buffer and in place (aliasing the logits) */
    float *dl = GC_CALLOC((size_t)N * V, 4), *alias = GC_CALLOC((size_t)N * V, 4);
    be->crossentropy(be, c.losses, dl, c.logits, tgt, N, V, c.dscale);
    memcpy(alias, c.logits, (size_t)N * V * 4);
    be->crossentropy(be, c.losses, alias, alias, tgt, N, V, c.dscale);
    ck_assert(memcmp(alias, dl, (size_t)N * V * 4) == 0);
    ck_assert_int_eq(gc_check("crossentropy dlogits", c.logits, dl, (size_t)N * V, ce_objective, &c,
                              FD_H, FD_ATOL, FD_RTOL, 1000),
                     0);
    free(c.logits);
    free(c.losses);
    free(dl);
    free(alias);
    be->close(be);
}
END_TEST

static Suite *cpu_ops_suite(void) {
    Suite *s = suite_create("cpu_ops");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_gemm_values_all_transposes);
    tcase_add_test(tc, test_gemm_gradients_all_transposes);
    tcase_add_test(tc, test_embedding);
    tcase_add_test(tc, test_rmsnorm);
    tcase_add_test(tc, test_rope);
    tcase_add_test(tc, test_attention_mha);
    tcase_add_test(tc, test_attention_gqa2);
    tcase_add_test(tc, test_attention_gqa4);
    tcase_add_test(tc, test_attention_vs_naive);
    tcase_add_test(tc, test_swiglu_silu);
    tcase_add_test(tc, test_crossentropy);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = cpu_ops_suite)
