/* tests/kernels/test_cuda_vs_cpu.c: every op of the CUDA backend against the CPU reference.
 *
 * Opens "cpu" and "cuda" (twice: one instance with fp32 activations, one with bf16);
 * skips with "SKIP: no CUDA device (reason)" when the plugin or a GPU is missing. Each
 * test runs once per activation type (a Check loop test, _i = kb_dtype) on fresh
 * random inputs from a fixed seed, uploads the same values to both backends, runs the
 * op on each, downloads and compares.
 *
 * Error measure, per output tensor: rel = max|cuda - cpu| / max(max|cpu|, 1e-30),
 * printed for every comparison. Tolerances, by the output's type on the CUDA side:
 *   fp32 output   1e-5 for elementwise and row ops, 1e-4 for GEMMs and attention
 *   bf16 output   1e-2
 * In bf16 mode every input that the CUDA side holds in bf16 is rounded to bf16 on the
 * host first and the CPU gets the same rounded values, so the comparison measures the
 * kernels, not the input rounding. Inputs of backward ops (e.g. attention's out and
 * lse) are the same values on both sides, not each backend's own forward result.
 *
 * Also: transfers and conversions bit-exact, int8 quantisation bit-exact, and a
 * determinism test (two runs of the reduction-heavy ops give identical bytes). Whole
 * pipeline stages are compared by test_cuda_stage.c; the helpers both use are in
 * cuda_testutil.h.
 *
 * Runs in one process (CK_NOFORK): a CUDA context does not survive fork().
 * Run on a GPU machine: make test, or ORIONSIM_PLUGIN_DIR=$PWD/build
 * build/tests/test_cuda_vs_cpu.
 */
#include "tests/kernels/cuda_testutil.h"

/* ---- memory and transfers ---- */

START_TEST(test_memory) {
    kb_backend *gpu = gpu_for(_i);
    kprng r;
    kprng_init(&r, 100 + (uint64_t)_i);
    const size_t n = 10007;
    float *h = xcalloc(n, sizeof(float)), *back = xcalloc(n, sizeof(float));
    for (size_t i = 0; i < n; i++) h[i] = (float)kprng_normal(&r) * 100.0f;

    /* alloc is zeroed */
    void *f = gpu->alloc(gpu, n * sizeof(float));
    gpu->download(gpu, back, f, KB_F32, n);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(back[i], 0.0f);

    /* fp32 round trip is exact; bf16 round trip is the host rounding */
    gpu->upload(gpu, f, KB_F32, h, n);
    gpu->download(gpu, back, f, KB_F32, n);
    ck_assert_mem_eq(back, h, n * sizeof(float));
    void *b = gpu->alloc(gpu, n * 2);
    gpu->upload(gpu, b, KB_BF16, h, n);
    gpu->download(gpu, back, b, KB_BF16, n);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(back[i], bf16_round(h[i]));

    /* convert both ways */
    void *f2 = gpu->alloc(gpu, n * sizeof(float));
    gpu->convert(gpu, b, KB_BF16, f, KB_F32, n);
    gpu->convert(gpu, f2, KB_F32, b, KB_BF16, n);
    gpu->download(gpu, back, f2, KB_F32, n);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(back[i], bf16_round(h[i]));

    /* copy, zero, raw bytes */
    gpu->copy(gpu, f2, f, n * sizeof(float));
    gpu->download(gpu, back, f2, KB_F32, n);
    ck_assert_mem_eq(back, h, n * sizeof(float));
    gpu->zero(gpu, f2, 100 * sizeof(float));
    gpu->download(gpu, back, f2, KB_F32, n);
    for (size_t i = 0; i < 100; i++) ck_assert_float_eq(back[i], 0.0f);
    ck_assert_mem_eq(back + 100, h + 100, (n - 100) * sizeof(float));
    unsigned char raw[333], rawback[333];
    for (int i = 0; i < 333; i++) raw[i] = (unsigned char)(i * 7 + 3);
    gpu->upload_raw(gpu, f2, raw, sizeof raw);
    gpu->download_raw(gpu, rawback, f2, sizeof raw);
    ck_assert_mem_eq(raw, rawback, sizeof raw);

    /* many small uploads back to back (staging slots reused while copies are in flight) */
    for (int k = 0; k < 64; k++) {
        float v[17];
        for (int i = 0; i < 17; i++) v[i] = (float)(k * 100 + i);
        gpu->upload(gpu, (float *)f + 17 * k, KB_F32, v, 17);
    }
    gpu->synchronize(gpu);
    gpu->download(gpu, back, f, KB_F32, 17 * 64);
    for (int k = 0; k < 64; k++)
        for (int i = 0; i < 17; i++) ck_assert_float_eq(back[17 * k + i], (float)(k * 100 + i));

    gpu->free(gpu, f);
    gpu->free(gpu, f2);
    gpu->free(gpu, b);
    free(h);
    free(back);
}
END_TEST

