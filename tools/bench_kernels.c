/* tools/bench_kernels.c: speed of one transformer stage on the local backend.
 *
 *   build/bench_kernels [--backend cpu|cuda|auto] [--dtype fp32|bf16] [--gpu N]
 *                       [--orion] [--d D --ffn F --heads H --kv-heads K --seq T --seqs B
 *                        --blocks N] [--reps R] [--peak-tflops X] [--no-ops]
 *                                                                     (make bench-kernels)
 *
 * A middle stage of N blocks (kernels/stage.h, no boundary compression on either side)
 * is timed on the chosen backend:
 *   forward             ks_forward of a recompute stage (nothing kept)
 *   backward_recompute  ks_backward with recompute on (the forward again, then back)
 *   backward_kept       ks_backward of a stage that kept the forward's activations
 *   optimizer           ks_optimizer_step (Adam over the flat fp32 buffers, then the
 *                       working copy refreshed)
 *   fwd_bwd_kept        forward + backward_kept       (the goal's figure)
 *   fwd_bwd_recompute   forward + backward_recompute  (IOTA's way)
 * Hardware FLOPs are km_task_flops of the measured stage inside a three-stage model
 * [1, N, 1], as sim/calibrate/calibrate.c does, so they follow the simulator's own convention
 * (matmuls at 2 FLOPs per multiply-add, causal attention at half the score matrix,
 * elementwise work not counted, the optimizer at 12 FLOPs per parameter).
 * The reference rate is a plain GEMM through be->gemm at the block's two largest
 * shapes, measured in the same run: the fused gate/up projection (tokens x 2 ffn x d)
 * and the down projection (tokens x d x ffn); the faster of the two is the "GEMM rate".
 * The goal for the CUDA backend is (fwd_bwd_kept TFLOP/s) / (GEMM rate) >= 0.60 on an
 * H100. With --peak-tflops the device's datasheet peak is shown beside it.
 *
 * Unless --no-ops, a second table times each operation of one block alone (forward and
 * backward, on the same shapes), to show where the time goes.
 *
 * Timing: one warm-up call, then the best of R (default 5 on CUDA, 3 on the CPU) timed
 * calls, each followed by be->synchronize. A call under 2 ms is repeated back to back (up
 * to 200 times) inside one timing and the time divided, so launch and synchronisation
 * latency do not count. The two stages (recompute, kept activations) are built one after
 * the other, each initialising its parameters on the host first (tens of seconds at
 * Orion's 1.08e9 parameters per block).
 *
 * Defaults: on CUDA one Orion-100B block (d 9216, ffn 32256, 72/8 heads, head_dim 128,
 * 10 sequences x 800 = 8000 tokens, bf16); on the CPU a scaled-down block that runs in
 * seconds (d 1024, ffn 3584, 16/4 heads, 2 x 256 tokens, fp32); --orion forces Orion's
 * shape; every shape flag given overrides the default (and --orion) field by field.
 * Memory: about 4 x 4 B per parameter (master, gradient, Adam moments) plus the working
 * copy and one microbatch's activations; one Orion block at 8000 tokens needs ~25 GB
 * (bf16 on a GPU; more in fp32 on the CPU, where it also takes hours).
 *
 * Output: an aligned table and one machine-readable line per measurement:
 *   BENCH impl=orionsim name=forward seconds=... flops=... tflops=... pct_gemm=...
 *         [pct_peak=...] backend=... dtype=... shape=d9216_f32256_h72x8_t800x10_n1
 * Exit code: 0, 1 if the backend cannot be opened, 2 on bad flags.
 */
#include "tools/kbench.h"

/* ---- options ----------------------------------------------------------------------- */

