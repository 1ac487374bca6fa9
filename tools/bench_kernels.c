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
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels/backend.h"
#include "kernels/model.h"
#include "kernels/stage.h"

#define EXIT_BAD_RUN 1
#define EXIT_BAD_FLAGS 2

/* A call shorter than this is repeated inside one timing. */
#define MIN_TIMED_S 2e-3
#define MAX_INNER 200
/* fp32 traffic of one Adam step per parameter: read p, g, m, v; write p, m, v. */
#define OPT_BYTES_PER_PARAM 28.0

static double wall(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("bench_kernels: clock_gettime");
        exit(EXIT_BAD_RUN);
    }
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench_kernels: %s:%d: out of memory (%zu bytes)\n", __FILE__, __LINE__, n);
        exit(EXIT_BAD_RUN);
    }
    return p;
}

/* ---- timing ------------------------------------------------------------------------ */

typedef void (*bench_fn)(void *ctx);

/* One warm-up call, then the best of `reps` timings; returns seconds per call. */
static double time_best(kb_backend *be, bench_fn fn, void *ctx, int reps) {
    double t0 = wall();
    fn(ctx);
    be->synchronize(be);
    double warm = wall() - t0;
    int inner = 1;
    if (warm < MIN_TIMED_S) {
        double want = warm > 0 ? MIN_TIMED_S / warm : MAX_INNER;
        inner = want > MAX_INNER ? MAX_INNER : (int)ceil(want);
    }
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        t0 = wall();
        for (int i = 0; i < inner; i++) fn(ctx);
        be->synchronize(be);
        double dt = (wall() - t0) / inner;
        if (dt < best) best = dt;
    }
    return best;
}

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

/* Small pseudo-random values in [-scale/2, scale/2) (the values do not change the
 * timing, but zeros could: a GPU draws less power on zero operands). One chunk is drawn
 * and uploaded, and copied on the device over the rest of the buffer, so that filling
 * gigabytes costs no host time. */
static void upload_random(kb_backend *be, void *dst, kb_dtype t, size_t n, uint64_t seed,
                          float scale) {
    const size_t chunk = (size_t)1 << 20, es = kb_dtype_size(t);
    const size_t m = n < chunk ? n : chunk;
    float *h = xmalloc(sizeof *h * m);
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < m; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        h[i] = ((float)(x >> 40) / (float)(1u << 24) - 0.5f) * scale;
    }
    be->upload(be, dst, t, h, m);
    for (size_t off = m; off < n; off += m) {
        size_t k = n - off < m ? n - off : m;
        be->copy(be, (char *)dst + off * es, dst, k * es);
    }
    be->synchronize(be);
    free(h);
}

static void *alloc_random(kb_backend *be, kb_dtype t, size_t n, uint64_t seed, float scale) {
    void *p = be->alloc(be, n * kb_dtype_size(t));
    upload_random(be, p, t, n, seed, scale);
    return p;
}

/* ---- results ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    double seconds, flops;
    double gbs; /* > 0: memory-bound row (optimizer), GB/s of fp32 traffic */
} row;

typedef struct {
    const char *backend, *dtype;
    char shape[96];
    double gemm_tflops; /* the reference rate */
    double peak_tflops; /* 0: unknown */
} report;

static void print_header(void) {
    printf("%-22s %12s %12s %9s %8s %8s\n", "measurement", "seconds", "GFLOP", "TFLOP/s", "%GEMM",
           "%peak");
}

static void print_row(const report *rp, const row *r) {
    double tf = r->flops / r->seconds / 1e12;
    char pg[16] = "-", pp[16] = "-";
    if (rp->gemm_tflops > 0 && !(r->gbs > 0))
        snprintf(pg, sizeof pg, "%.1f", 100.0 * tf / rp->gemm_tflops);
    if (rp->peak_tflops > 0 && !(r->gbs > 0))
        snprintf(pp, sizeof pp, "%.1f", 100.0 * tf / rp->peak_tflops);
    printf("%-22s %12.6f %12.3f %9.4g %8s %8s", r->name, r->seconds, r->flops / 1e9, tf, pg, pp);
    if (r->gbs > 0) printf("   %.1f GB/s", r->gbs);
    printf("\n");
}