/* ---- GEMM ---- */

static void gemm_case(kb_backend *gpu, kprng *r, int ta, int tb, int M, int N, int K, int pad,
                      float alpha, float beta, kb_dtype at, kb_dtype bt, kb_dtype ct) {
    const int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    const int arows = ta ? K : M, brows = tb ? N : K;
    pair A = pr_new(gpu, at, (size_t)arows * lda + 1);
    pair B = pr_new(gpu, bt, (size_t)brows * ldb + 1);
    pair C = pr_new(gpu, ct, (size_t)M * ldc + 1);
    pr_normal(&A, r, 0, 1);
    pr_normal(&B, r, 0, 1);
    pr_normal(&C, r, 0, 1);
    g_cpu->gemm(g_cpu, ta, tb, M, N, K, alpha, A.c, KB_F32, lda, B.c, KB_F32, ldb, beta, C.c,
                KB_F32, ldc);
    gpu->gemm(gpu, ta, tb, M, N, K, alpha, A.g, at, lda, B.g, bt, ldb, beta, C.g, ct, ldc);
    char what[96];
    snprintf(what, sizeof what, "gemm %c%c %dx%dx%d %s,%s->%s b=%g", ta ? 'T' : 'N', tb ? 'T' : 'N',
             M, N, K, tname(at), tname(bt), tname(ct), (double)beta);
    pr_check(&C, what, TOL_CHAIN);
    pr_free(&A);
    pr_free(&B);
    pr_free(&C);
}

START_TEST(test_gemm) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act, F = KB_F32;
    kprng r;
    kprng_init(&r, 200 + (uint64_t)_i);
    static const int shapes[][3] = {{37, 53, 29}, {1, 64, 17}, {64, 48, 128}, {256, 384, 512}};
    /* type mixes: A A -> A, A A -> F (weight gradients), F F -> F, and two mixed ones */
    const kb_dtype mix[][3] = {{a, a, a}, {a, a, F}, {F, F, F}, {a, F, F}, {F, a, a}};
    for (int s = 0; s < 4; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int m = 0; m < 5; m++) {
                    if (s == 3 && m >= 3) continue;
                    gemm_case(gpu, &r, ta, tb, shapes[s][0], shapes[s][1], shapes[s][2],
                              (ta + 2 * tb + m) % 3, m == 1 ? 1.0f : 0.75f, (m % 2) ? 1.0f : 0.0f,
                              mix[m][0], mix[m][1], mix[m][2]);
                }
    /* K = 0: C = beta * C */
    gemm_case(gpu, &r, 0, 0, 5, 7, 0, 1, 1.0f, 0.5f, a, a, a);
    gemm_case(gpu, &r, 0, 1, 5, 7, 0, 0, 1.0f, 0.0f, a, a, F);
}
END_TEST

/* ---- embedding ---- */

START_TEST(test_embedding) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    kprng r;
    kprng_init(&r, 300 + (uint64_t)_i);
    static const int cases[][3] = {{50, 96, 200}, {7, 33, 64}, {1000, 256, 1500}}; /* V, d, N */
    for (int c = 0; c < 3; c++) {
        const int V = cases[c][0], d = cases[c][1], N = cases[c][2];
        ipair tok = ip_new(gpu, (size_t)N, &r, 0, V);
        pair wte = pr_new(gpu, a, (size_t)V * d), out = pr_new(gpu, a, (size_t)N * d);
        pair dout = pr_new(gpu, a, (size_t)N * d), dwte = pr_new(gpu, KB_F32, (size_t)V * d);
        pr_normal(&wte, &r, 0, 1);
        pr_normal(&dout, &r, 0, 1);
        pr_normal(&dwte, &r, 0, 1); /* backward adds into it */
        g_cpu->embedding_fwd(g_cpu, out.c, tok.c, wte.c, N, d);
        gpu->embedding_fwd(gpu, out.g, tok.g, wte.g, N, d);
        pr_check(&out, "embedding_fwd out", TOL_ELEM);
        g_cpu->embedding_bwd(g_cpu, dwte.c, tok.c, dout.c, N, d);
        gpu->embedding_bwd(gpu, dwte.g, tok.g, dout.g, N, d);
        pr_check(&dwte, "embedding_bwd dwte", TOL_ELEM);
        ip_free(&tok);
        pr_free(&wte);
        pr_free(&out);
        pr_free(&dout);
        pr_free(&dwte);
    }
}
END_TEST

