/* tests/kernels/test_stage.c: the pipeline stage on the CPU backend: finite-difference gradients
 * of first, middle and last stages (parameters and input), recompute against kept
 * activations, a split pipeline against the unsplit model, parameter accounting and
 * initialisation, the optimizer plumbing, and a tiny pipeline that learns. */
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

static ks_stage_config tiny_stage(int n_model_blocks, int first, int nb, int emb, int head) {
    ks_stage_config c = {.model = st_tiny_model(n_model_blocks),
                         .first_block = first,
                         .n_blocks = nb,
                         .has_embedding = emb,
                         .has_head = head,
                         .in = st_none(),
                         .out = st_none(),
                         .batch = 2,
                         .recompute = 1,
                         .slots = 1,
                         .seed = 7};
    return c;
}

START_TEST(test_fd_first_stage) {
    kb_backend *be = kb_cpu_open();
    ks_stage_config cfg = tiny_stage(3, 0, 1, 1, 0);
    ks_stage *st = st_new(be, &cfg);
    st_randomize(st, 11);
    int32_t *tok = st_tokens(ks_stage_tokens(st), cfg.model.vocab, 5);
    ck_assert_int_eq(st_fd_check(st, tok, NULL, 16, FD_ATOL, FD_RTOL), 0);
    free(tok);
    ks_stage_free(st);
    be->close(be);
}
END_TEST

START_TEST(test_fd_middle_stage) {
    kb_backend *be = kb_cpu_open();
    ks_stage_config cfg = tiny_stage(4, 1, 2, 0, 0);
    ks_stage *st = st_new(be, &cfg);
    st_randomize(st, 12);
    const size_t n = (size_t)ks_stage_tokens(st) * cfg.model.d_model;
    float *x = GC_CALLOC(n, sizeof(float));
    gc_fill_normal(x, n, 3, 0, 1);
    ck_assert_int_eq(st_fd_check(st, x, NULL, 16, FD_ATOL, FD_RTOL), 0);
    free(x);
    ks_stage_free(st);
    be->close(be);
}
END_TEST

START_TEST(test_fd_last_stage) {
    kb_backend *be = kb_cpu_open();
    ks_stage_config cfg = tiny_stage(3, 2, 1, 0, 1);
    ks_stage *st = st_new(be, &cfg);
    st_randomize(st, 13);
    const int N = ks_stage_tokens(st);
    const size_t n = (size_t)N * cfg.model.d_model;
    float *x = GC_CALLOC(n, sizeof(float));
    gc_fill_normal(x, n, 4, 0, 1);
    int32_t *tgt = st_tokens(N, cfg.model.vocab, 6);
    /* the loss gradient is O(1/N): tighter absolute tolerance */
    ck_assert_int_eq(st_fd_check(st, x, tgt, 16, 1e-4, FD_RTOL), 0);
    free(x);
    free(tgt);
    ks_stage_free(st);
    be->close(be);
}
END_TEST

/* A one-stage model (embedding, blocks, head) end to end. */
START_TEST(test_fd_whole_model_stage) {
    kb_backend *be = kb_cpu_open();
    ks_stage_config cfg = tiny_stage(2, 0, 2, 1, 1);
    ks_stage *st = st_new(be, &cfg);
    st_randomize(st, 14);
    const int N = ks_stage_tokens(st);
    int32_t *tok = st_tokens(N, cfg.model.vocab, 7), *tgt = st_tokens(N, cfg.model.vocab, 8);
    ck_assert_int_eq(st_fd_check(st, tok, tgt, 12, 1e-4, FD_RTOL), 0);
    free(tok);
    free(tgt);
    ks_stage_free(st);
    be->close(be);
}
END_TEST

/* Two microbatches in flight: kept activations (2 slots) and recompute give the same
 * gradients and input gradients, bit for bit. */