static void print_bench(const report *rp, const row *r) {
    double tf = r->flops / r->seconds / 1e12;
    printf("BENCH impl=orionsim name=%s seconds=%.9g flops=%.6g tflops=%.6g", r->name, r->seconds,
           r->flops, tf);
    if (rp->gemm_tflops > 0 && !(r->gbs > 0))
        printf(" pct_gemm=%.2f", 100.0 * tf / rp->gemm_tflops);
    if (rp->peak_tflops > 0 && !(r->gbs > 0))
        printf(" pct_peak=%.2f", 100.0 * tf / rp->peak_tflops);
    if (r->gbs > 0) printf(" gbs=%.4g", r->gbs);
    printf(" backend=%s dtype=%s shape=%s\n", rp->backend, rp->dtype, rp->shape);
}

/* ---- reference GEMMs --------------------------------------------------------------- */

typedef struct {
    kb_backend *be;
    int ta, tb, M, N, K;
    const void *A, *B;
    void *C;
    kb_dtype at, bt, ct;
    int lda, ldb, ldc;
    float beta;
} gemm_ctx;

static void run_gemm(void *p) {
    gemm_ctx *g = p;
    g->be->gemm(g->be, g->ta, g->tb, g->M, g->N, g->K, 1.0f, g->A, g->at, g->lda, g->B, g->bt,
                g->ldb, g->beta, g->C, g->ct, g->ldc);
}

/* y = x W^T, x [M,K] and W [N,K] in the activation type, as the block's projections. */
static double time_projection(kb_backend *be, int M, int N, int K, void *x, void *w, void *y,
                              int reps) {
    gemm_ctx g = {.be = be,
                  .ta = 0,
                  .tb = 1,
                  .M = M,
                  .N = N,
                  .K = K,
                  .A = x,
                  .B = w,
                  .C = y,
                  .at = be->act,
                  .bt = be->act,
                  .ct = be->act,
                  .lda = K,
                  .ldb = K,
                  .ldc = N,
                  .beta = 0.0f};
    return time_best(be, run_gemm, &g, reps);
}

/* The block's two largest projections, gate/up [N,d] x [2f,d]^T and down [N,f] x [d,f]^T;
 * each time is lowered to this measurement's if it is faster. */
static void time_gemms(kb_backend *be, size_t N, size_t d, size_t f, int reps, double *t_gu,
                       double *t_down) {
    const size_t wide = 2 * f > d ? 2 * f : d;
    void *x = alloc_random(be, be->act, N * wide, 1, 2.0f);     /* [N,d] or [N,f] */
    void *w = alloc_random(be, be->act, 2 * f * d, 2, 0.04f);   /* [2f,d] or [d,f] */
    void *y = be->alloc(be, N * wide * kb_dtype_size(be->act)); /* [N,2f] or [N,d] */
    double t = time_projection(be, (int)N, (int)(2 * f), (int)d, x, w, y, reps);
    if (t < *t_gu) *t_gu = t;
    t = time_projection(be, (int)N, (int)d, (int)f, x, w, y, reps);
    if (t < *t_down) *t_down = t;
    be->free(be, x);
    be->free(be, w);
    be->free(be, y);
}

/* ---- per-operation breakdown of one block ---------------------------------------------- */

/* Everything one timed op needs, buffers of every op family included: a benchmark
 * harness record, wide because it holds one set of buffers per op family. */
typedef struct {
    kb_backend *be;
    const km_config *c;
    int B, T, N, d, f, qw, aw;
    /* activations A */
    void *x, *ln, *qkv, *att, *xmid, *gu, *sw;
    /* gradients A */
    void *dx, *dln, *datt, *dqkv, *dgu, *dsw;
    /* weights A, weight gradients F, norm weight A and its gradient F */
    void *wqkv, *wo, *wgu, *wdown, *wnorm;
    float *gqkv, *go, *ggu, *gdown, *gnorm;
    float *rstd, *lse;
    int which;
} ops_ctx;

enum {
    OP_F_NORM,
    OP_F_QKV,
    OP_F_ROPE,
    OP_F_ATT,
    OP_F_O,
    OP_F_ADD,
    OP_F_GU,
    OP_F_SWIGLU,
    OP_F_DOWN,
    OP_B_DOWN_DX,
    OP_B_DOWN_DW,
    OP_B_SWIGLU,
    OP_B_GU_DX,
    OP_B_GU_DW,
    OP_B_NORM,
    OP_B_O_DX,
    OP_B_O_DW,
    OP_B_ATT,
    OP_B_ROPE,
    OP_B_QKV_DX,
    OP_B_QKV_DW,
    OP_COUNT
};