typedef struct {
    const char *backend; /* cpu, cuda, auto */
    int dtype;           /* -1 default, else kb_dtype */
    int gpu;
    int orion;
    int d, ffn, heads, kv_heads, seq, seqs, blocks; /* 0: default */
    int reps;
    double peak_tflops; /* 0: not given */
    int ops;
} options;

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: bench_kernels [--backend cpu|cuda|auto] [--dtype fp32|bf16] [--gpu N] [--orion]\n"
        "                     [--d D] [--ffn F] [--heads H] [--kv-heads K] [--seq T] [--seqs B]\n"
        "                     [--blocks N] [--reps R] [--peak-tflops X] [--no-ops]\n\n"
        "Times a middle pipeline stage of N transformer blocks (forward, backward with and\n"
        "without recompute, optimizer step) and a plain GEMM at the block's largest shapes.\n\n"
        "  --backend B        auto (default), cpu or cuda\n"
        "  --dtype T          activation type: bf16 (CUDA default) or fp32 (the CPU's only one)\n"
        "  --gpu N            GPU ordinal (default 0)\n"
        "  --orion            Orion-100B's block: d 9216, ffn 32256, 72/8 heads, 10 x 800 tokens\n"
        "                     (the default on CUDA; on the CPU the default is d 1024, ffn 3584,\n"
        "                     16/4 heads, 2 x 256 tokens)\n"
        "  --d, --ffn, --heads, --kv-heads, --seq, --seqs, --blocks   override one shape field\n"
        "                     (head_dim = d / heads)\n"
        "  --reps R           timed repetitions after a warm-up, the best kept (default 5 on\n"
        "                     CUDA, 3 on the CPU)\n"
        "  --peak-tflops X    the device's dense peak, to print %% of peak\n"
        "  --no-ops           skip the per-operation table\n");
}

static int bad(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "bench_kernels: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    return EXIT_BAD_FLAGS;
}

/* Whole string a positive integer below 2^31 / 4. */
static int parse_pos_int(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v <= 0 || v > (1L << 29)) return -1;
    *out = (int)v;
    return 0;
}

/* 0 on success, else the exit code (usage already printed for bad flags); *done = 1 for --help. */
static int parse_options(int argc, char **argv, options *o, int *done) {
    memset(o, 0, sizeof *o);
    o->backend = "auto";
    o->dtype = -1;
    o->ops = 1;
    *done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        struct {
            const char *flag;
            int *dst;
        } ints[] = {
            {"--d", &o->d},           {"--ffn", &o->ffn},
            {"--heads", &o->heads},   {"--kv-heads", &o->kv_heads},
            {"--seq", &o->seq},       {"--seqs", &o->seqs},
            {"--blocks", &o->blocks}, {"--reps", &o->reps},
        };
        int matched = 0;
        for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
            if (!strcmp(a, ints[k].flag)) {
                if (!v) return usage(stderr), bad("%s: missing value%s", a, "");
                if (parse_pos_int(v, ints[k].dst))
                    return bad("%s: expected a positive integer, got '%s'", a, v);
                i++;
                matched = 1;
                break;
            }
        if (matched) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            *done = 1;
            return 0;
        } else if (!strcmp(a, "--orion")) {
            o->orion = 1;
        } else if (!strcmp(a, "--no-ops")) {
            o->ops = 0;
        } else if (!strcmp(a, "--backend")) {
            if (!v) return usage(stderr), bad("%s: missing value%s", a, "");
            if (strcmp(v, "cpu") && strcmp(v, "cuda") && strcmp(v, "auto"))
                return bad("%s: expected cpu, cuda or auto, got '%s'", a, v);
            o->backend = argv[++i];
        } else if (!strcmp(a, "--dtype")) {
            if (!v) return usage(stderr), bad("%s: missing value%s", a, "");
            if (!strcmp(v, "fp32")) o->dtype = KB_F32;
            else if (!strcmp(v, "bf16")) o->dtype = KB_BF16;
            else return bad("%s: expected fp32 or bf16, got '%s'", a, v);
            i++;
        } else if (!strcmp(a, "--gpu")) {
            char *end;
            long g = v ? strtol(v, &end, 10) : -1;
            if (!v || end == v || *end || g < 0 || g > 1024)
                return bad("%s: expected a GPU ordinal (0, 1, ...), got '%s'", a, v ? v : "");
            o->gpu = (int)g;
            i++;
        } else if (!strcmp(a, "--peak-tflops")) {
            char *end;
            double p = v ? strtod(v, &end) : 0;
            if (!v || end == v || *end || !(p > 0) || !isfinite(p))
                return bad("%s: expected a positive number, got '%s'", a, v ? v : "");
            o->peak_tflops = p;
            i++;
        } else {
            usage(stderr);
            return bad("unknown option '%s'%s", a, "");
        }
    }
    if (!strcmp(o->backend, "cpu") && o->dtype == KB_BF16)
        return bad("--dtype bf16: the CPU backend is fp32 only%s%s", "", "");
    return 0;
}

