/* kernels/stage_block.c: one transformer block of a stage, forward and backward.
 *
 * Forward (x = a->x[b], weights [out, in], y = x W^T):
 *   ln1 = RMSNorm(x) ; qkv = ln1 Wqkv^T ; RoPE(q, k) ; att = attention(qkv)
 *   xmid = x + att Wo^T
 *   ln2 = RMSNorm(xmid) ; gu = ln2 Wgu^T ; sw = silu(gate) * up
 *   a->x[b+1] = xmid + sw Wdown^T
 * Backward, dx = dL/dx[b+1] in g.dx, turned in place into dL/dx[b]: the residual
 * additions pass dx through unchanged and each branch adds its contribution (the
 * RMSNorm backward accumulates into dx).
 */
#include "kernels/stage_internal.h"

void ks_block_forward(ks_stage *st, ks_acts *a, int b) {
    kb_backend *be = st->be;
    const km_config *c = &st->cfg.model;
    const ks_block_params *p = &st->blocks[b];
    ks_block_acts *k = &a->blk[b];
    const kb_dtype A = be->act;
    const int N = st->N, d = c->d_model, f = c->ffn, qw = st->qkv_width, aw = st->att_width;
    const float eps = (float)c->norm_eps;
    const void *x = a->x[b];
    void *xo = a->x[b + 1];

    be->rmsnorm_fwd(be, k->ln1, k->rstd1, x, ks_w(st, p->attn_norm), N, d, eps);
    be->gemm(be, 0, 1, N, qw, d, 1.0f, k->ln1, A, d, ks_w(st, p->wqkv), A, d, 0.0f, k->qkv, A, qw);
    be->rope_fwd(be, k->qkv, N, st->T, c->n_heads, c->n_kv_heads, c->head_dim,
                 (float)c->rope_theta);
    be->attention_fwd(be, k->att, k->lse, k->qkv, st->cfg.batch, st->T, c->n_heads, c->n_kv_heads,
                      c->head_dim);
    be->gemm(be, 0, 1, N, d, aw, 1.0f, k->att, A, aw, ks_w(st, p->wo), A, aw, 0.0f, k->xmid, A, d);
    be->add(be, k->xmid, k->xmid, x, (size_t)N * d);

    be->rmsnorm_fwd(be, k->ln2, k->rstd2, k->xmid, ks_w(st, p->mlp_norm), N, d, eps);
    be->gemm(be, 0, 1, N, 2 * f, d, 1.0f, k->ln2, A, d, ks_w(st, p->w_gate_up), A, d, 0.0f, k->gu,
             A, 2 * f);
    be->swiglu_fwd(be, k->sw, k->gu, N, f);
    be->gemm(be, 0, 1, N, d, f, 1.0f, k->sw, A, f, ks_w(st, p->w_down), A, f, 0.0f, xo, A, d);
    be->add(be, xo, xo, k->xmid, (size_t)N * d);
}

void ks_block_backward(ks_stage *st, ks_acts *a, int b) {
    kb_backend *be = st->be;
    const km_config *c = &st->cfg.model;
    const ks_block_params *p = &st->blocks[b];
    const ks_block_acts *k = &a->blk[b];
    ks_grads_scratch *g = &st->g;
    const kb_dtype A = be->act, F = KB_F32;
    const int N = st->N, d = c->d_model, f = c->ffn, qw = st->qkv_width, aw = st->att_width;

    /* MLP branch: x[b+1] = xmid + sw Wdown^T */
    be->gemm(be, 0, 0, N, f, d, 1.0f, g->dx, A, d, ks_w(st, p->w_down), A, f, 0.0f, g->dsw, A, f);
    be->gemm(be, 1, 0, d, f, N, 1.0f, g->dx, A, d, k->sw, A, f, 1.0f, ks_g(st, p->w_down), F, f);
    be->zero(be, g->dgu, (size_t)N * 2 * f * st->asz);
    be->swiglu_bwd(be, g->dgu, g->dsw, k->gu, N, f);
    be->gemm(be, 0, 0, N, d, 2 * f, 1.0f, g->dgu, A, 2 * f, ks_w(st, p->w_gate_up), A, d, 0.0f,
             g->dln, A, d);
    be->gemm(be, 1, 0, 2 * f, d, N, 1.0f, g->dgu, A, 2 * f, k->ln2, A, d, 1.0f,
             ks_g(st, p->w_gate_up), F, d);
    be->rmsnorm_bwd(be, g->dx, ks_g(st, p->mlp_norm), g->dln, k->xmid, ks_w(st, p->mlp_norm),
                    k->rstd2, N, d);

    /* Attention branch: xmid = x + att Wo^T */
    be->gemm(be, 0, 0, N, aw, d, 1.0f, g->dx, A, d, ks_w(st, p->wo), A, aw, 0.0f, g->datt, A, aw);
    be->gemm(be, 1, 0, d, aw, N, 1.0f, g->dx, A, d, k->att, A, aw, 1.0f, ks_g(st, p->wo), F, aw);
    be->zero(be, g->dqkv, (size_t)N * qw * st->asz);
    be->attention_bwd(be, g->dqkv, g->datt, k->qkv, k->att, k->lse, st->cfg.batch, st->T,
                      c->n_heads, c->n_kv_heads, c->head_dim);
    be->rope_bwd(be, g->dqkv, N, st->T, c->n_heads, c->n_kv_heads, c->head_dim,
                 (float)c->rope_theta);
    be->gemm(be, 0, 0, N, d, qw, 1.0f, g->dqkv, A, qw, ks_w(st, p->wqkv), A, d, 0.0f, g->dln, A, d);
    be->gemm(be, 1, 0, qw, d, N, 1.0f, g->dqkv, A, qw, k->ln1, A, d, 1.0f, ks_g(st, p->wqkv), F, d);
    be->rmsnorm_bwd(be, g->dx, ks_g(st, p->attn_norm), g->dln, a->x[b], ks_w(st, p->attn_norm),
                    k->rstd1, N, d);
}