START_TEST(test_recompute_equals_keep) {
    kb_backend *be = kb_cpu_open();
    ks_stage_config rc = tiny_stage(4, 1, 2, 0, 0), kc = rc;
    kc.recompute = 0;
    kc.slots = 2;
    ks_stage *a = st_new(be, &rc), *b = st_new(be, &kc);
    st_randomize(a, 21);
    st_randomize(b, 21);
    const size_t n = (size_t)ks_stage_tokens(a) * rc.model.d_model, bytes = n * sizeof(float);
    float *x1 = GC_CALLOC(n, 4), *x2 = GC_CALLOC(n, 4);
    float *o1 = GC_CALLOC(n, 4), *o2 = GC_CALLOC(n, 4);
    float *g1 = GC_CALLOC(n, 4), *g2 = GC_CALLOC(n, 4);
    float *da1 = GC_CALLOC(n, 4), *da2 = GC_CALLOC(n, 4), *db1 = GC_CALLOC(n, 4),
          *db2 = GC_CALLOC(n, 4);
    gc_fill_normal(x1, n, 1, 0, 1);
    gc_fill_normal(x2, n, 2, 0, 1);
    gc_fill_normal(g1, n, 3, 0, 1);
    gc_fill_normal(g2, n, 4, 0, 1);

    ks_zero_grad(a);
    ks_forward(a, 0, x1, o1);
    ks_forward(a, 0, x2, o2);
    ks_backward(a, 0, x1, g1, da1);
    ks_backward(a, 0, x2, g2, da2);

    float *p1 = GC_CALLOC(n, 4), *p2 = GC_CALLOC(n, 4);
    ks_zero_grad(b);
    ks_forward(b, 0, x1, p1);
    ks_forward(b, 1, x2, p2);
    ck_assert(memcmp(o1, p1, bytes) == 0 && memcmp(o2, p2, bytes) == 0);
    memset(x1, 0, bytes); /* the slot keeps its own copy of the input */
    ks_backward(b, 1, NULL, g2, db2);
    ks_backward(b, 0, NULL, g1, db1);

    ck_assert(memcmp(da1, db1, bytes) == 0);
    ck_assert(memcmp(da2, db2, bytes) == 0);
    /* accumulation order differs (x1 then x2 against x2 then x1): compare closely */
    const float *ga = ks_stage_grads(a), *gb = ks_stage_grads(b);
    double num = 0, den = 0;
    for (size_t i = 0; i < ks_stage_param_count(a); i++) {
        num += (double)(ga[i] - gb[i]) * (ga[i] - gb[i]);
        den += (double)ga[i] * ga[i];
    }
    ck_assert(den > 0 && sqrt(num / den) < 1e-6);
    /* same order: identical */
    ks_zero_grad(b);
    ks_forward(b, 0, x2, p1);
    ks_zero_grad(a);
    ks_backward(a, 0, x2, g2, da2);
    ks_backward(b, 0, NULL, g2, db2);
    ck_assert(memcmp(ga, gb, ks_stage_param_count(a) * sizeof(float)) == 0);

    free(x1);
    free(x2);
    free(o1);
    free(o2);
    free(g1);
    free(g2);
    free(p1);
    free(p2);
    free(da1);
    free(da2);
    free(db1);
    free(db2);
    ks_stage_free(a);
    ks_stage_free(b);
    be->close(be);
}
END_TEST