static const struct {
    const char *name;
    int calls; /* per block */
} op_info[OP_COUNT] = {
    [OP_F_NORM] = {"fwd.rmsnorm", 2},
    [OP_F_QKV] = {"fwd.gemm_qkv", 1},
    [OP_F_ROPE] = {"fwd.rope", 1},
    [OP_F_ATT] = {"fwd.attention", 1},
    [OP_F_O] = {"fwd.gemm_o", 1},
    [OP_F_ADD] = {"fwd.residual_add", 2},
    [OP_F_GU] = {"fwd.gemm_gate_up", 1},
    [OP_F_SWIGLU] = {"fwd.swiglu", 1},
    [OP_F_DOWN] = {"fwd.gemm_down", 1},
    [OP_B_DOWN_DX] = {"bwd.gemm_down_dx", 1},
    [OP_B_DOWN_DW] = {"bwd.gemm_down_dw", 1},
    [OP_B_SWIGLU] = {"bwd.swiglu", 1},
    [OP_B_GU_DX] = {"bwd.gemm_gate_up_dx", 1},
    [OP_B_GU_DW] = {"bwd.gemm_gate_up_dw", 1},
    [OP_B_NORM] = {"bwd.rmsnorm", 2},
    [OP_B_O_DX] = {"bwd.gemm_o_dx", 1},
    [OP_B_O_DW] = {"bwd.gemm_o_dw", 1},
    [OP_B_ATT] = {"bwd.attention", 1},
    [OP_B_ROPE] = {"bwd.rope", 1},
    [OP_B_QKV_DX] = {"bwd.gemm_qkv_dx", 1},
    [OP_B_QKV_DW] = {"bwd.gemm_qkv_dw", 1},
};

/* The same calls as kernels/stage_block.c makes, one at a time. */
static void run_op(void *p) {
    ops_ctx *o = p;
    kb_backend *be = o->be;
    const km_config *c = o->c;
    const kb_dtype A = be->act, F = KB_F32;
    const int N = o->N, d = o->d, f = o->f, qw = o->qw, aw = o->aw;
    const float theta = (float)c->rope_theta, eps = (float)c->norm_eps;
    switch (o->which) {
    case OP_F_NORM: be->rmsnorm_fwd(be, o->ln, o->rstd, o->x, o->wnorm, N, d, eps); break;
    case OP_F_QKV:
        be->gemm(be, 0, 1, N, qw, d, 1.0f, o->ln, A, d, o->wqkv, A, d, 0.0f, o->qkv, A, qw);
        break;
    case OP_F_ROPE:
        be->rope_fwd(be, o->qkv, N, o->T, c->n_heads, c->n_kv_heads, c->head_dim, theta);
        break;
    case OP_F_ATT:
        be->attention_fwd(be, o->att, o->lse, o->qkv, o->B, o->T, c->n_heads, c->n_kv_heads,
                          c->head_dim);
        break;
    case OP_F_O:
        be->gemm(be, 0, 1, N, d, aw, 1.0f, o->att, A, aw, o->wo, A, aw, 0.0f, o->xmid, A, d);
        break;
    case OP_F_ADD: be->add(be, o->xmid, o->xmid, o->x, (size_t)N * d); break;
    case OP_F_GU:
        be->gemm(be, 0, 1, N, 2 * f, d, 1.0f, o->ln, A, d, o->wgu, A, d, 0.0f, o->gu, A, 2 * f);
        break;
    case OP_F_SWIGLU: be->swiglu_fwd(be, o->sw, o->gu, N, f); break;
    case OP_F_DOWN:
        be->gemm(be, 0, 1, N, d, f, 1.0f, o->sw, A, f, o->wdown, A, f, 0.0f, o->xmid, A, d);
        break;
    case OP_B_DOWN_DX:
        be->gemm(be, 0, 0, N, f, d, 1.0f, o->dx, A, d, o->wdown, A, f, 0.0f, o->dsw, A, f);
        break;
    case OP_B_DOWN_DW:
        be->gemm(be, 1, 0, d, f, N, 1.0f, o->dx, A, d, o->sw, A, f, 1.0f, o->gdown, F, f);
        break;
    case OP_B_SWIGLU:
        be->zero(be, o->dgu, (size_t)N * 2 * f * kb_dtype_size(A));
        be->swiglu_bwd(be, o->dgu, o->dsw, o->gu, N, f);
        break;
    case OP_B_GU_DX:
        be->gemm(be, 0, 0, N, d, 2 * f, 1.0f, o->dgu, A, 2 * f, o->wgu, A, d, 0.0f, o->dln, A, d);
        break;
    case OP_B_GU_DW:
        be->gemm(be, 1, 0, 2 * f, d, N, 1.0f, o->dgu, A, 2 * f, o->ln, A, d, 1.0f, o->ggu, F, d);
        break;
    case OP_B_NORM:
        be->rmsnorm_bwd(be, o->dx, o->gnorm, o->dln, o->x, o->wnorm, o->rstd, N, d);
        break;
    case OP_B_O_DX:
        be->gemm(be, 0, 0, N, aw, d, 1.0f, o->dx, A, d, o->wo, A, aw, 0.0f, o->datt, A, aw);
        break;
    case OP_B_O_DW:
        be->gemm(be, 1, 0, d, aw, N, 1.0f, o->dx, A, d, o->att, A, aw, 1.0f, o->go, F, aw);
        break;
    case OP_B_ATT:
        be->zero(be, o->dqkv, (size_t)N * qw * kb_dtype_size(A));
        be->attention_bwd(be, o->dqkv, o->datt, o->qkv, o->att, o->lse, o->B, o->T, c->n_heads,
                          c->n_kv_heads, c->head_dim);
        break;
    case OP_B_ROPE:
        be->rope_bwd(be, o->dqkv, N, o->T, c->n_heads, c->n_kv_heads, c->head_dim, theta);
        break;
    case OP_B_QKV_DX:
        be->gemm(be, 0, 0, N, d, qw, 1.0f, o->dqkv, A, qw, o->wqkv, A, d, 0.0f, o->dln, A, d);
        break;
    case OP_B_QKV_DW:
        be->gemm(be, 1, 0, qw, d, N, 1.0f, o->dqkv, A, qw, o->ln, A, d, 1.0f, o->gqkv, F, d);
        break;
    default: break;
    }
}

