/* tests/kernels/test_cuda_stage.c: whole pipeline stages of the CUDA backend against the
 * CPU stage: the first (embedding), a middle one with ResBM boundaries, the last (head and
 * loss), forward and backward, in fp32 and bf16 activations (tolerances and helpers in
 * cuda_testutil.h; no CUDA device: SKIP). Runs in one process (CK_NOFORK).
 * Run on a GPU machine: make test, or ORIONSIM_PLUGIN_DIR=$PWD/build
 * build/tests/test_cuda_stage.
 */
#include "tests/kernels/cuda_testutil.h"

/* ---- whole stages ---- */

static km_config stage_model(void) {
    km_config c = {.d_model = 64,
                   .n_blocks = 4,
                   .n_heads = 4,
                   .n_kv_heads = 2,
                   .head_dim = 16,
                   .ffn = 96,
                   .vocab = 128,
                   .seq_len = 24,
                   .rope_theta = 10000.0,
                   .norm_eps = 1e-5,
                   .dtype_bytes = 2};
    return c;
}

static ks_stage *stage_open(kb_backend *be, const ks_stage_config *cfg) {
    char err[256] = "";
    ks_stage *st = ks_stage_new(be, cfg, err, sizeof err);
    ck_assert_msg(st != NULL, "ks_stage_new (%s): %s", be->name, err);
    return st;
}

/* Random parameters (rounded to the CUDA activation type, so the working copies of both
 * stages hold the same values), written to both stages. */
static void stage_set_params(ks_stage *sc, ks_stage *sg, kb_backend *gpu, kprng *r) {
    const size_t n = ks_stage_param_count(sc);
    float *h = xcalloc(n, sizeof(float));
    for (int i = 0; i < ks_stage_n_tensors(sc); i++) {
        const ks_tensor *t = ks_stage_tensor(sc, i);
        const size_t cnt = (size_t)t->rows * t->cols;
        for (size_t j = 0; j < cnt; j++)
            h[t->offset + j] = t->rows == 1 ? (float)(1.0 + 0.2 * kprng_normal(r))
                                            : (float)(kprng_normal(r) / sqrt((double)t->cols));
    }
    round_if(h, n, gpu->act);
    g_cpu->upload(g_cpu, ks_stage_params(sc), KB_F32, h, n);
    gpu->upload(gpu, ks_stage_params(sg), KB_F32, h, n);
    ks_params_changed(sc);
    ks_params_changed(sg);
    free(h);
}

static void stage_check_f32(kb_backend *gpu, const char *what, const float *gdev,
                            const float *chost, size_t n, double tol) {
    float *a = xcalloc(n, sizeof(float));
    gpu->download(gpu, a, gdev, KB_F32, n);
    check_close(what, KB_F32, a, chost, n, tol);
    free(a);
}

/* Compares a wire buffer (activation type on CUDA, fp32 on the CPU) of n elements. */
static void stage_check_act(kb_backend *gpu, const char *what, const void *gdev, const void *chost,
                            size_t n, double tol) {
    float *a = xcalloc(n, sizeof(float));
    gpu->download(gpu, a, gdev, gpu->act, n);
    check_close(what, gpu->act, a, chost, n, tol);
    free(a);
}

/* Stage input on both sides: tokens, or a random activation of the input wire width. */
static void stage_input(ks_stage *sc, ks_stage *sg, kb_backend *gpu, kprng *r, void **ic, void **ig,
                        size_t *n_out) {
    ks_wire wc = ks_stage_input_wire(sc), wg = ks_stage_input_wire(sg);
    const size_t n = (size_t)wc.rows * wc.width;
    *ic = g_cpu->alloc(g_cpu, wc.mem_bytes);
    *ig = gpu->alloc(gpu, wg.mem_bytes);
    *n_out = n;
    if (wc.kind == KS_WIRE_TOKENS) {
        int32_t *t = xcalloc(n, sizeof(int32_t));
        const int V = ks_stage_get_config(sc)->model.vocab;
        for (size_t i = 0; i < n; i++) t[i] = (int32_t)(kprng_next(r) % (uint64_t)V);
        g_cpu->upload_raw(g_cpu, *ic, t, n * sizeof(int32_t));
        gpu->upload_raw(gpu, *ig, t, n * sizeof(int32_t));
        free(t);
    } else {
        ck_assert_int_eq(wc.kind, KS_WIRE_ACT);
        float *h = xcalloc(n, sizeof(float));
        for (size_t i = 0; i < n; i++) h[i] = (float)kprng_normal(r);
        round_if(h, n, gpu->act);
        g_cpu->upload(g_cpu, *ic, KB_F32, h, n);
        gpu->upload(gpu, *ig, gpu->act, h, n);
        free(h);
    }
}

