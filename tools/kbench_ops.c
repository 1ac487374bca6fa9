/* tools/kbench_ops.c: the reference GEMM rate and the per-operation breakdown of one
 * transformer block, for bench_kernels (see kbench.h). */
#include "tools/kbench.h"

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
void time_gemms(kb_backend *be, size_t N, size_t d, size_t f, int reps, double *t_gu,
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

void ops_breakdown(kb_backend *be, const km_config *c, int B, int reps, const report *rp,
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