/* The model split over three stages computes exactly what the unsplit model computes. */
START_TEST(test_pipeline_equals_single_stage) {
    kb_backend *be = kb_cpu_open();
    km_config m = st_tiny_model(3);
    km_boundary none = st_none();
    st_pipeline pl;
    st_pipeline_init(&pl, be, &m, &none, 2, 7);
    ks_stage_config one = tiny_stage(3, 0, 3, 1, 1);
    ks_stage *whole = st_new(be, &one);
    const int N = ks_stage_tokens(whole);
    int32_t *tok = st_tokens(N, m.vocab, 1), *tgt = st_tokens(N, m.vocab, 2);
    for (int s = 0; s < pl.n; s++) ks_zero_grad(pl.st[s]);
    float lp = st_pipeline_step(&pl, tok, tgt), lw = 0;
    ks_zero_grad(whole);
    ks_last_step(whole, tok, tgt, &lw, NULL);
    ck_assert_msg(lp == lw, "pipeline loss %.9g, single stage %.9g", (double)lp, (double)lw);
    int matched = 0;
    for (int s = 0; s < pl.n; s++)
        for (int i = 0; i < ks_stage_n_tensors(pl.st[s]); i++) {
            const ks_tensor *t = ks_stage_tensor(pl.st[s], i);
            const ks_tensor *u = ks_stage_find_tensor(whole, t->name);
            ck_assert_msg(u != NULL, "%s missing in the single stage", t->name);
            size_t n = (size_t)t->rows * t->cols * sizeof(float);
            ck_assert(memcmp(ks_stage_params(pl.st[s]) + t->offset,
                             ks_stage_params(whole) + u->offset, n) == 0);
            ck_assert_msg(memcmp(ks_stage_grads(pl.st[s]) + t->offset,
                                 ks_stage_grads(whole) + u->offset, n) == 0,
                          "gradient of %s differs", t->name);
            matched++;
        }
    ck_assert_int_eq(matched, ks_stage_n_tensors(whole));
    free(tok);
    free(tgt);
    ks_stage_free(whole);
    st_pipeline_free(&pl);
    be->close(be);
}
END_TEST

START_TEST(test_param_accounting) {
    kb_backend *be = kb_cpu_open();
    km_config m = st_tiny_model(5);
    km_split sp = {.n_stages = 3, .blocks = {1, 3, 1}};
    const km_boundary bs[4] = {
        {KM_COMP_NONE, 0, 0}, {KM_COMP_RESBM, 4, 8}, {KM_COMP_LINEAR, 4, 0}, {KM_COMP_INT8, 0, 0}};
    for (int bi = 0; bi < 4; bi++) {
        int first = 0;
        for (int s = 0; s < 3; s++) {
            ks_stage_config cfg = {.model = m,
                                   .first_block = first,
                                   .n_blocks = sp.blocks[s],
                                   .has_embedding = s == 0,
                                   .has_head = s == 2,
                                   .in = s == 0 ? st_none() : bs[bi],
                                   .out = s == 2 ? st_none() : bs[bi],
                                   .batch = 1,
                                   .recompute = 1,
                                   .slots = 1,
                                   .seed = 1};
            ks_stage *st = st_new(be, &cfg);
            ck_assert_int_eq((int64_t)ks_stage_param_count(st),
                             km_params_stage(&m, &sp, &bs[bi], s));
            size_t next = 0; /* the table tiles the flat buffer */
            for (int i = 0; i < ks_stage_n_tensors(st); i++) {
                const ks_tensor *t = ks_stage_tensor(st, i);
                ck_assert(t->offset == next);
                next += (size_t)t->rows * t->cols;
            }
            ck_assert(next == ks_stage_param_count(st));
            ks_stage_free(st);
            first += sp.blocks[s];
        }
    }
    be->close(be);
}
END_TEST

static double tensor_std(ks_stage *st, const char *name, double *mean) {
    const ks_tensor *t = ks_stage_find_tensor(st, name);
    ck_assert_msg(t != NULL, "no tensor %s", name);
    const float *p = ks_stage_params(st) + t->offset;
    size_t n = (size_t)t->rows * t->cols;
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        s += p[i];
        ss += (double)p[i] * p[i];
    }
    *mean = s / n;
    return sqrt(ss / n - *mean * *mean);
}

