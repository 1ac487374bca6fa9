/* kernels/stage_boundary.c: the two ends of a stage: what comes in over the network
 * (tokens or a boundary's wire format) and what goes out, forward and backward.
 *
 * ResBM (x the d-wide residual, y the k-wide wire activation, h the hidden width):
 *   encoder  n = RMSNorm(x); h_e = n W1^T; y = silu(h_e) W2^T + x[:, :k]
 *   decoder  h_d = y W3^T;   x' = silu(h_d) W4^T + pad(y, d)
 * Backward of the encoder: dx = pad(dy) + RMSNorm'(W1-branch); of the decoder:
 * dy = dx'[:, :k] + (silu'(h_d) * (dx' W4)) W3. Linear: y = x W_e^T, x' = y W_d^T.
 * int8: straight-through in both directions, the returned gradient quantised too.
 */
#include <math.h>

#include "kernels/stage_internal.h"

ks_wire ks_wire_format(const km_config *c, const km_boundary *b, kb_dtype act, int n_tokens) {
    ks_wire w = {0};
    const size_t n = (size_t)n_tokens, asz = kb_dtype_size(act);
    w.rows = n_tokens;
    w.wire_bytes = km_activation_bytes(c, b, n_tokens);
    switch (b->method) {
    case KM_COMP_RESBM:
    case KM_COMP_LINEAR:
        w.kind = KS_WIRE_ACT;
        w.width = b->k;
        w.mem_bytes = n * (size_t)b->k * asz;
        break;
    case KM_COMP_INT8:
        w.kind = KS_WIRE_INT8;
        w.width = c->d_model;
        w.scale_offset = (n * (size_t)c->d_model + 15) / 16 * 16;
        w.mem_bytes = w.scale_offset + n * sizeof(float);
        break;
    case KM_COMP_NONE:
    default:
        w.kind = KS_WIRE_ACT;
        w.width = c->d_model;
        w.mem_bytes = n * (size_t)c->d_model * asz;
        break;
    }
    return w;
}

static const float *wire_scales(const ks_wire *w, const void *buf) {
    return (const float *)((const char *)buf + w->scale_offset);
}

void ks_decode_forward(ks_stage *st, ks_acts *a, const void *in) {
    kb_backend *be = st->be;
    const kb_dtype A = be->act;
    const int N = st->N, d = st->cfg.model.d_model, k = st->cfg.in.k, h = st->cfg.in.hidden;
    void *x0 = a->x[0];

    if (st->cfg.has_embedding) {
        be->embedding_fwd(be, x0, in, ks_w(st, st->embedding), N, d);
        return;
    }
    switch (st->cfg.in.method) {
    case KM_COMP_NONE: be->copy(be, x0, in, (size_t)N * d * st->asz); break;
    case KM_COMP_INT8: be->dequant_int8(be, x0, in, wire_scales(&st->in_wire, in), N, d); break;
    case KM_COMP_LINEAR:
        be->gemm(be, 0, 1, N, d, k, 1.0f, in, A, k, ks_w(st, st->dec.wlin), A, k, 0.0f, x0, A, d);
        break;
    case KM_COMP_RESBM:
        be->gemm(be, 0, 1, N, h, k, 1.0f, in, A, k, ks_w(st, st->dec.w1), A, k, 0.0f, a->dec_h, A,
                 h);
        be->silu_fwd(be, a->dec_s, a->dec_h, (size_t)N * h);
        be->gemm(be, 0, 1, N, d, h, 1.0f, a->dec_s, A, h, ks_w(st, st->dec.w2), A, h, 0.0f, x0, A,
                 d);
        be->add_cols(be, x0, d, in, k, N, k);
        break;
    }
}

void ks_decode_backward(ks_stage *st, ks_acts *a, const void *in, void *dinput) {
    kb_backend *be = st->be;
    ks_grads_scratch *g = &st->g;
    const kb_dtype A = be->act, F = KB_F32;
    const int N = st->N, d = st->cfg.model.d_model, k = st->cfg.in.k, h = st->cfg.in.hidden;

    if (st->cfg.has_embedding) {
        be->embedding_bwd(be, ks_g(st, st->embedding), in, g->dx, N, d);
        return;
    }
    switch (st->cfg.in.method) {
    case KM_COMP_NONE:
        if (dinput) be->copy(be, dinput, g->dx, (size_t)N * d * st->asz);
        break;
    case KM_COMP_INT8:
        if (dinput)
            be->quant_int8(be, dinput, (float *)((char *)dinput + st->in_wire.scale_offset), g->dx,
                           N, d);
        break;
    case KM_COMP_LINEAR:
        be->gemm(be, 1, 0, d, k, N, 1.0f, g->dx, A, d, in, A, k, 1.0f, ks_g(st, st->dec.wlin), F,
                 k);
        if (dinput)
            be->gemm(be, 0, 0, N, k, d, 1.0f, g->dx, A, d, ks_w(st, st->dec.wlin), A, k, 0.0f,
                     dinput, A, k);
        break;
    case KM_COMP_RESBM:
        be->gemm(be, 0, 0, N, h, d, 1.0f, g->dx, A, d, ks_w(st, st->dec.w2), A, h, 0.0f, g->ds, A,
                 h);
        be->gemm(be, 1, 0, d, h, N, 1.0f, g->dx, A, d, a->dec_s, A, h, 1.0f, ks_g(st, st->dec.w2),
                 F, h);
        be->zero(be, g->dh, (size_t)N * h * st->asz);
        be->silu_bwd(be, g->dh, g->ds, a->dec_h, (size_t)N * h);
        be->gemm(be, 1, 0, h, k, N, 1.0f, g->dh, A, h, in, A, k, 1.0f, ks_g(st, st->dec.w1), F, k);
        if (dinput) {
            be->gemm(be, 0, 0, N, k, h, 1.0f, g->dh, A, h, ks_w(st, st->dec.w1), A, k, 0.0f, dinput,
                     A, k);
            be->add_cols(be, dinput, k, g->dx, d, N, k);
        }
        break;
    }
}