/* ---- RMSNorm ---- */

START_TEST(test_rmsnorm) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    kprng r;
    kprng_init(&r, 400 + (uint64_t)_i);
    static const int cases[][2] = {{33, 96}, {64, 1024}, {5, 9216}};
    for (int c = 0; c < 3; c++) {
        const int N = cases[c][0], d = cases[c][1];
        const size_t nd = (size_t)N * d;
        pair x = pr_new(gpu, a, nd), w = pr_new(gpu, a, (size_t)d), out = pr_new(gpu, a, nd);
        pair rstd = pr_new(gpu, KB_F32, (size_t)N), dout = pr_new(gpu, a, nd);
        pair dx = pr_new(gpu, a, nd), dw = pr_new(gpu, KB_F32, (size_t)d);
        pr_normal(&x, &r, 0.3, 2.0);
        pr_normal(&w, &r, 1.0, 0.2);
        pr_normal(&dout, &r, 0, 1);
        pr_normal(&dx, &r, 0, 1);
        pr_normal(&dw, &r, 0, 1);
        g_cpu->rmsnorm_fwd(g_cpu, out.c, rstd.c, x.c, w.c, N, d, 1e-5f);
        gpu->rmsnorm_fwd(gpu, out.g, rstd.g, x.g, w.g, N, d, 1e-5f);
        pr_check(&out, "rmsnorm_fwd out", TOL_ELEM);
        pr_check(&rstd, "rmsnorm_fwd rstd", TOL_ELEM);
        /* the backward gets the same rstd on both sides */
        g_cpu->download(g_cpu, rstd.h, rstd.c, KB_F32, (size_t)N);
        pr_set(&rstd, rstd.h);
        g_cpu->rmsnorm_bwd(g_cpu, dx.c, dw.c, dout.c, x.c, w.c, rstd.c, N, d);
        gpu->rmsnorm_bwd(gpu, dx.g, dw.g, dout.g, x.g, w.g, rstd.g, N, d);
        pr_check(&dx, "rmsnorm_bwd dx", TOL_ELEM);
        pr_check(&dw, "rmsnorm_bwd dw", TOL_ELEM);
        pr_free(&x);
        pr_free(&w);
        pr_free(&out);
        pr_free(&rstd);
        pr_free(&dout);
        pr_free(&dx);
        pr_free(&dw);
    }
}
END_TEST

/* ---- RoPE ---- */

typedef struct {
    int B, T, nh, nkv, hd;
} att_shape;

static const att_shape k_shapes[] = {
    {2, 37, 4, 2, 16},   /* small, T not a tile multiple */
    {1, 70, 2, 1, 64},   /* crosses a 64-row tile */
    {2, 128, 3, 3, 32},  /* plain multi-head */
    {1, 256, 8, 2, 128}, /* a realistic head shape */
    {1, 800, 9, 1, 128}, /* Orion's T and head_dim, one kv group of 9 */
};
#define N_SHAPES (sizeof k_shapes / sizeof k_shapes[0])

START_TEST(test_rope) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    kprng r;
    kprng_init(&r, 500 + (uint64_t)_i);
    for (size_t s = 0; s < N_SHAPES; s++) {
        const att_shape sh = k_shapes[s];
        const int N = sh.B * sh.T, W = (sh.nh + 2 * sh.nkv) * sh.hd;
        const float theta = s % 2 ? 500000.0f : 10000.0f;
        pair qkv = pr_new(gpu, a, (size_t)N * W);
        pr_normal(&qkv, &r, 0, 1);
        char what[96];
        snprintf(what, sizeof what, "rope_fwd T=%d nh=%d nkv=%d hd=%d", sh.T, sh.nh, sh.nkv, sh.hd);
        g_cpu->rope_fwd(g_cpu, qkv.c, N, sh.T, sh.nh, sh.nkv, sh.hd, theta);
        gpu->rope_fwd(gpu, qkv.g, N, sh.T, sh.nh, sh.nkv, sh.hd, theta);
        pr_check(&qkv, what, TOL_ELEM);
        pr_normal(&qkv, &r, 0, 1);
        snprintf(what, sizeof what, "rope_bwd T=%d nh=%d nkv=%d hd=%d", sh.T, sh.nh, sh.nkv, sh.hd);
        g_cpu->rope_bwd(g_cpu, qkv.c, N, sh.T, sh.nh, sh.nkv, sh.hd, theta);
        gpu->rope_bwd(gpu, qkv.g, N, sh.T, sh.nh, sh.nkv, sh.hd, theta);
        pr_check(&qkv, what, TOL_ELEM);
        pr_free(&qkv);
    }
}
END_TEST

