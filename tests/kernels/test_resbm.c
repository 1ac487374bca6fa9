/* tests/kernels/test_resbm.c: the compressed stage boundaries: ResBM is exactly the identity path
 * at initialisation, its encoder and decoder (and the linear bottleneck) have correct
 * gradients, int8 quantises within half a step both ways, wire sizes agree with the
 * model's accounting, and a ResBM pipeline learns. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "kernels/model.h"
#include "kernels/stage.h"
#include "tests/kernels/stage_testutil.h"
#include "tests/check_main.h"

#define FD_ATOL 1e-3
#define FD_RTOL 2e-2

static km_boundary resbm(int k, int hidden) {
    km_boundary b = {KM_COMP_RESBM, k, hidden};
    return b;
}

static km_boundary linear(int k) {
    km_boundary b = {KM_COMP_LINEAR, k, 0};
    return b;
}

static km_boundary quant8(void) {
    km_boundary b = {KM_COMP_INT8, 0, 0};
    return b;
}

/* A middle stage of the tiny model: blocks [first, first + nb), boundaries in and out. */
static ks_stage_config middle(int nb, km_boundary in, km_boundary out) {
    ks_stage_config c = {.model = st_tiny_model(4),
                         .first_block = 1,
                         .n_blocks = nb,
                         .has_embedding = 0,
                         .has_head = 0,
                         .in = in,
                         .out = out,
                         .batch = 2,
                         .recompute = 1,
                         .slots = 1,
                         .seed = 3};
    return c;
}

/* Sender (stage 0, ResBM encoder) and receiver (stage 1, ResBM decoder) at init. */
START_TEST(test_resbm_identity_at_init) {
    kb_backend *be = kb_cpu_open();
    const km_config m = st_tiny_model(3);
    const int k = 4, d = m.d_model;
    ks_stage_config sc = {.model = m,
                          .first_block = 0,
                          .n_blocks = 1,
                          .has_embedding = 1,
                          .in = st_none(),
                          .out = resbm(k, 8),
                          .batch = 2,
                          .recompute = 1,
                          .slots = 1,
                          .seed = 9};
    ks_stage_config rc = sc;
    rc.first_block = 1;
    rc.has_embedding = 0;
    rc.in = resbm(k, 8);
    rc.out = st_none();
    ks_stage *snd = st_new(be, &sc), *rcv = st_new(be, &rc);
    const int N = ks_stage_tokens(snd);
    ck_assert_int_eq(ks_stage_output_wire(snd).width, k);
    int32_t *tok = st_tokens(N, m.vocab, 1);
    float *y = GC_CALLOC((size_t)N * k, 4), *out = GC_CALLOC((size_t)N * d, 4);
    ks_forward(snd, 0, tok, y);
    const float *x = ks_residual_out(snd, 0);
    for (int r = 0; r < N; r++)
        for (int j = 0; j < k; j++) ck_assert(y[r * k + j] == x[r * d + j]); /* y = x[:, :k] */
    ks_forward(rcv, 0, y, out);
    const float *xr = ks_residual_in(rcv, 0);
    double tail = 0, all = 0;
    for (int r = 0; r < N; r++)
        for (int j = 0; j < d; j++) {
            ck_assert(xr[r * d + j] == (j < k ? y[r * k + j] : 0.0f)); /* x' = pad(y) */
            all += (double)x[r * d + j] * x[r * d + j];
            if (j >= k) tail += (double)x[r * d + j] * x[r * d + j];
        }
    /* the reconstruction error at init is the energy of the dropped channels */
    double err = ks_recon_error(rcv, 0, x);
    ck_assert_msg(fabs(err - sqrt(tail / all)) <= 1e-6, "recon error %g, want %g", err,
                  sqrt(tail / all));
    ck_assert(err > 0.5 && err < 1.0);
    free(tok);
    free(y);
    free(out);
    ks_stage_free(snd);
    ks_stage_free(rcv);
    be->close(be);
}
END_TEST

static void fd_middle(km_boundary in, km_boundary out, int nb, uint64_t seed) {
    kb_backend *be = kb_cpu_open();
    ks_stage_config cfg = middle(nb, in, out);
    ks_stage *st = st_new(be, &cfg);
    st_randomize(st, seed);
    ks_wire iw = ks_stage_input_wire(st);
    float *x = GC_CALLOC(iw.mem_bytes, 1);
    gc_fill_normal(x, (size_t)iw.rows * iw.width, seed + 1, 0, 1);
    ck_assert_int_eq(st_fd_check(st, x, NULL, 24, FD_ATOL, FD_RTOL), 0);
    free(x);
    ks_stage_free(st);
    be->close(be);
}