void ks_encode_forward(ks_stage *st, ks_acts *a, void *out) {
    kb_backend *be = st->be;
    const kb_dtype A = be->act;
    const int N = st->N, d = st->cfg.model.d_model, k = st->cfg.out.k, h = st->cfg.out.hidden;
    const void *x = a->x[st->cfg.n_blocks];

    switch (st->cfg.out.method) {
    case KM_COMP_NONE: be->copy(be, out, x, (size_t)N * d * st->asz); break;
    case KM_COMP_INT8:
        be->quant_int8(be, out, (float *)((char *)out + st->out_wire.scale_offset), x, N, d);
        break;
    case KM_COMP_LINEAR:
        be->gemm(be, 0, 1, N, k, d, 1.0f, x, A, d, ks_w(st, st->enc.wlin), A, d, 0.0f, out, A, k);
        break;
    case KM_COMP_RESBM:
        be->rmsnorm_fwd(be, a->enc_n, a->enc_rstd, x, ks_w(st, st->enc.norm), N, d,
                        (float)st->cfg.model.norm_eps);
        be->gemm(be, 0, 1, N, h, d, 1.0f, a->enc_n, A, d, ks_w(st, st->enc.w1), A, d, 0.0f,
                 a->enc_h, A, h);
        be->silu_fwd(be, a->enc_s, a->enc_h, (size_t)N * h);
        be->gemm(be, 0, 1, N, k, h, 1.0f, a->enc_s, A, h, ks_w(st, st->enc.w2), A, h, 0.0f, out, A,
                 k);
        be->add_cols(be, out, k, x, d, N, k);
        break;
    }
}

void ks_encode_backward(ks_stage *st, ks_acts *a, const void *dout) {
    kb_backend *be = st->be;
    ks_grads_scratch *g = &st->g;
    const kb_dtype A = be->act, F = KB_F32;
    const int N = st->N, d = st->cfg.model.d_model, k = st->cfg.out.k, h = st->cfg.out.hidden;
    const void *x = a->x[st->cfg.n_blocks];

    switch (st->cfg.out.method) {
    case KM_COMP_NONE: be->copy(be, g->dx, dout, (size_t)N * d * st->asz); break;
    case KM_COMP_INT8:
        be->dequant_int8(be, g->dx, dout, wire_scales(&st->out_wire, dout), N, d);
        break;
    case KM_COMP_LINEAR:
        be->gemm(be, 0, 0, N, d, k, 1.0f, dout, A, k, ks_w(st, st->enc.wlin), A, d, 0.0f, g->dx, A,
                 d);
        be->gemm(be, 1, 0, k, d, N, 1.0f, dout, A, k, x, A, d, 1.0f, ks_g(st, st->enc.wlin), F, d);
        break;
    case KM_COMP_RESBM:
        be->zero(be, g->dx, (size_t)N * d * st->asz);
        be->add_cols(be, g->dx, d, dout, k, N, k);
        be->gemm(be, 0, 0, N, h, k, 1.0f, dout, A, k, ks_w(st, st->enc.w2), A, h, 0.0f, g->ds, A,
                 h);
        be->gemm(be, 1, 0, k, h, N, 1.0f, dout, A, k, a->enc_s, A, h, 1.0f, ks_g(st, st->enc.w2), F,
                 h);
        be->zero(be, g->dh, (size_t)N * h * st->asz);
        be->silu_bwd(be, g->dh, g->ds, a->enc_h, (size_t)N * h);
        be->gemm(be, 0, 0, N, d, h, 1.0f, g->dh, A, h, ks_w(st, st->enc.w1), A, d, 0.0f, g->dln, A,
                 d);
        be->gemm(be, 1, 0, h, d, N, 1.0f, g->dh, A, h, a->enc_n, A, d, 1.0f, ks_g(st, st->enc.w1),
                 F, d);
        be->rmsnorm_bwd(be, g->dx, ks_g(st, st->enc.norm), g->dln, x, ks_w(st, st->enc.norm),
                        a->enc_rstd, N, d);
        break;
    }
}

double ks_recon_error(ks_stage *st, int slot, const void *x_sender) {
    kb_backend *be = st->be;
    const size_t n = (size_t)st->N * st->cfg.model.d_model;
    const void *xr = ks_residual_in(st, slot);
    void *tmp = st->g.dln;
    be->copy(be, tmp, x_sender, n * st->asz);
    be->scale(be, tmp, be->act, n, -1.0f);
    be->add(be, tmp, tmp, xr, n);
    double num = be->sumsq(be, tmp, be->act, n), den = be->sumsq(be, x_sender, be->act, n);
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}