/* ---- attention ---- */

START_TEST(test_attention) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    kprng r;
    kprng_init(&r, 600 + (uint64_t)_i);
    for (size_t s = 0; s < N_SHAPES; s++) {
        const att_shape sh = k_shapes[s];
        const int N = sh.B * sh.T, W = (sh.nh + 2 * sh.nkv) * sh.hd, OW = sh.nh * sh.hd;
        const size_t nl = (size_t)sh.B * sh.nh * sh.T;
        pair qkv = pr_new(gpu, a, (size_t)N * W), out = pr_new(gpu, a, (size_t)N * OW);
        pair lse = pr_new(gpu, KB_F32, nl), dout = pr_new(gpu, a, (size_t)N * OW);
        pair dqkv = pr_new(gpu, a, (size_t)N * W);
        pr_normal(&qkv, &r, 0, 1);
        pr_normal(&dout, &r, 0, 1);
        pr_normal(&dqkv, &r, 0, 0.1); /* backward adds into it */
        char what[96];
        g_cpu->attention_fwd(g_cpu, out.c, lse.c, qkv.c, sh.B, sh.T, sh.nh, sh.nkv, sh.hd);
        gpu->attention_fwd(gpu, out.g, lse.g, qkv.g, sh.B, sh.T, sh.nh, sh.nkv, sh.hd);
        snprintf(what, sizeof what, "attention_fwd out B=%d T=%d nh=%d nkv=%d hd=%d", sh.B, sh.T,
                 sh.nh, sh.nkv, sh.hd);
        pr_check(&out, what, TOL_CHAIN);
        snprintf(what, sizeof what, "attention_fwd lse T=%d hd=%d", sh.T, sh.hd);
        pr_check(&lse, what, TOL_CHAIN);

        /* the backward gets the CPU's out (rounded to the CUDA type) and lse on both sides */
        g_cpu->download(g_cpu, out.h, out.c, KB_F32, out.n);
        pr_set(&out, out.h);
        g_cpu->download(g_cpu, lse.h, lse.c, KB_F32, lse.n);
        pr_set(&lse, lse.h);
        g_cpu->attention_bwd(g_cpu, dqkv.c, dout.c, qkv.c, out.c, lse.c, sh.B, sh.T, sh.nh, sh.nkv,
                             sh.hd);
        gpu->attention_bwd(gpu, dqkv.g, dout.g, qkv.g, out.g, lse.g, sh.B, sh.T, sh.nh, sh.nkv,
                           sh.hd);
        snprintf(what, sizeof what, "attention_bwd dqkv T=%d nh=%d nkv=%d hd=%d", sh.T, sh.nh,
                 sh.nkv, sh.hd);
        pr_check(&dqkv, what, TOL_CHAIN);
        pr_free(&qkv);
        pr_free(&out);
        pr_free(&lse);
        pr_free(&dout);
        pr_free(&dqkv);
    }
}
END_TEST

/* ---- SwiGLU, SiLU, add, add_cols, scale, sumsq ---- */