START_TEST(test_initialisation) {
    kb_backend *be = kb_cpu_open();
    km_config m = {.d_model = 32,
                   .n_blocks = 3,
                   .n_heads = 2,
                   .n_kv_heads = 1,
                   .head_dim = 16,
                   .ffn = 64,
                   .vocab = 256,
                   .seq_len = 4,
                   .rope_theta = 1e4,
                   .norm_eps = 1e-5,
                   .dtype_bytes = 2};
    ks_stage_config cfg = {.model = m,
                           .first_block = 0,
                           .n_blocks = 3,
                           .has_embedding = 1,
                           .has_head = 1,
                           .in = st_none(),
                           .out = st_none(),
                           .batch = 1,
                           .recompute = 1,
                           .slots = 1,
                           .seed = 42};
    ks_stage *a = st_new(be, &cfg), *b = st_new(be, &cfg);
    cfg.seed = 43;
    ks_stage *c = st_new(be, &cfg);
    const size_t bytes = ks_stage_param_count(a) * sizeof(float);
    ck_assert(memcmp(ks_stage_params(a), ks_stage_params(b), bytes) == 0);
    ck_assert(memcmp(ks_stage_params(a), ks_stage_params(c), bytes) != 0);
    double mean, sd;
    const double out_std = 0.02 / sqrt(2.0 * 3);
    const char *normal[] = {"embedding", "block0.wqkv", "block1.w_gate_up", "lm_head"};
    for (int i = 0; i < 4; i++) {
        sd = tensor_std(a, normal[i], &mean);
        ck_assert_msg(fabs(sd - 0.02) < 0.1 * 0.02 && fabs(mean) < 0.003, "%s: std %g", normal[i],
                      sd);
    }
    const char *outp[] = {"block0.wo", "block2.w_down"};
    for (int i = 0; i < 2; i++) {
        sd = tensor_std(a, outp[i], &mean);
        ck_assert_msg(fabs(sd - out_std) < 0.12 * out_std, "%s: std %g, want %g", outp[i], sd,
                      out_std);
    }
    const char *norms[] = {"block0.attn_norm", "block2.mlp_norm", "final_norm"};
    for (int i = 0; i < 3; i++) {
        sd = tensor_std(a, norms[i], &mean);
        ck_assert(sd == 0.0 && mean == 1.0);
    }
    ks_stage_free(a);
    ks_stage_free(b);
    ks_stage_free(c);
    be->close(be);
}
END_TEST

START_TEST(test_invalid_configs) {
    kb_backend *be = kb_cpu_open();
    char err[256];
    ks_stage_config base = tiny_stage(3, 0, 1, 1, 0), c;
    c = base;
    c.in.method = KM_COMP_RESBM;
    c.in.k = 4;
    c.in.hidden = 4;
    err[0] = 0;
    ck_assert(ks_stage_new(be, &c, err, sizeof err) == NULL && strstr(err, "embedding"));
    c = base;
    c.first_block = 2;
    c.n_blocks = 2;
    ck_assert(ks_stage_new(be, &c, err, sizeof err) == NULL && strstr(err, "n_blocks"));
    c = base;
    c.batch = 0;
    ck_assert(ks_stage_new(be, &c, err, sizeof err) == NULL && strstr(err, "batch"));
    c = base;
    c.recompute = 0;
    c.slots = 0;
    ck_assert(ks_stage_new(be, &c, err, sizeof err) == NULL && strstr(err, "slots"));
    c = base;
    c.out.method = KM_COMP_LINEAR;
    c.out.k = 99;
    ck_assert(ks_stage_new(be, &c, err, sizeof err) == NULL && strstr(err, "k"));
    c = base;
    c.model.n_kv_heads = 3;
    ck_assert(ks_stage_new(be, &c, err, sizeof err) == NULL && strstr(err, "n_kv_heads"));
    be->close(be);
}
END_TEST