/* Hardware FLOPs of one call of op k (kernels/model.c's convention: GEMMs and attention). */
static double op_flops(const ops_ctx *o, int k) {
    const double N = o->N, d = o->d, f = o->f, qw = o->qw, aw = o->aw;
    const double att =
        2.0 * o->c->n_heads * o->c->head_dim * (double)o->T * N; /* causal QK^T + AV */
    switch (k) {
    case OP_F_QKV:
    case OP_B_QKV_DX:
    case OP_B_QKV_DW: return 2.0 * N * qw * d;
    case OP_F_O:
    case OP_B_O_DX:
    case OP_B_O_DW: return 2.0 * N * d * aw;
    case OP_F_GU:
    case OP_B_GU_DX:
    case OP_B_GU_DW: return 2.0 * N * 2.0 * f * d;
    case OP_F_DOWN:
    case OP_B_DOWN_DX:
    case OP_B_DOWN_DW: return 2.0 * N * d * f;
    case OP_F_ATT: return att;
    case OP_B_ATT: return 2.0 * att;
    default: return 0.0;
    }
}

static void ops_breakdown(kb_backend *be, const km_config *c, int B, int reps, const report *rp,
                          double t_fwd_block, double t_bwd_block) {
    ops_ctx o = {.be = be,
                 .c = c,
                 .B = B,
                 .T = c->seq_len,
                 .N = B * c->seq_len,
                 .d = c->d_model,
                 .f = c->ffn,
                 .qw = (c->n_heads + 2 * c->n_kv_heads) * c->head_dim,
                 .aw = c->n_heads * c->head_dim};
    const kb_dtype A = be->act;
    const size_t N = (size_t)o.N, d = (size_t)o.d, f = (size_t)o.f, qw = (size_t)o.qw,
                 aw = (size_t)o.aw;
    o.x = alloc_random(be, A, N * d, 11, 2.0f);
    o.ln = alloc_random(be, A, N * d, 12, 2.0f);
    o.qkv = alloc_random(be, A, N * qw, 13, 2.0f);
    o.att = alloc_random(be, A, N * aw, 14, 0.2f);
    o.xmid = alloc_random(be, A, N * d, 15, 2.0f);
    o.gu = alloc_random(be, A, N * 2 * f, 16, 2.0f);
    o.sw = alloc_random(be, A, N * f, 17, 0.2f);
    o.dx = alloc_random(be, A, N * d, 21, 0.01f);
    o.dln = alloc_random(be, A, N * d, 22, 0.01f);
    o.datt = alloc_random(be, A, N * aw, 23, 0.01f);
    o.dqkv = alloc_random(be, A, N * qw, 24, 0.01f);
    o.dgu = alloc_random(be, A, N * 2 * f, 25, 0.01f);
    o.dsw = alloc_random(be, A, N * f, 26, 0.01f);
    o.wqkv = alloc_random(be, A, qw * d, 31, 0.04f);
    o.wo = alloc_random(be, A, d * aw, 32, 0.04f);
    o.wgu = alloc_random(be, A, 2 * f * d, 33, 0.04f);
    o.wdown = alloc_random(be, A, d * f, 34, 0.04f);
    o.wnorm = alloc_random(be, A, d, 35, 0.1f);
    o.gqkv = be->alloc(be, qw * d * sizeof(float));
    o.go = be->alloc(be, d * aw * sizeof(float));
    o.ggu = be->alloc(be, 2 * f * d * sizeof(float));
    o.gdown = be->alloc(be, d * f * sizeof(float));
    o.gnorm = be->alloc(be, d * sizeof(float));
    o.rstd = be->alloc(be, N * sizeof(float));
    o.lse = be->alloc(be, (size_t)B * (size_t)c->n_heads * (size_t)o.T * sizeof(float));
    /* valid rstd and lse for the backward ops */
    o.which = OP_F_NORM;
    run_op(&o);
    o.which = OP_F_ATT;
    run_op(&o);
    be->synchronize(be);

    double t[OP_COUNT], sum_f = 0, sum_b = 0;
    for (int k = 0; k < OP_COUNT; k++) {
        o.which = k;
        t[k] = time_best(be, run_op, &o, reps) * op_info[k].calls;
        if (k <= OP_F_DOWN) sum_f += t[k];
        else sum_b += t[k];
    }
    printf("\nper operation, one block (each op timed alone; time x calls per block):\n");
    printf("%-22s %5s %12s %8s %9s %8s\n", "op", "calls", "seconds", "%pass", "TFLOP/s", "%GEMM");
    for (int k = 0; k < OP_COUNT; k++) {
        double fl = op_flops(&o, k) * op_info[k].calls;
        double share = 100.0 * t[k] / (k <= OP_F_DOWN ? sum_f : sum_b);
        char tf[16] = "-", pg[16] = "-";
        if (fl > 0) {
            snprintf(tf, sizeof tf, "%.4g", fl / t[k] / 1e12);
            if (rp->gemm_tflops > 0)
                snprintf(pg, sizeof pg, "%.1f", 100.0 * fl / t[k] / 1e12 / rp->gemm_tflops);
        }
        printf("%-22s %5d %12.6f %7.1f%% %9s %8s\n", op_info[k].name, op_info[k].calls, t[k], share,
               tf, pg);
    }
    printf("%-22s %5s %12.6f   (the stage's block forward: %.6f s)\n", "sum of fwd ops", "", sum_f,
           t_fwd_block);
    printf("%-22s %5s %12.6f   (the stage's block backward, kept: %.6f s)\n", "sum of bwd ops", "",
           sum_b, t_bwd_block);
    for (int k = 0; k < OP_COUNT; k++) {
        double fl = op_flops(&o, k) * op_info[k].calls;
        printf("BENCH impl=orionsim name=op.%s calls=%d seconds=%.9g flops=%.6g tflops=%.6g "
               "backend=%s dtype=%s "
               "shape=%s\n",
               op_info[k].name, op_info[k].calls, t[k], fl, fl / t[k] / 1e12, rp->backend,
               rp->dtype, rp->shape);
    }

    void *bufs[] = {o.x,    o.ln,   o.qkv, o.att,   o.xmid,  o.gu,   o.sw,  o.dx,    o.dln,
                    o.datt, o.dqkv, o.dgu, o.dsw,   o.wqkv,  o.wo,   o.wgu, o.wdown, o.wnorm,
                    o.gqkv, o.go,   o.ggu, o.gdown, o.gnorm, o.rstd, o.lse};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(be, bufs[i]);
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