START_TEST(test_swiglu_silu) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    kprng r;
    kprng_init(&r, 700 + (uint64_t)_i);
    const int N = 37, f = 100;
    pair gu = pr_new(gpu, a, (size_t)N * 2 * f), out = pr_new(gpu, a, (size_t)N * f);
    pair dout = pr_new(gpu, a, (size_t)N * f), dgu = pr_new(gpu, a, (size_t)N * 2 * f);
    pr_normal(&gu, &r, 0, 3);
    pr_normal(&dout, &r, 0, 1);
    pr_normal(&dgu, &r, 0, 1);
    g_cpu->swiglu_fwd(g_cpu, out.c, gu.c, N, f);
    gpu->swiglu_fwd(gpu, out.g, gu.g, N, f);
    pr_check(&out, "swiglu_fwd", TOL_ELEM);
    g_cpu->swiglu_bwd(g_cpu, dgu.c, dout.c, gu.c, N, f);
    gpu->swiglu_bwd(gpu, dgu.g, dout.g, gu.g, N, f);
    pr_check(&dgu, "swiglu_bwd", TOL_ELEM);

    const size_t n = 5003;
    pair x = pr_new(gpu, a, n), y = pr_new(gpu, a, n), dy = pr_new(gpu, a, n),
         dx = pr_new(gpu, a, n);
    pr_normal(&x, &r, 0, 4);
    pr_normal(&dy, &r, 0, 1);
    pr_normal(&dx, &r, 0, 1);
    g_cpu->silu_fwd(g_cpu, y.c, x.c, n);
    gpu->silu_fwd(gpu, y.g, x.g, n);
    pr_check(&y, "silu_fwd", TOL_ELEM);
    g_cpu->silu_bwd(g_cpu, dx.c, dy.c, x.c, n);
    gpu->silu_bwd(gpu, dx.g, dy.g, x.g, n);
    pr_check(&dx, "silu_bwd", TOL_ELEM);
    pr_free(&gu);
    pr_free(&out);
    pr_free(&dout);
    pr_free(&dgu);
    pr_free(&x);
    pr_free(&y);
    pr_free(&dy);
    pr_free(&dx);
}
END_TEST

START_TEST(test_add_scale) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    kprng r;
    kprng_init(&r, 800 + (uint64_t)_i);
    const size_t n = 4099;
    pair x = pr_new(gpu, a, n), y = pr_new(gpu, a, n), z = pr_new(gpu, a, n);
    pr_normal(&x, &r, 0, 1);
    pr_normal(&y, &r, 0, 1);
    g_cpu->add(g_cpu, z.c, x.c, y.c, n);
    gpu->add(gpu, z.g, x.g, y.g, n);
    pr_check(&z, "add", TOL_ELEM);
    g_cpu->add(g_cpu, x.c, x.c, y.c, n); /* out aliases a */
    gpu->add(gpu, x.g, x.g, y.g, n);
    pr_check(&x, "add (out = a)", TOL_ELEM);
    g_cpu->add(g_cpu, y.c, x.c, y.c, n); /* out aliases b */
    gpu->add(gpu, y.g, x.g, y.g, n);
    pr_check(&y, "add (out = b)", TOL_ELEM);

    /* add_cols: ResBM's identity paths */
    const int N = 13, ldd = 40, lds = 24, ncols = 20;
    pair dst = pr_new(gpu, a, (size_t)N * ldd), src = pr_new(gpu, a, (size_t)N * lds);
    pr_normal(&dst, &r, 0, 1);
    pr_normal(&src, &r, 0, 1);
    g_cpu->add_cols(g_cpu, dst.c, ldd, src.c, lds, N, ncols);
    gpu->add_cols(gpu, dst.g, ldd, src.g, lds, N, ncols);
    pr_check(&dst, "add_cols", TOL_ELEM);

    /* scale on an A buffer and on an F buffer */
    g_cpu->scale(g_cpu, z.c, KB_F32, n, -0.37f);
    gpu->scale(gpu, z.g, a, n, -0.37f);
    pr_check(&z, "scale (A)", TOL_ELEM);
    pair f = pr_new(gpu, KB_F32, n);
    pr_normal(&f, &r, 0, 1);
    g_cpu->scale(g_cpu, f.c, KB_F32, n, 3.5f);
    gpu->scale(gpu, f.g, KB_F32, n, 3.5f);
    pr_check(&f, "scale (F)", TOL_ELEM);
    pr_free(&x);
    pr_free(&y);
    pr_free(&z);
    pr_free(&dst);
    pr_free(&src);
    pr_free(&f);
}
END_TEST

START_TEST(test_sumsq) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    kprng r;
    kprng_init(&r, 900 + (uint64_t)_i);
    static const size_t sizes[] = {1, 100, 65537, 3000017};
    for (int s = 0; s < 4; s++) {
        for (int k = 0; k < 2; k++) {
            kb_dtype t = k ? KB_F32 : a;
            pair x = pr_new(gpu, t, sizes[s]);
            pr_normal(&x, &r, 0.1, 1.5);
            double c = g_cpu->sumsq(g_cpu, x.c, KB_F32, x.n);
            double g = gpu->sumsq(gpu, x.g, t, x.n);
            double e = fabs(g - c) / (c > 1e-300 ? c : 1e-300);
            printf("  sumsq n=%-8zu %s  cpu %.17g cuda %.17g rel %.3e (tol 1e-10)\n", x.n, tname(t),
                   c, g, e);
            ck_assert_msg(e <= 1e-10, "sumsq n=%zu: rel err %.3e", x.n, e);
            pr_free(&x);
        }
    }
}
END_TEST