/* Decoder then encoder with nothing between them, then around a block. */
START_TEST(test_fd_resbm_boundaries) { fd_middle(resbm(4, 8), resbm(6, 5), 0, 31); }
END_TEST
START_TEST(test_fd_resbm_around_block) { fd_middle(resbm(4, 8), resbm(4, 8), 1, 32); }
END_TEST
START_TEST(test_fd_linear_boundaries) { fd_middle(linear(4), linear(8), 0, 33); }
END_TEST
START_TEST(test_fd_linear_around_block) { fd_middle(linear(8), linear(4), 1, 34); }
END_TEST

/* The last stage with a ResBM decoder, and the first with a ResBM encoder. */
START_TEST(test_fd_resbm_end_stages) {
    kb_backend *be = kb_cpu_open();
    const km_config m = st_tiny_model(2);
    ks_stage_config first = {.model = m,
                             .first_block = 0,
                             .n_blocks = 1,
                             .has_embedding = 1,
                             .in = st_none(),
                             .out = resbm(4, 8),
                             .batch = 2,
                             .recompute = 1,
                             .slots = 1,
                             .seed = 5};
    ks_stage_config last = first;
    last.first_block = 1;
    last.has_embedding = 0;
    last.has_head = 1;
    last.in = resbm(4, 8);
    last.out = st_none();
    ks_stage *a = st_new(be, &first), *b = st_new(be, &last);
    st_randomize(a, 41);
    st_randomize(b, 42);
    const int N = ks_stage_tokens(a);
    int32_t *tok = st_tokens(N, m.vocab, 1), *tgt = st_tokens(N, m.vocab, 2);
    float *y = GC_CALLOC((size_t)N * 4, 4);
    gc_fill_normal(y, (size_t)N * 4, 43, 0, 1);
    ck_assert_int_eq(st_fd_check(a, tok, NULL, 24, FD_ATOL, FD_RTOL), 0);
    ck_assert_int_eq(st_fd_check(b, y, tgt, 24, 1e-4, FD_RTOL), 0);
    free(tok);
    free(tgt);
    free(y);
    ks_stage_free(a);
    ks_stage_free(b);
    be->close(be);
}
END_TEST

/* With ResBM on both sides, kept activations and recompute agree bit for bit, with a
 * second microbatch forwarded in between (so recompute cannot lean on leftovers). */
START_TEST(test_resbm_recompute_equals_keep) {
    kb_backend *be = kb_cpu_open();
    ks_stage_config rc = middle(1, resbm(4, 8), resbm(6, 5)), kc = rc;
    kc.recompute = 0;
    kc.slots = 2;
    ks_stage *a = st_new(be, &rc), *b = st_new(be, &kc);
    st_randomize(a, 51);
    st_randomize(b, 51);
    const int N = ks_stage_tokens(a);
    float *x1 = GC_CALLOC((size_t)N * 4, 4), *x2 = GC_CALLOC((size_t)N * 4, 4);
    float *o = GC_CALLOC((size_t)N * 6, 4), *g = GC_CALLOC((size_t)N * 6, 4);
    float *da = GC_CALLOC((size_t)N * 4, 4), *db = GC_CALLOC((size_t)N * 4, 4);
    gc_fill_normal(x1, (size_t)N * 4, 1, 0, 1);
    gc_fill_normal(x2, (size_t)N * 4, 3, 0, 1);
    gc_fill_normal(g, (size_t)N * 6, 2, 0, 1);
    ks_zero_grad(a);
    ks_zero_grad(b);
    ks_forward(a, 0, x1, o);
    ks_forward(a, 0, x2, o);
    ks_forward(b, 0, x1, o);
    ks_forward(b, 1, x2, o);
    ks_backward(a, 0, x1, g, da);
    ks_backward(b, 0, NULL, g, db);
    ck_assert(memcmp(da, db, (size_t)N * 4 * 4) == 0);
    ck_assert(memcmp(ks_stage_grads(a), ks_stage_grads(b), ks_stage_param_count(a) * 4) == 0);
    free(x1);
    free(x2);
    free(o);
    free(g);
    free(da);
    free(db);
    ks_stage_free(a);
    ks_stage_free(b);
    be->close(be);
}
END_TEST