/* Gradients accumulate over microbatches; grad_norm and the optimizer step use them. */
START_TEST(test_grad_accumulation_and_step) {
    kb_backend *be = kb_cpu_open();
    ks_stage_config cfg = tiny_stage(2, 0, 2, 1, 1);
    ks_stage *st = st_new(be, &cfg);
    const int N = ks_stage_tokens(st);
    const size_t n = ks_stage_param_count(st);
    int32_t *tok = st_tokens(N, cfg.model.vocab, 1), *tgt = st_tokens(N, cfg.model.vocab, 2);
    float l1, l2;
    ks_zero_grad(st);
    ks_last_step(st, tok, tgt, &l1, NULL);
    float *g1 = GC_CALLOC(n, sizeof(float));
    memcpy(g1, ks_stage_grads(st), n * sizeof(float));
    ks_last_step(st, tok, tgt, &l2, NULL);
    ck_assert(l1 == l2);
    const float *g = ks_stage_grads(st);
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert(fabsf(g[i] - 2.0f * g1[i]) <= 1e-6f * (1e-6f + fabsf(g1[i])));
        ss += (double)g[i] * g[i];
    }
    ck_assert(ss > 0 && fabs(ks_grad_norm(st) - sqrt(ss)) <= 1e-9 * sqrt(ss));
    /* one SGD-like step (Adam's first step moves every parameter with a gradient by
     * about lr against the sign of the clipped gradient) lowers the loss */
    float *p0 = GC_CALLOC(n, sizeof(float));
    memcpy(p0, ks_stage_params(st), n * sizeof(float));
    ko_inner_state opt = ko_inner_init(KO_ADAMW, 1e-3, 0.9, 0.95, 0.0);
    kb_adam_coef c = ko_adam_next(&opt);
    ks_optimizer_step(st, &c, 0.5f);
    const float *p = ks_stage_params(st);
    for (size_t i = 0; i < n; i++)
        if (fabsf(g[i]) > 1e-4f)
            ck_assert(fabsf((p0[i] - p[i]) - 1e-3f * (g[i] > 0 ? 1.0f : -1.0f)) < 1e-5f);
    ck_assert(ks_last_loss(st, tok, tgt) < l1);
    ks_zero_grad(st);
    ck_assert(ks_grad_norm(st) == 0.0);
    free(tok);
    free(tgt);
    free(g1);
    free(p0);
    ks_stage_free(st);
    be->close(be);
}
END_TEST

/* The brief's tiny pipeline: 3 stages, vocab 256, d 32, 2 heads, 1 kv head. */
START_TEST(test_tiny_pipeline_learns) {
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
    km_boundary none = st_none();
    st_pipeline pl;
    st_pipeline_init(&pl, be, &m, &none, 2, 1234);
    const int N = ks_stage_tokens(pl.st[0]);
    int32_t *seq = st_tokens(N + 1, m.vocab, 77);
    float first = 0, last = st_pipeline_train(&pl, seq, seq + 1, 40, 3e-3, &first);
    const double lnv = log(256.0);
    ck_assert_msg(fabs(first - lnv) < 0.02 * lnv, "loss at init %g, ln V = %g", (double)first, lnv);
    ck_assert_msg(last < 0.6 * first, "loss %g after 40 steps, %g at init", (double)last,
                  (double)first);
    free(seq);
    st_pipeline_free(&pl);
    be->close(be);
}
END_TEST

static Suite *stage_suite(void) {
    Suite *s = suite_create("stage");
    TCase *tc = tcase_create("stage");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_fd_first_stage);
    tcase_add_test(tc, test_fd_middle_stage);
    tcase_add_test(tc, test_fd_last_stage);
    tcase_add_test(tc, test_fd_whole_model_stage);
    tcase_add_test(tc, test_recompute_equals_keep);
    tcase_add_test(tc, test_pipeline_equals_single_stage);
    tcase_add_test(tc, test_param_accounting);
    tcase_add_test(tc, test_initialisation);
    tcase_add_test(tc, test_invalid_configs);
    tcase_add_test(tc, test_grad_accumulation_and_step);
    tcase_add_test(tc, test_tiny_pipeline_learns);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = stage_suite)