/* ---- cross-entropy ---- */

START_TEST(test_crossentropy) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    kprng r;
    kprng_init(&r, 1000 + (uint64_t)_i);
    static const int cases[][2] = {{17, 1000}, {4, 32775}, {3, 5}}; /* N, V */
    for (int c = 0; c < 3; c++) {
        const int N = cases[c][0], V = cases[c][1];
        const float dscale = 1.0f / (float)N;
        ipair tgt = ip_new(gpu, (size_t)N, &r, 0, V);
        pair logits = pr_new(gpu, a, (size_t)N * V), dlogits = pr_new(gpu, a, (size_t)N * V);
        pair loss = pr_new(gpu, KB_F32, (size_t)N);
        pr_normal(&logits, &r, 0, 3);
        g_cpu->crossentropy(g_cpu, loss.c, dlogits.c, logits.c, tgt.c, N, V, dscale);
        gpu->crossentropy(gpu, loss.g, dlogits.g, logits.g, tgt.g, N, V, dscale);
        pr_check(&loss, "crossentropy loss", TOL_ELEM);
        pr_check(&dlogits, "crossentropy dlogits", TOL_ELEM);
        /* loss only, then the gradient written over the logits (aliasing) */
        pr_normal(&loss, &r, 0, 1);
        g_cpu->crossentropy(g_cpu, loss.c, NULL, logits.c, tgt.c, N, V, dscale);
        gpu->crossentropy(gpu, loss.g, NULL, logits.g, tgt.g, N, V, dscale);
        pr_check(&loss, "crossentropy loss (no grad)", TOL_ELEM);
        g_cpu->crossentropy(g_cpu, loss.c, logits.c, logits.c, tgt.c, N, V, dscale);
        gpu->crossentropy(gpu, loss.g, logits.g, logits.g, tgt.g, N, V, dscale);
        pr_check(&logits, "crossentropy dlogits in place", TOL_ELEM);
        ip_free(&tgt);
        pr_free(&logits);
        pr_free(&dlogits);
        pr_free(&loss);
    }
}
END_TEST

/* ---- int8 ---- */

START_TEST(test_quant) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    kprng r;
    kprng_init(&r, 1100 + (uint64_t)_i);
    const int N = 21, d = 300;
    const size_t nd = (size_t)N * d;
    pair x = pr_new(gpu, a, nd), scale = pr_new(gpu, KB_F32, (size_t)N), y = pr_new(gpu, a, nd);
    for (size_t i = 0; i < nd; i++) x.h[i] = (float)(kprng_normal(&r) * (1 + (i / d) % 5));
    for (int j = 0; j < d; j++) x.h[(size_t)7 * d + j] = 0.0f; /* a zero row */
    x.h[3] = 2.5f * 0.03f;                                     /* values near ties */
    pr_set(&x, x.h);
    int8_t *qc = g_cpu->alloc(g_cpu, nd), *qg = gpu->alloc(gpu, nd);
    int8_t *qh = xcalloc(nd, 1);
    g_cpu->quant_int8(g_cpu, qc, scale.c, x.c, N, d);
    gpu->quant_int8(gpu, qg, scale.g, x.g, N, d);
    gpu->download_raw(gpu, qh, qg, nd);
    size_t mismatches = 0;
    for (size_t i = 0; i < nd; i++) mismatches += qh[i] != qc[i];
    printf("  %-40s %s  %zu of %zu codes differ (tol 0)\n", "quant_int8 q", tname(a), mismatches,
           nd);
    ck_assert_uint_eq(mismatches, 0);
    pr_check(&scale, "quant_int8 scale", 0.0);
    /* dequant from the same codes and scales */
    g_cpu->download(g_cpu, scale.h, scale.c, KB_F32, scale.n);
    pr_set(&scale, scale.h);
    g_cpu->dequant_int8(g_cpu, y.c, qc, scale.c, N, d);
    gpu->dequant_int8(gpu, y.g, qg, scale.g, N, d);
    pr_check(&y, "dequant_int8", 0.0);
    g_cpu->free(g_cpu, qc);
    gpu->free(gpu, qg);
    free(qh);
    pr_free(&x);
    pr_free(&scale);
    pr_free(&y);
}
END_TEST