/* ---- the shape ----------------------------------------------------------------------- */

static km_config shape_config(const options *o, int use_orion, int *seqs, int *blocks) {
    km_config c = km_orion_100b();
    int b = 10;
    if (!use_orion) {
        c.d_model = 1024;
        c.ffn = 3584;
        c.n_heads = 16;
        c.n_kv_heads = 4;
        c.seq_len = 256;
        b = 2;
    }
    if (o->d) c.d_model = o->d;
    if (o->ffn) c.ffn = o->ffn;
    if (o->heads) c.n_heads = o->heads;
    if (o->kv_heads) c.n_kv_heads = o->kv_heads;
    if (o->seq) c.seq_len = o->seq;
    if (o->seqs) b = o->seqs;
    c.head_dim = c.n_heads > 0 ? c.d_model / c.n_heads : 0;
    *seqs = b;
    *blocks = o->blocks ? o->blocks : 1;
    return c;
}

/* ---- stage calls ------------------------------------------------------------------- */

typedef struct {
    ks_stage *st;
    void *in, *out, *dout, *din;
    kb_adam_coef coef;
} stage_ctx;

static void run_forward(void *p) {
    stage_ctx *s = p;
    ks_forward(s->st, 0, s->in, s->out);
}
static void run_backward(void *p) {
    stage_ctx *s = p;
    ks_backward(s->st, 0, s->in, s->dout, s->din);
}
static void run_optimizer(void *p) {
    stage_ctx *s = p;
    ks_optimizer_step(s->st, &s->coef, 1.0f);
}