/* Every boundary parameter gradient accumulates over backwards (the FD checks start
 * from zero, so they cannot tell adding from overwriting). */
START_TEST(test_boundary_grads_accumulate) {
    kb_backend *be = kb_cpu_open();
    const km_boundary pairs[2][2] = {{{KM_COMP_RESBM, 4, 8}, {KM_COMP_RESBM, 6, 5}},
                                     {{KM_COMP_LINEAR, 4, 0}, {KM_COMP_LINEAR, 8, 0}}};
    for (int i = 0; i < 2; i++) {
        ks_stage_config cfg = middle(1, pairs[i][0], pairs[i][1]);
        ks_stage *st = st_new(be, &cfg);
        st_randomize(st, 71);
        ks_wire iw = ks_stage_input_wire(st), ow = ks_stage_output_wire(st);
        float *x = GC_CALLOC(iw.mem_bytes, 1), *o = GC_CALLOC(ow.mem_bytes, 1);
        float *g = GC_CALLOC(ow.mem_bytes, 1), *dx = GC_CALLOC(iw.mem_bytes, 1);
        gc_fill_normal(x, (size_t)iw.rows * iw.width, 1, 0, 1);
        gc_fill_normal(g, (size_t)ow.rows * ow.width, 2, 0, 1);
        const size_t n = ks_stage_param_count(st);
        float *once = GC_CALLOC(n, sizeof(float));
        ks_zero_grad(st);
        ks_forward(st, 0, x, o);
        ks_backward(st, 0, x, g, dx);
        memcpy(once, ks_stage_grads(st), n * sizeof(float));
        ks_backward(st, 0, x, g, dx);
        const float *twice = ks_stage_grads(st);
        for (size_t e = 0; e < n; e++)
            ck_assert_msg(fabsf(twice[e] - 2 * once[e]) <= 1e-6f * (1e-6f + fabsf(once[e])),
                          "gradient element %zu did not accumulate", e);
        free(x);
        free(o);
        free(g);
        free(dx);
        free(once);
        ks_stage_free(st);
    }
    be->close(be);
}
END_TEST

/* int8 both ways: activations and returned gradients within half a quantisation step,
 * and the backward is straight through (the same as an uncompressed boundary fed the
 * dequantised gradient). */
START_TEST(test_int8_boundary) {
    kb_backend *be = kb_cpu_open();
    const int d = 16;
    ks_stage_config qc = middle(1, quant8(), quant8()), nc = middle(1, st_none(), st_none());
    ks_stage *q = st_new(be, &qc), *n = st_new(be, &nc);
    st_randomize(q, 61);
    st_randomize(n, 61);
    const int N = ks_stage_tokens(q);
    ks_wire w = ks_stage_input_wire(q);
    ck_assert_int_eq(w.kind, KS_WIRE_INT8);
    ck_assert(w.scale_offset % 16 == 0 && w.scale_offset >= (size_t)N * d);
    ck_assert(w.mem_bytes == w.scale_offset + (size_t)N * 4);
    ck_assert(w.wire_bytes == (int64_t)N * d + (int64_t)N * 4);
    /* a sender's residual, quantised onto the wire */
    float *x = GC_CALLOC((size_t)N * d, 4);
    gc_fill_normal(x, (size_t)N * d, 1, 0, 2);
    char *win = GC_CALLOC(w.mem_bytes, 1), *wout = GC_CALLOC(w.mem_bytes, 1);
    char *gin = GC_CALLOC(w.mem_bytes, 1), *gout = GC_CALLOC(w.mem_bytes, 1);
    be->quant_int8(be, (int8_t *)win, (float *)(win + w.scale_offset), x, N, d);
    ks_forward(q, 0, win, wout);
    const float *xr = ks_residual_in(q, 0), *sc = (const float *)(win + w.scale_offset);
    for (int r = 0; r < N; r++)
        for (int j = 0; j < d; j++)
            ck_assert(fabsf(xr[r * d + j] - x[r * d + j]) <= 0.5f * sc[r] * (1 + 1e-5f));
    double err = ks_recon_error(q, 0, x);
    ck_assert(err > 0 && err < 0.01);
    /* the uncompressed twin, fed the same dequantised input */
    float *xin = GC_CALLOC((size_t)N * d, 4), *nout = GC_CALLOC((size_t)N * d, 4);
    memcpy(xin, xr, (size_t)N * d * 4);
    ks_forward(n, 0, xin, nout);
    /* an output gradient on the int8 wire; the twin gets its dequantised version */
    float *dy = GC_CALLOC((size_t)N * d, 4), *dyq = GC_CALLOC((size_t)N * d, 4);
    gc_fill_normal(dy, (size_t)N * d, 2, 0, 1);
    be->quant_int8(be, (int8_t *)gout, (float *)(gout + w.scale_offset), dy, N, d);
    be->dequant_int8(be, dyq, (const int8_t *)gout, (const float *)(gout + w.scale_offset), N, d);
    float *dn = GC_CALLOC((size_t)N * d, 4);
    ks_zero_grad(q);
    ks_zero_grad(n);
    ks_backward(q, 0, win, gout, gin);
    ks_backward(n, 0, xin, dyq, dn);
    ck_assert(memcmp(ks_stage_grads(q), ks_stage_grads(n), ks_stage_param_count(q) * 4) == 0);
    /* the gradient sent back is the twin's, quantised */
    const int8_t *gq = (const int8_t *)gin;
    const float *gs = (const float *)(gin + w.scale_offset);
    for (int r = 0; r < N; r++) {
        ck_assert(gs[r] > 0);
        for (int j = 0; j < d; j++)
            ck_assert(fabsf(gq[r * d + j] * gs[r] - dn[r * d + j]) <= 0.5f * gs[r] * (1 + 1e-5f));
    }
    free(x);
    free(win);
    free(wout);
    free(gin);
    free(gout);
    free(xin);
    free(nout);
    free(dy);
    free(dyq);
    free(dn);
    ks_stage_free(q);
    ks_stage_free(n);
    be->close(be);
}
END_TEST