/* ---- optimizers (fp32 state; run on the fp32 instance and the bf16 one alike) ---- */

START_TEST(test_optim) {
    kb_backend *gpu = gpu_for(_i);
    kprng r;
    kprng_init(&r, 1200 + (uint64_t)_i);
    const size_t n = 100003;
    pair p = pr_new(gpu, KB_F32, n), g = pr_new(gpu, KB_F32, n), m = pr_new(gpu, KB_F32, n);
    pair v = pr_new(gpu, KB_F32, n);
    pr_normal(&p, &r, 0, 0.05);
    pr_normal(&m, &r, 0, 0.01);
    pr_uniform(&v, &r, 0, 1e-3);
    /* an AdamW step, then an NAdam-like step (c_g != 0) */
    const kb_adam_coef cs[2] = {
        {2e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f / (1.0f - 0.9f), 0.0f, 1.0f / (1.0f - 0.95f)},
        {2e-4f, 0.95f, 0.95f, 1e-8f, 0.1f, 7.5f, 0.33f, 10.2f},
    };
    for (int k = 0; k < 2; k++) {
        pr_normal(&g, &r, 0, 0.01);
        g_cpu->adam_step(g_cpu, p.c, g.c, m.c, v.c, n, &cs[k]);
        gpu->adam_step(gpu, p.g, g.g, m.g, v.g, n, &cs[k]);
    }
    pr_check(&p, "adam_step p", TOL_ELEM);
    pr_check(&m, "adam_step m", TOL_ELEM);
    pr_check(&v, "adam_step v", TOL_ELEM);
    /* Nesterov outer step */
    for (int k = 0; k < 2; k++) {
        pr_normal(&g, &r, 0, 0.01);
        g_cpu->nesterov_step(g_cpu, p.c, m.c, g.c, n, 0.7f, 0.9f);
        gpu->nesterov_step(gpu, p.g, m.g, g.g, n, 0.7f, 0.9f);
    }
    pr_check(&p, "nesterov_step w", TOL_ELEM);
    pr_check(&m, "nesterov_step mom", TOL_ELEM);
    pr_free(&p);
    pr_free(&g);
    pr_free(&m);
    pr_free(&v);
}
END_TEST

/* ---- determinism: the same inputs give the same bytes ---- */

/* Downloads n bytes of a device buffer into a fresh host copy. */
static unsigned char *grab(kb_backend *gpu, const void *p, size_t bytes) {
    unsigned char *h = xcalloc(bytes, 1);
    gpu->download_raw(gpu, h, p, bytes);
    return h;
}