/* ---- main ---------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    options o;
    int done;
    int rc = parse_options(argc, argv, &o, &done);
    if (rc || done) return rc;

    char err[1024] = "";
    kb_dtype want = o.dtype < 0 ? KB_BF16 : (kb_dtype)o.dtype;
    kb_backend *be =
        kb_open(o.backend, o.gpu, strcmp(o.backend, "cpu") ? want : KB_F32, err, sizeof err);
    if (!be) {
        fprintf(stderr, "bench_kernels: cannot open the %s backend: %s\n", o.backend, err);
        return EXIT_BAD_RUN;
    }
    const int is_cpu = !strcmp(be->name, "cpu");
    if (is_cpu && o.dtype == KB_BF16) {
        fprintf(stderr,
                "bench_kernels: --dtype bf16: the CPU backend (which --backend %s opened) is fp32 "
                "only\n",
                o.backend);
        kb_close(be);
        return EXIT_BAD_FLAGS;
    }

    if (!o.reps) o.reps = is_cpu ? 3 : 5;
    int seqs, blocks;
    km_config m = shape_config(&o, o.orion || !is_cpu, &seqs, &blocks);
    char msg[256];
    if (m.n_heads <= 0 || m.d_model % m.n_heads) {
        fprintf(stderr,
                "bench_kernels: --d %d is not a multiple of --heads %d (head_dim = d / heads)\n",
                m.d_model, m.n_heads);
        kb_close(be);
        return EXIT_BAD_FLAGS;
    }
    if (!is_cpu && m.head_dim > 128) {
        fprintf(stderr,
                "bench_kernels: head_dim %d (d %d / %d heads): the CUDA attention supports "
                "head_dim <= 128\n",
                m.head_dim, m.d_model, m.n_heads);
        kb_close(be);
        return EXIT_BAD_FLAGS;
    }
    if ((int64_t)seqs * m.seq_len > (1 << 29)) {
        fprintf(stderr, "bench_kernels: --seq x --seqs = %lld tokens is too many\n",
                (long long)seqs * m.seq_len);
        kb_close(be);
        return EXIT_BAD_FLAGS;
    }
    m.n_blocks = blocks + 2;
    if (km_config_validate(&m, msg, sizeof msg)) {
        fprintf(stderr, "bench_kernels: bad shape: %s\n", msg);
        kb_close(be);
        return EXIT_BAD_FLAGS;
    }

    /* the measured stage is the middle one of [1, blocks, 1], as sim/calibrate/calibrate.c does */
    km_split sp = {.n_stages = 3};
    sp.blocks[0] = 1;
    sp.blocks[1] = blocks;
    sp.blocks[2] = 1;
    const km_boundary none = {.method = KM_COMP_NONE};
    const int64_t tokens = (int64_t)seqs * m.seq_len;
    const double f_fwd = km_task_flops(&m, &sp, &none, 1, KM_TASK_FORWARD, tokens);
    const double f_bwd_rc = km_task_flops(&m, &sp, &none, 1, KM_TASK_BACKWARD_RECOMPUTE, tokens);
    const double f_bwd = km_task_flops(&m, &sp, &none, 1, KM_TASK_BACKWARD, tokens);
    const double f_opt = km_task_flops(&m, &sp, &none, 1, KM_TASK_OPTIMIZER, tokens);
    const int64_t n_params = km_params_stage(&m, &sp, &none, 1);
    if (!(f_fwd > 0 && f_bwd_rc > 0 && f_bwd > 0 && f_opt > 0) || n_params <= 0) {
        fprintf(stderr, "bench_kernels: internal error: no FLOP count for this shape\n");
        kb_close(be);
        return EXIT_BAD_RUN;
    }

    report rp = {.backend = be->name,
                 .dtype = be->act == KB_BF16 ? "bf16" : "fp32",
                 .peak_tflops = o.peak_tflops};
    snprintf(rp.shape, sizeof rp.shape, "d%d_f%d_h%dx%d_t%dx%d_n%d", m.d_model, m.ffn, m.n_heads,
             m.n_kv_heads, m.seq_len, seqs, blocks);
    double load[3] = {0, 0, 0};
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = -1;
        fclose(lf);
    }
    printf("orionsim kernel benchmark: %s backend", be->name);
    if (!is_cpu) printf(" (GPU %d)", be->device);
    printf(", %s activations; host: %ld cores, load %.2f %.2f %.2f\n", rp.dtype,
           sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2]);
    printf("shape: %d block(s), d %d, ffn %d, heads %d/%d (head_dim %d), %d x %d = %lld tokens, "
           "%lld parameters\n",
           blocks, m.d_model, m.ffn, m.n_heads, m.n_kv_heads, m.head_dim, seqs, m.seq_len,
           (long long)tokens, (long long)n_params);
    printf("timing: best of %d after a warm-up, synchronised; FLOPs: km_task_flops of a middle "
           "stage\n\n",
           o.reps);
    fflush(stdout);

    /* 1. reference GEMMs at the block's two largest shapes (again after the stage, below) */
    const size_t N = (size_t)tokens, d = (size_t)m.d_model, f = (size_t)m.ffn;
    double t_gu = INFINITY, t_down = INFINITY;
    time_gemms(be, N, d, f, o.reps, &t_gu, &t_down);

    /* 2. the recompute stage (forward, backward with recompute, optimizer), then the
     *    kept-activation stage (backward_kept), one at a time to halve the memory */
    ks_stage_config cfg = {.model = m,
                           .first_block = 1,
                           .n_blocks = blocks,
                           .in = none,
                           .out = none,
                           .batch = seqs,
                           .recompute = 1,
                           .slots = 1,
                           .seed = 1234};
    double t_fwd = 0, t_bwd_rc = 0, t_opt = 0, t_bwd = 0;
    for (int pass = 0; pass < 2; pass++) {
        cfg.recompute = pass == 0;
        fprintf(stderr,
                "bench_kernels: building the %s stage (parameters initialised on the host)\n",
                cfg.recompute ? "recompute" : "kept-activation");
        ks_stage *st = ks_stage_new(be, &cfg, msg, sizeof msg);
        if (!st) {
            fprintf(stderr, "bench_kernels: cannot build the stage: %s\n", msg);
            kb_close(be);
            return EXIT_BAD_FLAGS;
        }
        ks_wire wi = ks_stage_input_wire(st), wo = ks_stage_output_wire(st);
        stage_ctx s = {.st = st};
        s.in = alloc_random(be, be->act, wi.mem_bytes / kb_dtype_size(be->act), 3, 2.0f);
        s.dout = alloc_random(be, be->act, wo.mem_bytes / kb_dtype_size(be->act), 4, 0.01f);
        s.out = be->alloc(be, wo.mem_bytes);
        s.din = be->alloc(be, wi.mem_bytes);
        s.coef = (kb_adam_coef){.lr = 1e-6f,
                                .b1 = 0.9f,
                                .b2 = 0.95f,
                                .eps = 1e-8f,
                                .wd = 0.0f,
                                .c_m = 1.0f,
                                .c_g = 0.0f,
                                .c_v = 1.0f};
        if (pass == 0) {
            t_fwd = time_best(be, run_forward, &s, o.reps);
            t_bwd_rc = time_best(be, run_backward, &s, o.reps);
            t_opt = time_best(be, run_optimizer, &s, o.reps);
        } else {
            /* the backward reads the kept activations and leaves them as they are, so it
             * can be repeated after one forward (gradients accumulate) */
            run_forward(&s);
            be->synchronize(be);
            t_bwd = time_best(be, run_backward, &s, o.reps);
        }
        be->free(be, s.in);
        be->free(be, s.out);
        be->free(be, s.dout);
        be->free(be, s.din);
        ks_stage_free(st);
    }

    /* the GEMMs once more, the best of both kept: on a shared machine a slow spell
     * during the first measurement would otherwise inflate every ratio */
    time_gemms(be, N, d, f, o.reps, &t_gu, &t_down);
    row g_gu = {"gemm_gate_up", t_gu, 2.0 * (double)N * 2.0 * (double)f * (double)d, 0};
    row g_down = {"gemm_down", t_down, 2.0 * (double)N * (double)d * (double)f, 0};
    double r_gu = g_gu.flops / t_gu / 1e12, r_down = g_down.flops / t_down / 1e12;
    rp.gemm_tflops = r_gu > r_down ? r_gu : r_down;

    row rows[] = {
        g_gu,
        g_down,
        {"forward", t_fwd, f_fwd, 0},
        {"backward_recompute", t_bwd_rc, f_bwd_rc, 0},
        {"backward_kept", t_bwd, f_bwd, 0},
        {"fwd_bwd_kept", t_fwd + t_bwd, f_fwd + f_bwd, 0},
        {"fwd_bwd_recompute", t_fwd + t_bwd_rc, f_fwd + f_bwd_rc, 0},
        {"optimizer", t_opt, f_opt, (double)n_params * OPT_BYTES_PER_PARAM / t_opt / 1e9},
    };
    const size_t n_rows = sizeof rows / sizeof rows[0];
    print_header();
    for (size_t i = 0; i < n_rows; i++) print_row(&rp, &rows[i]);
    double ratio_kept = (rows[5].flops / rows[5].seconds / 1e12) / rp.gemm_tflops;
    double ratio_rc = (rows[6].flops / rows[6].seconds / 1e12) / rp.gemm_tflops;
    printf("\nGEMM rate (the faster of the two GEMMs): %.4g TFLOP/s\n", rp.gemm_tflops);
    printf("block fwd+bwd / GEMM rate: %.3f with kept activations, %.3f with recompute (goal >= "
           "0.60 on an H100)\n",
           ratio_kept, ratio_rc);
    printf("optimizer: %.1f GB/s counting %.0f B of fp32 traffic per parameter\n", rows[7].gbs,
           OPT_BYTES_PER_PARAM);
    for (size_t i = 0; i < n_rows; i++) print_bench(&rp, &rows[i]);
    printf("BENCH impl=orionsim name=ratio_fwd_bwd_kept_vs_gemm value=%.4f backend=%s dtype=%s "
           "shape=%s\n",
           ratio_kept, rp.backend, rp.dtype, rp.shape);
    printf("BENCH impl=orionsim name=ratio_fwd_bwd_recompute_vs_gemm value=%.4f backend=%s "
           "dtype=%s shape=%s\n",
           ratio_rc, rp.backend, rp.dtype, rp.shape);
    fflush(stdout);

    if (o.ops) ops_breakdown(be, &m, seqs, o.reps, &rp, t_fwd / blocks, t_bwd / blocks);
    kb_close(be);
    return 0;
}