/* Wire sizes: Orion's published 140.6 MB -> 2.2 MB per hop (8000 tokens, bf16). */
START_TEST(test_wire_formats) {
    km_config o = km_orion_100b();
    const km_boundary none = {KM_COMP_NONE, 0, 0}, rb = {KM_COMP_RESBM, 144, 1024},
                      lin = {KM_COMP_LINEAR, 144, 0}, q8 = {KM_COMP_INT8, 0, 0};
    ks_wire w = ks_wire_format(&o, &none, KB_BF16, 8000);
    ck_assert(w.kind == KS_WIRE_ACT && w.width == 9216 && w.wire_bytes == 147456000);
    ck_assert(w.mem_bytes == 147456000u);
    w = ks_wire_format(&o, &none, KB_F32, 8000);
    ck_assert(w.wire_bytes == 147456000 && w.mem_bytes == 2u * 147456000u);
    w = ks_wire_format(&o, &rb, KB_BF16, 8000);
    ck_assert(w.width == 144 && w.wire_bytes == 2304000 && w.mem_bytes == 2304000u);
    ck_assert(w.wire_bytes == km_activation_bytes(&o, &rb, 8000));
    w = ks_wire_format(&o, &lin, KB_F32, 8000);
    ck_assert(w.width == 144 && w.wire_bytes == 2304000 && w.mem_bytes == 4608000u);
    w = ks_wire_format(&o, &q8, KB_F32, 8000);
    ck_assert(w.kind == KS_WIRE_INT8 && w.wire_bytes == km_activation_bytes(&o, &q8, 8000));
    ck_assert(w.wire_bytes == 8000LL * 9216 + 8000LL * 4);
    ck_assert(w.mem_bytes == (size_t)w.wire_bytes); /* 73,728,000 is a multiple of 16 */
}
END_TEST

/* The linear bottleneck starts as a near-orthogonal projection: x' ~ P x, so the
 * reconstruction error is about sqrt(1 - k/d) (not the > 1 of two unrelated maps). */