START_TEST(test_determinism) {
    kb_backend *gpu = gpu_for(_i);
    const kb_dtype a = gpu->act;
    const size_t as = kb_dtype_size(a);
    kprng r;
    kprng_init(&r, 1300 + (uint64_t)_i);
    const int B = 2, T = 200, nh = 8, nkv = 2, hd = 128, N = B * T;
    const int W = (nh + 2 * nkv) * hd, OW = nh * hd, V = 5000, d = 512;
    pair qkv = pr_new(gpu, a, (size_t)N * W), dout = pr_new(gpu, a, (size_t)N * OW);
    pair x = pr_new(gpu, a, (size_t)N * d), w = pr_new(gpu, a, (size_t)d);
    pair logits = pr_new(gpu, a, (size_t)N * V);
    pr_normal(&qkv, &r, 0, 1);
    pr_normal(&dout, &r, 0, 1);
    pr_normal(&x, &r, 0, 1);
    pr_normal(&w, &r, 1, 0.1);
    pr_normal(&logits, &r, 0, 2);
    ipair tok = ip_new(gpu, (size_t)N, &r, 0, 37); /* many repeats */
    void *out = gpu->alloc(gpu, (size_t)N * OW * as),
         *lse = gpu->alloc(gpu, (size_t)B * nh * T * 4);
    void *dqkv = gpu->alloc(gpu, (size_t)N * W * as), *dx = gpu->alloc(gpu, (size_t)N * d * as);
    void *rstd = gpu->alloc(gpu, (size_t)N * 4), *dw = gpu->alloc(gpu, (size_t)d * 4);
    void *dwte = gpu->alloc(gpu, (size_t)37 * d * 4), *loss = gpu->alloc(gpu, (size_t)N * 4);
    void *dl = gpu->alloc(gpu, (size_t)N * V * as), *wg = gpu->alloc(gpu, (size_t)d * d * 4);

    unsigned char *first[9] = {0};
    const size_t bytes[9] = {(size_t)N * OW * as, (size_t)B * nh * T * 4, (size_t)N * W * as,
                             (size_t)N * d * as,  (size_t)d * 4,          (size_t)37 * d * 4,
                             (size_t)N * 4,       (size_t)N * V * as,     (size_t)d * d * 4};
    double ss[2];
    for (int run = 0; run < 2; run++) {
        gpu->zero(gpu, dqkv, bytes[2]);
        gpu->zero(gpu, dx, bytes[3]);
        gpu->zero(gpu, dw, bytes[4]);
        gpu->zero(gpu, dwte, bytes[5]);
        gpu->attention_fwd(gpu, out, lse, qkv.g, B, T, nh, nkv, hd);
        gpu->attention_bwd(gpu, dqkv, dout.g, qkv.g, out, lse, B, T, nh, nkv, hd);
        gpu->rmsnorm_fwd(gpu, dx, rstd, x.g, w.g, N, d, 1e-5f);
        gpu->zero(gpu, dx, bytes[3]);
        gpu->rmsnorm_bwd(gpu, dx, dw, x.g, x.g, w.g, rstd, N, d);
        gpu->embedding_bwd(gpu, dwte, tok.g, x.g, N, d);
        gpu->crossentropy(gpu, loss, dl, logits.g, tok.g, N, V, 1.0f / N);
        gpu->gemm(gpu, 1, 0, d, d, N, 1.0f, x.g, a, d, x.g, a, d, 0.0f, wg, KB_F32, d);
        ss[run] = gpu->sumsq(gpu, qkv.g, a, qkv.n);
        const void *ptrs[9] = {out, lse, dqkv, dx, dw, dwte, loss, dl, wg};
        static const char *names[9] = {"attention out", "lse",        "attention dqkv",
                                       "rmsnorm dx",    "rmsnorm dw", "embedding dwte",
                                       "ce loss",       "ce dlogits", "gemm"};
        for (int k = 0; k < 9; k++) {
            unsigned char *h = grab(gpu, ptrs[k], bytes[k]);
            if (run == 0) {
                first[k] = h;
            } else {
                ck_assert_msg(memcmp(first[k], h, bytes[k]) == 0, "%s differs between runs",
                              names[k]);
                free(h);
                free(first[k]);
            }
        }
    }
    ck_assert_msg(memcmp(&ss[0], &ss[1], sizeof(double)) == 0, "sumsq differs between runs");
    printf("  determinism (%s): 10 outputs bit-identical over two runs\n", tname(a));
    void *bufs[] = {out, lse, dqkv, dx, rstd, dw, dwte, loss, dl, wg};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++) gpu->free(gpu, bufs[k]);
    pr_free(&qkv);
    pr_free(&dout);
    pr_free(&x);
    pr_free(&w);
    pr_free(&logits);
    ip_free(&tok);
}
END_TEST

static Suite *cuda_suite(void) {
    Suite *s = suite_create("cuda_vs_cpu");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_memory, 0, 2);
    tcase_add_loop_test(tc, test_gemm, 0, 2);
    tcase_add_loop_test(tc, test_embedding, 0, 2);
    tcase_add_loop_test(tc, test_rmsnorm, 0, 2);
    tcase_add_loop_test(tc, test_rope, 0, 2);
    tcase_add_loop_test(tc, test_attention, 0, 2);
    tcase_add_loop_test(tc, test_swiglu_silu, 0, 2);
    tcase_add_loop_test(tc, test_add_scale, 0, 2);
    tcase_add_loop_test(tc, test_sumsq, 0, 2);
    tcase_add_loop_test(tc, test_crossentropy, 0, 2);
    tcase_add_loop_test(tc, test_quant, 0, 2);
    tcase_add_loop_test(tc, test_optim, 0, 2);
    tcase_add_loop_test(tc, test_determinism, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

/* CUDA contexts do not survive fork(): the tests run in this process. */
CHECK_MAIN(.suite = cuda_suite, .setup = open_backends, .teardown = close_backends, .no_fork = 1)