static void stage_compare(kb_backend *gpu, const ks_stage_config *cfg, const char *label,
                          uint64_t seed) {
    const double tol = gpu->act == KB_BF16 ? TOL_STAGE_BF16 : TOL_CHAIN;
    kprng r;
    kprng_init(&r, seed);
    ks_stage *sc = stage_open(g_cpu, cfg), *sg = stage_open(gpu, cfg);
    const size_t np = ks_stage_param_count(sc);
    ck_assert_uint_eq(np, ks_stage_param_count(sg));
    char what[128];

    /* the same initialisation on both backends, bit for bit */
    snprintf(what, sizeof what, "%s: initial parameters", label);
    stage_check_f32(gpu, what, ks_stage_params(sg), ks_stage_params(sc), np, 0.0);
    stage_set_params(sc, sg, gpu, &r);

    void *ic, *ig;
    size_t nin;
    stage_input(sc, sg, gpu, &r, &ic, &ig, &nin);
    const int in_is_act = ks_stage_input_wire(sc).kind == KS_WIRE_ACT;
    void *dic = NULL, *dig = NULL;
    if (in_is_act) {
        dic = g_cpu->alloc(g_cpu, ks_stage_input_wire(sc).mem_bytes);
        dig = gpu->alloc(gpu, ks_stage_input_wire(sg).mem_bytes);
    }
    ks_zero_grad(sc);
    ks_zero_grad(sg);

    if (cfg->has_head) {
        const size_t N = (size_t)ks_stage_tokens(sc);
        int32_t *t = xcalloc(N, sizeof(int32_t));
        for (size_t i = 0; i < N; i++)
            t[i] = (int32_t)(kprng_next(&r) % (uint64_t)cfg->model.vocab);
        int32_t *tc = g_cpu->alloc(g_cpu, N * sizeof(int32_t)),
                *tg = gpu->alloc(gpu, N * sizeof(int32_t));
        g_cpu->upload_raw(g_cpu, tc, t, N * sizeof(int32_t));
        gpu->upload_raw(gpu, tg, t, N * sizeof(int32_t));
        float lc = 0.0f, lg = 0.0f;
        ks_last_step(sc, ic, tc, &lc, dic);
        ks_last_step(sg, ig, tg, &lg, dig);
        snprintf(what, sizeof what, "%s: loss", label);
        check_close(what, KB_F32, &lg, &lc, 1, gpu->act == KB_BF16 ? TOL_BF16 : TOL_ELEM);
        g_cpu->free(g_cpu, tc);
        gpu->free(gpu, tg);
        free(t);
    } else {
        ks_wire oc = ks_stage_output_wire(sc), og = ks_stage_output_wire(sg);
        ck_assert_int_eq(oc.kind, KS_WIRE_ACT);
        const size_t no = (size_t)oc.rows * oc.width;
        void *outc = g_cpu->alloc(g_cpu, oc.mem_bytes), *outg = gpu->alloc(gpu, og.mem_bytes);
        void *doc = g_cpu->alloc(g_cpu, oc.mem_bytes), *dog = gpu->alloc(gpu, og.mem_bytes);
        ks_forward(sc, 0, ic, outc);
        ks_forward(sg, 0, ig, outg);
        snprintf(what, sizeof what, "%s: forward output", label);
        stage_check_act(gpu, what, outg, outc, no, tol);
        float *h = xcalloc(no, sizeof(float));
        for (size_t i = 0; i < no; i++) h[i] = (float)kprng_normal(&r);
        round_if(h, no, gpu->act);
        g_cpu->upload(g_cpu, doc, KB_F32, h, no);
        gpu->upload(gpu, dog, gpu->act, h, no);
        ks_backward(sc, 0, ic, doc, dic);
        ks_backward(sg, 0, ig, dog, dig);
        free(h);
        g_cpu->free(g_cpu, outc);
        gpu->free(gpu, outg);
        g_cpu->free(g_cpu, doc);
        gpu->free(gpu, dog);
    }
    snprintf(what, sizeof what, "%s: parameter gradients", label);
    stage_check_f32(gpu, what, ks_stage_grads(sg), ks_stage_grads(sc), np, tol);
    /* per tensor too, so a small tensor's error is not hidden by a large one */
    for (int i = 0; i < ks_stage_n_tensors(sc); i++) {
        const ks_tensor *t = ks_stage_tensor(sc, i);
        snprintf(what, sizeof what, "%s: grad %s", label, t->name);
        stage_check_f32(gpu, what, ks_stage_grads(sg) + t->offset, ks_stage_grads(sc) + t->offset,
                        (size_t)t->rows * t->cols, tol);
    }
    if (in_is_act) {
        snprintf(what, sizeof what, "%s: input gradient", label);
        stage_check_act(gpu, what, dig, dic, nin, tol);
        g_cpu->free(g_cpu, dic);
        gpu->free(gpu, dig);
    }
    g_cpu->free(g_cpu, ic);
    gpu->free(gpu, ig);
    ks_stage_free(sc);
    ks_stage_free(sg);
}

START_TEST(test_stage) {
    kb_backend *gpu = gpu_for(_i);
    const km_config m = stage_model();
    const km_boundary none = {KM_COMP_NONE, 0, 0}, resbm = {KM_COMP_RESBM, 16, 32};
    ks_stage_config first = {.model = m,
                             .first_block = 0,
                             .n_blocks = 1,
                             .has_embedding = 1,
                             .has_head = 0,
                             .in = none,
                             .out = resbm,
                             .batch = 2,
                             .recompute = 1,
                             .slots = 1,
                             .seed = 42};
    ks_stage_config middle = first;
    middle.first_block = 1;
    middle.n_blocks = 2;
    middle.has_embedding = 0;
    middle.in = resbm;
    ks_stage_config middle_plain = middle;
    middle_plain.in = none;
    middle_plain.out = none;
    middle_plain.recompute = 0;
    ks_stage_config last = middle;
    last.first_block = 3;
    last.n_blocks = 1;
    last.has_head = 1;
    last.out = none;
    stage_compare(gpu, &first, "stage first (embedding, ResBM out)", 1400);
    stage_compare(gpu, &middle, "stage middle (ResBM in/out)", 1401);
    stage_compare(gpu, &middle_plain, "stage middle (no compression, kept acts)", 1402);
    stage_compare(gpu, &last, "stage last (ResBM in, head)", 1403);
}
END_TEST

static Suite *cuda_stage_suite(void) {
    Suite *s = suite_create("cuda_stage");
    TCase *tc = tcase_create("stages");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_stage, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

/* CUDA contexts do not survive fork(): the tests run in this process. */
CHECK_MAIN(.suite = cuda_stage_suite, .setup = open_backends, .teardown = close_backends,
           .no_fork = 1)