START_TEST(test_linear_init_is_projection) {
    kb_backend *be = kb_cpu_open();
    km_config m = {.d_model = 64,
                   .n_blocks = 2,
                   .n_heads = 4,
                   .n_kv_heads = 2,
                   .head_dim = 16,
                   .ffn = 64,
                   .vocab = 64,
                   .seq_len = 8,
                   .rope_theta = 1e4,
                   .norm_eps = 1e-5,
                   .dtype_bytes = 2};
    const int k = 16;
    ks_stage_config sc = {.model = m,
                          .first_block = 0,
                          .n_blocks = 1,
                          .has_embedding = 1,
                          .in = st_none(),
                          .out = linear(k),
                          .batch = 4,
                          .recompute = 1,
                          .slots = 1,
                          .seed = 2};
    ks_stage_config rc = sc;
    rc.first_block = 1;
    rc.has_embedding = 0;
    rc.has_head = 1;
    rc.in = linear(k);
    rc.out = st_none();
    ks_stage *snd = st_new(be, &sc), *rcv = st_new(be, &rc);
    const int N = ks_stage_tokens(snd);
    /* W_d = W_e^T at init */
    const ks_tensor *we = ks_stage_find_tensor(snd, "boundary1.enc.we");
    const ks_tensor *wd = ks_stage_find_tensor(rcv, "boundary1.dec.wd");
    ck_assert(we && wd && we->rows == k && wd->rows == m.d_model);
    for (int a = 0; a < k; a++)
        for (int b = 0; b < m.d_model; b++)
            ck_assert(ks_stage_params(snd)[we->offset + (size_t)a * m.d_model + b] ==
                      ks_stage_params(rcv)[wd->offset + (size_t)b * k + a]);
    int32_t *tok = st_tokens(N, m.vocab, 3);
    float *y = GC_CALLOC((size_t)N * k, 4);
    ks_forward(snd, 0, tok, y);
    (void)ks_last_loss(rcv, y, tok);
    double err = ks_recon_error(rcv, 0, ks_residual_out(snd, 0));
    ck_assert_msg(err > 0.6 && err < 1.0, "linear recon error at init %g (sqrt(1-k/d) = %g)", err,
                  sqrt(1.0 - (double)k / m.d_model));
    free(tok);
    free(y);
    ks_stage_free(snd);
    ks_stage_free(rcv);
    be->close(be);
}
END_TEST

/* A 3-stage ResBM pipeline (4x compression) starts at ln V and learns a fixed batch. */
START_TEST(test_resbm_pipeline_learns) {
    kb_backend *be = kb_cpu_open();
    km_config m = {.d_model = 32,
                   .n_blocks = 3,
                   .n_heads = 2,
                   .n_kv_heads = 1,
                   .head_dim = 16,
                   .ffn = 64,
                   .vocab = 256,
                   .seq_len = 16,
                   .rope_theta = 1e4,
                   .norm_eps = 1e-5,
                   .dtype_bytes = 2};
    km_boundary b = resbm(8, 16);
    st_pipeline pl;
    st_pipeline_init(&pl, be, &m, &b, 2, 99);
    const int N = ks_stage_tokens(pl.st[0]);
    int32_t *seq = st_tokens(N + 1, m.vocab, 5);
    float first = 0, last = st_pipeline_train(&pl, seq, seq + 1, 40, 3e-3, &first);
    const double lnv = log(256.0);
    ck_assert_msg(fabs(first - lnv) < 0.02 * lnv, "loss at init %g, ln V = %g", (double)first, lnv);
    ck_assert_msg(last < 0.6 * first, "loss %g after 40 steps, %g at init", (double)last,
                  (double)first);
    /* the output projections have left zero: the boundary learnt corrections */
    const ks_tensor *w2 = ks_stage_find_tensor(pl.st[0], "boundary1.enc.w2");
    ck_assert(w2 != NULL);
    const float *pw2 = ks_stage_params(pl.st[0]) + w2->offset;
    double ss = 0;
    for (size_t i = 0; i < (size_t)w2->rows * w2->cols; i++) ss += (double)pw2[i] * pw2[i];
    ck_assert(ss > 0);
    free(seq);
    st_pipeline_free(&pl);
    be->close(be);
}
END_TEST

static Suite *resbm_suite(void) {
    Suite *s = suite_create("resbm");
    TCase *tc = tcase_create("boundaries");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_resbm_identity_at_init);
    tcase_add_test(tc, test_fd_resbm_boundaries);
    tcase_add_test(tc, test_fd_resbm_around_block);
    tcase_add_test(tc, test_fd_linear_boundaries);
    tcase_add_test(tc, test_fd_linear_around_block);
    tcase_add_test(tc, test_fd_resbm_end_stages);
    tcase_add_test(tc, test_resbm_recompute_equals_keep);
    tcase_add_test(tc, test_boundary_grads_accumulate);
    tcase_add_test(tc, test_int8_boundary);
    tcase_add_test(tc, test_wire_formats);
    tcase_add_test(tc, test_linear_init_is_projection);
    tcase_add_test(tc, test_resbm_pipeline_learns);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = resbm_suite)
